// The names of the files a store keeps beside its logs (STORE.md).
#ifndef SHIPLOG_ENGINE_STORE_STORE_FILES_H_
#define SHIPLOG_ENGINE_STORE_STORE_FILES_H_

#include "absl/strings/string_view.h"
#include "engine/io/env.h"  // kTemporaryFileSuffix

namespace shiplog {

// In the store directory.
inline constexpr absl::string_view kLockFileName = ".lock";
inline constexpr absl::string_view kCleanShutdownFileName =
    ".shiplog-clean-shutdown";
inline constexpr absl::string_view kRecoveryPointCheckpointFileName =
    "recovery-point-offset-checkpoint";
inline constexpr absl::string_view kLogStartCheckpointFileName =
    "log-start-offset-checkpoint";

// In each log directory.
inline constexpr absl::string_view kLogConfigFileName = "log.properties";

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STORE_STORE_FILES_H_
