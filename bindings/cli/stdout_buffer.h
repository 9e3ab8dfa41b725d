// StdoutBuffer: the tool's output to stdout, collected in memory and
// written with write(2) in large pieces (consume prints millions of short
// lines) or at once when the caller flushes (produce prints offsets that a
// reading process waits for).
//
// Thread-safety: not thread-safe; the tool has one.
#ifndef SHIPLOG_BINDINGS_CLI_STDOUT_BUFFER_H_
#define SHIPLOG_BINDINGS_CLI_STDOUT_BUFFER_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shiplog::cli {

class StdoutBuffer {
 public:
  // Writes once more than `flush_bytes` are buffered.
  explicit StdoutBuffer(size_t flush_bytes = size_t{1} << 20);

  // The buffer to append to; call MaybeFlush() after appending.
  std::string* buffer() { return &buffer_; }
  absl::Status MaybeFlush() {
    return buffer_.size() >= flush_bytes_ ? Flush() : absl::OkStatus();
  }
  // Writes everything buffered. Errors carry the errno ("writing stdout").
  absl::Status Flush();

 private:
  const size_t flush_bytes_;
  std::string buffer_;
};

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_STDOUT_BUFFER_H_
