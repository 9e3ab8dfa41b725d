// SocketSink: a connection whose far end a thread drains and discards, the
// receiver of the transport benchmarks; and the sending thread's CPU time.
#ifndef SHIPLOG_TESTS_BENCH_SOCKET_SINK_H_
#define SHIPLOG_TESTS_BENCH_SOCKET_SINK_H_

#include <thread>

namespace shiplog::bench {

enum SinkKind { kTcpLoopback = 0, kUnixSocketPair = 1 };

// Loopback TCP (the kernel's whole TCP stack, receive side included, runs
// on these two cores) or an AF_UNIX socket pair (no protocol stack: what
// is left is the cost of moving the bytes).
class SocketSink {
 public:
  explicit SocketSink(int kind);
  ~SocketSink();
  SocketSink(const SocketSink&) = delete;
  SocketSink& operator=(const SocketSink&) = delete;

  // The sending end.
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::thread drain_;
};

// User + system CPU seconds of the calling thread (getrusage
// RUSAGE_THREAD): the kernel's copies count.
double ThreadCpuSeconds();

}  // namespace shiplog::bench

#endif  // SHIPLOG_TESTS_BENCH_SOCKET_SINK_H_
