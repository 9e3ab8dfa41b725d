#include "tests/engine/fault_env.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"

namespace shiplog::testing {
namespace {

absl::StatusOr<struct stat> StatNoFollow(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("lstat ", path));
  }
  return st;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  std::string contents;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      return ErrnoToStatus(error, absl::StrCat("read ", path));
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  return contents;
}

absl::Status WriteWholeFile(const std::string& path,
                            const std::string& contents) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                      0640);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      close(fd);
      return ErrnoToStatus(error, absl::StrCat("write ", path));
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
  return absl::OkStatus();
}

absl::Status RemoveTree(Env* env, const std::string& path) {
  ASSIGN_OR_RETURN(const struct stat st, StatNoFollow(path));
  if (!S_ISDIR(st.st_mode)) return env->RemoveFile(path);
  ASSIGN_OR_RETURN(const std::vector<std::string> names, env->ListDir(path));
  for (const std::string& name : names) {
    RETURN_IF_ERROR(RemoveTree(env, JoinPath(path, name)));
  }
  return env->RemoveDir(path);
}

absl::Status InjectedError(int error_number, absl::string_view what,
                           absl::string_view path) {
  return ErrnoToStatus(error_number,
                       absl::StrCat(what, " ", path, " (injected fault)"));
}

// Forwards to the real file, failing, shortening and recording as the
// FaultInjectionEnv decides.
class FaultFile final : public File {
 public:
  FaultFile(FaultInjectionEnv* env, std::unique_ptr<File> base)
      : env_(env), base_(std::move(base)) {}

  const std::string& path() const override { return base_->path(); }
  int fd() const override { return base_->fd(); }

  absl::StatusOr<size_t> ReadAt(uint64_t position,
                                absl::Span<char> dst) const override {
    return base_->ReadAt(position, dst);
  }

  absl::Status WriteAt(uint64_t position, absl::string_view data) override {
    ASSIGN_OR_RETURN(const uint64_t size, base_->Size());
    const FaultInjectionEnv::WritePlan plan =
        env_->PlanWrite(size, position, data.size());
    if (plan.bytes > 0) {
      RETURN_IF_ERROR(base_->WriteAt(position, data.substr(0, plan.bytes)));
    }
    if (plan.error_number != 0) {
      return InjectedError(plan.error_number, "write", path());
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (const int error = env_->NextFault(&FaultPlan::sync_error_one_in, EIO);
        error != 0) {
      return InjectedError(error, "fdatasync", path());
    }
    RETURN_IF_ERROR(base_->Sync());
    ASSIGN_OR_RETURN(const uint64_t size, base_->Size());
    std::string contents(size, '\0');
    RETURN_IF_ERROR(ReadFully(*base_, 0, absl::MakeSpan(contents)));
    env_->RecordSynced(base_->fd(), std::move(contents));
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    if (const int error =
            env_->NextFault(&FaultPlan::truncate_error_one_in, EIO);
        error != 0) {
      return InjectedError(error, "truncate", path());
    }
    ASSIGN_OR_RETURN(const uint64_t before, base_->Size());
    RETURN_IF_ERROR(base_->Truncate(size));
    // Extending is sparse (no blocks used); shrinking frees blocks.
    if (size < before) env_->GiveBack(before - size);
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Size() const override { return base_->Size(); }

 private:
  FaultInjectionEnv* const env_;
  const std::unique_ptr<File> base_;
};

// The alignment direct files are checked against.
constexpr size_t kDirectAlignment = 4096;

// A direct file modelled over the real (buffered) file: see the header.
class FaultDirectFile final : public DirectFile {
 public:
  FaultDirectFile(FaultInjectionEnv* env, std::unique_ptr<File> base)
      : env_(env), base_(std::move(base)) {}

  const std::string& path() const override { return base_->path(); }
  size_t alignment() const override { return kDirectAlignment; }

  absl::Status WriteDurably(uint64_t position,
                            absl::Span<const char> data) override {
    if (position % kDirectAlignment != 0 ||
        data.size() % kDirectAlignment != 0 ||
        reinterpret_cast<uintptr_t>(data.data()) % kDirectAlignment != 0) {
      return InjectedError(EINVAL, "unaligned direct write", path());
    }
    env_->CountDirectWrite();
    const absl::string_view bytes(data.data(), data.size());
    ASSIGN_OR_RETURN(const uint64_t size, base_->Size());
    const FaultInjectionEnv::WritePlan plan =
        env_->PlanWrite(size, position, bytes.size());
    if (plan.bytes > 0) {
      RETURN_IF_ERROR(base_->WriteAt(position, bytes.substr(0, plan.bytes)));
    }
    if (plan.error_number != 0) {
      return InjectedError(plan.error_number, "direct write", path());
    }
    if (const int error = env_->NextFault(&FaultPlan::sync_error_one_in, EIO);
        error != 0) {
      return InjectedError(error, "direct write (sync)", path());
    }
    RETURN_IF_ERROR(base_->Sync());
    env_->RecordSyncedRange(base_->fd(), position, bytes);
    return absl::OkStatus();
  }

 private:
  FaultInjectionEnv* const env_;
  const std::unique_ptr<File> base_;
};

}  // namespace

void FaultInjectionEnv::SetPlan(const FaultPlan& plan) {
  MutexLock lock(&mu_);
  plan_ = plan;
  random_.seed(plan.seed);
}

void FaultInjectionEnv::ClearFaults() {
  MutexLock lock(&mu_);
  plan_ = FaultPlan{};
  scheduled_.clear();
  kill_at_ = 0;
  available_bytes_.reset();
}

void FaultInjectionEnv::FailOperation(uint64_t n, int error_number) {
  MutexLock lock(&mu_);
  scheduled_[operations_.load() + n] = error_number;
}

void FaultInjectionEnv::KillAtOperation(uint64_t n) {
  MutexLock lock(&mu_);
  kill_at_ = operations_.load() + n;
}

void FaultInjectionEnv::SetAvailableBytes(std::optional<uint64_t> bytes) {
  MutexLock lock(&mu_);
  available_bytes_ = bytes;
}

uint64_t FaultInjectionEnv::Uniform(uint64_t bound) {
  return bound == 0 ? 0 : random_() % bound;
}

int FaultInjectionEnv::NextFault(uint32_t FaultPlan::*one_in,
                                 int error_number) {
  if (killed_.load()) return EIO;
  const uint64_t operation = operations_.fetch_add(1) + 1;
  MutexLock lock(&mu_);
  if (operation == kill_at_) {
    killed_.store(true);
    return EIO;
  }
  int fault = 0;
  if (auto it = scheduled_.find(operation); it != scheduled_.end()) {
    fault = it->second;
    scheduled_.erase(it);
  } else if (const uint32_t n = plan_.*one_in; n != 0 && Uniform(n) == 0) {
    fault = error_number;
  }
  if (fault != 0) faults_injected_.fetch_add(1);
  return fault;
}

FaultInjectionEnv::WritePlan FaultInjectionEnv::PlanWrite(uint64_t file_size,
                                                          uint64_t position,
                                                          size_t size) {
  if (killed_.load()) return {0, EIO};
  const uint64_t operation = operations_.fetch_add(1) + 1;
  MutexLock lock(&mu_);
  if (operation == kill_at_) {
    killed_.store(true);
    return {static_cast<size_t>(Uniform(size)), EIO};
  }
  WritePlan plan{size, 0};
  if (auto it = scheduled_.find(operation); it != scheduled_.end()) {
    plan = {static_cast<size_t>(Uniform(size)), it->second};
    scheduled_.erase(it);
  } else if (plan_.write_error_one_in != 0 &&
             Uniform(plan_.write_error_one_in) == 0) {
    plan = {static_cast<size_t>(Uniform(size)), EIO};
  } else if (plan_.disk_full_one_in != 0 &&
             Uniform(plan_.disk_full_one_in) == 0) {
    plan = {static_cast<size_t>(Uniform(size)), ENOSPC};
  }
  if (plan.error_number != 0) faults_injected_.fetch_add(1);
  if (available_bytes_.has_value()) {
    // Growth past the budget does not fit: write up to it, then ENOSPC.
    const uint64_t allowed_end = file_size + *available_bytes_;
    if (position + plan.bytes > allowed_end) {
      plan.bytes = position >= allowed_end ? 0 : allowed_end - position;
      plan.error_number = ENOSPC;
    }
    const uint64_t end = position + plan.bytes;
    if (end > file_size) *available_bytes_ -= end - file_size;
  }
  return plan;
}

void FaultInjectionEnv::GiveBack(uint64_t bytes) {
  MutexLock lock(&mu_);
  if (available_bytes_.has_value()) *available_bytes_ += bytes;
}

void FaultInjectionEnv::RecordSynced(int fd, std::string contents) {
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  MutexLock lock(&mu_);
  durable_data_[{st.st_dev, st.st_ino}] = std::move(contents);
}

void FaultInjectionEnv::RecordSyncedRange(int fd, uint64_t position,
                                          absl::string_view data) {
  struct stat st;
  if (fstat(fd, &st) != 0) return;
  MutexLock lock(&mu_);
  std::string& durable = durable_data_[{st.st_dev, st.st_ino}];
  if (durable.size() < position + data.size()) {
    durable.resize(position + data.size(), '\0');
  }
  durable.replace(position, data.size(), data.data(), data.size());
}

absl::StatusOr<std::unique_ptr<DirectFile>> FaultInjectionEnv::OpenDirectFile(
    const std::string& path, std::shared_ptr<AioContextPool> /*contexts*/) {
  ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                   base_->OpenFile(path, OpenMode::kReadWrite));
  return std::unique_ptr<DirectFile>(new FaultDirectFile(this, std::move(file)));
}

absl::StatusOr<std::unique_ptr<File>> FaultInjectionEnv::OpenFile(
    const std::string& path, OpenMode mode) {
  if (mode == OpenMode::kCreate || mode == OpenMode::kCreateExclusive) {
    if (const int error = NextFault(&FaultPlan::create_error_one_in, EIO);
        error != 0) {
      return InjectedError(error, "open", path);
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<File> file, base_->OpenFile(path, mode));
  return std::unique_ptr<File>(new FaultFile(this, std::move(file)));
}

absl::StatusOr<Mapping> FaultInjectionEnv::MapFile(const File& file,
                                                   size_t length,
                                                   bool writable) {
  if (writable) {
    if (const int error = NextFault(&FaultPlan::map_error_one_in, ENOMEM);
        error != 0) {
      return InjectedError(error, "mmap", file.path());
    }
  }
  return base_->MapFile(file, length, writable);
}

absl::Status FaultInjectionEnv::RenameFile(const std::string& from,
                                           const std::string& to) {
  if (const int error = NextFault(&FaultPlan::rename_error_one_in, EIO);
      error != 0) {
    return InjectedError(error, "rename", from);
  }
  return base_->RenameFile(from, to);
}

absl::Status FaultInjectionEnv::RemoveFile(const std::string& path) {
  if (const int error = NextFault(&FaultPlan::remove_error_one_in, EIO);
      error != 0) {
    return InjectedError(error, "remove", path);
  }
  const absl::StatusOr<FileInfo> info = base_->Stat(path);
  RETURN_IF_ERROR(base_->RemoveFile(path));
  if (info.ok()) GiveBack(info->size);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::CreateDir(const std::string& path) {
  if (const int error = NextFault(&FaultPlan::create_error_one_in, EIO);
      error != 0) {
    return InjectedError(error, "create directory", path);
  }
  return base_->CreateDir(path);
}

absl::Status FaultInjectionEnv::RemoveDir(const std::string& path) {
  if (const int error = NextFault(&FaultPlan::remove_error_one_in, EIO);
      error != 0) {
    return InjectedError(error, "remove directory", path);
  }
  return base_->RemoveDir(path);
}

absl::Status FaultInjectionEnv::SyncDir(const std::string& path) {
  if (const int error = NextFault(&FaultPlan::sync_error_one_in, EIO);
      error != 0) {
    return InjectedError(error, "fsync directory", path);
  }
  RETURN_IF_ERROR(base_->SyncDir(path));
  MutexLock lock(&mu_);
  return RecordDirectory(path, /*recursive=*/false);
}

absl::StatusOr<uint64_t> FaultInjectionEnv::AvailableBytes(
    const std::string& path) {
  {
    MutexLock lock(&mu_);
    if (available_bytes_.has_value()) return *available_bytes_;
  }
  return base_->AvailableBytes(path);
}

absl::Status FaultInjectionEnv::RecordDirectory(const std::string& directory,
                                                bool recursive) {
  ASSIGN_OR_RETURN(const struct stat self, StatNoFollow(directory));
  ASSIGN_OR_RETURN(const std::vector<std::string> names,
                   base_->ListDir(directory));
  DirectoryEntries entries;
  for (const std::string& name : names) {
    const std::string path = JoinPath(directory, name);
    ASSIGN_OR_RETURN(const struct stat st, StatNoFollow(path));
    const DurableEntry entry{{st.st_dev, st.st_ino}, S_ISDIR(st.st_mode)};
    entries[name] = entry;
    if (!recursive) continue;
    if (entry.is_directory) {
      RETURN_IF_ERROR(RecordDirectory(path, true));
    } else {
      ASSIGN_OR_RETURN(durable_data_[entry.inode], ReadWholeFile(path));
    }
  }
  durable_directories_[{self.st_dev, self.st_ino}] = std::move(entries);
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::MarkDurable(const std::string& root) {
  MutexLock lock(&mu_);
  return RecordDirectory(root, /*recursive=*/true);
}

absl::Status FaultInjectionEnv::RestoreFile(const std::string& path,
                                            const DurableEntry& entry,
                                            bool same_inode, CrashMode mode) {
  auto durable = durable_data_.find(entry.inode);
  std::string contents =
      durable == durable_data_.end() ? std::string() : durable->second;
  if (mode == CrashMode::kTornTail && same_inode) {
    // Appended-but-unsynced bytes may have reached the disk in part.
    ASSIGN_OR_RETURN(const std::string current, ReadWholeFile(path));
    if (current.size() > contents.size() &&
        current.compare(0, contents.size(), contents) == 0) {
      const uint64_t extra = Uniform(current.size() - contents.size() + 1);
      contents = current.substr(0, contents.size() + extra);
    }
  }
  return WriteWholeFile(path, contents);
}

absl::Status FaultInjectionEnv::RestoreDirectory(const std::string& directory,
                                                 const InodeKey& durable_inode,
                                                 CrashMode mode) {
  const auto found = durable_directories_.find(durable_inode);
  const DirectoryEntries entries = found == durable_directories_.end()
                                       ? DirectoryEntries{}
                                       : found->second;
  ASSIGN_OR_RETURN(const std::vector<std::string> names,
                   base_->ListDir(directory));
  std::map<std::string, InodeKey> current;
  for (const std::string& name : names) {
    const std::string path = JoinPath(directory, name);
    ASSIGN_OR_RETURN(const struct stat st, StatNoFollow(path));
    const InodeKey inode{st.st_dev, st.st_ino};
    const auto entry = entries.find(name);
    if (entry == entries.end() ||
        entry->second.is_directory != S_ISDIR(st.st_mode) ||
        (!entry->second.is_directory && entry->second.inode != inode)) {
      // Created or renamed here since the directory was last fsync'd, or
      // a different file than the durable entry names.
      RETURN_IF_ERROR(RemoveTree(base_, path));
      continue;
    }
    current[name] = inode;
  }
  for (const auto& [name, entry] : entries) {
    const std::string path = JoinPath(directory, name);
    const bool present = current.count(name) > 0;
    if (entry.is_directory) {
      if (!present) RETURN_IF_ERROR(base_->CreateDir(path));
      RETURN_IF_ERROR(RestoreDirectory(path, entry.inode, mode));
    } else {
      RETURN_IF_ERROR(RestoreFile(path, entry, present, mode));
    }
  }
  return absl::OkStatus();
}

absl::Status FaultInjectionEnv::Crash(const std::string& root,
                                      CrashMode mode) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(const struct stat self, StatNoFollow(root));
  RETURN_IF_ERROR(RestoreDirectory(root, {self.st_dev, self.st_ino}, mode));
  plan_ = FaultPlan{};
  scheduled_.clear();
  kill_at_ = 0;
  available_bytes_.reset();
  durable_data_.clear();
  durable_directories_.clear();
  killed_.store(false);
  return RecordDirectory(root, /*recursive=*/true);
}

}  // namespace shiplog::testing
