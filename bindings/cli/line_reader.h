// LineReader: splits the bytes of a file descriptor (stdin) into lines for
// `shiplog produce`, reading with read(2) into one growable buffer.
//
// Lines end at '\n'; the '\n' and a '\r' before it are not part of the
// line. A last line without '\n' still counts; input that ends with '\n'
// has no empty line after it. Lines may hold any bytes, NUL included.
//
// Lines are returned as spans of the buffer, not views, so that they stay
// valid while more input is read (the buffer may move). Compact() frees the
// space of lines the caller is done with.
//
// Thread-safety: not thread-safe.
#ifndef SHIPLOG_BINDINGS_CLI_LINE_READER_H_
#define SHIPLOG_BINDINGS_CLI_LINE_READER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace shiplog::cli {

class LineReader {
 public:
  // Where a line lies in the buffer.
  struct Span {
    size_t start = 0;
    size_t size = 0;
  };

  // Reads `fd` (not owned). A line longer than `max_line_bytes` is an error.
  LineReader(int fd, size_t max_line_bytes);

  // The next complete line already read, or nullopt if more input is
  // needed (or the input is exhausted: see at_end()). kInvalidArgument for
  // a line over the limit.
  absl::StatusOr<std::optional<Span>> NextLine();
  // Every line has been returned and the input is at its end.
  bool at_end() const { return eof_ && next_line_ == end_; }

  // True if a read would not block: the descriptor has data or is at its
  // end (poll with a zero timeout).
  bool InputReady() const;
  // Reads once, blocking until the descriptor has data or ends. Errors:
  // the read's errno, or kInvalidArgument for a partial line already over
  // the limit (so a runaway line never fills memory).
  absl::Status Fill();

  // The bytes of a line returned since the last Compact().
  absl::string_view line(const Span& span) const {
    return absl::string_view(buffer_.data() + span.start, span.size);
  }
  // The number of lines returned so far, for messages.
  int64_t lines_returned() const { return lines_returned_; }

  // Frees the buffer space of lines returned so far, except `kept` (lines
  // the caller still holds, in input order), whose spans are updated to
  // where their bytes move.
  void Compact(absl::Span<Span> kept);

 private:
  // Returns the line in [next_line_, line_end), without a '\r' before a
  // '\n' terminator, and moves next_line_ past the terminator.
  absl::StatusOr<std::optional<Span>> Take(size_t line_end,
                                           size_t terminator_size);
  absl::Status LineTooLong() const;

  const int fd_;
  const size_t max_line_bytes_;
  std::string buffer_;
  size_t next_line_ = 0;  // start of the first line not yet returned
  size_t scan_from_ = 0;  // [next_line_, scan_from_) holds no '\n'
  size_t end_ = 0;        // bytes of buffer_ holding input
  bool eof_ = false;
  int64_t lines_returned_ = 0;
};

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_LINE_READER_H_
