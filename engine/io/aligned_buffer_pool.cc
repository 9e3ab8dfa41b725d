#include "engine/io/aligned_buffer_pool.h"

#include <algorithm>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/metrics/engine_metrics.h"

namespace shiplog {

absl::StatusOr<std::shared_ptr<AlignedBufferPool>> AlignedBufferPool::Create(
    size_t buffer_bytes, size_t buffer_count) {
  if (buffer_bytes == 0 || buffer_bytes % kAlignment != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("direct read buffers must be a positive multiple of ",
                     kAlignment, " bytes, not ", buffer_bytes));
  }
  return std::shared_ptr<AlignedBufferPool>(
      new AlignedBufferPool(buffer_bytes, buffer_count));
}

absl::StatusOr<std::shared_ptr<AlignedBufferPool>>
AlignedBufferPool::CreateWithBytes(size_t buffer_bytes, uint64_t total_bytes) {
  const size_t count =
      buffer_bytes == 0 ? 0 : static_cast<size_t>(total_bytes / buffer_bytes);
  return Create(buffer_bytes, count);
}

AlignedBufferPool::AlignedBufferPool(size_t buffer_bytes, size_t buffer_count)
    : buffer_bytes_(buffer_bytes),
      buffer_count_(buffer_count),
      aio_contexts_(std::max<size_t>(buffer_count / kMaxReadsPerContext, 1)) {}

std::optional<AlignedBufferPool::Buffer> AlignedBufferPool::Acquire(
    int64_t timeout_ms) {
  AlignedBuffer memory;
  {
    MutexLock lock(&mu_);
    auto can_lend = [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return !free_.empty() || allocated_ < buffer_count_;
    };
    if (!can_lend()) {
      if (timeout_ms <= 0) return std::nullopt;
      GlobalMetrics().direct_read_buffer_waits.Add();
      ++waiting_;
      changed_.SignalAll();  // for AwaitWaiting
      const bool lent = changed_.WaitWithTimeout(&mu_, timeout_ms, can_lend);
      --waiting_;
      if (!lent) return std::nullopt;
    }
    if (!free_.empty()) {
      memory = std::move(free_.back());
      free_.pop_back();
    } else {
      try {
        memory = AlignedBuffer(kAlignment, buffer_bytes_);
      } catch (const std::bad_alloc&) {
        return std::nullopt;  // the caller reads through the page cache
      }
      ++allocated_;
    }
  }
  GlobalMetrics().direct_read_buffers_in_use.Add();
  return Buffer(shared_from_this(), std::move(memory));
}

void AlignedBufferPool::Return(AlignedBuffer memory) {
  GlobalMetrics().direct_read_buffers_in_use.Sub();
  MutexLock lock(&mu_);
  free_.push_back(std::move(memory));
  changed_.SignalAll();
}

size_t AlignedBufferPool::available() const {
  MutexLock lock(&mu_);
  return free_.size() + (buffer_count_ - allocated_);
}

size_t AlignedBufferPool::waiting() const {
  MutexLock lock(&mu_);
  return waiting_;
}

bool AlignedBufferPool::AwaitWaiting(size_t n, int64_t timeout_ms) const {
  MutexLock lock(&mu_);
  return changed_.WaitWithTimeout(
      &mu_, timeout_ms,
      [this, n]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return waiting_ >= n; });
}

AlignedBufferPool::Buffer::Buffer(Buffer&& other) noexcept
    : pool_(std::move(other.pool_)), memory_(std::move(other.memory_)) {}

AlignedBufferPool::Buffer& AlignedBufferPool::Buffer::operator=(
    Buffer&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::move(other.pool_);
    memory_ = std::move(other.memory_);
  }
  return *this;
}

AlignedBufferPool::Buffer::~Buffer() { Release(); }

void AlignedBufferPool::Buffer::Release() {
  if (pool_ != nullptr) pool_->Return(std::move(memory_));
  memory_ = AlignedBuffer();
  pool_.reset();
}

}  // namespace shiplog
