// The request handlers: each reads its request's body from `body` (the
// reader stands just past the request header) and builds the response, or
// fails with kInvalidArgument for a body that does not decode, which
// closes the connection (as Kafka does). Errors about a topic or a
// partition are answered in the response with Kafka's error codes.
//
// Thread-safety: run on the server's event-loop thread only.
#ifndef SHIPLOG_BINDINGS_KAFKA_HANDLERS_H_
#define SHIPLOG_BINDINGS_KAFKA_HANDLERS_H_

#include <optional>

#include "absl/status/statusor.h"
#include "bindings/kafka/broker.h"
#include "bindings/kafka/message.h"
#include "bindings/kafka/wire.h"

namespace shiplog::kafka {

// ApiVersions: what SupportedApis() lists. A version the server does not
// know is answered in v0's layout with UNSUPPORTED_VERSION and the list,
// so the client can retry with one it does (KIP-511).
absl::StatusOr<Response> HandleApiVersions(const RequestHeader& header,
                                           WireReader& body);

// Metadata: this node, and the topics asked for (all when the request says
// so), auto-creating unknown ones when the request allows.
absl::StatusOr<Response> HandleMetadata(Broker& broker,
                                        const RequestHeader& header,
                                        WireReader& body);

// Produce: validates and appends each partition's batches (offsets assigned
// in place); acks -1 answers once they are fdatasync'd. nullopt for acks 0,
// which gets no response.
absl::StatusOr<std::optional<Response>> HandleProduce(
    Broker& broker, const RequestHeader& header, WireReader& body);

// ListOffsets: earliest (-2), latest (-1) or the first offset at or after a
// timestamp (the time index).
absl::StatusOr<Response> HandleListOffsets(Broker& broker,
                                           const RequestHeader& header,
                                           WireReader& body);

absl::StatusOr<Response> HandleCreateTopics(Broker& broker,
                                            const RequestHeader& header,
                                            WireReader& body);

absl::StatusOr<Response> HandleDeleteTopics(Broker& broker,
                                            const RequestHeader& header,
                                            WireReader& body);

// An answer for an API the server does not serve, or a version outside the
// served range: the correlation id and UNSUPPORTED_VERSION as the body's
// first field, where every response of these APIs keeps an error code or
// where a client that sent an unadvertised request will look for it.
absl::StatusOr<Response> UnsupportedVersion(const RequestHeader& header);

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_HANDLERS_H_
