#include "engine/log/free_space_guard.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/status/error_kind.h"
#include "engine/status/status_macros.h"

namespace shiplog {

FreeSpaceGuard::FreeSpaceGuard(Env* env, std::string path,
                               uint64_t min_free_bytes)
    : env_(env), path_(std::move(path)), min_free_bytes_(min_free_bytes) {}

absl::Status FreeSpaceGuard::Reserve(uint64_t bytes) {
  if (min_free_bytes_ == 0) return absl::OkStatus();
  MutexLock lock(&mu_);
  const int64_t now_ms = env_->NowMs();
  const bool stale = !checked_ || reserved_since_check_ >= kRecheckBytes ||
                     now_ms - checked_ms_ >= kRecheckMs ||
                     now_ms < checked_ms_;
  // Near the limit every append looks again: space may have come back.
  const bool close = available_bytes_ <
                     min_free_bytes_ + reserved_since_check_ + bytes +
                         kRecheckBytes;
  if (stale || close) {
    ASSIGN_OR_RETURN(available_bytes_, env_->AvailableBytes(path_));
    reserved_since_check_ = 0;
    checked_ms_ = now_ms;
    checked_ = true;
  }
  const uint64_t used = reserved_since_check_ + bytes;
  if (available_bytes_ < used || available_bytes_ - used < min_free_bytes_) {
    return WithErrorKind(
        absl::ResourceExhaustedError(absl::StrCat(
            "appending ", bytes, " bytes would leave less than min_free_bytes ",
            min_free_bytes_, " free on the file system of ", path_, " (",
            available_bytes_ - std::min(available_bytes_,
                                        reserved_since_check_),
            " bytes available)")),
        ErrorKind::kLowDiskSpace);
  }
  reserved_since_check_ = used;
  return absl::OkStatus();
}

}  // namespace shiplog
