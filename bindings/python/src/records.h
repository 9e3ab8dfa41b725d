// Decoded records: shiplog.Record, and shiplog.Records, the iterator that
// Log.read and View.records return.
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_RECORDS_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_RECORDS_H_

#include <pybind11/pybind11.h>

#include <cstdint>
#include <memory>
#include <mutex>

#include "handles.h"

namespace shiplog::python {

namespace py = pybind11;

// One record as Python sees it: immutable; bytes or None for the key and
// value, a tuple of (bytes, bytes or None) pairs for the headers.
struct Record {
  int64_t offset;
  int64_t timestamp;
  py::object key;
  py::object value;
  py::object headers;
};

class Log;

// An iterator over the records of a range of a log, decoded (copied into
// process memory) one slice at a time. Reading from a log, it reads the
// range in slices of at most kReadChunkBytes, so memory stays bounded
// however large the range. Calls that read files run without the GIL; a
// mutex keeps the iterator to one thread at a time, as the C ABI asks.
class Records {
 public:
  static constexpr uint64_t kReadChunkBytes = 1 << 20;

  // The records of `log` (a Log) from `offset` up to its end as of now,
  // within `max_bytes` of batches (but at least one batch) and
  // `max_records` records. Raises OutOfRange for an
  // offset outside the log.
  static std::unique_ptr<Records> FromLog(py::object log, int64_t offset,
                                          uint64_t max_bytes,
                                          uint64_t max_records);

  // The records of `slice` from `min_offset` on.
  static std::unique_ptr<Records> FromSlice(const shiplog_slice* slice,
                                            int64_t min_offset);

  // The next Record; raises StopIteration after the last.
  Record Next();

 private:
  Records() = default;

  // The next record into `out`, moving on to the next slice as needed: a
  // status, SHIPLOG_ITEROVER after the last. Runs without the GIL.
  int Advance(shiplog_record* out);
  // Reads the next slice of the log into `records_`: a status,
  // SHIPLOG_ITEROVER when the range is done. Runs without the GIL.
  int LoadSlice();

  std::mutex mu_;
  // Reading from a log (null for a single slice): the Log object, kept
  // alive.
  py::object log_object_;
  const Log* log_ = nullptr;
  RecordsHandle records_;  // the slice being decoded
  int64_t next_offset_ = 0;
  int64_t min_offset_ = 0;
  int64_t end_offset_ = 0;
  uint64_t bytes_left_ = UINT64_MAX;
  uint64_t records_left_ = UINT64_MAX;
  bool read_a_slice_ = false;
};

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_RECORDS_H_
