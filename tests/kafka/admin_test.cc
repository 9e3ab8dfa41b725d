// DeleteTopics against the broker as `shiplog serve` builds it: the offsets
// log opened first, then the topics loaded from the store.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "bindings/kafka/broker.h"
#include "bindings/kafka/handlers.h"
#include "bindings/kafka/message.h"
#include "bindings/kafka/offset_store.h"
#include "bindings/kafka/protocol.h"
#include "bindings/kafka/topics.h"
#include "bindings/kafka/wire.h"
#include "gtest/gtest.h"
#include "tests/kafka/kafka_test_util.h"

namespace shiplog::kafka {
namespace {

using ::shiplog::kafka::testing::Encode;
using ::shiplog::kafka::testing::TempStore;

constexpr int16_t kDeleteTopics = static_cast<int16_t>(ApiKey::kDeleteTopics);

// The error code of each topic in the DeleteTopics v0 response to a request
// deleting `names`.
std::vector<ErrorCode> DeleteTopicsV0(Broker& broker,
                                      const std::vector<std::string>& names) {
  std::string body;
  WireWriter writer(&body);
  writer.ArrayLength(static_cast<int32_t>(names.size()), /*compact=*/false);
  for (const std::string& name : names) writer.String(name, false);
  writer.Int32(1000);  // timeout_ms
  RequestHeader header;
  header.api_key = kDeleteTopics;
  header.api_version = 0;
  header.correlation_id = 1;
  WireReader request(body);

  absl::StatusOr<Response> response =
      HandleDeleteTopics(broker, header, request);

  EXPECT_OK(response);
  std::vector<ErrorCode> errors;
  if (!response.ok()) return errors;
  WireReader reader(response->parts[0].bytes);
  reader.Int32();  // size
  reader.Int32();  // correlation id
  for (int32_t i = reader.ArrayLength(false); i > 0; --i) {
    reader.String(false);
    errors.push_back(static_cast<ErrorCode>(reader.Int16()));
  }
  EXPECT_TRUE(reader.ok()) << reader.error();
  return errors;
}

class DeleteTopicsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<OffsetStore> offsets = OffsetStore::Open(store_.get());
    ASSERT_OK(offsets);
    ASSERT_OK(offsets->CommitOffsets("group", {{"events", 0, {42, ""}}}));
  }

  TempStore store_;
};

TEST_F(DeleteTopicsTest, DeletesAnOrdinaryTopic) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));
  ASSERT_OK(topics.Create("events", 2));
  Broker broker(store_.get(), std::move(topics), BrokerOptions());

  EXPECT_EQ(DeleteTopicsV0(broker, {"events"}),
            std::vector<ErrorCode>({ErrorCode::kNone}));
  EXPECT_EQ(broker.topics().PartitionCount("events"), 0);
}

// The committed offsets of every group live in __consumer_offsets-0; a
// client must not be able to delete them (Kafka refuses to delete internal
// topics).
TEST_F(DeleteTopicsTest, RefusesToDeleteTheOffsetsTopic) {
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store_.get()));
  Broker broker(store_.get(), std::move(topics), BrokerOptions());

  const std::vector<ErrorCode> errors = DeleteTopicsV0(broker, {kOffsetsTopic});

  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0], ErrorCode::kNone);
  store_.Reopen();
  ASSERT_OK_AND_ASSIGN(OffsetStore offsets, OffsetStore::Open(store_.get()));
  ASSERT_TRUE(offsets.Find("group", "events", 0).has_value());
  EXPECT_EQ(offsets.Find("group", "events", 0)->offset, 42);
}

// The error code of each topic in the CreateTopics v0 response to a request
// creating `name` with `partitions` partitions.
ErrorCode CreateTopicV0(Broker& broker, const std::string& name,
                        int32_t partitions) {
  const std::string body = Encode([&](WireWriter& writer) {
    writer.ArrayLength(1, /*compact=*/false);
    writer.String(name, false);
    writer.Int32(partitions);
    writer.Int16(1);               // replication_factor
    writer.ArrayLength(0, false);  // assignments
    writer.ArrayLength(0, false);  // configs
    writer.Int32(1000);            // timeout_ms
  });
  RequestHeader header;
  header.api_key = static_cast<int16_t>(ApiKey::kCreateTopics);
  header.api_version = 0;
  header.correlation_id = 1;
  WireReader request(body);
  absl::StatusOr<Response> response =
      HandleCreateTopics(broker, header, request);
  EXPECT_OK(response);
  if (!response.ok()) return ErrorCode::kUnknownServerError;
  WireReader reader(response->parts[0].bytes);
  reader.Int32();  // size
  reader.Int32();  // correlation id
  EXPECT_EQ(reader.ArrayLength(false), 1);
  EXPECT_EQ(reader.String(false), name);
  const auto error = static_cast<ErrorCode>(reader.Int16());
  EXPECT_TRUE(reader.ok()) << reader.error();
  return error;
}

// Found by kafka_request_fuzz: a CreateTopics asking for 524291
// partitions made the server create half a million logs, one request
// taking minutes and the disk with it. A topic gets at most
// max_partitions.
TEST(CreateTopicsTest, RefusesMorePartitionsThanMaxPartitions) {
  TempStore store;
  ASSERT_OK_AND_ASSIGN(Topics topics, Topics::Load(store.get()));
  Broker broker(store.get(), std::move(topics),
                BrokerOptions{.max_partitions = 2});

  EXPECT_EQ(CreateTopicV0(broker, "huge", 524291),
            ErrorCode::kInvalidPartitions);
  EXPECT_EQ(CreateTopicV0(broker, "three", 3), ErrorCode::kInvalidPartitions);
  EXPECT_EQ(CreateTopicV0(broker, "two", 2), ErrorCode::kNone);

  EXPECT_EQ(broker.topics().PartitionCount("huge"), 0);
  EXPECT_EQ(broker.topics().PartitionCount("three"), 0);
  EXPECT_EQ(broker.topics().PartitionCount("two"), 2);
}

}  // namespace
}  // namespace shiplog::kafka
