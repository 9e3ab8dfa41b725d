// Metrics snapshots: values, Prometheus text and the table for people.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "capi/src/handles.h"
#include "capi/src/status.h"
#include "engine/metrics/prometheus.h"

using shiplog::capi::CheckHandle;
using shiplog::capi::CheckNotNull;
using shiplog::capi::CheckVersion;
using shiplog::capi::Fail;
using shiplog::capi::Guard;

namespace {

int CheckMetrics(const shiplog_metrics* metrics) {
  return CheckHandle(metrics, shiplog::capi::kMetricsMagic, "metrics");
}

// Hands `text` to the caller in malloc'd memory (shiplog_free).
int Give(const std::string& text, char** out) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, text.c_str(), text.size() + 1);
  *out = copy;
  return SHIPLOG_OK;
}

}  // namespace

extern "C" {

int shiplog_metrics_open(shiplog_metrics** out, shiplog_store* store) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    if (store != nullptr) {
      SHIPLOG_TRY(CheckHandle(store, shiplog::capi::kStoreMagic, "store"));
    }
    auto handle = std::make_unique<shiplog_metrics>();
    handle->engine = shiplog::TakeSnapshot(shiplog::GlobalMetrics());
    absl::StatusOr<shiplog::ProcessStats> process = shiplog::ReadProcessStats();
    if (process.ok()) handle->process = *std::move(process);
    if (store != nullptr && !store->closed) {
      handle->logs = store->store->CollectLogGauges();
    }
    *out = handle.release();
    return SHIPLOG_OK;
  });
}

int shiplog_metrics_values_get(shiplog_metrics_values* out,
                               const shiplog_metrics* metrics) {
  SHIPLOG_TRY(CheckNotNull(out, "out"));
  SHIPLOG_TRY(CheckVersion(out->version, SHIPLOG_METRICS_VALUES_VERSION,
                           "shiplog_metrics_values"));
  SHIPLOG_TRY(CheckMetrics(metrics));
  const shiplog::EngineMetricsSnapshot& m = metrics->engine;
  out->appended_bytes = m.appended_bytes;
  out->appended_batches = m.appended_batches;
  out->appended_records = m.appended_records;
  const shiplog::SendPath paths[] = {
      shiplog::SendPath::kSendfile, shiplog::SendPath::kSplice,
      shiplog::SendPath::kMmapWrite, shiplog::SendPath::kCopy};
  for (size_t i = 0; i < 4; ++i) {
    out->sent_bytes[i] = m.sent_bytes[paths[i]];
    out->send_syscalls[i] = m.send_syscalls[paths[i]];
  }
  out->partial_sends = m.partial_sends;
  out->send_eagain = m.send_eagain;
  out->send_fallbacks = m.send_fallbacks;
  out->send_errors = m.send_errors;
  out->fsyncs = m.fsyncs;
  out->fsync_failures = m.fsync_failures;
  out->fsync_p50_seconds = m.fsync_latency_us.Percentile(50) / 1e6;
  out->fsync_p99_seconds = m.fsync_latency_us.Percentile(99) / 1e6;
  out->open_files = m.open_files;
  out->mapped_bytes = m.mapped_bytes;
  out->mappings = m.mappings;
  out->segments_recovered = m.segments_recovered;
  out->bytes_truncated_by_recovery = m.bytes_truncated_by_recovery;
  out->crc_failures = m.crc_failures;
  out->index_rebuilds = m.index_rebuilds;
  return SHIPLOG_OK;
}

int shiplog_metrics_prometheus(char** out, const shiplog_metrics* metrics) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckMetrics(metrics));
    return Give(shiplog::FormatPrometheus(metrics->engine, metrics->process,
                                          metrics->logs),
                out);
  });
}

int shiplog_metrics_text(char** out, const shiplog_metrics* metrics) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckMetrics(metrics));
    return Give(
        shiplog::FormatText(metrics->engine, metrics->process, metrics->logs),
        out);
  });
}

void shiplog_metrics_free(shiplog_metrics* metrics) {
  if (metrics == nullptr || metrics->magic != shiplog::capi::kMetricsMagic) {
    return;
  }
  Guard([&]() -> int {
    metrics->magic = shiplog::capi::kFreedMagic;
    delete metrics;
    return SHIPLOG_OK;
  });
}

}  // extern "C"
