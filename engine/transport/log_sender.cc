#include "engine/transport/log_sender.h"

#include <poll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

int64_t MonotonicMs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

}  // namespace

absl::StatusOr<LogRange> ResolveLogRange(const Log& log, int64_t offset,
                                         uint64_t max_bytes) {
  LogRange range;
  range.first_offset = offset;
  range.next_offset = offset;
  const int64_t end = log.end_offset();
  do {
    const uint64_t budget = max_bytes - std::min(max_bytes, range.size_bytes);
    ASSIGN_OR_RETURN(Slice slice, log.Read(range.next_offset, budget));
    if (slice.empty()) break;
    // Past the first batch, a batch goes only if it fits the budget.
    if (!range.slices.empty() && slice.size > budget) break;
    if (range.slices.empty()) {
      range.first_offset = slice.first_offset;
      range.lag_bytes = log.BytesBehindEnd(*slice.segment, slice.position);
    }
    range.size_bytes += slice.size;
    range.next_offset = slice.next_offset;
    range.slices.push_back(std::move(slice));
  } while (range.next_offset < end && range.size_bytes < max_bytes);
  return range;
}

LogSendCursor::LogSendCursor(LogRange range, const Destination& destination,
                             const SendOptions& options)
    : slices_(std::move(range.slices)),
      size_bytes_(range.size_bytes),
      next_slice_lag_bytes_(range.lag_bytes),
      first_offset_(range.first_offset),
      next_offset_(range.next_offset),
      destination_(destination),
      options_(options) {}

absl::StatusOr<LogSendCursor> LogSendCursor::Start(
    const Log& log, int64_t offset, uint64_t max_bytes,
    const Destination& destination, const SendOptions& options) {
  RETURN_IF_ERROR(CheckSendOptions(options));
  ASSIGN_OR_RETURN(LogRange range, ResolveLogRange(log, offset, max_bytes));
  return LogSendCursor(std::move(range), destination, options);
}

absl::StatusOr<uint64_t> LogSendCursor::Send() {
  uint64_t sent_now = 0;
  while (!done()) {
    if (!current_.has_value()) {
      const Slice& slice = slices_[next_slice_];
      const bool cold = options_.cold_read_lag_bytes > 0 &&
                        next_slice_lag_bytes_ > options_.cold_read_lag_bytes;
      current_.emplace(slice, destination_, options_, cold);
    }
    // Counted from the sender's own totals: a call that fails after moving
    // some bytes still moved them, and one that fell back moved them by
    // two paths.
    const uint64_t before = current_->bytes_sent();
    const PerSendPath<uint64_t> before_by_path = current_->bytes_by_path();
    const absl::Status sent = current_->Send().status();
    const uint64_t n = current_->bytes_sent() - before;
    sent_now += n;
    bytes_sent_ += n;
    for (SendPath path : kSendPaths) {
      bytes_by_path_[path] += current_->bytes_by_path()[path] -
                              before_by_path[path];
    }
    RETURN_IF_ERROR(sent);
    if (!current_->done()) break;  // the destination is full
    next_slice_lag_bytes_ -=
        std::min<uint64_t>(next_slice_lag_bytes_, current_->slice().size);
    current_.reset();
    // The slice is sent: let go of its segment.
    slices_[next_slice_++] = Slice{};
  }
  return sent_now;
}

absl::StatusOr<SendResult> SendRange(LogRange range, int fd,
                                     const SendOptions& options,
                                     int64_t timeout_ms) {
  RETURN_IF_ERROR(CheckSendOptions(options));
  ASSIGN_OR_RETURN(const Destination destination, Destination::Inspect(fd));
  LogSendCursor cursor(std::move(range), destination, options);
  const int64_t deadline = timeout_ms < 0 ? -1 : MonotonicMs() + timeout_ms;
  while (true) {
    RETURN_IF_ERROR(cursor.Send().status());
    if (cursor.done()) break;
    int wait_ms = -1;
    if (deadline >= 0) {
      const int64_t left = deadline - MonotonicMs();
      if (left <= 0) {
        return absl::DeadlineExceededError(
            absl::StrCat("sent ", cursor.bytes_sent(), " bytes before the ",
                         timeout_ms, " ms timeout"));
      }
      wait_ms = static_cast<int>(std::min<int64_t>(left, 1 << 30));
    }
    struct pollfd writable = {fd, POLLOUT, 0};
    if (poll(&writable, 1, wait_ms) < 0 && errno != EINTR) {
      return ErrnoToStatus(errno, "poll");
    }
  }
  return SendResult{cursor.bytes_sent(), cursor.first_offset(),
                    cursor.next_offset(), cursor.bytes_by_path()};
}

absl::StatusOr<SendResult> SendLogRange(const Log& log, int64_t offset,
                                        uint64_t max_bytes, int fd,
                                        const SendOptions& options,
                                        int64_t timeout_ms) {
  ASSIGN_OR_RETURN(LogRange range, ResolveLogRange(log, offset, max_bytes));
  return SendRange(std::move(range), fd, options, timeout_ms);
}

}  // namespace shiplog
