#include "engine/format/record_reader.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/format/byte_order.h"

namespace shiplog {
namespace {

// Copies `from` into `*to`, reusing `*to`'s buffer from the previous record.
void AssignBytes(const std::optional<absl::string_view>& from,
                 std::optional<std::string>* to) {
  if (!from) {
    to->reset();
    return;
  }
  if (!to->has_value()) to->emplace();
  (*to)->assign(from->data(), from->size());
}

}  // namespace

RecordReader::RecordReader(absl::string_view batches, int64_t min_offset,
                           const ValidateOptions& options)
    : input_(batches), min_offset_(min_offset), options_(options) {}

bool RecordReader::Next() {
  while (status_.ok()) {
    if (records_left_ == 0) {
      if (!LoadNextBatch()) return false;
    } else if (DecodeRecord()) {
      return true;
    }
  }
  return false;
}

bool RecordReader::LoadNextBatch() {
  // The header and CRC are checked here and the records below, once the
  // section is decompressed, so a zstd batch is decompressed only once.
  ValidateOptions header_checks = options_;
  header_checks.check_records = false;
  while (true) {
    const absl::string_view rest = input_.substr(next_batch_position_);
    // A read that ended mid-batch leaves a partial batch: the end of the
    // input, not corruption. A batchLength too small to be true is left for
    // ValidateBatch to reject.
    if (rest.size() < kBatchHeaderSize) return false;
    const auto batch_length = static_cast<int32_t>(
        LoadBigEndian32(rest.data() + kBatchLengthPosition));
    if (batch_length >= kMinBatchLength &&
        kBatchLogOverhead + static_cast<uint64_t>(batch_length) > rest.size()) {
      return false;
    }
    absl::StatusOr<BatchInfo> info =
        ValidateBatch(rest, header_checks, next_batch_position_);
    if (!info.ok()) {
      status_ = std::move(info).status();
      return false;
    }
    batch_ = info->header;
    batch_position_ = next_batch_position_;
    next_batch_position_ += info->size_in_bytes;
    if (batch_.is_control() || batch_.last_offset() < min_offset_) {
      continue;
    }
    absl::StatusOr<absl::string_view> records =
        DecodeRecordsSection(rest, batch_, batch_position_,
                             options_.max_decompressed_bytes, &decompressed_);
    if (!records.ok()) {
      status_ = std::move(records).status();
      return false;
    }
    if (options_.check_records) {
      status_ = ValidateRecords(*records, batch_, batch_position_);
      if (!status_.ok()) return false;
    }
    records_ = *records;
    records_left_ = batch_.records_count;
    return true;
  }
}

bool RecordReader::DecodeRecord() {
  const int32_t index = batch_.records_count - records_left_;
  --records_left_;
  RecordFields fields;
  const absl::Status parsed = ParseRecord(&records_, &fields);
  if (!parsed.ok()) {
    status_ = absl::DataLossError(absl::StrCat("batch at position ",
                                               batch_position_, ": record ",
                                               index, ": ", parsed.message()));
    return false;
  }
  const int64_t offset = WrappingAdd(batch_.base_offset, fields.offset_delta);
  if (offset < min_offset_) return false;

  record_.offset = offset;
  // LogAppendTime batches carry the broker's append time in maxTimestamp;
  // Kafka reports it for every record and ignores the deltas.
  record_.timestamp_ms =
      (batch_.attributes & kTimestampTypeLogAppendTime) != 0
          ? batch_.max_timestamp
          : WrappingAdd(batch_.base_timestamp, fields.timestamp_delta);
  AssignBytes(fields.key, &record_.key);
  AssignBytes(fields.value, &record_.value);
  record_.headers.resize(static_cast<size_t>(fields.headers_count));
  absl::string_view headers = fields.headers;
  RecordHeaderView view;
  for (RecordHeader& header : record_.headers) {
    // ParseRecord has checked every header of the record.
    ParseRecordHeader(&headers, &view).IgnoreError();
    header.key.assign(view.key.data(), view.key.size());
    AssignBytes(view.value, &header.value);
  }
  return true;
}

}  // namespace shiplog
