// Everything a store acquires goes when it closes: descriptors, mappings of
// its files, the maintenance thread, and the kernel AIO contexts of direct
// appends and cold reads. Checked against the kernel's own lists
// (/proc/self/fd, /proc/self/maps, /proc/self/task) after cycles that use
// every one of them, and after the paths that fail.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/store/store.h"
#include "engine/transport/log_sender.h"
#include "tests/engine/open_resources.h"
#include "tests/engine/records_test_util.h"
#include "tests/engine/test_env.h"
#include "tests/engine/test_util.h"
#include "tests/engine/transport/transport_test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::AioContextCount;
using ::shiplog::testing::FilesOpenUnder;
using ::shiplog::testing::MappingsOfFilesUnder;
using ::shiplog::testing::OpenDescriptorCount;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::TestEnv;
using ::shiplog::testing::ThreadCount;
using ::shiplog::testing::ValueRecords;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// What the process holds, counted by the kernel.
struct Held {
  int descriptors = 0;
  int threads = 0;
  int aio_contexts = 0;

  // A sanitizer's runtime may start a helper thread of its own at the
  // process's first pthread_create (TSan does): start and join one first,
  // so that thread is in the baseline rather than counted as a leak.
  static Held Baseline() {
    std::thread([] {}).join();
    return Now();
  }

  static Held Now() {
    return {OpenDescriptorCount(), ThreadCount(), AioContextCount()};
  }
};

void ExpectSameAs(const Held& before, const std::string& store_path,
                  const std::string& when) {
  const Held now = Held::Now();
  EXPECT_EQ(now.descriptors, before.descriptors) << when;
  EXPECT_EQ(now.threads, before.threads) << when;
  EXPECT_EQ(now.aio_contexts, before.aio_contexts) << when;
  EXPECT_THAT(FilesOpenUnder(store_path), IsEmpty()) << when;
  EXPECT_THAT(MappingsOfFilesUnder(store_path), IsEmpty()) << when;
}

class ResourceReleaseTest : public ::testing::Test {
 protected:
  StoreOptions Options(bool maintenance) {
    StoreOptions options;
    options.env = &env_;
    options.maintenance_interval_ms = maintenance ? 5 : 0;
    options.direct_read_buffer_bytes = 16 * 1024;
    options.direct_read_pool_bytes = 4 * 16 * 1024;
    return options;
  }

  static LogConfigOverrides Small(WriteMode mode) {
    LogConfigOverrides overrides;
    overrides.segment_bytes = 4096;
    overrides.write_mode = mode;
    return overrides;
  }

  // Appends `batches` batches of about 200 bytes: several segments.
  static void Fill(Log& log, int batches) {
    for (int i = 0; i < batches; ++i) {
      ASSERT_OK(log.Append(ValueRecords(
          {absl::StrCat("value-", i, "-", std::string(180, 'x'))})));
    }
    ASSERT_GT(log.segment_count(), 2u);
  }

  // Skips where the file system has no O_DIRECT (tmpfs before Linux 6.6).
  void SetUp() override {
    const std::string probe = dir_.Join("probe");
    ASSERT_OK(Env::Default()->OpenFile(probe, OpenMode::kCreate));
    if (absl::Status direct =
            Env::Default()->OpenDirectFile(probe, nullptr).status();
        !direct.ok()) {
      GTEST_SKIP() << "no direct I/O under " << dir_.path() << ": " << direct;
    }
    ASSERT_EQ(unlink(probe.c_str()), 0);
  }

  TempDir dir_;
  TestEnv env_;
  const std::string path_ = dir_.Join("store");
};

// Three cycles of: open (the maintenance thread starts), a buffered and a
// direct log appended across rolls (direct appends hold an AIO context),
// a hot send by sendfile and a cold one through the direct-read pool (AIO
// contexts of their own), retention deleting segments, close. The first
// cycle shows each resource was really taken; after each close the
// process holds what it held before the first.
TEST_F(ResourceReleaseTest, OpenUseCloseCyclesReleaseEverything) {
  const Held before = Held::Baseline();
  const std::string sink_path = dir_.Join("sink");
  for (int cycle = 0; cycle < 3; ++cycle) {
    const std::string when = absl::StrCat("after cycle ", cycle);
    {
      ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store,
                           Store::Open(path_, Options(/*maintenance=*/true)));
      EXPECT_EQ(ThreadCount(), before.threads + 1) << "the maintenance thread";
      ASSERT_OK_AND_ASSIGN(std::shared_ptr<Log> buffered,
                           store->OpenLog("buffered", Small(WriteMode::kBuffered)));
      ASSERT_OK_AND_ASSIGN(std::shared_ptr<Log> direct,
                           store->OpenLog("direct", Small(WriteMode::kDirect)));
      ASSERT_NO_FATAL_FAILURE(Fill(*buffered, 60));
      ASSERT_NO_FATAL_FAILURE(Fill(*direct, 60));
      if (cycle == 0) {
        EXPECT_GT(AioContextCount(), before.aio_contexts) << "direct appends";
      }

      const int sink = open(sink_path.c_str(),
                            O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      ASSERT_GE(sink, 0);
      SendOptions cold;
      cold.cold_read_lag_bytes = 1;
      cold.direct_read_pool = store->direct_read_pool();
      cold.direct_read_buffer_wait_ms = 60'000;
      absl::StatusOr<SendResult> cold_sent =
          SendLogRange(*buffered, 0, UINT64_MAX, sink, cold);
      absl::StatusOr<SendResult> hot_sent =
          SendLogRange(*direct, 0, UINT64_MAX, sink);
      close(sink);
      ASSERT_OK(cold_sent);
      ASSERT_OK(hot_sent);
      EXPECT_GT(cold_sent->bytes_by_path[SendPath::kDirectRead], 0u);
      EXPECT_EQ(cold_sent->next_offset, buffered->end_offset());
      EXPECT_EQ(hot_sent->next_offset, direct->end_offset());

      ASSERT_OK(direct->EnforceRetention(0).status());
      ASSERT_OK(store->Close());
    }
    ExpectSameAs(before, path_, when);
  }
}

// The paths that fail: a second writer refused, a direct log whose writes
// fail (read-only, then closed), and a store whose open fails part way,
// after it had opened a direct log and before it started its thread.
TEST_F(ResourceReleaseTest, FailuresReleaseEverything) {
  const Held before = Held::Baseline();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Store> store,
                         Store::Open(path_, Options(/*maintenance=*/true)));
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<Log> direct,
                         store->OpenLog("a-direct", Small(WriteMode::kDirect)));
    ASSERT_NO_FATAL_FAILURE(Fill(*direct, 60));

    const Held holding = Held::Now();
    EXPECT_THAT(Store::Open(path_, Options(/*maintenance=*/true)),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("locked by another writer")));
    const Held refused = Held::Now();
    EXPECT_EQ(refused.descriptors, holding.descriptors);
    EXPECT_EQ(refused.threads, holding.threads);
    EXPECT_EQ(refused.aio_contexts, holding.aio_contexts);

    env_.FailWritesWith(EIO);
    EXPECT_FALSE(direct->Append(ValueRecords({"lost"})).ok());
    env_.FailWritesWith(0);
    EXPECT_FALSE(direct->failure().ok());
    // Closing a store with a failed log reports the failure, and still
    // releases the log.
    EXPECT_FALSE(store->Close().ok());
  }
  ExpectSameAs(before, path_, "after a failed log");

  // Logs load in name order, "z-bad" after "a-direct": the open fails with
  // the direct log already loaded.
  ASSERT_OK(Env::Default()->CreateDir(JoinPath(path_, "z-bad")));
  ASSERT_OK(WriteFileAtomically(
      Env::Default(), JoinPath(JoinPath(path_, "z-bad"), "log.properties"),
      "segment.bytes=many\n"));
  EXPECT_THAT(Store::Open(path_, Options(/*maintenance=*/true)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("segment.bytes")));
  ExpectSameAs(before, path_, "after a failed open");
}

}  // namespace
}  // namespace shiplog
