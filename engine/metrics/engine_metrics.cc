#include "engine/metrics/engine_metrics.h"

namespace shiplog {

absl::string_view SendPathName(SendPath path) {
  switch (path) {
    case SendPath::kSendfile:
      return "sendfile";
    case SendPath::kSplice:
      return "splice";
    case SendPath::kMmapWrite:
      return "mmap_write";
    case SendPath::kCopy:
      return "copy";
    case SendPath::kDirectRead:
      return "direct_read";
  }
  return "unknown";
}

EngineMetrics& GlobalMetrics() {
  static EngineMetrics* const metrics = new EngineMetrics();
  return *metrics;
}

EngineMetricsSnapshot TakeSnapshot(const EngineMetrics& metrics) {
  EngineMetricsSnapshot snapshot;
  snapshot.appended_bytes = metrics.appended_bytes.Value();
  snapshot.appended_batches = metrics.appended_batches.Value();
  snapshot.appended_records = metrics.appended_records.Value();

  for (SendPath path : kSendPaths) {
    snapshot.sent_bytes[path] = metrics.sent_bytes[path].Value();
    snapshot.send_syscalls[path] = metrics.send_syscalls[path].Value();
  }
  snapshot.partial_sends = metrics.partial_sends.Value();
  snapshot.send_eagain = metrics.send_eagain.Value();
  snapshot.send_fallbacks = metrics.send_fallbacks.Value();
  snapshot.send_errors = metrics.send_errors.Value();

  snapshot.direct_reads = metrics.direct_reads.Value();
  snapshot.direct_read_bytes = metrics.direct_read_bytes.Value();
  snapshot.direct_read_buffer_waits = metrics.direct_read_buffer_waits.Value();
  snapshot.direct_read_fallbacks = metrics.direct_read_fallbacks.Value();
  snapshot.direct_read_buffers_in_use =
      metrics.direct_read_buffers_in_use.Value();

  snapshot.fsyncs = metrics.fsyncs.Value();
  snapshot.fsync_latency_us = metrics.fsync_latency_us.Snapshot();
  snapshot.fsync_failures = metrics.fsync_failures.Value();

  snapshot.open_files = metrics.open_files.Value();
  snapshot.mapped_bytes = metrics.mapped_bytes.Value();
  snapshot.mappings = metrics.mappings.Value();

  snapshot.segments_recovered = metrics.segments_recovered.Value();
  snapshot.bytes_truncated_by_recovery =
      metrics.bytes_truncated_by_recovery.Value();
  snapshot.crc_failures = metrics.crc_failures.Value();
  snapshot.index_rebuilds = metrics.index_rebuilds.Value();
  snapshot.segment_releases = metrics.segment_releases.Value();
  return snapshot;
}

}  // namespace shiplog
