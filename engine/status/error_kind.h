// ErrorKind: what a kFailedPrecondition means, carried with the status.
//
// Canonical codes are coarse on purpose; "the store has another writer",
// "the log is read-only" and "the store was closed" are all failed
// preconditions, yet a C caller, a Python caller and an operator react to
// each differently. The engine marks them where it knows which one it is;
// the C ABI maps the mark to a distinct status code. Never parse messages.
#ifndef SHIPLOG_ENGINE_STATUS_ERROR_KIND_H_
#define SHIPLOG_ENGINE_STATUS_ERROR_KIND_H_

#include <optional>

#include "absl/status/status.h"

namespace shiplog {

enum class ErrorKind {
  kLocked,    // another writer holds the store
  kReadOnly,  // opened read-only, or turned read-only by a failed fsync
  kClosed,    // the store or log was closed
  kLowDiskSpace,  // an append would leave less than min_free_bytes free
};

// `status` with `kind` attached (OK stays OK).
absl::Status WithErrorKind(absl::Status status, ErrorKind kind);

// The kind attached by WithErrorKind, if any.
std::optional<ErrorKind> GetErrorKind(const absl::Status& status);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STATUS_ERROR_KIND_H_
