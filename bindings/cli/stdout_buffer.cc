#include "bindings/cli/stdout_buffer.h"

#include <unistd.h>

#include <cerrno>

#include "bindings/cli/errno_error.h"

namespace shiplog::cli {

StdoutBuffer::StdoutBuffer(size_t flush_bytes) : flush_bytes_(flush_bytes) {
  buffer_.reserve(flush_bytes + 4096);
}

absl::Status StdoutBuffer::Flush() {
  size_t written = 0;
  while (written < buffer_.size()) {
    const ssize_t n = write(STDOUT_FILENO, buffer_.data() + written,
                            buffer_.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      buffer_.clear();
      return ErrnoError(errno, "writing stdout");
    }
    written += static_cast<size_t>(n);
  }
  buffer_.clear();
  return absl::OkStatus();
}

}  // namespace shiplog::cli
