// AioContextPool: Linux native AIO contexts (io_setup(2)) kept for reuse
// by the direct readers of one store.
//
// Why. io_destroy(2) waits for an RCU grace period before it returns:
// about 35 ms on this 2-vCPU machine, against 6 us for io_setup. A context
// per cold slice made every cold send pay it, so a Kafka consumer fetching
// 1 MiB at a time far behind the tail could fetch no more than ~30 times
// a second. Contexts are not tied to a file, so a reader that is done with
// one hands it back here, and the next reader takes it.
//
// Contract. A context given back must have nothing in flight: every read
// submitted through it completed and its completion reaped (io_getevents),
// or the next reader would collect a stranger's completion. AioReader
// ensures that, and destroys a context it cannot drain instead.
//
// Bounds. At most `max_idle` contexts are kept; one given back beyond that
// is destroyed. Contexts in use are not counted (each reader holds one, as
// before). Every idle context is destroyed with the pool.
//
// fork(2). A child does not inherit the parent's contexts (the kernel
// keeps them per address space). A pool used in a child creates the
// child's own, and destroys them when given back.
//
// Thread-safety: thread-safe.
#ifndef SHIPLOG_ENGINE_IO_AIO_CONTEXT_POOL_H_
#define SHIPLOG_ENGINE_IO_AIO_CONTEXT_POOL_H_

#include <libaio.h>
#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "engine/sync/mutex.h"

namespace shiplog {

class AioContextPool {
 public:
  explicit AioContextPool(size_t max_idle);
  ~AioContextPool();
  AioContextPool(const AioContextPool&) = delete;
  AioContextPool& operator=(const AioContextPool&) = delete;

  // A context for at least `events` operations in flight: an idle one that
  // has room for them, or a new one. The errno status of io_setup when it
  // fails (EAGAIN: the system's fs.aio-max-nr is reached).
  absl::StatusOr<io_context_t> Acquire(unsigned events);

  // Takes back a context Acquire(events) gave, with nothing in flight:
  // kept for reuse, or destroyed when max_idle are idle already.
  void Release(io_context_t context, unsigned events);

  size_t max_idle() const { return max_idle_; }
  // Contexts kept for reuse now.
  size_t idle() const;
  // io_setup calls made, ever: a test's measure of reuse.
  uint64_t created() const { return created_.load(std::memory_order_relaxed); }

 private:
  struct Idle {
    io_context_t context;
    unsigned events;
  };

  const size_t max_idle_;
  // The process whose contexts idle_ holds (a child's are its own).
  const pid_t owner_;
  std::atomic<uint64_t> created_{0};
  mutable Mutex mu_;
  std::vector<Idle> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_IO_AIO_CONTEXT_POOL_H_
