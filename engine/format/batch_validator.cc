#include "engine/format/batch_validator.h"

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
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

// The error paths of record parsing. Building a message costs far more
// than parsing a record; keeping them out of line keeps the record loop,
// which runs for every record a producer sends, small.
ABSL_ATTRIBUTE_NOINLINE absl::Status BadVarint(absl::string_view field) {
  return absl::DataLossError(absl::StrCat("bad varint in ", field));
}

ABSL_ATTRIBUTE_NOINLINE absl::Status BadFieldLength(absl::string_view name,
                                                    int32_t length,
                                                    ptrdiff_t bytes_left) {
  if (length < 0) {
    return absl::DataLossError(
        absl::StrCat("negative ", name, " length ", length));
  }
  return absl::DataLossError(absl::StrCat(name, " length ", length,
                                          " runs past the record (", bytes_left,
                                          " bytes left)"));
}

ABSL_ATTRIBUTE_NOINLINE absl::Status BadRecordLength(int32_t length,
                                                     ptrdiff_t bytes_left) {
  if (length < 1) {
    // Even an empty record has its attributes byte.
    return absl::DataLossError(
        absl::StrCat("record length ", length, " is below the minimum 1"));
  }
  return absl::DataLossError(absl::StrCat("record length ", length,
                                          " runs past the records (",
                                          bytes_left, " bytes left)"));
}

ABSL_ATTRIBUTE_NOINLINE absl::Status BadHeader(int32_t index,
                                               const absl::Status& status) {
  return absl::DataLossError(
      absl::StrCat("header ", index, ": ", status.message()));
}

// Record parsing works on raw pointers: `*p` is the parse position and
// `end` the end of the record (or of the records section, for the length),
// and each step advances `*p` past what it read.

// Reads the varint-length-prefixed byte field named `name`. Length -1 means
// null when `nullable`; other negative lengths are corrupt.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::Status ReadBytesField(
    const char** p, const char* end, absl::string_view name, bool nullable,
    std::optional<absl::string_view>* field) {
  int32_t length;
  const char* bytes = DecodeVarintAt(*p, end, &length);
  if (ABSL_PREDICT_FALSE(bytes == nullptr)) {
    return BadVarint(absl::StrCat(name, " length"));
  }
  if (ABSL_PREDICT_TRUE(length >= 0 && length <= end - bytes)) {
    *field = absl::string_view(bytes, static_cast<size_t>(length));
    *p = bytes + length;
    return absl::OkStatus();
  }
  if (length == -1 && nullable) {
    field->reset();
    *p = bytes;
    return absl::OkStatus();
  }
  return BadFieldLength(name, length, end - bytes);
}

ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::Status ParseHeaderAt(
    const char** p, const char* end, RecordHeaderView* header) {
  std::optional<absl::string_view> key;
  RETURN_IF_ERROR(ReadBytesField(p, end, "key", /*nullable=*/false, &key));
  header->key = *key;
  return ReadBytesField(p, end, "value", /*nullable=*/true, &header->value);
}

// ParseRecord on pointers, inlined into the validation loop.
ABSL_ATTRIBUTE_ALWAYS_INLINE inline absl::Status ParseRecordAt(
    const char** p, const char* records_end, RecordFields* fields) {
  int32_t length;
  const char* body = DecodeVarintAt(*p, records_end, &length);
  if (ABSL_PREDICT_FALSE(body == nullptr)) return BadVarint("record length");
  if (ABSL_PREDICT_FALSE(length < 1 || length > records_end - body)) {
    return BadRecordLength(length, records_end - body);
  }
  const char* const end = body + length;
  *p = end;

  const char* field = body + 1;  // attributes: unused since v2; ignored
  field = DecodeVarintAt(field, end, &fields->timestamp_delta);
  if (ABSL_PREDICT_FALSE(field == nullptr)) {
    return BadVarint("timestamp delta");
  }
  field = DecodeVarintAt(field, end, &fields->offset_delta);
  if (ABSL_PREDICT_FALSE(field == nullptr)) return BadVarint("offset delta");
  RETURN_IF_ERROR(
      ReadBytesField(&field, end, "key", /*nullable=*/true, &fields->key));
  RETURN_IF_ERROR(
      ReadBytesField(&field, end, "value", /*nullable=*/true, &fields->value));
  field = DecodeVarintAt(field, end, &fields->headers_count);
  if (ABSL_PREDICT_FALSE(field == nullptr)) return BadVarint("header count");
  if (ABSL_PREDICT_FALSE(fields->headers_count < 0)) {
    return absl::DataLossError(
        absl::StrCat("negative header count ", fields->headers_count));
  }
  const char* const headers = field;
  RecordHeaderView header;
  for (int32_t i = 0; i < fields->headers_count; ++i) {
    const absl::Status status = ParseHeaderAt(&field, end, &header);
    if (ABSL_PREDICT_FALSE(!status.ok())) return BadHeader(i, status);
  }
  fields->headers =
      absl::string_view(headers, static_cast<size_t>(field - headers));
  if (ABSL_PREDICT_FALSE(field != end)) {
    return absl::DataLossError(absl::StrCat("record length ", length,
                                            " disagrees with its fields (",
                                            field - body, " bytes used)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseRecordHeader(absl::string_view* headers,
                               RecordHeaderView* header) {
  const char* p = headers->data();
  RETURN_IF_ERROR(ParseHeaderAt(&p, headers->data() + headers->size(), header));
  headers->remove_prefix(static_cast<size_t>(p - headers->data()));
  return absl::OkStatus();
}

absl::Status ParseRecord(absl::string_view* records, RecordFields* fields) {
  const char* p = records->data();
  RETURN_IF_ERROR(ParseRecordAt(&p, records->data() + records->size(), fields));
  records->remove_prefix(static_cast<size_t>(p - records->data()));
  return absl::OkStatus();
}

absl::Status ValidateRecords(absl::string_view records,
                             const BatchHeader& header, uint64_t position) {
  const bool create_time =
      (header.attributes & kTimestampTypeLogAppendTime) == 0;
  const char* p = records.data();
  const char* const records_end = records.data() + records.size();
  RecordFields fields;
  int32_t decoded = 0;
  for (; decoded < header.records_count && p != records_end; ++decoded) {
    const absl::Status status = ParseRecordAt(&p, records_end, &fields);
    if (ABSL_PREDICT_FALSE(!status.ok())) {
      return BatchError(position, "record ", decoded, ": ", status.message());
    }
    if (ABSL_PREDICT_FALSE(fields.offset_delta != decoded)) {
      return BatchError(position, "record ", decoded, " has offset delta ",
                        fields.offset_delta, " (expected ", decoded, ")");
    }
    const int64_t timestamp =
        WrappingAdd(header.base_timestamp, fields.timestamp_delta);
    if (ABSL_PREDICT_FALSE(create_time && timestamp > header.max_timestamp)) {
      return BatchError(position, "record ", decoded, " timestamp ", timestamp,
                        " exceeds maxTimestamp ", header.max_timestamp);
    }
  }
  if (decoded < header.records_count) {
    return BatchError(position, "header says ", header.records_count,
                      " records, ", decoded, " decoded");
  }
  if (p != records_end) {
    return BatchError(position, records_end - p,
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
