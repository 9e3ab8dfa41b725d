// One request as the server sees it (its header decoded, its body still
// bytes), and one response as it goes out: bytes the server wrote,
// interleaved with ranges of logs that go from the page cache to the socket
// by the transport's resumable sender (a Fetch response's record sets), so
// record bytes never enter user space.
//
// Thread-safety: plain values; not thread-safe.
#ifndef SHIPLOG_BINDINGS_KAFKA_MESSAGE_H_
#define SHIPLOG_BINDINGS_KAFKA_MESSAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bindings/cli/abi.h"
#include "bindings/kafka/wire.h"

namespace shiplog::kafka {

struct RequestHeader {
  int16_t api_key = 0;
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;
  // Whether this API and version are flexible (request header v2, response
  // header v1, compact fields in the body).
  bool flexible = false;
};

// Reads a request header (v1, or v2 when `flexible_for(key, version)`
// says the body is flexible) from the start of `frame`, leaving `reader`
// at the body. Requests of APIs the server does not serve are read as v1.
RequestHeader ReadRequestHeader(WireReader& reader);

// A response ready to send. parts[0] starts with the frame's int32 size.
struct Response {
  struct Part {
    std::string bytes;                   // sent first
    cli::Owned<shiplog_sender> records;  // then this range, if any
  };
  std::vector<Part> parts;
  uint64_t size = 0;  // every byte, the size prefix included
};

// Builds a response for `header`: the size prefix and the response header
// first (v1 with tagged fields for flexible versions, except ApiVersions,
// whose responses always use v0), then what the handler writes.
class ResponseBuilder {
 public:
  explicit ResponseBuilder(const RequestHeader& header);

  WireWriter& body() { return writer_; }
  bool flexible() const { return flexible_; }
  int16_t version() const { return version_; }

  // A record set of `size` bytes that `records` will send, as the value of
  // a NULLABLE_BYTES field whose length the handler already wrote.
  void AppendRecords(cli::Owned<shiplog_sender> records, uint64_t size);

  // Patches the size prefix. An error if the response exceeds 2 GiB.
  absl::StatusOr<Response> Finish() &&;

 private:
  Response response_;
  std::string* current_;
  WireWriter writer_;
  bool flexible_;
  int16_t version_;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_MESSAGE_H_
