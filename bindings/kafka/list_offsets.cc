#include <string>
#include <vector>

#include "bindings/kafka/handlers.h"
#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {
namespace {

constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;

struct Offset {
  ErrorCode error = ErrorCode::kNone;
  int64_t timestamp = -1;
  int64_t offset = -1;
};

// The timestamp of the record at `offset` (the first one a time lookup
// found), or -1 if it cannot be read.
int64_t TimestampAt(const shiplog_log* log, int64_t offset) {
  shiplog_records* records = nullptr;
  if (shiplog_records_open_log(&records, log, offset, 1) != SHIPLOG_OK) {
    return -1;
  }
  int64_t timestamp = -1;
  shiplog_record record;
  while (shiplog_records_next(&record, records) == SHIPLOG_OK) {
    if (record.offset >= offset) {
      timestamp = record.timestamp_ms;
      break;
    }
  }
  shiplog_records_free(records);
  return timestamp;
}

Offset Lookup(const shiplog_log* log, int64_t timestamp) {
  Offset result;
  int status = SHIPLOG_OK;
  if (timestamp == kLatest) {
    status = shiplog_log_end_offset(&result.offset, log);
  } else if (timestamp == kEarliest) {
    status = shiplog_log_start_offset(&result.offset, log);
  } else if (timestamp < 0) {
    result.error = ErrorCode::kInvalidRequest;
    return result;
  } else {
    status = shiplog_log_offset_for_time(&result.offset, log, timestamp);
    if (status == SHIPLOG_ENOTFOUND) return Offset{};  // every record older
    if (status == SHIPLOG_OK) result.timestamp = TimestampAt(log, result.offset);
  }
  if (status != SHIPLOG_OK) result = Offset{ErrorForStatus(status), -1, -1};
  return result;
}

}  // namespace

absl::StatusOr<Response> HandleListOffsets(Broker& broker,
                                           const RequestHeader& header,
                                           WireReader& body) {
  const int16_t version = header.api_version;
  const bool flexible = header.flexible;
  struct Partition {
    int32_t index;
    Offset offset;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  std::vector<Topic> topics;

  body.Int32();                    // replica_id
  if (version >= 2) body.Int8();   // isolation_level: all data is stable
  const int32_t topic_count = body.ArrayLength(flexible, 6);
  for (int32_t t = 0; t < topic_count && body.ok(); ++t) {
    Topic& topic = topics.emplace_back();
    topic.name = body.String(flexible);
    const int32_t partition_count = body.ArrayLength(flexible, 12);
    for (int32_t p = 0; p < partition_count && body.ok(); ++p) {
      const int32_t index = body.Int32();
      if (version >= 4) body.Int32();  // current_leader_epoch
      const int64_t timestamp = body.Int64();
      body.TaggedFields(flexible);
      const shiplog_log* log = broker.topics().Find(topic.name, index);
      topic.partitions.push_back(
          {index, log == nullptr
                      ? Offset{ErrorCode::kUnknownTopicOrPartition, -1, -1}
                      : Lookup(log, timestamp)});
    }
    body.TaggedFields(flexible);
  }
  body.TaggedFields(flexible);
  body.ExpectEnd();
  if (!body.ok()) return absl::InvalidArgumentError(body.error());

  ResponseBuilder response(header);
  WireWriter& out = response.body();
  if (version >= 2) out.Int32(0);  // throttle_time_ms
  out.ArrayLength(static_cast<int32_t>(topics.size()), flexible);
  for (const Topic& topic : topics) {
    out.String(topic.name, flexible);
    out.ArrayLength(static_cast<int32_t>(topic.partitions.size()), flexible);
    for (const Partition& partition : topic.partitions) {
      out.Int32(partition.index);
      out.Int16(static_cast<int16_t>(partition.offset.error));
      out.Int64(partition.offset.timestamp);
      out.Int64(partition.offset.offset);
      if (version >= 4) out.Int32(0);  // leader_epoch
      out.TaggedFields(flexible);
    }
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
  return std::move(response).Finish();
}

}  // namespace shiplog::kafka
