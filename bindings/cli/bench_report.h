// What `shiplog bench` prints: a table for people, one JSON document, or
// CSV rows for plotting (tests/bench/plot_bench.py), all from the same
// results; plus the summaries they share (medians and spreads per cell,
// the sendfile / mmap_write crossover).
//
// Thread-safety: pure functions.
#ifndef SHIPLOG_BINDINGS_CLI_BENCH_REPORT_H_
#define SHIPLOG_BINDINGS_CLI_BENCH_REPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "bindings/cli/bench_runner.h"
#include "shiplog.h"

namespace shiplog::cli {

struct BenchResults {
  MachineInfo machine;
  BenchConfig config;
  SetupReport setup;
  std::vector<TransferSample> transfers;
  std::vector<AppendSample> appends;
};

// A measure over the repetitions of one cell.
struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};

// One (size, path): its repetitions summarized.
struct CellSummary {
  uint64_t size_bytes = 0;
  shiplog_send_policy policy = SHIPLOG_SEND_COPY;
  Spread throughput_mb_per_s;
  Spread cpu_seconds_per_gib;
  Spread voluntary_switches_per_transfer;
  Spread involuntary_switches_per_transfer;
  Spread syscalls_per_mib;
  uint64_t other_path_bytes = 0;  // summed over the repetitions
};

// Sizes ascending, then paths in kBenchPolicies order.
std::vector<CellSummary> Summarize(absl::Span<const TransferSample> samples);

// Where sendfile starts to beat mmap_write: the smallest measured size
// from which on sendfile's median is better at every larger measured size
// too (higher throughput; lower CPU per GiB). nullopt when it is not
// better at the largest size measured.
struct Crossover {
  std::optional<uint64_t> throughput_size_bytes;
  std::optional<uint64_t> cpu_size_bytes;
};
Crossover FindCrossover(absl::Span<const CellSummary> cells);

// "2 CPUs, Linux 6.1.0-18-amd64 x86_64, AMD EPYC 7B13"
std::string MachineLine(const MachineInfo& machine);

// The setup, a row per (size, path), the append comparison and the
// crossover, as text for a terminal.
std::string FormatBenchTable(const BenchResults& results);

// Every measurement with the machine, the configuration, the summaries
// and the crossover, as one JSON object.
std::string FormatBenchJson(const BenchResults& results);

// A leading "# machine: ..." comment line, a header, then one row per
// (size, path, repetition) with every measured and derived field.
std::string FormatBenchCsv(const BenchResults& results);

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_BENCH_REPORT_H_
