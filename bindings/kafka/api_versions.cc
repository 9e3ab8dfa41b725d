#include "bindings/kafka/handlers.h"
#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {

absl::StatusOr<Response> HandleApiVersions(const RequestHeader& header,
                                           WireReader& body) {
  const ApiVersionRange self =
      *FindApi(static_cast<int16_t>(ApiKey::kApiVersions));
  const bool known = header.api_version >= self.min_version &&
                     header.api_version <= self.max_version;
  if (known && header.flexible) {
    body.String(/*compact=*/true);  // client_software_name
    body.String(/*compact=*/true);  // client_software_version
    body.SkipTaggedFields();
  }
  // A newer client's body is not ours to read (KIP-511): answer in v0.
  if (known && !body.ok()) return absl::InvalidArgumentError(body.error());

  RequestHeader answer = header;
  if (!known) {
    answer.api_version = 0;
    answer.flexible = false;
  }
  ResponseBuilder response(answer);
  WireWriter& out = response.body();
  const bool flexible = response.flexible();
  out.Int16(static_cast<int16_t>(known ? ErrorCode::kNone
                                       : ErrorCode::kUnsupportedVersion));
  out.ArrayLength(static_cast<int32_t>(SupportedApis().size()), flexible);
  for (const ApiVersionRange& api : SupportedApis()) {
    out.Int16(static_cast<int16_t>(api.key));
    out.Int16(api.min_version);
    out.Int16(api.max_version);
    out.TaggedFields(flexible);
  }
  if (response.version() >= 1) out.Int32(0);  // throttle_time_ms
  out.TaggedFields(flexible);
  return std::move(response).Finish();
}

absl::StatusOr<Response> UnsupportedVersion(const RequestHeader& header) {
  RequestHeader answer = header;
  answer.flexible = false;
  ResponseBuilder response(answer);
  response.body().Int16(static_cast<int16_t>(ErrorCode::kUnsupportedVersion));
  return std::move(response).Finish();
}

}  // namespace shiplog::kafka
