// Recovery at the byte level: after a crash (a Log dropped without Close)
// and damage to its files, opening keeps exactly the complete, valid
// batches, and appends continue at the next offset.
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/format/record_batch.h"
#include "engine/log/log.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/segment/segment_files.h"
#include "tests/engine/log/log_test_fixture.h"

namespace shiplog {
namespace {

using ::shiplog::testing::LogTest;
using ::shiplog::testing::NumberedValues;
using ::shiplog::testing::TempDir;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr int64_t kTime = 1'700'000'000'000;

class LogRecoveryTest : public LogTest {
 protected:
  std::string SegmentPath(int64_t base, absl::string_view suffix) const {
    return dir_.Join(SegmentFileName(base, suffix));
  }

  // Reopens as after a crash: nothing past `recovery_point` trusted.
  void OpenAfterCrash(const LogConfig& config, int64_t recovery_point = 0) {
    LogOpenOptions options;
    options.recovery_point = recovery_point;
    Open(config, options);
  }

  void OpenAfterCleanShutdown(const LogConfig& config) {
    LogOpenOptions options;
    options.clean_shutdown = true;
    Open(config, options);
  }

  std::string ReadFile(const std::string& path) {
    absl::StatusOr<std::string> bytes = ReadSmallFile(&env_, path);
    EXPECT_OK(bytes);
    return bytes.value_or("");
  }
  void WriteFile(const std::string& path, const std::string& bytes) {
    std::filesystem::remove(path);
    ASSERT_OK(WriteFileAtomically(&env_, path, bytes));
  }

  // Five one-record-per-value batches in one segment, then a crash.
  // Returns the position where each batch starts, and the file size last.
  std::vector<uint64_t> WriteFiveBatchesAndCrash() {
    Open(SmallConfig());
    std::vector<uint64_t> positions;
    for (int i = 0; i < 5; ++i) {
      positions.push_back(log_->size_bytes());
      AppendValues(NumberedValues(absl::StrCat("b", i, "-"), 0, 2), kTime);
    }
    positions.push_back(log_->size_bytes());
    log_.reset();
    return positions;
  }

  std::vector<std::string> ValuesOfBatches(int count) {
    std::vector<std::string> values;
    for (int i = 0; i < count; ++i) {
      for (const std::string& value :
           NumberedValues(absl::StrCat("b", i, "-"), 0, 2)) {
        values.push_back(value);
      }
    }
    return values;
  }
};

TEST_F(LogRecoveryTest, CleanOpenOfManySegmentsReadsNoSegmentData) {
  Open(SmallConfig());
  for (int i = 0; i < 300; ++i) AppendValues(NumberedValues("v", i, 1), kTime);
  const size_t segments = log_->segment_count();
  ASSERT_GT(segments, 20u);
  ASSERT_OK(log_->Close());
  env_.ResetReadCounts();

  OpenAfterCleanShutdown(SmallConfig());
  EXPECT_EQ(log_->segment_count(), segments);
  EXPECT_EQ(log_->end_offset(), 300);
  // The last segment's final index entry points at its last batch: one
  // header is all the open reads, and nothing of the closed segments.
  EXPECT_LE(env_.BytesReadFromFilesEndingWith(".log"), 4096u);
  const std::vector<int64_t> bases = log_->segment_base_offsets();
  for (size_t i = 0; i + 1 < bases.size(); ++i) {
    EXPECT_EQ(env_.BytesReadFrom(SegmentPath(bases[i], kLogFileSuffix)), 0u)
        << "segment " << bases[i];
  }
  EXPECT_EQ(log_->load_report().segments_recovered, 0);
  EXPECT_THAT(ReadValues(0), ElementsAreArray(NumberedValues("v", 0, 300)));
}

TEST_F(LogRecoveryTest, UncleanOpenScansOnlyFromTheRecoveryPoint) {
  Open(SmallConfig());
  for (int i = 0; i < 200; ++i) AppendValues(NumberedValues("v", i, 1), kTime);
  ASSERT_OK(log_->Flush());
  const int64_t recovery_point = log_->committed_offset();
  for (int i = 200; i < 260; ++i) {
    AppendValues(NumberedValues("v", i, 1), kTime);
  }
  const std::vector<int64_t> bases = log_->segment_base_offsets();
  log_.reset();
  env_.ResetReadCounts();

  OpenAfterCrash(SmallConfig(), recovery_point);
  EXPECT_EQ(log_->end_offset(), 260);
  int scanned = 0;
  for (size_t i = 0; i < bases.size(); ++i) {
    const bool holds_unflushed =
        i + 1 == bases.size() || bases[i + 1] > recovery_point;
    const uint64_t read =
        env_.BytesReadFrom(SegmentPath(bases[i], kLogFileSuffix));
    if (holds_unflushed) {
      EXPECT_GT(read, 0u) << "segment " << bases[i];
      ++scanned;
    } else {
      EXPECT_EQ(read, 0u) << "segment " << bases[i];
    }
  }
  EXPECT_EQ(log_->load_report().segments_recovered, scanned);
  EXPECT_THAT(ReadValues(0), ElementsAreArray(NumberedValues("v", 0, 260)));
}

TEST_F(LogRecoveryTest, CuttingTheLastBatchAtEveryByteKeepsTheOthers) {
  const std::vector<uint64_t> positions = WriteFiveBatchesAndCrash();
  const std::string log_path = SegmentPath(0, kLogFileSuffix);
  const std::string original = ReadFile(log_path);
  for (uint64_t cut = positions[4]; cut < positions[5]; ++cut) {
    SCOPED_TRACE(absl::StrCat("cut at byte ", cut));
    WriteFile(log_path, original.substr(0, cut));
    OpenAfterCrash(SmallConfig());
    EXPECT_EQ(log_->end_offset(), 8);
    EXPECT_EQ(log_->load_report().bytes_truncated, cut - positions[4]);
    EXPECT_THAT(ReadValues(0), ElementsAreArray(ValuesOfBatches(4)));
    EXPECT_EQ(AppendValues({"next"}, kTime).base_offset, 8);
    log_.reset();
  }
}

TEST_F(LogRecoveryTest, FlippingAnyByteOfTheLastBatchDropsOnlyThatBatch) {
  const std::vector<uint64_t> positions = WriteFiveBatchesAndCrash();
  const std::string log_path = SegmentPath(0, kLogFileSuffix);
  const std::string original = ReadFile(log_path);
  for (uint64_t byte = positions[4]; byte < positions[5]; ++byte) {
    SCOPED_TRACE(absl::StrCat("flipped byte ", byte));
    std::string damaged = original;
    damaged[byte] ^= 0x01;
    WriteFile(log_path, damaged);
    OpenAfterCrash(SmallConfig());
    const uint64_t in_batch = byte - positions[4];
    // partitionLeaderEpoch lies outside the CRC and means nothing to the
    // log: a batch with a different one is still whole and valid.
    const bool harmless =
        in_batch >= kPartitionLeaderEpochPosition && in_batch < kMagicPosition;
    EXPECT_EQ(log_->end_offset(), harmless ? 10 : 8);
    EXPECT_THAT(ReadValues(0),
                ElementsAreArray(ValuesOfBatches(harmless ? 5 : 4)));
    log_.reset();
  }
}

TEST_F(LogRecoveryTest, DamageInAnEarlierBatchKeepsOnlyTheBatchesBeforeIt) {
  const std::vector<uint64_t> positions = WriteFiveBatchesAndCrash();
  const std::string log_path = SegmentPath(0, kLogFileSuffix);
  std::string damaged = ReadFile(log_path);
  damaged[positions[2] + 40] ^= 0x10;
  WriteFile(log_path, damaged);
  OpenAfterCrash(SmallConfig());
  EXPECT_EQ(log_->end_offset(), 4);
  EXPECT_THAT(log_->load_report().notes,
              ::testing::Contains(HasSubstr("CRC mismatch")));
  EXPECT_THAT(ReadValues(0), ElementsAreArray(ValuesOfBatches(2)));
  EXPECT_EQ(AppendValues({"next"}, kTime).base_offset, 4);
}

TEST_F(LogRecoveryTest, AZeroFilledTailIsCutAfterACrashAndAfterACleanClose) {
  for (bool clean : {false, true}) {
    SCOPED_TRACE(clean ? "clean" : "crash");
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directory(dir_.path());
    const std::vector<uint64_t> positions = WriteFiveBatchesAndCrash();
    if (clean) {
      // Close properly first, so the open trusts the files.
      OpenAfterCrash(SmallConfig());
      ASSERT_OK(log_->Close());
      log_.reset();
    }
    const std::string log_path = SegmentPath(0, kLogFileSuffix);
    WriteFile(log_path, ReadFile(log_path) + std::string(4096, '\0'));
    if (clean) {
      OpenAfterCleanShutdown(SmallConfig());
    } else {
      OpenAfterCrash(SmallConfig());
    }
    EXPECT_EQ(log_->end_offset(), 10);
    EXPECT_EQ(log_->load_report().bytes_truncated, 4096u);
    ASSERT_OK_AND_ASSIGN(FileInfo info, env_.Stat(log_path));
    EXPECT_EQ(info.size, positions[5]);
    EXPECT_EQ(AppendValues({"next"}, kTime).base_offset, 10);
    log_.reset();
  }
}

TEST_F(LogRecoveryTest, GarbageAfterTheLastBatchIsCut) {
  const std::vector<uint64_t> positions = WriteFiveBatchesAndCrash();
  const std::string log_path = SegmentPath(0, kLogFileSuffix);
  std::string garbage;
  for (int i = 0; i < 3000; ++i) garbage.push_back(static_cast<char>(i * 37));
  WriteFile(log_path, ReadFile(log_path) + garbage);
  OpenAfterCrash(SmallConfig());
  EXPECT_EQ(log_->end_offset(), 10);
  EXPECT_EQ(log_->load_report().bytes_truncated, garbage.size());
  EXPECT_THAT(ReadValues(0), ElementsAreArray(ValuesOfBatches(5)));
}

// Found by the ASan run of DurabilityUnderFaultsTest.AcknowledgedDirect
// AppendsSurviveFaultsAndCrashes (seed 5, timing-dependent): a direct-mode
// segment's block padding survived its seal's trim in a crash, in a closed
// segment below the recovery point, which the open trusts. Its first read
// failed to rebuild its indexes ("batchLength 0"); with intact indexes a
// read would have shipped the zeros. A closed segment's last batch must now
// end at its file's end, and padding after complete offsets is cut.
TEST_F(LogRecoveryTest, PaddingAfterATrustedClosedSegmentIsCutOnFirstRead) {
  for (bool drop_indexes : {false, true}) {
    SCOPED_TRACE(drop_indexes ? "indexes lost" : "indexes intact");
    std::filesystem::remove_all(dir_.path());
    std::filesystem::create_directory(dir_.path());
    Open(SmallConfig());
    for (int i = 0; i < 60; ++i) AppendValues(NumberedValues("v", i, 1), kTime);
    ASSERT_GT(log_->segment_count(), 2u);
    ASSERT_OK(log_->Close());
    log_.reset();
    const std::string log_path = SegmentPath(0, kLogFileSuffix);
    const std::string kept = ReadFile(log_path);
    WriteFile(log_path, kept + std::string(1000, '\0'));
    if (drop_indexes) {
      std::filesystem::remove(SegmentPath(0, kOffsetIndexFileSuffix));
    }
    const uint64_t cut_before =
        TakeSnapshot(GlobalMetrics()).bytes_truncated_by_recovery;
    OpenAfterCleanShutdown(SmallConfig());
    EXPECT_THAT(ReadValues(0), ElementsAreArray(NumberedValues("v", 0, 60)));
    ASSERT_OK_AND_ASSIGN(FileInfo info, env_.Stat(log_path));
    EXPECT_EQ(info.size, kept.size());
    EXPECT_EQ(TakeSnapshot(GlobalMetrics()).bytes_truncated_by_recovery,
              cut_before + 1000);
    log_.reset();
  }
}

TEST_F(LogRecoveryTest, GarbageAfterATrustedClosedSegmentIsAnError) {
  Open(SmallConfig());
  for (int i = 0; i < 60; ++i) AppendValues(NumberedValues("v", i, 1), kTime);
  ASSERT_OK(log_->Close());
  log_.reset();
  const std::string log_path = SegmentPath(0, kLogFileSuffix);
  WriteFile(log_path, ReadFile(log_path) + std::string(1000, 'x'));
  OpenAfterCleanShutdown(SmallConfig());
  EXPECT_THAT(log_->Read(0, 1 << 20),
              ::shiplog::testing::StatusIs(absl::StatusCode::kDataLoss,
                                           HasSubstr("batchLength")));
}

// Found by tests/crash (SIGKILL during rolls): recovery rebuilt a closed
// segment's indexes as an active segment's, preallocated to
// segment.index.bytes and without the final entries a roll writes, and
// nothing trimmed them. Every later reader mapped (read-only: copied) the
// preallocated files, found them implausible and rebuilt them again:
// reading a log of 500 such segments took 40 s.
TEST_F(LogRecoveryTest, RecoveryLeavesClosedSegmentIndexesAsARollSealedThem) {
  Open(SmallConfig());
  for (int i = 0; i < 100; ++i) {
    AppendValues(NumberedValues("v", i, 1), kTime + i);
  }
  const std::vector<int64_t> bases = log_->segment_base_offsets();
  ASSERT_GT(bases.size(), 3u);
  std::vector<std::string> sealed;
  for (size_t i = 0; i + 1 < bases.size(); ++i) {
    sealed.push_back(ReadFile(SegmentPath(bases[i], kOffsetIndexFileSuffix)));
    sealed.push_back(ReadFile(SegmentPath(bases[i], kTimeIndexFileSuffix)));
  }
  log_.reset();

  OpenAfterCrash(SmallConfig());
  EXPECT_EQ(log_->load_report().segments_recovered,
            static_cast<int>(bases.size()));
  for (size_t i = 0; i + 1 < bases.size(); ++i) {
    const std::string index =
        ReadFile(SegmentPath(bases[i], kOffsetIndexFileSuffix));
    const std::string time_index =
        ReadFile(SegmentPath(bases[i], kTimeIndexFileSuffix));
    // Sizes first: a preallocated file would print 4 KiB of zeros.
    ASSERT_EQ(index.size(), sealed[2 * i].size()) << "segment " << bases[i];
    ASSERT_EQ(time_index.size(), sealed[2 * i + 1].size())
        << "segment " << bases[i];
    EXPECT_TRUE(index == sealed[2 * i]) << "segment " << bases[i];
    EXPECT_TRUE(time_index == sealed[2 * i + 1]) << "segment " << bases[i];
  }
  ASSERT_OK(log_->Close());

  OpenAfterCleanShutdown(SmallConfig());
  const EngineMetricsSnapshot before = TakeSnapshot(GlobalMetrics());
  EXPECT_THAT(ReadValues(0), ElementsAreArray(NumberedValues("v", 0, 100)));
  EXPECT_EQ(*log_->OffsetForTime(kTime + bases[1] + 1), bases[1] + 1);
  EXPECT_EQ(TakeSnapshot(GlobalMetrics()).index_rebuilds,
            before.index_rebuilds);
  EXPECT_EQ(AppendValues({"next"}, kTime).base_offset, 100);
}

TEST_F(LogRecoveryTest, MissingIndexFilesAreRebuilt) {
  Open(SmallConfig());
  for (int i = 0; i < 100; ++i)
    AppendValues(NumberedValues("v", i, 1), kTime + i);
  const std::vector<int64_t> bases = log_->segment_base_offsets();
  ASSERT_GT(bases.size(), 3u);
  ASSERT_OK(log_->Close());
  const std::string closed_index =
      SegmentPath(bases[1], kOffsetIndexFileSuffix);
  const std::string closed_time_index =
      SegmentPath(bases[1], kTimeIndexFileSuffix);
  const std::string index_before = ReadFile(closed_index);
  ASSERT_OK(env_.RemoveFile(closed_index));
  ASSERT_OK(env_.RemoveFile(closed_time_index));
  ASSERT_OK(env_.RemoveFile(SegmentPath(bases.back(), kOffsetIndexFileSuffix)));

  OpenAfterCleanShutdown(SmallConfig());
  EXPECT_THAT(ReadValues(0), ElementsAreArray(NumberedValues("v", 0, 100)));
  EXPECT_EQ(*log_->OffsetForTime(kTime + bases[1] + 1), bases[1] + 1);
  // The rebuilt index is the one appends had written.
  EXPECT_EQ(ReadFile(closed_index), index_before);
  EXPECT_EQ(AppendValues({"next"}, kTime).base_offset, 100);
}

TEST_F(LogRecoveryTest, ShortIndexFilesAreRebuilt) {
  Open(SmallConfig());
  for (int i = 0; i < 100; ++i)
    AppendValues(NumberedValues("v", i, 1), kTime + i);
  const std::vector<int64_t> bases = log_->segment_base_offsets();
  ASSERT_OK(log_->Close());
  const std::string index = SegmentPath(bases[1], kOffsetIndexFileSuffix);
  const std::string before = ReadFile(index);
  ASSERT_GT(before.size(), 16u);
  WriteFile(index, before.substr(0, before.size() - 8));  // one entry short
  const std::string other = SegmentPath(bases[2], kOffsetIndexFileSuffix);
  WriteFile(other, ReadFile(other).substr(0, 5));  // mid-entry

  OpenAfterCleanShutdown(SmallConfig());
  EXPECT_THAT(ReadValues(0), ElementsAreArray(NumberedValues("v", 0, 100)));
  EXPECT_EQ(ReadFile(index), before);
}

TEST_F(LogRecoveryTest, IndexEntriesPastTheRecoveryPointAreNotTrusted) {
  Open(SmallConfig());
  for (int i = 0; i < 5; ++i)
    AppendValues(NumberedValues("v", 3 * i, 3), kTime);
  log_.reset();
  // Entries that look plausible but point at the wrong batches.
  const std::string index = SegmentPath(0, kOffsetIndexFileSuffix);
  std::string bogus = ReadFile(index);
  ASSERT_GE(bogus.size(), 16u);
  const char entries[16] = {0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 2};
  bogus.replace(0, 16, entries, 16);
  WriteFile(index, bogus);

  OpenAfterCrash(SmallConfig());
  for (int64_t offset = 0; offset < 15; ++offset) {
    EXPECT_EQ(ReadValues(offset).front(), absl::StrCat("v", offset));
  }
}

TEST_F(LogRecoveryTest, SegmentsAfterACorruptOneAreRemoved) {
  Open(SmallConfig());
  for (int i = 0; i < 100; ++i) AppendValues(NumberedValues("v", i, 1), kTime);
  const std::vector<int64_t> bases = log_->segment_base_offsets();
  ASSERT_GT(bases.size(), 3u);
  log_.reset();
  // Cut segment 1 short: segments 2.. no longer continue it.
  const std::string path = SegmentPath(bases[1], kLogFileSuffix);
  const std::string bytes = ReadFile(path);
  WriteFile(path, bytes.substr(0, bytes.size() - 10));

  OpenAfterCrash(SmallConfig());
  ASSERT_EQ(log_->segment_count(), 2u);
  const int64_t end = log_->end_offset();
  EXPECT_EQ(end, bases[2] - 1);
  EXPECT_EQ(log_->load_report().segments_removed,
            static_cast<int>(bases.size()) - 2);
  EXPECT_TRUE(absl::IsNotFound(
      env_.Stat(SegmentPath(bases[2], kLogFileSuffix)).status()));
  EXPECT_THAT(ReadValues(0), ElementsAreArray(NumberedValues("v", 0, end)));
  EXPECT_EQ(AppendValues({"next"}, kTime).base_offset, end);
}

}  // namespace
}  // namespace shiplog
