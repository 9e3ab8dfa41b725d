// SliceView: a slice's bytes in process, read through the segment's
// mapping, without a copy.
//
// Thread-safety: immutable; any number of threads may read one view.
#ifndef SHIPLOG_ENGINE_TRANSPORT_SLICE_VIEW_H_
#define SHIPLOG_ENGINE_TRANSPORT_SLICE_VIEW_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/io/mapping.h"
#include "engine/segment/slice.h"

namespace shiplog {

class SliceView {
 public:
  // kOutOfRange if the slice's bytes are no longer in the segment (a
  // truncation cut them before the view was made).
  static absl::StatusOr<SliceView> Create(const Slice& slice);

  // Read-only (the mapping is PROT_READ: a write faults). Valid while the
  // view lives, even if retention deletes the segment or truncation cuts
  // it meanwhile.
  absl::string_view bytes() const { return bytes_; }
  const Slice& slice() const { return slice_; }

 private:
  SliceView(Slice slice, std::shared_ptr<const Mapping> mapping);

  Slice slice_;  // holds the segment
  std::shared_ptr<const Mapping> mapping_;
  absl::string_view bytes_;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_TRANSPORT_SLICE_VIEW_H_
