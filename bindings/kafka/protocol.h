// What the server speaks of the Kafka protocol: the API keys it serves with
// their version ranges (what ApiVersions advertises), the first flexible
// version of each (compact fields and tagged fields from there on), and the
// error codes it answers with. PROTOCOL.md says why these versions.
#ifndef SHIPLOG_BINDINGS_KAFKA_PROTOCOL_H_
#define SHIPLOG_BINDINGS_KAFKA_PROTOCOL_H_

#include <cstdint>
#include <optional>

#include "absl/types/span.h"

namespace shiplog::kafka {

enum class ApiKey : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kOffsetCommit = 8,
  kOffsetFetch = 9,
  kFindCoordinator = 10,
  kJoinGroup = 11,
  kHeartbeat = 12,
  kLeaveGroup = 13,
  kSyncGroup = 14,
  kApiVersions = 18,
  kCreateTopics = 19,
  kDeleteTopics = 20,
};

struct ApiVersionRange {
  ApiKey key;
  int16_t min_version;
  int16_t max_version;
  // Versions from this one on are flexible (KIP-482).
  int16_t first_flexible_version;
};

// Every API the server serves, in key order.
absl::Span<const ApiVersionRange> SupportedApis();

// The range of `key`, or nullopt if the server does not serve it.
std::optional<ApiVersionRange> FindApi(int16_t key);

// Kafka's error codes, those the server sends.
enum class ErrorCode : int16_t {
  kUnknownServerError = -1,
  kNone = 0,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kInvalidFetchSize = 4,
  kLeaderNotAvailable = 5,
  kRequestTimedOut = 7,
  kMessageTooLarge = 10,
  kCoordinatorNotAvailable = 15,
  kNotCoordinator = 16,
  kInvalidTopicException = 17,
  kRecordListTooLarge = 18,
  kInvalidRequiredAcks = 21,
  kIllegalGeneration = 22,
  kInconsistentGroupProtocol = 23,
  kInvalidGroupId = 24,
  kUnknownMemberId = 25,
  kInvalidSessionTimeout = 26,
  kRebalanceInProgress = 27,
  kUnsupportedVersion = 35,
  kTopicAlreadyExists = 36,
  kInvalidPartitions = 37,
  kInvalidReplicationFactor = 38,
  kInvalidRequest = 42,
  kPolicyViolation = 44,
  kKafkaStorageError = 56,
  kGroupIdNotFound = 69,
  kMemberIdRequired = 79,
};

// The code for a failed C ABI call's status (SHIPLOG_ECORRUPT is
// CORRUPT_MESSAGE, SHIPLOG_ERANGE OFFSET_OUT_OF_RANGE, ...).
ErrorCode ErrorForStatus(int shiplog_status);

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_PROTOCOL_H_
