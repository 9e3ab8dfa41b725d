// How bytes went out: the send paths by name, for send results and
// metrics.
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_SEND_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_SEND_H_

#include <pybind11/pybind11.h>

#include <cstdint>

namespace shiplog::python {

namespace py = pybind11;

// {"sendfile": ..., "splice": ..., "mmap_write": ..., "copy": ...} from an
// array indexed by shiplog_send_path.
py::dict BySendPath(const uint64_t (&counts)[4]);

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_SEND_H_
