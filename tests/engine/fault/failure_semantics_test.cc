// What each kind of failure does to a log, one behaviour per test, over a
// FaultInjectionEnv: a failed fsync, a full disk, and a failure at every
// single file operation of a roll, retention, a truncation and a
// checkpoint, each followed by a crash; in buffered and in direct mode
// (write.mode=direct, where a failed write is a failed fsync too).
#include <sys/stat.h>

#include <cerrno>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"
#include "engine/status/error_kind.h"
#include "engine/store/store.h"
#include "tests/engine/fault_env.h"
#include "tests/engine/records_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::CrashMode;
using ::shiplog::testing::FaultInjectionEnv;
using ::shiplog::testing::NumberedValues;
using ::shiplog::testing::ReadAll;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::ValueRecords;
using ::testing::HasSubstr;

constexpr char kLogName[] = "events-0";

class FailureSemanticsTest : public ::testing::Test {
 public:
  void SetUp() override {
    ASSERT_EQ(mkdir(root_.c_str(), 0750), 0);
    ASSERT_OK(env_.MarkDurable(root_));
    config_.segment_bytes = 1024;
    config_.max_index_bytes = 256;
    config_.index_interval_bytes = 128;
    config_.retention_ms = -1;
    config_.flush_messages = 1;
    config_.write_mode = write_mode_;
  }

  void Open() {
    StoreOptions options;
    options.env = &env_;
    options.maintenance_interval_ms = 0;
    options.checkpoint_interval_ms = 0;
    options.default_log_config = config_;
    options.min_free_bytes = min_free_bytes_;
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(root_, options));
    ASSERT_OK_AND_ASSIGN(log_, store_->OpenLog(kLogName));
  }

  // Appends `count` one-record batches "<prefix><i>", each durable.
  void AppendDurably(const std::string& prefix, int count) {
    for (const std::string& value : NumberedValues(prefix, 0, count)) {
      ASSERT_OK_AND_ASSIGN(const AppendResult appended,
                           log_->Append(ValueRecords({value})));
      acknowledged_[appended.base_offset] = value;
    }
  }

  // Enough one-record batches for several 1 KiB segments.
  void FillSegments() { AppendDurably("a", 40); }

  void CrashAndReopen(CrashMode mode = CrashMode::kTornTail) {
    env_.Kill();
    log_.reset();
    store_.reset();
    ASSERT_OK(env_.Crash(root_, mode));
    ASSERT_NO_FATAL_FAILURE(Open());
  }

  void ExpectFailureTurnsTheLogReadOnlyForGood(int failing_operation);
  void ExpectFullDiskIsADistinctErrorThatPasses();

  // Every acknowledged record at or past the log start reads back, at its
  // offset, with its value.
  void ExpectAcknowledgedIntact() {
    const int64_t start = log_->start_offset();
    ASSERT_OK_AND_ASSIGN(std::vector<Record> records, ReadAll(*log_, start));
    for (const auto& [offset, value] : acknowledged_) {
      if (offset < start) continue;
      ASSERT_LT(offset - start, static_cast<int64_t>(records.size()))
          << "acknowledged offset " << offset << " is gone";
      EXPECT_EQ(records[offset - start].value, value) << "offset " << offset;
    }
  }

  WriteMode write_mode_ = WriteMode::kBuffered;
  TempDir dir_{"/dev/shm"};
  const std::string root_ = dir_.Join("store");
  FaultInjectionEnv env_;
  LogConfig config_;
  uint64_t min_free_bytes_ = 0;
  std::unique_ptr<Store> store_;
  std::shared_ptr<Log> log_;
  std::map<int64_t, std::string> acknowledged_;
};

// `failing_operation`: 1 fails the write of the next append, 2 its
// fdatasync (buffered) or the sync of its durable write (direct).
void FailureSemanticsTest::ExpectFailureTurnsTheLogReadOnlyForGood(
    int failing_operation) {
  Open();
  AppendDurably("a", 5);
  env_.FailOperation(failing_operation, EIO);
  const absl::StatusOr<AppendResult> failed =
      log_->Append(ValueRecords({"lost"}));
  ASSERT_THAT(failed, StatusIs(absl::StatusCode::kFailedPrecondition,
                               HasSubstr("read-only after a failed flush")));
  EXPECT_THAT(std::string(failed.status().message()),
              HasSubstr("injected fault"));
  EXPECT_EQ(GetErrorKind(failed.status()), ErrorKind::kReadOnly);
  // Nothing touches the disk again: no fsync claims the data made it.
  const uint64_t operations = env_.operation_count();
  EXPECT_FALSE(log_->Flush().ok());
  EXPECT_FALSE(log_->Append(ValueRecords({"later"})).ok());
  EXPECT_FALSE(log_->Roll().ok());
  EXPECT_FALSE(log_->TruncateTo(2).ok());
  EXPECT_EQ(env_.operation_count(), operations);
  if (write_mode_ == WriteMode::kDirect) {
    // Nothing of the failed group was published.
    EXPECT_EQ(log_->end_offset(), 5);
    EXPECT_EQ(log_->committed_offset(), 5);
  } else {
    EXPECT_LT(log_->committed_offset(), log_->end_offset());
  }
  // Reads still work.
  ExpectAcknowledgedIntact();
  // A restart recovers: what was durable is there, appends continue.
  CrashAndReopen();
  ExpectAcknowledgedIntact();
  const int64_t end = log_->end_offset();
  ASSERT_OK_AND_ASSIGN(const AppendResult next,
                       log_->Append(ValueRecords({"next"})));
  EXPECT_EQ(next.base_offset, end);
}

void FailureSemanticsTest::ExpectFullDiskIsADistinctErrorThatPasses() {
  Open();
  AppendDurably("a", 5);
  env_.SetAvailableBytes(300);  // room for about three more batches
  int refused = 0;
  absl::Status full;
  for (int i = 0; i < 20; ++i) {
    const std::string value = absl::StrCat("b", i);
    absl::StatusOr<AppendResult> appended = log_->Append(ValueRecords({value}));
    if (appended.ok()) {
      acknowledged_[appended->base_offset] = value;
    } else {
      full = appended.status();
      ++refused;
    }
  }
  ASSERT_GT(refused, 0);
  EXPECT_THAT(full, StatusIs(absl::StatusCode::kResourceExhausted,
                             HasSubstr("No space left on device")));
  EXPECT_TRUE(IsDiskFull(full));
  // A full disk is not a failed fsync: the log stays writable.
  EXPECT_OK(log_->failure());
  ExpectAcknowledgedIntact();
  // Space comes back: appends work again, at the next offset.
  env_.SetAvailableBytes(std::nullopt);
  const int64_t end = log_->end_offset();
  ASSERT_OK_AND_ASSIGN(const AppendResult next,
                       log_->Append(ValueRecords({"after"})));
  EXPECT_EQ(next.base_offset, end);
  acknowledged_[end] = "after";
  CrashAndReopen();
  ExpectAcknowledgedIntact();
  EXPECT_EQ(log_->end_offset(), end + 1);
}

class DirectFailureSemanticsTest : public FailureSemanticsTest {
 public:
  DirectFailureSemanticsTest() { write_mode_ = WriteMode::kDirect; }
};

TEST_F(FailureSemanticsTest, FailedFsyncTurnsTheLogReadOnlyAndIsNeverRetried) {
  ExpectFailureTurnsTheLogReadOnlyForGood(2);
}

TEST_F(DirectFailureSemanticsTest, FailedSyncTurnsTheLogReadOnlyForGood) {
  ExpectFailureTurnsTheLogReadOnlyForGood(2);
}

TEST_F(DirectFailureSemanticsTest, FailedWriteTurnsTheLogReadOnlyForGood) {
  ExpectFailureTurnsTheLogReadOnlyForGood(1);
}

TEST_F(FailureSemanticsTest, FullDiskIsADistinctErrorLosesNothingAndPasses) {
  ExpectFullDiskIsADistinctErrorThatPasses();
}

TEST_F(DirectFailureSemanticsTest, FullDiskIsADistinctErrorLosesNothingAndPasses) {
  ExpectFullDiskIsADistinctErrorThatPasses();
}

TEST_F(DirectFailureSemanticsTest, EveryAcknowledgedAppendSurvivesACrash) {
  Open();
  AppendDurably("a", 30);  // several segments, each rolled while direct
  EXPECT_EQ(env_.direct_writes(), 30u);  // one group per (lone) append
  for (const CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kTornTail}) {
    CrashAndReopen(mode);
    ExpectAcknowledgedIntact();
    EXPECT_EQ(log_->end_offset(), 30);
  }
  AppendDurably("b", 3);
  CrashAndReopen();
  ExpectAcknowledgedIntact();
}

TEST_F(FailureSemanticsTest, MinFreeBytesRefusesAppendsBeforeTheDiskIsFull) {
  min_free_bytes_ = 4096;
  // The guard reads free space at most every 100 ms or 1 MiB of appends,
  // and at every append when close to the limit: the disk is small from
  // the start here.
  env_.SetAvailableBytes(8000);
  Open();
  AppendDurably("a", 3);
  absl::Status refused;
  std::string refused_value;
  int appended = 0;
  for (int i = 0; i < 100 && refused.ok(); ++i) {
    const std::string value = absl::StrCat("b", i, std::string(100, 'x'));
    absl::StatusOr<AppendResult> result = log_->Append(ValueRecords({value}));
    refused = result.status();
    refused_value = value;
    if (result.ok()) {
      acknowledged_[result->base_offset] = value;
      ++appended;
    }
  }
  ASSERT_GT(appended, 0);
  ASSERT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                HasSubstr("min_free_bytes 4096")));
  EXPECT_EQ(GetErrorKind(refused), ErrorKind::kLowDiskSpace);
  // Refused before the disk filled: no write ever hit ENOSPC.
  EXPECT_FALSE(IsDiskFull(refused));
  EXPECT_EQ(env_.faults_injected(), 0u);
  ASSERT_OK_AND_ASSIGN(const uint64_t left, env_.AvailableBytes(root_));
  EXPECT_GE(left, 4096u);
  const int64_t end = log_->end_offset();
  // The same append again (a smaller one might still fit above the limit).
  EXPECT_FALSE(log_->Append(ValueRecords({refused_value})).ok());
  EXPECT_EQ(log_->end_offset(), end);
  EXPECT_OK(log_->failure());
  // Space comes back: appends pass again.
  env_.SetAvailableBytes(std::nullopt);
  ASSERT_OK_AND_ASSIGN(const AppendResult next,
                       log_->Append(ValueRecords({"after"})));
  EXPECT_EQ(next.base_offset, end);
  acknowledged_[end] = "after";
  CrashAndReopen();
  ExpectAcknowledgedIntact();
}

// Runs `operation` once for every file operation it performs, failing
// that one operation (with EIO), then crashing; each time the store must
// open cleanly with every acknowledged record intact, and take appends.
class FailEveryOperationTest : public FailureSemanticsTest {
 public:
  void SweepFailures(const std::function<void(FailureSemanticsTest&)>& setup,
                     const std::function<absl::Status(Store&, Log&)>& operation,
                     const std::string& what) {
    // First count the operation's file operations, without faults.
    uint64_t count = 0;
    {
      FailEveryOperationTest probe;
      probe.write_mode_ = write_mode_;
      probe.SetUp();
      probe.Open();
      setup(probe);
      const uint64_t before = probe.env_.operation_count();
      ASSERT_OK(operation(*probe.store_, *probe.log_)) << what;
      count = probe.env_.operation_count() - before;
    }
    ASSERT_GT(count, 0u) << what << " performed no file operation";
    for (uint64_t failing = 1; failing <= count; ++failing) {
      for (const bool crash_at_failure : {false, true}) {
        SCOPED_TRACE(absl::StrCat(what, ": operation ", failing, " of ", count,
                                  crash_at_failure ? ", crashing there" : ""));
        FailEveryOperationTest run;
        run.write_mode_ = write_mode_;
        run.SetUp();
        run.Open();
        setup(run);
        if (crash_at_failure) {
          run.env_.KillAtOperation(failing);
        } else {
          run.env_.FailOperation(failing, EIO);
        }
        (void)operation(*run.store_, *run.log_);
        run.CrashAndReopen();
        run.ExpectAcknowledgedIntact();
        ASSERT_OK(run.log_->Append(ValueRecords({"afterwards"})));
        ASSERT_OK(run.store_->Close());
      }
    }
  }

  void TestBody() override {}
};

TEST_F(FailEveryOperationTest, RollLeavesAStoreThatOpens) {
  SweepFailures([](FailureSemanticsTest& t) { t.FillSegments(); },
                [](Store&, Log& log) { return log.Roll(); }, "roll");
}

TEST_F(FailEveryOperationTest, RetentionLeavesAStoreThatOpens) {
  SweepFailures(
      [](FailureSemanticsTest& t) { t.FillSegments(); },
      [](Store&, Log& log) -> absl::Status {
        LogConfig config = log.config();
        config.retention_bytes = 1500;
        RETURN_IF_ERROR(log.SetConfig(config));
        return log.EnforceRetention(0).status();
      },
      "retention");
}

TEST_F(FailEveryOperationTest, TruncationLeavesAStoreThatOpens) {
  SweepFailures(
      [](FailureSemanticsTest& t) {
        t.FillSegments();
        // Past the cut nothing is owed, whether or not it completes.
        t.acknowledged_.erase(t.acknowledged_.lower_bound(3),
                              t.acknowledged_.end());
      },
      [](Store&, Log& log) { return log.TruncateTo(3); }, "truncation");
}

TEST_F(FailEveryOperationTest, CheckpointLeavesAStoreThatOpens) {
  SweepFailures([](FailureSemanticsTest& t) { t.FillSegments(); },
                [](Store& store, Log&) { return store.Checkpoint(); },
                "checkpoint");
}

TEST_F(FailEveryOperationTest, CleanShutdownLeavesAStoreThatOpens) {
  SweepFailures([](FailureSemanticsTest& t) { t.FillSegments(); },
                [](Store& store, Log&) { return store.Close(); },
                "close");
}

class DirectFailEveryOperationTest : public FailEveryOperationTest {
 public:
  DirectFailEveryOperationTest() { write_mode_ = WriteMode::kDirect; }
};

TEST_F(DirectFailEveryOperationTest, AppendLeavesAStoreThatOpens) {
  SweepFailures([](FailureSemanticsTest& t) { t.FillSegments(); },
                [](Store&, Log& log) {
                  return log.Append(ValueRecords({"one more"})).status();
                },
                "direct append");
}

TEST_F(DirectFailEveryOperationTest, RollLeavesAStoreThatOpens) {
  SweepFailures([](FailureSemanticsTest& t) { t.FillSegments(); },
                [](Store&, Log& log) { return log.Roll(); }, "direct roll");
}

TEST_F(DirectFailEveryOperationTest, TruncationLeavesAStoreThatOpens) {
  SweepFailures(
      [](FailureSemanticsTest& t) {
        t.FillSegments();
        t.acknowledged_.erase(t.acknowledged_.lower_bound(3),
                              t.acknowledged_.end());
      },
      [](Store&, Log& log) { return log.TruncateTo(3); }, "direct truncation");
}

TEST_F(DirectFailEveryOperationTest, CleanShutdownLeavesAStoreThatOpens) {
  SweepFailures([](FailureSemanticsTest& t) { t.FillSegments(); },
                [](Store& store, Log&) { return store.Close(); },
                "direct close");
}

}  // namespace
}  // namespace shiplog
