// Owning pointers for the C ABI's opaque handles: each frees its handle with
// the matching shiplog_*_free when it goes.
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_HANDLES_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_HANDLES_H_

#include <memory>

#include "shiplog.h"

namespace shiplog::python {

template <auto Free>
struct FreeWith {
  template <typename Handle>
  void operator()(Handle* handle) const {
    Free(handle);
  }
};

using StoreHandle =
    std::unique_ptr<shiplog_store, FreeWith<shiplog_store_free>>;
using LogHandle = std::unique_ptr<shiplog_log, FreeWith<shiplog_log_free>>;
using SliceHandle =
    std::unique_ptr<shiplog_slice, FreeWith<shiplog_slice_free>>;
using ViewHandle = std::unique_ptr<shiplog_view, FreeWith<shiplog_view_free>>;
using RecordsHandle =
    std::unique_ptr<shiplog_records, FreeWith<shiplog_records_free>>;
using SenderHandle =
    std::unique_ptr<shiplog_sender, FreeWith<shiplog_sender_free>>;
using MetricsHandle =
    std::unique_ptr<shiplog_metrics, FreeWith<shiplog_metrics_free>>;

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_HANDLES_H_
