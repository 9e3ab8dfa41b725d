// Connecting the tool to a TCP peer given as HOST:PORT (`shiplog send`).
//
// Thread-safety: pure functions; ConnectTcp blocks the calling thread.
#ifndef SHIPLOG_BINDINGS_CLI_TCP_CONNECT_H_
#define SHIPLOG_BINDINGS_CLI_TCP_CONNECT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bindings/cli/scoped_fd.h"

namespace shiplog::cli {

struct HostPort {
  std::string host;  // a name or an address, without brackets: "::1"
  std::string port;  // decimal, 1..65535
};

// Parses "127.0.0.1:9000", "broker.example:9000" or "[::1]:9000".
// kInvalidArgument naming the problem: no port, a port outside
// min_port..65535 (0 is "any free port" to a listener), an empty host, an
// IPv6 address without its brackets.
absl::StatusOr<HostPort> ParseHostPort(absl::string_view text,
                                       int min_port = 1);

// "host:port", with brackets around a host that holds ':' (IPv6).
std::string FormatHostPort(const HostPort& address);

// Resolves `address` (getaddrinfo: IPv4 and IPv6 alike) and tries each
// address it names in turn until one accepts, all within `timeout_ms`.
// Returns a connected, blocking socket. Errors: kNotFound for a host that
// does not resolve; kDeadlineExceeded when time runs out; otherwise the
// errno status of each failed attempt, one line, e.g. "connecting to
// 127.0.0.1:9000: Connection refused (errno 111)".
absl::StatusOr<ScopedFd> ConnectTcp(const HostPort& address,
                                    int64_t timeout_ms);

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_TCP_CONNECT_H_
