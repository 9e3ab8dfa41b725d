// `shiplog serve DIR`: a single-node Kafka broker over the store in DIR
// (bindings/kafka). Topic T's partition P is log T-P.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/errno_error.h"
#include "bindings/cli/send_names.h"
#include "bindings/cli/status_macros.h"
#include "bindings/cli/store_flags.h"
#include "bindings/cli/tcp_connect.h"
#include "bindings/kafka/metrics_http.h"
#include "bindings/kafka/server.h"
#include "shiplog.h"

namespace shiplog::cli {
namespace {

struct ServeOptions {
  std::string directory;
  kafka::ServerOptions server;
  std::optional<HostPort> metrics_listen;
  StoreTuning tuning;
};

// The server SIGINT and SIGTERM stop (set while it runs).
std::atomic<kafka::Server*> running_server{nullptr};

void OnStopSignal(int) {
  if (kafka::Server* server = running_server.load()) server->Stop();
}

absl::StatusOr<ServeOptions> ParseOptions(const ParsedFlags& flags) {
  ServeOptions options;
  options.directory = flags.positional(0);
  const std::string listen =
      flags.GetString("listen").value_or("127.0.0.1:9092");
  absl::StatusOr<HostPort> address = ParseHostPort(listen, /*min_port=*/0);
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--listen: ", address.status().message()));
  }
  options.server.host = address->host;
  int port = 0;
  // ParseHostPort let through only a decimal port in 0..65535.
  (void)absl::SimpleAtoi(address->port, &port);
  options.server.port = static_cast<uint16_t>(port);
  if (const std::optional<std::string> metrics =
          flags.GetString("metrics-listen")) {
    absl::StatusOr<HostPort> metrics_address =
        ParseHostPort(*metrics, /*min_port=*/0);
    if (!metrics_address.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--metrics-listen: ", metrics_address.status().message()));
    }
    options.metrics_listen = *std::move(metrics_address);
  }
  ASSIGN_OR_RETURN(const std::optional<int64_t> partitions,
                   flags.GetInt("default-partitions", 1));
  if (partitions) {
    options.server.broker.default_partitions = static_cast<int32_t>(
        std::min<int64_t>(*partitions, 1 << 20));
  }
  ASSIGN_OR_RETURN(
      const std::optional<std::string> policy,
      flags.GetChoice("send-policy", {"auto", "sendfile", "mmap_write", "copy"}));
  if (policy) options.server.broker.send_policy = *ParseSendPolicy(*policy);
  ASSIGN_OR_RETURN(const std::optional<uint64_t> cold_read_lag,
                   flags.GetByteCount("cold-read-lag", 0));
  if (cold_read_lag) options.server.broker.cold_read_lag_bytes = *cold_read_lag;
  ASSIGN_OR_RETURN(const std::optional<uint64_t> max_request,
                   flags.GetByteCount("max-request-bytes", 1024));
  if (max_request) {
    options.server.max_request_bytes =
        std::min<uint64_t>(*max_request, INT32_MAX);
  }
  ASSIGN_OR_RETURN(const std::optional<int64_t> connections,
                   flags.GetInt("max-connections", 1));
  if (connections) options.server.max_connections = *connections;
  ASSIGN_OR_RETURN(const std::optional<int64_t> idle,
                   flags.GetInt("idle-timeout-ms", 1));
  if (idle) options.server.idle_timeout_ms = *idle;
  ASSIGN_OR_RETURN(options.tuning, ParseStoreTuning(flags));
  return options;
}

absl::Status Serve(const ServeOptions& options) {
  ASSIGN_OR_RETURN(const Owned<shiplog_store> store,
                   OpenStore(options.directory, /*read_only=*/false,
                             /*maintenance=*/true, options.tuning));
  ASSIGN_OR_RETURN(std::unique_ptr<kafka::Server> server,
                   kafka::Server::Start(store.get(), options.server));
  std::unique_ptr<kafka::MetricsHttpServer> metrics;
  if (options.metrics_listen) {
    int port = 0;
    (void)absl::SimpleAtoi(options.metrics_listen->port, &port);
    ASSIGN_OR_RETURN(metrics, kafka::MetricsHttpServer::Start(
                                  store.get(), options.metrics_listen->host,
                                  static_cast<uint16_t>(port)));
  }
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  running_server.store(server.get());
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::printf("shiplog serve: listening on %s\n", server->address().c_str());
  if (metrics) {
    std::printf("shiplog serve: metrics on http://%s/metrics\n",
                metrics->address().c_str());
  }
  std::fflush(stdout);
  const absl::Status served = server->Run();
  running_server.store(nullptr);
  metrics.reset();
  server.reset();  // every connection closed before the store
  RETURN_IF_ERROR(served);
  return AbiStatus(shiplog_store_close(store.get()));
}

}  // namespace

const CommandSpec& ServeSpec() {
  static const CommandSpec* spec = [] {
    auto* built = new CommandSpec{
      .name = "serve",
      .positionals = {"DIR"},
      .summary = "run a Kafka broker over a store",
      .description =
          "Serves the store in DIR to Kafka clients (kcat, librdkafka, "
          "kafka-python):\na single-node broker that leads every partition. "
          "Topic T's partition P is\nlog T-P; topics are created by "
          "CreateTopics or on first use, with\n--default-partitions "
          "partitions. Fetch responses ship record sets from the\npage "
          "cache by --send-policy (sendfile by default), never through user "
          "space.\nPrints \"shiplog serve: listening on HOST:PORT\" once "
          "ready, then with\n--metrics-listen \"shiplog serve: metrics on "
          "http://HOST:PORT/metrics\"; stops\ncleanly on SIGINT or SIGTERM.\n"
          "bindings/kafka/PROTOCOL.md lists the APIs and versions.\n",
      .flags = {
          {"listen", "HOST:PORT",
           "address to listen on and advertise (default 127.0.0.1:9092; "
           "port 0 picks a free one)"},
          {"metrics-listen", "HOST:PORT",
           "also serve Prometheus metrics over HTTP at /metrics"},
          {"default-partitions", "N",
           "partitions of a topic created on first use (default 1)"},
          {"send-policy", "auto|sendfile|mmap_write|copy",
           "how fetches ship records (default sendfile)"},
          {"cold-read-lag", "B",
           "fetches more than B bytes behind a partition's end read with "
           "O_DIRECT, sparing the page cache (default 0: off)"},
          {"max-request-bytes", "B",
           "largest request accepted; a larger one closes its connection "
           "(default 100MiB)"},
          {"max-connections", "N",
           "connections served at once; more are closed (default 1024)"},
          {"idle-timeout-ms", "MS",
           "close connections idle this long (default 600000)"},
      }};
    for (const FlagSpec& flag : StoreTuningFlags()) {
      built->flags.push_back(flag);
    }
    return built;
  }();
  return *spec;
}

int RunServe(const ParsedFlags& flags) {
  return RunCommand("serve", ParseOptions(flags), Serve);
}

}  // namespace shiplog::cli
