// EngineMetrics: the engine's process-wide counters, and the plain-value
// snapshot that the exposition formats read.
//
// The engine counts into one instance, GlobalMetrics(); METRICS.md lists
// every field with the place that counts it. Tests build their own
// instances to count in isolation.
//
// Thread-safety: every field of EngineMetrics may be updated from any
// thread at once (see metric.h). TakeSnapshot() may run concurrently with
// the updates; a snapshot and a LogGauges are plain values, as thread-safe
// as an int.
#ifndef SHIPLOG_ENGINE_METRICS_ENGINE_METRICS_H_
#define SHIPLOG_ENGINE_METRICS_ENGINE_METRICS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "engine/metrics/metric.h"

namespace shiplog {

// How the transport moved a slice's bytes to a socket. kDirectRead: read
// with O_DIRECT into a pool buffer (a cold slice), then written.
enum class SendPath { kSendfile, kSplice, kMmapWrite, kCopy, kDirectRead };

inline constexpr size_t kSendPathCount = 5;
inline constexpr std::array<SendPath, kSendPathCount> kSendPaths = {
    SendPath::kSendfile, SendPath::kSplice, SendPath::kMmapWrite,
    SendPath::kCopy, SendPath::kDirectRead};

// "sendfile", "splice", "mmap_write", "copy" or "direct_read": the `path`
// label's value.
absl::string_view SendPathName(SendPath path);

// One T per send path, indexed by the path: `sent_bytes[SendPath::kCopy]`.
template <typename T>
class PerSendPath {
 public:
  T& operator[](SendPath path) { return values_[static_cast<size_t>(path)]; }
  const T& operator[](SendPath path) const {
    return values_[static_cast<size_t>(path)];
  }

 private:
  std::array<T, kSendPathCount> values_{};
};

// The two per-path arrays of a send fill 80 bytes: a send's two updates
// touch one cache line, or two for the paths whose counters straddle the
// boundary (see below).
static_assert(2 * sizeof(PerSendPath<Counter>) <= 2 * kCacheLineBytes);

// fsync latency buckets: 1 us doubling to 2^26 us (67 s), then overflow.
inline constexpr size_t kFsyncLatencyBuckets = 27;

// Each group of fields is updated by a different kind of thread (log
// writers, senders, the flusher, open/close paths), so each group starts a
// cache line of its own and one kind's updates never stall another's.
struct EngineMetrics {
  // Appends, counted by a log's writer once a batch is in the page cache.
  alignas(kCacheLineBytes) Counter appended_bytes;
  Counter appended_batches;
  Counter appended_records;

  // Sends, counted by the transport per system call. The two arrays fill
  // a line and a quarter, so a send touches one or two lines.
  alignas(kCacheLineBytes) PerSendPath<Counter> sent_bytes;
  PerSendPath<Counter> send_syscalls;
  Counter partial_sends;   // a syscall moved fewer bytes than asked
  Counter send_eagain;     // the socket was full (non-blocking send)
  Counter send_fallbacks;  // sendfile refused the pair; copied instead
  Counter send_errors;     // a send failed with an error other than EAGAIN

  // Cold reads (O_DIRECT + libaio), counted by io and the transport; on
  // the line after the sends', which they share with nothing busy.
  alignas(kCacheLineBytes) Counter direct_reads;  // reads submitted
  Counter direct_read_bytes;          // bytes those reads returned
  Counter direct_read_buffer_waits;   // reads that found the pool empty
  Counter direct_read_fallbacks;      // cold slices sent through the cache
  Gauge direct_read_buffers_in_use;   // pool buffers lent out now

  // Durability, counted around each fdatasync.
  alignas(kCacheLineBytes) Counter fsyncs;
  Histogram fsync_latency_us =
      Histogram::Exponential(1, 2, kFsyncLatencyBuckets);
  Counter fsync_failures;

  // Resources held now: gauges moved on open/close and map/unmap.
  alignas(kCacheLineBytes) Gauge open_files;
  Gauge mapped_bytes;
  Gauge mappings;

  // Integrity events: rare, so they share the resources' line.
  Counter segments_recovered;
  Counter bytes_truncated_by_recovery;
  Counter crc_failures;
  Counter index_rebuilds;
  // Idle segments whose files the segment cache closed to stay within its
  // caps (reopened on their next use).
  Counter segment_releases;
};

// The instance the engine counts into. Created on first use and never
// destroyed, so threads still running at exit may keep counting.
EngineMetrics& GlobalMetrics();

// EngineMetrics' values at one moment, field for field.
struct EngineMetricsSnapshot {
  uint64_t appended_bytes = 0;
  uint64_t appended_batches = 0;
  uint64_t appended_records = 0;

  PerSendPath<uint64_t> sent_bytes;
  PerSendPath<uint64_t> send_syscalls;
  uint64_t partial_sends = 0;
  uint64_t send_eagain = 0;
  uint64_t send_fallbacks = 0;
  uint64_t send_errors = 0;

  uint64_t direct_reads = 0;
  uint64_t direct_read_bytes = 0;
  uint64_t direct_read_buffer_waits = 0;
  uint64_t direct_read_fallbacks = 0;
  int64_t direct_read_buffers_in_use = 0;

  uint64_t fsyncs = 0;
  HistogramSnapshot fsync_latency_us;
  uint64_t fsync_failures = 0;

  int64_t open_files = 0;
  int64_t mapped_bytes = 0;
  int64_t mappings = 0;

  uint64_t segments_recovered = 0;
  uint64_t bytes_truncated_by_recovery = 0;
  uint64_t crc_failures = 0;
  uint64_t index_rebuilds = 0;
  uint64_t segment_releases = 0;
};

EngineMetricsSnapshot TakeSnapshot(const EngineMetrics& metrics);

// One log's state, filled by the store when metrics are exported.
struct LogGauges {
  std::string name;  // the log's directory name, `<topic>-<partition>`
  int64_t segments = 0;
  int64_t size_bytes = 0;
  int64_t start_offset = 0;
  int64_t end_offset = 0;
  int64_t committed_offset = 0;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_METRICS_ENGINE_METRICS_H_
