// AlignedBuffer: owned memory whose address is a multiple of an alignment,
// for O_DIRECT writes (DirectFile).
//
// Thread-safety: none; owned by one thread at a time (or a mutex).
#ifndef SHIPLOG_ENGINE_IO_ALIGNED_BUFFER_H_
#define SHIPLOG_ENGINE_IO_ALIGNED_BUFFER_H_

#include <cstddef>
#include <cstdlib>
#include <new>
#include <utility>

namespace shiplog {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // `capacity` bytes at an address that is a multiple of `alignment` (a
  // power of two); capacity is rounded up to the alignment. Throws
  // std::bad_alloc as `new` does.
  AlignedBuffer(size_t alignment, size_t capacity)
      : capacity_((capacity + alignment - 1) / alignment * alignment) {
    data_ = static_cast<char*>(std::aligned_alloc(alignment, capacity_));
    if (data_ == nullptr) throw std::bad_alloc();
  }
  ~AlignedBuffer() { std::free(data_); }

  AlignedBuffer(AlignedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
    if (this != &other) {
      std::free(data_);
      data_ = std::exchange(other.data_, nullptr);
      capacity_ = std::exchange(other.capacity_, 0);
    }
    return *this;
  }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  char* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  char* data_ = nullptr;
  size_t capacity_ = 0;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_IO_ALIGNED_BUFFER_H_
