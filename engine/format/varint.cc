#include "engine/format/varint.h"

namespace shiplog {
namespace {

// Decodes an unsigned LEB128 value of at most `kMaxBytes` bytes into T.
// The last allowed byte may only carry the bits T still has room for, so
// every accepted encoding fits T exactly; a continuation bit on that byte is
// an overlong encoding and fails the same test.
template <typename T, size_t kMaxBytes>
const char* DecodeAnyLength(const char* p, const char* limit, T* value) {
  constexpr unsigned kBitsInLastByte = sizeof(T) * 8 - 7 * (kMaxBytes - 1);
  constexpr unsigned kLastByteLimit = 1u << kBitsInLastByte;
  const auto size = static_cast<size_t>(limit - p);
  const size_t available = size < kMaxBytes ? size : kMaxBytes;
  T result = 0;
  for (size_t i = 0; i < available; ++i) {
    const unsigned byte = static_cast<unsigned char>(p[i]);
    if (i == kMaxBytes - 1 && byte >= kLastByteLimit) return nullptr;
    result |= static_cast<T>(byte & 0x7f) << (7 * i);
    if (byte < 0x80) {
      *value = result;
      return p + i + 1;
    }
  }
  return nullptr;  // truncated, or still continuing at the last allowed byte
}

// DecodeVarintAt on the front of `*input`, advancing it on success.
template <typename T>
bool DecodeFront(absl::string_view* input, T* value) {
  const char* end =
      DecodeVarintAt(input->data(), input->data() + input->size(), value);
  if (end == nullptr) return false;
  input->remove_prefix(static_cast<size_t>(end - input->data()));
  return true;
}

}  // namespace

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
  return DecodeFront(input, value);
}

bool DecodeUnsignedVarint64(absl::string_view* input, uint64_t* value) {
  return DecodeFront(input, value);
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

namespace varint_internal {

template <typename Unsigned>
const char* DecodeLong(const char* p, const char* limit, Unsigned* value) {
  constexpr size_t kMaxBytes =
      sizeof(Unsigned) == 4 ? kMaxVarint32Bytes : kMaxVarint64Bytes;
  return DecodeAnyLength<Unsigned, kMaxBytes>(p, limit, value);
}

template const char* DecodeLong(const char*, const char*, uint32_t*);
template const char* DecodeLong(const char*, const char*, uint64_t*);

}  // namespace varint_internal
}  // namespace shiplog
