// Log: one ordered, offset-addressed partition, a directory of segments.
//
// Offsets are dense and assigned by the log. Three durability offsets are
// kept apart: dirty (assigned to an append in progress) >= stable (written
// to the segment file and readable) >= committed (fdatasync'd; the recovery
// point). The flush policy (every N records, every T ms, or never) decides
// when fdatasync runs; the recovery point advances only after it succeeds.
// A failed fdatasync is never retried as if nothing happened: the log turns
// read-only and every later write reports the original error.
//
// In direct mode (write.mode=direct, DIRECT_IO.md) there is no flush
// policy: appends are staged in an aligned buffer, and an append returns
// once a group write that holds it is durable. Group commit: the appenders
// waiting elect one of them to write everything staged as one O_DIRECT
// write; the others wait for it. Dirty >= stable == committed.
//
// Thread-safety: a Log is thread-safe. Appends, rolls, truncation and
// retention are serialized by one lock; Read and OffsetForTime take only a
// brief snapshot of the segment list and never wait for a writer; Flush
// runs beside appends. Segments are reference-counted: a slice keeps its
// segment readable after retention or truncation removes it from the log.
#ifndef SHIPLOG_ENGINE_LOG_LOG_H_
#define SHIPLOG_ENGINE_LOG_LOG_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/format/batch_builder.h"
#include "engine/format/batch_validator.h"
#include "engine/format/record.h"
#include "engine/io/env.h"
#include "engine/log/free_space_guard.h"
#include "engine/log/log_config.h"
#include "engine/segment/segment.h"
#include "engine/segment/slice.h"
#include "engine/sync/mutex.h"

namespace shiplog {

// How the store opens a log: the facts it keeps on the log's behalf.
struct LogOpenOptions {
  bool read_only = false;
  // The store shut down cleanly: no segment needs scanning.
  bool clean_shutdown = false;
  // From the recovery-point checkpoint: segments holding offsets at or
  // past it are scanned after an unclean shutdown.
  int64_t recovery_point = 0;
  // From the log-start-offset checkpoint.
  int64_t log_start_offset = 0;
  // The store's guard of min_free_bytes (none: no guard).
  std::shared_ptr<FreeSpaceGuard> free_space_guard;
  // The store's bound on what idle closed segments hold open (none: they
  // keep their files until they are destroyed).
  std::shared_ptr<SegmentCache> segment_cache;
};

// What opening the log found and did.
struct LogLoadReport {
  int segments = 0;
  int segments_recovered = 0;      // scanned batch by batch
  int segments_removed = 0;        // past a gap or corruption
  uint64_t bytes_truncated = 0;    // invalid tails cut (or ignored)
  std::vector<std::string> notes;  // one line per repair, for operators
};

struct AppendResult {
  int64_t base_offset = 0;  // first offset assigned
  int64_t last_offset = 0;  // last offset assigned
  uint64_t bytes = 0;       // batch bytes written
};

struct RetentionResult {
  int segments_deleted = 0;
  uint64_t bytes_deleted = 0;
};

// A log at one moment, as Log::VisitFrozen shows it.
struct FrozenLog {
  // Oldest first. In a writable log the last one is the active segment;
  // the others are closed and stay exactly as they are while the visit
  // lasts.
  absl::Span<const std::shared_ptr<Segment>> segments;
  int64_t start_offset = 0;
  int64_t committed_offset = 0;  // the recovery point
  int64_t end_offset = 0;
};

class Log {
 public:
  // Opens the log in `directory` (which must exist), recovering it as
  // `options` say. A writable log with no segments gets an empty one.
  static absl::StatusOr<std::shared_ptr<Log>> Open(
      Env* env, const std::string& directory, const std::string& name,
      const LogConfig& config, const LogOpenOptions& options);

  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  const std::string& name() const { return name_; }
  const std::string& directory() const { return directory_; }
  bool read_only() const { return read_only_; }
  LogConfig config() const;
  // Replaces the settings; index sizes apply to segments created later.
  // A new write.mode applies at once: buffered appends are fdatasync'd
  // before direct ones start, staged direct ones written before buffered
  // ones start.
  absl::Status SetConfig(const LogConfig& config);
  const LogLoadReport& load_report() const { return load_report_; }

  // ---- Writes ----

  // Encodes `records` as one batch, assigns it the next offsets and
  // appends it. Returns once the batch is readable, and also durable if
  // the flush policy called for an fdatasync (always, in direct mode: the
  // batch is readable only once durable). kInvalidArgument for no
  // records or an encoding problem; kFailedPrecondition for a read-only or
  // closed log; kResourceExhausted for a full disk (nothing is lost and
  // later appends may succeed) or, with ErrorKind::kLowDiskSpace and
  // nothing written, when the append would leave less than the store's
  // min_free_bytes free; kOutOfRange when the offsets would pass
  // kLogOffsetLimit. In direct mode a full disk fails every append of the
  // group it hit (and those staged after it), none acknowledged; a failed
  // write turns the log read-only, as a failed fdatasync does.
  absl::StatusOr<AppendResult> Append(absl::Span<const RecordView> records,
                                      const BatchOptions& options = {});

  // Appends ready-made batches (a producer's bytes): each is validated,
  // and the whole call is rejected, with nothing written, if any fails
  // (kDataLoss naming the batch and the fault). Offsets are assigned in
  // place by rewriting each baseOffset, which lies outside the CRC.
  absl::StatusOr<AppendResult> AppendBatches(absl::Span<char> batches);

  // Starts a new segment now (if the active one holds anything).
  absl::Status Roll();

  // Removes every record from `offset` on. `offset` must lie in
  // [start_offset(), end_offset()] and on a batch boundary (kInvalidArgument
  // naming the batch otherwise; kOutOfRange outside the log).
  absl::Status TruncateTo(int64_t offset);

  // Empties the log and makes it start at `offset` (>= 0): every segment is
  // unlinked (reads in flight keep theirs) and the next append gets
  // `offset`. A follower uses it when its leader no longer has the
  // follower's end (Kafka's truncateFullyAndStartAt). The directory is
  // fsync'd before it returns. kInvalidArgument for an offset below 0 or
  // above kLogOffsetLimit.
  absl::Status TruncateFullyAndStartAt(int64_t offset);

  // fdatasyncs everything appended so far and advances the recovery point
  // (in direct mode: waits for staged appends to be written).
  absl::Status Flush();

  // ---- Reads ----

  // A slice of whole batches from the one holding `offset`, at most
  // `max_bytes` (but at least one batch), within one segment. An empty
  // slice when offset == end_offset(). kOutOfRange below start_offset() or
  // past end_offset().
  absl::StatusOr<Slice> Read(int64_t offset, uint64_t max_bytes) const;

  // The first offset whose timestamp is >= `timestamp_ms` (Kafka's
  // ListOffsets by time), or nullopt if every record is older.
  absl::StatusOr<std::optional<int64_t>> OffsetForTime(
      int64_t timestamp_ms) const;

  int64_t start_offset() const {
    return start_offset_.load(std::memory_order_acquire);
  }
  // The stable end: the offset the next append gets, readable below it.
  int64_t end_offset() const;
  // Offsets handed out, including appends still being written.
  int64_t dirty_offset() const {
    return dirty_offset_.load(std::memory_order_acquire);
  }
  // Offsets below this are fdatasync'd: the recovery point.
  int64_t committed_offset() const {
    return recovery_point_.load(std::memory_order_acquire);
  }
  uint64_t size_bytes() const;
  // The bytes from `position` in `segment` to the log's end: how far
  // behind the tail a reader there is. A segment the log no longer holds
  // (retention deleted it) lies behind every byte the log holds.
  uint64_t BytesBehindEnd(const Segment& segment, uint64_t position) const;
  size_t segment_count() const;
  // The segments' base offsets, oldest first.
  std::vector<int64_t> segment_base_offsets() const;
  // The error that made the log read-only, if one did.
  absl::Status failure() const;

  // Runs `visit` on the log as it is now, while no append, roll,
  // truncation, retention or close can change it: a backup hard-links
  // segments that stay exactly as `visit` saw them. Writers wait for the
  // visit, so it should be quick (links, not copies), and it must not
  // write to this log. A read-only log has no writer in this process:
  // `visit` sees what the open found. Returns what `visit` returns.
  absl::Status VisitFrozen(
      absl::FunctionRef<absl::Status(const FrozenLog&)> visit);

  // ---- Background work (the store's maintenance thread) ----

  // Rolls the active segment if it holds data and has been active for
  // longer than segment.ms (an idle log still rolls, so time retention can
  // delete its data).
  absl::Status MaybeRollForAge(int64_t now_ms);
  // Flushes if unflushed data is older than flush.ms.
  absl::Status MaybeFlushForAge(int64_t now_ms);
  // Deletes whole segments from the head by retention.ms and
  // retention.bytes. Never breaks a read in flight.
  absl::StatusOr<RetentionResult> EnforceRetention(int64_t now_ms);

  // Seals the active segment and flushes everything. Later writes fail
  // with kFailedPrecondition; reads keep working.
  absl::Status Close();

 private:
  using SegmentList = std::vector<std::shared_ptr<Segment>>;

  Log(Env* env, std::string directory, std::string name,
      const LogConfig& config, bool read_only);

  absl::Status Load(const LogOpenOptions& options);
  absl::StatusOr<AppendResult> AppendValidated(absl::Span<char> bytes,
                                               std::vector<BatchInfo> batches);
  // The error every write gets once an fdatasync has failed.
  absl::Status FailedFlushError(const absl::Status& failure) const;
  absl::Status CheckWritableLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  absl::Status RollLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  absl::StatusOr<bool> ShouldRollLocked(Segment& active, uint64_t batch_bytes,
                                        int64_t last_offset,
                                        int64_t max_timestamp)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  // Turns the log read-only for good with `failure` (the first one
  // sticks): after a failed fsync nothing may be retried as if it worked.
  void Fail(const absl::Status& failure);
  void FailLocked(const absl::Status& failure)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(flush_mu_);
  absl::Status MaybeFlushForCount();

  // ---- Direct mode (log_direct.cc) ----
  // What a direct append's wait ended with.
  enum class GroupWait { kDone, kRewindFirst };
  // Waits until `completion` is done, writing groups as the elected group
  // writer whenever none is in flight. kRewindFirst: a group failed for a
  // full disk, and the staged appends must be discarded (RewindLocked)
  // before anything else is written. An error when the log failed.
  absl::StatusOr<GroupWait> WaitForGroup(const GroupCompletion& completion);
  // The group writer's turn: writes what the active segment has staged,
  // then advances the recovery point.
  absl::Status WriteGroup();
  // An appender's wait (not holding append_mu_): OK once durable.
  absl::Status AwaitDurable(const GroupCompletion& completion);
  // Makes everything staged durable, or discards it after a full disk.
  absl::Status DrainLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  // Discards the staged appends after a full disk, if a group hit one.
  void RewindLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  void AdvanceRecoveryPoint(int64_t offset);
  // Applies a new write.mode to the active segment.
  absl::Status SwitchWriteModeLocked(WriteMode mode)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);
  // fdatasyncs at least up to `target` (in fact up to the end when it
  // takes the flush lock) and advances the recovery point.
  absl::Status FlushTo(int64_t target);
  SegmentOptions segment_options() const;
  // Keep the result while using its segments: a loop over `*segments()`
  // drops it at once, and a retention pass may then free the list.
  std::shared_ptr<const SegmentList> segments() const;
  void PublishSegments(SegmentList segments);
  // Removes the given head segments from the list and unlinks them.
  absl::Status DeleteSegmentsLocked(size_t count, RetentionResult* result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(append_mu_);

  Env* const env_;
  const std::string directory_;
  const std::string name_;
  const bool read_only_;
  LogLoadReport load_report_;
  std::shared_ptr<FreeSpaceGuard> free_space_guard_;
  std::shared_ptr<SegmentCache> segment_cache_;
  // The AIO context direct mode writes through, passed from each sealed
  // segment to the next: io_destroy(2) waits a grace period (35 ms here),
  // which a roll would otherwise spend holding appends. One idle context
  // at most, destroyed with the log.
  const std::shared_ptr<AioContextPool> direct_write_contexts_;

  mutable Mutex config_mu_;
  LogConfig config_ ABSL_GUARDED_BY(config_mu_);

  // Serializes every change to the segments: appends, roll, truncation,
  // retention, close.
  Mutex append_mu_;
  bool closed_ ABSL_GUARDED_BY(append_mu_) = false;

  // Copy-on-write list, oldest first; never empty for a writable log.
  mutable SharedMutex segments_mu_;
  std::shared_ptr<const SegmentList> segments_ ABSL_GUARDED_BY(segments_mu_);

  // Guards the flush state; the first fdatasync failure sticks.
  mutable Mutex flush_mu_;
  absl::Status failure_ ABSL_GUARDED_BY(flush_mu_);
  // One flush does its fdatasyncs at a time, without holding flush_mu_;
  // flushes it covers wait on flush_cv_ for it to end.
  bool flush_in_progress_ ABSL_GUARDED_BY(flush_mu_) = false;
  CondVar flush_cv_;
  std::atomic<bool> failed_{false};

  std::atomic<int64_t> start_offset_{0};
  std::atomic<int64_t> dirty_offset_{0};
  std::atomic<int64_t> recovery_point_{0};
  std::atomic<int64_t> unflushed_records_{0};
  // When the oldest unflushed append happened (flush.ms), 0 if none.
  std::atomic<int64_t> first_unflushed_ms_{0};
  // A segment file was created or removed: the directory needs an fsync.
  std::atomic<bool> directory_dirty_{false};

  // Direct mode's group commit. Lock order: append_mu_, then commit_mu_,
  // then flush_mu_.
  Mutex commit_mu_;
  CondVar commit_cv_;
  // A group writer is at work (it holds none of the locks meanwhile).
  bool group_in_flight_ ABSL_GUARDED_BY(commit_mu_) = false;
  // A group failed for a full disk: its appends were lost, and those
  // staged after it must be discarded before the next group.
  bool rewind_pending_ ABSL_GUARDED_BY(commit_mu_) = false;
  absl::Status rewind_reason_ ABSL_GUARDED_BY(commit_mu_);
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_LOG_LOG_H_
