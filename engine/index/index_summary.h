// IndexSummary: a small in-memory copy of every 16th key of one sorted key
// column of an IndexFile (INDEX.md, "Search"), so a lookup on a large index
// misses the CPU cache once or twice instead of on most steps of a binary
// search.
//
// Level k (1 to 3) holds the key of every (16^k)-th entry, in native byte
// order: a B-tree of fanout 16 whose nodes fill as entries are appended. A
// lookup binary-searches level 3 (1.3 KiB for a full 10 MiB offset index),
// then scans the group of 16 keys under the key it found in level 2 and in
// level 1 (a cache line each), and last the group of 16 entries in the
// mapping (two or three cache lines). A binary search of the mapping alone
// reads some twenty cache lines one after another, most of them cold. The
// summary costs about 4 bytes per 16 offset entries (1/30 of the index) or
// 8 per 16 time entries, allocated in chunks as entries arrive, never for
// the preallocated tail.
//
// Thread-safety: one writer (the IndexFile's), serialized by the owner, and
// any number of concurrent readers, without locks. The writer calls
// Set(slot, key) for entry `slot` before the IndexFile publishes the entry
// count that makes the slot reachable (release/acquire), so a reader never
// sees a summary key its entry count does not cover. Keys are atomics, and
// chunks are neither freed nor moved while the summary lives: a reader
// racing a truncation and the appends after it reads old or new keys,
// never torn or freed ones, and its answer stays below the count it loaded.
#ifndef SHIPLOG_ENGINE_INDEX_INDEX_SUMMARY_H_
#define SHIPLOG_ENGINE_INDEX_INDEX_SUMMARY_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace shiplog {

namespace index_internal {

// The largest position in [low, end) whose key(position) is <= target,
// given that key(low) is. Branch-free: a step is a load and a conditional
// move, so random targets cost no mispredicted branches.
template <typename Key, typename KeyAt>
size_t SearchAtMost(Key target, const KeyAt& key, size_t low, size_t end) {
  for (size_t size = end - low; size > 1;) {
    const size_t half = size / 2;
    low = key(low + half) <= target ? low + half : low;
    size -= half;
  }
  return low;
}

// How many of key(0), ..., key(size - 1), size <= 16, are <= target. A
// whole group, every group but a level's last, takes an unrolled loop: its
// loads are independent, so the cache lines they touch, likely cold, are
// fetched at once rather than one after another as a search would.
template <typename Key, typename KeyAt>
size_t CountAtMost(Key target, size_t size, const KeyAt& key) {
  size_t at_most = 0;
  if (size == 16) {
#pragma GCC unroll 16
    for (size_t i = 0; i < 16; ++i) at_most += key(i) <= target;
  } else {
    for (size_t i = 0; i < size; ++i) at_most += key(i) <= target;
  }
  return at_most;
}

}  // namespace index_internal

template <typename Key>
class IndexSummary {
 public:
  static constexpr size_t kFanout = 16;

  // A summary for an index of at most `max_entries` entries.
  explicit IndexSummary(size_t max_entries)
      : max_entries_(max_entries),
        levels_{Level(KeysAtLevel(max_entries, 1)),
                Level(KeysAtLevel(max_entries, 2)),
                Level(KeysAtLevel(max_entries, 3))} {}

  // The same, for an index whose first `count` entries exist already:
  // key_at(slot) reads entry `slot`'s key, for every 16th slot.
  template <typename KeyAt>
  IndexSummary(size_t max_entries, size_t count, const KeyAt& key_at)
      : IndexSummary(max_entries) {
    for (size_t slot = 0; slot < count; slot += kFanout) {
      Set(slot, key_at(slot));
    }
  }

  IndexSummary(const IndexSummary&) = delete;
  IndexSummary& operator=(const IndexSummary&) = delete;

  // Records `key` as the key of entry `slot`. Writer only; call it before
  // the entry count that covers `slot` is published. Slots from
  // max_entries on are ignored: the append they precede is bound to fail.
  void Set(size_t slot, Key key) {
    if (slot >= max_entries_) return;
    for (Level& level : levels_) {
      if (slot % kFanout != 0) return;
      slot /= kFanout;
      level.Set(slot, key);
    }
  }

  // The largest slot below `count` whose key is <= target, or -1 if none,
  // where `count` is an entry count the caller loaded (acquire) from the
  // IndexFile and key_at(slot) reads entry `slot`'s key from the mapping.
  // Keys must be non-decreasing along the slots.
  template <typename KeyAt>
  int64_t FindLargestSlotAtMost(Key target, size_t count,
                                const KeyAt& key_at) const {
    if (count == 0 || key_at(0) > target) return -1;
    // Each level's first key is entry 0's, <= target, and each group's
    // first key is the one a level up that was found <= target, so at least
    // one key of every group counts. (A reader racing a truncation may see
    // otherwise; the std::max keeps its answer a slot below `count`.)
    const Level& top = levels_.back();
    size_t first = index_internal::SearchAtMost(
                       target, [&](size_t i) { return top.Get(i); }, 0,
                       KeysAtLevel(count, levels_.size())) *
                   kFanout;
    for (size_t k = levels_.size() - 1; k > 0; --k) {
      // A group never straddles two chunks.
      const std::atomic<Key>* group = levels_[k - 1].At(first);
      const size_t at_most = index_internal::CountAtMost(
          target, std::min(kFanout, KeysAtLevel(count, k) - first),
          [group](size_t i) {
            return group[i].load(std::memory_order_relaxed);
          });
      first = (first + std::max<size_t>(at_most, 1) - 1) * kFanout;
    }
    const size_t at_most = index_internal::CountAtMost(
        target, std::min(kFanout, count - first),
        [&](size_t i) { return key_at(first + i); });
    return static_cast<int64_t>(first + std::max<size_t>(at_most, 1) - 1);
  }

 private:
  // One level's keys, in chunks the writer allocates on first use.
  class Level {
   public:
    // Chunks of up to 1024 keys, a power of two so finding a key's chunk
    // is a shift.
    explicit Level(size_t keys)
        : chunk_shift_(std::min(
              static_cast<int>(std::bit_width(keys - (keys > 0 ? 1 : 0))),
              kMaxChunkShift)),
          chunks_(((keys - (keys > 0 ? 1 : 0)) >> chunk_shift_) + 1) {}

    void Set(size_t i, Key key) {
      std::atomic<std::atomic<Key>*>& published = chunks_[i >> chunk_shift_];
      std::atomic<Key>* chunk = published.load(std::memory_order_relaxed);
      if (chunk == nullptr) {
        // Readers see the chunk through the entry count's release store.
        owned_.push_back(
            std::make_unique<std::atomic<Key>[]>(size_t{1} << chunk_shift_));
        chunk = owned_.back().get();
        published.store(chunk, std::memory_order_relaxed);
      }
      chunk[i & ChunkMask()].store(key, std::memory_order_relaxed);
    }

    const std::atomic<Key>* At(size_t i) const {
      return chunks_[i >> chunk_shift_].load(std::memory_order_relaxed) +
             (i & ChunkMask());
    }
    Key Get(size_t i) const { return At(i)->load(std::memory_order_relaxed); }

   private:
    static constexpr int kMaxChunkShift = 10;

    size_t ChunkMask() const { return (size_t{1} << chunk_shift_) - 1; }

    const int chunk_shift_;
    std::vector<std::atomic<std::atomic<Key>*>> chunks_;
    std::vector<std::unique_ptr<std::atomic<Key>[]>> owned_;  // writer only
  };

  // The keys level k holds for `count` entries: one per 16^k, rounded up.
  static size_t KeysAtLevel(size_t count, size_t k) {
    const size_t span = size_t{1} << (4 * k);
    return (count + span - 1) / span;
  }

  const size_t max_entries_;
  std::array<Level, 3> levels_;  // levels_[k - 1] is level k
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_INDEX_INDEX_SUMMARY_H_
