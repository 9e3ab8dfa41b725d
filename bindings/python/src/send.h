// How bytes went out: the send paths by name, for send results and
// metrics.
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_SEND_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_SEND_H_

#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>

namespace shiplog::python {

namespace py = pybind11;

// {"sendfile": ..., "splice": ..., "mmap_write": ..., "copy": ...,
// "direct_read": ...} from the first `paths` entries of an array indexed by
// shiplog_send_path (metrics values have four).
py::dict BySendPath(const uint64_t* counts, size_t paths);

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_SEND_H_
