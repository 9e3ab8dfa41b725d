// Cold reads through the send API: slices far behind the log's end are read
// with O_DIRECT + libaio into pool buffers and written from there
// (TRANSPORT.md, "Cold reads"). The page-cache proof is in
// page_cache_test.cc.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/segment/segment.h"
#include "engine/status/errno_status.h"
#include "engine/transport/log_sender.h"
#include "tests/engine/test_env.h"
#include "tests/engine/transport/transport_test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::ExpectedRangeBytes;
using ::shiplog::testing::FdPair;
using ::shiplog::testing::OpenDescriptorCount;
using ::shiplog::testing::ReadAvailable;
using ::shiplog::testing::ReadUntilEof;
using ::shiplog::testing::SetNonBlocking;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::TestEnv;
using ::shiplog::testing::UnixSocketPair;
using ::testing::HasSubstr;

constexpr int64_t kNoTimeoutMs = 60'000;

// A store over a TestEnv with one log, "data-0", of 60 batches of ~10 KiB
// in 64 KiB segments (about ten), and a pool of eight 16 KiB buffers, so a
// segment takes several reads.
class ColdReadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.env = &env_;
    options.maintenance_interval_ms = 0;
    options.direct_read_buffer_bytes = 16 * 1024;
    options.direct_read_pool_bytes = 8 * 16 * 1024;
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(dir_.Join("store"), options));
    LogConfigOverrides overrides;
    overrides.segment_bytes = 64 * 1024;
    overrides.retention_bytes = 0;  // EnforceRetention keeps only the last
    ASSERT_OK_AND_ASSIGN(log_, store_->OpenLog("data-0", overrides));
    int64_t next = 0;
    for (int batch = 0; batch < 60; ++batch) {
      std::vector<std::string> values;
      for (int r = 0; r < 10; ++r, ++next) {
        std::string value = absl::StrCat("record-", next, "-");
        value.resize(1000, static_cast<char>('a' + next % 26));
        values.push_back(std::move(value));
      }
      std::vector<RecordView> records(values.size());
      for (size_t i = 0; i < values.size(); ++i) records[i].value = values[i];
      ASSERT_OK(log_->Append(records));
    }
    ASSERT_GT(log_->segment_count(), 5u);
    pool_ = store_->direct_read_pool();
    // Skip where the file system has no O_DIRECT (tmpfs before Linux 6.6).
    ASSERT_OK_AND_ASSIGN(Slice first, log_->Read(0, 1));
    absl::StatusOr<std::unique_ptr<File>> probe =
        first.segment->OpenLogFileForDirectRead();
    if (absl::IsInvalidArgument(probe.status())) {
      GTEST_SKIP() << "no O_DIRECT under " << dir_.path() << ": "
                   << probe.status();
    }
    ASSERT_OK(probe);
    probe_opens_ = env_.direct_open_count();
  }

  // Direct opens by the test's sends (not the probe).
  int DirectOpens() const { return env_.direct_open_count() - probe_opens_; }

  // Every slice at least one byte behind the end goes cold.
  SendOptions AllCold() const {
    SendOptions options;
    options.cold_read_lag_bytes = 1;
    options.direct_read_pool = pool_;
    options.direct_read_buffer_wait_ms = kNoTimeoutMs;
    return options;
  }

  // Sends [offset, max_bytes) on a blocking socket from a thread while
  // this one drains it; returns what arrived.
  absl::StatusOr<std::string> SendAndReceive(const SendOptions& options,
                                             SendResult* result,
                                             int64_t offset = 0,
                                             uint64_t max_bytes = 1 << 30) {
    FdPair pair = UnixSocketPair();
    absl::StatusOr<SendResult> sent;
    std::thread sender([&] {
      sent = SendLogRange(*log_, offset, max_bytes, pair.sender, options);
      pair.CloseSender();
    });
    absl::StatusOr<std::string> received = ReadUntilEof(pair.receiver);
    sender.join();
    if (!sent.ok()) return sent.status();
    *result = *sent;
    return received;
  }

  uint64_t LastSegmentBytes() const {
    const std::vector<int64_t> bases = log_->segment_base_offsets();
    absl::StatusOr<Slice> last = log_->Read(bases.back(), 1);
    return last.ok() ? last->segment->size() : 0;
  }

  TempDir dir_;
  TestEnv env_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<Log> log_;
  std::shared_ptr<AlignedBufferPool> pool_;
  int probe_opens_ = 0;
};

TEST_F(ColdReadTest, ColdSlicesGoByDirectReadAndArriveByteForByte) {
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       ExpectedRangeBytes(*log_, 0, 1 << 30));
  const EngineMetricsSnapshot before = TakeSnapshot(GlobalMetrics());
  SendResult sent;
  ASSERT_OK_AND_ASSIGN(const std::string received,
                       SendAndReceive(AllCold(), &sent));
  EXPECT_TRUE(received == expected);
  EXPECT_EQ(sent.bytes_sent, expected.size());
  EXPECT_EQ(sent.bytes_by_path[SendPath::kDirectRead], expected.size());
  EXPECT_EQ(pool_->available(), pool_->buffer_count());
  const EngineMetricsSnapshot after = TakeSnapshot(GlobalMetrics());
  EXPECT_GE(after.sent_bytes[SendPath::kDirectRead] -
                before.sent_bytes[SendPath::kDirectRead],
            expected.size());
  EXPECT_GE(after.direct_read_bytes - before.direct_read_bytes,
            expected.size());
  EXPECT_EQ(DirectOpens(), static_cast<int>(log_->segment_count()));
}

TEST_F(ColdReadTest, RangesStartingMidSegmentComeOutExactly) {
  for (const int64_t offset : {1, 57, 233, 415}) {
    SCOPED_TRACE(offset);
    ASSERT_OK_AND_ASSIGN(const std::string expected,
                         ExpectedRangeBytes(*log_, offset, 100 * 1024));
    SendResult sent;
    ASSERT_OK_AND_ASSIGN(const std::string received,
                         SendAndReceive(AllCold(), &sent, offset, 100 * 1024));
    EXPECT_TRUE(received == expected);
    EXPECT_EQ(sent.bytes_by_path[SendPath::kDirectRead], expected.size());
  }
}

TEST_F(ColdReadTest, OnlySlicesFartherBehindThanTheLagGoCold) {
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       ExpectedRangeBytes(*log_, 0, 1 << 30));
  const uint64_t tail = LastSegmentBytes();
  ASSERT_GT(tail, 0u);
  SendOptions options = AllCold();
  // The last segment starts exactly this far behind the end: not farther.
  options.cold_read_lag_bytes = tail;
  options.policy = SendPolicy::kSendfile;
  SendResult sent;
  ASSERT_OK_AND_ASSIGN(const std::string received,
                       SendAndReceive(options, &sent));
  EXPECT_TRUE(received == expected);
  EXPECT_EQ(sent.bytes_by_path[SendPath::kDirectRead], expected.size() - tail);
  EXPECT_EQ(sent.bytes_by_path[SendPath::kSendfile], tail);
}

TEST_F(ColdReadTest, ColdReadsAreOffByDefault) {
  SendResult sent;
  ASSERT_OK(SendAndReceive(SendOptions{}, &sent));
  EXPECT_EQ(sent.bytes_by_path[SendPath::kDirectRead], 0u);
  EXPECT_EQ(DirectOpens(), 0);
}

TEST_F(ColdReadTest, ColdReadsWithoutAPoolAreRefused) {
  SendOptions options;
  options.cold_read_lag_bytes = 1;
  FdPair pair = UnixSocketPair();
  EXPECT_THAT(SendLogRange(*log_, 0, 1 << 30, pair.sender, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("direct_read_pool")));
  ASSERT_OK_AND_ASSIGN(Destination destination,
                       Destination::Inspect(pair.sender));
  EXPECT_THAT(LogSendCursor::Start(*log_, 0, 1, destination, options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("direct_read_pool")));
}

TEST_F(ColdReadTest, NonBlockingColdSendsResumeWhereTheyStopped) {
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       ExpectedRangeBytes(*log_, 0, 1 << 30));
  FdPair pair = UnixSocketPair(4096);
  SetNonBlocking(pair.sender);
  SetNonBlocking(pair.receiver);
  ASSERT_OK_AND_ASSIGN(Destination destination,
                       Destination::Inspect(pair.sender));
  ASSERT_OK_AND_ASSIGN(
      LogSendCursor cursor,
      LogSendCursor::Start(*log_, 0, 1 << 30, destination, AllCold()));
  std::string received;
  int partial_rounds = 0;
  // One thread, no waiting: send until the socket is full, drain it, again.
  while (!cursor.done()) {
    ASSERT_LT(partial_rounds, 1'000'000);
    ASSERT_OK(cursor.Send());
    if (!cursor.done()) ++partial_rounds;
    received += ReadAvailable(pair.receiver);
  }
  received += ReadAvailable(pair.receiver);
  EXPECT_GT(partial_rounds, 10);
  EXPECT_TRUE(received == expected);
  EXPECT_EQ(cursor.bytes_by_path()[SendPath::kDirectRead], expected.size());
  EXPECT_EQ(pool_->available(), pool_->buffer_count());
}

TEST_F(ColdReadTest, APeerClosingMidSendIsAnErrorAndReleasesEverything) {
  const int descriptors = OpenDescriptorCount();
  {
    FdPair pair = UnixSocketPair(4096);
    SetNonBlocking(pair.sender);
    ASSERT_OK_AND_ASSIGN(Destination destination,
                         Destination::Inspect(pair.sender));
    ASSERT_OK_AND_ASSIGN(
        LogSendCursor cursor,
        LogSendCursor::Start(*log_, 0, 1 << 30, destination, AllCold()));
    ASSERT_OK(cursor.Send());
    ASSERT_FALSE(cursor.done());
    ASSERT_LT(pool_->available(), pool_->buffer_count());  // reads in flight
    pair.CloseReceiver();
    // No SIGPIPE: the test process would end here.
    EXPECT_THAT(cursor.Send(),
                StatusIs(absl::StatusCode::kUnavailable,
                         HasSubstr("peer closed the connection")));
    // Released at the error, while the cursor still exists.
    EXPECT_EQ(pool_->available(), pool_->buffer_count());
  }
  EXPECT_EQ(OpenDescriptorCount(), descriptors);
}

TEST_F(ColdReadTest, AColdReadWaitsForAFreeBufferThenReadsThroughIt) {
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       ExpectedRangeBytes(*log_, 0, 1 << 30));
  std::vector<AlignedBufferPool::Buffer> held;
  while (std::optional<AlignedBufferPool::Buffer> buffer = pool_->Acquire(0)) {
    held.push_back(*std::move(buffer));
  }
  ASSERT_EQ(held.size(), pool_->buffer_count());
  FdPair pair = UnixSocketPair();
  absl::StatusOr<SendResult> sent;
  std::thread sender([&] {
    sent = SendLogRange(*log_, 0, 1 << 30, pair.sender, AllCold());
    pair.CloseSender();
  });
  absl::StatusOr<std::string> received;
  std::thread receiver([&] { received = ReadUntilEof(pair.receiver); });
  // The send is stuck on the empty pool, not elsewhere.
  ASSERT_TRUE(pool_->AwaitWaiting(1, kNoTimeoutMs));
  EXPECT_EQ(pool_->available(), 0u);
  held.pop_back();  // one buffer is enough to read everything
  sender.join();
  receiver.join();
  ASSERT_OK(sent);
  ASSERT_OK(received);
  EXPECT_TRUE(*received == expected);
  EXPECT_EQ(sent->bytes_by_path[SendPath::kDirectRead], expected.size());
  EXPECT_EQ(pool_->available(), 1u);
}

TEST_F(ColdReadTest, NoFreeBufferInTimeSendsTheSliceThroughThePageCache) {
  std::vector<AlignedBufferPool::Buffer> held;
  while (std::optional<AlignedBufferPool::Buffer> buffer = pool_->Acquire(0)) {
    held.push_back(*std::move(buffer));
  }
  ASSERT_OK_AND_ASSIGN(Slice slice, log_->Read(0, 1 << 20));
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       ExpectedRangeBytes(*log_, 0, slice.size));
  SendOptions options = AllCold();
  options.direct_read_buffer_wait_ms = 0;
  options.policy = SendPolicy::kSendfile;
  FdPair pair = UnixSocketPair();
  ASSERT_OK_AND_ASSIGN(Destination destination,
                       Destination::Inspect(pair.sender));
  const uint64_t fallbacks = GlobalMetrics().direct_read_fallbacks.Value();
  SliceSender sender(slice, destination, options, /*cold=*/true);
  std::thread sending([&] {
    EXPECT_OK(sender.Send());
    pair.CloseSender();
  });
  ASSERT_OK_AND_ASSIGN(const std::string received, ReadUntilEof(pair.receiver));
  sending.join();
  EXPECT_TRUE(sender.done());
  EXPECT_TRUE(received == expected);
  EXPECT_EQ(sender.path(), SendPath::kSendfile);
  EXPECT_EQ(sender.bytes_by_path()[SendPath::kSendfile], slice.size);
  EXPECT_THAT(sender.direct_read_fallback(),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("no direct read buffer")));
  EXPECT_EQ(GlobalMetrics().direct_read_fallbacks.Value(), fallbacks + 1);
}

TEST_F(ColdReadTest, AFileSystemWithoutODirectSendsThroughThePageCache) {
  env_.FailDirectOpensWith(EINVAL);
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       ExpectedRangeBytes(*log_, 0, 1 << 30));
  const uint64_t fallbacks = GlobalMetrics().direct_read_fallbacks.Value();
  SendOptions options = AllCold();
  options.policy = SendPolicy::kCopy;
  SendResult sent;
  ASSERT_OK_AND_ASSIGN(const std::string received,
                       SendAndReceive(options, &sent));
  EXPECT_TRUE(received == expected);
  EXPECT_EQ(sent.bytes_by_path[SendPath::kDirectRead], 0u);
  EXPECT_EQ(sent.bytes_by_path[SendPath::kCopy], expected.size());
  EXPECT_EQ(GlobalMetrics().direct_read_fallbacks.Value(),
            fallbacks + log_->segment_count());

  ASSERT_OK_AND_ASSIGN(Slice slice, log_->Read(0, 1));
  FdPair pair = UnixSocketPair();
  ASSERT_OK_AND_ASSIGN(Destination destination,
                       Destination::Inspect(pair.sender));
  SliceSender sender(slice, destination, options, /*cold=*/true);
  ASSERT_OK(sender.Send());
  EXPECT_THAT(sender.direct_read_fallback(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("injected")));
}

TEST_F(ColdReadTest, AFailingDiskFailsTheSendAndReleasesEverything) {
  env_.BreakDirectReads(true);
  const int descriptors = OpenDescriptorCount();
  const uint64_t errors = GlobalMetrics().send_errors.Value();
  SendResult sent;
  const absl::StatusOr<std::string> received = SendAndReceive(AllCold(), &sent);
  ASSERT_FALSE(received.ok());
  EXPECT_EQ(StatusErrno(received.status()), EBADF) << received.status();
  EXPECT_EQ(GlobalMetrics().send_errors.Value(), errors + 1);
  EXPECT_EQ(pool_->available(), pool_->buffer_count());
  EXPECT_EQ(OpenDescriptorCount(), descriptors);
}

TEST_F(ColdReadTest, ASegmentDeletedWhileHeldIsStillReadCold) {
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       ExpectedRangeBytes(*log_, 0, 1 << 30));
  ASSERT_OK_AND_ASSIGN(LogRange range, ResolveLogRange(*log_, 0, 1 << 30));
  const std::string first_segment = range.slices.front().segment->log_path();
  ASSERT_OK_AND_ASSIGN(RetentionResult deleted, log_->EnforceRetention(0));
  ASSERT_GT(deleted.segments_deleted, 0);
  ASSERT_TRUE(absl::IsNotFound(env_.Stat(first_segment).status()));
  FdPair pair = UnixSocketPair();
  absl::StatusOr<SendResult> sent;
  std::thread sender([&] {
    sent = SendRange(std::move(range), pair.sender, AllCold());
    pair.CloseSender();
  });
  ASSERT_OK_AND_ASSIGN(const std::string received, ReadUntilEof(pair.receiver));
  sender.join();
  ASSERT_OK(sent);
  EXPECT_TRUE(received == expected);
  // Every slice, the deleted segments' too, went by direct reads of the
  // descriptors the segments hold (reopened through /proc/self/fd).
  EXPECT_EQ(sent->bytes_by_path[SendPath::kDirectRead], expected.size());
}

TEST_F(ColdReadTest, AFileCutUnderAColdSendIsDataLoss) {
  ASSERT_OK_AND_ASSIGN(Slice first, log_->Read(0, 1 << 20));
  FdPair pair = UnixSocketPair(1 << 20);
  ASSERT_OK_AND_ASSIGN(Destination destination,
                       Destination::Inspect(pair.sender));
  ASSERT_OK_AND_ASSIGN(
      LogSendCursor cursor,
      LogSendCursor::Start(*log_, 0, first.size, destination, AllCold()));
  // Cut the file behind the log's back, mid-slice and mid-block.
  ASSERT_EQ(truncate(first.segment->log_path().c_str(),
                     static_cast<off_t>(first.size / 2 + 100)),
            0);
  EXPECT_THAT(cursor.Send(), StatusIs(absl::StatusCode::kDataLoss,
                                      HasSubstr("truncated under the read")));
  EXPECT_LE(cursor.bytes_sent(), first.size / 2 + 100);
  EXPECT_EQ(pool_->available(), pool_->buffer_count());
}

// Senders on several threads share the store's AIO contexts: each cold
// slice takes one and gives it back drained, so there are never more than
// there are senders at once, and each sender's bytes arrive exact (a
// completion that reached another reader would corrupt them, or, under
// ASan, use a freed read).
TEST_F(ColdReadTest, ConcurrentColdSendersShareTheStoresAioContexts) {
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       ExpectedRangeBytes(*log_, 0, 1 << 30));
  constexpr int kSenders = 3;
  constexpr int kRounds = 2;
  std::vector<std::vector<absl::StatusOr<std::string>>> received(kSenders);
  std::vector<std::thread> senders;
  for (int i = 0; i < kSenders; ++i) {
    senders.emplace_back([&, i] {
      for (int round = 0; round < kRounds; ++round) {
        SendResult sent;
        received[i].push_back(SendAndReceive(AllCold(), &sent));
      }
    });
  }
  for (std::thread& sender : senders) sender.join();
  for (int i = 0; i < kSenders; ++i) {
    ASSERT_EQ(received[i].size(), static_cast<size_t>(kRounds));
    for (const absl::StatusOr<std::string>& bytes : received[i]) {
      ASSERT_OK(bytes);
      EXPECT_TRUE(*bytes == expected) << "sender " << i;
    }
  }
  // kSenders x kRounds x every segment cold slices, on this many contexts:
  AioContextPool& contexts = pool_->aio_contexts();
  EXPECT_GE(contexts.created(), 1u);
  EXPECT_LE(contexts.created(), static_cast<uint64_t>(kSenders));
  EXPECT_LE(contexts.idle(), contexts.max_idle());
  EXPECT_EQ(pool_->available(), pool_->buffer_count());
  EXPECT_EQ(DirectOpens(),
            kSenders * kRounds * static_cast<int>(log_->segment_count()));
}

}  // namespace
}  // namespace shiplog
