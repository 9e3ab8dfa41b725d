#include "engine/io/aligned_buffer_pool.h"

#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "engine/metrics/engine_metrics.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::StatusIs;
using ::testing::HasSubstr;

constexpr size_t kPage = AlignedBufferPool::kAlignment;
// Long enough never to run out on a loaded machine; tests that wait are
// woken by the event they wait for, never by this.
constexpr int64_t kNoTimeoutMs = 60'000;

TEST(AlignedBufferPoolTest, BufferSizesMustBeWholePages) {
  EXPECT_THAT(AlignedBufferPool::Create(0, 4),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("multiple of 4096")));
  EXPECT_THAT(AlignedBufferPool::Create(kPage + 512, 4),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("4608")));
  EXPECT_OK(AlignedBufferPool::Create(3 * kPage, 4));
}

TEST(AlignedBufferPoolTest, CreateWithBytesRoundsTheCountDown) {
  ASSERT_OK_AND_ASSIGN(auto pool, AlignedBufferPool::CreateWithBytes(
                                      64 * 1024, 1024 * 1024 - 1));
  EXPECT_EQ(pool->buffer_count(), 15u);
  EXPECT_EQ(pool->buffer_bytes(), 64u * 1024);
}

TEST(AlignedBufferPoolTest, BuffersArePageAlignedAndWritable) {
  ASSERT_OK_AND_ASSIGN(auto pool, AlignedBufferPool::Create(2 * kPage, 3));
  for (int i = 0; i < 3; ++i) {
    std::optional<AlignedBufferPool::Buffer> buffer = pool->Acquire(0);
    ASSERT_TRUE(buffer.has_value());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer->data()) % kPage, 0u);
    EXPECT_EQ(buffer->size(), 2 * kPage);
    buffer->data()[0] = 'a';
    buffer->data()[buffer->size() - 1] = 'z';
  }
}

TEST(AlignedBufferPoolTest, NeverLendsMoreThanItsCount) {
  ASSERT_OK_AND_ASSIGN(auto pool, AlignedBufferPool::Create(kPage, 4));
  std::vector<AlignedBufferPool::Buffer> lent;
  for (int i = 0; i < 4; ++i) {
    std::optional<AlignedBufferPool::Buffer> buffer = pool->Acquire(0);
    ASSERT_TRUE(buffer.has_value());
    lent.push_back(*std::move(buffer));
  }
  EXPECT_EQ(pool->available(), 0u);
  EXPECT_FALSE(pool->Acquire(0).has_value());
  EXPECT_FALSE(pool->Acquire(1).has_value());  // waits, then gives up
  EXPECT_EQ(pool->waiting(), 0u);
}

TEST(AlignedBufferPoolTest, AReturnedBufferIsLentAgainNotReallocated) {
  ASSERT_OK_AND_ASSIGN(auto pool, AlignedBufferPool::Create(kPage, 1));
  char* first = nullptr;
  {
    std::optional<AlignedBufferPool::Buffer> buffer = pool->Acquire(0);
    ASSERT_TRUE(buffer.has_value());
    first = buffer->data();
    EXPECT_EQ(pool->available(), 0u);
  }
  EXPECT_EQ(pool->available(), 1u);
  std::optional<AlignedBufferPool::Buffer> again = pool->Acquire(0);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->data(), first);
}

TEST(AlignedBufferPoolTest, AWaiterGetsTheBufferAnotherReturns) {
  ASSERT_OK_AND_ASSIGN(auto pool, AlignedBufferPool::Create(kPage, 1));
  std::optional<AlignedBufferPool::Buffer> held = pool->Acquire(0);
  ASSERT_TRUE(held.has_value());
  char* const held_data = held->data();
  const uint64_t waits_before = GlobalMetrics().direct_read_buffer_waits.Value();
  char* got = nullptr;
  std::thread waiter([&] {
    std::optional<AlignedBufferPool::Buffer> buffer =
        pool->Acquire(kNoTimeoutMs);
    if (buffer.has_value()) got = buffer->data();
  });
  ASSERT_TRUE(pool->AwaitWaiting(1, kNoTimeoutMs));
  held.reset();
  waiter.join();
  EXPECT_EQ(got, held_data);
  EXPECT_EQ(pool->waiting(), 0u);
  EXPECT_GE(GlobalMetrics().direct_read_buffer_waits.Value(), waits_before + 1);
}

TEST(AlignedBufferPoolTest, APoolOfNoBuffersNeverLends) {
  ASSERT_OK_AND_ASSIGN(auto pool, AlignedBufferPool::Create(kPage, 0));
  EXPECT_EQ(pool->available(), 0u);
  EXPECT_FALSE(pool->Acquire(0).has_value());
}

TEST(AlignedBufferPoolTest, ALentBufferKeepsThePoolAlive) {
  ASSERT_OK_AND_ASSIGN(auto pool, AlignedBufferPool::Create(kPage, 2));
  std::optional<AlignedBufferPool::Buffer> buffer = pool->Acquire(0);
  ASSERT_TRUE(buffer.has_value());
  pool.reset();
  buffer->data()[0] = 'x';  // still owned memory (ASan would say otherwise)
  EXPECT_EQ(buffer->size(), kPage);
}

TEST(AlignedBufferPoolTest, TheInUseGaugeFollowsLending) {
  ASSERT_OK_AND_ASSIGN(auto pool, AlignedBufferPool::Create(kPage, 2));
  const int64_t before = GlobalMetrics().direct_read_buffers_in_use.Value();
  {
    std::optional<AlignedBufferPool::Buffer> a = pool->Acquire(0);
    std::optional<AlignedBufferPool::Buffer> b = pool->Acquire(0);
    EXPECT_EQ(GlobalMetrics().direct_read_buffers_in_use.Value(), before + 2);
  }
  EXPECT_EQ(GlobalMetrics().direct_read_buffers_in_use.Value(), before);
}

}  // namespace
}  // namespace shiplog
