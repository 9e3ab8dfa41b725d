// Kafka's offset checkpoint files (STORE.md, "Checkpoints"):
//
//   0                      <- format version
//   2                      <- number of entries
//   orders 0 1042          <- topic partition offset
//   audit-log -1 77        <- a log name without a -<partition> suffix
//
// A log named `<topic>-<digits>` is written as its topic and partition, as
// Kafka writes its own; any other log name is written whole with
// partition -1, so every valid log name round-trips.
#ifndef SHIPLOG_ENGINE_STORE_CHECKPOINT_FILE_H_
#define SHIPLOG_ENGINE_STORE_CHECKPOINT_FILE_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/io/env.h"

namespace shiplog {

using OffsetCheckpoint = std::map<std::string, int64_t>;

std::string FormatCheckpoint(const OffsetCheckpoint& offsets);

// kDataLoss naming the line for anything malformed: a wrong version, an
// entry count that disagrees with the entries, bad fields.
absl::StatusOr<OffsetCheckpoint> ParseCheckpoint(absl::string_view text);

// Writes atomically and durably (temp file, fdatasync, rename, dir fsync).
absl::Status WriteCheckpoint(Env* env, const std::string& path,
                             const OffsetCheckpoint& offsets);

// An empty checkpoint if the file does not exist.
absl::StatusOr<OffsetCheckpoint> ReadCheckpoint(Env* env,
                                                const std::string& path);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STORE_CHECKPOINT_FILE_H_
