// The Kafka wire-protocol server: one thread, one epoll loop over
// non-blocking sockets. Requests are framed and handled in order per
// connection; responses go out as they can, record ranges by the
// transport's resumable sender, so a client that stops reading stalls only
// itself. Fetches wait (long polling) until they have min_bytes or their
// max_wait_ms runs out, and are retried after every append.
//
// Limits that keep one client from hurting the others: the request size
// (a larger frame closes that connection), one request in flight per
// connection (its buffers stay bounded), an idle timeout, a connection cap.
//
// Thread-safety: Run() on one thread; Stop() from any thread or a signal
// handler.
#ifndef SHIPLOG_BINDINGS_KAFKA_SERVER_H_
#define SHIPLOG_BINDINGS_KAFKA_SERVER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bindings/cli/scoped_fd.h"
#include "bindings/kafka/broker.h"
#include "bindings/kafka/connection.h"
#include "bindings/kafka/groups.h"

namespace shiplog::kafka {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9092;  // 0: any free port
  uint64_t max_request_bytes = 100 << 20;
  size_t max_connections = 1024;
  int64_t idle_timeout_ms = 10 * 60 * 1000;  // Kafka's connections.max.idle.ms
  BrokerOptions broker;                      // its advertised address is set
};

class Server {
 public:
  // Listens on options.host:port over the topics of `store` (not owned).
  static absl::StatusOr<std::unique_ptr<Server>> Start(shiplog_store* store,
                                                       ServerOptions options);

  // The address it listens on, "host:port" (the port chosen if it was 0).
  const std::string& address() const { return address_; }

  // Serves until Stop(). An error only for a failure of the loop itself.
  absl::Status Run();
  // Async-signal-safe: makes Run() return.
  void Stop();

 private:
  explicit Server(ServerOptions options, Broker broker)
      : options_(std::move(options)), broker_(std::move(broker)) {}

  void Accept();
  void OnEvent(int fd, uint32_t events);
  // Handles the requests the connection has, until it is busy.
  absl::Status Process(Connection& connection);
  absl::Status Dispatch(Connection& connection, absl::string_view frame);
  void RetryParkedFetches(bool only_expired);
  // Queues a reply that came later (JoinGroup, SyncGroup) for the
  // connection with `id`; the connection resumes after the current event.
  void Deliver(uint64_t id, absl::StatusOr<Response> response);
  // Flushes and processes the connections that got late replies.
  void ResumeDelivered();
  Connection* FindConnection(uint64_t id);
  void CloseIdle();
  void Close(int fd, const absl::Status& why);
  void UpdateEvents(Connection& connection);
  int64_t NextTimeoutMs() const;

  ServerOptions options_;
  Broker broker_;
  std::string address_;
  cli::ScopedFd listener_;
  cli::ScopedFd epoll_;
  cli::ScopedFd stop_;  // an eventfd
  std::optional<Groups> groups_;
  std::map<int, std::unique_ptr<Connection>> connections_;
  uint64_t next_connection_id_ = 0;
  std::vector<uint64_t> delivered_;
  bool appended_ = false;  // since parked fetches were last retried
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_SERVER_H_
