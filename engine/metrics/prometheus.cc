#include "engine/metrics/prometheus.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/metrics/metric_families.h"

namespace shiplog {
namespace {

// The shortest text that parses back to `value` exactly, as Prometheus's
// own clients print floats ("1e-06", "67.108864", "42").
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  const std::to_chars_result result =
      std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

// HELP text escapes backslash and newline; label values also escape the
// double quote that would end them.
std::string Escape(absl::string_view text, bool escape_quote) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else if (c == '"' && escape_quote) {
      escaped += "\\\"";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

void AppendSample(absl::string_view name,
                  const std::vector<MetricLabel>& labels, double value,
                  std::string* out) {
  absl::StrAppend(out, name);
  if (!labels.empty()) {
    absl::string_view separator = "{";
    for (const MetricLabel& label : labels) {
      absl::StrAppend(out, separator, label.name, "=\"",
                      Escape(label.value, /*escape_quote=*/true), "\"");
      separator = ",";
    }
    absl::StrAppend(out, "}");
  }
  absl::StrAppend(out, " ", FormatValue(value), "\n");
}

void AppendHistogram(const MetricFamily& family, std::string* out) {
  const HistogramSnapshot& histogram = family.histogram;
  const std::string bucket_name = absl::StrCat(family.name, "_bucket");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < histogram.upper_bounds.size(); ++i) {
    if (i < histogram.bucket_counts.size()) {
      cumulative += histogram.bucket_counts[i];
    }
    const double bound = static_cast<double>(histogram.upper_bounds[i]) /
                         family.histogram_values_per_unit;
    AppendSample(bucket_name, {{"le", FormatValue(bound)}},
                 static_cast<double>(cumulative), out);
  }
  // Written even for a snapshot without buckets (a default-constructed
  // one): scrapers require the +Inf bucket, equal to _count.
  AppendSample(bucket_name, {{"le", "+Inf"}},
               static_cast<double>(histogram.count), out);
  AppendSample(
      absl::StrCat(family.name, "_sum"), {},
      static_cast<double>(histogram.sum) / family.histogram_values_per_unit,
      out);
  AppendSample(absl::StrCat(family.name, "_count"), {},
               static_cast<double>(histogram.count), out);
}

absl::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string FormatPrometheus(const EngineMetricsSnapshot& engine,
                             const std::optional<ProcessStats>& process,
                             absl::Span<const LogGauges> logs) {
  std::string out;
  for (const MetricFamily& family :
       CollectMetricFamilies(engine, process, logs)) {
    absl::StrAppend(&out, "# HELP ", family.name, " ",
                    Escape(family.help, /*escape_quote=*/false), "\n",
                    "# TYPE ", family.name, " ", TypeName(family.type), "\n");
    if (family.type == MetricType::kHistogram) {
      AppendHistogram(family, &out);
      continue;
    }
    for (const MetricSample& sample : family.samples) {
      AppendSample(family.name, sample.labels, sample.value, &out);
    }
  }
  return out;
}

}  // namespace shiplog
