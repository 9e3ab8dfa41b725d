#include <optional>
#include <string>
#include <vector>

#include "bindings/kafka/handlers.h"
#include "bindings/kafka/offset_store.h"
#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {
namespace {

struct MetadataRequest {
  // nullopt: every topic.
  std::optional<std::vector<std::string>> topics;
  bool allow_auto_topic_creation = true;
};

MetadataRequest ReadMetadataRequest(int16_t version, bool flexible,
                                    WireReader& body) {
  MetadataRequest request;
  const int32_t count = body.ArrayLength(flexible, /*min_element_bytes=*/2);
  // v0 has no null array: an empty one means every topic.
  if (count > 0 || (count == 0 && version >= 1)) {
    request.topics.emplace();
    for (int32_t i = 0; i < count && body.ok(); ++i) {
      request.topics->push_back(body.String(flexible));
      body.TaggedFields(flexible);
    }
  }
  if (version >= 4) request.allow_auto_topic_creation = body.Int8() != 0;
  if (version >= 8) {
    body.Int8();  // include_cluster_authorized_operations
    body.Int8();  // include_topic_authorized_operations
  }
  body.TaggedFields(flexible);
  return request;
}

void WriteTopic(Broker& broker, const std::string& name, int16_t version,
                WireWriter& out, bool flexible) {
  int32_t partitions = broker.topics().PartitionCount(name);
  ErrorCode error = ErrorCode::kNone;
  if (partitions == 0) {
    error = Topics::CheckName(name, 1).ok()
                ? ErrorCode::kUnknownTopicOrPartition
                : ErrorCode::kInvalidTopicException;
  }
  out.Int16(static_cast<int16_t>(error));
  out.String(name, flexible);
  if (version >= 1) out.Int8(name == kOffsetsTopic ? 1 : 0);  // is_internal
  out.ArrayLength(partitions, flexible);
  const int32_t node = broker.options().node_id;
  for (int32_t partition = 0; partition < partitions; ++partition) {
    const bool present = broker.topics().Find(name, partition) != nullptr;
    out.Int16(static_cast<int16_t>(
        present ? ErrorCode::kNone : ErrorCode::kLeaderNotAvailable));
    out.Int32(partition);
    out.Int32(present ? node : -1);  // leader_id
    if (version >= 7) out.Int32(0);  // leader_epoch
    for (int list = 0; list < 2; ++list) {  // replica_nodes, isr_nodes
      out.ArrayLength(1, flexible);
      out.Int32(node);
    }
    if (version >= 5) out.ArrayLength(0, flexible);  // offline_replicas
    out.TaggedFields(flexible);
  }
  if (version >= 8) out.Int32(INT32_MIN);  // topic_authorized_operations
  out.TaggedFields(flexible);
}

}  // namespace

absl::StatusOr<Response> HandleMetadata(Broker& broker,
                                        const RequestHeader& header,
                                        WireReader& body) {
  const int16_t version = header.api_version;
  const MetadataRequest request =
      ReadMetadataRequest(version, header.flexible, body);
  body.ExpectEnd();
  if (!body.ok()) return absl::InvalidArgumentError(body.error());

  std::vector<std::string> names;
  if (request.topics.has_value()) {
    names = *request.topics;
    for (const std::string& name : names) {
      if (request.allow_auto_topic_creation &&
          broker.topics().PartitionCount(name) == 0) {
        broker.Partition(name, 0, /*create_topic=*/true);
      }
    }
  } else {
    for (const auto& [name, partitions] : broker.topics().List()) {
      names.push_back(name);
    }
  }

  ResponseBuilder response(header);
  WireWriter& out = response.body();
  const bool flexible = response.flexible();
  if (version >= 3) out.Int32(0);  // throttle_time_ms
  out.ArrayLength(1, flexible);    // brokers
  out.Int32(broker.options().node_id);
  out.String(broker.options().advertised_host, flexible);
  out.Int32(broker.options().advertised_port);
  if (version >= 1) out.NullableString(std::nullopt, flexible);  // rack
  out.TaggedFields(flexible);
  if (version >= 2) out.NullableString(broker.options().cluster_id, flexible);
  if (version >= 1) out.Int32(broker.options().node_id);  // controller_id
  out.ArrayLength(static_cast<int32_t>(names.size()), flexible);
  for (const std::string& name : names) {
    WriteTopic(broker, name, version, out, flexible);
  }
  if (version >= 8) out.Int32(INT32_MIN);  // cluster_authorized_operations
  out.TaggedFields(flexible);
  return std::move(response).Finish();
}

}  // namespace shiplog::kafka
