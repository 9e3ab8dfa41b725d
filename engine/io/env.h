// Env: the seam between the engine and the operating system.
//
// Every file operation, memory mapping, directory change and clock read the
// engine performs goes through an Env, so tests can count I/O, inject faults
// (EIO, ENOSPC, short writes, failed fsync) and fake time without touching
// engine code. Env::Default() is the real POSIX implementation.
//
// Thread-safety: Env implementations are thread-safe. A File's const methods
// (positional reads, size) are thread-safe; its mutating methods must be
// serialized by the owner.
#ifndef SHIPLOG_ENGINE_IO_ENV_H_
#define SHIPLOG_ENGINE_IO_ENV_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/io/mapping.h"

namespace shiplog {

class AioContextPool;  // engine/io/aio_context_pool.h

// An open file descriptor. Closed when destroyed.
class File {
 public:
  virtual ~File() = default;

  virtual const std::string& path() const = 0;
  // The descriptor, for calls that need one (sendfile, mmap); owned by File.
  virtual int fd() const = 0;

  // Reads up to dst.size() bytes at `position`. Returns the count read,
  // which is short only at end of file. Retries EINTR.
  virtual absl::StatusOr<size_t> ReadAt(uint64_t position,
                                        absl::Span<char> dst) const = 0;
  // Writes all of `data` at `position`, looping over short writes. On error
  // some prefix of `data` may have been written.
  virtual absl::Status WriteAt(uint64_t position, absl::string_view data) = 0;
  // fdatasync(2): data and the metadata needed to read it are durable.
  virtual absl::Status Sync() = 0;
  // ftruncate(2) to `size` bytes (shrinks or zero-extends).
  virtual absl::Status Truncate(uint64_t size) = 0;
  virtual absl::StatusOr<uint64_t> Size() const = 0;
};

// A file opened for durable direct writes (O_DIRECT), beside the File the
// engine reads it through. Positions, lengths and buffer addresses must be
// multiples of alignment(); the page cache is bypassed, and the written
// range of it invalidated, so buffered readers of the same file read the
// new bytes from the device. Closed when destroyed.
class DirectFile {
 public:
  virtual ~DirectFile() = default;

  virtual const std::string& path() const = 0;
  // The write alignment in bytes, a power of two >= 4096: the file
  // system's direct-I/O offset alignment (statx STATX_DIOALIGN), raised to
  // at least 4096 (whole pages; no device read-modify-write of 4 KiB
  // physical sectors), or 4096 where the kernel does not say.
  virtual size_t alignment() const = 0;
  // Writes all of `data` at `position` and returns once it is durable: the
  // bytes and the metadata needed to read them (file size) are on stable
  // storage, as after pwrite + fdatasync. kInvalidArgument for a request
  // that is not aligned. On error an unknown prefix of `data` may have
  // reached the file, and none of it is known to be durable. One write at
  // a time.
  virtual absl::Status WriteDurably(uint64_t position,
                                    absl::Span<const char> data) = 0;
};

// An advisory lock held until destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

enum class OpenMode {
  kReadOnly,         // must exist
  kReadWrite,        // must exist
  kCreate,           // read-write, created if missing
  kCreateExclusive,  // read-write, must not exist
};

struct FileInfo {
  bool is_directory = false;
  uint64_t size = 0;
  int64_t modified_ms = 0;
  // Names the file has (st_nlink): more than one means a hard link shares
  // it (a backup's), so it must not be changed in place.
  uint64_t hard_links = 1;
  // Which file it is (st_dev, st_ino): equal pairs are the same file.
  uint64_t device = 0;
  uint64_t inode = 0;
};

// The modes new files and directories get, before the umask.
struct FilePermissions {
  uint32_t file_mode = 0640;
  uint32_t directory_mode = 0750;

  // kInvalidArgument for bits beyond 0777, or modes that would lock the
  // owner out (files need 0600, directories 0700).
  absl::Status Validate() const;
  friend bool operator==(const FilePermissions&,
                         const FilePermissions&) = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The process-wide POSIX Env, with the default FilePermissions. Never
  // destroyed; safe to use from any thread.
  static Env* Default();
  // A POSIX Env that creates files and directories with `permissions`.
  // Never destroyed either (segments may outlive the store that opened
  // them): one instance per distinct permissions. Errors as Validate.
  static absl::StatusOr<Env*> Posix(const FilePermissions& permissions);

  // Opens `path`; new files get the Env's file mode (POSIX: 0640 by
  // default, before umask).
  virtual absl::StatusOr<std::unique_ptr<File>> OpenFile(
      const std::string& path, OpenMode mode) = 0;

  // A second, read-only descriptor of the very file `file` is open on,
  // with O_DIRECT: its reads bypass the page cache and must be aligned
  // (aio_reader.h). It names the inode, not the path, so a file retention
  // already unlinked still opens (Linux reopens it through
  // /proc/self/fd/N). kInvalidArgument (EINVAL) where the file system has
  // no direct I/O; kNotFound (ENOENT) without /proc. The default, for Envs
  // that model files a second descriptor would bypass, fails with
  // kUnimplemented: such callers read through the page cache.
  virtual absl::StatusOr<std::unique_ptr<File>> OpenForDirectRead(
      const File& file);

  // Opens the existing file `path` for durable direct writes (O_DIRECT,
  // written through an AIO context: engine/io/aio_writer.h), taking the
  // context from `contexts` and giving it back when the file is closed, or
  // with one of its own when `contexts` is null. kFailedPrecondition when
  // its file system does not do direct I/O (tmpfs, for one);
  // kResourceExhausted when no AIO context is left. The default, for Envs
  // without direct I/O, is kUnimplemented.
  virtual absl::StatusOr<std::unique_ptr<DirectFile>> OpenDirectFile(
      const std::string& path, std::shared_ptr<AioContextPool> contexts);

  // Maps the first `length` bytes of `file` shared, read-only or
  // read-write. The mapping stays valid after `file` is closed; touching a
  // page wholly past the file's end raises SIGBUS, so callers map only what
  // the file holds (or first extend it).
  virtual absl::StatusOr<Mapping> MapFile(const File& file, size_t length,
                                          bool writable) = 0;
  // Private zero-filled read-write memory, for indexes built in memory.
  virtual absl::StatusOr<Mapping> MapAnonymous(size_t length) = 0;

  virtual absl::Status RenameFile(const std::string& from,
                                  const std::string& to) = 0;
  virtual absl::Status RemoveFile(const std::string& path) = 0;
  // link(2): `to` becomes another name of the file `from`. Where that
  // cannot be (EXDEV across file systems, EPERM or ENOTSUP where the file
  // system has no hard links) the status carries the errno and the caller
  // copies instead. The default, for Envs that model files a link would
  // bypass, fails with kUnimplemented: such callers always copy.
  virtual absl::Status LinkFile(const std::string& from, const std::string& to);
  // Creates a directory with the Env's directory mode (POSIX: 0750 by
  // default, before umask). kAlreadyExists if anything exists at `path`.
  virtual absl::Status CreateDir(const std::string& path) = 0;
  // Removes an empty directory.
  virtual absl::Status RemoveDir(const std::string& path) = 0;
  // The names in a directory, without "." and "..", in no particular order.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) = 0;
  // kNotFound if nothing exists at `path`.
  virtual absl::StatusOr<FileInfo> Stat(const std::string& path) = 0;
  // fsync(2) on a directory, making created, renamed and removed entries
  // durable.
  virtual absl::Status SyncDir(const std::string& path) = 0;
  // Takes an exclusive, non-blocking advisory lock on `path` (created if
  // missing) and writes this process's pid into it. kFailedPrecondition,
  // naming the holder's pid when known, if another holder has it; the lock
  // is per open file, so a second lock from the same process fails too.
  virtual absl::StatusOr<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) = 0;

  // Bytes an unprivileged writer may still use on the file system holding
  // `path` (statvfs(3) f_bavail * f_frsize): the free-space guard's input.
  virtual absl::StatusOr<uint64_t> AvailableBytes(const std::string& path) = 0;

  // Wall-clock time in milliseconds since the Unix epoch: record
  // timestamps, segment age, retention and flush deadlines all use it.
  virtual int64_t NowMs() = 0;
};

// Reads exactly dst.size() bytes at `position`; kDataLoss if the file ends
// first (the caller asked for bytes it had reason to believe exist).
absl::Status ReadFully(const File& file, uint64_t position,
                       absl::Span<char> dst);

// The suffix of the temporary file behind an atomic write.
inline constexpr absl::string_view kTemporaryFileSuffix = ".tmp";

// Writes `contents` to `path` atomically and durably: a temporary file
// beside it (`path` + kTemporaryFileSuffix), fdatasync, rename over `path`,
// fsync of the directory.
absl::Status WriteFileAtomically(Env* env, const std::string& path,
                                 absl::string_view contents);

// Reads a whole (small) file into memory.
absl::StatusOr<std::string> ReadSmallFile(Env* env, const std::string& path);

// "<directory>/<name>".
std::string JoinPath(absl::string_view directory, absl::string_view name);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_IO_ENV_H_
