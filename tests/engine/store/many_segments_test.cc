// A store of 100,000 segments opens and works under a low RLIMIT_NOFILE:
// the segment cache keeps what idle segments hold open within half of the
// limit, and within half of vm.max_map_count, which 100,000 segments' index
// mappings would pass on their own.
//
// Each test runs in its own process (CTest runs them one by one), so the
// lowered limit ends with it; it is restored anyway.
#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/store/store.h"
#include "tests/engine/open_resources.h"
#include "tests/engine/records_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::DecodeSlice;
using ::shiplog::testing::FilesOpenUnder;
using ::shiplog::testing::MappingsOfFilesUnder;
using ::shiplog::testing::ScopedFileLimit;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::ValueRecords;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SHIPLOG_SANITIZED 1
#endif
#endif

// 100,000 segments in the release build. The sanitizer trees run a fifth
// of them: the same paths (the cap is reached after 128 segments), at a
// sanitizer's 3-5x cost per file operation.
#ifdef SHIPLOG_SANITIZED
constexpr int kLogs = 2;
#else
constexpr int kLogs = 10;
#endif
constexpr int kSegmentsPerLog = 10'000;

std::string LogName(int log) { return absl::StrCat("topic-", log); }
std::string Value(int log, int64_t offset) {
  return absl::StrCat("log ", log, " record ", offset);
}

StoreOptions Options() {
  StoreOptions options;
  options.maintenance_interval_ms = 0;
  return options;
}

// One record per segment, with the smallest indexes: the cost of the test
// is the number of files, which is what it is about.
LogConfigOverrides OneRecordSegments() {
  LogConfigOverrides overrides;
  overrides.segment_bytes = 100;
  overrides.max_index_bytes = 64;
  return overrides;
}

class ManySegmentsTest : public ::testing::Test {
 protected:
  // tmpfs when there is one: 300,000 small files, and no disk to wait for.
  ManySegmentsTest() : dir_("/dev/shm") {}

  void Build(int logs, int segments_per_log) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store,
                         Store::Open(path_, Options()));
    for (int l = 0; l < logs; ++l) {
      ASSERT_OK_AND_ASSIGN(std::shared_ptr<Log> log,
                           store->OpenLog(LogName(l), OneRecordSegments()));
      for (int64_t offset = 0; offset < segments_per_log; ++offset) {
        ASSERT_OK(log->Append(ValueRecords({Value(l, offset)})));
      }
      ASSERT_EQ(log->segment_count(), static_cast<size_t>(segments_per_log));
    }
    ASSERT_OK(store->Close());
  }

  TempDir dir_;
  const std::string path_ = dir_.Join("store");
};

TEST_F(ManySegmentsTest, HundredThousandSegmentsWorkUnderALowFileLimit) {
  Build(kLogs, kSegmentsPerLog);
  constexpr rlim_t kLimit = 256;
  ScopedFileLimit limit(kLimit);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store,
                       Store::Open(path_, Options()));
  EXPECT_EQ(store->segment_cache_limits().max_open_files, kLimit / 2);
  size_t segments = 0;
  size_t most_files = 0;
  size_t most_mappings = 0;
  for (int l = 0; l < kLogs; ++l) {
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<Log> log, store->OpenLog(LogName(l)));
    segments += log->segment_count();
    for (int64_t offset = 0; offset < log->end_offset(); ++offset) {
      ASSERT_OK_AND_ASSIGN(const Slice slice, log->Read(offset, 1));
      ASSERT_OK_AND_ASSIGN(const std::vector<Record> records,
                           DecodeSlice(slice, offset));
      ASSERT_EQ(records.size(), 1u);
      ASSERT_EQ(*records[0].value, Value(l, offset));
      if (offset % 1000 == 0) {
        most_files = std::max(most_files, FilesOpenUnder(path_).size());
        most_mappings =
            std::max(most_mappings, MappingsOfFilesUnder(path_).size());
      }
    }
    // Appends continue at the next offset, beside 10,000 closed segments.
    ASSERT_OK_AND_ASSIGN(const AppendResult appended,
                         log->Append(ValueRecords({Value(l, kSegmentsPerLog)})));
    EXPECT_EQ(appended.base_offset, kSegmentsPerLog);
  }
  EXPECT_EQ(segments, static_cast<size_t>(kLogs * kSegmentsPerLog));
  const SegmentCacheLimits caps = store->segment_cache_limits();
  const SegmentCacheStats stats = store->segment_cache_stats();
  EXPECT_LE(stats.files, caps.max_open_files);
  EXPECT_LE(stats.mappings, caps.max_mappings);
  EXPECT_GT(stats.releases, 0u);
  // The caps, the active segments' three files and two mappings each, and
  // the lock.
  EXPECT_LE(most_files, caps.max_open_files + 3 * kLogs + 1);
  EXPECT_LE(most_mappings, std::min<uint64_t>(caps.max_mappings,
                                              2 * kLogs * kSegmentsPerLog) +
                               2 * kLogs);
  ASSERT_OK(store->Close());
  store.reset();
  EXPECT_THAT(FilesOpenUnder(path_), ::testing::IsEmpty());

  ASSERT_OK_AND_ASSIGN(store, Store::Open(path_, Options()));
  for (int l = 0; l < kLogs; ++l) {
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<Log> log, store->OpenLog(LogName(l)));
    EXPECT_EQ(log->end_offset(), kSegmentsPerLog + 1);
  }
  ASSERT_OK(store->Close());
}

TEST_F(ManySegmentsTest, OpeningCloseToTheFileLimitWarns) {
  Build(/*logs=*/12, /*segments_per_log=*/3);
  // 12 active segments hold 36 descriptors and the cache may hold 32 more:
  // past 80% of 64.
  ScopedFileLimit limit(64);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store,
                       Store::Open(path_, Options()));
  EXPECT_THAT(store->load_notes(),
              Contains(AllOf(HasSubstr("active segments of 12 logs hold 36"),
                             HasSubstr("RLIMIT_NOFILE's soft limit of 64"))));
  ASSERT_OK(store->Close());
}

}  // namespace
}  // namespace shiplog
