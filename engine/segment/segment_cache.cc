#include "engine/segment/segment_cache.h"

#include <utility>
#include <vector>

#include "engine/metrics/engine_metrics.h"
#include "engine/segment/segment.h"

namespace shiplog {

SegmentCache::SegmentCache(const SegmentCacheLimits& limits)
    : limits_(limits) {}

bool SegmentCache::OverLimitLocked() const {
  return files_ > limits_.max_open_files || mappings_ > limits_.max_mappings;
}

void SegmentCache::EraseLocked(EntryList::iterator entry) {
  files_ -= entry->usage.files;
  mappings_ -= entry->usage.mappings;
  index_.erase(entry->key);
  entries_.erase(entry);
}

void SegmentCache::Use(const std::shared_ptr<const Segment>& segment,
                       SegmentUsage usage) {
  std::vector<std::shared_ptr<const Segment>> victims;
  {
    MutexLock lock(&mu_);
    const Segment* key = segment.get();
    if (auto found = index_.find(key); found != index_.end()) {
      EntryList::iterator entry = found->second;
      files_ -= entry->usage.files;
      mappings_ -= entry->usage.mappings;
      entry->usage = usage;
      entries_.splice(entries_.begin(), entries_, entry);
    } else {
      entries_.push_front(Entry{key, segment, usage});
      index_[key] = entries_.begin();
    }
    files_ += usage.files;
    mappings_ += usage.mappings;
    // The segment just used stays, even alone over a limit: its caller is
    // about to read through what it holds.
    while (OverLimitLocked() && entries_.size() > 1) {
      EntryList::iterator oldest = std::prev(entries_.end());
      // A segment being destroyed has nothing left to release.
      if (std::shared_ptr<const Segment> victim = oldest->segment.lock()) {
        victims.push_back(std::move(victim));
      }
      EraseLocked(oldest);
      ++releases_;
      GlobalMetrics().segment_releases.Add();
    }
  }
  // Outside the lock: a release takes the segment's own lock, and a
  // segment's last reference may go here, running its destructor (which
  // calls Forget).
  for (const std::shared_ptr<const Segment>& victim : victims) {
    victim->ReleaseFiles();
  }
}

void SegmentCache::Forget(const Segment* segment) {
  MutexLock lock(&mu_);
  if (auto found = index_.find(segment); found != index_.end()) {
    EraseLocked(found->second);
  }
}

SegmentCacheStats SegmentCache::stats() const {
  MutexLock lock(&mu_);
  return SegmentCacheStats{.segments = entries_.size(),
                           .files = files_,
                           .mappings = mappings_,
                           .releases = releases_};
}

}  // namespace shiplog
