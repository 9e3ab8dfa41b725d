#include "engine/store/log_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/store/store_files.h"

namespace shiplog {
namespace {

bool IsLogNameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

absl::Status ValidateLogName(absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError("log name is empty");
  }
  if (name.size() > kMaxLogNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("log name is ", name.size(),
                     " characters long; the limit is ", kMaxLogNameLength));
  }
  for (char c : name) {
    if (!IsLogNameChar(c)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "log name '%s' contains %s; only A-Z a-z 0-9 . _ - are allowed",
          absl::CHexEscape(name),
          absl::ascii_isprint(static_cast<unsigned char>(c))
              ? absl::StrCat("'", absl::string_view(&c, 1), "'")
              : absl::StrFormat("byte 0x%02x", static_cast<unsigned char>(c))));
    }
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(
        absl::StrCat("log name '", name, "' is not allowed"));
  }
  for (absl::string_view reserved :
       {kLockFileName, kCleanShutdownFileName, kRecoveryPointCheckpointFileName,
        kLogStartCheckpointFileName}) {
    if (name == reserved ||
        name == absl::StrCat(reserved, kTemporaryFileSuffix)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "log name '", name, "' is reserved for the store's own files"));
    }
  }
  return absl::OkStatus();
}

}  // namespace shiplog
