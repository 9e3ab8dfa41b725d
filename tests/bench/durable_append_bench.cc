// Durable appends from 1 to 64 concurrent appenders, at one durability:
// every append is on stable storage when it is acknowledged.
//
// BM_DirectAppend: write.mode=direct, O_DIRECT from an aligned buffer with
// group commit (engine/log/DIRECT_IO.md). BM_BufferedAppend: write(2) into
// the page cache and flush.messages=1, whose fdatasync covers every append
// that landed while the previous one ran (the fair baseline: it groups
// too). BM_RawPwriteFdatasync: each appender pwrites the same batch bytes
// at a position it reserves and fdatasyncs them, nothing else: the floor of
// a durable write on this disk, without any grouping but the kernel's.
//
// An iteration starts `threads` appenders that make `appends` one-record
// appends each; its time is the wall time until the last one returns
// (manual time). Counters: items_per_second (acknowledged records/s),
// p50_us and p99_us (latency of one acknowledged append, all iterations),
// syncs_per_append (fdatasyncs plus durable direct writes, per append:
// how well appends share device writes). Machines here are shared: compare
// the modes within one run (the ratios printed at the end), not across
// runs.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/format/batch_builder.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/store/store.h"
#include "tests/bench/bench_dir.h"
#include "tests/bench/ratio_reporter.h"

namespace shiplog::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kSegmentBytes = 64 << 20;
constexpr uint64_t kRecycleBytes = 256 << 20;
// Appends per iteration, spread over the appenders (at least 16 each).
constexpr int kAppendsPerIteration = 256;

int AppendsPerThread(int threads) {
  return std::max(16, kAppendsPerIteration / threads);
}

std::string Value(int64_t bytes) {
  std::string value(static_cast<size_t>(bytes), '\0');
  for (size_t i = 0; i < value.size(); ++i) {
    value[i] = static_cast<char>('a' + i % 26);
  }
  return value;
}

// Latencies of acknowledged appends, and what the run costs in syncs.
class Samples {
 public:
  void Add(std::vector<double> micros) {
    latencies_.insert(latencies_.end(), micros.begin(), micros.end());
  }
  void Report(benchmark::State& state, uint64_t syncs) {
    if (latencies_.empty()) return;
    std::sort(latencies_.begin(), latencies_.end());
    auto at = [&](double q) {
      return latencies_[std::min(latencies_.size() - 1,
                                 static_cast<size_t>(q * latencies_.size()))];
    };
    state.counters["p50_us"] = at(0.50);
    state.counters["p99_us"] = at(0.99);
    state.counters["syncs_per_append"] =
        static_cast<double>(syncs) / static_cast<double>(latencies_.size());
    state.SetItemsProcessed(static_cast<int64_t>(latencies_.size()));
  }

 private:
  std::vector<double> latencies_;
};

// Runs `threads` appenders of `appends` calls of `append()` each; returns
// the wall time and adds every call's latency to `samples`.
template <typename AppendFn>
double RunAppenders(int threads, int appends, AppendFn append,
                    Samples& samples, std::atomic<bool>& failed) {
  std::vector<std::vector<double>> latencies(static_cast<size_t>(threads));
  std::vector<std::thread> appenders;
  const Clock::time_point start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    appenders.emplace_back([&, t] {
      std::vector<double>& mine = latencies[static_cast<size_t>(t)];
      mine.reserve(static_cast<size_t>(appends));
      for (int i = 0; i < appends && !failed.load(); ++i) {
        const Clock::time_point before = Clock::now();
        if (!append()) failed.store(true);
        mine.push_back(std::chrono::duration<double, std::micro>(
                           Clock::now() - before)
                           .count());
      }
    });
  }
  for (std::thread& appender : appenders) appender.join();
  const double seconds =
      std::chrono::duration<double>(Clock::now() - start).count();
  for (std::vector<double>& mine : latencies) samples.Add(std::move(mine));
  return seconds;
}

void RunLogAppends(benchmark::State& state, const LogConfigOverrides& mode) {
  const int threads = static_cast<int>(state.range(0));
  const std::string value = Value(state.range(1));
  BenchDir dir;
  StoreOptions options;
  options.maintenance_interval_ms = 0;
  absl::StatusOr<std::unique_ptr<Store>> store =
      Store::Open(dir.Join("store"), options);
  if (!store.ok()) {
    state.SkipWithError(std::string(store.status().message()).c_str());
    return;
  }
  LogConfigOverrides overrides = mode;
  overrides.segment_bytes = kSegmentBytes;
  overrides.retention_bytes = kRecycleBytes / 2;
  absl::StatusOr<std::shared_ptr<Log>> log =
      (*store)->OpenLog("bench-0", overrides);
  if (!log.ok()) {
    state.SkipWithError(std::string(log.status().message()).c_str());
    return;
  }
  RecordView record;
  record.value = value;
  Samples samples;
  std::atomic<bool> failed{false};
  const uint64_t syncs_before = GlobalMetrics().fsyncs.Value();
  for (auto _ : state) {
    const double seconds = RunAppenders(
        threads, AppendsPerThread(threads),
        [&] { return (*log)->Append({&record, 1}).ok(); }, samples, failed);
    state.SetIterationTime(seconds);
    if (failed.load()) {
      state.SkipWithError("an append failed");
      break;
    }
    if ((*log)->size_bytes() >= kRecycleBytes) (void)(*log)->EnforceRetention(0);
  }
  samples.Report(state, GlobalMetrics().fsyncs.Value() - syncs_before);
}

void BM_DirectAppend(benchmark::State& state) {
  LogConfigOverrides mode;
  mode.write_mode = WriteMode::kDirect;
  RunLogAppends(state, mode);
}

void BM_BufferedAppend(benchmark::State& state) {
  LogConfigOverrides mode;
  mode.write_mode = WriteMode::kBuffered;
  mode.flush_messages = 1;
  RunLogAppends(state, mode);
}

void BM_RawPwriteFdatasync(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const std::string value = Value(state.range(1));
  RecordView record;
  record.value = value;
  std::string batch;
  (void)AppendBatch({&record, 1}, {}, 1'700'000'000'000, &batch);
  BenchDir dir;
  const int fd = open(dir.Join("raw").c_str(),
                      O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    state.SkipWithError("open failed");
    return;
  }
  std::atomic<uint64_t> end{0};
  Samples samples;
  std::atomic<bool> failed{false};
  for (auto _ : state) {
    const double seconds = RunAppenders(
        threads, AppendsPerThread(threads),
        [&] {
          const uint64_t position = end.fetch_add(batch.size());
          return pwrite(fd, batch.data(), batch.size(),
                        static_cast<off_t>(position)) ==
                     static_cast<ssize_t>(batch.size()) &&
                 fdatasync(fd) == 0;
        },
        samples, failed);
    state.SetIterationTime(seconds);
    if (failed.load()) {
      state.SkipWithError("pwrite or fdatasync failed");
      break;
    }
    if (end.load() >= kRecycleBytes) {
      (void)ftruncate(fd, 0);
      end.store(0);
    }
  }
  close(fd);
  const int64_t appends = static_cast<int64_t>(state.iterations()) * threads *
                          AppendsPerThread(threads);
  samples.Report(state, static_cast<uint64_t>(appends));
}

// {appenders, record bytes}
void DurableArgs(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"threads", "record_bytes"});
  for (const int64_t record_bytes : {100, 1024}) {
    for (const int64_t threads : {1, 2, 4, 8, 16, 32, 64}) {
      bench->Args({threads, record_bytes});
    }
  }
  bench->UseManualTime()->Unit(benchmark::kMillisecond);
}

BENCHMARK(BM_RawPwriteFdatasync)->Apply(DurableArgs);
BENCHMARK(BM_BufferedAppend)->Apply(DurableArgs);
BENCHMARK(BM_DirectAppend)->Apply(DurableArgs);

}  // namespace
}  // namespace shiplog::bench

int main(int argc, char** argv) {
  shiplog::bench::RatioReporter reporter;
  reporter.Compare("BM_DirectAppend", "BM_BufferedAppend", "items_per_second");
  reporter.Compare("BM_DirectAppend", "BM_RawPwriteFdatasync",
                   "items_per_second");
  reporter.Compare("BM_BufferedAppend", "BM_RawPwriteFdatasync",
                   "items_per_second");
  return shiplog::bench::RunBenchmarks(argc, argv, reporter);
}
