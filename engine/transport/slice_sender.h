// SliceSender: ships one Slice to a descriptor, resumably.
//
// The path is chosen once per slice (TRANSPORT.md): splice(2) into a pipe;
// otherwise by the policy: sendfile(2), write(2) from the segment's
// mapping, or pread(2)+write(2) through one bounded buffer. When the
// kernel refuses sendfile for the pair (EINVAL, ENOSYS, EOPNOTSUPP) the
// copy path takes over, counted as a fallback, never silently.
//
// On a non-blocking destination Send() returns as soon as the descriptor
// stops taking bytes (EAGAIN), with done() false: the caller waits until it
// is writable and calls Send() again; the sender resumes where it stopped,
// with no new lookup. No send raises SIGPIPE: a closed peer is an error.
//
// Thread-safety: not thread-safe; one sender is driven by one thread at a
// time. The slice keeps its segment (and file) alive while the sender
// lives.
#ifndef SHIPLOG_ENGINE_TRANSPORT_SLICE_SENDER_H_
#define SHIPLOG_ENGINE_TRANSPORT_SLICE_SENDER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/mapping.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/segment/slice.h"
#include "engine/transport/send_options.h"

namespace shiplog {

class SliceSender {
 public:
  SliceSender(Slice slice, const Destination& destination,
              const SendOptions& options);

  // Sends what the destination takes now; returns the bytes this call
  // sent. Errors: kUnavailable when the peer closed (EPIPE, ECONNRESET),
  // kDataLoss when the segment file ends before the slice does, the errno
  // status otherwise. After an error the sender is finished.
  absl::StatusOr<uint64_t> Send();

  bool done() const { return sent_ == slice_.size; }
  uint64_t bytes_sent() const { return sent_; }
  const Slice& slice() const { return slice_; }
  // The path chosen (meaningful once Send has run); kCopy after a
  // fallback from sendfile.
  SendPath path() const { return path_.value_or(SendPath::kSendfile); }

 private:
  SendPath ChoosePath() const;
  // Each returns with sent_ advanced; OK with !done() means EAGAIN.
  absl::Status SendByKernel(bool splice);  // sendfile or splice
  absl::Status SendFromMapping();
  absl::Status SendByCopy();
  // write(2)/send(2) of [data, data + size) with the path's counters.
  absl::StatusOr<size_t> WriteSome(const char* data, size_t size);
  absl::Status Failed(absl::Status status);

  const Slice slice_;
  const Destination destination_;
  const SendOptions options_;
  uint64_t sent_ = 0;
  std::optional<SendPath> path_;
  absl::Status error_;
  std::shared_ptr<const Mapping> mapping_;  // kMmapWrite
  // kCopy: bytes read but not yet written stay here across EAGAIN.
  std::vector<char> buffer_;
  size_t buffer_begin_ = 0;
  size_t buffer_end_ = 0;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_TRANSPORT_SLICE_SENDER_H_
