// Segment: one `.log` file of RecordBatch v2 batches with its `.index` and
// `.timeindex`, covering offsets [base_offset, next_offset).
//
// A segment is either active (the newest of its log: appends land here, its
// indexes are preallocated and mapped read-write) or closed (immutable; its
// file and indexes are opened lazily on first use, so opening a log with
// many segments reads no segment data). A closed segment whose data is
// flushed registers what it holds open with the store's SegmentCache, which
// may tell it to let go (ReleaseFiles) when too many are open; its next use
// reopens them.
//
// In direct mode (write.mode=direct, engine/log/DIRECT_IO.md) appends are
// staged in a DirectAppender and published only when CommitStaged has
// written them durably: readers never see a byte that is not durable, nor
// the padding past the logical end that direct writes leave in the file.
//
// Thread-safety: reads (Read, FindOffsetForTime, MaxTimestamp, ReadBytes,
// accessors) are thread-safe and see bytes up to the published end. Every
// other method mutates and must be serialized by the owning Log, which calls
// them only under its append lock (or before the log is shared), except
// CommitStaged, which the log's one group writer runs beside appends. The
// writer publishes size before next offset (release); readers load next
// offset before size (acquire), so every offset below a reader's next
// offset lies within the size it sees.
#ifndef SHIPLOG_ENGINE_SEGMENT_SEGMENT_H_
#define SHIPLOG_ENGINE_SEGMENT_SEGMENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "engine/format/batch_validator.h"
#include "engine/index/offset_index.h"
#include "engine/index/time_index.h"
#include "engine/io/env.h"
#include "engine/segment/segment_cache.h"
#include "engine/segment/direct_appender.h"
#include "engine/segment/published_end.h"
#include "engine/segment/slice.h"
#include "engine/sync/mutex.h"

namespace shiplog {

struct SegmentOptions {
  uint32_t index_interval_bytes = 4096;
  uint64_t max_index_bytes = uint64_t{10} << 20;
  // Never write: indexes that cannot be trusted are rebuilt in memory and
  // invalid tails are ignored instead of truncated.
  bool read_only = false;
  // Bounds what idle closed segments hold open (shared by a store's logs);
  // none: closed segments keep their files until they are destroyed.
  std::shared_ptr<SegmentCache> cache;
  // Appends go through a DirectAppender while the segment is active.
  bool direct_writes = false;
  // Where the DirectAppender's file takes its AIO context from and gives it
  // back to (the log's, so a roll reuses the sealed segment's); null: a
  // context of its own.
  std::shared_ptr<AioContextPool> direct_write_contexts;
};

// What recovery found in a segment.
struct SegmentRecovery {
  uint64_t valid_bytes = 0;
  uint64_t invalid_bytes = 0;  // truncated (or ignored when read-only)
  std::string reason;          // why the scan stopped early, if it did
};

class Segment : public std::enable_shared_from_this<Segment> {
 public:
  // Creates an empty active segment. kAlreadyExists if its .log exists.
  // On failure it removes whatever files it created (RemoveFiles).
  static absl::StatusOr<std::shared_ptr<Segment>> Create(
      Env* env, const std::string& directory, int64_t base_offset,
      const SegmentOptions& options);

  // Opens an existing segment without reading it: only its .log size is
  // taken. Before use the log completes it with exactly one of
  // SetNextOffset (a trusted closed segment), LoadTail (the trusted last
  // segment) or Recover (a segment that must be scanned).
  static absl::StatusOr<std::shared_ptr<Segment>> Open(
      Env* env, const std::string& directory, int64_t base_offset,
      const SegmentOptions& options);

  // Unlinks the three files of the segment at `base_offset`, those that
  // exist: what a Create that failed part way left behind.
  static absl::Status RemoveFiles(Env* env, const std::string& directory,
                                  int64_t base_offset);

  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  int64_t base_offset() const { return base_offset_; }
  // The offset after the last published batch (== base_offset if empty).
  int64_t next_offset() const { return end_.next_offset(); }
  // Published bytes: complete batches only.
  uint64_t size() const { return end_.size(); }
  bool empty() const { return size() == 0; }
  const std::string& log_path() const { return log_path_; }

  // ---- Reads (thread-safe) ----

  // The batches from the one holding `offset`, whole batches only, at most
  // `max_bytes` unless the first batch alone is larger (a reader always
  // makes progress), never past the published end. An empty slice at
  // next_offset() when offset >= next_offset(). kOutOfRange if offset is
  // below base_offset(); kDataLoss if the bytes do not parse.
  absl::StatusOr<Slice> Read(int64_t offset, uint64_t max_bytes) const;

  // Copies [position, position + dst.size()) of the .log into `dst`.
  absl::Status ReadBytes(uint64_t position, absl::Span<char> dst) const;

  // The first offset whose record timestamp is >= `timestamp`, or nullopt
  // if every record in the segment is older.
  absl::StatusOr<std::optional<int64_t>> FindOffsetForTime(
      int64_t timestamp) const;

  // The largest record timestamp in the segment; kNoTimestamp if it has no
  // timestamps (or no batches).
  absl::StatusOr<int64_t> MaxTimestamp() const;

  // The .log file's last-modified time, for retention of segments without
  // timestamps.
  absl::StatusOr<int64_t> LastModifiedMs() const;

  // ---- Zero-copy access (thread-safe) ----

  // The open .log file, for sendfile(2) and splice(2). It stays open while
  // the caller holds it: after Delete, after a truncation that replaced the
  // file, and after the segment cache closed the segment's own reference,
  // holders keep reading the bytes they were given.
  absl::StatusOr<std::shared_ptr<const File>> LogFile() const;

  // A new read-only O_DIRECT descriptor of the file LogFile() returns
  // (Env::OpenForDirectRead), owned by the caller: cold reads that bypass
  // the page cache. It reopens the open file, not the path, so it works
  // after Delete too.
  absl::StatusOr<std::unique_ptr<File>> OpenLogFileForDirectRead() const;

  // A read-only shared mapping of the .log covering at least [0, end),
  // where `end` <= size() (kOutOfRange otherwise: the bytes are not, or no
  // longer, published). Holders may read [0, end) through it for as long
  // as they hold it, even after retention deletes the segment or
  // truncation cuts it: a truncation that would cut bytes still mapped by
  // a holder writes the kept prefix to a new file instead of shrinking the
  // mapped one, so no holder ever touches a page past the end of its file.
  absl::StatusOr<std::shared_ptr<const Mapping>> MapForReading(
      uint64_t end) const;

  // Drops the segment's references to its open .log, index mappings and
  // view mapping, if it is idle: closed, flushed and not deleted (the
  // SegmentCache calls it; otherwise it does nothing). Reads in flight
  // keep what they hold; the next use reopens the files.
  void ReleaseFiles() const;
  // What the segment holds open now.
  SegmentUsage usage() const;

  // ---- Loading (before the log is shared) ----

  void SetNextOffset(int64_t next_offset);
  // Finds the end of a trusted last segment from its last index entries and
  // the batch headers after them; if the tail does not parse, recovers the
  // segment instead and returns what recovery found.
  absl::StatusOr<std::optional<SegmentRecovery>> LoadTail();
  // Scans every batch from the start, verifying headers, CRCs and offset
  // continuity; rebuilds both indexes; truncates the .log at the first
  // invalid byte (read-only: ignores the rest).
  absl::StatusOr<SegmentRecovery> Recover();

  // ---- Writer (serialized by the owning Log) ----

  // Makes this the active segment: its indexes are opened for appending.
  absl::Status Activate();
  // Closes the active segment for appends: records its largest timestamp
  // and last batch in the indexes (so the next open finds both without
  // reading data) and trims the index files to their entries. In direct
  // mode it first trims the .log's padding (nothing may be staged; the
  // caller's Flush makes the cut durable). A closed
  // segment that Recover rebuilt (its indexes preallocated for appends) is
  // finished the same way; any other closed segment is left as it is.
  absl::Status Seal();
  bool active() const { return active_; }

  // True when an index has no room for another entry, or the relative
  // offset of `last_offset` would not fit in an index entry: time to roll.
  bool IndexesFull(int64_t last_offset) const;

  // Appends `bytes`, the back-to-back batches described by `batches`,
  // whose offsets continue from append_next_offset(). Buffered: written
  // and published; on error nothing is published and the file is cut back
  // to its previous size. Direct: staged, and the returned completion says
  // when CommitStaged made them durable and published them (or what lost
  // them); on error nothing is staged.
  absl::StatusOr<std::shared_ptr<GroupCompletion>> Append(
      absl::string_view bytes, absl::Span<const BatchInfo> batches);

  // ---- Direct writes (writer, except CommitStaged) ----

  bool direct_writes() const { return direct_writes_; }
  // Switches between buffered and direct appends. Turning direct writes
  // off needs nothing staged (the log drains first); it trims the padding
  // off the file (durable with the next fdatasync).
  absl::Status SetDirectWrites(bool direct);
  // Where the next append goes: the staged end in direct mode, the
  // published end otherwise.
  uint64_t append_size() const;
  int64_t append_next_offset() const;
  // The completion the last staged append waits on, while pending; null
  // when nothing staged is waiting (or in buffered mode).
  std::shared_ptr<GroupCompletion> PendingCompletion() const;
  // Writes everything staged since the last group as one durable device
  // write, then publishes it and completes its completion. Returns the
  // completion (null when nothing was staged). On error nothing is
  // published and the group's completion carries the error. Runs beside
  // appends; one call at a time (the log elects the group writer).
  absl::StatusOr<std::shared_ptr<GroupCompletion>> CommitStaged();
  // After a group failed without losing anything durable (a full disk):
  // forgets the appends staged and not written (their completion gets
  // `reason`), so appends continue at the published end. No group may be
  // in flight.
  absl::Status DiscardStaged(const absl::Status& reason);

  // The first batch's max timestamp (Kafka's base for segment_ms), or
  // nullopt for an empty segment.
  absl::StatusOr<std::optional<int64_t>> RollingBaseTimestamp();
  // When this process created the segment or made it active (Env clock):
  // segment age for data without timestamps and for idle rolls.
  int64_t created_ms() const { return created_ms_; }

  // Where the batch starting at `offset` begins (size() for
  // next_offset()). kInvalidArgument, naming the batch and the boundaries
  // around it, if `offset` falls inside a batch.
  absl::StatusOr<uint64_t> BatchStartPosition(int64_t offset) const;

  // Removes every batch from `offset` on; `offset` must be a batch
  // boundary within [base_offset, next_offset] (kInvalidArgument naming the
  // batch otherwise). Durable when it returns: the cut is fdatasync'd, so
  // removed batches cannot come back after a crash.
  absl::Status TruncateTo(int64_t offset);

  // fdatasync of the .log, then msync + fdatasync of the indexes.
  absl::Status Flush();

  // Unlinks the three files, the .log first: an error means the .log (and
  // so the segment) is still there; indexes that fail to go are orphans
  // the next open removes. Holders of the segment (slices in flight) keep
  // reading: the files are opened first if they were not.
  absl::Status Delete();

 private:
  struct Indexes {
    std::unique_ptr<OffsetIndex> offset;
    std::unique_ptr<TimeIndex> time;
    bool appendable = false;
  };
  // What a read holds while it runs: the segment may release its own
  // references meanwhile (ReleaseFiles).
  struct Loaded {
    std::shared_ptr<File> log;
    std::shared_ptr<Indexes> indexes;
  };
  // What appends (and scans that redo them) track to place index entries:
  // an entry every index_interval_bytes, and the largest timestamp so far
  // with the offset where it was first reached.
  struct IndexCursor {
    uint64_t bytes_since_last_entry = 0;
    int64_t max_timestamp = -1;
    int64_t offset_of_max_timestamp = 0;
  };
  // State a scan of the batches rebuilds (recovery, index rebuild).
  struct ScanResult {
    uint64_t valid_bytes = 0;
    int64_t next_offset = 0;
    uint64_t last_batch_position = 0;
    IndexCursor cursor;
    absl::Status stop_reason;  // kDataLoss where the scan stopped early
  };

  Segment(Env* env, const std::string& directory, int64_t base_offset,
          const SegmentOptions& options, uint64_t size);

  // Opens the .log and the indexes on first use (closed segments, and
  // those the cache released), and tells the cache they were used.
  absl::StatusOr<Loaded> Load() const;
  absl::Status LoadLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  absl::Status OpenLogFileLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  File* CurrentLogFileLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_) {
    return log_file_.get();
  }
  void InstallLogFileLocked(std::unique_ptr<File> file) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  // Closed, flushed and not deleted: the cache may release its files.
  bool IdleLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  SegmentUsage UsageLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  // Registers an idle segment's files with the cache, or takes a pinned
  // one out of it. Call without load_mu_ held.
  void ReportToCache(bool idle, SegmentUsage usage) const;
  // Cuts the .log to `position` bytes, durably, without shrinking a file
  // that MapForReading holders still map.
  absl::Status CutLogFileLocked(uint64_t position) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  bool MappedByHoldersLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  absl::StatusOr<std::shared_ptr<const Mapping>> MapForReadingLocked(
      uint64_t end) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  absl::Status ActivateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  // The segment's index files as they are, for reading: mapped, or copied
  // when the segment is read-only.
  absl::StatusOr<std::unique_ptr<Indexes>> OpenIndexesForReading() const;
  // Opens the trusted index files of a closed segment, rebuilding them
  // from the .log when missing or implausible.
  absl::StatusOr<std::unique_ptr<Indexes>> OpenClosedIndexes(
      const File& log) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  // Whether [from, to) of `log` is one block or less of zero bytes: the
  // padding a direct-mode segment carries until its seal's trim is durable.
  absl::StatusOr<bool> IsDirectPadding(const File& log, uint64_t from,
                                       uint64_t to) const;
  // Fresh, empty indexes: appendable files, or memory when read-only.
  absl::StatusOr<std::unique_ptr<Indexes>> CreateEmptyIndexes() const;
  // Verifies the batches of `log` in [0, end), adding index entries to
  // `indexes` as appends would have.
  absl::StatusOr<ScanResult> ScanAndIndex(const File& log, uint64_t end,
                                          Indexes& indexes) const;
  void InstallIndexesLocked(std::unique_ptr<Indexes> indexes) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(load_mu_);
  // Adds index entries for a batch at `position` if one is due.
  absl::Status Observe(Indexes& indexes, IndexCursor& cursor,
                       const BatchHeader& batch, uint64_t position) const;
  // Walks the headers from `start` (an index entry or the segment start)
  // to the end of the file, folding them into the writer's tail state.
  // kDataLoss if they do not parse or do not continue each other.
  absl::Status WalkTail(const File& log, OffsetPosition start);
  // Resets what appends track (index cursor, last batch, rolling base)
  // from the indexes and the batches after their last entries: for a
  // segment that becomes the writer's again (truncation, a failed roll).
  absl::Status RebuildWriterState(const File& log, const Indexes& indexes);
  void Publish(uint64_t size, int64_t next_offset);
  std::shared_ptr<DirectAppender> appender() const;
  // Opens the DirectAppender at the published end.
  absl::Status StartDirectWrites();
  // Trims the padding off the .log and drops the appender.
  absl::Status StopDirectWrites();

  Env* const env_;
  const std::string directory_;
  const int64_t base_offset_;
  const SegmentOptions options_;
  const std::string log_path_;
  const std::string offset_index_path_;
  const std::string time_index_path_;

  // Mutable: loading a closed segment may cut padding off its end.
  mutable PublishedEnd end_;
  // Largest timestamp, once known (always for the active segment).
  mutable std::atomic<int64_t> max_timestamp_;
  mutable std::atomic<bool> max_timestamp_known_{false};

  // Lazily opened resources, reference-counted: a reader copies the
  // references under load_mu_ and uses them unlocked, so a file replaced by
  // truncation, an index set replaced by Activate, or files the cache
  // released stay open until the last reader lets go.
  mutable Mutex load_mu_;
  mutable std::shared_ptr<File> log_file_ ABSL_GUARDED_BY(load_mu_);
  mutable std::shared_ptr<Indexes> indexes_ ABSL_GUARDED_BY(load_mu_);
  // The mapping MapForReading hands out, while it covers enough, and the
  // ones it handed out before (a cut must not shrink a file they map).
  mutable std::shared_ptr<const Mapping> log_mapping_ ABSL_GUARDED_BY(load_mu_);
  mutable std::vector<std::weak_ptr<const Mapping>> older_mappings_
      ABSL_GUARDED_BY(load_mu_);
  // The writer's copies of log_file_.get() and indexes_.get(), read without
  // the lock by the Log's serialized writer (Append, IndexesFull, Seal). A
  // segment the writer uses is active or unflushed, so never idle: these
  // stay valid while it does.
  mutable std::atomic<File*> log_file_ptr_{nullptr};
  mutable std::atomic<Indexes*> indexes_ptr_{nullptr};
  // Set by every write to the files (appends, seal, recovery's cuts),
  // cleared by a Flush that made them durable: an idle segment must have
  // nothing unwritten, since a later Flush skips segments without files.
  std::atomic<bool> unflushed_{false};
  // Delete ran: the names are gone and the files can never be reopened.
  bool deleted_ ABSL_GUARDED_BY(load_mu_) = false;

  // Direct mode: the active segment's appender. Replaced only by the
  // writer, while no group is in flight; read by the group writer too.
  mutable Mutex appender_mu_;
  std::shared_ptr<DirectAppender> appender_ ABSL_GUARDED_BY(appender_mu_);

  // Writer state: changed only by the Log's serialized writer (active_
  // also under load_mu_, which IdleLocked reads it under).
  bool active_ = false;
  bool direct_writes_ = false;
  IndexCursor cursor_;
  uint64_t last_batch_position_ = 0;
  std::optional<int64_t> rolling_base_timestamp_;
  int64_t created_ms_ = 0;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_SEGMENT_SEGMENT_H_
