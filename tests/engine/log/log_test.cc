#include "engine/log/log.h"

#include <cerrno>
#include <string>
#include <vector>

#include "engine/format/record_batch.h"
#include "engine/segment/segment_files.h"
#include "tests/engine/log/log_test_fixture.h"

namespace shiplog {
namespace {

using ::shiplog::testing::EncodeBatch;
using ::shiplog::testing::EncodedBatch;
using ::shiplog::testing::LogTest;
using ::shiplog::testing::NumberedValues;
using ::shiplog::testing::ReadAll;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::ValueRecords;
using ::shiplog::testing::Values;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

TEST_F(LogTest, NewLogStartsEmptyAtOffsetZero) {
  Open(SmallConfig());
  EXPECT_EQ(log_->start_offset(), 0);
  EXPECT_EQ(log_->end_offset(), 0);
  EXPECT_EQ(log_->segment_count(), 1u);
  ASSERT_OK_AND_ASSIGN(Slice slice, log_->Read(0, 100));
  EXPECT_TRUE(slice.empty());
}

TEST_F(LogTest, AppendAssignsDenseOffsets) {
  Open(SmallConfig());
  EXPECT_EQ(AppendValues({"a", "b", "c"}).base_offset, 0);
  const AppendResult second = AppendValues({"d", "e"});
  EXPECT_EQ(second.base_offset, 3);
  EXPECT_EQ(second.last_offset, 4);
  EXPECT_EQ(log_->end_offset(), 5);
  EXPECT_THAT(ReadValues(0), ElementsAre("a", "b", "c", "d", "e"));
  EXPECT_THAT(ReadValues(4), ElementsAre("e"));
}

TEST_F(LogTest, AppendWithoutRecordsIsRejected) {
  Open(SmallConfig());
  EXPECT_THAT(log_->Append({}), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("at least one record")));
  EXPECT_EQ(log_->end_offset(), 0);
}

TEST_F(LogTest, AppendBatchesAssignsOffsetsInPlaceKeepingTheCrc) {
  Open(SmallConfig());
  AppendValues({"first"});
  EncodedBatch batch = EncodeBatch({"x", "y"});
  const uint32_t crc = batch.info.header.crc;
  ASSERT_OK_AND_ASSIGN(AppendResult result,
                       log_->AppendBatches(absl::MakeSpan(batch.bytes)));
  EXPECT_EQ(result.base_offset, 1);
  // The caller's bytes now carry the assigned offset, CRC untouched.
  const BatchHeader header = DecodeBatchHeader(batch.bytes.data());
  EXPECT_EQ(header.base_offset, 1);
  EXPECT_EQ(header.crc, crc);
  EXPECT_EQ(ComputeBatchCrc(batch.bytes.data(), batch.bytes.size()), crc);
  EXPECT_THAT(ReadValues(0), ElementsAre("first", "x", "y"));
}

TEST_F(LogTest, AppendBatchesRejectsTheWholeCallIfOneBatchIsCorrupt) {
  Open(SmallConfig());
  EncodedBatch good = EncodeBatch({"good"});
  EncodedBatch bad = EncodeBatch({"bad"});
  bad.bytes[bad.bytes.size() - 3] ^= 0x40;  // inside the CRC's coverage
  std::string both = good.bytes + bad.bytes;
  EXPECT_THAT(log_->AppendBatches(absl::MakeSpan(both)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("CRC mismatch")));
  EXPECT_EQ(log_->end_offset(), 0);
  EXPECT_EQ(log_->size_bytes(), 0u);
}

TEST_F(LogTest, RollsWhenTheActiveSegmentWouldPassSegmentBytes) {
  Open(SmallConfig());
  for (int i = 0; i < 60; ++i) AppendValues(NumberedValues("value-", i, 1));
  const std::vector<int64_t> bases = log_->segment_base_offsets();
  ASSERT_GT(bases.size(), 2u);
  for (size_t i = 0; i < bases.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(
        FileInfo info,
        env_.Stat(dir_.Join(SegmentFileName(bases[i], kLogFileSuffix))));
    EXPECT_LE(info.size, 1024u);
    if (i + 1 < bases.size()) {
      EXPECT_GT(info.size, 900u);
    }
  }
  EXPECT_THAT(ReadValues(0), ElementsAreArray(NumberedValues("value-", 0, 60)));
}

TEST_F(LogTest, RollsWhenAnIndexIsFull) {
  LogConfig config = SmallConfig();
  config.segment_bytes = 1 << 20;
  config.index_interval_bytes = 0;  // an entry for every batch
  config.max_index_bytes = 64;      // 5 time index entries
  Open(config);
  for (int i = 0; i < 20; ++i) {
    AppendValues({"v"}, 1'700'000'000'000 + i);
  }
  EXPECT_GE(log_->segment_count(), 4u);
  EXPECT_EQ(ReadValues(0).size(), 20u);
}

TEST_F(LogTest, RollsWhenTheSegmentsRecordsSpanMoreThanSegmentMs) {
  LogConfig config = SmallConfig();
  config.segment_bytes = 1 << 20;
  config.segment_ms = 60'000;
  Open(config);
  AppendValues({"old"});
  env_.AdvanceMs(59'000);
  AppendValues({"still young"});
  EXPECT_EQ(log_->segment_count(), 1u);
  env_.AdvanceMs(2'000);
  AppendValues({"rolled"});
  EXPECT_EQ(log_->segment_count(), 2u);
  EXPECT_EQ(log_->segment_base_offsets().back(), 2);
}

// Regression: measuring segment.ms as "now minus the first record's
// timestamp" rolled a new segment for every batch of replayed data.
TEST_F(LogTest, OldTimestampsDoNotRollEveryBatch) {
  LogConfig config = SmallConfig();
  config.segment_bytes = 1 << 20;
  config.segment_ms = 60'000;
  Open(config);
  const int64_t last_year = env_.NowMs() - 365 * kDayMs;
  for (int i = 0; i < 20; ++i) {
    AppendValues(NumberedValues("replayed", i, 1), last_year + i);
  }
  EXPECT_EQ(log_->segment_count(), 1u);
  AppendValues({"a minute later"}, last_year + 60'001);
  EXPECT_EQ(log_->segment_count(), 2u);
}

TEST_F(LogTest, AnIdleSegmentRollsOnceActiveLongerThanSegmentMs) {
  LogConfig config = SmallConfig();
  config.segment_ms = 60'000;
  Open(config);
  ASSERT_OK(log_->MaybeRollForAge(env_.NowMs() + 120'000));
  EXPECT_EQ(log_->segment_count(), 1u);  // empty: nothing to roll
  AppendValues({"a"});
  ASSERT_OK(log_->MaybeRollForAge(env_.NowMs() + 60'000));
  EXPECT_EQ(log_->segment_count(), 1u);
  ASSERT_OK(log_->MaybeRollForAge(env_.NowMs() + 60'001));
  EXPECT_EQ(log_->segment_count(), 2u);
}

TEST_F(LogTest, ReadOfAnyOffsetAcrossSegmentsStartsThere) {
  Open(SmallConfig());
  for (int i = 0; i < 30; ++i) AppendValues(NumberedValues("r", 3 * i, 3));
  ASSERT_GT(log_->segment_count(), 2u);
  for (int64_t offset = 0; offset < 90; ++offset) {
    ASSERT_OK_AND_ASSIGN(Slice slice, log_->Read(offset, 300));
    ASSERT_OK_AND_ASSIGN(auto records,
                         ::shiplog::testing::DecodeSlice(slice, offset));
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.front().offset, offset);
    EXPECT_EQ(*records.front().value, absl::StrCat("r", offset));
  }
}

TEST_F(LogTest, ReadOutsideTheLogIsOutOfRange) {
  Open(SmallConfig());
  AppendValues({"a"});
  EXPECT_THAT(log_->Read(2, 100),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("past the end of log orders-0 (offset 1)")));
  EXPECT_THAT(log_->Read(-1, 100), StatusIs(absl::StatusCode::kOutOfRange,
                                            HasSubstr("before the start")));
}

TEST_F(LogTest, OffsetForTimeFindsTheFirstRecordNotOlder) {
  Open(SmallConfig());
  constexpr int64_t kT = 1'700'000'000'000;
  for (int i = 0; i < 40; ++i) {
    AppendValues(NumberedValues("t", 2 * i, 2), kT + 10 * i);
  }
  ASSERT_GT(log_->segment_count(), 1u);
  EXPECT_EQ(*log_->OffsetForTime(kT - 5), 0);
  EXPECT_EQ(*log_->OffsetForTime(kT), 0);
  EXPECT_EQ(*log_->OffsetForTime(kT + 1), 2);
  EXPECT_EQ(*log_->OffsetForTime(kT + 250), 50);
  EXPECT_EQ(*log_->OffsetForTime(kT + 390), 78);
  EXPECT_EQ(*log_->OffsetForTime(kT + 391), std::nullopt);
}

TEST_F(LogTest, TruncateToCutsAcrossSegmentsAndAppendsContinue) {
  Open(SmallConfig());
  for (int i = 0; i < 40; ++i) AppendValues(NumberedValues("v", 2 * i, 2));
  const size_t segments_before = log_->segment_count();
  ASSERT_GT(segments_before, 3u);
  ASSERT_OK(log_->TruncateTo(20));
  EXPECT_EQ(log_->end_offset(), 20);
  EXPECT_LT(log_->segment_count(), segments_before);
  EXPECT_EQ(AppendValues({"after"}).base_offset, 20);
  std::vector<std::string> expected = NumberedValues("v", 0, 20);
  expected.push_back("after");
  EXPECT_THAT(ReadValues(0), ElementsAreArray(expected));
}

TEST_F(LogTest, TruncateToASegmentBaseRemovesThatSegment) {
  Open(SmallConfig());
  for (int i = 0; i < 40; ++i) AppendValues(NumberedValues("v", i, 1));
  const std::vector<int64_t> bases = log_->segment_base_offsets();
  ASSERT_GT(bases.size(), 2u);
  ASSERT_OK(log_->TruncateTo(bases[1]));
  EXPECT_EQ(log_->segment_base_offsets(), std::vector<int64_t>{bases[0]});
  EXPECT_EQ(AppendValues({"x"}).base_offset, bases[1]);
}

TEST_F(LogTest, TruncateToRefusesMidBatchAndOutOfRangeOffsets) {
  Open(SmallConfig());
  AppendValues({"a", "b", "c"});
  EXPECT_THAT(log_->TruncateTo(1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("batch boundary (0 or 3)")));
  EXPECT_THAT(log_->TruncateTo(4), StatusIs(absl::StatusCode::kOutOfRange,
                                            HasSubstr("outside [0, 3]")));
  EXPECT_EQ(log_->end_offset(), 3);
  ASSERT_OK(log_->TruncateTo(0));
  EXPECT_EQ(log_->end_offset(), 0);
  EXPECT_EQ(AppendValues({"z"}).base_offset, 0);
}

TEST_F(LogTest, TruncateFullyAndStartAtEmptiesTheLogAndMovesItsStart) {
  Open(SmallConfig());
  for (int i = 0; i < 40; ++i) AppendValues(NumberedValues("v", i, 1));
  ASSERT_GT(log_->segment_count(), 2u);
  // A read in flight keeps its bytes through the reset.
  ASSERT_OK_AND_ASSIGN(Slice held, log_->Read(0, 1 << 20));

  ASSERT_OK(log_->TruncateFullyAndStartAt(1000));

  EXPECT_EQ(log_->start_offset(), 1000);
  EXPECT_EQ(log_->end_offset(), 1000);
  EXPECT_EQ(log_->committed_offset(), 1000);
  EXPECT_EQ(log_->segment_base_offsets(), std::vector<int64_t>{1000});
  EXPECT_THAT(log_->Read(0, 100),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("0")));
  EXPECT_EQ(AppendValues({"after"}).base_offset, 1000);
  EXPECT_THAT(ReadValues(1000), ElementsAre("after"));
  std::string bytes;
  ASSERT_OK(ReadSliceBytes(held, &bytes));
  EXPECT_EQ(bytes.size(), held.size);
}

TEST_F(LogTest, TruncateFullyAndStartAtSurvivesAReopen) {
  Open(SmallConfig());
  AppendValues({"a", "b"});
  ASSERT_OK(log_->TruncateFullyAndStartAt(0));  // the first segment's base
  EXPECT_EQ(log_->end_offset(), 0);
  ASSERT_OK(log_->TruncateFullyAndStartAt(70));
  AppendValues({"x", "y"});
  ASSERT_OK(log_->Close());
  Open(SmallConfig(), LogOpenOptions{.clean_shutdown = true,
                                     .recovery_point = 72,
                                     .log_start_offset = 0});
  EXPECT_EQ(log_->start_offset(), 70);
  EXPECT_EQ(log_->end_offset(), 72);
  EXPECT_THAT(ReadValues(70), ElementsAre("x", "y"));
}

TEST_F(LogTest, TruncateFullyAndStartAtRefusesANegativeOffset) {
  Open(SmallConfig());
  AppendValues({"a"});
  EXPECT_THAT(log_->TruncateFullyAndStartAt(-1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("negative offset")));
  EXPECT_EQ(log_->end_offset(), 1);
}

// Found by recovery_fuzz: a log whose end reached INT64_MAX (a segment
// file named so) overflowed computing the offset after its next append; a
// reset to INT64_MAX did the same. Offsets stop at kLogOffsetLimit.
TEST_F(LogTest, AppendPastTheLogOffsetLimitIsOutOfRange) {
  Open(SmallConfig());
  ASSERT_OK(log_->TruncateFullyAndStartAt(kLogOffsetLimit - 2));
  EXPECT_EQ(AppendValues({"a", "b"}).last_offset, kLogOffsetLimit - 1);
  const std::vector<std::string> one_more = {"c"};
  EXPECT_THAT(log_->Append(ValueRecords(one_more)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("full")));
  EXPECT_EQ(log_->end_offset(), kLogOffsetLimit);
  EXPECT_THAT(ReadValues(kLogOffsetLimit - 2), ElementsAre("a", "b"));
}

TEST_F(LogTest, TruncateFullyAndStartAtRefusesAnOffsetPastTheLimit) {
  Open(SmallConfig());
  EXPECT_THAT(log_->TruncateFullyAndStartAt(kLogOffsetLimit + 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("largest")));
  ASSERT_OK(log_->TruncateFullyAndStartAt(kLogOffsetLimit));
  EXPECT_EQ(log_->end_offset(), kLogOffsetLimit);
}

TEST_F(LogTest, FlushMessagesSyncsAndAdvancesTheCommittedOffset) {
  LogConfig config = SmallConfig();
  config.flush_messages = 3;
  Open(config);
  const int syncs = env_.sync_count();
  AppendValues({"a"});
  AppendValues({"b"});
  EXPECT_EQ(log_->committed_offset(), 0);
  EXPECT_EQ(env_.sync_count(), syncs);
  AppendValues({"c"});
  EXPECT_EQ(log_->committed_offset(), 3);
  EXPECT_GT(env_.sync_count(), syncs);
  EXPECT_EQ(log_->end_offset(), 3);
}

TEST_F(LogTest, FlushMsSyncsOnlyOnceUnflushedDataIsOldEnough) {
  LogConfig config = SmallConfig();
  config.flush_ms = 1000;
  Open(config);
  AppendValues({"a"});
  ASSERT_OK(log_->MaybeFlushForAge(env_.NowMs() + 999));
  EXPECT_EQ(log_->committed_offset(), 0);
  ASSERT_OK(log_->MaybeFlushForAge(env_.NowMs() + 1000));
  EXPECT_EQ(log_->committed_offset(), 1);
}

TEST_F(LogTest, FailedFsyncTurnsTheLogReadOnlyAndIsNotRetried) {
  Open(SmallConfig());
  AppendValues({"a"});
  env_.FailSyncsWith(EIO);
  EXPECT_THAT(log_->Flush(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("read-only after a failed flush")));
  EXPECT_EQ(log_->committed_offset(), 0);
  env_.FailSyncsWith(0);
  const int syncs = env_.sync_count();
  // Syncing again could "succeed" over pages the kernel already dropped.
  EXPECT_THAT(log_->Flush(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                      HasSubstr("Input/output error")));
  EXPECT_EQ(env_.sync_count(), syncs);
  EXPECT_THAT(log_->Append(::shiplog::testing::ValueRecords({"b"})),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("failed flush")));
  EXPECT_EQ(log_->committed_offset(), 0);
  EXPECT_THAT(ReadValues(0), ElementsAre("a"));
  EXPECT_THAT(log_->failure(),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("fdatasync")));
}

TEST_F(LogTest, FullDiskIsADistinctErrorThatLosesNothing) {
  Open(SmallConfig());
  AppendValues({"a", "b"});
  env_.FailWritesWith(ENOSPC);
  absl::StatusOr<AppendResult> failed =
      log_->Append(::shiplog::testing::ValueRecords({"c"}));
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kResourceExhausted,
                               HasSubstr("No space left on device")));
  EXPECT_EQ(log_->end_offset(), 2);
  env_.FailWritesWith(0);
  EXPECT_EQ(AppendValues({"d"}).base_offset, 2);
  EXPECT_THAT(ReadValues(0), ElementsAre("a", "b", "d"));
}

TEST_F(LogTest, RetentionByTimeDeletesExpiredSegmentsFromTheHead) {
  LogConfig config = SmallConfig();
  config.retention_ms = 10'000;
  Open(config);
  const int64_t t0 = env_.NowMs();
  for (int i = 0; i < 20; ++i) AppendValues(NumberedValues("old", i, 1), t0);
  ASSERT_OK(log_->Roll());
  const int64_t new_base = log_->end_offset();
  for (int i = 0; i < 5; ++i) {
    AppendValues(NumberedValues("new", i, 1), t0 + 20'000);
  }
  ASSERT_OK_AND_ASSIGN(RetentionResult none,
                       log_->EnforceRetention(t0 + 10'000));
  EXPECT_EQ(none.segments_deleted, 0);
  ASSERT_OK_AND_ASSIGN(RetentionResult result,
                       log_->EnforceRetention(t0 + 20'001));
  EXPECT_GT(result.segments_deleted, 0);
  EXPECT_EQ(log_->start_offset(), new_base);
  EXPECT_EQ(log_->segment_base_offsets().front(), new_base);
  EXPECT_THAT(log_->Read(0, 100), StatusIs(absl::StatusCode::kOutOfRange,
                                           HasSubstr("before the start")));
  EXPECT_THAT(ReadValues(new_base),
              ElementsAreArray(NumberedValues("new", 0, 5)));
}

TEST_F(LogTest, RetentionOfAnExpiredActiveSegmentRollsFirst) {
  LogConfig config = SmallConfig();
  config.retention_ms = 1000;
  Open(config);
  AppendValues({"a", "b"}, env_.NowMs());
  ASSERT_OK_AND_ASSIGN(RetentionResult result,
                       log_->EnforceRetention(env_.NowMs() + 5000));
  EXPECT_EQ(result.segments_deleted, 1);
  EXPECT_EQ(log_->start_offset(), 2);
  EXPECT_EQ(log_->end_offset(), 2);
  EXPECT_EQ(AppendValues({"c"}).base_offset, 2);
}

TEST_F(LogTest, RetentionBySizeKeepsTheLogAtLeastRetentionBytes) {
  LogConfig config = SmallConfig();
  config.retention_bytes = 3000;
  Open(config);
  for (int i = 0; i < 100; ++i) AppendValues(NumberedValues("value-", i, 1));
  ASSERT_OK(log_->EnforceRetention(env_.NowMs()));
  EXPECT_GE(log_->size_bytes(), 3000u);
  // Dropping one more segment would have gone below the limit.
  EXPECT_LT(log_->size_bytes() - 1024, 3000u);
  EXPECT_EQ(log_->start_offset(), log_->segment_base_offsets().front());
  EXPECT_EQ(ReadValues(log_->start_offset()).back(), "value-99");
}

TEST_F(LogTest, RetentionNeverBreaksASliceInFlight) {
  LogConfig config = SmallConfig();
  config.retention_bytes = 0;
  Open(config);
  for (int i = 0; i < 30; ++i) AppendValues(NumberedValues("v", i, 1));
  ASSERT_OK_AND_ASSIGN(Slice slice, log_->Read(0, 1 << 20));
  ASSERT_OK_AND_ASSIGN(RetentionResult result,
                       log_->EnforceRetention(env_.NowMs()));
  ASSERT_GT(result.segments_deleted, 0);
  EXPECT_TRUE(absl::IsNotFound(
      env_.Stat(dir_.Join(SegmentFileName(0, kLogFileSuffix))).status()));
  ASSERT_OK_AND_ASSIGN(auto records, ::shiplog::testing::DecodeSlice(slice));
  EXPECT_EQ(*records.front().value, "v0");
}

TEST_F(LogTest, ReadOnlyLogRefusesWrites) {
  Open(SmallConfig());
  AppendValues({"a"});
  ASSERT_OK(log_->Close());
  LogOpenOptions options;
  options.read_only = true;
  options.clean_shutdown = true;
  Open(SmallConfig(), options);
  EXPECT_THAT(
      log_->Append(::shiplog::testing::ValueRecords({"b"})),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("read-only")));
  EXPECT_THAT(
      log_->TruncateTo(0),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("read-only")));
  EXPECT_THAT(ReadValues(0), ElementsAre("a"));
}

TEST_F(LogTest, CloseFlushesEverythingAndRefusesLaterWrites) {
  Open(SmallConfig());
  AppendValues({"a", "b"});
  ASSERT_OK(log_->Close());
  EXPECT_EQ(log_->committed_offset(), 2);
  EXPECT_THAT(
      log_->Append(::shiplog::testing::ValueRecords({"c"})),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("closed")));
  EXPECT_THAT(ReadValues(0), ElementsAre("a", "b"));
}

}  // namespace
}  // namespace shiplog
