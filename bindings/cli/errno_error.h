// A failed system call as an absl::Status, in the message format the
// library uses too: "<context>: <strerror> (errno N)".
//
// Thread-safety: thread-safe (strerror_r).
#ifndef SHIPLOG_BINDINGS_CLI_ERRNO_ERROR_H_
#define SHIPLOG_BINDINGS_CLI_ERRNO_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shiplog::cli {

// kNotFound for ENOENT, kInternal for anything else: the tool reports the
// message and never branches on the code.
absl::Status ErrnoError(int error_number, absl::string_view context);

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_ERRNO_ERROR_H_
