// Helpers for transport tests: a store with a log of known batches, socket
// pairs, and draining a descriptor with a deadline (never a sleep).
#ifndef SHIPLOG_TESTS_ENGINE_TRANSPORT_TRANSPORT_TEST_UTIL_H_
#define SHIPLOG_TESTS_ENGINE_TRANSPORT_TRANSPORT_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/store/store.h"
#include "tests/engine/test_util.h"

namespace shiplog::testing {

// A connected pair of descriptors, closed when destroyed.
struct FdPair {
  int sender = -1;
  int receiver = -1;
  FdPair() = default;
  FdPair(FdPair&& other) noexcept;
  FdPair& operator=(FdPair&&) = delete;
  ~FdPair();
  void CloseSender();
  void CloseReceiver();
};

// AF_UNIX stream sockets; `send_buffer_bytes` > 0 shrinks the sender's
// buffer (and the receiver's) so sends go partial.
FdPair UnixSocketPair(int send_buffer_bytes = 0);
// A TCP connection over 127.0.0.1.
FdPair LoopbackTcpPair();
FdPair Pipe();

void SetNonBlocking(int fd);

// Reads everything `fd` has until EOF, waiting at most `timeout_ms` for
// each chunk. kDeadlineExceeded if data stops without EOF.
absl::StatusOr<std::string> ReadUntilEof(int fd, int timeout_ms = 10000);
// Reads what is available now without blocking (fd must be non-blocking).
std::string ReadAvailable(int fd);

// The number of open descriptors of this process (/proc/self/fd).
int OpenDescriptorCount();

// A store in a temp directory with one log, "data-0", of `batches` batches
// of `records_per_batch` records of `value_bytes` each, in segments of
// `segment_bytes`.
struct TestLog {
  TempDir dir;
  std::unique_ptr<Store> store;
  std::shared_ptr<Log> log;
};
std::unique_ptr<TestLog> MakeTestLog(int batches, int records_per_batch,
                                     int value_bytes,
                                     int64_t segment_bytes = 64 * 1024,
                                     LogConfigOverrides overrides = {});

// The bytes a send of [offset, max_bytes) must produce, assembled by
// copying slices (the reference the zero-copy paths are held to).
absl::StatusOr<std::string> ExpectedRangeBytes(const Log& log, int64_t offset,
                                               uint64_t max_bytes);

}  // namespace shiplog::testing

#endif  // SHIPLOG_TESTS_ENGINE_TRANSPORT_TRANSPORT_TEST_UTIL_H_
