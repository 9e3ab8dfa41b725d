// CheckSegmentFiles: verifies one segment's files as they are on disk,
// without opening a store: every batch of the .log (header, CRC-32C,
// offsets continuing from the base offset) and every entry of the .index
// and .timeindex against those batches (INDEX.md). Nothing is written.
//
// Thread-safety: a plain function; the files may be read by others
// meanwhile (a live writer's tail shows as bytes that stop being valid).
#ifndef SHIPLOG_ENGINE_SEGMENT_SEGMENT_CHECK_H_
#define SHIPLOG_ENGINE_SEGMENT_SEGMENT_CHECK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/env.h"

namespace shiplog {

struct SegmentCheckOptions {
  // The segment was sealed (it is not a log's active segment): its indexes
  // must end with the entries Seal writes, for its last batch and its
  // largest timestamp.
  bool sealed = false;
  // Called with the .log bytes scanned so far, as they go; may be empty.
  std::function<void(uint64_t)> scanned;
};

struct SegmentCheck {
  uint64_t file_bytes = 0;
  uint64_t valid_bytes = 0;  // whole, valid batches from position 0
  int64_t next_offset = 0;   // after the last valid batch
  int64_t batches = 0;
  int64_t records = 0;
  int64_t max_timestamp = -1;
  // kDataLoss naming the position and the fault where the batches stop
  // being valid before the end of the file; OK if they do not.
  absl::Status invalid_tail;
  // Index entries that disagree with the batches (or with each other):
  // wrong wherever the store trusts the index.
  std::vector<std::string> index_errors;
  // Index files the store would rebuild before use (missing, a partial
  // entry, not trimmed, not ending at the last batch): no data at stake.
  std::vector<std::string> index_rebuilds;
};

// Checks the segment at `base_offset` in `directory`. Errors are for I/O
// only (a missing .log is kNotFound); what is wrong with the contents is
// in the result.
absl::StatusOr<SegmentCheck> CheckSegmentFiles(
    Env* env, const std::string& directory, int64_t base_offset,
    const SegmentCheckOptions& options);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_SEGMENT_SEGMENT_CHECK_H_
