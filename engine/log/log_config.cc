#include "engine/log/log_config.h"

#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/format/record_batch.h"

namespace shiplog {
namespace {

// One row per setting: its Kafka name, where it lives, and its range.
struct Setting {
  absl::string_view name;
  int64_t LogConfig::*field;
  std::optional<int64_t> LogConfigOverrides::*override_field;
  int64_t min;
  int64_t max;
  bool minus_one_allowed;  // -1 means "never" / "no limit"
};

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

const std::vector<Setting>& Settings() {
  static const auto* settings = new std::vector<Setting>{
      {"segment.bytes", &LogConfig::segment_bytes,
       &LogConfigOverrides::segment_bytes,
       static_cast<int64_t>(kBatchHeaderSize), kInt32Max, false},
      {"segment.index.bytes", &LogConfig::max_index_bytes,
       &LogConfigOverrides::max_index_bytes, 64, kInt32Max, false},
      {"index.interval.bytes", &LogConfig::index_interval_bytes,
       &LogConfigOverrides::index_interval_bytes, 0, kInt32Max, false},
      {"segment.ms", &LogConfig::segment_ms, &LogConfigOverrides::segment_ms, 1,
       kInt64Max, false},
      {"retention.ms", &LogConfig::retention_ms,
       &LogConfigOverrides::retention_ms, 0, kInt64Max, true},
      {"retention.bytes", &LogConfig::retention_bytes,
       &LogConfigOverrides::retention_bytes, 0, kInt64Max, true},
      {"flush.messages", &LogConfig::flush_messages,
       &LogConfigOverrides::flush_messages, 1, kInt64Max, true},
      {"flush.ms", &LogConfig::flush_ms, &LogConfigOverrides::flush_ms, 1,
       kInt64Max, true},
  };
  return *settings;
}

absl::Status CheckRange(const Setting& setting, int64_t value) {
  if ((value == -1 && setting.minus_one_allowed) ||
      (value >= setting.min && value <= setting.max)) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      setting.name, " must be ", setting.minus_one_allowed ? "-1 or " : "",
      "between ", setting.min, " and ", setting.max, ", not ", value));
}

constexpr absl::string_view kWriteModeName = "write.mode";

}  // namespace

absl::string_view WriteModeName(WriteMode mode) {
  switch (mode) {
    case WriteMode::kBuffered:
      return "buffered";
    case WriteMode::kDirect:
      return "direct";
  }
  return "unknown";
}

std::optional<WriteMode> ParseWriteMode(absl::string_view name) {
  for (const WriteMode mode : {WriteMode::kBuffered, WriteMode::kDirect}) {
    if (name == WriteModeName(mode)) return mode;
  }
  return std::nullopt;
}

absl::Status LogConfig::Validate() const {
  for (const Setting& setting : Settings()) {
    if (absl::Status status = CheckRange(setting, this->*setting.field);
        !status.ok()) {
      return status;
    }
  }
  if (!ParseWriteMode(WriteModeName(write_mode)).has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kWriteModeName, " must be buffered or direct, not ",
                     static_cast<int>(write_mode)));
  }
  return absl::OkStatus();
}

LogConfig LogConfigOverrides::ApplyTo(LogConfig base) const {
  for (const Setting& setting : Settings()) {
    if ((this->*setting.override_field).has_value()) {
      base.*setting.field = *(this->*setting.override_field);
    }
  }
  if (write_mode.has_value()) base.write_mode = *write_mode;
  return base;
}

bool LogConfigOverrides::empty() const {
  for (const Setting& setting : Settings()) {
    if ((this->*setting.override_field).has_value()) return false;
  }
  return !write_mode.has_value();
}

std::string FormatLogConfig(const LogConfig& config) {
  std::string text = "# shiplog log configuration (STORE.md)\n";
  for (const Setting& setting : Settings()) {
    absl::StrAppend(&text, setting.name, "=", config.*setting.field, "\n");
  }
  // Written only when not the default, so that a buffered log's file stays
  // readable by versions before 1.2 (which refuse names they do not know,
  // as they should a direct log's).
  if (config.write_mode != WriteMode::kBuffered) {
    absl::StrAppend(&text, kWriteModeName, "=",
                    WriteModeName(config.write_mode), "\n");
  }
  return text;
}

absl::StatusOr<LogConfig> ParseLogConfig(absl::string_view text,
                                         const LogConfig& defaults) {
  LogConfig config = defaults;
  // Not the default's: a file without the line is a buffered log (every
  // file from before 1.2, and every buffered log since: see above).
  config.write_mode = WriteMode::kBuffered;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "line ", line_number, ": expected name=value, got '", line, "'"));
    }
    const absl::string_view name =
        absl::StripAsciiWhitespace(line.substr(0, equals));
    const absl::string_view value_text =
        absl::StripAsciiWhitespace(line.substr(equals + 1));
    if (name == kWriteModeName) {
      const std::optional<WriteMode> mode = ParseWriteMode(value_text);
      if (!mode.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", line_number, ": ", name,
                         " must be buffered or direct, not '", value_text,
                         "'"));
      }
      config.write_mode = *mode;
      continue;
    }
    const Setting* found = nullptr;
    for (const Setting& setting : Settings()) {
      if (setting.name == name) found = &setting;
    }
    if (found == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": unknown setting '", name, "'"));
    }
    int64_t value = 0;
    if (!absl::SimpleAtoi(value_text, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": ", name,
                       " needs an integer, got '", value_text, "'"));
    }
    if (absl::Status status = CheckRange(*found, value); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line_number, ": ", status.message()));
    }
    config.*found->field = value;
  }
  return config;
}

}  // namespace shiplog
