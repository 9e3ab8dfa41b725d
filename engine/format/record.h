// Records as the engine hands them to and takes them from its users.
//
// RecordView borrows its bytes (for appends: nothing is copied until the
// batch is encoded). Record owns its bytes (for decoded reads, the one place
// data is copied into user space on purpose).
#ifndef SHIPLOG_ENGINE_FORMAT_RECORD_H_
#define SHIPLOG_ENGINE_FORMAT_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/format/record_batch.h"

namespace shiplog {

struct RecordHeaderView {
  absl::string_view key;
  std::optional<absl::string_view> value;  // nullopt: a null header value
};

struct RecordView {
  std::optional<absl::string_view> key;    // nullopt: a null key
  std::optional<absl::string_view> value;  // nullopt: a null value
  absl::Span<const RecordHeaderView> headers;
  int64_t timestamp_ms = kNoTimestamp;  // kNoTimestamp: the log's clock
};

struct RecordHeader {
  std::string key;
  std::optional<std::string> value;

  friend bool operator==(const RecordHeader&, const RecordHeader&) = default;
};

struct Record {
  int64_t offset = 0;
  int64_t timestamp_ms = kNoTimestamp;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<RecordHeader> headers;

  friend bool operator==(const Record&, const Record&) = default;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_FORMAT_RECORD_H_
