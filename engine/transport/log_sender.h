// Shipping a range of a log: consecutive slices, each starting on a batch
// boundary, up to a byte budget.
#ifndef SHIPLOG_ENGINE_TRANSPORT_LOG_SENDER_H_
#define SHIPLOG_ENGINE_TRANSPORT_LOG_SENDER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/log/log.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/transport/send_options.h"
#include "engine/transport/slice_sender.h"

namespace shiplog {

// The slices of a range of a log: from the batch holding `offset`, the
// first batch whole even if larger than `max_bytes` (a reader always makes
// progress, as in Kafka's fetch), later batches only while they fit, up to
// the log's end. Each slice holds its segment, so once resolved the range
// can be sent in full whatever retention does meanwhile, and its size is
// known before the first byte goes out (a Kafka Fetch response states it
// up front).
struct LogRange {
  std::vector<Slice> slices;
  uint64_t size_bytes = 0;
  int64_t first_offset = 0;  // the first batch's base offset
  int64_t next_offset = 0;   // the offset after the range's last batch
  // Bytes from the range's first byte to the log's end when resolved
  // (Log::BytesBehindEnd): how far behind the tail the reader is. Slices
  // follow each other without gaps, so a slice lies this much less the
  // sizes of the slices before it behind the end.
  uint64_t lag_bytes = 0;
};

// kOutOfRange if `offset` is outside [log start, log end].
absl::StatusOr<LogRange> ResolveLogRange(const Log& log, int64_t offset,
                                         uint64_t max_bytes);

// Ships a LogRange slice by slice. An event loop drives it: Send() when the
// destination is writable, until done(). A slice that starts more than
// options.cold_read_lag_bytes behind the log's end is sent cold (direct
// reads, SliceSender).
//
// Thread-safety: not thread-safe; drive a cursor from one thread at a time.
class LogSendCursor {
 public:
  // `options` must pass CheckSendOptions.
  LogSendCursor(LogRange range, const Destination& destination,
                const SendOptions& options);

  // CheckSendOptions, ResolveLogRange, then a cursor over it.
  static absl::StatusOr<LogSendCursor> Start(const Log& log, int64_t offset,
                                             uint64_t max_bytes,
                                             const Destination& destination,
                                             const SendOptions& options);

  // Sends what the destination takes now; returns the bytes this call
  // sent. Errors as SliceSender::Send.
  absl::StatusOr<uint64_t> Send();

  bool done() const { return next_slice_ == slices_.size(); }
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t size_bytes() const { return size_bytes_; }
  // The first batch's base offset, and the offset after the last batch.
  int64_t first_offset() const { return first_offset_; }
  int64_t next_offset() const { return next_offset_; }
  // Bytes sent by each path, for reports.
  const PerSendPath<uint64_t>& bytes_by_path() const { return bytes_by_path_; }

 private:
  std::vector<Slice> slices_;
  uint64_t size_bytes_;
  // How far behind the log's end the next slice starts.
  uint64_t next_slice_lag_bytes_;
  int64_t first_offset_;
  int64_t next_offset_;
  Destination destination_;
  SendOptions options_;
  size_t next_slice_ = 0;
  std::optional<SliceSender> current_;
  uint64_t bytes_sent_ = 0;
  PerSendPath<uint64_t> bytes_by_path_;
};

struct SendResult {
  uint64_t bytes_sent = 0;
  int64_t first_offset = 0;
  int64_t next_offset = 0;
  PerSendPath<uint64_t> bytes_by_path;
};

// Sends a resolved range to `fd` to completion. On a non-blocking
// descriptor it waits (poll) for writability between partial sends, at most
// `timeout_ms` in all (-1: no limit; kDeadlineExceeded when it runs out).
absl::StatusOr<SendResult> SendRange(LogRange range, int fd,
                                     const SendOptions& options = {},
                                     int64_t timeout_ms = -1);

// The log-level convenience: ResolveLogRange and SendRange in one call.
absl::StatusOr<SendResult> SendLogRange(const Log& log, int64_t offset,
                                        uint64_t max_bytes, int fd,
                                        const SendOptions& options = {},
                                        int64_t timeout_ms = -1);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_TRANSPORT_LOG_SENDER_H_
