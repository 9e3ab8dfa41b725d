// FuzzInput: reads a fuzz target's framing (README.md, "Input framings")
// from the front of the input. Integers are little-endian; a read past the
// end yields zeros (or the bytes that are left), never an error, so every
// input means something.
//
// Thread-safety: plain value; one thread.
#ifndef SHIPLOG_TESTS_FUZZ_FUZZ_INPUT_H_
#define SHIPLOG_TESTS_FUZZ_FUZZ_INPUT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace shiplog::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}
  explicit FuzzInput(absl::string_view bytes) : rest_(bytes) {}

  bool empty() const { return rest_.empty(); }
  size_t remaining() const { return rest_.size(); }

  uint8_t Byte() { return static_cast<uint8_t>(Unsigned(1)); }
  uint16_t U16() { return static_cast<uint16_t>(Unsigned(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Unsigned(4)); }
  uint64_t U64() { return Unsigned(8); }
  int64_t I64() { return static_cast<int64_t>(Unsigned(8)); }

  // The next `size` bytes, or as many as are left.
  absl::string_view Bytes(size_t size) {
    const absl::string_view bytes = rest_.substr(0, size);
    rest_.remove_prefix(bytes.size());
    return bytes;
  }
  // A u32 length, then that many bytes (or as many as are left).
  absl::string_view LengthPrefixed() { return Bytes(U32()); }
  // Everything left.
  absl::string_view Rest() { return Bytes(rest_.size()); }

 private:
  uint64_t Unsigned(size_t width) {
    uint64_t value = 0;
    const absl::string_view bytes = Bytes(width);
    for (size_t i = 0; i < bytes.size(); ++i) {
      value |= uint64_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
    }
    return value;
  }

  absl::string_view rest_;
};

}  // namespace shiplog::fuzz

#endif  // SHIPLOG_TESTS_FUZZ_FUZZ_INPUT_H_
