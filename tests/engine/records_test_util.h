// Helpers for tests above the format layer: encode batches of simple
// records, and read a log back record by record.
#ifndef SHIPLOG_TESTS_ENGINE_RECORDS_TEST_UTIL_H_
#define SHIPLOG_TESTS_ENGINE_RECORDS_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/format/batch_builder.h"
#include "engine/format/batch_validator.h"
#include "engine/format/record.h"
#include "engine/segment/slice.h"

namespace shiplog {
class Log;
}  // namespace shiplog

namespace shiplog::testing {

// Views of `values` as records without keys, stamped `timestamp_ms`
// (kNoTimestamp: the log's clock). The strings must outlive the views.
std::vector<RecordView> ValueRecords(const std::vector<std::string>& values,
                                     int64_t timestamp_ms = kNoTimestamp);

// "<prefix><i>" for i in [first, first + count).
std::vector<std::string> NumberedValues(absl::string_view prefix, int first,
                                        int count);

// One encoded batch of `values` (base offset 0) and its BatchInfo.
struct EncodedBatch {
  std::string bytes;
  BatchInfo info;
};
EncodedBatch EncodeBatch(const std::vector<std::string>& values,
                         int64_t timestamp_ms = 1'700'000'000'000,
                         const BatchOptions& options = {});

// Decodes every record of `slice` from `min_offset` on.
absl::StatusOr<std::vector<Record>> DecodeSlice(const Slice& slice,
                                                int64_t min_offset = 0);

// Reads `log` from `offset` to its end, slice by slice, `max_bytes` at a
// time, decoding every record.
absl::StatusOr<std::vector<Record>> ReadAll(const Log& log, int64_t offset,
                                            uint64_t max_bytes = 1 << 20);

// The values of `records`, null values as "<null>".
std::vector<std::string> Values(const std::vector<Record>& records);

}  // namespace shiplog::testing

#endif  // SHIPLOG_TESTS_ENGINE_RECORDS_TEST_UTIL_H_
