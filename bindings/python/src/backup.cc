// Store.backup and shiplog.verify, over shiplog_store_backup and
// shiplog_store_verify. Both return plain dicts of what the C reports hold.
#include <pybind11/pybind11.h>

#include <string>

#include "blocking.h"
#include "convert.h"
#include "errors.h"
#include "module.h"

namespace shiplog::python {
namespace {

// The strings of `array` as a list of str; releases the array.
py::list TakeStrings(shiplog_strarray* array) {
  py::list list;
  for (size_t i = 0; i < array->count; ++i) {
    list.append(py::str(array->strings[i]));
  }
  shiplog_strarray_dispose(array);
  return list;
}

py::dict Backup(Store& store, py::handle destination) {
  const std::string path = FileSystemPath(destination);
  shiplog_backup_report report = SHIPLOG_BACKUP_REPORT_INIT;
  shiplog_strarray notes = {};
  CheckBlocking([&] {
    return shiplog_store_backup(&report, &notes, store.get(), path.c_str(),
                                nullptr);
  });
  py::dict result;
  result["logs"] = report.logs;
  result["segments_linked"] = report.segments_linked;
  result["segments_copied"] = report.segments_copied;
  result["bytes_linked"] = report.bytes_linked;
  result["bytes_copied"] = report.bytes_copied;
  result["notes"] = TakeStrings(&notes);
  return result;
}

py::dict Verify(py::handle store_path) {
  const std::string path = FileSystemPath(store_path);
  shiplog_verify_report report = SHIPLOG_VERIFY_REPORT_INIT;
  shiplog_strarray problems = {};
  shiplog_strarray notes = {};
  const int status = Blocking([&] {
    return shiplog_store_verify(&report, &problems, &notes, path.c_str(),
                                nullptr);
  });
  // Problems are the answer, not a failure to give one.
  if (status != SHIPLOG_ECORRUPT) Check(status);
  py::dict result;
  result["logs"] = report.logs;
  result["segments"] = report.segments;
  result["batches"] = report.batches;
  result["records"] = report.records;
  result["bytes"] = report.bytes;
  result["problems"] = TakeStrings(&problems);
  result["notes"] = TakeStrings(&notes);
  return result;
}

}  // namespace

void RegisterBackup(py::module_& module, StoreClass& store) {
  store.def("backup", &Backup, py::arg("destination"),
            "Copies the store into `destination` (which must not exist, or "
            "be an empty directory outside the store) while writers carry "
            "on: closed segments are hard-linked (copied across file "
            "systems), each log up to its durable end. The backup opens as "
            "a store. Returns a dict: logs, segments_linked, "
            "segments_copied, bytes_linked, bytes_copied, notes.");
  module.def("verify", &Verify, py::arg("path"),
             "Checks the store (or backup) at `path` from its files, writing "
             "nothing: every batch's CRC, offsets continuing across "
             "segments, index entries, checkpoints. Returns a dict: logs, "
             "segments, batches, records, bytes, problems (empty when it "
             "verifies), notes. Raises NotFound for a missing store.");
}

}  // namespace shiplog::python
