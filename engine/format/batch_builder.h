// Encoding records into one RecordBatch v2 (FORMAT.md, "Records").
//
// Thread-safety: pure functions.
#ifndef SHIPLOG_ENGINE_FORMAT_BATCH_BUILDER_H_
#define SHIPLOG_ENGINE_FORMAT_BATCH_BUILDER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "engine/format/byte_buffer.h"
#include "engine/format/record.h"
#include "engine/format/record_batch.h"

namespace shiplog {

struct BatchOptions {
  // kNone or kZstd: the codecs shiplog can write.
  Compression compression = Compression::kNone;
  int zstd_level = 3;
  int64_t producer_id = kNoProducerId;
  int16_t producer_epoch = kNoProducerEpoch;
  int32_t base_sequence = kNoSequence;
};

// Appends to `*out` one batch holding `records`, with baseOffset 0 (the log
// assigns the real one in place), offset deltas 0..n-1, CreateTime
// timestamps and a correct CRC. A record whose timestamp_ms is kNoTimestamp
// gets `now_ms`. baseTimestamp is the first record's timestamp, maxTimestamp
// the largest.
//
// Errors: kInvalidArgument for no records, a codec other than none or zstd,
// a negative timestamp other than kNoTimestamp, or a batch that would not
// fit the format's int32 lengths. On error `*out` is unchanged.
absl::Status AppendBatch(absl::Span<const RecordView> records,
                         const BatchOptions& options, int64_t now_ms,
                         std::string* out);

// The same, into a ByteBuffer: the bytes are written once, with no
// zero-fill before them, and a buffer reused across batches allocates only
// when a batch outgrows it. Prefer it on hot paths.
absl::Status AppendBatch(absl::Span<const RecordView> records,
                         const BatchOptions& options, int64_t now_ms,
                         ByteBuffer* out);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_FORMAT_BATCH_BUILDER_H_
