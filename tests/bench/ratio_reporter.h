// RatioReporter: the console report plus, at the end, each measured
// benchmark as a ratio of its baseline from the same run.
//
// Pairs are declared by name: RatioReporter::Compare("BM_Append",
// "BM_RawWrite", "bytes_per_second") compares every "BM_Append/<args>" with
// "BM_RawWrite/<args>". Machines here are shared and noisy, so absolute
// numbers mean little across runs; the ratio within one run is the result.
#ifndef SHIPLOG_TESTS_BENCH_RATIO_REPORTER_H_
#define SHIPLOG_TESTS_BENCH_RATIO_REPORTER_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace shiplog::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  // Higher-is-better counters ("bytes_per_second", "items_per_second") or
  // "real_time" (lower is better; the ratio printed is baseline / measured
  // speed-up the other way round, so above 100% is always "faster").
  void Compare(std::string measured, std::string baseline, std::string metric);

  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

 private:
  struct Pair {
    std::string measured;
    std::string baseline;
    std::string metric;
  };
  std::vector<Pair> pairs_;
  // "BM_Name/args" -> metric -> value.
  std::map<std::string, std::map<std::string, double>> results_;
  std::set<std::string> medians_;  // results_ keys that hold a median
};

// Runs the registered benchmarks with `reporter`; the body of main().
int RunBenchmarks(int argc, char** argv, RatioReporter& reporter);

}  // namespace shiplog::bench

#endif  // SHIPLOG_TESTS_BENCH_RATIO_REPORTER_H_
