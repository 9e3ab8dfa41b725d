// SigpipeGuard: keeps a write to a closed socket or pipe from killing the
// process.
//
// A write to a socket whose peer is gone fails with EPIPE and also raises
// SIGPIPE, whose default action ends the process. send(2) takes
// MSG_NOSIGNAL, but sendfile(2), splice(2) and write(2) take no such flag,
// and a library must not change the application's signal dispositions. So
// the guard blocks SIGPIPE in the calling thread for its lifetime, and after
// an EPIPE takes the signal the failed call raised (it is thread-directed
// and pending while blocked) before the old mask returns. A SIGPIPE that
// was already pending before the guard is left for the application.
//
// Thread-safety: per-thread by nature; construct and destroy it on the same
// thread.
#ifndef SHIPLOG_ENGINE_TRANSPORT_SIGPIPE_GUARD_H_
#define SHIPLOG_ENGINE_TRANSPORT_SIGPIPE_GUARD_H_

#include <signal.h>

namespace shiplog {

class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

  // Call after a write failed with EPIPE.
  void ConsumeRaisedSignal();

 private:
  sigset_t sigpipe_;
  sigset_t previous_mask_;
  bool blocked_here_ = false;
  bool pending_before_ = false;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_TRANSPORT_SIGPIPE_GUARD_H_
