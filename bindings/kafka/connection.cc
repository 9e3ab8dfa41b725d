#include "bindings/kafka/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bindings/cli/errno_error.h"

namespace shiplog::kafka {
namespace {

constexpr size_t kReadChunkBytes = 64 * 1024;

uint32_t LoadSize(absl::string_view bytes) {
  uint32_t size = 0;
  for (int i = 0; i < 4; ++i) {
    size = (size << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return size;
}

}  // namespace

absl::Status Connection::Read(size_t max_buffered, bool* closed) {
  *closed = false;
  while (input_.size() < max_buffered) {
    const size_t old_size = input_.size();
    const size_t chunk = std::min(kReadChunkBytes, max_buffered - old_size);
    input_.resize(old_size + chunk);
    const ssize_t got = ::recv(fd_.get(), input_.data() + old_size, chunk, 0);
    input_.resize(old_size + (got > 0 ? static_cast<size_t>(got) : 0));
    if (got > 0) continue;
    if (got == 0) {
      *closed = true;
      return absl::OkStatus();
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::OkStatus();
    if (errno == ECONNRESET) {
      *closed = true;
      return absl::OkStatus();
    }
    return cli::ErrnoError(errno, absl::StrCat("reading from ", peer_));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<absl::string_view>> Connection::PeekRequest(
    uint64_t max_request_bytes) {
  if (input_.size() < 4) return std::nullopt;
  const int32_t size = static_cast<int32_t>(LoadSize(input_));
  if (size < 0 || static_cast<uint64_t>(size) > max_request_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a request of ", size, " bytes from ", peer_,
                     " is outside 0..", max_request_bytes,
                     " (--max-request-bytes)"));
  }
  if (input_.size() - 4 < static_cast<size_t>(size)) return std::nullopt;
  frame_size_ = static_cast<size_t>(size);
  return absl::string_view(input_).substr(4, frame_size_);
}

void Connection::PopRequest() {
  input_.erase(0, 4 + frame_size_);
  frame_size_ = 0;
}

absl::Status Connection::Flush() {
  while (!output_.empty()) {
    Response& response = output_.front();
    while (part_ < response.parts.size()) {
      Response::Part& part = response.parts[part_];
      while (part_position_ < part.bytes.size()) {
        const bool more = part.records != nullptr ||
                          part_ + 1 < response.parts.size() ||
                          output_.size() > 1;
        const ssize_t sent =
            ::send(fd_.get(), part.bytes.data() + part_position_,
                   part.bytes.size() - part_position_,
                   MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        if (sent >= 0) {
          part_position_ += static_cast<size_t>(sent);
          continue;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return absl::OkStatus();
        return cli::ErrnoError(errno, absl::StrCat("sending to ", peer_));
      }
      if (part.records != nullptr) {
        const int status = shiplog_sender_send(nullptr, part.records.get());
        if (status == SHIPLOG_EAGAIN) return absl::OkStatus();
        if (status != SHIPLOG_OK) return cli::AbiStatus(status);
        part.records.reset();
      }
      ++part_;
      part_position_ = 0;
    }
    output_.pop_front();
    part_ = 0;
  }
  return absl::OkStatus();
}

}  // namespace shiplog::kafka
