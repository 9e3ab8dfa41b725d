// BenchRunner: the measurements behind `shiplog bench`, the article's
// comparison of the traditional copy path with mmap + write and sendfile,
// run live on this machine.
//
// The same log range goes to a loopback receiver (BenchSink) by each path
// in turn: the whole batches from the log's start nearest to each size (the
// library ships whole batches, never part of one). The bench writes its
// log in batches of exactly kBenchBatchBytes, so that the standard sizes
// (4 KiB times powers of 4) are whole batches exactly. A cell is one (size,
// path, repetition): it sends the range `transfers` times back to back, as many
// as make the fastest path last at least BenchConfig::min_cell_seconds, so a 4
// KiB transfer is not lost in the clock's resolution, and reports the totals.
// Within a repetition the paths alternate, in an order rotated every
// repetition, so drift in the machine (other load, frequency) spreads over all
// paths rather than biasing one.
//
// Each cell measures, for the sending thread only (getrusage
// RUSAGE_THREAD; the receiver is another thread): user and system CPU
// time, voluntary and involuntary context switches, and the send system
// calls the library counted (shiplog_metrics_values.send_syscalls). Wall
// time runs until the receiver has every byte. A cell's resumable senders
// (shiplog_sender_open: the range's index lookups, the socket's
// inspection) are made before its clock starts: what is timed is the
// sending itself.
//
// Thread-safety: not thread-safe; one thread drives a runner, and is the
// thread measured.
#ifndef SHIPLOG_BINDINGS_CLI_BENCH_RUNNER_H_
#define SHIPLOG_BINDINGS_CLI_BENCH_RUNNER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/bench_sink.h"
#include "shiplog.h"

namespace shiplog::cli {

// The paths compared, in the order of the first repetition: the article's
// traditional path, then the two it recommends.
inline constexpr std::array<shiplog_send_policy, 3> kBenchPolicies = {
    SHIPLOG_SEND_COPY, SHIPLOG_SEND_MMAP_WRITE, SHIPLOG_SEND_SENDFILE};

// The log the bench writes and ships: batches of exactly 4 KiB, each of
// four records whose values (about 1000 bytes) fill it.
inline constexpr uint64_t kBenchBatchBytes = 4096;
inline constexpr size_t kBenchRecordsPerBatch = 4;
inline constexpr absl::string_view kBenchLogName = "bench-0";

struct BenchConfig {
  std::string store_directory;        // created if missing
  std::vector<uint64_t> sizes_bytes;  // requested: ascending, non-empty
  int repetitions = 5;
  SinkKind sink = SinkKind::kTcpLoopback;
  double min_cell_seconds = 0.02;
  // Bytes appended (and written) per repetition of the append comparison.
  uint64_t append_bytes = uint64_t{64} << 20;
};

// The machine the numbers come from, for every report.
struct MachineInfo {
  int cpus = 0;           // as nproc counts them: usable by this process
  std::string kernel;     // "Linux 6.1.0-18-amd64 x86_64"
  std::string cpu_model;  // /proc/cpuinfo's first "model name"
};
MachineInfo ReadMachineInfo();

// A transfer size asked for, and what is measured for it: the size of the
// whole batches from the log's start that comes nearest (at least one).
struct TransferSize {
  uint64_t requested_bytes = 0;
  uint64_t whole_batch_bytes = 0;
};

struct SetupReport {
  uint64_t log_bytes = 0;           // the log's size when measuring starts
  uint64_t written_bytes = 0;       // what this run appended (0: reused --dir)
  double write_seconds = 0;         // appends and the fdatasync after them
  double warm_seconds = 0;          // the read that warmed the page cache
  uint64_t value_bytes = 0;         // of each record this run appends (about)
  std::vector<TransferSize> sizes;  // per BenchConfig::sizes_bytes
  // Where the AUTO policy switches from mmap_write to sendfile for the
  // sink's socket (shiplog_send_auto_threshold); UINT64_MAX: never.
  uint64_t auto_threshold_bytes = 0;
};

// What getrusage(RUSAGE_THREAD) counts for one thread: a reading, or the
// difference of two.
struct ThreadUsage {
  double user_cpu_seconds = 0;
  double system_cpu_seconds = 0;
  int64_t voluntary_switches = 0;    // blocked: a full socket, a lock
  int64_t involuntary_switches = 0;  // preempted by the scheduler

  ThreadUsage operator-(const ThreadUsage& earlier) const;
};

// One cell's totals.
struct TransferSample {
  uint64_t size_bytes = 0;  // bytes per transfer: whole batches
  shiplog_send_policy policy = SHIPLOG_SEND_COPY;
  int repetition = 0;
  int turn = 0;  // 0, 1, 2: when in its repetition this path ran
  int64_t transfers = 0;
  double wall_seconds = 0;
  ThreadUsage sender;  // the sending thread's, during the sends
  uint64_t syscalls = 0;
  // Bytes the transport moved by another path than the policy's (a
  // sendfile refused and copied instead): 0 unless something is off.
  uint64_t other_path_bytes = 0;

  uint64_t total_bytes() const;
  double throughput_mb_per_s() const;  // MB = 10^6 bytes
  double cpu_seconds_per_gib() const;
  double voluntary_switches_per_transfer() const;
  double involuntary_switches_per_transfer() const;
  double syscalls_per_mib() const;
};

// One repetition of shiplog_log_append (the engine's Log::Append) against
// write(2) of the same batch bytes.
struct AppendSample {
  int repetition = 0;
  uint64_t bytes = 0;  // each side moved this much
  double append_seconds = 0;
  double write_seconds = 0;
};

// Called as a phase advances: `done` of `total` steps.
using BenchProgress =
    std::function<void(absl::string_view phase, int64_t done, int64_t total)>;

class BenchRunner {
 public:
  BenchRunner(BenchConfig config, BenchProgress progress);
  ~BenchRunner();

  // Opens (or creates) the store, sizes the records so that a batch of
  // them is kBenchBatchBytes, appends to the log until it holds the
  // largest size, fdatasyncs it (so writeback cannot run during the
  // measurements), reads it once so the page cache is warm, and finds the
  // whole batches nearest each size.
  absl::StatusOr<SetupReport> Setup();

  // Every cell, sizes ascending; repetitions and paths as described above.
  absl::StatusOr<std::vector<TransferSample>> MeasureTransfers();

  // Appends BenchConfig::append_bytes of records to a fresh log, and
  // write(2)s the same encoded batches to a plain file, per repetition,
  // alternating which goes first. Only the page cache is involved: no
  // fdatasync on either side.
  absl::StatusOr<std::vector<AppendSample>> MeasureAppends();

  // Closes the store (clean shutdown).
  absl::Status Close();

 private:
  using Senders = std::vector<Owned<shiplog_sender>>;

  absl::Status ShapeRecords();
  absl::Status WriteLog(SetupReport& report);
  absl::Status WarmPageCache();
  absl::StatusOr<uint64_t> WholeBatchBytes(uint64_t size_bytes) const;
  absl::StatusOr<Senders> OpenSenders(uint64_t size_bytes,
                                      shiplog_send_policy policy,
                                      int64_t transfers) const;
  absl::Status SendAll(const Senders& senders, uint64_t size_bytes);
  absl::StatusOr<int64_t> TransfersPerCell(uint64_t size_bytes);
  absl::StatusOr<TransferSample> MeasureCell(uint64_t size_bytes,
                                             shiplog_send_policy policy,
                                             int64_t transfers);
  absl::StatusOr<double> TimeAppends(uint64_t bytes);
  absl::StatusOr<double> TimeWrites(uint64_t bytes);

  const BenchConfig config_;
  const BenchProgress progress_;
  Owned<shiplog_store> store_;
  Owned<shiplog_log> log_;
  int64_t start_offset_ = 0;  // where every transfer starts
  std::vector<TransferSize> sizes_;
  std::unique_ptr<BenchSink> sink_;
  uint64_t sent_bytes_ = 0;  // into the sink, since it opened
  // One batch's records, their values, and the batch as the library
  // encodes them (for the write(2) baseline).
  std::vector<std::string> values_;
  std::vector<shiplog_record> records_;
  std::string batch_bytes_;
};

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_BENCH_RUNNER_H_
