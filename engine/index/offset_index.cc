#include "engine/index/offset_index.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/format/byte_order.h"

namespace shiplog {

OffsetIndex::OffsetIndex(int64_t base_offset, std::unique_ptr<IndexFile> file)
    : base_offset_(base_offset),
      file_(std::move(file)),
      relative_offsets_(
          file_->max_entries(), file_->entries(),
          [this](size_t slot) { return RelativeOffsetAt(slot); }) {}

OffsetPosition OffsetIndex::EntryAt(size_t slot) const {
  const char* entry = file_->entry(slot);
  return {base_offset_ + LoadBigEndian32(entry), LoadBigEndian32(entry + 4)};
}

std::optional<OffsetPosition> OffsetIndex::LastEntry() const {
  const size_t count = file_->entries();
  if (count == 0) return std::nullopt;
  return EntryAt(count - 1);
}

OffsetPosition OffsetIndex::Lookup(int64_t target_offset) const {
  if (target_offset < base_offset_) return {base_offset_, 0};
  // Relative offsets are 32-bit: every one is <= a target beyond them.
  const auto relative_target = static_cast<uint32_t>(
      std::min<uint64_t>(static_cast<uint64_t>(target_offset - base_offset_),
                         std::numeric_limits<uint32_t>::max()));
  const int64_t slot = file_->FindLargestSlotAtMost(
      relative_target, [this](size_t s) { return RelativeOffsetAt(s); },
      &relative_offsets_);
  if (slot < 0) return {base_offset_, 0};
  return EntryAt(static_cast<size_t>(slot));
}

OffsetPosition OffsetIndex::LookupByPosition(uint64_t target_position) const {
  const int64_t slot = file_->FindLargestSlotAtMost(
      target_position, [this](size_t s) -> uint64_t {
        return LoadBigEndian32(file_->entry(s) + 4);
      });
  if (slot < 0) return {base_offset_, 0};
  return EntryAt(static_cast<size_t>(slot));
}

absl::Status OffsetIndex::Append(int64_t offset, uint32_t position) {
  if (offset < base_offset_ ||
      offset - base_offset_ > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("offset ", offset, " is outside the index range of base ",
                     base_offset_));
  }
  if (const auto last = LastEntry();
      last && (offset <= last->offset || position <= last->position)) {
    return absl::InvalidArgumentError(
        absl::StrCat("index entry (offset ", offset, ", position ", position,
                     ") is not above the last entry (offset ", last->offset,
                     ", position ", last->position, ")"));
  }
  const auto relative_offset = static_cast<uint32_t>(offset - base_offset_);
  char entry[kEntrySize];
  StoreBigEndian32(entry, relative_offset);
  StoreBigEndian32(entry + 4, position);
  // Before the entry is published: its count must not make an unset
  // summary key reachable. Should the append fail, the key sits beyond the
  // count, unreachable, until the slot is filled again.
  relative_offsets_.Set(file_->entries(), relative_offset);
  return file_->Append(entry);
}

void OffsetIndex::TruncateTo(int64_t offset) {
  if (offset <= base_offset_) {
    file_->TruncateToEntries(0);
    return;
  }
  // Entries are sorted by offset: keep the slots up to the last one below
  // `offset`.
  const auto last_kept = static_cast<uint32_t>(
      std::min<uint64_t>(static_cast<uint64_t>(offset - base_offset_ - 1),
                         std::numeric_limits<uint32_t>::max()));
  const int64_t slot = file_->FindLargestSlotAtMost(
      last_kept, [this](size_t s) { return RelativeOffsetAt(s); },
      &relative_offsets_);
  file_->TruncateToEntries(static_cast<size_t>(slot + 1));
}

absl::Status OffsetIndex::SanityCheck(int64_t next_offset,
                                      uint64_t log_size) const {
  const size_t count = file_->entries();
  if (count == 0) return absl::OkStatus();
  const OffsetPosition last = EntryAt(count - 1);
  if (last.offset >= next_offset) {
    return absl::DataLossError(
        absl::StrCat("offset index: last entry offset ", last.offset,
                     " is not below the segment's next offset ", next_offset));
  }
  if (last.position >= log_size) {
    return absl::DataLossError(
        absl::StrCat("offset index: last entry position ", last.position,
                     " is not inside the ", log_size, "-byte log"));
  }
  if (count >= 2) {
    const OffsetPosition previous = EntryAt(count - 2);
    if (previous.offset >= last.offset || previous.position >= last.position) {
      return absl::DataLossError(absl::StrCat(
          "offset index: entries ", count - 2, " and ", count - 1,
          " are not increasing (offset ", previous.offset, " -> ", last.offset,
          ", position ", previous.position, " -> ", last.position, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace shiplog
