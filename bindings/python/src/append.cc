// Log.append, append_many and append_batches: Python records gathered into
// the C ABI's shiplog_record array, then appended without the GIL.
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "blocking.h"
#include "convert.h"
#include "errors.h"
#include "module.h"
#include "records.h"

namespace shiplog::python {
namespace {

// Records to append as one batch. The memory they point to is lent by the
// Python objects (ByteString) for as long as this lives.
class PendingRecords {
 public:
  // `value` and `key`: bytes-like, str (UTF-8) or None (null); `headers`:
  // None, a dict, or an iterable of (key, value) pairs; `timestamp`: ms
  // since the epoch, or None for now.
  void Add(py::handle value, py::handle key, py::handle headers,
           py::handle timestamp) {
    shiplog_record& record = records_.emplace_back();
    Lend(value, "value", &record.value, &record.value_len);
    Lend(key, "key", &record.key, &record.key_len);
    record.timestamp_ms = timestamp.is_none() ? SHIPLOG_NO_TIMESTAMP
                                              : ToInt64(timestamp, "timestamp");
    first_header_.push_back(headers_.size());
    if (!headers.is_none()) AddHeaders(headers);
    record.header_count = headers_.size() - first_header_.back();
  }

  // One record of append_many: a Record, a value, a (value,) or (key,
  // value) tuple, or a dict with any of the keys value, key, headers and
  // timestamp.
  void AddItem(py::handle item) {
    if (py::isinstance<Record>(item)) {
      const Record& record = item.cast<const Record&>();
      Add(record.value, record.key, record.headers, py::int_(record.timestamp));
    } else if (py::isinstance<py::tuple>(item)) {
      py::tuple tuple = py::reinterpret_borrow<py::tuple>(item);
      if (tuple.size() == 1) {
        Add(tuple[0], py::none(), py::none(), py::none());
      } else if (tuple.size() == 2) {
        Add(tuple[1], tuple[0], py::none(), py::none());
      } else {
        throw py::type_error(
            "a record tuple is (value,) or (key, value), not " +
            std::to_string(tuple.size()) + " items");
      }
    } else if (py::isinstance<py::dict>(item)) {
      AddDict(py::reinterpret_borrow<py::dict>(item));
    } else {
      Add(item, py::none(), py::none(), py::none());
    }
  }

  // The records, pointing into memory that lives as long as this.
  const shiplog_record* records() {
    for (size_t i = 0; i < records_.size(); ++i) {
      records_[i].headers =
          records_[i].header_count == 0 ? nullptr : &headers_[first_header_[i]];
    }
    return records_.data();
  }
  size_t size() const { return records_.size(); }

 private:
  void Lend(py::handle object, const char* what, const void** data,
            size_t* size) {
    const ByteString& bytes =
        lent_.emplace_back(ByteString::From(object, what));
    *data = bytes.data();
    *size = bytes.size();
  }

  void AddHeaders(py::handle headers) {
    py::object pairs = py::isinstance<py::dict>(headers)
                           ? headers.attr("items")()
                           : py::reinterpret_borrow<py::object>(headers);
    if (py::isinstance<py::str>(headers) ||
        !py::isinstance<py::iterable>(pairs)) {
      throw py::type_error(
          "headers must be a dict or an iterable of (key, value) pairs");
    }
    for (py::handle pair : pairs) {
      if (!(py::isinstance<py::tuple>(pair) ||
            py::isinstance<py::list>(pair)) ||
          py::len(pair) != 2) {
        throw py::type_error("a header must be a (key, value) pair");
      }
      py::sequence key_value = py::reinterpret_borrow<py::sequence>(pair);
      if (key_value[0].is_none()) {
        throw py::type_error("a header's key must be bytes or str, not None");
      }
      shiplog_header& header = headers_.emplace_back();
      Lend(key_value[0], "a header's key", &header.key, &header.key_len);
      Lend(key_value[1], "a header's value", &header.value, &header.value_len);
    }
  }

  void AddDict(const py::dict& fields) {
    for (const auto& [name, field] : fields) {
      const std::string key = py::str(name);
      if (key != "value" && key != "key" && key != "headers" &&
          key != "timestamp") {
        throw py::type_error(
            "a record dict has the keys value, key, headers "
            "and timestamp, not '" +
            key + "'");
      }
    }
    Add(fields.attr("get")("value"), fields.attr("get")("key"),
        fields.attr("get")("headers"), fields.attr("get")("timestamp"));
  }

  std::vector<ByteString> lent_;
  std::vector<shiplog_record> records_;
  std::vector<shiplog_header> headers_;
  std::vector<size_t> first_header_;  // per record, into headers_
};

shiplog_append_options AppendOptions(py::handle compression) {
  shiplog_append_options options = SHIPLOG_APPEND_OPTIONS_INIT;
  if (compression.is_none()) return options;
  if (py::isinstance<py::str>(compression) &&
      compression.cast<std::string>() == "zstd") {
    options.compression = SHIPLOG_COMPRESSION_ZSTD;
    return options;
  }
  ThrowError(SHIPLOG_EINVAL, "compression must be None or 'zstd', not " +
                                 std::string(py::repr(compression)));
}

shiplog_append_result Append(Log& log, PendingRecords& pending,
                             py::handle compression) {
  const shiplog_append_options options = AppendOptions(compression);
  const shiplog_record* records = pending.records();
  shiplog_append_result result{};
  CheckBlocking([&] {
    return shiplog_log_append(&result, log.get(), records, pending.size(),
                              &options);
  });
  return result;
}

py::tuple OffsetRange(const shiplog_append_result& result) {
  return py::make_tuple(result.base_offset, result.last_offset);
}

py::tuple AppendBatches(Log& log, py::handle batches) {
  HeldBuffer buffer = GetBuffer(batches, "batches");
  // The log writes its offsets into the batches: in place when the buffer
  // is writable, else into a copy.
  std::string copy;
  char* data = static_cast<char*>(buffer->buf);
  if (buffer->readonly) {
    copy.assign(data, static_cast<size_t>(buffer->len));
    data = copy.data();
  }
  const size_t size = static_cast<size_t>(buffer->len);
  shiplog_append_result result{};
  CheckBlocking([&] {
    return shiplog_log_append_batches(&result, log.get(), data, size);
  });
  return OffsetRange(result);
}

}  // namespace

void BindAppends(LogClass& log) {
  log.def(
         "append",
         [](Log& self, py::handle value, py::handle key, py::handle headers,
            py::handle timestamp, py::handle compression) {
           PendingRecords pending;
           pending.Add(value, key, headers, timestamp);
           return Append(self, pending, compression).base_offset;
         },
         py::arg("value"), py::arg("key") = py::none(),
         py::arg("headers") = py::none(), py::arg("timestamp") = py::none(),
         py::kw_only(), py::arg("compression") = py::none(), R"doc(
Appends one record; returns its offset. `value` and `key` are bytes-like
objects, str (stored as UTF-8) or None (Kafka's null). `headers` is a dict or
an iterable of (key, value) pairs (keys str or bytes, values bytes, str or
None). `timestamp` is in ms since the epoch; None stamps it now.
`compression` is None or 'zstd'.
)doc")
      .def(
          "append_many",
          [](Log& self, py::iterable records, py::handle compression) {
            PendingRecords pending;
            for (py::handle item : records) pending.AddItem(item);
            return OffsetRange(Append(self, pending, compression));
          },
          py::arg("records"), py::kw_only(),
          py::arg("compression") = py::none(), R"doc(
Appends records as one batch; returns (first_offset, last_offset). Each
record is a Record, a value, a (value,) or (key, value) tuple, or a dict with
any of the keys value, key, headers and timestamp. InvalidArgument if there
are none.
)doc")
      .def("append_batches", &AppendBatches, py::arg("batches"), R"doc(
Appends ready-made Kafka RecordBatch v2 batches, back to back in a bytes-like
object; returns (first_offset, last_offset). Every batch is validated first
(CorruptData and nothing written if any fails). The log's offsets are written
into the batches in place when the buffer is writable (a bytearray, a
writable memoryview); a read-only one (bytes) is copied first and left as it
was.
)doc");
}

}  // namespace shiplog::python
