// Segment: opening existing segments, lazy loading of files and indexes,
// recovery, and the switch into the active state.
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/format/record_batch.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/segment/batch_scanner.h"
#include "engine/segment/segment.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

// Recovery streams every byte of a segment: read it in large chunks.
constexpr size_t kScanBufferBytes = 256 * 1024;

}  // namespace

absl::StatusOr<std::shared_ptr<Segment>> Segment::Open(
    Env* env, const std::string& directory, int64_t base_offset,
    const SegmentOptions& options) {
  std::shared_ptr<Segment> segment(
      new Segment(env, directory, base_offset, options, 0));
  ASSIGN_OR_RETURN(const FileInfo info, env->Stat(segment->log_path_));
  segment->end_.StoreSize(info.size);
  return segment;
}

void Segment::SetNextOffset(int64_t next_offset) {
  end_.StoreNextOffset(next_offset);
}

void Segment::InstallIndexesLocked(std::unique_ptr<Indexes> indexes) const {
  indexes_ = std::move(indexes);
  indexes_ptr_.store(indexes_.get(), std::memory_order_release);
}

void Segment::InstallLogFileLocked(std::unique_ptr<File> file) const {
  log_file_ = std::move(file);
  log_file_ptr_.store(log_file_.get(), std::memory_order_release);
}

absl::Status Segment::OpenLogFileLocked() const {
  if (log_file_ != nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(
      std::unique_ptr<File> file,
      env_->OpenFile(log_path_, options_.read_only ? OpenMode::kReadOnly
                                                   : OpenMode::kReadWrite));
  InstallLogFileLocked(std::move(file));
  return absl::OkStatus();
}

absl::StatusOr<Segment::Loaded> Segment::Load() const {
  Loaded loaded;
  bool idle = false;
  SegmentUsage usage;
  {
    MutexLock lock(&load_mu_);
    RETURN_IF_ERROR(LoadLocked());
    loaded = Loaded{log_file_, indexes_};
    idle = IdleLocked();
    if (idle) usage = UsageLocked();
  }
  if (idle) ReportToCache(idle, usage);
  return loaded;
}

absl::Status Segment::LoadLocked() const {
  RETURN_IF_ERROR(OpenLogFileLocked());
  if (indexes_ == nullptr) {
    ASSIGN_OR_RETURN(std::unique_ptr<Indexes> indexes,
                     OpenClosedIndexes(*CurrentLogFileLocked()));
    InstallIndexesLocked(std::move(indexes));
  }
  return absl::OkStatus();
}

bool Segment::IdleLocked() const {
  return !active_ && !deleted_ && !unflushed_.load(std::memory_order_acquire) &&
         (indexes_ == nullptr || !indexes_->appendable);
}

SegmentUsage Segment::UsageLocked() const {
  SegmentUsage usage;
  if (log_file_ != nullptr) usage.files += 1;
  if (log_mapping_ != nullptr) usage.mappings += 1;
  if (indexes_ != nullptr) {
    for (const IndexFile* index :
         {&indexes_->offset->file(), &indexes_->time->file()}) {
      if (index->holds_file()) usage.files += 1;
      if (index->mapped()) usage.mappings += 1;
    }
  }
  return usage;
}

SegmentUsage Segment::usage() const {
  MutexLock lock(&load_mu_);
  return UsageLocked();
}

void Segment::ReportToCache(bool idle, SegmentUsage usage) const {
  if (options_.cache == nullptr) return;
  if (idle) {
    options_.cache->Use(shared_from_this(), usage);
  } else {
    options_.cache->Forget(this);
  }
}

void Segment::ReleaseFiles() const {
  std::shared_ptr<File> log_file;
  std::shared_ptr<Indexes> indexes;
  std::shared_ptr<const Mapping> mapping;
  {
    MutexLock lock(&load_mu_);
    if (!IdleLocked()) return;
    // A holder of the view may still map the file: a later truncation
    // must know (MappedByHoldersLocked).
    std::erase_if(older_mappings_,
                  [](const std::weak_ptr<const Mapping>& held) {
                    return held.expired();
                  });
    if (log_mapping_ != nullptr) older_mappings_.push_back(log_mapping_);
    log_file = std::move(log_file_);
    indexes = std::move(indexes_);
    mapping = std::move(log_mapping_);
    log_file_ptr_.store(nullptr, std::memory_order_release);
    indexes_ptr_.store(nullptr, std::memory_order_release);
  }
  // The closes and unmaps happen here, outside the lock, unless a reader
  // still holds them.
}

absl::StatusOr<std::unique_ptr<Segment::Indexes>> Segment::CreateEmptyIndexes()
    const {
  auto indexes = std::make_unique<Indexes>();
  std::unique_ptr<IndexFile> offset_file;
  std::unique_ptr<IndexFile> time_file;
  if (options_.read_only) {
    ASSIGN_OR_RETURN(offset_file,
                     IndexFile::InMemory(env_, OffsetIndex::kEntrySize,
                                         options_.max_index_bytes));
    ASSIGN_OR_RETURN(time_file, IndexFile::InMemory(env_, TimeIndex::kEntrySize,
                                                    options_.max_index_bytes));
  } else {
    ASSIGN_OR_RETURN(offset_file,
                     IndexFile::OpenForAppend(env_, offset_index_path_,
                                              OffsetIndex::kEntrySize,
                                              options_.max_index_bytes, 0));
    ASSIGN_OR_RETURN(
        time_file,
        IndexFile::OpenForAppend(env_, time_index_path_, TimeIndex::kEntrySize,
                                 options_.max_index_bytes, 0));
  }
  indexes->offset =
      std::make_unique<OffsetIndex>(base_offset_, std::move(offset_file));
  indexes->time =
      std::make_unique<TimeIndex>(base_offset_, std::move(time_file));
  indexes->appendable = true;
  return indexes;
}

absl::StatusOr<std::unique_ptr<Segment::Indexes>>
Segment::OpenIndexesForReading() const {
  // Another process may shrink the files under a read-only segment: copy
  // them instead of mapping them.
  auto open = [this](const std::string& path, size_t entry_size) {
    return options_.read_only ? IndexFile::ReadSnapshot(env_, path, entry_size)
                              : IndexFile::OpenReadOnly(env_, path, entry_size);
  };
  ASSIGN_OR_RETURN(std::unique_ptr<IndexFile> offset_file,
                   open(offset_index_path_, OffsetIndex::kEntrySize));
  ASSIGN_OR_RETURN(std::unique_ptr<IndexFile> time_file,
                   open(time_index_path_, TimeIndex::kEntrySize));
  auto indexes = std::make_unique<Indexes>();
  indexes->offset =
      std::make_unique<OffsetIndex>(base_offset_, std::move(offset_file));
  indexes->time =
      std::make_unique<TimeIndex>(base_offset_, std::move(time_file));
  return indexes;
}

absl::StatusOr<std::unique_ptr<Segment::Indexes>> Segment::OpenClosedIndexes(
    const File& log) const {
  const int64_t next = next_offset();
  const uint64_t log_size = size();
  absl::StatusOr<std::unique_ptr<Indexes>> opened = OpenIndexesForReading();
  absl::Status problem = opened.status();
  if (opened.ok()) {
    std::unique_ptr<Indexes>& indexes = *opened;
    problem = indexes->offset->SanityCheck(next, log_size);
    if (problem.ok()) problem = indexes->time->SanityCheck(next);
    // Seal indexes a closed segment's last batch: an index that does not
    // end there was cut short.
    const std::optional<OffsetPosition> last = indexes->offset->LastEntry();
    if (problem.ok() && log_size > 0 && (!last || last->offset != next - 1)) {
      problem = absl::DataLossError(absl::StrCat(
          "offset index does not end at the last offset ", next - 1));
    }
    // ... and the last batch ends where the file does: bytes after it (a
    // direct-mode segment's padding whose trim a crash undid) would be
    // shipped with the last slice.
    if (problem.ok() && log_size > 0) {
      char header[kBatchHeaderSize];
      problem = ReadFully(log, last->position, absl::MakeSpan(header));
      const uint64_t last_end =
          last->position + DecodeBatchHeader(header).size_in_bytes();
      if (problem.ok() && last_end != log_size) {
        problem = absl::DataLossError(absl::StrCat(
            "the last batch ends at position ", last_end, ", not at the end ",
            log_size, " of the file"));
      }
    }
    if (problem.ok()) return std::move(indexes);
  }
  // An index is a cache: rebuild it from the .log.
  GlobalMetrics().index_rebuilds.Add();
  ASSIGN_OR_RETURN(std::unique_ptr<Indexes> rebuilt, CreateEmptyIndexes());
  ASSIGN_OR_RETURN(const ScanResult scan,
                   ScanAndIndex(log, log_size, *rebuilt));
  if (!scan.stop_reason.ok()) {
    // Every offset is there and only zeros follow: a direct-mode segment
    // whose seal trimmed its padding, a trim a crash undid (the recovery
    // point, which direct writes advance, had passed the segment, so
    // recovery trusted it). The padding goes now.
    ASSIGN_OR_RETURN(const bool padding,
                     scan.next_offset == next
                         ? IsDirectPadding(log, scan.valid_bytes, log_size)
                         : absl::StatusOr<bool>(false));
    if (!padding) {
      return absl::DataLossError(absl::StrCat(
          "rebuilding the indexes of ", log_path_, " (", problem.message(),
          "): ", scan.stop_reason.message()));
    }
    if (!options_.read_only) RETURN_IF_ERROR(CutLogFileLocked(scan.valid_bytes));
    end_.StoreSize(scan.valid_bytes);
    GlobalMetrics().bytes_truncated_by_recovery.Add(log_size - scan.valid_bytes);
  }
  if (scan.next_offset != next) {
    return absl::DataLossError(
        absl::StrCat(log_path_, " ends at offset ", scan.next_offset - 1,
                     " but the next segment starts at ", next));
  }
  IndexCursor final_entries = scan.cursor;
  RETURN_IF_ERROR(rebuilt->time->MaybeAppend(
      final_entries.max_timestamp, final_entries.offset_of_max_timestamp,
      /*for_roll=*/true));
  if (log_size > 0) {
    const std::optional<OffsetPosition> last = rebuilt->offset->LastEntry();
    if (!last || last->offset != next - 1) {
      RETURN_IF_ERROR(rebuilt->offset->Append(
          next - 1, static_cast<uint32_t>(scan.last_batch_position)));
    }
  }
  if (!options_.read_only) {
    RETURN_IF_ERROR(rebuilt->offset->Trim());
    RETURN_IF_ERROR(rebuilt->time->Trim());
  }
  rebuilt->appendable = false;
  return rebuilt;
}

absl::StatusOr<bool> Segment::IsDirectPadding(const File& log, uint64_t from,
                                               uint64_t to) const {
  constexpr uint64_t kMaxPaddingBytes = 4096;
  if (to <= from || to - from > kMaxPaddingBytes) return false;
  std::string tail(static_cast<size_t>(to - from), '\0');
  RETURN_IF_ERROR(ReadFully(log, from, absl::MakeSpan(tail)));
  return tail.find_first_not_of('\0') == std::string::npos;
}

absl::StatusOr<Segment::ScanResult> Segment::ScanAndIndex(
    const File& log, uint64_t end, Indexes& indexes) const {
  ScanResult result;
  result.next_offset = base_offset_;
  result.cursor.offset_of_max_timestamp = base_offset_;
  BatchScanner scanner(log, 0, end,
                       {.verify = true,
                        .expected_base_offset = base_offset_,
                        .buffer_bytes = kScanBufferBytes});
  while (scanner.Next()) {
    RETURN_IF_ERROR(
        Observe(indexes, result.cursor, scanner.header(), scanner.position()));
    result.last_batch_position = scanner.position();
    result.next_offset = scanner.header().last_offset() + 1;
    result.valid_bytes = scanner.next_position();
  }
  if (!scanner.status().ok()) {
    if (!absl::IsDataLoss(scanner.status())) return scanner.status();
    result.stop_reason = scanner.status();
  }
  return result;
}

absl::StatusOr<SegmentRecovery> Segment::Recover() {
  MutexLock lock(&load_mu_);
  RETURN_IF_ERROR(OpenLogFileLocked());
  File& log = *CurrentLogFileLocked();
  ASSIGN_OR_RETURN(const uint64_t file_size, log.Size());
  ASSIGN_OR_RETURN(std::unique_ptr<Indexes> indexes, CreateEmptyIndexes());
  ASSIGN_OR_RETURN(const ScanResult scan,
                   ScanAndIndex(log, file_size, *indexes));
  SegmentRecovery recovery;
  recovery.valid_bytes = scan.valid_bytes;
  recovery.invalid_bytes = file_size - scan.valid_bytes;
  if (!scan.stop_reason.ok()) {
    recovery.reason = std::string(scan.stop_reason.message());
  }
  if (recovery.invalid_bytes > 0 && !options_.read_only) {
    RETURN_IF_ERROR(CutLogFileLocked(scan.valid_bytes));
  }
  InstallIndexesLocked(std::move(indexes));
  cursor_ = scan.cursor;
  last_batch_position_ = scan.last_batch_position;
  rolling_base_timestamp_.reset();
  max_timestamp_.store(cursor_.max_timestamp, std::memory_order_release);
  max_timestamp_known_.store(true, std::memory_order_release);
  Publish(scan.valid_bytes, scan.next_offset);
  return recovery;
}

absl::Status Segment::WalkTail(const File& log, OffsetPosition start) {
  BatchScanner scanner(log, start.position, size(), {});
  std::optional<int64_t> expected_base;
  while (scanner.Next()) {
    const BatchHeader& header = scanner.header();
    const bool continues = expected_base
                               ? header.base_offset == *expected_base
                               : header.base_offset <= start.offset &&
                                     start.offset <= header.last_offset();
    if (!continues || header.records_count <= 0 ||
        header.last_offset_delta != header.records_count - 1 ||
        header.last_offset() >= kLogOffsetLimit) {
      return absl::DataLossError(absl::StrCat(
          log_path_, ": batch at position ", scanner.position(),
          " holds offsets ", header.base_offset, "..", header.last_offset(),
          ", which do not continue the segment"));
    }
    if (header.max_timestamp > cursor_.max_timestamp) {
      cursor_.max_timestamp = header.max_timestamp;
      cursor_.offset_of_max_timestamp = header.last_offset();
    }
    last_batch_position_ = scanner.position();
    expected_base = header.last_offset() + 1;
  }
  RETURN_IF_ERROR(scanner.status());
  if (expected_base.has_value()) {
    end_.StoreNextOffset(*expected_base);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SegmentRecovery>> Segment::LoadTail() {
  {
    MutexLock lock(&load_mu_);
    RETURN_IF_ERROR(OpenLogFileLocked());
  }
  if (empty()) {
    SetNextOffset(base_offset_);
  } else {
    // The indexes' last entries were written by Seal at the clean close:
    // the largest timestamp, and the position of the last batch.
    absl::StatusOr<std::unique_ptr<Indexes>> opened = OpenIndexesForReading();
    absl::Status usable = opened.status();
    std::unique_ptr<Indexes> indexes;
    if (usable.ok()) {
      indexes = *std::move(opened);
      const int64_t no_limit = std::numeric_limits<int64_t>::max();
      usable = indexes->offset->SanityCheck(no_limit, size());
      if (usable.ok()) usable = indexes->time->SanityCheck(no_limit);
    }
    if (usable.ok()) {
      const std::optional<TimestampOffset> time_entry =
          indexes->time->LastEntry();
      cursor_ = IndexCursor{};
      cursor_.max_timestamp = time_entry ? time_entry->timestamp : kNoTimestamp;
      cursor_.offset_of_max_timestamp =
          time_entry ? time_entry->offset : base_offset_;
      const std::optional<OffsetPosition> last = indexes->offset->LastEntry();
      usable = WalkTail(*log_file_ptr_.load(std::memory_order_acquire),
                        last.value_or(OffsetPosition{base_offset_, 0}));
    }
    if (!usable.ok()) {
      // The files say clean but do not add up: scan the segment instead.
      ASSIGN_OR_RETURN(SegmentRecovery recovery, Recover());
      if (recovery.reason.empty())
        recovery.reason = std::string(usable.message());
      return recovery;
    }
    MutexLock lock(&load_mu_);
    InstallIndexesLocked(std::move(indexes));
  }
  max_timestamp_.store(cursor_.max_timestamp, std::memory_order_release);
  max_timestamp_known_.store(true, std::memory_order_release);
  return std::nullopt;
}

absl::Status Segment::Activate() {
  if (active_) return absl::OkStatus();
  if (options_.read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat(log_path_, ": read-only segment cannot be activated"));
  }
  absl::Status activated;
  {
    MutexLock lock(&load_mu_);
    activated = ActivateLocked();
  }
  // Active (or, after a failure, left as it was): the cache may not release
  // it now, and it is counted again once it is idle.
  ReportToCache(/*idle=*/false, {});
  return activated;
}

absl::Status Segment::ActivateLocked() {
  RETURN_IF_ERROR(LoadLocked());
  // Appends must not reach a backup through a hard link to this file: the
  // segment gets a copy of its own first.
  ASSIGN_OR_RETURN(const FileInfo info, env_->Stat(log_path_));
  if (info.hard_links > 1) RETURN_IF_ERROR(CutLogFileLocked(size()));
  Indexes* current = indexes_.get();
  if (!current->appendable) {
    const size_t offset_entries = current->offset->entries();
    const size_t time_entries = current->time->entries();
    absl::StatusOr<std::unique_ptr<IndexFile>> offset_file =
        IndexFile::OpenForAppend(env_, offset_index_path_,
                                 OffsetIndex::kEntrySize,
                                 options_.max_index_bytes, offset_entries);
    absl::StatusOr<std::unique_ptr<IndexFile>> time_file =
        offset_file.ok() ? IndexFile::OpenForAppend(
                               env_, time_index_path_, TimeIndex::kEntrySize,
                               options_.max_index_bytes, time_entries)
                         : offset_file.status();
    if (!time_file.ok()) {
      if (absl::IsInvalidArgument(time_file.status())) {
        // The entries no longer fit the configured index size.
        return absl::ResourceExhaustedError(time_file.status().message());
      }
      return time_file.status();
    }
    auto indexes = std::make_unique<Indexes>();
    indexes->offset =
        std::make_unique<OffsetIndex>(base_offset_, *std::move(offset_file));
    indexes->time =
        std::make_unique<TimeIndex>(base_offset_, *std::move(time_file));
    indexes->appendable = true;
    if (indexes->offset->IsFull() || indexes->time->IsFull()) {
      // Give back the preallocated space; the log rolls instead.
      RETURN_IF_ERROR(indexes->offset->Trim());
      RETURN_IF_ERROR(indexes->time->Trim());
      return absl::ResourceExhaustedError(
          absl::StrCat(log_path_, ": indexes are full"));
    }
    InstallIndexesLocked(std::move(indexes));
  }
  // Appends continue from this segment's own tail, not from whatever the
  // writer state held when it was last active (if it ever was).
  RETURN_IF_ERROR(
      RebuildWriterState(*CurrentLogFileLocked(), *indexes_));
  if (direct_writes_) RETURN_IF_ERROR(StartDirectWrites());
  active_ = true;
  created_ms_ = env_->NowMs();
  return absl::OkStatus();
}

}  // namespace shiplog
