#include "bindings/kafka/message.h"

#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {
namespace {

bool IsFlexible(int16_t api_key, int16_t api_version) {
  const std::optional<ApiVersionRange> api = FindApi(api_key);
  return api.has_value() && api_version >= api->first_flexible_version &&
         api_version <= api->max_version;
}

}  // namespace

RequestHeader ReadRequestHeader(WireReader& reader) {
  RequestHeader header;
  header.api_key = reader.Int16();
  header.api_version = reader.Int16();
  header.correlation_id = reader.Int32();
  // The client id stays a classic NULLABLE_STRING even in header v2.
  header.client_id = reader.NullableString(/*compact=*/false);
  header.flexible = IsFlexible(header.api_key, header.api_version);
  if (header.flexible) reader.SkipTaggedFields();
  return header;
}

ResponseBuilder::ResponseBuilder(const RequestHeader& header)
    : response_{std::vector<Response::Part>(1), 0},
      current_(&response_.parts.back().bytes),
      writer_(current_),
      flexible_(header.flexible),
      version_(header.api_version) {
  writer_.Int32(0);  // the size, patched by Finish
  writer_.Int32(header.correlation_id);
  const bool header_v1 =
      header.flexible &&
      header.api_key != static_cast<int16_t>(ApiKey::kApiVersions);
  writer_.TaggedFields(header_v1);
}

void ResponseBuilder::AppendRecords(cli::Owned<shiplog_sender> records,
                                    uint64_t size) {
  response_.parts.back().records = std::move(records);
  response_.size += size;
  response_.parts.emplace_back();
  current_ = &response_.parts.back().bytes;
  writer_ = WireWriter(current_);
}

absl::StatusOr<Response> ResponseBuilder::Finish() && {
  uint64_t size = response_.size;
  for (const Response::Part& part : response_.parts) size += part.bytes.size();
  if (size - 4 > static_cast<uint64_t>(std::numeric_limits<int32_t>::max())) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a response of ", size, " bytes exceeds Kafka's 2 GiB"));
  }
  WireWriter(&response_.parts.front().bytes)
      .PatchInt32(0, static_cast<int32_t>(size - 4));
  response_.size = size;
  return std::move(response_);
}

}  // namespace shiplog::kafka
