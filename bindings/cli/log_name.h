// The syntax of a log name as shiplog.h states it for shiplog_log_open:
// 1 to 249 characters of A-Z a-z 0-9 . _ -, and not "." or "..".
//
// The tool checks it while parsing the command line, so that a bad name is
// a usage error that creates nothing (not even the store) and is reported
// the same whether or not the store exists. The library checks names
// again when a log is opened, and also refuses the names of its own files.
//
// Thread-safety: a pure function.
#ifndef SHIPLOG_BINDINGS_CLI_LOG_NAME_H_
#define SHIPLOG_BINDINGS_CLI_LOG_NAME_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shiplog::cli {

// kInvalidArgument, "log name ...", saying what is wrong.
absl::Status CheckLogName(absl::string_view name);

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_LOG_NAME_H_
