// _shiplog: the extension module behind the `shiplog` package, a binding of
// the C ABI (shiplog.h, libshiplog.so.1) and of nothing else.
#include "module.h"

#include <pybind11/pybind11.h>

#include "shiplog.h"

namespace py = pybind11;

PYBIND11_MODULE(_shiplog, module) {
  namespace python = shiplog::python;
  module.doc() =
      "The extension module behind the shiplog package; import shiplog.";
  python::RegisterErrors(module);
  python::StoreClass store = python::RegisterStore(module);
  python::LogClass log = python::RegisterLog(module, store);
  python::BindAppends(log);
  python::RegisterRecords(module, log);
  python::RegisterView(module, log);
  python::RegisterSend(module, log);
  python::RegisterMetrics(module, store);
  python::RegisterBackup(module, store);
  module.attr("__version__") = shiplog_version();
  // The classes belong to the package users import (as the exceptions do).
  for (auto [name, value] : module.attr("__dict__").cast<py::dict>()) {
    if (py::isinstance<py::type>(value)) value.attr("__module__") = "shiplog";
  }
}
