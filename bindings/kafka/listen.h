// Listening sockets for the server and its metrics endpoint.
#ifndef SHIPLOG_BINDINGS_KAFKA_LISTEN_H_
#define SHIPLOG_BINDINGS_KAFKA_LISTEN_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "bindings/cli/scoped_fd.h"

namespace shiplog::kafka {

// "1.2.3.4:5" or "[::1]:5".
std::string Describe(const sockaddr_storage& address);
// The port of a bound IPv4 or IPv6 address.
uint16_t PortOf(const sockaddr_storage& address);

// A non-blocking listening TCP socket on `host`:`port` (0: any free port);
// *bound gets the address it is bound to.
absl::StatusOr<cli::ScopedFd> Listen(const std::string& host, uint16_t port,
                                     sockaddr_storage* bound);

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_LISTEN_H_
