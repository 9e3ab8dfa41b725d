// Turning a failed system call into an absl::Status with an honest code.
//
// The errno travels with the status as a payload, so the C ABI can report
// "disk full" or "I/O error" precisely without parsing messages.
#ifndef SHIPLOG_ENGINE_STATUS_ERRNO_STATUS_H_
#define SHIPLOG_ENGINE_STATUS_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shiplog {

// Returns a non-OK status for `error_number` whose message is
// "<context>: <strerror> (errno N)". ENOSPC and EDQUOT map to
// kResourceExhausted (a full disk is a distinct error, never a generic one),
// ENOENT to kNotFound, EEXIST to kAlreadyExists, EACCES/EPERM/EROFS to
// kPermissionDenied, EINVAL to kInvalidArgument, EAGAIN/EWOULDBLOCK and a
// closed peer (EPIPE, ECONNRESET) to kUnavailable, and everything else (EIO
// included) to kInternal.
absl::Status ErrnoToStatus(int error_number, absl::string_view context);

// The errno recorded by ErrnoToStatus, or 0 if `status` carries none.
int StatusErrno(const absl::Status& status);

// True when `status` reports a full disk or an exhausted quota.
bool IsDiskFull(const absl::Status& status);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STATUS_ERRNO_STATUS_H_
