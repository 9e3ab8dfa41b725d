// Store: a directory of logs, with the checkpoints and the lock that make
// it one unit (STORE.md).
//
// One process writes a store at a time: a writable open takes an exclusive
// lock on `<store>/.lock`. Any number of processes may open it read-only
// meanwhile; they take no lock, write nothing, and see every complete,
// CRC-valid batch that was there when each log was opened.
//
// A writable store runs one background thread (unless disabled) that flushes
// by flush.ms, rolls by segment.ms, enforces retention and writes the
// recovery-point checkpoint. Close() is the clean shutdown: it flushes every
// log, writes the checkpoints and leaves the marker that lets the next open
// skip recovery.
//
// Thread-safety: a Store is thread-safe, and so are the Logs it hands out.
#ifndef SHIPLOG_ENGINE_STORE_STORE_H_
#define SHIPLOG_ENGINE_STORE_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/aligned_buffer_pool.h"
#include "engine/io/env.h"
#include "engine/log/log.h"
#include "engine/log/log_config.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/segment/segment_cache.h"
#include "engine/store/checkpoint_file.h"
#include "engine/sync/mutex.h"

namespace shiplog {

struct StoreOptions {
  Env* env = nullptr;  // nullptr: Env::Default()
  bool read_only = false;
  // Create the store directory if it does not exist (writable opens only).
  bool create_if_missing = true;
  // Settings for logs created without a stored configuration.
  LogConfig default_log_config;
  // How often the background thread wakes; 0 runs no thread, and the
  // owner calls RunMaintenance() itself.
  int64_t maintenance_interval_ms = 1000;
  // How often the recovery-point and log-start checkpoints are written.
  int64_t checkpoint_interval_ms = 60 * 1000;
  // Appends are refused (ErrorKind::kLowDiskSpace) when they would leave
  // less than this many bytes available on the store's file system; 0
  // turns the guard off.
  uint64_t min_free_bytes = 0;
  // Bounds on the descriptors and memory mappings that idle closed
  // segments hold open together (SegmentCache: least recently used ones
  // are closed and reopened on their next use). 0 picks half of
  // RLIMIT_NOFILE's soft limit and half of vm.max_map_count
  // (resource_limits.h).
  uint64_t max_open_segment_files = 0;
  uint64_t max_segment_mappings = 0;
  // The modes of the files and directories the store creates, before the
  // umask. Used when `env` is nullptr; a given Env creates files its own
  // way.
  FilePermissions permissions;
  // The pool cold reads take their buffers from (direct_read_pool()): at
  // most this many bytes in buffers of direct_read_buffer_bytes (a
  // multiple of 4096), allocated as first needed. 32 MiB of 1 MiB buffers
  // lets 8 cold slices read 4 MiB ahead each before one waits (fewer,
  // larger reads: 1 MiB ones cost a tenth less CPU per GiB than 256 KiB
  // ones at the same speed, TRANSPORT.md); 0 sends every cold slice
  // through the page cache.
  uint64_t direct_read_pool_bytes = uint64_t{32} << 20;
  size_t direct_read_buffer_bytes = size_t{1} << 20;
};

class Store {
 public:
  // Opens (or creates) the store at `path` and every log in it. A writable
  // open fails with kFailedPrecondition, naming the holder's pid, if
  // another writer has the store. Problems found and repaired on the way
  // (torn tails, a bad checkpoint) are listed in load_notes().
  static absl::StatusOr<std::unique_ptr<Store>> Open(
      const std::string& path, const StoreOptions& options = {});

  // Closes the store if Close() was not called (errors are lost then).
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }
  bool read_only() const { return options_.read_only; }
  // What idle closed segments hold open now, and the bounds on it.
  SegmentCacheStats segment_cache_stats() const {
    return segment_cache_->stats();
  }
  const SegmentCacheLimits& segment_cache_limits() const {
    return segment_cache_->limits();
  }
  Env* env() const { return env_; }
  // The buffers every cold read of the store's logs shares
  // (SendOptions::direct_read_pool).
  const std::shared_ptr<AlignedBufferPool>& direct_read_pool() const {
    return direct_read_pool_;
  }
  std::vector<std::string> load_notes() const;

  // The log `name`, created (with the store's defaults and `overrides`) if
  // missing and `create_if_missing`. Settings in `overrides` are applied
  // to an existing log too and stored with it. kInvalidArgument for a bad
  // name or setting; kNotFound for a missing log when not creating;
  // kFailedPrecondition to create or reconfigure in a read-only store.
  absl::StatusOr<std::shared_ptr<Log>> OpenLog(
      const std::string& name, const LogConfigOverrides& overrides = {},
      bool create_if_missing = true);

  // The names of the store's logs, sorted.
  std::vector<std::string> ListLogs() const;

  // Closes the log and removes its files and directory. Slices still held
  // stay readable.
  absl::Status DeleteLog(const std::string& name);

  // Each log's segments, size and offsets, sorted by name: the per-log
  // half of the metrics (the engine-wide half is GlobalMetrics()).
  std::vector<LogGauges> CollectLogGauges() const;

  // Writes the recovery-point and log-start checkpoints now.
  absl::Status Checkpoint();

  // One pass of the background work over every log, at the Env's clock:
  // flush by flush.ms, roll by segment.ms, retention, and the checkpoint
  // when due. Returns the first error; the pass continues past it.
  absl::Status RunMaintenance();
  // The result of the background thread's last pass.
  absl::Status maintenance_status() const;

  // Clean shutdown: stops the background thread, seals and flushes every
  // log, writes the checkpoints, then the clean-shutdown marker. Later
  // calls do nothing.
  absl::Status Close();

 private:
  Store(std::string path, const StoreOptions& options, Env* env,
        const SegmentCacheLimits& segment_cache_limits,
        std::shared_ptr<AlignedBufferPool> direct_read_pool);

  absl::Status Load();
  absl::Status ReadOnlyError(absl::string_view action) const;
  absl::StatusOr<std::shared_ptr<Log>> LoadLogLocked(
      const std::string& name, const LogConfigOverrides& overrides,
      bool created) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::shared_ptr<Log>> CreateLogLocked(
      const std::string& name, const LogConfigOverrides& overrides)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<LogConfig> ReadLogConfig(const std::string& directory) const;
  std::vector<std::shared_ptr<Log>> Logs() const;
  void MaintenanceLoop();

  const std::string path_;
  const StoreOptions options_;
  Env* const env_;
  std::unique_ptr<FileLock> lock_;  // held by writable stores
  const std::shared_ptr<FreeSpaceGuard> free_space_guard_;
  const std::shared_ptr<SegmentCache> segment_cache_;
  const std::shared_ptr<AlignedBufferPool> direct_read_pool_;

  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<Log>> logs_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> load_notes_ ABSL_GUARDED_BY(mu_);
  bool clean_shutdown_ ABSL_GUARDED_BY(mu_) = false;
  OffsetCheckpoint recovery_points_ ABSL_GUARDED_BY(mu_);
  OffsetCheckpoint log_start_offsets_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  int64_t last_checkpoint_ms_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status maintenance_status_ ABSL_GUARDED_BY(mu_);

  // Serializes checkpoint writes (maintenance vs. Close vs. callers).
  Mutex checkpoint_mu_;

  Mutex stop_mu_;
  CondVar stop_cv_;
  bool stopping_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread maintenance_thread_;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STORE_STORE_H_
