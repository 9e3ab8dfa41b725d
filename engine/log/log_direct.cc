// Log: direct mode's group commit (write.mode=direct, DIRECT_IO.md).
//
// An append stages its bytes in the active segment under append_mu_ and
// gets the GroupCompletion of the group they will travel in; then, with
// no lock held, it waits for that completion. Whenever no group is in
// flight, one waiter becomes the group writer: it takes everything staged
// so far (its own bytes and every later appender's), writes it as one
// durable O_DIRECT write, publishes it, advances the recovery point and
// completes the group, waking every appender in it at once. Meanwhile the
// other appenders keep staging into the next group.
#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"

namespace shiplog {

void Log::AdvanceRecoveryPoint(int64_t offset) {
  MutexLock lock(&flush_mu_);
  if (offset > recovery_point_.load(std::memory_order_acquire)) {
    recovery_point_.store(offset, std::memory_order_release);
  }
}

absl::Status Log::WriteGroup() {
  // The list first: a roll marks the directory dirty before it publishes
  // a new segment, so a writer that sees the segment sees the mark.
  const std::shared_ptr<const SegmentList> list = segments();
  const std::shared_ptr<Segment> active = list->back();
  if (directory_dirty_.exchange(false, std::memory_order_acq_rel)) {
    // A segment file whose directory entry is not durable would take its
    // durable appends with it in a crash.
    if (absl::Status synced = env_->SyncDir(directory_); !synced.ok()) {
      directory_dirty_.store(true, std::memory_order_release);
      Fail(synced);
      return synced;
    }
  }
  absl::StatusOr<std::shared_ptr<GroupCompletion>> committed =
      active->CommitStaged();
  if (!committed.ok()) {
    // A full disk lost the group but nothing durable: the log goes on.
    if (!IsDiskFull(committed.status())) Fail(committed.status());
    return committed.status();
  }
  if (*committed != nullptr) {
    AdvanceRecoveryPoint(active->next_offset());
    (*committed)->Complete(absl::OkStatus());
  }
  return absl::OkStatus();
}

absl::StatusOr<Log::GroupWait> Log::WaitForGroup(
    const GroupCompletion& completion) {
  while (true) {
    {
      MutexLock lock(&commit_mu_);
      commit_cv_.Wait(&commit_mu_, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
        return completion.done() || !group_in_flight_;
      });
      if (completion.done()) return GroupWait::kDone;
      if (failed_.load(std::memory_order_acquire)) {
        return FailedFlushError(failure());
      }
      if (rewind_pending_) return GroupWait::kRewindFirst;
      group_in_flight_ = true;
    }
    const absl::Status written = WriteGroup();
    MutexLock lock(&commit_mu_);
    group_in_flight_ = false;
    if (!written.ok() && IsDiskFull(written)) {
      rewind_pending_ = true;
      rewind_reason_ = written;
    }
    commit_cv_.SignalAll();
    if (written.ok() && !completion.done()) {
      // Every staged append is in the group just written or an earlier
      // one; a completion still pending has lost its group.
      return absl::InternalError(absl::StrCat(
          "log ", name_, ": an append waits on a group no writer holds"));
    }
  }
}

absl::Status Log::AwaitDurable(const GroupCompletion& completion) {
  while (true) {
    ASSIGN_OR_RETURN(const GroupWait wait, WaitForGroup(completion));
    if (wait == GroupWait::kDone) break;
    MutexLock lock(&append_mu_);
    RewindLocked();
  }
  const absl::Status& status = completion.status();
  if (status.ok() || IsDiskFull(status)) return status;
  return FailedFlushError(status);
}

absl::Status Log::DrainLocked() {
  while (true) {
    RewindLocked();
    if (failed_.load(std::memory_order_acquire)) {
      return FailedFlushError(failure());
    }
    const std::shared_ptr<GroupCompletion> pending =
        segments()->back()->PendingCompletion();
    if (pending == nullptr) return absl::OkStatus();
    // A group lost to a full disk leaves a rewind pending: the next round
    // does it and finds nothing pending.
    ASSIGN_OR_RETURN(const GroupWait wait, WaitForGroup(*pending));
    (void)wait;
  }
}

void Log::RewindLocked() {
  absl::Status reason;
  {
    MutexLock lock(&commit_mu_);
    if (!rewind_pending_) return;
    reason = rewind_reason_;
  }
  // No group is in flight: none starts while a rewind is pending.
  const std::shared_ptr<Segment> active = segments()->back();
  if (absl::Status discarded = active->DiscardStaged(reason); !discarded.ok()) {
    Fail(discarded);
  }
  dirty_offset_.store(active->append_next_offset(), std::memory_order_release);
  MutexLock lock(&commit_mu_);
  rewind_pending_ = false;
  commit_cv_.SignalAll();
}

absl::Status Log::SwitchWriteModeLocked(WriteMode mode) {
  const std::shared_ptr<Segment> active = segments()->back();
  if (mode == WriteMode::kDirect) {
    // The first group advances the recovery point past everything before
    // it: buffered appends must be durable by then.
    RETURN_IF_ERROR(FlushTo(end_offset()));
  } else {
    RETURN_IF_ERROR(DrainLocked());
  }
  return active->SetDirectWrites(mode == WriteMode::kDirect);
}

}  // namespace shiplog
