#include "engine/format/batch_builder.h"

#include <cstring>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/format/byte_order.h"
#include "engine/format/varint.h"
#include "engine/format/zstd_codec.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

constexpr uint64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

int64_t RecordTimestamp(const RecordView& record, int64_t now_ms) {
  return record.timestamp_ms == kNoTimestamp ? now_ms : record.timestamp_ms;
}

// Sizes are computed before anything is written, so records are encoded
// straight into their final place. Callers have checked every length fits
// an int32 (FitsInt32) before asking for a size.
size_t BytesFieldSize(absl::string_view field) {
  return VarintSize(static_cast<int32_t>(field.size())) + field.size();
}
size_t BytesFieldSize(const std::optional<absl::string_view>& field) {
  return field ? BytesFieldSize(*field) : VarintSize(-1);
}

// The bytes after a record's length field (FORMAT.md, "Records").
uint64_t RecordBodySize(const RecordView& record, int32_t offset_delta,
                        int64_t timestamp_delta) {
  uint64_t size = 1;  // attributes
  size += VarlongSize(timestamp_delta);
  size += VarintSize(offset_delta);
  size += BytesFieldSize(record.key);
  size += BytesFieldSize(record.value);
  size += VarintSize(static_cast<int32_t>(record.headers.size()));
  for (const RecordHeaderView& header : record.headers) {
    size += BytesFieldSize(header.key) + BytesFieldSize(header.value);
  }
  return size;
}

char* EncodeBytesField(absl::string_view field, char* dst) {
  dst = EncodeVarint(static_cast<int32_t>(field.size()), dst);
  // An empty view may have a null data(), which memcpy must not be given.
  if (!field.empty()) std::memcpy(dst, field.data(), field.size());
  return dst + field.size();
}
char* EncodeBytesField(const std::optional<absl::string_view>& field,
                       char* dst) {
  return field ? EncodeBytesField(*field, dst) : EncodeVarint(-1, dst);
}

char* EncodeRecord(const RecordView& record, int32_t offset_delta,
                   int64_t timestamp_delta, char* dst) {
  dst = EncodeVarint(static_cast<int32_t>(
                         RecordBodySize(record, offset_delta, timestamp_delta)),
                     dst);
  *dst++ = 0;  // attributes
  dst = EncodeVarlong(timestamp_delta, dst);
  dst = EncodeVarint(offset_delta, dst);
  dst = EncodeBytesField(record.key, dst);
  dst = EncodeBytesField(record.value, dst);
  dst = EncodeVarint(static_cast<int32_t>(record.headers.size()), dst);
  for (const RecordHeaderView& header : record.headers) {
    dst = EncodeBytesField(header.key, dst);
    dst = EncodeBytesField(header.value, dst);
  }
  return dst;
}

bool FitsInt32(const std::optional<absl::string_view>& field) {
  return !field || field->size() <= kMaxInt32;
}

bool LengthsFitInt32(const RecordView& record) {
  if (!FitsInt32(record.key) || !FitsInt32(record.value) ||
      record.headers.size() > kMaxInt32) {
    return false;
  }
  for (const RecordHeaderView& header : record.headers) {
    if (!FitsInt32(header.key) || !FitsInt32(header.value)) return false;
  }
  return true;
}

// What the header needs to know before the records are encoded.
struct BatchPlan {
  int64_t base_timestamp = kNoTimestamp;
  int64_t max_timestamp = kNoTimestamp;
  uint64_t records_size = 0;  // the uncompressed records section
};

absl::StatusOr<BatchPlan> PlanBatch(absl::Span<const RecordView> records,
                                    int64_t now_ms) {
  BatchPlan plan;
  plan.base_timestamp = RecordTimestamp(records[0], now_ms);
  plan.max_timestamp = plan.base_timestamp;
  for (size_t i = 0; i < records.size(); ++i) {
    const RecordView& record = records[i];
    const int64_t timestamp = RecordTimestamp(record, now_ms);
    if (timestamp < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("record ", i, " has negative timestamp ", timestamp));
    }
    if (!LengthsFitInt32(record)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "record ", i, " has a field longer than the format's int32 limit"));
    }
    if (timestamp > plan.max_timestamp) plan.max_timestamp = timestamp;
    const uint64_t body_size = RecordBodySize(record, static_cast<int32_t>(i),
                                              timestamp - plan.base_timestamp);
    if (body_size > kMaxInt32) {
      return absl::InvalidArgumentError(
          absl::StrCat("record ", i, " is ", body_size,
                       " bytes, beyond the format's int32 limit"));
    }
    plan.records_size +=
        VarintSize(static_cast<int32_t>(body_size)) + body_size;
  }
  return plan;
}

void EncodeRecords(absl::Span<const RecordView> records, int64_t now_ms,
                   int64_t base_timestamp, char* dst) {
  for (size_t i = 0; i < records.size(); ++i) {
    dst =
        EncodeRecord(records[i], static_cast<int32_t>(i),
                     RecordTimestamp(records[i], now_ms) - base_timestamp, dst);
  }
}

// Appends the records section to `*out`, compressed as `options` asks.
absl::Status AppendRecordsSection(absl::Span<const RecordView> records,
                                  const BatchPlan& plan,
                                  const BatchOptions& options, int64_t now_ms,
                                  std::string* out) {
  if (options.compression == Compression::kNone) {
    const size_t start = out->size();
    out->resize(start + plan.records_size);
    EncodeRecords(records, now_ms, plan.base_timestamp, out->data() + start);
    return absl::OkStatus();
  }
  std::string uncompressed(plan.records_size, '\0');
  EncodeRecords(records, now_ms, plan.base_timestamp, uncompressed.data());
  return ZstdCompress(uncompressed, options.zstd_level, out);
}

absl::Status BatchTooLarge(uint64_t batch_bytes) {
  return absl::InvalidArgumentError(
      absl::StrCat("a batch of ", batch_bytes,
                   " bytes exceeds the format's int32 batchLength"));
}

}  // namespace

absl::Status AppendBatch(absl::Span<const RecordView> records,
                         const BatchOptions& options, int64_t now_ms,
                         std::string* out) {
  if (records.empty()) {
    return absl::InvalidArgumentError("a batch needs at least one record");
  }
  if (options.compression != Compression::kNone &&
      options.compression != Compression::kZstd) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", CompressionName(options.compression),
                     " batches: shiplog writes none or zstd"));
  }
  if (records.size() > kMaxInt32) {
    return absl::InvalidArgumentError(absl::StrCat(
        records.size(), " records exceed the format's int32 recordsCount"));
  }
  ASSIGN_OR_RETURN(const BatchPlan plan, PlanBatch(records, now_ms));
  // Checked up front for uncompressed batches, so nothing is encoded in
  // vain; a zstd batch's size is known only once it is compressed.
  if (options.compression == Compression::kNone &&
      kMinBatchLength + plan.records_size > kMaxInt32) {
    return BatchTooLarge(kBatchHeaderSize + plan.records_size);
  }

  const size_t start = out->size();
  if (options.compression == Compression::kNone) {
    // One allocation for header and records alike.
    out->reserve(start + kBatchHeaderSize + plan.records_size);
  }
  out->resize(start + kBatchHeaderSize);
  absl::Status status =
      AppendRecordsSection(records, plan, options, now_ms, out);
  const uint64_t batch_length = out->size() - start - kBatchLogOverhead;
  if (status.ok() && batch_length > kMaxInt32) {
    status = BatchTooLarge(batch_length + kBatchLogOverhead);
  }
  if (!status.ok()) {
    out->resize(start);
    return status;
  }

  BatchHeader header;
  header.batch_length = static_cast<int32_t>(batch_length);
  header.attributes = static_cast<int16_t>(options.compression);
  header.last_offset_delta = static_cast<int32_t>(records.size() - 1);
  header.base_timestamp = plan.base_timestamp;
  header.max_timestamp = plan.max_timestamp;
  header.producer_id = options.producer_id;
  header.producer_epoch = options.producer_epoch;
  header.base_sequence = options.base_sequence;
  header.records_count = static_cast<int32_t>(records.size());
  char* batch = out->data() + start;
  EncodeBatchHeader(header, batch);
  StoreBigEndian32(batch + kCrcPosition,
                   ComputeBatchCrc(batch, out->size() - start));
  return absl::OkStatus();
}

}  // namespace shiplog
