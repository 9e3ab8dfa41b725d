// Mapping: an owned mmap(2) region, unmapped when destroyed.
//
// Thread-safety: a Mapping is immutable after construction; concurrent reads
// of its bytes are safe. Writes through data() must be coordinated by the
// owner (the index code publishes entries with an atomic count).
#ifndef SHIPLOG_ENGINE_IO_MAPPING_H_
#define SHIPLOG_ENGINE_IO_MAPPING_H_

#include <cstddef>

namespace shiplog {

class Mapping {
 public:
  Mapping() = default;
  // Takes ownership of [address, address + length), which must come from
  // mmap(2). A zero length means an empty mapping that owns nothing.
  // Counted in the mapped-bytes metrics while owned.
  Mapping(void* address, size_t length);
  ~Mapping();

  Mapping(Mapping&& other) noexcept;
  Mapping& operator=(Mapping&& other) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;

  char* data() const { return static_cast<char*>(address_); }
  size_t length() const { return length_; }
  bool empty() const { return length_ == 0; }

 private:
  void Reset();

  void* address_ = nullptr;
  size_t length_ = 0;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_IO_MAPPING_H_
