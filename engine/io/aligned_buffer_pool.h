// AlignedBufferPool: a fixed number of fixed-size, page-aligned buffers
// for direct (O_DIRECT) reads, shared by every cold read of a store.
//
// The pool never holds more than buffer_count() buffers: they are
// allocated on first demand, up to that count, kept for reuse, and freed
// when the pool and every buffer it lent are gone. When all are lent out,
// Acquire waits on a condition variable (never spinning) for one to come
// back, for at most the time it is given, and then reports that none came;
// it never allocates past the count.
//
// The pool also keeps the AIO contexts its readers are done with
// (aio_contexts(), AioContextPool): a context costs a grace period to
// destroy, so readers reuse them instead. It keeps at most one idle
// context per kMaxReadsPerContext buffers (8 for the default 32; at least
// one): about as many as readers can read ahead at the default depth at
// once. More readers than that still get contexts, created for them.
//
// Thread-safety: thread-safe. A Buffer belongs to one thread at a time; it
// goes back to the pool when destroyed, and keeps the pool alive until then.
#ifndef SHIPLOG_ENGINE_IO_ALIGNED_BUFFER_POOL_H_
#define SHIPLOG_ENGINE_IO_ALIGNED_BUFFER_POOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "engine/io/aio_context_pool.h"
#include "engine/io/aligned_buffer.h"
#include "engine/sync/mutex.h"

namespace shiplog {

class AlignedBufferPool
    : public std::enable_shared_from_this<AlignedBufferPool> {
 public:
  // Every buffer starts on a page boundary and its size is a multiple of
  // a page: enough for the direct I/O alignment of every file system Linux
  // has (statx's stx_dio_mem_align and stx_dio_offset_align are at most a
  // page on them).
  static constexpr size_t kAlignment = 4096;
  // Buffers per idle AIO context kept (the default read-ahead depth).
  static constexpr size_t kMaxReadsPerContext = 4;

  // A pool of `buffer_count` buffers of `buffer_bytes` each.
  // kInvalidArgument unless buffer_bytes is a positive multiple of
  // kAlignment. A pool of 0 buffers is valid and never lends one.
  static absl::StatusOr<std::shared_ptr<AlignedBufferPool>> Create(
      size_t buffer_bytes, size_t buffer_count);

  // `total_bytes` split into buffers of `buffer_bytes` (rounded down).
  static absl::StatusOr<std::shared_ptr<AlignedBufferPool>> CreateWithBytes(
      size_t buffer_bytes, uint64_t total_bytes);

  AlignedBufferPool(const AlignedBufferPool&) = delete;
  AlignedBufferPool& operator=(const AlignedBufferPool&) = delete;

  // One lent buffer: buffer_bytes() writable bytes at a kAlignment
  // boundary. Move-only; returns to its pool when destroyed.
  class Buffer {
   public:
    Buffer(Buffer&& other) noexcept;
    Buffer& operator=(Buffer&& other) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer();

    char* data() const { return memory_.data(); }
    size_t size() const { return memory_.capacity(); }

   private:
    friend class AlignedBufferPool;
    Buffer(std::shared_ptr<AlignedBufferPool> pool, AlignedBuffer memory)
        : pool_(std::move(pool)), memory_(std::move(memory)) {}
    void Release();

    std::shared_ptr<AlignedBufferPool> pool_;
    AlignedBuffer memory_;
  };

  // A free buffer, waiting up to `timeout_ms` for one when all are lent
  // (0: not at all). nullopt if none came free in time, or if memory for a
  // first-time allocation could not be had.
  std::optional<Buffer> Acquire(int64_t timeout_ms);

  size_t buffer_bytes() const { return buffer_bytes_; }
  size_t buffer_count() const { return buffer_count_; }
  // Buffers that could be lent now, allocated or not.
  size_t available() const;
  // Threads waiting in Acquire now.
  size_t waiting() const;
  // Waits until at least `n` threads wait in Acquire, at most `timeout_ms`;
  // returns whether they do. Lets a test that holds every buffer know that
  // a reader is waiting for one, without sleeping.
  bool AwaitWaiting(size_t n, int64_t timeout_ms) const;

  // The AIO contexts direct readers of this pool take and give back.
  AioContextPool& aio_contexts() { return aio_contexts_; }

 private:
  AlignedBufferPool(size_t buffer_bytes, size_t buffer_count);
  void Return(AlignedBuffer memory);

  const size_t buffer_bytes_;
  const size_t buffer_count_;
  AioContextPool aio_contexts_;

  mutable Mutex mu_;
  mutable CondVar changed_;  // a buffer came back, or a waiter arrived
  std::vector<AlignedBuffer> free_ ABSL_GUARDED_BY(mu_);
  size_t allocated_ ABSL_GUARDED_BY(mu_) = 0;
  size_t waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_IO_ALIGNED_BUFFER_POOL_H_
