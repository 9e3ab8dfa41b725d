// Kafka's variable-length integers (FORMAT.md, "Varints").
//
// Unsigned varints are little-endian base-128 (protobuf/LEB128). Signed
// `varint` (32-bit) and `varlong` (64-bit) zigzag-encode first, so small
// negative numbers stay short. Decoders reject truncated input and
// encodings longer than the type allows (5 bytes for 32-bit, 10 for 64-bit),
// as well as 32-bit encodings whose value does not fit in 32 bits.
//
// Thread-safety: all functions are pure.
#ifndef SHIPLOG_ENGINE_FORMAT_VARINT_H_
#define SHIPLOG_ENGINE_FORMAT_VARINT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace shiplog {

inline constexpr size_t kMaxVarint32Bytes = 5;
inline constexpr size_t kMaxVarint64Bytes = 10;

constexpr uint32_t ZigZagEncode32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
constexpr int32_t ZigZagDecode32(uint32_t v) {
  return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1));
}
constexpr uint64_t ZigZagEncode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
constexpr int64_t ZigZagDecode64(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

// Bytes needed to encode `v` as an unsigned varint (1..10).
inline size_t UnsignedVarintSize(uint64_t v) {
  // Nearly every varint in a record (lengths, deltas, counts) takes one or
  // two bytes: two predictable branches beat counting bits.
  if (v < (uint64_t{1} << 7)) return 1;
  if (v < (uint64_t{1} << 14)) return 2;
  // Seven payload bits a byte.
  const auto significant_bits = static_cast<unsigned>(64 - __builtin_clzll(v));
  return (significant_bits + 6) / 7;
}
inline size_t VarintSize(int32_t v) {
  return UnsignedVarintSize(ZigZagEncode32(v));
}
inline size_t VarlongSize(int64_t v) {
  return UnsignedVarintSize(ZigZagEncode64(v));
}

// Writes `v` at `dst` (which must have room for UnsignedVarintSize(v)
// bytes) and returns the byte after the last one written.
inline char* EncodeUnsignedVarint(uint64_t v, char* dst) {
  while (v >= 0x80) {
    *dst++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  return dst;
}
inline char* EncodeVarint(int32_t v, char* dst) {
  return EncodeUnsignedVarint(ZigZagEncode32(v), dst);
}
inline char* EncodeVarlong(int64_t v, char* dst) {
  return EncodeUnsignedVarint(ZigZagEncode64(v), dst);
}

// Appending forms, for building buffers.
void AppendUnsignedVarint(std::string* out, uint64_t v);
void AppendVarint(std::string* out, int32_t v);
void AppendVarlong(std::string* out, int64_t v);

// Decoders consume from the front of `*input`. On success they advance
// `*input` past the encoding and return true; on truncated, overlong or
// out-of-range input they return false and leave `*input` unchanged.
bool DecodeUnsignedVarint32(absl::string_view* input, uint32_t* value);
bool DecodeUnsignedVarint64(absl::string_view* input, uint64_t* value);
bool DecodeVarint(absl::string_view* input, int32_t* value);
bool DecodeVarlong(absl::string_view* input, int64_t* value);

namespace varint_internal {

// The general decoder, out of line: every length, every check. Defined for
// uint32_t and uint64_t.
template <typename Unsigned>
const char* DecodeLong(const char* p, const char* limit, Unsigned* value);

// Values below 2^14 (one or two bytes) decode inline: nearly every varint
// in a record (lengths, deltas, counts) is one. Returns nullptr for the
// general decoder to take over.
template <typename Unsigned>
inline const char* DecodeShort(const char* p, const char* limit,
                               Unsigned* value) {
  if (p == limit) return nullptr;
  const Unsigned first = static_cast<uint8_t>(p[0]);
  if (first < 0x80) {
    *value = first;
    return p + 1;
  }
  if (limit - p >= 2 && static_cast<uint8_t>(p[1]) < 0x80) {
    *value = (first & 0x7f) | static_cast<Unsigned>(static_cast<uint8_t>(p[1]))
                                  << 7;
    return p + 2;
  }
  return nullptr;
}

}  // namespace varint_internal

// The decoder for hot loops: decodes the encoding at the front of
// [p, limit) into `*value`, whose type picks the encoding (uint32_t,
// uint64_t: unsigned; int32_t: varint; int64_t: varlong), and returns the
// byte after it, or nullptr for truncated, overlong or out-of-range input
// (leaving `*value` unchanged). The forms above are built on it.
template <typename T>
inline const char* DecodeVarintAt(const char* p, const char* limit, T* value) {
  if constexpr (std::is_signed_v<T>) {
    std::make_unsigned_t<T> raw;
    p = DecodeVarintAt(p, limit, &raw);
    if (p != nullptr) {
      if constexpr (sizeof(T) == 4) {
        *value = ZigZagDecode32(raw);
      } else {
        *value = ZigZagDecode64(raw);
      }
    }
    return p;
  } else {
    const char* end = varint_internal::DecodeShort(p, limit, value);
    return end != nullptr ? end : varint_internal::DecodeLong(p, limit, value);
  }
}

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_FORMAT_VARINT_H_
