// Log: the frozen view a backup takes its hard links from.
#include "engine/log/log.h"

namespace shiplog {

absl::Status Log::VisitFrozen(
    absl::FunctionRef<absl::Status(const FrozenLog&)> visit) {
  // Every change to the segment list, and every write to a segment file,
  // happens under append_mu_, but for direct mode's group writes: those
  // change no byte below the published end (the block they rewrite keeps
  // its leading bytes), so the visit sees fixed bytes all the same.
  MutexLock lock(&append_mu_);
  const std::shared_ptr<const SegmentList> list = segments();
  FrozenLog frozen;
  frozen.segments = absl::MakeConstSpan(*list);
  frozen.start_offset = start_offset();
  frozen.committed_offset = committed_offset();
  frozen.end_offset =
      list->empty() ? frozen.start_offset : list->back()->next_offset();
  return visit(frozen);
}

}  // namespace shiplog
