// DirectAppender: the write-behind buffer of an active segment in direct
// mode (write.mode=direct; engine/log/DIRECT_IO.md).
//
// Appends are staged: their bytes are copied into an aligned buffer that
// starts at the block holding the durable end of the file. A group is
// everything staged since the previous group: TakeGroup hands it to the
// one group writer the log elects, which writes it as ONE aligned O_DIRECT
// write, durably (the partial last block zero-padded; the next group
// rewrites that block with the same leading bytes). While a group is in
// flight, appends stage into a second buffer that starts with a copy of
// the partial last block, so the kernel never reads a buffer that is being
// written to. Each group carries a GroupCompletion that every append staged
// into it waits on.
//
// The file therefore grows in whole blocks and may hold zero padding past
// the logical end (the segment's published size), until the segment
// trims it (Segment::Seal) or, after a crash, recovery cuts it as a torn
// tail.
//
// Thread-safety: thread-safe. Stage, Reset and the accessors belong to the
// log's writer (its append lock); TakeGroup, Write and Return to the group
// writer, one group at a time; the two sides may run at once.
#ifndef SHIPLOG_ENGINE_SEGMENT_DIRECT_APPENDER_H_
#define SHIPLOG_ENGINE_SEGMENT_DIRECT_APPENDER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/io/aligned_buffer.h"
#include "engine/io/env.h"
#include "engine/sync/mutex.h"

namespace shiplog {

// The fate of the appends one group carries, set once: durable, or the
// error that lost them.
//
// Thread-safety: thread-safe. Waiters poll done() under their own lock and
// are woken by whoever completed it (the log's commit condition).
class GroupCompletion {
 public:
  bool done() const { return done_.load(std::memory_order_acquire); }
  // Valid once done().
  const absl::Status& status() const { return status_; }
  // The first call wins.
  void Complete(absl::Status status);

 private:
  std::atomic<bool> claimed_{false};
  absl::Status status_;  // written once, before done_ is released
  std::atomic<bool> done_{false};
};

// Staged bytes handed to the group writer.
struct DirectGroup {
  uint64_t position = 0;    // file position of buffer[0]; aligned
  uint64_t end = 0;         // the segment's logical end after the group
  int64_t next_offset = 0;  // the offset after the group's last batch
  size_t write_bytes = 0;   // end - position, rounded up to the alignment
  AlignedBuffer buffer;     // the bytes, zero-padded to write_bytes
  std::shared_ptr<GroupCompletion> completion;
};

class DirectAppender {
 public:
  // Opens `file` for direct writes and starts staging at `end`, the
  // logical end of the segment (every byte below it durable), whose next
  // offset is `next_offset`. The partial block below `end` is read from
  // `log`, the segment's buffered file.
  static absl::StatusOr<std::unique_ptr<DirectAppender>> Open(
      std::unique_ptr<DirectFile> file, const File& log, uint64_t end,
      int64_t next_offset);

  DirectAppender(const DirectAppender&) = delete;
  DirectAppender& operator=(const DirectAppender&) = delete;

  size_t alignment() const { return alignment_; }

  // ---- The log's writer ----

  // Where the next append goes.
  uint64_t staged_end() const;
  int64_t staged_next_offset() const;
  // Copies `bytes` (batches ending before `next_offset`) after the staged
  // end. Returns the completion the append waits on.
  std::shared_ptr<GroupCompletion> Stage(absl::string_view bytes,
                                         int64_t next_offset);
  // The completion of the last append staged, while it is not done.
  std::shared_ptr<GroupCompletion> PendingCompletion() const;
  // Forgets everything staged and not yet written (its completion gets
  // `reason`) and starts staging again at `end` (durable), reading its
  // partial block from `log`: after a group failed without losing
  // anything durable (a full disk). No group may be in flight.
  absl::Status Reset(const File& log, uint64_t end, int64_t next_offset,
                     const absl::Status& reason);

  // ---- The group writer ----

  // Everything staged since the last group, or nullopt if nothing is.
  std::optional<DirectGroup> TakeGroup();
  // Writes the group durably (one device write). No lock is held.
  absl::Status Write(const DirectGroup& group);
  // Gives the group's buffer back for reuse once it is written (or not).
  void Return(DirectGroup group);

 private:
  DirectAppender(std::unique_ptr<DirectFile> file, size_t alignment);

  uint64_t AlignDown(uint64_t position) const {
    return position / alignment_ * alignment_;
  }
  uint64_t AlignUp(uint64_t position) const {
    return (position + alignment_ - 1) / alignment_ * alignment_;
  }
  // A buffer of at least `bytes`: the spare one if it is big enough.
  AlignedBuffer NewBufferLocked(size_t bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::unique_ptr<DirectFile> file_;
  const size_t alignment_;

  mutable Mutex mu_;
  // Bytes [filling_position_, staged_end_) of the file, staged.
  AlignedBuffer filling_ ABSL_GUARDED_BY(mu_);
  uint64_t filling_position_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t staged_end_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t staged_next_offset_ ABSL_GUARDED_BY(mu_) = 0;
  // The logical end the last group taken ended at.
  uint64_t taken_end_ ABSL_GUARDED_BY(mu_) = 0;
  // What the appends staged since the last group wait on (null: none yet).
  std::shared_ptr<GroupCompletion> filling_completion_ ABSL_GUARDED_BY(mu_);
  // The last group's, while nothing was staged after it.
  std::shared_ptr<GroupCompletion> last_completion_ ABSL_GUARDED_BY(mu_);
  // A written group's buffer, kept for the next one.
  AlignedBuffer spare_ ABSL_GUARDED_BY(mu_);
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_SEGMENT_DIRECT_APPENDER_H_
