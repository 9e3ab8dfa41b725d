#include "bindings/kafka/listen.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "bindings/cli/errno_error.h"

namespace shiplog::kafka {

std::string Describe(const sockaddr_storage& address) {
  char host[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (address.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
    port = ntohs(in.sin_port);
    return absl::StrCat(host, ":", port);
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
  inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
  port = ntohs(in6.sin6_port);
  return absl::StrCat("[", host, "]:", port);
}

absl::StatusOr<cli::ScopedFd> Listen(const std::string& host, uint16_t port,
                                     sockaddr_storage* bound) {
  addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = absl::StrCat(port);
  if (const int error =
          getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
      error != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot listen on ", host, ":", port, ": ", gai_strerror(error)));
  }
  absl::Status last = absl::UnavailableError("no address");
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    cli::ScopedFd fd(::socket(ai->ai_family,
                              ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                              ai->ai_protocol));
    if (!fd.valid()) {
      last = cli::ErrnoError(errno, "socket");
      continue;
    }
    const int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 ||
        ::listen(fd.get(), SOMAXCONN) != 0) {
      last = cli::ErrnoError(errno, absl::StrCat("cannot listen on ", host, ":",
                                                 port));
      continue;
    }
    socklen_t size = sizeof *bound;
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(bound), &size);
    freeaddrinfo(found);
    return fd;
  }
  freeaddrinfo(found);
  return last;
}

uint16_t PortOf(const sockaddr_storage& address) {
  return ntohs(address.ss_family == AF_INET
                   ? reinterpret_cast<const sockaddr_in&>(address).sin_port
                   : reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
}

}  // namespace shiplog::kafka
