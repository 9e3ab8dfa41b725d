#include "bindings/kafka/fetch.h"

#include <algorithm>

#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {
namespace {

// One partition's answer: its offsets, and the range to send if any.
struct PartitionAnswer {
  int32_t index = 0;
  ErrorCode error = ErrorCode::kNone;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;
  cli::Owned<shiplog_sender> records;
  uint64_t records_size = 0;
};

// Resolves one partition's range within `budget` bytes of the response's
// max_bytes. The first partition with records gets at least one whole
// batch, however large (KIP-74); later ones only what fits.
PartitionAnswer AnswerPartition(Broker& broker, const std::string& topic,
                                const FetchRequest::Partition& partition,
                                uint64_t budget, bool first_records, int fd) {
  PartitionAnswer answer;
  answer.index = partition.index;
  const shiplog_log* log = broker.topics().Find(topic, partition.index);
  if (log == nullptr) {
    answer.error = ErrorCode::kUnknownTopicOrPartition;
    return answer;
  }
  shiplog_log_end_offset(&answer.high_watermark, log);
  shiplog_log_start_offset(&answer.log_start_offset, log);
  if (partition.offset < answer.log_start_offset ||
      partition.offset > answer.high_watermark) {
    answer.error = ErrorCode::kOffsetOutOfRange;
    return answer;
  }
  if (partition.offset == answer.high_watermark || partition.max_bytes <= 0) {
    return answer;
  }
  if (budget == 0 && !first_records) return answer;
  const uint64_t max_bytes =
      std::min<uint64_t>(static_cast<uint64_t>(partition.max_bytes), budget);
  shiplog_send_options options = SHIPLOG_SEND_OPTIONS_INIT;
  options.policy = broker.options().send_policy;
  options.cold_read_lag_bytes = broker.options().cold_read_lag_bytes;
  shiplog_sender* sender = nullptr;
  const int status = shiplog_sender_open(&sender, log, partition.offset,
                                         std::max<uint64_t>(max_bytes, 1), fd,
                                         &options);
  if (status != SHIPLOG_OK) {
    answer.error = ErrorForStatus(status);
    return answer;
  }
  cli::Owned<shiplog_sender> owned(sender);
  uint64_t size = 0;
  shiplog_sender_size(&size, sender);
  // Past the budget only because a batch is never split: the first
  // partition with records keeps it; later ones send nothing this time.
  if (size > max_bytes && !first_records) return answer;
  answer.records = std::move(owned);
  answer.records_size = size;
  return answer;
}

}  // namespace

absl::StatusOr<FetchRequest> ReadFetchRequest(const RequestHeader& header,
                                              WireReader& body) {
  const int16_t version = header.api_version;
  const bool flexible = header.flexible;
  FetchRequest request;
  request.replica_id = body.Int32();
  request.max_wait_ms = body.Int32();
  request.min_bytes = body.Int32();
  request.max_bytes = body.Int32();
  body.Int8();  // isolation_level: every record is committed here
  if (version >= 7) {
    body.Int32();  // session_id: no sessions, every fetch is a full one
    body.Int32();  // session_epoch
  }
  const int32_t topic_count = body.ArrayLength(flexible, 6);
  for (int32_t t = 0; t < topic_count && body.ok(); ++t) {
    FetchRequest::Topic& topic = request.topics.emplace_back();
    topic.name = body.String(flexible);
    const int32_t partition_count = body.ArrayLength(flexible, 16);
    for (int32_t p = 0; p < partition_count && body.ok(); ++p) {
      FetchRequest::Partition& partition = topic.partitions.emplace_back();
      partition.index = body.Int32();
      if (version >= 9) body.Int32();  // current_leader_epoch
      partition.offset = body.Int64();
      if (version >= 5) body.Int64();  // log_start_offset (a follower's)
      partition.max_bytes = body.Int32();
      body.TaggedFields(flexible);
    }
    body.TaggedFields(flexible);
  }
  if (version >= 7) {
    const int32_t forgotten = body.ArrayLength(flexible, 6);
    for (int32_t f = 0; f < forgotten && body.ok(); ++f) {
      body.String(flexible);
      const int32_t indexes = body.ArrayLength(flexible, 4);
      for (int32_t i = 0; i < indexes && body.ok(); ++i) body.Int32();
      body.TaggedFields(flexible);
    }
  }
  if (version >= 11) body.String(flexible);  // rack_id
  body.TaggedFields(flexible);
  body.ExpectEnd();
  if (!body.ok()) return absl::InvalidArgumentError(body.error());
  if (request.max_bytes < 0) request.max_bytes = 0;
  return request;
}

absl::StatusOr<std::optional<Response>> AnswerFetch(
    Broker& broker, const RequestHeader& header, const FetchRequest& request,
    int fd, bool final) {
  std::vector<std::vector<PartitionAnswer>> answers;
  uint64_t budget = static_cast<uint64_t>(request.max_bytes);
  uint64_t total = 0;
  bool has_error = false;
  for (const FetchRequest::Topic& topic : request.topics) {
    std::vector<PartitionAnswer>& topic_answers = answers.emplace_back();
    for (const FetchRequest::Partition& partition : topic.partitions) {
      PartitionAnswer answer = AnswerPartition(broker, topic.name, partition,
                                               budget, total == 0, fd);
      has_error = has_error || answer.error != ErrorCode::kNone;
      total += answer.records_size;
      budget -= std::min(budget, answer.records_size);
      topic_answers.push_back(std::move(answer));
    }
  }
  // Kafka answers at once when it has min_bytes, or an error to report.
  if (!final && !has_error &&
      total < static_cast<uint64_t>(std::max(request.min_bytes, 1))) {
    return std::optional<Response>();
  }

  const int16_t version = header.api_version;
  const bool flexible = header.flexible;
  ResponseBuilder response(header);
  WireWriter& out = response.body();
  out.Int32(0);  // throttle_time_ms
  if (version >= 7) {
    out.Int16(0);  // error_code
    out.Int32(0);  // session_id: none
  }
  out.ArrayLength(static_cast<int32_t>(answers.size()), flexible);
  for (size_t t = 0; t < answers.size(); ++t) {
    out.String(request.topics[t].name, flexible);
    out.ArrayLength(static_cast<int32_t>(answers[t].size()), flexible);
    for (PartitionAnswer& answer : answers[t]) {
      out.Int32(answer.index);
      out.Int16(static_cast<int16_t>(answer.error));
      out.Int64(answer.high_watermark);
      out.Int64(answer.high_watermark);  // last_stable_offset
      if (version >= 5) out.Int64(answer.log_start_offset);
      out.ArrayLength(-1, flexible);  // aborted_transactions: none
      if (version >= 11) out.Int32(-1);  // preferred_read_replica
      out.BytesLength(static_cast<int32_t>(answer.records_size), flexible);
      if (answer.records != nullptr) {
        response.AppendRecords(std::move(answer.records), answer.records_size);
      }
      out.TaggedFields(flexible);
    }
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
  absl::StatusOr<Response> finished = std::move(response).Finish();
  if (!finished.ok()) return finished.status();
  return std::optional<Response>(*std::move(finished));
}

}  // namespace shiplog::kafka
