// Log: appends, reads, rolls and truncation. Opening and recovery live in
// log_loading.cc, flushes in log_flush.cc, direct mode's group commit in
// log_direct.cc, retention in log_retention.cc.
#include "engine/log/log.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/format/byte_buffer.h"
#include "engine/format/record_batch.h"
#include "engine/io/aio_context_pool.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/status/error_kind.h"
#include "engine/status/status_macros.h"

namespace shiplog {

Log::Log(Env* env, std::string directory, std::string name,
         const LogConfig& config, bool read_only)
    : env_(env),
      directory_(std::move(directory)),
      name_(std::move(name)),
      read_only_(read_only),
      direct_write_contexts_(std::make_shared<AioContextPool>(1)),
      config_(config),
      segments_(std::make_shared<const SegmentList>()) {}

Log::~Log() = default;

LogConfig Log::config() const {
  MutexLock lock(&config_mu_);
  return config_;
}

absl::Status Log::SetConfig(const LogConfig& config) {
  RETURN_IF_ERROR(config.Validate());
  MutexLock append_lock(&append_mu_);
  if (!read_only_ && !closed_ && config.write_mode != this->config().write_mode) {
    RETURN_IF_ERROR(CheckWritableLocked());
    RETURN_IF_ERROR(SwitchWriteModeLocked(config.write_mode));
  }
  MutexLock lock(&config_mu_);
  config_ = config;
  return absl::OkStatus();
}

SegmentOptions Log::segment_options() const {
  const LogConfig current = config();
  return SegmentOptions{
      .index_interval_bytes =
          static_cast<uint32_t>(current.index_interval_bytes),
      .max_index_bytes = static_cast<uint64_t>(current.max_index_bytes),
      .read_only = read_only_,
      .cache = segment_cache_,
      .direct_writes = current.write_mode == WriteMode::kDirect,
      .direct_write_contexts = direct_write_contexts_};
}

std::shared_ptr<const Log::SegmentList> Log::segments() const {
  ReaderMutexLock lock(&segments_mu_);
  return segments_;
}

void Log::PublishSegments(SegmentList segments) {
  auto published = std::make_shared<const SegmentList>(std::move(segments));
  WriterMutexLock lock(&segments_mu_);
  segments_ = std::move(published);
}

int64_t Log::end_offset() const {
  const std::shared_ptr<const SegmentList> list = segments();
  return list->empty() ? start_offset() : list->back()->next_offset();
}

uint64_t Log::size_bytes() const {
  uint64_t total = 0;
  const std::shared_ptr<const SegmentList> list = segments();
  for (const auto& segment : *list) total += segment->size();
  return total;
}

uint64_t Log::BytesBehindEnd(const Segment& segment,
                             uint64_t position) const {
  // From the end back to `segment`: a caught-up reader, the common case on
  // every send, costs one segment, not the whole list.
  uint64_t behind = 0;
  const std::shared_ptr<const SegmentList> list = segments();
  for (auto held = list->rbegin(); held != list->rend(); ++held) {
    if ((*held)->base_offset() < segment.base_offset()) break;
    const uint64_t size = (*held)->size();
    if (held->get() != &segment) {
      behind += size;
      continue;
    }
    behind += size - std::min(position, size);
    break;
  }
  return behind;
}

size_t Log::segment_count() const { return segments()->size(); }

std::vector<int64_t> Log::segment_base_offsets() const {
  std::vector<int64_t> bases;
  const std::shared_ptr<const SegmentList> list = segments();
  for (const auto& segment : *list) {
    bases.push_back(segment->base_offset());
  }
  return bases;
}

absl::Status Log::failure() const {
  MutexLock lock(&flush_mu_);
  return failure_;
}

absl::Status Log::FailedFlushError(const absl::Status& failure) const {
  return WithErrorKind(
      absl::FailedPreconditionError(absl::StrCat(
          "log ", name_,
          " is read-only after a failed flush: ", failure.message())),
      ErrorKind::kReadOnly);
}

absl::Status Log::CheckWritableLocked() const {
  if (read_only_) {
    return WithErrorKind(absl::FailedPreconditionError(
                             absl::StrCat("log ", name_, " is open read-only")),
                         ErrorKind::kReadOnly);
  }
  if (closed_) {
    return WithErrorKind(absl::FailedPreconditionError(
                             absl::StrCat("log ", name_, " is closed")),
                         ErrorKind::kClosed);
  }
  if (failed_.load(std::memory_order_acquire)) {
    return FailedFlushError(failure());
  }
  return absl::OkStatus();
}

absl::StatusOr<AppendResult> Log::Append(absl::Span<const RecordView> records,
                                         const BatchOptions& options) {
  // Encoded without zero-filling the buffer first.
  ByteBuffer batch;
  RETURN_IF_ERROR(AppendBatch(records, options, env_->NowMs(), &batch));
  std::vector<BatchInfo> info(1);
  info[0].header = DecodeBatchHeader(batch.data());
  info[0].size_in_bytes = batch.size();
  return AppendValidated(batch.span(), std::move(info));
}

absl::StatusOr<AppendResult> Log::AppendBatches(absl::Span<char> batches) {
  ASSIGN_OR_RETURN(
      std::vector<BatchInfo> info,
      ValidateBatches(absl::string_view(batches.data(), batches.size()),
                      ValidateOptions{}));
  return AppendValidated(batches, std::move(info));
}

absl::StatusOr<bool> Log::ShouldRollLocked(Segment& active,
                                           uint64_t batch_bytes,
                                           int64_t last_offset,
                                           int64_t max_timestamp) {
  if (active.append_size() == 0) return false;
  const LogConfig current = config();
  if (active.append_size() + batch_bytes >
      static_cast<uint64_t>(current.segment_bytes)) {
    return true;
  }
  if (active.IndexesFull(last_offset)) return true;
  // Kafka's segment.ms: the time the segment's data spans, measured in
  // record timestamps (so replayed or mirrored data with old timestamps
  // does not roll on every batch); the segment's wall-clock age only when
  // the data has no timestamps.
  ASSIGN_OR_RETURN(const std::optional<int64_t> rolling_base,
                   active.RollingBaseTimestamp());
  const int64_t waited = rolling_base.has_value() && *rolling_base >= 0
                             ? max_timestamp - *rolling_base
                             : env_->NowMs() - active.created_ms();
  return waited > current.segment_ms;
}

absl::StatusOr<AppendResult> Log::AppendValidated(
    absl::Span<char> bytes, std::vector<BatchInfo> batches) {
  AppendResult result;
  int64_t record_count = 0;
  // Direct mode: what the staged batches wait on.
  std::shared_ptr<GroupCompletion> completion;
  {
    MutexLock lock(&append_mu_);
    RewindLocked();
    RETURN_IF_ERROR(CheckWritableLocked());
    if (free_space_guard_ != nullptr) {
      RETURN_IF_ERROR(free_space_guard_->Reserve(bytes.size()));
    }
    const int64_t segment_bytes = config().segment_bytes;
    int64_t max_timestamp = kNoTimestamp;
    for (const BatchInfo& batch : batches) {
      max_timestamp = std::max(max_timestamp, batch.header.max_timestamp);
      if (batch.size_in_bytes > static_cast<uint64_t>(segment_bytes)) {
        return absl::InvalidArgumentError(
            absl::StrCat("a batch of ", batch.size_in_bytes,
                         " bytes does not fit in a segment of segment.bytes ",
                         segment_bytes));
      }
      record_count += batch.header.last_offset_delta + 1;
    }
    std::shared_ptr<Segment> active = segments()->back();
    if (!active->active()) {
      // A truncation or a failed roll could not reopen it for appends.
      absl::Status activated = active->Activate();
      if (absl::IsResourceExhausted(activated)) activated = RollLocked();
      RETURN_IF_ERROR(activated);
      active = segments()->back();
    }
    const int64_t first_offset = active->append_next_offset();
    if (record_count > kLogOffsetLimit - first_offset) {
      return absl::OutOfRangeError(absl::StrCat(
          "log ", name_, " is full: ", record_count,
          " more records would take its offsets past ", kLogOffsetLimit));
    }
    ASSIGN_OR_RETURN(
        const bool roll,
        ShouldRollLocked(*active, bytes.size(), first_offset + record_count - 1,
                         max_timestamp));
    if (roll) {
      RETURN_IF_ERROR(RollLocked());
      active = segments()->back();
    }
    // Assign offsets in place: baseOffset lies outside the CRC.
    int64_t offset = first_offset;
    size_t position = 0;
    for (BatchInfo& batch : batches) {
      SetBaseOffset(bytes.data() + position, offset);
      batch.header.base_offset = offset;
      offset = batch.header.last_offset() + 1;
      position += batch.size_in_bytes;
    }
    dirty_offset_.store(offset, std::memory_order_release);
    absl::StatusOr<std::shared_ptr<GroupCompletion>> appended =
        active->Append(absl::string_view(bytes.data(), bytes.size()), batches);
    if (!appended.ok()) {
      dirty_offset_.store(first_offset, std::memory_order_release);
      return appended.status();
    }
    completion = *std::move(appended);
    result.base_offset = first_offset;
    result.last_offset = offset - 1;
    result.bytes = bytes.size();
    if (completion == nullptr &&
        unflushed_records_.fetch_add(record_count, std::memory_order_acq_rel) ==
            0) {
      first_unflushed_ms_.store(env_->NowMs(), std::memory_order_release);
    }
  }
  // Direct mode: durable (and published) by a group write, or lost.
  if (completion != nullptr) RETURN_IF_ERROR(AwaitDurable(*completion));
  EngineMetrics& metrics = GlobalMetrics();
  metrics.appended_bytes.Add(bytes.size());
  metrics.appended_batches.Add(batches.size());
  metrics.appended_records.Add(static_cast<uint64_t>(record_count));
  if (completion == nullptr) RETURN_IF_ERROR(MaybeFlushForCount());
  return result;
}

absl::Status Log::Roll() {
  MutexLock lock(&append_mu_);
  RETURN_IF_ERROR(CheckWritableLocked());
  return RollLocked();
}

absl::Status Log::RollLocked() {
  // A group of the old segment must not be written after the new segment
  // takes appends.
  RETURN_IF_ERROR(DrainLocked());
  std::shared_ptr<const SegmentList> current = segments();
  const std::shared_ptr<Segment>& active = current->back();
  if (active->empty()) return absl::OkStatus();
  RETURN_IF_ERROR(active->Seal());
  // Closed segments are durable: after a crash the next open trusts every
  // segment but the last below the recovery point on disk, and that point
  // can lag behind a truncation that rewrote what the segment holds.
  if (absl::Status flushed = active->Flush(); !flushed.ok()) {
    Fail(flushed);
    (void)active->Activate();
    return FailedFlushError(flushed);
  }
  const int64_t base_offset = active->next_offset();
  absl::StatusOr<std::shared_ptr<Segment>> created =
      Segment::Create(env_, directory_, base_offset, segment_options());
  if (absl::IsAlreadyExists(created.status()) &&
      Segment::RemoveFiles(env_, directory_, base_offset).ok()) {
    // Files at the next offset hold nothing the log published: a roll
    // failed there before. Clear them and try once more.
    created = Segment::Create(env_, directory_, base_offset, segment_options());
  }
  if (!created.ok()) {
    // Keep appending to the old segment rather than lose the log, but only
    // if no file of the failed segment is left: one would claim offsets
    // the old segment goes on to hold.
    absl::Status cleaned = Segment::RemoveFiles(env_, directory_, base_offset);
    if (cleaned.ok()) cleaned = active->Activate();
    if (!cleaned.ok() && !absl::IsResourceExhausted(cleaned)) Fail(cleaned);
    return created.status();
  }
  SegmentList next = *current;
  next.push_back(*std::move(created));
  // Before the new segment is published: a direct group writer that sees
  // it sees the directory needs an fsync before its data is durable.
  directory_dirty_.store(true, std::memory_order_release);
  PublishSegments(std::move(next));
  return absl::OkStatus();
}

absl::Status Log::MaybeRollForAge(int64_t now_ms) {
  MutexLock lock(&append_mu_);
  if (read_only_ || closed_ || failed_.load(std::memory_order_acquire)) {
    return absl::OkStatus();
  }
  const std::shared_ptr<Segment> active = segments()->back();
  if (active->empty() || now_ms - active->created_ms() <= config().segment_ms) {
    return absl::OkStatus();
  }
  return RollLocked();
}

absl::StatusOr<Slice> Log::Read(int64_t offset, uint64_t max_bytes) const {
  const std::shared_ptr<const SegmentList> list = segments();
  const int64_t start = start_offset();
  const int64_t end = list->empty() ? start : list->back()->next_offset();
  if (offset < start) {
    return absl::OutOfRangeError(absl::StrCat("offset ", offset,
                                              " is before the start of log ",
                                              name_, " (offset ", start, ")"));
  }
  if (offset > end) {
    return absl::OutOfRangeError(absl::StrCat("offset ", offset,
                                              " is past the end of log ", name_,
                                              " (offset ", end, ")"));
  }
  if (list->empty()) return Slice{nullptr, 0, 0, end, end};
  // The segment with the largest base offset <= offset.
  auto after = std::upper_bound(
      list->begin(), list->end(), offset,
      [](int64_t target, const std::shared_ptr<Segment>& segment) {
        return target < segment->base_offset();
      });
  if (after == list->begin()) {
    return absl::OutOfRangeError(absl::StrCat(
        "offset ", offset, " is before the first segment of log ", name_));
  }
  return (*std::prev(after))->Read(offset, max_bytes);
}

absl::StatusOr<std::optional<int64_t>> Log::OffsetForTime(
    int64_t timestamp_ms) const {
  const std::shared_ptr<const SegmentList> list = segments();
  for (const auto& segment : *list) {
    ASSIGN_OR_RETURN(const std::optional<int64_t> found,
                     segment->FindOffsetForTime(timestamp_ms));
    if (found.has_value()) return std::max(*found, start_offset());
  }
  return std::nullopt;
}

absl::Status Log::TruncateTo(int64_t offset) {
  MutexLock lock(&append_mu_);
  RETURN_IF_ERROR(CheckWritableLocked());
  RETURN_IF_ERROR(DrainLocked());
  std::shared_ptr<const SegmentList> current = segments();
  const int64_t end = current->back()->next_offset();
  if (offset == end) return absl::OkStatus();
  if (offset > end || offset < start_offset()) {
    return absl::OutOfRangeError(
        absl::StrCat("cannot truncate log ", name_, " to offset ", offset,
                     ": outside [", start_offset(), ", ", end, "]"));
  }
  // The segment that will hold the new end: the last one whose base is
  // below `offset`, or the first one.
  size_t keep = 0;
  while (keep + 1 < current->size() &&
         (*current)[keep + 1]->base_offset() < offset) {
    ++keep;
  }
  const std::shared_ptr<Segment>& last_kept = (*current)[keep];
  // Validate before destroying anything: the cut must be a batch boundary.
  RETURN_IF_ERROR(last_kept->BatchStartPosition(offset).status());
  // Nothing at or past the cut is flushed any more, whatever happens next.
  int64_t recovery_point = recovery_point_.load(std::memory_order_acquire);
  while (recovery_point > offset &&
         !recovery_point_.compare_exchange_weak(recovery_point, offset)) {
  }
  // Newest first, so a crash midway leaves a log without gaps.
  SegmentList remaining(current->begin(), current->begin() + keep + 1);
  PublishSegments(remaining);
  // From here a failure leaves files that disagree with the published
  // log (a segment not removed, a cut not made durable): appending on top
  // of them would let a restart resurrect removed batches, so the log
  // turns read-only instead, and the next open recovers.
  for (size_t i = current->size(); i > keep + 1; --i) {
    if (absl::Status deleted = (*current)[i - 1]->Delete(); !deleted.ok()) {
      Fail(deleted);
      return deleted;
    }
  }
  if (current->size() > keep + 1) {
    // The removals are made durable before the cut: were the cut durable
    // first, a crash could bring back a removed segment after a gap.
    if (absl::Status synced = env_->SyncDir(directory_); !synced.ok()) {
      Fail(synced);
      return FailedFlushError(synced);
    }
  }
  if (absl::Status cut = last_kept->TruncateTo(offset); !cut.ok()) {
    Fail(cut);
    return cut;
  }
  dirty_offset_.store(offset, std::memory_order_release);
  // Appends reactivate the segment if this fails (mmap, say).
  return last_kept->Activate();
}

absl::Status Log::TruncateFullyAndStartAt(int64_t offset) {
  if (offset < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot start log ", name_, " at negative offset ", offset));
  }
  if (offset > kLogOffsetLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot start log ", name_, " at offset ", offset,
                     ", past the largest a log holds (", kLogOffsetLimit,
                     ")"));
  }
  MutexLock lock(&append_mu_);
  RETURN_IF_ERROR(CheckWritableLocked());
  RETURN_IF_ERROR(DrainLocked());
  std::shared_ptr<const SegmentList> current = segments();
  // Unlinked newest first, while the old list stays published for readers
  // (they hold their segments). A crash midway leaves a log without gaps,
  // at worst an empty one, which the caller resets again.
  for (size_t i = current->size(); i > 0; --i) {
    RETURN_IF_ERROR((*current)[i - 1]->Delete());
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Segment> created,
                   Segment::Create(env_, directory_, offset,
                                   segment_options()));
  PublishSegments(SegmentList{std::move(created)});
  start_offset_.store(offset, std::memory_order_release);
  dirty_offset_.store(offset, std::memory_order_release);
  recovery_point_.store(offset, std::memory_order_release);
  unflushed_records_.store(0, std::memory_order_release);
  first_unflushed_ms_.store(0, std::memory_order_release);
  directory_dirty_.store(false, std::memory_order_release);
  absl::Status synced = env_->SyncDir(directory_);
  if (!synced.ok()) directory_dirty_.store(true, std::memory_order_release);
  return synced;
}

absl::Status Log::Close() {
  {
    MutexLock lock(&append_mu_);
    if (closed_ || read_only_) {
      closed_ = true;
      return absl::OkStatus();
    }
    closed_ = true;
    if (!failed_.load(std::memory_order_acquire)) {
      RETURN_IF_ERROR(DrainLocked());
      RETURN_IF_ERROR(segments()->back()->Seal());
    }
  }
  if (failed_.load(std::memory_order_acquire)) return failure();
  return Flush();
}

}  // namespace shiplog
