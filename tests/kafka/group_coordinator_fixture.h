// A GroupCoordinator driven with a fake clock, and replies that count how
// often the coordinator calls each join and sync callback.
#ifndef SHIPLOG_TESTS_KAFKA_GROUP_COORDINATOR_FIXTURE_H_
#define SHIPLOG_TESTS_KAFKA_GROUP_COORDINATOR_FIXTURE_H_

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "bindings/kafka/group_coordinator.h"
#include "bindings/kafka/protocol.h"
#include "gtest/gtest.h"
#include "tests/kafka/kafka_test_util.h"

namespace shiplog::kafka::testing {

using Assignments = std::vector<std::pair<std::string, std::string>>;

inline constexpr char kGroup[] = "group";
inline constexpr int32_t kSessionTimeoutMs = 10'000;
inline constexpr int32_t kRebalanceTimeoutMs = 5'000;

class GroupCoordinatorTest : public ::testing::Test {
 protected:
  struct JoinReply {
    int calls = 0;
    JoinGroupResult result;
  };
  struct SyncReply {
    int calls = 0;
    ErrorCode error = ErrorCode::kUnknownServerError;
    std::string assignment;
  };

  static JoinGroupRequest Request(const std::string& member_id,
                                  const std::string& metadata) {
    JoinGroupRequest request;
    request.group_id = kGroup;
    request.client_id = "client";
    request.session_timeout_ms = kSessionTimeoutMs;
    request.rebalance_timeout_ms = kRebalanceTimeoutMs;
    request.member_id = member_id;
    request.protocol_type = "consumer";
    request.protocols = {{"range", metadata}};
    return request;
  }

  // Joins now; the reply records every call of the callback.
  JoinReply& Join(const JoinGroupRequest& request) {
    JoinReply& reply = joins_.emplace_back();
    coordinator_.Join(request, now_ms_, [&reply](const JoinGroupResult& r) {
      ++reply.calls;
      reply.result = r;
    });
    return reply;
  }
  JoinReply& Join(const std::string& member_id,
                  const std::string& metadata = "metadata") {
    return Join(Request(member_id, metadata));
  }

  SyncReply& Sync(const std::string& member_id, int32_t generation_id,
                  Assignments assignments = {}) {
    SyncReply& reply = syncs_.emplace_back();
    coordinator_.Sync(kGroup, generation_id, member_id, std::move(assignments),
                      now_ms_,
                      [&reply](ErrorCode error, const std::string& assignment) {
                        ++reply.calls;
                        reply.error = error;
                        reply.assignment = assignment;
                      });
    return reply;
  }

  ErrorCode Heartbeat(const std::string& member_id, int32_t generation_id) {
    return coordinator_.Heartbeat(kGroup, generation_id, member_id, now_ms_);
  }
  ErrorCode Leave(const std::string& member_id) {
    return coordinator_.Leave(kGroup, member_id, now_ms_);
  }

  // A group of one member that has synced, in generation 1: its id.
  std::string StableGroupOfOne() {
    const JoinReply& joined = Join("", "metadata-a");
    const std::string id = joined.result.member_id;
    Sync(id, 1, {{id, "assignment-a"}});
    return id;
  }

  struct Pair {
    std::string leader;
    std::string follower;
  };
  // A group of two members that have synced, in generation 2.
  Pair StableGroupOfTwo() {
    const std::string leader = StableGroupOfOne();
    const JoinReply& newcomer = Join("", "metadata-b");
    Join(leader, "metadata-a");
    const std::string follower = newcomer.result.member_id;
    Sync(follower, 2);
    Sync(leader, 2, {{leader, "assignment-a"}, {follower, "assignment-b"}});
    return {leader, follower};
  }

  void TearDown() override {
    for (const JoinReply& reply : joins_) EXPECT_LE(reply.calls, 1);
    for (const SyncReply& reply : syncs_) EXPECT_LE(reply.calls, 1);
  }

  GroupCoordinator coordinator_;
  int64_t now_ms_ = 0;
  std::deque<JoinReply> joins_;
  std::deque<SyncReply> syncs_;
};

}  // namespace shiplog::kafka::testing

#endif  // SHIPLOG_TESTS_KAFKA_GROUP_COORDINATOR_FIXTURE_H_
