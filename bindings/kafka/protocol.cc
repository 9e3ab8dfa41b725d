#include "bindings/kafka/protocol.h"

#include "shiplog.h"

namespace shiplog::kafka {
namespace {

// Data plane: the newest versions before each API turned flexible, which is
// what Debian's clients (librdkafka 2.0, kafka-python 2.0) negotiate down
// to. ApiVersions 3 is flexible and librdkafka opens with it.
constexpr ApiVersionRange kApis[] = {
    {ApiKey::kProduce, 3, 8, 9},       {ApiKey::kFetch, 4, 11, 12},
    {ApiKey::kListOffsets, 1, 5, 6},   {ApiKey::kMetadata, 0, 8, 9},
    {ApiKey::kOffsetCommit, 0, 7, 8},  {ApiKey::kOffsetFetch, 0, 5, 6},
    {ApiKey::kFindCoordinator, 0, 2, 3}, {ApiKey::kJoinGroup, 0, 5, 6},
    {ApiKey::kHeartbeat, 0, 3, 4},     {ApiKey::kLeaveGroup, 0, 3, 4},
    {ApiKey::kSyncGroup, 0, 3, 4},     {ApiKey::kApiVersions, 0, 3, 3},
    {ApiKey::kCreateTopics, 0, 4, 5},  {ApiKey::kDeleteTopics, 0, 3, 4},
};

}  // namespace

absl::Span<const ApiVersionRange> SupportedApis() { return kApis; }

std::optional<ApiVersionRange> FindApi(int16_t key) {
  for (const ApiVersionRange& api : kApis) {
    if (static_cast<int16_t>(api.key) == key) return api;
  }
  return std::nullopt;
}

ErrorCode ErrorForStatus(int shiplog_status) {
  switch (shiplog_status) {
    case SHIPLOG_OK:
      return ErrorCode::kNone;
    case SHIPLOG_ERANGE:
      return ErrorCode::kOffsetOutOfRange;
    case SHIPLOG_ECORRUPT:
      return ErrorCode::kCorruptMessage;
    case SHIPLOG_ENOTFOUND:
      return ErrorCode::kUnknownTopicOrPartition;
    case SHIPLOG_EINVAL:
      return ErrorCode::kInvalidRequest;
    case SHIPLOG_EREADONLY:
    case SHIPLOG_ENOSPC:
    case SHIPLOG_EIO:
      return ErrorCode::kKafkaStorageError;
    case SHIPLOG_EUNSUPPORTED:
      return ErrorCode::kCorruptMessage;
    default:
      return ErrorCode::kUnknownServerError;
  }
}

}  // namespace shiplog::kafka
