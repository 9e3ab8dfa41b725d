/* shiplog-server: a tiny TCP server that ships ranges of a log to clients,
 * zero-copy, from one thread.
 *
 *   shiplog-server STORE LOG PORT
 *
 * Listens on 127.0.0.1:PORT. A client sends requests, one a line:
 *
 *   OFFSET MAX_BYTES\n
 *
 * and gets for each, in order, either
 *
 *   OK SIZE\n      then SIZE bytes: the log's Kafka RecordBatch v2 batches
 *                  exactly as stored, from the batch holding OFFSET, at most
 *                  MAX_BYTES but at least one whole batch (SIZE is 0 at the
 *                  log's end); the client may send its next request
 *   ERROR what\n   (an offset outside the log, a malformed request); the
 *                  server then closes the connection.
 *
 * The client closes the connection when it has what it wants.
 *
 * One thread serves every client with poll(2) over non-blocking sockets: a
 * range is shipped by a resumable shiplog_sender, and a client whose socket
 * is full waits for POLLOUT while the others are served. At most
 * MAX_CLIENTS are served at once; more wait in the listen backlog. A client
 * that goes away mid-range costs only its connection (the library never
 * raises SIGPIPE, and the header is written with MSG_NOSIGNAL). SIGINT or
 * SIGTERM stops the server: it drops its clients, closes the store and
 * exits 0. One line per request goes to stderr. There is no idle timeout:
 * a client that stops reading keeps its slot until it goes away.
 *
 * The store is opened read-only, so a producer may write it meanwhile; the
 * server ships the log as it was when the server started. */
#define _POSIX_C_SOURCE 200809L /* sigaction, MSG_NOSIGNAL */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "shiplog.h"

#define PROGRAM "shiplog-server"
#define MAX_CLIENTS 64
/* "OFFSET MAX_BYTES\n": two 20-digit numbers fit. */
#define REQUEST_MAX 64
#define HEADER_MAX 512
/* How long accepting pauses when the process is out of descriptors. */
#define ACCEPT_RETRY_MS 100

enum client_state {
  CLIENT_READING, /* waiting for a complete request line */
  CLIENT_HEADER,  /* writing the response's first line */
  CLIENT_SENDING  /* shipping the range */
};

/* What one step of a client did. */
enum step { STEP_AGAIN, STEP_BLOCKED, STEP_CLOSED };

struct client {
  int fd; /* -1: the slot is free */
  enum client_state state;
  char peer[INET_ADDRSTRLEN + 8]; /* "127.0.0.1:54321" */
  char request[REQUEST_MAX];
  size_t request_bytes;
  char line[REQUEST_MAX]; /* the request being answered, for the log */
  char header[HEADER_MAX];
  size_t header_bytes;
  size_t header_sent;
  int close_after_header; /* an ERROR response ends the connection */
  shiplog_sender* sender; /* the range being answered */
  uint64_t size;          /* its bytes */
};

struct server {
  const shiplog_log* log;
  int listener;
  int accept_paused;
  struct client clients[MAX_CLIENTS];
  size_t client_count;
};

/* The signal handler's way to wake poll(2): it writes a byte here. */
static volatile sig_atomic_t stop_requested = 0;
static int wakeup_pipe[2] = {-1, -1};

static void on_stop_signal(int signal_number) {
  const int saved_errno = errno;
  const char byte = (char)signal_number;
  stop_requested = 1;
  if (write(wakeup_pipe[1], &byte, 1) < 0) {
    /* The pipe is full: a wake-up is pending already. */
  }
  errno = saved_errno;
}

static int set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void close_client(struct server* server, struct client* client) {
  shiplog_sender_free(client->sender);
  client->sender = NULL;
  close(client->fd);
  client->fd = -1;
  --server->client_count;
  server->accept_paused = 0;
}

/* Prepares an ERROR response that closes the connection once written. */
static void respond_error(struct client* client, const char* what,
                          const char* detail) {
  fprintf(stderr, PROGRAM ": %s: %s: %s%s%s\n", client->peer, client->line,
          what, detail[0] != '\0' ? ": " : "", detail);
  snprintf(client->header, sizeof(client->header), "ERROR %s%s%s\n", what,
           detail[0] != '\0' ? ": " : "", detail);
  client->header_bytes = strlen(client->header);
  /* A message too long for the header is cut, but still ends the line. */
  client->header[client->header_bytes - 1] = '\n';
  client->header_sent = 0;
  client->close_after_header = 1;
  client->state = CLIENT_HEADER;
}

/* Parses "OFFSET MAX_BYTES" (a '\r' before the '\n' is allowed). */
static int parse_request(const char* line, int64_t* offset,
                         uint64_t* max_bytes) {
  char* end = NULL;
  long long parsed_offset;
  unsigned long long parsed_max;
  if (line[0] < '0' || line[0] > '9') return -1;
  errno = 0;
  parsed_offset = strtoll(line, &end, 10);
  if (errno != 0 || *end != ' ' || end[1] < '0' || end[1] > '9') return -1;
  line = end + 1;
  parsed_max = strtoull(line, &end, 10);
  if (errno != 0 || (*end != '\0' && strcmp(end, "\r") != 0)) return -1;
  *offset = (int64_t)parsed_offset;
  *max_bytes = (uint64_t)parsed_max;
  return 0;
}

/* Takes the first request line out of the buffer and starts answering it. */
static void start_response(const struct server* server, struct client* client,
                           char* newline) {
  const size_t line_bytes = (size_t)(newline - client->request);
  int64_t offset = 0;
  uint64_t max_bytes = 0;
  int status;

  memcpy(client->line, client->request, line_bytes);
  client->line[line_bytes] = '\0';
  client->request_bytes -= line_bytes + 1;
  memmove(client->request, newline + 1, client->request_bytes);
  if (parse_request(client->line, &offset, &max_bytes) != 0) {
    respond_error(client, "malformed request: expected OFFSET MAX_BYTES", "");
    return;
  }
  /* Resolves the range now: its size goes out before its bytes. */
  status = shiplog_sender_open(&client->sender, server->log, offset, max_bytes,
                               client->fd, NULL);
  if (status == SHIPLOG_OK) {
    status = shiplog_sender_size(&client->size, client->sender);
  }
  if (status != SHIPLOG_OK) {
    respond_error(client, shiplog_status_str(status), shiplog_last_error());
    return;
  }
  snprintf(client->header, sizeof(client->header), "OK %llu\n",
           (unsigned long long)client->size);
  client->header_bytes = strlen(client->header);
  client->header_sent = 0;
  client->close_after_header = 0;
  client->state = CLIENT_HEADER;
}

static enum step read_request(const struct server* server,
                              struct client* client) {
  char* newline = memchr(client->request, '\n', client->request_bytes);
  ssize_t n;
  if (newline != NULL) {
    start_response(server, client, newline);
    return STEP_AGAIN;
  }
  if (client->request_bytes == sizeof(client->request)) {
    strcpy(client->line, "(too long)");
    respond_error(client, "malformed request: line too long", "");
    return STEP_AGAIN;
  }
  n = recv(client->fd, client->request + client->request_bytes,
           sizeof(client->request) - client->request_bytes, 0);
  if (n > 0) {
    client->request_bytes += (size_t)n;
    return STEP_AGAIN;
  }
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return STEP_BLOCKED;
  if (n < 0 && errno == EINTR) return STEP_AGAIN;
  if (n < 0) {
    fprintf(stderr, PROGRAM ": %s: reading: %s\n", client->peer,
            strerror(errno));
  }
  return STEP_CLOSED; /* n == 0: the client is done */
}

static enum step write_header(struct client* client) {
  const ssize_t n =
      send(client->fd, client->header + client->header_sent,
           client->header_bytes - client->header_sent, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return STEP_BLOCKED;
    if (errno == EINTR) return STEP_AGAIN;
    fprintf(stderr, PROGRAM ": %s: %s: writing: %s\n", client->peer,
            client->line, strerror(errno));
    return STEP_CLOSED;
  }
  client->header_sent += (size_t)n;
  if (client->header_sent < client->header_bytes) return STEP_AGAIN;
  if (client->close_after_header) return STEP_CLOSED;
  client->state = CLIENT_SENDING;
  return STEP_AGAIN;
}

static enum step send_range(struct client* client) {
  shiplog_send_result progress;
  const int status = shiplog_sender_send(&progress, client->sender);
  if (status == SHIPLOG_EAGAIN) return STEP_BLOCKED; /* wait for POLLOUT */
  if (status != SHIPLOG_OK) {
    fprintf(stderr,
            PROGRAM ": %s: %s: stopped after %llu of %llu bytes: %s: %s\n",
            client->peer, client->line, (unsigned long long)progress.bytes_sent,
            (unsigned long long)client->size, shiplog_status_str(status),
            shiplog_last_error());
    return STEP_CLOSED;
  }
  if (progress.bytes_sent == 0) {
    fprintf(stderr, PROGRAM ": %s: %s: sent 0 bytes (the log's end)\n",
            client->peer, client->line);
  } else {
    fprintf(stderr, PROGRAM ": %s: %s: sent %llu bytes (offsets %lld..%lld)\n",
            client->peer, client->line, (unsigned long long)progress.bytes_sent,
            (long long)progress.first_offset,
            (long long)progress.next_offset - 1);
  }
  shiplog_sender_free(client->sender);
  client->sender = NULL;
  client->state = CLIENT_READING;
  return STEP_AGAIN;
}

/* Runs a client as far as it goes without blocking. */
static void serve_client(struct server* server, struct client* client) {
  enum step step = STEP_AGAIN;
  while (step == STEP_AGAIN) {
    switch (client->state) {
      case CLIENT_READING:
        step = read_request(server, client);
        break;
      case CLIENT_HEADER:
        step = write_header(client);
        break;
      case CLIENT_SENDING:
        step = send_range(client);
        break;
    }
  }
  if (step == STEP_CLOSED) close_client(server, client);
}

static void accept_clients(struct server* server) {
  while (server->client_count < MAX_CLIENTS) {
    struct sockaddr_in address;
    socklen_t length = sizeof(address);
    char host[INET_ADDRSTRLEN];
    struct client* client = server->clients;
    const int fd =
        accept(server->listener, (struct sockaddr*)&address, &length);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) {
        /* Out of descriptors or memory: retry soon rather than spin. */
        fprintf(stderr, PROGRAM ": accept: %s\n", strerror(errno));
        server->accept_paused = 1;
      }
      return;
    }
    if (set_nonblocking(fd) != 0) {
      fprintf(stderr, PROGRAM ": fcntl: %s\n", strerror(errno));
      close(fd);
      continue;
    }
    while (client->fd >= 0) ++client;
    memset(client, 0, sizeof(*client));
    client->fd = fd;
    client->state = CLIENT_READING;
    if (inet_ntop(AF_INET, &address.sin_addr, host, sizeof(host)) == NULL) {
      strcpy(host, "?");
    }
    snprintf(client->peer, sizeof(client->peer), "%s:%u", host,
             (unsigned)ntohs(address.sin_port));
    ++server->client_count;
  }
}

/* Serves until SIGINT or SIGTERM; -1 if poll itself fails. */
static int run(struct server* server) {
  struct pollfd fds[2 + MAX_CLIENTS];
  struct client* polled[MAX_CLIENTS];
  while (!stop_requested) {
    size_t count = 2;
    size_t i;
    int timeout_ms = server->accept_paused ? ACCEPT_RETRY_MS : -1;
    fds[0].fd = wakeup_pipe[0];
    fds[0].events = POLLIN;
    /* A negative descriptor is ignored: no accepting while full. */
    fds[1].fd = server->client_count < MAX_CLIENTS && !server->accept_paused
                    ? server->listener
                    : -1;
    fds[1].events = POLLIN;
    for (i = 0; i < MAX_CLIENTS; ++i) {
      struct client* client = &server->clients[i];
      if (client->fd < 0) continue;
      polled[count - 2] = client;
      fds[count].fd = client->fd;
      fds[count].events = client->state == CLIENT_READING ? POLLIN : POLLOUT;
      ++count;
    }
    server->accept_paused = 0;
    if (poll(fds, (nfds_t)count, timeout_ms) < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, PROGRAM ": poll: %s\n", strerror(errno));
      return -1;
    }
    if (fds[0].revents != 0) {
      char drained[16];
      while (read(wakeup_pipe[0], drained, sizeof(drained)) > 0) {
      }
    }
    for (i = 2; i < count; ++i) {
      if (fds[i].revents != 0) serve_client(server, polled[i - 2]);
    }
    if (fds[1].revents != 0) accept_clients(server);
  }
  return 0;
}

static int open_listener(unsigned port) {
  struct sockaddr_in address;
  const int on = 1;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    fprintf(stderr, PROGRAM ": socket: %s\n", strerror(errno));
    return -1;
  }
  memset(&address, 0, sizeof(address));
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons((uint16_t)port);
  /* A restart may bind while old connections linger in TIME_WAIT. */
  if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
      bind(fd, (struct sockaddr*)&address, sizeof(address)) != 0 ||
      listen(fd, SOMAXCONN) != 0 || set_nonblocking(fd) != 0) {
    fprintf(stderr, PROGRAM ": cannot listen on 127.0.0.1:%u: %s\n", port,
            strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

/* The self-pipe and the SIGINT/SIGTERM handlers that write it. */
static int install_stop_handlers(void) {
  struct sigaction action;
  if (pipe(wakeup_pipe) != 0 || set_nonblocking(wakeup_pipe[0]) != 0 ||
      set_nonblocking(wakeup_pipe[1]) != 0) {
    fprintf(stderr, PROGRAM ": pipe: %s\n", strerror(errno));
    return -1;
  }
  memset(&action, 0, sizeof(action));
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGINT, &action, NULL) != 0 ||
      sigaction(SIGTERM, &action, NULL) != 0) {
    fprintf(stderr, PROGRAM ": sigaction: %s\n", strerror(errno));
    return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  static struct server server; /* zeroed: large, so not on the stack */
  shiplog_store* store = NULL;
  shiplog_log* log = NULL;
  long long port = 0;
  size_t i;
  int status;
  int exit_status = 1;

  if (argc != 4 || parse_integer(argv[3], 1, 65535, &port) != 0) {
    fputs("usage: shiplog-server STORE LOG PORT\n", stderr);
    return 2;
  }
  server.listener = -1;
  for (i = 0; i < MAX_CLIENTS; ++i) server.clients[i].fd = -1;
  if (open_log_to_read(PROGRAM, argv[1], argv[2], &store, &log) != 0) {
    goto done;
  }
  server.log = log;
  if (install_stop_handlers() != 0) goto done;
  server.listener = open_listener((unsigned)port);
  if (server.listener < 0) goto done;
  fprintf(stderr, PROGRAM ": listening on 127.0.0.1:%lld, serving log %s\n",
          port, argv[2]);
  if (run(&server) != 0) goto done;
  fprintf(stderr, PROGRAM ": stopping; %lu clients dropped\n",
          (unsigned long)server.client_count);
  exit_status = 0;
done:
  for (i = 0; i < MAX_CLIENTS; ++i) {
    if (server.clients[i].fd >= 0) close_client(&server, &server.clients[i]);
  }
  if (server.listener >= 0) close(server.listener);
  shiplog_log_free(log);
  if (store != NULL) {
    status = shiplog_store_close(store);
    if (status != SHIPLOG_OK) {
      report_error(PROGRAM, "closing the store", status);
      exit_status = 1;
    }
  }
  shiplog_store_free(store);
  return exit_status;
}
