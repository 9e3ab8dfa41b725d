#ifndef SHIPLOG_ENGINE_SEGMENT_PUBLISHED_END_H_
#define SHIPLOG_ENGINE_SEGMENT_PUBLISHED_END_H_

#include <atomic>
#include <cstdint>
#include <thread>

namespace shiplog {

// Where a segment's published data ends: its size in bytes and the offset
// after its last batch. Each half can be read alone, but a reader that
// needs both (Segment::Read: the bytes it may send and the offset a
// consumer continues from) must see a pair one Store wrote. Two atomics
// read one after the other can pair a new size with an old next offset,
// and a consumer would read the batches between them twice.
//
// A sequence lock (Boehm, "Can seqlocks get along with programming
// language memory models?"): the count is odd while a Store is under way,
// and a reader retries until it read both halves within one even count.
// Stores must not run concurrently; the segment's writers are serialized
// by its log (appends, truncation) or run before readers can see it
// (loading).
class PublishedEnd {
 public:
  struct Pair {
    uint64_t size;
    int64_t next_offset;
  };

  PublishedEnd(uint64_t size, int64_t next_offset)
      : size_(size), next_offset_(next_offset) {}
  PublishedEnd(const PublishedEnd&) = delete;
  PublishedEnd& operator=(const PublishedEnd&) = delete;

  uint64_t size() const { return size_.load(std::memory_order_acquire); }
  int64_t next_offset() const {
    return next_offset_.load(std::memory_order_acquire);
  }

  Pair Load() const {
    for (;;) {
      const uint64_t before = sequence_.load(std::memory_order_acquire);
      const Pair pair{size_.load(std::memory_order_relaxed),
                      next_offset_.load(std::memory_order_relaxed)};
      std::atomic_thread_fence(std::memory_order_acquire);
      if (before % 2 == 0 &&
          sequence_.load(std::memory_order_relaxed) == before) {
        return pair;
      }
      // A Store is a few instructions long; its thread may be descheduled
      // in the middle, so give it the core rather than spin.
      std::this_thread::yield();
    }
  }

  void Store(Pair pair) {
    const uint64_t sequence = sequence_.load(std::memory_order_relaxed);
    sequence_.store(sequence + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    // Release, as the halves are also read alone: whoever sees a new end
    // sees the bytes and index entries written before it.
    size_.store(pair.size, std::memory_order_release);
    next_offset_.store(pair.next_offset, std::memory_order_release);
    sequence_.store(sequence + 2, std::memory_order_release);
  }
  void StoreSize(uint64_t size) { Store({size, next_offset()}); }
  void StoreNextOffset(int64_t next_offset) { Store({size(), next_offset}); }

 private:
  std::atomic<uint64_t> sequence_{0};
  std::atomic<uint64_t> size_;
  std::atomic<int64_t> next_offset_;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_SEGMENT_PUBLISHED_END_H_
