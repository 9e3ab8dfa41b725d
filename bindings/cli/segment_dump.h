// Dumping and verifying a segment's files for `shiplog dump`, working on
// the files alone (no Store, nothing written), in the style of Kafka's
// DumpLogSegments: one `key: value` line per batch or index entry.
//
// Problems found (a bad batch, an index entry that points nowhere) are
// printed in line as `PROBLEM: <file>: <what>` and counted; the dump goes
// on where it can. A file that cannot be read at all is an error status.
//
// Thread-safety: not thread-safe.
#ifndef SHIPLOG_BINDINGS_CLI_SEGMENT_DUMP_H_
#define SHIPLOG_BINDINGS_CLI_SEGMENT_DUMP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bindings/cli/stdout_buffer.h"

namespace shiplog::cli {

// The dump's lines on stdout, and the count of problems among them.
class DumpOutput {
 public:
  void Line(absl::string_view line);
  void Problem(absl::string_view file, absl::string_view what);
  // The status's message, without a leading "<file>: ".
  void Problem(absl::string_view file, const absl::Status& status);
  int64_t problems() const { return problems_; }
  // The first error writing stdout, if any, after writing the rest.
  absl::Status Flush();

 private:
  StdoutBuffer out_;
  absl::Status write_status_;
  int64_t problems_ = 0;
};

// One batch of a .log, as the index checks need it.
struct BatchSummary {
  uint64_t position = 0;
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  int64_t max_timestamp = 0;
};

// What a .log holds, up to the first batch that could not be read.
struct LogFileScan {
  std::vector<BatchSummary> batches;
  int64_t next_offset = 0;  // after the last batch (the base if none)
  int64_t records = 0;
};

// Reads every batch of the .log at `path`, whose file name says its first
// offset is `base_offset`, printing one line per batch if `print`. With
// `verify`, offsets must run on from `base_offset` without gaps, and every
// batch is checked as shiplog_log_append_batches would check it (magic,
// lengths, CRC-32C, every record: shiplog_segment_reader_check). Each bad
// batch is a problem of its own, and the walk goes on past it.
absl::StatusOr<LogFileScan> DumpLogFile(const std::string& path,
                                        int64_t base_offset, bool print,
                                        bool verify, DumpOutput& out);

// Prints the entries of an .index (`offset: O position: P`, absolute
// offsets, as shiplog_index_reader_get returns them) and how many
// preallocated empty slots follow them (an active
// segment's index is preallocated and zero-filled). With `log`, the
// segment's scanned .log, the entries are verified: strictly increasing in
// offset and position, each at the start of a batch whose last offset is
// the entry's offset.
absl::Status DumpOffsetIndexFile(const std::string& path, int64_t base_offset,
                                 const LogFileScan* log, DumpOutput& out);

// As DumpOffsetIndexFile for a .timeindex (`timestamp: T offset: O`). The
// rules: timestamps strictly increasing, offsets non-decreasing, and each
// timestamp equal to the largest batch maxTimestamp up to and including
// the batch holding the entry's offset (the running maximum there, which
// is what the engine records).
absl::Status DumpTimeIndexFile(const std::string& path, int64_t base_offset,
                               const LogFileScan* log, DumpOutput& out);

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_SEGMENT_DUMP_H_
