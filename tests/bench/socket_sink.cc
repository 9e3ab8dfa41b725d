#include "tests/bench/socket_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace shiplog::bench {

SocketSink::SocketSink(int kind) {
  int receiver = -1;
  if (kind == kUnixSocketPair) {
    int fds[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
    fd_ = fds[0];
    receiver = fds[1];
  } else {
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    bind(listener, reinterpret_cast<sockaddr*>(&address), length);
    listen(listener, 1);
    getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    connect(fd_, reinterpret_cast<sockaddr*>(&address), length);
    receiver = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    close(listener);
  }
  drain_ = std::thread([receiver] {
    std::vector<char> buffer(1 << 20);
    while (read(receiver, buffer.data(), buffer.size()) > 0) {
    }
    close(receiver);
  });
}

SocketSink::~SocketSink() {
  shutdown(fd_, SHUT_WR);
  drain_.join();
  close(fd_);
}

double ThreadCpuSeconds() {
  struct rusage usage;
  getrusage(RUSAGE_THREAD, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace shiplog::bench
