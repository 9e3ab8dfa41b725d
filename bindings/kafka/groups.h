// The consumer-group APIs: FindCoordinator, JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch. This node coordinates
// every group. JoinGroup and SyncGroup may be answered later (when the
// rebalance completes), through the Deliver callback.
//
// Thread-safety: not thread-safe; the server's event-loop thread owns it.
#ifndef SHIPLOG_BINDINGS_KAFKA_GROUPS_H_
#define SHIPLOG_BINDINGS_KAFKA_GROUPS_H_

#include <cstdint>
#include <functional>
#include <optional>

#include "absl/status/statusor.h"
#include "bindings/kafka/broker.h"
#include "bindings/kafka/group_coordinator.h"
#include "bindings/kafka/message.h"
#include "bindings/kafka/offset_store.h"
#include "bindings/kafka/wire.h"

namespace shiplog::kafka {

class Groups {
 public:
  // Hands a later response to the connection `connection_id` (which may
  // have closed meanwhile).
  using Deliver =
      std::function<void(uint64_t connection_id, absl::StatusOr<Response>)>;

  Groups(Broker& broker, OffsetStore offsets, Deliver deliver)
      : broker_(broker), offsets_(std::move(offsets)),
        deliver_(std::move(deliver)) {}

  // Handles a request of a group API (IsGroupApi). nullopt: the response
  // comes through Deliver (perhaps before this returns). kInvalidArgument
  // for a body that does not decode.
  absl::StatusOr<std::optional<Response>> Handle(const RequestHeader& header,
                                                 WireReader& body,
                                                 uint64_t connection_id,
                                                 int64_t now_ms);

  static bool IsGroupApi(int16_t api_key);

  GroupCoordinator& coordinator() { return coordinator_; }
  const GroupCoordinator& coordinator() const { return coordinator_; }

 private:
  absl::StatusOr<Response> FindCoordinator(const RequestHeader& header,
                                           WireReader& body);
  absl::Status JoinGroup(const RequestHeader& header, WireReader& body,
                         uint64_t connection_id, int64_t now_ms);
  absl::Status SyncGroup(const RequestHeader& header, WireReader& body,
                         uint64_t connection_id, int64_t now_ms);
  absl::StatusOr<Response> Heartbeat(const RequestHeader& header,
                                     WireReader& body, int64_t now_ms);
  absl::StatusOr<Response> LeaveGroup(const RequestHeader& header,
                                      WireReader& body, int64_t now_ms);
  absl::StatusOr<Response> OffsetCommit(const RequestHeader& header,
                                        WireReader& body);
  absl::StatusOr<Response> OffsetFetch(const RequestHeader& header,
                                       WireReader& body);

  Broker& broker_;
  OffsetStore offsets_;
  Deliver deliver_;
  GroupCoordinator coordinator_;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_GROUPS_H_
