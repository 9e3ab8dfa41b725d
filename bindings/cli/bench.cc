// `shiplog bench`: the article's comparison of the traditional copy path,
// mmap + write and sendfile, run live on this machine (bench_runner.h) and
// reported as a table, JSON or CSV (bench_report.h).
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/bench_report.h"
#include "bindings/cli/bench_runner.h"
#include "bindings/cli/byte_size.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/errno_error.h"
#include "bindings/cli/progress_bar.h"
#include "bindings/cli/status_macros.h"
#include "bindings/cli/stdout_buffer.h"

namespace shiplog::cli {
namespace {

// 4 KiB to 1 GiB, each four times the one before.
constexpr uint64_t kSmallestSizeBytes = uint64_t{4} << 10;
constexpr uint64_t kLargestSizeBytes = uint64_t{1} << 30;
constexpr int kDefaultRepetitions = 5;
constexpr int64_t kMaxRepetitions = 1000;

struct BenchOptions {
  std::optional<std::string> directory;
  uint64_t max_size_bytes = kLargestSizeBytes;
  int repetitions = kDefaultRepetitions;
  SinkKind sink = SinkKind::kTcpLoopback;
  bool json = false;
  std::optional<std::string> csv_path;
};

absl::StatusOr<BenchOptions> ParseOptions(const ParsedFlags& flags) {
  BenchOptions options;
  options.directory = flags.GetString("dir");
  ASSIGN_OR_RETURN(const std::optional<uint64_t> size,
                   flags.GetByteCount("size", kSmallestSizeBytes));
  options.max_size_bytes = size.value_or(kLargestSizeBytes);
  ASSIGN_OR_RETURN(const std::optional<int64_t> repetitions,
                   flags.GetInt("repetitions", 1));
  if (repetitions && *repetitions > kMaxRepetitions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--repetitions: at most ", kMaxRepetitions, ", got ", *repetitions));
  }
  options.repetitions =
      static_cast<int>(repetitions.value_or(kDefaultRepetitions));
  ASSIGN_OR_RETURN(const std::optional<std::string> sink,
                   flags.GetChoice("sink", {"tcp", "unix"}));
  if (sink == "unix") options.sink = SinkKind::kUnixSocketPair;
  options.json = flags.Has("json");
  options.csv_path = flags.GetString("csv");
  return options;
}

// The standard sizes up to `max_size_bytes`, and that size itself when it
// is not one of them.
std::vector<uint64_t> BenchSizes(uint64_t max_size_bytes) {
  std::vector<uint64_t> sizes;
  for (uint64_t size = kSmallestSizeBytes;
       size <= std::min(max_size_bytes, kLargestSizeBytes); size *= 4) {
    sizes.push_back(size);
  }
  if (sizes.back() != max_size_bytes) sizes.push_back(max_size_bytes);
  return sizes;
}

// A temporary directory, removed with its contents when this goes away.
class ScratchDirectory {
 public:
  ScratchDirectory() = default;
  ~ScratchDirectory() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

  absl::Status Create() {
    const char* base = std::getenv("TMPDIR");
    std::string name = absl::StrCat(base != nullptr && *base ? base : "/tmp",
                                    "/shiplog-bench-XXXXXX");
    if (mkdtemp(name.data()) == nullptr) {
      return ErrnoError(errno, name);
    }
    path_ = name;
    return absl::OkStatus();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

absl::Status WriteTextFile(const std::string& path, const std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return ErrnoError(errno, path);
  const bool written =
      std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int write_errno = errno;
  if (std::fclose(file) != 0 || !written) {
    return ErrnoError(written ? errno : write_errno, path);
  }
  return absl::OkStatus();
}

absl::Status Measure(BenchRunner& runner, BenchResults& results) {
  ASSIGN_OR_RETURN(results.setup, runner.Setup());
  ASSIGN_OR_RETURN(results.transfers, runner.MeasureTransfers());
  ASSIGN_OR_RETURN(results.appends, runner.MeasureAppends());
  return absl::OkStatus();
}

absl::Status Bench(const BenchOptions& options) {
  ScratchDirectory scratch;
  std::string store_directory;
  if (options.directory) {
    store_directory = *options.directory;
  } else {
    RETURN_IF_ERROR(scratch.Create());
    store_directory = absl::StrCat(scratch.path(), "/store");
  }
  BenchResults results;
  results.machine = ReadMachineInfo();
  results.config.store_directory = store_directory;
  results.config.sizes_bytes = BenchSizes(options.max_size_bytes);
  results.config.repetitions = options.repetitions;
  results.config.sink = options.sink;
  ProgressBar progress;
  BenchRunner runner(results.config, [&progress](absl::string_view phase,
                                                 int64_t done, int64_t total) {
    progress.Update(phase, done, total);
  });
  const absl::Status measured = Measure(runner, results);
  progress.Clear();
  const absl::Status closed = runner.Close();
  RETURN_IF_ERROR(measured);
  RETURN_IF_ERROR(closed);
  if (options.csv_path) {
    RETURN_IF_ERROR(WriteTextFile(*options.csv_path, FormatBenchCsv(results)));
  }
  StdoutBuffer out;
  *out.buffer() =
      options.json ? FormatBenchJson(results) : FormatBenchTable(results);
  return out.Flush();
}

}  // namespace

const CommandSpec& BenchSpec() {
  static const CommandSpec* spec = new CommandSpec{
      .name = "bench",
      .positionals = {},
      .summary = "measure copy vs mmap_write vs sendfile on this machine",
      .description =
          "The article's comparison, run live. Ships the same log range, "
          "the first SIZE\nbytes, to a loopback receiver (a thread of this "
          "process) by the traditional\npath (copy: pread into a buffer, "
          "then write), by mmap + write (mmap_write) and\nby sendfile, for "
          "SIZE from 4 KiB to --size, four times larger each step.\nReports "
          "throughput, and for the sending thread alone: CPU seconds per "
          "GiB,\ncontext switches per transfer and send system calls per "
          "MiB. Each row is the\nmedian (min..max) of the repetitions, the "
          "paths alternating within each; a\nsmall transfer is repeated "
          "until the cell lasts 20 ms. Then compares Log::Append\n(through "
          "shiplog_log_append) with write(2) of the same batch bytes, and "
          "ends\nwith the crossover: the smallest size from which sendfile "
          "beats mmap_write,\nwhich is where the auto policy's threshold "
          "belongs; then the threshold the\nlibrary uses for the sink "
          "(shiplog_send_auto_threshold).\n\n"
          "The library sends whole batches, never part of one: each SIZE is "
          "measured as\nthe whole batches nearest to it. The log (4 KiB "
          "batches of 4 records, so every\nsize from 4 KiB up by powers of 4 "
          "is exact) is written to the store in --dir\n(kept, and reused by "
          "the next run) or in a temporary directory (removed at\nexit), "
          "fdatasync'd, and read once so the page cache is warm. The default "
          "run\nneeds 1 GiB of disk and that much free memory for the page "
          "cache.\n",
      .flags = {
          {"size", "BYTES",
           "largest transfer, e.g. 64MiB or 1G (default 1GiB, at least 4KiB)"},
          {"repetitions", "N", "repetitions per size and path (default 5)"},
          {"sink", "tcp|unix",
           "receiver: TCP over 127.0.0.1 (default) or an AF_UNIX socket "
           "pair"},
          {"dir", "D", "keep the store in D (default: a temporary directory)"},
          {"json", "", "print one JSON document instead of the table"},
          {"csv", "FILE",
           "also write one CSV row per size, path and repetition to FILE"},
      }};
  return *spec;
}

int RunBench(const ParsedFlags& flags) {
  return RunCommand("bench", ParseOptions(flags), Bench);
}

}  // namespace shiplog::cli
