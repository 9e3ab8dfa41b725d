#include "engine/index/time_index.h"

#include <string>

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
