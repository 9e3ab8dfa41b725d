// sendfile through kernel TLS: when a socket's owner has configured kTLS,
// the transport's zero-copy path keeps working, and the kernel encrypts.
// Kafka cannot do this (its TLS lives in user space). Kernels without the
// tls module skip with the reason.
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "engine/transport/log_sender.h"
#include "tests/engine/transport/transport_test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::ExpectedRangeBytes;
using ::shiplog::testing::FdPair;
using ::shiplog::testing::LoopbackTcpPair;
using ::shiplog::testing::MakeTestLog;
using ::shiplog::testing::ReadUntilEof;

// A fixed AES-GCM-128 key: both ends must agree, and this is a test.
tls12_crypto_info_aes_gcm_128 TestCryptoInfo() {
  tls12_crypto_info_aes_gcm_128 info;
  std::memset(&info, 0, sizeof(info));
  info.info.version = TLS_1_2_VERSION;
  info.info.cipher_type = TLS_CIPHER_AES_GCM_128;
  std::memset(info.key, 0x11, sizeof(info.key));
  std::memset(info.iv, 0x22, sizeof(info.iv));
  std::memset(info.salt, 0x33, sizeof(info.salt));
  std::memset(info.rec_seq, 0, sizeof(info.rec_seq));
  return info;
}

TEST(KernelTlsTest, SendfileWorksThroughKernelTls) {
  FdPair pair = LoopbackTcpPair();
  if (setsockopt(pair.sender, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) != 0) {
    GTEST_SKIP() << "kernel TLS is not available here: setsockopt(TCP_ULP, "
                    "\"tls\") failed: "
                 << std::strerror(errno)
                 << " (the tls module is not loaded in this kernel)";
  }
  ASSERT_EQ(setsockopt(pair.receiver, SOL_TCP, TCP_ULP, "tls", sizeof("tls")),
            0);
  tls12_crypto_info_aes_gcm_128 info = TestCryptoInfo();
  ASSERT_EQ(setsockopt(pair.sender, SOL_TLS, TLS_TX, &info, sizeof(info)), 0);
  ASSERT_EQ(setsockopt(pair.receiver, SOL_TLS, TLS_RX, &info, sizeof(info)), 0);
  ASSERT_OK_AND_ASSIGN(Destination destination,
                       Destination::Inspect(pair.sender));
  EXPECT_TRUE(destination.kernel_tls);

  auto data = MakeTestLog(50, 10, 500);
  absl::StatusOr<SendResult> sent;
  std::thread sender([&] {
    sent = SendLogRange(*data->log, 0, 1 << 30, pair.sender);
    pair.CloseSender();
  });
  absl::StatusOr<std::string> received = ReadUntilEof(pair.receiver);
  sender.join();
  ASSERT_OK(sent);
  // Through kTLS the auto policy uses sendfile even for small ranges.
  EXPECT_EQ(sent->bytes_by_path[SendPath::kSendfile], sent->bytes_sent);
  ASSERT_OK(received);
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       ExpectedRangeBytes(*data->log, 0, 1 << 30));
  EXPECT_TRUE(*received == expected);
}

}  // namespace
}  // namespace shiplog
