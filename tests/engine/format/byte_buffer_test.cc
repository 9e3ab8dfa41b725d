#include "engine/format/byte_buffer.h"

#include <cstring>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace shiplog {
namespace {

void Append(ByteBuffer& buffer, const std::string& bytes) {
  char* appended = buffer.AppendUninitialized(bytes.size());
  // An empty buffer has no bytes to point at: memcpy must not see null.
  if (!bytes.empty()) std::memcpy(appended, bytes.data(), bytes.size());
}

TEST(ByteBufferTest, StartsEmpty) {
  const ByteBuffer buffer;
  EXPECT_TRUE(buffer.empty());
  EXPECT_EQ(buffer.size(), 0u);
  EXPECT_EQ(buffer.capacity(), 0u);
  EXPECT_EQ(buffer.view(), "");
}

TEST(ByteBufferTest, KeepsEveryByteAcrossGrowth) {
  ByteBuffer buffer;
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    const std::string piece(static_cast<size_t>(i % 37), static_cast<char>(i));
    Append(buffer, piece);
    expected += piece;
    ASSERT_EQ(buffer.view(), expected) << "after piece " << i;
    ASSERT_GE(buffer.capacity(), buffer.size());
  }
}

TEST(ByteBufferTest, GrowthAtLeastDoublesTheCapacity) {
  ByteBuffer buffer;
  buffer.AppendUninitialized(100);
  const size_t capacity = buffer.capacity();
  buffer.AppendUninitialized(capacity - buffer.size() + 1);
  EXPECT_GE(buffer.capacity(), 2 * capacity);
}

TEST(ByteBufferTest, ClearKeepsTheCapacityForReuse) {
  ByteBuffer buffer;
  Append(buffer, std::string(1000, 'x'));
  const char* bytes = buffer.data();
  const size_t capacity = buffer.capacity();
  buffer.clear();
  EXPECT_TRUE(buffer.empty());
  Append(buffer, std::string(1000, 'y'));
  EXPECT_EQ(buffer.data(), bytes);
  EXPECT_EQ(buffer.capacity(), capacity);
  EXPECT_EQ(buffer.view(), std::string(1000, 'y'));
}

TEST(ByteBufferTest, ReserveKeepsContentsAndSize) {
  ByteBuffer buffer;
  Append(buffer, "abc");
  buffer.Reserve(4096);
  EXPECT_GE(buffer.capacity(), 4096u);
  EXPECT_EQ(buffer.view(), "abc");
  buffer.Reserve(10);  // never shrinks
  EXPECT_GE(buffer.capacity(), 4096u);
}

// The moved-from state is part of the contract: empty, owning nothing.
TEST(ByteBufferTest, MoveLeavesTheSourceEmpty) {
  ByteBuffer source;
  Append(source, "payload");
  ByteBuffer target = std::move(source);
  EXPECT_EQ(target.view(), "payload");
  EXPECT_TRUE(source.empty());
  EXPECT_EQ(source.capacity(), 0u);
  ByteBuffer assigned;
  Append(assigned, "old");
  assigned = std::move(target);
  EXPECT_EQ(assigned.view(), "payload");
  EXPECT_EQ(target.capacity(), 0u);
}

TEST(ByteBufferTest, SpanCoversTheBytesForInPlaceEdits) {
  ByteBuffer buffer;
  Append(buffer, "abcd");
  absl::Span<char> span = buffer.span();
  ASSERT_EQ(span.size(), 4u);
  span[0] = 'z';
  EXPECT_EQ(buffer.view(), "zbcd");
}

}  // namespace
}  // namespace shiplog
