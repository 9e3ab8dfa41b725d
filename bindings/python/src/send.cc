// Log.send and Log.sender: ranges of a log shipped to a descriptor (a
// socket, pipe or file) by the C ABI's sendfile, mmap+write or copy paths;
// the bytes never pass through Python objects.
#include "send.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "blocking.h"
#include "convert.h"
#include "errors.h"
#include "module.h"

namespace shiplog::python {

// A shiplog_send_result for Python.
struct SendResult {
  shiplog_send_result result;
};

// A resumable send for event loops. send() runs without the GIL; a mutex
// keeps the C sender to one thread at a time, as the C ABI asks, and what
// Python reads (done_, progress_) is written with both held.
class Sender {
 public:
  Sender(SenderHandle handle, py::object destination)
      : handle_(std::move(handle)), destination_(std::move(destination)) {
    Check(shiplog_sender_size(&size_, handle_.get()));
  }

  uint64_t size() const { return size_; }
  bool done() const { return done_; }
  std::optional<SendResult> result() const { return progress_; }

  // Sends what the descriptor takes now: true once the whole range is
  // sent, false when the descriptor is full (call again once writable).
  bool Send() {
    std::unique_lock<std::mutex> lock(mu_, std::defer_lock);
    shiplog_send_result progress{};
    const int status = Blocking([&] {
      lock.lock();
      return done_ ? SHIPLOG_OK : shiplog_sender_send(&progress, handle_.get());
    });
    if (done_) return true;
    progress_ = SendResult{progress};
    if (status == SHIPLOG_EAGAIN) return false;
    Check(status);
    done_ = true;
    handle_.reset();  // lets go of the range's segments
    return true;
  }

 private:
  std::mutex mu_;
  SenderHandle handle_;
  py::object destination_;  // kept alive (so open) while the sender is
  uint64_t size_ = 0;
  bool done_ = false;
  std::optional<SendResult> progress_;
};

namespace {

struct Policy {
  const char* name;
  int policy;
};

constexpr Policy kPolicies[] = {
    {"auto", SHIPLOG_SEND_AUTO},
    {"sendfile", SHIPLOG_SEND_SENDFILE},
    {"mmap_write", SHIPLOG_SEND_MMAP_WRITE},
    {"copy", SHIPLOG_SEND_COPY},
};

// Indexed by shiplog_send_path.
constexpr const char* kPathNames[] = {"sendfile", "splice", "mmap_write",
                                      "copy", "direct_read"};
static_assert(SHIPLOG_PATH_SENDFILE == 0 && SHIPLOG_PATH_SPLICE == 1 &&
              SHIPLOG_PATH_MMAP_WRITE == 2 && SHIPLOG_PATH_COPY == 3 &&
              SHIPLOG_PATH_DIRECT_READ == 4);

int PolicyNamed(const std::string& name) {
  for (const Policy& policy : kPolicies) {
    if (name == policy.name) return policy.policy;
  }
  ThrowError(SHIPLOG_EINVAL,
             "policy must be 'auto', 'sendfile', 'mmap_write' or 'copy', not "
             "'" +
                 name + "'");
}

// `timeout` in seconds (None: wait forever) as the C ABI's timeout_ms.
int64_t TimeoutMs(py::handle timeout) {
  if (timeout.is_none()) return -1;
  const double seconds = PyFloat_AsDouble(timeout.ptr());
  if (seconds == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  if (!(seconds >= 0)) {
    ThrowError(SHIPLOG_EINVAL, "timeout must be >= 0 seconds or None, not " +
                                   std::string(py::repr(timeout)));
  }
  return static_cast<int64_t>(std::ceil(seconds * 1000));
}

shiplog_send_options SendOptions(const std::string& policy,
                                 py::handle mmap_threshold_bytes,
                                 py::handle timeout,
                                 uint64_t cold_read_lag_bytes) {
  shiplog_send_options options = SHIPLOG_SEND_OPTIONS_INIT;
  options.policy = PolicyNamed(policy);
  options.cold_read_lag_bytes = cold_read_lag_bytes;
  if (!mmap_threshold_bytes.is_none()) {
    options.mmap_threshold_bytes =
        ToLimit(mmap_threshold_bytes, "mmap_threshold_bytes");
  }
  options.timeout_ms = TimeoutMs(timeout);
  return options;
}

// A socket (anything with fileno()) or a descriptor number.
int Descriptor(py::handle destination) {
  const int fd = PyObject_AsFileDescriptor(destination.ptr());
  if (fd < 0) throw py::error_already_set();
  return fd;
}

SendResult Send(const Log& log, py::handle destination, py::handle offset,
                py::handle max_bytes, const std::string& policy,
                py::handle timeout, py::handle mmap_threshold_bytes,
                uint64_t cold_read_lag_bytes) {
  const int fd = Descriptor(destination);
  const int64_t start = log.OffsetOrStart(offset);
  const uint64_t limit = ToLimit(max_bytes, "max_bytes");
  const shiplog_send_options options = SendOptions(
      policy, mmap_threshold_bytes, timeout, cold_read_lag_bytes);
  SendResult sent{};
  CheckBlocking([&] {
    return shiplog_log_send(&sent.result, log.get(), start, limit, fd,
                            &options);
  });
  return sent;
}

std::unique_ptr<Sender> OpenSender(const Log& log, py::object destination,
                                   py::handle offset, py::handle max_bytes,
                                   const std::string& policy,
                                   py::handle mmap_threshold_bytes,
                                   uint64_t cold_read_lag_bytes) {
  const int fd = Descriptor(destination);
  const int64_t start = log.OffsetOrStart(offset);
  const uint64_t limit = ToLimit(max_bytes, "max_bytes");
  const shiplog_send_options options = SendOptions(
      policy, mmap_threshold_bytes, py::none(), cold_read_lag_bytes);
  shiplog_sender* sender = nullptr;
  CheckBlocking([&] {
    return shiplog_sender_open(&sender, log.get(), start, limit, fd, &options);
  });
  return std::make_unique<Sender>(SenderHandle(sender), std::move(destination));
}

}  // namespace

py::dict BySendPath(const uint64_t* counts, size_t paths) {
  py::dict by_path;
  for (size_t i = 0; i < std::min(paths, std::size(kPathNames)); ++i) {
    by_path[kPathNames[i]] = counts[i];
  }
  return by_path;
}

void RegisterSend(py::module_& module, LogClass& log) {
  py::class_<SendResult>(module, "SendResult", "What a send shipped, and how.")
      .def_property_readonly(
          "bytes_sent",
          [](const SendResult& self) { return self.result.bytes_sent; })
      .def_property_readonly(
          "first_offset",
          [](const SendResult& self) { return self.result.first_offset; },
          "The base offset of the range's first batch (at or before the "
          "offset asked for).")
      .def_property_readonly(
          "next_offset",
          [](const SendResult& self) { return self.result.next_offset; },
          "The offset after the last batch sent: where the next range "
          "starts.")
      .def_property_readonly(
          "bytes_by_path",
          [](const SendResult& self) {
            return BySendPath(self.result.bytes_by_path,
                              std::size(self.result.bytes_by_path));
          },
          "Bytes by the way they went: sendfile, splice, mmap_write, copy, "
          "direct_read.")
      .def("__repr__", [](const SendResult& self) {
        return py::str(
                   "SendResult(bytes_sent={}, first_offset={}, "
                   "next_offset={}, bytes_by_path={!r})")
            .format(self.result.bytes_sent, self.result.first_offset,
                    self.result.next_offset,
                    BySendPath(self.result.bytes_by_path,
                               std::size(self.result.bytes_by_path)));
      });

  py::class_<Sender>(module, "Sender", R"doc(
A resumable send of a range resolved when it was made (Log.sender), for
non-blocking sockets and event loops (selectors, asyncio): call send() each
time the socket is writable until it returns True.
)doc")
      .def_property_readonly("size", &Sender::size,
                             "The range's size in bytes, known before the "
                             "first byte goes out.")
      .def_property_readonly(
          "bytes_sent",
          [](const Sender& self) -> uint64_t {
            return self.result() ? self.result()->result.bytes_sent : 0;
          })
      .def_property_readonly("done", &Sender::done)
      .def_property_readonly(
          "result", &Sender::result,
          "The totals as of the last send() (None before the first).")
      .def("send", &Sender::Send, R"doc(
Sends what the descriptor takes now, without waiting. True once the whole
range is sent; False when the descriptor is full: call again when it is
writable, and the send resumes where it stopped.
)doc");

  log.def("send", &Send, py::arg("destination"), py::arg("offset") = py::none(),
          py::arg("max_bytes") = 1 << 20, py::kw_only(),
          py::arg("policy") = "auto", py::arg("timeout") = py::none(),
          py::arg("mmap_threshold_bytes") = py::none(),
          py::arg("cold_read_lag_bytes") = 0, R"doc(
Ships the log from the batch holding `offset` (None: the log's start), at
most max_bytes (but at least one whole batch; None: no limit), to
`destination`: a socket (or anything with fileno()) or a descriptor number,
not closed here. A full non-blocking socket is waited for, without the GIL,
up to `timeout` seconds (None: forever; Timeout after). policy: 'auto'
(mmap+write below mmap_threshold_bytes, sendfile from there up), 'sendfile',
'mmap_write' or 'copy'. cold_read_lag_bytes > 0: the parts of the range
more than that many bytes behind the log's end are read with O_DIRECT,
bypassing the page cache (path 'direct_read'). A closed peer raises
PeerClosed (never SIGPIPE).
)doc")
      .def("sender", &OpenSender, py::arg("destination"),
           py::arg("offset") = py::none(), py::arg("max_bytes") = 1 << 20,
           py::kw_only(), py::arg("policy") = "auto",
           py::arg("mmap_threshold_bytes") = py::none(),
           py::arg("cold_read_lag_bytes") = 0, R"doc(
A Sender of the same range Log.send would ship, resolved now (retention
cannot break it) and sent by Sender.send() as the descriptor takes it.
)doc");
}

}  // namespace shiplog::python
