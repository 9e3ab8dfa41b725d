#include "engine/segment/segment_files.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/format/record_batch.h"

namespace shiplog {
namespace {
constexpr size_t kOffsetDigits = 20;
}  // namespace

std::string SegmentFileName(int64_t base_offset, absl::string_view suffix) {
  return absl::StrCat(absl::StrFormat("%020d", base_offset), suffix);
}

std::optional<int64_t> ParseSegmentFileName(absl::string_view file_name,
                                            absl::string_view suffix) {
  if (file_name.size() != kOffsetDigits + suffix.size() ||
      !absl::EndsWith(file_name, suffix)) {
    return std::nullopt;
  }
  const absl::string_view digits = file_name.substr(0, kOffsetDigits);
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return std::nullopt;
    }
  }
  int64_t base_offset = 0;
  // A base past kLogOffsetLimit is no offset a log could have made, and
  // offsets computed from it would overflow.
  if (!absl::SimpleAtoi(digits, &base_offset) ||
      base_offset > kLogOffsetLimit) {
    return std::nullopt;
  }
  return base_offset;
}

}  // namespace shiplog
