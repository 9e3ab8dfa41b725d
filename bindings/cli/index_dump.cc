// The index half of segment_dump.h: printing and verifying .index and
// .timeindex files.
#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/segment_dump.h"
#include "engine/format/record_batch.h"
#include "engine/index/index_file.h"
#include "engine/index/offset_index.h"
#include "engine/index/time_index.h"
#include "engine/io/env.h"
#include "engine/status/status_macros.h"

namespace shiplog::cli {
namespace {

// Calls `visit` for each slot in use of the index at `path` (an OffsetIndex
// or a TimeIndex), then reports the preallocated slots after them.
//
// An active segment's index is preallocated and zero-filled, so a run of
// all-zero slots (`empty_entry`) at the end is unused space; but a file of
// exactly one slot was trimmed to its entries, and its one entry may be all
// zeros (an offset index: the base offset at position 0).
template <typename Index, typename Entry>
absl::Status VisitIndex(
    const std::string& path, int64_t base_offset, const Entry& empty_entry,
    DumpOutput& out,
    const std::function<void(const Index& index, size_t slot)>& visit) {
  absl::StatusOr<std::unique_ptr<IndexFile>> file =
      IndexFile::ReadSnapshot(Env::Default(), path, Index::kEntrySize);
  if (absl::IsDataLoss(file.status())) {
    // Not a whole number of entries: a problem to report, not an error.
    out.Problem(path, file.status());
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(file.status());
  const Index index(base_offset, *std::move(file));
  const size_t slots = index.entries();
  size_t used = slots;
  while (used > 0 && index.EntryAt(used - 1) == empty_entry) --used;
  if (slots == 1) used = 1;
  for (size_t slot = 0; slot < used; ++slot) visit(index, slot);
  if (used < slots) {
    out.Line(absl::StrCat(slots - used, " preallocated empty slots"));
  }
  return absl::OkStatus();
}

// The batch of `log` holding `offset`, or nullptr.
const BatchSummary* BatchHolding(const LogFileScan& log, int64_t offset) {
  auto it = std::lower_bound(log.batches.begin(), log.batches.end(), offset,
                             [](const BatchSummary& batch, int64_t target) {
                               return batch.last_offset < target;
                             });
  if (it == log.batches.end() || it->base_offset > offset) return nullptr;
  return &*it;
}

// The batch of `log` starting at `position`, or nullptr.
const BatchSummary* BatchAt(const LogFileScan& log, uint64_t position) {
  auto it = std::lower_bound(log.batches.begin(), log.batches.end(), position,
                             [](const BatchSummary& batch, uint64_t target) {
                               return batch.position < target;
                             });
  if (it == log.batches.end() || it->position != position) return nullptr;
  return &*it;
}

std::string EntryName(size_t slot, const OffsetPosition& entry) {
  return absl::StrCat("entry ", slot, " (offset ", entry.offset, " position ",
                      entry.position, ")");
}

std::string EntryName(size_t slot, const TimestampOffset& entry) {
  return absl::StrCat("entry ", slot, " (timestamp ", entry.timestamp,
                      " offset ", entry.offset, ")");
}

// Reports entry `slot` of `index` unless `in_order(previous, entry)` holds
// for the entry before it.
template <typename Index, typename InOrder>
void CheckFollows(const std::string& path, const Index& index, size_t slot,
                  const InOrder& in_order, DumpOutput& out) {
  if (slot == 0) return;
  const auto previous = index.EntryAt(slot - 1);
  const auto entry = index.EntryAt(slot);
  if (!in_order(previous, entry)) {
    out.Problem(path, absl::StrCat(EntryName(slot, entry), " does not follow ",
                                   EntryName(slot - 1, previous)));
  }
}

void CheckOffsetEntry(const std::string& path, const OffsetIndex& index,
                      size_t slot, const LogFileScan& log, DumpOutput& out) {
  CheckFollows(
      path, index, slot,
      [](const OffsetPosition& previous, const OffsetPosition& entry) {
        return entry.offset > previous.offset &&
               entry.position > previous.position;
      },
      out);
  const OffsetPosition entry = index.EntryAt(slot);
  const BatchSummary* batch = BatchAt(log, entry.position);
  if (batch == nullptr) {
    out.Problem(path,
                absl::StrCat(EntryName(slot, entry),
                             ": no batch starts at position ", entry.position));
  } else if (batch->last_offset != entry.offset) {
    out.Problem(path, absl::StrCat(EntryName(slot, entry),
                                   ": the batch there ends at offset ",
                                   batch->last_offset));
  }
}

// `running_max[i]`: the largest maxTimestamp of the log's batches 0..i.
void CheckTimeEntry(const std::string& path, const TimeIndex& index,
                    size_t slot, const LogFileScan& log,
                    const std::vector<int64_t>& running_max, DumpOutput& out) {
  CheckFollows(
      path, index, slot,
      [](const TimestampOffset& previous, const TimestampOffset& entry) {
        return entry.timestamp > previous.timestamp &&
               entry.offset >= previous.offset;
      },
      out);
  const TimestampOffset entry = index.EntryAt(slot);
  const BatchSummary* batch = BatchHolding(log, entry.offset);
  if (batch == nullptr) {
    out.Problem(path, absl::StrCat(EntryName(slot, entry),
                                   ": the offset is in no batch of the "
                                   "segment"));
    return;
  }
  const int64_t expected = running_max[batch - log.batches.data()];
  if (entry.timestamp != expected) {
    out.Problem(path, absl::StrCat(EntryName(slot, entry),
                                   ": the largest timestamp up to that "
                                   "offset is ",
                                   expected));
  }
}

}  // namespace

absl::Status DumpOffsetIndexFile(const std::string& path, int64_t base_offset,
                                 const LogFileScan* log, DumpOutput& out) {
  return VisitIndex<OffsetIndex>(
      path, base_offset, OffsetPosition{base_offset, 0}, out,
      [&](const OffsetIndex& index, size_t slot) {
        const OffsetPosition entry = index.EntryAt(slot);
        out.Line(absl::StrCat("offset: ", entry.offset,
                              " position: ", entry.position));
        if (log != nullptr) CheckOffsetEntry(path, index, slot, *log, out);
      });
}

absl::Status DumpTimeIndexFile(const std::string& path, int64_t base_offset,
                               const LogFileScan* log, DumpOutput& out) {
  std::vector<int64_t> running_max;
  if (log != nullptr) {
    int64_t max_timestamp = kNoTimestamp;
    for (const BatchSummary& batch : log->batches) {
      max_timestamp = std::max(max_timestamp, batch.max_timestamp);
      running_max.push_back(max_timestamp);
    }
  }
  return VisitIndex<TimeIndex>(
      path, base_offset, TimestampOffset{0, base_offset}, out,
      [&](const TimeIndex& index, size_t slot) {
        const TimestampOffset entry = index.EntryAt(slot);
        out.Line(absl::StrCat("timestamp: ", entry.timestamp,
                              " offset: ", entry.offset));
        if (log != nullptr) {
          CheckTimeEntry(path, index, slot, *log, running_max, out);
        }
      });
}

}  // namespace shiplog::cli
