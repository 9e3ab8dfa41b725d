// The caps the store derives from the process's limits, the warnings it
// gives when those limits are close, and the modes of what it creates.
#include "engine/store/resource_limits.h"

#include <sys/stat.h>

#include <string>

#include "engine/store/store.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ProcessStats Limits(int64_t max_fds, int64_t max_maps) {
  ProcessStats stats;
  stats.max_fds = max_fds;
  stats.max_memory_maps = max_maps;
  return stats;
}

TEST(ResourceLimitsTest, UnsetCapsAreHalfTheProcessLimits) {
  const SegmentCacheLimits limits =
      ResolveSegmentCacheLimits(0, 0, Limits(1024, 65530));
  EXPECT_EQ(limits.max_open_files, 512u);
  EXPECT_EQ(limits.max_mappings, 32765u);
}

TEST(ResourceLimitsTest, GivenCapsAreKept) {
  const SegmentCacheLimits limits =
      ResolveSegmentCacheLimits(7, 9, Limits(1024, 65530));
  EXPECT_EQ(limits.max_open_files, 7u);
  EXPECT_EQ(limits.max_mappings, 9u);
}

TEST(ResourceLimitsTest, TinyLimitsStillLeaveRoomToRead) {
  const SegmentCacheLimits limits =
      ResolveSegmentCacheLimits(0, 0, Limits(10, 10));
  EXPECT_EQ(limits.max_open_files, kMinimumSegmentCacheCap);
  EXPECT_EQ(limits.max_mappings, kMinimumSegmentCacheCap);
}

TEST(ResourceLimitsTest, UnknownLimitsLeaveTheCapsUnbounded) {
  const SegmentCacheLimits limits =
      ResolveSegmentCacheLimits(0, 0, ProcessStats());
  EXPECT_EQ(limits.max_open_files, UINT64_MAX);
  EXPECT_EQ(limits.max_mappings, UINT64_MAX);
}

TEST(ResourceLimitsTest, NoWarningWithRoomToSpare) {
  const ProcessStats process = Limits(1024, 65530);
  EXPECT_THAT(ResourceWarnings({.logs = 10,
                                .cache = ResolveSegmentCacheLimits(0, 0, process)},
                               process),
              IsEmpty());
}

TEST(ResourceLimitsTest, ManyLogsWarnOfTheDescriptorLimit) {
  const ProcessStats process = Limits(1024, 65530);
  // 150 active segments hold 450 descriptors; with the cache's 512 that
  // passes 80% of 1024.
  EXPECT_THAT(
      ResourceWarnings(
          {.logs = 150, .cache = ResolveSegmentCacheLimits(0, 0, process)},
          process),
      ElementsAre(AllOf(HasSubstr("150 logs hold 450"),
                        HasSubstr("RLIMIT_NOFILE's soft limit of 1024"),
                        HasSubstr("ulimit -n"))));
}

TEST(ResourceLimitsTest, ReadOnlyStoresHaveNoActiveSegments) {
  const ProcessStats process = Limits(1024, 65530);
  EXPECT_THAT(ResourceWarnings({.logs = 150,
                                .writable = false,
                                .cache = ResolveSegmentCacheLimits(0, 0, process)},
                               process),
              IsEmpty());
}

TEST(ResourceLimitsTest, CapsBeyondTheLimitsWarn) {
  const ProcessStats process = Limits(1024, 65530);
  EXPECT_THAT(
      ResourceWarnings(
          {.logs = 1, .cache = ResolveSegmentCacheLimits(5000, 60000, process)},
          process),
      ElementsAre(HasSubstr("max_open_segment_files"),
                  AllOf(HasSubstr("vm.max_map_count of 65530"),
                        HasSubstr("sysctl -w vm.max_map_count"))));
}

TEST(ResourceLimitsTest, ProcessWarningsAreIncluded) {
  ProcessStats process = Limits(1024, 65530);
  process.warnings.push_back("open descriptors: 900 of 1024");
  EXPECT_THAT(ResourceWarnings({.logs = 1,
                                .cache = ResolveSegmentCacheLimits(0, 0, process)},
                               process),
              ElementsAre("open descriptors: 900 of 1024"));
}

class PermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override { old_umask_ = umask(0); }
  void TearDown() override { umask(old_umask_); }

  static uint32_t ModeOf(const std::string& path) {
    struct stat info;
    EXPECT_EQ(stat(path.c_str(), &info), 0) << path;
    return info.st_mode & 0777;
  }

  // Creates a store with one log and one record; returns its path.
  std::string MakeStore(const FilePermissions& permissions) {
    StoreOptions options;
    options.maintenance_interval_ms = 0;
    options.permissions = permissions;
    const std::string path = dir_.Join("store");
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path, options);
    EXPECT_OK(store);
    if (!store.ok()) return path;
    absl::StatusOr<std::shared_ptr<Log>> log = (*store)->OpenLog("events-0");
    EXPECT_OK(log);
    EXPECT_OK((*store)->Close());
    return path;
  }

  TempDir dir_;
  mode_t old_umask_ = 0;
};

TEST_F(PermissionsTest, DefaultsAre0640And0750) {
  const std::string store = MakeStore(FilePermissions{});
  EXPECT_EQ(ModeOf(store), 0750u);
  EXPECT_EQ(ModeOf(store + "/events-0"), 0750u);
  EXPECT_EQ(ModeOf(store + "/events-0/00000000000000000000.log"), 0640u);
  EXPECT_EQ(ModeOf(store + "/events-0/00000000000000000000.index"), 0640u);
  EXPECT_EQ(ModeOf(store + "/events-0/log.properties"), 0640u);
  EXPECT_EQ(ModeOf(store + "/.lock"), 0640u);
}

TEST_F(PermissionsTest, ConfiguredModesApplyToEverythingCreated) {
  const std::string store =
      MakeStore(FilePermissions{.file_mode = 0600, .directory_mode = 0700});
  EXPECT_EQ(ModeOf(store), 0700u);
  EXPECT_EQ(ModeOf(store + "/events-0"), 0700u);
  EXPECT_EQ(ModeOf(store + "/events-0/00000000000000000000.log"), 0600u);
  EXPECT_EQ(ModeOf(store + "/events-0/00000000000000000000.timeindex"), 0600u);
  EXPECT_EQ(ModeOf(store + "/recovery-point-offset-checkpoint"), 0600u);
}

TEST_F(PermissionsTest, ModesThatLockTheOwnerOutAreRefused) {
  StoreOptions options;
  options.permissions.file_mode = 0440;
  EXPECT_THAT(Store::Open(dir_.Join("store"), options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("file mode 0440")));
  options.permissions = FilePermissions{.directory_mode = 01777};
  EXPECT_THAT(Store::Open(dir_.Join("store"), options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("directory mode 1777")));
}

}  // namespace
}  // namespace shiplog
