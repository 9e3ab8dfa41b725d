// Log: the flush policy and its fdatasyncs, the recovery point they
// advance, and the failure that a failed one makes permanent.
#include <algorithm>

#include "engine/log/log.h"
#include "engine/status/status_macros.h"

namespace shiplog {

absl::Status Log::MaybeFlushForCount() {
  const int64_t flush_messages = config().flush_messages;
  if (flush_messages <= 0 ||
      unflushed_records_.load(std::memory_order_acquire) < flush_messages) {
    return absl::OkStatus();
  }
  return Flush();
}

void Log::Fail(const absl::Status& failure) {
  MutexLock lock(&flush_mu_);
  FailLocked(failure);
}

void Log::FailLocked(const absl::Status& failure) {
  if (failure_.ok()) failure_ = failure;
  failed_.store(true, std::memory_order_release);
}

absl::Status Log::Flush() {
  if (!read_only_ && config().write_mode == WriteMode::kDirect) {
    MutexLock lock(&append_mu_);
    if (!closed_ && !failed_.load(std::memory_order_acquire)) {
      RETURN_IF_ERROR(DrainLocked());
    }
  }
  return FlushTo(end_offset());
}

absl::Status Log::FlushTo(int64_t target) {
  if (read_only_) return absl::OkStatus();
  int64_t recovery_point;
  int64_t unflushed;
  {
    MutexLock lock(&flush_mu_);
    // A flush in progress may cover `target`: wait for it rather than
    // queue on the lock behind it, so that everyone it covers returns
    // when it ends (one fdatasync for all), not one lock hand-off at a
    // time.
    flush_cv_.Wait(&flush_mu_, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return !flush_in_progress_ || !failure_.ok() ||
             target <= recovery_point_.load(std::memory_order_acquire);
    });
    if (!failure_.ok()) return FailedFlushError(failure_);
    recovery_point = recovery_point_.load(std::memory_order_acquire);
    if (target <= recovery_point) return absl::OkStatus();
    flush_in_progress_ = true;
    unflushed = unflushed_records_.load(std::memory_order_acquire);
  }
  // Every append counted in `unflushed` was published before it was
  // counted, so the end as it is now covers them all. A target computed
  // before the wait may not: an append counted here but past it would be
  // subtracted unflushed, and its own flush.messages check would then find
  // nothing to do and acknowledge it undurable. Flushing to the end also
  // lets one fdatasync cover every append that landed while this one
  // waited.
  target = std::max(target, end_offset());
  absl::Status status;
  const std::shared_ptr<const SegmentList> list = segments();
  for (const auto& segment : *list) {
    if (segment->next_offset() <= recovery_point) continue;
    if (segment->base_offset() >= target) break;
    status = segment->Flush();
    if (!status.ok()) break;
  }
  if (status.ok() && directory_dirty_.exchange(false)) {
    status = env_->SyncDir(directory_);
    if (!status.ok()) directory_dirty_.store(true);
  }
  MutexLock lock(&flush_mu_);
  flush_in_progress_ = false;
  flush_cv_.SignalAll();
  if (!status.ok()) {
    // Whatever the kernel dropped is gone; retrying would claim otherwise.
    FailLocked(status);
    return FailedFlushError(status);
  }
  if (target > recovery_point_.load(std::memory_order_acquire)) {
    recovery_point_.store(target, std::memory_order_release);
  }
  if (unflushed_records_.fetch_sub(unflushed, std::memory_order_acq_rel) ==
      unflushed) {
    first_unflushed_ms_.store(0, std::memory_order_release);
  }
  return absl::OkStatus();
}

absl::Status Log::MaybeFlushForAge(int64_t now_ms) {
  const int64_t flush_ms = config().flush_ms;
  const int64_t since = first_unflushed_ms_.load(std::memory_order_acquire);
  if (flush_ms < 0 || since == 0 || now_ms - since < flush_ms) {
    return absl::OkStatus();
  }
  return Flush();
}

}  // namespace shiplog
