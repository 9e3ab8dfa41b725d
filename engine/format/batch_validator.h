// Validating RecordBatch v2 bytes before the log accepts or trusts them.
//
// Every malformed batch is rejected with kDataLoss and a message that names
// the batch (by its position in the input) and the precise fault: bad magic,
// CRC mismatch (stored and computed values), batchLength too small or
// running past the end of the input, a record count that disagrees with the
// records decoded or with lastOffsetDelta, a bad varint, a record length
// that disagrees with its contents, offset deltas that are not 0..n-1, a
// record timestamp above maxTimestamp.
//
// Thread-safety: pure functions.
#ifndef SHIPLOG_ENGINE_FORMAT_BATCH_VALIDATOR_H_
#define SHIPLOG_ENGINE_FORMAT_BATCH_VALIDATOR_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/format/record.h"
#include "engine/format/record_batch.h"

namespace shiplog {

struct ValidateOptions {
  // Decode every record (decompressing zstd batches) and check record
  // structure. Without it only the header, lengths and CRC are checked.
  // Batches compressed with a codec shiplog cannot decode (gzip, snappy,
  // lz4) are always checked at the header and CRC level only.
  bool check_records = true;
  // Decompressed batches larger than this are rejected (zip-bomb guard).
  size_t max_decompressed_bytes = size_t{256} << 20;
};

// What the log needs to know about a batch it accepts.
struct BatchInfo {
  BatchHeader header;
  uint64_t size_in_bytes = 0;  // == header.size_in_bytes()
};

// Validates the one batch at the front of `bytes` (trailing bytes are
// ignored) and returns its header. `position` is only used in messages.
absl::StatusOr<BatchInfo> ValidateBatch(absl::string_view bytes,
                                        const ValidateOptions& options,
                                        uint64_t position = 0);

// Validates that `bytes` is one or more whole, valid batches back to back,
// with nothing left over. Returns one BatchInfo per batch, in order.
absl::StatusOr<std::vector<BatchInfo>> ValidateBatches(
    absl::string_view bytes, const ValidateOptions& options);

// The building blocks of ValidateBatch, shared with RecordReader so that
// records are parsed by one piece of code and decompressed once per read.

// The records section of `batch`, a batch that passed the header checks
// (`header` is its header): the bytes after the header, or for zstd their
// decompression into `*scratch`, which the result then borrows. Errors, each
// naming `position`: kDataLoss for a corrupt zstd stream or one larger than
// `max_decompressed_bytes`; kUnimplemented for gzip, snappy and lz4.
absl::StatusOr<absl::string_view> DecodeRecordsSection(
    absl::string_view batch, const BatchHeader& header, uint64_t position,
    size_t max_decompressed_bytes, std::string* scratch);

// Checks a decoded records section against its batch's header: exactly
// recordsCount well-formed records with offset deltas 0..n-1, nothing left
// over, and for CreateTime batches no timestamp above maxTimestamp.
absl::Status ValidateRecords(absl::string_view records,
                             const BatchHeader& header, uint64_t position);

// One record, decoded in place: the views borrow from the records section.
struct RecordFields {
  int64_t timestamp_delta = 0;
  int32_t offset_delta = 0;
  std::optional<absl::string_view> key;
  std::optional<absl::string_view> value;
  int32_t headers_count = 0;
  // The record's `headers_count` encoded headers, already checked by
  // ParseRecord: walk them with ParseRecordHeader.
  absl::string_view headers;
};

// Decodes the record at the front of `*records` and advances past it. Checks
// every varint, that no length is negative (but -1 for a null key, value or
// header value) or runs past the record, and that the record's length equals
// the bytes its fields use. On error returns kDataLoss naming the fault
// without position (callers add the batch and record) and leaves `*records`
// unspecified.
absl::Status ParseRecord(absl::string_view* records, RecordFields* fields);

// Decodes the record header at the front of `*headers` and advances past
// it. Errors as ParseRecord.
absl::Status ParseRecordHeader(absl::string_view* headers,
                               RecordHeaderView* header);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_FORMAT_BATCH_VALIDATOR_H_
