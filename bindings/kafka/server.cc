#include "bindings/kafka/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/errno_error.h"
#include "bindings/kafka/clock.h"
#include "bindings/cli/status_macros.h"
#include "bindings/kafka/handlers.h"
#include "bindings/kafka/listen.h"
#include "bindings/kafka/protocol.h"

namespace shiplog::kafka {
namespace {

constexpr int kMaxEvents = 64;
constexpr int64_t kHousekeepingMs = 1000;

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(shiplog_store* store,
                                                      ServerOptions options) {
  sockaddr_storage bound = {};
  ASSIGN_OR_RETURN(cli::ScopedFd listener,
                   Listen(options.host, options.port, &bound));
  const std::string address = Describe(bound);
  options.broker.advertised_host = options.host;
  options.broker.advertised_port = PortOf(bound);
  ASSIGN_OR_RETURN(OffsetStore offsets, OffsetStore::Open(store));
  ASSIGN_OR_RETURN(Topics topics, Topics::Load(store));
  Broker broker(store, std::move(topics), options.broker);
  std::unique_ptr<Server> server(
      new Server(std::move(options), std::move(broker)));
  Server* self = server.get();
  server->groups_.emplace(
      server->broker_, std::move(offsets),
      [self](uint64_t id, absl::StatusOr<Response> response) {
        self->Deliver(id, std::move(response));
      });
  server->address_ = address;
  server->listener_ = std::move(listener);
  server->epoll_ = cli::ScopedFd(epoll_create1(EPOLL_CLOEXEC));
  server->stop_ = cli::ScopedFd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!server->epoll_.valid() || !server->stop_.valid()) {
    return cli::ErrnoError(errno, "setting up the event loop");
  }
  for (const int fd : {server->listener_.get(), server->stop_.get()}) {
    epoll_event event = {};
    event.events = EPOLLIN;
    event.data.fd = fd;
    if (epoll_ctl(server->epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
      return cli::ErrnoError(errno, "epoll_ctl");
    }
  }
  return server;
}

void Server::Stop() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t written =
      ::write(stop_.get(), &one, sizeof one);
}

absl::Status Server::Run() {
  std::vector<epoll_event> events(kMaxEvents);
  while (true) {
    const int ready = epoll_wait(epoll_.get(), events.data(), kMaxEvents,
                                 static_cast<int>(NextTimeoutMs()));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return cli::ErrnoError(errno, "epoll_wait");
    }
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == stop_.get()) return absl::OkStatus();
      if (fd == listener_.get()) {
        Accept();
      } else {
        OnEvent(fd, events[i].events);
      }
    }
    groups_->coordinator().Tick(NowMs());
    ResumeDelivered();
    RetryParkedFetches(/*only_expired=*/!appended_);
    appended_ = false;
    CloseIdle();
  }
}

int64_t Server::NextTimeoutMs() const {
  const int64_t now = NowMs();
  int64_t timeout = std::min(
      kHousekeepingMs,
      std::max<int64_t>(0, groups_->coordinator().NextDeadlineMs() - now));
  for (const auto& [fd, connection] : connections_) {
    const std::optional<ParkedFetch>& parked = connection->parked();
    if (parked.has_value()) {
      timeout = std::min(timeout, std::max<int64_t>(0, parked->deadline_ms -
                                                           now));
    }
  }
  return timeout;
}

void Server::Accept() {
  while (true) {
    sockaddr_storage peer = {};
    socklen_t size = sizeof peer;
    cli::ScopedFd fd(accept4(listener_.get(), reinterpret_cast<sockaddr*>(&peer),
                             &size, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        std::fprintf(stderr, "shiplog serve: accept: %s\n",
                     std::strerror(errno));
      }
      return;
    }
    if (connections_.size() >= options_.max_connections) {
      std::fprintf(stderr,
                   "shiplog serve: refusing %s: %zu connections already "
                   "(--max-connections)\n",
                   Describe(peer).c_str(), connections_.size());
      continue;  // closed by ScopedFd
    }
    const int one = 1;
    setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const int raw = fd.get();
    auto connection = std::make_unique<Connection>(
        ++next_connection_id_, std::move(fd), Describe(peer), NowMs());
    epoll_event event = {};
    event.events = EPOLLIN;
    event.data.fd = raw;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, raw, &event) != 0) {
      std::fprintf(stderr, "shiplog serve: epoll_ctl: %s\n",
                   std::strerror(errno));
      continue;
    }
    connection->registered_events() = EPOLLIN;
    connections_[raw] = std::move(connection);
  }
}

void Server::OnEvent(int fd, uint32_t events) {
  const auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& connection = *it->second;
  connection.Touch(NowMs());
  if ((events & (EPOLLHUP | EPOLLERR)) != 0) {
    return Close(fd, absl::OkStatus());  // gone both ways: nothing to send
  }
  if ((events & EPOLLOUT) != 0) {
    if (absl::Status flushed = connection.Flush(); !flushed.ok()) {
      return Close(fd, flushed);
    }
  }
  if ((events & EPOLLIN) != 0 && !connection.busy()) {
    bool closed = false;
    if (absl::Status read =
            connection.Read(options_.max_request_bytes + 4, &closed);
        !read.ok()) {
      return Close(fd, read);
    }
    if (absl::Status processed = Process(connection); !processed.ok()) {
      return Close(fd, processed);
    }
    if (closed) return Close(fd, absl::OkStatus());
  }
  UpdateEvents(connection);
}

absl::Status Server::Process(Connection& connection) {
  while (!connection.busy()) {
    ASSIGN_OR_RETURN(const std::optional<absl::string_view> frame,
                     connection.PeekRequest(options_.max_request_bytes));
    if (!frame.has_value()) break;
    RETURN_IF_ERROR(Dispatch(connection, *frame));
    connection.PopRequest();
    RETURN_IF_ERROR(connection.Flush());
  }
  return absl::OkStatus();
}

absl::Status Server::Dispatch(Connection& connection,
                              absl::string_view frame) {
  WireReader reader(frame);
  const RequestHeader header = ReadRequestHeader(reader);
  if (!reader.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a request header that does not decode: ",
                     reader.error()));
  }
  const std::optional<ApiVersionRange> api = FindApi(header.api_key);
  const bool supported = api.has_value() &&
                         header.api_version >= api->min_version &&
                         header.api_version <= api->max_version;
  absl::StatusOr<Response> response;
  switch (supported ? static_cast<ApiKey>(header.api_key)
                    : ApiKey::kApiVersions) {
    case ApiKey::kApiVersions:
      response = header.api_key == static_cast<int16_t>(ApiKey::kApiVersions)
                     ? HandleApiVersions(header, reader)
                     : UnsupportedVersion(header);
      break;
    case ApiKey::kMetadata:
      response = HandleMetadata(broker_, header, reader);
      break;
    case ApiKey::kProduce: {
      ASSIGN_OR_RETURN(std::optional<Response> produced,
                       HandleProduce(broker_, header, reader));
      appended_ = true;
      if (!produced.has_value()) return absl::OkStatus();  // acks=0
      response = *std::move(produced);
      break;
    }
    case ApiKey::kFetch: {
      ASSIGN_OR_RETURN(FetchRequest request, ReadFetchRequest(header, reader));
      const bool wait = request.max_wait_ms > 0;
      ASSIGN_OR_RETURN(std::optional<Response> fetched,
                       AnswerFetch(broker_, header, request, connection.fd(),
                                   /*final=*/!wait));
      if (!fetched.has_value()) {
        const int64_t deadline_ms = NowMs() + request.max_wait_ms;
        connection.parked() =
            ParkedFetch{header, std::move(request), deadline_ms};
        return absl::OkStatus();
      }
      response = *std::move(fetched);
      break;
    }
    case ApiKey::kListOffsets:
      response = HandleListOffsets(broker_, header, reader);
      break;
    case ApiKey::kCreateTopics:
      response = HandleCreateTopics(broker_, header, reader);
      break;
    case ApiKey::kDeleteTopics:
      response = HandleDeleteTopics(broker_, header, reader);
      break;
    case ApiKey::kFindCoordinator:
    case ApiKey::kJoinGroup:
    case ApiKey::kSyncGroup:
    case ApiKey::kHeartbeat:
    case ApiKey::kLeaveGroup:
    case ApiKey::kOffsetCommit:
    case ApiKey::kOffsetFetch: {
      // Set first: the reply may be delivered before Handle returns.
      connection.awaiting_reply() = true;
      absl::StatusOr<std::optional<Response>> handled =
          groups_->Handle(header, reader, connection.id(), NowMs());
      if (!handled.ok()) return handled.status();
      if (!handled->has_value()) return absl::OkStatus();  // delivered later
      connection.awaiting_reply() = false;
      response = **std::move(handled);
      break;
    }
    default:
      response = UnsupportedVersion(header);
      break;
  }
  if (!response.ok()) return response.status();
  connection.Queue(*std::move(response));
  return absl::OkStatus();
}

void Server::RetryParkedFetches(bool only_expired) {
  const int64_t now = NowMs();
  std::vector<int> failed;
  std::vector<int> answered;
  for (auto& [fd, connection] : connections_) {
    std::optional<ParkedFetch>& parked = connection->parked();
    if (!parked.has_value()) continue;
    const bool expired = now >= parked->deadline_ms;
    if (only_expired && !expired) continue;
    absl::StatusOr<std::optional<Response>> fetched = AnswerFetch(
        broker_, parked->header, parked->request, fd, /*final=*/expired);
    if (!fetched.ok()) {
      failed.push_back(fd);
      continue;
    }
    if (!fetched->has_value()) continue;
    parked.reset();
    connection->Queue(**std::move(fetched));
    answered.push_back(fd);
  }
  for (const int fd : failed) Close(fd, absl::InternalError("fetch failed"));
  for (const int fd : answered) {
    const auto it = connections_.find(fd);
    if (it == connections_.end()) continue;
    Connection& connection = *it->second;
    absl::Status status = connection.Flush();
    // A pipelined request may be waiting behind the fetch.
    if (status.ok()) status = Process(connection);
    if (!status.ok()) {
      Close(fd, status);
      continue;
    }
    UpdateEvents(connection);
  }
}

Connection* Server::FindConnection(uint64_t id) {
  for (auto& [fd, connection] : connections_) {
    if (connection->id() == id) return connection.get();
  }
  return nullptr;
}

void Server::Deliver(uint64_t id, absl::StatusOr<Response> response) {
  Connection* connection = FindConnection(id);
  if (connection == nullptr) return;  // it closed while its reply waited
  connection->awaiting_reply() = false;
  if (response.ok()) {
    connection->Queue(*std::move(response));
  } else {
    std::fprintf(stderr, "shiplog serve: a reply to %s failed: %s\n",
                 connection->peer().c_str(),
                 std::string(response.status().message()).c_str());
  }
  delivered_.push_back(id);
}

void Server::ResumeDelivered() {
  while (!delivered_.empty()) {
    const uint64_t id = delivered_.back();
    delivered_.pop_back();
    Connection* connection = FindConnection(id);
    if (connection == nullptr) continue;
    absl::Status status = connection->Flush();
    if (status.ok()) status = Process(*connection);
    if (!status.ok()) {
      Close(connection->fd(), status);
      continue;
    }
    UpdateEvents(*connection);
  }
}

void Server::CloseIdle() {
  const int64_t now = NowMs();
  std::vector<int> idle;
  for (auto& [fd, connection] : connections_) {
    if (!connection->busy() &&
        now - connection->last_active_ms() > options_.idle_timeout_ms) {
      idle.push_back(fd);
    }
  }
  for (const int fd : idle) {
    Close(fd, absl::DeadlineExceededError(absl::StrCat(
                  "idle for ", options_.idle_timeout_ms,
                  " ms (--idle-timeout-ms)")));
  }
}

void Server::Close(int fd, const absl::Status& why) {
  const auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  if (!why.ok()) {
    std::fprintf(stderr, "shiplog serve: closing %s: %s\n",
                 it->second->peer().c_str(), std::string(why.message()).c_str());
  }
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  connections_.erase(it);  // closes the socket, frees queued senders
}

void Server::UpdateEvents(Connection& connection) {
  uint32_t wanted = 0;
  if (connection.has_output()) wanted |= EPOLLOUT;
  if (!connection.busy()) wanted |= EPOLLIN;
  if (wanted == connection.registered_events()) return;
  epoll_event event = {};
  event.events = wanted;
  event.data.fd = connection.fd();
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, connection.fd(), &event) == 0) {
    connection.registered_events() = wanted;
  }
}

}  // namespace shiplog::kafka
