// CRC-32C (Castagnoli), the checksum of RecordBatch v2.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
// run time) and a portable table-driven implementation otherwise. Both are
// exposed so tests can check them against the same vectors. With pclmulqdq
// as well, inputs of a few hundred bytes and more run three interleaved
// streams of crc32 instructions, about three times as fast as one; with
// AVX-512's VPCLMULQDQ, inputs of a kilobyte and more are folded with
// carry-less multiplication, faster again.
//
// Thread-safety: all functions are pure.
#ifndef SHIPLOG_ENGINE_FORMAT_CRC32C_H_
#define SHIPLOG_ENGINE_FORMAT_CRC32C_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace shiplog::crc32c {

// Returns the CRC-32C of `data`, continuing from `crc`, the CRC of the
// bytes before it (0 for a fresh start): Extend(Extend(0, a), b) ==
// Value(a + b).
uint32_t Extend(uint32_t crc, const char* data, size_t size);

inline uint32_t Value(const char* data, size_t size) {
  return Extend(0, data, size);
}
inline uint32_t Value(absl::string_view data) {
  return Extend(0, data.data(), data.size());
}

// The implementations behind Extend, for tests and benchmarks.
uint32_t ExtendPortable(uint32_t crc, const char* data, size_t size);
// One stream of crc32 instructions. Requires HardwareAccelerated().
uint32_t ExtendSse42(uint32_t crc, const char* data, size_t size);
bool HardwareAccelerated();

// Three interleaved streams of crc32 instructions, joined with carry-less
// multiplication; what Extend uses when InterleavedAccelerated(). Short
// inputs (under 192 bytes) take the single stream. Requires
// InterleavedAccelerated(): SSE4.2 and PCLMULQDQ.
uint32_t ExtendSse42Interleaved(uint32_t crc, const char* data, size_t size);
bool InterleavedAccelerated();

// Folding with 512-bit carry-less multiplication (VPCLMULQDQ), about four
// times the interleaved streams' speed; what Extend uses when
// Avx512Accelerated(). Inputs under 1 KiB, and the last bytes under 256 of
// longer ones, take the interleaved streams. Requires Avx512Accelerated():
// InterleavedAccelerated(), AVX-512F and VPCLMULQDQ.
uint32_t ExtendAvx512(uint32_t crc, const char* data, size_t size);
bool Avx512Accelerated();

}  // namespace shiplog::crc32c

#endif  // SHIPLOG_ENGINE_FORMAT_CRC32C_H_
