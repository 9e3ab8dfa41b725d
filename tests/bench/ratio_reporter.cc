#include "tests/bench/ratio_reporter.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shiplog::bench {

void RatioReporter::Compare(std::string measured, std::string baseline,
                            std::string metric) {
  pairs_.push_back(
      {std::move(measured), std::move(baseline), std::move(metric)});
}

void RatioReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    if (run.error_occurred) continue;
    // With repetitions, the median stands for the benchmark; a single run
    // stands for itself.
    const bool median =
        run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
    if (!median && run.run_type != Run::RT_Iteration) continue;
    const std::string name = run.run_name.str();
    if (!median && medians_.contains(name)) continue;
    if (median) medians_.insert(name);
    auto& metrics = results_[name];
    metrics["real_time"] = run.GetAdjustedRealTime();
    for (const auto& [counter_name, counter] : run.counters) {
      metrics[counter_name] = counter.value;
    }
  }
  ConsoleReporter::ReportRuns(runs);
}

void RatioReporter::Finalize() {
  ConsoleReporter::Finalize();
  bool header = false;
  for (const Pair& pair : pairs_) {
    const std::string prefix = pair.measured + "/";
    for (const auto& [name, metrics] : results_) {
      if (!absl::StartsWith(name, prefix)) continue;
      const std::string args = name.substr(prefix.size());
      auto baseline = results_.find(pair.baseline + "/" + args);
      if (baseline == results_.end()) continue;
      auto measured_value = metrics.find(pair.metric);
      auto baseline_value = baseline->second.find(pair.metric);
      if (measured_value == metrics.end() ||
          baseline_value == baseline->second.end() ||
          measured_value->second == 0) {
        continue;
      }
      const double ratio =
          pair.metric == "real_time"
              ? baseline_value->second / measured_value->second
              : measured_value->second / baseline_value->second;
      if (!header) {
        std::printf("\nRatios against baselines measured in this run:\n");
        header = true;
      }
      std::printf("  %-44s %6.1f%% of %s (%s)\n", name.c_str(), 100 * ratio,
                  pair.baseline.c_str(), pair.metric.c_str());
    }
  }
  std::fflush(stdout);
}

int RunBenchmarks(int argc, char** argv, RatioReporter& reporter) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace shiplog::bench
