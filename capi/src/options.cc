#include "capi/src/options.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "capi/src/status.h"

namespace shiplog::capi {
namespace {

// The C struct's fields, paired with the engine's.
struct SettingField {
  int64_t shiplog_log_options::*c_field;
  std::optional<int64_t> LogConfigOverrides::*override_field;
  int64_t LogConfig::*config_field;
};

constexpr SettingField kSettingFields[] = {
    {&shiplog_log_options::segment_bytes, &LogConfigOverrides::segment_bytes,
     &LogConfig::segment_bytes},
    {&shiplog_log_options::segment_index_bytes,
     &LogConfigOverrides::max_index_bytes, &LogConfig::max_index_bytes},
    {&shiplog_log_options::index_interval_bytes,
     &LogConfigOverrides::index_interval_bytes,
     &LogConfig::index_interval_bytes},
    {&shiplog_log_options::segment_ms, &LogConfigOverrides::segment_ms,
     &LogConfig::segment_ms},
    {&shiplog_log_options::retention_ms, &LogConfigOverrides::retention_ms,
     &LogConfig::retention_ms},
    {&shiplog_log_options::retention_bytes,
     &LogConfigOverrides::retention_bytes, &LogConfig::retention_bytes},
    {&shiplog_log_options::flush_messages, &LogConfigOverrides::flush_messages,
     &LogConfig::flush_messages},
    {&shiplog_log_options::flush_ms, &LogConfigOverrides::flush_ms,
     &LogConfig::flush_ms},
};

}  // namespace

absl::StatusOr<LogConfigOverrides> ToOverrides(
    const shiplog_log_options& options) {
  LogConfigOverrides overrides;
  for (const SettingField& field : kSettingFields) {
    const int64_t value = options.*field.c_field;
    if (value != SHIPLOG_UNSET) overrides.*field.override_field = value;
  }
  switch (options.write_mode) {
    case SHIPLOG_UNSET:
      break;
    case SHIPLOG_WRITE_BUFFERED:
      overrides.write_mode = WriteMode::kBuffered;
      break;
    case SHIPLOG_WRITE_DIRECT:
      overrides.write_mode = WriteMode::kDirect;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "write_mode must be SHIPLOG_WRITE_BUFFERED or SHIPLOG_WRITE_DIRECT, "
          "not ",
          options.write_mode));
  }
  return overrides;
}

void FromConfig(const LogConfig& config, shiplog_log_options* out) {
  for (const SettingField& field : kSettingFields) {
    out->*field.c_field = config.*field.config_field;
  }
  out->write_mode = config.write_mode == WriteMode::kDirect
                        ? SHIPLOG_WRITE_DIRECT
                        : SHIPLOG_WRITE_BUFFERED;
}

absl::StatusOr<StoreOptions> ToStoreOptions(
    const shiplog_store_options& options) {
  if (options.maintenance_interval_ms < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("maintenance_interval_ms must be >= 0, not ",
                     options.maintenance_interval_ms));
  }
  if (options.checkpoint_interval_ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint_interval_ms must be > 0, not ",
                     options.checkpoint_interval_ms));
  }
  StoreOptions store;
  store.read_only = options.read_only != 0;
  store.create_if_missing = options.create_if_missing != 0;
  store.maintenance_interval_ms = options.maintenance_interval_ms;
  store.checkpoint_interval_ms = options.checkpoint_interval_ms;
  absl::StatusOr<LogConfigOverrides> defaults =
      ToOverrides(options.default_log_options);
  if (!defaults.ok()) return defaults.status();
  store.default_log_config = defaults->ApplyTo(LogConfig{});
  store.min_free_bytes = options.min_free_bytes;
  store.max_open_segment_files = options.max_open_segment_files;
  store.max_segment_mappings = options.max_segment_mappings;
  store.permissions = FilePermissions{.file_mode = options.file_mode,
                                      .directory_mode = options.directory_mode};
  return store;
}

absl::StatusOr<SendOptions> ToSendOptions(const shiplog_send_options& options) {
  SendOptions send;
  switch (options.policy) {
    case SHIPLOG_SEND_AUTO:
      send.policy = SendPolicy::kAuto;
      break;
    case SHIPLOG_SEND_SENDFILE:
      send.policy = SendPolicy::kSendfile;
      break;
    case SHIPLOG_SEND_MMAP_WRITE:
      send.policy = SendPolicy::kMmapWrite;
      break;
    case SHIPLOG_SEND_COPY:
      send.policy = SendPolicy::kCopy;
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("unknown send policy ", options.policy));
  }
  if (options.mmap_threshold_bytes != 0) {  // 0: by destination
    send.mmap_threshold_bytes = options.mmap_threshold_bytes;
  }
  send.cold_read_lag_bytes = options.cold_read_lag_bytes;
  return send;
}

}  // namespace shiplog::capi
