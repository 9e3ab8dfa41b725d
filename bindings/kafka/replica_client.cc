#include "bindings/kafka/replica_client.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "bindings/cli/errno_error.h"
#include "bindings/cli/status_macros.h"
#include "bindings/kafka/clock.h"
#include "bindings/kafka/wire.h"

namespace shiplog::kafka {
namespace {

// Both end where requests turn flexible (protocol.cc): a client that
// speaks no flexible version needs no tagged fields in its headers.
constexpr int16_t kMinMetadataVersion = 1;  // the first with "every topic"
constexpr int16_t kMaxMetadataVersion = 8;
constexpr int16_t kMinFetchVersion = 4;
constexpr int16_t kMaxFetchVersion = 11;

constexpr size_t kCorrelationIdBytes = 4;

absl::Status SocketError(int error_number, absl::string_view context) {
  return absl::UnavailableError(
      cli::ErrnoError(error_number, context).message());
}

// Waits until `fd` is ready for `events`. kCancelled as soon as
// `cancel_fd` is readable, kDeadlineExceeded at `deadline_ms`.
absl::Status Await(int fd, short events, int cancel_fd, int64_t deadline_ms) {
  while (true) {
    const int64_t left_ms = deadline_ms - NowMs();
    if (left_ms <= 0) {
      return absl::DeadlineExceededError("the leader did not answer in time");
    }
    pollfd fds[2] = {{fd, events, 0}, {cancel_fd, POLLIN, 0}};
    const int ready = poll(fds, cancel_fd >= 0 ? 2 : 1,
                           static_cast<int>(std::min<int64_t>(left_ms, 60000)));
    if (ready < 0 && errno != EINTR) return SocketError(errno, "poll");
    if (cancel_fd >= 0 && fds[1].revents != 0) {
      return absl::CancelledError("stopped");
    }
    if (ready > 0 && fds[0].revents != 0) return absl::OkStatus();
  }
}

absl::Status SendAll(int fd, absl::string_view bytes, int cancel_fd,
                     int64_t deadline_ms) {
  while (!bytes.empty()) {
    RETURN_IF_ERROR(Await(fd, POLLOUT, cancel_fd, deadline_ms));
    const ssize_t sent =
        send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return SocketError(errno, "sending to the leader");
    }
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
  return absl::OkStatus();
}

absl::Status ReceiveExactly(int fd, char* data, size_t size, int cancel_fd,
                            int64_t deadline_ms) {
  size_t received = 0;
  while (received < size) {
    RETURN_IF_ERROR(Await(fd, POLLIN, cancel_fd, deadline_ms));
    const ssize_t got =
        recv(fd, data + received, size - received, MSG_DONTWAIT);
    if (got == 0) {
      return absl::UnavailableError("the leader closed the connection");
    }
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return SocketError(errno, "receiving from the leader");
    }
    received += static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

absl::Status DecodeError(absl::string_view what, const WireReader& reader) {
  return absl::DataLossError(absl::StrCat(
      "the leader's ", what, " does not decode: ", reader.error()));
}

// The newest version in [min_version, max_version] that the leader's range
// for the API also holds; nullopt if none.
std::optional<int16_t> PickVersion(const std::vector<ApiVersionRange>& leader,
                                   ApiKey key, int16_t min_version,
                                   int16_t max_version) {
  for (const ApiVersionRange& range : leader) {
    if (range.key != key) continue;
    const int16_t version = std::min(max_version, range.max_version);
    if (version >= std::max(min_version, range.min_version)) return version;
  }
  return std::nullopt;
}

void WriteFetchRequest(int16_t version, const FetchRequest& request,
                       WireWriter& out) {
  out.Int32(request.replica_id);
  out.Int32(request.max_wait_ms);
  out.Int32(request.min_bytes);
  out.Int32(request.max_bytes);
  out.Int8(0);  // isolation_level: a replica copies everything
  if (version >= 7) {
    out.Int32(0);   // session_id: none
    out.Int32(-1);  // session_epoch: a full fetch that opens no session
  }
  out.ArrayLength(static_cast<int32_t>(request.topics.size()), false);
  for (const FetchRequest::Topic& topic : request.topics) {
    out.String(topic.name, false);
    out.ArrayLength(static_cast<int32_t>(topic.partitions.size()), false);
    for (const FetchRequest::Partition& partition : topic.partitions) {
      out.Int32(partition.index);
      if (version >= 9) out.Int32(-1);  // current_leader_epoch: unknown
      out.Int64(partition.offset);
      // The follower's log start, for a leader that tracks its replicas;
      // a shiplog leader does not.
      if (version >= 5) out.Int64(-1);
      out.Int32(partition.max_bytes);
    }
  }
  if (version >= 7) out.ArrayLength(0, false);  // forgotten_topics_data
  if (version >= 11) out.String("", false);     // rack_id
}

absl::StatusOr<std::vector<FetchedTopic>> ReadFetchResponse(
    int16_t version, absl::Span<char> body) {
  WireReader in(absl::string_view(body.data(), body.size()));
  in.Int32();  // throttle_time_ms
  int16_t error = 0;
  if (version >= 7) {
    error = in.Int16();
    in.Int32();  // session_id
  }
  std::vector<FetchedTopic> topics(
      static_cast<size_t>(std::max(in.ArrayLength(false, 6), 0)));
  for (FetchedTopic& topic : topics) {
    topic.name = in.String(false);
    topic.partitions.resize(
        static_cast<size_t>(std::max(in.ArrayLength(false, 30), 0)));
    for (FetchedPartition& partition : topic.partitions) {
      partition.index = in.Int32();
      partition.error = static_cast<ErrorCode>(in.Int16());
      partition.high_watermark = in.Int64();
      in.Int64();  // last_stable_offset
      if (version >= 5) partition.log_start_offset = in.Int64();
      const int32_t aborted = in.ArrayLength(false, 16);
      for (int32_t i = 0; i < aborted && in.ok(); ++i) {
        in.Int64();  // producer_id
        in.Int64();  // first_offset
      }
      if (version >= 11) in.Int32();  // preferred_read_replica
      const std::optional<absl::string_view> records = in.NullableBytes(false);
      if (records.has_value() && !records->empty()) {
        partition.records =
            body.subspan(static_cast<size_t>(records->data() - body.data()),
                         records->size());
      }
    }
  }
  in.ExpectEnd();
  if (!in.ok()) return DecodeError("Fetch response", in);
  if (error != 0) {
    return absl::UnavailableError(
        absl::StrCat("the leader refused the fetch: error code ", error));
  }
  return topics;
}

}  // namespace

absl::StatusOr<ReplicaClient> ReplicaClient::Open(
    cli::ScopedFd socket, ReplicaClientOptions options) {
  ReplicaClient client(std::move(socket), std::move(options));
  ASSIGN_OR_RETURN(const std::vector<char> frame,
                   client.Call(ApiKey::kApiVersions, 0, "",
                               client.options_.request_timeout_ms));
  WireReader in(absl::string_view(frame.data(), frame.size()));
  in.Int32();  // correlation id, checked by Call
  const int16_t error = in.Int16();
  std::vector<ApiVersionRange> leader(
      static_cast<size_t>(std::max(in.ArrayLength(false, 6), 0)));
  for (ApiVersionRange& range : leader) {
    range.key = static_cast<ApiKey>(in.Int16());
    range.min_version = in.Int16();
    range.max_version = in.Int16();
  }
  in.ExpectEnd();
  if (!in.ok()) return DecodeError("ApiVersions response", in);
  if (error != 0) {
    return absl::UnavailableError(
        absl::StrCat("the leader refused ApiVersions v0: error code ", error));
  }
  const std::optional<int16_t> metadata = PickVersion(
      leader, ApiKey::kMetadata, kMinMetadataVersion, kMaxMetadataVersion);
  const std::optional<int16_t> fetch =
      PickVersion(leader, ApiKey::kFetch, kMinFetchVersion, kMaxFetchVersion);
  if (!metadata.has_value() || !fetch.has_value()) {
    return absl::UnavailableError(absl::StrCat(
        "the leader serves neither Metadata v", kMinMetadataVersion, "-",
        kMaxMetadataVersion, " nor Fetch v", kMinFetchVersion, "-",
        kMaxFetchVersion, " (replication needs one of each)"));
  }
  client.metadata_version_ = *metadata;
  client.fetch_version_ = *fetch;
  return client;
}

absl::StatusOr<std::vector<char>> ReplicaClient::Call(ApiKey key,
                                                      int16_t version,
                                                      const std::string& body,
                                                      int64_t timeout_ms) {
  const int64_t deadline_ms = NowMs() + timeout_ms;
  const int32_t correlation_id = next_correlation_id_++;
  std::string request;
  WireWriter out(&request);
  out.Int32(0);  // the size, patched below
  out.Int16(static_cast<int16_t>(key));
  out.Int16(version);
  out.Int32(correlation_id);
  out.NullableString(options_.client_id, /*compact=*/false);
  out.Raw(body);
  out.PatchInt32(0, static_cast<int32_t>(request.size() - 4));
  RETURN_IF_ERROR(
      SendAll(socket_.get(), request, options_.cancel_fd, deadline_ms));

  char prefix[4];
  RETURN_IF_ERROR(ReceiveExactly(socket_.get(), prefix, sizeof prefix,
                                 options_.cancel_fd, deadline_ms));
  const int32_t size = WireReader(absl::string_view(prefix, 4)).Int32();
  if (size < static_cast<int32_t>(kCorrelationIdBytes) ||
      static_cast<uint64_t>(size) > options_.max_response_bytes) {
    return absl::DataLossError(
        absl::StrCat("the leader sent a response frame of ", size,
                     " bytes; expected 4 to ", options_.max_response_bytes));
  }
  std::vector<char> frame(static_cast<size_t>(size));
  RETURN_IF_ERROR(ReceiveExactly(socket_.get(), frame.data(), frame.size(),
                                 options_.cancel_fd, deadline_ms));
  const int32_t answered =
      WireReader(absl::string_view(frame.data(), kCorrelationIdBytes)).Int32();
  if (answered != correlation_id) {
    return absl::DataLossError(
        absl::StrCat("the leader answered correlation id ", answered,
                     " to request ", correlation_id));
  }
  return frame;
}

absl::StatusOr<std::vector<TopicMetadata>> ReplicaClient::Metadata(
    const std::optional<std::vector<std::string>>& topics) {
  const int16_t version = metadata_version_;
  std::string body;
  WireWriter out(&body);
  if (topics.has_value()) {
    out.ArrayLength(static_cast<int32_t>(topics->size()), false);
    for (const std::string& topic : *topics) out.String(topic, false);
  } else {
    out.ArrayLength(-1, false);  // every topic
  }
  if (version >= 4) out.Int8(0);  // allow_auto_topic_creation
  if (version >= 8) {
    out.Int8(0);  // include_cluster_authorized_operations
    out.Int8(0);  // include_topic_authorized_operations
  }
  ASSIGN_OR_RETURN(
      const std::vector<char> frame,
      Call(ApiKey::kMetadata, version, body, options_.request_timeout_ms));

  WireReader in(absl::string_view(frame.data(), frame.size()));
  in.Int32();                    // correlation id
  if (version >= 3) in.Int32();  // throttle_time_ms
  const int32_t brokers = in.ArrayLength(false, 10);
  for (int32_t b = 0; b < brokers && in.ok(); ++b) {
    in.Int32();                // node_id
    in.String(false);          // host
    in.Int32();                // port
    in.NullableString(false);  // rack (v1+)
  }
  if (version >= 2) in.NullableString(false);  // cluster_id
  in.Int32();                                  // controller_id (v1+)
  std::vector<TopicMetadata> result(
      static_cast<size_t>(std::max(in.ArrayLength(false, 8), 0)));
  for (TopicMetadata& topic : result) {
    topic.error = static_cast<ErrorCode>(in.Int16());
    topic.name = in.String(false);
    in.Int8();  // is_internal (v1+): internal topics are replicated too
    const int32_t partitions = in.ArrayLength(false, 18);
    for (int32_t p = 0; p < partitions && in.ok(); ++p) {
      const int16_t error = in.Int16();
      const int32_t index = in.Int32();
      in.Int32();                              // leader_id
      if (version >= 7) in.Int32();            // leader_epoch
      const int lists = version >= 5 ? 3 : 2;  // replicas, isr, offline
      for (int list = 0; list < lists; ++list) {
        const int32_t nodes = in.ArrayLength(false, 4);
        for (int32_t n = 0; n < nodes && in.ok(); ++n) in.Int32();
      }
      if (error == 0 && index >= 0) topic.partitions.push_back(index);
    }
    if (version >= 8) in.Int32();  // topic_authorized_operations
    std::sort(topic.partitions.begin(), topic.partitions.end());
  }
  if (version >= 8) in.Int32();  // cluster_authorized_operations
  in.ExpectEnd();
  if (!in.ok()) return DecodeError("Metadata response", in);
  return result;
}

absl::StatusOr<FetchResult> ReplicaClient::Fetch(const FetchRequest& request) {
  std::string body;
  WireWriter out(&body);
  WriteFetchRequest(fetch_version_, request, out);
  FetchResult result;
  ASSIGN_OR_RETURN(result.frame,
                   Call(ApiKey::kFetch, fetch_version_, body,
                        request.max_wait_ms + options_.request_timeout_ms));
  ASSIGN_OR_RETURN(
      result.topics,
      ReadFetchResponse(
          fetch_version_,
          absl::MakeSpan(result.frame).subspan(kCorrelationIdBytes)));
  return result;
}

}  // namespace shiplog::kafka
