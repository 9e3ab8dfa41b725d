// Shipping a 64 MiB range of a log to a loopback TCP receiver, by each send
// policy, against the same bytes moved by raw sendfile(2) and by the
// traditional pread(2) + write(2) loop, in the same run.
//
// Besides throughput, each reports the sending thread's CPU seconds per
// GiB (getrusage RUSAGE_THREAD: user + system, so the kernel's copies
// count), the article's measure of what a copy costs.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/segment/segment.h"
#include "engine/store/store.h"
#include "engine/transport/log_sender.h"
#include "tests/bench/bench_dir.h"
#include "tests/bench/ratio_reporter.h"
#include "tests/bench/socket_sink.h"

namespace shiplog::bench {
namespace {

constexpr uint64_t kRangeBytes = uint64_t{64} << 20;
constexpr double kGiB = 1024.0 * 1024 * 1024;

// One log of a little more than the range, shared by every benchmark.
struct SharedLog {
  BenchDir dir;
  std::unique_ptr<Store> store;
  std::shared_ptr<Log> log;
  LogRange range;  // [0, kRangeBytes) of it: the bytes every path ships
};

SharedLog& TheLog() {
  static SharedLog* shared = [] {
    auto* built = new SharedLog;
    StoreOptions options;
    options.maintenance_interval_ms = 0;
    built->store = *Store::Open(built->dir.Join("store"), options);
    built->log = *built->store->OpenLog("bench-0");
    const std::string value(1024, 'v');
    std::vector<RecordView> records(100);
    for (RecordView& record : records) record.value = value;
    while (built->log->size_bytes() < kRangeBytes + (1 << 20)) {
      (void)built->log->Append(records);
    }
    built->range = *ResolveLogRange(*built->log, 0, kRangeBytes);
    return built;
  }();
  return *shared;
}

// Runs `ship()` (which moves kRangeBytes to the sink) per iteration and
// reports throughput and CPU per GiB.
template <typename Ship>
void Measure(benchmark::State& state, Ship ship) {
  SharedLog& shared = TheLog();
  SocketSink sink(static_cast<int>(state.range(0)));
  const double cpu_before = ThreadCpuSeconds();
  uint64_t bytes = 0;
  for (auto _ : state) {
    if (!ship(shared, sink.fd())) {
      state.SkipWithError("send failed");
      return;
    }
    bytes += shared.range.size_bytes;
  }
  const double cpu = ThreadCpuSeconds() - cpu_before;
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["cpu_s_per_GiB"] = cpu / (static_cast<double>(bytes) / kGiB);
}

void BM_Send(benchmark::State& state, SendPolicy policy) {
  SendOptions options;
  options.policy = policy;
  Measure(state, [&](SharedLog& shared, int fd) {
    return SendLogRange(*shared.log, 0, kRangeBytes, fd, options).ok();
  });
}

// The baseline of the zero-copy path: sendfile over the same file ranges,
// with nothing of shiplog's around it.
void BM_RawSendfile(benchmark::State& state) {
  Measure(state, [](SharedLog& shared, int fd) {
    for (const Slice& slice : shared.range.slices) {
      const std::shared_ptr<const File> file = *slice.segment->LogFile();
      off_t offset = slice.position;
      uint64_t left = slice.size;
      while (left > 0) {
        const ssize_t n = sendfile(fd, file->fd(), &offset, left);
        if (n <= 0) return false;
        left -= static_cast<uint64_t>(n);
      }
    }
    return true;
  });
}

// The traditional path: read into a user buffer, write it out.
void BM_RawReadWrite(benchmark::State& state) {
  std::vector<char> buffer(256 << 10);
  Measure(state, [&](SharedLog& shared, int fd) {
    for (const Slice& slice : shared.range.slices) {
      const std::shared_ptr<const File> file = *slice.segment->LogFile();
      for (uint64_t done = 0; done < slice.size;) {
        const size_t want =
            std::min<uint64_t>(buffer.size(), slice.size - done);
        const ssize_t got =
            pread(file->fd(), buffer.data(), want, slice.position + done);
        if (got <= 0) return false;
        for (ssize_t written = 0; written < got;) {
          const ssize_t n = write(fd, buffer.data() + written, got - written);
          if (n <= 0) return false;
          written += n;
        }
        done += static_cast<uint64_t>(got);
      }
    }
    return true;
  });
}

// Arg: the sink, 0 loopback TCP, 1 AF_UNIX socket pair.
void Sinks(benchmark::internal::Benchmark* bench) {
  bench->ArgName("unix")->Arg(kTcpLoopback)->Arg(kUnixSocketPair);
  bench->UseRealTime();
}

BENCHMARK(BM_RawSendfile)->Apply(Sinks);
BENCHMARK(BM_RawReadWrite)->Apply(Sinks);
BENCHMARK_CAPTURE(BM_Send, sendfile, SendPolicy::kSendfile)->Apply(Sinks);
BENCHMARK_CAPTURE(BM_Send, mmap_write, SendPolicy::kMmapWrite)->Apply(Sinks);
BENCHMARK_CAPTURE(BM_Send, copy, SendPolicy::kCopy)->Apply(Sinks);
BENCHMARK_CAPTURE(BM_Send, auto, SendPolicy::kAuto) -> Apply(Sinks);

}  // namespace
}  // namespace shiplog::bench

int main(int argc, char** argv) {
  shiplog::bench::RatioReporter reporter;
  reporter.Compare("BM_Send/sendfile", "BM_RawSendfile", "bytes_per_second");
  reporter.Compare("BM_Send/auto", "BM_RawSendfile", "bytes_per_second");
  reporter.Compare("BM_Send/copy", "BM_RawReadWrite", "bytes_per_second");
  reporter.Compare("BM_Send/sendfile", "BM_RawReadWrite", "cpu_s_per_GiB");
  reporter.Compare("BM_RawSendfile", "BM_RawReadWrite", "cpu_s_per_GiB");
  reporter.Compare("BM_Send/mmap_write", "BM_RawReadWrite", "cpu_s_per_GiB");
  return shiplog::bench::RunBenchmarks(argc, argv, reporter);
}
