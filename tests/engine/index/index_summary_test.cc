#include "engine/index/index_summary.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace shiplog {
namespace {

// The reference answer: the largest slot below `count` whose key is <=
// target, by a linear scan.
int64_t BruteForce(const std::vector<uint32_t>& keys, size_t count,
                   uint32_t target) {
  int64_t found = -1;
  for (size_t slot = 0; slot < count; ++slot) {
    if (keys[slot] <= target) found = static_cast<int64_t>(slot);
  }
  return found;
}

// The same answer from the standard library, fast enough for every key of
// a large index.
int64_t Reference(const std::vector<uint32_t>& keys, size_t count,
                  uint32_t target) {
  const auto end = keys.begin() + static_cast<ptrdiff_t>(count);
  return std::upper_bound(keys.begin(), end, target) - keys.begin() - 1;
}

// Non-decreasing keys with gaps and runs of duplicates.
std::vector<uint32_t> SortedKeys(size_t count, uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<uint32_t> keys(count);
  uint32_t key = random() % 5;
  for (uint32_t& k : keys) {
    key += random() % 4 == 0 ? 0 : 1 + random() % 9;
    k = key;
  }
  return keys;
}

// A summary of `keys`, filled the way an index fills it: slot by slot.
void Fill(IndexSummary<uint32_t>& summary, const std::vector<uint32_t>& keys,
          size_t from = 0) {
  for (size_t slot = from; slot < keys.size(); ++slot) {
    summary.Set(slot, keys[slot]);
  }
}

// Checks every key, its neighbours and random targets against Reference
// with `count` entries visible.
void ExpectAgreesWithBruteForce(const IndexSummary<uint32_t>& summary,
                                const std::vector<uint32_t>& keys,
                                size_t count) {
  auto key_at = [&](size_t slot) { return keys[slot]; };
  std::vector<uint32_t> targets = {0, ~uint32_t{0}};
  for (size_t slot = 0; slot < count; ++slot) {
    targets.push_back(keys[slot]);
    targets.push_back(keys[slot] + 1);
    if (keys[slot] > 0) targets.push_back(keys[slot] - 1);
  }
  std::mt19937 random(static_cast<uint32_t>(count));
  const uint32_t limit = count == 0 ? 10 : keys[count - 1] + 10;
  for (int i = 0; i < 200; ++i) targets.push_back(random() % limit);
  for (const uint32_t target : targets) {
    ASSERT_EQ(summary.FindLargestSlotAtMost(target, count, key_at),
              Reference(keys, count, target))
        << "target " << target << " count " << count;
  }
}

TEST(IndexSummaryTest, AgreesWithALinearScanOnRandomTargets) {
  const std::vector<uint32_t> keys = SortedKeys(5000, 1);
  IndexSummary<uint32_t> summary(keys.size());
  Fill(summary, keys);
  auto key_at = [&](size_t slot) { return keys[slot]; };
  std::mt19937 random(2);
  for (int i = 0; i < 3000; ++i) {
    const uint32_t target = random() % (keys.back() + 20);
    ASSERT_EQ(summary.FindLargestSlotAtMost(target, keys.size(), key_at),
              BruteForce(keys, keys.size(), target))
        << "target " << target;
  }
}

TEST(IndexSummaryTest, AgreesAroundEveryLevelBoundary) {
  // Sizes on both sides of a level-1 group (16), a level-2 group (256), a
  // level-3 group (4096) and a level-3 chunk (1024 keys of 4096 entries).
  for (const size_t size :
       {size_t{0}, size_t{1}, size_t{2}, size_t{15}, size_t{16}, size_t{17},
        size_t{255}, size_t{256}, size_t{257}, size_t{4095}, size_t{4096},
        size_t{4097}, size_t{16385}, size_t{70000}}) {
    const std::vector<uint32_t> keys =
        SortedKeys(size, static_cast<uint32_t>(size));
    IndexSummary<uint32_t> summary(size + 100);
    Fill(summary, keys);
    ExpectAgreesWithBruteForce(summary, keys, size);
  }
}

TEST(IndexSummaryTest, AgreesWhenEveryKeyIsEqual) {
  const std::vector<uint32_t> keys(1000, 7);
  IndexSummary<uint32_t> summary(keys.size());
  Fill(summary, keys);
  ExpectAgreesWithBruteForce(summary, keys, keys.size());
}

// A reader holding an older, smaller entry count sees only those entries,
// even though the summary already holds keys of later ones.
TEST(IndexSummaryTest, AnOlderCountSeesOnlyItsEntries) {
  const std::vector<uint32_t> keys = SortedKeys(5000, 3);
  IndexSummary<uint32_t> summary(keys.size());
  Fill(summary, keys);
  for (const size_t count : {1, 16, 17, 255, 256, 257, 1000, 4096, 4999}) {
    ExpectAgreesWithBruteForce(summary, keys, count);
  }
}

// Truncation only lowers the entry count; appends after it overwrite the
// keys of the slots they fill again, which may differ from the old ones.
TEST(IndexSummaryTest, FollowsTruncationAndNewAppends) {
  std::vector<uint32_t> keys = SortedKeys(6000, 4);
  IndexSummary<uint32_t> summary(keys.size());
  Fill(summary, keys);
  for (const size_t kept : {4096, 3000, 256, 17, 16, 0}) {
    // New keys from `kept` on, below the old ones there.
    const std::vector<uint32_t> fresh =
        SortedKeys(keys.size(), static_cast<uint32_t>(kept));
    const uint32_t floor = kept == 0 ? 0 : keys[kept - 1];
    for (size_t slot = kept; slot < keys.size(); ++slot) {
      keys[slot] = floor + fresh[slot] / 2;
    }
    Fill(summary, keys, kept);
    ExpectAgreesWithBruteForce(summary, keys, keys.size());
  }
}

TEST(IndexSummaryTest, IgnoresSlotsBeyondItsCapacity) {
  const std::vector<uint32_t> keys = SortedKeys(32, 5);
  IndexSummary<uint32_t> summary(keys.size());
  Fill(summary, keys);
  summary.Set(32, 0);  // what a failing append to a full index would do
  summary.Set(4096, 0);
  ExpectAgreesWithBruteForce(summary, keys, keys.size());
}

TEST(IndexSummaryTest, SignedKeysAgree) {
  std::vector<int64_t> keys(3000);
  for (size_t i = 0; i < keys.size(); ++i) {
    keys[i] = -1'000'000 + static_cast<int64_t>(i) * 997;
  }
  IndexSummary<int64_t> summary(keys.size());
  for (size_t slot = 0; slot < keys.size(); ++slot) {
    summary.Set(slot, keys[slot]);
  }
  auto key_at = [&](size_t slot) { return keys[slot]; };
  for (int64_t target = -1'000'100; target < keys.back() + 1000;
       target += 331) {
    const auto upper = std::upper_bound(keys.begin(), keys.end(), target);
    ASSERT_EQ(summary.FindLargestSlotAtMost(target, keys.size(), key_at),
              upper - keys.begin() - 1)
        << "target " << target;
  }
}

}  // namespace
}  // namespace shiplog
