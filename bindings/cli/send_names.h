// The names the tool uses for the library's send policies and send paths
// (shiplog_send_policy, shiplog_send_path): "auto", "sendfile",
// "mmap_write", "copy", "splice" for the path sendfile may take, and
// "direct_read" for cold reads.
//
// Thread-safety: pure functions and constants.
#ifndef SHIPLOG_BINDINGS_CLI_SEND_NAMES_H_
#define SHIPLOG_BINDINGS_CLI_SEND_NAMES_H_

#include <array>
#include <optional>

#include "absl/strings/string_view.h"
#include "shiplog.h"

namespace shiplog::cli {

// Every send path, in the order reports list them (shiplog_send_path's).
inline constexpr std::array<shiplog_send_path, 5> kSendPaths = {
    SHIPLOG_PATH_SENDFILE, SHIPLOG_PATH_SPLICE, SHIPLOG_PATH_MMAP_WRITE,
    SHIPLOG_PATH_COPY, SHIPLOG_PATH_DIRECT_READ};

absl::string_view SendPolicyName(shiplog_send_policy policy);
// nullopt for a name that is none of the policies.
std::optional<shiplog_send_policy> ParseSendPolicy(absl::string_view name);

absl::string_view SendPathName(shiplog_send_path path);

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_SEND_NAMES_H_
