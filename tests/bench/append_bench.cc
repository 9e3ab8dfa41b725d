// Append throughput against raw write(2) of the same bytes.
//
// BM_AppendRecords encodes records into a batch and appends it (the log
// assigns offsets, updates the indexes, publishes the end);
// BM_AppendBatches appends an already-encoded producer batch (validated:
// CRC and every record, offsets assigned in place); BM_RawWrite writes the
// very same batch bytes to a file with write(2) and nothing else. All
// three keep their files bounded (retention / truncation outside the
// timed region), so they measure the page-cache path, not disk space.
#include <fcntl.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/format/batch_builder.h"
#include "engine/store/store.h"
#include "tests/bench/bench_dir.h"
#include "tests/bench/ratio_reporter.h"

namespace shiplog::bench {
namespace {

constexpr int64_t kSegmentBytes = 64 << 20;
constexpr uint64_t kRecycleBytes = 256 << 20;

std::vector<std::string> MakeValues(int64_t value_bytes, int64_t count) {
  std::mt19937 random(42);
  std::vector<std::string> values(count, std::string(value_bytes, '\0'));
  for (std::string& value : values) {
    for (char& c : value) c = static_cast<char>('a' + random() % 26);
  }
  return values;
}

std::vector<RecordView> Views(const std::vector<std::string>& values) {
  std::vector<RecordView> records(values.size());
  for (size_t i = 0; i < values.size(); ++i) records[i].value = values[i];
  return records;
}

std::string EncodeOnce(const std::vector<RecordView>& records) {
  std::string batch;
  (void)AppendBatch(records, {}, 1'700'000'000'000, &batch);
  return batch;
}

// A log in a scratch store, sized so retention can keep it bounded.
struct BenchLog {
  BenchDir dir;
  std::unique_ptr<Store> store;
  std::shared_ptr<Log> log;

  bool Open(benchmark::State& state) {
    StoreOptions options;
    options.maintenance_interval_ms = 0;
    absl::StatusOr<std::unique_ptr<Store>> opened =
        Store::Open(dir.Join("store"), options);
    if (!opened.ok()) {
      state.SkipWithError(std::string(opened.status().message()).c_str());
      return false;
    }
    store = *std::move(opened);
    LogConfigOverrides overrides;
    overrides.segment_bytes = kSegmentBytes;
    overrides.retention_bytes = kRecycleBytes / 2;
    absl::StatusOr<std::shared_ptr<Log>> log_or =
        store->OpenLog("bench-0", overrides);
    if (!log_or.ok()) {
      state.SkipWithError(std::string(log_or.status().message()).c_str());
      return false;
    }
    log = *std::move(log_or);
    return true;
  }

  void KeepBounded(benchmark::State& state) {
    if (log->size_bytes() < kRecycleBytes) return;
    state.PauseTiming();
    (void)log->EnforceRetention(0);
    state.ResumeTiming();
  }
};

void SetCounters(benchmark::State& state, uint64_t bytes, int64_t records) {
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(records);
}

// Times `append()` (one batch per call) on a scratch log kept bounded.
template <typename AppendFn>
void RunAppends(benchmark::State& state, AppendFn append) {
  BenchLog bench;
  if (!bench.Open(state)) return;
  uint64_t bytes = 0;
  for (auto _ : state) {
    absl::StatusOr<AppendResult> appended = append(*bench.log);
    if (!appended.ok()) {
      state.SkipWithError(std::string(appended.status().message()).c_str());
      break;
    }
    bytes += appended->bytes;
    bench.KeepBounded(state);
  }
  SetCounters(state, bytes, state.iterations() * state.range(1));
}

void BM_AppendRecords(benchmark::State& state) {
  const std::vector<std::string> values =
      MakeValues(state.range(0), state.range(1));
  const std::vector<RecordView> records = Views(values);
  RunAppends(state, [&](Log& log) { return log.Append(records); });
}

void BM_AppendBatches(benchmark::State& state) {
  const std::vector<std::string> values =
      MakeValues(state.range(0), state.range(1));
  std::string batch = EncodeOnce(Views(values));
  RunAppends(state, [&](Log& log) {
    return log.AppendBatches(absl::MakeSpan(batch));
  });
}

void BM_RawWrite(benchmark::State& state) {
  const std::vector<std::string> values =
      MakeValues(state.range(0), state.range(1));
  const std::string batch = EncodeOnce(Views(values));
  BenchDir dir;
  const int fd = open(dir.Join("raw").c_str(),
                      O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) {
    state.SkipWithError("open failed");
    return;
  }
  uint64_t bytes = 0;
  uint64_t in_file = 0;
  for (auto _ : state) {
    size_t done = 0;
    while (done < batch.size()) {
      const ssize_t n = write(fd, batch.data() + done, batch.size() - done);
      if (n < 0) {
        state.SkipWithError("write failed");
        break;
      }
      done += static_cast<size_t>(n);
    }
    bytes += batch.size();
    in_file += batch.size();
    if (in_file >= kRecycleBytes) {
      state.PauseTiming();
      (void)ftruncate(fd, 0);
      (void)lseek(fd, 0, SEEK_SET);
      in_file = 0;
      state.ResumeTiming();
    }
  }
  close(fd);
  SetCounters(state, bytes, state.iterations() * state.range(1));
}

// {record bytes, records per batch}
void AppendArgs(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"record_bytes", "batch_records"});
  for (const auto& args : std::vector<std::vector<int64_t>>{
           {100, 10}, {100, 100}, {100, 1000}, {1024, 10}, {1024, 100}}) {
    bench->Args(args);
  }
}

BENCHMARK(BM_RawWrite)->Apply(AppendArgs);
BENCHMARK(BM_AppendRecords)->Apply(AppendArgs);
BENCHMARK(BM_AppendBatches)->Apply(AppendArgs);

}  // namespace
}  // namespace shiplog::bench

int main(int argc, char** argv) {
  shiplog::bench::RatioReporter reporter;
  reporter.Compare("BM_AppendRecords", "BM_RawWrite", "bytes_per_second");
  reporter.Compare("BM_AppendBatches", "BM_RawWrite", "bytes_per_second");
  return shiplog::bench::RunBenchmarks(argc, argv, reporter);
}
