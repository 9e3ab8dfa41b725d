// VerifyStore: a clean store or backup verifies; each kind of damage is
// found, named, and counted as a problem, while what a store repairs by
// itself (indexes, a live tail) is only a note.
#include "engine/store/verify.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/index/offset_index.h"
#include "engine/index/time_index.h"
#include "engine/segment/segment_files.h"
#include "engine/store/backup.h"
#include "engine/store/checkpoint_file.h"
#include "engine/store/store.h"
#include "engine/store/store_files.h"
#include "tests/engine/records_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::NumberedValues;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::ValueRecords;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr int kRecords = 300;

class VerifyTest : public ::testing::Test {
 protected:
  // A cleanly closed store with one log of several small segments holding
  // "v0".."v299", five records a batch.
  void SetUp() override {
    StoreOptions options;
    options.maintenance_interval_ms = 0;
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(store_path_, options));
    LogConfigOverrides overrides;
    overrides.segment_bytes = 1500;
    overrides.index_interval_bytes = 200;
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("events", overrides));
    for (int i = 0; i < kRecords; i += 5) {
      ASSERT_OK(log->Append(ValueRecords(NumberedValues("v", i, 5))));
    }
    bases_ = log->segment_base_offsets();
    ASSERT_GE(bases_.size(), 3u);
    ASSERT_OK(store->Close());
  }

  std::string SegmentFile(int64_t base, absl::string_view suffix) const {
    return JoinPath(JoinPath(store_path_, "events"),
                    SegmentFileName(base, suffix));
  }

  VerifyReport Verify(const std::string& path) {
    absl::StatusOr<VerifyReport> report = VerifyStore(path);
    EXPECT_OK(report);
    return report.value_or(VerifyReport{});
  }

  static void Overwrite(const std::string& path, uint64_t position,
                        absl::string_view bytes) {
    ASSERT_OK_AND_ASSIGN(auto file,
                         Env::Default()->OpenFile(path, OpenMode::kReadWrite));
    ASSERT_OK(file->WriteAt(position, bytes));
  }

  static void FlipByte(const std::string& path, uint64_t position) {
    ASSERT_OK_AND_ASSIGN(const std::string bytes,
                         ReadSmallFile(Env::Default(), path));
    ASSERT_LT(position, bytes.size());
    Overwrite(path, position, std::string(1, bytes[position] ^ '\x01'));
  }

  static void CutBy(const std::string& path, uint64_t bytes) {
    ASSERT_OK_AND_ASSIGN(auto file,
                         Env::Default()->OpenFile(path, OpenMode::kReadWrite));
    ASSERT_OK_AND_ASSIGN(const uint64_t size, file->Size());
    ASSERT_OK(file->Truncate(size - bytes));
  }

  TempDir dir_;
  const std::string store_path_ = dir_.Join("store");
  std::vector<int64_t> bases_;
};

TEST_F(VerifyTest, ACleanStoreVerifies) {
  const VerifyReport report = Verify(store_path_);
  EXPECT_THAT(report.problems, IsEmpty());
  EXPECT_THAT(report.notes, IsEmpty());
  EXPECT_EQ(report.logs, 1);
  EXPECT_EQ(report.segments, static_cast<int64_t>(bases_.size()));
  EXPECT_EQ(report.records, kRecords);
  EXPECT_EQ(report.batches, kRecords / 5);
}

TEST_F(VerifyTest, ABackupVerifies) {
  StoreOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(store_path_, options));
  ASSERT_OK(BackupStore(*store, dir_.Join("backup")).status());
  const VerifyReport report = Verify(dir_.Join("backup"));
  EXPECT_THAT(report.problems, IsEmpty());
  EXPECT_EQ(report.records, kRecords);
}

TEST_F(VerifyTest, FindsAFlippedByte) {
  FlipByte(SegmentFile(bases_[1], kLogFileSuffix), 100);
  const VerifyReport report = Verify(store_path_);
  ASSERT_THAT(report.problems, SizeIs(1));
  EXPECT_THAT(report.problems[0],
              HasSubstr(absl::StrCat("segment ", bases_[1])));
  EXPECT_THAT(report.problems[0], HasSubstr("CRC mismatch"));
}

TEST_F(VerifyTest, FindsACutTail) {
  CutBy(SegmentFile(bases_.back(), kLogFileSuffix), 7);
  const VerifyReport report = Verify(store_path_);
  ASSERT_THAT(report.problems, SizeIs(1));
  EXPECT_THAT(report.problems[0], HasSubstr("are not valid batches"));
  EXPECT_THAT(report.problems[0], HasSubstr("durable data is lost"));
}

TEST_F(VerifyTest, FindsABackupCutAtABatchBoundary) {
  StoreOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(store_path_, options));
  ASSERT_OK(BackupStore(*store, dir_.Join("backup")).status());
  // The last batch gone whole: every byte left is valid, but the
  // recovery point says more was durable.
  ASSERT_OK_AND_ASSIGN(auto backup, Store::Open(dir_.Join("backup"), options));
  ASSERT_OK_AND_ASSIGN(auto log, backup->OpenLog("events", {}, false));
  ASSERT_OK_AND_ASSIGN(const Slice last_batch, log->Read(kRecords - 5, 0));
  const std::string tail =
      JoinPath(dir_.Join("backup/events"),
               SegmentFileName(bases_.back(), kLogFileSuffix));
  ASSERT_OK_AND_ASSIGN(auto file,
                       Env::Default()->OpenFile(tail, OpenMode::kReadWrite));
  ASSERT_OK(file->Truncate(last_batch.position));
  const VerifyReport report = Verify(dir_.Join("backup"));
  ASSERT_THAT(report.problems, SizeIs(1));
  EXPECT_THAT(report.problems[0],
              HasSubstr(absl::StrCat("offsets below ", kRecords,
                                     " are durable, but the log ends at "
                                     "offset ",
                                     kRecords - 5)));
}

TEST_F(VerifyTest, FindsABadIndexEntry) {
  const std::string index = SegmentFile(bases_[0], kOffsetIndexFileSuffix);
  ASSERT_OK_AND_ASSIGN(const FileInfo info, Env::Default()->Stat(index));
  ASSERT_GE(info.size, 2 * OffsetIndex::kEntrySize);
  // Entry 0's position, moved off its batch.
  FlipByte(index, 7);
  const VerifyReport report = Verify(store_path_);
  ASSERT_THAT(report.problems, Not(IsEmpty()));
  EXPECT_THAT(report.problems[0], HasSubstr("entry 0"));
  EXPECT_THAT(report.problems[0], HasSubstr(".index"));
}

TEST_F(VerifyTest, FindsAGapBetweenSegments) {
  for (absl::string_view suffix :
       {kLogFileSuffix, kOffsetIndexFileSuffix, kTimeIndexFileSuffix}) {
    ASSERT_OK(Env::Default()->RemoveFile(SegmentFile(bases_[1], suffix)));
  }
  const VerifyReport report = Verify(store_path_);
  ASSERT_THAT(report.problems, SizeIs(1));
  EXPECT_THAT(report.problems[0],
              HasSubstr(absl::StrCat("offsets ", bases_[1], "..", bases_[2] - 1,
                                     " are missing")));
}

TEST_F(VerifyTest, FindsATimeIndexCutAtAnEntryBoundary) {
  CutBy(SegmentFile(bases_[0], kTimeIndexFileSuffix), TimeIndex::kEntrySize);
  const VerifyReport report = Verify(store_path_);
  ASSERT_THAT(report.problems, SizeIs(1));
  EXPECT_THAT(report.problems[0], HasSubstr("not the segment's largest"));
}

TEST_F(VerifyTest, FindsACheckpointPastTheEnd) {
  ASSERT_OK(WriteCheckpoint(
      Env::Default(), JoinPath(store_path_, kRecoveryPointCheckpointFileName),
      {{"events", kRecords + 50}}));
  const VerifyReport report = Verify(store_path_);
  ASSERT_THAT(report.problems, SizeIs(1));
  EXPECT_THAT(report.problems[0], HasSubstr("recovery-point checkpoint"));
}

TEST_F(VerifyTest, FindsACheckpointThatDoesNotParse) {
  ASSERT_OK(WriteFileAtomically(
      Env::Default(), JoinPath(store_path_, kLogStartCheckpointFileName),
      "0\n7\nnot a checkpoint\n"));
  const VerifyReport report = Verify(store_path_);
  ASSERT_THAT(report.problems, SizeIs(1));
  EXPECT_THAT(report.problems[0], HasSubstr(kLogStartCheckpointFileName));
}

TEST_F(VerifyTest, AMissingIndexIsANote) {
  ASSERT_OK(Env::Default()->RemoveFile(
      SegmentFile(bases_[1], kOffsetIndexFileSuffix)));
  const VerifyReport report = Verify(store_path_);
  EXPECT_THAT(report.problems, IsEmpty());
  EXPECT_THAT(report.notes, ElementsAre(HasSubstr("missing")));
}

TEST_F(VerifyTest, ATailPastTheRecoveryPointIsANote) {
  // As a live writer's store looks: no clean-shutdown marker, and half a
  // batch past the recovery point.
  ASSERT_OK(Env::Default()->RemoveFile(
      JoinPath(store_path_, kCleanShutdownFileName)));
  ASSERT_OK(WriteCheckpoint(
      Env::Default(), JoinPath(store_path_, kRecoveryPointCheckpointFileName),
      {{"events", bases_.back()}}));
  const std::string tail = SegmentFile(bases_.back(), kLogFileSuffix);
  ASSERT_OK_AND_ASSIGN(const FileInfo info, Env::Default()->Stat(tail));
  Overwrite(tail, info.size, std::string(30, '\x7f'));
  const VerifyReport report = Verify(store_path_);
  EXPECT_THAT(report.problems, IsEmpty());
  EXPECT_THAT(report.notes, Contains(HasSubstr("past the recovery point")));
}

TEST_F(VerifyTest, ReportsProgressForEveryByte) {
  std::vector<Progress> calls;
  VerifyOptions options;
  options.progress = [&](const Progress& progress) {
    calls.push_back(progress);
  };
  ASSERT_OK_AND_ASSIGN(const VerifyReport report,
                       VerifyStore(store_path_, options));
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back().bytes_done, report.bytes);
  EXPECT_EQ(calls.back().bytes_total, report.bytes);
  EXPECT_EQ(calls.back().logs_done, 1);
}

TEST_F(VerifyTest, AMissingStoreIsAnError) {
  EXPECT_THAT(VerifyStore(dir_.Join("nothing")),
              ::shiplog::testing::StatusIs(absl::StatusCode::kNotFound,
                                           HasSubstr("does not exist")));
}

}  // namespace
}  // namespace shiplog
