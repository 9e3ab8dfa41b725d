// FreeSpaceGuard: refuses appends while the file system holding a store
// has less than `min_free_bytes` available, before the disk is full.
//
// A disk that fills up mid-write costs a torn batch to truncate and, on
// some file systems, metadata that cannot be written; refusing earlier,
// with an error of its own, leaves room for checkpoints, recovery and an
// operator's clean-up. Free space is read with statvfs (through the Env)
// at most every kRecheckBytes of appends or kRecheckMs, whichever comes
// first; between reads the guard subtracts what was appended.
//
// Thread-safety: thread-safe. One guard serves every log of a store.
#ifndef SHIPLOG_ENGINE_LOG_FREE_SPACE_GUARD_H_
#define SHIPLOG_ENGINE_LOG_FREE_SPACE_GUARD_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "engine/io/env.h"
#include "engine/sync/mutex.h"

namespace shiplog {

class FreeSpaceGuard {
 public:
  static constexpr uint64_t kRecheckBytes = uint64_t{1} << 20;
  static constexpr int64_t kRecheckMs = 100;

  // `min_free_bytes` 0 turns the guard off.
  FreeSpaceGuard(Env* env, std::string path, uint64_t min_free_bytes);

  uint64_t min_free_bytes() const { return min_free_bytes_; }

  // OK if `bytes` more can be written and still leave min_free_bytes
  // available. Otherwise kResourceExhausted with ErrorKind::kLowDiskSpace,
  // naming both numbers; statvfs failing is reported as it is.
  absl::Status Reserve(uint64_t bytes);

 private:
  Env* const env_;
  const std::string path_;
  const uint64_t min_free_bytes_;

  Mutex mu_;
  uint64_t available_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t reserved_since_check_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t checked_ms_ ABSL_GUARDED_BY(mu_) = 0;
  bool checked_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_LOG_FREE_SPACE_GUARD_H_
