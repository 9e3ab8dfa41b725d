// BackupStore: a backup taken beside writers and retention opens as a
// store holding every committed offset, byte for byte as the source, and
// neither side's later writes reach the other through the hard links.
#include "engine/store/backup.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/segment/segment_files.h"
#include "engine/store/store.h"
#include "engine/store/verify.h"
#include "tests/engine/records_test_util.h"
#include "tests/engine/test_env.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::NumberedValues;
using ::shiplog::testing::ReadAll;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::TestEnv;
using ::shiplog::testing::ValueRecords;
using ::shiplog::testing::Values;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Small segments, so a few hundred records span several.
LogConfigOverrides SmallSegments() {
  LogConfigOverrides overrides;
  overrides.segment_bytes = 4096;
  overrides.index_interval_bytes = 256;
  return overrides;
}

// Appends records "v<first>".."v<first+count-1>", `per_batch` a batch.
void AppendNumbered(Log& log, int first, int count, int per_batch = 5) {
  for (int i = 0; i < count; i += per_batch) {
    const std::vector<std::string> values =
        NumberedValues("v", first + i, std::min(per_batch, count - i));
    ASSERT_OK(log.Append(ValueRecords(values)));
  }
}

std::string FileBytes(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadSmallFile(Env::Default(), path);
  EXPECT_OK(bytes);
  return bytes.value_or("");
}

FileInfo Info(const std::string& path) {
  absl::StatusOr<FileInfo> info = Env::Default()->Stat(path);
  EXPECT_OK(info);
  return info.value_or(FileInfo{});
}

std::string SegmentPath(const std::string& directory, int64_t base) {
  return JoinPath(directory, SegmentFileName(base, kLogFileSuffix));
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.env = &env_;
    options_.maintenance_interval_ms = 0;
  }

  std::unique_ptr<Store> OpenStore(const std::string& path,
                                   bool read_only = false) {
    StoreOptions options = options_;
    options.read_only = read_only;
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(path, options);
    EXPECT_OK(store);
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Opens the backup, which must load without a single note, and returns
  // the values of `log` in it.
  std::vector<std::string> RestoredValues(const std::string& backup,
                                          const std::string& log_name) {
    std::unique_ptr<Store> restored = OpenStore(backup, /*read_only=*/true);
    if (restored == nullptr) return {};
    EXPECT_THAT(restored->load_notes(), IsEmpty());
    absl::StatusOr<std::shared_ptr<Log>> log =
        restored->OpenLog(log_name, {}, false);
    EXPECT_OK(log);
    if (!log.ok()) return {};
    absl::StatusOr<std::vector<Record>> records =
        ReadAll(**log, (*log)->start_offset());
    EXPECT_OK(records);
    return records.ok() ? Values(*records) : std::vector<std::string>{};
  }

  void ExpectVerifies(const std::string& path) {
    ASSERT_OK_AND_ASSIGN(const VerifyReport report, VerifyStore(path));
    EXPECT_THAT(report.problems, IsEmpty());
  }

  TestEnv env_;
  StoreOptions options_;
  TempDir dir_;
};

TEST_F(BackupTest, BackupOpensAsAStoreWithEveryRecord) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK_AND_ASSIGN(auto orders,
                       store->OpenLog("orders-0", SmallSegments()));
  ASSERT_OK_AND_ASSIGN(auto audit, store->OpenLog("audit", SmallSegments()));
  AppendNumbered(*orders, 0, 400);
  AppendNumbered(*audit, 0, 30);
  ASSERT_GE(orders->segment_count(), 3u);

  ASSERT_OK_AND_ASSIGN(const BackupReport report,
                       BackupStore(*store, dir_.Join("backup")));
  ASSERT_EQ(report.logs.size(), 2u);
  EXPECT_EQ(report.logs[1].name, "orders-0");
  EXPECT_EQ(report.logs[1].start_offset, 0);
  EXPECT_EQ(report.logs[1].end_offset, 400);
  EXPECT_EQ(report.logs[1].segments_linked,
            static_cast<int>(orders->segment_count()) - 1);
  EXPECT_EQ(report.logs[1].segments_copied, 1);
  EXPECT_THAT(report.notes, IsEmpty());

  EXPECT_THAT(RestoredValues(dir_.Join("backup"), "orders-0"),
              ElementsAreArray(NumberedValues("v", 0, 400)));
  EXPECT_THAT(RestoredValues(dir_.Join("backup"), "audit"),
              ElementsAreArray(NumberedValues("v", 0, 30)));
  ExpectVerifies(dir_.Join("backup"));
  EXPECT_EQ(FileBytes(dir_.Join("backup/orders-0/log.properties")),
            FileBytes(dir_.Join("store/orders-0/log.properties")));
  EXPECT_FALSE(
      env_.Stat(dir_.Join("backup.partial-" + std::to_string(getpid()))).ok());
  ASSERT_OK(store->Close());
}

TEST_F(BackupTest, ClosedSegmentsAreLinkedAndTheLastOneCopied) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", SmallSegments()));
  AppendNumbered(*log, 0, 300);
  ASSERT_OK(BackupStore(*store, dir_.Join("backup")).status());

  const std::vector<int64_t> bases = log->segment_base_offsets();
  for (size_t i = 0; i < bases.size(); ++i) {
    const FileInfo source =
        Info(SegmentPath(dir_.Join("store/events"), bases[i]));
    const FileInfo copy =
        Info(SegmentPath(dir_.Join("backup/events"), bases[i]));
    if (i + 1 < bases.size()) {
      EXPECT_EQ(copy.inode, source.inode) << "segment " << bases[i];
      EXPECT_EQ(copy.hard_links, 2u);
    } else {
      EXPECT_NE(copy.inode, source.inode) << "the active segment is copied";
      EXPECT_EQ(copy.hard_links, 1u);
    }
  }
  ASSERT_OK(store->Close());
}

TEST_F(BackupTest, ACutOnASegmentBoundaryEndsInAnEmptySegmentOfItsOwn) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", SmallSegments()));
  AppendNumbered(*log, 0, 100);
  ASSERT_OK(log->Roll());
  ASSERT_OK_AND_ASSIGN(const BackupReport report,
                       BackupStore(*store, dir_.Join("backup")));
  EXPECT_EQ(report.logs[0].segments_copied, 0);
  const FileInfo tail = Info(SegmentPath(dir_.Join("backup/events"), 100));
  EXPECT_EQ(tail.size, 0u);
  EXPECT_EQ(tail.hard_links, 1u);
  EXPECT_THAT(RestoredValues(dir_.Join("backup"), "events"),
              ElementsAreArray(NumberedValues("v", 0, 100)));
  ASSERT_OK(store->Close());
}

TEST_F(BackupTest, WritesToTheRestoredStoreNeverReachTheSource) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", SmallSegments()));
  AppendNumbered(*log, 0, 300);
  ASSERT_OK(log->Roll());
  ASSERT_OK(BackupStore(*store, dir_.Join("backup")).status());
  ASSERT_OK(store->Close());
  // Every file of the source's log: segments and their indexes.
  std::map<std::string, std::string> before;
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> names,
                       env_.ListDir(dir_.Join("store/events")));
  for (const std::string& name : names) {
    const std::string path = dir_.Join("store/events/" + name);
    before[path] = FileBytes(path);
  }
  ASSERT_GT(before.size(), 6u);

  // Restore: open the backup as the writer, cut into a linked segment and
  // append over the cut.
  {
    std::unique_ptr<Store> restored = OpenStore(dir_.Join("backup"));
    EXPECT_THAT(restored->load_notes(), IsEmpty());
    ASSERT_OK_AND_ASSIGN(auto copy, restored->OpenLog("events", {}, false));
    EXPECT_EQ(copy->end_offset(), 300);
    AppendNumbered(*copy, 300, 20);
    ASSERT_OK(copy->TruncateTo(50));
    AppendNumbered(*copy, 1000, 40);
    ASSERT_OK_AND_ASSIGN(auto records, ReadAll(*copy, 0));
    EXPECT_EQ(records.size(), 90u);
    ASSERT_OK(restored->Close());
  }
  for (const auto& [path, bytes] : before) {
    EXPECT_EQ(FileBytes(path), bytes) << path;
  }
  std::unique_ptr<Store> reopened = OpenStore(dir_.Join("store"));
  EXPECT_THAT(reopened->load_notes(), IsEmpty());
  ASSERT_OK_AND_ASSIGN(auto source, reopened->OpenLog("events", {}, false));
  ASSERT_OK_AND_ASSIGN(auto records, ReadAll(*source, 0));
  EXPECT_THAT(Values(records), ElementsAreArray(NumberedValues("v", 0, 300)));
  ASSERT_OK(reopened->Close());
}

TEST_F(BackupTest, TruncatingTheSourceLeavesTheBackupWhole) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", SmallSegments()));
  AppendNumbered(*log, 0, 300);
  ASSERT_OK(BackupStore(*store, dir_.Join("backup")).status());
  // Into the first segment, which the backup shares by a hard link.
  ASSERT_OK(log->TruncateTo(20));
  AppendNumbered(*log, 5000, 100);
  ASSERT_OK(log->Flush());
  EXPECT_THAT(RestoredValues(dir_.Join("backup"), "events"),
              ElementsAreArray(NumberedValues("v", 0, 300)));
  ExpectVerifies(dir_.Join("backup"));
  ASSERT_OK(store->Close());
  ExpectVerifies(dir_.Join("store"));
}

TEST_F(BackupTest, BackupDuringAppendsAndRetentionHoldsEveryCommittedOffset) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  LogConfigOverrides overrides = SmallSegments();
  overrides.retention_bytes = 64 * 1024;
  constexpr int kLogs = 2;
  std::vector<std::shared_ptr<Log>> logs;
  for (int i = 0; i < kLogs; ++i) {
    ASSERT_OK_AND_ASSIGN(auto log,
                         store->OpenLog(absl::StrCat("busy-", i), overrides));
    logs.push_back(log);
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kLogs; ++i) {
    threads.emplace_back([&, i] {
      for (int next = 0; !stop; next += 7) {
        ASSERT_OK(logs[i]->Append(ValueRecords(NumberedValues("v", next, 7))));
        if (next % 140 == 0) {
          ASSERT_OK(logs[i]->Flush());
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) {
      for (const auto& log : logs) ASSERT_OK(log->EnforceRetention(0));
    }
  });
  // Let the logs grow past retention.bytes, so retention deletes segments
  // while the backup runs.
  while (logs[0]->end_offset() < 3000 || logs[1]->end_offset() < 3000) {
    std::this_thread::yield();
  }
  std::vector<int64_t> committed_before;
  for (const auto& log : logs)
    committed_before.push_back(log->committed_offset());

  ASSERT_OK_AND_ASSIGN(const BackupReport report,
                       BackupStore(*store, dir_.Join("backup")));
  const int64_t ends_after_backup = logs[0]->end_offset();
  stop = true;
  for (std::thread& thread : threads) thread.join();
  EXPECT_GT(ends_after_backup, report.logs[0].end_offset)
      << "the writers ran during the backup";

  ExpectVerifies(dir_.Join("backup"));
  std::unique_ptr<Store> restored = OpenStore(dir_.Join("backup"), true);
  EXPECT_THAT(restored->load_notes(), IsEmpty());
  for (int i = 0; i < kLogs; ++i) {
    const LogBackup& backup = report.logs[i];
    EXPECT_GE(backup.end_offset, committed_before[i]);
    ASSERT_OK_AND_ASSIGN(auto log, restored->OpenLog(backup.name, {}, false));
    EXPECT_EQ(log->start_offset(), backup.start_offset);
    EXPECT_EQ(log->end_offset(), backup.end_offset);
    ASSERT_OK_AND_ASSIGN(auto records, ReadAll(*log, log->start_offset()));
    const int64_t start = backup.start_offset;
    EXPECT_THAT(Values(records),
                ElementsAreArray(NumberedValues(
                    "v", static_cast<int>(start),
                    static_cast<int>(backup.end_offset - start))));
    // Byte for byte a prefix of the source, segment by segment, where the
    // source still has the segment.
    for (int64_t base : log->segment_base_offsets()) {
      const std::string source_path = SegmentPath(logs[i]->directory(), base);
      if (!env_.Stat(source_path).ok()) continue;
      const std::string copy = FileBytes(SegmentPath(log->directory(), base));
      EXPECT_EQ(FileBytes(source_path).substr(0, copy.size()), copy)
          << source_path;
    }
  }
  ASSERT_OK(store->Close());
}

TEST_F(BackupTest, CopiesWhenLinksFailAcrossFileSystems) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", SmallSegments()));
  AppendNumbered(*log, 0, 300);
  env_.FailLinksWith(EXDEV);
  ASSERT_OK_AND_ASSIGN(const BackupReport report,
                       BackupStore(*store, dir_.Join("backup")));
  EXPECT_EQ(report.segments_linked, 0);
  EXPECT_EQ(report.segments_copied, static_cast<int64_t>(log->segment_count()));
  EXPECT_EQ(env_.link_count(), 0);
  for (int64_t base : log->segment_base_offsets()) {
    for (absl::string_view suffix :
         {kLogFileSuffix, kOffsetIndexFileSuffix, kTimeIndexFileSuffix}) {
      const std::string name = SegmentFileName(base, suffix);
      const std::string copy = dir_.Join("backup/events/" + name);
      if (base == log->segment_base_offsets().back() &&
          suffix != kLogFileSuffix) {
        continue;  // the last segment's indexes are rebuilt at open
      }
      EXPECT_EQ(Info(copy).hard_links, 1u) << name;
      EXPECT_EQ(FileBytes(copy), FileBytes(dir_.Join("store/events/" + name))
                                     .substr(0, Info(copy).size))
          << name;
    }
  }
  EXPECT_THAT(RestoredValues(dir_.Join("backup"), "events"),
              ElementsAreArray(NumberedValues("v", 0, 300)));
  ExpectVerifies(dir_.Join("backup"));
  ASSERT_OK(store->Close());
}

TEST_F(BackupTest, AReadOnlyStoreBacksUpWhatItsOpenFound) {
  std::unique_ptr<Store> writer = OpenStore(dir_.Join("store"));
  ASSERT_OK_AND_ASSIGN(auto log, writer->OpenLog("events", SmallSegments()));
  AppendNumbered(*log, 0, 300);  // never flushed: the backup syncs it
  std::unique_ptr<Store> reader = OpenStore(dir_.Join("store"), true);
  AppendNumbered(*log, 300, 50);  // after the read-only open
  const int syncs_before = env_.sync_count();
  ASSERT_OK_AND_ASSIGN(const BackupReport report,
                       BackupStore(*reader, dir_.Join("backup")));
  EXPECT_GT(env_.sync_count(), syncs_before);
  EXPECT_EQ(report.logs[0].end_offset, 300);
  EXPECT_THAT(RestoredValues(dir_.Join("backup"), "events"),
              ElementsAreArray(NumberedValues("v", 0, 300)));
  ExpectVerifies(dir_.Join("backup"));
  ASSERT_OK(writer->Close());
}

TEST_F(BackupTest, ProgressEndsWithEveryByteDone) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", SmallSegments()));
  AppendNumbered(*log, 0, 300);
  std::vector<Progress> calls;
  BackupOptions options;
  options.progress = [&](const Progress& progress) {
    calls.push_back(progress);
  };
  ASSERT_OK_AND_ASSIGN(const BackupReport report,
                       BackupStore(*store, dir_.Join("backup"), options));
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls.back().logs_done, 1);
  EXPECT_EQ(calls.back().bytes_done, calls.back().bytes_total);
  EXPECT_EQ(calls.back().bytes_done, log->size_bytes());
  for (size_t i = 1; i < calls.size(); ++i) {
    EXPECT_GE(calls[i].bytes_done, calls[i - 1].bytes_done);
  }
  ASSERT_OK(store->Close());
}

TEST_F(BackupTest, AnEmptyStoreAndAnEmptyLogBackUp) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK(BackupStore(*store, dir_.Join("empty-backup")).status());
  ExpectVerifies(dir_.Join("empty-backup"));
  ASSERT_OK(store->OpenLog("quiet").status());
  ASSERT_OK_AND_ASSIGN(const BackupReport report,
                       BackupStore(*store, dir_.Join("backup")));
  EXPECT_EQ(report.logs[0].end_offset, 0);
  EXPECT_THAT(RestoredValues(dir_.Join("backup"), "quiet"), IsEmpty());
  ASSERT_OK(store->Close());
}

TEST_F(BackupTest, RefusesADestinationThatIsNotEmpty) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK(env_.CreateDir(dir_.Join("taken")));
  ASSERT_OK(WriteFileAtomically(&env_, dir_.Join("taken/file"), "x"));
  EXPECT_THAT(
      BackupStore(*store, dir_.Join("taken")),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("not empty")));
  // An empty directory is fine: the backup takes its place.
  ASSERT_OK(env_.CreateDir(dir_.Join("empty")));
  ASSERT_OK(BackupStore(*store, dir_.Join("empty")).status());
  ExpectVerifies(dir_.Join("empty"));
  ASSERT_OK(store->Close());
}

TEST_F(BackupTest, RefusesADestinationInsideTheStore) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK(store->OpenLog("events").status());
  for (const std::string& inside :
       {dir_.Join("store/backup"), dir_.Join("store/events/backup"),
        dir_.Join("store/../store/x"), dir_.Join("store")}) {
    EXPECT_THAT(
        BackupStore(*store, inside),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inside")))
        << inside;
    EXPECT_FALSE(
        env_.Stat(inside + ".partial-" + std::to_string(getpid())).ok());
  }
  EXPECT_THAT(store->ListLogs(), ElementsAreArray({"events"}));
  ASSERT_OK(store->Close());
}

TEST_F(BackupTest, AFailedBackupLeavesNothingBehind) {
  std::unique_ptr<Store> store = OpenStore(dir_.Join("store"));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", SmallSegments()));
  AppendNumbered(*log, 0, 300);
  ASSERT_OK(log->Flush());
  env_.FailWritesWith(ENOSPC);
  EXPECT_THAT(BackupStore(*store, dir_.Join("backup")),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::_));
  env_.FailWritesWith(0);
  EXPECT_FALSE(env_.Stat(dir_.Join("backup")).ok());
  ASSERT_OK_AND_ASSIGN(const std::vector<std::string> left,
                       env_.ListDir(dir_.path()));
  EXPECT_THAT(left, ElementsAreArray({"store"}));
  // The source is untouched and the next attempt works.
  AppendNumbered(*log, 300, 10);
  ASSERT_OK(BackupStore(*store, dir_.Join("backup")).status());
  EXPECT_THAT(RestoredValues(dir_.Join("backup"), "events"),
              ElementsAreArray(NumberedValues("v", 0, 310)));
  ASSERT_OK(store->Close());
}

}  // namespace
}  // namespace shiplog
