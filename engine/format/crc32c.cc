#include "engine/format/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
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

namespace {

// Polynomial arithmetic modulo the CRC polynomial, in the CRC's reflected
// representation (bit 31 is the coefficient of x^0), for the constants of
// the interleaved and the folding loops: computed, not copied from tables.
constexpr uint32_t MultiplyModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t bit = 0x80000000u; bit != 0; bit >>= 1) {
    if (a & bit) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPolynomial : b >> 1;  // b *= x
  }
  return product;
}

constexpr uint32_t XPowerModP(uint64_t n) {
  uint32_t result = 0x80000000u;  // x^0
  uint32_t square = 0x40000000u;  // x^1, x^2, x^4, ...
  for (; n != 0; n >>= 1) {
    if (n & 1) result = MultiplyModP(result, square);
    square = MultiplyModP(square, square);
  }
  return result;
}

// The crc32 instruction has a latency of three cycles but issues one per
// cycle, so a single dependent chain of them runs at a third of the
// instruction's throughput. The interleaved loop runs three chains over
// three adjacent blocks of kBlockBytes, each from state 0, and joins them
// into the running state with the CRC's linearity:
//
//   crc(s, A B C) = s·x^(8·3L) + crc(0, A)·x^(8·2L) + crc(0, B)·x^(8·L)
//                   + crc(0, C)                                  (mod P)
//
// where L = kBlockBytes. No chain waits for the join, so the join's own
// latency overlaps the next round's blocks.
constexpr size_t kBlockBytes = 64;
constexpr size_t kRoundBytes = 3 * kBlockBytes;

// A product a·b of two reflected 32-bit values from pclmulqdq lands one bit
// short of a 64-bit reflected value, i.e. it is a·b·x^-1; crc32 of it from
// state 0 multiplies by x^32 and reduces. So crc32(0, clmul(a, x^(n-33)))
// is a·x^n mod P: these are the multipliers for shifting by 3L, 2L and L
// bytes.
constexpr uint32_t ShiftMultiplier(size_t bytes) {
  return XPowerModP(8 * bytes - 33);
}
constexpr uint32_t kShift3Blocks = ShiftMultiplier(3 * kBlockBytes);
constexpr uint32_t kShift2Blocks = ShiftMultiplier(2 * kBlockBytes);
constexpr uint32_t kShift1Block = ShiftMultiplier(kBlockBytes);

inline uint64_t Load64(const char* p) {
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  return word;
}

__attribute__((target("pclmul"))) inline __m128i CarrylessMultiply(uint32_t a,
                                                                   uint32_t b) {
  return _mm_clmulepi64_si128(_mm_cvtsi32_si128(static_cast<int>(a)),
                              _mm_cvtsi32_si128(static_cast<int>(b)), 0);
}

// One stream of crc32 instructions over `size` bytes; `state` is the raw
// (not inverted) register.
__attribute__((target("sse4.2"))) inline uint64_t SingleStream(uint64_t state,
                                                               const char* data,
                                                               size_t size) {
  // Byte steps up to an 8-byte boundary keep the wide loads aligned.
  while (size > 0 && reinterpret_cast<uintptr_t>(data) % 8 != 0) {
    state =
        _mm_crc32_u8(static_cast<uint32_t>(state), static_cast<uint8_t>(*data));
    ++data;
    --size;
  }
  for (; size >= 8; size -= 8, data += 8) {
    state = _mm_crc32_u64(state, Load64(data));
  }
  for (; size > 0; --size, ++data) {
    state =
        _mm_crc32_u8(static_cast<uint32_t>(state), static_cast<uint8_t>(*data));
  }
  return state;
}

// Folding, for long inputs on CPUs with 512-bit carry-less multiplication
// (Intel's "Fast CRC Computation Using PCLMULQDQ", widened): four 64-byte
// accumulators each hold a stretch of the message, and every step "folds"
// each accumulator forward over the 256 bytes that follow it, by
// multiplying it by x^(8·256) mod P, and adds in those bytes. A 128-bit
// lane X, X.lo its first 8 bytes, stands for X.lo·x^64 + X.hi; moved
// forward by D bits it becomes X.lo·x^(D+64) + X.hi·x^D, and with the
// x^-33 of the product above, that is clmul(X.lo, x^(D+31)) +
// clmul(X.hi, x^(D-33)): a pair of constants per fold distance. Eight
// instructions of four 128-bit products each a step run about twice as
// fast as the interleaved crc32 streams (on Zen 4, which executes 512-bit
// multiplications in two halves).
constexpr size_t kFoldStepBytes = 256;
// Shorter inputs do not repay the setup and the final reduction.
constexpr size_t kFoldMinBytes = 1024;

struct FoldConstants {
  uint64_t lo;  // multiplies a lane's first 8 bytes
  uint64_t hi;  // multiplies its last 8
};

// The constants that move a lane forward by `bits`.
constexpr FoldConstants FoldBy(size_t bits) {
  return {XPowerModP(bits + 31), XPowerModP(bits - 33)};
}

// The constants in every lane. (Built with set, not a broadcast: GCC 12's
// broadcast and extract intrinsics trip -Wmaybe-uninitialized.)
__attribute__((target("avx512f"))) inline __m512i Broadcast(
    FoldConstants constants) {
  const auto lo = static_cast<int64_t>(constants.lo);
  const auto hi = static_cast<int64_t>(constants.hi);
  return _mm512_set_epi64(hi, lo, hi, lo, hi, lo, hi, lo);
}

// Lane `i` of `x`.
template <int i>
__attribute__((target("avx512f"))) inline __m128i Lane(__m512i x) {
  return _mm512_maskz_extracti32x4_epi32(0xf, x, i);
}

// `x` moved forward by the distance `constants` were made for, plus `add`.
__attribute__((target("avx512f,vpclmulqdq"))) inline __m512i Fold(
    __m512i x, __m512i constants, __m512i add) {
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, constants, 0x00),
                                   _mm512_clmulepi64_epi128(x, constants, 0x11),
                                   add, 0x96);  // a ^ b ^ c
}

}  // namespace

// Target attributes let these functions use crc32, pclmulqdq and AVX-512
// without compiling the whole file (or the library) with -msse4.2 and the
// like; Extend only calls them after the CPU checks.
__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t crc,
                                                       const char* data,
                                                       size_t size) {
  return ~static_cast<uint32_t>(SingleStream(~crc, data, size));
}

__attribute__((target("sse4.2,pclmul"))) uint32_t ExtendSse42Interleaved(
    uint32_t crc, const char* data, size_t size) {
  uint64_t state = ~crc;
  if (size >= kRoundBytes + 8) {
    const size_t misalignment = reinterpret_cast<uintptr_t>(data) % 8;
    if (misalignment != 0) {
      state = SingleStream(state, data, 8 - misalignment);
      data += 8 - misalignment;
      size -= 8 - misalignment;
    }
    for (; size >= kRoundBytes; size -= kRoundBytes, data += kRoundBytes) {
      uint64_t a = 0;
      uint64_t b = 0;
      uint64_t c = 0;
      for (size_t i = 0; i < kBlockBytes; i += 8) {
        a = _mm_crc32_u64(a, Load64(data + i));
        b = _mm_crc32_u64(b, Load64(data + kBlockBytes + i));
        c = _mm_crc32_u64(c, Load64(data + 2 * kBlockBytes + i));
      }
      const __m128i shifted = _mm_xor_si128(
          _mm_xor_si128(
              CarrylessMultiply(static_cast<uint32_t>(state), kShift3Blocks),
              CarrylessMultiply(static_cast<uint32_t>(a), kShift2Blocks)),
          CarrylessMultiply(static_cast<uint32_t>(b), kShift1Block));
      state =
          _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(shifted))) ^
          c;
    }
  }
  return ~static_cast<uint32_t>(SingleStream(state, data, size));
}

__attribute__((target("sse4.2,pclmul,avx512f,vpclmulqdq"))) uint32_t
ExtendAvx512(uint32_t crc, const char* data, size_t size) {
  if (size < kFoldMinBytes) return ExtendSse42Interleaved(crc, data, size);
  // The incoming state is added to the message's first 32 bits.
  __m512i x0 = _mm512_xor_si512(
      _mm512_loadu_si512(data),
      _mm512_zextsi128_si512(_mm_cvtsi32_si128(static_cast<int>(~crc))));
  __m512i x1 = _mm512_loadu_si512(data + 64);
  __m512i x2 = _mm512_loadu_si512(data + 128);
  __m512i x3 = _mm512_loadu_si512(data + 192);
  data += kFoldStepBytes;
  size -= kFoldStepBytes;
  const __m512i step = Broadcast(FoldBy(8 * kFoldStepBytes));
  for (; size >= kFoldStepBytes;
       data += kFoldStepBytes, size -= kFoldStepBytes) {
    x0 = Fold(x0, step, _mm512_loadu_si512(data));
    x1 = Fold(x1, step, _mm512_loadu_si512(data + 64));
    x2 = Fold(x2, step, _mm512_loadu_si512(data + 128));
    x3 = Fold(x3, step, _mm512_loadu_si512(data + 192));
  }
  // Four accumulators into one, each 64 bytes before the next...
  const __m512i by_64_bytes = Broadcast(FoldBy(8 * 64));
  x1 = Fold(x0, by_64_bytes, x1);
  x2 = Fold(x1, by_64_bytes, x2);
  x3 = Fold(x2, by_64_bytes, x3);
  // ...then its four lanes into the last: lane i lies 16·(3 - i) bytes
  // before lane 3, which stays put (constants 0 drop it from the sum).
  constexpr FoldConstants k48 = FoldBy(8 * 48);
  constexpr FoldConstants k32 = FoldBy(8 * 32);
  constexpr FoldConstants k16 = FoldBy(8 * 16);
  const __m512i lanes = _mm512_set_epi64(
      0, 0, static_cast<int64_t>(k16.hi), static_cast<int64_t>(k16.lo),
      static_cast<int64_t>(k32.hi), static_cast<int64_t>(k32.lo),
      static_cast<int64_t>(k48.hi), static_cast<int64_t>(k48.lo));
  const __m512i moved = Fold(x3, lanes, _mm512_setzero_si512());
  const __m128i last =
      _mm_xor_si128(_mm_xor_si128(Lane<0>(moved), Lane<1>(moved)),
                    _mm_xor_si128(_mm_xor_si128(Lane<2>(moved), Lane<3>(moved)),
                                  Lane<3>(x3)));
  // What is left stands for a 16-byte message: run it through crc32.
  uint64_t state =
      _mm_crc32_u64(0, static_cast<uint64_t>(_mm_cvtsi128_si64(last)));
  state =
      _mm_crc32_u64(state, static_cast<uint64_t>(_mm_extract_epi64(last, 1)));
  return ExtendSse42Interleaved(~static_cast<uint32_t>(state), data, size);
}

bool HardwareAccelerated() {
  static const bool kHasSse42 = __builtin_cpu_supports("sse4.2");
  return kHasSse42;
}

bool InterleavedAccelerated() {
  static const bool kHasSse42AndPclmul =
      __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul");
  return kHasSse42AndPclmul;
}

bool Avx512Accelerated() {
  static const bool kHasAvx512Folding = InterleavedAccelerated() &&
                                        __builtin_cpu_supports("avx512f") &&
                                        __builtin_cpu_supports("vpclmulqdq");
  return kHasAvx512Folding;
}

#else  // !defined(__x86_64__)

uint32_t ExtendSse42(uint32_t crc, const char* data, size_t size) {
  return ExtendPortable(crc, data, size);
}

uint32_t ExtendSse42Interleaved(uint32_t crc, const char* data, size_t size) {
  return ExtendPortable(crc, data, size);
}

uint32_t ExtendAvx512(uint32_t crc, const char* data, size_t size) {
  return ExtendPortable(crc, data, size);
}

bool HardwareAccelerated() { return false; }

bool InterleavedAccelerated() { return false; }

bool Avx512Accelerated() { return false; }

#endif

uint32_t Extend(uint32_t crc, const char* data, size_t size) {
  if (Avx512Accelerated()) return ExtendAvx512(crc, data, size);
  if (InterleavedAccelerated()) return ExtendSse42Interleaved(crc, data, size);
  return HardwareAccelerated() ? ExtendSse42(crc, data, size)
                               : ExtendPortable(crc, data, size);
}

}  // namespace shiplog::crc32c
