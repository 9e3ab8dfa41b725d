#include "tests/engine/test_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/status/errno_status.h"

namespace shiplog::testing {
namespace {

// Forwards to the real file, counting reads and failing writes and syncs
// as the TestEnv says.
class TestFile final : public File {
 public:
  TestFile(TestEnv* env, std::unique_ptr<File> base)
      : env_(env), base_(std::move(base)) {}

  const std::string& path() const override { return base_->path(); }
  int fd() const override { return base_->fd(); }

  absl::StatusOr<size_t> ReadAt(uint64_t position,
                                absl::Span<char> dst) const override {
    absl::StatusOr<size_t> n = base_->ReadAt(position, dst);
    if (n.ok()) env_->RecordRead(base_->path(), *n);
    return n;
  }
  absl::Status WriteAt(uint64_t position, absl::string_view data) override {
    if (const int error = env_->write_errno(); error != 0) {
      return ErrnoToStatus(error, absl::StrCat("write ", path()));
    }
    return base_->WriteAt(position, data);
  }
  absl::Status Sync() override {
    env_->CountSync();
    if (const int error = env_->sync_errno(); error != 0) {
      return ErrnoToStatus(error, absl::StrCat("fdatasync ", path()));
    }
    if (env_->skip_syncs()) return absl::OkStatus();
    return base_->Sync();
  }
  absl::Status Truncate(uint64_t size) override {
    return base_->Truncate(size);
  }
  absl::StatusOr<uint64_t> Size() const override { return base_->Size(); }

 private:
  TestEnv* const env_;
  const std::unique_ptr<File> base_;
};

// A direct file whose descriptor the kernel cannot read from: /dev/null
// opened write-only, so io_submit refuses every read with EBADF.
class BrokenDirectFile final : public File {
 public:
  BrokenDirectFile(std::unique_ptr<File> base, int write_only_fd)
      : base_(std::move(base)), fd_(write_only_fd) {}
  ~BrokenDirectFile() override { close(fd_); }

  const std::string& path() const override { return base_->path(); }
  int fd() const override { return fd_; }
  absl::StatusOr<size_t> ReadAt(uint64_t, absl::Span<char>) const override {
    return ErrnoToStatus(EBADF, absl::StrCat("read ", path()));
  }
  absl::Status WriteAt(uint64_t, absl::string_view) override {
    return ErrnoToStatus(EBADF, absl::StrCat("write ", path()));
  }
  absl::Status Sync() override { return base_->Sync(); }
  absl::Status Truncate(uint64_t size) override {
    return base_->Truncate(size);
  }
  absl::StatusOr<uint64_t> Size() const override { return base_->Size(); }

 private:
  const std::unique_ptr<File> base_;
  const int fd_;
};

// Forwards to the real direct file, after the TestEnv's gate.
class TestDirectFile final : public DirectFile {
 public:
  TestDirectFile(TestEnv* env, std::unique_ptr<DirectFile> base)
      : env_(env), base_(std::move(base)) {}

  const std::string& path() const override { return base_->path(); }
  size_t alignment() const override { return base_->alignment(); }
  absl::Status WriteDurably(uint64_t position,
                            absl::Span<const char> data) override {
    env_->PassDirectWriteGate();
    if (const int error = env_->write_errno(); error != 0) {
      return ErrnoToStatus(error, absl::StrCat("direct write ", path()));
    }
    return base_->WriteDurably(position, data);
  }

 private:
  TestEnv* const env_;
  const std::unique_ptr<DirectFile> base_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<File>> TestEnv::OpenForDirectRead(
    const File& file) {
  if (const int error = direct_open_errno_.load(); error != 0) {
    return ErrnoToStatus(
        error, absl::StrCat("open ", file.path(), " for direct reads "
                                                  "(injected)"));
  }
  absl::StatusOr<std::unique_ptr<File>> direct =
      base_->OpenForDirectRead(file);
  if (!direct.ok()) return direct.status();
  direct_open_count_.fetch_add(1);
  if (!direct_reads_broken_.load()) return direct;
  const int write_only = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (write_only < 0) return ErrnoToStatus(errno, "open /dev/null");
  return std::unique_ptr<File>(
      new BrokenDirectFile(*std::move(direct), write_only));
}

absl::StatusOr<std::unique_ptr<DirectFile>> TestEnv::OpenDirectFile(
    const std::string& path, std::shared_ptr<AioContextPool> contexts) {
  {
    MutexLock lock(&mu_);
    last_direct_write_contexts_ = contexts;
  }
  absl::StatusOr<std::unique_ptr<DirectFile>> file =
      base_->OpenDirectFile(path, std::move(contexts));
  if (!file.ok()) return file.status();
  direct_write_open_count_.fetch_add(1);
  return std::unique_ptr<DirectFile>(new TestDirectFile(this, *std::move(file)));
}

void TestEnv::CloseDirectWriteGate() {
  MutexLock lock(&gate_mu_);
  gate_closed_ = true;
}

void TestEnv::OpenDirectWriteGate() {
  MutexLock lock(&gate_mu_);
  gate_closed_ = false;
  gate_cv_.SignalAll();
}

void TestEnv::WaitForDirectWritesAtGate(int count) {
  MutexLock lock(&gate_mu_);
  gate_cv_.Wait(&gate_mu_, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return waiting_at_gate_ >= count;
  });
}

void TestEnv::PassDirectWriteGate() {
  direct_write_count_.fetch_add(1);
  MutexLock lock(&gate_mu_);
  ++waiting_at_gate_;
  gate_cv_.SignalAll();
  gate_cv_.Wait(&gate_mu_, [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return !gate_closed_;
  });
  --waiting_at_gate_;
}

absl::StatusOr<std::unique_ptr<File>> TestEnv::OpenFile(const std::string& path,
                                                        OpenMode mode) {
  absl::StatusOr<std::unique_ptr<File>> file = base_->OpenFile(path, mode);
  if (!file.ok()) return file.status();
  return std::unique_ptr<File>(new TestFile(this, *std::move(file)));
}

absl::StatusOr<Mapping> TestEnv::MapFile(const File& file, size_t length,
                                         bool writable) {
  return base_->MapFile(file, length, writable);
}

absl::Status TestEnv::SyncDir(const std::string& path) {
  CountSync();
  if (const int error = sync_errno(); error != 0) {
    return ErrnoToStatus(error, absl::StrCat("fsync directory ", path));
  }
  if (skip_syncs()) return absl::OkStatus();
  return base_->SyncDir(path);
}

absl::Status TestEnv::LinkFile(const std::string& from, const std::string& to) {
  if (const int error = link_errno_.load(); error != 0) {
    return ErrnoToStatus(error, absl::StrCat("link ", from, " to ", to));
  }
  link_count_.fetch_add(1);
  return base_->LinkFile(from, to);
}

void TestEnv::RecordRead(const std::string& path, uint64_t bytes) {
  MutexLock lock(&mu_);
  bytes_read_[path] += bytes;
}

uint64_t TestEnv::BytesReadFromFilesEndingWith(
    const std::string& suffix) const {
  MutexLock lock(&mu_);
  uint64_t total = 0;
  for (const auto& [path, bytes] : bytes_read_) {
    if (absl::EndsWith(path, suffix)) total += bytes;
  }
  return total;
}

uint64_t TestEnv::BytesReadFrom(const std::string& path) const {
  MutexLock lock(&mu_);
  auto it = bytes_read_.find(path);
  return it == bytes_read_.end() ? 0 : it->second;
}

void TestEnv::ResetReadCounts() {
  MutexLock lock(&mu_);
  bytes_read_.clear();
}

}  // namespace shiplog::testing
