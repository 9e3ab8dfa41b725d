#include "bindings/kafka/group_coordinator.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace shiplog::kafka {
namespace {

// Kafka's group.min/max.session.timeout.ms, the minimum lowered so tests
// and quick-failover consumers can use a second.
constexpr int32_t kMinSessionTimeoutMs = 1000;
constexpr int32_t kMaxSessionTimeoutMs = 30 * 60 * 1000;

JoinGroupResult JoinError(ErrorCode error, std::string member_id = "") {
  JoinGroupResult result;
  result.error = error;
  result.member_id = std::move(member_id);
  return result;
}

}  // namespace

void GroupCoordinator::Join(const JoinGroupRequest& request, int64_t now_ms,
                            JoinCallback done) {
  if (request.group_id.empty()) {
    return done(JoinError(ErrorCode::kInvalidGroupId, request.member_id));
  }
  if (request.session_timeout_ms < kMinSessionTimeoutMs ||
      request.session_timeout_ms > kMaxSessionTimeoutMs) {
    return done(
        JoinError(ErrorCode::kInvalidSessionTimeout, request.member_id));
  }
  Group& group = groups_[request.group_id];
  const bool known = group.members.count(request.member_id) > 0;
  if (!request.member_id.empty() && !known) {
    return done(JoinError(ErrorCode::kUnknownMemberId, request.member_id));
  }
  if (request.protocols.empty() ||
      (!group.members.empty() &&
       request.protocol_type != group.protocol_type)) {
    return done(
        JoinError(ErrorCode::kInconsistentGroupProtocol, request.member_id));
  }
  if (!group.members.empty()) {
    // Every member must share at least one protocol with the newcomer.
    const bool shared = std::any_of(
        request.protocols.begin(), request.protocols.end(),
        [&](const auto& protocol) {
          return std::all_of(
              group.members.begin(), group.members.end(), [&](const auto& m) {
                return m.first == request.member_id ||
                       std::any_of(m.second.protocols.begin(),
                                   m.second.protocols.end(),
                                   [&](const auto& theirs) {
                                     return theirs.first == protocol.first;
                                   });
              });
        });
    if (!shared) {
      return done(
          JoinError(ErrorCode::kInconsistentGroupProtocol, request.member_id));
    }
  }

  // A member id stays far below the int16 length of a classic string.
  constexpr size_t kMaxClientIdInMemberId = 200;
  const std::string member_id =
      known ? request.member_id
            : absl::StrCat(request.client_id.empty()
                               ? "member"
                               : request.client_id.substr(
                                     0, kMaxClientIdInMemberId),
                           "-", ++next_member_);
  Member& member = group.members[member_id];
  if (member.pending_join) {  // a retried join replaces the older one
    member.pending_join(JoinError(ErrorCode::kUnknownMemberId, member_id));
  }
  member.client_id = request.client_id;
  member.session_timeout_ms = request.session_timeout_ms;
  member.rebalance_timeout_ms =
      request.rebalance_timeout_ms > 0 ? request.rebalance_timeout_ms
                                       : request.session_timeout_ms;
  member.protocols = request.protocols;
  member.last_seen_ms = now_ms;
  member.pending_join = [done = std::move(done), member_id](
                            JoinGroupResult result) {
    result.member_id = member_id;
    done(result);
  };
  group.protocol_type = request.protocol_type;
  if (group.state != State::kPreparingRebalance) {
    PrepareRebalance(group, now_ms);
  }
  MaybeCompleteJoin(group);
}

void GroupCoordinator::PrepareRebalance(Group& group, int64_t now_ms) {
  // Members waiting for the old generation's assignment must rejoin.
  for (auto& [id, member] : group.members) {
    if (member.pending_sync) {
      std::exchange(member.pending_sync, nullptr)(
          ErrorCode::kRebalanceInProgress, "");
    }
  }
  int32_t timeout_ms = 0;
  for (const auto& [id, member] : group.members) {
    timeout_ms = std::max(timeout_ms, member.rebalance_timeout_ms);
  }
  group.state = State::kPreparingRebalance;
  group.rebalance_deadline_ms = now_ms + timeout_ms;
}

std::string GroupCoordinator::ChooseProtocol(const Group& group) {
  // The first protocol of the leader's that every member supports.
  const Member& leader = group.members.at(group.leader);
  for (const auto& protocol : leader.protocols) {
    // A named variable, not a structured binding: Clang 14 cannot capture
    // those in a lambda.
    const std::string& name = protocol.first;
    const bool everyone = std::all_of(
        group.members.begin(), group.members.end(), [&](const auto& m) {
          return std::any_of(
              m.second.protocols.begin(), m.second.protocols.end(),
              [&](const auto& theirs) { return theirs.first == name; });
        });
    if (everyone) return name;
  }
  return leader.protocols.front().first;
}

void GroupCoordinator::MaybeCompleteJoin(Group& group) {
  if (group.state != State::kPreparingRebalance) return;
  for (const auto& [id, member] : group.members) {
    if (!member.pending_join) return;  // still waiting for this one
  }
  if (group.members.empty()) {
    group.state = State::kEmpty;
    ++group.generation_id;
    return;
  }
  ++group.generation_id;
  if (group.members.count(group.leader) == 0) {
    group.leader = group.members.begin()->first;
  }
  group.protocol_name = ChooseProtocol(group);
  group.state = State::kCompletingRebalance;
  for (auto& [id, member] : group.members) {
    JoinGroupResult result;
    result.generation_id = group.generation_id;
    result.protocol_name = group.protocol_name;
    result.leader = group.leader;
    if (id == group.leader) {
      for (const auto& [other_id, other] : group.members) {
        for (const auto& [name, metadata] : other.protocols) {
          if (name == group.protocol_name) {
            result.members.emplace_back(other_id, metadata);
          }
        }
      }
    }
    member.assignment.clear();
    std::exchange(member.pending_join, nullptr)(result);
  }
}

void GroupCoordinator::Sync(
    const std::string& group_id, int32_t generation_id,
    const std::string& member_id,
    std::vector<std::pair<std::string, std::string>> assignments,
    int64_t now_ms, SyncCallback done) {
  const auto found = groups_.find(group_id);
  if (found == groups_.end() || found->second.members.count(member_id) == 0) {
    return done(ErrorCode::kUnknownMemberId, "");
  }
  Group& group = found->second;
  Member& member = group.members.at(member_id);
  member.last_seen_ms = now_ms;
  if (generation_id != group.generation_id) {
    return done(ErrorCode::kIllegalGeneration, "");
  }
  switch (group.state) {
    case State::kEmpty:
      return done(ErrorCode::kUnknownMemberId, "");
    case State::kPreparingRebalance:
      return done(ErrorCode::kRebalanceInProgress, "");
    case State::kStable:
      return done(ErrorCode::kNone, member.assignment);
    case State::kCompletingRebalance:
      break;
  }
  if (member.pending_sync) {
    std::exchange(member.pending_sync, nullptr)(ErrorCode::kUnknownMemberId,
                                                "");
  }
  member.pending_sync = std::move(done);
  if (member_id != group.leader) return;  // answered once the leader syncs
  for (auto& [id, assignment] : assignments) {
    const auto target = group.members.find(id);
    if (target != group.members.end()) {
      target->second.assignment = std::move(assignment);
    }
  }
  group.state = State::kStable;
  for (auto& [id, waiting] : group.members) {
    if (waiting.pending_sync) {
      std::exchange(waiting.pending_sync, nullptr)(ErrorCode::kNone,
                                                   waiting.assignment);
    }
  }
}

ErrorCode GroupCoordinator::Heartbeat(const std::string& group_id,
                                      int32_t generation_id,
                                      const std::string& member_id,
                                      int64_t now_ms) {
  const auto found = groups_.find(group_id);
  if (found == groups_.end() || found->second.members.count(member_id) == 0) {
    return ErrorCode::kUnknownMemberId;
  }
  Group& group = found->second;
  group.members.at(member_id).last_seen_ms = now_ms;
  if (generation_id != group.generation_id) {
    return ErrorCode::kIllegalGeneration;
  }
  if (group.state == State::kPreparingRebalance) {
    return ErrorCode::kRebalanceInProgress;
  }
  return ErrorCode::kNone;
}

ErrorCode GroupCoordinator::Leave(const std::string& group_id,
                                  const std::string& member_id,
                                  int64_t now_ms) {
  const auto found = groups_.find(group_id);
  if (found == groups_.end() || found->second.members.count(member_id) == 0) {
    return ErrorCode::kUnknownMemberId;
  }
  RemoveMember(found->second, member_id, now_ms);
  return ErrorCode::kNone;
}

void GroupCoordinator::RemoveMember(Group& group, const std::string& member_id,
                                    int64_t now_ms) {
  Member member = std::move(group.members.at(member_id));
  group.members.erase(member_id);
  if (member.pending_join) {
    member.pending_join(JoinError(ErrorCode::kUnknownMemberId, member_id));
  }
  if (member.pending_sync) {
    member.pending_sync(ErrorCode::kUnknownMemberId, "");
  }
  if (group.members.empty()) {
    group.state = State::kEmpty;
    ++group.generation_id;
    return;
  }
  if (group.state == State::kPreparingRebalance) {
    MaybeCompleteJoin(group);
  } else {
    PrepareRebalance(group, now_ms);
  }
}

ErrorCode GroupCoordinator::CheckCommit(const std::string& group_id,
                                        int32_t generation_id,
                                        const std::string& member_id) const {
  if (group_id.empty()) return ErrorCode::kInvalidGroupId;
  const auto found = groups_.find(group_id);
  const bool has_members =
      found != groups_.end() && !found->second.members.empty();
  if (generation_id < 0 && member_id.empty()) {
    // Outside group management: allowed while nobody manages the group.
    return has_members ? ErrorCode::kIllegalGeneration : ErrorCode::kNone;
  }
  if (!has_members || found->second.members.count(member_id) == 0) {
    return ErrorCode::kUnknownMemberId;
  }
  if (generation_id != found->second.generation_id) {
    return ErrorCode::kIllegalGeneration;
  }
  // As Kafka: a member may still commit what it consumed while the group
  // prepares a rebalance (eager clients commit before rejoining), but not
  // between the join and the new assignment.
  if (found->second.state == State::kCompletingRebalance) {
    return ErrorCode::kRebalanceInProgress;
  }
  return ErrorCode::kNone;
}

void GroupCoordinator::Tick(int64_t now_ms) {
  for (auto& [group_id, group] : groups_) {
    std::vector<std::string> expired;
    for (const auto& [id, member] : group.members) {
      if (!member.pending_join &&
          now_ms - member.last_seen_ms > member.session_timeout_ms) {
        expired.push_back(id);
      }
    }
    for (const std::string& id : expired) RemoveMember(group, id, now_ms);
    if (group.state == State::kPreparingRebalance &&
        now_ms >= group.rebalance_deadline_ms) {
      // Whoever has not rejoined by now is out of the group.
      std::vector<std::string> absent;
      for (const auto& [id, member] : group.members) {
        if (!member.pending_join) absent.push_back(id);
      }
      for (const std::string& id : absent) group.members.erase(id);
      MaybeCompleteJoin(group);
    }
  }
}

int64_t GroupCoordinator::NextDeadlineMs() const {
  int64_t next = std::numeric_limits<int64_t>::max();
  for (const auto& [group_id, group] : groups_) {
    if (group.state == State::kPreparingRebalance) {
      next = std::min(next, group.rebalance_deadline_ms);
    }
    for (const auto& [id, member] : group.members) {
      if (!member.pending_join) {
        next = std::min(next, member.last_seen_ms +
                                  member.session_timeout_ms + 1);
      }
    }
  }
  return next;
}

}  // namespace shiplog::kafka
