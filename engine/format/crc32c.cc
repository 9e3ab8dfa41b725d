#include "engine/format/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace shiplog::crc32c {
namespace {

// The reflected Castagnoli polynomial.
constexpr uint32_t kPolynomial = 0x82F63B78;

// Slicing-by-8 tables: kTables[0] is the classic byte-at-a-time table, and
// kTables[k][b] is the CRC of byte b followed by k zero bytes, so eight
// lookups fold in eight input bytes at once.
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    }
    tables[0][byte] = crc;
  }
  for (size_t k = 1; k < tables.size(); ++k) {
    for (size_t byte = 0; byte < 256; ++byte) {
      const uint32_t previous = tables[k - 1][byte];
      tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xff];
    }
  }
  return tables;
}

constexpr Tables kTables = MakeTables();

// Loads four bytes as a little-endian word, whatever the host's byte order:
// the reflected CRC consumes the lowest-addressed byte first.
inline uint32_t LoadLittleEndian32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

uint32_t ExtendPortable(uint32_t crc, const char* data, size_t size) {
  const auto* p = reinterpret_cast<const uint8_t*>(data);
  uint32_t state = ~crc;
  for (; size >= 8; size -= 8, p += 8) {
    const uint32_t low = LoadLittleEndian32(p) ^ state;
    const uint32_t high = LoadLittleEndian32(p + 4);
    state = kTables[7][low & 0xff] ^ kTables[6][(low >> 8) & 0xff] ^
            kTables[5][(low >> 16) & 0xff] ^ kTables[4][low >> 24] ^
            kTables[3][high & 0xff] ^ kTables[2][(high >> 8) & 0xff] ^
            kTables[1][(high >> 16) & 0xff] ^ kTables[0][high >> 24];
  }
  for (; size > 0; --size, ++p) {
    state = (state >> 8) ^ kTables[0][(state ^ *p) & 0xff];
  }
  return ~state;
}

#if defined(__x86_64__)

// The target attribute lets this one function use crc32 without compiling
// the whole file (or the library) with -msse4.2; Extend only calls it after
// the CPU check.
__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t crc,
                                                       const char* data,
                                                       size_t size) {
  uint64_t state = ~crc;
  // Byte steps up to an 8-byte boundary keep the wide loads aligned.
  while (size > 0 && reinterpret_cast<uintptr_t>(data) % 8 != 0) {
    state =
        _mm_crc32_u8(static_cast<uint32_t>(state), static_cast<uint8_t>(*data));
    ++data;
    --size;
  }
  for (; size >= 8; size -= 8, data += 8) {
    uint64_t word;
    std::memcpy(&word, data, sizeof(word));
    state = _mm_crc32_u64(state, word);
  }
  for (; size > 0; --size, ++data) {
    state =
        _mm_crc32_u8(static_cast<uint32_t>(state), static_cast<uint8_t>(*data));
  }
  return ~static_cast<uint32_t>(state);
}

bool HardwareAccelerated() {
  static const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
  return kHasSse42;
}

#else  // !defined(__x86_64__)

uint32_t ExtendSse42(uint32_t crc, const char* data, size_t size) {
  return ExtendPortable(crc, data, size);
}

bool HardwareAccelerated() { return false; }

#endif

uint32_t Extend(uint32_t crc, const char* data, size_t size) {
  return HardwareAccelerated() ? ExtendSse42(crc, data, size)
                               : ExtendPortable(crc, data, size);
}

}  // namespace shiplog::crc32c
