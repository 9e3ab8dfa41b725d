#include "engine/format/record_reader.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/engine/format/format_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::BuildValuesBatch;
using ::shiplog::testing::DecompressionCap;
using ::shiplog::testing::HeaderChecksOnly;
using ::shiplog::testing::ReadRecords;
using ::shiplog::testing::RecordBody;
using ::shiplog::testing::RecordWithBody;
using ::shiplog::testing::ResealCrc;
using ::shiplog::testing::SealBatch;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::ZstdFrameWithoutContentSize;
using ::shiplog::testing::ZstdOptions;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int16_t kZstdAttributes = static_cast<int16_t>(Compression::kZstd);

std::vector<int64_t> Offsets(const std::vector<Record>& records) {
  std::vector<int64_t> offsets;
  for (const Record& record : records) offsets.push_back(record.offset);
  return offsets;
}

// Two batches as the log stores them: offsets 100-102, then 103-104.
class TwoBatchesTest : public ::testing::Test {
 protected:
  TwoBatchesTest() : first_(BuildValuesBatch(3)), second_(BuildValuesBatch(2)) {
    SetBaseOffset(first_.data(), 100);
    SetBaseOffset(second_.data(), 103);
    both_ = first_ + second_;
  }

  std::string first_;
  std::string second_;
  std::string both_;
};

TEST_F(TwoBatchesTest, ReadsRecordsAtTheOffsetsTheLogAssigned) {
  RecordReader reader(both_);
  std::vector<int64_t> base_offsets;
  std::vector<Record> records;
  while (reader.Next()) {
    records.push_back(reader.record());
    base_offsets.push_back(reader.batch().base_offset);
  }
  ASSERT_OK(reader.status());
  EXPECT_THAT(Offsets(records), ElementsAre(100, 101, 102, 103, 104));
  EXPECT_THAT(base_offsets, ElementsAre(100, 100, 100, 103, 103));
  EXPECT_EQ(records[4].value, "value-1");
  EXPECT_EQ(reader.consumed_bytes(), both_.size());
}

TEST_F(TwoBatchesTest, SkipsRecordsBelowMinOffset) {
  EXPECT_THAT(Offsets(ReadRecords(both_, 101)),
              ElementsAre(101, 102, 103, 104));
}

TEST_F(TwoBatchesTest, SkipsWholeBatchesBelowMinOffset) {
  EXPECT_THAT(Offsets(ReadRecords(both_, 104)), ElementsAre(104));
  EXPECT_THAT(ReadRecords(both_, 105), IsEmpty());
}

TEST_F(TwoBatchesTest, PartialBatchAtEveryCutEndsIterationCleanly) {
  for (size_t size = 0; size <= both_.size(); ++size) {
    RecordReader reader(absl::string_view(both_).substr(0, size));
    int count = 0;
    while (reader.Next()) ++count;
    ASSERT_OK(reader.status()) << "cut at " << size;
    const bool has_first = size >= first_.size();
    const bool has_second = size == both_.size();
    EXPECT_EQ(count, (has_first ? 3 : 0) + (has_second ? 2 : 0))
        << "cut at " << size;
    EXPECT_EQ(reader.consumed_bytes(), has_second  ? both_.size()
                                       : has_first ? first_.size()
                                                   : 0u);
  }
}

TEST_F(TwoBatchesTest, ReportsCorruptionAfterTheRecordsBeforeIt) {
  both_[first_.size() + kBatchHeaderSize] ^= 1;
  absl::Status status;
  EXPECT_THAT(Offsets(ReadRecords(both_, 0, &status)),
              ElementsAre(100, 101, 102));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                               HasSubstr(absl::StrCat("batch at position ",
                                                      first_.size(),
                                                      ": CRC mismatch"))));
}

TEST(RecordReaderTest, EmptyInputHasNoRecords) {
  absl::Status status;
  EXPECT_THAT(ReadRecords("", 0, &status), IsEmpty());
  EXPECT_OK(status);
}

TEST(RecordReaderTest, RejectsBatchWithCorruptRecordBeforeReturningAny) {
  const std::string records = RecordWithBody(RecordBody(0, "a", "1")) +
                              RecordWithBody(RecordBody(7, "b", "2"));
  absl::Status status;
  EXPECT_THAT(ReadRecords(SealBatch(records, 2), 0, &status), IsEmpty());
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                               HasSubstr("record 1 has offset delta 7")));
}

TEST(RecordReaderTest, WithoutRecordChecksMalformedRecordIsStillDataLoss) {
  std::string bad(3, '\0');
  AppendVarint(&bad, -9);  // key length
  const std::string records =
      RecordWithBody(RecordBody(0, "a", "1")) + RecordWithBody(bad);
  absl::Status status;
  const std::vector<Record> read =
      ReadRecords(SealBatch(records, 2), 0, &status, HeaderChecksOnly());
  EXPECT_EQ(read.size(), 1u);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                               "batch at position 0: record 1: negative key "
                               "length -9"));
}

TEST(RecordReaderTest, GzipBatchIsUnimplemented) {
  const std::string batch =
      SealBatch("gzip bytes", 1, static_cast<int16_t>(Compression::kGzip));
  absl::Status status;
  EXPECT_THAT(ReadRecords(batch, 0, &status), IsEmpty());
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnimplemented,
                               "batch at position 0: gzip compression cannot "
                               "be decoded in process"));
}

TEST(RecordReaderTest, SkipsControlBatches) {
  // A commit marker: key = version 0, type 1; value = version 0, epoch 0.
  const std::string marker = SealBatch(
      RecordWithBody(RecordBody(0, absl::string_view("\0\0\0\1", 4),
                                absl::string_view("\0\0\0\0\0\0", 6))),
      1, kControlFlag | kTransactionalFlag);
  std::string data = BuildValuesBatch(1);
  SetBaseOffset(data.data(), 1);
  EXPECT_THAT(Offsets(ReadRecords(marker + data)), ElementsAre(1));
}

TEST(RecordReaderTest, LogAppendTimeRecordsTakeTheBatchMaxTimestamp) {
  const std::string records = RecordWithBody(RecordBody(0, "a", "1", 0)) +
                              RecordWithBody(RecordBody(1, "b", "2", 5));
  const std::string batch =
      SealBatch(records, 2, kTimestampTypeLogAppendTime, 1000, 9999);
  const std::vector<Record> read = ReadRecords(batch);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].timestamp_ms, 9999);
  EXPECT_EQ(read[1].timestamp_ms, 9999);
}

TEST(RecordReaderTest, CreateTimeRecordsAddTheirDeltaToBaseTimestamp) {
  const std::string records = RecordWithBody(RecordBody(0, "a", "1", 0)) +
                              RecordWithBody(RecordBody(1, "b", "2", -5));
  const std::vector<Record> read = ReadRecords(SealBatch(records, 2));
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].timestamp_ms, 1000);
  EXPECT_EQ(read[1].timestamp_ms, 995);
}

std::string TwoRecords() {
  return RecordWithBody(RecordBody(0, "a", "1")) +
         RecordWithBody(RecordBody(1, std::nullopt, "2"));
}

TEST(RecordReaderTest, DecodesZstdFrameWithoutContentSize) {
  const std::string batch =
      SealBatch(ZstdFrameWithoutContentSize(TwoRecords()), 2, kZstdAttributes);
  absl::Status status;
  const std::vector<Record> read = ReadRecords(batch, 0, &status);
  ASSERT_OK(status);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].key, "a");
  EXPECT_EQ(read[1].key, std::nullopt);
  EXPECT_EQ(read[1].value, "2");
}

TEST(RecordReaderTest, DecodesRecordsSplitAcrossZstdFrames) {
  const std::string records = TwoRecords();
  const std::string frames = ZstdFrameWithoutContentSize(records.substr(0, 5)) +
                             ZstdFrameWithoutContentSize(records.substr(5));
  absl::Status status;
  EXPECT_THAT(
      Offsets(ReadRecords(SealBatch(frames, 2, kZstdAttributes), 0, &status)),
      ElementsAre(0, 1));
  EXPECT_OK(status);
}

TEST(RecordReaderTest, EnforcesDecompressionCap) {
  const std::string batch = BuildValuesBatch(1000, ZstdOptions());
  absl::Status status;
  EXPECT_THAT(ReadRecords(batch, 0, &status, DecompressionCap(100)), IsEmpty());
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                               "batch at position 0: decompressed size "
                               "exceeds 100 bytes"));
}

TEST(RecordReaderTest, CorruptZstdPayloadWithValidCrcIsDataLoss) {
  std::string batch = BuildValuesBatch(10, ZstdOptions());
  batch[kBatchHeaderSize + 1] ^= 0x40;  // the zstd frame's magic number
  ResealCrc(&batch);
  absl::Status status;
  EXPECT_THAT(ReadRecords(batch, 0, &status), IsEmpty());
  EXPECT_THAT(status,
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("batch at position 0: corrupt zstd data")));
}

TEST(RecordReaderTest, TruncatedZstdFrameWithValidCrcIsDataLoss) {
  std::string batch = BuildValuesBatch(10, ZstdOptions());
  batch.pop_back();
  StoreBigEndian32(batch.data() + kBatchLengthPosition,
                   static_cast<uint32_t>(batch.size() - kBatchLogOverhead));
  ResealCrc(&batch);
  absl::Status status;
  EXPECT_THAT(ReadRecords(batch, 0, &status), IsEmpty());
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                               "batch at position 0: truncated zstd data"));
}

}  // namespace
}  // namespace shiplog
