#include "bindings/cli/segment_dump.h"

#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/status_macros.h"
#include "shiplog.h"

namespace shiplog::cli {
namespace {

// A batch's compression (attributes bits 0-2) as Kafka names it.
std::string CompressionName(int compression) {
  static constexpr const char* kNames[] = {"none", "gzip", "snappy", "lz4",
                                           "zstd"};
  if (compression >= 0 && compression < static_cast<int>(std::size(kNames))) {
    return kNames[compression];
  }
  return absl::StrCat("unknown(", compression, ")");
}

std::string BatchLine(const shiplog_file_batch& batch) {
  return absl::StrFormat(
      "baseOffset: %d lastOffset: %d position: %d size: %d count: %d "
      "crc: 0x%08x compression: %s baseTimestamp: %d maxTimestamp: %d",
      batch.base_offset, batch.last_offset, batch.position, batch.size,
      batch.records, batch.crc, CompressionName(batch.compression),
      batch.base_timestamp, batch.max_timestamp);
}

}  // namespace

void DumpOutput::Line(absl::string_view line) {
  absl::StrAppend(out_.buffer(), line, "\n");
  const absl::Status written = out_.MaybeFlush();
  if (write_status_.ok()) write_status_ = written;
}

void DumpOutput::Problem(absl::string_view file, absl::string_view what) {
  ++problems_;
  Line(absl::StrCat("PROBLEM: ", file, ": ", what));
}

void DumpOutput::Problem(absl::string_view file, const absl::Status& status) {
  // The library's messages about a file often start with its path, which
  // the PROBLEM line names already.
  absl::string_view what = status.message();
  absl::ConsumePrefix(&what, absl::StrCat(file, ": "));
  Problem(file, what);
}

absl::Status DumpOutput::Flush() {
  const absl::Status written = out_.Flush();
  return write_status_.ok() ? written : write_status_;
}

absl::StatusOr<LogFileScan> DumpLogFile(const std::string& path,
                                        int64_t base_offset, bool print,
                                        bool verify, DumpOutput& out) {
  // The reader only frames batches (verify = 0), so the walk goes on past
  // a bad batch for as long as the batch headers frame the file; each
  // batch is checked on its own.
  ASSIGN_OR_RETURN(const Owned<shiplog_segment_reader> reader,
                   Open(shiplog_segment_reader_open, path.c_str(), 0));
  LogFileScan scan{.next_offset = base_offset};
  shiplog_file_batch batch;
  int status;
  while ((status = shiplog_segment_reader_next(&batch, reader.get())) ==
         SHIPLOG_OK) {
    if (print) out.Line(BatchLine(batch));
    if (verify) {
      if (batch.base_offset != scan.next_offset) {
        out.Problem(path, absl::StrCat("batch at position ", batch.position,
                                       ": base offset ", batch.base_offset,
                                       " where offset ", scan.next_offset,
                                       " was expected"));
      }
      const int checked = shiplog_segment_reader_check(reader.get());
      if (checked == SHIPLOG_ECORRUPT) {
        out.Problem(path, AbiStatus(checked));
      } else if (checked != SHIPLOG_OK) {
        return AbiStatus(checked);
      }
    }
    scan.batches.push_back({batch.position, batch.base_offset,
                            batch.last_offset, batch.max_timestamp});
    scan.next_offset = batch.last_offset + 1;
    scan.records += batch.records;
  }
  // Where the bytes stop being batches (a torn tail): a problem, reported
  // whether or not verifying.
  if (status != SHIPLOG_ITEROVER) out.Problem(path, AbiStatus(status));
  return scan;
}

}  // namespace shiplog::cli
