#include "engine/format/batch_builder.h"

#include <cstring>
#include <limits>
#include <optional>
#include <vector>

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

// `body_size` is RecordBodySize(record, offset_delta, timestamp_delta),
// from the plan.
char* EncodeRecord(const RecordView& record, int32_t offset_delta,
                   int64_t timestamp_delta, uint32_t body_size, char* dst) {
  dst = EncodeVarint(static_cast<int32_t>(body_size), dst);
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

// What the header needs to know before the records are encoded, and each
// record's body size, which the encoder would otherwise compute again.
struct BatchPlan {
  int64_t base_timestamp = kNoTimestamp;
  int64_t max_timestamp = kNoTimestamp;
  uint64_t records_size = 0;  // the uncompressed records section
  std::vector<uint32_t> body_sizes;
};

absl::StatusOr<BatchPlan> PlanBatch(absl::Span<const RecordView> records,
                                    int64_t now_ms) {
  BatchPlan plan;
  plan.body_sizes.reserve(records.size());
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
    plan.body_sizes.push_back(static_cast<uint32_t>(body_size));
  }
  return plan;
}

void EncodeRecords(absl::Span<const RecordView> records, const BatchPlan& plan,
                   int64_t now_ms, char* dst) {
  for (size_t i = 0; i < records.size(); ++i) {
    dst =
        EncodeRecord(records[i], static_cast<int32_t>(i),
                     RecordTimestamp(records[i], now_ms) - plan.base_timestamp,
                     plan.body_sizes[i], dst);
  }
}

absl::Status BatchTooLarge(uint64_t batch_bytes) {
  return absl::InvalidArgumentError(
      absl::StrCat("a batch of ", batch_bytes,
                   " bytes exceeds the format's int32 batchLength"));
}

// Fills in the header of the `size`-byte batch at `batch`, whose records
// section is in place, and seals it with its CRC.
void SealBatch(size_t record_count, const BatchPlan& plan,
               const BatchOptions& options, char* batch, size_t size) {
  BatchHeader header;
  header.batch_length = static_cast<int32_t>(size - kBatchLogOverhead);
  header.attributes = static_cast<int16_t>(options.compression);
  header.last_offset_delta = static_cast<int32_t>(record_count - 1);
  header.base_timestamp = plan.base_timestamp;
  header.max_timestamp = plan.max_timestamp;
  header.producer_id = options.producer_id;
  header.producer_epoch = options.producer_epoch;
  header.base_sequence = options.base_sequence;
  header.records_count = static_cast<int32_t>(record_count);
  EncodeBatchHeader(header, batch);
  StoreBigEndian32(batch + kCrcPosition, ComputeBatchCrc(batch, size));
}

// Grows `*out` by `size` bytes and returns the first of them: the two
// buffers AppendBatch writes to. Only the string pays a zero-fill.
char* Grow(std::string* out, size_t size) {
  const size_t start = out->size();
  out->resize(start + size);
  return out->data() + start;
}
char* Grow(ByteBuffer* out, size_t size) {
  return out->AppendUninitialized(size);
}

// AppendBatch for either buffer. `*out` grows only once the batch is known
// to be good, so errors leave it unchanged.
template <typename Buffer>
absl::Status AppendBatchTo(absl::Span<const RecordView> records,
                           const BatchOptions& options, int64_t now_ms,
                           Buffer* out) {
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

  if (options.compression == Compression::kNone) {
    // Records are encoded straight into their final place.
    if (kMinBatchLength + plan.records_size > kMaxInt32) {
      return BatchTooLarge(kBatchHeaderSize + plan.records_size);
    }
    const size_t size = kBatchHeaderSize + plan.records_size;
    char* batch = Grow(out, size);
    EncodeRecords(records, plan, now_ms, batch + kBatchHeaderSize);
    SealBatch(records.size(), plan, options, batch, size);
    return absl::OkStatus();
  }

  // A zstd batch's size is known only once it is compressed.
  std::string uncompressed(plan.records_size, '\0');
  EncodeRecords(records, plan, now_ms, uncompressed.data());
  std::string compressed;
  RETURN_IF_ERROR(ZstdCompress(uncompressed, options.zstd_level, &compressed));
  if (kMinBatchLength + compressed.size() > kMaxInt32) {
    return BatchTooLarge(kBatchHeaderSize + compressed.size());
  }
  const size_t size = kBatchHeaderSize + compressed.size();
  char* batch = Grow(out, size);
  std::memcpy(batch + kBatchHeaderSize, compressed.data(), compressed.size());
  SealBatch(records.size(), plan, options, batch, size);
  return absl::OkStatus();
}

}  // namespace

absl::Status AppendBatch(absl::Span<const RecordView> records,
                         const BatchOptions& options, int64_t now_ms,
                         std::string* out) {
  return AppendBatchTo(records, options, now_ms, out);
}

absl::Status AppendBatch(absl::Span<const RecordView> records,
                         const BatchOptions& options, int64_t now_ms,
                         ByteBuffer* out) {
  return AppendBatchTo(records, options, now_ms, out);
}

}  // namespace shiplog
