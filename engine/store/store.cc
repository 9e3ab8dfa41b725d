#include "engine/store/store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/status/error_kind.h"
#include "engine/status/status_macros.h"
#include "engine/metrics/process_stats.h"
#include "engine/store/log_name.h"
#include "engine/store/resource_limits.h"
#include "engine/store/store_files.h"

namespace shiplog {
namespace {

absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(),
                      absl::StrCat(context, ": ", status.message()));
}

void KeepFirstError(absl::Status* first, const absl::Status& next) {
  if (first->ok() && !next.ok()) *first = next;
}

}  // namespace

Store::Store(std::string path, const StoreOptions& options, Env* env,
             const SegmentCacheLimits& segment_cache_limits,
             std::shared_ptr<AlignedBufferPool> direct_read_pool)
    : path_(std::move(path)),
      options_(options),
      env_(env),
      free_space_guard_(std::make_shared<FreeSpaceGuard>(
          env, path_, options.min_free_bytes)),
      segment_cache_(std::make_shared<SegmentCache>(segment_cache_limits)),
      direct_read_pool_(std::move(direct_read_pool)) {}

Store::~Store() { (void)Close(); }

absl::Status Store::ReadOnlyError(absl::string_view action) const {
  return WithErrorKind(
      absl::FailedPreconditionError(
          absl::StrCat("store ", path_, " is open read-only: cannot ", action)),
      ErrorKind::kReadOnly);
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(
    const std::string& path, const StoreOptions& options) {
  RETURN_IF_ERROR(
      Annotate(options.default_log_config.Validate(), "default log settings"));
  Env* env = options.env;
  if (env == nullptr) {
    ASSIGN_OR_RETURN(env, Env::Posix(options.permissions));
  }
  // Read once: the limits the caps derive from and the warnings weigh
  // against. Without procfs the caps are what the options say.
  const absl::StatusOr<ProcessStats> process = ReadProcessStats();
  const ProcessStats no_stats;
  const ProcessStats& limits = process.ok() ? *process : no_stats;
  ASSIGN_OR_RETURN(std::shared_ptr<AlignedBufferPool> direct_read_pool,
                   AlignedBufferPool::CreateWithBytes(
                       options.direct_read_buffer_bytes,
                       options.direct_read_pool_bytes));
  std::unique_ptr<Store> store(new Store(
      path, options, env,
      ResolveSegmentCacheLimits(options.max_open_segment_files,
                                options.max_segment_mappings, limits),
      std::move(direct_read_pool)));
  if (absl::Status loaded = store->Load(); !loaded.ok()) {
    // A store that did not finish loading never shuts down cleanly: the
    // logs it did not reach were not recovered, so no clean-shutdown
    // marker may tell the next open to trust them.
    MutexLock lock(&store->mu_);
    store->closed_ = true;
    return loaded;
  }
  {
    MutexLock lock(&store->mu_);
    for (std::string& warning : ResourceWarnings(
             ResourceDemand{.logs = store->logs_.size(),
                            .writable = !options.read_only,
                            .cache = store->segment_cache_->limits()},
             limits)) {
      store->load_notes_.push_back(std::move(warning));
    }
  }
  if (!options.read_only && options.maintenance_interval_ms > 0) {
    store->maintenance_thread_ =
        std::thread([raw = store.get()] { raw->MaintenanceLoop(); });
  }
  return store;
}

absl::Status Store::Load() {
  absl::StatusOr<FileInfo> info = env_->Stat(path_);
  if (absl::IsNotFound(info.status())) {
    if (options_.read_only || !options_.create_if_missing) {
      return absl::NotFoundError(
          absl::StrCat("store ", path_, " does not exist"));
    }
    RETURN_IF_ERROR(env_->CreateDir(path_));
    info = env_->Stat(path_);
  }
  RETURN_IF_ERROR(info.status());
  if (!info->is_directory) {
    return absl::FailedPreconditionError(
        absl::StrCat("store ", path_, " is not a directory"));
  }
  const std::string marker = JoinPath(path_, kCleanShutdownFileName);
  MutexLock lock(&mu_);
  clean_shutdown_ = env_->Stat(marker).ok();
  if (!options_.read_only) {
    ASSIGN_OR_RETURN(lock_, env_->LockFile(JoinPath(path_, kLockFileName)));
    // From here on the store may change: the marker goes before anything
    // else is written.
    if (clean_shutdown_) {
      RETURN_IF_ERROR(env_->RemoveFile(marker));
      RETURN_IF_ERROR(env_->SyncDir(path_));
    }
  }
  for (auto [file_name, checkpoint] :
       {std::pair{kRecoveryPointCheckpointFileName, &recovery_points_},
        std::pair{kLogStartCheckpointFileName, &log_start_offsets_}}) {
    absl::StatusOr<OffsetCheckpoint> read =
        ReadCheckpoint(env_, JoinPath(path_, file_name));
    if (read.ok()) {
      *checkpoint = *std::move(read);
    } else if (absl::IsDataLoss(read.status())) {
      // Without it every log is recovered from its first segment: slower,
      // never lossy.
      load_notes_.push_back(
          absl::StrCat(read.status().message(), "; ignoring it"));
    } else {
      return read.status();
    }
  }
  ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(path_));
  // In name order, not the directory's: the same store loads the same way,
  // with its notes and its first error in the same order, every time.
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string entry = JoinPath(path_, name);
    ASSIGN_OR_RETURN(const FileInfo entry_info, env_->Stat(entry));
    if (!entry_info.is_directory) continue;
    if (absl::Status valid = ValidateLogName(name); !valid.ok()) {
      load_notes_.push_back(
          absl::StrCat("skipping directory ", entry, ": ", valid.message()));
      continue;
    }
    RETURN_IF_ERROR(LoadLogLocked(name, {}, /*created=*/false).status());
  }
  if (!options_.read_only && !clean_shutdown_) {
    // The logs found may include one whose directory entry never became
    // durable: make the store as loaded the durable one.
    RETURN_IF_ERROR(env_->SyncDir(path_));
  }
  last_checkpoint_ms_ = env_->NowMs();
  return absl::OkStatus();
}

absl::StatusOr<LogConfig> Store::ReadLogConfig(
    const std::string& directory) const {
  const std::string config_path = JoinPath(directory, kLogConfigFileName);
  absl::StatusOr<std::string> text = ReadSmallFile(env_, config_path);
  if (absl::IsNotFound(text.status())) return options_.default_log_config;
  RETURN_IF_ERROR(text.status());
  absl::StatusOr<LogConfig> parsed =
      ParseLogConfig(*text, options_.default_log_config);
  if (!parsed.ok()) return Annotate(parsed.status(), config_path);
  return parsed;
}

absl::StatusOr<std::shared_ptr<Log>> Store::LoadLogLocked(
    const std::string& name, const LogConfigOverrides& overrides,
    bool created) {
  const std::string directory = JoinPath(path_, name);
  ASSIGN_OR_RETURN(const LogConfig stored, ReadLogConfig(directory));
  const LogConfig config = overrides.ApplyTo(stored);
  RETURN_IF_ERROR(Annotate(config.Validate(), absl::StrCat("log ", name)));
  if (!(config == stored)) {
    RETURN_IF_ERROR(WriteFileAtomically(env_,
                                        JoinPath(directory, kLogConfigFileName),
                                        FormatLogConfig(config)));
  }
  LogOpenOptions open_options;
  open_options.read_only = options_.read_only;
  open_options.clean_shutdown = created || clean_shutdown_;
  open_options.free_space_guard = free_space_guard_;
  open_options.segment_cache = segment_cache_;
  if (auto it = recovery_points_.find(name); it != recovery_points_.end()) {
    open_options.recovery_point = it->second;
  }
  if (auto it = log_start_offsets_.find(name); it != log_start_offsets_.end()) {
    open_options.log_start_offset = it->second;
  }
  ASSIGN_OR_RETURN(std::shared_ptr<Log> log,
                   Log::Open(env_, directory, name, config, open_options));
  for (const std::string& note : log->load_report().notes) {
    load_notes_.push_back(absl::StrCat("log ", name, ": ", note));
  }
  logs_[name] = log;
  return log;
}

absl::StatusOr<std::shared_ptr<Log>> Store::CreateLogLocked(
    const std::string& name, const LogConfigOverrides& overrides) {
  const LogConfig config = overrides.ApplyTo(options_.default_log_config);
  RETURN_IF_ERROR(Annotate(config.Validate(), absl::StrCat("log ", name)));
  const std::string directory = JoinPath(path_, name);
  absl::Status created = env_->CreateDir(directory);
  if (absl::IsAlreadyExists(created)) {
    return absl::AlreadyExistsError(
        absl::StrCat("cannot create log ", name, ": ", directory,
                     " exists and is not a log directory"));
  }
  RETURN_IF_ERROR(created);
  RETURN_IF_ERROR(WriteFileAtomically(
      env_, JoinPath(directory, kLogConfigFileName), FormatLogConfig(config)));
  RETURN_IF_ERROR(env_->SyncDir(path_));
  return LoadLogLocked(name, {}, /*created=*/true);
}

absl::StatusOr<std::shared_ptr<Log>> Store::OpenLog(
    const std::string& name, const LogConfigOverrides& overrides,
    bool create_if_missing) {
  RETURN_IF_ERROR(ValidateLogName(name));
  MutexLock lock(&mu_);
  if (closed_) {
    return WithErrorKind(absl::FailedPreconditionError(
                             absl::StrCat("store ", path_, " is closed")),
                         ErrorKind::kClosed);
  }
  if (options_.read_only && !overrides.empty()) {
    return ReadOnlyError("change log settings");
  }
  if (auto it = logs_.find(name); it != logs_.end()) {
    const std::shared_ptr<Log>& log = it->second;
    if (overrides.empty()) return log;
    const LogConfig current = log->config();
    const LogConfig wanted = overrides.ApplyTo(current);
    if (!(wanted == current)) {
      RETURN_IF_ERROR(Annotate(wanted.Validate(), absl::StrCat("log ", name)));
      RETURN_IF_ERROR(WriteFileAtomically(
          env_, JoinPath(log->directory(), kLogConfigFileName),
          FormatLogConfig(wanted)));
      RETURN_IF_ERROR(log->SetConfig(wanted));
    }
    return log;
  }
  // A read-only store may meet a log its writer created after it opened.
  if (absl::StatusOr<FileInfo> info = env_->Stat(JoinPath(path_, name));
      info.ok() && info->is_directory) {
    return LoadLogLocked(name, overrides, /*created=*/false);
  }
  if (!create_if_missing) {
    return absl::NotFoundError(
        absl::StrCat("log ", name, " does not exist in store ", path_));
  }
  if (options_.read_only) {
    return ReadOnlyError(absl::StrCat("create log ", name));
  }
  return CreateLogLocked(name, overrides);
}

std::vector<std::string> Store::ListLogs() const {
  MutexLock lock(&mu_);
  std::vector<std::string> names;
  for (const auto& [name, log] : logs_) names.push_back(name);
  return names;
}

std::vector<std::string> Store::load_notes() const {
  MutexLock lock(&mu_);
  return load_notes_;
}

std::vector<std::shared_ptr<Log>> Store::Logs() const {
  MutexLock lock(&mu_);
  std::vector<std::shared_ptr<Log>> logs;
  for (const auto& [name, log] : logs_) logs.push_back(log);
  return logs;
}

absl::Status Store::DeleteLog(const std::string& name) {
  RETURN_IF_ERROR(ValidateLogName(name));
  MutexLock lock(&mu_);
  if (options_.read_only) {
    return ReadOnlyError(absl::StrCat("delete log ", name));
  }
  auto it = logs_.find(name);
  if (it == logs_.end()) {
    return absl::NotFoundError(
        absl::StrCat("log ", name, " does not exist in store ", path_));
  }
  std::shared_ptr<Log> log = it->second;
  logs_.erase(it);
  recovery_points_.erase(name);
  log_start_offsets_.erase(name);
  // The flush inside Close may fail; the files go regardless.
  (void)log->Close();
  ASSIGN_OR_RETURN(const std::vector<std::string> files,
                   env_->ListDir(log->directory()));
  for (const std::string& file : files) {
    RETURN_IF_ERROR(env_->RemoveFile(JoinPath(log->directory(), file)));
  }
  RETURN_IF_ERROR(env_->RemoveDir(log->directory()));
  return env_->SyncDir(path_);
}

std::vector<LogGauges> Store::CollectLogGauges() const {
  std::vector<LogGauges> gauges;
  for (const std::shared_ptr<Log>& log : Logs()) {
    LogGauges& entry = gauges.emplace_back();
    entry.name = log->name();
    entry.segments = static_cast<int64_t>(log->segment_count());
    entry.size_bytes = static_cast<int64_t>(log->size_bytes());
    entry.start_offset = log->start_offset();
    entry.end_offset = log->end_offset();
    entry.committed_offset = log->committed_offset();
  }
  return gauges;
}

absl::Status Store::Checkpoint() {
  if (options_.read_only) return absl::OkStatus();
  MutexLock lock(&checkpoint_mu_);
  OffsetCheckpoint recovery_points;
  OffsetCheckpoint log_start_offsets;
  for (const std::shared_ptr<Log>& log : Logs()) {
    recovery_points[log->name()] = log->committed_offset();
    log_start_offsets[log->name()] = log->start_offset();
  }
  RETURN_IF_ERROR(
      WriteCheckpoint(env_, JoinPath(path_, kRecoveryPointCheckpointFileName),
                      recovery_points));
  RETURN_IF_ERROR(WriteCheckpoint(
      env_, JoinPath(path_, kLogStartCheckpointFileName), log_start_offsets));
  const int64_t now = env_->NowMs();
  MutexLock state_lock(&mu_);
  last_checkpoint_ms_ = now;
  return absl::OkStatus();
}

absl::Status Store::RunMaintenance() {
  if (options_.read_only) return absl::OkStatus();
  const int64_t now = env_->NowMs();
  absl::Status first_error;
  for (const std::shared_ptr<Log>& log : Logs()) {
    const std::string context = absl::StrCat("log ", log->name());
    KeepFirstError(&first_error, Annotate(log->MaybeFlushForAge(now), context));
    KeepFirstError(&first_error, Annotate(log->MaybeRollForAge(now), context));
    KeepFirstError(&first_error,
                   Annotate(log->EnforceRetention(now).status(), context));
  }
  bool checkpoint_due;
  {
    MutexLock lock(&mu_);
    checkpoint_due =
        now - last_checkpoint_ms_ >= options_.checkpoint_interval_ms;
  }
  if (checkpoint_due) KeepFirstError(&first_error, Checkpoint());
  return first_error;
}

absl::Status Store::maintenance_status() const {
  MutexLock lock(&mu_);
  return maintenance_status_;
}

void Store::MaintenanceLoop() {
  while (true) {
    {
      MutexLock lock(&stop_mu_);
      if (stop_cv_.WaitWithTimeout(
              &stop_mu_, options_.maintenance_interval_ms,
              [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return stopping_; })) {
        return;
      }
    }
    const absl::Status status = RunMaintenance();
    MutexLock lock(&mu_);
    maintenance_status_ = status;
  }
}

absl::Status Store::Close() {
  {
    MutexLock lock(&mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
  }
  {
    MutexLock lock(&stop_mu_);
    stopping_ = true;
  }
  stop_cv_.SignalAll();
  if (maintenance_thread_.joinable()) maintenance_thread_.join();
  if (options_.read_only) return absl::OkStatus();

  absl::Status first_error;
  for (const std::shared_ptr<Log>& log : Logs()) {
    KeepFirstError(&first_error,
                   Annotate(log->Close(), absl::StrCat("log ", log->name())));
  }
  KeepFirstError(&first_error, Checkpoint());
  // Only a store whose every log is flushed may skip recovery next time.
  if (first_error.ok()) {
    first_error =
        WriteFileAtomically(env_, JoinPath(path_, kCleanShutdownFileName), "");
  }
  lock_.reset();
  return first_error;
}

}  // namespace shiplog
