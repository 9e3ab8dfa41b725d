#include "engine/format/batch_validator.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/format/zstd_codec.h"
#include "tests/engine/format/format_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::BuildBatch;
using ::shiplog::testing::BuildValuesBatch;
using ::shiplog::testing::DecompressionCap;
using ::shiplog::testing::HeaderChecksOnly;
using ::shiplog::testing::MakeRecord;
using ::shiplog::testing::RecordBody;
using ::shiplog::testing::RecordWithBody;
using ::shiplog::testing::ResealCrc;
using ::shiplog::testing::SealBatch;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::ZstdOptions;
using ::testing::HasSubstr;

constexpr auto kDataLoss = absl::StatusCode::kDataLoss;

// A small real batch: two records, a header with a null value.
std::string SmallBatch() {
  const RecordHeaderView header{"h", std::nullopt};
  const RecordView records[] = {
      MakeRecord("key", "value", kNoTimestamp, {&header, 1}),
      MakeRecord(std::nullopt, "second")};
  return BuildBatch(records);
}

void SetInt32(std::string* batch, size_t position, int32_t value) {
  StoreBigEndian32(batch->data() + position, static_cast<uint32_t>(value));
}

// Three well-formed records with offset deltas 0, 1, 2.
std::string ThreeRecords() {
  return RecordWithBody(RecordBody(0, "a", "1")) +
         RecordWithBody(RecordBody(1, "b", "2")) +
         RecordWithBody(RecordBody(2, "c", "3"));
}

TEST(BatchValidatorTest, AcceptsBuiltBatchAndReturnsItsHeader) {
  const std::string batch = SmallBatch();
  ASSERT_OK_AND_ASSIGN(BatchInfo info, ValidateBatch(batch, {}));
  EXPECT_EQ(info.size_in_bytes, batch.size());
  EXPECT_EQ(info.header.records_count, 2);
  EXPECT_EQ(info.header.crc, ComputeBatchCrc(batch.data(), batch.size()));
}

TEST(BatchValidatorTest, IgnoresBytesAfterTheBatch) {
  const std::string batch = SmallBatch();
  ASSERT_OK_AND_ASSIGN(BatchInfo info, ValidateBatch(batch + "junk", {}));
  EXPECT_EQ(info.size_in_bytes, batch.size());
}

// Every byte the CRC covers, the magic and the length are protected; the
// two fields the log rewrites in place are not.
TEST(BatchValidatorTest, EveryFlippedByteOutsideOffsetAndEpochIsRejected) {
  const std::string batch = SmallBatch();
  for (size_t position = 0; position < batch.size(); ++position) {
    for (const uint8_t mask : {0x01, 0x80, 0xff}) {
      std::string corrupt = batch;
      corrupt[position] = static_cast<char>(corrupt[position] ^ mask);
      const bool rewritable_in_place =
          position < kBatchLengthPosition ||
          (position >= kPartitionLeaderEpochPosition &&
           position < kMagicPosition);
      const auto result = ValidateBatch(corrupt, {});
      if (rewritable_in_place) {
        EXPECT_OK(result) << "flip at " << position;
      } else {
        EXPECT_THAT(result,
                    StatusIs(kDataLoss, HasSubstr("batch at position 0")))
            << "flip at " << position << " mask " << int{mask};
      }
    }
  }
}

TEST(BatchValidatorTest, RejectsFlippedCrcByte) {
  std::string batch = SmallBatch();
  const uint32_t computed = ComputeBatchCrc(batch.data(), batch.size());
  batch[kCrcPosition] = static_cast<char>(batch[kCrcPosition] ^ 0x10);
  const uint32_t stored = LoadBigEndian32(batch.data() + kCrcPosition);
  EXPECT_THAT(ValidateBatch(batch, {}, 4096),
              StatusIs(kDataLoss,
                       absl::StrFormat("batch at position 4096: CRC mismatch "
                                       "(stored 0x%08x, computed 0x%08x)",
                                       stored, computed)));
}

TEST(BatchValidatorTest, RejectsTruncationAtEveryByte) {
  const std::string batch = SmallBatch();
  for (size_t size = 0; size < batch.size(); ++size) {
    EXPECT_THAT(ValidateBatch(batch.substr(0, size), {}),
                StatusIs(kDataLoss, HasSubstr("batch at position 0")))
        << "cut at " << size;
  }
}

TEST(BatchValidatorTest, RejectsInputShorterThanTheLengthField) {
  EXPECT_THAT(ValidateBatch(SmallBatch().substr(0, 5), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: truncated header "
                       "(5 bytes, need 61)"));
}

TEST(BatchValidatorTest, RejectsBatchLengthBelowMinimum) {
  std::string batch = SmallBatch();
  SetInt32(&batch, kBatchLengthPosition, 10);
  EXPECT_THAT(ValidateBatch(batch, {}),
              StatusIs(kDataLoss,
                       "batch at position 0: batchLength 10 is "
                       "below the minimum 49"));
}

TEST(BatchValidatorTest, RejectsNegativeBatchLength) {
  std::string batch = SmallBatch();
  SetInt32(&batch, kBatchLengthPosition, -1);
  EXPECT_THAT(ValidateBatch(batch, {}),
              StatusIs(kDataLoss, HasSubstr("batchLength -1 is below")));
}

TEST(BatchValidatorTest, RejectsBatchLengthPastTheEnd) {
  std::string batch = SmallBatch().substr(0, kBatchHeaderSize);
  SetInt32(&batch, kBatchLengthPosition, 5000);
  EXPECT_THAT(ValidateBatch(batch, {}),
              StatusIs(kDataLoss,
                       "batch at position 0: batchLength 5000 runs "
                       "past the end of the input (61 bytes "
                       "available)"));
}

TEST(BatchValidatorTest, RejectsBadMagic) {
  std::string batch = SmallBatch();
  batch[kMagicPosition] = 1;
  EXPECT_THAT(ValidateBatch(batch, {}),
              StatusIs(kDataLoss,
                       "batch at position 0: bad magic 1 "
                       "(expected 2)"));
}

TEST(BatchValidatorTest, RejectsNegativeRecordsCount) {
  std::string batch = SmallBatch();
  SetInt32(&batch, kRecordsCountPosition, -1);
  ResealCrc(&batch);
  EXPECT_THAT(ValidateBatch(batch, {}),
              StatusIs(kDataLoss,
                       "batch at position 0: recordsCount -1 is "
                       "negative"));
}

TEST(BatchValidatorTest, RejectsBatchWithNoRecords) {
  EXPECT_THAT(ValidateBatch(SealBatch("", 0), {}),
              StatusIs(kDataLoss, "batch at position 0: no records"));
}

TEST(BatchValidatorTest, RejectsNegativeLastOffsetDelta) {
  std::string batch = SmallBatch();
  SetInt32(&batch, kLastOffsetDeltaPosition, -3);
  ResealCrc(&batch);
  EXPECT_THAT(ValidateBatch(batch, {}),
              StatusIs(kDataLoss,
                       "batch at position 0: lastOffsetDelta -3 "
                       "is negative"));
}

TEST(BatchValidatorTest, RejectsCountDisagreeingWithLastOffsetDelta) {
  std::string batch = SealBatch(ThreeRecords(), 3);
  SetInt32(&batch, kLastOffsetDeltaPosition, 4);
  ResealCrc(&batch);
  EXPECT_THAT(ValidateBatch(batch, {}),
              StatusIs(kDataLoss,
                       "batch at position 0: header says 3 "
                       "records but lastOffsetDelta is 4"));
}

TEST(BatchValidatorTest, RejectsUnknownCodec) {
  EXPECT_THAT(ValidateBatch(SealBatch(ThreeRecords(), 3, /*attributes=*/5), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: unknown compression "
                       "codec 5"));
}

TEST(BatchValidatorTest, AcceptsHandMadeRecords) {
  EXPECT_OK(ValidateBatch(SealBatch(ThreeRecords(), 3), {}));
}

TEST(BatchValidatorTest, RejectsBadVarintInKeyLength) {
  std::string bad_key(2, '\0');  // attributes, timestamp delta
  AppendVarint(&bad_key, 2);     // offset delta
  // Five continuation bytes: longer than any 32-bit varint.
  bad_key += std::string(5, '\xff');
  const std::string records = RecordWithBody(RecordBody(0, "a", "1")) +
                              RecordWithBody(RecordBody(1, "b", "2")) +
                              RecordWithBody(bad_key);
  EXPECT_THAT(ValidateBatch(SealBatch(records, 3), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: record 2: bad varint "
                       "in key length"));
}

TEST(BatchValidatorTest, RejectsOffsetDeltaOutOfSequence) {
  const std::string records = RecordWithBody(RecordBody(0, "a", "1")) +
                              RecordWithBody(RecordBody(5, "b", "2"));
  EXPECT_THAT(ValidateBatch(SealBatch(records, 2), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: record 1 has offset "
                       "delta 5 (expected 1)"));
}

TEST(BatchValidatorTest, RejectsFewerRecordsThanTheHeaderSays) {
  const std::string records = RecordWithBody(RecordBody(0, "a", "1")) +
                              RecordWithBody(RecordBody(1, "b", "2"));
  EXPECT_THAT(ValidateBatch(SealBatch(records, 3), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: header says 3 "
                       "records, 2 decoded"));
}

TEST(BatchValidatorTest, RejectsBytesAfterTheLastRecord) {
  EXPECT_THAT(ValidateBatch(SealBatch(ThreeRecords() + "1234567", 3), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: 7 bytes left after "
                       "the last record"));
}

TEST(BatchValidatorTest, RejectsRecordLengthLongerThanItsFields) {
  const std::string padded = RecordWithBody(RecordBody(0, "a", "1") + "x");
  EXPECT_THAT(ValidateBatch(SealBatch(padded, 1), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: record 0: record "
                       "length 9 disagrees with its fields (8 "
                       "bytes used)"));
}

TEST(BatchValidatorTest, RejectsRecordLengthShorterThanItsFields) {
  std::string body = RecordBody(0, "a", "1");
  body.pop_back();  // the header count now lies outside the record
  EXPECT_THAT(
      ValidateBatch(SealBatch(RecordWithBody(body) + std::string(1, '\0'), 1),
                    {}),
      StatusIs(kDataLoss,
               "batch at position 0: record 0: bad varint "
               "in header count"));
}

TEST(BatchValidatorTest, RejectsRecordLengthPastTheRecords) {
  const std::string record = RecordWithBody(RecordBody(0, "a", "1"));
  EXPECT_THAT(ValidateBatch(SealBatch(record.substr(0, 5), 1), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: record 0: record "
                       "length 8 runs past the records (4 bytes "
                       "left)"));
}

TEST(BatchValidatorTest, RejectsNegativeKeyLengthOtherThanNull) {
  std::string body(3, '\0');  // attributes, timestamp and offset delta
  AppendVarint(&body, -2);    // key length
  EXPECT_THAT(ValidateBatch(SealBatch(RecordWithBody(body), 1), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: record 0: negative "
                       "key length -2"));
}

TEST(BatchValidatorTest, RejectsValueRunningPastTheRecord) {
  std::string body(3, '\0');
  AppendVarint(&body, -1);  // null key
  AppendVarint(&body, 50);  // value length
  body += "abc";
  EXPECT_THAT(ValidateBatch(SealBatch(RecordWithBody(body), 1), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: record 0: value "
                       "length 50 runs past the record (3 bytes "
                       "left)"));
}

TEST(BatchValidatorTest, RejectsNullHeaderKey) {
  std::string body(3, '\0');
  AppendVarint(&body, -1);  // null key
  AppendVarint(&body, -1);  // null value
  AppendVarint(&body, 1);   // one header
  AppendVarint(&body, -1);  // its key: never null
  AppendVarint(&body, -1);
  EXPECT_THAT(ValidateBatch(SealBatch(RecordWithBody(body), 1), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: record 0: header 0: "
                       "negative key length -1"));
}

TEST(BatchValidatorTest, RejectsNegativeHeaderCount) {
  std::string body(3, '\0');
  AppendVarint(&body, -1);
  AppendVarint(&body, -1);
  AppendVarint(&body, -4);  // header count
  EXPECT_THAT(ValidateBatch(SealBatch(RecordWithBody(body), 1), {}),
              StatusIs(kDataLoss, HasSubstr("negative header count -4")));
}

TEST(BatchValidatorTest, RejectsCreateTimeRecordAboveMaxTimestamp) {
  const std::string records = RecordWithBody(RecordBody(0, "a", "1", 0)) +
                              RecordWithBody(RecordBody(1, "b", "2", 30));
  EXPECT_THAT(ValidateBatch(SealBatch(records, 2, 0, 1000, 1020), {}),
              StatusIs(kDataLoss,
                       "batch at position 0: record 1 timestamp "
                       "1030 exceeds maxTimestamp 1020"));
}

TEST(BatchValidatorTest, AcceptsLogAppendTimeRecordAboveMaxTimestamp) {
  const std::string records = RecordWithBody(RecordBody(0, "a", "1", 0)) +
                              RecordWithBody(RecordBody(1, "b", "2", 30));
  EXPECT_OK(ValidateBatch(
      SealBatch(records, 2, kTimestampTypeLogAppendTime, 1000, 1020), {}));
}

TEST(BatchValidatorTest, SkipsRecordChecksWhenAskedTo) {
  const std::string records = RecordWithBody(RecordBody(0, "a", "1"));
  EXPECT_OK(ValidateBatch(SealBatch(records + "junk", 1), HeaderChecksOnly()));
}

TEST(BatchValidatorTest, ChecksGzipBatchAtHeaderAndCrcLevelOnly) {
  const std::string batch =
      SealBatch("not really gzip", 3, static_cast<int16_t>(Compression::kGzip));
  EXPECT_OK(ValidateBatch(batch, {}));
  std::string corrupt = batch;
  corrupt.back() ^= 1;
  EXPECT_THAT(ValidateBatch(corrupt, {}),
              StatusIs(kDataLoss, HasSubstr("CRC mismatch")));
}

TEST(BatchValidatorTest, RejectsCorruptZstdPayloadWithValidCrc) {
  std::string batch = BuildValuesBatch(100, ZstdOptions());
  batch[kBatchHeaderSize] ^= 0x5a;  // the zstd frame's magic number
  ResealCrc(&batch);
  EXPECT_THAT(
      ValidateBatch(batch, {}),
      StatusIs(kDataLoss, HasSubstr("batch at position 0: corrupt zstd data")));
}

TEST(BatchValidatorTest, EnforcesDecompressionCap) {
  const std::string value(100000, 'z');
  const RecordView record = MakeRecord(std::nullopt, value);
  const std::string batch = BuildBatch({&record, 1}, ZstdOptions());
  EXPECT_THAT(ValidateBatch(batch, DecompressionCap(1000)),
              StatusIs(kDataLoss,
                       "batch at position 0: decompressed size "
                       "exceeds 1000 bytes"));
  ValidateOptions header_only = DecompressionCap(1000);
  header_only.check_records = false;
  EXPECT_OK(ValidateBatch(batch, header_only));
}

TEST(BatchValidatorTest, ChecksRecordsInsideZstdBatch) {
  std::string compressed;
  ASSERT_OK(ZstdCompress(ThreeRecords() + "xy", 3, &compressed));
  const std::string batch =
      SealBatch(compressed, 3, static_cast<int16_t>(Compression::kZstd));
  EXPECT_THAT(ValidateBatch(batch, {}),
              StatusIs(kDataLoss,
                       "batch at position 0: 2 bytes left after "
                       "the last record"));
}

TEST(ValidateBatchesTest, AcceptsBackToBackBatches) {
  const std::string first = SmallBatch();
  const std::string second = BuildValuesBatch(3);
  ASSERT_OK_AND_ASSIGN(std::vector<BatchInfo> infos,
                       ValidateBatches(first + second, {}));
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].size_in_bytes, first.size());
  EXPECT_EQ(infos[1].header.records_count, 3);
}

TEST(ValidateBatchesTest, NamesTheFaultyBatchByItsPosition) {
  const std::string first = SmallBatch();
  std::string second = SmallBatch();
  second[kMagicPosition] = 0;
  EXPECT_THAT(
      ValidateBatches(first + second, {}),
      StatusIs(kDataLoss, absl::StrCat("batch at position ", first.size(),
                                       ": bad magic 0 (expected 2)")));
}

TEST(ValidateBatchesTest, RejectsTrailingPartialBatch) {
  const std::string batch = SmallBatch();
  EXPECT_THAT(ValidateBatches(batch + batch.substr(0, 20), {}),
              StatusIs(kDataLoss,
                       HasSubstr(absl::StrCat("batch at position ",
                                              batch.size(), ": batchLength"))));
}

TEST(ValidateBatchesTest, RejectsEmptyInput) {
  EXPECT_THAT(ValidateBatches("", {}), StatusIs(kDataLoss, HasSubstr("empty")));
}

}  // namespace
}  // namespace shiplog
