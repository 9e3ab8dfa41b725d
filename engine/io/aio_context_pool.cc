#include "engine/io/aio_context_pool.h"

#include <unistd.h>

#include <cerrno>
#include <utility>

#include "engine/status/errno_status.h"

namespace shiplog {

AioContextPool::AioContextPool(size_t max_idle)
    : max_idle_(max_idle), owner_(getpid()) {}

AioContextPool::~AioContextPool() {
  // Each io_destroy waits for a grace period; nothing is in flight here,
  // so it is the only wait. A child that inherited the pool leaves the
  // parent's ids alone: they are not its contexts.
  if (getpid() != owner_) return;
  MutexLock lock(&mu_);
  for (const Idle& idle : idle_) io_destroy(idle.context);
}

absl::StatusOr<io_context_t> AioContextPool::Acquire(unsigned events) {
  if (getpid() == owner_) {
    MutexLock lock(&mu_);
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if (it->events < events) continue;
      const io_context_t context = it->context;
      idle_.erase(it);
      return context;
    }
  }
  io_context_t context = nullptr;
  int result;
  do {
    result = io_setup(static_cast<int>(events), &context);
  } while (result == -EINTR);
  if (result < 0) return ErrnoToStatus(-result, "io_setup");
  created_.fetch_add(1, std::memory_order_relaxed);
  return context;
}

void AioContextPool::Release(io_context_t context, unsigned events) {
  if (getpid() == owner_) {
    MutexLock lock(&mu_);
    if (idle_.size() < max_idle_) {
      idle_.push_back(Idle{context, events});
      return;
    }
  }
  io_destroy(context);  // outside the lock: it waits a grace period
}

size_t AioContextPool::idle() const {
  MutexLock lock(&mu_);
  return idle_.size();
}

}  // namespace shiplog
