// kafka_request_fuzz: what a client writes to `shiplog serve`, fed to the
// request decoder and handlers without sockets (README.md,
// "kafka_request_fuzz"). The input is a byte stream as it arrives on a
// connection: size-prefixed request frames. Each frame is dispatched as
// Server::Dispatch does it, against a fresh store per input, and every
// response must be well framed; record ranges are sent to /dev/null.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bindings/cli/abi.h"
#include "bindings/kafka/broker.h"
#include "bindings/kafka/fetch.h"
#include "bindings/kafka/groups.h"
#include "bindings/kafka/handlers.h"
#include "bindings/kafka/message.h"
#include "bindings/kafka/offset_store.h"
#include "bindings/kafka/protocol.h"
#include "bindings/kafka/topics.h"
#include "bindings/kafka/wire.h"
#include "shiplog.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/scratch_dir.h"

namespace shiplog::kafka::fuzz {
namespace {

// The server's default request limit is 100 MiB; fuzz inputs are smaller.
constexpr int32_t kMaxFrameBytes = 1 << 20;
constexpr int kMaxSendCalls = 1024;
constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kMsPerRequest = 250;

// KAFKA_FUZZ_TRACE=1 prints each request and how it was answered.
bool Tracing() {
  static const bool tracing = std::getenv("KAFKA_FUZZ_TRACE") != nullptr;
  return tracing;
}

int DevNull() {
  static const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  FUZZ_CHECK(fd >= 0, "cannot open /dev/null");
  return fd;
}

// A response must state its own size and echo the correlation id, and its
// record ranges must send.
void CheckResponse(const Response& response, int32_t correlation_id) {
  FUZZ_CHECK(!response.parts.empty() && response.parts[0].bytes.size() >= 8,
             "a response without a header");
  uint64_t size = 0;
  for (const Response::Part& part : response.parts) {
    size += part.bytes.size();
    if (part.records == nullptr) continue;
    uint64_t records_size = 0;
    FUZZ_CHECK(shiplog_sender_size(&records_size, part.records.get()) ==
                   SHIPLOG_OK,
               "shiplog_sender_size: %s", shiplog_last_error());
    size += records_size;
    shiplog_send_result progress;
    int status = SHIPLOG_EAGAIN;
    for (int calls = 0; status == SHIPLOG_EAGAIN && calls < kMaxSendCalls;
         ++calls) {
      status = shiplog_sender_send(&progress, part.records.get());
    }
    FUZZ_CHECK(status == SHIPLOG_OK && progress.bytes_sent == records_size,
               "sending a record range: %s (%s)", shiplog_status_str(status),
               shiplog_last_error());
  }
  FUZZ_CHECK(size == response.size, "parts add up to %llu, size says %llu",
             static_cast<unsigned long long>(size),
             static_cast<unsigned long long>(response.size));
  WireReader header(response.parts[0].bytes);
  FUZZ_CHECK(static_cast<uint64_t>(header.Int32()) + 4 == response.size,
             "the size prefix disagrees with the response");
  FUZZ_CHECK(header.Int32() == correlation_id, "the correlation id changed");
}

struct Delivery {
  uint64_t connection_id;
  absl::StatusOr<Response> response;
};

// The broker as `shiplog serve` builds it, over a store in `dir`, with one
// topic that already holds records so reads have something to find.
class Harness {
 public:
  explicit Harness(const shiplog::fuzz::ScratchDir& dir) {
    shiplog_store_options options = SHIPLOG_STORE_OPTIONS_INIT;
    options.maintenance_interval_ms = 0;
    options.default_log_options.segment_bytes = 16 << 10;
    options.default_log_options.segment_index_bytes = 1024;
    options.default_log_options.index_interval_bytes = 256;
    absl::StatusOr<cli::Owned<shiplog_store>> store =
        cli::Open(shiplog_store_open, dir.path().c_str(),
                  static_cast<const shiplog_store_options*>(&options));
    FUZZ_CHECK(store.ok(), "opening the store: %s",
               store.status().ToString().c_str());
    store_ = *std::move(store);
    absl::StatusOr<OffsetStore> offsets = OffsetStore::Open(store_.get());
    FUZZ_CHECK(offsets.ok(), "opening the offsets: %s",
               offsets.status().ToString().c_str());
    absl::StatusOr<Topics> topics = Topics::Load(store_.get());
    FUZZ_CHECK(topics.ok(), "loading topics: %s",
               topics.status().ToString().c_str());
    FUZZ_CHECK(topics->Create("events", 2).ok(), "creating a topic");
    shiplog_log* events = topics->Find("events", 0);
    for (const char* value : {"first", "second", "third"}) {
      shiplog_record record = {};
      record.timestamp_ms = kStartMs;
      record.value = value;
      record.value_len = std::char_traits<char>::length(value);
      FUZZ_CHECK(shiplog_log_append(nullptr, events, &record, 1, nullptr) ==
                     SHIPLOG_OK,
                 "appending: %s", shiplog_last_error());
    }
    // Few partitions a topic: every one is a log made for this input.
    broker_.emplace(store_.get(), *std::move(topics),
                    BrokerOptions{.max_partitions = 16});
    groups_.emplace(*broker_, *std::move(offsets),
                    [this](uint64_t id, absl::StatusOr<Response> response) {
                      deliveries_.push_back({id, std::move(response)});
                    });
  }

  // Handles one request frame; false when the server would close the
  // connection (a request that does not decode).
  bool Dispatch(absl::string_view frame, int64_t now_ms) {
    WireReader reader(frame);
    const RequestHeader header = ReadRequestHeader(reader);
    if (!reader.ok()) return false;
    const std::optional<ApiVersionRange> api = FindApi(header.api_key);
    const bool supported = api.has_value() &&
                           header.api_version >= api->min_version &&
                           header.api_version <= api->max_version;
    absl::StatusOr<std::optional<Response>> response;
    switch (supported ? static_cast<ApiKey>(header.api_key)
                      : ApiKey::kApiVersions) {
      case ApiKey::kApiVersions:
        response = header.api_key == static_cast<int16_t>(ApiKey::kApiVersions)
                       ? HandleApiVersions(header, reader)
                       : UnsupportedVersion(header);
        break;
      case ApiKey::kMetadata:
        response = HandleMetadata(*broker_, header, reader);
        break;
      case ApiKey::kProduce:
        response = HandleProduce(*broker_, header, reader);
        break;
      case ApiKey::kFetch:
        response = Fetch(header, reader);
        break;
      case ApiKey::kListOffsets:
        response = HandleListOffsets(*broker_, header, reader);
        break;
      case ApiKey::kCreateTopics:
        response = HandleCreateTopics(*broker_, header, reader);
        break;
      case ApiKey::kDeleteTopics:
        response = HandleDeleteTopics(*broker_, header, reader);
        break;
      default:
        FUZZ_CHECK(Groups::IsGroupApi(header.api_key), "api %d dispatched",
                   header.api_key);
        // A few connections, picked by the client: group members.
        response = groups_->Handle(header, reader,
                                   static_cast<uint64_t>(
                                       header.correlation_id & 3),
                                   now_ms);
        break;
    }
    CheckDeliveries();
    if (Tracing()) {
      std::fprintf(stderr, "api %d v%d correlation %d: %s\n", header.api_key,
                   header.api_version, header.correlation_id,
                   !response.ok()             ? response.status().ToString().c_str()
                   : response->has_value() ? "answered"
                                           : "answer later");
    }
    if (!response.ok()) {
      FUZZ_CHECK(absl::IsInvalidArgument(response.status()),
                 "api %d v%d: %s", header.api_key, header.api_version,
                 response.status().ToString().c_str());
      return false;
    }
    if (response->has_value()) CheckResponse(**response, header.correlation_id);
    return true;
  }

  // Runs the group coordinator's timers, as the event loop does.
  void Tick(int64_t now_ms) {
    groups_->coordinator().Tick(now_ms);
    CheckDeliveries();
  }

 private:
  absl::StatusOr<std::optional<Response>> Fetch(const RequestHeader& header,
                                                WireReader& body) {
    absl::StatusOr<FetchRequest> request = ReadFetchRequest(header, body);
    if (!request.ok()) return request.status();
    // A fetch that would wait is answered at once, then as at its deadline.
    absl::StatusOr<std::optional<Response>> answer =
        AnswerFetch(*broker_, header, *request, DevNull(), /*final=*/false);
    if (!answer.ok() || answer->has_value()) return answer;
    return AnswerFetch(*broker_, header, *request, DevNull(), /*final=*/true);
  }

  void CheckDeliveries() {
    for (Delivery& delivery : deliveries_) {
      FUZZ_CHECK(delivery.connection_id <= 3, "delivered to connection %llu",
                 static_cast<unsigned long long>(delivery.connection_id));
      if (!delivery.response.ok()) continue;
      WireReader header(delivery.response->parts[0].bytes);
      header.Int32();
      CheckResponse(*delivery.response, header.Int32());
    }
    deliveries_.clear();
  }

  cli::Owned<shiplog_store> store_;
  std::optional<Broker> broker_;
  std::vector<Delivery> deliveries_;
  std::optional<Groups> groups_;
};

}  // namespace
}  // namespace shiplog::kafka::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shiplog::kafka::fuzz;  // NOLINT(build/namespaces)
  absl::string_view stream(reinterpret_cast<const char*>(data), size);
  shiplog::fuzz::ScratchDir dir;
  std::optional<Harness> harness;
  harness.emplace(dir);
  int64_t now_ms = kStartMs;
  while (stream.size() >= 4) {
    const auto frame_size = static_cast<int32_t>(
        (uint32_t{static_cast<uint8_t>(stream[0])} << 24) |
        (uint32_t{static_cast<uint8_t>(stream[1])} << 16) |
        (uint32_t{static_cast<uint8_t>(stream[2])} << 8) |
        uint32_t{static_cast<uint8_t>(stream[3])});
    // A size the server refuses closes the connection; a frame cut short
    // never arrives.
    if (frame_size < 0 || frame_size > kMaxFrameBytes ||
        static_cast<size_t>(frame_size) > stream.size() - 4) {
      break;
    }
    // The request buffer is the server's own: Produce writes offsets into it.
    std::string frame(stream.substr(4, static_cast<size_t>(frame_size)));
    stream.remove_prefix(4 + static_cast<size_t>(frame_size));
    now_ms += kMsPerRequest;
    if (!harness->Dispatch(frame, now_ms)) break;
    harness->Tick(now_ms);
  }
  // Every timer runs out: rebalances complete, members expire.
  harness->Tick(now_ms + 24 * 60 * 60 * 1000);
  harness.reset();
  return 0;
}
