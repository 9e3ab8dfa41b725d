#include "bindings/cli/byte_size.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shiplog::cli {
namespace {

// What a suffix multiplies by; nullopt for an unknown suffix.
std::optional<uint64_t> SuffixMultiplier(absl::string_view suffix) {
  static constexpr std::pair<absl::string_view, int> kShifts[] = {
      {"", 0},     {"K", 10}, {"KiB", 10}, {"M", 20},
      {"MiB", 20}, {"G", 30}, {"GiB", 30}};
  for (const auto& [name, shift] : kShifts) {
    if (absl::EqualsIgnoreCase(suffix, name)) return uint64_t{1} << shift;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> ParseByteSize(absl::string_view text) {
  const size_t digits =
      std::min(text.find_first_not_of("0123456789"), text.size());
  const std::optional<uint64_t> multiplier =
      SuffixMultiplier(text.substr(digits));
  uint64_t value = 0;
  if (digits == 0 || !multiplier ||
      !absl::SimpleAtoi(text.substr(0, digits), &value) ||
      value > UINT64_MAX / *multiplier) {
    return std::nullopt;
  }
  return value * *multiplier;
}

std::string FormatByteSize(uint64_t bytes) {
  static constexpr absl::string_view kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  size_t unit = 0;
  uint64_t scale = 1024;
  while (unit + 1 < std::size(kUnits) && bytes >= scale * 1024) {
    scale *= 1024;
    ++unit;
  }
  if (bytes % scale == 0) return absl::StrCat(bytes / scale, " ", kUnits[unit]);
  return absl::StrFormat("%.1f %s", static_cast<double>(bytes) / scale,
                         kUnits[unit]);
}

}  // namespace shiplog::cli
