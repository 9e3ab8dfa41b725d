// ByteBuffer: a growable byte array whose growth leaves the new bytes
// uninitialized, for encoders that write every byte anyway. Growing a
// std::string (resize) zero-fills first, so an encoder writing into one
// touches each byte twice, and a reused string pays the zero-fill again on
// every use.
//
// Thread-safety: none; a ByteBuffer is a plain value owned by one thread at
// a time.
#ifndef SHIPLOG_ENGINE_FORMAT_BYTE_BUFFER_H_
#define SHIPLOG_ENGINE_FORMAT_BYTE_BUFFER_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace shiplog {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  // A moved-from buffer is empty and owns nothing.
  ByteBuffer(ByteBuffer&& other) noexcept
      : bytes_(std::move(other.bytes_)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  ByteBuffer& operator=(ByteBuffer&& other) noexcept {
    bytes_ = std::move(other.bytes_);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    return *this;
  }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  char* data() { return bytes_.get(); }
  const char* data() const { return bytes_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  absl::string_view view() const { return absl::string_view(data(), size_); }
  absl::Span<char> span() { return absl::Span<char>(data(), size_); }

  // Forgets the contents but keeps the capacity, so a buffer reused for
  // every batch stops allocating once it has held the largest.
  void clear() { size_ = 0; }

  // Makes room for `capacity` bytes in all without changing size().
  void Reserve(size_t capacity) {
    if (capacity <= capacity_) return;
    std::unique_ptr<char[]> grown =
        std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ != 0) std::memcpy(grown.get(), bytes_.get(), size_);
    bytes_ = std::move(grown);
    capacity_ = capacity;
  }

  // Grows size() by `count` bytes of unspecified value and returns the first
  // of them, for the caller to overwrite. Like std::string, growth at least
  // doubles the capacity, and pointers into the buffer stay valid until the
  // capacity next changes.
  char* AppendUninitialized(size_t count) {
    if (count > capacity_ - size_) {
      Reserve(std::max(size_ + count, 2 * capacity_));
    }
    char* appended = bytes_.get() + size_;
    size_ += count;
    return appended;
  }

 private:
  std::unique_ptr<char[]> bytes_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_FORMAT_BYTE_BUFFER_H_
