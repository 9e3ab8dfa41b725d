// The POSIX implementation of Env: plain system calls, EINTR retried.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "engine/io/aio_writer.h"
#include "engine/io/env.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/status/errno_status.h"
#include "engine/status/error_kind.h"
#include "engine/status/status_macros.h"
#include "engine/sync/mutex.h"

namespace shiplog {
namespace {

int64_t MonotonicMicros() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
}

// Runs one fsync-family call, counting it and its latency, and its failure.
template <typename SyncCall>
absl::Status CountedSync(SyncCall sync, absl::string_view context) {
  EngineMetrics& metrics = GlobalMetrics();
  const int64_t start = MonotonicMicros();
  const int result = sync();
  const int error = errno;
  metrics.fsyncs.Add();
  metrics.fsync_latency_us.Record(
      static_cast<uint64_t>(MonotonicMicros() - start));
  if (result != 0) {
    metrics.fsync_failures.Add();
    return ::shiplog::ErrnoToStatus(error, context);
  }
  return absl::OkStatus();
}

class PosixFile final : public File {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
    GlobalMetrics().open_files.Add();
  }
  ~PosixFile() override {
    close(fd_);
    GlobalMetrics().open_files.Sub();
  }

  const std::string& path() const override { return path_; }
  int fd() const override { return fd_; }

  absl::StatusOr<size_t> ReadAt(uint64_t position,
                                absl::Span<char> dst) const override {
    size_t done = 0;
    while (done < dst.size()) {
      const ssize_t n = pread(fd_, dst.data() + done, dst.size() - done,
                              static_cast<off_t>(position + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, absl::StrCat("read ", path_));
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  absl::Status WriteAt(uint64_t position, absl::string_view data) override {
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = pwrite(fd_, data.data() + done, data.size() - done,
                               static_cast<off_t>(position + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoToStatus(errno, absl::StrCat("write ", path_));
      }
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    return CountedSync([this] { return fdatasync(fd_); },
                       absl::StrCat("fdatasync ", path_));
  }

  absl::Status Truncate(uint64_t size) override {
    while (ftruncate(fd_, static_cast<off_t>(size)) != 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, absl::StrCat("truncate ", path_));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Size() const override {
    struct stat st;
    if (fstat(fd_, &st) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("stat ", path_));
    }
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  const std::string path_;
  const int fd_;
};

// Direct writes need at least whole pages: 4 KiB physical sectors are the
// norm, and the page cache invalidates whole pages anyway.
constexpr size_t kMinDirectAlignment = 4096;

size_t DirectAlignment(int fd) {
  size_t alignment = kMinDirectAlignment;
#ifdef STATX_DIOALIGN
  struct statx info;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &info) == 0 &&
      (info.stx_mask & STATX_DIOALIGN) != 0) {
    const size_t wanted = std::max<size_t>(info.stx_dio_offset_align,
                                           info.stx_dio_mem_align);
    while (alignment < wanted) alignment *= 2;
  }
#else
  (void)fd;
#endif
  return alignment;
}

class PosixDirectFile final : public DirectFile {
 public:
  PosixDirectFile(std::string path, int fd, size_t alignment,
                  std::unique_ptr<AioWriter> writer)
      : path_(std::move(path)),
        fd_(fd),
        alignment_(alignment),
        writer_(std::move(writer)) {
    GlobalMetrics().open_files.Add();
  }
  ~PosixDirectFile() override {
    writer_.reset();  // no write is in flight once WriteDurably returned
    close(fd_);
    GlobalMetrics().open_files.Sub();
  }

  const std::string& path() const override { return path_; }
  size_t alignment() const override { return alignment_; }

  absl::Status WriteDurably(uint64_t position,
                            absl::Span<const char> data) override {
    if (position % alignment_ != 0 || data.size() % alignment_ != 0 ||
        reinterpret_cast<uintptr_t>(data.data()) % alignment_ != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "direct write ", path_, ": ", data.size(), " bytes at position ",
          position, " are not aligned to ", alignment_));
    }
    // A durable write does an fdatasync's job: counted as one.
    EngineMetrics& metrics = GlobalMetrics();
    const int64_t start = MonotonicMicros();
    absl::Status written = writer_->Write(fd_, path_, position, data);
    metrics.fsyncs.Add();
    metrics.fsync_latency_us.Record(
        static_cast<uint64_t>(MonotonicMicros() - start));
    if (!written.ok()) metrics.fsync_failures.Add();
    return written;
  }

 private:
  const std::string path_;
  const int fd_;
  const size_t alignment_;
  std::unique_ptr<AioWriter> writer_;
};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  // Closing the descriptor releases the flock.
  ~PosixFileLock() override { close(fd_); }

 private:
  const int fd_;
};

class PosixEnv final : public Env {
 public:
  explicit PosixEnv(const FilePermissions& permissions)
      : permissions_(permissions) {}

  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path,
                                                 OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kReadOnly:
        flags |= O_RDONLY;
        break;
      case OpenMode::kReadWrite:
        flags |= O_RDWR;
        break;
      case OpenMode::kCreate:
        flags |= O_RDWR | O_CREAT;
        break;
      case OpenMode::kCreateExclusive:
        flags |= O_RDWR | O_CREAT | O_EXCL;
        break;
    }
    int fd;
    do {
      fd = open(path.c_str(), flags, permissions_.file_mode);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
    return std::make_unique<PosixFile>(path, fd);
  }

  absl::StatusOr<std::unique_ptr<File>> OpenForDirectRead(
      const File& file) override {
    // The magic link names the open file's inode, unlinked or not.
    const std::string link = absl::StrCat("/proc/self/fd/", file.fd());
    int fd;
    do {
      fd = open(link.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      return ErrnoToStatus(
          errno, absl::StrCat("open ", file.path(), " for direct reads (",
                              link, ")"));
    }
    return std::make_unique<PosixFile>(file.path(), fd);
  }

  absl::StatusOr<std::unique_ptr<DirectFile>> OpenDirectFile(
      const std::string& path,
      std::shared_ptr<AioContextPool> contexts) override {
    int fd;
    do {
      fd = open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
      if (errno == EINVAL) {
        return absl::FailedPreconditionError(absl::StrCat(
            "open ", path, " for direct writes: its file system does not "
            "support O_DIRECT (write.mode=direct needs one that does)"));
      }
      return ErrnoToStatus(errno, absl::StrCat("open ", path, " (O_DIRECT)"));
    }
    const size_t alignment = DirectAlignment(fd);
    absl::StatusOr<std::unique_ptr<AioWriter>> writer =
        AioWriter::Create(std::move(contexts));
    if (!writer.ok()) {
      close(fd);
      return writer.status();
    }
    return std::make_unique<PosixDirectFile>(path, fd, alignment,
                                             *std::move(writer));
  }

  absl::StatusOr<Mapping> MapFile(const File& file, size_t length,
                                  bool writable) override {
    if (length == 0) return Mapping();
    const int protection = writable ? PROT_READ | PROT_WRITE : PROT_READ;
    void* address = mmap(nullptr, length, protection, MAP_SHARED, file.fd(), 0);
    if (address == MAP_FAILED) {
      return ErrnoToStatus(errno, absl::StrCat("mmap ", file.path()));
    }
    return Mapping(address, length);
  }

  absl::StatusOr<Mapping> MapAnonymous(size_t length) override {
    if (length == 0) return Mapping();
    void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (address == MAP_FAILED) {
      return ErrnoToStatus(errno, "mmap anonymous");
    }
    return Mapping(address, length);
  }

  absl::Status RenameFile(const std::string& from,
                          const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("rename ", from, " to ", to));
    }
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (unlink(path.c_str()) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("remove ", path));
    }
    return absl::OkStatus();
  }

  absl::Status LinkFile(const std::string& from,
                        const std::string& to) override {
    if (link(from.c_str(), to.c_str()) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("link ", from, " to ", to));
    }
    return absl::OkStatus();
  }

  absl::Status CreateDir(const std::string& path) override {
    if (mkdir(path.c_str(), permissions_.directory_mode) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("create directory ", path));
    }
    return absl::OkStatus();
  }

  absl::Status RemoveDir(const std::string& path) override {
    if (rmdir(path.c_str()) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("remove directory ", path));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) override {
    DIR* dir = opendir(path.c_str());
    if (dir == nullptr) {
      return ErrnoToStatus(errno, absl::StrCat("list directory ", path));
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* entry = readdir(dir)) {
      const absl::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
      errno = 0;
    }
    const int read_error = errno;
    closedir(dir);
    if (read_error != 0) {
      return ErrnoToStatus(read_error, absl::StrCat("list directory ", path));
    }
    return names;
  }

  absl::StatusOr<FileInfo> Stat(const std::string& path) override {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("stat ", path));
    }
    FileInfo info;
    info.is_directory = S_ISDIR(st.st_mode);
    info.size = static_cast<uint64_t>(st.st_size);
    info.modified_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 +
                       st.st_mtim.tv_nsec / 1000000;
    info.hard_links = static_cast<uint64_t>(st.st_nlink);
    info.device = static_cast<uint64_t>(st.st_dev);
    info.inode = static_cast<uint64_t>(st.st_ino);
    return info;
  }

  absl::Status SyncDir(const std::string& path) override {
    const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
    absl::Status synced = CountedSync([fd] { return fsync(fd); },
                                      absl::StrCat("fsync directory ", path));
    close(fd);
    return synced;
  }

  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) override {
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC,
                        permissions_.file_mode);
    if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int lock_error = errno;
      std::string holder = ReadHolder(fd);
      close(fd);
      if (lock_error == EWOULDBLOCK) {
        return WithErrorKind(
            absl::FailedPreconditionError(absl::StrCat(
                path, " is locked by another writer",
                holder.empty() ? "" : absl::StrCat(" (pid ", holder, ")"))),
            ErrorKind::kLocked);
      }
      return ErrnoToStatus(lock_error, absl::StrCat("lock ", path));
    }
    const std::string pid = absl::StrCat(getpid(), "\n");
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) !=
                                     static_cast<ssize_t>(pid.size())) {
      const int write_error = errno;
      close(fd);
      return ErrnoToStatus(write_error, absl::StrCat("write ", path));
    }
    return std::make_unique<PosixFileLock>(fd);
  }

  absl::StatusOr<uint64_t> AvailableBytes(const std::string& path) override {
    struct statvfs info;
    while (statvfs(path.c_str(), &info) != 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, absl::StrCat("statvfs ", path));
    }
    return static_cast<uint64_t>(info.f_bavail) *
           static_cast<uint64_t>(info.f_frsize);
  }

  int64_t NowMs() override {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
  }

 private:
  static std::string ReadHolder(int fd) {
    char buffer[32];
    const ssize_t n = pread(fd, buffer, sizeof(buffer) - 1, 0);
    if (n <= 0) return "";
    int pid = 0;
    if (!absl::SimpleAtoi(
            absl::StripTrailingAsciiWhitespace(absl::string_view(buffer, n)),
            &pid)) {
      return "";
    }
    return absl::StrCat(pid);
  }

  const FilePermissions permissions_;
};

}  // namespace

absl::Status FilePermissions::Validate() const {
  if ((file_mode & ~0777u) != 0 || (file_mode & 0600u) != 0600u) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "file mode %04o must lie within 0777 and let the owner read and "
        "write (0600)",
        file_mode));
  }
  if ((directory_mode & ~0777u) != 0 || (directory_mode & 0700u) != 0700u) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "directory mode %04o must lie within 0777 and let the owner list, "
        "enter and change it (0700)",
        directory_mode));
  }
  return absl::OkStatus();
}

Env* Env::Default() {
  static Env* const env = new PosixEnv(FilePermissions{});
  return env;
}

absl::StatusOr<Env*> Env::Posix(const FilePermissions& permissions) {
  RETURN_IF_ERROR(permissions.Validate());
  if (permissions == FilePermissions{}) return Default();
  // Few stores ask for other modes, and each distinct pair is one small
  // object for the life of the process.
  static Mutex mu;
  static auto* const envs =
      new std::vector<std::pair<FilePermissions, std::unique_ptr<Env>>>();
  MutexLock lock(&mu);
  for (const auto& [known, env] : *envs) {
    if (known == permissions) return env.get();
  }
  envs->emplace_back(permissions, std::make_unique<PosixEnv>(permissions));
  return envs->back().second.get();
}

}  // namespace shiplog
