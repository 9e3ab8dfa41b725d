#include "engine/transport/slice_view.h"

#include "engine/segment/segment.h"
#include "engine/status/status_macros.h"

namespace shiplog {

SliceView::SliceView(Slice slice, std::shared_ptr<const Mapping> mapping)
    : slice_(std::move(slice)),
      mapping_(std::move(mapping)),
      bytes_(mapping_ ? mapping_->data() + slice_.position : "", slice_.size) {}

absl::StatusOr<SliceView> SliceView::Create(const Slice& slice) {
  if (slice.empty()) return SliceView(slice, nullptr);
  ASSIGN_OR_RETURN(std::shared_ptr<const Mapping> mapping,
                   slice.segment->MapForReading(slice.position + slice.size));
  return SliceView(slice, std::move(mapping));
}

}  // namespace shiplog
