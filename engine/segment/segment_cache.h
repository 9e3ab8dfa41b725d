// SegmentCache: bounds the descriptors and memory mappings that closed
// segments keep open, closing the least recently used ones (LevelDB's
// TableCache does this for tables; Kafka leaves it to `ulimit -n` and
// `vm.max_map_count` and fails with EMFILE or an mmap ENOMEM when a broker
// holds too many segments).
//
// A closed segment opens its .log and maps its indexes on first use and
// reports here what it then holds. When the segments registered here hold
// more than `max_open_files` descriptors or `max_mappings` mappings
// together, the least recently used ones are told to let go
// (Segment::ReleaseFiles): the segment drops its references, each file is
// closed and each mapping unmapped once the reads in flight that still use
// it finish, and the next use reopens them. So the caps bound what idle
// segments hold; a read in progress keeps its own files until it ends.
//
// Segments that must keep their files never register: the active segment
// (the writer appends through them), a closed segment with unflushed data,
// and a segment that retention or truncation deleted (its names are gone,
// so nothing could be reopened, and slices still read it).
//
// Thread-safety: thread-safe. It never calls into a segment while holding
// its own lock, and segments call it without holding theirs, so the two
// lock orders never meet.
#ifndef SHIPLOG_ENGINE_SEGMENT_SEGMENT_CACHE_H_
#define SHIPLOG_ENGINE_SEGMENT_SEGMENT_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "engine/sync/mutex.h"

namespace shiplog {

class Segment;

// What one segment holds open.
struct SegmentUsage {
  uint32_t files = 0;
  uint32_t mappings = 0;
};

struct SegmentCacheLimits {
  // Descriptors the registered (closed, idle) segments may hold together;
  // at least one segment's worth is always kept.
  uint64_t max_open_files = UINT64_MAX;
  // Memory mappings (index files, .log views) they may hold together.
  uint64_t max_mappings = UINT64_MAX;
};

struct SegmentCacheStats {
  uint64_t segments = 0;  // segments registered, holding files
  uint64_t files = 0;
  uint64_t mappings = 0;
  uint64_t releases = 0;  // segments told to let go, since creation
};

class SegmentCache {
 public:
  explicit SegmentCache(const SegmentCacheLimits& limits);
  SegmentCache(const SegmentCache&) = delete;
  SegmentCache& operator=(const SegmentCache&) = delete;

  const SegmentCacheLimits& limits() const { return limits_; }

  // Records that `segment` holds `usage` now and was just used (it moves to
  // the most recently used end), then releases the least recently used
  // others while the total is over a limit. `segment` itself is never
  // released by its own call.
  void Use(const std::shared_ptr<const Segment>& segment, SegmentUsage usage);

  // Forgets `segment` without releasing it: it let go of its files, it was
  // pinned (activated, deleted), or it is being destroyed.
  void Forget(const Segment* segment);

  SegmentCacheStats stats() const;

 private:
  struct Entry {
    const Segment* key;
    std::weak_ptr<const Segment> segment;
    SegmentUsage usage;
  };
  using EntryList = std::list<Entry>;

  bool OverLimitLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseLocked(EntryList::iterator entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SegmentCacheLimits limits_;
  mutable Mutex mu_;
  // Most recently used first.
  EntryList entries_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<const Segment*, EntryList::iterator> index_
      ABSL_GUARDED_BY(mu_);
  uint64_t files_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t mappings_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t releases_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_SEGMENT_SEGMENT_CACHE_H_
