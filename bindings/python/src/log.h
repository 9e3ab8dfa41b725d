// shiplog.Log: one log of a store, opened through the C ABI.
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_LOG_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_LOG_H_

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "handles.h"
#include "store.h"

namespace shiplog::python {

namespace py = pybind11;

// An open log; owns its C handle (which any number of threads may use at
// once) and keeps its Store's Python object, so the store is freed after
// every log opened from it.
class Log {
 public:
  Log(py::object store, LogHandle handle, std::string name);

  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  shiplog_log* get() const { return handle_.get(); }
  const std::string& name() const { return name_; }
  const py::object& store() const { return store_; }

  int64_t start_offset() const;
  int64_t end_offset() const;

  // `offset`, or the log's start offset for None.
  int64_t OffsetOrStart(py::handle offset) const;

  // shiplog_log_read and shiplog_slice_info_get: the batches from the one
  // holding `offset`, within one segment, at most `max_bytes` (but at least
  // one batch). Returns a status; touches no Python object, so it may run
  // without the GIL.
  int Read(int64_t offset, uint64_t max_bytes, SliceHandle* slice,
           shiplog_slice_info* info) const;

 private:
  py::object store_;
  LogHandle handle_;
  std::string name_;
};

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_LOG_H_
