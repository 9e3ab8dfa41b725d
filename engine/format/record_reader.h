// Decoding the records of back-to-back batches, for in-process reads.
//
// Thread-safety: a RecordReader is not thread-safe; use one per thread.
#ifndef SHIPLOG_ENGINE_FORMAT_RECORD_READER_H_
#define SHIPLOG_ENGINE_FORMAT_RECORD_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/format/batch_validator.h"
#include "engine/format/record.h"
#include "engine/format/record_batch.h"

namespace shiplog {

// Iterates the records of `batches`, a buffer of whole batches, possibly
// followed by one partial batch (a read that ended mid-batch), which is
// ignored. Each batch is validated (CRC and record structure) before any of
// its records is returned, and zstd batches are decompressed. Records with
// offsets below `min_offset` are skipped (a read starts at the batch holding
// the requested offset). Control batches (transaction markers) are skipped.
//
//   RecordReader reader(bytes, offset);
//   while (reader.Next()) Use(reader.record());
//   if (!reader.status().ok()) ...
class RecordReader {
 public:
  // `batches` must outlive the reader.
  explicit RecordReader(absl::string_view batches, int64_t min_offset = 0,
                        const ValidateOptions& options = {});

  // Advances to the next record. Returns false at the end of the input or
  // on an error; status() tells which. Errors: kDataLoss for a corrupt
  // batch, kUnimplemented for a codec shiplog cannot decode (gzip, snappy,
  // lz4).
  bool Next();

  const Record& record() const { return record_; }
  // The header of the batch the current record came from.
  const BatchHeader& batch() const { return batch_; }
  // Bytes of `batches` consumed: the end of the last whole batch reached.
  size_t consumed_bytes() const { return next_batch_position_; }
  const absl::Status& status() const { return status_; }

 private:
  // Moves to the next batch that has records to return. Returns false at
  // the end of the input or on an error (status_ set).
  bool LoadNextBatch();
  // Decodes the current batch's next record. Returns true if record_ now
  // holds a record to return, false if the record was below min_offset_
  // (skipped) or malformed (status_ set).
  bool DecodeRecord();

  absl::string_view input_;
  int64_t min_offset_;
  ValidateOptions options_;
  size_t next_batch_position_ = 0;
  size_t batch_position_ = 0;  // where the current batch starts in input_
  BatchHeader batch_;
  std::string decompressed_;
  absl::string_view records_;  // undecoded records of the current batch
  int32_t records_left_ = 0;
  Record record_;
  absl::Status status_;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_FORMAT_RECORD_READER_H_
