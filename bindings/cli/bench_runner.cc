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
#include <iterator>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "bindings/cli/byte_size.h"
#include "bindings/cli/errno_error.h"
#include "bindings/cli/scoped_fd.h"
#include "bindings/cli/send_names.h"
#include "bindings/cli/status_macros.h"

namespace shiplog::cli {
namespace {

constexpr double kMegabyte = 1e6;
constexpr double kMebibyte = 1024.0 * 1024;
constexpr double kGibibyte = kMebibyte * 1024;
// The warming read goes this much at a time.
constexpr uint64_t kWarmReadBytes = uint64_t{1} << 20;
// The warming read touches one byte per page.
constexpr size_t kPageBytes = 4096;
// The longest wait for the receiver to catch up: far more than a GiB takes
// even on a slow machine; reaching it means the receiver is stuck.
constexpr int64_t kReceiveTimeoutMs = 120'000;
// The records' values before ShapeRecords fits them to a batch.
constexpr size_t kProbeValueBytes = 1024;
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

shiplog_send_path PathOf(shiplog_send_policy policy) {
  switch (policy) {
    case SHIPLOG_SEND_COPY:
      return SHIPLOG_PATH_COPY;
    case SHIPLOG_SEND_MMAP_WRITE:
      return SHIPLOG_PATH_MMAP_WRITE;
    case SHIPLOG_SEND_SENDFILE:
    case SHIPLOG_SEND_AUTO:
      break;
  }
  return SHIPLOG_PATH_SENDFILE;
}

absl::StatusOr<shiplog_slice_info> SliceInfo(const shiplog_slice* slice) {
  shiplog_slice_info info;
  RETURN_IF_ERROR(AbiStatus(shiplog_slice_info_get(&info, slice)));
  return info;
}

// Appends `records` as one batch; returns its size in bytes.
absl::StatusOr<uint64_t> AppendBatch(shiplog_log* log,
                                     const std::vector<shiplog_record>& records,
                                     int64_t* base_offset = nullptr) {
  shiplog_append_result appended;
  RETURN_IF_ERROR(AbiStatus(shiplog_log_append(&appended, log, records.data(),
                                               records.size(), nullptr)));
  if (base_offset != nullptr) *base_offset = appended.base_offset;
  return appended.bytes;
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
    : config_(std::move(config)), progress_(std::move(progress)) {}

BenchRunner::~BenchRunner() = default;

absl::Status BenchRunner::ShapeRecords() {
  // The scratch log is created before the first append and deleted after
  // the last; the bench's own log is not touched.
  ASSIGN_OR_RETURN(Owned<shiplog_log> scratch,
                   Open(shiplog_log_open, store_.get(),
                        std::string(kAppendLogName).c_str(), nullptr));
  values_.assign(kBenchRecordsPerBatch, std::string(kProbeValueBytes, 'v'));
  const auto build_records = [this] {
    records_.clear();
    for (const std::string& value : values_) {
      shiplog_record record = {};
      record.timestamp_ms = SHIPLOG_NO_TIMESTAMP;  // one clock read a batch
      record.value = value.data();
      record.value_len = value.size();
      records_.push_back(record);
    }
  };
  build_records();
  // What framing (the batch header, each record's varints) adds is the
  // same for any values from 64 bytes to nearly 8 KiB: the values take the
  // rest of a batch.
  ASSIGN_OR_RETURN(const uint64_t probe_bytes,
                   AppendBatch(scratch.get(), records_));
  const uint64_t framing_bytes =
      probe_bytes - kBenchRecordsPerBatch * kProbeValueBytes;
  const uint64_t value_total = kBenchBatchBytes - framing_bytes;
  for (size_t i = 0; i < values_.size(); ++i) {
    values_[i].resize(value_total / kBenchRecordsPerBatch +
                      (i < value_total % kBenchRecordsPerBatch ? 1 : 0));
  }
  build_records();
  int64_t base_offset = 0;
  ASSIGN_OR_RETURN(const uint64_t batch_size,
                   AppendBatch(scratch.get(), records_, &base_offset));
  if (batch_size != kBenchBatchBytes) {
    return absl::InternalError(absl::StrCat("the bench's batch encodes to ",
                                            batch_size, " bytes, not ",
                                            kBenchBatchBytes));
  }
  // That batch's bytes, as the library wrote them, for the write(2)
  // baseline.
  ASSIGN_OR_RETURN(
      const Owned<shiplog_slice> slice,
      Open(shiplog_log_read, scratch.get(), base_offset, kBenchBatchBytes));
  ASSIGN_OR_RETURN(const Owned<shiplog_view> view,
                   Open(shiplog_view_open, slice.get()));
  const void* data = nullptr;
  size_t size = 0;
  RETURN_IF_ERROR(AbiStatus(shiplog_view_data(&data, &size, view.get())));
  batch_bytes_.assign(static_cast<const char*>(data), size);
  scratch.reset();
  return AbiStatus(shiplog_store_delete_log(
      store_.get(), std::string(kAppendLogName).c_str()));
}

absl::Status BenchRunner::WriteLog(SetupReport& report) {
  const uint64_t target = config_.sizes_bytes.back();
  const double write_start = MonotonicSeconds();
  uint64_t log_bytes = 0;
  uint64_t segments = 0;
  RETURN_IF_ERROR(
      AbiStatus(shiplog_log_size(&log_bytes, &segments, log_.get())));
  while (log_bytes < target) {
    ASSIGN_OR_RETURN(const uint64_t appended,
                     AppendBatch(log_.get(), records_));
    report.written_bytes += appended;
    log_bytes += appended;
    progress_("writing the log", static_cast<int64_t>(log_bytes),
              static_cast<int64_t>(target));
  }
  // Flushed now, the log's pages cannot be written back mid-measurement.
  if (report.written_bytes > 0) {
    RETURN_IF_ERROR(AbiStatus(shiplog_log_flush(log_.get())));
  }
  report.write_seconds = MonotonicSeconds() - write_start;
  return AbiStatus(shiplog_log_size(&report.log_bytes, &segments, log_.get()));
}

absl::Status BenchRunner::WarmPageCache() {
  const uint64_t target = config_.sizes_bytes.back();
  int64_t offset = start_offset_;
  // Faulting the pages in through a view reads them into the page cache.
  volatile char touched = 0;
  for (uint64_t read = 0; read < target;) {
    ASSIGN_OR_RETURN(
        const Owned<shiplog_slice> slice,
        Open(shiplog_log_read, log_.get(), offset, kWarmReadBytes));
    ASSIGN_OR_RETURN(const shiplog_slice_info info, SliceInfo(slice.get()));
    if (info.size == 0) break;
    ASSIGN_OR_RETURN(const Owned<shiplog_view> view,
                     Open(shiplog_view_open, slice.get()));
    const void* data = nullptr;
    size_t size = 0;
    RETURN_IF_ERROR(AbiStatus(shiplog_view_data(&data, &size, view.get())));
    const char* bytes = static_cast<const char*>(data);
    for (size_t i = 0; i < size; i += kPageBytes) touched = bytes[i];
    read += info.size;
    offset = info.next_offset;
    progress_("reading the log once", static_cast<int64_t>(read),
              static_cast<int64_t>(target));
  }
  (void)touched;
  return absl::OkStatus();
}

// The library sends whole batches, never part of one: of the sizes of the
// whole batches from the log's start, the one nearest `size_bytes` (at
// least one batch).
absl::StatusOr<uint64_t> BenchRunner::WholeBatchBytes(
    uint64_t size_bytes) const {
  uint64_t whole = 0;
  int64_t offset = start_offset_;
  while (whole < size_bytes) {
    // At most what is left, or else the one batch that is larger.
    ASSIGN_OR_RETURN(
        const Owned<shiplog_slice> slice,
        Open(shiplog_log_read, log_.get(), offset, size_bytes - whole));
    ASSIGN_OR_RETURN(const shiplog_slice_info info, SliceInfo(slice.get()));
    if (info.size == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("log ", kBenchLogName, " holds only ", whole,
                       " bytes, not ", size_bytes));
    }
    if (whole + info.size > size_bytes) {
      const bool nearer_with_it =
          whole + info.size - size_bytes < size_bytes - whole;
      if (whole == 0 || nearer_with_it) whole += info.size;
      break;
    }
    whole += info.size;
    offset = info.next_offset;
  }
  return whole;
}

absl::StatusOr<SetupReport> BenchRunner::Setup() {
  // No background thread: its flushes and checkpoints would be noise.
  ASSIGN_OR_RETURN(store_, OpenStore(config_.store_directory,
                                     /*read_only=*/false,
                                     /*maintenance=*/false));
  RETURN_IF_ERROR(ShapeRecords());
  ASSIGN_OR_RETURN(log_, Open(shiplog_log_open, store_.get(),
                              std::string(kBenchLogName).c_str(), nullptr));
  RETURN_IF_ERROR(
      AbiStatus(shiplog_log_start_offset(&start_offset_, log_.get())));
  SetupReport report;
  report.value_bytes = values_.front().size();
  RETURN_IF_ERROR(WriteLog(report));

  const double warm_start = MonotonicSeconds();
  RETURN_IF_ERROR(WarmPageCache());
  report.warm_seconds = MonotonicSeconds() - warm_start;

  for (uint64_t size : config_.sizes_bytes) {
    ASSIGN_OR_RETURN(const uint64_t whole, WholeBatchBytes(size));
    sizes_.push_back({size, whole});
  }
  report.sizes = sizes_;
  ASSIGN_OR_RETURN(sink_, BenchSink::Open(config_.sink));
  RETURN_IF_ERROR(AbiStatus(
      shiplog_send_auto_threshold(&report.auto_threshold_bytes, sink_->fd())));
  return report;
}

absl::StatusOr<BenchRunner::Senders> BenchRunner::OpenSenders(
    uint64_t size_bytes, shiplog_send_policy policy, int64_t transfers) const {
  shiplog_send_options options = SHIPLOG_SEND_OPTIONS_INIT;
  options.policy = policy;
  Senders senders;
  for (int64_t i = 0; i < transfers; ++i) {
    ASSIGN_OR_RETURN(Owned<shiplog_sender> sender,
                     Open(shiplog_sender_open, log_.get(), start_offset_,
                          size_bytes, sink_->fd(), &options));
    uint64_t range_bytes = 0;
    RETURN_IF_ERROR(AbiStatus(shiplog_sender_size(&range_bytes, sender.get())));
    if (range_bytes != size_bytes) {
      return absl::InternalError(absl::StrCat("a range of ", size_bytes,
                                              " bytes of whole batches "
                                              "resolved to ",
                                              range_bytes, " bytes"));
    }
    senders.push_back(std::move(sender));
  }
  return senders;
}

absl::Status BenchRunner::SendAll(const Senders& senders, uint64_t size_bytes) {
  for (const Owned<shiplog_sender>& sender : senders) {
    const int status = shiplog_sender_send(nullptr, sender.get());
    // The socket blocks, so one call ships the whole range or fails.
    if (status == SHIPLOG_EAGAIN) {
      return absl::InternalError("the sink's socket took part of a range");
    }
    RETURN_IF_ERROR(AbiStatus(status));
    sent_bytes_ += size_bytes;
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> BenchRunner::TransfersPerCell(uint64_t size_bytes) {
  // Each path runs a few times here, which also pays its one-time costs
  // (for mmap_write, the page faults that fill the mapping's page table)
  // outside every measurement.
  const double probe_seconds = config_.min_cell_seconds / 8;
  double fastest_seconds = std::numeric_limits<double>::infinity();
  for (shiplog_send_policy policy : kBenchPolicies) {
    for (int64_t transfers = 1;; transfers *= 2) {
      ASSIGN_OR_RETURN(const Senders senders,
                       OpenSenders(size_bytes, policy, transfers));
      const double start = MonotonicSeconds();
      RETURN_IF_ERROR(SendAll(senders, size_bytes));
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

absl::StatusOr<TransferSample> BenchRunner::MeasureCell(
    uint64_t size_bytes, shiplog_send_policy policy, int64_t transfers) {
  ASSIGN_OR_RETURN(const Senders senders,
                   OpenSenders(size_bytes, policy, transfers));
  ASSIGN_OR_RETURN(const shiplog_metrics_values before, ReadCounters());
  const ThreadUsage usage_before = ReadThreadUsage();
  const double start = MonotonicSeconds();
  RETURN_IF_ERROR(SendAll(senders, size_bytes));
  const ThreadUsage usage_after = ReadThreadUsage();
  RETURN_IF_ERROR(sink_->AwaitReceived(sent_bytes_, kReceiveTimeoutMs));
  const double end = MonotonicSeconds();
  ASSIGN_OR_RETURN(const shiplog_metrics_values after, ReadCounters());

  TransferSample sample;
  sample.size_bytes = size_bytes;
  sample.policy = policy;
  sample.transfers = transfers;
  sample.wall_seconds = end - start;
  sample.sender = usage_after - usage_before;
  for (size_t path = 0; path < std::size(after.send_syscalls); ++path) {
    // Every path's calls: a refused sendfile counts there, its copy here.
    sample.syscalls += after.send_syscalls[path] - before.send_syscalls[path];
    if (path != static_cast<size_t>(PathOf(policy))) {
      sample.other_path_bytes +=
          after.sent_bytes[path] - before.sent_bytes[path];
    }
  }
  return sample;
}

absl::StatusOr<std::vector<TransferSample>> BenchRunner::MeasureTransfers() {
  // Requested sizes may come to the same whole batches: each is measured
  // once.
  std::vector<uint64_t> sizes;
  for (const TransferSize& size : sizes_) {
    if (sizes.empty() || sizes.back() != size.whole_batch_bytes) {
      sizes.push_back(size.whole_batch_bytes);
    }
  }
  std::vector<TransferSample> samples;
  const int64_t cells = static_cast<int64_t>(sizes.size()) *
                        config_.repetitions *
                        static_cast<int64_t>(kBenchPolicies.size());
  for (uint64_t size : sizes) {
    progress_(absl::StrCat(FormatByteSize(size), ": calibrating"),
              static_cast<int64_t>(samples.size()), cells);
    ASSIGN_OR_RETURN(const int64_t transfers, TransfersPerCell(size));
    for (int repetition = 0; repetition < config_.repetitions; ++repetition) {
      for (size_t turn = 0; turn < kBenchPolicies.size(); ++turn) {
        const shiplog_send_policy policy =
            kBenchPolicies[(turn + repetition) % kBenchPolicies.size()];
        progress_(absl::StrCat(FormatByteSize(size), " ",
                               SendPolicyName(policy), ", repetition ",
                               repetition + 1, "/", config_.repetitions),
                  static_cast<int64_t>(samples.size()), cells);
        ASSIGN_OR_RETURN(TransferSample sample,
                         MeasureCell(size, policy, transfers));
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
  ASSIGN_OR_RETURN(Owned<shiplog_log> log,
                   Open(shiplog_log_open, store_.get(),
                        std::string(kAppendLogName).c_str(), nullptr));
  const double start = MonotonicSeconds();
  for (uint64_t appended = 0; appended < bytes;) {
    ASSIGN_OR_RETURN(const uint64_t batch, AppendBatch(log.get(), records_));
    appended += batch;
  }
  const double seconds = MonotonicSeconds() - start;
  log.reset();
  RETURN_IF_ERROR(AbiStatus(shiplog_store_delete_log(
      store_.get(), std::string(kAppendLogName).c_str())));
  return seconds;
}

absl::StatusOr<double> BenchRunner::TimeWrites(uint64_t bytes) {
  const std::string path =
      absl::StrCat(config_.store_directory, "/", kRawWriteFileName);
  ScopedFd file(
      open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644));
  if (!file.valid()) return ErrnoError(errno, path);
  const double start = MonotonicSeconds();
  for (uint64_t written = 0; written < bytes;) {
    for (size_t done = 0; done < batch_bytes_.size();) {
      const ssize_t n = write(file.get(), batch_bytes_.data() + done,
                              batch_bytes_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError(errno, path);
      done += static_cast<size_t>(n);
    }
    written += batch_bytes_.size();
  }
  const double seconds = MonotonicSeconds() - start;
  file.Reset();
  if (unlink(path.c_str()) != 0) return ErrnoError(errno, path);
  return seconds;
}

absl::StatusOr<std::vector<AppendSample>> BenchRunner::MeasureAppends() {
  // The bytes shiplog_log_append writes for the same records: one batch,
  // encoded once (ShapeRecords), written again and again.
  const uint64_t batch_size = batch_bytes_.size();
  const uint64_t batches = (config_.append_bytes + batch_size - 1) / batch_size;
  const uint64_t bytes = batches * batch_size;
  std::vector<AppendSample> samples;
  for (int repetition = 0; repetition < config_.repetitions; ++repetition) {
    progress_("Log::Append against write(2)", repetition, config_.repetitions);
    AppendSample sample{.repetition = repetition, .bytes = bytes};
    if (repetition % 2 == 0) {
      ASSIGN_OR_RETURN(sample.append_seconds, TimeAppends(bytes));
      ASSIGN_OR_RETURN(sample.write_seconds, TimeWrites(bytes));
    } else {
      ASSIGN_OR_RETURN(sample.write_seconds, TimeWrites(bytes));
      ASSIGN_OR_RETURN(sample.append_seconds, TimeAppends(bytes));
    }
    samples.push_back(sample);
  }
  return samples;
}

absl::Status BenchRunner::Close() {
  sink_.reset();
  log_.reset();
  if (store_ == nullptr) return absl::OkStatus();
  const absl::Status closed = AbiStatus(shiplog_store_close(store_.get()));
  store_.reset();
  return closed;
}

}  // namespace shiplog::cli
