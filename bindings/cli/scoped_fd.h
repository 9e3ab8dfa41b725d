// ScopedFd: a file descriptor the tool owns, closed when the owner goes
// away, so an early error return cannot leak a socket or a file.
//
// Thread-safety: a plain value; not thread-safe.
#ifndef SHIPLOG_BINDINGS_CLI_SCOPED_FD_H_
#define SHIPLOG_BINDINGS_CLI_SCOPED_FD_H_

#include <unistd.h>

#include <utility>

namespace shiplog::cli {

class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~ScopedFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes the descriptor now (a close error has nothing left to report).
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_SCOPED_FD_H_
