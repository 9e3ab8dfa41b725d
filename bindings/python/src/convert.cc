#include "convert.h"

#include <string>

#include "errors.h"

namespace shiplog::python {
namespace {

// A non-null pointer for empty byte strings whose exporter gives none: in
// the C ABI a null pointer means null, not empty.
constexpr char kEmpty[1] = {0};

std::string TypeName(py::handle object) {
  return py::str(py::type::handle_of(object).attr("__name__"));
}

}  // namespace

std::string FileSystemPath(py::handle path) {
  py::object encoded;
  if (!PyUnicode_FSConverter(path.ptr(), &encoded.ptr())) {
    throw py::error_already_set();
  }
  return py::bytes(encoded);
}

int64_t ToInt64(py::handle object, const char* what) {
  py::object index =
      py::reinterpret_steal<py::object>(PyNumber_Index(object.ptr()));
  if (!index) {
    PyErr_Clear();
    throw py::type_error(std::string(what) + " must be an int, not " +
                         TypeName(object));
  }
  const long long value = PyLong_AsLongLong(index.ptr());
  if (value == -1 && PyErr_Occurred()) throw py::error_already_set();
  return value;
}

uint64_t ToLimit(py::handle object, const char* what) {
  if (object.is_none()) return kNoLimit;
  const int64_t limit = ToInt64(object, what);
  if (limit < 0) {
    ThrowError(SHIPLOG_EINVAL, std::string(what) +
                                   " must be >= 0 or None, not " +
                                   std::to_string(limit));
  }
  return static_cast<uint64_t>(limit);
}

void BufferRelease::operator()(Py_buffer* buffer) const {
  PyBuffer_Release(buffer);
  delete buffer;
}

HeldBuffer GetBuffer(py::handle object, const char* what) {
  if (!PyObject_CheckBuffer(object.ptr())) {
    throw py::type_error(std::string(what) +
                         " must be a bytes-like object, not " +
                         TypeName(object));
  }
  auto buffer = std::make_unique<Py_buffer>();
  if (PyObject_GetBuffer(object.ptr(), buffer.get(), PyBUF_SIMPLE) != 0) {
    throw py::error_already_set();
  }
  return HeldBuffer(buffer.release());
}

ByteString ByteString::From(py::handle object, const char* what) {
  ByteString bytes;
  if (object.is_none()) return bytes;
  if (PyBytes_Check(object.ptr())) {
    bytes.owner_ = py::reinterpret_borrow<py::object>(object);
    bytes.data_ = PyBytes_AS_STRING(object.ptr());
    bytes.size_ = static_cast<size_t>(PyBytes_GET_SIZE(object.ptr()));
  } else if (PyUnicode_Check(object.ptr())) {
    Py_ssize_t size = 0;
    // The UTF-8 form is cached in the str object, which owner_ keeps.
    const char* utf8 = PyUnicode_AsUTF8AndSize(object.ptr(), &size);
    if (utf8 == nullptr) throw py::error_already_set();
    bytes.owner_ = py::reinterpret_borrow<py::object>(object);
    bytes.data_ = utf8;
    bytes.size_ = static_cast<size_t>(size);
  } else if (PyObject_CheckBuffer(object.ptr())) {
    bytes.buffer_ = GetBuffer(object, what);
    bytes.data_ = bytes.buffer_->buf;
    bytes.size_ = static_cast<size_t>(bytes.buffer_->len);
  } else {
    throw py::type_error(std::string(what) +
                         " must be bytes, a bytes-like object, str or None, "
                         "not " +
                         TypeName(object));
  }
  if (bytes.data_ == nullptr) bytes.data_ = kEmpty;
  return bytes;
}

py::object BytesOrNone(const void* data, size_t size) {
  if (data == nullptr) return py::none();
  return py::bytes(static_cast<const char*>(data), size);
}

}  // namespace shiplog::python
