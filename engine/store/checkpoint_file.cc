#include "engine/store/checkpoint_file.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

constexpr int kCheckpointVersion = 0;

// "orders-3" -> ("orders", 3); "audit" -> ("audit", -1).
std::pair<absl::string_view, int64_t> SplitLogName(absl::string_view name) {
  const size_t dash = name.rfind('-');
  int64_t partition = 0;
  if (dash != absl::string_view::npos && dash > 0 && dash + 1 < name.size()) {
    const absl::string_view digits = name.substr(dash + 1);
    const bool all_digits =
        std::all_of(digits.begin(), digits.end(), [](char c) {
          return absl::ascii_isdigit(static_cast<unsigned char>(c));
        });
    // Leading zeros would not survive the round trip through an integer.
    if (all_digits && (digits.size() == 1 || digits[0] != '0') &&
        absl::SimpleAtoi(digits, &partition) && partition <= INT32_MAX) {
      return {name.substr(0, dash), partition};
    }
  }
  return {name, -1};
}

}  // namespace

std::string FormatCheckpoint(const OffsetCheckpoint& offsets) {
  std::string text =
      absl::StrCat(kCheckpointVersion, "\n", offsets.size(), "\n");
  for (const auto& [name, offset] : offsets) {
    const auto [topic, partition] = SplitLogName(name);
    absl::StrAppend(&text, topic, " ", partition, " ", offset, "\n");
  }
  return text;
}

absl::StatusOr<OffsetCheckpoint> ParseCheckpoint(absl::string_view text) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.size() < 2) {
    return absl::DataLossError("checkpoint: missing version or entry count");
  }
  int version = 0;
  if (!absl::SimpleAtoi(lines[0], &version) || version != kCheckpointVersion) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint line 1: unsupported version '", lines[0], "'"));
  }
  size_t count = 0;
  if (!absl::SimpleAtoi(lines[1], &count) || count != lines.size() - 2) {
    return absl::DataLossError(
        absl::StrCat("checkpoint line 2: entry count '", lines[1], "' but ",
                     lines.size() - 2, " entries follow"));
  }
  OffsetCheckpoint offsets;
  for (size_t i = 2; i < lines.size(); ++i) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    int64_t partition = 0;
    int64_t offset = 0;
    if (fields.size() != 3 || !absl::SimpleAtoi(fields[1], &partition) ||
        !absl::SimpleAtoi(fields[2], &offset) || partition < -1 || offset < 0) {
      return absl::DataLossError(absl::StrCat(
          "checkpoint line ", i + 1,
          ": expected 'topic partition offset', got '", lines[i], "'"));
    }
    const std::string name = partition < 0
                                 ? std::string(fields[0])
                                 : absl::StrCat(fields[0], "-", partition);
    offsets[name] = offset;
  }
  return offsets;
}

absl::Status WriteCheckpoint(Env* env, const std::string& path,
                             const OffsetCheckpoint& offsets) {
  return WriteFileAtomically(env, path, FormatCheckpoint(offsets));
}

absl::StatusOr<OffsetCheckpoint> ReadCheckpoint(Env* env,
                                                const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(env, path);
  if (absl::IsNotFound(text.status())) return OffsetCheckpoint{};
  if (!text.ok()) return text.status();
  absl::StatusOr<OffsetCheckpoint> parsed = ParseCheckpoint(*text);
  if (!parsed.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, ": ", parsed.status().message()));
  }
  return parsed;
}

}  // namespace shiplog
