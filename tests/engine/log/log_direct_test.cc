// Direct mode (write.mode=direct, engine/log/DIRECT_IO.md) on the real file
// system: O_DIRECT writes through libaio, group commit, what readers see,
// padding, rolls, truncation, close and failures. The TestEnv's gate holds
// group writes back, so which appends share a device write is decided by
// the test, not by timing.
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/io/aio_context_pool.h"
#include "engine/status/errno_status.h"
#include "engine/segment/segment_files.h"
#include "engine/status/error_kind.h"
#include "tests/engine/log/log_test_fixture.h"
#include "tests/engine/open_resources.h"

namespace shiplog::testing {
namespace {

using ::testing::HasSubstr;

class LogDirectTest : public LogTest {
 protected:
  // Segments large enough that no roll (which waits for the group in
  // flight) interrupts a test holding a group at the gate.
  static LogConfig DirectConfig() {
    LogConfig config = SmallConfig();
    config.segment_bytes = 64 * 1024;
    config.write_mode = WriteMode::kDirect;
    return config;
  }
  // 1 KiB segments: a few records roll.
  static LogConfig SmallDirectConfig() {
    LogConfig config = DirectConfig();
    config.segment_bytes = 1024;
    return config;
  }

  void SetUp() override {
    auto probe = Env::Default()->OpenFile(dir_.Join("probe"), OpenMode::kCreate);
    ASSERT_OK(probe);
    if (absl::Status direct =
            Env::Default()->OpenDirectFile(dir_.Join("probe"), nullptr).status();
        !direct.ok()) {
      GTEST_SKIP() << "no direct I/O under " << dir_.path() << ": " << direct;
    }
    ASSERT_EQ(unlink(dir_.Join("probe").c_str()), 0);
  }

  // Starts a thread that appends one record "<prefix><i>" into
  // results_[i].
  void StartAppender(const std::string& prefix, int i) {
    threads_.emplace_back([this, prefix, i] {
      const std::string value = absl::StrCat(prefix, i);
      results_[i] = log_->Append(ValueRecords({value})).status();
    });
  }
  // Closes the gate and starts `count` appenders: the first becomes the
  // group writer and waits at the gate; the others stage behind it, in
  // the next group. Returns once all have staged.
  void HoldAGroupAtTheGate(const std::string& prefix, int count) {
    const int64_t start = log_->dirty_offset();
    env_.CloseDirectWriteGate();
    StartAppender(prefix, 0);
    env_.WaitForDirectWritesAtGate(1);
    for (int i = 1; i < count; ++i) StartAppender(prefix, i);
    WaitForDirtyOffset(start + count);
  }
  void JoinAppenders() {
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }
  // Spins until the log has handed out `offset` offsets: every appender
  // started has staged its batch (no sleeping: a condition, polled).
  void WaitForDirtyOffset(int64_t offset) {
    while (log_->dirty_offset() < offset) std::this_thread::yield();
  }

  uint64_t FileSize(int64_t base_offset) {
    struct stat st;
    const std::string name =
        dir_.Join(SegmentFileName(base_offset, kLogFileSuffix));
    EXPECT_EQ(stat(name.c_str(), &st), 0) << name;
    return static_cast<uint64_t>(st.st_size);
  }

  std::vector<std::thread> threads_;
  absl::Status results_[64];
};

TEST_F(LogDirectTest, AnAppendIsDurableAndReadableWhenItReturns) {
  Open(DirectConfig());
  const AppendResult appended = AppendValues({"a", "b"});
  EXPECT_EQ(appended.last_offset, 1);
  EXPECT_EQ(log_->end_offset(), 2);
  EXPECT_EQ(log_->committed_offset(), 2);
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(env_.direct_write_count(), 1);
}

TEST_F(LogDirectTest, ConcurrentAppendsShareOneDeviceWrite) {
  Open(DirectConfig());
  constexpr int kAppenders = 16;
  HoldAGroupAtTheGate("v", kAppenders);
  env_.OpenDirectWriteGate();
  JoinAppenders();
  for (int i = 0; i < kAppenders; ++i) EXPECT_OK(results_[i]) << i;
  // One write for the first append, one for the fifteen that overlapped it.
  EXPECT_EQ(env_.direct_write_count(), 2);
  EXPECT_EQ(log_->committed_offset(), kAppenders);
  EXPECT_EQ(ReadValues(0).size(), static_cast<size_t>(kAppenders));
}

TEST_F(LogDirectTest, ReadersNeverSeeStagedBytes) {
  Open(DirectConfig());
  AppendValues({"durable"});
  HoldAGroupAtTheGate("staged", 1);
  // Staged and handed an offset, but not durable: invisible.
  EXPECT_EQ(log_->dirty_offset(), 2);
  EXPECT_EQ(log_->end_offset(), 1);
  EXPECT_EQ(log_->committed_offset(), 1);
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"durable"}));
  ASSERT_OK_AND_ASSIGN(const Slice at_end, log_->Read(1, 1 << 20));
  EXPECT_EQ(at_end.size, 0u);
  EXPECT_THAT(log_->Read(2, 1 << 20),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("past the end")));
  const uint64_t published = log_->size_bytes();
  ASSERT_OK_AND_ASSIGN(const Slice first, log_->Read(0, 1 << 20));
  EXPECT_EQ(first.size, published);
  EXPECT_THAT(first.segment->MapForReading(published + 1),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("past")));
  env_.OpenDirectWriteGate();
  JoinAppenders();
  EXPECT_OK(results_[0]);
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"durable", "staged0"}));
}

TEST_F(LogDirectTest, PaddingStaysInTheFileAndOutOfReads) {
  Open(DirectConfig());
  AppendValues({"x"});
  const uint64_t logical = log_->size_bytes();
  ASSERT_LT(logical, 4096u);
  // The file holds whole blocks; reads end at the logical end.
  EXPECT_EQ(FileSize(0) % 4096, 0u);
  EXPECT_GT(FileSize(0), logical);
  ASSERT_OK_AND_ASSIGN(const Slice slice, log_->Read(0, 1 << 20));
  EXPECT_EQ(slice.size, logical);
  // A clean close trims the padding.
  ASSERT_OK(log_->Close());
  EXPECT_EQ(FileSize(0), logical);
  LogOpenOptions clean;
  clean.clean_shutdown = true;
  Open(DirectConfig(), clean);
  EXPECT_EQ(log_->load_report().segments_recovered, 0);
  AppendValues({"y"});
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"x", "y"}));
}

TEST_F(LogDirectTest, PaddingLeftByACrashIsCutAsATornTail) {
  Open(DirectConfig());
  AppendValues({"a"});
  AppendValues({"b"});
  const uint64_t logical = log_->size_bytes();
  log_.reset();  // no close: the file keeps its padding
  ASSERT_GT(FileSize(0), logical);
  Open(DirectConfig());  // unclean: the segment is scanned
  EXPECT_EQ(log_->load_report().bytes_truncated, 4096 - logical);
  EXPECT_EQ(FileSize(0), logical);
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"a", "b"}));
  AppendValues({"c"});
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(LogDirectTest, PaddingWhoseTrimWasLostIsRecoveredAfterACleanClose) {
  Open(DirectConfig());
  AppendValues({"a"});
  AppendValues({"b"});
  ASSERT_OK(log_->Close());
  const uint64_t logical = FileSize(0);
  // Power failed before the close's cut reached the disk.
  ASSERT_EQ(truncate(dir_.Join(SegmentFileName(0, kLogFileSuffix)).c_str(),
                     4096),
            0);
  LogOpenOptions clean;
  clean.clean_shutdown = true;
  Open(DirectConfig(), clean);
  EXPECT_EQ(log_->load_report().segments_recovered, 1);
  EXPECT_EQ(FileSize(0), logical);
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"a", "b"}));
  AppendValues({"c"});
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(LogDirectTest, GroupsCrossBlockBoundariesAndRewriteThePartialBlock) {
  const LogConfig config = DirectConfig();
  Open(config);
  std::vector<std::string> expected;
  // Records of ~700 bytes: groups end mid-block, again and again.
  for (int i = 0; i < 12; ++i) {
    expected.push_back(absl::StrCat(i, std::string(700, 'a' + i)));
    AppendValues({expected.back()});
  }
  ASSERT_EQ(log_->segment_count(), 1u);
  EXPECT_GT(log_->size_bytes(), 2 * 4096u);
  EXPECT_EQ(ReadValues(0), expected);
  log_.reset();
  Open(config);
  EXPECT_EQ(ReadValues(0), expected);
}

TEST_F(LogDirectTest, RollWaitsForTheGroupInFlightAndTrimsTheOldSegment) {
  Open(DirectConfig());
  AppendValues({"first"});
  HoldAGroupAtTheGate("in-flight", 1);
  std::thread roller([this] { EXPECT_OK(log_->Roll()); });
  env_.OpenDirectWriteGate();
  roller.join();
  JoinAppenders();
  EXPECT_OK(results_[0]);
  ASSERT_EQ(log_->segment_count(), 2u);
  EXPECT_EQ(log_->segment_base_offsets()[1], 2);
  EXPECT_EQ(FileSize(0), log_->size_bytes());
  AppendValues({"next"});
  EXPECT_EQ(ReadValues(0),
            (std::vector<std::string>{"first", "in-flight0", "next"}));
}

TEST_F(LogDirectTest, RollsBySizeKeepEverySegmentTrimmed) {
  Open(SmallDirectConfig());
  for (int i = 0; i < 40; ++i) AppendValues({std::string(100, 'r')});
  const std::vector<int64_t> bases = log_->segment_base_offsets();
  ASSERT_GT(bases.size(), 2u);
  uint64_t closed_bytes = 0;
  for (size_t i = 0; i + 1 < bases.size(); ++i) closed_bytes += FileSize(bases[i]);
  ASSERT_OK_AND_ASSIGN(const Slice last, log_->Read(bases.back(), 1 << 20));
  EXPECT_EQ(closed_bytes + last.size, log_->size_bytes());
  EXPECT_EQ(ReadValues(0).size(), 40u);
}

// A roll hands the sealed segment's AIO context on to the next segment
// instead of destroying it: io_destroy(2) waits a grace period (35 ms
// here), which the roll would spend holding every appender.
TEST_F(LogDirectTest, RollsPassOneAioContextFromSegmentToSegment) {
  const int contexts_before = AioContextCount();
  Open(SmallDirectConfig());
  for (int i = 0; i < 40; ++i) AppendValues({std::string(100, 'r')});
  ASSERT_GE(log_->segment_count(), 5u);
  EXPECT_GE(env_.direct_write_open_count(),
            static_cast<int>(log_->segment_count()));
  std::shared_ptr<AioContextPool> contexts =
      env_.last_direct_write_contexts().lock();
  ASSERT_NE(contexts, nullptr);
  EXPECT_EQ(contexts->created(), 1u);
  EXPECT_EQ(AioContextCount(), contexts_before + 1);
  EXPECT_EQ(ReadValues(0).size(), 40u);
  // Closed, the log gives the context back to its pool, and the pool,
  // once its last holder goes, destroys it.
  log_.reset();
  EXPECT_EQ(contexts->idle(), 1u);
  contexts.reset();
  EXPECT_EQ(AioContextCount(), contexts_before);
}

TEST_F(LogDirectTest, AppendersRollsAndReadersRunTogether) {
  Open(SmallDirectConfig());  // 1 KiB segments: rolls under the appenders
  constexpr int kAppenders = 8;
  constexpr int kAppends = 30;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      absl::StatusOr<std::vector<Record>> records = ReadAll(*log_, 0);
      ASSERT_OK(records);
      for (size_t i = 0; i < records->size(); ++i) {
        ASSERT_EQ((*records)[i].offset, static_cast<int64_t>(i));
        ASSERT_TRUE((*records)[i].value.has_value());
        ASSERT_EQ((*records)[i].value->rfind("t", 0), 0u);
      }
    }
  });
  for (int t = 0; t < kAppenders; ++t) {
    threads_.emplace_back([this, t] {
      for (int i = 0; i < kAppends; ++i) {
        results_[t].Update(
            log_->Append(ValueRecords({absl::StrCat("t", t, "-", i)})).status());
      }
    });
  }
  JoinAppenders();
  done.store(true);
  reader.join();
  for (int t = 0; t < kAppenders; ++t) EXPECT_OK(results_[t]) << t;
  EXPECT_GT(log_->segment_count(), 2u);
  EXPECT_EQ(log_->end_offset(), kAppenders * kAppends);
  EXPECT_EQ(log_->committed_offset(), kAppenders * kAppends);
  EXPECT_LE(env_.direct_write_count(), kAppenders * kAppends);
  EXPECT_EQ(ReadValues(0).size(), static_cast<size_t>(kAppenders * kAppends));
}

TEST_F(LogDirectTest, TruncationCutsAndDirectAppendsContinue) {
  Open(SmallDirectConfig());
  for (int i = 0; i < 20; ++i) AppendValues({absl::StrCat("v", i, std::string(60, 'x'))});
  ASSERT_GT(log_->segment_count(), 1u);
  ASSERT_OK(log_->TruncateTo(5));
  EXPECT_EQ(log_->end_offset(), 5);
  EXPECT_EQ(log_->committed_offset(), 5);
  AppendValues({"after"});
  std::vector<std::string> values = ReadValues(0);
  ASSERT_EQ(values.size(), 6u);
  EXPECT_EQ(values.back(), "after");
  log_.reset();
  Open(SmallDirectConfig());
  EXPECT_EQ(ReadValues(0), values);
}

TEST_F(LogDirectTest, TruncateFullyStartsAnEmptyDirectSegment) {
  Open(DirectConfig());
  AppendValues({"gone"});
  ASSERT_OK(log_->TruncateFullyAndStartAt(100));
  const AppendResult appended = AppendValues({"kept"});
  EXPECT_EQ(appended.base_offset, 100);
  EXPECT_EQ(ReadValues(100), (std::vector<std::string>{"kept"}));
}

TEST_F(LogDirectTest, AFailedWriteFailsEveryWaiterAndTurnsTheLogReadOnly) {
  Open(DirectConfig());
  AppendValues({"kept"});
  HoldAGroupAtTheGate("lost", 4);
  env_.FailWritesWith(EIO);
  env_.OpenDirectWriteGate();
  JoinAppenders();
  for (int i = 0; i < 4; ++i) {
    EXPECT_THAT(results_[i],
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("read-only after a failed flush")))
        << i;
    EXPECT_EQ(GetErrorKind(results_[i]), ErrorKind::kReadOnly);
  }
  EXPECT_THAT(log_->failure(), StatusIs(absl::StatusCode::kInternal,
                                        HasSubstr("Input/output error")));
  // Nothing of the failed group is readable, and nothing is written again.
  const int writes = env_.direct_write_count();
  env_.FailWritesWith(0);
  EXPECT_EQ(log_->end_offset(), 1);
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"kept"}));
  EXPECT_FALSE(log_->Append(ValueRecords({"later"})).ok());
  EXPECT_FALSE(log_->Flush().ok());
  EXPECT_EQ(env_.direct_write_count(), writes);
}

TEST_F(LogDirectTest, AFullDiskFailsTheGroupAndTheLogGoesOn) {
  Open(DirectConfig());
  AppendValues({"kept"});
  HoldAGroupAtTheGate("lost", 4);
  env_.FailWritesWith(ENOSPC);
  env_.OpenDirectWriteGate();
  JoinAppenders();
  // The group and the appends staged behind it: none acknowledged.
  for (int i = 0; i < 4; ++i) {
    EXPECT_THAT(results_[i], StatusIs(absl::StatusCode::kResourceExhausted,
                                      HasSubstr("No space left on device")))
        << i;
    EXPECT_TRUE(IsDiskFull(results_[i]));
  }
  EXPECT_OK(log_->failure());
  env_.FailWritesWith(0);
  const AppendResult next = AppendValues({"after"});
  EXPECT_EQ(next.base_offset, 1);
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"kept", "after"}));
  log_.reset();
  Open(DirectConfig());
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"kept", "after"}));
}

TEST_F(LogDirectTest, TheWriteModeSwitchesOnALiveLog) {
  LogConfig config = SmallConfig();
  Open(config);
  AppendValues({"buffered"});
  config.write_mode = WriteMode::kDirect;
  ASSERT_OK(log_->SetConfig(config));
  // The buffered append was made durable before direct ones started.
  EXPECT_EQ(log_->committed_offset(), 1);
  AppendValues({"direct"});
  EXPECT_EQ(log_->committed_offset(), 2);
  EXPECT_EQ(env_.direct_write_count(), 1);
  config.write_mode = WriteMode::kBuffered;
  ASSERT_OK(log_->SetConfig(config));
  EXPECT_EQ(FileSize(0), log_->size_bytes());
  AppendValues({"buffered again"});
  EXPECT_EQ(env_.direct_write_count(), 1);
  EXPECT_EQ(ReadValues(0), (std::vector<std::string>{"buffered", "direct",
                                                      "buffered again"}));
}

}  // namespace
}  // namespace shiplog::testing
