#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/kafka/handlers.h"
#include "bindings/kafka/offset_store.h"
#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {
namespace {

constexpr int16_t kAcksNone = 0;
constexpr int16_t kAcksLeader = 1;
constexpr int16_t kAcksAll = -1;

struct PartitionResult {
  int32_t index = 0;
  ErrorCode error = ErrorCode::kNone;
  int64_t base_offset = -1;
  int64_t log_start_offset = -1;
  std::optional<std::string> message;
};

struct TopicResult {
  std::string name;
  std::vector<PartitionResult> partitions;
};

// Appends one partition's record set. The records' bytes are the
// connection's own request buffer: offsets are written into them in place
// (baseOffset lies outside the CRC), then they are appended as they are.
PartitionResult Append(Broker& broker, const std::string& topic,
                       int32_t index, std::optional<absl::string_view> records,
                       std::set<shiplog_log*>* written) {
  PartitionResult result;
  result.index = index;
  if (!Topics::CheckName(topic, index + 1).ok()) {
    result.error = ErrorCode::kInvalidTopicException;
    return result;
  }
  if (topic == kOffsetsTopic) {
    result.error = ErrorCode::kInvalidTopicException;
    result.message = "__consumer_offsets is written by the group coordinator";
    return result;
  }
  shiplog_log* log = broker.Partition(topic, index, /*create_topic=*/true);
  if (log == nullptr) {
    result.error = ErrorCode::kUnknownTopicOrPartition;
    return result;
  }
  if (!records.has_value() || records->empty()) {
    result.error = ErrorCode::kCorruptMessage;
    result.message = "a produce request needs at least one record batch";
    return result;
  }
  shiplog_append_result appended;
  const int status = shiplog_log_append_batches(
      &appended, log, const_cast<char*>(records->data()), records->size());
  if (status != SHIPLOG_OK) {
    // The library refuses a well-formed record set only when it is larger
    // than a segment may be (segment.bytes): Kafka's RECORD_LIST_TOO_LARGE.
    result.error = status == SHIPLOG_EINVAL ? ErrorCode::kRecordListTooLarge
                                            : ErrorForStatus(status);
    result.message = shiplog_last_error();
    return result;
  }
  written->insert(log);
  result.base_offset = appended.base_offset;
  shiplog_log_start_offset(&result.log_start_offset, log);
  return result;
}

}  // namespace

absl::StatusOr<std::optional<Response>> HandleProduce(
    Broker& broker, const RequestHeader& header, WireReader& body) {
  const int16_t version = header.api_version;
  const bool flexible = header.flexible;
  body.NullableString(flexible);  // transactional_id
  const int16_t acks = body.Int16();
  body.Int32();  // timeout_ms: appends do not wait on other replicas
  std::vector<TopicResult> topics;
  std::set<shiplog_log*> written;
  const int32_t topic_count = body.ArrayLength(flexible, 6);
  for (int32_t t = 0; t < topic_count && body.ok(); ++t) {
    TopicResult& topic = topics.emplace_back();
    topic.name = body.String(flexible);
    const int32_t partition_count = body.ArrayLength(flexible, 8);
    for (int32_t p = 0; p < partition_count && body.ok(); ++p) {
      const int32_t index = body.Int32();
      const std::optional<absl::string_view> records =
          body.NullableBytes(flexible);
      body.TaggedFields(flexible);
      if (!body.ok()) break;
      if (acks != kAcksNone && acks != kAcksLeader && acks != kAcksAll) {
        topic.partitions.push_back(
            {index, ErrorCode::kInvalidRequiredAcks, -1, -1,
             absl::StrCat("acks must be 0, 1 or -1, not ", acks)});
        continue;
      }
      topic.partitions.push_back(
          Append(broker, topic.name, index, records, &written));
    }
    body.TaggedFields(flexible);
  }
  body.TaggedFields(flexible);
  body.ExpectEnd();
  if (!body.ok()) return absl::InvalidArgumentError(body.error());

  if (acks == kAcksAll) {
    for (shiplog_log* log : written) {
      const int status = shiplog_log_flush(log);
      if (status == SHIPLOG_OK) continue;
      for (TopicResult& topic : topics) {
        for (PartitionResult& partition : topic.partitions) {
          if (broker.topics().Find(topic.name, partition.index) == log) {
            partition.error = ErrorForStatus(status);
            partition.message = shiplog_last_error();
          }
        }
      }
    }
  }
  if (acks == kAcksNone) return std::optional<Response>();

  ResponseBuilder response(header);
  WireWriter& out = response.body();
  out.ArrayLength(static_cast<int32_t>(topics.size()), flexible);
  for (const TopicResult& topic : topics) {
    out.String(topic.name, flexible);
    out.ArrayLength(static_cast<int32_t>(topic.partitions.size()), flexible);
    for (const PartitionResult& partition : topic.partitions) {
      out.Int32(partition.index);
      out.Int16(static_cast<int16_t>(partition.error));
      out.Int64(partition.base_offset);
      out.Int64(-1);  // log_append_time_ms: timestamps are the producer's
      if (version >= 5) out.Int64(partition.log_start_offset);
      if (version >= 8) {
        out.ArrayLength(0, flexible);  // record_errors
        out.NullableString(partition.message, flexible);
      }
      out.TaggedFields(flexible);
    }
    out.TaggedFields(flexible);
  }
  out.Int32(0);  // throttle_time_ms
  out.TaggedFields(flexible);
  absl::StatusOr<Response> finished = std::move(response).Finish();
  if (!finished.ok()) return finished.status();
  return std::optional<Response>(*std::move(finished));
}

}  // namespace shiplog::kafka
