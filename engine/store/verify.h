// VerifyStore: checks a store's files (a backup's, or a live store's)
// without opening it as a store and without writing (BACKUP.md,
// "Verify").
//
// It reads every byte of every segment: each batch's header and CRC-32C,
// offsets continuing within and across segments, every index entry
// against the batches, log.properties, and the checkpoints against the
// logs. A live writer's unflushed tail (bytes past the recovery point that
// do not yet form a whole batch) is a note, not a problem.
//
// Thread-safety: a plain function; it may run beside the store's writer.
#ifndef SHIPLOG_ENGINE_STORE_VERIFY_H_
#define SHIPLOG_ENGINE_STORE_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/env.h"
#include "engine/store/progress.h"

namespace shiplog {

struct VerifyOptions {
  Env* env = nullptr;  // nullptr: Env::Default()
  ProgressCallback progress;
};

struct VerifyReport {
  int64_t logs = 0;
  int64_t segments = 0;
  int64_t batches = 0;
  int64_t records = 0;
  uint64_t bytes = 0;  // of .log files, all read
  // What is wrong, first found first: data that is damaged or missing,
  // indexes the store would trust but that disagree with the data,
  // checkpoints the logs contradict. Empty when the store verifies.
  std::vector<std::string> problems;
  // What the store repairs by itself when it opens, with no data at stake
  // (indexes it rebuilds, leftover temporary files, a live tail).
  std::vector<std::string> notes;
};

// Verifies the store at `path`. The result lists the problems; the status
// is an error only when verification could not run (kNotFound for a
// missing store, kFailedPrecondition for a path that is not a directory,
// or an I/O error).
absl::StatusOr<VerifyReport> VerifyStore(const std::string& path,
                                         const VerifyOptions& options = {});

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STORE_VERIFY_H_
