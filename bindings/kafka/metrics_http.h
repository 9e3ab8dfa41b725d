// `shiplog serve --metrics-listen ADDR`: the library's metrics of the
// serving process (shiplog_metrics_prometheus: the engine's counters, every
// log's gauges, the process's CPU, memory, fds and maps) over HTTP, for a
// Prometheus scraper: GET /metrics (or /) answers the text format 0.0.4.
//
// It runs on a thread of its own, one request per connection, each socket
// with a 2 s timeout, so a stuck scraper cannot stall the broker's event
// loop and only delays other scrapes.
//
// Thread-safety: Start and the destructor on one thread; the store (whose
// C ABI is thread-safe) is read from the endpoint's thread.
#ifndef SHIPLOG_BINDINGS_KAFKA_METRICS_HTTP_H_
#define SHIPLOG_BINDINGS_KAFKA_METRICS_HTTP_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "bindings/cli/scoped_fd.h"
#include "shiplog.h"

namespace shiplog::kafka {

class MetricsHttpServer {
 public:
  // Listens on host:port (0: any free port) and serves `store` (not
  // owned; must outlive this).
  static absl::StatusOr<std::unique_ptr<MetricsHttpServer>> Start(
      shiplog_store* store, const std::string& host, uint16_t port);
  // Stops accepting and joins the thread.
  ~MetricsHttpServer();

  const std::string& address() const { return address_; }

 private:
  MetricsHttpServer() = default;
  void Serve();
  void Answer(int fd);

  shiplog_store* store_ = nullptr;
  std::string address_;
  cli::ScopedFd listener_;
  std::thread thread_;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_METRICS_HTTP_H_
