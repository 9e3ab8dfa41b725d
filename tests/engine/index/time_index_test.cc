#include "engine/index/time_index.h"

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::testing::HasSubstr;

constexpr int64_t kBase = 500;

class TimeIndexTest : public ::testing::Test {
 protected:
  std::unique_ptr<TimeIndex> Open(uint64_t max_bytes) {
    auto file = IndexFile::OpenForAppend(Env::Default(), path_,
                                         TimeIndex::kEntrySize, max_bytes, 0);
    EXPECT_OK(file);
    return std::make_unique<TimeIndex>(kBase, *std::move(file));
  }

  TempDir dir_;
  const std::string path_ = dir_.Join("00000000000000000500.timeindex");
};

TEST_F(TimeIndexTest, AppendsOnlyWhenTheLargestTimestampGrows) {
  auto index = Open(4096);
  ASSERT_OK(index->MaybeAppend(-1, kBase));  // no timestamps: no entry
  EXPECT_EQ(index->entries(), 0u);
  ASSERT_OK(index->MaybeAppend(1000, kBase + 1));
  ASSERT_OK(index->MaybeAppend(1000, kBase + 5));
  ASSERT_OK(index->MaybeAppend(900, kBase + 6));
  ASSERT_OK(index->MaybeAppend(1001, kBase + 7));
  EXPECT_EQ(index->entries(), 2u);
  EXPECT_EQ(index->EntryAt(0), (TimestampOffset{1000, kBase + 1}));
  EXPECT_EQ(index->EntryAt(1), (TimestampOffset{1001, kBase + 7}));
  EXPECT_THAT(index->MaybeAppend(2000, kBase + 6),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("below the last entry's offset")));
}

TEST_F(TimeIndexTest, LookupFindsLargestTimestampAtOrBelowTarget) {
  auto index = Open(1 << 20);
  for (int i = 0; i < 3000; ++i) {
    ASSERT_OK(index->MaybeAppend(10'000 + 10 * i, kBase + 3 * i));
  }
  EXPECT_EQ(index->Lookup(9'999), (TimestampOffset{-1, kBase}));
  EXPECT_EQ(index->Lookup(10'000), (TimestampOffset{10'000, kBase}));
  EXPECT_EQ(index->Lookup(10'015), (TimestampOffset{10'010, kBase + 3}));
  EXPECT_EQ(index->Lookup(10'000 + 10 * 2999 + 5),
            (TimestampOffset{10'000 + 10 * 2999, kBase + 3 * 2999}));
  EXPECT_EQ(index->Lookup(10'000 + 10 * 2000),
            (TimestampOffset{10'000 + 10 * 2000, kBase + 3 * 2000}));
}

TEST_F(TimeIndexTest, EntriesAreKafkaBytes) {
  auto index = Open(4096);
  ASSERT_OK(index->MaybeAppend(0x0102030405060708, kBase + 0x0a0b));
  ASSERT_OK(index->Trim());
  ASSERT_OK_AND_ASSIGN(std::string bytes, ReadSmallFile(Env::Default(), path_));
  EXPECT_EQ(bytes, std::string(
                       "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x00\x0a\x0b", 12));
}

TEST_F(TimeIndexTest, RollMayUseTheReservedLastSlot) {
  auto index = Open(3 * TimeIndex::kEntrySize);
  ASSERT_OK(index->MaybeAppend(100, kBase));
  ASSERT_OK(index->MaybeAppend(200, kBase + 1));
  EXPECT_TRUE(index->IsFull());
  EXPECT_THAT(
      index->MaybeAppend(300, kBase + 2),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("full")));
  ASSERT_OK(index->MaybeAppend(300, kBase + 2, /*for_roll=*/true));
  EXPECT_EQ(index->LastEntry(), (TimestampOffset{300, kBase + 2}));
}

TEST_F(TimeIndexTest, TruncateToForgetsEntriesAtOrAboveOffset) {
  auto index = Open(4096);
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(index->MaybeAppend(100 * (i + 1), kBase + 10 * i));
  }
  index->TruncateTo(kBase + 35);
  EXPECT_EQ(index->entries(), 4u);
  EXPECT_EQ(index->LastEntry(), (TimestampOffset{400, kBase + 30}));
  index->TruncateTo(kBase);
  EXPECT_EQ(index->entries(), 0u);
}

// Appends `count` entries with random timestamp and offset gaps.
void AppendRandomEntries(TimeIndex& index, size_t count, uint32_t seed,
                         std::vector<TimestampOffset>* entries) {
  std::mt19937 random(seed);
  int64_t timestamp =
      entries->empty() ? 1'700'000'000'000 : entries->back().timestamp;
  int64_t offset = entries->empty() ? kBase : entries->back().offset;
  for (size_t i = 0; i < count; ++i) {
    timestamp += 1 + static_cast<int64_t>(random() % 1000);
    offset += static_cast<int64_t>(random() % 30);
    ASSERT_OK(index.MaybeAppend(timestamp, offset));
    entries->push_back({timestamp, offset});
  }
}

// Lookup of every timestamp, its neighbours and random targets, against
// the standard library's answer.
void ExpectLookupsAgree(const TimeIndex& index,
                        const std::vector<TimestampOffset>& entries) {
  ASSERT_EQ(index.entries(), entries.size());
  std::vector<int64_t> targets = {-1, 0, std::numeric_limits<int64_t>::max()};
  for (const TimestampOffset& entry : entries) {
    targets.insert(targets.end(),
                   {entry.timestamp - 1, entry.timestamp, entry.timestamp + 1});
  }
  for (const int64_t target : targets) {
    const auto above = std::upper_bound(
        entries.begin(), entries.end(), target,
        [](int64_t t, const TimestampOffset& e) { return t < e.timestamp; });
    const TimestampOffset expected =
        above == entries.begin() ? TimestampOffset{-1, kBase} : *(above - 1);
    ASSERT_EQ(index.Lookup(target), expected) << "target " << target;
  }
}

// A full index, searched live and then, trimmed, reopened read-only as a
// closed segment's index is: its summary then comes from the file.
TEST_F(TimeIndexTest, LookupAgreesWithTheReferenceLiveAndReopened) {
  std::vector<TimestampOffset> entries;
  auto writer = Open(240 << 10);
  AppendRandomEntries(*writer, (240 << 10) / TimeIndex::kEntrySize - 1, 1,
                      &entries);
  ExpectLookupsAgree(*writer, entries);
  ASSERT_OK(writer->Trim());
  absl::StatusOr<std::unique_ptr<IndexFile>> reopened =
      IndexFile::OpenReadOnly(Env::Default(), path_, TimeIndex::kEntrySize);
  ASSERT_OK(reopened);
  ExpectLookupsAgree(TimeIndex(kBase, *std::move(reopened)), entries);
}

// Truncation keeps the entries below the cut offset; appends after it
// refill the slots (and their summary keys) with other timestamps.
TEST_F(TimeIndexTest, LookupFollowsTruncationAndNewAppends) {
  auto index = Open(240 << 10);
  std::vector<TimestampOffset> entries;
  AppendRandomEntries(*index, 12000, 2, &entries);
  const int64_t cut = entries[5000].offset;
  std::erase_if(entries, [cut](const TimestampOffset& entry) {
    return entry.offset >= cut;
  });
  index->TruncateTo(cut);
  ASSERT_EQ(index->entries(), entries.size());
  AppendRandomEntries(*index, 4000, 3, &entries);
  ExpectLookupsAgree(*index, entries);
}

TEST_F(TimeIndexTest, SanityCheckRejectsDecreasingTail) {
  auto index = Open(4096);
  ASSERT_OK(index->MaybeAppend(100, kBase + 1));
  ASSERT_OK(index->MaybeAppend(200, kBase + 2));
  EXPECT_OK(index->SanityCheck(kBase + 3));
  EXPECT_THAT(index->SanityCheck(kBase + 2),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("not below the segment's next offset")));
}

}  // namespace
}  // namespace shiplog
