// Consumer groups, Kafka's classic protocol: members join (JoinGroup), the
// group rebalances once every member has rejoined or the rebalance timeout
// runs out, the leader's assignment reaches every member (SyncGroup), and
// members keep their place by heartbeats within their session timeout.
// States as in Kafka: Empty, PreparingRebalance, CompletingRebalance,
// Stable. Group state lives in memory (a restart makes every member
// rejoin); committed offsets live in the OffsetStore.
//
// Joins and syncs may be answered later, from another member's request or
// from Tick(): the caller passes a callback that is run exactly once.
//
// Thread-safety: not thread-safe; the server's event-loop thread owns it.
#ifndef SHIPLOG_BINDINGS_KAFKA_GROUP_COORDINATOR_H_
#define SHIPLOG_BINDINGS_KAFKA_GROUP_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {

struct JoinGroupRequest {
  std::string group_id;
  std::string client_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string member_id;
  std::string protocol_type;
  // (name, metadata), in the member's order of preference.
  std::vector<std::pair<std::string, std::string>> protocols;
};

struct JoinGroupResult {
  ErrorCode error = ErrorCode::kNone;
  int32_t generation_id = -1;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  // (member id, its metadata for the chosen protocol): the leader's only.
  std::vector<std::pair<std::string, std::string>> members;
};

class GroupCoordinator {
 public:
  using JoinCallback = std::function<void(const JoinGroupResult&)>;
  using SyncCallback =
      std::function<void(ErrorCode error, const std::string& assignment)>;

  void Join(const JoinGroupRequest& request, int64_t now_ms,
            JoinCallback done);
  void Sync(const std::string& group_id, int32_t generation_id,
            const std::string& member_id,
            std::vector<std::pair<std::string, std::string>> assignments,
            int64_t now_ms, SyncCallback done);
  ErrorCode Heartbeat(const std::string& group_id, int32_t generation_id,
                      const std::string& member_id, int64_t now_ms);
  ErrorCode Leave(const std::string& group_id, const std::string& member_id,
                  int64_t now_ms);
  // Whether `member_id` of `generation_id` may commit offsets for
  // `group_id` now (generation -1 with an empty member: a commit outside
  // group management, as Kafka allows for groups without members).
  ErrorCode CheckCommit(const std::string& group_id, int32_t generation_id,
                        const std::string& member_id) const;

  // Expires members past their session timeout and rebalances past their
  // deadline.
  void Tick(int64_t now_ms);
  // When Tick() next has something to do, or INT64_MAX.
  int64_t NextDeadlineMs() const;

 private:
  enum class State { kEmpty, kPreparingRebalance, kCompletingRebalance,
                     kStable };
  struct Member {
    std::string client_id;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    std::vector<std::pair<std::string, std::string>> protocols;
    int64_t last_seen_ms = 0;
    JoinCallback pending_join;
    SyncCallback pending_sync;
    std::string assignment;
  };
  struct Group {
    State state = State::kEmpty;
    int32_t generation_id = 0;
    std::string protocol_type;
    std::string protocol_name;
    std::string leader;
    std::map<std::string, Member> members;
    int64_t rebalance_deadline_ms = 0;
  };

  void PrepareRebalance(Group& group, int64_t now_ms);
  void MaybeCompleteJoin(Group& group);
  void RemoveMember(Group& group, const std::string& member_id,
                    int64_t now_ms);
  static std::string ChooseProtocol(const Group& group);

  std::map<std::string, Group> groups_;
  uint64_t next_member_ = 0;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_GROUP_COORDINATOR_H_
