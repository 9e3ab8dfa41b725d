// BenchSink: the receiving end of `shiplog bench`. A connected stream
// socket whose far end a thread of this process drains into a buffer and
// discards, counting the bytes, so the sender can wait until everything it
// sent has arrived.
//
// Two kinds: loopback TCP (127.0.0.1; the kernel's TCP stack runs on both
// sides) and an AF_UNIX socket pair (no protocol stack: what remains is
// the cost of moving the bytes).
//
// Thread-safety: fd() and AwaitReceived() are for the one sending thread;
// the drain thread is the sink's own.
#ifndef SHIPLOG_BINDINGS_CLI_BENCH_SINK_H_
#define SHIPLOG_BINDINGS_CLI_BENCH_SINK_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bindings/cli/scoped_fd.h"

namespace shiplog::cli {

enum class SinkKind { kTcpLoopback, kUnixSocketPair };

// "tcp" or "unix", as --sink takes them.
absl::string_view SinkKindName(SinkKind kind);

class BenchSink {
 public:
  // Connects the pair and starts the drain thread.
  static absl::StatusOr<std::unique_ptr<BenchSink>> Open(SinkKind kind);

  // Closes the sending side, then joins the drain thread.
  ~BenchSink();
  BenchSink(const BenchSink&) = delete;
  BenchSink& operator=(const BenchSink&) = delete;

  // The sending end: blocking, TCP_NODELAY for TCP (as Kafka's broker
  // sets it), so a small transfer leaves at once.
  int fd() const { return sender_.get(); }

  // Waits until the drain thread has read `total_bytes` since Open, at
  // most `timeout_ms`. kDeadlineExceeded when it has not; kUnavailable if
  // the receiving side failed or saw the connection end first.
  absl::Status AwaitReceived(uint64_t total_bytes, int64_t timeout_ms);

 private:
  BenchSink(ScopedFd sender, ScopedFd receiver);
  void Drain();

  ScopedFd sender_;
  ScopedFd receiver_;
  std::atomic<uint64_t> received_bytes_{0};
  // What the sender waits for; the drain thread signals once it is reached.
  std::atomic<uint64_t> awaited_bytes_{UINT64_MAX};
  // libstdc++'s std::mutex carries no thread-safety annotations, so the
  // fields it guards say so here.
  std::mutex mu_;
  std::condition_variable received_cv_;
  bool drain_ended_ = false;   // guarded by mu_
  absl::Status drain_status_;  // guarded by mu_
  std::thread drain_thread_;
};

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_BENCH_SINK_H_
