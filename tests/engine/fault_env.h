// FaultInjectionEnv: the real POSIX Env with seeded faults and a model of
// what survives a crash, for proving the engine's durability promises
// (LevelDB's fault_injection_test and Redpanda's file_sanitizer are the
// models).
//
// Faults. Every mutating operation (write, fdatasync, truncate, file or
// directory creation, writable mmap, rename, removal, directory fsync)
// counts as one operation. Each can fail at random, one time in N by a
// seeded generator (FaultPlan), or deterministically as the Nth operation
// from now (FailOperation). Writes fail after a random prefix of their
// bytes reached the file (a short write), with EIO or ENOSPC. A byte budget
// (SetAvailableBytes) makes the disk full: a write that would grow files
// past it writes what fits and fails with ENOSPC, until space is returned.
//
// Direct files (Env::OpenDirectFile, write.mode=direct) are modelled, so
// the tree may live on tmpfs: a durable write is a write of the real file
// (one operation: EIO, ENOSPC, a short write, the byte budget, as above)
// then a sync (a second operation: sync_error_one_in), after which exactly
// its range is durable. Alignment is checked as O_DIRECT checks it, at
// 4096 bytes. Every direct write is counted (direct_writes()).
//
// Crash model. File data is durable as of its last successful fdatasync
// (or durable direct write),
// a directory entry (a creation, rename or removal) as of the last
// successful fsync of its directory. Crash() rewrites the tree under a root
// to exactly that state: every byte not fsync'd is dropped, and in torn
// mode a random prefix of bytes appended since the last fdatasync survives,
// as after a power cut mid-write. Data is tracked per inode, so a rename
// carries synced bytes with it. Kill() first makes every later mutating
// operation fail, as if the process had died, so destructors persist
// nothing; then the test drops its objects and calls Crash().
//
// Thread-safety: thread-safe.
#ifndef SHIPLOG_TESTS_ENGINE_FAULT_ENV_H_
#define SHIPLOG_TESTS_ENGINE_FAULT_ENV_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "engine/io/env.h"
#include "engine/sync/mutex.h"

namespace shiplog::testing {

// Random faults, each "one operation in N" (0: never).
struct FaultPlan {
  uint64_t seed = 0;
  uint32_t write_error_one_in = 0;  // EIO after a random prefix
  uint32_t disk_full_one_in = 0;    // ENOSPC after a random prefix
  uint32_t sync_error_one_in = 0;   // fdatasync and directory fsync: EIO
  uint32_t truncate_error_one_in = 0;
  uint32_t create_error_one_in = 0;  // open with create, mkdir: EIO
  uint32_t map_error_one_in = 0;     // writable mmap: ENOMEM
  uint32_t rename_error_one_in = 0;  // EIO
  uint32_t remove_error_one_in = 0;  // unlink, rmdir: EIO
};

enum class CrashMode {
  kDropUnsynced,  // every byte not fsync'd is gone
  kTornTail,      // and a random prefix of unsynced appends may survive
};

class FaultInjectionEnv final : public Env {
 public:
  FaultInjectionEnv() = default;

  // Replaces the random faults (and reseeds the generator).
  void SetPlan(const FaultPlan& plan);
  // No random or scheduled faults and no byte budget.
  void ClearFaults();
  // The `n`th mutating operation from now (1: the next) fails with
  // `error_number`, once.
  void FailOperation(uint64_t n, int error_number);
  // Mutating operations seen so far (a test sizes FailOperation sweeps
  // with it).
  uint64_t operation_count() const { return operations_.load(); }
  // Faults injected so far, random and scheduled.
  uint64_t faults_injected() const { return faults_injected_.load(); }

  // A full disk: files may grow by `bytes` more in all (nullopt: no
  // limit, the real disk). Shrinking and removing files gives space back.
  // AvailableBytes reports the budget while one is set.
  void SetAvailableBytes(std::optional<uint64_t> bytes);

  // Records everything under `root` as durable as it stands (call once
  // the directory exists, before the engine writes into it).
  absl::Status MarkDurable(const std::string& root);
  // The process "dies": every later mutating operation fails with EIO and
  // changes nothing, until Crash().
  void Kill() { killed_.store(true); }
  // The process dies during the `n`th mutating operation from now: a write
  // gets a random prefix of its bytes to the file first.
  void KillAtOperation(uint64_t n);
  bool killed() const { return killed_.load(); }
  // Rewrites the tree under `root` to what a crash would leave (see the
  // header comment), then clears every fault and records the result as
  // durable. Every File and Mapping of the tree must be gone.
  absl::Status Crash(const std::string& root, CrashMode mode);

  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path,
                                                 OpenMode mode) override;
  // Reads change nothing a crash could lose, so direct ones are the real
  // Env's, unfaulted: they see the files as they stand, as ReadAt does.
  absl::StatusOr<std::unique_ptr<File>> OpenForDirectRead(
      const File& file) override {
    return base_->OpenForDirectRead(file);
  }
  // Modelled: `contexts` is not used (no AIO).
  absl::StatusOr<std::unique_ptr<DirectFile>> OpenDirectFile(
      const std::string& path,
      std::shared_ptr<AioContextPool> contexts) override;
  // Direct writes that reached the (modelled) device, failed or not.
  uint64_t direct_writes() const { return direct_writes_.load(); }
  absl::StatusOr<Mapping> MapFile(const File& file, size_t length,
                                  bool writable) override;
  absl::StatusOr<Mapping> MapAnonymous(size_t length) override {
    return base_->MapAnonymous(length);
  }
  absl::Status RenameFile(const std::string& from,
                          const std::string& to) override;
  absl::Status RemoveFile(const std::string& path) override;
  absl::Status CreateDir(const std::string& path) override;
  absl::Status RemoveDir(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) override {
    return base_->ListDir(path);
  }
  absl::StatusOr<FileInfo> Stat(const std::string& path) override {
    return base_->Stat(path);
  }
  absl::Status SyncDir(const std::string& path) override;
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) override {
    return base_->LockFile(path);
  }
  absl::StatusOr<uint64_t> AvailableBytes(const std::string& path) override;
  int64_t NowMs() override { return base_->NowMs(); }

  // ---- Used by the files this Env opens ----

  // The fault for one mutating operation of `kind` (0: none).
  int NextFault(uint32_t FaultPlan::*one_in, int error_number);
  struct WritePlan {
    size_t bytes = 0;  // how many leading bytes to write
    int error_number = 0;
  };
  // What happens to a write of `size` bytes at `position` into a file of
  // `file_size` bytes: all of it, or a prefix and then an error.
  WritePlan PlanWrite(uint64_t file_size, uint64_t position, size_t size);
  void GiveBack(uint64_t bytes);
  // Records `contents` as the durable data of the inode of `fd`.
  void RecordSynced(int fd, std::string contents);
  // Records `data` at `position` as durable in the inode of `fd`, the
  // rest of its durable data unchanged.
  void RecordSyncedRange(int fd, uint64_t position, absl::string_view data);
  void CountDirectWrite() { direct_writes_.fetch_add(1); }

 private:
  using InodeKey = std::pair<uint64_t, uint64_t>;  // st_dev, st_ino
  struct DurableEntry {
    InodeKey inode;
    bool is_directory = false;
  };
  using DirectoryEntries = std::map<std::string, DurableEntry>;

  // Snapshots the entries of `directory` (and, recursively, the entries
  // and data under it when `recursive`) as durable.
  absl::Status RecordDirectory(const std::string& directory, bool recursive)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RestoreDirectory(const std::string& directory,
                                const InodeKey& durable_inode, CrashMode mode)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status RestoreFile(const std::string& path, const DurableEntry& entry,
                           bool same_inode, CrashMode mode)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t Uniform(uint64_t bound) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Env* const base_ = Env::Default();
  std::atomic<bool> killed_{false};
  std::atomic<uint64_t> operations_{0};
  std::atomic<uint64_t> faults_injected_{0};
  std::atomic<uint64_t> direct_writes_{0};

  mutable Mutex mu_;
  FaultPlan plan_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
  // Operation number -> errno, for FailOperation.
  std::map<uint64_t, int> scheduled_ ABSL_GUARDED_BY(mu_);
  uint64_t kill_at_ ABSL_GUARDED_BY(mu_) = 0;  // 0: none
  std::optional<uint64_t> available_bytes_ ABSL_GUARDED_BY(mu_);
  std::map<InodeKey, std::string> durable_data_ ABSL_GUARDED_BY(mu_);
  std::map<InodeKey, DirectoryEntries> durable_directories_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace shiplog::testing

#endif  // SHIPLOG_TESTS_ENGINE_FAULT_ENV_H_
