#include "bindings/kafka/metrics_http.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bindings/cli/abi.h"
#include "bindings/kafka/listen.h"

namespace shiplog::kafka {
namespace {

constexpr size_t kMaxRequestBytes = 8192;
constexpr int kSocketTimeoutSeconds = 2;

void SendAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return;  // the scraper went away or timed out
    bytes.remove_prefix(static_cast<size_t>(sent));
  }
}

std::string HttpResponse(absl::string_view status, absl::string_view type,
                         absl::string_view body) {
  return absl::StrCat("HTTP/1.0 ", status, "\r\nContent-Type: ", type,
                      "\r\nContent-Length: ", body.size(),
                      "\r\nConnection: close\r\n\r\n", body);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpServer>> MetricsHttpServer::Start(
    shiplog_store* store, const std::string& host, uint16_t port) {
  sockaddr_storage bound = {};
  absl::StatusOr<cli::ScopedFd> listener = Listen(host, port, &bound);
  if (!listener.ok()) return listener.status();
  std::unique_ptr<MetricsHttpServer> server(new MetricsHttpServer());
  server->store_ = store;
  server->address_ = Describe(bound);
  server->listener_ = *std::move(listener);
  // The thread blocks in accept(); the destructor's shutdown() wakes it.
  const int flags = fcntl(server->listener_.get(), F_GETFL);
  fcntl(server->listener_.get(), F_SETFL, flags & ~O_NONBLOCK);
  server->thread_ = std::thread([raw = server.get()] { raw->Serve(); });
  return server;
}

MetricsHttpServer::~MetricsHttpServer() {
  ::shutdown(listener_.get(), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

void MetricsHttpServer::Serve() {
  while (true) {
    cli::ScopedFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down (EINVAL), or the listener failed for good
    }
    const timeval timeout = {kSocketTimeoutSeconds, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    Answer(fd.get());
  }
}

void MetricsHttpServer::Answer(int fd) {
  std::string request;
  char buffer[1024];
  while (request.size() < kMaxRequestBytes &&
         request.find("\r\n\r\n") == std::string::npos) {
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    request.append(buffer, static_cast<size_t>(got));
  }
  const size_t line_end = request.find("\r\n");
  const absl::string_view line =
      absl::string_view(request).substr(0, line_end);
  if (line_end == std::string::npos || !absl::StartsWith(line, "GET ")) {
    return SendAll(fd, HttpResponse("400 Bad Request", "text/plain",
                                    "expected GET /metrics\n"));
  }
  const absl::string_view path = line.substr(4, line.find(' ', 4) - 4);
  if (path != "/metrics" && path != "/") {
    return SendAll(fd, HttpResponse("404 Not Found", "text/plain",
                                    "metrics are at /metrics\n"));
  }
  absl::StatusOr<cli::Owned<shiplog_metrics>> metrics =
      cli::Open(shiplog_metrics_open, store_);
  char* text = nullptr;
  if (metrics.ok() &&
      shiplog_metrics_prometheus(&text, metrics->get()) == SHIPLOG_OK) {
    const cli::Owned<char> owned(text);
    return SendAll(fd, HttpResponse("200 OK",
                                    "text/plain; version=0.0.4; charset=utf-8",
                                    text));
  }
  SendAll(fd, HttpResponse("500 Internal Server Error", "text/plain",
                           absl::StrCat(shiplog_last_error(), "\n")));
}

}  // namespace shiplog::kafka
