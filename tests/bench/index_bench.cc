// Lookups on full 10 MiB indexes (Kafka's default segment.index.bytes),
// against a binary search over the same keys in a plain sorted vector, and
// the whole read path (index lookup + header walk) of a log.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/index/offset_index.h"
#include "engine/index/time_index.h"
#include "engine/store/store.h"
#include "tests/bench/bench_dir.h"
#include "tests/bench/ratio_reporter.h"

namespace shiplog::bench {
namespace {

constexpr uint64_t kIndexBytes = 10 << 20;
constexpr int64_t kBase = 1'000'000;
constexpr int64_t kOffsetStep = 7;  // records per indexed batch
constexpr uint32_t kPositionStep = 1000;
constexpr int kTargets = 1 << 16;

// Arg 0: targets spread over the whole index; arg 1: targets in the last
// thousand entries, where a caught-up reader looks.
enum Pattern { kRandom = 0, kTail = 1 };

std::vector<int64_t> Targets(int64_t entries, int pattern) {
  std::mt19937_64 random(pattern);
  const int64_t first =
      pattern == kTail ? std::max<int64_t>(0, entries - 1000) : 0;
  std::vector<int64_t> targets(kTargets);
  for (int64_t& target : targets) {
    target = kBase +
             (first + static_cast<int64_t>(random() % (entries - first))) *
                 kOffsetStep +
             static_cast<int64_t>(random() % 7);
  }
  return targets;
}

struct FullOffsetIndex {
  BenchDir dir;
  std::unique_ptr<OffsetIndex> index;
  int64_t entries = 0;

  explicit FullOffsetIndex(benchmark::State& state) {
    auto file =
        IndexFile::OpenForAppend(Env::Default(), dir.Join("x.index"),
                                 OffsetIndex::kEntrySize, kIndexBytes, 0);
    if (!file.ok()) {
      state.SkipWithError("cannot create the index");
      return;
    }
    index = std::make_unique<OffsetIndex>(kBase, *std::move(file));
    while (!index->IsFull()) {
      (void)index->Append(kBase + entries * kOffsetStep,
                          static_cast<uint32_t>(entries) * kPositionStep);
      ++entries;
    }
  }
};

void BM_OffsetIndexLookup(benchmark::State& state) {
  FullOffsetIndex full(state);
  if (!full.index) return;
  const std::vector<int64_t> targets = Targets(full.entries, state.range(0));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(full.index->Lookup(targets[i++ & (kTargets - 1)]));
  }
  state.counters["entries"] = static_cast<double>(full.entries);
}

// The same keys (relative offsets) in a std::vector: the cost of the
// search alone, without the mapping or the big-endian decoding.
void BM_SortedVectorLookup(benchmark::State& state) {
  const int64_t entries = kIndexBytes / OffsetIndex::kEntrySize - 1;
  std::vector<uint32_t> keys(entries);
  for (int64_t i = 0; i < entries; ++i) {
    keys[i] = static_cast<uint32_t>(i * kOffsetStep);
  }
  const std::vector<int64_t> targets = Targets(entries, state.range(0));
  size_t i = 0;
  for (auto _ : state) {
    const uint32_t relative =
        static_cast<uint32_t>(targets[i++ & (kTargets - 1)] - kBase);
    benchmark::DoNotOptimize(
        std::upper_bound(keys.begin(), keys.end(), relative));
  }
}

void BM_TimeIndexLookup(benchmark::State& state) {
  BenchDir dir;
  auto file = IndexFile::OpenForAppend(Env::Default(), dir.Join("x.timeindex"),
                                       TimeIndex::kEntrySize, kIndexBytes, 0);
  if (!file.ok()) {
    state.SkipWithError("cannot create the index");
    return;
  }
  TimeIndex index(kBase, *std::move(file));
  int64_t entries = 0;
  while (!index.IsFull()) {
    (void)index.MaybeAppend(1'700'000'000'000 + entries * 3,
                            kBase + entries * kOffsetStep);
    ++entries;
  }
  std::vector<int64_t> targets = Targets(entries, state.range(0));
  for (int64_t& target : targets) {
    target = 1'700'000'000'000 + (target - kBase) / kOffsetStep * 3;
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(index.Lookup(targets[i++ & (kTargets - 1)]));
  }
}

// Log::Read of a random offset: segment choice, index lookup, and the
// header walk to the batch holding the offset and to the slice's end.
void BM_LogRead(benchmark::State& state) {
  BenchDir dir;
  StoreOptions options;
  options.maintenance_interval_ms = 0;
  auto store = Store::Open(dir.Join("store"), options);
  if (!store.ok()) {
    state.SkipWithError("cannot open the store");
    return;
  }
  LogConfigOverrides overrides;
  overrides.segment_bytes = 64 << 20;
  auto log = (*store)->OpenLog("read-0", overrides);
  if (!log.ok()) {
    state.SkipWithError("cannot open the log");
    return;
  }
  const std::string value(1024, 'v');
  std::vector<RecordView> records(10);
  for (RecordView& record : records) record.value = value;
  while ((*log)->size_bytes() < (uint64_t{256} << 20)) {
    (void)(*log)->Append(records);
  }
  const int64_t end = (*log)->end_offset();
  std::mt19937_64 random(1);
  std::vector<int64_t> targets(kTargets);
  for (int64_t& target : targets) target = random() % end;
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        (*log)->Read(targets[i++ & (kTargets - 1)], state.range(0)));
  }
  state.counters["records"] = static_cast<double>(end);
}

BENCHMARK(BM_SortedVectorLookup)->ArgName("tail")->Arg(kRandom)->Arg(kTail);
BENCHMARK(BM_OffsetIndexLookup)->ArgName("tail")->Arg(kRandom)->Arg(kTail);
BENCHMARK(BM_TimeIndexLookup)->ArgName("tail")->Arg(kRandom)->Arg(kTail);
BENCHMARK(BM_LogRead)->ArgName("max_bytes")->Arg(4096)->Arg(1 << 20);

}  // namespace
}  // namespace shiplog::bench

int main(int argc, char** argv) {
  shiplog::bench::RatioReporter reporter;
  reporter.Compare("BM_OffsetIndexLookup", "BM_SortedVectorLookup",
                   "real_time");
  return shiplog::bench::RunBenchmarks(argc, argv, reporter);
}
