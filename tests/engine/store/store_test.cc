#include "engine/store/store.h"

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "engine/segment/segment_files.h"
#include "engine/store/store_files.h"
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
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class StoreTest : public ::testing::Test {
 protected:
  StoreOptions Options(bool read_only = false) {
    StoreOptions options;
    options.env = &env_;
    options.read_only = read_only;
    options.maintenance_interval_ms = 0;  // the test drives maintenance
    return options;
  }

  std::unique_ptr<Store> OpenStore(bool read_only = false) {
    absl::StatusOr<std::unique_ptr<Store>> store =
        Store::Open(path_, Options(read_only));
    EXPECT_OK(store);
    return store.ok() ? *std::move(store) : nullptr;
  }

  void Append(Log& log, const std::vector<std::string>& values) {
    EXPECT_OK(log.Append(ValueRecords(values)));
  }

  std::vector<std::string> ReadValues(const Log& log, int64_t offset = 0) {
    absl::StatusOr<std::vector<Record>> records = ReadAll(log, offset);
    EXPECT_OK(records);
    return records.ok() ? Values(*records) : std::vector<std::string>{};
  }

  TestEnv env_;
  TempDir dir_;
  const std::string path_ = dir_.Join("store");
};

TEST_F(StoreTest, OpenCreatesTheStoreAndItsLock) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_OK(env_.Stat(JoinPath(path_, kLockFileName)));
  EXPECT_THAT(store->ListLogs(), IsEmpty());
}

TEST_F(StoreTest, MissingStoreIsNotFoundWithoutCreate) {
  StoreOptions options = Options();
  options.create_if_missing = false;
  EXPECT_THAT(
      Store::Open(path_, options),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("does not exist")));
  EXPECT_THAT(
      Store::Open(path_, Options(/*read_only=*/true)),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("does not exist")));
}

TEST_F(StoreTest, ASecondWriterIsRefusedWithTheHoldersPid) {
  auto store = OpenStore();
  EXPECT_THAT(Store::Open(path_, Options()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("locked by another writer (pid ",
                                              getpid(), ")"))));
  ASSERT_OK(store->Close());
  EXPECT_OK(Store::Open(path_, Options()));
}

TEST_F(StoreTest, LogsAndTheirRecordsSurviveReopening) {
  {
    auto store = OpenStore();
    ASSERT_OK_AND_ASSIGN(auto orders, store->OpenLog("orders-0"));
    ASSERT_OK_AND_ASSIGN(auto audit, store->OpenLog("audit"));
    Append(*orders, {"o1", "o2"});
    Append(*audit, {"a1"});
    ASSERT_OK(store->Close());
  }
  auto store = OpenStore();
  EXPECT_THAT(store->ListLogs(), ElementsAre("audit", "orders-0"));
  ASSERT_OK_AND_ASSIGN(auto orders, store->OpenLog("orders-0", {}, false));
  EXPECT_THAT(ReadValues(*orders), ElementsAre("o1", "o2"));
  EXPECT_THAT(store->OpenLog("missing", {}, false),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("log missing does not exist")));
}

TEST_F(StoreTest, InvalidLogNamesAreRefusedAndCreateNothing) {
  auto store = OpenStore();
  const std::string parent = dir_.path();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {".", "not allowed"},
      {"..", "not allowed"},
      {"../escape", "contains '/'"},
      {"a/b", "contains '/'"},
      {"/etc", "contains '/'"},
      {"white space", "contains ' '"},
      {std::string("nul\0byte", 8), "byte 0x00"},
      {"caf\xc3\xa9", "byte 0xc3"},
      {std::string(250, 'x'), "250 characters long; the limit is 249"},
      {".lock", "reserved"},
      {"recovery-point-offset-checkpoint", "reserved"},
      {"log-start-offset-checkpoint.tmp", "reserved"},
  };
  for (const auto& [name, reason] : cases) {
    EXPECT_THAT(store->OpenLog(name),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(reason)))
        << name;
  }
  EXPECT_OK(store->OpenLog(std::string(249, 'x')));
  EXPECT_OK(store->OpenLog("Ok.name_with-every-char-0"));
  // Nothing appeared beside the store.
  std::vector<std::string> beside;
  for (const auto& entry : std::filesystem::directory_iterator(parent)) {
    beside.push_back(entry.path().filename());
  }
  EXPECT_THAT(beside, ElementsAre("store"));
}

TEST_F(StoreTest, ReadOnlyOpenSeesDataWhileTheWriterHoldsTheStore) {
  auto writer = OpenStore();
  ASSERT_OK_AND_ASSIGN(auto log, writer->OpenLog("events"));
  Append(*log, {"a", "b"});

  auto reader = OpenStore(/*read_only=*/true);
  ASSERT_OK_AND_ASSIGN(auto seen, reader->OpenLog("events", {}, false));
  EXPECT_THAT(ReadValues(*seen), ElementsAre("a", "b"));
  EXPECT_THAT(
      seen->Append(ValueRecords({"c"})),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("read-only")));
  EXPECT_THAT(reader->OpenLog("new-log"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cannot create log new-log")));

  // A log the writer creates later is found on demand.
  ASSERT_OK_AND_ASSIGN(auto later, writer->OpenLog("later"));
  Append(*later, {"x"});
  ASSERT_OK_AND_ASSIGN(auto later_seen, reader->OpenLog("later", {}, false));
  EXPECT_THAT(ReadValues(*later_seen), ElementsAre("x"));
}

TEST_F(StoreTest, ReadOnlyOpenSeesOnlyCompleteBatchesAndChangesNothing) {
  auto writer = OpenStore();
  ASSERT_OK_AND_ASSIGN(auto log, writer->OpenLog("events"));
  Append(*log, {"a"});
  Append(*log, {"b"});
  // The writer is midway through a batch: half of one is on disk.
  std::string batch =
      ::shiplog::testing::EncodeBatch({"torn"}, 1'700'000'000'000).bytes;
  const std::string segment =
      JoinPath(JoinPath(path_, "events"), SegmentFileName(0, kLogFileSuffix));
  ASSERT_OK_AND_ASSIGN(FileInfo before, env_.Stat(segment));
  {
    ASSERT_OK_AND_ASSIGN(auto file,
                         env_.OpenFile(segment, OpenMode::kReadWrite));
    ASSERT_OK(file->WriteAt(before.size, batch.substr(0, batch.size() / 2)));
  }
  auto reader = OpenStore(/*read_only=*/true);
  ASSERT_OK_AND_ASSIGN(auto seen, reader->OpenLog("events", {}, false));
  EXPECT_EQ(seen->end_offset(), 2);
  EXPECT_THAT(ReadValues(*seen), ElementsAre("a", "b"));
  ASSERT_OK_AND_ASSIGN(FileInfo after, env_.Stat(segment));
  EXPECT_EQ(after.size, before.size + batch.size() / 2);
}

TEST_F(StoreTest, LogSettingsAreStoredWithTheLogAndKept) {
  LogConfigOverrides overrides;
  overrides.segment_bytes = 2048;
  overrides.retention_ms = 5000;
  {
    auto store = OpenStore();
    ASSERT_OK(store->OpenLog("configured", overrides));
    ASSERT_OK(store->Close());
  }
  auto store = OpenStore();
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("configured"));
  EXPECT_EQ(log->config().segment_bytes, 2048);
  EXPECT_EQ(log->config().retention_ms, 5000);
  EXPECT_EQ(log->config().index_interval_bytes, 4096);

  LogConfigOverrides change;
  change.retention_ms = 9000;
  ASSERT_OK(store->OpenLog("configured", change));
  EXPECT_EQ(log->config().retention_ms, 9000);
  ASSERT_OK_AND_ASSIGN(
      std::string text,
      ReadSmallFile(
          &env_, JoinPath(JoinPath(path_, "configured"), kLogConfigFileName)));
  EXPECT_THAT(text, HasSubstr("retention.ms=9000\n"));
  EXPECT_THAT(text, HasSubstr("segment.bytes=2048\n"));
}

TEST_F(StoreTest, BadLogSettingsAreClearErrors) {
  auto store = OpenStore();
  LogConfigOverrides overrides;
  overrides.segment_bytes = 10;
  EXPECT_THAT(store->OpenLog("tiny", overrides),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("segment.bytes must be between 61")));
  ASSERT_OK(store->OpenLog("fine"));
  ASSERT_OK(store->Close());
  ASSERT_OK(WriteFileAtomically(
      &env_, JoinPath(JoinPath(path_, "fine"), kLogConfigFileName),
      "segment.bytes=1024\nflush.sometimes=3\n"));
  EXPECT_THAT(Store::Open(path_, Options()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 2: unknown setting 'flush.sometimes'")));
}

TEST_F(StoreTest, CloseWritesKafkaCheckpointsAndTheCleanShutdownMarker) {
  auto store = OpenStore();
  ASSERT_OK_AND_ASSIGN(auto orders, store->OpenLog("orders-3"));
  ASSERT_OK_AND_ASSIGN(auto audit, store->OpenLog("audit"));
  Append(*orders, {"a", "b", "c"});
  Append(*audit, {"x"});
  ASSERT_OK(store->Close());
  ASSERT_OK_AND_ASSIGN(
      std::string recovery_points,
      ReadSmallFile(&env_, JoinPath(path_, kRecoveryPointCheckpointFileName)));
  EXPECT_EQ(recovery_points, "0\n2\naudit -1 1\norders 3 3\n");
  ASSERT_OK_AND_ASSIGN(
      std::string starts,
      ReadSmallFile(&env_, JoinPath(path_, kLogStartCheckpointFileName)));
  EXPECT_EQ(starts, "0\n2\naudit -1 0\norders 3 0\n");
  EXPECT_OK(env_.Stat(JoinPath(path_, kCleanShutdownFileName)));

  auto reopened = OpenStore();
  EXPECT_TRUE(absl::IsNotFound(
      env_.Stat(JoinPath(path_, kCleanShutdownFileName)).status()));
  ASSERT_OK_AND_ASSIGN(auto log, reopened->OpenLog("orders-3"));
  EXPECT_EQ(log->load_report().segments_recovered, 0);
  EXPECT_EQ(log->committed_offset(), 3);
}

TEST_F(StoreTest, AfterACrashOnlyWhatFollowsTheCheckpointIsScanned) {
  LogConfigOverrides small;
  small.segment_bytes = 512;
  const std::string crashed = dir_.Join("crashed");
  {
    auto store = OpenStore();
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", small));
    for (int i = 0; i < 50; ++i) Append(*log, NumberedValues("v", i, 1));
    ASSERT_OK(log->Flush());
    ASSERT_OK(store->Checkpoint());
    for (int i = 50; i < 55; ++i) Append(*log, NumberedValues("v", i, 1));
    ASSERT_GT(log->segment_count(), 5u);
    // What kill -9 would leave: the files as they are, no marker.
    std::filesystem::copy(path_, crashed,
                          std::filesystem::copy_options::recursive);
  }
  StoreOptions options = Options();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(crashed, options));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", {}, false));
  EXPECT_EQ(log->load_report().segments_recovered, 1);
  EXPECT_EQ(log->committed_offset(), 50);
  EXPECT_THAT(ReadValues(*log), ElementsAreArray(NumberedValues("v", 0, 55)));
}

TEST_F(StoreTest, ABadCheckpointMeansAFullScanNotALoss) {
  {
    auto store = OpenStore();
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events"));
    Append(*log, {"a", "b"});
    ASSERT_OK(store->Checkpoint());
    // Crash: no Close, so no marker. Dropping the lock by hand.
    std::filesystem::copy(path_, dir_.Join("crashed"),
                          std::filesystem::copy_options::recursive);
  }
  const std::string crashed = dir_.Join("crashed");
  ASSERT_OK(WriteFileAtomically(
      &env_, JoinPath(crashed, kRecoveryPointCheckpointFileName),
      "0\n5\nevents 0 2\n"));
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(crashed, Options()));
  EXPECT_THAT(store->load_notes(),
              Contains(HasSubstr("entry count '5' but 1 entries follow; "
                                 "ignoring it")));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", {}, false));
  EXPECT_EQ(log->load_report().segments_recovered, 1);
  EXPECT_THAT(ReadValues(*log), ElementsAre("a", "b"));
}

TEST_F(StoreTest, MaintenanceAppliesRetentionFlushAndCheckpoints) {
  LogConfigOverrides overrides;
  overrides.segment_bytes = 512;
  overrides.retention_ms = 60'000;
  overrides.flush_ms = 1'000;
  auto store = OpenStore();
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", overrides));
  for (int i = 0; i < 40; ++i) Append(*log, NumberedValues("v", i, 1));
  ASSERT_GT(log->segment_count(), 3u);
  EXPECT_EQ(log->committed_offset(), 0);

  env_.AdvanceMs(1'000);
  ASSERT_OK(store->RunMaintenance());
  EXPECT_EQ(log->committed_offset(), 40);
  EXPECT_EQ(log->start_offset(), 0);

  env_.AdvanceMs(60'000);
  ASSERT_OK(store->RunMaintenance());
  EXPECT_EQ(log->start_offset(), 40);
  EXPECT_EQ(log->end_offset(), 40);
  ASSERT_OK_AND_ASSIGN(
      std::string starts,
      ReadSmallFile(&env_, JoinPath(path_, kLogStartCheckpointFileName)));
  EXPECT_EQ(starts, "0\n1\nevents -1 40\n");
}

TEST_F(StoreTest, TheBackgroundThreadFlushesByFlushMs) {
  StoreOptions options;  // real clock, real thread
  options.maintenance_interval_ms = 5;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(path_, options));
  LogConfigOverrides overrides;
  overrides.flush_ms = 1;
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", overrides));
  Append(*log, {"a"});
  // Waits for the thread's work, bounded; not a sleep standing in for it.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (log->committed_offset() < 1 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(log->committed_offset(), 1);
  EXPECT_OK(store->maintenance_status());
  ASSERT_OK(store->Close());
}

TEST_F(StoreTest, DeleteLogRemovesItsDirectory) {
  auto store = OpenStore();
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("doomed"));
  Append(*log, {"a"});
  ASSERT_OK_AND_ASSIGN(Slice slice, log->Read(0, 100));
  ASSERT_OK(store->DeleteLog("doomed"));
  EXPECT_TRUE(absl::IsNotFound(env_.Stat(JoinPath(path_, "doomed")).status()));
  EXPECT_THAT(store->ListLogs(), IsEmpty());
  // A slice taken before keeps its bytes.
  ASSERT_OK_AND_ASSIGN(auto records, ::shiplog::testing::DecodeSlice(slice));
  EXPECT_THAT(Values(records), ElementsAre("a"));
  EXPECT_THAT(store->DeleteLog("doomed"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("doomed")));
}

TEST_F(StoreTest, DirectoriesWithInvalidNamesAreSkippedWithANote) {
  ASSERT_OK(env_.CreateDir(path_));
  ASSERT_OK(env_.CreateDir(JoinPath(path_, "not a log")));
  auto store = OpenStore();
  EXPECT_THAT(store->ListLogs(), IsEmpty());
  EXPECT_THAT(store->load_notes(), Contains(HasSubstr("skipping directory")));
}

}  // namespace
}  // namespace shiplog
