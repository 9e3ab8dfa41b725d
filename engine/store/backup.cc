// BackupStore: each log frozen in turn, its closed segments hard-linked
// (or copied), the segment it ends in copied up to the cut, then the
// checkpoints; all of it in a partial directory that is renamed into place
// once durable (BACKUP.md).
#include "engine/store/backup.h"

#include <algorithm>
#include <cerrno>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/format/record_batch.h"
#include "engine/io/mapping.h"
#include "engine/segment/batch_scanner.h"
#include "engine/segment/segment_files.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"
#include "engine/store/backup_destination.h"
#include "engine/store/checkpoint_file.h"
#include "engine/store/store_files.h"

namespace shiplog {
namespace {

constexpr size_t kCopyBufferBytes = size_t{1} << 20;
constexpr size_t kCheckBufferBytes = 256 * 1024;

// Link failures that mean "copy instead": the destination is on another
// file system, or on one without hard links (or that refuses them).
bool MustCopyInstead(const absl::Status& status) {
  if (absl::IsUnimplemented(status)) return true;
  switch (StatusErrno(status)) {
    case EXDEV:
    case EPERM:
    case EMLINK:
    case ENOTSUP:
      return true;
    default:
      return false;
  }
}

// Writes `contents` to the new file `path` and fdatasyncs it.
absl::Status WriteNewFile(Env* env, const std::string& path,
                          absl::string_view contents) {
  ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                   env->OpenFile(path, OpenMode::kCreateExclusive));
  RETURN_IF_ERROR(file->WriteAt(0, contents));
  return file->Sync();
}

// A file of the backup whose bytes are copied after the log's lock is
// released.
struct CopyJob {
  std::string target;
  uint64_t length = 0;
  // Where the bytes come from: a mapping held from this process's writer,
  // which keeps the mapped bytes whole while it is held (a truncation
  // replaces the file instead of cutting it), or a read-only descriptor of
  // another process's file.
  std::shared_ptr<const Mapping> mapping;
  std::unique_ptr<File> source;
  // The segment the log's backup ends in: the copy must hold valid batches
  // from base_offset up to end_offset exactly.
  bool check_batches = false;
  int64_t base_offset = 0;
  int64_t end_offset = 0;
};

// A hard link made into the backup, checked and fsync'd at the end.
struct LinkedFile {
  std::string target;
  std::optional<uint64_t> expected_size;  // for .log files
};

// One log's part of a backup.
class LogBackupRun {
 public:
  LogBackupRun(Env* env, Log& log, std::string source_directory,
               std::string target_directory,
               std::function<void(uint64_t)> advanced,
               std::vector<std::string>* notes)
      : env_(env),
        log_(log),
        source_directory_(std::move(source_directory)),
        target_directory_(std::move(target_directory)),
        advanced_(std::move(advanced)),
        notes_(notes) {
    result_.name = log.name();
  }

  absl::StatusOr<LogBackup> Run();

  uint64_t bytes_linked() const { return bytes_linked_; }
  uint64_t bytes_copied() const { return bytes_copied_; }

 private:
  // The error for a source that changed under a read-only backup, or a
  // segment of this process's log that is damaged.
  absl::Status ChangedError(absl::string_view what) const;
  absl::Status CopyLogProperties();
  // Under the log's lock (writable logs): links, and plans the copies.
  absl::Status Plan(const FrozenLog& frozen);
  absl::Status TakeWholeSegment(const Segment& segment);
  absl::Status TakeTail(const Segment& segment);
  absl::Status LinkOrCopyIndex(int64_t base_offset, absl::string_view suffix);
  // Fills `job`'s source: a mapping of this process's segment, or the file.
  absl::Status OpenSource(const Segment& segment, CopyJob& job);
  absl::Status RunCopy(CopyJob& job);
  absl::Status CheckBatches(const File& copy, const CopyJob& job) const;
  absl::Status SyncLinkedFiles();

  std::string Target(int64_t base_offset, absl::string_view suffix) const {
    return JoinPath(target_directory_, SegmentFileName(base_offset, suffix));
  }
  std::string Source(int64_t base_offset, absl::string_view suffix) const {
    return JoinPath(source_directory_, SegmentFileName(base_offset, suffix));
  }

  Env* const env_;
  Log& log_;
  const std::string source_directory_;
  const std::string target_directory_;
  const std::function<void(uint64_t)> advanced_;
  std::vector<std::string>* const notes_;
  const bool read_only_ = log_.read_only();

  LogBackup result_;
  std::optional<int64_t> first_kept_base_;
  bool tail_copied_ = false;
  std::vector<CopyJob> copies_;
  std::vector<LinkedFile> links_;
  uint64_t bytes_linked_ = 0;
  uint64_t bytes_copied_ = 0;
};

absl::Status LogBackupRun::ChangedError(absl::string_view what) const {
  if (!read_only_) {
    return absl::DataLossError(
        absl::StrCat("log ", log_.name(), " is damaged: ", what));
  }
  return absl::AbortedError(
      absl::StrCat("log ", log_.name(), " changed while it was backed up (",
                   what, "), or is damaged: run the backup again"));
}

absl::Status LogBackupRun::CopyLogProperties() {
  absl::StatusOr<std::string> properties =
      ReadSmallFile(env_, JoinPath(source_directory_, kLogConfigFileName));
  if (absl::IsNotFound(properties.status())) return absl::OkStatus();
  RETURN_IF_ERROR(properties.status());
  return WriteNewFile(env_, JoinPath(target_directory_, kLogConfigFileName),
                      *properties);
}

absl::StatusOr<LogBackup> LogBackupRun::Run() {
  RETURN_IF_ERROR(env_->CreateDir(target_directory_));
  RETURN_IF_ERROR(CopyLogProperties());
  if (!read_only_) {
    // Everything appended before the backup becomes durable, so the
    // recovery point the backup ends at covers it.
    if (absl::Status flushed = log_.Flush(); !flushed.ok()) {
      notes_->push_back(absl::StrCat(
          "log ", log_.name(), ": flush failed (", flushed.message(),
          "); backing up the offsets below its recovery point"));
    }
  }
  RETURN_IF_ERROR(log_.VisitFrozen(
      [this](const FrozenLog& frozen) { return Plan(frozen); }));
  if (bytes_linked_ > 0) advanced_(bytes_linked_);
  for (CopyJob& job : copies_) RETURN_IF_ERROR(RunCopy(job));
  copies_.clear();
  if (!tail_copied_) {
    // The backup's last segment is its own file, never a link: the store
    // opened on the backup appends to it.
    RETURN_IF_ERROR(
        WriteNewFile(env_, Target(result_.end_offset, kLogFileSuffix), ""));
  }
  RETURN_IF_ERROR(SyncLinkedFiles());
  RETURN_IF_ERROR(env_->SyncDir(target_directory_));
  result_.start_offset = std::max(
      result_.start_offset, first_kept_base_.value_or(result_.end_offset));
  result_.start_offset = std::min(result_.start_offset, result_.end_offset);
  return result_;
}

absl::Status LogBackupRun::Plan(const FrozenLog& frozen) {
  // A writer in this process: its recovery point, just advanced by the
  // flush. Another process's writer: what this open found, made durable by
  // the copy's fdatasync of the source.
  int64_t cut = read_only_ ? frozen.end_offset : frozen.committed_offset;
  cut = std::max(cut, frozen.start_offset);
  result_.start_offset = frozen.start_offset;
  result_.end_offset = cut;
  const absl::Span<const std::shared_ptr<Segment>> segments = frozen.segments;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& segment = *segments[i];
    if (segment.base_offset() >= cut) break;
    // Closed and wholly below the cut: immutable, so a link is a copy.
    if (i + 1 < segments.size() && segment.next_offset() <= cut) {
      RETURN_IF_ERROR(TakeWholeSegment(segment));
    } else {
      RETURN_IF_ERROR(TakeTail(segment));
      break;
    }
  }
  return absl::OkStatus();
}

absl::Status LogBackupRun::TakeWholeSegment(const Segment& segment) {
  const int64_t base = segment.base_offset();
  const std::string target = Target(base, kLogFileSuffix);
  const absl::Status linked = env_->LinkFile(segment.log_path(), target);
  if (absl::IsNotFound(linked) && read_only_ && !first_kept_base_) {
    // The writer's retention removed it after this store was opened.
    notes_->push_back(absl::StrCat(
        "log ", log_.name(), ": segment ", base,
        " was removed by retention while the backup ran; the backup starts "
        "after it"));
    return absl::OkStatus();
  }
  if (MustCopyInstead(linked)) {
    CopyJob job;
    job.target = target;
    job.length = segment.size();
    RETURN_IF_ERROR(OpenSource(segment, job));
    copies_.push_back(std::move(job));
    result_.segments_copied++;
  } else if (absl::IsNotFound(linked)) {
    return ChangedError(absl::StrCat("segment ", base, " is gone"));
  } else {
    RETURN_IF_ERROR(linked);
    ASSIGN_OR_RETURN(const FileInfo info, env_->Stat(target));
    if (info.size != segment.size()) {
      return ChangedError(absl::StrCat("segment ", base, " holds ", info.size,
                                       " bytes, not ", segment.size()));
    }
    links_.push_back(LinkedFile{target, segment.size()});
    bytes_linked_ += segment.size();
    result_.segments_linked++;
  }
  if (!first_kept_base_) first_kept_base_ = base;
  RETURN_IF_ERROR(LinkOrCopyIndex(base, kOffsetIndexFileSuffix));
  return LinkOrCopyIndex(base, kTimeIndexFileSuffix);
}

absl::Status LogBackupRun::LinkOrCopyIndex(int64_t base_offset,
                                           absl::string_view suffix) {
  const std::string source = Source(base_offset, suffix);
  const std::string target = Target(base_offset, suffix);
  const absl::Status linked = env_->LinkFile(source, target);
  // A missing index is rebuilt from the .log by the store that opens the
  // backup, as by the source.
  if (absl::IsNotFound(linked)) return absl::OkStatus();
  if (!MustCopyInstead(linked)) {
    RETURN_IF_ERROR(linked);
    links_.push_back(LinkedFile{target, std::nullopt});
    return absl::OkStatus();
  }
  // Indexes are small (12 bytes per index interval of log at most), so
  // they are copied now, under the writer's lock, where no truncation can
  // rewrite them.
  absl::StatusOr<std::string> contents = ReadSmallFile(env_, source);
  if (absl::IsNotFound(contents.status())) return absl::OkStatus();
  RETURN_IF_ERROR(contents.status());
  bytes_copied_ += contents->size();
  return WriteNewFile(env_, target, *contents);
}

absl::Status LogBackupRun::TakeTail(const Segment& segment) {
  const int64_t base = segment.base_offset();
  CopyJob job;
  job.target = Target(base, kLogFileSuffix);
  job.check_batches = true;
  job.base_offset = base;
  if (result_.end_offset >= segment.next_offset()) {
    job.length = segment.size();
    job.end_offset = segment.next_offset();
  } else {
    // The cut is a batch boundary unless a checkpoint from before a
    // truncation put the recovery point inside a batch: then the backup
    // ends before that batch.
    ASSIGN_OR_RETURN(const Slice at, segment.Read(result_.end_offset, 0));
    job.length = at.position;
    job.end_offset = at.first_offset;
  }
  result_.end_offset = job.end_offset;
  RETURN_IF_ERROR(OpenSource(segment, job));
  copies_.push_back(std::move(job));
  result_.segments_copied++;
  tail_copied_ = true;
  if (!first_kept_base_) first_kept_base_ = base;
  return absl::OkStatus();
}

absl::Status LogBackupRun::OpenSource(const Segment& segment, CopyJob& job) {
  if (!read_only_) {
    if (job.length > 0) {
      ASSIGN_OR_RETURN(job.mapping, segment.MapForReading(job.length));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<File>> source =
      env_->OpenFile(segment.log_path(), OpenMode::kReadOnly);
  if (absl::IsNotFound(source.status())) {
    return ChangedError(
        absl::StrCat("segment ", segment.base_offset(), " is gone"));
  }
  RETURN_IF_ERROR(source.status());
  job.source = *std::move(source);
  return absl::OkStatus();
}

absl::Status LogBackupRun::RunCopy(CopyJob& job) {
  ASSIGN_OR_RETURN(std::unique_ptr<File> target,
                   env_->OpenFile(job.target, OpenMode::kCreateExclusive));
  std::string buffer;
  for (uint64_t done = 0; done < job.length;) {
    const size_t chunk = static_cast<size_t>(
        std::min<uint64_t>(kCopyBufferBytes, job.length - done));
    absl::string_view bytes;
    if (job.mapping != nullptr) {
      bytes = absl::string_view(job.mapping->data() + done, chunk);
    } else {
      buffer.resize(chunk);
      if (absl::Status read =
              ReadFully(*job.source, done, absl::MakeSpan(buffer));
          !read.ok()) {
        if (absl::IsDataLoss(read)) return ChangedError(read.message());
        return read;
      }
      bytes = buffer;
    }
    RETURN_IF_ERROR(target->WriteAt(done, bytes));
    done += chunk;
    bytes_copied_ += chunk;
    advanced_(chunk);
  }
  if (job.check_batches) RETURN_IF_ERROR(CheckBatches(*target, job));
  RETURN_IF_ERROR(target->Sync());
  // Another process wrote these bytes and may not have fsync'd them yet:
  // the backup makes them durable in the source too, so the source never
  // comes back from a crash without what the backup holds.
  if (job.source != nullptr) RETURN_IF_ERROR(job.source->Sync());
  return absl::OkStatus();
}

absl::Status LogBackupRun::CheckBatches(const File& copy,
                                        const CopyJob& job) const {
  BatchScanner scanner(copy, 0, job.length,
                       {.verify = true,
                        .expected_base_offset = job.base_offset,
                        .buffer_bytes = kCheckBufferBytes});
  int64_t next_offset = job.base_offset;
  while (scanner.Next()) {
    next_offset = WrappingAdd(scanner.header().last_offset(), 1);
  }
  if (!scanner.status().ok()) {
    if (!absl::IsDataLoss(scanner.status())) return scanner.status();
    return ChangedError(absl::StrCat("segment ", job.base_offset, ": ",
                                     scanner.status().message()));
  }
  if (next_offset != job.end_offset) {
    return ChangedError(absl::StrCat("segment ", job.base_offset,
                                     " ends at offset ", next_offset, ", not ",
                                     job.end_offset));
  }
  return absl::OkStatus();
}

absl::Status LogBackupRun::SyncLinkedFiles() {
  for (const LinkedFile& linked : links_) {
    ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                     env_->OpenFile(linked.target, OpenMode::kReadOnly));
    if (linked.expected_size.has_value()) {
      ASSIGN_OR_RETURN(const uint64_t size, file->Size());
      if (size != *linked.expected_size) {
        return ChangedError(absl::StrCat(linked.target, " holds ", size,
                                         " bytes, not ",
                                         *linked.expected_size));
      }
    }
    RETURN_IF_ERROR(file->Sync());
  }
  return absl::OkStatus();
}

absl::StatusOr<BackupReport> BackupInto(Store& store,
                                        const std::string& directory,
                                        const BackupOptions& options) {
  Env* env = store.env();
  BackupReport report;
  std::vector<std::shared_ptr<Log>> logs;
  for (const std::string& name : store.ListLogs()) {
    absl::StatusOr<std::shared_ptr<Log>> log =
        store.OpenLog(name, {}, /*create_if_missing=*/false);
    if (absl::IsNotFound(log.status())) continue;  // deleted meanwhile
    RETURN_IF_ERROR(log.status());
    logs.push_back(*std::move(log));
  }
  Progress progress;
  progress.logs_total = static_cast<int64_t>(logs.size());
  for (const std::shared_ptr<Log>& log : logs) {
    progress.bytes_total += log->size_bytes();
  }
  auto advanced = [&](uint64_t bytes) {
    progress.bytes_done += bytes;
    progress.bytes_total = std::max(progress.bytes_total, progress.bytes_done);
    if (options.progress) options.progress(progress);
  };

  OffsetCheckpoint recovery_points;
  OffsetCheckpoint log_start_offsets;
  for (const std::shared_ptr<Log>& log : logs) {
    progress.log = log->name();
    if (options.progress) options.progress(progress);
    LogBackupRun run(env, *log, log->directory(),
                     JoinPath(directory, log->name()), advanced, &report.notes);
    ASSIGN_OR_RETURN(LogBackup backup, run.Run());
    recovery_points[backup.name] = backup.end_offset;
    log_start_offsets[backup.name] = backup.start_offset;
    report.segments_linked += backup.segments_linked;
    report.segments_copied += backup.segments_copied;
    report.bytes_linked += run.bytes_linked();
    report.bytes_copied += run.bytes_copied();
    report.logs.push_back(std::move(backup));
    progress.logs_done++;
  }
  // Every offset in the backup is durable: the store that opens it scans
  // only the last segment of each log.
  RETURN_IF_ERROR(WriteCheckpoint(
      env, JoinPath(directory, kRecoveryPointCheckpointFileName),
      recovery_points));
  RETURN_IF_ERROR(
      WriteCheckpoint(env, JoinPath(directory, kLogStartCheckpointFileName),
                      log_start_offsets));
  progress.log = {};
  progress.bytes_total = progress.bytes_done;
  if (options.progress) options.progress(progress);
  return report;
}

}  // namespace

absl::StatusOr<BackupReport> BackupStore(Store& store,
                                         const std::string& destination,
                                         const BackupOptions& options) {
  ASSIGN_OR_RETURN(
      BackupDestination target,
      BackupDestination::Prepare(store.env(), store.path(), destination));
  absl::StatusOr<BackupReport> report =
      BackupInto(store, target.partial_path(), options);
  if (report.ok()) {
    if (absl::Status published = target.Publish(); !published.ok()) {
      report = published;
    }
  }
  if (!report.ok()) target.Discard();
  return report;
}

}  // namespace shiplog
