// Backups and verification (since 1.2).
#include "engine/store/backup.h"

#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "capi/src/handles.h"
#include "capi/src/status.h"
#include "capi/src/strarray.h"
#include "engine/store/verify.h"

using shiplog::capi::CheckHandle;
using shiplog::capi::CheckNotNull;
using shiplog::capi::CheckVersion;
using shiplog::capi::Fail;
using shiplog::capi::FillStrArray;
using shiplog::capi::Guard;
using shiplog::capi::Report;

namespace {

// Forwards the engine's progress to a C callback.
shiplog::ProgressCallback ToCallback(shiplog_progress_fn progress,
                                     void* context) {
  if (progress == nullptr) return nullptr;
  return [progress, context](const shiplog::Progress& engine) {
    const std::string log(engine.log);
    shiplog_progress c_progress;
    c_progress.version = SHIPLOG_PROGRESS_VERSION;
    c_progress.log = log.c_str();
    c_progress.logs_done = static_cast<uint64_t>(engine.logs_done);
    c_progress.logs_total = static_cast<uint64_t>(engine.logs_total);
    c_progress.bytes_done = engine.bytes_done;
    c_progress.bytes_total = engine.bytes_total;
    progress(&c_progress, context);
  };
}

// Clears the optional outputs a call fills, so that they are defined on
// every path.
int ClearStrArrays(std::initializer_list<shiplog_strarray*> arrays) {
  for (shiplog_strarray* array : arrays) {
    if (array != nullptr) *array = shiplog_strarray{nullptr, 0};
  }
  return SHIPLOG_OK;
}

}  // namespace

extern "C" {

int shiplog_backup_options_init(shiplog_backup_options* options,
                                unsigned int version) {
  SHIPLOG_TRY(CheckNotNull(options, "options"));
  SHIPLOG_TRY(CheckVersion(version, SHIPLOG_BACKUP_OPTIONS_VERSION,
                           "shiplog_backup_options"));
  *options = SHIPLOG_BACKUP_OPTIONS_INIT;
  return SHIPLOG_OK;
}

int shiplog_verify_options_init(shiplog_verify_options* options,
                                unsigned int version) {
  SHIPLOG_TRY(CheckNotNull(options, "options"));
  SHIPLOG_TRY(CheckVersion(version, SHIPLOG_VERIFY_OPTIONS_VERSION,
                           "shiplog_verify_options"));
  *options = SHIPLOG_VERIFY_OPTIONS_INIT;
  return SHIPLOG_OK;
}

int shiplog_store_backup(shiplog_backup_report* out, shiplog_strarray* notes,
                         shiplog_store* store, const char* destination,
                         const shiplog_backup_options* options) {
  return Guard([&]() -> int {
    ClearStrArrays({notes});
    if (out != nullptr) {
      SHIPLOG_TRY(CheckVersion(out->version, SHIPLOG_BACKUP_REPORT_VERSION,
                               "shiplog_backup_report"));
    }
    SHIPLOG_TRY(CheckHandle(store, shiplog::capi::kStoreMagic, "store"));
    if (store->closed) {
      return Fail(SHIPLOG_ECLOSED, "the store was closed; only free it now");
    }
    SHIPLOG_TRY(CheckNotNull(destination, "destination"));
    const shiplog_backup_options defaults = SHIPLOG_BACKUP_OPTIONS_INIT;
    if (options == nullptr) options = &defaults;
    SHIPLOG_TRY(CheckVersion(options->version, SHIPLOG_BACKUP_OPTIONS_VERSION,
                             "shiplog_backup_options"));
    shiplog::BackupOptions backup_options;
    backup_options.progress =
        ToCallback(options->progress, options->progress_context);
    absl::StatusOr<shiplog::BackupReport> report =
        shiplog::BackupStore(*store->store, destination, backup_options);
    if (!report.ok()) return Report(report.status());
    if (out != nullptr) {
      out->logs = report->logs.size();
      out->segments_linked = static_cast<uint64_t>(report->segments_linked);
      out->segments_copied = static_cast<uint64_t>(report->segments_copied);
      out->bytes_linked = report->bytes_linked;
      out->bytes_copied = report->bytes_copied;
    }
    if (notes != nullptr) FillStrArray(report->notes, notes);
    return SHIPLOG_OK;
  });
}

int shiplog_store_verify(shiplog_verify_report* out, shiplog_strarray* problems,
                         shiplog_strarray* notes, const char* path,
                         const shiplog_verify_options* options) {
  return Guard([&]() -> int {
    ClearStrArrays({problems, notes});
    if (out != nullptr) {
      SHIPLOG_TRY(CheckVersion(out->version, SHIPLOG_VERIFY_REPORT_VERSION,
                               "shiplog_verify_report"));
    }
    SHIPLOG_TRY(CheckNotNull(path, "path"));
    const shiplog_verify_options defaults = SHIPLOG_VERIFY_OPTIONS_INIT;
    if (options == nullptr) options = &defaults;
    SHIPLOG_TRY(CheckVersion(options->version, SHIPLOG_VERIFY_OPTIONS_VERSION,
                             "shiplog_verify_options"));
    shiplog::VerifyOptions verify_options;
    verify_options.progress =
        ToCallback(options->progress, options->progress_context);
    absl::StatusOr<shiplog::VerifyReport> report =
        shiplog::VerifyStore(path, verify_options);
    if (!report.ok()) return Report(report.status());
    if (out != nullptr) {
      out->logs = static_cast<uint64_t>(report->logs);
      out->segments = static_cast<uint64_t>(report->segments);
      out->batches = static_cast<uint64_t>(report->batches);
      out->records = static_cast<uint64_t>(report->records);
      out->bytes = report->bytes;
      out->problems = report->problems.size();
      out->notes = report->notes.size();
    }
    if (problems != nullptr) FillStrArray(report->problems, problems);
    if (notes != nullptr) FillStrArray(report->notes, notes);
    if (report->problems.empty()) return SHIPLOG_OK;
    const size_t count = report->problems.size();
    return Fail(
        SHIPLOG_ECORRUPT,
        absl::StrCat(path, ": ", count,
                     count == 1 ? " problem: " : " problems; the first: ",
                     report->problems.front()));
  });
}

}  // extern "C"
