#include "engine/index/time_index.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/format/byte_order.h"

namespace shiplog {

TimeIndex::TimeIndex(int64_t base_offset, std::unique_ptr<IndexFile> file)
    : base_offset_(base_offset),
      file_(std::move(file)),
      timestamps_(file_->max_entries(), file_->entries(),
                  [this](size_t slot) { return TimestampAt(slot); }) {}

TimestampOffset TimeIndex::EntryAt(size_t slot) const {
  const char* entry = file_->entry(slot);
  return {static_cast<int64_t>(LoadBigEndian64(entry)),
          base_offset_ + LoadBigEndian32(entry + 8)};
}

std::optional<TimestampOffset> TimeIndex::LastEntry() const {
  const size_t count = file_->entries();
  if (count == 0) return std::nullopt;
  return EntryAt(count - 1);
}

TimestampOffset TimeIndex::Lookup(int64_t target_timestamp) const {
  const int64_t slot = file_->FindLargestSlotAtMost(
      target_timestamp, [this](size_t s) { return TimestampAt(s); },
      &timestamps_);
  if (slot < 0) return {-1, base_offset_};
  return EntryAt(static_cast<size_t>(slot));
}

absl::Status TimeIndex::MaybeAppend(int64_t timestamp, int64_t offset,
                                    bool for_roll) {
  if (offset < base_offset_ ||
      offset - base_offset_ > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "offset ", offset, " is outside the time index range of base ",
        base_offset_));
  }
  const std::optional<TimestampOffset> last = LastEntry();
  if (last && offset < last->offset) {
    return absl::InvalidArgumentError(
        absl::StrCat("time index entry offset ", offset,
                     " is below the last entry's offset ", last->offset));
  }
  // An empty index behaves as if it ended at (kNoTimestamp, base offset),
  // as Kafka's does: records without timestamps add no entries.
  if (timestamp <= (last ? last->timestamp : int64_t{-1})) {
    return absl::OkStatus();
  }
  if (!for_roll && IsFull()) {
    return absl::FailedPreconditionError(
        absl::StrCat("time index of segment ", base_offset_, " is full"));
  }
  char entry[kEntrySize];
  StoreBigEndian64(entry, static_cast<uint64_t>(timestamp));
  StoreBigEndian32(entry + 8, static_cast<uint32_t>(offset - base_offset_));
  // Before the entry is published, as in OffsetIndex::Append.
  timestamps_.Set(file_->entries(), timestamp);
  return file_->Append(entry);
}

void TimeIndex::TruncateTo(int64_t offset) {
  if (offset <= base_offset_) {
    file_->TruncateToEntries(0);
    return;
  }
  // Offsets never decrease along the slots: keep the slots up to the last
  // one below `offset`.
  const int64_t slot = file_->FindLargestSlotAtMost(
      static_cast<uint64_t>(offset - base_offset_ - 1),
      [this](size_t s) -> uint64_t {
        return LoadBigEndian32(file_->entry(s) + 8);
      });
  file_->TruncateToEntries(static_cast<size_t>(slot + 1));
}

absl::Status TimeIndex::SanityCheck(int64_t next_offset) const {
  const size_t count = file_->entries();
  if (count == 0) return absl::OkStatus();
  const TimestampOffset last = EntryAt(count - 1);
  if (last.offset >= next_offset) {
    return absl::DataLossError(
        absl::StrCat("time index: last entry offset ", last.offset,
                     " is not below the segment's next offset ", next_offset));
  }
  if (count >= 2) {
    const TimestampOffset previous = EntryAt(count - 2);
    if (previous.timestamp >= last.timestamp || previous.offset > last.offset) {
      return absl::DataLossError(
          absl::StrCat("time index: entries ", count - 2, " and ", count - 1,
                       " are not increasing (timestamp ", previous.timestamp,
                       " -> ", last.timestamp, ", offset ", previous.offset,
                       " -> ", last.offset, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace shiplog
