// The parts of the _shiplog extension module, each adding its classes and
// methods at import (module.cc calls them in order).
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_MODULE_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_MODULE_H_

#include <pybind11/pybind11.h>

#include "log.h"
#include "store.h"

namespace shiplog::python {

namespace py = pybind11;

using StoreClass = py::class_<Store>;
using LogClass = py::class_<Log>;

// shiplog.Error and its subclasses (errors.cc).
void RegisterErrors(py::module_& module);
// shiplog.Store (store.cc).
StoreClass RegisterStore(py::module_& module);
// shiplog.Log and Store.log (log.cc).
LogClass RegisterLog(py::module_& module, StoreClass& store);
// Log.append, append_many and append_batches (append.cc).
void BindAppends(LogClass& log);
// shiplog.Record, shiplog.Records and Log.read (records.cc).
void RegisterRecords(py::module_& module, LogClass& log);
// shiplog.View and Log.view (view.cc).
void RegisterView(py::module_& module, LogClass& log);
// shiplog.SendResult, shiplog.Sender, Log.send and Log.sender (send.cc).
void RegisterSend(py::module_& module, LogClass& log);
// shiplog.Metrics and Store.metrics (metrics.cc).
void RegisterMetrics(py::module_& module, StoreClass& store);
void RegisterBackup(py::module_& module, StoreClass& store);

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_MODULE_H_
