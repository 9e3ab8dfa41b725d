// The consumer-group state machine (Kafka's classic protocol): joins,
// syncs and heartbeats of one and two members, the requests it refuses, and
// when a commit is allowed.
#include "bindings/kafka/group_coordinator.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "bindings/kafka/protocol.h"
#include "gtest/gtest.h"
#include "tests/kafka/group_coordinator_fixture.h"

namespace shiplog::kafka {
namespace {

using ::shiplog::kafka::testing::Assignments;
using ::shiplog::kafka::testing::GroupCoordinatorTest;
using ::shiplog::kafka::testing::kGroup;

// ---------------------------------------------------------------------------
// One member

TEST_F(GroupCoordinatorTest, SoleMemberLeadsGenerationOne) {
  const JoinReply& reply = Join("", "metadata-a");

  ASSERT_EQ(reply.calls, 1);
  const JoinGroupResult& result = reply.result;
  EXPECT_EQ(result.error, ErrorCode::kNone);
  EXPECT_EQ(result.generation_id, 1);
  EXPECT_FALSE(result.member_id.empty());
  EXPECT_EQ(result.leader, result.member_id);
  EXPECT_EQ(result.protocol_name, "range");
  EXPECT_EQ(result.members, Assignments({{result.member_id, "metadata-a"}}));
}

TEST_F(GroupCoordinatorTest, SoleMemberSyncReturnsItsOwnAssignment) {
  const std::string id = Join("").result.member_id;

  const SyncReply& reply = Sync(id, 1, {{id, "assignment-a"}});

  ASSERT_EQ(reply.calls, 1);
  EXPECT_EQ(reply.error, ErrorCode::kNone);
  EXPECT_EQ(reply.assignment, "assignment-a");
}

TEST_F(GroupCoordinatorTest, StableMemberHeartbeatsWithoutError) {
  const std::string id = StableGroupOfOne();

  EXPECT_EQ(Heartbeat(id, 1), ErrorCode::kNone);
}

TEST_F(GroupCoordinatorTest, SyncInAStableGroupReturnsTheAssignmentAgain) {
  const std::string id = StableGroupOfOne();

  const SyncReply& reply = Sync(id, 1);

  ASSERT_EQ(reply.calls, 1);
  EXPECT_EQ(reply.error, ErrorCode::kNone);
  EXPECT_EQ(reply.assignment, "assignment-a");
}

TEST_F(GroupCoordinatorTest, MembersGetDistinctIds) {
  const std::string first = StableGroupOfOne();
  const JoinReply& second = Join("");
  Join(first);

  ASSERT_EQ(second.calls, 1);
  EXPECT_NE(second.result.member_id, first);
}

// ---------------------------------------------------------------------------
// Two members

TEST_F(GroupCoordinatorTest, NewMemberJoinWaitsUntilTheKnownMemberRejoins) {
  const std::string first = StableGroupOfOne();

  const JoinReply& second = Join("", "metadata-b");
  EXPECT_EQ(second.calls, 0);
  EXPECT_EQ(Heartbeat(first, 1), ErrorCode::kRebalanceInProgress);
  EXPECT_EQ(second.calls, 0);
  const JoinReply& rejoined = Join(first, "metadata-a");

  ASSERT_EQ(second.calls, 1);
  ASSERT_EQ(rejoined.calls, 1);
  EXPECT_EQ(second.result.error, ErrorCode::kNone);
  EXPECT_EQ(rejoined.result.error, ErrorCode::kNone);
  EXPECT_EQ(second.result.generation_id, 2);
  EXPECT_EQ(rejoined.result.generation_id, 2);
}

TEST_F(GroupCoordinatorTest, LeaderGetsEveryMembersMetadata) {
  const std::string first = StableGroupOfOne();
  const JoinReply& second = Join("", "metadata-b");
  const JoinReply& rejoined = Join(first, "metadata-a");

  EXPECT_EQ(rejoined.result.leader, first);
  Assignments members = rejoined.result.members;
  std::sort(members.begin(), members.end());
  Assignments expected = {{first, "metadata-a"},
                          {second.result.member_id, "metadata-b"}};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(members, expected);
}

TEST_F(GroupCoordinatorTest, FollowerGetsTheLeaderButNoMembers) {
  const std::string first = StableGroupOfOne();
  const JoinReply& second = Join("", "metadata-b");
  Join(first, "metadata-a");

  EXPECT_EQ(second.result.leader, first);
  EXPECT_EQ(second.result.protocol_name, "range");
  EXPECT_TRUE(second.result.members.empty());
}

TEST_F(GroupCoordinatorTest, FollowerSyncIsAnsweredWhenTheLeaderSyncs) {
  const std::string leader = StableGroupOfOne();
  const JoinReply& second = Join("", "metadata-b");
  Join(leader, "metadata-a");
  const std::string follower = second.result.member_id;

  const SyncReply& follower_sync = Sync(follower, 2);
  EXPECT_EQ(follower_sync.calls, 0);
  const SyncReply& leader_sync =
      Sync(leader, 2, {{leader, "assignment-a"}, {follower, "assignment-b"}});

  ASSERT_EQ(follower_sync.calls, 1);
  ASSERT_EQ(leader_sync.calls, 1);
  EXPECT_EQ(follower_sync.error, ErrorCode::kNone);
  EXPECT_EQ(follower_sync.assignment, "assignment-b");
  EXPECT_EQ(leader_sync.error, ErrorCode::kNone);
  EXPECT_EQ(leader_sync.assignment, "assignment-a");
}

TEST_F(GroupCoordinatorTest,
       ChoosesTheLeadersFirstProtocolThatEveryMemberSupports) {
  JoinGroupRequest leader_request = Request("", "");
  leader_request.protocols = {{"cooperative-sticky", "sticky-a"},
                              {"range", "range-a"}};
  const std::string leader = Join(leader_request).result.member_id;
  JoinGroupRequest follower_request = Request("", "");
  follower_request.protocols = {{"range", "range-b"}};
  Join(follower_request);
  leader_request.member_id = leader;

  const JoinReply& rejoined = Join(leader_request);

  ASSERT_EQ(rejoined.calls, 1);
  EXPECT_EQ(rejoined.result.protocol_name, "range");
  for (const auto& [id, metadata] : rejoined.result.members) {
    EXPECT_EQ(metadata.substr(0, 6), "range-") << id;
  }
}

// ---------------------------------------------------------------------------
// Requests the coordinator refuses

TEST_F(GroupCoordinatorTest, JoinWithAnUnknownMemberIdFails) {
  StableGroupOfOne();

  const JoinReply& reply = Join("ghost");

  ASSERT_EQ(reply.calls, 1);
  EXPECT_EQ(reply.result.error, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, HeartbeatOfAnUnknownMemberFails) {
  StableGroupOfOne();

  EXPECT_EQ(Heartbeat("ghost", 1), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, SyncOfAnUnknownMemberFails) {
  StableGroupOfOne();

  const SyncReply& reply = Sync("ghost", 1);

  ASSERT_EQ(reply.calls, 1);
  EXPECT_EQ(reply.error, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, LeaveOfAnUnknownMemberFails) {
  StableGroupOfOne();

  EXPECT_EQ(Leave("ghost"), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, HeartbeatOfAnotherGenerationIsIllegal) {
  const std::string id = StableGroupOfOne();

  EXPECT_EQ(Heartbeat(id, 0), ErrorCode::kIllegalGeneration);
  EXPECT_EQ(Heartbeat(id, 2), ErrorCode::kIllegalGeneration);
}

TEST_F(GroupCoordinatorTest, SyncOfAnotherGenerationIsIllegal) {
  const std::string id = StableGroupOfOne();

  const SyncReply& reply = Sync(id, 7);

  ASSERT_EQ(reply.calls, 1);
  EXPECT_EQ(reply.error, ErrorCode::kIllegalGeneration);
}

TEST_F(GroupCoordinatorTest, JoinWithAnotherProtocolTypeIsInconsistent) {
  const std::string id = StableGroupOfOne();
  JoinGroupRequest request = Request("", "metadata");
  request.protocol_type = "connect";

  const JoinReply& reply = Join(request);

  ASSERT_EQ(reply.calls, 1);
  EXPECT_EQ(reply.result.error, ErrorCode::kInconsistentGroupProtocol);
  EXPECT_EQ(Heartbeat(id, 1), ErrorCode::kNone);  // the group is untouched
}

TEST_F(GroupCoordinatorTest, JoinWithoutASharedProtocolIsInconsistent) {
  const std::string id = StableGroupOfOne();
  JoinGroupRequest request = Request("", "metadata");
  request.protocols = {{"roundrobin", "metadata"}};

  const JoinReply& reply = Join(request);

  ASSERT_EQ(reply.calls, 1);
  EXPECT_EQ(reply.result.error, ErrorCode::kInconsistentGroupProtocol);
  EXPECT_EQ(Heartbeat(id, 1), ErrorCode::kNone);
}

TEST_F(GroupCoordinatorTest, JoinWithoutProtocolsIsInconsistent) {
  JoinGroupRequest request = Request("", "metadata");
  request.protocols.clear();

  const JoinReply& reply = Join(request);

  ASSERT_EQ(reply.calls, 1);
  EXPECT_EQ(reply.result.error, ErrorCode::kInconsistentGroupProtocol);
}

TEST_F(GroupCoordinatorTest, SessionTimeoutOutsideTheAllowedRangeIsInvalid) {
  for (const int32_t timeout_ms : {-1, 0, 999, 30 * 60 * 1000 + 1}) {
    JoinGroupRequest request = Request("", "metadata");
    request.session_timeout_ms = timeout_ms;

    const JoinReply& reply = Join(request);

    ASSERT_EQ(reply.calls, 1);
    EXPECT_EQ(reply.result.error, ErrorCode::kInvalidSessionTimeout)
        << timeout_ms;
  }
}

TEST_F(GroupCoordinatorTest, SessionTimeoutsAtTheBoundsAreAccepted) {
  for (const int32_t timeout_ms : {1000, 30 * 60 * 1000}) {
    JoinGroupRequest request = Request("", "metadata");
    request.group_id = "group-" + std::to_string(timeout_ms);
    request.session_timeout_ms = timeout_ms;

    const JoinReply& reply = Join(request);

    ASSERT_EQ(reply.calls, 1);
    EXPECT_EQ(reply.result.error, ErrorCode::kNone) << timeout_ms;
  }
}

TEST_F(GroupCoordinatorTest, JoinWithAnEmptyGroupIdIsInvalid) {
  JoinGroupRequest request = Request("", "metadata");
  request.group_id.clear();

  const JoinReply& reply = Join(request);

  ASSERT_EQ(reply.calls, 1);
  EXPECT_EQ(reply.result.error, ErrorCode::kInvalidGroupId);
}

// ---------------------------------------------------------------------------
// CheckCommit

TEST_F(GroupCoordinatorTest,
       CommitOutsideGroupManagementIsAllowedWithoutMembers) {
  EXPECT_EQ(coordinator_.CheckCommit(kGroup, -1, ""), ErrorCode::kNone);
}

TEST_F(GroupCoordinatorTest, CommitOutsideGroupManagementIsRefusedWithMembers) {
  StableGroupOfOne();

  EXPECT_NE(coordinator_.CheckCommit(kGroup, -1, ""), ErrorCode::kNone);
}

TEST_F(GroupCoordinatorTest, CommitOutsideGroupManagementIsAllowedOnceAllLeft) {
  const std::string id = StableGroupOfOne();
  Leave(id);

  EXPECT_EQ(coordinator_.CheckCommit(kGroup, -1, ""), ErrorCode::kNone);
}

TEST_F(GroupCoordinatorTest, MemberMayCommitInItsGeneration) {
  const std::string id = StableGroupOfOne();

  EXPECT_EQ(coordinator_.CheckCommit(kGroup, 1, id), ErrorCode::kNone);
}

TEST_F(GroupCoordinatorTest, CommitOfAnotherGenerationIsIllegal) {
  const std::string id = StableGroupOfOne();

  EXPECT_EQ(coordinator_.CheckCommit(kGroup, 2, id),
            ErrorCode::kIllegalGeneration);
}

// An eager consumer learns of a rebalance from its heartbeat and commits
// what it consumed before it rejoins, still in its old generation. Kafka
// takes that commit (GroupCoordinator.doCommitOffsets: "During
// PreparingRebalance phase, we still allow a commit request"); refusing it
// loses the offsets and redelivers the records after the rebalance.
TEST_F(GroupCoordinatorTest, MemberMayCommitBeforeRejoiningARebalance) {
  const std::string id = StableGroupOfOne();
  Join("", "metadata-b");
  ASSERT_EQ(Heartbeat(id, 1), ErrorCode::kRebalanceInProgress);

  EXPECT_EQ(coordinator_.CheckCommit(kGroup, 1, id), ErrorCode::kNone);
}

TEST_F(GroupCoordinatorTest, CommitOfAnUnknownMemberIsRefused) {
  StableGroupOfOne();

  EXPECT_EQ(coordinator_.CheckCommit(kGroup, 1, "ghost"),
            ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, CommitWithAnEmptyGroupIdIsInvalid) {
  EXPECT_EQ(coordinator_.CheckCommit("", -1, ""), ErrorCode::kInvalidGroupId);
}

}  // namespace
}  // namespace shiplog::kafka
