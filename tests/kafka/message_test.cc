// Request headers as the server reads them, and responses as it frames
// them: size prefix, correlation id, response header version, and record
// sets that a sender ships between the bytes the server wrote.
#include "bindings/kafka/message.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/scoped_fd.h"
#include "bindings/kafka/protocol.h"
#include "bindings/kafka/wire.h"
#include "gtest/gtest.h"
#include "shiplog.h"
#include "tests/kafka/kafka_test_util.h"

namespace shiplog::kafka {
namespace {

using ::shiplog::kafka::testing::TempStore;

constexpr int16_t kApiVersions = static_cast<int16_t>(ApiKey::kApiVersions);
constexpr int16_t kMetadata = static_cast<int16_t>(ApiKey::kMetadata);

// The request header fields every version shares: key, version,
// correlation id, client id (a classic NULLABLE_STRING in v1 and v2 alike).
std::string HeaderFields(int16_t api_key, int16_t api_version,
                         int32_t correlation_id,
                         const std::optional<std::string>& client_id) {
  std::string bytes;
  WireWriter writer(&bytes);
  writer.Int16(api_key);
  writer.Int16(api_version);
  writer.Int32(correlation_id);
  writer.NullableString(client_id, /*compact=*/false);
  return bytes;
}

int32_t Int32At(absl::string_view bytes, size_t position) {
  WireReader reader(bytes.substr(position, 4));
  return reader.Int32();
}

// ---------------------------------------------------------------------------
// ReadRequestHeader

TEST(ReadRequestHeader, ReadsHeaderV1OfANonFlexibleRequest) {
  std::string bytes = HeaderFields(kMetadata, 8, 1234, "producer-1");
  WireWriter(&bytes).Int32(-1);  // the body
  WireReader reader(bytes);

  const RequestHeader header = ReadRequestHeader(reader);

  EXPECT_EQ(header.api_key, kMetadata);
  EXPECT_EQ(header.api_version, 8);
  EXPECT_EQ(header.correlation_id, 1234);
  EXPECT_EQ(header.client_id, "producer-1");
  EXPECT_FALSE(header.flexible);
  EXPECT_EQ(reader.Int32(), -1);
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok()) << reader.error();
}

TEST(ReadRequestHeader, ReadsHeaderV2WithTaggedFieldsAfterTheClientId) {
  std::string bytes = HeaderFields(kApiVersions, 3, 7, "rdkafka");
  WireWriter writer(&bytes);
  writer.UnsignedVarint(1);  // one tagged field
  writer.UnsignedVarint(0);
  writer.UnsignedVarint(2);
  writer.Raw("xy");
  writer.String("librdkafka", /*compact=*/true);  // the body
  WireReader reader(bytes);

  const RequestHeader header = ReadRequestHeader(reader);

  EXPECT_EQ(header.api_key, kApiVersions);
  EXPECT_EQ(header.api_version, 3);
  EXPECT_EQ(header.correlation_id, 7);
  EXPECT_EQ(header.client_id, "rdkafka");
  EXPECT_TRUE(header.flexible);
  EXPECT_EQ(reader.String(/*compact=*/true), "librdkafka");
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok()) << reader.error();
}

TEST(ReadRequestHeader, ApiVersionsBeforeV3IsNotFlexible) {
  std::string bytes = HeaderFields(kApiVersions, 2, 7, "client");
  bytes.push_back('\0');  // a body byte, not a tagged-fields section
  WireReader reader(bytes);

  const RequestHeader header = ReadRequestHeader(reader);

  EXPECT_FALSE(header.flexible);
  EXPECT_EQ(reader.remaining(), 1u);
}

TEST(ReadRequestHeader, ReadsANullClientId) {
  const std::string bytes = HeaderFields(kMetadata, 1, 9, std::nullopt);
  WireReader reader(bytes);

  const RequestHeader header = ReadRequestHeader(reader);

  EXPECT_TRUE(reader.ok()) << reader.error();
  EXPECT_FALSE(header.client_id.has_value());
  EXPECT_EQ(header.correlation_id, 9);
}

TEST(ReadRequestHeader, ReadsARequestOfAnApiTheServerDoesNotServeAsV1) {
  constexpr int16_t kSaslHandshake = 17;
  std::string bytes = HeaderFields(kSaslHandshake, 1, 5, "client");
  bytes.push_back('\0');
  WireReader reader(bytes);

  const RequestHeader header = ReadRequestHeader(reader);

  EXPECT_TRUE(reader.ok()) << reader.error();
  EXPECT_EQ(header.api_key, kSaslHandshake);
  EXPECT_FALSE(header.flexible);
  EXPECT_EQ(reader.remaining(), 1u);
}

TEST(ReadRequestHeader, EveryTruncationOfAHeaderV2Fails) {
  std::string bytes = HeaderFields(kApiVersions, 3, 7, "rdkafka");
  WireWriter writer(&bytes);
  writer.UnsignedVarint(1);
  writer.UnsignedVarint(0);
  writer.UnsignedVarint(2);
  writer.Raw("xy");
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    const auto input = std::make_unique<char[]>(cut);
    std::copy(bytes.begin(), bytes.begin() + cut, input.get());
    WireReader reader(absl::string_view(input.get(), cut));
    ReadRequestHeader(reader);
    EXPECT_FALSE(reader.ok()) << "cut at " << cut;
  }
}

// ---------------------------------------------------------------------------
// ResponseBuilder: framing

RequestHeader Header(int16_t api_key, int16_t api_version, bool flexible,
                     int32_t correlation_id = 0x01020304) {
  RequestHeader header;
  header.api_key = api_key;
  header.api_version = api_version;
  header.correlation_id = correlation_id;
  header.flexible = flexible;
  return header;
}

TEST(ResponseBuilder, SizePrefixIsTheFrameSizeMinusFour) {
  ResponseBuilder builder(Header(kMetadata, 8, /*flexible=*/false));
  builder.body().Int32(0);
  builder.body().String("body", /*compact=*/false);

  absl::StatusOr<Response> response = std::move(builder).Finish();

  ASSERT_OK(response);
  ASSERT_EQ(response->parts.size(), 1u);
  const std::string& bytes = response->parts[0].bytes;
  EXPECT_EQ(response->size, bytes.size());
  EXPECT_EQ(Int32At(bytes, 0), static_cast<int32_t>(bytes.size() - 4));
}

TEST(ResponseBuilder, EchoesTheCorrelationIdAfterTheSize) {
  ResponseBuilder builder(Header(kMetadata, 8, /*flexible=*/false, 987654));

  absl::StatusOr<Response> response = std::move(builder).Finish();

  ASSERT_OK(response);
  EXPECT_EQ(Int32At(response->parts[0].bytes, 4), 987654);
}

TEST(ResponseBuilder, NonFlexibleResponseHasHeaderV0) {
  ResponseBuilder builder(Header(kMetadata, 8, /*flexible=*/false));
  builder.body().Int16(0x7e7e);

  absl::StatusOr<Response> response = std::move(builder).Finish();

  ASSERT_OK(response);
  EXPECT_EQ(response->parts[0].bytes.substr(8), "\x7e\x7e");
}

// No API the server serves is flexible except ApiVersions, whose responses
// keep header v0; the builder takes the request header's word for any other.
TEST(ResponseBuilder, FlexibleResponseHasHeaderV1WithEmptyTaggedFields) {
  ResponseBuilder builder(Header(kMetadata, 9, /*flexible=*/true));
  builder.body().Int16(0x7e7e);

  absl::StatusOr<Response> response = std::move(builder).Finish();

  ASSERT_OK(response);
  EXPECT_EQ(response->parts[0].bytes.substr(8), std::string("\x00\x7e\x7e", 3));
}

TEST(ResponseBuilder, ApiVersionsResponseKeepsHeaderV0WhenFlexible) {
  std::string request = HeaderFields(kApiVersions, 3, 11, "rdkafka");
  request.push_back('\0');  // no tagged fields
  WireReader reader(request);
  const RequestHeader header = ReadRequestHeader(reader);
  ResponseBuilder builder(header);
  EXPECT_TRUE(builder.flexible());  // the body is still compact
  builder.body().Int16(0x7e7e);

  absl::StatusOr<Response> response = std::move(builder).Finish();

  ASSERT_OK(response);
  EXPECT_EQ(response->parts[0].bytes.substr(4),
            std::string("\x00\x00\x00\x0b\x7e\x7e", 6));
}

TEST(ResponseBuilder, RefusesAFrameOverKafkasLimit) {
  ResponseBuilder builder(Header(kMetadata, 8, /*flexible=*/false));
  // 8 header bytes plus these make a size prefix of INT32_MAX + 1; the
  // limit is checked before any record is sent, so no sender is needed.
  builder.AppendRecords(nullptr, std::numeric_limits<int32_t>::max() - 3);

  absl::StatusOr<Response> response = std::move(builder).Finish();

  EXPECT_EQ(response.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(ResponseBuilder, AcceptsTheLargestFrameKafkaAllows) {
  ResponseBuilder builder(Header(kMetadata, 8, /*flexible=*/false));
  builder.AppendRecords(nullptr, std::numeric_limits<int32_t>::max() - 4);

  absl::StatusOr<Response> response = std::move(builder).Finish();

  ASSERT_OK(response);
  EXPECT_EQ(Int32At(response->parts[0].bytes, 0),
            std::numeric_limits<int32_t>::max());
}

// ---------------------------------------------------------------------------
// ResponseBuilder: record sets

// A log of one three-record batch in a temporary store, and a socket pair
// whose first end its senders write to.
class ResponseRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = store_.OpenLog("records-0");
    ASSERT_TRUE(log_ != nullptr);
    shiplog_record records[3] = {};
    const std::string values[3] = {"one", "two", "three"};
    for (int i = 0; i < 3; ++i) {
      records[i].timestamp_ms = 1000 + i;
      records[i].value = values[i].data();
      records[i].value_len = values[i].size();
    }
    ASSERT_EQ(shiplog_log_append(nullptr, log_.get(), records, 3, nullptr),
              SHIPLOG_OK)
        << shiplog_last_error();
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    server_end_ = cli::ScopedFd(fds[0]);
    client_end_ = cli::ScopedFd(fds[1]);
  }

  // A sender of the whole log to the server end, and its size.
  std::pair<cli::Owned<shiplog_sender>, uint64_t> Sender() {
    shiplog_sender* sender = nullptr;
    EXPECT_EQ(shiplog_sender_open(&sender, log_.get(), 0, 1 << 20,
                                  server_end_.get(), nullptr),
              SHIPLOG_OK)
        << shiplog_last_error();
    uint64_t size = 0;
    EXPECT_EQ(shiplog_sender_size(&size, sender), SHIPLOG_OK);
    return {cli::Owned<shiplog_sender>(sender), size};
  }

  // Writes `response` to the server end as the server does: each part's
  // bytes, then its records.
  void Send(Response& response) {
    for (Response::Part& part : response.parts) {
      ASSERT_EQ(write(server_end_.get(), part.bytes.data(), part.bytes.size()),
                static_cast<ssize_t>(part.bytes.size()));
      if (part.records != nullptr) {
        ASSERT_EQ(shiplog_sender_send(nullptr, part.records.get()), SHIPLOG_OK)
            << shiplog_last_error();
      }
    }
  }

  // Everything the client end has to read now.
  std::string ReceiveAll() {
    EXPECT_EQ(fcntl(client_end_.get(), F_SETFL, O_NONBLOCK), 0);
    std::string received;
    char buffer[4096];
    ssize_t n;
    while ((n = read(client_end_.get(), buffer, sizeof(buffer))) > 0) {
      received.append(buffer, static_cast<size_t>(n));
    }
    EXPECT_EQ(n, -1);
    EXPECT_EQ(errno, EAGAIN);
    return received;
  }

  TempStore store_;
  cli::Owned<shiplog_log> log_;
  cli::ScopedFd server_end_;
  cli::ScopedFd client_end_;
};

TEST_F(ResponseRecordsTest, AppendRecordsSplitsTheResponseAroundTheRecordSet) {
  auto [sender, size] = Sender();
  ResponseBuilder builder(Header(kMetadata, 8, /*flexible=*/false));
  builder.body().Int16(0x0101);
  builder.body().BytesLength(static_cast<int32_t>(size), /*compact=*/false);
  builder.AppendRecords(std::move(sender), size);
  builder.body().Int16(0x0202);

  absl::StatusOr<Response> response = std::move(builder).Finish();

  ASSERT_OK(response);
  ASSERT_EQ(response->parts.size(), 2u);
  EXPECT_TRUE(response->parts[0].records != nullptr);
  EXPECT_EQ(response->parts[0].bytes.size(), 4u + 4u + 2u + 4u);
  EXPECT_EQ(Int32At(response->parts[0].bytes, 10), static_cast<int32_t>(size));
  EXPECT_TRUE(response->parts[1].records == nullptr);
  EXPECT_EQ(response->parts[1].bytes, "\x02\x02");
}

TEST_F(ResponseRecordsTest, SizeCountsTheRecordSet) {
  auto [sender, size] = Sender();
  ASSERT_GT(size, 0u);
  ResponseBuilder builder(Header(kMetadata, 8, /*flexible=*/false));
  builder.body().BytesLength(static_cast<int32_t>(size), /*compact=*/false);
  builder.AppendRecords(std::move(sender), size);
  builder.body().Int16(0x0202);

  absl::StatusOr<Response> response = std::move(builder).Finish();

  ASSERT_OK(response);
  const uint64_t bytes_written =
      response->parts[0].bytes.size() + response->parts[1].bytes.size();
  EXPECT_EQ(response->size, bytes_written + size);
  EXPECT_EQ(Int32At(response->parts[0].bytes, 0),
            static_cast<int32_t>(response->size - 4));
}

TEST_F(ResponseRecordsTest, TwoRecordSetsMakeThreeParts) {
  auto [first, first_size] = Sender();
  auto [second, second_size] = Sender();
  ResponseBuilder builder(Header(kMetadata, 8, /*flexible=*/false));
  builder.AppendRecords(std::move(first), first_size);
  builder.body().Int8(1);
  builder.AppendRecords(std::move(second), second_size);

  absl::StatusOr<Response> response = std::move(builder).Finish();

  ASSERT_OK(response);
  ASSERT_EQ(response->parts.size(), 3u);
  EXPECT_TRUE(response->parts[0].records != nullptr);
  EXPECT_TRUE(response->parts[1].records != nullptr);
  EXPECT_EQ(response->parts[1].bytes, "\x01");
  EXPECT_TRUE(response->parts[2].records == nullptr);
  EXPECT_EQ(response->size, 8 + first_size + 1 + second_size);
}

TEST_F(ResponseRecordsTest, SentFrameIsAsLongAsItsSizePrefixSays) {
  auto [sender, size] = Sender();
  ResponseBuilder builder(Header(kMetadata, 8, /*flexible=*/false));
  builder.body().BytesLength(static_cast<int32_t>(size), /*compact=*/false);
  builder.AppendRecords(std::move(sender), size);
  builder.body().Int16(0x0202);
  absl::StatusOr<Response> response = std::move(builder).Finish();
  ASSERT_OK(response);

  Send(*response);
  const std::string received = ReceiveAll();

  ASSERT_EQ(received.size(), response->size);
  EXPECT_EQ(Int32At(received, 0), static_cast<int32_t>(received.size() - 4));
  // The record set is the log's one batch: base offset 0, then its length.
  WireReader batch(absl::string_view(received).substr(12, size));
  EXPECT_EQ(batch.Int64(), 0);
  EXPECT_EQ(batch.Int32(), static_cast<int32_t>(size - 12));
  EXPECT_EQ(received.substr(received.size() - 2), "\x02\x02");
}

}  // namespace
}  // namespace shiplog::kafka
