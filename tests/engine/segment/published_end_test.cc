#include "engine/segment/published_end.h"

#include <atomic>
#include <cstdint>
#include <thread>

#include "gtest/gtest.h"

namespace shiplog {
namespace {

TEST(PublishedEndTest, HalvesReadAloneAndAsAPair) {
  PublishedEnd end(10, 100);
  EXPECT_EQ(end.size(), 10u);
  EXPECT_EQ(end.next_offset(), 100);
  end.Store({20, 105});
  const PublishedEnd::Pair pair = end.Load();
  EXPECT_EQ(pair.size, 20u);
  EXPECT_EQ(pair.next_offset, 105);
  end.StoreSize(15);
  EXPECT_EQ(end.Load().size, 15u);
  EXPECT_EQ(end.Load().next_offset, 105);
  end.StoreNextOffset(103);
  EXPECT_EQ(end.Load().size, 15u);
  EXPECT_EQ(end.Load().next_offset, 103);
}

// Readers never see the size of one Store with the next offset of another:
// every pair stored has size == 2 * next_offset.
TEST(PublishedEndTest, ReadersSeeOnlyPairsOneStoreWrote) {
  constexpr int64_t kStores = 200'000;
  PublishedEnd end(0, 0);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int64_t next = 1; next <= kStores; ++next) {
      end.Store({static_cast<uint64_t>(2 * next), next});
    }
    done.store(true);
  });
  int64_t loads = 0;
  int64_t torn = 0;
  int64_t last = 0;
  bool backwards = false;
  while (!done.load() || loads == 0) {
    const PublishedEnd::Pair pair = end.Load();
    ++loads;
    if (pair.size != static_cast<uint64_t>(2 * pair.next_offset)) ++torn;
    if (pair.next_offset < last) backwards = true;
    last = pair.next_offset;
  }
  writer.join();
  EXPECT_EQ(torn, 0) << "of " << loads << " loads";
  EXPECT_FALSE(backwards);
  EXPECT_EQ(end.Load().next_offset, kStores);
}

}  // namespace
}  // namespace shiplog
