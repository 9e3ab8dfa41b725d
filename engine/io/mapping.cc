#include "engine/io/mapping.h"

#include <sys/mman.h>

#include <utility>

#include "engine/metrics/engine_metrics.h"

namespace shiplog {

Mapping::Mapping(void* address, size_t length)
    : address_(address), length_(length) {
  if (length_ == 0) return;
  GlobalMetrics().mappings.Add();
  GlobalMetrics().mapped_bytes.Add(static_cast<int64_t>(length_));
}

Mapping::~Mapping() { Reset(); }

Mapping::Mapping(Mapping&& other) noexcept
    : address_(std::exchange(other.address_, nullptr)),
      length_(std::exchange(other.length_, 0)) {}

Mapping& Mapping::operator=(Mapping&& other) noexcept {
  if (this != &other) {
    Reset();
    address_ = std::exchange(other.address_, nullptr);
    length_ = std::exchange(other.length_, 0);
  }
  return *this;
}

void Mapping::Reset() {
  // munmap only fails for arguments we never pass; nothing useful to report
  // from a destructor.
  if (length_ != 0) {
    munmap(address_, length_);
    GlobalMetrics().mappings.Sub();
    GlobalMetrics().mapped_bytes.Sub(static_cast<int64_t>(length_));
  }
  address_ = nullptr;
  length_ = 0;
}

}  // namespace shiplog
