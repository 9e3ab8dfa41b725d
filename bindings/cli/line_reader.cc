#include "bindings/cli/line_reader.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "bindings/cli/errno_error.h"

namespace shiplog::cli {
namespace {

// Each read asks for at least this much: few system calls for piped input,
// little memory for interactive input.
constexpr size_t kReadChunkBytes = 64 * 1024;

}  // namespace

LineReader::LineReader(int fd, size_t max_line_bytes)
    : fd_(fd), max_line_bytes_(max_line_bytes) {}

absl::Status LineReader::LineTooLong() const {
  return absl::InvalidArgumentError(
      absl::StrCat("line ", lines_returned_ + 1, " is longer than ",
                   max_line_bytes_ >> 20, " MiB"));
}

absl::StatusOr<std::optional<LineReader::Span>> LineReader::Take(
    size_t line_end, size_t terminator_size) {
  Span span{next_line_, line_end - next_line_};
  if (terminator_size == 1 && span.size > 0 &&
      buffer_[span.start + span.size - 1] == '\r') {
    --span.size;
  }
  if (span.size > max_line_bytes_) return LineTooLong();
  next_line_ = line_end + terminator_size;
  scan_from_ = next_line_;
  ++lines_returned_;
  return span;
}

absl::StatusOr<std::optional<LineReader::Span>> LineReader::NextLine() {
  const void* newline =
      std::memchr(buffer_.data() + scan_from_, '\n', end_ - scan_from_);
  if (newline != nullptr) {
    return Take(static_cast<const char*>(newline) - buffer_.data(), 1);
  }
  scan_from_ = end_;
  if (eof_ && next_line_ < end_) return Take(end_, 0);
  return std::nullopt;
}

bool LineReader::InputReady() const {
  if (eof_) return true;
  pollfd entry{.fd = fd_, .events = POLLIN, .revents = 0};
  // On a poll error the read that follows reports the problem.
  return poll(&entry, 1, 0) != 0;
}

absl::Status LineReader::Fill() {
  if (eof_) return absl::OkStatus();
  if (end_ - next_line_ > max_line_bytes_) return LineTooLong();
  if (buffer_.size() - end_ < kReadChunkBytes) {
    buffer_.resize(std::max(buffer_.size() * 2, end_ + kReadChunkBytes));
  }
  while (true) {
    const ssize_t n = read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (n > 0) {
      end_ += static_cast<size_t>(n);
      return absl::OkStatus();
    }
    if (n == 0) {
      eof_ = true;
      return absl::OkStatus();
    }
    if (errno != EINTR) return ErrnoError(errno, "reading stdin");
  }
}

void LineReader::Compact(absl::Span<Span> kept) {
  const size_t first_kept = kept.empty() ? next_line_ : kept.front().start;
  if (first_kept == 0) return;
  std::memmove(buffer_.data(), buffer_.data() + first_kept, end_ - first_kept);
  for (Span& span : kept) span.start -= first_kept;
  end_ -= first_kept;
  scan_from_ -= first_kept;
  next_line_ -= first_kept;
}

}  // namespace shiplog::cli
