#include "records.h"

#include <algorithm>
#include <utility>

#include "blocking.h"
#include "convert.h"
#include "errors.h"
#include "module.h"

namespace shiplog::python {
namespace {

py::tuple Headers(const shiplog_record& record) {
  py::tuple headers(record.header_count);
  for (size_t i = 0; i < record.header_count; ++i) {
    const shiplog_header& header = record.headers[i];
    headers[i] = py::make_tuple(BytesOrNone(header.key, header.key_len),
                                BytesOrNone(header.value, header.value_len));
  }
  return headers;
}

py::tuple Fields(const Record& record) {
  return py::make_tuple(record.offset, record.timestamp, record.key,
                        record.value, record.headers);
}

}  // namespace

std::unique_ptr<Records> Records::FromLog(py::object log_object, int64_t offset,
                                          uint64_t max_bytes,
                                          uint64_t max_records) {
  std::unique_ptr<Records> records(new Records());
  records->log_ = &log_object.cast<const Log&>();
  records->log_object_ = std::move(log_object);
  records->next_offset_ = offset;
  records->min_offset_ = offset;
  records->end_offset_ = records->log_->end_offset();
  records->bytes_left_ = max_bytes;
  records->records_left_ = max_records;
  // The first slice now, so that an offset outside the log raises here.
  const int status = Blocking([&] { return records->LoadSlice(); });
  if (status != SHIPLOG_ITEROVER) Check(status);
  return records;
}

std::unique_ptr<Records> Records::FromSlice(const shiplog_slice* slice,
                                            int64_t min_offset) {
  std::unique_ptr<Records> records(new Records());
  shiplog_records* handle = nullptr;
  Check(shiplog_records_open(&handle, slice, min_offset));
  records->records_.reset(handle);
  return records;
}

int Records::LoadSlice() {
  if (log_ == nullptr) return SHIPLOG_ITEROVER;
  if (read_a_slice_ && (next_offset_ >= end_offset_ || bytes_left_ == 0)) {
    return SHIPLOG_ITEROVER;
  }
  SliceHandle slice;
  shiplog_slice_info info{};
  int status = log_->Read(next_offset_, std::min(bytes_left_, kReadChunkBytes),
                          &slice, &info);
  if (status != SHIPLOG_OK) return status;
  if (info.size == 0) return SHIPLOG_ITEROVER;  // the log's end
  // Only the first slice may pass max_bytes (to hold one whole batch).
  if (read_a_slice_ && info.size > bytes_left_) return SHIPLOG_ITEROVER;
  bytes_left_ -= std::min(bytes_left_, info.size);
  read_a_slice_ = true;
  next_offset_ = info.next_offset;
  shiplog_records* records = nullptr;
  status = shiplog_records_open(&records, slice.get(), min_offset_);
  records_.reset(records);
  return status;
}

int Records::Advance(shiplog_record* out) {
  if (records_left_ == 0) return SHIPLOG_ITEROVER;
  while (true) {
    if (records_ != nullptr) {
      const int status = shiplog_records_next(out, records_.get());
      if (status != SHIPLOG_ITEROVER) return status;
      records_.reset();  // lets go of the slice's segment
    }
    const int status = LoadSlice();
    if (status != SHIPLOG_OK) return status;
  }
}

Record Records::Next() {
  std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
  shiplog_record record{};
  // The lock is taken without the GIL (so a thread waiting for it never
  // holds the GIL) and kept until the record is copied out.
  const int status = Blocking([&] {
    lock.lock();
    return Advance(&record);
  });
  if (status == SHIPLOG_ITEROVER) throw py::stop_iteration();
  Check(status);
  --records_left_;
  return Record{record.offset, record.timestamp_ms,
                BytesOrNone(record.key, record.key_len),
                BytesOrNone(record.value, record.value_len), Headers(record)};
}

void RegisterRecords(py::module_& module, LogClass& log) {
  py::class_<Record> record(module, "Record", R"doc(
One record, immutable: offset and timestamp (ms since the epoch) are ints,
key and value bytes or None (Kafka's null), headers a tuple of (key, value)
pairs of bytes (a value may be None). Compares, hashes and pickles by value.
)doc");
  record
      .def(py::init([](int64_t offset, int64_t timestamp, py::object key,
                       py::object value, py::iterable headers) {
             return Record{offset, timestamp, std::move(key), std::move(value),
                           py::tuple(headers)};
           }),
           py::arg("offset"), py::arg("timestamp"), py::arg("key"),
           py::arg("value"), py::arg("headers") = py::tuple())
      .def_readonly("offset", &Record::offset)
      .def_readonly("timestamp", &Record::timestamp)
      .def_readonly("key", &Record::key)
      .def_readonly("value", &Record::value)
      .def_readonly("headers", &Record::headers)
      .def("__eq__",
           [](const Record& self, py::handle other) -> py::object {
             if (!py::isinstance<Record>(other))
               return py::reinterpret_borrow<py::object>(Py_NotImplemented);
             return py::bool_(
                 Fields(self).equal(Fields(other.cast<const Record&>())));
           })
      .def("__hash__",
           [](const Record& self) { return py::hash(Fields(self)); })
      .def("__reduce__",
           [](py::handle self) {
             return py::make_tuple(py::type::handle_of(self),
                                   Fields(self.cast<const Record&>()));
           })
      .def("__repr__", [](const Record& self) {
        return py::str(
                   "Record(offset={!r}, timestamp={!r}, key={!r}, value={!r}, "
                   "headers={!r})")
            .format(self.offset, self.timestamp, self.key, self.value,
                    self.headers);
      });

  record.attr("__match_args__") =
      py::make_tuple("offset", "timestamp", "key", "value", "headers");

  py::class_<Records>(module, "Records",
                      "An iterator over decoded records (Log.read, "
                      "View.records).")
      .def("__iter__", [](py::handle self) { return self; })
      .def("__next__", &Records::Next);

  log.def(
      "read",
      [](py::object self, py::handle offset, py::handle max_bytes,
         py::handle max_records) {
        const int64_t start = self.cast<const Log&>().OffsetOrStart(offset);
        return Records::FromLog(std::move(self), start,
                                ToLimit(max_bytes, "max_bytes"),
                                ToLimit(max_records, "max_records"));
      },
      py::arg("offset") = py::none(), py::arg("max_bytes") = 1 << 20,
      py::kw_only(), py::arg("max_records") = py::none(), R"doc(
The records from `offset` (None: the log's start; an offset inside a batch
starts there, not at the batch) to the log's end as of this call, within
max_bytes of batches (at least one batch; None: no limit) and max_records
records (None: no limit). Decoded as iterated, a slice of up to 1 MiB at a
time, across segments. OutOfRange for an offset outside the log.
)doc");
}

}  // namespace shiplog::python
