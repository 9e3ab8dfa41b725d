#include "engine/segment/segment.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/format/byte_order.h"
#include "engine/format/record_batch.h"
#include "engine/segment/segment_files.h"
#include "tests/engine/records_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::DecodeSlice;
using ::shiplog::testing::EncodeBatch;
using ::shiplog::testing::EncodedBatch;
using ::shiplog::testing::NumberedValues;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::Values;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kBase = 100;
constexpr int64_t kTime = 1'700'000'000'000;

class SegmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.index_interval_bytes = 200;
    options_.max_index_bytes = 4096;
    ASSERT_OK_AND_ASSIGN(segment_, Segment::Create(Env::Default(), dir_.path(),
                                                   kBase, options_));
  }

  // Appends one batch of `values` at the segment's next offset and returns
  // the position it landed at.
  uint64_t AppendValues(const std::vector<std::string>& values,
                        int64_t timestamp_ms = kTime) {
    EncodedBatch batch = EncodeBatch(values, timestamp_ms);
    SetBaseOffset(batch.bytes.data(), segment_->next_offset());
    batch.info.header.base_offset = segment_->next_offset();
    const uint64_t position = segment_->size();
    EXPECT_OK(segment_->Append(batch.bytes, {batch.info}));
    return position;
  }

  std::string Path(absl::string_view suffix) const {
    return dir_.Join(SegmentFileName(kBase, suffix));
  }

  TempDir dir_;
  SegmentOptions options_;
  std::shared_ptr<Segment> segment_;
};

TEST_F(SegmentTest, CreateMakesThreeFilesAndAnEmptyActiveSegment) {
  EXPECT_TRUE(segment_->active());
  EXPECT_TRUE(segment_->empty());
  EXPECT_EQ(segment_->next_offset(), kBase);
  for (absl::string_view suffix :
       {kLogFileSuffix, kOffsetIndexFileSuffix, kTimeIndexFileSuffix}) {
    EXPECT_OK(Env::Default()->Stat(Path(suffix)));
  }
  EXPECT_THAT(Segment::Create(Env::Default(), dir_.path(), kBase, options_),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(".log")));
}

TEST_F(SegmentTest, AppendPublishesSizeAndNextOffset) {
  AppendValues({"a", "b", "c"});
  EXPECT_EQ(segment_->next_offset(), kBase + 3);
  AppendValues({"d"});
  EXPECT_EQ(segment_->next_offset(), kBase + 4);
  ASSERT_OK_AND_ASSIGN(FileInfo info,
                       Env::Default()->Stat(segment_->log_path()));
  EXPECT_EQ(info.size, segment_->size());
}

TEST_F(SegmentTest, ReadStartsAtTheBatchHoldingTheOffset) {
  AppendValues({"a", "b", "c"});
  const uint64_t second = AppendValues({"d", "e"});
  ASSERT_OK_AND_ASSIGN(Slice slice, segment_->Read(kBase + 4, 1 << 20));
  EXPECT_EQ(slice.position, second);
  EXPECT_EQ(slice.first_offset, kBase + 3);
  EXPECT_EQ(slice.next_offset, kBase + 5);
  ASSERT_OK_AND_ASSIGN(auto records, DecodeSlice(slice, kBase + 4));
  EXPECT_THAT(Values(records), ElementsAre("e"));
}

// Found by LogDirectTest under ASan: a read that loaded the next offset,
// then a size published after it, returned batches past that next offset,
// and the consumer read them again from there. Every slice that reaches
// the end must say the offset after its own last record.
TEST_F(SegmentTest, ASliceReadBesideAppendsEndsAtItsOwnNextOffset) {
  constexpr int kAppends = 3000;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < kAppends; ++i) AppendValues({absl::StrCat("v", i)});
    done.store(true);
  });
  int reads = 0;
  bool consistent = true;
  while (consistent && (!done.load() || reads == 0)) {
    ++reads;
    absl::StatusOr<Slice> slice = segment_->Read(kBase, UINT64_MAX);
    ASSERT_OK(slice);
    if (slice->empty()) continue;
    absl::StatusOr<std::vector<Record>> records = DecodeSlice(*slice, kBase);
    ASSERT_OK(records);
    ASSERT_FALSE(records->empty());
    consistent = records->back().offset + 1 == slice->next_offset;
    EXPECT_TRUE(consistent) << "read " << reads << ": last record "
                            << records->back().offset << ", next offset "
                            << slice->next_offset;
  }
  writer.join();
  EXPECT_EQ(segment_->next_offset(), kBase + kAppends);
}

TEST_F(SegmentTest, ReadEndsOnABatchBoundaryWithinMaxBytes) {
  std::vector<uint64_t> positions;
  for (int i = 0; i < 40; ++i) {
    positions.push_back(AppendValues(NumberedValues("v", i * 2, 2)));
  }
  for (uint64_t max_bytes : {100, 250, 777, 1500, 5000}) {
    ASSERT_OK_AND_ASSIGN(Slice slice, segment_->Read(kBase + 6, max_bytes));
    EXPECT_EQ(slice.position, positions[3]);
    EXPECT_LE(slice.size,
              std::max<uint64_t>(max_bytes, positions[4] - positions[3]));
    // Whole batches: the slice ends where some batch starts (or at the end)
    // and the next batch would not have fit.
    const uint64_t end = slice.position + slice.size;
    auto it = std::find(positions.begin(), positions.end(), end);
    ASSERT_TRUE(it != positions.end() || end == segment_->size()) << end;
    if (it != positions.end() && it + 1 != positions.end()) {
      EXPECT_GT(*(it + 1) - slice.position, max_bytes);
    }
    ASSERT_OK_AND_ASSIGN(auto records, DecodeSlice(slice));
    EXPECT_EQ(slice.next_offset, records.back().offset + 1);
  }
}

TEST_F(SegmentTest, ReadReturnsAWholeFirstBatchLargerThanMaxBytes) {
  AppendValues({std::string(1000, 'x')});
  AppendValues({"small"});
  ASSERT_OK_AND_ASSIGN(Slice slice, segment_->Read(kBase, 10));
  ASSERT_OK_AND_ASSIGN(auto records, DecodeSlice(slice));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].value->size(), 1000u);
  EXPECT_EQ(slice.next_offset, kBase + 1);
}

// Regression: start + max_bytes wrapped for an unbounded budget, so a read
// from past the first batch came back empty ("the end of the log").
TEST_F(SegmentTest, ReadWithAnUnboundedBudgetFromMidSegmentReturnsTheRest) {
  AppendValues({"a", "b"});
  const uint64_t second = AppendValues({"c", "d"});
  AppendValues({"e"});
  ASSERT_OK_AND_ASSIGN(Slice slice, segment_->Read(kBase + 3, UINT64_MAX));
  EXPECT_EQ(slice.position, second);
  EXPECT_EQ(slice.size, segment_->size() - second);
  EXPECT_EQ(slice.next_offset, kBase + 5);
}

TEST_F(SegmentTest, ReadAtTheEndIsEmptyAndBelowTheBaseIsOutOfRange) {
  AppendValues({"a"});
  ASSERT_OK_AND_ASSIGN(Slice slice, segment_->Read(kBase + 1, 100));
  EXPECT_TRUE(slice.empty());
  EXPECT_EQ(slice.next_offset, kBase + 1);
  EXPECT_THAT(segment_->Read(kBase - 1, 100),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("below segment base offset")));
}

TEST_F(SegmentTest, IndexGetsAnEntryOnceAnIntervalOfBytesHasPassed) {
  // Kafka's rule: an entry for the batch appended when more than
  // index_interval_bytes were appended since the last entry, mapping that
  // batch's last offset to its start.
  std::vector<uint64_t> positions;
  std::vector<uint64_t> sizes;
  for (int i = 0; i < 30; ++i) {
    const uint64_t before = segment_->size();
    positions.push_back(AppendValues(NumberedValues("value-", i * 3, 3)));
    sizes.push_back(segment_->size() - before);
  }
  std::vector<OffsetPosition> expected;
  uint64_t since = 0;
  for (int i = 0; i < 30; ++i) {
    if (since > options_.index_interval_bytes) {
      expected.push_back(
          {kBase + 3 * i + 2, static_cast<uint32_t>(positions[i])});
      since = 0;
    }
    since += sizes[i];
  }
  ASSERT_FALSE(expected.empty());
  ASSERT_OK(segment_->Seal());
  ASSERT_OK_AND_ASSIGN(
      std::string index,
      ReadSmallFile(Env::Default(), Path(kOffsetIndexFileSuffix)));
  // Seal adds one entry for the last batch.
  expected.push_back({kBase + 89, static_cast<uint32_t>(positions[29])});
  ASSERT_EQ(index.size(), expected.size() * OffsetIndex::kEntrySize);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(LoadBigEndian32(index.data() + 8 * i),
              expected[i].offset - kBase);
    EXPECT_EQ(LoadBigEndian32(index.data() + 8 * i + 4), expected[i].position);
  }
}

TEST_F(SegmentTest, SealTrimsIndexesAndRecordsTheLargestTimestamp) {
  AppendValues({"a"}, kTime + 5);
  AppendValues({"b"}, kTime + 3);
  ASSERT_OK(segment_->Seal());
  EXPECT_FALSE(segment_->active());
  ASSERT_OK_AND_ASSIGN(FileInfo offset_index,
                       Env::Default()->Stat(Path(kOffsetIndexFileSuffix)));
  EXPECT_EQ(offset_index.size, OffsetIndex::kEntrySize);
  ASSERT_OK_AND_ASSIGN(
      std::string time_index,
      ReadSmallFile(Env::Default(), Path(kTimeIndexFileSuffix)));
  ASSERT_EQ(time_index.size(), TimeIndex::kEntrySize);
  EXPECT_EQ(static_cast<int64_t>(LoadBigEndian64(time_index.data())),
            kTime + 5);
  EXPECT_EQ(LoadBigEndian32(time_index.data() + 8), 0u);
}

TEST_F(SegmentTest, AppendToASealedSegmentFails) {
  AppendValues({"a"});
  ASSERT_OK(segment_->Seal());
  EncodedBatch batch = EncodeBatch({"b"});
  EXPECT_THAT(segment_->Append(batch.bytes, {batch.info}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("closed for appends")));
}

TEST_F(SegmentTest, FindOffsetForTimeReturnsFirstRecordAtOrAfter) {
  // Timestamps inside one batch are not ordered; Kafka's answer is the
  // first record (in offset order) whose timestamp is >= the target.
  std::vector<std::string> values = {"t100", "t300", "t200"};
  std::vector<RecordView> records;
  for (int i = 0; i < 3; ++i) {
    RecordView record;
    record.value = values[i];
    record.timestamp_ms = kTime + std::stoi(values[i].substr(1));
    records.push_back(record);
  }
  std::string bytes;
  ASSERT_OK(AppendBatch(records, {}, kTime, &bytes));
  BatchInfo info{DecodeBatchHeader(bytes.data()), bytes.size()};
  SetBaseOffset(bytes.data(), kBase);
  info.header.base_offset = kBase;
  ASSERT_OK(segment_->Append(bytes, {info}));
  AppendValues({"t400"}, kTime + 400);

  auto find = [&](int64_t delta) {
    return segment_->FindOffsetForTime(kTime + delta);
  };
  EXPECT_EQ(*find(0), kBase);
  EXPECT_EQ(*find(150), kBase + 1);
  EXPECT_EQ(*find(250), kBase + 1);
  EXPECT_EQ(*find(301), kBase + 3);
  EXPECT_EQ(*find(400), kBase + 3);
  EXPECT_EQ(*find(401), std::nullopt);
}

TEST_F(SegmentTest, TruncateToABatchBoundaryDropsEverythingAfter) {
  AppendValues({"a", "b"}, kTime + 1);
  const uint64_t second = AppendValues({"c", "d"}, kTime + 9);
  AppendValues({"e"}, kTime + 2);
  ASSERT_OK(segment_->TruncateTo(kBase + 2));
  EXPECT_EQ(segment_->next_offset(), kBase + 2);
  EXPECT_EQ(segment_->size(), second);
  ASSERT_OK_AND_ASSIGN(int64_t max_timestamp, segment_->MaxTimestamp());
  EXPECT_EQ(max_timestamp, kTime + 1);
  AppendValues({"f"});
  ASSERT_OK_AND_ASSIGN(Slice slice, segment_->Read(kBase, 1 << 20));
  ASSERT_OK_AND_ASSIGN(auto records, DecodeSlice(slice));
  EXPECT_THAT(Values(records), ElementsAre("a", "b", "f"));
  EXPECT_EQ(records.back().offset, kBase + 2);
}

TEST_F(SegmentTest, TruncateInsideABatchIsRefusedAndChangesNothing) {
  AppendValues({"a", "b", "c"});
  EXPECT_THAT(segment_->TruncateTo(kBase + 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("inside the batch holding offsets 100..102; "
                                 "truncate to a batch boundary (100 or 103)")));
  EXPECT_EQ(segment_->next_offset(), kBase + 3);
}

TEST_F(SegmentTest, DeletedSegmentStaysReadableThroughItsSlices) {
  AppendValues({"kept"});
  ASSERT_OK_AND_ASSIGN(Slice slice, segment_->Read(kBase, 100));
  ASSERT_OK(segment_->Delete());
  EXPECT_TRUE(
      absl::IsNotFound(Env::Default()->Stat(Path(kLogFileSuffix)).status()));
  ASSERT_OK_AND_ASSIGN(auto records, DecodeSlice(slice));
  EXPECT_THAT(Values(records), ElementsAre("kept"));
}

TEST_F(SegmentTest, ClosedSegmentOpensLazilyAndFindsItsTailFromIndexes) {
  for (int i = 0; i < 20; ++i) AppendValues(NumberedValues("x", i * 4, 4));
  const int64_t next = segment_->next_offset();
  const uint64_t size = segment_->size();
  ASSERT_OK(segment_->Seal());
  segment_.reset();

  ASSERT_OK_AND_ASSIGN(auto reopened, Segment::Open(Env::Default(), dir_.path(),
                                                    kBase, options_));
  EXPECT_EQ(reopened->size(), size);
  ASSERT_OK_AND_ASSIGN(auto recovery, reopened->LoadTail());
  EXPECT_FALSE(recovery.has_value());
  EXPECT_EQ(reopened->next_offset(), next);
  ASSERT_OK_AND_ASSIGN(Slice slice, reopened->Read(kBase + 41, 1 << 20));
  ASSERT_OK_AND_ASSIGN(auto records, DecodeSlice(slice, kBase + 41));
  EXPECT_EQ(records.front().offset, kBase + 41);
  EXPECT_EQ(records.back().offset, next - 1);
}

TEST_F(SegmentTest, RecoverKeepsValidBatchesAndCutsAGarbageTail) {
  AppendValues({"a", "b"});
  const uint64_t valid = segment_->size();
  segment_.reset();
  {
    ASSERT_OK_AND_ASSIGN(
        auto file,
        Env::Default()->OpenFile(Path(kLogFileSuffix), OpenMode::kReadWrite));
    ASSERT_OK(file->WriteAt(valid, std::string(100, '\x7f')));
  }
  ASSERT_OK_AND_ASSIGN(auto reopened, Segment::Open(Env::Default(), dir_.path(),
                                                    kBase, options_));
  ASSERT_OK_AND_ASSIGN(SegmentRecovery recovery, reopened->Recover());
  EXPECT_EQ(recovery.valid_bytes, valid);
  EXPECT_EQ(recovery.invalid_bytes, 100u);
  EXPECT_THAT(recovery.reason, HasSubstr("batch at position"));
  EXPECT_EQ(reopened->next_offset(), kBase + 2);
  ASSERT_OK_AND_ASSIGN(FileInfo info,
                       Env::Default()->Stat(Path(kLogFileSuffix)));
  EXPECT_EQ(info.size, valid);
}

// Found by recovery_fuzz: a segment file named 09223372036854775807.log
// made a log whose next offset overflowed int64, and index entries of a
// base that high overflowed too (index_fuzz). Such a name is no segment's.
TEST(SegmentFileNameTest, BaseOffsetPastTheLogOffsetLimitIsNoSegmentName) {
  EXPECT_EQ(ParseSegmentFileName(SegmentFileName(kLogOffsetLimit, ".log"),
                                 kLogFileSuffix),
            kLogOffsetLimit);
  EXPECT_EQ(ParseSegmentFileName(SegmentFileName(kLogOffsetLimit + 1, ".log"),
                                 kLogFileSuffix),
            std::nullopt);
  EXPECT_EQ(ParseSegmentFileName("09223372036854775807.log", kLogFileSuffix),
            std::nullopt);
  EXPECT_EQ(ParseSegmentFileName("99999999999999999999.log", kLogFileSuffix),
            std::nullopt);
}

// Found by recovery_fuzz: recovery made each batch's last offset + 1 the
// next batch's expected base, which overflowed for a batch ending at
// INT64_MAX. Recovery keeps offsets below kLogOffsetLimit.
TEST(SegmentRecoveryTest, RecoveryCutsABatchPastTheLogOffsetLimit) {
  TempDir dir;
  const int64_t base = kLogOffsetLimit - 1;
  EncodedBatch last = EncodeBatch({"last"});
  SetBaseOffset(last.bytes.data(), base);
  EncodedBatch past = EncodeBatch({"past"});
  SetBaseOffset(past.bytes.data(), kLogOffsetLimit);
  {
    ASSERT_OK_AND_ASSIGN(
        auto file, Env::Default()->OpenFile(
                       dir.Join(SegmentFileName(base, kLogFileSuffix)),
                       OpenMode::kCreate));
    ASSERT_OK(file->WriteAt(0, last.bytes + past.bytes));
  }
  ASSERT_OK_AND_ASSIGN(auto segment,
                       Segment::Open(Env::Default(), dir.path(), base, {}));
  ASSERT_OK_AND_ASSIGN(SegmentRecovery recovery, segment->Recover());
  EXPECT_EQ(recovery.valid_bytes, last.bytes.size());
  EXPECT_THAT(recovery.reason, HasSubstr("largest offset a log holds"));
  EXPECT_EQ(segment->next_offset(), kLogOffsetLimit);
}

// Found by recovery_fuzz: recovery kept a batch with compression codec 6,
// valid CRC and all, that ValidateBatch refuses, and readers then choked
// on it. Recovery refuses what the validator refuses in a header.
TEST_F(SegmentTest, RecoveryCutsABatchWithAnUnknownCodec) {
  AppendValues({"a", "b"});
  const uint64_t valid = segment_->size();
  EncodedBatch unknown = EncodeBatch({"c"});
  SetBaseOffset(unknown.bytes.data(), kBase + 2);
  char* batch = unknown.bytes.data();
  StoreBigEndian16(batch + kAttributesPosition, 6);
  StoreBigEndian32(batch + kCrcPosition,
                   ComputeBatchCrc(batch, unknown.bytes.size()));
  segment_.reset();
  {
    ASSERT_OK_AND_ASSIGN(
        auto file,
        Env::Default()->OpenFile(Path(kLogFileSuffix), OpenMode::kReadWrite));
    ASSERT_OK(file->WriteAt(valid, unknown.bytes));
  }
  ASSERT_OK_AND_ASSIGN(auto reopened, Segment::Open(Env::Default(), dir_.path(),
                                                    kBase, options_));
  ASSERT_OK_AND_ASSIGN(SegmentRecovery recovery, reopened->Recover());
  EXPECT_EQ(recovery.valid_bytes, valid);
  EXPECT_THAT(recovery.reason, HasSubstr("unknown compression codec 6"));
  EXPECT_EQ(reopened->next_offset(), kBase + 2);
}

}  // namespace
}  // namespace shiplog
