// The consumer-group state machine over time, with a fake clock: session
// and rebalance timeouts, members leaving, and the promise that every join
// and sync callback runs exactly once.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "bindings/kafka/group_coordinator.h"
#include "bindings/kafka/protocol.h"
#include "gtest/gtest.h"
#include "tests/kafka/group_coordinator_fixture.h"

namespace shiplog::kafka {
namespace {

using ::shiplog::kafka::testing::Assignments;
using ::shiplog::kafka::testing::GroupCoordinatorTest;
using ::shiplog::kafka::testing::kRebalanceTimeoutMs;
using ::shiplog::kafka::testing::kSessionTimeoutMs;

// ---------------------------------------------------------------------------
// Time: sessions and rebalances

TEST_F(GroupCoordinatorTest, MemberIsNotExpiredAtExactlyItsSessionTimeout) {
  const auto [stopped, alive] = StableGroupOfTwo();

  now_ms_ = kSessionTimeoutMs / 2;
  EXPECT_EQ(Heartbeat(alive, 2), ErrorCode::kNone);
  now_ms_ = kSessionTimeoutMs;
  coordinator_.Tick(now_ms_);

  EXPECT_EQ(Heartbeat(alive, 2), ErrorCode::kNone);
}

TEST_F(GroupCoordinatorTest,
       MemberThatStopsHeartbeatingExpiresAfterItsSession) {
  const auto [stopped, alive] = StableGroupOfTwo();

  now_ms_ = kSessionTimeoutMs / 2;
  EXPECT_EQ(Heartbeat(alive, 2), ErrorCode::kNone);
  now_ms_ = kSessionTimeoutMs + 1;
  coordinator_.Tick(now_ms_);

  EXPECT_EQ(Heartbeat(stopped, 2), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(Heartbeat(alive, 2), ErrorCode::kRebalanceInProgress);
}

TEST_F(GroupCoordinatorTest, SurvivorOfAnExpiryRejoinsAsTheSoleMember) {
  const auto [stopped, alive] = StableGroupOfTwo();
  now_ms_ = kSessionTimeoutMs / 2;
  Heartbeat(alive, 2);
  now_ms_ = kSessionTimeoutMs + 1;
  coordinator_.Tick(now_ms_);

  const JoinReply& rejoined = Join(alive, "metadata-b");

  ASSERT_EQ(rejoined.calls, 1);
  EXPECT_EQ(rejoined.result.error, ErrorCode::kNone);
  EXPECT_EQ(rejoined.result.generation_id, 3);
  EXPECT_EQ(rejoined.result.leader, alive);
  EXPECT_EQ(rejoined.result.members, Assignments({{alive, "metadata-b"}}));
}

TEST_F(GroupCoordinatorTest, NextDeadlineIsJustAfterTheSessionTimeout) {
  EXPECT_EQ(coordinator_.NextDeadlineMs(), std::numeric_limits<int64_t>::max());
  now_ms_ = 100;
  StableGroupOfOne();

  EXPECT_EQ(coordinator_.NextDeadlineMs(), 100 + kSessionTimeoutMs + 1);
}

// Members a, b stable; c joins at 1000, so the rebalance runs out at 6000;
// a rejoins, b keeps heartbeating but never rejoins.
TEST_F(GroupCoordinatorTest, RebalanceTimeoutRemovesMembersThatDidNotRejoin) {
  const auto [a, b] = StableGroupOfTwo();
  now_ms_ = 1000;
  const JoinReply& c = Join("", "metadata-c");
  now_ms_ = 2000;
  const JoinReply& a_rejoined = Join(a, "metadata-a");
  now_ms_ = 3000;
  EXPECT_EQ(Heartbeat(b, 2), ErrorCode::kRebalanceInProgress);
  EXPECT_EQ(coordinator_.NextDeadlineMs(), 1000 + kRebalanceTimeoutMs);

  coordinator_.Tick(1000 + kRebalanceTimeoutMs - 1);
  EXPECT_EQ(c.calls, 0);
  EXPECT_EQ(a_rejoined.calls, 0);
  now_ms_ = 1000 + kRebalanceTimeoutMs;
  coordinator_.Tick(now_ms_);

  ASSERT_EQ(c.calls, 1);
  ASSERT_EQ(a_rejoined.calls, 1);
  EXPECT_EQ(c.result.error, ErrorCode::kNone);
  EXPECT_EQ(c.result.generation_id, 3);
  EXPECT_EQ(a_rejoined.result.leader, a);
  Assignments members = a_rejoined.result.members;
  std::sort(members.begin(), members.end());
  Assignments expected = {{a, "metadata-a"},
                          {c.result.member_id, "metadata-c"}};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(members, expected);
  EXPECT_EQ(Heartbeat(b, 3), ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest,
       RebalanceTimeoutElectsANewLeaderIfTheLeaderIsGone) {
  const auto [leader, follower] = StableGroupOfTwo();
  const JoinReply& rejoined = Join(follower, "metadata-b");

  now_ms_ = kRebalanceTimeoutMs;
  coordinator_.Tick(now_ms_);

  ASSERT_EQ(rejoined.calls, 1);
  EXPECT_EQ(rejoined.result.leader, follower);
  EXPECT_EQ(rejoined.result.members, Assignments({{follower, "metadata-b"}}));
}

// ---------------------------------------------------------------------------
// Leaving

TEST_F(GroupCoordinatorTest, LeaveMakesTheOthersRejoin) {
  const auto [stays, leaves] = StableGroupOfTwo();

  EXPECT_EQ(Leave(leaves), ErrorCode::kNone);

  EXPECT_EQ(Heartbeat(stays, 2), ErrorCode::kRebalanceInProgress);
  const JoinReply& rejoined = Join(stays, "metadata-a");
  ASSERT_EQ(rejoined.calls, 1);
  EXPECT_EQ(rejoined.result.generation_id, 3);
  EXPECT_EQ(rejoined.result.members, Assignments({{stays, "metadata-a"}}));
}

TEST_F(GroupCoordinatorTest, LeaveOfTheLastAbsentMemberCompletesTheRebalance) {
  const std::string first = StableGroupOfOne();
  const JoinReply& second = Join("", "metadata-b");

  EXPECT_EQ(Leave(first), ErrorCode::kNone);

  ASSERT_EQ(second.calls, 1);
  EXPECT_EQ(second.result.error, ErrorCode::kNone);
  EXPECT_EQ(second.result.leader, second.result.member_id);
  EXPECT_EQ(second.result.members,
            Assignments({{second.result.member_id, "metadata-b"}}));
}

TEST_F(GroupCoordinatorTest, LeftMemberIsUnknown) {
  const std::string id = StableGroupOfOne();

  EXPECT_EQ(Leave(id), ErrorCode::kNone);

  EXPECT_EQ(Heartbeat(id, 1), ErrorCode::kUnknownMemberId);
  EXPECT_EQ(Leave(id), ErrorCode::kUnknownMemberId);
}

// ---------------------------------------------------------------------------
// Every callback exactly once

TEST_F(GroupCoordinatorTest, RetriedJoinAnswersTheEarlierOneExactlyOnce) {
  const auto [a, b] = StableGroupOfTwo();
  const JoinReply& c = Join("", "metadata-c");
  const JoinReply& first_try = Join(a, "metadata-a");

  const JoinReply& retry = Join(a, "metadata-a");
  EXPECT_EQ(first_try.calls, 1);
  EXPECT_EQ(retry.calls, 0);
  Join(b, "metadata-b");

  EXPECT_EQ(first_try.calls, 1);
  EXPECT_EQ(retry.calls, 1);
  EXPECT_EQ(retry.result.error, ErrorCode::kNone);
  EXPECT_EQ(c.calls, 1);
}

TEST_F(GroupCoordinatorTest, PendingSyncIsAnsweredOnceWhenANewMemberJoins) {
  const std::string leader = StableGroupOfOne();
  const JoinReply& second = Join("", "metadata-b");
  Join(leader, "metadata-a");
  const SyncReply& waiting = Sync(second.result.member_id, 2);

  Join("", "metadata-c");

  ASSERT_EQ(waiting.calls, 1);
  EXPECT_EQ(waiting.error, ErrorCode::kRebalanceInProgress);
}

TEST_F(GroupCoordinatorTest, PendingSyncOfAnExpiredMemberIsAnsweredOnce) {
  const std::string leader = StableGroupOfOne();
  const JoinReply& second = Join("", "metadata-b");
  Join(leader, "metadata-a");
  const SyncReply& waiting = Sync(second.result.member_id, 2);
  now_ms_ = kSessionTimeoutMs / 2;
  Heartbeat(leader, 2);  // the leader lives on but never syncs

  now_ms_ = kSessionTimeoutMs + 1;
  coordinator_.Tick(now_ms_);

  ASSERT_EQ(waiting.calls, 1);
  EXPECT_EQ(waiting.error, ErrorCode::kUnknownMemberId);
}

TEST_F(GroupCoordinatorTest, PendingJoinOfAMemberThatLeavesIsAnsweredOnce) {
  const auto [a, b] = StableGroupOfTwo();
  const JoinReply& c = Join("", "metadata-c");
  const JoinReply& a_waiting = Join(a, "metadata-a");

  Leave(a);

  ASSERT_EQ(a_waiting.calls, 1);
  EXPECT_NE(a_waiting.result.error, ErrorCode::kNone);
  EXPECT_EQ(c.calls, 0);
}

TEST_F(GroupCoordinatorTest, EveryCallbackRunsExactlyOnceThroughRebalances) {
  const auto [a, b] = StableGroupOfTwo();
  const JoinReply& c = Join("", "metadata-c");
  Sync(b, 2);  // refused at once: the group is rebalancing
  Join(a, "metadata-a");
  Join(b, "metadata-b");
  const std::string c_id = c.result.member_id;
  Sync(c_id, 3);
  Sync(b, 3);
  Sync(a, 3, {{a, "1"}, {b, "2"}, {c_id, "3"}});
  Leave(b);
  Join(a, "metadata-a");
  now_ms_ = kRebalanceTimeoutMs;
  coordinator_.Tick(now_ms_);  // c never rejoined
  Sync(a, 4, {{a, "all"}});
  Leave(a);

  for (const JoinReply& reply : joins_) EXPECT_EQ(reply.calls, 1);
  for (const SyncReply& reply : syncs_) EXPECT_EQ(reply.calls, 1);
}

}  // namespace
}  // namespace shiplog::kafka
