#include "engine/transport/slice_sender.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "engine/segment/segment.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"
#include "engine/transport/sigpipe_guard.h"

namespace shiplog {
namespace {

// sendfile and splice move at most this much per call on Linux.
constexpr size_t kMaxKernelChunk = 0x7ffff000;

bool PeerClosed(int error_number) {
  return error_number == EPIPE || error_number == ECONNRESET;
}

bool SendfileRefused(int error_number) {
  return error_number == EINVAL || error_number == ENOSYS ||
         error_number == EOPNOTSUPP;
}

}  // namespace

SliceSender::SliceSender(Slice slice, const Destination& destination,
                         const SendOptions& options, bool cold)
    : slice_(std::move(slice)),
      destination_(destination),
      options_(options),
      cold_(cold && options.direct_read_pool != nullptr) {}

SendPath SliceSender::ChooseHotPath() const {
  switch (options_.policy) {
    case SendPolicy::kMmapWrite:
      return SendPath::kMmapWrite;
    case SendPolicy::kCopy:
      return SendPath::kCopy;
    case SendPolicy::kSendfile:
      break;
    case SendPolicy::kAuto:
      // Through kernel TLS only the kernel path avoids user-space copies of
      // the plaintext; elsewhere small slices go by the mapping.
      if (destination_.kind != Destination::Kind::kPipe &&
          !destination_.kernel_tls &&
          slice_.size < options_.mmap_threshold_bytes.value_or(
                            DefaultMmapThreshold(destination_))) {
        return SendPath::kMmapWrite;
      }
      break;
  }
  return destination_.kind == Destination::Kind::kPipe ? SendPath::kSplice
                                                       : SendPath::kSendfile;
}

absl::Status SliceSender::Failed(absl::Status status) {
  GlobalMetrics().send_errors.Add();
  error_ = status;
  // A failed sender is finished: its reads, buffers and file go now, not
  // when its owner gets round to destroying it.
  chunk_.reset();
  reader_.reset();
  return status;
}

absl::StatusOr<uint64_t> SliceSender::Send() {
  RETURN_IF_ERROR(error_);
  if (done()) return 0;
  if (!path_.has_value()) {
    path_ = cold_ ? SendPath::kDirectRead : ChooseHotPath();
  }
  const uint64_t before = sent_;
  // sendfile, splice and write(2) have no MSG_NOSIGNAL; send(2) to a socket
  // does, and small mapped sends should not pay three syscalls for a guard.
  // A direct read may fall back to sendfile or splice, so it has one.
  std::optional<SigpipeGuard> sigpipe_guard;
  if (*path_ != SendPath::kMmapWrite && *path_ != SendPath::kCopy) {
    sigpipe_guard.emplace();
  } else if (destination_.kind != Destination::Kind::kSocket) {
    sigpipe_guard.emplace();
  }
  const absl::Status status = SendByPath();
  if (!status.ok()) {
    if (StatusErrno(status) == EPIPE && sigpipe_guard.has_value()) {
      sigpipe_guard->ConsumeRaisedSignal();
    }
    return Failed(status);
  }
  return sent_ - before;
}

absl::Status SliceSender::SendByPath() {
  switch (*path_) {
    case SendPath::kSendfile:
    case SendPath::kSplice:
      return SendByKernel(*path_ == SendPath::kSplice);
    case SendPath::kMmapWrite:
      return SendFromMapping();
    case SendPath::kCopy:
      return SendByCopy();
    case SendPath::kDirectRead:
      return SendByDirectRead();
  }
  return absl::InternalError("unknown send path");
}

void SliceSender::Advance(size_t n) {
  sent_ += n;
  bytes_by_path_[*path_] += n;
}

absl::Status SliceSender::SendByKernel(bool splice) {
  ASSIGN_OR_RETURN(const std::shared_ptr<const File> file,
                   slice_.segment->LogFile());
  EngineMetrics& metrics = GlobalMetrics();
  const SendPath path = splice ? SendPath::kSplice : SendPath::kSendfile;
  while (!done()) {
    const size_t want = static_cast<size_t>(
        std::min<uint64_t>(slice_.size - sent_, kMaxKernelChunk));
    loff_t position = static_cast<loff_t>(slice_.position + sent_);
    ssize_t n;
    if (splice) {
      const unsigned int flags =
          SPLICE_F_MOVE | (destination_.nonblocking ? SPLICE_F_NONBLOCK : 0);
      n = ::splice(file->fd(), &position, destination_.fd, nullptr, want,
                   flags);
    } else {
      off_t offset = static_cast<off_t>(position);
      n = ::sendfile(destination_.fd, file->fd(), &offset, want);
    }
    metrics.send_syscalls[path].Add();
    if (n > 0) {
      metrics.sent_bytes[path].Add(static_cast<uint64_t>(n));
      if (static_cast<size_t>(n) < want) metrics.partial_sends.Add();
      Advance(static_cast<size_t>(n));
      continue;
    }
    if (n == 0) {
      return absl::DataLossError(absl::StrCat(
          file->path(), " ended at position ", slice_.position + sent_,
          " inside a slice that runs to ", slice_.position + slice_.size,
          " (truncated under the send?)"));
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN) {
      metrics.send_eagain.Add();
      return absl::OkStatus();
    }
    if (!splice && SendfileRefused(error)) {
      // This pair of descriptors cannot do sendfile: copy, and say so.
      metrics.send_fallbacks.Add();
      path_ = SendPath::kCopy;
      return SendByCopy();
    }
    if (PeerClosed(error)) {
      return ErrnoToStatus(error, "the peer closed the connection");
    }
    return ErrnoToStatus(error, splice ? "splice" : "sendfile");
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> SliceSender::WriteSome(const char* data, size_t size) {
  EngineMetrics& metrics = GlobalMetrics();
  while (true) {
    const ssize_t n = destination_.kind == Destination::Kind::kSocket
                          ? ::send(destination_.fd, data, size, MSG_NOSIGNAL)
                          : ::write(destination_.fd, data, size);
    metrics.send_syscalls[*path_].Add();
    if (n >= 0) {
      metrics.sent_bytes[*path_].Add(static_cast<uint64_t>(n));
      if (static_cast<size_t>(n) < size) metrics.partial_sends.Add();
      return static_cast<size_t>(n);
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN) {
      metrics.send_eagain.Add();
      return 0;
    }
    if (PeerClosed(error)) {
      return ErrnoToStatus(error, "the peer closed the connection");
    }
    return ErrnoToStatus(error, "write");
  }
}

absl::Status SliceSender::SendFromMapping() {
  if (mapping_ == nullptr) {
    ASSIGN_OR_RETURN(
        mapping_, slice_.segment->MapForReading(slice_.position + slice_.size));
  }
  const char* base = mapping_->data() + slice_.position;
  while (!done()) {
    ASSIGN_OR_RETURN(const size_t n,
                     WriteSome(base + sent_, slice_.size - sent_));
    if (n == 0) return absl::OkStatus();  // would block
    Advance(n);
  }
  return absl::OkStatus();
}

absl::Status SliceSender::SendByCopy() {
  ASSIGN_OR_RETURN(const std::shared_ptr<const File> file,
                   slice_.segment->LogFile());
  if (buffer_.empty()) {
    buffer_.resize(std::max<size_t>(options_.copy_buffer_bytes, 4096));
  }
  while (!done()) {
    if (buffer_begin_ == buffer_end_) {
      // Refill with the next bytes after those read so far.
      const uint64_t read_so_far = sent_;
      const size_t want = static_cast<size_t>(
          std::min<uint64_t>(slice_.size - read_so_far, buffer_.size()));
      ASSIGN_OR_RETURN(const size_t n,
                       file->ReadAt(slice_.position + read_so_far,
                                    absl::MakeSpan(buffer_.data(), want)));
      GlobalMetrics().send_syscalls[SendPath::kCopy].Add();
      if (n == 0) {
        return absl::DataLossError(absl::StrCat(
            file->path(), " ended at position ", slice_.position + read_so_far,
            " inside a slice that runs to ", slice_.position + slice_.size,
            " (truncated under the send?)"));
      }
      buffer_begin_ = 0;
      buffer_end_ = n;
    }
    ASSIGN_OR_RETURN(const size_t n, WriteSome(buffer_.data() + buffer_begin_,
                                               buffer_end_ - buffer_begin_));
    if (n == 0) return absl::OkStatus();  // would block
    buffer_begin_ += n;
    Advance(n);
  }
  return absl::OkStatus();
}

absl::Status SliceSender::SendByDirectRead() {
  if (reader_ == nullptr) {
    absl::StatusOr<std::unique_ptr<File>> file =
        slice_.segment->OpenLogFileForDirectRead();
    if (!file.ok()) return FallBackFromDirectRead(file.status());
    AioReaderOptions reader_options;
    reader_options.pool = options_.direct_read_pool;
    reader_options.max_reads_in_flight = options_.direct_read_depth;
    reader_options.buffer_wait_ms = options_.direct_read_buffer_wait_ms;
    absl::StatusOr<std::unique_ptr<AioReader>> reader =
        AioReader::Open(*std::move(file), slice_.position + sent_,
                        slice_.size - sent_, reader_options);
    if (!reader.ok()) return FallBackFromDirectRead(reader.status());
    reader_ = *std::move(reader);
  }
  while (!done()) {
    if (!chunk_.has_value()) {
      absl::StatusOr<AioReader::Chunk> chunk = reader_->Next();
      if (absl::IsResourceExhausted(chunk.status())) {
        return FallBackFromDirectRead(chunk.status());
      }
      RETURN_IF_ERROR(chunk.status());
      chunk_.emplace(*std::move(chunk));
      chunk_written_ = 0;
    }
    const absl::string_view bytes = chunk_->bytes.substr(chunk_written_);
    ASSIGN_OR_RETURN(const size_t n, WriteSome(bytes.data(), bytes.size()));
    if (n == 0) return absl::OkStatus();  // would block; reads go on
    chunk_written_ += n;
    Advance(n);
    if (chunk_written_ == chunk_->bytes.size()) chunk_.reset();
  }
  // Sent: the context, the file and the buffers go now, not with the
  // sender.
  reader_.reset();
  return absl::OkStatus();
}

absl::Status SliceSender::FallBackFromDirectRead(absl::Status reason) {
  GlobalMetrics().direct_read_fallbacks.Add();
  direct_read_fallback_ = std::move(reason);
  chunk_.reset();
  reader_.reset();
  path_ = ChooseHotPath();
  return SendByPath();
}

}  // namespace shiplog
