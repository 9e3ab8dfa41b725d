#include "engine/format/batch_builder.h"

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "engine/format/batch_validator.h"
#include "tests/engine/format/format_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::BuildBatch;
using ::shiplog::testing::kTestNowMs;
using ::shiplog::testing::MakeRecord;
using ::shiplog::testing::ReadRecords;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::ZstdOptions;
using ::testing::HasSubstr;

// Golden batches, computed independently of shiplog (a bitwise CRC-32C and
// Kafka's layout written out by hand).
TEST(BatchBuilderTest, OneRecordBatchMatchesHandComputedBytes) {
  const RecordView record = MakeRecord("k", "v", 1000);
  const std::string batch = BuildBatch({&record, 1});
  EXPECT_EQ(absl::BytesToHexString(batch),
            "0000000000000000"  // baseOffset 0
            "0000003a"          // batchLength 58
            "ffffffff"          // partitionLeaderEpoch -1
            "02"                // magic
            "716a6189"          // crc
            "0000"              // attributes: no codec, CreateTime
            "00000000"          // lastOffsetDelta 0
            "00000000000003e8"  // baseTimestamp 1000
            "00000000000003e8"  // maxTimestamp 1000
            "ffffffffffffffff"  // producerId -1
            "ffff"              // producerEpoch -1
            "ffffffff"          // baseSequence -1
            "00000001"          // recordsCount 1
            "10"                // record length 8
            "00"                // attributes
            "00"                // timestampDelta 0
            "00"                // offsetDelta 0
            "026b"              // key "k"
            "0276"              // value "v"
            "00");              // no headers
}

TEST(BatchBuilderTest, NullKeyNullHeaderValueAndNegativeDeltaMatchGolden) {
  const RecordHeaderView header{"h", std::nullopt};
  const RecordView records[] = {
      MakeRecord(std::nullopt, "a", 1000, {&header, 1}),
      MakeRecord("k", std::nullopt, 999),
  };
  const std::string batch = BuildBatch(records);
  ASSERT_EQ(batch.size(), 80u);
  EXPECT_EQ(absl::BytesToHexString(batch.substr(kCrcPosition, 4)), "f08ca746");
  EXPECT_EQ(absl::BytesToHexString(batch.substr(kBatchHeaderSize)),
            "1400000001026102026801"  // record 0: null key, header h=null
            "0e000102026b0100");      // record 1: delta -1, null value
}

TEST(BatchBuilderTest, HeaderFieldsFollowTheRecordsAndOptions) {
  const RecordView records[] = {MakeRecord(std::nullopt, "a", 50),
                                MakeRecord(std::nullopt, "b", 70),
                                MakeRecord(std::nullopt, "c", 60)};
  BatchOptions options;
  options.producer_id = 42;
  options.producer_epoch = 7;
  options.base_sequence = 100;
  const std::string batch = BuildBatch(records, options);
  const BatchHeader header = DecodeBatchHeader(batch.data());
  EXPECT_EQ(header.base_offset, 0);
  EXPECT_EQ(header.size_in_bytes(), batch.size());
  EXPECT_EQ(header.partition_leader_epoch, kNoPartitionLeaderEpoch);
  EXPECT_EQ(header.magic, kMagicV2);
  EXPECT_EQ(header.crc, ComputeBatchCrc(batch.data(), batch.size()));
  EXPECT_EQ(header.attributes, 0);
  EXPECT_EQ(header.last_offset_delta, 2);
  EXPECT_EQ(header.base_timestamp, 50);
  EXPECT_EQ(header.max_timestamp, 70);
  EXPECT_EQ(header.producer_id, 42);
  EXPECT_EQ(header.producer_epoch, 7);
  EXPECT_EQ(header.base_sequence, 100);
  EXPECT_EQ(header.records_count, 3);
}

TEST(BatchBuilderTest, RecordsWithoutTimestampGetNow) {
  const RecordView record = MakeRecord(std::nullopt, "v");
  const std::string batch = BuildBatch({&record, 1});
  EXPECT_EQ(DecodeBatchHeader(batch.data()).max_timestamp, kTestNowMs);
  const std::vector<Record> read = ReadRecords(batch);
  ASSERT_EQ(read.size(), 1u);
  EXPECT_EQ(read[0].timestamp_ms, kTestNowMs);
}

TEST(BatchBuilderTest, AppendsAfterExistingBytes) {
  const RecordView record = MakeRecord(std::nullopt, "v");
  std::string out = BuildBatch({&record, 1});
  const size_t first_size = out.size();
  ASSERT_OK(AppendBatch({&record, 1}, {}, kTestNowMs, &out));
  EXPECT_EQ(out.size(), 2 * first_size);
  ASSERT_OK_AND_ASSIGN(auto batches, ValidateBatches(out, {}));
  EXPECT_EQ(batches.size(), 2u);
}

TEST(BatchBuilderTest, ZstdBatchKeepsHeaderUncompressed) {
  const std::string value(10000, 'x');
  const RecordView record = MakeRecord(std::nullopt, value);
  const std::string batch = BuildBatch({&record, 1}, ZstdOptions());
  const BatchHeader header = DecodeBatchHeader(batch.data());
  EXPECT_EQ(header.compression(), Compression::kZstd);
  EXPECT_EQ(header.records_count, 1);
  EXPECT_LT(batch.size(), value.size() / 10);
  // The records section is a zstd frame: it starts with the frame magic.
  EXPECT_EQ(absl::BytesToHexString(batch.substr(kBatchHeaderSize, 4)),
            "28b52ffd");
}

TEST(BatchBuilderTest, RejectsNoRecords) {
  std::string out;
  EXPECT_THAT(AppendBatch({}, {}, kTestNowMs, &out),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("at least one record")));
}

TEST(BatchBuilderTest, RejectsCodecsShiplogCannotWrite) {
  const RecordView record = MakeRecord(std::nullopt, "v");
  std::string out;
  BatchOptions gzip;
  gzip.compression = Compression::kGzip;
  EXPECT_THAT(AppendBatch({&record, 1}, gzip, kTestNowMs, &out),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cannot write gzip")));
}

TEST(BatchBuilderTest, RejectsNegativeTimestamp) {
  const RecordView records[] = {MakeRecord(std::nullopt, "a"),
                                MakeRecord(std::nullopt, "b", -5)};
  std::string out;
  EXPECT_THAT(AppendBatch(records, {}, kTestNowMs, &out),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("record 1 has negative timestamp -5")));
}

TEST(BatchBuilderTest, ErrorLeavesOutputUnchanged) {
  const RecordView record = MakeRecord(std::nullopt, "v");
  std::string out = "existing bytes";
  EXPECT_FALSE(
      AppendBatch({&record, 1}, ZstdOptions(1000), kTestNowMs, &out).ok());
  EXPECT_EQ(out, "existing bytes");
  const RecordView negative = MakeRecord(std::nullopt, "v", -2);
  EXPECT_FALSE(AppendBatch({&negative, 1}, {}, kTestNowMs, &out).ok());
  EXPECT_EQ(out, "existing bytes");
}

TEST(BatchBuilderTest, ByteBufferGetsTheSameBytesAfterExistingOnes) {
  const RecordView records[] = {MakeRecord("k", "v", 1000),
                                MakeRecord(std::nullopt, "w")};
  ByteBuffer out;
  std::memcpy(out.AppendUninitialized(5), "front", 5);
  ASSERT_OK(AppendBatch(records, {}, kTestNowMs, &out));
  EXPECT_EQ(out.view(), "front" + BuildBatch(records));
}

TEST(BatchBuilderTest, ErrorLeavesByteBufferUnchanged) {
  const RecordView record = MakeRecord(std::nullopt, "v");
  ByteBuffer out;
  std::memcpy(out.AppendUninitialized(8), "existing", 8);
  EXPECT_FALSE(
      AppendBatch({&record, 1}, ZstdOptions(1000), kTestNowMs, &out).ok());
  const RecordView negative = MakeRecord(std::nullopt, "v", -2);
  EXPECT_FALSE(AppendBatch({&negative, 1}, {}, kTestNowMs, &out).ok());
  EXPECT_EQ(out.view(), "existing");
}

// Round trips: AppendBatch -> ValidateBatch -> RecordReader. The
// ByteBuffer form must give the very bytes of the string form.
void ExpectRoundTrip(absl::Span<const RecordView> records,
                     const BatchOptions& options = {}) {
  const std::string batch = BuildBatch(records, options);
  ByteBuffer buffer;
  ASSERT_OK(AppendBatch(records, options, kTestNowMs, &buffer));
  EXPECT_EQ(buffer.view(), batch);
  ASSERT_OK_AND_ASSIGN(BatchInfo info, ValidateBatch(batch, {}));
  EXPECT_EQ(info.size_in_bytes, batch.size());
  absl::Status status;
  const std::vector<Record> read = ReadRecords(batch, 0, &status);
  ASSERT_OK(status);
  ASSERT_EQ(read.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordView& want = records[i];
    const Record& got = read[i];
    EXPECT_EQ(got.offset, static_cast<int64_t>(i));
    EXPECT_EQ(got.timestamp_ms, want.timestamp_ms == kNoTimestamp
                                    ? kTestNowMs
                                    : want.timestamp_ms);
    EXPECT_EQ(got.key, want.key);
    EXPECT_EQ(got.value, want.value);
    ASSERT_EQ(got.headers.size(), want.headers.size());
    for (size_t h = 0; h < want.headers.size(); ++h) {
      EXPECT_EQ(got.headers[h].key, want.headers[h].key);
      EXPECT_EQ(got.headers[h].value, want.headers[h].value);
    }
  }
}

TEST(BatchRoundTripTest, NullKey) {
  const RecordView record = MakeRecord(std::nullopt, "v");
  ExpectRoundTrip({&record, 1});
}

TEST(BatchRoundTripTest, NullValue) {
  const RecordView record = MakeRecord("k", std::nullopt);
  ExpectRoundTrip({&record, 1});
}

TEST(BatchRoundTripTest, EmptyKeyAndValueStayDistinctFromNull) {
  const RecordView record = MakeRecord("", "");
  ExpectRoundTrip({&record, 1});
}

TEST(BatchRoundTripTest, DefaultConstructedEmptyViews) {
  // Empty views whose data() is null.
  const RecordHeaderView header{absl::string_view(), absl::string_view()};
  const RecordView record = MakeRecord(absl::string_view(), absl::string_view(),
                                       kNoTimestamp, {&header, 1});
  ExpectRoundTrip({&record, 1});
}

TEST(BatchRoundTripTest, HeadersWithNullAndEmptyValues) {
  const RecordHeaderView headers[] = {
      {"a", "1"}, {"b", std::nullopt}, {"", ""}};
  const RecordView record = MakeRecord("k", "v", kNoTimestamp, headers);
  ExpectRoundTrip({&record, 1});
}

TEST(BatchRoundTripTest, ManyRecordsWithMixedTimestamps) {
  std::vector<std::string> values;
  for (int i = 0; i < 5000; ++i) {
    values.push_back(std::string(i % 300, static_cast<char>('a' + i % 26)));
  }
  std::vector<RecordView> records;
  for (size_t i = 0; i < values.size(); ++i) {
    records.push_back(MakeRecord(
        std::nullopt, values[i],
        i % 7 == 0 ? kNoTimestamp : static_cast<int64_t>(1000 + i * 37 % 500)));
  }
  ExpectRoundTrip(records);
  ExpectRoundTrip(records, ZstdOptions());
}

TEST(BatchRoundTripTest, OneMebibyteValue) {
  std::string value(size_t{1} << 20, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>(i * 7);
  const RecordView record = MakeRecord("big", value);
  ExpectRoundTrip({&record, 1});
  ExpectRoundTrip({&record, 1}, ZstdOptions());
}

TEST(BatchRoundTripTest, ZstdWithHeadersAndNulls) {
  const RecordHeaderView header{"h", std::nullopt};
  const RecordView records[] = {
      MakeRecord(std::nullopt, "a", kNoTimestamp, {&header, 1}),
      MakeRecord("k", std::nullopt, 5)};
  ExpectRoundTrip(records, ZstdOptions(19));
}

}  // namespace
}  // namespace shiplog
