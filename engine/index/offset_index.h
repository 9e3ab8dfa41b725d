// OffsetIndex: a segment's `.index`, mapping offsets to file positions
// (INDEX.md). Each entry maps the last offset of a batch to the position
// where that batch starts, one entry per index_interval_bytes of log, so a
// lookup lands on a batch boundary at most one interval before the target.
//
// Lookup by offset searches an IndexSummary of the offsets below the warm
// section, kept up to date as entries are appended and built from the
// entries already there when the index is opened.
//
// Thread-safety: as IndexFile: one writer, many concurrent readers.
#ifndef SHIPLOG_ENGINE_INDEX_OFFSET_INDEX_H_
#define SHIPLOG_ENGINE_INDEX_OFFSET_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/status.h"
#include "engine/format/byte_order.h"
#include "engine/index/index_file.h"
#include "engine/index/index_summary.h"

namespace shiplog {

struct OffsetPosition {
  int64_t offset = 0;
  uint32_t position = 0;

  friend bool operator==(const OffsetPosition&,
                         const OffsetPosition&) = default;
};

class OffsetIndex {
 public:
  // Relative offset u32 BE + position u32 BE.
  static constexpr size_t kEntrySize = 8;

  // Reads every 16th entry of `file` to build the summary. `base_offset`
  // is in [0, kLogOffsetLimit] (any relative offset added to it fits).
  OffsetIndex(int64_t base_offset, std::unique_ptr<IndexFile> file);

  int64_t base_offset() const { return base_offset_; }
  size_t entries() const { return file_->entries(); }
  // Full one entry early: the last slot is kept for the entry Seal writes
  // for the segment's last batch, so sealing never fails for lack of room.
  bool IsFull() const { return file_->entries() + 1 >= file_->max_entries(); }
  OffsetPosition EntryAt(size_t slot) const;
  std::optional<OffsetPosition> LastEntry() const;

  // The entry with the largest offset <= target; {base_offset, 0} when
  // every entry is above target (or there are none).
  OffsetPosition Lookup(int64_t target_offset) const;
  // The entry with the largest position <= target; {base_offset, 0} when
  // none. Positions are batch starts, so the result is a batch boundary.
  OffsetPosition LookupByPosition(uint64_t target_position) const;

  // Adds an entry. kInvalidArgument unless offset and position are above
  // the last entry's (offsets strictly, positions strictly) and the offset
  // is within 2^31-1 of the base offset; kFailedPrecondition when no slot
  // at all is left (the reserved one may be used).
  absl::Status Append(int64_t offset, uint32_t position);
  // Forgets every entry whose offset is >= `offset`.
  void TruncateTo(int64_t offset);

  // Checks that a trusted index is plausible for a segment holding offsets
  // below `next_offset` in `log_size` bytes: entries strictly increasing at
  // the tail, offsets within range, positions inside the log. kDataLoss with
  // the reason otherwise; the caller rebuilds the index.
  absl::Status SanityCheck(int64_t next_offset, uint64_t log_size) const;

  absl::Status Trim() { return file_->Trim(); }
  absl::Status Flush() { return file_->Flush(); }
  // The file underneath, for what it holds open.
  const IndexFile& file() const { return *file_; }

 private:
  uint32_t RelativeOffsetAt(size_t slot) const {
    return LoadBigEndian32(file_->entry(slot));
  }

  const int64_t base_offset_;
  const std::unique_ptr<IndexFile> file_;
  IndexSummary<uint32_t> relative_offsets_;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_INDEX_OFFSET_INDEX_H_
