#include "engine/status/errno_status.h"

#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shiplog {
namespace {

constexpr absl::string_view kErrnoPayloadUrl = "shiplog/errno";

absl::StatusCode CodeForErrno(int error_number) {
  switch (error_number) {
    case ENOSPC:
    case EDQUOT:
      return absl::StatusCode::kResourceExhausted;
    case ENOENT:
      return absl::StatusCode::kNotFound;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::StatusCode::kPermissionDenied;
    case EINVAL:
      return absl::StatusCode::kInvalidArgument;
    case EAGAIN:
    case EPIPE:
    case ECONNRESET:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status ErrnoToStatus(int error_number, absl::string_view context) {
  char buffer[256];
  // GNU strerror_r returns the message, which may or may not live in buffer.
  const char* message = strerror_r(error_number, buffer, sizeof(buffer));
  absl::Status status(
      CodeForErrno(error_number),
      absl::StrCat(context, ": ", message, " (errno ", error_number, ")"));
  status.SetPayload(kErrnoPayloadUrl, absl::Cord(absl::StrCat(error_number)));
  return status;
}

int StatusErrno(const absl::Status& status) {
  const auto payload = status.GetPayload(kErrnoPayloadUrl);
  int error_number = 0;
  if (!payload.has_value() ||
      !absl::SimpleAtoi(std::string(*payload), &error_number)) {
    return 0;
  }
  return error_number;
}

bool IsDiskFull(const absl::Status& status) {
  const int error_number = StatusErrno(status);
  return error_number == ENOSPC || error_number == EDQUOT;
}

}  // namespace shiplog
