// batch_fuzz: the batch validator and the record reader over arbitrary
// bytes (README.md, "batch_fuzz"). Every batch that validates must decode
// into exactly its records, and decoding must agree with validation; the
// CRC-32C implementations must agree with the portable one.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/format/batch_builder.h"
#include "engine/format/batch_validator.h"
#include "engine/format/byte_order.h"
#include "engine/format/crc32c.h"
#include "engine/format/record.h"
#include "engine/format/record_batch.h"
#include "engine/format/record_reader.h"
#include "engine/format/zstd_codec.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"

namespace shiplog::fuzz {
namespace {

constexpr uint8_t kRepairCrcs = 0x01;
constexpr uint8_t kCompressRecords = 0x02;
constexpr uint8_t kSmallDecompressionCap = 0x04;
constexpr size_t kSmallCap = 4096;
constexpr int64_t kLowestOffset = std::numeric_limits<int64_t>::min();

bool Decodable(const BatchHeader& header) {
  return header.compression() == Compression::kNone ||
         header.compression() == Compression::kZstd;
}

// Rewrites `input` batch by batch as the flags ask: the records section
// zstd-compressed, and the CRC (and batchLength) made right, so mutations
// reach the record parser and the zstd path instead of stopping at the CRC.
std::string Repair(absl::string_view input, uint8_t flags) {
  std::string out;
  while (!input.empty()) {
    if (input.size() < kBatchHeaderSize) {
      out.append(input.data(), input.size());
      break;
    }
    const auto batch_length =
        static_cast<int32_t>(LoadBigEndian32(input.data() + kBatchLengthPosition));
    size_t size = input.size();
    if (batch_length >= kMinBatchLength &&
        kBatchLogOverhead + static_cast<uint64_t>(batch_length) <= size) {
      size = kBatchLogOverhead + static_cast<size_t>(batch_length);
    }
    const size_t start = out.size();
    out.append(input.data(), kBatchHeaderSize);
    const absl::string_view records =
        input.substr(kBatchHeaderSize, size - kBatchHeaderSize);
    if ((flags & kCompressRecords) != 0) {
      if (!ZstdCompress(records, 1, &out).ok()) return std::string(input);
      const auto attributes = static_cast<uint16_t>(
          (LoadBigEndian16(out.data() + start + kAttributesPosition) &
           ~kCompressionMask) |
          static_cast<uint16_t>(Compression::kZstd));
      StoreBigEndian16(out.data() + start + kAttributesPosition, attributes);
    } else {
      out.append(records.data(), records.size());
    }
    char* batch = out.data() + start;
    const size_t batch_size = out.size() - start;
    StoreBigEndian32(batch + kBatchLengthPosition,
                     static_cast<uint32_t>(batch_size - kBatchLogOverhead));
    StoreBigEndian32(batch + kCrcPosition, ComputeBatchCrc(batch, batch_size));
    input.remove_prefix(size);
  }
  return out;
}

// Decodes the records of one batch that validated. They must all come
// out, numbered from its baseOffset, unless its codec cannot be decoded
// in process or it is a control batch (skipped by readers).
std::vector<Record> DecodeValidBatch(absl::string_view batch,
                                     const BatchInfo& info,
                                     const ValidateOptions& options) {
  const BatchHeader& header = info.header;
  RecordReader reader(batch, kLowestOffset, options);
  std::vector<Record> records;
  while (reader.Next()) {
    FUZZ_CHECK(records.size() < static_cast<size_t>(header.records_count),
               "more records than the header's %d", header.records_count);
    const int64_t expected =
        WrappingAdd(header.base_offset, static_cast<int64_t>(records.size()));
    FUZZ_CHECK(reader.record().offset == expected,
               "record offset %lld, expected %lld",
               static_cast<long long>(reader.record().offset),
               static_cast<long long>(expected));
    records.push_back(reader.record());
  }
  if (!Decodable(header)) {
    FUZZ_CHECK(absl::IsUnimplemented(reader.status()) || header.is_control(),
               "codec %d: %s", static_cast<int>(header.compression()),
               reader.status().ToString().c_str());
    return {};
  }
  FUZZ_CHECK(reader.status().ok(), "a validated batch does not decode: %s",
             reader.status().ToString().c_str());
  FUZZ_CHECK(reader.consumed_bytes() == batch.size(),
             "consumed %zu of %zu bytes", reader.consumed_bytes(),
             batch.size());
  if (header.is_control()) {
    FUZZ_CHECK(records.empty(), "a control batch yielded records");
  } else {
    FUZZ_CHECK(records.size() == static_cast<size_t>(header.records_count),
               "%zu records decoded, the header says %d", records.size(),
               header.records_count);
  }
  return records;
}

// Encodes `records` again with the batch builder and decodes the result:
// keys, values, headers and timestamps must survive.
void CheckRoundTrip(const std::vector<Record>& records,
                    Compression compression) {
  if (records.empty()) return;
  std::vector<std::vector<RecordHeaderView>> headers(records.size());
  std::vector<RecordView> views(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& record = records[i];
    // The builder takes no negative timestamp but "none" (-1: now).
    if (record.timestamp_ms < 0) return;
    for (const RecordHeader& header : record.headers) {
      headers[i].push_back({header.key, header.value});
    }
    views[i] = RecordView{record.key, record.value, headers[i],
                          record.timestamp_ms};
  }
  std::string batch;
  const absl::Status built =
      AppendBatch(views, BatchOptions{.compression = compression}, 0, &batch);
  FUZZ_CHECK(built.ok(), "re-encoding decoded records: %s",
             built.ToString().c_str());
  RecordReader reader(batch);
  size_t i = 0;
  while (reader.Next()) {
    FUZZ_CHECK(i < records.size(), "the re-encoded batch has extra records");
    Record expected = records[i];
    expected.offset = static_cast<int64_t>(i);
    FUZZ_CHECK(reader.record() == expected, "record %zu changed", i);
    ++i;
  }
  FUZZ_CHECK(reader.status().ok() && i == records.size(),
             "the re-encoded batch reads back %zu of %zu records: %s", i,
             records.size(), reader.status().ToString().c_str());
}

void CheckCrc(absl::string_view bytes) {
  const uint32_t portable = crc32c::ExtendPortable(0, bytes.data(), bytes.size());
  FUZZ_CHECK(crc32c::Value(bytes) == portable, "crc32c disagrees");
  const size_t half = bytes.size() / 2;
  FUZZ_CHECK(crc32c::Extend(crc32c::Value(bytes.substr(0, half)),
                            bytes.data() + half, bytes.size() - half) ==
                 portable,
             "crc32c::Extend does not continue");
}

}  // namespace
}  // namespace shiplog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shiplog;         // NOLINT(build/namespaces)
  using namespace shiplog::fuzz;   // NOLINT(build/namespaces)
  FuzzInput input(data, size);
  const uint8_t flags = input.Byte();
  const auto min_offset_delta = static_cast<int8_t>(input.Byte());
  const absl::string_view raw = input.Rest();
  CheckCrc(raw);
  const std::string bytes = (flags & (kRepairCrcs | kCompressRecords)) != 0
                                ? Repair(raw, flags)
                                : std::string(raw);
  ValidateOptions options;
  if ((flags & kSmallDecompressionCap) != 0) {
    options.max_decompressed_bytes = kSmallCap;
  }

  // One batch at a time, as the log's recovery and readers meet them.
  const absl::string_view view(bytes);
  uint64_t position = 0;
  bool every_batch_valid = !view.empty();
  bool every_batch_decodable = true;
  while (position < view.size()) {
    const absl::string_view rest = view.substr(position);
    absl::StatusOr<BatchInfo> info = ValidateBatch(rest, options, position);
    if (!info.ok()) {
      FUZZ_CHECK(absl::IsDataLoss(info.status()),
                 "validation failed with a code other than DATA_LOSS: %s",
                 info.status().ToString().c_str());
      every_batch_valid = false;
      break;
    }
    FUZZ_CHECK(info->size_in_bytes >= kBatchHeaderSize &&
                   info->size_in_bytes <= rest.size(),
               "batch size %llu outside [61, %zu]",
               static_cast<unsigned long long>(info->size_in_bytes),
               rest.size());
    char encoded[kBatchHeaderSize];
    EncodeBatchHeader(info->header, encoded);
    FUZZ_CHECK(absl::string_view(encoded, kBatchHeaderSize) ==
                   rest.substr(0, kBatchHeaderSize),
               "header does not encode back to its bytes");
    const absl::string_view batch = rest.substr(0, info->size_in_bytes);
    const std::vector<Record> records = DecodeValidBatch(batch, *info, options);
    if (!Decodable(info->header)) every_batch_decodable = false;
    if (!info->header.is_control()) {
      CheckRoundTrip(records, info->header.compression());
    }
    position += info->size_in_bytes;
  }

  // All at once: the same verdict as one by one.
  absl::StatusOr<std::vector<BatchInfo>> all = ValidateBatches(view, options);
  FUZZ_CHECK(all.ok() == every_batch_valid,
             "ValidateBatches says %s, batch by batch says %s",
             all.status().ToString().c_str(),
             every_batch_valid ? "valid" : "invalid");

  // A read of the whole buffer: never a record below min_offset, offsets
  // rising within a batch, and no error when every batch validated and can
  // be decoded.
  int64_t min_offset = 0;
  if (view.size() >= kBatchHeaderSize) {
    min_offset = WrappingAdd(
        static_cast<int64_t>(LoadBigEndian64(view.data())), min_offset_delta);
  }
  RecordReader reader(view, min_offset, options);
  size_t batch_end = 0;
  int64_t previous = 0;
  while (reader.Next()) {
    const int64_t offset = reader.record().offset;
    FUZZ_CHECK(offset >= min_offset, "record %lld below min_offset %lld",
               static_cast<long long>(offset),
               static_cast<long long>(min_offset));
    FUZZ_CHECK(reader.consumed_bytes() != batch_end || offset > previous,
               "offset %lld after %lld in one batch",
               static_cast<long long>(offset),
               static_cast<long long>(previous));
    batch_end = reader.consumed_bytes();
    previous = offset;
  }
  if (every_batch_valid && every_batch_decodable) {
    FUZZ_CHECK(reader.status().ok(), "valid batches do not read: %s",
               reader.status().ToString().c_str());
  }
  return 0;
}
