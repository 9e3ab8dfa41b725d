// The engine's metrics as text: in the Prometheus text exposition format,
// version 0.0.4 (Content-Type: text/plain; version=0.0.4), for a /metrics
// endpoint or a node exporter's textfile collector; and as a table for
// people, what `shiplog stats` prints (implemented in text_report.cc).
//
// Thread-safety: both functions are pure functions of their arguments.
#ifndef SHIPLOG_ENGINE_METRICS_PROMETHEUS_H_
#define SHIPLOG_ENGINE_METRICS_PROMETHEUS_H_

#include <optional>
#include <string>

#include "absl/types/span.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/metrics/process_stats.h"

namespace shiplog {

// Every family with its # HELP and # TYPE lines before its samples, in the
// order METRICS.md lists them; `process` and `logs` add their families when
// given. Histograms have cumulative _bucket samples ending in le="+Inf", and
// _sum and _count, in seconds. Label values are escaped (\\, \", \n); the
// result ends in a newline.
std::string FormatPrometheus(const EngineMetricsSnapshot& engine,
                             const std::optional<ProcessStats>& process,
                             absl::Span<const LogGauges> logs);

// One line per sample, the same metrics as FormatPrometheus without the
// shiplog_ prefix, values aligned in one column: byte counts humanized
// (KiB, MiB, ...), durations in us/ms/s, a histogram as its count, p50,
// p99 and the bound of its highest non-empty bucket. The process's
// warnings, if any, follow as "warning: ..." lines. Ends in a newline.
std::string FormatText(const EngineMetricsSnapshot& engine,
                       const std::optional<ProcessStats>& process,
                       absl::Span<const LogGauges> logs);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_METRICS_PROMETHEUS_H_
