#include "bindings/cli/segment_dump.h"

#include <iterator>
#include <optional>
#include <string>
#include <utility>

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

// The verifying reader beside the framing one: it checks each batch the
// framing reader returns, until the first that fails, where it stops.
class BatchVerifier {
 public:
  static absl::StatusOr<BatchVerifier> Open(const std::string& path) {
    ASSIGN_OR_RETURN(Owned<shiplog_segment_reader> reader,
                     cli::Open(shiplog_segment_reader_open, path.c_str(), 1));
    return BatchVerifier(std::move(reader));
  }

  // Verifies the batch the framing reader returned last. A fault is
  // reported to `out` unless it is `already_reported` (the offset gap the
  // caller found too); an I/O error is returned.
  absl::Status Next(const std::string& path, absl::string_view already_reported,
                    DumpOutput& out) {
    if (reader_ == nullptr) return absl::OkStatus();
    shiplog_file_batch batch;
    const int status = shiplog_segment_reader_next(&batch, reader_.get());
    if (status == SHIPLOG_OK) return absl::OkStatus();
    reader_.reset();
    if (status == SHIPLOG_ITEROVER) return absl::OkStatus();
    if (status != SHIPLOG_ECORRUPT) return AbiStatus(status);
    const absl::Status fault = AbiStatus(status);
    // The library names the file first, as the PROBLEM line does.
    if (fault.message() != absl::StrCat(path, ": ", already_reported)) {
      out.Problem(path, fault);
    }
    return absl::OkStatus();
  }

 private:
  explicit BatchVerifier(Owned<shiplog_segment_reader> reader)
      : reader_(std::move(reader)) {}

  Owned<shiplog_segment_reader> reader_;  // null once it stopped
};

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
  // The framing reader walks every batch its header describes, so the dump
  // goes on past a bad CRC.
  ASSIGN_OR_RETURN(const Owned<shiplog_segment_reader> reader,
                   Open(shiplog_segment_reader_open, path.c_str(), 0));
  std::optional<BatchVerifier> verifier;
  if (verify) {
    ASSIGN_OR_RETURN(verifier, BatchVerifier::Open(path));
  }
  LogFileScan scan{.next_offset = base_offset};
  shiplog_file_batch batch;
  int status;
  while ((status = shiplog_segment_reader_next(&batch, reader.get())) ==
         SHIPLOG_OK) {
    if (print) out.Line(BatchLine(batch));
    if (verify) {
      std::string gap;
      if (batch.base_offset != scan.next_offset) {
        gap = absl::StrCat("batch at position ", batch.position,
                           ": base offset ", batch.base_offset,
                           " where offset ", scan.next_offset, " was expected");
        out.Problem(path, gap);
      }
      RETURN_IF_ERROR(verifier->Next(path, gap, out));
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
