// How slices are shipped: the send policy, and what is known about the
// destination descriptor (TRANSPORT.md).
#ifndef SHIPLOG_ENGINE_TRANSPORT_SEND_OPTIONS_H_
#define SHIPLOG_ENGINE_TRANSPORT_SEND_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/io/aligned_buffer_pool.h"

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

// kAuto's thresholds when SendOptions sets none, by destination, from what
// `shiplog bench` measured (TRANSPORT.md, "Policy"; the README has the
// tables):
//  - loopback TCP: mmap + write was faster and cost the sender less CPU
//    than sendfile at every size from 4 KiB to 1 GiB, so never sendfile;
//  - AF_UNIX sockets: sendfile cost the least CPU from 64 KiB up;
//  - any other socket (a real NIC) or file: nothing to measure on the
//    development machine, so the article's 1 MiB.
inline constexpr uint64_t kLoopbackTcpMmapThresholdBytes = UINT64_MAX;
inline constexpr uint64_t kUnixSocketMmapThresholdBytes = uint64_t{64} << 10;
inline constexpr uint64_t kDefaultMmapThresholdBytes = uint64_t{1} << 20;

struct SendOptions {
  SendPolicy policy = SendPolicy::kAuto;
  // nullopt: DefaultMmapThreshold(destination).
  std::optional<uint64_t> mmap_threshold_bytes;
  // The copy path's one reusable buffer (also used when sendfile is
  // refused and the copy path takes over).
  size_t copy_buffer_bytes = size_t{256} << 10;

  // Cold reads (TRANSPORT.md, "Cold reads"): a slice that starts more than
  // this many bytes behind the log's end (when its range is resolved) is
  // read with O_DIRECT into buffers of `direct_read_pool` and written from
  // there, whatever the policy: a consumer far behind does not drag old
  // segments through the page cache and evict the tail that caught-up
  // consumers are sent from. 0 (the default): off, every slice goes by
  // the policy.
  uint64_t cold_read_lag_bytes = 0;
  // Where cold reads take their buffers (Store::direct_read_pool());
  // required when cold_read_lag_bytes > 0.
  std::shared_ptr<AlignedBufferPool> direct_read_pool;
  // Reads a cold slice keeps in flight: the disk reads ahead while the
  // destination drains.
  size_t direct_read_depth = 4;
  // How long a cold slice waits for a free pool buffer before it goes
  // through the page cache after all (counted in
  // shiplog_direct_read_fallbacks_total).
  int64_t direct_read_buffer_wait_ms = 100;
};

// kInvalidArgument for options no send can follow: cold reads without a
// pool.
absl::Status CheckSendOptions(const SendOptions& options);

// What the send paths need to know about a destination, found once per
// descriptor rather than once per slice.
struct Destination {
  enum class Kind { kSocket, kPipe, kFile, kOther };

  int fd = -1;
  Kind kind = Kind::kOther;
  bool nonblocking = false;
  // A socket of the AF_UNIX family; a TCP socket whose peer is a loopback
  // address (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104).
  bool unix_socket = false;
  bool loopback = false;
  // A socket whose owner configured kernel TLS (TCP_ULP "tls"): sendfile
  // still works through it, and the kernel encrypts. (Kafka cannot ship
  // zero-copy over TLS: its TLS lives in user space.)
  bool kernel_tls = false;

  // fstat, fcntl and, for sockets, getsockname, getpeername and
  // getsockopt(TCP_ULP). The descriptor is not owned.
  static absl::StatusOr<Destination> Inspect(int fd);
};

// The kAuto threshold for `destination` (see the constants above).
uint64_t DefaultMmapThreshold(const Destination& destination);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_TRANSPORT_SEND_OPTIONS_H_
