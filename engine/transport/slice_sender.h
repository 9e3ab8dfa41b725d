// SliceSender: ships one Slice to a descriptor, resumably.
//
// The path is chosen once per slice (TRANSPORT.md): a cold slice is read
// with O_DIRECT + libaio into pool buffers and written from them; a hot
// one goes by splice(2) into a pipe, otherwise by the policy: sendfile(2),
// write(2) from the segment's mapping, or pread(2)+write(2) through one
// bounded buffer. When the kernel refuses sendfile for the pair (EINVAL,
// ENOSYS, EOPNOTSUPP) the copy path takes over, and when a cold slice
// cannot be read directly (no O_DIRECT on the file system, no free buffer
// in time) the hot path does, from the byte reached; both are counted as
// fallbacks, never silent.
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
#include "engine/io/aio_reader.h"
#include "engine/io/mapping.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/segment/slice.h"
#include "engine/transport/send_options.h"

namespace shiplog {

class SliceSender {
 public:
  // `cold`: read the slice with O_DIRECT into options.direct_read_pool's
  // buffers, bypassing the page cache (without a pool it goes hot).
  SliceSender(Slice slice, const Destination& destination,
              const SendOptions& options, bool cold = false);

  // Sends what the destination takes now; returns the bytes this call
  // sent. Errors: kUnavailable when the peer closed (EPIPE, ECONNRESET),
  // kDataLoss when the segment file ends before the slice does, the errno
  // status otherwise. After an error the sender is finished.
  absl::StatusOr<uint64_t> Send();

  bool done() const { return sent_ == slice_.size; }
  uint64_t bytes_sent() const { return sent_; }
  const Slice& slice() const { return slice_; }
  // The path chosen (meaningful once Send has run); kCopy after a
  // fallback from sendfile, the hot path after one from a direct read.
  SendPath path() const { return path_.value_or(SendPath::kSendfile); }
  // Bytes sent by each path (two after a fallback).
  const PerSendPath<uint64_t>& bytes_by_path() const { return bytes_by_path_; }
  // Why a cold slice went through the page cache after all (OK if it did
  // not).
  const absl::Status& direct_read_fallback() const {
    return direct_read_fallback_;
  }

 private:
  // The path of a hot slice.
  SendPath ChooseHotPath() const;
  absl::Status SendByPath();
  // Each returns with sent_ advanced; OK with !done() means EAGAIN.
  absl::Status SendByKernel(bool splice);  // sendfile or splice
  absl::Status SendFromMapping();
  absl::Status SendByCopy();
  absl::Status SendByDirectRead();
  // The rest of a cold slice goes by the hot path, for `reason`.
  absl::Status FallBackFromDirectRead(absl::Status reason);
  void Advance(size_t n);
  // write(2)/send(2) of [data, data + size) with the path's counters.
  absl::StatusOr<size_t> WriteSome(const char* data, size_t size);
  absl::Status Failed(absl::Status status);

  const Slice slice_;
  const Destination destination_;
  const SendOptions options_;
  const bool cold_;
  uint64_t sent_ = 0;
  PerSendPath<uint64_t> bytes_by_path_;
  std::optional<SendPath> path_;
  absl::Status error_;
  std::shared_ptr<const Mapping> mapping_;  // kMmapWrite
  // kCopy: bytes read but not yet written stay here across EAGAIN.
  std::vector<char> buffer_;
  size_t buffer_begin_ = 0;
  size_t buffer_end_ = 0;
  // kDirectRead: the reader, and the chunk being written, which stays
  // across EAGAIN while the reads after it proceed.
  std::unique_ptr<AioReader> reader_;
  std::optional<AioReader::Chunk> chunk_;
  size_t chunk_written_ = 0;
  absl::Status direct_read_fallback_;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_TRANSPORT_SLICE_SENDER_H_
