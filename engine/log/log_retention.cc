// Log: retention by time and by size, deleting whole segments from the
// head of the log.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/status/status_macros.h"

namespace shiplog {

absl::StatusOr<RetentionResult> Log::EnforceRetention(int64_t now_ms) {
  RetentionResult result;
  MutexLock lock(&append_mu_);
  if (read_only_ || closed_ || failed_.load(std::memory_order_acquire)) {
    return result;
  }
  const LogConfig current = config();
  std::shared_ptr<const SegmentList> list = segments();

  // By time: a segment goes when its newest record is older than
  // retention.ms (its file's mtime when it holds no timestamps), oldest
  // first, stopping at the first one to keep.
  size_t expired = 0;
  if (current.retention_ms >= 0) {
    while (expired < list->size()) {
      const Segment& segment = *(*list)[expired];
      if (segment.empty()) break;
      ASSIGN_OR_RETURN(int64_t newest, segment.MaxTimestamp());
      if (newest < 0) {
        ASSIGN_OR_RETURN(newest, segment.LastModifiedMs());
      }
      if (now_ms - newest <= current.retention_ms) break;
      ++expired;
    }
  }
  // By size: drop closed segments, oldest first, while the log stays at or
  // above retention.bytes without them.
  size_t oversized = 0;
  if (current.retention_bytes >= 0) {
    uint64_t total = 0;
    for (const auto& segment : *list) total += segment->size();
    int64_t excess = static_cast<int64_t>(total) - current.retention_bytes;
    while (oversized + 1 < list->size() &&
           excess - static_cast<int64_t>((*list)[oversized]->size()) >= 0) {
      excess -= static_cast<int64_t>((*list)[oversized]->size());
      ++oversized;
    }
  }
  const size_t doomed = std::max(expired, oversized);
  if (doomed == 0) return result;
  if (doomed == list->size()) {
    // Even the active segment expired: roll, so the log keeps an empty
    // active segment at its end offset.
    RETURN_IF_ERROR(RollLocked());
  }
  RETURN_IF_ERROR(DeleteSegmentsLocked(doomed, &result));
  return result;
}

absl::Status Log::DeleteSegmentsLocked(size_t count, RetentionResult* result) {
  std::shared_ptr<const SegmentList> list = segments();
  // Oldest first, stopping at the first failure, so that the files left
  // are always a contiguous log (a gap would read, after a restart, as a
  // log cut short). Readers that took an older list keep the deleted
  // segments alive and readable; only the names go.
  size_t deleted = 0;
  absl::Status status;
  for (; deleted < count; ++deleted) {
    const std::shared_ptr<Segment>& segment = (*list)[deleted];
    SegmentList remaining(list->begin() + deleted + 1, list->end());
    const int64_t new_start = remaining.front()->base_offset();
    if (new_start > start_offset()) {
      start_offset_.store(new_start, std::memory_order_release);
    }
    PublishSegments(std::move(remaining));
    status = segment->Delete();
    if (!status.ok()) {
      // Its files stay; so does it, at the head of the log.
      PublishSegments(SegmentList(list->begin() + deleted, list->end()));
      start_offset_.store(segment->base_offset(), std::memory_order_release);
      break;
    }
    result->segments_deleted++;
    result->bytes_deleted += segment->size();
  }
  if (deleted > 0) directory_dirty_.store(true, std::memory_order_release);
  return status;
}

}  // namespace shiplog
