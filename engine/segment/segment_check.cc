#include "engine/segment/segment_check.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/format/byte_order.h"
#include "engine/format/record_batch.h"
#include "engine/index/offset_index.h"
#include "engine/index/time_index.h"
#include "engine/segment/batch_scanner.h"
#include "engine/segment/segment_files.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

constexpr size_t kScanBufferBytes = 256 * 1024;
// How often the scan reports progress.
constexpr uint64_t kProgressStepBytes = uint64_t{4} << 20;

// An index entry as two absolute numbers: (offset, position) for the
// offset index, (timestamp, offset) for the time index.
struct Entry {
  int64_t key = 0;
  int64_t value = 0;
};

// The entries of an index file, or nullopt (with a reason in `rebuilds`)
// if the store would rebuild the file before using any entry.
absl::StatusOr<std::optional<std::vector<Entry>>> ReadEntries(
    Env* env, const std::string& path, size_t entry_size, int64_t base_offset,
    bool sealed, std::vector<std::string>* rebuilds) {
  absl::StatusOr<std::string> bytes = ReadSmallFile(env, path);
  if (absl::IsNotFound(bytes.status())) {
    rebuilds->push_back(
        absl::StrCat(path, ": missing; rebuilt from the .log when needed"));
    return std::nullopt;
  }
  RETURN_IF_ERROR(bytes.status());
  if (bytes->size() % entry_size != 0) {
    rebuilds->push_back(absl::StrCat(
        path, ": size ", bytes->size(), " is not a whole number of ",
        entry_size, "-byte entries; rebuilt from the .log when needed"));
    return std::nullopt;
  }
  size_t slots = bytes->size() / entry_size;
  // The active segment's index is preallocated: unused slots are zeros.
  const auto zero = [&](size_t slot) {
    for (size_t i = 0; i < entry_size; ++i) {
      if ((*bytes)[slot * entry_size + i] != 0) return false;
    }
    return true;
  };
  size_t used = slots;
  while (used > 0 && zero(used - 1)) --used;
  if (sealed && used < slots) {
    rebuilds->push_back(absl::StrCat(path, ": ", slots - used,
                                     " unused slots at the end (not trimmed "
                                     "when sealed); rebuilt when needed"));
    return std::nullopt;
  }
  std::vector<Entry> entries(used);
  for (size_t slot = 0; slot < used; ++slot) {
    const char* p = bytes->data() + slot * entry_size;
    if (entry_size == OffsetIndex::kEntrySize) {
      entries[slot] = {WrappingAdd(base_offset, LoadBigEndian32(p)),
                       LoadBigEndian32(p + 4)};
    } else {
      entries[slot] = {static_cast<int64_t>(LoadBigEndian64(p)),
                       WrappingAdd(base_offset, LoadBigEndian32(p + 8))};
    }
  }
  return std::make_optional(std::move(entries));
}

// Checks the entries of both indexes against the batches as the scan of
// the .log meets them, in one pass.
class IndexChecker {
 public:
  IndexChecker(std::string offset_path, std::string time_path,
               std::optional<std::vector<Entry>> offsets,
               std::optional<std::vector<Entry>> times,
               std::vector<std::string>* errors)
      : offset_path_(std::move(offset_path)),
        time_path_(std::move(time_path)),
        offsets_(std::move(offsets)),
        times_(std::move(times)),
        errors_(errors) {
    CheckIncreasing(offsets_, offset_path_, "offsets and positions");
    CheckIncreasing(times_, time_path_, "timestamps and offsets");
  }

  void Batch(const BatchHeader& header, uint64_t position) {
    if (offsets_.has_value()) {
      const std::vector<Entry>& entries = *offsets_;
      for (; next_offset_entry_ < entries.size() &&
             entries[next_offset_entry_].value < static_cast<int64_t>(position);
           ++next_offset_entry_) {
        Error(offset_path_, next_offset_entry_, "does not point at a batch");
      }
      if (next_offset_entry_ < entries.size() &&
          entries[next_offset_entry_].value == static_cast<int64_t>(position)) {
        if (entries[next_offset_entry_].key != header.last_offset()) {
          Error(offset_path_, next_offset_entry_,
                absl::StrCat("points at the batch of offsets ",
                             header.base_offset, "..", header.last_offset(),
                             ", whose last offset it should name"));
        }
        ++next_offset_entry_;
      }
    }
    if (times_.has_value()) {
      const std::vector<Entry>& entries = *times_;
      for (; next_time_entry_ < entries.size() &&
             entries[next_time_entry_].value < header.last_offset();
           ++next_time_entry_) {
        Error(time_path_, next_time_entry_,
              "names an offset that is not the last of a batch");
      }
      if (next_time_entry_ < entries.size() &&
          entries[next_time_entry_].value == header.last_offset()) {
        const Entry& entry = entries[next_time_entry_];
        if (entry.key != header.max_timestamp) {
          Error(time_path_, next_time_entry_,
                absl::StrCat("but the batch ending there has max timestamp ",
                             header.max_timestamp));
        } else if (max_timestamp_ >= entry.key) {
          Error(time_path_, next_time_entry_,
                absl::StrCat("but timestamp ", max_timestamp_,
                             " was reached before that offset"));
        }
        ++next_time_entry_;
      }
    }
    max_timestamp_ = std::max(max_timestamp_, header.max_timestamp);
  }

  // After the last valid batch: entries left point past it; a sealed
  // segment's indexes end at its last batch and its largest timestamp.
  // Where the batches stop early, entries for the damaged bytes are a
  // consequence of the damage, which the caller reports.
  void Finish(const SegmentCheck& check, bool sealed, int64_t last_offset,
              uint64_t last_position, std::vector<std::string>* rebuilds) {
    if (!check.invalid_tail.ok()) return;
    if (offsets_.has_value()) {
      for (; next_offset_entry_ < offsets_->size(); ++next_offset_entry_) {
        Error(offset_path_, next_offset_entry_,
              "points past the last valid batch");
      }
      const bool ends_at_last_batch =
          !offsets_->empty() && offsets_->back().key == last_offset &&
          offsets_->back().value == static_cast<int64_t>(last_position);
      if (sealed && check.batches > 0 && !ends_at_last_batch) {
        rebuilds->push_back(absl::StrCat(
            offset_path_, ": does not end at the last batch (offset ",
            last_offset, "); rebuilt when needed"));
      }
    }
    if (times_.has_value()) {
      for (; next_time_entry_ < times_->size(); ++next_time_entry_) {
        Error(time_path_, next_time_entry_,
              "names an offset past the last valid batch");
      }
      const int64_t indexed_max =
          times_->empty() ? kNoTimestamp : times_->back().key;
      if (sealed && check.max_timestamp >= 0 &&
          indexed_max != check.max_timestamp) {
        errors_->push_back(absl::StrCat(
            time_path_, ": the last entry's timestamp ", indexed_max,
            " is not the segment's largest, ", check.max_timestamp,
            " (retention would misjudge the segment's age)"));
      }
    }
  }

 private:
  void CheckIncreasing(const std::optional<std::vector<Entry>>& entries,
                       const std::string& path, absl::string_view columns) {
    if (!entries.has_value()) return;
    for (size_t slot = 1; slot < entries->size(); ++slot) {
      const Entry& before = (*entries)[slot - 1];
      const Entry& entry = (*entries)[slot];
      if (entry.key <= before.key || entry.value <= before.value) {
        errors_->push_back(absl::StrCat(path, ": entries ", slot - 1, " and ",
                                        slot, " do not increase in both ",
                                        columns));
      }
    }
  }

  void Error(const std::string& path, size_t slot, absl::string_view what) {
    const bool offset_index = &path == &offset_path_;
    const Entry& entry = offset_index ? (*offsets_)[slot] : (*times_)[slot];
    errors_->push_back(absl::StrCat(
        path, ": entry ", slot,
        offset_index ? absl::StrCat(" (offset ", entry.key, " at position ",
                                    entry.value, ") ")
                     : absl::StrCat(" (timestamp ", entry.key, " at offset ",
                                    entry.value, ") "),
        what));
  }

  const std::string offset_path_;
  const std::string time_path_;
  const std::optional<std::vector<Entry>> offsets_;
  const std::optional<std::vector<Entry>> times_;
  std::vector<std::string>* const errors_;
  size_t next_offset_entry_ = 0;
  size_t next_time_entry_ = 0;
  int64_t max_timestamp_ = kNoTimestamp;
};

}  // namespace

absl::StatusOr<SegmentCheck> CheckSegmentFiles(
    Env* env, const std::string& directory, int64_t base_offset,
    const SegmentCheckOptions& options) {
  SegmentCheck check;
  check.next_offset = base_offset;
  const std::string log_path =
      JoinPath(directory, SegmentFileName(base_offset, kLogFileSuffix));
  const std::string offset_path =
      JoinPath(directory, SegmentFileName(base_offset, kOffsetIndexFileSuffix));
  const std::string time_path =
      JoinPath(directory, SegmentFileName(base_offset, kTimeIndexFileSuffix));
  ASSIGN_OR_RETURN(
      std::optional<std::vector<Entry>> offsets,
      ReadEntries(env, offset_path, OffsetIndex::kEntrySize, base_offset,
                  options.sealed, &check.index_rebuilds));
  ASSIGN_OR_RETURN(
      std::optional<std::vector<Entry>> times,
      ReadEntries(env, time_path, TimeIndex::kEntrySize, base_offset,
                  options.sealed, &check.index_rebuilds));
  IndexChecker indexes(offset_path, time_path, std::move(offsets),
                       std::move(times), &check.index_errors);

  ASSIGN_OR_RETURN(std::unique_ptr<File> log,
                   env->OpenFile(log_path, OpenMode::kReadOnly));
  ASSIGN_OR_RETURN(check.file_bytes, log->Size());
  BatchScanner scanner(*log, 0, check.file_bytes,
                       {.verify = true,
                        .expected_base_offset = base_offset,
                        .buffer_bytes = kScanBufferBytes});
  uint64_t reported = 0;
  int64_t last_offset = base_offset - 1;
  uint64_t last_position = 0;
  while (scanner.Next()) {
    const BatchHeader& header = scanner.header();
    indexes.Batch(header, scanner.position());
    check.batches++;
    check.records += header.records_count;
    check.max_timestamp = std::max(check.max_timestamp, header.max_timestamp);
    check.valid_bytes = scanner.next_position();
    check.next_offset = WrappingAdd(header.last_offset(), 1);
    last_offset = header.last_offset();
    last_position = scanner.position();
    if (options.scanned && check.valid_bytes - reported >= kProgressStepBytes) {
      options.scanned(check.valid_bytes - reported);
      reported = check.valid_bytes;
    }
  }
  if (!scanner.status().ok()) {
    if (!absl::IsDataLoss(scanner.status())) return scanner.status();
    check.invalid_tail = scanner.status();
  }
  indexes.Finish(check, options.sealed, last_offset, last_position,
                 &check.index_rebuilds);
  if (options.scanned && check.file_bytes > reported) {
    options.scanned(check.file_bytes - reported);
  }
  return check;
}

}  // namespace shiplog
