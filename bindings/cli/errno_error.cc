#include "bindings/cli/errno_error.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace shiplog::cli {

absl::Status ErrnoError(int error_number, absl::string_view context) {
  char buffer[256];
  // The GNU strerror_r: the message may or may not be put in `buffer`.
  const char* text = strerror_r(error_number, buffer, sizeof(buffer));
  return absl::Status(
      error_number == ENOENT ? absl::StatusCode::kNotFound
                             : absl::StatusCode::kInternal,
      absl::StrCat(context, ": ", text, " (errno ", error_number, ")"));
}

}  // namespace shiplog::cli
