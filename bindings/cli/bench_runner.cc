#include "bindings/cli/bench_runner.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bindings/cli/byte_size.h"
#include "bindings/cli/scoped_fd.h"
#include "engine/format/batch_builder.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/segment/slice.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"

namespace shiplog::cli {
namespace {

constexpr double kMegabyte = 1e6;
constexpr double kMebibyte = 1024.0 * 1024;
constexpr double kGibibyte = kMebibyte * 1024;
// The warming read goes this much at a time.
constexpr uint64_t kWarmReadBytes = uint64_t{1} << 20;
// The longest wait for the receiver to catch up: far more than a GiB takes
// even on a slow machine; reaching it means the receiver is stuck.
constexpr int64_t kReceiveTimeoutMs = 120'000;
constexpr absl::string_view kAppendLogName = "append-0";
constexpr absl::string_view kRawWriteFileName = "raw-write";

double MonotonicSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double Seconds(const timeval& time) {
  return static_cast<double>(time.tv_sec) + time.tv_usec / 1e6;
}

ThreadUsage ReadThreadUsage() {
  struct rusage usage = {};
  getrusage(RUSAGE_THREAD, &usage);  // cannot fail for RUSAGE_THREAD
  return ThreadUsage{.user_cpu_seconds = Seconds(usage.ru_utime),
                     .system_cpu_seconds = Seconds(usage.ru_stime),
                     .voluntary_switches = usage.ru_nvcsw,
                     .involuntary_switches = usage.ru_nivcsw};
}

SendPath PathOf(SendPolicy policy) {
  switch (policy) {
    case SendPolicy::kCopy:
      return SendPath::kCopy;
    case SendPolicy::kMmapWrite:
      return SendPath::kMmapWrite;
    case SendPolicy::kSendfile:
    case SendPolicy::kAuto:
      break;
  }
  return SendPath::kSendfile;
}

// The log's first `size_bytes` bytes: whole batches and, where the size
// falls inside a batch, that batch's first part. A consumer is never sent
// part of a batch; the bench is, so that a 4 KiB transfer moves 4 KiB
// although a batch here holds ~100 KiB: it measures what moving the bytes
// costs by each path, which framing does not change.
absl::StatusOr<LogRange> FirstBytes(const Log& log, uint64_t size_bytes) {
  LogRange range;
  range.next_offset = log.start_offset();
  while (range.size_bytes < size_bytes) {
    const uint64_t wanted = size_bytes - range.size_bytes;
    ASSIGN_OR_RETURN(Slice slice, log.Read(range.next_offset, wanted));
    if (slice.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("log ", log.name(), " holds only ", range.size_bytes,
                       " bytes, not ", size_bytes));
    }
    // A read returns at least one whole batch, which may be more.
    slice.size = static_cast<uint32_t>(std::min<uint64_t>(slice.size, wanted));
    range.size_bytes += slice.size;
    range.next_offset = slice.next_offset;
    range.slices.push_back(std::move(slice));
  }
  return range;
}

std::string ReadCpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (!absl::StartsWith(line, "model name")) continue;
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "unknown CPU";
}

}  // namespace

ThreadUsage ThreadUsage::operator-(const ThreadUsage& earlier) const {
  return ThreadUsage{
      .user_cpu_seconds = user_cpu_seconds - earlier.user_cpu_seconds,
      .system_cpu_seconds = system_cpu_seconds - earlier.system_cpu_seconds,
      .voluntary_switches = voluntary_switches - earlier.voluntary_switches,
      .involuntary_switches =
          involuntary_switches - earlier.involuntary_switches};
}

uint64_t TransferSample::total_bytes() const {
  return size_bytes * static_cast<uint64_t>(transfers);
}

double TransferSample::throughput_mb_per_s() const {
  return total_bytes() / kMegabyte / wall_seconds;
}

double TransferSample::cpu_seconds_per_gib() const {
  return (sender.user_cpu_seconds + sender.system_cpu_seconds) /
         (total_bytes() / kGibibyte);
}

double TransferSample::voluntary_switches_per_transfer() const {
  return static_cast<double>(sender.voluntary_switches) / transfers;
}

double TransferSample::involuntary_switches_per_transfer() const {
  return static_cast<double>(sender.involuntary_switches) / transfers;
}

double TransferSample::syscalls_per_mib() const {
  return static_cast<double>(syscalls) / (total_bytes() / kMebibyte);
}

MachineInfo ReadMachineInfo() {
  MachineInfo machine;
  cpu_set_t cpus;
  machine.cpus = sched_getaffinity(0, sizeof(cpus), &cpus) == 0
                     ? CPU_COUNT(&cpus)
                     : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  struct utsname name = {};
  machine.kernel =
      uname(&name) == 0
          ? absl::StrCat(name.sysname, " ", name.release, " ", name.machine)
          : "unknown kernel";
  machine.cpu_model = ReadCpuModel();
  return machine;
}

BenchRunner::BenchRunner(BenchConfig config, BenchProgress progress)
    : config_(std::move(config)),
      progress_(std::move(progress)),
      value_(kBenchValueBytes, 'v'),
      records_(kBenchRecordsPerBatch) {
  for (RecordView& record : records_) record.value = value_;
}

BenchRunner::~BenchRunner() = default;

absl::StatusOr<SetupReport> BenchRunner::Setup() {
  StoreOptions options;
  // No background thread: its flushes and checkpoints would be noise.
  options.maintenance_interval_ms = 0;
  ASSIGN_OR_RETURN(store_, Store::Open(config_.store_directory, options));
  ASSIGN_OR_RETURN(log_, store_->OpenLog(std::string(kBenchLogName)));
  SetupReport report;
  const uint64_t target = config_.sizes_bytes.back();
  const double write_start = MonotonicSeconds();
  uint64_t log_bytes = log_->size_bytes();
  while (log_bytes < target) {
    ASSIGN_OR_RETURN(const AppendResult appended, log_->Append(records_));
    report.written_bytes += appended.bytes;
    log_bytes += appended.bytes;
    progress_("writing the log", static_cast<int64_t>(log_bytes),
              static_cast<int64_t>(target));
  }
  // Flushed now, the log's pages cannot be written back mid-measurement.
  if (report.written_bytes > 0) {
    RETURN_IF_ERROR(log_->Flush());
  }
  report.write_seconds = MonotonicSeconds() - write_start;
  report.log_bytes = log_->size_bytes();

  const double warm_start = MonotonicSeconds();
  std::string bytes;
  int64_t offset = log_->start_offset();
  for (uint64_t read = 0; read < target;) {
    ASSIGN_OR_RETURN(const Slice slice, log_->Read(offset, kWarmReadBytes));
    if (slice.empty()) break;
    RETURN_IF_ERROR(ReadSliceBytes(slice, &bytes));
    read += slice.size;
    offset = slice.next_offset;
    progress_("reading the log once", static_cast<int64_t>(read),
              static_cast<int64_t>(target));
  }
  report.warm_seconds = MonotonicSeconds() - warm_start;

  ASSIGN_OR_RETURN(sink_, BenchSink::Open(config_.sink));
  ASSIGN_OR_RETURN(destination_, Destination::Inspect(sink_->fd()));
  return report;
}

absl::Status BenchRunner::SendRange(const LogRange& range, SendPolicy policy,
                                    int64_t transfers) {
  const SendOptions options{.policy = policy};
  for (int64_t i = 0; i < transfers; ++i) {
    // A cursor over the range resolved once, not SendLogRange: its index
    // lookup and descriptor checks, repeated per transfer, would be much of
    // a 4 KiB transfer's cost, and they are not the path being measured.
    LogSendCursor cursor(range, destination_, options);
    RETURN_IF_ERROR(cursor.Send().status());
    // The socket blocks, so one call ships the whole range or fails.
    if (!cursor.done()) {
      return absl::InternalError("the sink's socket took part of a range");
    }
    sent_bytes_ += range.size_bytes;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> BenchRunner::TransfersPerCell(const LogRange& range) {
  // Each path runs a few times here, which also pays its one-time costs
  // (for mmap_write, the page faults that fill the mapping's page table)
  // outside every measurement.
  const double probe_seconds = config_.min_cell_seconds / 8;
  double fastest_seconds = std::numeric_limits<double>::infinity();
  for (SendPolicy policy : kBenchPolicies) {
    for (int64_t transfers = 1;; transfers *= 2) {
      const double start = MonotonicSeconds();
      RETURN_IF_ERROR(SendRange(range, policy, transfers));
      RETURN_IF_ERROR(sink_->AwaitReceived(sent_bytes_, kReceiveTimeoutMs));
      const double elapsed = MonotonicSeconds() - start;
      if (elapsed >= probe_seconds) {
        fastest_seconds = std::min(fastest_seconds, elapsed / transfers);
        break;
      }
    }
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(
                                  config_.min_cell_seconds / fastest_seconds)));
}

absl::StatusOr<TransferSample> BenchRunner::MeasureCell(const LogRange& range,
                                                        SendPolicy policy,
                                                        int64_t transfers) {
  const EngineMetrics& metrics = GlobalMetrics();
  PerSendPath<uint64_t> syscalls_before;
  PerSendPath<uint64_t> bytes_before;
  for (SendPath path : kSendPaths) {
    syscalls_before[path] = metrics.send_syscalls[path].Value();
    bytes_before[path] = metrics.sent_bytes[path].Value();
  }
  const ThreadUsage usage_before = ReadThreadUsage();
  const double start = MonotonicSeconds();
  RETURN_IF_ERROR(SendRange(range, policy, transfers));
  const ThreadUsage usage_after = ReadThreadUsage();
  RETURN_IF_ERROR(sink_->AwaitReceived(sent_bytes_, kReceiveTimeoutMs));
  const double end = MonotonicSeconds();

  TransferSample sample;
  sample.size_bytes = range.size_bytes;
  sample.policy = policy;
  sample.transfers = transfers;
  sample.wall_seconds = end - start;
  sample.sender = usage_after - usage_before;
  for (SendPath path : kSendPaths) {
    // Every path's calls: a refused sendfile counts there, its copy here.
    sample.syscalls +=
        metrics.send_syscalls[path].Value() - syscalls_before[path];
    if (path != PathOf(policy)) {
      sample.other_path_bytes +=
          metrics.sent_bytes[path].Value() - bytes_before[path];
    }
  }
  return sample;
}

absl::StatusOr<std::vector<TransferSample>> BenchRunner::MeasureTransfers() {
  std::vector<TransferSample> samples;
  const int64_t cells = static_cast<int64_t>(config_.sizes_bytes.size()) *
                        config_.repetitions *
                        static_cast<int64_t>(kBenchPolicies.size());
  for (uint64_t size : config_.sizes_bytes) {
    ASSIGN_OR_RETURN(const LogRange range, FirstBytes(*log_, size));
    progress_(absl::StrCat(FormatByteSize(size), ": calibrating"),
              static_cast<int64_t>(samples.size()), cells);
    ASSIGN_OR_RETURN(const int64_t transfers, TransfersPerCell(range));
    for (int repetition = 0; repetition < config_.repetitions; ++repetition) {
      for (size_t turn = 0; turn < kBenchPolicies.size(); ++turn) {
        const SendPolicy policy =
            kBenchPolicies[(turn + repetition) % kBenchPolicies.size()];
        progress_(absl::StrCat(FormatByteSize(size), " ",
                               SendPolicyName(policy), ", repetition ",
                               repetition + 1, "/", config_.repetitions),
                  static_cast<int64_t>(samples.size()), cells);
        ASSIGN_OR_RETURN(TransferSample sample,
                         MeasureCell(range, policy, transfers));
        sample.repetition = repetition;
        sample.turn = static_cast<int>(turn);
        samples.push_back(sample);
      }
    }
  }
  return samples;
}

absl::StatusOr<double> BenchRunner::TimeAppends(uint64_t bytes) {
  // Created before the clock starts: the measure is appending, not the
  // new segment's files.
  ASSIGN_OR_RETURN(const std::shared_ptr<Log> log,
                   store_->OpenLog(std::string(kAppendLogName)));
  const double start = MonotonicSeconds();
  for (uint64_t appended = 0; appended < bytes;) {
    ASSIGN_OR_RETURN(const AppendResult result, log->Append(records_));
    appended += result.bytes;
  }
  const double seconds = MonotonicSeconds() - start;
  RETURN_IF_ERROR(store_->DeleteLog(std::string(kAppendLogName)));
  return seconds;
}

absl::StatusOr<double> BenchRunner::TimeWrites(const std::string& batch,
                                               uint64_t bytes) {
  const std::string path =
      absl::StrCat(config_.store_directory, "/", kRawWriteFileName);
  ScopedFd file(
      open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644));
  if (!file.valid()) return shiplog::ErrnoToStatus(errno, path);
  const double start = MonotonicSeconds();
  for (uint64_t written = 0; written < bytes;) {
    for (size_t done = 0; done < batch.size();) {
      const ssize_t n =
          write(file.get(), batch.data() + done, batch.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return shiplog::ErrnoToStatus(errno, path);
      done += static_cast<size_t>(n);
    }
    written += batch.size();
  }
  const double seconds = MonotonicSeconds() - start;
  file.Reset();
  if (unlink(path.c_str()) != 0) return shiplog::ErrnoToStatus(errno, path);
  return seconds;
}

absl::StatusOr<std::vector<AppendSample>> BenchRunner::MeasureAppends() {
  // The bytes Log::Append writes for the same records: one batch, encoded
  // once, written again and again.
  std::string batch;
  RETURN_IF_ERROR(AppendBatch(records_, {}, /*now_ms=*/0, &batch));
  const uint64_t batches =
      (config_.append_bytes + batch.size() - 1) / batch.size();
  const uint64_t bytes = batches * batch.size();
  std::vector<AppendSample> samples;
  for (int repetition = 0; repetition < config_.repetitions; ++repetition) {
    progress_("Log::Append against write(2)", repetition, config_.repetitions);
    AppendSample sample{.repetition = repetition, .bytes = bytes};
    if (repetition % 2 == 0) {
      ASSIGN_OR_RETURN(sample.append_seconds, TimeAppends(bytes));
      ASSIGN_OR_RETURN(sample.write_seconds, TimeWrites(batch, bytes));
    } else {
      ASSIGN_OR_RETURN(sample.write_seconds, TimeWrites(batch, bytes));
      ASSIGN_OR_RETURN(sample.append_seconds, TimeAppends(bytes));
    }
    samples.push_back(sample);
  }
  return samples;
}

absl::Status BenchRunner::Close() {
  sink_.reset();
  if (store_ == nullptr) return absl::OkStatus();
  return store_->Close();
}

}  // namespace shiplog::cli
