#include "engine/format/varint.h"

namespace shiplog {
namespace {

// Decodes an unsigned LEB128 value of at most `kMaxBytes` bytes into T.
// The last allowed byte may only carry the bits T still has room for, so
// every accepted encoding fits T exactly; a continuation bit on that byte is
// an overlong encoding and fails the same test.
template <typename T, size_t kMaxBytes>
bool DecodeUnsigned(absl::string_view* input, T* value) {
  constexpr unsigned kBitsInLastByte = sizeof(T) * 8 - 7 * (kMaxBytes - 1);
  constexpr unsigned kLastByteLimit = 1u << kBitsInLastByte;
  const size_t available =
      input->size() < kMaxBytes ? input->size() : kMaxBytes;
  T result = 0;
  for (size_t i = 0; i < available; ++i) {
    const unsigned byte = static_cast<unsigned char>((*input)[i]);
    if (i == kMaxBytes - 1 && byte >= kLastByteLimit) return false;
    result |= static_cast<T>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      *value = result;
      input->remove_prefix(i + 1);
      return true;
    }
  }
  return false;  // truncated, or still continuing at the last allowed byte
}

}  // namespace

size_t UnsignedVarintSize(uint64_t v) {
  // Seven payload bits a byte; zero still takes one byte.
  const int significant_bits = 64 - __builtin_clzll(v | 1);
  return static_cast<size_t>((significant_bits + 6) / 7);
}

char* EncodeUnsignedVarint(uint64_t v, char* dst) {
  while (v >= 0x80) {
    *dst++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  return dst;
}

void AppendUnsignedVarint(std::string* out, uint64_t v) {
  char buffer[kMaxVarint64Bytes];
  const char* end = EncodeUnsignedVarint(v, buffer);
  out->append(buffer, static_cast<size_t>(end - buffer));
}

void AppendVarint(std::string* out, int32_t v) {
  AppendUnsignedVarint(out, ZigZagEncode32(v));
}

void AppendVarlong(std::string* out, int64_t v) {
  AppendUnsignedVarint(out, ZigZagEncode64(v));
}

bool DecodeUnsignedVarint32(absl::string_view* input, uint32_t* value) {
  return DecodeUnsigned<uint32_t, kMaxVarint32Bytes>(input, value);
}

bool DecodeUnsignedVarint64(absl::string_view* input, uint64_t* value) {
  return DecodeUnsigned<uint64_t, kMaxVarint64Bytes>(input, value);
}

bool DecodeVarint(absl::string_view* input, int32_t* value) {
  uint32_t raw;
  if (!DecodeUnsignedVarint32(input, &raw)) return false;
  *value = ZigZagDecode32(raw);
  return true;
}

bool DecodeVarlong(absl::string_view* input, int64_t* value) {
  uint64_t raw;
  if (!DecodeUnsignedVarint64(input, &raw)) return false;
  *value = ZigZagDecode64(raw);
  return true;
}

}  // namespace shiplog
