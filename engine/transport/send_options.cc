#include "engine/transport/send_options.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "engine/status/errno_status.h"

namespace shiplog {

absl::string_view SendPolicyName(SendPolicy policy) {
  switch (policy) {
    case SendPolicy::kAuto:
      return "auto";
    case SendPolicy::kSendfile:
      return "sendfile";
    case SendPolicy::kMmapWrite:
      return "mmap_write";
    case SendPolicy::kCopy:
      return "copy";
  }
  return "unknown";
}

std::optional<SendPolicy> ParseSendPolicy(absl::string_view name) {
  for (SendPolicy policy : {SendPolicy::kAuto, SendPolicy::kSendfile,
                            SendPolicy::kMmapWrite, SendPolicy::kCopy}) {
    if (SendPolicyName(policy) == name) return policy;
  }
  return std::nullopt;
}

absl::Status CheckSendOptions(const SendOptions& options) {
  if (options.cold_read_lag_bytes > 0 && options.direct_read_pool == nullptr) {
    return absl::InvalidArgumentError(
        "cold_read_lag_bytes needs a direct_read_pool to read into "
        "(Store::direct_read_pool())");
  }
  return absl::OkStatus();
}

namespace {

bool IsLoopback(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    return (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
  }
  if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    if (IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr) &&
           v6.sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

uint64_t DefaultMmapThreshold(const Destination& destination) {
  if (destination.kind == Destination::Kind::kSocket) {
    if (destination.unix_socket) return kUnixSocketMmapThresholdBytes;
    if (destination.loopback) return kLoopbackTcpMmapThresholdBytes;
  }
  return kDefaultMmapThresholdBytes;
}

absl::StatusOr<Destination> Destination::Inspect(int fd) {
  Destination destination;
  destination.fd = fd;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("fstat descriptor ", fd));
  }
  if (S_ISSOCK(st.st_mode)) {
    destination.kind = Kind::kSocket;
  } else if (S_ISFIFO(st.st_mode)) {
    destination.kind = Kind::kPipe;
  } else if (S_ISREG(st.st_mode)) {
    destination.kind = Kind::kFile;
  }
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0) {
    return ErrnoToStatus(errno, absl::StrCat("fcntl descriptor ", fd));
  }
  destination.nonblocking = (flags & O_NONBLOCK) != 0;
  if (destination.kind == Kind::kSocket) {
    sockaddr_storage local{};
    socklen_t local_length = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) ==
        0) {
      destination.unix_socket = local.ss_family == AF_UNIX;
    }
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof(peer);
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) ==
        0) {
      destination.loopback = IsLoopback(peer);
    }
    char ulp[16] = {};
    socklen_t length = sizeof(ulp);
    // Fails (ENOPROTOOPT, EOPNOTSUPP) on sockets that are not TCP: no TLS.
    if (getsockopt(fd, SOL_TCP, TCP_ULP, ulp, &length) == 0) {
      destination.kernel_tls = std::strncmp(ulp, "tls", sizeof(ulp)) == 0;
    }
  }
  return destination;
}

}  // namespace shiplog
