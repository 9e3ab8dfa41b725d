// BatchScanner: walks the batches of a segment's log file from a batch
// boundary, reading through one bounded buffer.
//
// Reads use it to step from an index entry to the batch holding an offset
// (headers only). Recovery uses it with `verify` to find the first invalid
// byte: each batch's header is checked and its CRC computed while streaming
// the batch through the buffer, so a batch of any size is verified in
// bounded memory.
//
// Thread-safety: not thread-safe; one scanner per thread. The File may be
// shared (positional reads).
#ifndef SHIPLOG_ENGINE_SEGMENT_BATCH_SCANNER_H_
#define SHIPLOG_ENGINE_SEGMENT_BATCH_SCANNER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "engine/format/record_batch.h"
#include "engine/io/env.h"

namespace shiplog {

class BatchScanner {
 public:
  struct Options {
    // Check every batch: magic, lengths, record count, CRC-32C, and that
    // offsets continue from `expected_base_offset` without gaps.
    bool verify = false;
    std::optional<int64_t> expected_base_offset;
    size_t buffer_bytes = 16 * 1024;
  };

  // Scans [start, end) of `file`; `start` must be a batch boundary.
  BatchScanner(const File& file, uint64_t start, uint64_t end,
               const Options& options);

  // Advances to the next batch. Returns false at `end` or on a problem:
  // status() is OK at a clean end, kDataLoss naming the position and fault
  // for an invalid or incomplete batch (position() is then where the bad
  // bytes start), or the I/O error.
  bool Next();

  const BatchHeader& header() const { return header_; }
  // Start of the current batch (or of the invalid bytes).
  uint64_t position() const { return position_; }
  // Where the next batch starts.
  uint64_t next_position() const { return next_position_; }
  const absl::Status& status() const { return status_; }

 private:
  // Makes [position, position + length) available in buffer_, refilling
  // from the file; false with status_ set on I/O error or end of range.
  bool Fill(uint64_t position, size_t length);
  bool VerifyCurrent();
  bool Fail(absl::Status status);

  const File& file_;
  const uint64_t end_;
  const Options options_;
  std::vector<char> buffer_;
  uint64_t buffer_position_ = 0;  // file position of buffer_[0]
  size_t buffer_length_ = 0;      // valid bytes in buffer_
  uint64_t position_;
  uint64_t next_position_;
  std::optional<int64_t> expected_base_offset_;
  BatchHeader header_;
  absl::Status status_;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_SEGMENT_BATCH_SCANNER_H_
