// The index half of segment_dump.h: printing and verifying .index and
// .timeindex files.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/segment_dump.h"
#include "bindings/cli/status_macros.h"
#include "shiplog.h"

namespace shiplog::cli {
namespace {

// The slots of an index file, as shiplog_index_reader_get returns them.
using IndexEntries = std::vector<shiplog_index_entry>;

bool SameEntry(const shiplog_index_entry& a, const shiplog_index_entry& b) {
  return a.key == b.key && a.value == b.value;
}

// Calls `visit` for each slot in use of the index at `path`, then reports
// the preallocated slots after them.
//
// An active segment's index is preallocated and zero-filled, so a run of
// all-zero slots (`empty_entry`, with absolute offsets) at the end is
// unused space; but a file of exactly one slot was trimmed to its entries,
// and its one entry may be all zeros (an offset index: the base offset at
// position 0).
absl::Status VisitIndex(const std::string& path,
                        const shiplog_index_entry& empty_entry, DumpOutput& out,
                        const std::function<void(const IndexEntries& entries,
                                                 size_t slot)>& visit) {
  shiplog_index_reader* opened = nullptr;
  const int status = shiplog_index_reader_open(&opened, path.c_str());
  const Owned<shiplog_index_reader> reader(opened);
  if (status == SHIPLOG_ECORRUPT) {
    // Not a whole number of entries: a problem to report, not an error.
    out.Problem(path, AbiStatus(status));
    return absl::OkStatus();
  }
  RETURN_IF_ERROR(AbiStatus(status));
  int kind = 0;
  uint64_t slots = 0;
  RETURN_IF_ERROR(
      AbiStatus(shiplog_index_reader_info(&kind, &slots, reader.get())));
  IndexEntries entries(slots);
  for (uint64_t slot = 0; slot < slots; ++slot) {
    RETURN_IF_ERROR(AbiStatus(
        shiplog_index_reader_get(&entries[slot], reader.get(), slot)));
  }
  size_t used = entries.size();
  while (used > 0 && SameEntry(entries[used - 1], empty_entry)) --used;
  if (entries.size() == 1) used = 1;
  for (size_t slot = 0; slot < used; ++slot) visit(entries, slot);
  if (used < entries.size()) {
    out.Line(absl::StrCat(entries.size() - used, " preallocated empty slots"));
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

// What an index's entries mean: (offset, position) or (timestamp, offset).
struct IndexKind {
  const char* key_name;
  const char* value_name;
};
constexpr IndexKind kOffsetIndex = {"offset", "position"};
constexpr IndexKind kTimeIndex = {"timestamp", "offset"};

std::string EntryName(const IndexKind& kind, size_t slot,
                      const shiplog_index_entry& entry) {
  return absl::StrCat("entry ", slot, " (", kind.key_name, " ", entry.key, " ",
                      kind.value_name, " ", entry.value, ")");
}

// Reports entry `slot` unless `in_order(previous, entry)` holds for the
// entry before it.
template <typename InOrder>
void CheckFollows(const std::string& path, const IndexKind& kind,
                  const IndexEntries& entries, size_t slot,
                  const InOrder& in_order, DumpOutput& out) {
  if (slot == 0) return;
  const shiplog_index_entry& previous = entries[slot - 1];
  const shiplog_index_entry& entry = entries[slot];
  if (!in_order(previous, entry)) {
    out.Problem(path,
                absl::StrCat(EntryName(kind, slot, entry), " does not follow ",
                             EntryName(kind, slot - 1, previous)));
  }
}

// An offset index entry is (offset, position).
void CheckOffsetEntry(const std::string& path, const IndexEntries& entries,
                      size_t slot, const LogFileScan& log, DumpOutput& out) {
  CheckFollows(
      path, kOffsetIndex, entries, slot,
      [](const shiplog_index_entry& previous,
         const shiplog_index_entry& entry) {
        return entry.key > previous.key && entry.value > previous.value;
      },
      out);
  const shiplog_index_entry& entry = entries[slot];
  const BatchSummary* batch = BatchAt(log, static_cast<uint64_t>(entry.value));
  if (batch == nullptr) {
    out.Problem(path,
                absl::StrCat(EntryName(kOffsetIndex, slot, entry),
                             ": no batch starts at position ", entry.value));
  } else if (batch->last_offset != entry.key) {
    out.Problem(path, absl::StrCat(EntryName(kOffsetIndex, slot, entry),
                                   ": the batch there ends at offset ",
                                   batch->last_offset));
  }
}

// A time index entry is (timestamp, offset). `running_max[i]`: the largest
// maxTimestamp of the log's batches 0..i.
void CheckTimeEntry(const std::string& path, const IndexEntries& entries,
                    size_t slot, const LogFileScan& log,
                    const std::vector<int64_t>& running_max, DumpOutput& out) {
  CheckFollows(
      path, kTimeIndex, entries, slot,
      [](const shiplog_index_entry& previous,
         const shiplog_index_entry& entry) {
        return entry.key > previous.key && entry.value >= previous.value;
      },
      out);
  const shiplog_index_entry& entry = entries[slot];
  const BatchSummary* batch = BatchHolding(log, entry.value);
  if (batch == nullptr) {
    out.Problem(path, absl::StrCat(EntryName(kTimeIndex, slot, entry),
                                   ": the offset is in no batch of the "
                                   "segment"));
    return;
  }
  const int64_t expected = running_max[batch - log.batches.data()];
  if (entry.key != expected) {
    out.Problem(path, absl::StrCat(EntryName(kTimeIndex, slot, entry),
                                   ": the largest timestamp up to that "
                                   "offset is ",
                                   expected));
  }
}

}  // namespace

absl::Status DumpOffsetIndexFile(const std::string& path, int64_t base_offset,
                                 const LogFileScan* log, DumpOutput& out) {
  return VisitIndex(
      path, shiplog_index_entry{base_offset, 0}, out,
      [&](const IndexEntries& entries, size_t slot) {
        out.Line(absl::StrCat("offset: ", entries[slot].key,
                              " position: ", entries[slot].value));
        if (log != nullptr) CheckOffsetEntry(path, entries, slot, *log, out);
      });
}

absl::Status DumpTimeIndexFile(const std::string& path, int64_t base_offset,
                               const LogFileScan* log, DumpOutput& out) {
  std::vector<int64_t> running_max;
  if (log != nullptr) {
    int64_t max_timestamp = SHIPLOG_NO_TIMESTAMP;
    for (const BatchSummary& batch : log->batches) {
      max_timestamp = std::max(max_timestamp, batch.max_timestamp);
      running_max.push_back(max_timestamp);
    }
  }
  return VisitIndex(path, shiplog_index_entry{0, base_offset}, out,
                    [&](const IndexEntries& entries, size_t slot) {
                      out.Line(absl::StrCat("timestamp: ", entries[slot].key,
                                            " offset: ", entries[slot].value));
                      if (log != nullptr) {
                        CheckTimeEntry(path, entries, slot, *log, running_max,
                                       out);
                      }
                    });
}

}  // namespace shiplog::cli
