#include "bindings/cli/bench_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/errno_error.h"

namespace shiplog::cli {
namespace {

constexpr size_t kDrainBufferBytes = size_t{1} << 20;

absl::Status ConnectUnixPair(ScopedFd* sender, ScopedFd* receiver) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoError(errno, "socketpair");
  }
  *sender = ScopedFd(fds[0]);
  *receiver = ScopedFd(fds[1]);
  return absl::OkStatus();
}

absl::Status ConnectTcpLoopback(ScopedFd* sender, ScopedFd* receiver) {
  ScopedFd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid()) return ErrnoError(errno, "socket");
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  if (bind(listener.get(), generic, length) != 0 ||
      listen(listener.get(), 1) != 0 ||
      getsockname(listener.get(), generic, &length) != 0) {
    return ErrnoError(errno, "listening on 127.0.0.1");
  }
  *sender = ScopedFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sender->valid()) return ErrnoError(errno, "socket");
  const int on = 1;
  if (connect(sender->get(), generic, length) != 0 ||
      setsockopt(sender->get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) !=
          0) {
    return ErrnoError(errno, "connecting to 127.0.0.1");
  }
  *receiver = ScopedFd(accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!receiver->valid()) return ErrnoError(errno, "accept");
  return absl::OkStatus();
}

}  // namespace

absl::string_view SinkKindName(SinkKind kind) {
  return kind == SinkKind::kUnixSocketPair ? "unix" : "tcp";
}

absl::StatusOr<std::unique_ptr<BenchSink>> BenchSink::Open(SinkKind kind) {
  ScopedFd sender;
  ScopedFd receiver;
  const absl::Status connected = kind == SinkKind::kUnixSocketPair
                                     ? ConnectUnixPair(&sender, &receiver)
                                     : ConnectTcpLoopback(&sender, &receiver);
  if (!connected.ok()) return connected;
  return std::unique_ptr<BenchSink>(
      new BenchSink(std::move(sender), std::move(receiver)));
}

BenchSink::BenchSink(ScopedFd sender, ScopedFd receiver)
    : sender_(std::move(sender)), receiver_(std::move(receiver)) {
  drain_thread_ = std::thread([this] { Drain(); });
}

BenchSink::~BenchSink() {
  // The drain thread reads to the end of the stream, which this makes.
  shutdown(sender_.get(), SHUT_WR);
  drain_thread_.join();
}

void BenchSink::Drain() {
  std::vector<char> buffer(kDrainBufferBytes);
  absl::Status status;
  while (true) {
    const ssize_t n = read(receiver_.get(), buffer.data(), buffer.size());
    if (n > 0) {
      const uint64_t total =
          received_bytes_.fetch_add(static_cast<uint64_t>(n)) +
          static_cast<uint64_t>(n);
      // The lock orders this signal after the sender's check of the count,
      // so a wake-up cannot fall between the check and the wait.
      if (total >= awaited_bytes_.load()) {
        const std::lock_guard<std::mutex> lock(mu_);
        received_cv_.notify_all();
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = ErrnoError(errno, "the bench's receiver");
    break;
  }
  const std::lock_guard<std::mutex> lock(mu_);
  drain_ended_ = true;
  drain_status_ = status;
  received_cv_.notify_all();
}

absl::Status BenchSink::AwaitReceived(uint64_t total_bytes,
                                      int64_t timeout_ms) {
  awaited_bytes_.store(total_bytes);
  std::unique_lock<std::mutex> lock(mu_);
  const bool arrived = received_cv_.wait_for(
      lock, std::chrono::milliseconds(timeout_ms),
      [&] { return received_bytes_.load() >= total_bytes || drain_ended_; });
  if (received_bytes_.load() >= total_bytes) return absl::OkStatus();
  if (!arrived) {
    return absl::DeadlineExceededError(
        absl::StrCat("the bench's receiver got ", received_bytes_.load(),
                     " of ", total_bytes, " bytes within ", timeout_ms, " ms"));
  }
  if (!drain_status_.ok()) return drain_status_;
  return absl::UnavailableError("the bench's receiver saw the stream end");
}

}  // namespace shiplog::cli
