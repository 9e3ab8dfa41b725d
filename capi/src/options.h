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

// The first version of shiplog_log_options, 1.0's and 1.1's: everything
// before write_mode. Such a struct is accepted, and never read or written
// past this size.
inline constexpr unsigned int kLogOptionsVersion1 = 1;
inline constexpr size_t kLogOptionsVersion1Bytes =
    offsetof(shiplog_log_options, write_mode);

// SHIPLOG_EVERSION unless `version` is 1 or SHIPLOG_LOG_OPTIONS_VERSION.
int CheckLogOptionsVersion(unsigned int version, const char* what);

// SHIPLOG_UNSET fields stay unset (a version-1 struct has no write_mode).
// kInvalidArgument for a write_mode that is no shiplog_write_mode.
absl::StatusOr<LogConfigOverrides> ToOverrides(
    const shiplog_log_options& options);
// Every field `out`'s version has.
void FromConfig(const LogConfig& config, shiplog_log_options* out);

// kInvalidArgument for settings out of range.
absl::StatusOr<StoreOptions> ToStoreOptions(
    const shiplog_store_options& options);

// kInvalidArgument for an unknown policy.
absl::StatusOr<SendOptions> ToSendOptions(const shiplog_send_options& options);

}  // namespace shiplog::capi

#endif  // SHIPLOG_CAPI_SRC_OPTIONS_H_
