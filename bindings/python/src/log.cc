#include "log.h"

#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <utility>

#include "blocking.h"
#include "convert.h"
#include "errors.h"
#include "module.h"
#include "options.h"

namespace shiplog::python {
namespace {

std::unique_ptr<Log> OpenLog(py::object store_object, const std::string& name,
                             bool create, const py::kwargs& settings) {
  Store& store = store_object.cast<Store&>();
  shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
  options.create_if_missing = create ? 1 : 0;
  ApplyLogSettings(settings, &options);
  shiplog_log* log = nullptr;
  CheckBlocking([&] {
    return shiplog_log_open(&log, store.get(), name.c_str(), &options);
  });
  return std::make_unique<Log>(std::move(store_object), LogHandle(log), name);
}

py::dict Settings(const Log& log) {
  shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
  Check(shiplog_log_get_options(&options, log.get()));
  return LogSettingsDict(options);
}

int64_t CommittedOffset(const Log& log) {
  int64_t offset = 0;
  Check(shiplog_log_committed_offset(&offset, log.get()));
  return offset;
}

// (size in bytes, segments)
std::pair<uint64_t, uint64_t> Size(const Log& log) {
  uint64_t size_bytes = 0;
  uint64_t segments = 0;
  Check(shiplog_log_size(&size_bytes, &segments, log.get()));
  return {size_bytes, segments};
}

std::optional<int64_t> OffsetForTime(const Log& log, int64_t timestamp_ms) {
  int64_t offset = 0;
  const int status = Blocking([&] {
    return shiplog_log_offset_for_time(&offset, log.get(), timestamp_ms);
  });
  if (status == SHIPLOG_ENOTFOUND) return std::nullopt;
  Check(status);
  return offset;
}

}  // namespace

Log::Log(py::object store, LogHandle handle, std::string name)
    : store_(std::move(store)),
      handle_(std::move(handle)),
      name_(std::move(name)) {}

int64_t Log::start_offset() const {
  int64_t offset = 0;
  Check(shiplog_log_start_offset(&offset, get()));
  return offset;
}

int64_t Log::end_offset() const {
  int64_t offset = 0;
  Check(shiplog_log_end_offset(&offset, get()));
  return offset;
}

int64_t Log::OffsetOrStart(py::handle offset) const {
  return offset.is_none() ? start_offset() : ToInt64(offset, "offset");
}

int Log::Read(int64_t offset, uint64_t max_bytes, SliceHandle* slice,
              shiplog_slice_info* info) const {
  shiplog_slice* raw_slice = nullptr;
  const int status = shiplog_log_read(&raw_slice, get(), offset, max_bytes);
  slice->reset(raw_slice);
  if (status != SHIPLOG_OK) return status;
  return shiplog_slice_info_get(info, slice->get());
}

LogClass RegisterLog(py::module_& module, StoreClass& store) {
  LogClass log(module, "Log", R"doc(
One log of a store: an ordered partition of records at dense 64-bit
offsets. Made by Store.log(); any number of threads may use it at once.
)doc");
  store.def("log", &OpenLog, py::arg("name"), py::kw_only(),
            py::arg("create") = true, R"doc(
Opens the log `name` (1-249 characters of A-Z a-z 0-9 . _ -, not "." or
".."), creating it if `create`. Keyword settings (segment_bytes,
segment_index_bytes, index_interval_bytes, segment_ms, retention_ms,
retention_bytes, flush_messages, flush_ms; None keeps the stored value or
the default) are applied and stored with the log.
)doc");
  log.def_property_readonly("name", &Log::name)
      .def_property_readonly("store", &Log::store,
                             "The Store the log was opened from.")
      .def_property_readonly("start_offset", &Log::start_offset,
                             "The first offset the log holds.")
      .def_property_readonly(
          "end_offset", &Log::end_offset,
          "The offset the next append gets; records are readable below it.")
      .def_property_readonly(
          "committed_offset", &CommittedOffset,
          "Offsets below this are durable (fdatasync'd): the recovery point.")
      .def_property_readonly(
          "size_bytes", [](const Log& self) { return Size(self).first; },
          "The log's size on disk.")
      .def_property_readonly("segment_count",
                             [](const Log& self) { return Size(self).second; })
      .def_property_readonly("options", &Settings,
                             "The log's settings by name, every one set.")
      .def("flush", &BlockingMethod<shiplog_log_flush, Log>,
           "fdatasyncs everything appended so far; committed_offset advances.")
      .def("roll", &BlockingMethod<shiplog_log_roll, Log>,
           "Starts a new segment now (if the active one holds anything).")
      .def(
          "truncate",
          [](Log& self, int64_t offset) {
            CheckBlocking(
                [&] { return shiplog_log_truncate(self.get(), offset); });
          },
          py::arg("offset"),
          "Removes every record from `offset` on, durably. `offset` must be "
          "a batch boundary (InvalidArgument otherwise).")
      .def(
          "reset",
          [](Log& self, int64_t start_offset) {
            CheckBlocking(
                [&] { return shiplog_log_reset(self.get(), start_offset); });
          },
          py::arg("start_offset"),
          "Empties the log and starts it at `start_offset`: the next append "
          "gets it. Durable when it returns (libshiplog 1.1).")
      .def("offset_for_time", &OffsetForTime, py::arg("timestamp_ms"),
           "The first offset whose record's timestamp is >= timestamp_ms, "
           "or None if every record is older.")
      .def("__repr__", [](const Log& self) {
        return py::str("<shiplog.Log {!r} offsets {}..{}>")
            .format(self.name(), self.start_offset(), self.end_offset());
      });
  return log;
}

}  // namespace shiplog::python
