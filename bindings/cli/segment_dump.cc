#include "bindings/cli/segment_dump.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "engine/format/batch_validator.h"
#include "engine/format/record_batch.h"
#include "engine/io/env.h"
#include "engine/segment/batch_scanner.h"
#include "engine/status/status_macros.h"

namespace shiplog::cli {

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
  // Engine messages about a file often start with its path, which the
  // PROBLEM line names already.
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
  ASSIGN_OR_RETURN(const std::unique_ptr<File> file,
                   Env::Default()->OpenFile(path, OpenMode::kReadOnly));
  ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  LogFileScan scan{.next_offset = base_offset};
  // The scanner only frames batches; verification reads each one whole.
  BatchScanner scanner(*file, 0, size, BatchScanner::Options{});
  std::string bytes;
  while (scanner.Next()) {
    const BatchHeader& header = scanner.header();
    const uint64_t position = scanner.position();
    if (print) {
      out.Line(absl::StrFormat(
          "baseOffset: %d lastOffset: %d position: %d size: %d count: %d "
          "crc: 0x%08x compression: %s baseTimestamp: %d maxTimestamp: %d",
          header.base_offset, header.last_offset(), position,
          header.size_in_bytes(), header.records_count, header.crc,
          CompressionName(header.compression()), header.base_timestamp,
          header.max_timestamp));
    }
    if (verify) {
      if (header.base_offset != scan.next_offset) {
        out.Problem(
            path, absl::StrCat("batch at position ", position, ": base offset ",
                               header.base_offset, " where offset ",
                               scan.next_offset, " was expected"));
      }
      bytes.resize(header.size_in_bytes());
      RETURN_IF_ERROR(ReadFully(*file, position, absl::MakeSpan(bytes)));
      const absl::StatusOr<BatchInfo> valid =
          ValidateBatch(bytes, ValidateOptions{}, position);
      if (!valid.ok()) out.Problem(path, valid.status());
    }
    scan.batches.push_back({position, header.base_offset, header.last_offset(),
                            header.max_timestamp});
    scan.next_offset = header.last_offset() + 1;
    scan.records += header.records_count;
  }
  if (!scanner.status().ok()) {
    out.Problem(path, scanner.status());
  }
  return scan;
}

}  // namespace shiplog::cli
