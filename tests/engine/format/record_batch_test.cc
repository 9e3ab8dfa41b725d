#include "engine/format/record_batch.h"

#include <string>

#include "absl/strings/escaping.h"
#include "engine/format/batch_validator.h"
#include "tests/engine/format/format_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::BuildValuesBatch;
using ::shiplog::testing::ReadRecords;

BatchHeader DistinctHeader() {
  BatchHeader header;
  header.base_offset = 0x0102030405060708;
  header.batch_length = 0x090a0b0c;
  header.partition_leader_epoch = 0x0d0e0f10;
  header.magic = kMagicV2;
  header.crc = 0x11121314;
  header.attributes = 0x1516;
  header.last_offset_delta = 0x1718191a;
  header.base_timestamp = 0x1b1c1d1e1f202122;
  header.max_timestamp = 0x232425262728292a;
  header.producer_id = 0x2b2c2d2e2f303132;
  header.producer_epoch = 0x3334;
  header.base_sequence = 0x35363738;
  header.records_count = 0x393a3b3c;
  return header;
}

TEST(RecordBatchTest, HeaderFieldsAreContiguousAndEndAtTheRecords) {
  static_assert(kBatchLengthPosition == kBaseOffsetPosition + 8);
  static_assert(kPartitionLeaderEpochPosition == kBatchLengthPosition + 4);
  static_assert(kMagicPosition == kPartitionLeaderEpochPosition + 4);
  static_assert(kCrcPosition == kMagicPosition + 1);
  static_assert(kAttributesPosition == kCrcPosition + 4);
  static_assert(kLastOffsetDeltaPosition == kAttributesPosition + 2);
  static_assert(kBaseTimestampPosition == kLastOffsetDeltaPosition + 4);
  static_assert(kMaxTimestampPosition == kBaseTimestampPosition + 8);
  static_assert(kProducerIdPosition == kMaxTimestampPosition + 8);
  static_assert(kProducerEpochPosition == kProducerIdPosition + 8);
  static_assert(kBaseSequencePosition == kProducerEpochPosition + 2);
  static_assert(kRecordsCountPosition == kBaseSequencePosition + 4);
  static_assert(kBatchHeaderSize == kRecordsCountPosition + 4);
  EXPECT_EQ(kMinBatchLength, 49);
}

TEST(RecordBatchTest, EncodeWritesEveryFieldBigEndianAtItsPosition) {
  char bytes[kBatchHeaderSize];
  EncodeBatchHeader(DistinctHeader(), bytes);
  EXPECT_EQ(absl::BytesToHexString(absl::string_view(bytes, sizeof(bytes))),
            "0102030405060708"  // baseOffset
            "090a0b0c"          // batchLength
            "0d0e0f10"          // partitionLeaderEpoch
            "02"                // magic
            "11121314"          // crc
            "1516"              // attributes
            "1718191a"          // lastOffsetDelta
            "1b1c1d1e1f202122"  // baseTimestamp
            "232425262728292a"  // maxTimestamp
            "2b2c2d2e2f303132"  // producerId
            "3334"              // producerEpoch
            "35363738"          // baseSequence
            "393a3b3c");        // recordsCount
}

TEST(RecordBatchTest, DecodeInvertsEncodeIncludingNegativeFields) {
  BatchHeader header = DistinctHeader();
  header.base_offset = -2;
  header.partition_leader_epoch = -1;
  header.crc = 0xfedcba98;
  header.attributes = -1;
  header.producer_epoch = -1;
  char bytes[kBatchHeaderSize];
  EncodeBatchHeader(header, bytes);
  const BatchHeader decoded = DecodeBatchHeader(bytes);
  EXPECT_EQ(decoded.base_offset, -2);
  EXPECT_EQ(decoded.batch_length, header.batch_length);
  EXPECT_EQ(decoded.partition_leader_epoch, -1);
  EXPECT_EQ(decoded.magic, kMagicV2);
  EXPECT_EQ(decoded.crc, 0xfedcba98u);
  EXPECT_EQ(decoded.attributes, -1);
  EXPECT_EQ(decoded.last_offset_delta, header.last_offset_delta);
  EXPECT_EQ(decoded.base_timestamp, header.base_timestamp);
  EXPECT_EQ(decoded.max_timestamp, header.max_timestamp);
  EXPECT_EQ(decoded.producer_id, header.producer_id);
  EXPECT_EQ(decoded.producer_epoch, -1);
  EXPECT_EQ(decoded.base_sequence, header.base_sequence);
  EXPECT_EQ(decoded.records_count, header.records_count);
}

TEST(RecordBatchTest, AttributeAccessorsReadTheirBits) {
  BatchHeader header;
  header.attributes = static_cast<int16_t>(Compression::kZstd) |
                      kTransactionalFlag | kControlFlag;
  EXPECT_EQ(header.compression(), Compression::kZstd);
  EXPECT_TRUE(header.is_transactional());
  EXPECT_TRUE(header.is_control());
  header.attributes = kTimestampTypeLogAppendTime;
  EXPECT_EQ(header.compression(), Compression::kNone);
  EXPECT_FALSE(header.is_transactional());
}

TEST(RecordBatchTest, CompressionNameNamesEveryCodec) {
  EXPECT_EQ(CompressionName(Compression::kNone), "none");
  EXPECT_EQ(CompressionName(Compression::kGzip), "gzip");
  EXPECT_EQ(CompressionName(Compression::kSnappy), "snappy");
  EXPECT_EQ(CompressionName(Compression::kLz4), "lz4");
  EXPECT_EQ(CompressionName(Compression::kZstd), "zstd");
  EXPECT_EQ(CompressionName(static_cast<Compression>(5)), "unknown(5)");
  EXPECT_EQ(CompressionName(static_cast<Compression>(255)), "unknown(255)");
}

TEST(RecordBatchTest, SetBaseOffsetKeepsTheCrcValid) {
  std::string batch = BuildValuesBatch(3);
  SetBaseOffset(batch.data(), 1'000'000'000'000);
  ASSERT_OK_AND_ASSIGN(BatchInfo info, ValidateBatch(batch, {}));
  EXPECT_EQ(info.header.base_offset, 1'000'000'000'000);
  EXPECT_EQ(info.header.last_offset(), 1'000'000'000'002);
  EXPECT_EQ(ReadRecords(batch).back().offset, 1'000'000'000'002);
}

TEST(RecordBatchTest, SetPartitionLeaderEpochKeepsTheCrcValid) {
  std::string batch = BuildValuesBatch(2);
  SetPartitionLeaderEpoch(batch.data(), 17);
  ASSERT_OK_AND_ASSIGN(BatchInfo info, ValidateBatch(batch, {}));
  EXPECT_EQ(info.header.partition_leader_epoch, 17);
}

TEST(RecordBatchTest, CrcCoversAttributesToTheEndAndNothingBefore) {
  std::string batch = BuildValuesBatch(2);
  const uint32_t crc = ComputeBatchCrc(batch.data(), batch.size());
  for (size_t position = 0; position < batch.size(); ++position) {
    std::string changed = batch;
    changed[position] = static_cast<char>(changed[position] ^ 0x55);
    const bool covered = position >= kCrcCoveredPosition;
    EXPECT_EQ(ComputeBatchCrc(changed.data(), changed.size()) != crc, covered)
        << "position " << position;
  }
}

}  // namespace
}  // namespace shiplog
