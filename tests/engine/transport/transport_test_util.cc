#include "tests/engine/transport/transport_test_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "engine/segment/slice.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"

namespace shiplog::testing {

FdPair::FdPair(FdPair&& other) noexcept
    : sender(std::exchange(other.sender, -1)),
      receiver(std::exchange(other.receiver, -1)) {}

FdPair::~FdPair() {
  CloseSender();
  CloseReceiver();
}

void FdPair::CloseSender() {
  if (sender >= 0) close(sender);
  sender = -1;
}

void FdPair::CloseReceiver() {
  if (receiver >= 0) close(receiver);
  receiver = -1;
}

FdPair UnixSocketPair(int send_buffer_bytes) {
  int fds[2];
  FdPair pair;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    ADD_FAILURE() << "socketpair: " << errno;
    return pair;
  }
  pair.sender = fds[0];
  pair.receiver = fds[1];
  if (send_buffer_bytes > 0) {
    setsockopt(pair.sender, SOL_SOCKET, SO_SNDBUF, &send_buffer_bytes,
               sizeof(send_buffer_bytes));
    setsockopt(pair.receiver, SOL_SOCKET, SO_RCVBUF, &send_buffer_bytes,
               sizeof(send_buffer_bytes));
  }
  return pair;
}

FdPair LoopbackTcpPair() {
  FdPair pair;
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (listener < 0 ||
      bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      listen(listener, 1) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) !=
          0) {
    ADD_FAILURE() << "loopback listener: " << errno;
    if (listener >= 0) close(listener);
    return pair;
  }
  pair.sender = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connect(pair.sender, reinterpret_cast<sockaddr*>(&address), length) !=
      0) {
    ADD_FAILURE() << "connect: " << errno;
  }
  pair.receiver = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  close(listener);
  return pair;
}

FdPair Pipe() {
  int fds[2];
  FdPair pair;
  if (pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << errno;
    return pair;
  }
  pair.receiver = fds[0];
  pair.sender = fds[1];
  return pair;
}

void SetNonBlocking(int fd) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

absl::StatusOr<std::string> ReadUntilEof(int fd, int timeout_ms) {
  std::string data;
  char buffer[64 * 1024];
  while (true) {
    struct pollfd readable = {fd, POLLIN, 0};
    const int ready = poll(&readable, 1, timeout_ms);
    if (ready == 0) {
      return absl::DeadlineExceededError(absl::StrCat(
          "no EOF after ", data.size(), " bytes and ", timeout_ms, " ms"));
    }
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n == 0) return data;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ErrnoToStatus(errno, "read");
    }
    data.append(buffer, static_cast<size_t>(n));
  }
}

std::string ReadAvailable(int fd) {
  std::string data;
  char buffer[64 * 1024];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n <= 0) return data;
    data.append(buffer, static_cast<size_t>(n));
  }
}

int OpenDescriptorCount() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd")) {
    ++count;
  }
  return count;
}

std::unique_ptr<TestLog> MakeTestLog(int batches, int records_per_batch,
                                     int value_bytes, int64_t segment_bytes,
                                     LogConfigOverrides overrides) {
  auto test_log = std::make_unique<TestLog>();
  StoreOptions options;
  options.maintenance_interval_ms = 0;
  auto store = Store::Open(test_log->dir.Join("store"), options);
  EXPECT_OK(store);
  test_log->store = *std::move(store);
  overrides.segment_bytes = segment_bytes;
  auto log = test_log->store->OpenLog("data-0", overrides);
  EXPECT_OK(log);
  test_log->log = *std::move(log);
  int64_t next = 0;
  for (int b = 0; b < batches; ++b) {
    std::vector<std::string> values;
    for (int r = 0; r < records_per_batch; ++r, ++next) {
      std::string value = absl::StrCat("record-", next, "-");
      value.resize(std::max<size_t>(value.size(), value_bytes), 'x');
      values.push_back(std::move(value));
    }
    std::vector<RecordView> records(values.size());
    for (size_t i = 0; i < values.size(); ++i) records[i].value = values[i];
    EXPECT_OK(test_log->log->Append(records));
  }
  return test_log;
}

absl::StatusOr<std::string> ExpectedRangeBytes(const Log& log, int64_t offset,
                                               uint64_t max_bytes) {
  std::string expected;
  const int64_t end = log.end_offset();
  while (offset < end) {
    const uint64_t budget =
        max_bytes - std::min<uint64_t>(max_bytes, expected.size());
    ASSIGN_OR_RETURN(const Slice slice, log.Read(offset, budget));
    if (slice.empty()) break;
    if (!expected.empty() && slice.size > budget) break;
    std::string bytes;
    RETURN_IF_ERROR(ReadSliceBytes(slice, &bytes));
    expected += bytes;
    offset = slice.next_offset;
    if (expected.size() >= max_bytes) break;
  }
  return expected;
}

}  // namespace shiplog::testing
