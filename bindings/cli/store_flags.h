// The settings of a writable store that the tools which write (produce,
// serve, replicate) take as flags: the free-space guard and the caps on
// what idle segments hold open.
#ifndef SHIPLOG_BINDINGS_CLI_STORE_FLAGS_H_
#define SHIPLOG_BINDINGS_CLI_STORE_FLAGS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/flags.h"

namespace shiplog::cli {

// --min-free-bytes, --max-open-segment-files, --max-segment-mappings.
std::vector<FlagSpec> StoreTuningFlags();

absl::StatusOr<StoreTuning> ParseStoreTuning(const ParsedFlags& flags);

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_STORE_FLAGS_H_
