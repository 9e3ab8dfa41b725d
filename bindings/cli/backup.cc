// `shiplog backup DIR DEST`: a consistent copy of a store, taken while its
// writer runs; DEST opens as a store (engine/store/BACKUP.md).
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/byte_size.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/json_writer.h"
#include "bindings/cli/progress_bar.h"
#include "bindings/cli/status_macros.h"
#include "bindings/cli/stdout_buffer.h"
#include "shiplog.h"

namespace shiplog::cli {
namespace {

struct BackupOptions {
  std::string directory;
  std::string destination;
  bool progress = false;
  bool json = false;
};

absl::StatusOr<BackupOptions> ParseOptions(const ParsedFlags& flags) {
  return BackupOptions{.directory = flags.positional(0),
                       .destination = flags.positional(1),
                       .progress = flags.Has("progress") || StderrIsTerminal(),
                       .json = flags.Has("json")};
}

// The library's progress, drawn as a bar (`context` is the ProgressBar).
void DrawProgress(const shiplog_progress* progress, void* context) {
  std::string phase = absl::StrCat(FormatByteSize(progress->bytes_done), " of ",
                                   FormatByteSize(progress->bytes_total));
  if (*progress->log != '\0') {
    absl::StrAppend(&phase, ", ", progress->log, " (", progress->logs_done + 1,
                    "/", progress->logs_total, ")");
  }
  static_cast<ProgressBar*>(context)->Update(
      phase, static_cast<int64_t>(progress->bytes_done),
      static_cast<int64_t>(progress->bytes_total));
}

struct LogRange {
  std::string name;
  int64_t start_offset = 0;
  int64_t end_offset = 0;
};

// Opens the backup as a store, read-only, and lists each log's offsets:
// what a restore will find. What opening it had to repair goes to
// `repairs` (nothing, for a backup this library made).
absl::StatusOr<std::vector<LogRange>> DescribeBackup(
    const std::string& destination, std::vector<std::string>* repairs) {
  ASSIGN_OR_RETURN(const Owned<shiplog_store> store,
                   OpenStore(destination, /*read_only=*/true));
  shiplog_strarray array = {};
  RETURN_IF_ERROR(AbiStatus(shiplog_store_load_notes(&array, store.get())));
  *repairs = TakeStrings(&array);
  RETURN_IF_ERROR(AbiStatus(shiplog_store_list_logs(&array, store.get())));
  std::vector<LogRange> ranges;
  for (const std::string& name : TakeStrings(&array)) {
    ASSIGN_OR_RETURN(const Owned<shiplog_log> log,
                     OpenExistingLog(store.get(), name));
    LogRange& range = ranges.emplace_back();
    range.name = name;
    RETURN_IF_ERROR(
        AbiStatus(shiplog_log_start_offset(&range.start_offset, log.get())));
    RETURN_IF_ERROR(
        AbiStatus(shiplog_log_end_offset(&range.end_offset, log.get())));
  }
  return ranges;
}

std::string TextReport(const BackupOptions& options,
                       const shiplog_backup_report& report,
                       const std::vector<LogRange>& ranges) {
  std::string text;
  for (const LogRange& range : ranges) {
    absl::StrAppend(&text, range.name, ": ",
                    range.end_offset > range.start_offset
                        ? absl::StrCat("offsets ", range.start_offset, " to ",
                                       range.end_offset - 1)
                        : absl::StrCat("empty, next offset ", range.end_offset),
                    "\n");
  }
  absl::StrAppend(&text, "backed up ", report.logs, " logs to ",
                  options.destination, ": ", report.segments_linked,
                  " segments linked (", FormatByteSize(report.bytes_linked),
                  "), ", report.segments_copied, " copied (",
                  FormatByteSize(report.bytes_copied), ")\n");
  return text;
}

std::string JsonReport(const BackupOptions& options,
                       const shiplog_backup_report& report,
                       const std::vector<LogRange>& ranges,
                       const std::vector<std::string>& notes) {
  JsonWriter json;
  json.BeginObject();
  json.Key("source").String(options.directory);
  json.Key("destination").String(options.destination);
  json.Key("logs").BeginArray();
  for (const LogRange& range : ranges) {
    json.BeginObject();
    json.Key("name").String(range.name);
    json.Key("start_offset").Int(range.start_offset);
    json.Key("end_offset").Int(range.end_offset);
    json.EndObject();
  }
  json.EndArray();
  json.Key("segments_linked").Int(static_cast<int64_t>(report.segments_linked));
  json.Key("segments_copied").Int(static_cast<int64_t>(report.segments_copied));
  json.Key("bytes_linked").Int(static_cast<int64_t>(report.bytes_linked));
  json.Key("bytes_copied").Int(static_cast<int64_t>(report.bytes_copied));
  json.Key("notes").BeginArray();
  for (const std::string& note : notes) json.String(note);
  json.EndArray();
  json.EndObject();
  return absl::StrCat(json.text(), "\n");
}

absl::Status Backup(const BackupOptions& options) {
  // Read-only: the store's writer, if one runs, is another process.
  ASSIGN_OR_RETURN(const Owned<shiplog_store> store,
                   OpenStore(options.directory, /*read_only=*/true));
  ProgressBar bar(options.progress);
  shiplog_backup_options backup_options = SHIPLOG_BACKUP_OPTIONS_INIT;
  if (options.progress) {
    backup_options.progress = DrawProgress;
    backup_options.progress_context = &bar;
  }
  shiplog_backup_report report = SHIPLOG_BACKUP_REPORT_INIT;
  shiplog_strarray array = {};
  const int status =
      shiplog_store_backup(&report, &array, store.get(),
                           options.destination.c_str(), &backup_options);
  bar.Clear();
  RETURN_IF_ERROR(AbiStatus(status));
  std::vector<std::string> notes = TakeStrings(&array);
  std::vector<std::string> repairs;
  ASSIGN_OR_RETURN(const std::vector<LogRange> ranges,
                   DescribeBackup(options.destination, &repairs));
  for (const std::string& repair : repairs) {
    notes.push_back(absl::StrCat("opening the backup: ", repair));
  }
  for (const std::string& note : notes) {
    std::fprintf(stderr, "shiplog backup: note: %s\n", note.c_str());
  }
  StdoutBuffer out;
  *out.buffer() = options.json ? JsonReport(options, report, ranges, notes)
                               : TextReport(options, report, ranges);
  return out.Flush();
}

}  // namespace

const CommandSpec& BackupSpec() {
  static const CommandSpec* spec = new CommandSpec{
      .name = "backup",
      .positionals = {"DIR", "DEST"},
      .summary = "copy a store while its writer runs; DEST opens as a store",
      .description =
          "Copies the store in DIR to DEST, which must not exist (or be an "
          "empty\ndirectory) and must not lie inside DIR. A writer may keep "
          "appending meanwhile.\nEach log is copied as the store's read-only "
          "open found it: closed segments\nbecome hard links (copies when DEST "
          "is on another file system), the last\nsegment is copied, and the "
          "backup's checkpoints record where each log ends.\nThe bytes copied "
          "are fdatasync'd in DIR too, so DIR never comes back from a\ncrash "
          "without what DEST holds. The backup is built in "
          "DEST.partial-<pid> and\nrenamed once durable: DEST is complete or "
          "absent.\n\n"
          "Restoring is opening DEST as a store (`shiplog consume DEST LOG`, "
          "or\n`shiplog produce DEST LOG` to append). Prints each log's "
          "offsets in the\nbackup; a progress bar goes to stderr when it is a "
          "terminal. Exit status 1\nwith the reason on stderr if the backup "
          "failed (nothing is left at DEST).\n",
      .flags = {{"progress", "",
                 "draw the progress bar on stderr even when it is not a "
                 "terminal"},
                {"json", "", "print one JSON document instead of the text"}}};
  return *spec;
}

int RunBackup(const ParsedFlags& flags) {
  return RunCommand("backup", ParseOptions(flags), Backup);
}

}  // namespace shiplog::cli
