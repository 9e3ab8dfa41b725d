// The tool's side of libshiplog's C ABI (capi/include/shiplog.h), which is
// all the tool sees of the engine: owners that free the ABI's handles on
// every path, and the one place a shiplog_status becomes an absl::Status.
//
// Thread-safety: plain functions; a handle belongs to one thread at a time,
// as shiplog.h says.
#ifndef SHIPLOG_BINDINGS_CLI_ABI_H_
#define SHIPLOG_BINDINGS_CLI_ABI_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "shiplog.h"

namespace shiplog::cli {

// Releases any handle the ABI makes with its matching _free function, and
// text the library allocates (shiplog_metrics_text) with shiplog_free.
struct AbiFree {
  void operator()(shiplog_store* store) const { shiplog_store_free(store); }
  void operator()(shiplog_log* log) const { shiplog_log_free(log); }
  void operator()(shiplog_slice* slice) const { shiplog_slice_free(slice); }
  void operator()(shiplog_view* view) const { shiplog_view_free(view); }
  void operator()(shiplog_records* records) const {
    shiplog_records_free(records);
  }
  void operator()(shiplog_sender* sender) const { shiplog_sender_free(sender); }
  void operator()(shiplog_metrics* metrics) const {
    shiplog_metrics_free(metrics);
  }
  void operator()(shiplog_segment_reader* reader) const {
    shiplog_segment_reader_free(reader);
  }
  void operator()(shiplog_index_reader* reader) const {
    shiplog_index_reader_free(reader);
  }
  void operator()(char* text) const { shiplog_free(text); }
};

template <typename Handle>
using Owned = std::unique_ptr<Handle, AbiFree>;

// OK for SHIPLOG_OK. Otherwise this thread's shiplog_last_error() (or the
// status's name when the message is empty), under the canonical code that
// matches the status: SHIPLOG_ERANGE is kOutOfRange, SHIPLOG_ECORRUPT
// kDataLoss, and so on.
absl::Status AbiStatus(int status);

// Calls an ABI function whose first parameter is the new handle's out
// parameter (shiplog_log_read, shiplog_sender_open, ...) and owns the
// handle it makes: Open(shiplog_log_read, log, offset, max_bytes).
template <typename Handle, typename... Params, typename... Args>
absl::StatusOr<Owned<Handle>> Open(int (*open)(Handle**, Params...),
                                   Args... args) {
  Handle* handle = nullptr;
  const int status = open(&handle, args...);
  if (status != SHIPLOG_OK) return AbiStatus(status);
  return Owned<Handle>(handle);
}

// Copies the strings of `array` out and releases it
// (shiplog_strarray_dispose).
std::vector<std::string> TakeStrings(shiplog_strarray* array);

// OK if `name` is a valid log name by the library's rule
// (shiplog_log_name_check, the one shiplog_log_open applies, reserved names
// included); kInvalidArgument with the library's reason otherwise. The
// commands check LOG while parsing the command line, so that a bad name is
// a usage error that creates nothing (not even the store) and reads the
// same whether or not the store exists.
absl::Status CheckLogName(const std::string& name);

// Settings of a writable store (shiplog_store_options version 2); zeros
// are the library's defaults.
struct StoreTuning {
  uint64_t min_free_bytes = 0;
  uint64_t max_open_segment_files = 0;
  uint64_t max_segment_mappings = 0;
};

// The store in `directory`: read-only (no writer lock, nothing written, it
// must exist) or as its one writer, created if missing. `maintenance` runs
// the background flush/retention thread (writable stores).
absl::StatusOr<Owned<shiplog_store>> OpenStore(const std::string& directory,
                                               bool read_only,
                                               bool maintenance = true,
                                               const StoreTuning& tuning = {});

// Log `name` of `store`, which must exist: for the tools that read.
absl::StatusOr<Owned<shiplog_log>> OpenExistingLog(shiplog_store* store,
                                                   const std::string& name);

// The library's counters in this process, now (shiplog_metrics_open
// without a store, then shiplog_metrics_values_get).
absl::StatusOr<shiplog_metrics_values> ReadCounters();

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_ABI_H_
