#include "engine/segment/batch_scanner.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/format/crc32c.h"
#include "engine/metrics/engine_metrics.h"

namespace shiplog {

BatchScanner::BatchScanner(const File& file, uint64_t start, uint64_t end,
                           const Options& options)
    : file_(file),
      end_(end),
      options_(options),
      buffer_(std::max(options.buffer_bytes, kBatchHeaderSize)),
      position_(start),
      next_position_(start),
      expected_base_offset_(options.expected_base_offset) {}

bool BatchScanner::Fail(absl::Status status) {
  status_ = std::move(status);
  return false;
}

bool BatchScanner::Fill(uint64_t position, size_t length) {
  if (position >= buffer_position_ &&
      position + length <= buffer_position_ + buffer_length_) {
    return true;
  }
  const size_t want =
      static_cast<size_t>(std::min<uint64_t>(buffer_.size(), end_ - position));
  absl::StatusOr<size_t> n =
      file_.ReadAt(position, absl::MakeSpan(buffer_.data(), want));
  if (!n.ok()) return Fail(n.status());
  buffer_position_ = position;
  buffer_length_ = *n;
  if (buffer_length_ < length) {
    return Fail(absl::DataLossError(absl::StrCat(
        file_.path(), ": batch at position ", position, " is cut short: ",
        length, " bytes needed, the file ends after ", buffer_length_)));
  }
  return true;
}

bool BatchScanner::Next() {
  if (!status_.ok()) return false;
  position_ = next_position_;
  if (position_ >= end_) return false;
  const uint64_t available = end_ - position_;
  const std::string where =
      absl::StrCat(file_.path(), ": batch at position ", position_);
  if (available < kBatchHeaderSize) {
    return Fail(absl::DataLossError(absl::StrCat(
        where, ": only ", available, " bytes left, less than a batch header")));
  }
  if (!Fill(position_, kBatchHeaderSize)) return false;
  header_ = DecodeBatchHeader(buffer_.data() + (position_ - buffer_position_));
  if (header_.batch_length < kMinBatchLength) {
    return Fail(absl::DataLossError(
        absl::StrCat(where, ": batchLength ", header_.batch_length,
                     " is below the minimum ", kMinBatchLength)));
  }
  if (header_.size_in_bytes() > available) {
    return Fail(absl::DataLossError(absl::StrCat(
        where, ": batchLength ", header_.batch_length,
        " runs past the end of the segment (", available, " bytes left)")));
  }
  if (options_.verify && !VerifyCurrent()) return false;
  next_position_ = position_ + header_.size_in_bytes();
  return true;
}

bool BatchScanner::VerifyCurrent() {
  const std::string where =
      absl::StrCat(file_.path(), ": batch at position ", position_);
  if (header_.magic != kMagicV2) {
    return Fail(absl::DataLossError(absl::StrCat(
        where, ": bad magic ", header_.magic, " (expected ", kMagicV2, ")")));
  }
  if (header_.records_count <= 0 || header_.last_offset_delta < 0 ||
      header_.last_offset_delta != header_.records_count - 1) {
    return Fail(absl::DataLossError(absl::StrCat(
        where, ": header says ", header_.records_count,
        " records but lastOffsetDelta is ", header_.last_offset_delta)));
  }
  // As ValidateBatch: what no producer's batch may hold, no segment does.
  if (header_.compression() > Compression::kZstd) {
    return Fail(absl::DataLossError(
        absl::StrCat(where, ": unknown compression codec ",
                     static_cast<int>(header_.compression()))));
  }
  if (expected_base_offset_.has_value() &&
      header_.base_offset != *expected_base_offset_) {
    return Fail(absl::DataLossError(absl::StrCat(
        where, ": base offset ", header_.base_offset, " where offset ",
        *expected_base_offset_, " was expected")));
  }
  // The offset after the batch becomes the next expected base offset.
  if (header_.last_offset() >= kLogOffsetLimit) {
    return Fail(absl::DataLossError(absl::StrCat(
        where, ": last offset ", header_.last_offset(),
        " is past the largest offset a log holds (", kLogOffsetLimit - 1,
        ")")));
  }
  // Stream the CRC-covered bytes through the buffer.
  uint32_t crc = 0;
  uint64_t cursor = position_ + kCrcCoveredPosition;
  const uint64_t batch_end = position_ + header_.size_in_bytes();
  while (cursor < batch_end) {
    const size_t chunk = static_cast<size_t>(
        std::min<uint64_t>(batch_end - cursor, buffer_.size()));
    if (!Fill(cursor, chunk)) return false;
    crc = crc32c::Extend(crc, buffer_.data() + (cursor - buffer_position_),
                         chunk);
    cursor += chunk;
  }
  if (crc != header_.crc) {
    GlobalMetrics().crc_failures.Add();
    return Fail(absl::DataLossError(
        absl::StrFormat("%s: CRC mismatch (stored 0x%08x, computed 0x%08x)",
                        where, header_.crc, crc)));
  }
  expected_base_offset_ = header_.last_offset() + 1;
  return true;
}

}  // namespace shiplog
