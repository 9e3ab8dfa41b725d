// TimeIndex: a segment's `.timeindex`, mapping timestamps to offsets
// (INDEX.md). An entry (T, O) says: the largest timestamp in the segment up
// to and including offset O is T, and it was first reached at O. Entries
// are added only when the largest timestamp grows, so both columns are
// strictly increasing.
//
// Lookup searches an IndexSummary of the timestamps below the warm
// section, kept up to date as entries are appended and built from the
// entries already there when the index is opened.
//
// Thread-safety: as IndexFile: one writer, many concurrent readers.
#ifndef SHIPLOG_ENGINE_INDEX_TIME_INDEX_H_
#define SHIPLOG_ENGINE_INDEX_TIME_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "engine/format/byte_order.h"
#include "engine/index/index_file.h"
#include "engine/index/index_summary.h"

namespace shiplog {

struct TimestampOffset {
  int64_t timestamp = -1;
  int64_t offset = 0;

  friend bool operator==(const TimestampOffset&,
                         const TimestampOffset&) = default;
};

class TimeIndex {
 public:
  // Timestamp i64 BE + relative offset u32 BE.
  static constexpr size_t kEntrySize = 12;

  // Reads every 16th entry of `file` to build the summary. `base_offset`
  // is in [0, kLogOffsetLimit] (any relative offset added to it fits).
  TimeIndex(int64_t base_offset, std::unique_ptr<IndexFile> file);

  int64_t base_offset() const { return base_offset_; }
  size_t entries() const { return file_->entries(); }
  // Full one entry early: the last slot is kept for the entry a roll writes
  // (Kafka does the same), so rolling never fails for lack of room.
  bool IsFull() const { return file_->entries() + 1 >= file_->max_entries(); }
  TimestampOffset EntryAt(size_t slot) const;
  std::optional<TimestampOffset> LastEntry() const;

  // The entry with the largest timestamp <= target; {-1, base_offset} when
  // there is none.
  TimestampOffset Lookup(int64_t target_timestamp) const;

  // Adds (timestamp, offset) if timestamp is above the last entry's (above
  // -1 for an empty index).
  // kInvalidArgument if offset is below the last entry's offset or outside
  // the segment's range; kFailedPrecondition if full (for_roll may use the
  // reserved last slot).
  absl::Status MaybeAppend(int64_t timestamp, int64_t offset,
                           bool for_roll = false);
  // Forgets every entry whose offset is >= `offset`.
  void TruncateTo(int64_t offset);

  // Checks a trusted index against a segment holding offsets below
  // `next_offset`: timestamps and offsets increasing at the tail, offsets in
  // range. kDataLoss with the reason otherwise.
  absl::Status SanityCheck(int64_t next_offset) const;

  absl::Status Trim() { return file_->Trim(); }
  absl::Status Flush() { return file_->Flush(); }
  // The file underneath, for what it holds open.
  const IndexFile& file() const { return *file_; }

 private:
  int64_t TimestampAt(size_t slot) const {
    return static_cast<int64_t>(LoadBigEndian64(file_->entry(slot)));
  }

  const int64_t base_offset_;
  const std::unique_ptr<IndexFile> file_;
  IndexSummary<int64_t> timestamps_;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_INDEX_TIME_INDEX_H_
