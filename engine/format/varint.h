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
size_t UnsignedVarintSize(uint64_t v);
inline size_t VarintSize(int32_t v) {
  return UnsignedVarintSize(ZigZagEncode32(v));
}
inline size_t VarlongSize(int64_t v) {
  return UnsignedVarintSize(ZigZagEncode64(v));
}

// Writes `v` at `dst` (which must have room for UnsignedVarintSize(v)
// bytes) and returns the byte after the last one written.
char* EncodeUnsignedVarint(uint64_t v, char* dst);
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

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_FORMAT_VARINT_H_
