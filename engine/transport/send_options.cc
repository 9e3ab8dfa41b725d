#include "engine/transport/send_options.h"

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
