// The Kafka client side of replication (`shiplog replicate`): one
// connection to the leader, the versions negotiated on it, and the three
// requests a follower sends. ApiVersions (v0, which every broker answers),
// Metadata (v1-8) and Fetch (v4-11) are all spoken in their non-flexible
// versions, so requests carry header v1 and responses header v0.
//
// Every wait is bounded: by the request's timeout, and by `cancel_fd`,
// which ends any wait with kCancelled once it turns readable (the
// follower's stop signal). A response frame larger than
// `max_response_bytes` is refused before it is read.
//
// Errors: kUnavailable when the connection fails or the leader answers a
// request as a whole with an error code; kDeadlineExceeded when it does
// not answer in time; kDataLoss for a response that does not decode;
// kCancelled when stopped. After any of them the client is unusable: the
// caller reconnects.
//
// Thread-safety: not thread-safe; one thread owns a client.
#ifndef SHIPLOG_BINDINGS_KAFKA_REPLICA_CLIENT_H_
#define SHIPLOG_BINDINGS_KAFKA_REPLICA_CLIENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "bindings/cli/scoped_fd.h"
#include "bindings/kafka/fetch.h"
#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {

struct ReplicaClientOptions {
  std::string client_id = "shiplog-replicate";
  // How long a Metadata answer may take, and a Fetch answer beyond its
  // max_wait_ms (Kafka's replica.socket.timeout.ms).
  int64_t request_timeout_ms = 30000;
  // A fetch response holds max_bytes of records, plus one batch that may
  // be larger (KIP-74): as large as the leader accepts (`shiplog serve`'s
  // --max-request-bytes is 100 MiB by default).
  uint64_t max_response_bytes = uint64_t{256} << 20;
  // Not owned; -1 for none.
  int cancel_fd = -1;
};

// A topic as the leader's Metadata lists it.
struct TopicMetadata {
  std::string name;
  ErrorCode error = ErrorCode::kNone;
  // The partitions the leader leads and can serve (those without an
  // error), ascending.
  std::vector<int32_t> partitions;
};

// One partition of a Fetch response.
struct FetchedPartition {
  int32_t index = 0;
  ErrorCode error = ErrorCode::kNone;
  int64_t high_watermark = -1;
  int64_t log_start_offset = -1;  // -1 below v5
  // Record batches as the leader sent them, in FetchResult::frame: mutable,
  // so they can be appended in place.
  absl::Span<char> records;
};

struct FetchedTopic {
  std::string name;
  std::vector<FetchedPartition> partitions;
};

struct FetchResult {
  // The response's bytes. A vector, not a string: moving it keeps the
  // records' spans valid (a string's small-buffer storage would not).
  std::vector<char> frame;
  std::vector<FetchedTopic> topics;
};

class ReplicaClient {
 public:
  // Asks the leader on `socket` (connected) which versions it serves, and
  // picks the newest of Metadata 1-8 and Fetch 4-11. kUnavailable if it
  // serves none of them.
  static absl::StatusOr<ReplicaClient> Open(cli::ScopedFd socket,
                                            ReplicaClientOptions options);

  ReplicaClient(ReplicaClient&&) = default;
  ReplicaClient& operator=(ReplicaClient&&) = default;

  int16_t metadata_version() const { return metadata_version_; }
  int16_t fetch_version() const { return fetch_version_; }

  // The leader's topics: `topics`, or every topic for nullopt. Never asks
  // the leader to create one (v4+; below that, the leader decides).
  absl::StatusOr<std::vector<TopicMetadata>> Metadata(
      const std::optional<std::vector<std::string>>& topics);

  // Sends `request` and waits for the answer: up to its max_wait_ms on
  // the leader (long polling), plus the request timeout.
  absl::StatusOr<FetchResult> Fetch(const FetchRequest& request);

 private:
  ReplicaClient(cli::ScopedFd socket, ReplicaClientOptions options)
      : socket_(std::move(socket)), options_(std::move(options)) {}

  // Sends one request and returns its response frame (without the size
  // prefix): the correlation id (checked), then the body.
  absl::StatusOr<std::vector<char>> Call(ApiKey key, int16_t version,
                                         const std::string& body,
                                         int64_t timeout_ms);

  cli::ScopedFd socket_;
  ReplicaClientOptions options_;
  int32_t next_correlation_id_ = 1;
  int16_t metadata_version_ = 0;
  int16_t fetch_version_ = 0;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_REPLICA_CLIENT_H_
