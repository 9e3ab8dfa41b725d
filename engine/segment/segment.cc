// Segment: creation, appends, reads and the writer's life cycle. Loading
// and recovery live in segment_loading.cc.
#include "engine/segment/segment.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/format/record_reader.h"
#include "engine/segment/batch_scanner.h"
#include "engine/segment/segment_files.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

// Header walks from an index entry cover about one index interval.
constexpr size_t kHeaderWalkBufferBytes = 4096;

}  // namespace

Segment::Segment(Env* env, const std::string& directory, int64_t base_offset,
                 const SegmentOptions& options, uint64_t size)
    : env_(env),
      directory_(directory),
      base_offset_(base_offset),
      options_(options),
      log_path_(
          JoinPath(directory, SegmentFileName(base_offset, kLogFileSuffix))),
      offset_index_path_(JoinPath(
          directory, SegmentFileName(base_offset, kOffsetIndexFileSuffix))),
      time_index_path_(JoinPath(
          directory, SegmentFileName(base_offset, kTimeIndexFileSuffix))),
      end_(size, base_offset),
      max_timestamp_(kNoTimestamp),
      direct_writes_(options.direct_writes) {
  cursor_.offset_of_max_timestamp = base_offset;
}

Segment::~Segment() {
  if (options_.cache != nullptr) options_.cache->Forget(this);
}

absl::StatusOr<std::shared_ptr<Segment>> Segment::Create(
    Env* env, const std::string& directory, int64_t base_offset,
    const SegmentOptions& options) {
  if (options.read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat(directory, ": cannot create a segment read-only"));
  }
  std::shared_ptr<Segment> segment(
      new Segment(env, directory, base_offset, options, 0));
  ASSIGN_OR_RETURN(
      std::unique_ptr<File> log,
      env->OpenFile(segment->log_path_, OpenMode::kCreateExclusive));
  absl::StatusOr<std::unique_ptr<Indexes>> indexes =
      segment->CreateEmptyIndexes();
  if (!indexes.ok()) {
    // A stray empty .log would later claim offsets the log appends
    // elsewhere. If even the removal fails, the caller must remove it.
    log.reset();
    (void)RemoveFiles(env, directory, base_offset);
    return indexes.status();
  }
  {
    MutexLock lock(&segment->load_mu_);
    segment->InstallLogFileLocked(std::move(log));
    segment->InstallIndexesLocked(*std::move(indexes));
  }
  if (options.direct_writes) {
    if (absl::Status started = segment->StartDirectWrites(); !started.ok()) {
      segment.reset();
      (void)RemoveFiles(env, directory, base_offset);
      return started;
    }
  }
  segment->max_timestamp_known_.store(true, std::memory_order_release);
  segment->active_ = true;
  segment->created_ms_ = env->NowMs();
  return segment;
}

absl::Status Segment::RemoveFiles(Env* env, const std::string& directory,
                                  int64_t base_offset) {
  absl::Status result;
  for (absl::string_view suffix :
       {kOffsetIndexFileSuffix, kTimeIndexFileSuffix, kLogFileSuffix}) {
    absl::Status removed = env->RemoveFile(
        JoinPath(directory, SegmentFileName(base_offset, suffix)));
    if (!removed.ok() && !absl::IsNotFound(removed) && result.ok()) {
      result = removed;
    }
  }
  return result;
}

void Segment::Publish(uint64_t size, int64_t next_offset) {
  end_.Store({size, next_offset});
}

absl::Status Segment::Observe(Indexes& indexes, IndexCursor& cursor,
                              const BatchHeader& batch,
                              uint64_t position) const {
  if (batch.max_timestamp > cursor.max_timestamp) {
    cursor.max_timestamp = batch.max_timestamp;
    cursor.offset_of_max_timestamp = batch.last_offset();
  }
  // As Kafka: the entry goes in once more than an interval of bytes has
  // passed since the last one, and points at the batch that crossed it.
  if (cursor.bytes_since_last_entry > options_.index_interval_bytes &&
      !indexes.offset->IsFull() && !indexes.time->IsFull() &&
      batch.last_offset() - base_offset_ <=
          std::numeric_limits<int32_t>::max()) {
    RETURN_IF_ERROR(indexes.offset->Append(batch.last_offset(),
                                           static_cast<uint32_t>(position)));
    RETURN_IF_ERROR(indexes.time->MaybeAppend(cursor.max_timestamp,
                                              cursor.offset_of_max_timestamp));
    cursor.bytes_since_last_entry = 0;
  }
  cursor.bytes_since_last_entry += batch.size_in_bytes();
  return absl::OkStatus();
}

bool Segment::IndexesFull(int64_t last_offset) const {
  const Indexes* indexes = indexes_ptr_.load(std::memory_order_acquire);
  return indexes == nullptr || indexes->offset->IsFull() ||
         indexes->time->IsFull() ||
         last_offset - base_offset_ > std::numeric_limits<int32_t>::max();
}

absl::StatusOr<std::shared_ptr<GroupCompletion>> Segment::Append(
    absl::string_view bytes, absl::Span<const BatchInfo> batches) {
  if (!active_) {
    return absl::FailedPreconditionError(
        absl::StrCat(log_path_, ": segment is closed for appends"));
  }
  const std::shared_ptr<DirectAppender> direct = appender();
  if (direct_writes_ && direct == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(log_path_, ": direct writes are not open"));
  }
  if (batches.empty()) return nullptr;
  File* log = log_file_ptr_.load(std::memory_order_acquire);
  Indexes* indexes = indexes_ptr_.load(std::memory_order_acquire);
  const uint64_t start = append_size();
  const int64_t first_offset = append_next_offset();
  if (start + bytes.size() > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat(log_path_, ": ", bytes.size(),
                     " more bytes would pass the 2 GiB segment limit"));
  }
  unflushed_.store(true, std::memory_order_release);
  if (direct == nullptr) {
    absl::Status written = log->WriteAt(start, bytes);
    if (!written.ok()) {
      // Leave no partial batch behind; if even this fails, recovery will.
      (void)log->Truncate(start);
      return written;
    }
  }
  IndexCursor cursor = cursor_;
  uint64_t position = start;
  for (const BatchInfo& batch : batches) {
    if (absl::Status indexed =
            Observe(*indexes, cursor, batch.header, position);
        !indexed.ok()) {
      indexes->offset->TruncateTo(first_offset);
      indexes->time->TruncateTo(first_offset);
      if (direct == nullptr) (void)log->Truncate(start);
      return indexed;
    }
    last_batch_position_ = position;
    position += batch.size_in_bytes;
  }
  if (start == 0)
    rolling_base_timestamp_ = batches.front().header.max_timestamp;
  cursor_ = cursor;
  max_timestamp_.store(cursor_.max_timestamp, std::memory_order_release);
  const int64_t next = batches.back().header.last_offset() + 1;
  if (direct != nullptr) return direct->Stage(bytes, next);
  Publish(position, next);
  return nullptr;
}

absl::StatusOr<Slice> Segment::Read(int64_t offset, uint64_t max_bytes) const {
  if (offset < base_offset_) {
    return absl::OutOfRangeError(absl::StrCat(
        "offset ", offset, " is below segment base offset ", base_offset_));
  }
  // Size and next offset as one pair: a size published after the next
  // offset would hand out batches past it with a next offset before them,
  // and the consumer would read them twice.
  const auto at_end = [this](PublishedEnd::Pair at) {
    return Slice{shared_from_this(), static_cast<uint32_t>(at.size), 0,
                 at.next_offset, at.next_offset};
  };
  if (const PublishedEnd::Pair at = end_.Load(); offset >= at.next_offset) {
    return at_end(at);
  }
  ASSIGN_OR_RETURN(const Loaded loaded, Load());
  // Again after the load, which may cut padding off a closed segment's end
  // (and a truncation may have run meanwhile).
  const PublishedEnd::Pair published = end_.Load();
  if (offset >= published.next_offset) return at_end(published);
  const uint64_t end = published.size;
  const int64_t next = published.next_offset;
  const OffsetIndex& index = *loaded.indexes->offset;

  // Step from the index entry at or below `offset` to the batch holding it.
  const OffsetPosition entry = index.Lookup(offset);
  BatchScanner scanner(*loaded.log, entry.position, end,
                       {.buffer_bytes = kHeaderWalkBufferBytes});
  bool found = false;
  while (scanner.Next()) {
    if (scanner.header().last_offset() >= offset) {
      found = true;
      break;
    }
  }
  RETURN_IF_ERROR(scanner.status());
  if (!found) {
    return absl::DataLossError(absl::StrCat(
        log_path_, ": offset ", offset, " is below the segment's next offset ",
        next, " but no batch holds it"));
  }
  const BatchHeader first = scanner.header();
  const uint64_t start = scanner.position();
  // At least the first batch, at most the end. Compared as lengths:
  // start + max_bytes would wrap for an unbounded budget (UINT64_MAX).
  const uint64_t budget = std::max<uint64_t>(max_bytes, first.size_in_bytes());
  const uint64_t limit = budget >= end - start ? end : start + budget;
  Slice slice{shared_from_this(), static_cast<uint32_t>(start), 0,
              first.base_offset, next};
  if (limit == end) {
    slice.size = static_cast<uint32_t>(end - start);
    return slice;
  }
  // End on the last batch boundary at or below `limit`: from the index
  // entry below it (a batch start), walk the few headers up to the limit.
  const OffsetPosition below = index.LookupByPosition(limit - 1);
  uint64_t walk_from = start;
  if (below.position > start) walk_from = below.position;
  BatchScanner tail(*loaded.log, walk_from, end,
                    {.buffer_bytes = kHeaderWalkBufferBytes});
  uint64_t slice_end = walk_from;
  int64_t slice_next = first.base_offset;
  bool first_step = true;
  while (tail.Next()) {
    if (first_step) slice_next = tail.header().base_offset;
    first_step = false;
    if (tail.next_position() > limit) break;
    slice_end = tail.next_position();
    slice_next = tail.header().last_offset() + 1;
  }
  RETURN_IF_ERROR(tail.status());
  slice.size = static_cast<uint32_t>(slice_end - start);
  slice.next_offset = slice_next;
  return slice;
}

absl::Status Segment::ReadBytes(uint64_t position, absl::Span<char> dst) const {
  ASSIGN_OR_RETURN(const Loaded loaded, Load());
  return ReadFully(*loaded.log, position, dst);
}

absl::StatusOr<std::optional<int64_t>> Segment::FindOffsetForTime(
    int64_t timestamp) const {
  ASSIGN_OR_RETURN(const int64_t max_timestamp, MaxTimestamp());
  if (max_timestamp < timestamp) return std::nullopt;
  ASSIGN_OR_RETURN(const Loaded loaded, Load());
  // Every record before the time index entry at or below `timestamp` is
  // older than that entry's timestamp, so the scan starts at its batch.
  const TimestampOffset entry = loaded.indexes->time->Lookup(timestamp);
  const OffsetPosition start = loaded.indexes->offset->Lookup(entry.offset);
  BatchScanner scanner(*loaded.log, start.position, size(),
                       {.buffer_bytes = kHeaderWalkBufferBytes});
  std::string batch;
  while (scanner.Next()) {
    const BatchHeader& header = scanner.header();
    if (header.max_timestamp < timestamp) continue;
    batch.resize(header.size_in_bytes());
    RETURN_IF_ERROR(
        ReadFully(*loaded.log, scanner.position(), absl::MakeSpan(batch)));
    RecordReader reader(batch);
    while (reader.Next()) {
      if (reader.record().timestamp_ms >= timestamp) {
        return reader.record().offset;
      }
    }
    if (reader.status().code() == absl::StatusCode::kUnimplemented) {
      // A codec shiplog cannot decode: the batch is the finest answer.
      return header.base_offset;
    }
    RETURN_IF_ERROR(reader.status());
  }
  RETURN_IF_ERROR(scanner.status());
  return std::nullopt;
}

absl::StatusOr<int64_t> Segment::MaxTimestamp() const {
  if (max_timestamp_known_.load(std::memory_order_acquire)) {
    return max_timestamp_.load(std::memory_order_acquire);
  }
  ASSIGN_OR_RETURN(const Loaded loaded, Load());
  const std::optional<TimestampOffset> last = loaded.indexes->time->LastEntry();
  max_timestamp_.store(last ? last->timestamp : kNoTimestamp,
                       std::memory_order_release);
  max_timestamp_known_.store(true, std::memory_order_release);
  return max_timestamp_.load(std::memory_order_acquire);
}

absl::StatusOr<int64_t> Segment::LastModifiedMs() const {
  ASSIGN_OR_RETURN(const FileInfo info, env_->Stat(log_path_));
  return info.modified_ms;
}

absl::StatusOr<std::optional<int64_t>> Segment::RollingBaseTimestamp() {
  if (rolling_base_timestamp_.has_value() || empty()) {
    return rolling_base_timestamp_;
  }
  char header[kBatchHeaderSize];
  RETURN_IF_ERROR(ReadBytes(0, absl::MakeSpan(header)));
  rolling_base_timestamp_ = DecodeBatchHeader(header).max_timestamp;
  return rolling_base_timestamp_;
}

absl::Status Segment::Seal() {
  // First, so that a failure leaves the segment active and appendable.
  RETURN_IF_ERROR(StopDirectWrites());
  Indexes* indexes = indexes_ptr_.load(std::memory_order_acquire);
  // Appendable indexes belong to the active segment, or to a closed one
  // that recovery rebuilt; either way they are finished here.
  if (indexes == nullptr || !indexes->appendable) {
    MutexLock lock(&load_mu_);
    active_ = false;
    return absl::OkStatus();
  }
  // The entries and trims below are writes: the segment stays pinned until
  // a Flush makes them durable.
  if (!options_.read_only) unflushed_.store(true, std::memory_order_release);
  if (!empty()) {
    RETURN_IF_ERROR(indexes->time->MaybeAppend(cursor_.max_timestamp,
                                               cursor_.offset_of_max_timestamp,
                                               /*for_roll=*/true));
    const int64_t last_offset = next_offset() - 1;
    const std::optional<OffsetPosition> last = indexes->offset->LastEntry();
    if (!last || last->offset != last_offset) {
      RETURN_IF_ERROR(indexes->offset->Append(
          last_offset, static_cast<uint32_t>(last_batch_position_)));
    }
  }
  RETURN_IF_ERROR(indexes->offset->Trim());
  RETURN_IF_ERROR(indexes->time->Trim());
  MutexLock lock(&load_mu_);
  indexes->appendable = false;
  active_ = false;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Segment::BatchStartPosition(int64_t offset) const {
  ASSIGN_OR_RETURN(const Slice at, Read(offset, 0));
  if (at.first_offset != offset) {
    return absl::InvalidArgumentError(
        absl::StrCat("offset ", offset, " is inside the batch holding offsets ",
                     at.first_offset, "..", at.next_offset - 1,
                     "; truncate to a batch boundary (", at.first_offset,
                     " or ", at.next_offset, ")"));
  }
  return at.position;
}

absl::Status Segment::TruncateTo(int64_t offset) {
  const int64_t next = next_offset();
  if (offset == next) return absl::OkStatus();
  if (offset < base_offset_ || offset > next) {
    return absl::InvalidArgumentError(
        absl::StrCat(log_path_, ": cannot truncate to offset ", offset,
                     " outside [", base_offset_, ", ", next, "]"));
  }
  // A cut is a write: the segment cache must not release the files now.
  unflushed_.store(true, std::memory_order_release);
  ReportToCache(/*idle=*/false, {});
  ASSIGN_OR_RETURN(const Loaded loaded, Load());
  ASSIGN_OR_RETURN(const uint64_t position, BatchStartPosition(offset));
  // The cut may replace the file: direct writes reopen it afterwards.
  const bool restart_direct_writes = direct_writes_ && active_;
  {
    MutexLock lock(&appender_mu_);
    appender_.reset();
  }
  end_.Store({position, offset});
  loaded.indexes->offset->TruncateTo(offset);
  loaded.indexes->time->TruncateTo(offset);
  {
    MutexLock lock(&load_mu_);
    RETURN_IF_ERROR(CutLogFileLocked(position));
  }
  // The cut may have replaced the file.
  File* log = log_file_ptr_.load(std::memory_order_acquire);

  RETURN_IF_ERROR(RebuildWriterState(*log, *loaded.indexes));
  Publish(position, offset);
  if (restart_direct_writes) RETURN_IF_ERROR(StartDirectWrites());
  return absl::OkStatus();
}

absl::Status Segment::RebuildWriterState(const File& log,
                                         const Indexes& indexes) {
  // The time index's last entry holds the largest timestamp up to its
  // offset; every batch from the one holding that offset on is walked.
  const std::optional<TimestampOffset> time_entry = indexes.time->LastEntry();
  cursor_ = IndexCursor{};
  cursor_.max_timestamp = time_entry ? time_entry->timestamp : kNoTimestamp;
  cursor_.offset_of_max_timestamp =
      time_entry ? time_entry->offset : base_offset_;
  last_batch_position_ = 0;
  rolling_base_timestamp_.reset();
  if (!empty()) {
    const OffsetPosition start = time_entry
                                     ? indexes.offset->Lookup(time_entry->offset)
                                     : OffsetPosition{base_offset_, 0};
    RETURN_IF_ERROR(WalkTail(log, start));
  }
  max_timestamp_.store(cursor_.max_timestamp, std::memory_order_release);
  max_timestamp_known_.store(true, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Segment::Flush() {
  std::shared_ptr<File> log;
  std::shared_ptr<Indexes> indexes;
  {
    MutexLock lock(&load_mu_);
    log = log_file_;
    indexes = indexes_;
  }
  // A segment never loaded in this process, or one the cache released
  // (only idle ones are: flushed), has nothing unwritten.
  if (log == nullptr) return absl::OkStatus();
  // Cleared before the syncs: a write that lands meanwhile sets it again.
  const bool was_unflushed = unflushed_.exchange(false);
  absl::Status synced = log->Sync();
  if (synced.ok() && indexes != nullptr) synced = indexes->offset->Flush();
  if (synced.ok() && indexes != nullptr) synced = indexes->time->Flush();
  if (!synced.ok()) {
    if (was_unflushed) unflushed_.store(true, std::memory_order_release);
    return synced;
  }
  if (!was_unflushed) return absl::OkStatus();
  // A closed segment is idle from here on: its files count against the
  // cache's limits now, not only once a reader touches them. (Only then:
  // a flush is no use, and must not make the segment look recently used.)
  bool idle = false;
  SegmentUsage usage;
  {
    MutexLock lock(&load_mu_);
    idle = IdleLocked();
    if (idle) usage = UsageLocked();
  }
  if (idle) ReportToCache(idle, usage);
  return absl::OkStatus();
}

absl::Status Segment::Delete() {
  // Open everything first so that slices in flight can still read after the
  // names are gone (a failure here only means there was nothing to keep),
  // and keep it open: nothing could be reopened once the names are gone.
  {
    MutexLock lock(&load_mu_);
    (void)LoadLocked();
    deleted_ = true;
  }
  ReportToCache(/*idle=*/false, {});
  // The .log goes first: while it stays, the segment stays whole. Once it
  // is gone the segment is; an index that fails to go with it is an
  // orphan the next open removes (and Create overwrites).
  RETURN_IF_ERROR(env_->RemoveFile(log_path_));
  {
    MutexLock lock(&load_mu_);
    active_ = false;
  }
  {
    MutexLock lock(&appender_mu_);
    appender_.reset();
  }
  for (const std::string* path : {&offset_index_path_, &time_index_path_}) {
    (void)env_->RemoveFile(*path);
  }
  return absl::OkStatus();
}

absl::Status ReadSliceBytes(const Slice& slice, std::string* out) {
  out->resize(slice.size);
  if (slice.size == 0) return absl::OkStatus();
  return slice.segment->ReadBytes(slice.position, absl::MakeSpan(*out));
}

}  // namespace shiplog
