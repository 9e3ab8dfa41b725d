// CreateTopics and DeleteTopics.
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bindings/kafka/handlers.h"
#include "bindings/kafka/offset_store.h"
#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {
namespace {

constexpr ErrorCode kInvalidConfig = static_cast<ErrorCode>(40);

// The topic configs that are log settings, by Kafka's names.
struct ConfigField {
  const char* name;
  int64_t shiplog_log_options::*field;
};
constexpr ConfigField kConfigs[] = {
    {"segment.bytes", &shiplog_log_options::segment_bytes},
    {"segment.index.bytes", &shiplog_log_options::segment_index_bytes},
    {"index.interval.bytes", &shiplog_log_options::index_interval_bytes},
    {"segment.ms", &shiplog_log_options::segment_ms},
    {"retention.ms", &shiplog_log_options::retention_ms},
    {"retention.bytes", &shiplog_log_options::retention_bytes},
    {"flush.messages", &shiplog_log_options::flush_messages},
    {"flush.ms", &shiplog_log_options::flush_ms},
};

// Sets config `name` to `value` in `options`; an error for a config that
// is no log setting or a value that is no integer. The library checks the
// ranges when the logs are created.
absl::Status ApplyConfig(const std::string& name,
                         const std::optional<std::string>& value,
                         shiplog_log_options* options) {
  for (const ConfigField& config : kConfigs) {
    if (name != config.name) continue;
    if (!value.has_value()) return absl::OkStatus();  // null: the default
    int64_t number = 0;
    if (!absl::SimpleAtoi(*value, &number)) {
      return absl::InvalidArgumentError(
          absl::StrCat("config ", name, " needs an integer, not \"", *value,
                       "\""));
    }
    options->*config.field = number;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "config ", name, " is not supported; topics take segment.bytes, "
      "segment.index.bytes, index.interval.bytes, segment.ms, retention.ms, "
      "retention.bytes, flush.messages and flush.ms"));
}

struct TopicResult {
  std::string name;
  ErrorCode error = ErrorCode::kNone;
  std::optional<std::string> message;
};

TopicResult Failed(std::string name, ErrorCode error, std::string message) {
  return {std::move(name), error, std::move(message)};
}

TopicResult CreateTopic(Broker& broker, std::string name, int32_t partitions,
                        int16_t replication_factor, int32_t assignments,
                        const absl::Status& configs,
                        const shiplog_log_options& options,
                        bool validate_only) {
  if (!configs.ok()) {
    return Failed(std::move(name), kInvalidConfig,
                  std::string(configs.message()));
  }
  if (partitions == -1) partitions = broker.options().default_partitions;
  if (assignments > 0) {
    return Failed(std::move(name), ErrorCode::kInvalidRequest,
                  "manual replica assignment is not supported: a single node "
                  "leads every partition");
  }
  if (replication_factor != 1 && replication_factor != -1) {
    return Failed(std::move(name), ErrorCode::kInvalidReplicationFactor,
                  "a single node keeps one replica: replication factor must "
                  "be 1");
  }
  if (partitions < 1) {
    return Failed(std::move(name), ErrorCode::kInvalidPartitions,
                  "a topic needs at least one partition");
  }
  if (partitions > broker.options().max_partitions) {
    return Failed(std::move(name), ErrorCode::kInvalidPartitions,
                  absl::StrCat("a topic may have at most ",
                               broker.options().max_partitions,
                               " partitions, not ", partitions));
  }
  if (absl::Status valid = Topics::CheckName(name, partitions); !valid.ok()) {
    return Failed(std::move(name), ErrorCode::kInvalidTopicException,
                  std::string(valid.message()));
  }
  if (broker.topics().PartitionCount(name) > 0) {
    return Failed(std::move(name), ErrorCode::kTopicAlreadyExists,
                  "topic " + name + " already exists");
  }
  if (!validate_only) {
    if (absl::Status created =
            broker.topics().Create(name, partitions, options);
        !created.ok()) {
      return Failed(std::move(name),
                    absl::IsInvalidArgument(created)
                        ? kInvalidConfig
                        : ErrorCode::kKafkaStorageError,
                    std::string(created.message()));
    }
  }
  return {std::move(name), ErrorCode::kNone, std::nullopt};
}

}  // namespace

absl::StatusOr<Response> HandleCreateTopics(Broker& broker,
                                            const RequestHeader& header,
                                            WireReader& body) {
  const int16_t version = header.api_version;
  const bool flexible = header.flexible;
  struct Request {
    std::string name;
    int32_t partitions;
    int16_t replication_factor;
    int32_t assignments;
    absl::Status configs;
    shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
  };
  std::vector<Request> requests;
  const int32_t count = body.ArrayLength(flexible, 16);
  for (int32_t i = 0; i < count && body.ok(); ++i) {
    Request& request = requests.emplace_back();
    request.name = body.String(flexible);
    request.partitions = body.Int32();
    request.replication_factor = body.Int16();
    request.assignments = body.ArrayLength(flexible, 8);
    for (int32_t a = 0; a < request.assignments && body.ok(); ++a) {
      body.Int32();  // partition_index
      const int32_t brokers = body.ArrayLength(flexible, 4);
      for (int32_t b = 0; b < brokers && body.ok(); ++b) body.Int32();
      body.TaggedFields(flexible);
    }
    const int32_t configs = body.ArrayLength(flexible, 4);
    for (int32_t c = 0; c < configs && body.ok(); ++c) {
      const std::string name = body.String(flexible);
      const std::optional<std::string> value = body.NullableString(flexible);
      body.TaggedFields(flexible);
      if (request.configs.ok()) {
        request.configs = ApplyConfig(name, value, &request.options);
      }
    }
    body.TaggedFields(flexible);
  }
  body.Int32();  // timeout_ms
  const bool validate_only = version >= 1 && body.Int8() != 0;
  body.TaggedFields(flexible);
  body.ExpectEnd();
  if (!body.ok()) return absl::InvalidArgumentError(body.error());

  ResponseBuilder response(header);
  WireWriter& out = response.body();
  if (version >= 2) out.Int32(0);  // throttle_time_ms
  out.ArrayLength(static_cast<int32_t>(requests.size()), flexible);
  for (Request& request : requests) {
    const TopicResult result = CreateTopic(
        broker, std::move(request.name), request.partitions,
        request.replication_factor, request.assignments, request.configs,
        request.options, validate_only);
    out.String(result.name, flexible);
    out.Int16(static_cast<int16_t>(result.error));
    if (version >= 1) out.NullableString(result.message, flexible);
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
  return std::move(response).Finish();
}

absl::StatusOr<Response> HandleDeleteTopics(Broker& broker,
                                            const RequestHeader& header,
                                            WireReader& body) {
  const bool flexible = header.flexible;
  std::vector<std::string> names;
  const int32_t count = body.ArrayLength(flexible, 2);
  for (int32_t i = 0; i < count && body.ok(); ++i) {
    names.push_back(body.String(flexible));
  }
  body.Int32();  // timeout_ms
  body.TaggedFields(flexible);
  body.ExpectEnd();
  if (!body.ok()) return absl::InvalidArgumentError(body.error());

  ResponseBuilder response(header);
  WireWriter& out = response.body();
  if (header.api_version >= 1) out.Int32(0);  // throttle_time_ms
  out.ArrayLength(static_cast<int32_t>(names.size()), flexible);
  for (const std::string& name : names) {
    const absl::Status deleted =
        name == kOffsetsTopic
            ? absl::InvalidArgumentError("internal topic")
            : broker.topics().Delete(name);
    out.String(name, flexible);
    out.Int16(static_cast<int16_t>(
        deleted.ok()                       ? ErrorCode::kNone
        : absl::IsNotFound(deleted)        ? ErrorCode::kUnknownTopicOrPartition
        : absl::IsInvalidArgument(deleted) ? ErrorCode::kInvalidTopicException
                                           : ErrorCode::kKafkaStorageError));
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
  return std::move(response).Finish();
}

}  // namespace shiplog::kafka
