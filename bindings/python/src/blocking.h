// Calls into the C ABI that may block (file I/O, fsync, a socket that is
// full, a lock another thread holds) run with the GIL released, so other
// Python threads keep running meanwhile. What runs inside must not touch
// Python objects: only C handles and memory pinned before the call.
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_BLOCKING_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_BLOCKING_H_

#include <pybind11/pybind11.h>

#include "errors.h"

namespace shiplog::python {

// Runs `call` without the GIL and returns its status.
template <typename Call>
int Blocking(Call&& call) {
  py::gil_scoped_release release;
  return call();
}

// Runs `call` without the GIL and raises its status if it failed.
template <typename Call>
void CheckBlocking(Call&& call) {
  Check(Blocking(call));
}

// A method running the C call `Call` on its object's handle without the
// GIL: .def("flush", &BlockingMethod<shiplog_log_flush, Log>).
template <auto Call, typename Object>
void BlockingMethod(Object& object) {
  CheckBlocking([&] { return Call(object.get()); });
}

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_BLOCKING_H_
