// Topics over a store: topic T's partition P is log "T-P". Which logs a
// start finds as partitions, what creating and deleting a topic does to the
// store, and which names a topic may have.
#include "bindings/kafka/topics.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bindings/cli/abi.h"
#include "gtest/gtest.h"
#include "shiplog.h"
#include "tests/kafka/kafka_test_util.h"

namespace shiplog::kafka {
namespace {

using ::shiplog::kafka::testing::TempStore;
using LogNames = std::vector<std::string>;
using TopicList = std::map<std::string, int32_t>;

class TopicsTest : public ::testing::Test {
 protected:
  // Creates logs as any writer of the store could, without Topics.
  void CreateLogs(const LogNames& names) {
    for (const std::string& name : names) {
      ASSERT_TRUE(store_.OpenLog(name) != nullptr) << name;
    }
  }

  TempStore store_;
};

// ---------------------------------------------------------------------------
// Load

TEST_F(TopicsTest, EmptyStoreHasNoTopics) {
  const absl::StatusOr<Topics> topics = Topics::Load(store_.get());

  ASSERT_OK(topics);
  EXPECT_TRUE(topics->List().empty());
}

TEST_F(TopicsTest, LoadFindsEveryPartitionOfATopic) {
  CreateLogs({"orders-0", "orders-1", "orders-2"});

  const absl::StatusOr<Topics> topics = Topics::Load(store_.get());

  ASSERT_OK(topics);
  EXPECT_EQ(topics->PartitionCount("orders"), 3);
  for (int32_t partition = 0; partition < 3; ++partition) {
    EXPECT_TRUE(topics->Find("orders", partition) != nullptr) << partition;
  }
  EXPECT_TRUE(topics->Find("orders", 3) == nullptr);
}

TEST_F(TopicsTest, LoadSplitsALogNameAtItsLastDash) {
  CreateLogs({"a-1-2"});

  const absl::StatusOr<Topics> topics = Topics::Load(store_.get());

  ASSERT_OK(topics);
  // Partitions 0 and 1 are missing: the topic still spans 0..2, the
  // missing ones reported as unavailable rather than hidden.
  EXPECT_EQ(topics->List(), TopicList({{"a-1", 3}}));
  EXPECT_TRUE(topics->Find("a-1", 2) != nullptr);
  EXPECT_EQ(topics->PartitionCount("a"), 0);
}

TEST_F(TopicsTest, LoadReadsATopicNameEndingInADash) {
  CreateLogs({"x--1"});

  const absl::StatusOr<Topics> topics = Topics::Load(store_.get());

  ASSERT_OK(topics);
  EXPECT_TRUE(topics->Find("x-", 1) != nullptr);
}

class TopicsLoadIgnoresTest
    : public TopicsTest,
      public ::testing::WithParamInterface<std::string> {};

TEST_P(TopicsLoadIgnoresTest, LogThatIsNoPartition) {
  CreateLogs({GetParam()});

  const absl::StatusOr<Topics> topics = Topics::Load(store_.get());

  ASSERT_OK(topics);
  EXPECT_TRUE(topics->List().empty());
  EXPECT_EQ(store_.LogNames(), LogNames({GetParam()}));  // left as it was
}

INSTANTIATE_TEST_SUITE_P(
    Names, TopicsLoadIgnoresTest,
    // No dash; no partition number; partition numbers not written the way
    // "T-P" writes them; no topic; no number; a number over int32.
    ::testing::Values("x", "x-", "x-01", "x-00", "-3", "x-1a", "x-_1",
                      "x-2147483648"),
    [](const ::testing::TestParamInfo<std::string>& name_info) {
      std::string name;
      for (const char c : name_info.param) {
        name += (c == '-'   ? std::string("Dash")
                 : c == '_' ? "Underscore"
                            : std::string(1, c));
      }
      return name;
    });

// ---------------------------------------------------------------------------
// Create

TEST_F(TopicsTest, CreateOpensALogForEveryPartition) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));

  ASSERT_OK(topics.Create("events", 3));

  EXPECT_EQ(topics.PartitionCount("events"), 3);
  EXPECT_TRUE(topics.Find("events", 2) != nullptr);
  EXPECT_TRUE(topics.Find("events", 3) == nullptr);
  EXPECT_EQ(store_.LogNames(), LogNames({"events-0", "events-1", "events-2"}));
}

TEST_F(TopicsTest, CreatedTopicIsFoundAfterAReopen) {
  {
    ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));
    ASSERT_OK(topics.Create("events", 3));
  }

  store_.Reopen();
  const absl::StatusOr<Topics> topics = Topics::Load(store_.get());

  ASSERT_OK(topics);
  EXPECT_EQ(topics->List(), TopicList({{"events", 3}}));
}

TEST_F(TopicsTest, CreateAppliesTheSettingsToEveryPartition) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));
  shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
  options.retention_ms = 1234;

  ASSERT_OK(topics.Create("events", 2, options));

  for (int32_t partition = 0; partition < 2; ++partition) {
    shiplog_log_options applied = SHIPLOG_LOG_OPTIONS_INIT;
    ASSERT_EQ(
        shiplog_log_get_options(&applied, topics.Find("events", partition)),
        SHIPLOG_OK);
    EXPECT_EQ(applied.retention_ms, 1234) << partition;
  }
}

TEST_F(TopicsTest, CreateOfAnExistingTopicFails) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));
  ASSERT_OK(topics.Create("events", 2));

  const absl::Status again = topics.Create("events", 5);

  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_EQ(topics.PartitionCount("events"), 2);
}

TEST_F(TopicsTest, CreateWithoutPartitionsIsInvalidAndCreatesNothing) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));

  for (const int32_t partitions : {0, -1}) {
    const absl::Status created = topics.Create("events", partitions);
    EXPECT_EQ(created.code(), absl::StatusCode::kInvalidArgument) << partitions;
  }
  EXPECT_TRUE(store_.LogNames().empty());
}

TEST_F(TopicsTest, CreateWithAnIllegalNameIsInvalidAndCreatesNothing) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));

  const absl::Status created = topics.Create("bad/name", 1);

  EXPECT_EQ(created.code(), absl::StatusCode::kInvalidArgument) << created;
  EXPECT_TRUE(store_.LogNames().empty());
  EXPECT_TRUE(topics.List().empty());
}

TEST_F(TopicsTest, CreateWithASettingOutOfRangeLeavesNoPartitionBehind) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));
  shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
  options.segment_ms = 0;  // must be at least 1

  const absl::Status created = topics.Create("events", 3, options);

  EXPECT_EQ(created.code(), absl::StatusCode::kInvalidArgument) << created;
  EXPECT_EQ(topics.PartitionCount("events"), 0);
  EXPECT_TRUE(store_.LogNames().empty());
}

// ---------------------------------------------------------------------------
// Delete

TEST_F(TopicsTest, DeleteRemovesEveryPartitionAndItsLog) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));
  ASSERT_OK(topics.Create("events", 3));

  ASSERT_OK(topics.Delete("events"));

  EXPECT_EQ(topics.PartitionCount("events"), 0);
  EXPECT_TRUE(topics.Find("events", 0) == nullptr);
  EXPECT_TRUE(topics.List().empty());
  EXPECT_TRUE(store_.LogNames().empty());
}

TEST_F(TopicsTest, DeleteOfAnUnknownTopicIsNotFound) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));

  const absl::Status deleted = topics.Delete("events");

  EXPECT_EQ(deleted.code(), absl::StatusCode::kNotFound) << deleted;
}

TEST_F(TopicsTest, DeleteLeavesTopicsWithSimilarNamesAlone) {
  CreateLogs({"a-0", "a-1-0", "ab-0"});
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));

  ASSERT_OK(topics.Delete("a"));

  EXPECT_EQ(topics.List(), TopicList({{"a-1", 1}, {"ab", 1}}));
  EXPECT_EQ(store_.LogNames(), LogNames({"a-1-0", "ab-0"}));
}

TEST_F(TopicsTest, DeletedTopicCanBeCreatedAgainEmpty) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));
  ASSERT_OK(topics.Create("events", 1));
  shiplog_record record = {};
  record.timestamp_ms = SHIPLOG_NO_TIMESTAMP;
  ASSERT_EQ(shiplog_log_append(nullptr, topics.Find("events", 0), &record, 1,
                               nullptr),
            SHIPLOG_OK);
  ASSERT_OK(topics.Delete("events"));

  ASSERT_OK(topics.Create("events", 1));

  int64_t end = -1;
  ASSERT_EQ(shiplog_log_end_offset(&end, topics.Find("events", 0)), SHIPLOG_OK);
  EXPECT_EQ(end, 0);
}

// A delete interrupted after partition 0 (a crash, an I/O error) leaves
// partitions 1.. behind; deleting the topic again must remove them.
TEST_F(TopicsTest, DeleteRemovesATopicWhosePartitionZeroIsGone) {
  CreateLogs({"events-1", "events-2"});
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));

  const absl::Status deleted = topics.Delete("events");

  EXPECT_OK(deleted);
  EXPECT_TRUE(topics.List().empty());
  EXPECT_TRUE(store_.LogNames().empty());
}

// ---------------------------------------------------------------------------
// List and PartitionCount

TEST_F(TopicsTest, ListNamesEveryTopicWithItsPartitionCount) {
  CreateLogs({"b-0", "a-0", "a-1", "c.d_e-0"});

  const absl::StatusOr<Topics> topics = Topics::Load(store_.get());

  ASSERT_OK(topics);
  EXPECT_EQ(topics->List(), TopicList({{"a", 2}, {"b", 1}, {"c.d_e", 1}}));
}

TEST_F(TopicsTest, PartitionCountCountsOnlyThatTopic) {
  CreateLogs({"a-0", "ab-0", "ab-1", "a.-0"});

  const absl::StatusOr<Topics> topics = Topics::Load(store_.get());

  ASSERT_OK(topics);
  EXPECT_EQ(topics->PartitionCount("a"), 1);
  EXPECT_EQ(topics->PartitionCount("ab"), 2);
  EXPECT_EQ(topics->PartitionCount("missing"), 0);
}

// ---------------------------------------------------------------------------
// CheckName

TEST(TopicsCheckName, AcceptsEveryLegalCharacter) {
  EXPECT_OK(Topics::CheckName(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", 1));
}

TEST(TopicsCheckName, RejectsAnEmptyName) {
  EXPECT_EQ(Topics::CheckName("", 1).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TopicsCheckName, RejectsDotAndDotDot) {
  EXPECT_EQ(Topics::CheckName(".", 1).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Topics::CheckName("..", 1).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TopicsCheckName, AcceptsNamesThatOnlyStartWithDots) {
  EXPECT_OK(Topics::CheckName("...", 1));
  EXPECT_OK(Topics::CheckName(".hidden", 1));
}

TEST(TopicsCheckName, RejectsEveryCharacterOutsideTheLegalSet) {
  for (const std::string& name :
       {std::string("a b"), std::string("a/b"), std::string("a:b"),
        std::string("a\\b"), std::string("a\nb"), std::string("t\xc3\xa4"),
        std::string("a\0b", 3), std::string("a*")}) {
    const absl::Status status = Topics::CheckName(name, 1);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

TEST(TopicsCheckName, RejectsANameOver249Bytes) {
  EXPECT_EQ(Topics::CheckName(std::string(250, 't'), 1).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(TopicsCheckName, AcceptsANameWhoseLastPartitionsLogNameIs249Bytes) {
  EXPECT_OK(Topics::CheckName(std::string(247, 't'), 10));  // "t...t-9"
}

TEST(TopicsCheckName, RejectsANameWhoseLastPartitionsLogNameIsOver249Bytes) {
  EXPECT_EQ(Topics::CheckName(std::string(247, 't'), 11).code(),  // "-10"
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Topics::CheckName(std::string(249, 't'), 1).code(),  // "-0"
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace shiplog::kafka
