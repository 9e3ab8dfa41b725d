// A full scan of a log whose pages are not in the page cache (a consumer
// far behind), shipped to an AF_UNIX receiver: by direct reads (O_DIRECT +
// libaio into pool buffers, TRANSPORT.md "Cold reads") against the buffered
// paths, sendfile and copy, over the same bytes in the same run.
//
// Before every iteration each segment file is written back and dropped
// from the page cache (fdatasync + posix_fadvise DONTNEED), so the
// buffered numbers are cold-cache numbers too. Besides throughput and the
// sending thread's CPU per GiB, each reports `resident_pct`: how much of
// the log the page cache holds after the scan (mincore), the pollution a
// cold reader leaves for the hot tail to compete with.
//
// SHIPLOG_COLD_SCAN_MIB sets the log's size (default 256 MiB, in 64 MiB
// segments; the hot tail is a quarter of it).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/io/aio_reader.h"
#include "engine/segment/segment.h"
#include "engine/store/store.h"
#include "engine/transport/log_sender.h"
#include "tests/bench/bench_dir.h"
#include "tests/bench/ratio_reporter.h"
#include "tests/bench/socket_sink.h"

namespace shiplog::bench {
namespace {

constexpr double kGiB = 1024.0 * 1024 * 1024;

// SHIPLOG_COLD_SCAN_MIB: the cold log's size (default 256); the hot tail
// is a quarter of it.
uint64_t ColdLogBytes() {
  const char* mib = std::getenv("SHIPLOG_COLD_SCAN_MIB");
  const uint64_t value = mib != nullptr ? std::strtoull(mib, nullptr, 10) : 0;
  return (value > 0 ? value : 256) << 20;
}

struct BenchLog {
  std::shared_ptr<Log> log;
  std::vector<std::string> segment_paths;
};

// Appends 100 KiB batches to a new log of 64 MiB segments until it holds
// `bytes`, and flushes it.
BenchLog BuildLog(Store& store, const std::string& name, uint64_t bytes) {
  LogConfigOverrides overrides;
  overrides.segment_bytes = int64_t{64} << 20;
  BenchLog built{*store.OpenLog(name, overrides), {}};
  const std::string value(1024, 'v');
  std::vector<RecordView> records(100);
  for (RecordView& record : records) record.value = value;
  while (built.log->size_bytes() < bytes) (void)built.log->Append(records);
  (void)built.log->Flush();
  for (int64_t base : built.log->segment_base_offsets()) {
    built.segment_paths.push_back(
        (*built.log->Read(base, 1)).segment->log_path());
  }
  return built;
}

// A cold log, scanned whole by a consumer far behind, and a hot one, the
// tail caught-up consumers are served from.
struct SharedLogs {
  BenchDir dir;
  std::unique_ptr<Store> store;
  BenchLog cold;
  BenchLog hot;
};

SharedLogs& TheLogs() {
  static SharedLogs* shared = [] {
    auto* built = new SharedLogs;
    StoreOptions options;
    options.maintenance_interval_ms = 0;
    built->store = *Store::Open(built->dir.Join("store"), options);
    built->cold = BuildLog(*built->store, "cold-0", ColdLogBytes());
    built->hot = BuildLog(*built->store, "hot-0", ColdLogBytes() / 4);
    return built;
  }();
  return *shared;
}

// Writes each segment back and drops it from the page cache.
void Evict(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
  }
}

// The share of the files' pages in the page cache (mincore).
double ResidentFraction(const std::vector<std::string>& paths) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  size_t resident = 0;
  size_t total = 0;
  for (const std::string& path : paths) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size == 0) {
      if (fd >= 0) close(fd);
      continue;
    }
    const size_t size = static_cast<size_t>(st.st_size);
    std::vector<unsigned char> in_core((size + page - 1) / page);
    void* mapped = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (mapped != MAP_FAILED && mincore(mapped, size, in_core.data()) == 0) {
      for (unsigned char state : in_core) resident += state & 1;
      total += in_core.size();
    }
    if (mapped != MAP_FAILED) munmap(mapped, size);
    close(fd);
  }
  return total == 0 ? 0 : static_cast<double>(resident) / total;
}

// Reads each file whole through the page cache, twice: the pages of a
// tail that consumers keep reading, on the kernel's active list.
void MakeHot(const std::vector<std::string>& paths) {
  std::vector<char> buffer(1 << 20);
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::string& path : paths) {
      const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      while (read(fd, buffer.data(), buffer.size()) > 0) {
      }
      close(fd);
    }
  }
}

// One whole-log send to `sink`, its sending thread's CPU added to `*cpu`.
absl::StatusOr<SendResult> SendWhole(const Log& log, int sink,
                                     const SendOptions& options, double* cpu) {
  const double cpu_before = ThreadCpuSeconds();
  absl::StatusOr<SendResult> sent =
      SendLogRange(log, 0, UINT64_MAX, sink, options);
  *cpu += ThreadCpuSeconds() - cpu_before;
  return sent;
}

// The options of a scan by direct reads of `pool` (every slice is cold),
// or through the page cache by `policy`.
SendOptions ScanOptions(bool direct, SendPolicy policy,
                        std::shared_ptr<AlignedBufferPool> pool) {
  SendOptions options;
  options.policy = policy;
  if (direct) {
    options.cold_read_lag_bytes = 1;
    options.direct_read_pool = std::move(pool);
  }
  return options;
}

// Scans the cold log once per iteration from a cold page cache.
void Scan(benchmark::State& state, const SendOptions& options) {
  SharedLogs& shared = TheLogs();
  SocketSink sink(kUnixSocketPair);
  double cpu = 0;
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Evict(shared.cold.segment_paths);
    state.ResumeTiming();
    const absl::StatusOr<SendResult> sent =
        SendWhole(*shared.cold.log, sink.fd(), options, &cpu);
    if (!sent.ok()) {
      state.SkipWithError(std::string(sent.status().message()).c_str());
      return;
    }
    bytes += sent->bytes_sent;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["cpu_s_per_GiB"] = cpu / (static_cast<double>(bytes) / kGiB);
  state.counters["resident_pct"] =
      100 * ResidentFraction(shared.cold.segment_paths);
}

void BM_ColdScan(benchmark::State& state, SendPolicy policy, bool direct) {
  Scan(state, ScanOptions(direct, policy, TheLogs().store->direct_read_pool()));
}

// Direct reads with other buffer sizes and read-ahead depths: args are
// buffer KiB and reads in flight (the store's pool: 1 MiB, 4 deep).
void BM_ColdScanDirectTuned(benchmark::State& state) {
  const size_t buffer_bytes = static_cast<size_t>(state.range(0)) << 10;
  const size_t depth = static_cast<size_t>(state.range(1));
  SendOptions options = ScanOptions(
      true, SendPolicy::kSendfile,
      *AlignedBufferPool::Create(buffer_bytes, depth + 1));
  options.direct_read_depth = depth;
  Scan(state, options);
}

// A consumer far behind fetching the cold log in fetch-sized pieces, as a
// Kafka consumer does (max.partition.fetch.bytes, 1 MiB by default): one
// send per fetch, each resolved and sent on its own, so what a send costs
// besides its bytes (for direct reads: a descriptor and an AIO context per
// slice) counts once per fetch. Arg: the fetch size in KiB.
void BM_ColdFetches(benchmark::State& state, SendPolicy policy, bool direct) {
  SharedLogs& shared = TheLogs();
  const SendOptions options = ScanOptions(direct, policy,
                                          shared.store->direct_read_pool());
  const uint64_t fetch_bytes = static_cast<uint64_t>(state.range(0)) << 10;
  SocketSink sink(kUnixSocketPair);
  double cpu = 0;
  uint64_t bytes = 0;
  uint64_t fetches = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Evict(shared.cold.segment_paths);
    state.ResumeTiming();
    int64_t next = 0;
    while (next < shared.cold.log->end_offset()) {
      const double cpu_before = ThreadCpuSeconds();
      const absl::StatusOr<SendResult> sent = SendLogRange(
          *shared.cold.log, next, fetch_bytes, sink.fd(), options);
      cpu += ThreadCpuSeconds() - cpu_before;
      if (!sent.ok() || sent->next_offset <= next) {
        state.SkipWithError("fetch failed");
        return;
      }
      next = sent->next_offset;
      bytes += sent->bytes_sent;
      ++fetches;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["fetches_per_s"] = benchmark::Counter(
      static_cast<double>(fetches), benchmark::Counter::kIsRate);
  state.counters["cpu_s_per_GiB"] = cpu / (static_cast<double>(bytes) / kGiB);
}

// What a cold scan does to the hot tail: before each iteration the tail
// is made hot and the cold log evicted; after the timed scan, the tail's
// residency (hot_resident_pct) and the throughput of a caught-up consumer
// sending the whole tail by sendfile (hot_MBps, from the cache or, where
// the scan evicted it, the disk). Without memory pressure nothing is
// evicted either way; run inside a memory limit to see the difference
// (tests/bench/cold_read_pressure.sh).
void BM_HotTailAfterColdScan(benchmark::State& state, bool direct) {
  SharedLogs& shared = TheLogs();
  const SendOptions scan = ScanOptions(direct, SendPolicy::kSendfile,
                                       shared.store->direct_read_pool());
  SendOptions tail_options;
  tail_options.policy = SendPolicy::kSendfile;
  SocketSink sink(kUnixSocketPair);
  double cpu = 0;
  double resident = 0;
  double tail_seconds = 0;
  uint64_t bytes = 0;
  uint64_t tail_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Evict(shared.cold.segment_paths);
    MakeHot(shared.hot.segment_paths);
    state.ResumeTiming();
    const absl::StatusOr<SendResult> sent =
        SendWhole(*shared.cold.log, sink.fd(), scan, &cpu);
    state.PauseTiming();
    resident += ResidentFraction(shared.hot.segment_paths);
    const auto start = std::chrono::steady_clock::now();
    double tail_cpu = 0;
    const absl::StatusOr<SendResult> tail =
        SendWhole(*shared.hot.log, sink.fd(), tail_options, &tail_cpu);
    tail_seconds += std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    state.ResumeTiming();
    if (!sent.ok() || !tail.ok()) {
      state.SkipWithError("send failed");
      return;
    }
    bytes += sent->bytes_sent;
    tail_bytes += tail->bytes_sent;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["hot_resident_pct"] =
      100 * resident / static_cast<double>(state.iterations());
  state.counters["hot_MBps"] = static_cast<double>(tail_bytes) / 1e6 /
                               std::max(tail_seconds, 1e-9);
}

// The disk alone: the cold log's segments read by an AioReader into the
// store's pool and dropped, no socket.
void BM_DirectReadOnly(benchmark::State& state) {
  SharedLogs& shared = TheLogs();
  AioReaderOptions options;
  options.pool = shared.store->direct_read_pool();
  uint64_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Evict(shared.cold.segment_paths);
    state.ResumeTiming();
    for (int64_t base : shared.cold.log->segment_base_offsets()) {
      const Slice slice = *shared.cold.log->Read(base, UINT64_MAX);
      auto reader = *AioReader::Open(
          *slice.segment->OpenLogFileForDirectRead(), slice.position,
          slice.size, options);
      while (!reader->done()) {
        absl::StatusOr<AioReader::Chunk> chunk = reader->Next();
        if (!chunk.ok()) {
          state.SkipWithError("direct read failed");
          return;
        }
        bytes += chunk->bytes.size();
      }
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

BENCHMARK(BM_DirectReadOnly)->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdScan, direct_read, SendPolicy::kSendfile, true)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdScan, sendfile, SendPolicy::kSendfile, false)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdScan, copy, SendPolicy::kCopy, false)->UseRealTime();
BENCHMARK(BM_ColdScanDirectTuned)
    ->ArgNames({"buffer_kib", "depth"})
    ->Args({256, 4})
    ->Args({1024, 8})
    ->Args({4096, 4})
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdFetches, direct_read, SendPolicy::kSendfile, true)
    ->ArgName("fetch_kib")
    ->Arg(1024)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ColdFetches, sendfile, SendPolicy::kSendfile, false)
    ->ArgName("fetch_kib")
    ->Arg(1024)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_HotTailAfterColdScan, direct_read, true)->UseRealTime();
BENCHMARK_CAPTURE(BM_HotTailAfterColdScan, sendfile, false)->UseRealTime();

}  // namespace
}  // namespace shiplog::bench

int main(int argc, char** argv) {
  shiplog::bench::RatioReporter reporter;
  reporter.Compare("BM_ColdScan/direct_read", "BM_ColdScan/sendfile",
                   "bytes_per_second");
  reporter.Compare("BM_ColdScan/direct_read", "BM_ColdScan/copy",
                   "bytes_per_second");
  reporter.Compare("BM_ColdScan/direct_read", "BM_ColdScan/sendfile",
                   "cpu_s_per_GiB");
  reporter.Compare("BM_HotTailAfterColdScan/direct_read",
                   "BM_HotTailAfterColdScan/sendfile", "hot_MBps");
  return shiplog::bench::RunBenchmarks(argc, argv, reporter);
}
