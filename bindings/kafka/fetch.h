// Fetch: a request decoded once, answered when it has at least min_bytes
// of records or when its max_wait_ms runs out (the server parks it
// meanwhile and retries it after appends). Record sets are never read:
// each partition's range goes from the page cache to the socket by a
// resumable sender (sendfile by default).
//
// Thread-safety: run on the server's event-loop thread only.
#ifndef SHIPLOG_BINDINGS_KAFKA_FETCH_H_
#define SHIPLOG_BINDINGS_KAFKA_FETCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bindings/kafka/broker.h"
#include "bindings/kafka/message.h"
#include "bindings/kafka/wire.h"

namespace shiplog::kafka {

struct FetchRequest {
  struct Partition {
    int32_t index = 0;
    int64_t offset = 0;
    int32_t max_bytes = 0;
  };
  struct Topic {
    std::string name;
    std::vector<Partition> partitions;
  };
  int32_t replica_id = -1;
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = INT32_MAX;
  std::vector<Topic> topics;
};

// Decodes a Fetch request body (v4-11); kInvalidArgument if it does not.
absl::StatusOr<FetchRequest> ReadFetchRequest(const RequestHeader& header,
                                              WireReader& body);

// The response to `request`, with its record sets to be sent to `fd`; or
// nullopt while it has fewer than min_bytes of records and not `final`.
absl::StatusOr<std::optional<Response>> AnswerFetch(
    Broker& broker, const RequestHeader& header, const FetchRequest& request,
    int fd, bool final);

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_FETCH_H_
