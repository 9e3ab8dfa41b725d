#include "tests/engine/records_test_util.h"

#include "absl/strings/str_cat.h"
#include "engine/format/record_reader.h"
#include "engine/log/log.h"
#include "engine/status/status_macros.h"
#include "gtest/gtest.h"

namespace shiplog::testing {

std::vector<RecordView> ValueRecords(const std::vector<std::string>& values,
                                     int64_t timestamp_ms) {
  std::vector<RecordView> records;
  for (const std::string& value : values) {
    RecordView record;
    record.value = value;
    record.timestamp_ms = timestamp_ms;
    records.push_back(record);
  }
  return records;
}

std::vector<std::string> NumberedValues(absl::string_view prefix, int first,
                                        int count) {
  std::vector<std::string> values;
  for (int i = first; i < first + count; ++i) {
    values.push_back(absl::StrCat(prefix, i));
  }
  return values;
}

EncodedBatch EncodeBatch(const std::vector<std::string>& values,
                         int64_t timestamp_ms, const BatchOptions& options) {
  EncodedBatch batch;
  const std::vector<RecordView> records = ValueRecords(values, timestamp_ms);
  const absl::Status status =
      AppendBatch(records, options, timestamp_ms, &batch.bytes);
  EXPECT_TRUE(status.ok()) << status;
  batch.info.header = DecodeBatchHeader(batch.bytes.data());
  batch.info.size_in_bytes = batch.bytes.size();
  return batch;
}

absl::StatusOr<std::vector<Record>> DecodeSlice(const Slice& slice,
                                                int64_t min_offset) {
  std::string bytes;
  RETURN_IF_ERROR(ReadSliceBytes(slice, &bytes));
  RecordReader reader(bytes, min_offset);
  std::vector<Record> records;
  while (reader.Next()) records.push_back(reader.record());
  RETURN_IF_ERROR(reader.status());
  if (reader.consumed_bytes() != bytes.size()) {
    return absl::DataLossError(absl::StrCat(
        "slice of ", bytes.size(), " bytes holds a partial batch after ",
        reader.consumed_bytes()));
  }
  return records;
}

absl::StatusOr<std::vector<Record>> ReadAll(const Log& log, int64_t offset,
                                            uint64_t max_bytes) {
  std::vector<Record> records;
  while (offset < log.end_offset()) {
    ASSIGN_OR_RETURN(const Slice slice, log.Read(offset, max_bytes));
    if (slice.empty()) break;
    ASSIGN_OR_RETURN(std::vector<Record> decoded, DecodeSlice(slice, offset));
    records.insert(records.end(), decoded.begin(), decoded.end());
    offset = slice.next_offset;
  }
  return records;
}

std::vector<std::string> Values(const std::vector<Record>& records) {
  std::vector<std::string> values;
  for (const Record& record : records) {
    values.push_back(record.value.value_or("<null>"));
  }
  return values;
}

}  // namespace shiplog::testing
