// Committed consumer-group offsets: what a commit makes findable, what a
// restart replays from __consumer_offsets-0, and how a record in that log
// that is no commit stops the replay.
#include "bindings/kafka/offset_store.h"

#include <cstdint>
#include <fstream>
#include <ios>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bindings/cli/abi.h"
#include "gtest/gtest.h"
#include "shiplog.h"
#include "tests/kafka/kafka_test_util.h"

namespace shiplog::kafka {
namespace {

using ::shiplog::kafka::testing::TempStore;
using ::testing::IsSubstring;
using Partitions = std::vector<std::pair<std::string, int32_t>>;

OffsetStore::Commit CommitOf(std::string topic, int32_t partition,
                             int64_t offset, std::string metadata = "") {
  OffsetStore::Commit commit;
  commit.topic = std::move(topic);
  commit.partition = partition;
  commit.committed.offset = offset;
  commit.committed.metadata = std::move(metadata);
  return commit;
}

class OffsetStoreTest : public ::testing::Test {
 protected:
  // Appends one record to the offsets log as any writer of the store could,
  // bypassing OffsetStore.
  void AppendToOffsetsLog(std::optional<absl::string_view> key,
                          absl::string_view value) {
    const cli::Owned<shiplog_log> log =
        store_.OpenLog(absl::StrCat(kOffsetsTopic, "-0"));
    ASSERT_TRUE(log != nullptr);
    shiplog_record record = {};
    record.timestamp_ms = SHIPLOG_NO_TIMESTAMP;
    if (key.has_value()) {
      record.key = key->data();
      record.key_len = key->size();
    }
    record.value = value.data();
    record.value_len = value.size();
    ASSERT_EQ(shiplog_log_append(nullptr, log.get(), &record, 1, nullptr),
              SHIPLOG_OK)
        << shiplog_last_error();
  }

  // Commits `commits` of `group` through a fresh OffsetStore.
  void CommitAndClose(const std::string& group,
                      const std::vector<OffsetStore::Commit>& commits) {
    ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));
    ASSERT_OK(offsets.CommitOffsets(group, commits));
  }

  // Asserts that opening the store's offsets fails with kDataLoss naming
  // the log and the bad record's offset.
  void ExpectOpenFailsAtOffset(int64_t offset) {
    const absl::StatusOr<OffsetStore> offsets = OffsetStore::Open(store_.get());
    EXPECT_EQ(offsets.status().code(), absl::StatusCode::kDataLoss)
        << offsets.status();
    const std::string message(offsets.status().message());
    EXPECT_PRED_FORMAT2(IsSubstring, "__consumer_offsets-0", message);
    EXPECT_PRED_FORMAT2(IsSubstring, absl::StrCat("offset ", offset), message);
  }

  TempStore store_;
};

// ---------------------------------------------------------------------------
// In memory

TEST_F(OffsetStoreTest, NewStoreHasNoCommittedOffsets) {
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  EXPECT_FALSE(offsets.Find("group", "topic", 0).has_value());
  EXPECT_TRUE(offsets.Partitions("group").empty());
}

TEST_F(OffsetStoreTest, FindsACommittedOffsetAndItsMetadata) {
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  ASSERT_OK(offsets.CommitOffsets("group", {CommitOf("topic", 3, 42, "meta")}));

  const std::optional<OffsetStore::Committed> found =
      offsets.Find("group", "topic", 3);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->offset, 42);
  EXPECT_EQ(found->metadata, "meta");
}

TEST_F(OffsetStoreTest, CommitIsNotFoundUnderAnotherGroupTopicOrPartition) {
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  ASSERT_OK(offsets.CommitOffsets("group", {CommitOf("topic", 3, 42)}));

  EXPECT_FALSE(offsets.Find("other", "topic", 3).has_value());
  EXPECT_FALSE(offsets.Find("group", "other", 3).has_value());
  EXPECT_FALSE(offsets.Find("group", "topic", 4).has_value());
}

TEST_F(OffsetStoreTest, LastCommitWins) {
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  ASSERT_OK(offsets.CommitOffsets("group", {CommitOf("topic", 0, 5, "old")}));
  ASSERT_OK(offsets.CommitOffsets("group", {CommitOf("topic", 0, 9, "new")}));

  const std::optional<OffsetStore::Committed> found =
      offsets.Find("group", "topic", 0);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->offset, 9);
  EXPECT_EQ(found->metadata, "new");
}

TEST_F(OffsetStoreTest, PartitionsListsOnlyTheGroupsPartitionsInOrder) {
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  ASSERT_OK(offsets.CommitOffsets(
      "group",
      {CommitOf("b", 1, 1), CommitOf("a", 2, 1), CommitOf("a", 0, 1)}));
  ASSERT_OK(offsets.CommitOffsets("group2", {CommitOf("c", 0, 1)}));
  ASSERT_OK(offsets.CommitOffsets("grou", {CommitOf("d", 0, 1)}));

  EXPECT_EQ(offsets.Partitions("group"),
            Partitions({{"a", 0}, {"a", 2}, {"b", 1}}));
}

TEST_F(OffsetStoreTest, EmptyCommitWritesNothing) {
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  ASSERT_OK(offsets.CommitOffsets("group", {}));

  const cli::Owned<shiplog_log> log = store_.OpenLog("__consumer_offsets-0");
  int64_t end = -1;
  ASSERT_EQ(shiplog_log_end_offset(&end, log.get()), SHIPLOG_OK);
  EXPECT_EQ(end, 0);
}

// ---------------------------------------------------------------------------
// Across a restart

TEST_F(OffsetStoreTest, CommitsAreReplayedAfterAReopen) {
  CommitAndClose("group",
                 {CommitOf("topic", 0, 7, "m0"), CommitOf("topic", 1, 8, "")});
  CommitAndClose("other", {CommitOf("logs", 2, 9, "m2")});

  store_.Reopen();
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  ASSERT_TRUE(offsets.Find("group", "topic", 0).has_value());
  EXPECT_EQ(offsets.Find("group", "topic", 0)->offset, 7);
  EXPECT_EQ(offsets.Find("group", "topic", 0)->metadata, "m0");
  ASSERT_TRUE(offsets.Find("group", "topic", 1).has_value());
  EXPECT_EQ(offsets.Find("group", "topic", 1)->offset, 8);
  ASSERT_TRUE(offsets.Find("other", "logs", 2).has_value());
  EXPECT_EQ(offsets.Find("other", "logs", 2)->metadata, "m2");
  EXPECT_EQ(offsets.Partitions("group"),
            Partitions({{"topic", 0}, {"topic", 1}}));
}

TEST_F(OffsetStoreTest, LastCommitWinsAfterAReopen) {
  CommitAndClose("group", {CommitOf("topic", 0, 5, "old")});
  CommitAndClose("group", {CommitOf("topic", 0, 9, "new")});

  store_.Reopen();
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  const std::optional<OffsetStore::Committed> found =
      offsets.Find("group", "topic", 0);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->offset, 9);
  EXPECT_EQ(found->metadata, "new");
}

TEST_F(OffsetStoreTest, NegativeOffsetsAndPartitionsSurviveAReopen) {
  CommitAndClose("group", {CommitOf("topic", -1, -1)});

  store_.Reopen();
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  ASSERT_TRUE(offsets.Find("group", "topic", -1).has_value());
  EXPECT_EQ(offsets.Find("group", "topic", -1)->offset, -1);
}

TEST_F(OffsetStoreTest, MetadataWithNulBytesSurvivesAReopen) {
  const std::string metadata("a\0b\0", 4);
  CommitAndClose("group", {CommitOf("topic", 0, 1, metadata)});

  store_.Reopen();
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  ASSERT_TRUE(offsets.Find("group", "topic", 0).has_value());
  EXPECT_EQ(offsets.Find("group", "topic", 0)->metadata, metadata);
}

// The replay reads the log 1 MiB at a time; these commits take more.
TEST_F(OffsetStoreTest, ReplayReadsPastItsFirstChunk) {
  constexpr int kCommits = 24;
  constexpr size_t kMetadataBytes = 100 << 10;
  const auto fill = [](int i) { return static_cast<char>('a' + i % 26); };
  {
    ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));
    for (int i = 0; i < kCommits; ++i) {
      ASSERT_OK(offsets.CommitOffsets(
          "group", {CommitOf("topic", i, 1000 + i,
                             std::string(kMetadataBytes, fill(i)))}));
    }
  }

  store_.Reopen();
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  ASSERT_EQ(offsets.Partitions("group").size(), static_cast<size_t>(kCommits));
  for (int i = 0; i < kCommits; ++i) {
    const std::optional<OffsetStore::Committed> found =
        offsets.Find("group", "topic", i);
    ASSERT_TRUE(found.has_value()) << i;
    EXPECT_EQ(found->offset, 1000 + i);
    EXPECT_EQ(found->metadata, std::string(kMetadataBytes, fill(i)));
  }
}

// Group ids and topic names are whatever a client sends; a commit that was
// acknowledged must be replayed, and none may leave the store unopenable.
TEST_F(OffsetStoreTest, NulByteInAGroupIdNeverMakesTheStoreUnopenable) {
  const std::string group("gr\0up", 5);
  absl::Status committed;
  {
    ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));
    committed = offsets.CommitOffsets(group, {CommitOf("topic", 0, 11)});
  }

  store_.Reopen();
  absl::StatusOr<OffsetStore> offsets = OffsetStore::Open(store_.get());

  ASSERT_OK(offsets);
  if (committed.ok()) {
    ASSERT_TRUE(offsets->Find(group, "topic", 0).has_value());
    EXPECT_EQ(offsets->Find(group, "topic", 0)->offset, 11);
  }
}

TEST_F(OffsetStoreTest, NulByteInATopicNameNeverMakesTheStoreUnopenable) {
  const std::string topic("to\0pic", 6);
  absl::Status committed;
  {
    ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));
    committed = offsets.CommitOffsets("group", {CommitOf(topic, 0, 11)});
  }

  store_.Reopen();
  absl::StatusOr<OffsetStore> offsets = OffsetStore::Open(store_.get());

  ASSERT_OK(offsets);
  if (committed.ok()) {
    ASSERT_TRUE(offsets->Find("group", topic, 0).has_value());
    EXPECT_EQ(offsets->Find("group", topic, 0)->offset, 11);
  }
}

// ---------------------------------------------------------------------------
// A log that holds something other than commits

TEST_F(OffsetStoreTest, RecordWithAMalformedKeyFailsOpenWithDataLoss) {
  CommitAndClose("group", {CommitOf("topic", 0, 7)});
  AppendToOffsetsLog("not a commit key", absl::string_view("7\0", 2));

  ExpectOpenFailsAtOffset(1);
}

TEST_F(OffsetStoreTest, RecordWithANullKeyFailsOpenWithDataLoss) {
  AppendToOffsetsLog(std::nullopt, absl::string_view("7\0", 2));

  ExpectOpenFailsAtOffset(0);
}

TEST_F(OffsetStoreTest, RecordWithANonNumericPartitionFailsOpenWithDataLoss) {
  AppendToOffsetsLog(absl::string_view("group\0topic\0zero", 16),
                     absl::string_view("7\0", 2));

  ExpectOpenFailsAtOffset(0);
}

TEST_F(OffsetStoreTest, RecordWithAnOutOfRangePartitionFailsOpenWithDataLoss) {
  AppendToOffsetsLog(absl::string_view("group\0topic\0"
                                       "2147483648",
                                       22),
                     absl::string_view("7\0", 2));

  ExpectOpenFailsAtOffset(0);
}

TEST_F(OffsetStoreTest, RecordWithAValueWithoutSeparatorFailsOpenWithDataLoss) {
  AppendToOffsetsLog(absl::string_view("group\0topic\0"
                                       "0",
                                       13),
                     "7");

  ExpectOpenFailsAtOffset(0);
}

TEST_F(OffsetStoreTest, RecordWithANonNumericOffsetFailsOpenWithDataLoss) {
  AppendToOffsetsLog(absl::string_view("group\0topic\0"
                                       "0",
                                       13),
                     absl::string_view("seven\0", 6));

  ExpectOpenFailsAtOffset(0);
}

TEST_F(OffsetStoreTest, FlippedByteInACommitFailsOpenWithDataLoss) {
  CommitAndClose("group", {CommitOf("topic", 0, 7, "metadata")});
  store_.Close();
  const std::string segment = absl::StrCat(store_.path(), "/", kOffsetsTopic,
                                           "-0/00000000000000000000.log");
  std::fstream file(segment, std::ios::in | std::ios::out | std::ios::binary);
  ASSERT_TRUE(file.is_open()) << segment;
  // The batch's last record ends "...metadata" and a header count: flip a
  // byte of the metadata, which the batch CRC covers.
  file.seekg(-2, std::ios::end);
  const char byte = static_cast<char>(file.get());
  ASSERT_EQ(byte, 'a');
  file.seekp(-2, std::ios::end);
  file.put(static_cast<char>(byte ^ 0x01));
  file.close();
  store_.Open();

  const absl::StatusOr<OffsetStore> offsets = OffsetStore::Open(store_.get());

  EXPECT_EQ(offsets.status().code(), absl::StatusCode::kDataLoss)
      << offsets.status();
}

TEST_F(OffsetStoreTest, WellFormedRecordFromAnotherWriterIsReplayed) {
  AppendToOffsetsLog(absl::string_view("group\0topic\0"
                                       "4",
                                       13),
                     absl::string_view("77\0meta", 7));

  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));

  ASSERT_TRUE(offsets.Find("group", "topic", 4).has_value());
  EXPECT_EQ(offsets.Find("group", "topic", 4)->offset, 77);
  EXPECT_EQ(offsets.Find("group", "topic", 4)->metadata, "meta");
}

}  // namespace
}  // namespace shiplog::kafka
