// The /proc files are read with plain system calls, not through Env: they
// are the kernel's view of this process, not stored data, and metrics is a
// leaf library that io and everything above it count into.
#include "engine/metrics/process_stats.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

// /proc/<pid>/stat: field 42 (counting from 1) is delayacct_blkio_ticks.
// Fields from the third on follow the last ')', which closes field 2 (the
// command name, which may itself hold spaces and parentheses).
constexpr size_t kStatFieldsBeforeState = 2;
constexpr size_t kStatBlkioTicksField = 42;

// An open(2) or opendir(3) failure that means "this kernel or sandbox does
// not offer the file", not "something broke".
bool IsUnavailable(int error_number) {
  return error_number == ENOENT || error_number == EACCES ||
         error_number == EPERM;
}

// One division of whole microseconds, so the result is the double nearest
// the exact value and prints without rounding noise.
double Seconds(const timeval& time) {
  return static_cast<double>(int64_t{time.tv_sec} * 1'000'000 + time.tv_usec) /
         1e6;
}

// The whole of a small file, or nullopt if it is unavailable. /proc files
// report a size of 0, so this reads until end of file.
absl::StatusOr<std::optional<std::string>> ReadWholeFile(
    const std::string& path) {
  int fd;
  do {
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    if (IsUnavailable(errno)) return std::nullopt;
    return ErrnoToStatus(errno, absl::StrCat("open ", path));
  }
  std::string contents;
  char buffer[4096];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error_number = errno;
      close(fd);
      return ErrnoToStatus(error_number, absl::StrCat("read ", path));
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return contents;
}

absl::Status Malformed(const std::string& path, absl::string_view why) {
  return absl::DataLossError(absl::StrCat(path, ": ", why));
}

absl::StatusOr<int64_t> ParseInt64(const std::string& path,
                                   absl::string_view text) {
  int64_t value;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &value)) {
    return Malformed(path, absl::StrCat("not an integer: '", text, "'"));
  }
  return value;
}

std::vector<absl::string_view> Fields(absl::string_view text) {
  return absl::StrSplit(text, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
}

// The file's `index`-th whitespace-separated field (from 0) as an integer.
absl::StatusOr<std::optional<int64_t>> ReadIntegerField(const std::string& path,
                                                        size_t index) {
  ASSIGN_OR_RETURN(std::optional<std::string> contents, ReadWholeFile(path));
  if (!contents.has_value()) return std::nullopt;
  const std::vector<absl::string_view> fields = Fields(*contents);
  if (fields.size() <= index) {
    return Malformed(path, absl::StrCat("has ", fields.size(),
                                        " fields, expected more than ", index));
  }
  return ParseInt64(path, fields[index]);
}

absl::StatusOr<std::optional<int64_t>> ReadResidentBytes(
    const std::string& proc_root) {
  // statm: size resident shared text lib data dt, in pages.
  ASSIGN_OR_RETURN(std::optional<int64_t> pages,
                   ReadIntegerField(proc_root + "/self/statm", 1));
  if (!pages.has_value()) return std::nullopt;
  return *pages * sysconf(_SC_PAGESIZE);
}

absl::StatusOr<std::optional<int64_t>> CountOpenFds(
    const std::string& proc_root) {
  const std::string path = proc_root + "/self/fd";
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    if (IsUnavailable(errno)) return std::nullopt;
    return ErrnoToStatus(errno, absl::StrCat("opendir ", path));
  }
  const std::string own_fd = absl::StrCat(dirfd(dir));
  int64_t count = 0;
  errno = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.' && own_fd != entry->d_name) ++count;
  }
  const int error_number = errno;
  closedir(dir);
  if (error_number != 0) {
    return ErrnoToStatus(error_number, absl::StrCat("readdir ", path));
  }
  return count;
}

absl::StatusOr<std::optional<int64_t>> CountMemoryMaps(
    const std::string& proc_root) {
  ASSIGN_OR_RETURN(std::optional<std::string> maps,
                   ReadWholeFile(proc_root + "/self/maps"));
  if (!maps.has_value()) return std::nullopt;
  return static_cast<int64_t>(std::count(maps->begin(), maps->end(), '\n'));
}

absl::StatusOr<std::optional<double>> ReadIoWaitSeconds(
    const std::string& proc_root) {
  ASSIGN_OR_RETURN(
      std::optional<int64_t> accounting,
      ReadIntegerField(proc_root + "/sys/kernel/task_delayacct", 0));
  // Without the sysctl (kernels before 5.14) accounting is on by default.
  if (accounting.has_value() && *accounting == 0) return std::nullopt;

  const std::string path = proc_root + "/self/stat";
  ASSIGN_OR_RETURN(std::optional<std::string> stat, ReadWholeFile(path));
  if (!stat.has_value()) return std::nullopt;
  const size_t command_end = stat->rfind(')');
  if (command_end == std::string::npos) {
    return Malformed(path, "no ')' closing the command name");
  }
  const std::vector<absl::string_view> fields =
      Fields(absl::string_view(*stat).substr(command_end + 1));
  const size_t index = kStatBlkioTicksField - kStatFieldsBeforeState - 1;
  if (fields.size() <= index) {
    return Malformed(path, absl::StrCat("has ", fields.size(),
                                        " fields after the command name"));
  }
  ASSIGN_OR_RETURN(const int64_t ticks, ParseInt64(path, fields[index]));
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

void WarnIfNearLimit(absl::string_view resource, std::optional<int64_t> used,
                     std::optional<int64_t> limit, absl::string_view remedy,
                     std::vector<std::string>* warnings) {
  if (!used.has_value() || !limit.has_value() || *limit <= 0) return;
  const int64_t percent = *used * 100 / *limit;
  if (percent < kResourceWarningPercent) return;
  warnings->push_back(absl::StrCat(resource, ": ", *used, " of ", *limit, " (",
                                   percent, "%); ", remedy));
}

}  // namespace

absl::StatusOr<ProcessStats> ReadProcessStats() {
  return ReadProcessStatsFrom("/proc");
}

absl::StatusOr<ProcessStats> ReadProcessStatsFrom(
    const std::string& proc_root) {
  ProcessStats stats;
  rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) {
    return ErrnoToStatus(errno, "getrusage");
  }
  stats.user_cpu_seconds = Seconds(usage.ru_utime);
  stats.system_cpu_seconds = Seconds(usage.ru_stime);
  stats.voluntary_context_switches = usage.ru_nvcsw;
  stats.involuntary_context_switches = usage.ru_nivcsw;

  rlimit fd_limit;
  if (getrlimit(RLIMIT_NOFILE, &fd_limit) != 0) {
    return ErrnoToStatus(errno, "getrlimit(RLIMIT_NOFILE)");
  }
  if (fd_limit.rlim_cur != RLIM_INFINITY) {
    stats.max_fds = static_cast<int64_t>(fd_limit.rlim_cur);
  }

  ASSIGN_OR_RETURN(stats.resident_memory_bytes, ReadResidentBytes(proc_root));
  ASSIGN_OR_RETURN(stats.open_fds, CountOpenFds(proc_root));
  ASSIGN_OR_RETURN(stats.memory_maps, CountMemoryMaps(proc_root));
  ASSIGN_OR_RETURN(stats.max_memory_maps,
                   ReadIntegerField(proc_root + "/sys/vm/max_map_count", 0));
  ASSIGN_OR_RETURN(stats.io_wait_seconds, ReadIoWaitSeconds(proc_root));

  WarnIfNearLimit("open file descriptors", stats.open_fds, stats.max_fds,
                  "raise RLIMIT_NOFILE (ulimit -n, systemd LimitNOFILE=)",
                  &stats.warnings);
  WarnIfNearLimit("memory maps", stats.memory_maps, stats.max_memory_maps,
                  "raise vm.max_map_count (sysctl)", &stats.warnings);
  return stats;
}

}  // namespace shiplog
