// CRC-32C (Castagnoli), the checksum of RecordBatch v2.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
// run time) and a portable table-driven implementation otherwise. Both are
// exposed so tests can check them against the same vectors.
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

// The two implementations behind Extend, for tests and benchmarks.
uint32_t ExtendPortable(uint32_t crc, const char* data, size_t size);
// Requires HardwareAccelerated().
uint32_t ExtendSse42(uint32_t crc, const char* data, size_t size);
bool HardwareAccelerated();

}  // namespace shiplog::crc32c

#endif  // SHIPLOG_ENGINE_FORMAT_CRC32C_H_
