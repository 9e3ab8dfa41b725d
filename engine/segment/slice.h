// Slice: a byte range of one segment holding whole batches, the unit a read
// returns instead of bytes. Shipping a slice to a socket is one sendfile;
// viewing it in process reads or maps the segment's file.
#ifndef SHIPLOG_ENGINE_SEGMENT_SLICE_H_
#define SHIPLOG_ENGINE_SEGMENT_SLICE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"

namespace shiplog {

class Segment;

struct Slice {
  // Keeps the segment's file open (and its bytes readable) for as long as
  // the slice lives, even if retention deletes the segment meanwhile.
  std::shared_ptr<const Segment> segment;
  uint32_t position = 0;     // where the first batch starts in the .log
  uint32_t size = 0;         // bytes, always whole batches
  int64_t first_offset = 0;  // base offset of the first batch
  int64_t next_offset = 0;   // the offset after the last batch

  bool empty() const { return size == 0; }
};

// Copies the slice's bytes into `*out` (replacing its contents): the
// decoded-read path, where copying is what the caller asked for.
absl::Status ReadSliceBytes(const Slice& slice, std::string* out);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_SEGMENT_SLICE_H_
