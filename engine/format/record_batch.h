// The RecordBatch v2 header (FORMAT.md, "Batch header"): field positions,
// attribute bits, and a decoded view of the 61 header bytes.
//
// Thread-safety: all functions are pure; BatchHeader is a plain value.
#ifndef SHIPLOG_ENGINE_FORMAT_RECORD_BATCH_H_
#define SHIPLOG_ENGINE_FORMAT_RECORD_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <limits>

#include "absl/strings/string_view.h"

namespace shiplog {

// Byte positions of the header fields, named as in FORMAT.md.
inline constexpr size_t kBaseOffsetPosition = 0;             // int64
inline constexpr size_t kBatchLengthPosition = 8;            // int32
inline constexpr size_t kPartitionLeaderEpochPosition = 12;  // int32
inline constexpr size_t kMagicPosition = 16;                 // int8
inline constexpr size_t kCrcPosition = 17;                   // uint32
inline constexpr size_t kAttributesPosition = 21;            // int16
inline constexpr size_t kLastOffsetDeltaPosition = 23;       // int32
inline constexpr size_t kBaseTimestampPosition = 27;         // int64
inline constexpr size_t kMaxTimestampPosition = 35;          // int64
inline constexpr size_t kProducerIdPosition = 43;            // int64
inline constexpr size_t kProducerEpochPosition = 51;         // int16
inline constexpr size_t kBaseSequencePosition = 53;          // int32
inline constexpr size_t kRecordsCountPosition = 57;          // int32
inline constexpr size_t kBatchHeaderSize = 61;  // records start here

// baseOffset + batchLength: the bytes a batch has beyond its batchLength.
inline constexpr size_t kBatchLogOverhead = 12;
// The smallest legal batchLength: a header and no records.
inline constexpr int32_t kMinBatchLength =
    static_cast<int32_t>(kBatchHeaderSize - kBatchLogOverhead);
// The CRC covers attributes through the end of the batch.
inline constexpr size_t kCrcCoveredPosition = kAttributesPosition;

inline constexpr int8_t kMagicV2 = 2;
inline constexpr int64_t kNoTimestamp = -1;
inline constexpr int64_t kNoProducerId = -1;
inline constexpr int16_t kNoProducerEpoch = -1;
inline constexpr int32_t kNoSequence = -1;
inline constexpr int32_t kNoPartitionLeaderEpoch = -1;

// Attributes bits 0-2.
enum class Compression : uint8_t {
  kNone = 0,
  kGzip = 1,
  kSnappy = 2,
  kLz4 = 3,
  kZstd = 4,
};
inline constexpr int16_t kCompressionMask = 0x07;
inline constexpr int16_t kTimestampTypeLogAppendTime = 0x08;  // bit 3
inline constexpr int16_t kTransactionalFlag = 0x10;           // bit 4
inline constexpr int16_t kControlFlag = 0x20;                 // bit 5
inline constexpr int16_t kDeleteHorizonFlag = 0x40;           // bit 6

// "none", "gzip", "snappy", "lz4", "zstd", or "unknown(N)".
absl::string_view CompressionName(Compression compression);

// Every offset a log holds is below this, and its end offset (the next
// offset) at most this; segment base offsets too. Far above any real log's
// offsets, it leaves room for what is added to an offset (a segment's
// uint32 relative offsets, a batch's int32 offset deltas, the +1 of an end)
// so that offset arithmetic never overflows, however hostile the files.
inline constexpr int64_t kLogOffsetLimit =
    std::numeric_limits<int64_t>::max() -
    std::numeric_limits<uint32_t>::max();

// a + b with two's-complement wrap-around. baseOffset and baseTimestamp lie
// outside the CRC (or come from untrusted input) and may hold anything;
// arithmetic on them must not be undefined behaviour.
inline int64_t WrappingAdd(int64_t a, int64_t b) {
  int64_t sum;
  __builtin_add_overflow(a, b, &sum);
  return sum;
}

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = kNoPartitionLeaderEpoch;
  int8_t magic = kMagicV2;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = kNoTimestamp;
  int64_t max_timestamp = kNoTimestamp;
  int64_t producer_id = kNoProducerId;
  int16_t producer_epoch = kNoProducerEpoch;
  int32_t base_sequence = kNoSequence;
  int32_t records_count = 0;

  Compression compression() const {
    return static_cast<Compression>(attributes & kCompressionMask);
  }
  bool is_transactional() const { return attributes & kTransactionalFlag; }
  bool is_control() const { return attributes & kControlFlag; }
  int64_t last_offset() const {
    return WrappingAdd(base_offset, last_offset_delta);
  }
  // The whole batch: batchLength plus the 12 bytes before it.
  uint64_t size_in_bytes() const {
    return kBatchLogOverhead + static_cast<uint32_t>(batch_length);
  }
};

// Decodes the header fields at `header`, which must point at
// kBatchHeaderSize readable bytes. Checks nothing: see ValidateBatch.
BatchHeader DecodeBatchHeader(const char* header);

// Writes every field of `header` into the kBatchHeaderSize bytes at `out`,
// the CRC field included as given.
void EncodeBatchHeader(const BatchHeader& header, char* out);

// Rewrites baseOffset in place. baseOffset lies outside the CRC, so the
// batch stays valid: this is how the log assigns offsets to a producer's
// batch without a CRC pass.
void SetBaseOffset(char* batch, int64_t base_offset);
void SetPartitionLeaderEpoch(char* batch, int32_t epoch);

// Computes the CRC-32C over bytes [kCrcCoveredPosition, size) of a whole
// batch.
uint32_t ComputeBatchCrc(const char* batch, size_t size);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_FORMAT_RECORD_BATCH_H_
