#include "bindings/cli/tcp_connect.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bindings/cli/errno_error.h"

namespace shiplog::cli {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The numeric form of one resolved address, for messages.
std::string AddressName(const addrinfo& info) {
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  if (getnameinfo(info.ai_addr, info.ai_addrlen, host, sizeof(host), port,
                  sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "?";
  }
  return FormatHostPort(HostPort{host, port});
}

// Waits until the non-blocking connect on `fd` completes or `deadline_ms`
// passes; returns the connect's own result as an errno (0: connected), or
// ETIMEDOUT.
int AwaitConnect(int fd, int64_t deadline_ms) {
  while (true) {
    const int64_t left_ms = deadline_ms - NowMs();
    if (left_ms <= 0) return ETIMEDOUT;
    struct pollfd writable = {fd, POLLOUT, 0};
    const int ready = poll(&writable, 1, static_cast<int>(left_ms));
    if (ready < 0 && errno != EINTR) return errno;
    if (ready > 0) break;
  }
  int error = 0;
  socklen_t length = sizeof(error);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

// One attempt. The socket is non-blocking while connecting, so the
// deadline holds, and blocking after: the transport then ships a range in
// one call per slice.
absl::StatusOr<ScopedFd> ConnectOne(const addrinfo& info, int64_t deadline_ms,
                                    int64_t timeout_ms) {
  const std::string context = absl::StrCat("connecting to ", AddressName(info));
  ScopedFd fd(socket(info.ai_family,
                     info.ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                     info.ai_protocol));
  if (!fd.valid()) return ErrnoError(errno, context);
  int error = 0;
  if (connect(fd.get(), info.ai_addr, info.ai_addrlen) != 0) {
    error = errno == EINPROGRESS ? AwaitConnect(fd.get(), deadline_ms) : errno;
  }
  if (error == ETIMEDOUT) {
    return absl::DeadlineExceededError(absl::StrCat(
        context, ": no answer within ", timeout_ms / 1000.0, " s"));
  }
  if (error != 0) return ErrnoError(error, context);
  const int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0 || fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return ErrnoError(errno, context);
  }
  return fd;
}

}  // namespace

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text, int min_port) {
  HostPort address;
  absl::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == absl::string_view::npos || close + 1 >= text.size() ||
        text[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", text, "': expected [IPv6 address]:PORT, as in [::1]:9000"));
    }
    address.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", text, "': expected HOST:PORT, as in 127.0.0.1:9000"));
    }
    address.host = std::string(text.substr(0, colon));
    if (address.host.find(':') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "'", text, "': put an IPv6 address in brackets, as in [::1]:9000"));
    }
    port = text.substr(colon + 1);
  }
  if (address.host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "': the host is missing"));
  }
  int number = 0;
  if (port.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(port, &number) || number < min_port ||
      number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", text, "': the port must be a number from ", min_port,
        " to 65535"));
  }
  address.port = absl::StrCat(number);
  return address;
}

std::string FormatHostPort(const HostPort& address) {
  return address.host.find(':') == std::string::npos
             ? absl::StrCat(address.host, ":", address.port)
             : absl::StrCat("[", address.host, "]:", address.port);
}

absl::StatusOr<ScopedFd> ConnectTcp(const HostPort& address,
                                    int64_t timeout_ms) {
  const int64_t deadline_ms = NowMs() + timeout_ms;
  // No AI_ADDRCONFIG: it hides ::1 on hosts without a global IPv6 address.
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  struct addrinfo* found = nullptr;
  const int resolved =
      getaddrinfo(address.host.c_str(), address.port.c_str(), &hints, &found);
  if (resolved != 0) {
    const std::string context =
        absl::StrCat("cannot resolve host '", address.host, "'");
    if (resolved == EAI_SYSTEM) return ErrnoError(errno, context);
    return absl::NotFoundError(
        absl::StrCat(context, ": ", gai_strerror(resolved)));
  }
  const std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found,
                                                                 freeaddrinfo);
  std::vector<std::string> failures;
  absl::Status last;
  for (const addrinfo* info = found; info != nullptr; info = info->ai_next) {
    absl::StatusOr<ScopedFd> fd = ConnectOne(*info, deadline_ms, timeout_ms);
    if (fd.ok()) return fd;
    last = fd.status();
    failures.emplace_back(last.message());
    if (absl::IsDeadlineExceeded(last)) break;
  }
  // One line however many addresses the name had.
  return absl::Status(last.code(), absl::StrJoin(failures, "; "));
}

}  // namespace shiplog::cli
