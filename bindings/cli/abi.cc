#include "bindings/cli/abi.h"

#include <utility>

#include "bindings/cli/status_macros.h"

namespace shiplog::cli {
namespace {

// Each shiplog_status and the canonical code that means the same; any
// other status is kInternal.
constexpr std::pair<int, absl::StatusCode> kCanonicalCodes[] = {
    {SHIPLOG_EINVAL, absl::StatusCode::kInvalidArgument},
    {SHIPLOG_EVERSION, absl::StatusCode::kInvalidArgument},
    {SHIPLOG_ENOTFOUND, absl::StatusCode::kNotFound},
    {SHIPLOG_EEXISTS, absl::StatusCode::kAlreadyExists},
    {SHIPLOG_ERANGE, absl::StatusCode::kOutOfRange},
    {SHIPLOG_ITEROVER, absl::StatusCode::kOutOfRange},
    {SHIPLOG_ECORRUPT, absl::StatusCode::kDataLoss},
    {SHIPLOG_EREADONLY, absl::StatusCode::kFailedPrecondition},
    {SHIPLOG_ELOCKED, absl::StatusCode::kFailedPrecondition},
    {SHIPLOG_ECLOSED, absl::StatusCode::kFailedPrecondition},
    {SHIPLOG_ENOSPC, absl::StatusCode::kResourceExhausted},
    {SHIPLOG_ENOMEM, absl::StatusCode::kResourceExhausted},
    {SHIPLOG_ELOWSPACE, absl::StatusCode::kResourceExhausted},
    {SHIPLOG_EAGAIN, absl::StatusCode::kUnavailable},
    {SHIPLOG_EPEERCLOSED, absl::StatusCode::kUnavailable},
    {SHIPLOG_EUNSUPPORTED, absl::StatusCode::kUnimplemented},
    {SHIPLOG_ETIMEDOUT, absl::StatusCode::kDeadlineExceeded},
};

}  // namespace

absl::Status AbiStatus(int status) {
  if (status == SHIPLOG_OK) return absl::OkStatus();
  absl::StatusCode code = absl::StatusCode::kInternal;
  for (const auto& [known, canonical] : kCanonicalCodes) {
    if (known == status) code = canonical;
  }
  const char* message = shiplog_last_error();
  return absl::Status(code,
                      *message != '\0' ? message : shiplog_status_str(status));
}

std::vector<std::string> TakeStrings(shiplog_strarray* array) {
  std::vector<std::string> strings(array->strings,
                                   array->strings + array->count);
  shiplog_strarray_dispose(array);
  return strings;
}

absl::Status CheckLogName(const std::string& name) {
  return AbiStatus(shiplog_log_name_check(name.c_str()));
}

absl::StatusOr<Owned<shiplog_store>> OpenStore(const std::string& directory,
                                               bool read_only,
                                               bool maintenance,
                                               const StoreTuning& tuning) {
  shiplog_store_options options = SHIPLOG_STORE_OPTIONS_INIT;
  options.read_only = read_only ? 1 : 0;
  options.min_free_bytes = tuning.min_free_bytes;
  options.max_open_segment_files = tuning.max_open_segment_files;
  options.max_segment_mappings = tuning.max_segment_mappings;
  if (!maintenance) options.maintenance_interval_ms = 0;
  return Open(shiplog_store_open, directory.c_str(), &options);
}

absl::StatusOr<Owned<shiplog_log>> OpenExistingLog(shiplog_store* store,
                                                   const std::string& name) {
  shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
  options.create_if_missing = 0;
  return Open(shiplog_log_open, store, name.c_str(), &options);
}

absl::StatusOr<shiplog_metrics_values> ReadCounters() {
  ASSIGN_OR_RETURN(const Owned<shiplog_metrics> metrics,
                   Open(shiplog_metrics_open, nullptr));
  shiplog_metrics_values values = SHIPLOG_METRICS_VALUES_INIT;
  RETURN_IF_ERROR(
      AbiStatus(shiplog_metrics_values_get(&values, metrics.get())));
  return values;
}

}  // namespace shiplog::cli
