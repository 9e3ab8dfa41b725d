// Conversions between the C option structs and the engine's settings.
#ifndef SHIPLOG_CAPI_SRC_OPTIONS_H_
#define SHIPLOG_CAPI_SRC_OPTIONS_H_

#include <cstddef>

#include "absl/status/statusor.h"
#include "capi/include/shiplog.h"
#include "engine/log/log_config.h"
#include "engine/store/store.h"
#include "engine/transport/send_options.h"

namespace shiplog::capi {

// The conversions take and fill whole structs of the newest version
// (capi/src/versioned.h reads and writes a caller's older, smaller one).

// SHIPLOG_UNSET fields stay unset. kInvalidArgument for a write_mode that
// is no shiplog_write_mode.
absl::StatusOr<LogConfigOverrides> ToOverrides(
    const shiplog_log_options& options);
void FromConfig(const LogConfig& config, shiplog_log_options* out);

// kInvalidArgument for settings out of range.
absl::StatusOr<StoreOptions> ToStoreOptions(
    const shiplog_store_options& options);

// kInvalidArgument for an unknown policy. `options` is a whole struct of
// the newest version (ReadVersioned fills what an older caller lacks).
absl::StatusOr<SendOptions> ToSendOptions(const shiplog_send_options& options);

}  // namespace shiplog::capi

#endif  // SHIPLOG_CAPI_SRC_OPTIONS_H_
