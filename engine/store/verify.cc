// VerifyStore: the store's files walked as Store::Open would load them,
// with every byte read and every claim checked.
#include "engine/store/verify.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/log/log_config.h"
#include "engine/segment/segment_check.h"
#include "engine/segment/segment_files.h"
#include "engine/status/status_macros.h"
#include "engine/store/checkpoint_file.h"
#include "engine/store/log_name.h"
#include "engine/store/store_files.h"

namespace shiplog {
namespace {

struct LogFiles {
  std::string name;
  std::string directory;
  std::vector<std::string> file_names;  // sorted
  std::vector<int64_t> bases;           // of the .log files, sorted
};

std::optional<int64_t> Find(const OffsetCheckpoint& checkpoint,
                            const std::string& name) {
  auto it = checkpoint.find(name);
  if (it == checkpoint.end()) return std::nullopt;
  return it->second;
}

class StoreVerifier {
 public:
  StoreVerifier(Env* env, std::string path, const VerifyOptions& options)
      : env_(env), path_(std::move(path)), options_(options) {}

  absl::StatusOr<VerifyReport> Run();

 private:
  absl::Status ReadCheckpoints();
  absl::StatusOr<std::vector<LogFiles>> ListLogs();
  absl::Status VerifyLog(const LogFiles& log);
  void CheckLogFileNames(const LogFiles& log);
  void CheckProperties(const LogFiles& log);
  void Advance(uint64_t bytes);

  Env* const env_;
  const std::string path_;
  const VerifyOptions& options_;
  VerifyReport report_;
  Progress progress_;
  bool clean_ = false;
  OffsetCheckpoint recovery_points_;
  OffsetCheckpoint log_start_offsets_;
};

void StoreVerifier::Advance(uint64_t bytes) {
  progress_.bytes_done += bytes;
  progress_.bytes_total = std::max(progress_.bytes_total, progress_.bytes_done);
  if (options_.progress) options_.progress(progress_);
}

absl::Status StoreVerifier::ReadCheckpoints() {
  for (auto [file_name, checkpoint] :
       {std::pair{kRecoveryPointCheckpointFileName, &recovery_points_},
        std::pair{kLogStartCheckpointFileName, &log_start_offsets_}}) {
    absl::StatusOr<OffsetCheckpoint> read =
        ReadCheckpoint(env_, JoinPath(path_, file_name));
    if (absl::IsDataLoss(read.status())) {
      report_.problems.push_back(std::string(read.status().message()));
      continue;
    }
    RETURN_IF_ERROR(read.status());
    *checkpoint = *std::move(read);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<LogFiles>> StoreVerifier::ListLogs() {
  ASSIGN_OR_RETURN(std::vector<std::string> names, env_->ListDir(path_));
  std::sort(names.begin(), names.end());
  std::vector<LogFiles> logs;
  for (const std::string& name : names) {
    const std::string entry = JoinPath(path_, name);
    ASSIGN_OR_RETURN(const FileInfo info, env_->Stat(entry));
    if (!info.is_directory) {
      if (absl::EndsWith(name, kTemporaryFileSuffix)) {
        report_.notes.push_back(absl::StrCat(
            entry, ": a temporary file left by a write that was cut short"));
      }
      continue;
    }
    if (absl::Status valid = ValidateLogName(name); !valid.ok()) {
      report_.notes.push_back(
          absl::StrCat("skipping directory ", entry, ": ", valid.message()));
      continue;
    }
    LogFiles& log = logs.emplace_back();
    log.name = name;
    log.directory = entry;
    ASSIGN_OR_RETURN(log.file_names, env_->ListDir(entry));
    std::sort(log.file_names.begin(), log.file_names.end());
    for (const std::string& file_name : log.file_names) {
      if (auto base = ParseSegmentFileName(file_name, kLogFileSuffix)) {
        log.bases.push_back(*base);
        ASSIGN_OR_RETURN(const FileInfo segment,
                         env_->Stat(JoinPath(entry, file_name)));
        progress_.bytes_total += segment.size;
      }
    }
    std::sort(log.bases.begin(), log.bases.end());
  }
  for (const OffsetCheckpoint* checkpoint :
       {&recovery_points_, &log_start_offsets_}) {
    for (const auto& [name, offset] : *checkpoint) {
      if (std::none_of(logs.begin(), logs.end(),
                       [&wanted = name](const LogFiles& log) {
                         return log.name == wanted;
                       })) {
        report_.notes.push_back(absl::StrCat("a checkpoint names log ", name,
                                             ", which does not exist"));
      }
    }
  }
  return logs;
}

void StoreVerifier::CheckLogFileNames(const LogFiles& log) {
  for (const std::string& file_name : log.file_names) {
    const std::string path = JoinPath(log.directory, file_name);
    if (absl::EndsWith(file_name, kTemporaryFileSuffix)) {
      report_.notes.push_back(absl::StrCat(
          path, ": a temporary file left by a write that was cut short"));
    }
    for (absl::string_view suffix :
         {kOffsetIndexFileSuffix, kTimeIndexFileSuffix}) {
      const std::optional<int64_t> base =
          ParseSegmentFileName(file_name, suffix);
      if (base &&
          !std::binary_search(log.bases.begin(), log.bases.end(), *base)) {
        report_.notes.push_back(
            absl::StrCat(path, ": an index without its .log"));
      }
    }
  }
}

void StoreVerifier::CheckProperties(const LogFiles& log) {
  const std::string path = JoinPath(log.directory, kLogConfigFileName);
  absl::StatusOr<std::string> text = ReadSmallFile(env_, path);
  if (absl::IsNotFound(text.status())) return;
  absl::Status problem = text.status();
  if (problem.ok()) problem = ParseLogConfig(*text, LogConfig{}).status();
  if (!problem.ok()) {
    report_.problems.push_back(absl::StrCat(path, ": ", problem.message(),
                                            " (the log cannot be opened)"));
  }
}

absl::Status StoreVerifier::VerifyLog(const LogFiles& log) {
  report_.logs++;
  CheckLogFileNames(log);
  CheckProperties(log);
  const std::string context = absl::StrCat("log ", log.name);
  // As Store::Open loads the log: without a clean shutdown, only segments
  // wholly below the recovery point are trusted, indexes included.
  const int64_t recovery_point = Find(recovery_points_, log.name).value_or(0);
  const std::optional<int64_t> log_start = Find(log_start_offsets_, log.name);
  // Where the next segment must start; -1 when the one before it gives no
  // answer (it is missing, or its batches stop early).
  int64_t expected_base = -1;
  int64_t end = log_start.value_or(0);
  bool end_reported = false;
  for (size_t i = 0; i < log.bases.size(); ++i) {
    const int64_t base = log.bases[i];
    const bool last = i + 1 == log.bases.size();
    const bool trusted =
        clean_ || (!last && log.bases[i + 1] <= recovery_point);
    absl::StatusOr<SegmentCheck> checked =
        CheckSegmentFiles(env_, log.directory, base,
                          {.sealed = !last || clean_,
                           .scanned = [this](uint64_t n) { Advance(n); }});
    if (absl::IsNotFound(checked.status())) {
      // A live writer's retention (or truncation) removed it meanwhile.
      report_.notes.push_back(absl::StrCat(
          context, ": segment ", base, " was removed while it was verified"));
      expected_base = -1;
      continue;
    }
    RETURN_IF_ERROR(checked.status());
    const SegmentCheck& check = *checked;
    report_.segments++;
    report_.batches += check.batches;
    report_.records += check.records;
    report_.bytes += check.file_bytes;
    if (expected_base >= 0 && base != expected_base) {
      report_.problems.push_back(
          base > expected_base
              ? absl::StrCat(context, ": offsets ", expected_base, "..",
                             base - 1, " are missing: segment ", base,
                             " does not continue the one before it")
              : absl::StrCat(context, ": segment ", base,
                             " overlaps the one before it, which ends at "
                             "offset ",
                             expected_base - 1));
    }
    expected_base = check.next_offset;
    end = check.next_offset;
    if (!check.invalid_tail.ok()) {
      const uint64_t invalid = check.file_bytes - check.valid_bytes;
      const std::string what = absl::StrCat(
          context, ": segment ", base, ": the ", invalid,
          " bytes from position ", check.valid_bytes, " (offset ",
          check.next_offset,
          " on) are not valid batches: ", check.invalid_tail.message());
      if (last && !clean_ && check.next_offset >= recovery_point) {
        report_.notes.push_back(absl::StrCat(
            what, " (past the recovery point ", recovery_point,
            ": writes not yet flushed, or torn by a crash; a writable open "
            "cuts them)"));
      } else if (last) {
        report_.problems.push_back(
            absl::StrCat(what, " (below the recovery point ", recovery_point,
                         ": durable data is lost)"));
        end_reported = true;
      } else {
        report_.problems.push_back(
            absl::StrCat(what, " (a writable open cuts the log there)"));
        expected_base = -1;
      }
    }
    for (const std::string& error : check.index_errors) {
      if (trusted) {
        report_.problems.push_back(absl::StrCat(context, ": ", error));
      } else {
        report_.notes.push_back(absl::StrCat(
            context, ": ", error, " (untrusted; rebuilt at the next open)"));
      }
    }
    // An untrusted segment's indexes are rebuilt by the scan at open
    // anyway: only a trusted one's are worth a note.
    for (const std::string& rebuild : check.index_rebuilds) {
      if (trusted)
        report_.notes.push_back(absl::StrCat(context, ": ", rebuild));
    }
  }
  if (!end_reported && Find(recovery_points_, log.name).has_value() &&
      recovery_point > end) {
    report_.problems.push_back(absl::StrCat(
        context, ": the recovery-point checkpoint says offsets below ",
        recovery_point, " are durable, but the log ends at offset ", end));
  }
  if (log_start.has_value() && *log_start > end) {
    report_.problems.push_back(absl::StrCat(
        context, ": the log-start-offset checkpoint says the log starts at ",
        *log_start, ", past its end at offset ", end));
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifyReport> StoreVerifier::Run() {
  absl::StatusOr<FileInfo> info = env_->Stat(path_);
  if (absl::IsNotFound(info.status())) {
    return absl::NotFoundError(
        absl::StrCat("store ", path_, " does not exist"));
  }
  RETURN_IF_ERROR(info.status());
  if (!info->is_directory) {
    return absl::FailedPreconditionError(
        absl::StrCat("store ", path_, " is not a directory"));
  }
  clean_ = env_->Stat(JoinPath(path_, kCleanShutdownFileName)).ok();
  RETURN_IF_ERROR(ReadCheckpoints());
  ASSIGN_OR_RETURN(const std::vector<LogFiles> logs, ListLogs());
  progress_.logs_total = static_cast<int64_t>(logs.size());
  for (const LogFiles& log : logs) {
    progress_.log = log.name;
    if (options_.progress) options_.progress(progress_);
    RETURN_IF_ERROR(VerifyLog(log));
    progress_.logs_done++;
  }
  progress_.log = {};
  progress_.bytes_total = progress_.bytes_done;
  if (options_.progress) options_.progress(progress_);
  return std::move(report_);
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyStore(const std::string& path,
                                         const VerifyOptions& options) {
  Env* env = options.env != nullptr ? options.env : Env::Default();
  return StoreVerifier(env, path, options).Run();
}

}  // namespace shiplog
