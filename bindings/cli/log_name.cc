#include "bindings/cli/log_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shiplog::cli {
namespace {

constexpr size_t kMaxLogNameChars = 249;

}  // namespace

absl::Status CheckLogName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("log name is empty");
  if (name.size() > kMaxLogNameChars) {
    return absl::InvalidArgumentError(
        absl::StrCat("log name is ", name.size(),
                     " characters long; the limit is ", kMaxLogNameChars));
  }
  const auto allowed = [](unsigned char c) {
    return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
  };
  for (const char c : name) {
    if (allowed(static_cast<unsigned char>(c))) continue;
    const std::string what =
        absl::ascii_isprint(static_cast<unsigned char>(c))
            ? absl::StrCat("'", absl::string_view(&c, 1), "'")
            : absl::StrFormat("byte 0x%02x", static_cast<unsigned char>(c));
    return absl::InvalidArgumentError(
        absl::StrCat("log name '", absl::CHexEscape(name), "' contains ", what,
                     "; only A-Z a-z 0-9 . _ - are allowed"));
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("log name '", name, "' is not allowed"));
  }
  return absl::OkStatus();
}

}  // namespace shiplog::cli
