// TestEnv: the real POSIX Env with the knobs tests need — a settable clock,
// counts of bytes read per file, injected failures of writes and syncs, and
// a gate that holds direct writes (real O_DIRECT + libaio) back, so a test
// decides when a group write may go.
// (Issue 6 grows the seeded fault injector; this is the minimum the
// contracts of the log and store need to be tested at all.)
#ifndef SHIPLOG_TESTS_ENGINE_TEST_ENV_H_
#define SHIPLOG_TESTS_ENGINE_TEST_ENV_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "engine/io/env.h"
#include "engine/sync/mutex.h"

namespace shiplog::testing {

class TestEnv final : public Env {
 public:
  TestEnv() = default;

  // The clock starts at a fixed time and moves only when told.
  void SetNowMs(int64_t now_ms) { now_ms_.store(now_ms); }
  void AdvanceMs(int64_t delta_ms) { now_ms_.fetch_add(delta_ms); }

  // Bytes read through File::ReadAt from files whose name ends with
  // `suffix` (".log" counts segment data).
  uint64_t BytesReadFromFilesEndingWith(const std::string& suffix) const;
  // Bytes read from `path` exactly.
  uint64_t BytesReadFrom(const std::string& path) const;
  void ResetReadCounts();

  // Every later write fails with this errno (0: writes work again).
  void FailWritesWith(int error_number) { write_errno_.store(error_number); }
  // Every later fdatasync fails with this errno (0: syncs work again).
  void FailSyncsWith(int error_number) { sync_errno_.store(error_number); }
  // Every later LinkFile fails with this errno (0: links work again):
  // EXDEV stands in for a destination on another file system.
  void FailLinksWith(int error_number) { link_errno_.store(error_number); }
  int link_count() const { return link_count_.load(); }
  // Syncs succeed without reaching the disk (eatmydata), for tests that
  // build large stores and do not test durability.
  void SkipSyncs(bool skip) { skip_syncs_.store(skip); }
  bool skip_syncs() const { return skip_syncs_.load(); }
  // Every later OpenForDirectRead fails with this errno (0: they work
  // again): EINVAL stands in for a file system without O_DIRECT.
  void FailDirectOpensWith(int error_number) {
    direct_open_errno_.store(error_number);
  }
  // Files OpenForDirectRead returns from now on (true) hand the kernel a
  // descriptor it cannot read from, so every direct read fails (EBADF): a
  // disk that fails reads.
  void BreakDirectReads(bool broken) { direct_reads_broken_.store(broken); }
  // Successful OpenForDirectRead calls so far.
  int direct_open_count() const { return direct_open_count_.load(); }
  int sync_count() const { return sync_count_.load(); }

  // Direct writes that reached the gate (each is one device write once
  // it passes).
  int direct_write_count() const { return direct_write_count_.load(); }
  // Direct files opened for writing so far, and the AIO context pool the
  // last of them was given (not kept alive by the Env).
  int direct_write_open_count() const {
    return direct_write_open_count_.load();
  }
  std::weak_ptr<AioContextPool> last_direct_write_contexts() const {
    MutexLock lock(&mu_);
    return last_direct_write_contexts_;
  }
  // While the gate is closed, every direct write waits in front of it
  // until it opens.
  void CloseDirectWriteGate();
  void OpenDirectWriteGate();
  // Blocks until `count` direct writes are waiting at the closed gate.
  void WaitForDirectWritesAtGate(int count);
  // Called by each direct write before it reaches the file.
  void PassDirectWriteGate();

  void RecordRead(const std::string& path, uint64_t bytes);
  int write_errno() const { return write_errno_.load(); }
  int sync_errno() const { return sync_errno_.load(); }
  void CountSync() { sync_count_.fetch_add(1); }

  absl::StatusOr<std::unique_ptr<File>> OpenFile(const std::string& path,
                                                 OpenMode mode) override;
  absl::StatusOr<std::unique_ptr<File>> OpenForDirectRead(
      const File& file) override;
  absl::StatusOr<std::unique_ptr<DirectFile>> OpenDirectFile(
      const std::string& path,
      std::shared_ptr<AioContextPool> contexts) override;
  absl::StatusOr<Mapping> MapFile(const File& file, size_t length,
                                  bool writable) override;
  absl::StatusOr<Mapping> MapAnonymous(size_t length) override {
    return base_->MapAnonymous(length);
  }
  absl::Status RenameFile(const std::string& from,
                          const std::string& to) override {
    return base_->RenameFile(from, to);
  }
  absl::Status RemoveFile(const std::string& path) override {
    return base_->RemoveFile(path);
  }
  absl::Status LinkFile(const std::string& from,
                        const std::string& to) override;
  absl::Status CreateDir(const std::string& path) override {
    return base_->CreateDir(path);
  }
  absl::Status RemoveDir(const std::string& path) override {
    return base_->RemoveDir(path);
  }
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
  absl::StatusOr<uint64_t> AvailableBytes(const std::string& path) override {
    return base_->AvailableBytes(path);
  }
  int64_t NowMs() override { return now_ms_.load(); }

 private:
  Env* const base_ = Env::Default();
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
  std::atomic<int> write_errno_{0};
  std::atomic<int> sync_errno_{0};
  std::atomic<int> sync_count_{0};
  std::atomic<int> link_errno_{0};
  std::atomic<int> link_count_{0};
  std::atomic<bool> skip_syncs_{false};
  std::atomic<int> direct_open_errno_{0};
  std::atomic<bool> direct_reads_broken_{false};
  std::atomic<int> direct_open_count_{0};
  std::atomic<int> direct_write_count_{0};
  std::atomic<int> direct_write_open_count_{0};
  Mutex gate_mu_;
  CondVar gate_cv_;
  bool gate_closed_ ABSL_GUARDED_BY(gate_mu_) = false;
  int waiting_at_gate_ ABSL_GUARDED_BY(gate_mu_) = 0;
  mutable Mutex mu_;
  std::map<std::string, uint64_t> bytes_read_ ABSL_GUARDED_BY(mu_);
  std::weak_ptr<AioContextPool> last_direct_write_contexts_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace shiplog::testing

#endif  // SHIPLOG_TESTS_ENGINE_TEST_ENV_H_
