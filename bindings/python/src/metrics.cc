// shiplog.Metrics: a snapshot of the engine's counters, this process's
// resource use and each log's gauges (Store.metrics).
#include <pybind11/pybind11.h>

#include <iterator>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "blocking.h"
#include "errors.h"
#include "module.h"
#include "send.h"

namespace shiplog::python {

// Immutable once taken, used under the GIL only.
class Metrics {
 public:
  explicit Metrics(MetricsHandle handle) : handle_(std::move(handle)) {
    Check(shiplog_metrics_values_get(&values_, handle_.get()));
  }

  const shiplog_metrics_values& values() const { return values_; }

  // shiplog_metrics_prometheus or shiplog_metrics_text.
  template <int (*Format)(char**, const shiplog_metrics*)>
  std::string Render() const {
    char* text = nullptr;
    Check(Format(&text, handle_.get()));
    const std::unique_ptr<char, FreeWith<shiplog_free>> owned(text);
    return text;
  }

 private:
  MetricsHandle handle_;
  shiplog_metrics_values values_ = SHIPLOG_METRICS_VALUES_INIT;
};

namespace {

using Values = shiplog_metrics_values;
using Field = std::variant<uint64_t Values::*, int64_t Values::*,
                           double Values::*, uint64_t (Values::*)[4]>;

struct Counter {
  const char* name;
  Field field;
};

// Every value of shiplog_metrics_values, under its C name; the per-path
// arrays become dicts by path name.
const Counter kCounters[] = {
    {"appended_bytes", &Values::appended_bytes},
    {"appended_batches", &Values::appended_batches},
    {"appended_records", &Values::appended_records},
    {"sent_bytes", &Values::sent_bytes},
    {"send_syscalls", &Values::send_syscalls},
    {"partial_sends", &Values::partial_sends},
    {"send_eagain", &Values::send_eagain},
    {"send_fallbacks", &Values::send_fallbacks},
    {"send_errors", &Values::send_errors},
    {"fsyncs", &Values::fsyncs},
    {"fsync_failures", &Values::fsync_failures},
    {"fsync_p50_seconds", &Values::fsync_p50_seconds},
    {"fsync_p99_seconds", &Values::fsync_p99_seconds},
    {"open_files", &Values::open_files},
    {"mapped_bytes", &Values::mapped_bytes},
    {"mappings", &Values::mappings},
    {"segments_recovered", &Values::segments_recovered},
    {"bytes_truncated_by_recovery", &Values::bytes_truncated_by_recovery},
    {"crc_failures", &Values::crc_failures},
    {"index_rebuilds", &Values::index_rebuilds},
};

py::object ValueOf(const Values& values, const Field& field) {
  return std::visit(
      [&](auto member) -> py::object {
        const auto& value = values.*member;
        if constexpr (std::is_array_v<std::remove_cvref_t<decltype(value)>>) {
          return BySendPath(value, std::size(value));
        } else {
          return py::cast(value);
        }
      },
      field);
}

py::dict AsDict(const Metrics& metrics) {
  py::dict values;
  for (const Counter& counter : kCounters) {
    values[counter.name] = ValueOf(metrics.values(), counter.field);
  }
  return values;
}

std::unique_ptr<Metrics> TakeMetrics(Store& store) {
  shiplog_metrics* metrics = nullptr;
  CheckBlocking([&] { return shiplog_metrics_open(&metrics, store.get()); });
  return std::make_unique<Metrics>(MetricsHandle(metrics));
}

}  // namespace

void RegisterMetrics(py::module_& module, StoreClass& store) {
  py::class_<Metrics> metrics(module, "Metrics", R"doc(
A snapshot of the engine's counters (this process, every store), the
process's resource use and the store's per-log gauges. The counters are
attributes (sent_bytes and send_syscalls are dicts by send path); as_dict()
has them all; prometheus() and text() render the whole snapshot.
)doc");
  for (const Counter& counter : kCounters) {
    metrics.def_property_readonly(counter.name,
                                  [field = counter.field](const Metrics& self) {
                                    return ValueOf(self.values(), field);
                                  });
  }
  metrics.def("as_dict", &AsDict, "Every counter by name.")
      .def("prometheus", &Metrics::Render<shiplog_metrics_prometheus>,
           "The snapshot in Prometheus text exposition format (0.0.4).")
      .def("text", &Metrics::Render<shiplog_metrics_text>,
           "The snapshot as a table for people.")
      .def("__repr__", [](const Metrics& self) {
        return py::str("<shiplog.Metrics {!r}>").format(AsDict(self));
      });

  store.def("metrics", &TakeMetrics,
            "A snapshot of the metrics, with this store's per-log gauges.");
}

}  // namespace shiplog::python
