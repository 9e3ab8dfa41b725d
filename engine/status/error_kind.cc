#include "engine/status/error_kind.h"

#include <string>

#include "absl/strings/cord.h"

namespace shiplog {
namespace {

constexpr absl::string_view kErrorKindPayloadUrl = "shiplog/kind";

absl::string_view KindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kLocked:
      return "locked";
    case ErrorKind::kReadOnly:
      return "read-only";
    case ErrorKind::kClosed:
      return "closed";
    case ErrorKind::kLowDiskSpace:
      return "low-disk-space";
  }
  return "";
}

}  // namespace

absl::Status WithErrorKind(absl::Status status, ErrorKind kind) {
  if (!status.ok()) {
    status.SetPayload(kErrorKindPayloadUrl, absl::Cord(KindName(kind)));
  }
  return status;
}

std::optional<ErrorKind> GetErrorKind(const absl::Status& status) {
  const auto payload = status.GetPayload(kErrorKindPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  const std::string name(*payload);
  for (ErrorKind kind :
       {ErrorKind::kLocked, ErrorKind::kReadOnly, ErrorKind::kClosed,
        ErrorKind::kLowDiskSpace}) {
    if (KindName(kind) == name) return kind;
  }
  return std::nullopt;
}

}  // namespace shiplog
