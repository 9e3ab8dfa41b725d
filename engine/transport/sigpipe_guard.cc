#include "engine/transport/sigpipe_guard.h"

#include <pthread.h>
#include <time.h>

namespace shiplog {

SigpipeGuard::SigpipeGuard() {
  sigemptyset(&sigpipe_);
  sigaddset(&sigpipe_, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) == 0) {
    pending_before_ = sigismember(&pending, SIGPIPE) == 1;
  }
  if (pthread_sigmask(SIG_BLOCK, &sigpipe_, &previous_mask_) == 0) {
    blocked_here_ = sigismember(&previous_mask_, SIGPIPE) == 0;
  }
}

SigpipeGuard::~SigpipeGuard() {
  if (blocked_here_) pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void SigpipeGuard::ConsumeRaisedSignal() {
  if (pending_before_) return;  // cannot tell ours from theirs: leave it
  const struct timespec no_wait = {0, 0};
  // Returns at once: the signal is pending, or there is none to take.
  sigtimedwait(&sigpipe_, nullptr, &no_wait);
}

}  // namespace shiplog
