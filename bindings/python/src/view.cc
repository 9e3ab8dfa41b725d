// shiplog.View: a slice of a log in place, in its segment's read-only
// mapping, exported through the buffer protocol without a copy.
//
// pybind11's def_buffer has no hook for a buffer's release, and a view must
// not unmap while a memoryview of it is alive. So the View type's buffer
// slots are CPython's own (GetBuffer/ReleaseBuffer below), which count the
// exports: close() refuses while any is alive, as mmap.mmap.close() does.
#include <pybind11/pybind11.h>

#include <memory>
#include <utility>

#include "blocking.h"
#include "convert.h"
#include "errors.h"
#include "module.h"
#include "records.h"

namespace shiplog::python {

// Used under the GIL only: none of its C calls blocks.
class View {
 public:
  View(SliceHandle slice, ViewHandle view, const shiplog_slice_info& info,
       int64_t offset)
      : slice_(std::move(slice)),
        view_(std::move(view)),
        info_(info),
        offset_(offset) {
    const void* data = nullptr;
    Check(shiplog_view_data(&data, &size_, view_.get()));
    // Empty views may have no address; a buffer needs one.
    data_ = data != nullptr ? data : &size_;
  }

  const shiplog_slice_info& info() const { return info_; }
  bool closed() const { return view_ == nullptr; }

  // Unmaps now; BufferError while a memoryview of it is alive.
  void Close() {
    if (exports_ > 0) {
      throw py::buffer_error(
          "cannot close a View while memoryviews of it exist: release them "
          "first");
    }
    view_.reset();
    slice_.reset();
  }

  std::unique_ptr<Records> DecodeRecords() const {
    CheckOpen();
    return Records::FromSlice(slice_.get(), offset_);
  }

  static int GetBuffer(PyObject* self, Py_buffer* buffer, int flags) {
    buffer->obj = nullptr;
    try {
      View& view = py::handle(self).cast<View&>();
      view.CheckOpen();
      if (PyBuffer_FillInfo(buffer, self, const_cast<void*>(view.data_),
                            static_cast<Py_ssize_t>(view.size_),
                            /*readonly=*/1, flags) != 0) {
        return -1;  // e.g. a writable buffer asked for: BufferError
      }
      buffer->internal = &view;  // for ReleaseBuffer
      ++view.exports_;
      return 0;
    } catch (py::error_already_set& error) {
      error.restore();
    } catch (const std::exception& error) {
      PyErr_SetString(PyExc_BufferError, error.what());
    }
    return -1;
  }

  static void ReleaseBuffer(PyObject*, Py_buffer* buffer) {
    --static_cast<View*>(buffer->internal)->exports_;
  }

 private:
  void CheckOpen() const {
    if (closed()) ThrowError(SHIPLOG_ECLOSED, "the view was closed");
  }

  SliceHandle slice_;
  ViewHandle view_;  // declared after slice_: freed before it
  shiplog_slice_info info_;
  int64_t offset_;  // the offset asked for: where records() starts
  const void* data_ = nullptr;
  size_t size_ = 0;
  Py_ssize_t exports_ = 0;
};

namespace {

std::unique_ptr<View> OpenView(const Log& log, py::handle offset,
                               py::handle max_bytes) {
  const int64_t start = log.OffsetOrStart(offset);
  const uint64_t limit = ToLimit(max_bytes, "max_bytes");
  SliceHandle slice;
  shiplog_slice_info info{};
  CheckBlocking([&] { return log.Read(start, limit, &slice, &info); });
  shiplog_view* view = nullptr;
  CheckBlocking([&] { return shiplog_view_open(&view, slice.get()); });
  return std::make_unique<View>(std::move(slice), ViewHandle(view), info,
                                start);
}

}  // namespace

void RegisterView(py::module_& module, LogClass& log) {
  py::class_<View> view(module, "View", py::buffer_protocol(), py::is_final(),
                        R"doc(
A slice of a log (whole batches of one segment, Kafka RecordBatch v2 bytes)
in place, through the segment's read-only mapping: memoryview(view) and
bytes(view) see it without a copy; writing raises. It stays valid while it
is open, even after retention deletes the segment or truncation cuts it.
close() (or leaving a `with` block) unmaps it; release memoryviews first.
)doc");
  auto* type = reinterpret_cast<PyHeapTypeObject*>(view.ptr());
  type->as_buffer.bf_getbuffer = &View::GetBuffer;
  type->as_buffer.bf_releasebuffer = &View::ReleaseBuffer;
  view.def_property_readonly(
          "first_offset",
          [](const View& self) { return self.info().first_offset; },
          "The base offset of the first batch (at or before the offset "
          "asked for).")
      .def_property_readonly(
          "next_offset",
          [](const View& self) { return self.info().next_offset; },
          "The offset after the last batch: where the next view starts.")
      .def_property_readonly(
          "position", [](const View& self) { return self.info().position; },
          "Where the bytes start in the segment file.")
      .def("__len__", [](const View& self) { return self.info().size; })
      .def_property_readonly("closed", &View::closed)
      .def("records", &View::DecodeRecords,
           "The view's records from the offset it was asked for, decoded.")
      .def("close", &View::Close)
      .def("__enter__", [](py::handle self) { return self; })
      .def("__exit__", [](View& self, py::args) { self.Close(); });

  log.def("view", &OpenView, py::arg("offset") = py::none(),
          py::arg("max_bytes") = 1 << 20, R"doc(
The batches from the one holding `offset` (None: the log's start), at most
max_bytes (but at least one batch; None: no limit), within one segment, as a
View. Empty at the log's end; OutOfRange outside the log.
)doc");
}

}  // namespace shiplog::python
