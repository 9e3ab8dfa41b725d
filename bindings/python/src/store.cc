#include "store.h"

#include <cstdint>
#include <memory>
#include <utility>

#include "blocking.h"
#include "convert.h"
#include "errors.h"
#include "module.h"
#include "options.h"

namespace shiplog::python {
namespace {

std::unique_ptr<Store> OpenStore(
    py::handle path, bool read_only, bool create,
    int64_t maintenance_interval_ms, int64_t checkpoint_interval_ms,
    uint64_t min_free_bytes, uint64_t max_open_segment_files,
    uint64_t max_segment_mappings, unsigned int file_mode,
    unsigned int directory_mode, const py::kwargs& log_defaults) {
  shiplog_store_options options = SHIPLOG_STORE_OPTIONS_INIT;
  options.read_only = read_only ? 1 : 0;
  options.create_if_missing = create ? 1 : 0;
  options.maintenance_interval_ms = maintenance_interval_ms;
  options.checkpoint_interval_ms = checkpoint_interval_ms;
  options.min_free_bytes = min_free_bytes;
  options.max_open_segment_files = max_open_segment_files;
  options.max_segment_mappings = max_segment_mappings;
  options.file_mode = file_mode;
  options.directory_mode = directory_mode;
  ApplyLogSettings(log_defaults, &options.default_log_options);
  std::string file_system_path = FileSystemPath(path);
  shiplog_store* store = nullptr;
  CheckBlocking([&] {
    return shiplog_store_open(&store, file_system_path.c_str(), &options);
  });
  return std::make_unique<Store>(StoreHandle(store),
                                 std::move(file_system_path), read_only);
}

struct StringArray {
  shiplog_strarray array{};
  ~StringArray() { shiplog_strarray_dispose(&array); }
};

py::list ListLogs(Store& store) {
  StringArray names;
  CheckBlocking(
      [&] { return shiplog_store_list_logs(&names.array, store.get()); });
  py::list list;
  for (size_t i = 0; i < names.array.count; ++i) {
    list.append(py::str(names.array.strings[i]));
  }
  return list;
}

py::str DecodePath(const std::string& path) {
  return py::reinterpret_steal<py::str>(PyUnicode_DecodeFSDefaultAndSize(
      path.data(), static_cast<Py_ssize_t>(path.size())));
}

}  // namespace

Store::Store(StoreHandle handle, std::string path, bool read_only)
    : handle_(std::move(handle)),
      path_(std::move(path)),
      read_only_(read_only) {}

Store::~Store() {
  py::gil_scoped_release release;
  handle_.reset();
}

void Store::Close() {
  const int status = Blocking([&] { return shiplog_store_close(get()); });
  closed_ = true;  // even when the close failed: the C handle is closed
  Check(status);
}

StoreClass RegisterStore(py::module_& module) {
  StoreClass store(module, "Store", R"doc(
A directory of logs. One process writes a store at a time (a lock file
enforces it); others may open it read_only.

Closing (close(), or leaving a `with` block) is a clean shutdown: every log
is flushed and checkpointed, so the next open skips recovery.
)doc");
  store
      .def(py::init(&OpenStore), py::arg("path"), py::kw_only(),
           py::arg("read_only") = false, py::arg("create") = true,
           py::arg("maintenance_interval_ms") = 1000,
           py::arg("checkpoint_interval_ms") = 60000,
           py::arg("min_free_bytes") = 0, py::arg("max_open_segment_files") = 0,
           py::arg("max_segment_mappings") = 0, py::arg("file_mode") = 0640,
           py::arg("directory_mode") = 0750,
           "Opens (creating it if `create`) the store at `path`, recovering "
           "what an unclean shutdown left. min_free_bytes refuses appends "
           "(LowDiskSpace) before the disk is full; max_open_segment_files and "
           "max_segment_mappings cap what idle segments hold open (0: half "
           "of RLIMIT_NOFILE / vm.max_map_count); file_mode and "
           "directory_mode are the modes of what the store creates. Keyword "
           "log settings (segment_bytes=... as for Store.log) are the "
           "defaults of logs created without their own.")
      .def("close", &Store::Close,
           "Clean shutdown: flushes every log and writes the checkpoints. "
           "Closing twice is fine; anything else afterwards raises Closed.")
      .def_property_readonly("closed", &Store::closed)
      .def_property_readonly("read_only", &Store::read_only)
      .def_property_readonly(
          "path", [](const Store& self) { return DecodePath(self.path()); })
      .def("__enter__", [](py::object self) { return self; })
      .def(
          "__exit__", [](Store& self, py::args) { self.Close(); },
          "Closes the store.")
      .def("logs", &ListLogs, "The names of the store's logs, sorted.")
      .def(
          "delete_log",
          [](Store& self, const std::string& name) {
            CheckBlocking([&] {
              return shiplog_store_delete_log(self.get(), name.c_str());
            });
          },
          py::arg("name"), "Closes the log and removes its files.")
      .def("checkpoint", &BlockingMethod<shiplog_store_checkpoint, Store>,
           "Writes the recovery-point and log-start checkpoints now.")
      .def("run_maintenance",
           &BlockingMethod<shiplog_store_run_maintenance, Store>,
           "One pass of the background work now: flush by flush_ms, roll by "
           "segment_ms, retention, checkpoint when due. For stores opened "
           "with maintenance_interval_ms=0.")
      .def("__repr__", [](const Store& self) {
        return py::str("<shiplog.Store {!r}{}{}>")
            .format(DecodePath(self.path()),
                    self.read_only() ? " read-only" : "",
                    self.closed() ? " closed" : "");
      });
  return store;
}

}  // namespace shiplog::python
