#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/metrics/metric_families.h"
#include "engine/metrics/prometheus.h"

namespace shiplog {
namespace {

std::string HumanBytes(double bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (std::fabs(bytes) < 1024) return absl::StrFormat("%.0f B", bytes);
  size_t unit = 0;
  bytes /= 1024;
  while (std::fabs(bytes) >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", bytes, kUnits[unit]);
}

std::string HumanSeconds(double seconds) {
  if (seconds == 0) return "0 s";
  if (seconds >= 1) return absl::StrFormat("%.2f s", seconds);
  if (seconds >= 1e-3) return absl::StrFormat("%.2f ms", seconds * 1e3);
  return absl::StrFormat("%.1f us", seconds * 1e6);
}

std::string HumanValue(MetricUnit unit, double value) {
  switch (unit) {
    case MetricUnit::kBytes:
      return HumanBytes(value);
    case MetricUnit::kSeconds:
      return HumanSeconds(value);
    case MetricUnit::kCount:
      break;
  }
  return absl::StrFormat("%.0f", value);
}

// "count 12  p50 1.50 ms  p99 8.10 ms  max <= 16.38 ms": the max is a
// bucket's bound, the most a histogram can say about its largest value.
std::string HistogramSummary(const MetricFamily& family) {
  const HistogramSnapshot& histogram = family.histogram;
  std::string summary = absl::StrCat("count ", histogram.count);
  if (histogram.count == 0) return summary;
  const auto human = [&family](double recorded) {
    return HumanValue(family.unit, recorded / family.histogram_values_per_unit);
  };
  size_t highest = std::min(histogram.bucket_counts.size(),
                            histogram.upper_bounds.size() + 1);
  while (highest > 0 && histogram.bucket_counts[highest - 1] == 0) --highest;
  if (highest == 0 || histogram.upper_bounds.empty()) return summary;
  // `highest` is now one past the highest non-empty bucket.
  const bool overflow = highest > histogram.upper_bounds.size();
  const uint64_t max_bound =
      histogram.upper_bounds[overflow ? highest - 2 : highest - 1];
  absl::StrAppend(
      &summary, "  p50 ", human(histogram.Percentile(50)), "  p99 ",
      human(histogram.Percentile(99)), "  max ",
      overflow ? "> " : "<= ", human(static_cast<double>(max_bound)));
  return summary;
}

std::string SampleName(const MetricFamily& family, const MetricSample& sample) {
  std::string name(absl::StripPrefix(family.name, "shiplog_"));
  if (sample.labels.empty()) return name;
  std::vector<std::string> labels;
  for (const MetricLabel& label : sample.labels) {
    labels.push_back(absl::StrCat(label.name, "=", label.value));
  }
  return absl::StrCat(name, "{", absl::StrJoin(labels, ","), "}");
}

}  // namespace

std::string FormatText(const EngineMetricsSnapshot& engine,
                       const std::optional<ProcessStats>& process,
                       absl::Span<const LogGauges> logs) {
  std::vector<std::pair<std::string, std::string>> rows;  // name, value
  for (const MetricFamily& family :
       CollectMetricFamilies(engine, process, logs)) {
    if (family.type == MetricType::kHistogram) {
      rows.emplace_back(SampleName(family, {}), HistogramSummary(family));
      continue;
    }
    for (const MetricSample& sample : family.samples) {
      rows.emplace_back(SampleName(family, sample),
                        HumanValue(family.unit, sample.value));
    }
  }
  size_t name_width = 0;
  for (const auto& [name, value] : rows) {
    name_width = std::max(name_width, name.size());
  }
  std::string out;
  for (const auto& [name, value] : rows) {
    absl::StrAppend(&out, name, std::string(name_width + 2 - name.size(), ' '),
                    value, "\n");
  }
  if (process.has_value()) {
    for (const std::string& warning : process->warnings) {
      absl::StrAppend(&out, "warning: ", warning, "\n");
    }
  }
  return out;
}

}  // namespace shiplog
