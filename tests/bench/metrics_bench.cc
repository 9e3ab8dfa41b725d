// What a metric update costs on the hot path: Counter::Add alone and with a
// second thread adding to the same counter, and Histogram::Record. Beside
// them, two layouts the design rejected, so each run shows what they would
// change: per-thread shards (each thread adds to a counter on its own cache
// line, the best case of sharding) and the counters of two threads sharing
// one line (what the alignas groups of EngineMetrics prevent).
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/metrics/metric.h"
#include "tests/bench/ratio_reporter.h"

namespace shiplog::bench {
namespace {

void BM_CounterAdd(benchmark::State& state) {
  static Counter counter;
  for (auto _ : state) counter.Add(1);
  state.SetItemsProcessed(state.iterations());
}

struct alignas(kCacheLineBytes) PaddedCounter {
  Counter counter;
};

void BM_ShardedCounterAdd(benchmark::State& state) {
  static PaddedCounter shards[2];
  Counter& mine = shards[state.thread_index() % 2].counter;
  for (auto _ : state) mine.Add(1);
  state.SetItemsProcessed(state.iterations());
}

// Two threads, two counters, one cache line.
void BM_FalselySharedCounterAdd(benchmark::State& state) {
  static struct alignas(kCacheLineBytes) { Counter cells[2]; } line;
  Counter& mine = line.cells[state.thread_index() % 2];
  for (auto _ : state) mine.Add(1);
  state.SetItemsProcessed(state.iterations());
}

// fsync-like latencies in microseconds, log-uniform over the buckets, so
// the bucket search's branches are as unpredictable as in real use.
std::vector<uint64_t> LatenciesMicros() {
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> log2_micros(0, 27);
  std::vector<uint64_t> values(4096);
  for (uint64_t& value : values) {
    value = static_cast<uint64_t>(std::exp2(log2_micros(random)));
  }
  return values;
}

void BM_HistogramRecord(benchmark::State& state) {
  static Histogram histogram =
      Histogram::Exponential(1, 2, kFsyncLatencyBuckets);
  const std::vector<uint64_t> values = LatenciesMicros();
  size_t i = 0;
  for (auto _ : state) histogram.Record(values[i++ & (values.size() - 1)]);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_CounterAdd)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_ShardedCounterAdd)->UseRealTime()->Threads(1)->Threads(2);
BENCHMARK(BM_FalselySharedCounterAdd)->UseRealTime()->Threads(2);
BENCHMARK(BM_HistogramRecord)->UseRealTime()->Threads(1)->Threads(2);

}  // namespace
}  // namespace shiplog::bench

int main(int argc, char** argv) {
  shiplog::bench::RatioReporter reporter;
  reporter.Compare("BM_CounterAdd", "BM_ShardedCounterAdd", "items_per_second");
  reporter.Compare("BM_FalselySharedCounterAdd", "BM_ShardedCounterAdd",
                   "items_per_second");
  return shiplog::bench::RunBenchmarks(argc, argv, reporter);
}
