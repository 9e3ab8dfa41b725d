// The one place where the C ABI's status codes become Python exceptions.
//
// shiplog.Error is the base; each status code the C ABI documents has its
// own subclass, which also derives from the built-in exception a Python
// caller would reach for (InvalidArgument is a ValueError, OutOfRange an
// IndexError, PeerClosed a ConnectionError...). Every exception carries the
// C code in `.status` and shiplog_last_error()'s message as its text.
// shiplog/__init__.pyi has the table.
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_ERRORS_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_ERRORS_H_

#include <pybind11/pybind11.h>

#include <string>

#include "shiplog.h"

namespace shiplog::python {

namespace py = pybind11;

// The exception for `status` with `message`, made but not raised.
py::object MakeError(int status, const std::string& message);

// Raises the exception for `status` with `message`: for the checks the
// binding makes itself before a call reaches the C ABI.
[[noreturn]] void ThrowError(int status, const std::string& message);

// Raises the exception for a failed C call's `status`, with
// shiplog_last_error()'s message. Call it on the thread that made the call,
// before any other shiplog call.
[[noreturn]] void ThrowStatus(int status);

inline void Check(int status) {
  if (status != SHIPLOG_OK) ThrowStatus(status);
}

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_ERRORS_H_
