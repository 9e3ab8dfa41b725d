// ProcessStats: what this process costs its machine, measured by the
// process itself: CPU time, context switches, resident memory, file
// descriptors and memory maps against their limits, and time blocked on
// disk I/O.
//
// These are the monitoring items of a zero-copy log server that a library
// can see without outside help. Descriptors and maps matter most: every
// segment holds three open files and an index mapping, so a store with many
// logs runs into RLIMIT_NOFILE or vm.max_map_count long before it runs out
// of memory, and fails opaquely (EMFILE, ENOMEM from mmap) when it does.
//
// Thread-safety: ReadProcessStats may be called from any thread; it reads
// the kernel's view and keeps no state.
#ifndef SHIPLOG_ENGINE_METRICS_PROCESS_STATS_H_
#define SHIPLOG_ENGINE_METRICS_PROCESS_STATS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace shiplog {

// A warning is raised when a resource reaches this share of its limit.
inline constexpr int kResourceWarningPercent = 80;

// A field read from /proc is absent when its file is missing or unreadable
// (no procfs, a sandbox); the getrusage fields are always present.
struct ProcessStats {
  double user_cpu_seconds = 0;
  double system_cpu_seconds = 0;
  int64_t voluntary_context_switches = 0;    // blocked: waited for I/O, locks
  int64_t involuntary_context_switches = 0;  // preempted by the scheduler
  std::optional<int64_t> resident_memory_bytes;
  // Not counting the descriptor used to count them.
  std::optional<int64_t> open_fds;
  std::optional<int64_t> max_fds;  // RLIMIT_NOFILE's soft limit; absent if
                                   // unlimited
  std::optional<int64_t> memory_maps;
  std::optional<int64_t> max_memory_maps;  // vm.max_map_count
  // Time the process waited for block I/O (delay accounting). Absent when
  // the kernel's delay accounting is off (kernel.task_delayacct = 0, the
  // default since Linux 5.14), where the kernel reports a constant 0.
  std::optional<double> io_wait_seconds;
  // One sentence per resource at or above kResourceWarningPercent of its
  // limit, naming the limit to raise.
  std::vector<std::string> warnings;
};

// Reads this process's stats from the kernel. Returns DataLossError naming
// the file when a /proc file is present but does not parse, and an errno
// status when a system call or a read fails.
absl::StatusOr<ProcessStats> ReadProcessStats();

// The same, with procfs read from `proc_root` instead of /proc, so tests can
// hand it missing or malformed files.
absl::StatusOr<ProcessStats> ReadProcessStatsFrom(const std::string& proc_root);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_METRICS_PROCESS_STATS_H_
