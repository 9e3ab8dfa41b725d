// Byte counts as people write them: "65536", "64K", "64KiB", "1 GiB".
//
// Thread-safety: pure functions.
#ifndef SHIPLOG_BINDINGS_CLI_BYTE_SIZE_H_
#define SHIPLOG_BINDINGS_CLI_BYTE_SIZE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace shiplog::cli {

// Digits with an optional suffix K, M, G or KiB, MiB, GiB (any case;
// powers of 1024). nullopt for anything else, or a count past 2^64 - 1.
std::optional<uint64_t> ParseByteSize(absl::string_view text);

// "4 KiB", "1 GiB" for whole multiples of a unit, "1.5 MiB" otherwise,
// "100 B" below 1 KiB.
std::string FormatByteSize(uint64_t bytes);

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_BYTE_SIZE_H_
