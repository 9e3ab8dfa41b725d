// Helpers shared by the format tests: building real batches, sealing
// hand-made ones, and reading records back.
#ifndef SHIPLOG_TESTS_ENGINE_FORMAT_FORMAT_TEST_UTIL_H_
#define SHIPLOG_TESTS_ENGINE_FORMAT_FORMAT_TEST_UTIL_H_

#include <zstd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/format/batch_builder.h"
#include "engine/format/byte_order.h"
#include "engine/format/record.h"
#include "engine/format/record_batch.h"
#include "engine/format/record_reader.h"
#include "engine/format/varint.h"
#include "gtest/gtest.h"

namespace shiplog::testing {

inline constexpr int64_t kTestNowMs = 1'700'000'000'000;

// Factories: the option and record structs have defaults that designated
// initializers would leave -Wmissing-field-initializers complaining about.
inline RecordView MakeRecord(std::optional<absl::string_view> key,
                             std::optional<absl::string_view> value,
                             int64_t timestamp_ms = kNoTimestamp,
                             absl::Span<const RecordHeaderView> headers = {}) {
  RecordView record;
  record.key = key;
  record.value = value;
  record.headers = headers;
  record.timestamp_ms = timestamp_ms;
  return record;
}

inline BatchOptions ZstdOptions(int level = 3) {
  BatchOptions options;
  options.compression = Compression::kZstd;
  options.zstd_level = level;
  return options;
}

inline ValidateOptions HeaderChecksOnly() {
  ValidateOptions options;
  options.check_records = false;
  return options;
}

inline ValidateOptions DecompressionCap(size_t max_decompressed_bytes) {
  ValidateOptions options;
  options.max_decompressed_bytes = max_decompressed_bytes;
  return options;
}

// A batch built by AppendBatch; a failure fails the calling test.
inline std::string BuildBatch(absl::Span<const RecordView> records,
                              const BatchOptions& options = {}) {
  std::string out;
  const absl::Status status = AppendBatch(records, options, kTestNowMs, &out);
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

// A batch of `count` records with values "value-0", "value-1", ...
inline std::string BuildValuesBatch(int count,
                                    const BatchOptions& options = {}) {
  std::vector<std::string> values;
  for (int i = 0; i < count; ++i) {
    values.push_back("value-" + std::to_string(i));
  }
  std::vector<RecordView> records;
  for (const std::string& value : values) {
    records.push_back(MakeRecord(std::nullopt, value));
  }
  return BuildBatch(records, options);
}

// Recomputes the CRC of the batch at the front of `*batch`, so a test can
// corrupt what the CRC covers and still reach the checks behind it.
inline void ResealCrc(std::string* batch) {
  const auto size =
      kBatchLogOverhead + LoadBigEndian32(batch->data() + kBatchLengthPosition);
  StoreBigEndian32(batch->data() + kCrcPosition,
                   ComputeBatchCrc(batch->data(), size));
}

// A batch with a correct header around a hand-made records section.
inline std::string SealBatch(absl::string_view records_section,
                             int32_t records_count, int16_t attributes = 0,
                             int64_t base_timestamp = 1000,
                             int64_t max_timestamp = 1000) {
  BatchHeader header;
  header.batch_length = static_cast<int32_t>(
      kBatchHeaderSize - kBatchLogOverhead + records_section.size());
  header.attributes = attributes;
  header.last_offset_delta = records_count - 1;
  header.base_timestamp = base_timestamp;
  header.max_timestamp = max_timestamp;
  header.records_count = records_count;
  std::string batch(kBatchHeaderSize, '\0');
  EncodeBatchHeader(header, batch.data());
  batch.append(records_section.data(), records_section.size());
  ResealCrc(&batch);
  return batch;
}

// One record in Kafka's layout, encoded by the test rather than the
// builder: `body` is everything after the length field.
inline std::string RecordWithBody(absl::string_view body) {
  std::string record;
  AppendVarint(&record, static_cast<int32_t>(body.size()));
  record.append(body.data(), body.size());
  return record;
}

inline void AppendBytesField(std::string* out,
                             std::optional<absl::string_view> field) {
  if (!field) {
    AppendVarint(out, -1);
    return;
  }
  AppendVarint(out, static_cast<int32_t>(field->size()));
  out->append(field->data(), field->size());
}

// A well-formed record body with no headers.
inline std::string RecordBody(int32_t offset_delta,
                              std::optional<absl::string_view> key,
                              std::optional<absl::string_view> value,
                              int64_t timestamp_delta = 0) {
  std::string body(1, '\0');  // attributes
  AppendVarlong(&body, timestamp_delta);
  AppendVarint(&body, offset_delta);
  AppendBytesField(&body, key);
  AppendBytesField(&body, value);
  AppendVarint(&body, 0);  // headers count
  return body;
}

// One zstd frame as a streaming compressor writes it, without the content
// size in its header (Kafka's Java producer writes frames like this).
inline std::string ZstdFrameWithoutContentSize(absl::string_view input) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string frame(ZSTD_compressBound(input.size()) + 64, '\0');
  ZSTD_outBuffer out{frame.data(), frame.size(), 0};
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  // Feeding the input before ending the frame is what keeps zstd from
  // learning the size: a single ZSTD_e_end call would record it.
  size_t result = ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_continue);
  EXPECT_FALSE(ZSTD_isError(result));
  ZSTD_inBuffer no_input{nullptr, 0, 0};
  result = ZSTD_compressStream2(cctx, &out, &no_input, ZSTD_e_end);
  EXPECT_EQ(result, 0u);
  ZSTD_freeCCtx(cctx);
  frame.resize(out.pos);
  EXPECT_EQ(ZSTD_getFrameContentSize(frame.data(), frame.size()),
            ZSTD_CONTENTSIZE_UNKNOWN);
  return frame;
}

// Every record `bytes` yields from `min_offset` on; the reader's final
// status goes to `*status`.
inline std::vector<Record> ReadRecords(absl::string_view bytes,
                                       int64_t min_offset = 0,
                                       absl::Status* status = nullptr,
                                       const ValidateOptions& options = {}) {
  RecordReader reader(bytes, min_offset, options);
  std::vector<Record> records;
  while (reader.Next()) records.push_back(reader.record());
  if (status != nullptr) *status = reader.status();
  return records;
}

}  // namespace shiplog::testing

#endif  // SHIPLOG_TESTS_ENGINE_FORMAT_FORMAT_TEST_UTIL_H_
