// How slices are shipped: the send policy, and what is known about the
// destination descriptor (TRANSPORT.md).
#ifndef SHIPLOG_ENGINE_TRANSPORT_SEND_OPTIONS_H_
#define SHIPLOG_ENGINE_TRANSPORT_SEND_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shiplog {

// The article's choice, made explicit and measurable.
enum class SendPolicy {
  // mmap + write below mmap_threshold_bytes, sendfile from there up.
  kAuto,
  // sendfile(2): page cache to socket, no copy through user space.
  kSendfile,
  // write(2) from the segment's mapping: one copy, no read syscalls.
  kMmapWrite,
  // pread(2) into a buffer, then write(2): the traditional two copies.
  kCopy,
};

absl::string_view SendPolicyName(SendPolicy policy);
// "auto", "sendfile", "mmap_write", "copy".
std::optional<SendPolicy> ParseSendPolicy(absl::string_view name);

// The kAuto threshold. The article says 1 MiB; see TRANSPORT.md for what
// this machine measured.
inline constexpr uint64_t kDefaultMmapThresholdBytes = uint64_t{1} << 20;

struct SendOptions {
  SendPolicy policy = SendPolicy::kAuto;
  uint64_t mmap_threshold_bytes = kDefaultMmapThresholdBytes;
  // The copy path's one reusable buffer (also used when sendfile is
  // refused and the copy path takes over).
  size_t copy_buffer_bytes = size_t{256} << 10;
};

// What the send paths need to know about a destination, found once per
// descriptor rather than once per slice.
struct Destination {
  enum class Kind { kSocket, kPipe, kFile, kOther };

  int fd = -1;
  Kind kind = Kind::kOther;
  bool nonblocking = false;
  // A socket whose owner configured kernel TLS (TCP_ULP "tls"): sendfile
  // still works through it, and the kernel encrypts. (Kafka cannot ship
  // zero-copy over TLS: its TLS lives in user space.)
  bool kernel_tls = false;

  // fstat, fcntl and, for sockets, getsockopt(TCP_ULP). The descriptor is
  // not owned.
  static absl::StatusOr<Destination> Inspect(int fd);
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_TRANSPORT_SEND_OPTIONS_H_
