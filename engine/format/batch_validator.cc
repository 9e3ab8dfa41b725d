#include "engine/format/batch_validator.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/format/byte_order.h"
#include "engine/format/varint.h"
#include "engine/format/zstd_codec.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

template <typename... Parts>
std::string BatchMessage(uint64_t position, const Parts&... parts) {
  return absl::StrCat("batch at position ", position, ": ", parts...);
}

template <typename... Parts>
absl::Status BatchError(uint64_t position, const Parts&... parts) {
  return absl::DataLossError(BatchMessage(position, parts...));
}

// Reads a varint-length-prefixed byte field named `name` from the front of
// `*body`. Length -1 means null when `nullable`; other negative lengths are
// corrupt.
absl::Status ReadBytesField(absl::string_view* body, absl::string_view name,
                            bool nullable,
                            std::optional<absl::string_view>* field) {
  int32_t length;
  if (!DecodeVarint(body, &length)) {
    return absl::DataLossError(absl::StrCat("bad varint in ", name, " length"));
  }
  if (length == -1 && nullable) {
    field->reset();
    return absl::OkStatus();
  }
  if (length < 0) {
    return absl::DataLossError(
        absl::StrCat("negative ", name, " length ", length));
  }
  if (static_cast<size_t>(length) > body->size()) {
    return absl::DataLossError(absl::StrCat(name, " length ", length,
                                            " runs past the record (",
                                            body->size(), " bytes left)"));
  }
  *field = body->substr(0, static_cast<size_t>(length));
  body->remove_prefix(static_cast<size_t>(length));
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRecordHeader(absl::string_view* headers,
                               RecordHeaderView* header) {
  std::optional<absl::string_view> key;
  RETURN_IF_ERROR(ReadBytesField(headers, "key", /*nullable=*/false, &key));
  header->key = *key;
  return ReadBytesField(headers, "value", /*nullable=*/true, &header->value);
}

absl::Status ParseRecord(absl::string_view* records, RecordFields* fields) {
  int32_t length;
  if (!DecodeVarint(records, &length)) {
    return absl::DataLossError("bad varint in record length");
  }
  if (length < 1) {
    // Even an empty record has its attributes byte.
    return absl::DataLossError(
        absl::StrCat("record length ", length, " is below the minimum 1"));
  }
  if (static_cast<size_t>(length) > records->size()) {
    return absl::DataLossError(absl::StrCat("record length ", length,
                                            " runs past the records (",
                                            records->size(), " bytes left)"));
  }
  absl::string_view body = records->substr(0, static_cast<size_t>(length));
  records->remove_prefix(static_cast<size_t>(length));

  body.remove_prefix(1);  // attributes: unused since v2; Kafka ignores them
  if (!DecodeVarlong(&body, &fields->timestamp_delta)) {
    return absl::DataLossError("bad varint in timestamp delta");
  }
  if (!DecodeVarint(&body, &fields->offset_delta)) {
    return absl::DataLossError("bad varint in offset delta");
  }
  RETURN_IF_ERROR(
      ReadBytesField(&body, "key", /*nullable=*/true, &fields->key));
  RETURN_IF_ERROR(
      ReadBytesField(&body, "value", /*nullable=*/true, &fields->value));
  if (!DecodeVarint(&body, &fields->headers_count)) {
    return absl::DataLossError("bad varint in header count");
  }
  if (fields->headers_count < 0) {
    return absl::DataLossError(
        absl::StrCat("negative header count ", fields->headers_count));
  }
  const char* headers_start = body.data();
  RecordHeaderView header;
  for (int32_t i = 0; i < fields->headers_count; ++i) {
    const absl::Status status = ParseRecordHeader(&body, &header);
    if (!status.ok()) {
      return absl::DataLossError(
          absl::StrCat("header ", i, ": ", status.message()));
    }
  }
  fields->headers = absl::string_view(
      headers_start, static_cast<size_t>(body.data() - headers_start));
  if (!body.empty()) {
    return absl::DataLossError(absl::StrCat(
        "record length ", length, " disagrees with its fields (",
        static_cast<size_t>(length) - body.size(), " bytes used)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRecords(absl::string_view records,
                             const BatchHeader& header, uint64_t position) {
  const bool create_time =
      (header.attributes & kTimestampTypeLogAppendTime) == 0;
  RecordFields fields;
  int32_t decoded = 0;
  for (; decoded < header.records_count && !records.empty(); ++decoded) {
    const absl::Status status = ParseRecord(&records, &fields);
    if (!status.ok()) {
      return BatchError(position, "record ", decoded, ": ", status.message());
    }
    if (fields.offset_delta != decoded) {
      return BatchError(position, "record ", decoded, " has offset delta ",
                        fields.offset_delta, " (expected ", decoded, ")");
    }
    const int64_t timestamp =
        WrappingAdd(header.base_timestamp, fields.timestamp_delta);
    if (create_time && timestamp > header.max_timestamp) {
      return BatchError(position, "record ", decoded, " timestamp ", timestamp,
                        " exceeds maxTimestamp ", header.max_timestamp);
    }
  }
  if (decoded < header.records_count) {
    return BatchError(position, "header says ", header.records_count,
                      " records, ", decoded, " decoded");
  }
  if (!records.empty()) {
    return BatchError(position, records.size(),
                      " bytes left after the last record");
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> DecodeRecordsSection(
    absl::string_view batch, const BatchHeader& header, uint64_t position,
    size_t max_decompressed_bytes, std::string* scratch) {
  const absl::string_view payload =
      batch.substr(kBatchHeaderSize, header.size_in_bytes() - kBatchHeaderSize);
  switch (header.compression()) {
    case Compression::kNone:
      return payload;
    case Compression::kZstd: {
      scratch->clear();
      const absl::Status status =
          ZstdDecompress(payload, max_decompressed_bytes, scratch);
      if (!status.ok()) return BatchError(position, status.message());
      return absl::string_view(*scratch);
    }
    default:
      return absl::UnimplementedError(
          BatchMessage(position, CompressionName(header.compression()),
                       " compression cannot be decoded in process"));
  }
}

absl::StatusOr<BatchInfo> ValidateBatch(absl::string_view bytes,
                                        const ValidateOptions& options,
                                        uint64_t position) {
  // Lengths first: nothing else can be read safely until they hold.
  if (bytes.size() < kBatchLogOverhead) {
    return BatchError(position, "truncated header (", bytes.size(),
                      " bytes, need ", kBatchHeaderSize, ")");
  }
  const auto batch_length = static_cast<int32_t>(
      LoadBigEndian32(bytes.data() + kBatchLengthPosition));
  if (batch_length < kMinBatchLength) {
    return BatchError(position, "batchLength ", batch_length,
                      " is below the minimum ", kMinBatchLength);
  }
  if (kBatchLogOverhead + static_cast<uint64_t>(batch_length) > bytes.size()) {
    return BatchError(position, "batchLength ", batch_length,
                      " runs past the end of the input (", bytes.size(),
                      " bytes available)");
  }
  // batchLength >= kMinBatchLength: the whole header is there.
  const BatchHeader header = DecodeBatchHeader(bytes.data());
  if (header.magic != kMagicV2) {
    return BatchError(position, "bad magic ", static_cast<int>(header.magic),
                      " (expected ", static_cast<int>(kMagicV2), ")");
  }
  const uint32_t crc = ComputeBatchCrc(bytes.data(), header.size_in_bytes());
  if (crc != header.crc) {
    return BatchError(position, "CRC mismatch (stored 0x",
                      absl::Hex(header.crc, absl::kZeroPad8), ", computed 0x",
                      absl::Hex(crc, absl::kZeroPad8), ")");
  }
  if (header.records_count < 0) {
    return BatchError(position, "recordsCount ", header.records_count,
                      " is negative");
  }
  if (header.records_count == 0) return BatchError(position, "no records");
  if (header.last_offset_delta < 0) {
    return BatchError(position, "lastOffsetDelta ", header.last_offset_delta,
                      " is negative");
  }
  if (int64_t{header.last_offset_delta} + 1 != header.records_count) {
    return BatchError(position, "header says ", header.records_count,
                      " records but lastOffsetDelta is ",
                      header.last_offset_delta);
  }
  if (header.compression() > Compression::kZstd) {
    return BatchError(position, "unknown compression codec ",
                      static_cast<int>(header.compression()));
  }

  if (options.check_records) {
    std::string scratch;
    absl::StatusOr<absl::string_view> records = DecodeRecordsSection(
        bytes, header, position, options.max_decompressed_bytes, &scratch);
    // A codec shiplog cannot decode is checked at the header level only.
    if (records.ok()) {
      RETURN_IF_ERROR(ValidateRecords(*records, header, position));
    } else if (!absl::IsUnimplemented(records.status())) {
      return std::move(records).status();
    }
  }
  return BatchInfo{header, header.size_in_bytes()};
}

absl::StatusOr<std::vector<BatchInfo>> ValidateBatches(
    absl::string_view bytes, const ValidateOptions& options) {
  if (bytes.empty()) {
    return absl::DataLossError("no batches: the input is empty");
  }
  std::vector<BatchInfo> batches;
  uint64_t position = 0;
  while (position < bytes.size()) {
    ASSIGN_OR_RETURN(BatchInfo info,
                     ValidateBatch(bytes.substr(position), options, position));
    position += info.size_in_bytes;
    batches.push_back(info);
  }
  return batches;
}

}  // namespace shiplog
