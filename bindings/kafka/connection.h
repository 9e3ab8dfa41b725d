// One client connection of the server: the bytes read but not yet handled,
// the responses waiting to go out (header bytes and record ranges), and a
// Fetch parked until it has data or its wait runs out.
//
// A connection handles one request at a time, in order (as Kafka's
// brokers do): while a response is queued or a fetch is parked it reads
// nothing more, so its buffers stay bounded and TCP pushes back on the
// client.
//
// Thread-safety: owned by the server's event-loop thread.
#ifndef SHIPLOG_BINDINGS_KAFKA_CONNECTION_H_
#define SHIPLOG_BINDINGS_KAFKA_CONNECTION_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "bindings/cli/scoped_fd.h"
#include "bindings/kafka/fetch.h"
#include "bindings/kafka/message.h"

namespace shiplog::kafka {

struct ParkedFetch {
  RequestHeader header;
  FetchRequest request;
  int64_t deadline_ms = 0;
};

class Connection {
 public:
  Connection(uint64_t id, cli::ScopedFd fd, std::string peer, int64_t now_ms)
      : id_(id),
        fd_(std::move(fd)),
        peer_(std::move(peer)),
        last_active_ms_(now_ms) {}

  // Unique for the server's life (descriptors are reused, ids are not).
  uint64_t id() const { return id_; }
  int fd() const { return fd_.get(); }
  const std::string& peer() const { return peer_; }

  // Reads what the socket has, up to `max_buffered` bytes in all. OK with
  // *closed set when the peer closed; an error for a failed read.
  absl::Status Read(size_t max_buffered, bool* closed);

  // The next complete request frame (without its size prefix), if one has
  // arrived; kInvalidArgument for a size below 0 or above
  // `max_request_bytes`. The frame stays valid until PopRequest.
  absl::StatusOr<std::optional<absl::string_view>> PeekRequest(
      uint64_t max_request_bytes);
  void PopRequest();

  void Queue(Response response) { output_.push_back(std::move(response)); }
  // Sends what the socket takes. OK when it stopped because the socket is
  // full or everything went; an error (the peer closed, a failed send)
  // ends the connection.
  absl::Status Flush();

  bool has_output() const { return !output_.empty(); }
  std::optional<ParkedFetch>& parked() { return parked_; }
  const std::optional<ParkedFetch>& parked() const { return parked_; }
  // A JoinGroup or SyncGroup waiting for the group's rebalance.
  bool& awaiting_reply() { return awaiting_reply_; }
  // Handles nothing new while a response waits, a fetch is parked or a
  // reply is awaited.
  bool busy() const {
    return has_output() || parked_.has_value() || awaiting_reply_;
  }

  int64_t last_active_ms() const { return last_active_ms_; }
  void Touch(int64_t now_ms) { last_active_ms_ = now_ms; }
  // The epoll events this connection is registered for.
  uint32_t& registered_events() { return registered_events_; }

 private:
  uint64_t id_;
  cli::ScopedFd fd_;
  std::string peer_;
  std::string input_;
  size_t frame_size_ = 0;  // of the frame PeekRequest returned
  std::deque<Response> output_;
  size_t part_ = 0;           // of output_.front()
  size_t part_position_ = 0;  // bytes of that part's `bytes` sent
  std::optional<ParkedFetch> parked_;
  bool awaiting_reply_ = false;
  int64_t last_active_ms_;
  uint32_t registered_events_ = 0;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_CONNECTION_H_
