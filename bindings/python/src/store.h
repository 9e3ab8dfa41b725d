// shiplog.Store: a directory of logs, opened through the C ABI.
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_STORE_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_STORE_H_

#include <pybind11/pybind11.h>

#include <string>

#include "handles.h"

namespace shiplog::python {

namespace py = pybind11;

// An open store; owns its C handle. The handle may be used from any thread
// (the C ABI's contract); `closed_` is read and written under the GIL.
class Store {
 public:
  Store(StoreHandle handle, std::string path, bool read_only);
  // Frees the handle, which closes the store if it is still open; the GIL
  // is released meanwhile (a close flushes every log).
  ~Store();

  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  shiplog_store* get() const { return handle_.get(); }
  const std::string& path() const { return path_; }
  bool read_only() const { return read_only_; }
  bool closed() const { return closed_; }

  // Clean shutdown (shiplog_store_close); closing twice is fine.
  void Close();

 private:
  StoreHandle handle_;
  std::string path_;
  bool read_only_;
  bool closed_ = false;
};

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_STORE_H_
