#include "engine/metrics/process_stats.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/engine/open_resources.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::ScopedFileLimit;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;

// Opens `count` files in `dir`; closes them when destroyed.
class OpenFiles {
 public:
  OpenFiles(const TempDir& dir, int count) {
    for (int i = 0; i < count; ++i) {
      const std::string path = dir.Join(absl::StrCat("open-", i));
      const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      EXPECT_GE(fd, 0) << path;
      fds_.push_back(fd);
    }
  }
  ~OpenFiles() {
    for (int fd : fds_) close(fd);
  }
  OpenFiles(const OpenFiles&) = delete;
  OpenFiles& operator=(const OpenFiles&) = delete;

 private:
  std::vector<int> fds_;
};

int64_t OpenFdCount() {
  absl::StatusOr<ProcessStats> stats = ReadProcessStats();
  EXPECT_OK(stats);
  EXPECT_TRUE(stats.ok() && stats->open_fds.has_value());
  return stats.ok() ? stats->open_fds.value_or(-1) : -1;
}

int64_t MemoryMapCount() {
  absl::StatusOr<ProcessStats> stats = ReadProcessStats();
  EXPECT_OK(stats);
  EXPECT_TRUE(stats.ok() && stats->memory_maps.has_value());
  return stats.ok() ? stats->memory_maps.value_or(-1) : -1;
}

TEST(ProcessStatsTest, OpenFdCountFollowsOpensAndCloses) {
  TempDir dir;
  const int64_t before = OpenFdCount();
  {
    OpenFiles files(dir, 3);
    EXPECT_EQ(OpenFdCount(), before + 3);
  }
  EXPECT_EQ(OpenFdCount(), before);
}

TEST(ProcessStatsTest, MemoryMapCountFollowsMmapAndMunmap) {
  // A file mapping: an anonymous one could merge with a neighbour and leave
  // the count unchanged.
  TempDir dir;
  const std::string path = dir.Join("mapped");
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  const size_t length = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  ASSERT_EQ(ftruncate(fd, static_cast<off_t>(length)), 0);

  const int64_t before = MemoryMapCount();
  void* address = mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_NE(address, MAP_FAILED);
  const int64_t mapped = MemoryMapCount();
  ASSERT_EQ(munmap(address, length), 0);
  const int64_t unmapped = MemoryMapCount();
  close(fd);

  EXPECT_GT(mapped, before);
  EXPECT_LT(unmapped, mapped);
}

TEST(ProcessStatsTest, CpuTimeGrowsWithWork) {
  ASSERT_OK_AND_ASSIGN(const ProcessStats before, ReadProcessStats());
  volatile uint64_t sink = 0;
  for (uint64_t i = 0; i < 50'000'000; ++i) sink = sink + i;
  ASSERT_OK_AND_ASSIGN(const ProcessStats after, ReadProcessStats());
  EXPECT_GT(after.user_cpu_seconds + after.system_cpu_seconds,
            before.user_cpu_seconds + before.system_cpu_seconds);
  EXPECT_GE(after.voluntary_context_switches,
            before.voluntary_context_switches);
}

TEST(ProcessStatsTest, RealProcFillsEveryProcField) {
  ASSERT_OK_AND_ASSIGN(const ProcessStats stats, ReadProcessStats());
  EXPECT_GT(stats.resident_memory_bytes.value_or(0), 0);
  EXPECT_GT(stats.open_fds.value_or(0), 0);
  EXPECT_GT(stats.memory_maps.value_or(0), 0);
  EXPECT_GT(stats.max_memory_maps.value_or(0), 0);
}

TEST(ProcessStatsTest, WarnsWhenFdsReachEightyPercentOfTheLimit) {
  TempDir dir;
  const int64_t open_now = OpenFdCount();
  // Sixteen more files against a limit of twenty more: at least 80% in use
  // whatever `open_now` is, and four descriptors to spare: one to read
  // /proc/self/fd, two for the pipe UBSan's vptr check probes memory with
  // (with none to spare it reports every first check of a type as bad).
  ScopedFileLimit limit(static_cast<rlim_t>(open_now + 20));
  OpenFiles files(dir, 16);
  ASSERT_OK_AND_ASSIGN(const ProcessStats stats, ReadProcessStats());
  EXPECT_EQ(stats.open_fds, open_now + 16);
  EXPECT_EQ(stats.max_fds, open_now + 20);
  EXPECT_THAT(stats.warnings,
              ElementsAre(AllOf(HasSubstr("open file descriptors"),
                                HasSubstr("RLIMIT_NOFILE"))));
}

TEST(ProcessStatsTest, NoWarningsFarFromTheLimits) {
  ScopedFileLimit limit(static_cast<rlim_t>(OpenFdCount() * 10 + 100));
  ASSERT_OK_AND_ASSIGN(const ProcessStats stats, ReadProcessStats());
  EXPECT_THAT(stats.warnings, IsEmpty());
}

// A procfs look-alike in a temporary directory.
class FakeProcTest : public ::testing::Test {
 protected:
  void Write(const std::string& relative_path, const std::string& contents) {
    const std::filesystem::path path = root_.Join(relative_path);
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << contents;
  }

  absl::StatusOr<ProcessStats> Read() {
    return ReadProcessStatsFrom(root_.path());
  }

  TempDir root_;
};

TEST_F(FakeProcTest, MissingFilesLeaveFieldsAbsent) {
  ASSERT_OK_AND_ASSIGN(const ProcessStats stats, Read());
  EXPECT_EQ(stats.resident_memory_bytes, std::nullopt);
  EXPECT_EQ(stats.open_fds, std::nullopt);
  EXPECT_EQ(stats.memory_maps, std::nullopt);
  EXPECT_EQ(stats.max_memory_maps, std::nullopt);
  EXPECT_EQ(stats.io_wait_seconds, std::nullopt);
  EXPECT_THAT(stats.warnings, IsEmpty());
}

TEST_F(FakeProcTest, ReadsEachFile) {
  Write("self/statm", "1000 25 10 5 0 100 0\n");
  Write("self/maps", "a\nb\nc\n");
  Write("sys/vm/max_map_count", "65530\n");
  Write("self/fd/100", "");
  Write("self/fd/101", "");
  ASSERT_OK_AND_ASSIGN(const ProcessStats stats, Read());
  EXPECT_THAT(stats.resident_memory_bytes,
              Optional(25 * sysconf(_SC_PAGESIZE)));
  EXPECT_THAT(stats.memory_maps, Optional(3));
  EXPECT_THAT(stats.max_memory_maps, Optional(65530));
  EXPECT_THAT(stats.open_fds, Optional(2));
}

// 39 fields after the command name; the last is field 42,
// delayacct_blkio_ticks.
std::string StatLine(const std::string& command, int64_t blkio_ticks) {
  std::string line = absl::StrCat("4242 (", command, ")");
  for (int field = 3; field < 42; ++field) absl::StrAppend(&line, " ", field);
  return absl::StrCat(line, " ", blkio_ticks, " 0 0\n");
}

TEST_F(FakeProcTest, IoWaitParsesAfterTheLastParenthesis) {
  Write("self/stat", StatLine("a) (b 7 8", 3 * sysconf(_SC_CLK_TCK)));
  ASSERT_OK_AND_ASSIGN(const ProcessStats stats, Read());
  EXPECT_THAT(stats.io_wait_seconds, Optional(3.0));
}

TEST_F(FakeProcTest, IoWaitIsAbsentWithoutDelayAccounting) {
  Write("sys/kernel/task_delayacct", "0\n");
  Write("self/stat", StatLine("shiplog", 100));
  ASSERT_OK_AND_ASSIGN(const ProcessStats stats, Read());
  EXPECT_EQ(stats.io_wait_seconds, std::nullopt);
}

TEST_F(FakeProcTest, MalformedFileIsDataLossNamingIt) {
  Write("self/statm", "1000 many\n");
  EXPECT_THAT(Read(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("self/statm")));
}

TEST_F(FakeProcTest, TruncatedStatIsDataLossNamingIt) {
  Write("self/stat", "4242 (shiplog) S 1 2 3\n");
  EXPECT_THAT(Read(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("self/stat")));
}

TEST_F(FakeProcTest, WarnsWhenMapsReachEightyPercentOfMaxMapCount) {
  Write("sys/vm/max_map_count", "10\n");
  Write("self/maps", std::string(8, '\n'));
  ASSERT_OK_AND_ASSIGN(const ProcessStats stats, Read());
  EXPECT_THAT(stats.warnings,
              ElementsAre(AllOf(HasSubstr("memory maps: 8 of 10"),
                                HasSubstr("vm.max_map_count"))));
}

TEST_F(FakeProcTest, NoMapsWarningBelowEightyPercent) {
  Write("sys/vm/max_map_count", "10\n");
  Write("self/maps", std::string(7, '\n'));
  ASSERT_OK_AND_ASSIGN(const ProcessStats stats, Read());
  EXPECT_THAT(stats.warnings, IsEmpty());
}

}  // namespace
}  // namespace shiplog
