// MetricFamily: the engine's metrics as named families of labelled samples,
// the one description that both text formats of prometheus.h render
// (Prometheus exposition and the `shiplog stats` table).
//
// Names, help texts, types and units are chosen here and only here, so the
// two formats can never disagree on what a metric is called or means.
//
// Thread-safety: CollectMetricFamilies is a pure function of its arguments;
// a MetricFamily is a plain value.
#ifndef SHIPLOG_ENGINE_METRICS_METRIC_FAMILIES_H_
#define SHIPLOG_ENGINE_METRICS_METRIC_FAMILIES_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/metrics/metric.h"
#include "engine/metrics/process_stats.h"

namespace shiplog {

enum class MetricType { kCounter, kGauge, kHistogram };

// The base unit a family's values are in, as Prometheus asks: a human
// rendering scales bytes and seconds, and prints counts as they are.
enum class MetricUnit { kCount, kBytes, kSeconds };

struct MetricLabel {
  std::string name;
  std::string value;  // unescaped
};

struct MetricSample {
  std::vector<MetricLabel> labels;
  double value = 0;  // Prometheus samples are float64 too
};

struct MetricFamily {
  std::string name;  // shiplog_..., counters ending in _total
  std::string help;
  MetricType type = MetricType::kGauge;
  MetricUnit unit = MetricUnit::kCount;
  // For counters and gauges; never empty.
  std::vector<MetricSample> samples;
  // For kHistogram: the buckets in recorded units, and how many recorded
  // units make one `unit` (1e6 microseconds make a second). A divisor, not
  // a factor: 3 / 1e6 rounds to the double nearest 3e-06, 3 * 1e-6 does not.
  HistogramSnapshot histogram;
  double histogram_values_per_unit = 1;
};

// Every engine metric, then one family per per-log gauge (one sample per
// log), then the process's metrics if `process` is given. A family whose
// samples would all be absent (an empty `logs`, a /proc field that could
// not be read) is left out.
std::vector<MetricFamily> CollectMetricFamilies(
    const EngineMetricsSnapshot& engine,
    const std::optional<ProcessStats>& process,
    absl::Span<const LogGauges> logs);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_METRICS_METRIC_FAMILIES_H_
