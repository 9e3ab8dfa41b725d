// Values crossing the binding: Python arguments lent to C calls (integers,
// byte strings, buffers) and C byte strings handed back to Python.
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_CONVERT_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_CONVERT_H_

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace shiplog::python {

namespace py = pybind11;

// A path (str, bytes or os.PathLike) in the file system's encoding.
std::string FileSystemPath(py::handle path);

// `object` as an int64_t: an int, or anything with __index__. Raises
// TypeError for anything else (`what` names the argument) and OverflowError
// outside int64_t.
int64_t ToInt64(py::handle object, const char* what);

// What None means for a limit such as max_bytes: INT64_MAX, not
// UINT64_MAX, which libshiplog 1.0.0 adds to a file position unchecked (so
// it wraps, and a read or send of UINT64_MAX bytes comes back empty).
constexpr uint64_t kNoLimit = INT64_MAX;

// A limit such as max_bytes: a non-negative int, or None for kNoLimit.
// Raises InvalidArgument for a negative one.
uint64_t ToLimit(py::handle object, const char* what);

struct BufferRelease {
  void operator()(Py_buffer* buffer) const;
};
// A buffer exported by a Python object, released (under the GIL) when it
// goes. While it is held the exporter cannot resize the memory.
using HeldBuffer = std::unique_ptr<Py_buffer, BufferRelease>;

// `object`'s buffer as one contiguous block (writable if the exporter allows
// it: check ->readonly). Raises TypeError if `object` has no buffer, and the
// exporter's error if it cannot give a contiguous one. `what` names the
// argument in the message.
HeldBuffer GetBuffer(py::handle object, const char* what);

// A byte string lent by a Python argument for the length of a C call: a
// bytes-like object's buffer, a str's UTF-8 encoding, or None (a null
// pointer, Kafka's null; an empty argument is a non-null pointer). The
// memory stays valid and unmoved while this lives, also with the GIL
// released; destroy it with the GIL held.
class ByteString {
 public:
  // Raises TypeError for anything else; `what` names the argument.
  static ByteString From(py::handle object, const char* what);

  const void* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  ByteString() = default;

  py::object owner_;   // a bytes or str object
  HeldBuffer buffer_;  // or another exporter's buffer
  const void* data_ = nullptr;
  size_t size_ = 0;
};

// bytes holding a copy of (data, size), or None for a null pointer.
py::object BytesOrNone(const void* data, size_t size);

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_CONVERT_H_
