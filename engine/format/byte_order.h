// Big-endian loads and stores: every fixed-width integer in Kafka's formats
// (batch headers, index entries, protocol frames) is big-endian.
#ifndef SHIPLOG_ENGINE_FORMAT_BYTE_ORDER_H_
#define SHIPLOG_ENGINE_FORMAT_BYTE_ORDER_H_

#include <cstdint>
#include <cstring>

namespace shiplog {

inline uint16_t LoadBigEndian16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_bswap16(v);
}
inline uint32_t LoadBigEndian32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_bswap32(v);
}
inline uint64_t LoadBigEndian64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return __builtin_bswap64(v);
}
inline void StoreBigEndian16(char* p, uint16_t v) {
  v = __builtin_bswap16(v);
  std::memcpy(p, &v, sizeof(v));
}
inline void StoreBigEndian32(char* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, sizeof(v));
}
inline void StoreBigEndian64(char* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof(v));
}

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_FORMAT_BYTE_ORDER_H_
