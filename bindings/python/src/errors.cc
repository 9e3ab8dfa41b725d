#include "errors.h"

#include <array>

#include "module.h"

namespace shiplog::python {
namespace {

// One row per exception class: the status it stands for, and the built-in
// exception it also derives from (besides shiplog.Error), if any.
struct ErrorClass {
  const char* name;
  int status;
  PyObject* const* builtin_base;
  const char* doc;
};

const ErrorClass kErrorClasses[] = {
    {"InvalidArgument", SHIPLOG_EINVAL, &PyExc_ValueError,
     "A bad argument: a bad log name, a setting out of range, an offset "
     "that is not a batch boundary."},
    {"NotFound", SHIPLOG_ENOTFOUND, &PyExc_LookupError,
     "No such store, log or record."},
    {"AlreadyExists", SHIPLOG_EEXISTS, nullptr,
     "Something that must not exist does."},
    {"OutOfRange", SHIPLOG_ERANGE, &PyExc_IndexError,
     "An offset before the log's start or past its end."},
    {"CorruptData", SHIPLOG_ECORRUPT, nullptr,
     "Bytes that fail validation: a bad CRC, magic, length or record."},
    {"ReadOnly", SHIPLOG_EREADONLY, nullptr,
     "The store or log is read-only: opened so, or turned so by a failed "
     "fsync (the message gives the original error)."},
    {"Locked", SHIPLOG_ELOCKED, nullptr,
     "Another writer has the store; the message names its pid."},
    {"DiskFull", SHIPLOG_ENOSPC, &PyExc_OSError,
     "The disk is full. Nothing acknowledged was lost; later appends may "
     "succeed once space returns."},
    {"LowDiskSpace", SHIPLOG_ELOWSPACE, &PyExc_OSError,
     "The append would leave less than the store's min_free_bytes free: "
     "refused before the disk is full, nothing written."},
    {"StorageIOError", SHIPLOG_EIO, &PyExc_OSError,
     "An I/O error from the operating system (EIO and the like)."},
    {"PeerClosed", SHIPLOG_EPEERCLOSED, &PyExc_ConnectionError,
     "The peer closed the connection (EPIPE, ECONNRESET)."},
    {"Closed", SHIPLOG_ECLOSED, nullptr, "The store, log or view was closed."},
    {"Unsupported", SHIPLOG_EUNSUPPORTED, nullptr,
     "Valid but not supported here (e.g. decoding a gzip batch), or an "
     "options version the running libshiplog does not know."},
    {"Timeout", SHIPLOG_ETIMEDOUT, &PyExc_TimeoutError,
     "A timeout given to the call ran out."},
};

constexpr size_t kClassCount = std::size(kErrorClasses);

// The classes, made at import and never freed (a static py::object would be
// released after the interpreter is gone).
PyObject* error_base = nullptr;
std::array<PyObject*, kClassCount> error_classes{};

PyObject* NewClass(py::module_& module, const char* name, int status,
                   py::tuple bases, const char* doc) {
  const std::string qualified_name = std::string("shiplog.") + name;
  py::object type = py::reinterpret_steal<py::object>(PyErr_NewExceptionWithDoc(
      qualified_name.c_str(), doc, bases.ptr(), nullptr));
  if (!type) throw py::error_already_set();
  type.attr("status") = status;
  module.attr(name) = type;
  return type.release().ptr();
}

// The class for `status`: its own, MemoryError, or the base.
PyObject* ClassFor(int status) {
  if (status == SHIPLOG_ENOMEM) return PyExc_MemoryError;
  if (status == SHIPLOG_EVERSION) status = SHIPLOG_EUNSUPPORTED;
  for (size_t i = 0; i < kClassCount; ++i) {
    if (kErrorClasses[i].status == status) return error_classes[i];
  }
  return error_base;
}

}  // namespace

void RegisterErrors(py::module_& module) {
  error_base =
      NewClass(module, "Error", SHIPLOG_ERROR,
               py::make_tuple(py::handle(PyExc_Exception)),
               "The base of shiplog's exceptions. `status` is the C ABI's code "
               "(shiplog_status, a negative int).");
  for (size_t i = 0; i < kClassCount; ++i) {
    const ErrorClass& row = kErrorClasses[i];
    py::tuple bases = row.builtin_base == nullptr
                          ? py::make_tuple(py::handle(error_base))
                          : py::make_tuple(py::handle(error_base),
                                           py::handle(*row.builtin_base));
    error_classes[i] = NewClass(module, row.name, row.status, bases, row.doc);
  }
}

py::object MakeError(int status, const std::string& message) {
  // Messages may quote bytes of a caller's name; never fail on them.
  py::object text = py::reinterpret_steal<py::object>(PyUnicode_DecodeUTF8(
      message.data(), static_cast<Py_ssize_t>(message.size()), "replace"));
  if (!text) throw py::error_already_set();
  py::object error = py::handle(ClassFor(status))(text);
  error.attr("status") = status;
  return error;
}

void ThrowError(int status, const std::string& message) {
  py::object error = MakeError(status, message);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())),
                  error.ptr());
  throw py::error_already_set();
}

void ThrowStatus(int status) {
  std::string message = shiplog_last_error();
  if (message.empty()) message = shiplog_status_str(status);
  ThrowError(status, message);
}

}  // namespace shiplog::python
