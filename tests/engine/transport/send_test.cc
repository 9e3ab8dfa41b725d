#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/transport/log_sender.h"
#include "tests/engine/transport/transport_test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::ExpectedRangeBytes;
using ::shiplog::testing::FdPair;
using ::shiplog::testing::LoopbackTcpPair;
using ::shiplog::testing::MakeTestLog;
using ::shiplog::testing::OpenDescriptorCount;
using ::shiplog::testing::ReadAvailable;
using ::shiplog::testing::ReadUntilEof;
using ::shiplog::testing::SetNonBlocking;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::UnixSocketPair;
using ::testing::HasSubstr;

SendOptions Policy(SendPolicy policy) {
  SendOptions options;
  options.policy = policy;
  return options;
}

// Sends the range on a blocking socket from a thread while this thread
// drains the other end; returns what arrived.
absl::StatusOr<std::string> SendAndReceive(std::shared_ptr<Log> log,
                                           int64_t offset, uint64_t max_bytes,
                                           const SendOptions& options,
                                           SendResult* result = nullptr) {
  FdPair pair = UnixSocketPair();
  absl::StatusOr<SendResult> sent;
  std::thread sender([&] {
    sent = SendLogRange(*log, offset, max_bytes, pair.sender, options);
    pair.CloseSender();
  });
  absl::StatusOr<std::string> received = ReadUntilEof(pair.receiver);
  sender.join();
  if (!sent.ok()) return sent.status();
  if (result != nullptr) *result = *sent;
  return received;
}

class SendPolicyTest : public ::testing::TestWithParam<SendPolicy> {};

TEST_P(SendPolicyTest, ShipsExactlyTheBatchesOfEachRange) {
  // 300 batches of 4 x 200 B records, in 16 KiB segments: ~20 segments.
  auto data = MakeTestLog(300, 4, 200, 16 * 1024);
  ASSERT_GT(data->log->segment_count(), 10u);
  const int64_t end = data->log->end_offset();
  const std::vector<std::pair<int64_t, uint64_t>> ranges = {
      {0, 1000},           // inside the first segment
      {0, 200 * 1024},     // across many segments
      {601, 50 * 1024},    // from the middle of a batch mid-log
      {end - 3, 1 << 20},  // the last batch
      {0, 1 << 30},        // the whole log
  };
  for (const auto& [offset, max_bytes] : ranges) {
    SCOPED_TRACE(absl::StrCat("offset ", offset, " max_bytes ", max_bytes));
    ASSERT_OK_AND_ASSIGN(std::string expected,
                         ExpectedRangeBytes(*data->log, offset, max_bytes));
    SendResult result;
    ASSERT_OK_AND_ASSIGN(std::string received,
                         SendAndReceive(data->log, offset, max_bytes,
                                        Policy(GetParam()), &result));
    EXPECT_EQ(received.size(), expected.size());
    EXPECT_TRUE(received == expected);
    EXPECT_EQ(result.bytes_sent, expected.size());
    // Batches hold 4 records: the range starts at the one holding `offset`.
    EXPECT_EQ(result.first_offset, offset / 4 * 4);
    EXPECT_LE(result.bytes_sent, std::max<uint64_t>(max_bytes, 4096));
  }
}

TEST_P(SendPolicyTest, AtTheEndNothingIsSentAndPastItIsAnError) {
  auto data = MakeTestLog(10, 2, 50);
  const int64_t end = data->log->end_offset();
  ASSERT_OK_AND_ASSIGN(
      std::string received,
      SendAndReceive(data->log, end, 1 << 20, Policy(GetParam())));
  EXPECT_TRUE(received.empty());
  FdPair pair = UnixSocketPair();
  EXPECT_THAT(
      SendLogRange(*data->log, end + 1, 100, pair.sender, Policy(GetParam())),
      StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("past the end")));
}

TEST_P(SendPolicyTest, AClosedPeerIsAnErrorNotASignalAndLeaksNothing) {
  // SIGPIPE keeps its default action here: if a send raised it, the test
  // binary would die.
  auto data = MakeTestLog(200, 4, 500, 1 << 20);
  const int descriptors = OpenDescriptorCount();
  {
    FdPair pair = UnixSocketPair(4096);
    pair.CloseReceiver();
    EXPECT_THAT(
        SendLogRange(*data->log, 0, 1 << 30, pair.sender, Policy(GetParam())),
        StatusIs(absl::StatusCode::kUnavailable,
                 HasSubstr("the peer closed the connection")));
  }
  // The log's file stays open (lazily opened by the first send); the
  // socket pair and nothing else went away.
  EXPECT_LE(OpenDescriptorCount(), descriptors + 1);
}

TEST_P(SendPolicyTest, APeerClosingMidSendEndsItWithAnError) {
  auto data = MakeTestLog(200, 4, 500, 1 << 20);
  FdPair pair = UnixSocketPair(4096);
  SetNonBlocking(pair.sender);
  SetNonBlocking(pair.receiver);
  ASSERT_OK_AND_ASSIGN(Destination destination,
                       Destination::Inspect(pair.sender));
  ASSERT_OK_AND_ASSIGN(LogSendCursor cursor,
                       LogSendCursor::Start(*data->log, 0, 1 << 30, destination,
                                            Policy(GetParam())));
  ASSERT_OK(cursor.Send());
  ASSERT_FALSE(cursor.done());
  ASSERT_GT(cursor.bytes_sent(), 0u);
  ReadAvailable(pair.receiver);
  pair.CloseReceiver();
  absl::Status status;
  for (int round = 0; round < 1000 && status.ok() && !cursor.done(); ++round) {
    status = cursor.Send().status();
  }
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               HasSubstr("the peer closed the connection")));
  // A failed sender stays failed: no retry sends into the void.
  EXPECT_THAT(cursor.Send(),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
}

INSTANTIATE_TEST_SUITE_P(Policies, SendPolicyTest,
                         ::testing::Values(SendPolicy::kAuto,
                                           SendPolicy::kSendfile,
                                           SendPolicy::kMmapWrite,
                                           SendPolicy::kCopy),
                         [](const auto& param_info) {
                           return std::string(SendPolicyName(param_info.param));
                         });

// Regression: a call that moved bytes and then failed reported none of them.
TEST(SendTest, ACallThatFailsMidwayStillCountsTheBytesThatLeft) {
  auto data = MakeTestLog(10, 10, 1000, 1 << 20);
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       ExpectedRangeBytes(*data->log, 0, 1 << 30));
  FdPair pair = UnixSocketPair(1 << 20);
  ASSERT_OK_AND_ASSIGN(Destination destination,
                       Destination::Inspect(pair.sender));
  ASSERT_OK_AND_ASSIGN(LogSendCursor cursor,
                       LogSendCursor::Start(*data->log, 0, 1 << 30, destination,
                                            Policy(SendPolicy::kSendfile)));
  // Cut the file behind the log's back: sendfile ships up to the new end,
  // then finds the end inside the slice.
  const std::string segment =
      JoinPath(data->log->directory(), "00000000000000000000.log");
  ASSERT_EQ(truncate(segment.c_str(), static_cast<off_t>(expected.size() / 2)),
            0);
  EXPECT_THAT(cursor.Send(), StatusIs(absl::StatusCode::kDataLoss,
                                      HasSubstr("truncated under the send")));
  EXPECT_EQ(cursor.bytes_sent(), expected.size() / 2);
  EXPECT_EQ(cursor.bytes_by_path()[SendPath::kSendfile], expected.size() / 2);
}

TEST(SendTest, TheFirstBatchGoesWholeEvenBeyondMaxBytes) {
  auto data = MakeTestLog(3, 10, 1000);
  ASSERT_OK_AND_ASSIGN(std::string received,
                       SendAndReceive(data->log, 0, 100, SendOptions{}));
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       ExpectedRangeBytes(*data->log, 0, 100));
  EXPECT_GT(received.size(), 10'000u);
  EXPECT_TRUE(received == expected);
}

TEST(SendTest, NonBlockingSendsResumeWhereTheyStopped) {
  auto data = MakeTestLog(100, 10, 1000, 256 * 1024);
  FdPair pair = UnixSocketPair(4096);
  SetNonBlocking(pair.sender);
  SetNonBlocking(pair.receiver);
  const EngineMetricsSnapshot before = TakeSnapshot(GlobalMetrics());
  ASSERT_OK_AND_ASSIGN(Destination destination,
                       Destination::Inspect(pair.sender));
  EXPECT_TRUE(destination.nonblocking);
  ASSERT_OK_AND_ASSIGN(LogSendCursor cursor,
                       LogSendCursor::Start(*data->log, 0, 1 << 30, destination,
                                            Policy(SendPolicy::kSendfile)));
  std::string received;
  int rounds = 0;
  // One thread, no waiting: send until the socket is full, drain it, again.
  while (!cursor.done()) {
    ASSERT_LT(++rounds, 1'000'000);
    ASSERT_OK(cursor.Send());
    received += ReadAvailable(pair.receiver);
  }
  received += ReadAvailable(pair.receiver);
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       ExpectedRangeBytes(*data->log, 0, 1 << 30));
  EXPECT_TRUE(received == expected);
  EXPECT_EQ(cursor.next_offset(), data->log->end_offset());
  const EngineMetricsSnapshot after = TakeSnapshot(GlobalMetrics());
  EXPECT_GT(rounds, 10);
  EXPECT_GT(after.send_eagain, before.send_eagain);
  EXPECT_GT(after.partial_sends, before.partial_sends);
  EXPECT_EQ(after.sent_bytes[SendPath::kSendfile] -
                before.sent_bytes[SendPath::kSendfile],
            expected.size());
}

TEST(SendTest, RetentionDeletingTheSegmentMidSendDoesNotBreakIt) {
  LogConfigOverrides overrides;
  overrides.retention_bytes = 0;
  auto data = MakeTestLog(80, 10, 1000, 256 * 1024, overrides);
  ASSERT_GT(data->log->segment_count(), 2u);
  FdPair pair = UnixSocketPair(4096);
  SetNonBlocking(pair.sender);
  SetNonBlocking(pair.receiver);
  ASSERT_OK_AND_ASSIGN(Destination destination,
                       Destination::Inspect(pair.sender));
  // Most of the oldest segment, as one slice far larger than the socket
  // takes at once.
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       ExpectedRangeBytes(*data->log, 0, 200 * 1024));
  ASSERT_OK_AND_ASSIGN(
      LogSendCursor cursor,
      LogSendCursor::Start(*data->log, 0, 200 * 1024, destination,
                           Policy(SendPolicy::kSendfile)));
  ASSERT_OK(cursor.Send());
  ASSERT_FALSE(cursor.done());
  ASSERT_OK_AND_ASSIGN(RetentionResult deleted, data->log->EnforceRetention(0));
  ASSERT_GT(deleted.segments_deleted, 0);
  ASSERT_GT(data->log->start_offset(), 0);
  std::string received = ReadAvailable(pair.receiver);
  while (!cursor.done()) {
    ASSERT_OK(cursor.Send());
    received += ReadAvailable(pair.receiver);
  }
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected);
}

TEST(SendTest, RefusedSendfileFallsBackToCopyAndCountsIt) {
  // sendfile(2) refuses a destination opened O_APPEND (EINVAL).
  auto data = MakeTestLog(20, 5, 100);
  const std::string path = data->dir.Join("appended");
  const int fd =
      open(path.c_str(), O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0640);
  ASSERT_GE(fd, 0);
  const EngineMetricsSnapshot before = TakeSnapshot(GlobalMetrics());
  ASSERT_OK_AND_ASSIGN(
      SendResult result,
      SendLogRange(*data->log, 0, 1 << 20, fd, Policy(SendPolicy::kSendfile)));
  close(fd);
  const EngineMetricsSnapshot after = TakeSnapshot(GlobalMetrics());
  EXPECT_EQ(after.send_fallbacks, before.send_fallbacks + 1);
  EXPECT_EQ(result.bytes_by_path[SendPath::kCopy], result.bytes_sent);
  EXPECT_EQ(result.bytes_by_path[SendPath::kSendfile], 0u);
  ASSERT_OK_AND_ASSIGN(std::string written,
                       ReadSmallFile(Env::Default(), path));
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       ExpectedRangeBytes(*data->log, 0, 1 << 20));
  EXPECT_TRUE(written == expected);
}

TEST(SendTest, PipesGetSplice) {
  auto data = MakeTestLog(20, 5, 100);
  FdPair pipe = ::shiplog::testing::Pipe();
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       ExpectedRangeBytes(*data->log, 0, 1 << 20));
  ASSERT_LT(expected.size(), 60'000u);  // fits the pipe: no reader thread
  ASSERT_OK_AND_ASSIGN(SendResult result,
                       SendLogRange(*data->log, 0, 1 << 20, pipe.sender));
  pipe.CloseSender();
  EXPECT_EQ(result.bytes_by_path[SendPath::kSplice], expected.size());
  ASSERT_OK_AND_ASSIGN(std::string received, ReadUntilEof(pipe.receiver));
  EXPECT_TRUE(received == expected);
}

TEST(SendTest, AutoUsesTheMappingBelowTheThresholdAndSendfileAbove) {
  auto data = MakeTestLog(40, 10, 1000, 1 << 20);
  SendOptions options;
  options.mmap_threshold_bytes = 64 * 1024;
  SendResult small;
  ASSERT_OK(SendAndReceive(data->log, 0, 16 * 1024, options, &small));
  EXPECT_EQ(small.bytes_by_path[SendPath::kMmapWrite], small.bytes_sent);
  SendResult large;
  ASSERT_OK(SendAndReceive(data->log, 0, 256 * 1024, options, &large));
  EXPECT_EQ(large.bytes_by_path[SendPath::kSendfile], large.bytes_sent);
}

TEST(SendTest, AutoPicksItsThresholdByDestination) {
  FdPair unix_pair = UnixSocketPair();
  ASSERT_OK_AND_ASSIGN(Destination unix_socket,
                       Destination::Inspect(unix_pair.sender));
  EXPECT_TRUE(unix_socket.unix_socket);
  EXPECT_EQ(DefaultMmapThreshold(unix_socket), kUnixSocketMmapThresholdBytes);

  FdPair tcp = LoopbackTcpPair();
  ASSERT_OK_AND_ASSIGN(Destination loopback, Destination::Inspect(tcp.sender));
  EXPECT_FALSE(loopback.unix_socket);
  EXPECT_TRUE(loopback.loopback);
  EXPECT_EQ(DefaultMmapThreshold(loopback), kLoopbackTcpMmapThresholdBytes);

  FdPair pipe = ::shiplog::testing::Pipe();
  ASSERT_OK_AND_ASSIGN(Destination pipe_end, Destination::Inspect(pipe.sender));
  EXPECT_EQ(DefaultMmapThreshold(pipe_end), kDefaultMmapThresholdBytes);

  // And the sends follow: a unix socket takes 256 KiB by sendfile.
  auto data = MakeTestLog(40, 10, 1000, 1 << 20);
  SendResult large;
  ASSERT_OK(SendAndReceive(data->log, 0, 256 * 1024, SendOptions{}, &large));
  EXPECT_EQ(large.bytes_by_path[SendPath::kSendfile], large.bytes_sent);
  SendResult small;
  ASSERT_OK(SendAndReceive(data->log, 0, 16 * 1024, SendOptions{}, &small));
  EXPECT_EQ(small.bytes_by_path[SendPath::kMmapWrite], small.bytes_sent);
}

TEST(SendTest, MetricsCountBytesAndSyscallsPerPath) {
  auto data = MakeTestLog(10, 10, 1000);
  for (SendPolicy policy :
       {SendPolicy::kSendfile, SendPolicy::kMmapWrite, SendPolicy::kCopy}) {
    const SendPath path = policy == SendPolicy::kSendfile ? SendPath::kSendfile
                          : policy == SendPolicy::kMmapWrite
                              ? SendPath::kMmapWrite
                              : SendPath::kCopy;
    const EngineMetricsSnapshot before = TakeSnapshot(GlobalMetrics());
    SendResult result;
    ASSERT_OK(SendAndReceive(data->log, 0, 1 << 20, Policy(policy), &result));
    const EngineMetricsSnapshot after = TakeSnapshot(GlobalMetrics());
    EXPECT_EQ(after.sent_bytes[path] - before.sent_bytes[path],
              result.bytes_sent)
        << SendPathName(path);
    EXPECT_GE(after.send_syscalls[path] - before.send_syscalls[path], 1u);
    // The copy path also reads: at least one pread and one write.
    if (path == SendPath::kCopy) {
      EXPECT_GE(after.send_syscalls[path] - before.send_syscalls[path], 2u);
    }
  }
}

TEST(SendTest, SendLogRangeTimesOutOnAStalledPeer) {
  auto data = MakeTestLog(50, 10, 1000, 1 << 20);
  FdPair pair = UnixSocketPair(4096);
  SetNonBlocking(pair.sender);
  EXPECT_THAT(SendLogRange(*data->log, 0, 1 << 30, pair.sender, SendOptions{},
                           /*timeout_ms=*/50),
              StatusIs(absl::StatusCode::kDeadlineExceeded,
                       HasSubstr("before the 50 ms timeout")));
}

TEST(SendTest, TcpLoopbackCarriesTheSameBytes) {
  auto data = MakeTestLog(100, 10, 1000, 256 * 1024);
  FdPair pair = LoopbackTcpPair();
  absl::StatusOr<SendResult> sent;
  std::thread sender([&] {
    sent = SendLogRange(*data->log, 0, 1 << 30, pair.sender);
    pair.CloseSender();
  });
  absl::StatusOr<std::string> received = ReadUntilEof(pair.receiver);
  sender.join();
  ASSERT_OK(sent);
  ASSERT_OK(received);
  ASSERT_OK_AND_ASSIGN(std::string expected,
                       ExpectedRangeBytes(*data->log, 0, 1 << 30));
  EXPECT_TRUE(*received == expected);
}

}  // namespace
}  // namespace shiplog
