#include "bindings/kafka/groups.h"

#include <string>
#include <utility>
#include <vector>

#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {
namespace {

absl::Status Decoded(WireReader& body, bool flexible) {
  body.TaggedFields(flexible);
  body.ExpectEnd();
  if (!body.ok()) return absl::InvalidArgumentError(body.error());
  return absl::OkStatus();
}

// Responses of the APIs whose body is throttle_time_ms (from
// `throttle_version` on) and an error code.
absl::StatusOr<Response> ErrorOnly(const RequestHeader& header,
                                   int16_t throttle_version, ErrorCode error) {
  ResponseBuilder response(header);
  if (header.api_version >= throttle_version) response.body().Int32(0);
  response.body().Int16(static_cast<int16_t>(error));
  response.body().TaggedFields(response.flexible());
  return std::move(response).Finish();
}

}  // namespace

bool Groups::IsGroupApi(int16_t api_key) {
  switch (static_cast<ApiKey>(api_key)) {
    case ApiKey::kFindCoordinator:
    case ApiKey::kJoinGroup:
    case ApiKey::kSyncGroup:
    case ApiKey::kHeartbeat:
    case ApiKey::kLeaveGroup:
    case ApiKey::kOffsetCommit:
    case ApiKey::kOffsetFetch:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::optional<Response>> Groups::Handle(
    const RequestHeader& header, WireReader& body, uint64_t connection_id,
    int64_t now_ms) {
  absl::StatusOr<Response> response;
  switch (static_cast<ApiKey>(header.api_key)) {
    case ApiKey::kJoinGroup: {
      absl::Status joined = JoinGroup(header, body, connection_id, now_ms);
      if (!joined.ok()) return joined;
      return std::optional<Response>();
    }
    case ApiKey::kSyncGroup: {
      absl::Status synced = SyncGroup(header, body, connection_id, now_ms);
      if (!synced.ok()) return synced;
      return std::optional<Response>();
    }
    case ApiKey::kFindCoordinator:
      response = FindCoordinator(header, body);
      break;
    case ApiKey::kHeartbeat:
      response = Heartbeat(header, body, now_ms);
      break;
    case ApiKey::kLeaveGroup:
      response = LeaveGroup(header, body, now_ms);
      break;
    case ApiKey::kOffsetCommit:
      response = OffsetCommit(header, body);
      break;
    default:
      response = OffsetFetch(header, body);
      break;
  }
  if (!response.ok()) return response.status();
  return std::optional<Response>(*std::move(response));
}

absl::StatusOr<Response> Groups::FindCoordinator(const RequestHeader& header,
                                                 WireReader& body) {
  const bool flexible = header.flexible;
  body.String(flexible);                       // key: any group is ours
  if (header.api_version >= 1) body.Int8();    // key_type
  if (absl::Status status = Decoded(body, flexible); !status.ok()) {
    return status;
  }
  ResponseBuilder response(header);
  WireWriter& out = response.body();
  if (header.api_version >= 1) out.Int32(0);  // throttle_time_ms
  out.Int16(0);
  if (header.api_version >= 1) out.NullableString(std::nullopt, flexible);
  out.Int32(broker_.options().node_id);
  out.String(broker_.options().advertised_host, flexible);
  out.Int32(broker_.options().advertised_port);
  out.TaggedFields(flexible);
  return std::move(response).Finish();
}

absl::Status Groups::JoinGroup(const RequestHeader& header, WireReader& body,
                               uint64_t connection_id, int64_t now_ms) {
  const int16_t version = header.api_version;
  const bool flexible = header.flexible;
  JoinGroupRequest request;
  request.client_id = header.client_id.value_or("");
  request.group_id = body.String(flexible);
  request.session_timeout_ms = body.Int32();
  request.rebalance_timeout_ms = version >= 1 ? body.Int32() : 0;
  request.member_id = body.String(flexible);
  if (version >= 5) body.NullableString(flexible);  // group_instance_id
  request.protocol_type = body.String(flexible);
  const int32_t count = body.ArrayLength(flexible, 6);
  for (int32_t i = 0; i < count && body.ok(); ++i) {
    std::string name = body.String(flexible);
    const std::optional<absl::string_view> metadata =
        body.NullableBytes(flexible);
    body.TaggedFields(flexible);
    request.protocols.emplace_back(
        std::move(name), std::string(metadata.value_or(absl::string_view())));
  }
  if (absl::Status status = Decoded(body, flexible); !status.ok()) {
    return status;
  }
  coordinator_.Join(
      request, now_ms,
      [this, header, connection_id](const JoinGroupResult& result) {
        ResponseBuilder response(header);
        WireWriter& out = response.body();
        const bool flex = response.flexible();
        if (header.api_version >= 2) out.Int32(0);  // throttle_time_ms
        out.Int16(static_cast<int16_t>(result.error));
        out.Int32(result.generation_id);
        out.String(result.protocol_name, flex);
        out.String(result.leader, flex);
        out.String(result.member_id, flex);
        out.ArrayLength(static_cast<int32_t>(result.members.size()), flex);
        for (const auto& [member_id, metadata] : result.members) {
          out.String(member_id, flex);
          if (header.api_version >= 5) out.NullableString(std::nullopt, flex);
          out.Bytes(metadata, flex);
          out.TaggedFields(flex);
        }
        out.TaggedFields(flex);
        deliver_(connection_id, std::move(response).Finish());
      });
  return absl::OkStatus();
}

absl::Status Groups::SyncGroup(const RequestHeader& header, WireReader& body,
                               uint64_t connection_id, int64_t now_ms) {
  const bool flexible = header.flexible;
  const std::string group_id = body.String(flexible);
  const int32_t generation_id = body.Int32();
  const std::string member_id = body.String(flexible);
  if (header.api_version >= 3) body.NullableString(flexible);
  std::vector<std::pair<std::string, std::string>> assignments;
  const int32_t count = body.ArrayLength(flexible, 6);
  for (int32_t i = 0; i < count && body.ok(); ++i) {
    std::string id = body.String(flexible);
    const std::optional<absl::string_view> assignment =
        body.NullableBytes(flexible);
    body.TaggedFields(flexible);
    assignments.emplace_back(
        std::move(id), std::string(assignment.value_or(absl::string_view())));
  }
  if (absl::Status status = Decoded(body, flexible); !status.ok()) {
    return status;
  }
  coordinator_.Sync(
      group_id, generation_id, member_id, std::move(assignments), now_ms,
      [this, header, connection_id](ErrorCode error,
                                    const std::string& assignment) {
        ResponseBuilder response(header);
        WireWriter& out = response.body();
        if (header.api_version >= 1) out.Int32(0);  // throttle_time_ms
        out.Int16(static_cast<int16_t>(error));
        out.Bytes(assignment, response.flexible());
        out.TaggedFields(response.flexible());
        deliver_(connection_id, std::move(response).Finish());
      });
  return absl::OkStatus();
}

absl::StatusOr<Response> Groups::Heartbeat(const RequestHeader& header,
                                           WireReader& body, int64_t now_ms) {
  const bool flexible = header.flexible;
  const std::string group_id = body.String(flexible);
  const int32_t generation_id = body.Int32();
  const std::string member_id = body.String(flexible);
  if (header.api_version >= 3) body.NullableString(flexible);
  if (absl::Status status = Decoded(body, flexible); !status.ok()) {
    return status;
  }
  return ErrorOnly(header, 1,
                   coordinator_.Heartbeat(group_id, generation_id, member_id,
                                          now_ms));
}

absl::StatusOr<Response> Groups::LeaveGroup(const RequestHeader& header,
                                            WireReader& body,
                                            int64_t now_ms) {
  const bool flexible = header.flexible;
  const std::string group_id = body.String(flexible);
  std::vector<std::string> members;
  if (header.api_version <= 2) {
    members.push_back(body.String(flexible));
  } else {
    const int32_t count = body.ArrayLength(flexible, 4);
    for (int32_t i = 0; i < count && body.ok(); ++i) {
      members.push_back(body.String(flexible));
      body.NullableString(flexible);  // group_instance_id
      body.TaggedFields(flexible);
    }
  }
  if (absl::Status status = Decoded(body, flexible); !status.ok()) {
    return status;
  }
  std::vector<ErrorCode> errors;
  for (const std::string& member : members) {
    errors.push_back(coordinator_.Leave(group_id, member, now_ms));
  }
  if (header.api_version <= 2) return ErrorOnly(header, 1, errors.front());
  ResponseBuilder response(header);
  WireWriter& out = response.body();
  out.Int32(0);  // throttle_time_ms
  out.Int16(0);
  out.ArrayLength(static_cast<int32_t>(members.size()), flexible);
  for (size_t i = 0; i < members.size(); ++i) {
    out.String(members[i], flexible);
    out.NullableString(std::nullopt, flexible);
    out.Int16(static_cast<int16_t>(errors[i]));
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
  return std::move(response).Finish();
}

absl::StatusOr<Response> Groups::OffsetCommit(const RequestHeader& header,
                                              WireReader& body) {
  const int16_t version = header.api_version;
  const bool flexible = header.flexible;
  const std::string group_id = body.String(flexible);
  int32_t generation_id = -1;
  std::string member_id;
  if (version >= 1) {
    generation_id = body.Int32();
    member_id = body.String(flexible);
  }
  if (version >= 7) body.NullableString(flexible);  // group_instance_id
  if (version >= 2 && version <= 4) body.Int64();    // retention_time_ms
  struct Topic {
    std::string name;
    std::vector<OffsetStore::Commit> partitions;
  };
  std::vector<Topic> topics;
  const int32_t topic_count = body.ArrayLength(flexible, 6);
  for (int32_t t = 0; t < topic_count && body.ok(); ++t) {
    Topic& topic = topics.emplace_back();
    topic.name = body.String(flexible);
    const int32_t count = body.ArrayLength(flexible, 14);
    for (int32_t p = 0; p < count && body.ok(); ++p) {
      OffsetStore::Commit& commit = topic.partitions.emplace_back();
      commit.topic = topic.name;
      commit.partition = body.Int32();
      commit.committed.offset = body.Int64();
      if (version >= 6) body.Int32();   // committed_leader_epoch
      if (version == 1) body.Int64();   // commit_timestamp
      commit.committed.metadata = body.NullableString(flexible).value_or("");
      body.TaggedFields(flexible);
    }
    body.TaggedFields(flexible);
  }
  if (absl::Status status = Decoded(body, flexible); !status.ok()) {
    return status;
  }
  ErrorCode error =
      coordinator_.CheckCommit(group_id, generation_id, member_id);
  if (error == ErrorCode::kNone) {
    std::vector<OffsetStore::Commit> commits;
    for (const Topic& topic : topics) {
      commits.insert(commits.end(), topic.partitions.begin(),
                     topic.partitions.end());
    }
    const absl::Status committed = offsets_.CommitOffsets(group_id, commits);
    if (absl::IsInvalidArgument(committed)) {
      error = ErrorCode::kInvalidRequest;
    } else if (!committed.ok()) {
      error = ErrorCode::kKafkaStorageError;
    }
  }
  ResponseBuilder response(header);
  WireWriter& out = response.body();
  if (version >= 3) out.Int32(0);  // throttle_time_ms
  out.ArrayLength(static_cast<int32_t>(topics.size()), flexible);
  for (const Topic& topic : topics) {
    out.String(topic.name, flexible);
    out.ArrayLength(static_cast<int32_t>(topic.partitions.size()), flexible);
    for (const OffsetStore::Commit& commit : topic.partitions) {
      out.Int32(commit.partition);
      out.Int16(static_cast<int16_t>(error));
      out.TaggedFields(flexible);
    }
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
  return std::move(response).Finish();
}

absl::StatusOr<Response> Groups::OffsetFetch(const RequestHeader& header,
                                             WireReader& body) {
  const int16_t version = header.api_version;
  const bool flexible = header.flexible;
  const std::string group_id = body.String(flexible);
  std::vector<std::pair<std::string, std::vector<int32_t>>> topics;
  const int32_t topic_count = body.ArrayLength(flexible, 6);
  const bool all = topic_count < 0;  // v2+: null asks for every partition
  for (int32_t t = 0; t < topic_count && body.ok(); ++t) {
    auto& [name, partitions] = topics.emplace_back();
    name = body.String(flexible);
    const int32_t count = body.ArrayLength(flexible, 4);
    for (int32_t p = 0; p < count && body.ok(); ++p) {
      partitions.push_back(body.Int32());
    }
    body.TaggedFields(flexible);
  }
  if (absl::Status status = Decoded(body, flexible); !status.ok()) {
    return status;
  }
  if (all) {
    for (const auto& [topic, partition] : offsets_.Partitions(group_id)) {
      if (topics.empty() || topics.back().first != topic) {
        topics.emplace_back(topic, std::vector<int32_t>());
      }
      topics.back().second.push_back(partition);
    }
  }
  ResponseBuilder response(header);
  WireWriter& out = response.body();
  if (version >= 3) out.Int32(0);  // throttle_time_ms
  out.ArrayLength(static_cast<int32_t>(topics.size()), flexible);
  for (const auto& [name, partitions] : topics) {
    out.String(name, flexible);
    out.ArrayLength(static_cast<int32_t>(partitions.size()), flexible);
    for (const int32_t partition : partitions) {
      const std::optional<OffsetStore::Committed> committed =
          offsets_.Find(group_id, name, partition);
      out.Int32(partition);
      out.Int64(committed ? committed->offset : -1);
      if (version >= 5) out.Int32(-1);  // committed_leader_epoch
      out.NullableString(committed ? committed->metadata : "", flexible);
      out.Int16(0);
      out.TaggedFields(flexible);
    }
    out.TaggedFields(flexible);
  }
  if (version >= 2) out.Int16(0);
  out.TaggedFields(flexible);
  return std::move(response).Finish();
}

}  // namespace shiplog::kafka
