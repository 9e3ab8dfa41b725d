// LogConfig: a log's settings, Kafka's topic settings under Kafka's names,
// stored with the log in `log.properties` (STORE.md) when it is created, so
// a later open without settings keeps them.
#ifndef SHIPLOG_ENGINE_LOG_LOG_CONFIG_H_
#define SHIPLOG_ENGINE_LOG_LOG_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shiplog {

inline constexpr int64_t kDayMs = 24 * 60 * 60 * 1000;

// How appends reach the disk: `write.mode`, shiplog's own setting (Kafka
// has no such name).
enum class WriteMode {
  // write(2) into the page cache; the flush policy (flush.messages,
  // flush.ms) decides when fdatasync runs.
  kBuffered,
  // O_DIRECT writes from an aligned buffer with group commit: an append
  // returns once it is durable (engine/log/DIRECT_IO.md). The flush policy
  // has nothing left to do and is ignored.
  kDirect,
};

// "buffered" or "direct", the values `write.mode` takes.
absl::string_view WriteModeName(WriteMode mode);
// nullopt for any other name.
std::optional<WriteMode> ParseWriteMode(absl::string_view name);

struct LogConfig {
  // segment.bytes: roll when the active segment would pass this size.
  int64_t segment_bytes = int64_t{1} << 30;
  // segment.index.bytes: the preallocated size of each index.
  int64_t max_index_bytes = int64_t{10} << 20;
  // index.interval.bytes: log bytes between offset index entries.
  int64_t index_interval_bytes = 4096;
  // segment.ms: roll when the active segment's first batch is this old.
  int64_t segment_ms = 7 * kDayMs;
  // retention.ms: delete segments whose newest record is older; -1: never.
  int64_t retention_ms = 7 * kDayMs;
  // retention.bytes: delete the oldest segments while the log is larger by
  // at least a segment; -1: no limit.
  int64_t retention_bytes = -1;
  // flush.messages: fdatasync after this many appended records; -1: never
  // (left to the OS); 1: every append.
  int64_t flush_messages = -1;
  // flush.ms: fdatasync when unflushed data is this old; -1: never.
  int64_t flush_ms = -1;
  // write.mode: buffered (default) or direct.
  WriteMode write_mode = WriteMode::kBuffered;

  // kInvalidArgument naming the first setting out of range.
  absl::Status Validate() const;

  friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

// Settings given explicitly when a log is opened; the rest come from the
// stored config (or, for a new log, the store's defaults).
struct LogConfigOverrides {
  std::optional<int64_t> segment_bytes;
  std::optional<int64_t> max_index_bytes;
  std::optional<int64_t> index_interval_bytes;
  std::optional<int64_t> segment_ms;
  std::optional<int64_t> retention_ms;
  std::optional<int64_t> retention_bytes;
  std::optional<int64_t> flush_messages;
  std::optional<int64_t> flush_ms;
  std::optional<WriteMode> write_mode;

  // `base` with every set field replaced.
  LogConfig ApplyTo(LogConfig base) const;
  bool empty() const;
};

// The properties text: one `name=value` line per setting, Kafka's names
// (and shiplog's `write.mode`).
std::string FormatLogConfig(const LogConfig& config);

// Parses properties text; settings it lacks keep `defaults`, except
// write.mode, which is buffered unless the text says otherwise (it is
// written only for direct logs, so older versions can read the others). '#' starts a
// comment line. kInvalidArgument for unknown names, malformed lines, bad
// numbers or out-of-range values, naming the line.
absl::StatusOr<LogConfig> ParseLogConfig(absl::string_view text,
                                         const LogConfig& defaults);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_LOG_LOG_CONFIG_H_
