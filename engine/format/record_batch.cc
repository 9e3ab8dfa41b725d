#include "engine/format/record_batch.h"

#include <array>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/format/byte_order.h"
#include "engine/format/crc32c.h"

namespace shiplog {

absl::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kSnappy:
      return "snappy";
    case Compression::kLz4:
      return "lz4";
    case Compression::kZstd:
      return "zstd";
  }
  // Built once and never freed, so the returned views stay valid for the
  // life of the process.
  static const auto* const kUnknownNames = [] {
    auto* names = new std::array<std::string, 256>;
    for (size_t id = 0; id < names->size(); ++id) {
      (*names)[id] = absl::StrCat("unknown(", id, ")");
    }
    return names;
  }();
  return (*kUnknownNames)[static_cast<uint8_t>(compression)];
}

BatchHeader DecodeBatchHeader(const char* header) {
  BatchHeader h;
  h.base_offset =
      static_cast<int64_t>(LoadBigEndian64(header + kBaseOffsetPosition));
  h.batch_length =
      static_cast<int32_t>(LoadBigEndian32(header + kBatchLengthPosition));
  h.partition_leader_epoch = static_cast<int32_t>(
      LoadBigEndian32(header + kPartitionLeaderEpochPosition));
  h.magic = static_cast<int8_t>(header[kMagicPosition]);
  h.crc = LoadBigEndian32(header + kCrcPosition);
  h.attributes =
      static_cast<int16_t>(LoadBigEndian16(header + kAttributesPosition));
  h.last_offset_delta =
      static_cast<int32_t>(LoadBigEndian32(header + kLastOffsetDeltaPosition));
  h.base_timestamp =
      static_cast<int64_t>(LoadBigEndian64(header + kBaseTimestampPosition));
  h.max_timestamp =
      static_cast<int64_t>(LoadBigEndian64(header + kMaxTimestampPosition));
  h.producer_id =
      static_cast<int64_t>(LoadBigEndian64(header + kProducerIdPosition));
  h.producer_epoch =
      static_cast<int16_t>(LoadBigEndian16(header + kProducerEpochPosition));
  h.base_sequence =
      static_cast<int32_t>(LoadBigEndian32(header + kBaseSequencePosition));
  h.records_count =
      static_cast<int32_t>(LoadBigEndian32(header + kRecordsCountPosition));
  return h;
}

void EncodeBatchHeader(const BatchHeader& h, char* out) {
  StoreBigEndian64(out + kBaseOffsetPosition,
                   static_cast<uint64_t>(h.base_offset));
  StoreBigEndian32(out + kBatchLengthPosition,
                   static_cast<uint32_t>(h.batch_length));
  StoreBigEndian32(out + kPartitionLeaderEpochPosition,
                   static_cast<uint32_t>(h.partition_leader_epoch));
  out[kMagicPosition] = static_cast<char>(h.magic);
  StoreBigEndian32(out + kCrcPosition, h.crc);
  StoreBigEndian16(out + kAttributesPosition,
                   static_cast<uint16_t>(h.attributes));
  StoreBigEndian32(out + kLastOffsetDeltaPosition,
                   static_cast<uint32_t>(h.last_offset_delta));
  StoreBigEndian64(out + kBaseTimestampPosition,
                   static_cast<uint64_t>(h.base_timestamp));
  StoreBigEndian64(out + kMaxTimestampPosition,
                   static_cast<uint64_t>(h.max_timestamp));
  StoreBigEndian64(out + kProducerIdPosition,
                   static_cast<uint64_t>(h.producer_id));
  StoreBigEndian16(out + kProducerEpochPosition,
                   static_cast<uint16_t>(h.producer_epoch));
  StoreBigEndian32(out + kBaseSequencePosition,
                   static_cast<uint32_t>(h.base_sequence));
  StoreBigEndian32(out + kRecordsCountPosition,
                   static_cast<uint32_t>(h.records_count));
}

void SetBaseOffset(char* batch, int64_t base_offset) {
  StoreBigEndian64(batch + kBaseOffsetPosition,
                   static_cast<uint64_t>(base_offset));
}

void SetPartitionLeaderEpoch(char* batch, int32_t epoch) {
  StoreBigEndian32(batch + kPartitionLeaderEpochPosition,
                   static_cast<uint32_t>(epoch));
}

uint32_t ComputeBatchCrc(const char* batch, size_t size) {
  return crc32c::Value(batch + kCrcCoveredPosition, size - kCrcCoveredPosition);
}

}  // namespace shiplog
