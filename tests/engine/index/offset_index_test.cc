#include "engine/index/offset_index.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/format/byte_order.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::testing::HasSubstr;

constexpr int64_t kBase = 1000;

class OffsetIndexTest : public ::testing::Test {
 protected:
  std::unique_ptr<OffsetIndex> OpenForAppend(uint64_t max_bytes,
                                             size_t valid_entries = 0) {
    auto file =
        IndexFile::OpenForAppend(Env::Default(), path_, OffsetIndex::kEntrySize,
                                 max_bytes, valid_entries);
    EXPECT_OK(file);
    return std::make_unique<OffsetIndex>(kBase, *std::move(file));
  }
  std::unique_ptr<OffsetIndex> OpenReadOnly() {
    auto file =
        IndexFile::OpenReadOnly(Env::Default(), path_, OffsetIndex::kEntrySize);
    EXPECT_OK(file);
    return std::make_unique<OffsetIndex>(kBase, *std::move(file));
  }

  TempDir dir_;
  const std::string path_ = dir_.Join("00000000000000001000.index");
};

// The reference answer: a linear scan.
OffsetPosition BruteForceLookup(const std::vector<OffsetPosition>& entries,
                                int64_t target) {
  OffsetPosition best{kBase, 0};
  for (const OffsetPosition& entry : entries) {
    if (entry.offset <= target) best = entry;
  }
  return best;
}

TEST_F(OffsetIndexTest, LookupFindsLargestEntryAtOrBelowTarget) {
  // Enough entries that both the warm section (last 8 KiB) and the cold
  // part are searched.
  auto index = OpenForAppend(1 << 20);
  std::mt19937_64 random(7);
  std::vector<OffsetPosition> entries;
  int64_t offset = kBase;
  uint32_t position = 0;
  for (int i = 0; i < 5000; ++i) {
    offset += 1 + static_cast<int64_t>(random() % 50);
    position += 1 + static_cast<uint32_t>(random() % 5000);
    ASSERT_OK(index->Append(offset, position));
    entries.push_back({offset, position});
  }
  for (int64_t target = kBase - 5; target <= offset + 5; target += 7) {
    ASSERT_EQ(index->Lookup(target), BruteForceLookup(entries, target))
        << "target " << target;
  }
  for (const OffsetPosition& entry : entries) {
    EXPECT_EQ(index->Lookup(entry.offset), entry);
  }
}

TEST_F(OffsetIndexTest, LookupOnEmptyIndexOrBelowFirstEntryIsSegmentStart) {
  auto index = OpenForAppend(4096);
  EXPECT_EQ(index->Lookup(kBase + 50), (OffsetPosition{kBase, 0}));
  ASSERT_OK(index->Append(kBase + 10, 500));
  EXPECT_EQ(index->Lookup(kBase + 9), (OffsetPosition{kBase, 0}));
  EXPECT_EQ(index->Lookup(kBase - 3), (OffsetPosition{kBase, 0}));
  EXPECT_EQ(index->Lookup(kBase + 10), (OffsetPosition{kBase + 10, 500}));
}

TEST_F(OffsetIndexTest, LookupByPositionFindsBatchStartAtOrBelow) {
  auto index = OpenForAppend(4096);
  ASSERT_OK(index->Append(kBase + 10, 500));
  ASSERT_OK(index->Append(kBase + 20, 900));
  EXPECT_EQ(index->LookupByPosition(499), (OffsetPosition{kBase, 0}));
  EXPECT_EQ(index->LookupByPosition(500), (OffsetPosition{kBase + 10, 500}));
  EXPECT_EQ(index->LookupByPosition(899), (OffsetPosition{kBase + 10, 500}));
  EXPECT_EQ(index->LookupByPosition(5000), (OffsetPosition{kBase + 20, 900}));
}

TEST_F(OffsetIndexTest, AppendRejectsEntriesThatDoNotIncrease) {
  auto index = OpenForAppend(4096);
  ASSERT_OK(index->Append(kBase + 10, 500));
  EXPECT_THAT(index->Append(kBase + 10, 600),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not above the last entry")));
  EXPECT_THAT(index->Append(kBase + 11, 500),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not above the last entry")));
  EXPECT_THAT(index->Append(kBase - 1, 600),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("outside the index range")));
  EXPECT_THAT(index->Append(kBase + (int64_t{1} << 31), 600),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("outside the index range")));
  EXPECT_EQ(index->entries(), 1u);
}

TEST_F(OffsetIndexTest, EntriesAreKafkaBytesAndTrimLeavesOnlyThem) {
  auto index = OpenForAppend(4096);
  ASSERT_OK_AND_ASSIGN(FileInfo preallocated, Env::Default()->Stat(path_));
  EXPECT_EQ(preallocated.size, 4096u);
  ASSERT_OK(index->Append(kBase + 3, 0x01020304));
  ASSERT_OK(index->Append(kBase + 0x10000, 0x0a0b0c0d));
  ASSERT_OK(index->Trim());
  ASSERT_OK_AND_ASSIGN(std::string bytes, ReadSmallFile(Env::Default(), path_));
  EXPECT_EQ(bytes, std::string("\x00\x00\x00\x03\x01\x02\x03\x04"
                               "\x00\x01\x00\x00\x0a\x0b\x0c\x0d",
                               16));
  EXPECT_THAT(index->Append(kBase + 0x20000, 0x0f000000),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("closed for appends")));
}

TEST_F(OffsetIndexTest, ReopenedTrimmedIndexKeepsItsEntries) {
  {
    auto index = OpenForAppend(4096);
    ASSERT_OK(index->Append(kBase + 5, 100));
    ASSERT_OK(index->Append(kBase + 9, 300));
    ASSERT_OK(index->Trim());
  }
  auto reopened = OpenReadOnly();
  EXPECT_EQ(reopened->entries(), 2u);
  EXPECT_EQ(reopened->LastEntry(), (OffsetPosition{kBase + 9, 300}));
  auto appendable = OpenForAppend(4096, reopened->entries());
  ASSERT_OK(appendable->Append(kBase + 12, 400));
  EXPECT_EQ(appendable->Lookup(kBase + 10), (OffsetPosition{kBase + 9, 300}));
}

TEST_F(OffsetIndexTest, FullKeepsOneSlotForTheSealEntry) {
  auto index = OpenForAppend(4 * OffsetIndex::kEntrySize);
  for (int i = 1; i <= 3; ++i) {
    EXPECT_FALSE(index->IsFull());
    ASSERT_OK(index->Append(kBase + i, static_cast<uint32_t>(i * 100)));
  }
  EXPECT_TRUE(index->IsFull());
  ASSERT_OK(index->Append(kBase + 4, 400));
  EXPECT_THAT(
      index->Append(kBase + 5, 500),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("full")));
}

TEST_F(OffsetIndexTest, TruncateToForgetsEntriesAtOrAboveOffset) {
  auto index = OpenForAppend(4096);
  for (int i = 1; i <= 10; ++i) {
    ASSERT_OK(index->Append(kBase + 10 * i, static_cast<uint32_t>(i * 100)));
  }
  index->TruncateTo(kBase + 50);
  EXPECT_EQ(index->entries(), 4u);
  EXPECT_EQ(index->LastEntry(), (OffsetPosition{kBase + 40, 400}));
  index->TruncateTo(kBase + 41);
  EXPECT_EQ(index->entries(), 4u);
  index->TruncateTo(kBase);
  EXPECT_EQ(index->entries(), 0u);
}

TEST_F(OffsetIndexTest, SanityCheckRejectsImplausibleTails) {
  auto index = OpenForAppend(4096);
  ASSERT_OK(index->Append(kBase + 10, 100));
  ASSERT_OK(index->Append(kBase + 20, 200));
  EXPECT_OK(index->SanityCheck(kBase + 21, 1000));
  EXPECT_THAT(index->SanityCheck(kBase + 20, 1000),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("not below the segment's next offset")));
  EXPECT_THAT(index->SanityCheck(kBase + 21, 200),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("not inside the 200-byte log")));
}

TEST_F(OffsetIndexTest, SanityCheckRejectsZeroFilledTail) {
  // What an untrimmed, preallocated index looks like when read as if every
  // slot were an entry.
  {
    auto index = OpenForAppend(64);
    ASSERT_OK(index->Append(kBase + 10, 100));
  }
  auto reopened = OpenReadOnly();
  EXPECT_EQ(reopened->entries(), 8u);
  EXPECT_THAT(
      reopened->SanityCheck(kBase + 11, 1000),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("are not increasing")));
}

TEST_F(OffsetIndexTest, OpenReadOnlyRejectsPartialEntry) {
  ASSERT_OK(WriteFileAtomically(Env::Default(), path_, "0123456789"));
  EXPECT_THAT(
      IndexFile::OpenReadOnly(Env::Default(), path_, OffsetIndex::kEntrySize),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr("not a multiple of the 8-byte entry")));
}

TEST_F(OffsetIndexTest, SnapshotSurvivesTheFileShrinkingUnderIt) {
  auto writer = OpenForAppend(4096);
  ASSERT_OK(writer->Append(kBase + 5, 100));
  ASSERT_OK(writer->Append(kBase + 9, 300));
  ASSERT_OK_AND_ASSIGN(
      auto file,
      IndexFile::ReadSnapshot(Env::Default(), path_, OffsetIndex::kEntrySize));
  const OffsetIndex snapshot(kBase, std::move(file));
  EXPECT_EQ(snapshot.entries(), 4096u / OffsetIndex::kEntrySize);
  // The writer trims the preallocated file; a mapping of the old length
  // would fault on every page past the new end. The copy does not care.
  ASSERT_OK(writer->Trim());
  EXPECT_EQ(snapshot.EntryAt(1), (OffsetPosition{kBase + 9, 300}));
  EXPECT_EQ(snapshot.EntryAt(snapshot.entries() - 1),
            (OffsetPosition{kBase, 0}));
}

// Appends `count` entries with random gaps, from `offset` and `position`
// on, to `index` and to `entries`.
void AppendRandomEntries(OffsetIndex& index, size_t count, uint32_t seed,
                         std::vector<OffsetPosition>* entries) {
  std::mt19937 random(seed);
  int64_t offset = entries->empty() ? kBase : entries->back().offset;
  uint32_t position = entries->empty() ? 0 : entries->back().position;
  for (size_t i = 0; i < count; ++i) {
    offset += 1 + static_cast<int64_t>(random() % 40);
    position += 1 + static_cast<uint32_t>(random() % 8000);
    ASSERT_OK(index.Append(offset, position));
    entries->push_back({offset, position});
  }
}

// The reference answer from the standard library, fast enough for every
// entry of a large index.
OffsetPosition ReferenceLookup(const std::vector<OffsetPosition>& entries,
                               int64_t target) {
  const auto above = std::upper_bound(
      entries.begin(), entries.end(), target,
      [](int64_t t, const OffsetPosition& entry) { return t < entry.offset; });
  return above == entries.begin() ? OffsetPosition{kBase, 0} : *(above - 1);
}

// Lookup of every entry, its neighbours and random targets, against the
// reference.
void ExpectLookupsAgree(const OffsetIndex& index,
                        const std::vector<OffsetPosition>& entries) {
  ASSERT_EQ(index.entries(), entries.size());
  std::vector<int64_t> targets = {kBase - 1, kBase, kBase + (int64_t{1} << 40)};
  for (const OffsetPosition& entry : entries) {
    targets.insert(targets.end(),
                   {entry.offset - 1, entry.offset, entry.offset + 1});
  }
  std::mt19937_64 random(entries.size());
  const int64_t end = entries.empty() ? kBase + 10 : entries.back().offset + 10;
  for (int i = 0; i < 2000; ++i) {
    targets.push_back(kBase + static_cast<int64_t>(random() % (end - kBase)));
  }
  for (const int64_t target : targets) {
    ASSERT_EQ(index.Lookup(target), ReferenceLookup(entries, target))
        << "target " << target;
  }
}

// A full index big enough that most targets fall below the warm section
// and are found through the summary.
TEST_F(OffsetIndexTest, LookupAgreesWithBruteForceOnAFullIndex) {
  auto index = OpenForAppend(256 << 10);
  std::vector<OffsetPosition> entries;
  AppendRandomEntries(*index, (256 << 10) / OffsetIndex::kEntrySize, 1,
                      &entries);
  ExpectLookupsAgree(*index, entries);
}

TEST_F(OffsetIndexTest, LookupFollowsTruncationAndNewAppends) {
  auto index = OpenForAppend(256 << 10);
  std::vector<OffsetPosition> entries;
  AppendRandomEntries(*index, 20000, 2, &entries);
  // Cut at a summary boundary (slot 4096) and off one (slot 3001), then
  // append entries with other gaps over the forgotten ones.
  for (const size_t kept : {4096, 3001}) {
    index->TruncateTo(entries[kept].offset);
    entries.resize(kept);
    AppendRandomEntries(*index, 9000, static_cast<uint32_t>(kept), &entries);
    ExpectLookupsAgree(*index, entries);
  }
}

TEST_F(OffsetIndexTest, ReopenedIndexSummarizesTheEntriesItFinds) {
  std::vector<OffsetPosition> entries;
  {
    auto index = OpenForAppend(256 << 10);
    AppendRandomEntries(*index, 10000, 3, &entries);
    ASSERT_OK(index->Trim());
  }
  ExpectLookupsAgree(*OpenReadOnly(), entries);
  auto appendable = OpenForAppend(256 << 10, entries.size());
  AppendRandomEntries(*appendable, 5000, 4, &entries);
  ExpectLookupsAgree(*appendable, entries);
}

TEST_F(OffsetIndexTest, SnapshotSummarizesTheEntriesItCopied) {
  std::vector<OffsetPosition> entries;
  auto writer = OpenForAppend(80000);
  AppendRandomEntries(*writer, 9999, 5, &entries);
  ASSERT_OK(writer->Trim());
  ASSERT_OK_AND_ASSIGN(
      auto file,
      IndexFile::ReadSnapshot(Env::Default(), path_, OffsetIndex::kEntrySize));
  ExpectLookupsAgree(OffsetIndex(kBase, std::move(file)), entries);
}

// Readers look up while the writer appends: each answer must be an entry
// the writer wrote, at or below the target, and no older than the answer
// from the entries published when the lookup began.
TEST_F(OffsetIndexTest, ConcurrentLookupsSeeEveryPublishedEntry) {
  constexpr size_t kEntries = 60000;
  auto index = OpenForAppend(kEntries * OffsetIndex::kEntrySize + 8);
  // Offset kBase + 3i at position 100i: checkable without shared state.
  std::atomic<bool> done = false;
  std::vector<std::thread> readers;
  for (uint32_t seed = 1; seed <= 2; ++seed) {
    readers.emplace_back([&, seed] {
      std::mt19937_64 random(seed);
      while (!done.load(std::memory_order_acquire)) {
        const size_t published = index->entries();
        const int64_t target =
            kBase + static_cast<int64_t>(random() % (3 * kEntries + 10));
        const OffsetPosition found = index->Lookup(target);
        const int64_t visible_slots =
            std::min<int64_t>((target - kBase) / 3 + 1, published);
        if (visible_slots > 0) {
          ASSERT_GE(found.offset, kBase + 3 * (visible_slots - 1));
          ASSERT_LE(found.offset, target);
          ASSERT_EQ(found.offset % 3, kBase % 3);
          ASSERT_EQ(found.position, (found.offset - kBase) / 3 * 100);
        }
      }
    });
  }
  for (size_t i = 0; i < kEntries; ++i) {
    ASSERT_OK(index->Append(kBase + 3 * static_cast<int64_t>(i),
                            static_cast<uint32_t>(100 * i)));
  }
  done.store(true, std::memory_order_release);
  for (std::thread& reader : readers) reader.join();
}

TEST(IndexFileTest, OpenForAppendNeedsRoomForTwoEntries) {
  TempDir dir;
  EXPECT_THAT(
      IndexFile::OpenForAppend(Env::Default(), dir.Join("x.index"), 8, 15, 0),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("need at least 2")));
}

}  // namespace
}  // namespace shiplog
