// index_fuzz: loading an offset or time index from arbitrary file contents,
// then sanity checks, lookups, appends and truncation (README.md,
// "index_fuzz"). Whatever the file holds, nothing may crash; where the
// file's keys are sorted, every lookup must match a plain search of the
// entries, so the summary and warm-section search are checked too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/format/byte_order.h"
#include "engine/format/record_batch.h"
#include "engine/index/index_file.h"
#include "engine/index/offset_index.h"
#include "engine/index/time_index.h"
#include "engine/io/env.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/scratch_dir.h"

namespace shiplog::fuzz {
namespace {

constexpr uint8_t kTimeIndex = 0x01;
constexpr uint8_t kOpenModeMask = 0x06;  // bits 1-2
constexpr uint8_t kOpenReadOnly = 0x00;
constexpr uint8_t kReadSnapshot = 0x02;
constexpr uint8_t kOpenForAppend = 0x04;
constexpr uint8_t kOpenForAppendShrunk = 0x06;
constexpr uint8_t kSortColumns = 0x08;

// More lookups than this per input and runs get slow; sample instead.
constexpr size_t kMaxSlotsProbed = 512;

// The entries as the file holds them, decoded by the spec (INDEX.md) rather
// than by the index classes.
struct Entry {
  int64_t key;     // relative offset (offset index) or timestamp
  uint64_t value;  // position (offset index) or relative offset
};

// base + relative, wrapping around (the harness's own arithmetic must not
// be what overflows).
int64_t AddRelative(int64_t base, uint64_t relative) {
  return static_cast<int64_t>(static_cast<uint64_t>(base) + relative);
}

std::vector<Entry> DecodeEntries(absl::string_view file, bool time) {
  const size_t entry_size =
      time ? TimeIndex::kEntrySize : OffsetIndex::kEntrySize;
  std::vector<Entry> entries;
  for (size_t at = 0; at + entry_size <= file.size(); at += entry_size) {
    const char* entry = file.data() + at;
    if (time) {
      entries.push_back({static_cast<int64_t>(LoadBigEndian64(entry)),
                         LoadBigEndian32(entry + 8)});
    } else {
      entries.push_back({LoadBigEndian32(entry), LoadBigEndian32(entry + 4)});
    }
  }
  return entries;
}

// Sorts each column of whole entries on its own: a plausible index from
// random bytes.
std::string SortColumns(absl::string_view file, bool time) {
  std::vector<Entry> entries = DecodeEntries(file, time);
  std::vector<int64_t> keys;
  std::vector<uint64_t> values;
  for (const Entry& entry : entries) {
    keys.push_back(entry.key);
    values.push_back(entry.value);
  }
  std::sort(keys.begin(), keys.end());
  std::sort(values.begin(), values.end());
  std::string out(file);
  const size_t entry_size =
      time ? TimeIndex::kEntrySize : OffsetIndex::kEntrySize;
  for (size_t i = 0; i < entries.size(); ++i) {
    char* entry = out.data() + i * entry_size;
    if (time) {
      StoreBigEndian64(entry, static_cast<uint64_t>(keys[i]));
      StoreBigEndian32(entry + 8, static_cast<uint32_t>(values[i]));
    } else {
      StoreBigEndian32(entry, static_cast<uint32_t>(keys[i]));
      StoreBigEndian32(entry + 4, static_cast<uint32_t>(values[i]));
    }
  }
  return out;
}

template <typename Column>
bool NonDecreasing(const std::vector<Entry>& entries, Column column) {
  for (size_t i = 1; i < entries.size(); ++i) {
    if (column(entries[i]) < column(entries[i - 1])) return false;
  }
  return true;
}

// The largest slot whose column value is <= target, or -1: what the index
// must answer. The column must be sorted.
template <typename Column, typename Target>
int64_t ReferenceSlot(const std::vector<Entry>& entries, Column column,
                      Target target) {
  const auto after = std::upper_bound(
      entries.begin(), entries.end(), target,
      [&](Target t, const Entry& entry) { return t < column(entry); });
  return static_cast<int64_t>(after - entries.begin()) - 1;
}

// The slots to probe: all of them, or an even sample of a large index.
std::vector<size_t> ProbedSlots(size_t count) {
  std::vector<size_t> slots;
  const size_t step = std::max<size_t>(1, count / kMaxSlotsProbed);
  for (size_t slot = 0; slot < count; slot += step) slots.push_back(slot);
  if (count > 0 && slots.back() != count - 1) slots.push_back(count - 1);
  return slots;
}

void CheckOffsetIndex(OffsetIndex& index, const std::vector<Entry>& entries,
                      int64_t base, FuzzInput& input, bool appendable) {
  FUZZ_CHECK(index.entries() == entries.size(), "%zu entries, file has %zu",
             index.entries(), entries.size());
  const auto relative = [](const Entry& e) { return e.key; };
  const auto position = [](const Entry& e) { return e.value; };
  const bool offsets_sorted = NonDecreasing(entries, relative);
  const bool positions_sorted = NonDecreasing(entries, position);

  std::vector<int64_t> targets = {std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max(), base,
                                  base - 1};
  for (const size_t slot : ProbedSlots(entries.size())) {
    const int64_t offset = AddRelative(base, entries[slot].key);
    targets.insert(targets.end(), {AddRelative(offset, -1), offset,
                                   AddRelative(offset, 1)});
  }
  for (const int64_t target : targets) {
    const OffsetPosition found = index.Lookup(target);
    if (!offsets_sorted || target < base) continue;
    const uint64_t relative_target =
        std::min<uint64_t>(static_cast<uint64_t>(target) -
                               static_cast<uint64_t>(base),
                           std::numeric_limits<uint32_t>::max());
    const int64_t slot = ReferenceSlot(
        entries, relative, static_cast<int64_t>(relative_target));
    const OffsetPosition expected =
        slot < 0 ? OffsetPosition{base, 0}
                 : OffsetPosition{
                       AddRelative(base, entries[slot].key),
                       static_cast<uint32_t>(entries[slot].value)};
    FUZZ_CHECK(found == expected,
               "Lookup(%lld) = (%lld, %u), expected (%lld, %u)",
               static_cast<long long>(target),
               static_cast<long long>(found.offset), found.position,
               static_cast<long long>(expected.offset), expected.position);
  }
  for (const size_t slot : ProbedSlots(entries.size())) {
    for (const uint64_t target :
         {entries[slot].value, entries[slot].value + 1,
          entries[slot].value - 1}) {
      const OffsetPosition found = index.LookupByPosition(target);
      if (!positions_sorted) continue;
      const int64_t expected_slot = ReferenceSlot(entries, position, target);
      const uint32_t expected =
          expected_slot < 0 ? 0
                            : static_cast<uint32_t>(entries[expected_slot].value);
      FUZZ_CHECK(found.position == expected,
                 "LookupByPosition(%llu) = %u, expected %u",
                 static_cast<unsigned long long>(target), found.position,
                 expected);
    }
  }
  const auto next_offset = static_cast<int64_t>(input.U64());
  const uint32_t log_size = input.U32();
  (void)index.SanityCheck(next_offset, log_size);
  (void)index.SanityCheck(std::numeric_limits<int64_t>::max(),
                          std::numeric_limits<uint64_t>::max());
  if (!appendable) return;

  // The writer's side: appends above the last entry, then a truncation.
  const int appends = input.Byte() % 8;
  for (int i = 0; i < appends; ++i) {
    const std::optional<OffsetPosition> last = index.LastEntry();
    const int64_t offset = last ? AddRelative(last->offset, 1 + input.Byte())
                                : AddRelative(base, input.Byte());
    const uint32_t step = input.U16();
    const uint32_t at = last ? last->position + 1 + step : step;
    const size_t before = index.entries();
    const absl::Status appended = index.Append(offset, at);
    if (appended.ok()) {
      FUZZ_CHECK(index.entries() == before + 1 &&
                     index.LastEntry() == (OffsetPosition{offset, at}),
                 "an append did not land");
    } else {
      FUZZ_CHECK(absl::IsInvalidArgument(appended) ||
                     absl::IsFailedPrecondition(appended),
                 "append: %s", appended.ToString().c_str());
    }
  }
  const int64_t cut = AddRelative(base, input.U32());
  index.TruncateTo(cut);
  if (offsets_sorted) {
    const std::optional<OffsetPosition> last = index.LastEntry();
    FUZZ_CHECK(!last || last->offset < cut, "an entry at or past the cut");
  }
  (void)index.Lookup(cut);
  (void)index.Trim();
}

void CheckTimeIndex(TimeIndex& index, const std::vector<Entry>& entries,
                    int64_t base, FuzzInput& input, bool appendable) {
  FUZZ_CHECK(index.entries() == entries.size(), "%zu entries, file has %zu",
             index.entries(), entries.size());
  const auto timestamp = [](const Entry& e) { return e.key; };
  const bool sorted = NonDecreasing(entries, timestamp);
  std::vector<int64_t> targets = {std::numeric_limits<int64_t>::min(),
                                  std::numeric_limits<int64_t>::max(), -1, 0};
  for (const size_t slot : ProbedSlots(entries.size())) {
    const int64_t key = entries[slot].key;
    targets.insert(targets.end(),
                   {key, static_cast<int64_t>(static_cast<uint64_t>(key) - 1),
                    static_cast<int64_t>(static_cast<uint64_t>(key) + 1)});
  }
  for (const int64_t target : targets) {
    const TimestampOffset found = index.Lookup(target);
    if (!sorted) continue;
    const int64_t slot = ReferenceSlot(entries, timestamp, target);
    const TimestampOffset expected =
        slot < 0 ? TimestampOffset{-1, base}
                 : TimestampOffset{entries[slot].key,
                                   AddRelative(base, entries[slot].value)};
    FUZZ_CHECK(found == expected,
               "Lookup(%lld) = (%lld, %lld), expected (%lld, %lld)",
               static_cast<long long>(target),
               static_cast<long long>(found.timestamp),
               static_cast<long long>(found.offset),
               static_cast<long long>(expected.timestamp),
               static_cast<long long>(expected.offset));
  }
  (void)index.SanityCheck(static_cast<int64_t>(input.U64()));
  (void)index.SanityCheck(std::numeric_limits<int64_t>::max());
  if (!appendable) return;

  const int appends = input.Byte() % 8;
  for (int i = 0; i < appends; ++i) {
    const std::optional<TimestampOffset> last = index.LastEntry();
    const int64_t latest = last ? last->timestamp : -1;
    const int64_t at =
        static_cast<int64_t>(static_cast<uint64_t>(latest) + input.U16());
    const int64_t offset = AddRelative(last ? last->offset : base,
                                       input.Byte());
    const bool for_roll = (input.Byte() & 1) != 0;
    const size_t before = index.entries();
    const absl::Status appended =
        index.MaybeAppend(at, offset, for_roll);
    if (!appended.ok()) {
      FUZZ_CHECK(absl::IsInvalidArgument(appended) ||
                     absl::IsFailedPrecondition(appended),
                 "append: %s", appended.ToString().c_str());
    } else if (index.entries() == before + 1) {
      FUZZ_CHECK(index.LastEntry() == (TimestampOffset{at, offset}),
                 "an append did not land");
    }
  }
  const int64_t cut = AddRelative(base, input.U32());
  index.TruncateTo(cut);
  if (NonDecreasing(entries, [](const Entry& e) { return e.value; })) {
    const std::optional<TimestampOffset> last = index.LastEntry();
    FUZZ_CHECK(!last || last->offset < cut, "an entry at or past the cut");
  }
  (void)index.Lookup(input.I64());
  (void)index.Trim();
}

}  // namespace
}  // namespace shiplog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shiplog;        // NOLINT(build/namespaces)
  using namespace shiplog::fuzz;  // NOLINT(build/namespaces)
  FuzzInput input(data, size);
  const uint8_t flags = input.Byte();
  // A base offset a segment file name can hold: 0 to kLogOffsetLimit.
  const int64_t base = std::min(
      static_cast<int64_t>(input.U64() & std::numeric_limits<int64_t>::max()),
      kLogOffsetLimit);
  const uint16_t extra_slots = input.U16();
  const absl::string_view tail = input.LengthPrefixed();
  const bool time = (flags & kTimeIndex) != 0;
  const std::string contents =
      (flags & kSortColumns) != 0 ? SortColumns(tail, time) : std::string(tail);
  const size_t entry_size =
      time ? TimeIndex::kEntrySize : OffsetIndex::kEntrySize;

  ScratchDir dir;
  const std::string path = dir.Join(time ? "00000000000000000000.timeindex"
                                         : "00000000000000000000.index");
  WriteFileOrDie(path, contents);
  Env* env = Env::Default();
  const size_t whole_entries = contents.size() / entry_size;
  const bool whole = contents.size() % entry_size == 0;
  absl::StatusOr<std::unique_ptr<IndexFile>> file;
  bool appendable = false;
  switch (flags & kOpenModeMask) {
    case kOpenReadOnly:
      file = IndexFile::OpenReadOnly(env, path, entry_size);
      break;
    case kReadSnapshot:
      file = IndexFile::ReadSnapshot(env, path, entry_size);
      break;
    case kOpenForAppend:
      appendable = true;
      file = IndexFile::OpenForAppend(
          env, path, entry_size,
          (whole_entries + extra_slots % 64) * entry_size, whole_entries);
      break;
    case kOpenForAppendShrunk:
      // Room for fewer entries than the file has: refused.
      appendable = true;
      file = IndexFile::OpenForAppend(env, path, entry_size,
                                      extra_slots % 4 * entry_size,
                                      whole_entries);
      break;
  }
  if (!file.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(file.status()) ||
                   absl::IsInvalidArgument(file.status()),
               "opening the index: %s", file.status().ToString().c_str());
    return 0;
  }
  FUZZ_CHECK(whole || appendable, "a partial entry was accepted");
  std::vector<Entry> entries = DecodeEntries(contents, time);
  if (time) {
    TimeIndex index(base, *std::move(file));
    CheckTimeIndex(index, entries, base, input, appendable);
  } else {
    OffsetIndex index(base, *std::move(file));
    CheckOffsetIndex(index, entries, base, input, appendable);
  }
  return 0;
}
