// `shiplog verify DIR`: checks every byte of a store or a backup, and what
// its indexes and checkpoints claim (engine/store/BACKUP.md, "Verify").
#include <cstdint>
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

struct VerifyOptions {
  std::string directory;
  bool progress = false;
  bool json = false;
};

absl::StatusOr<VerifyOptions> ParseOptions(const ParsedFlags& flags) {
  return VerifyOptions{.directory = flags.positional(0),
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

std::string Totals(const shiplog_verify_report& report) {
  return absl::StrCat(report.logs, " logs, ", report.segments, " segments, ",
                      report.batches, " batches, ", report.records,
                      " records, ", FormatByteSize(report.bytes));
}

std::string TextReport(const VerifyOptions& options,
                       const shiplog_verify_report& report,
                       const std::vector<std::string>& problems,
                       const std::vector<std::string>& notes) {
  std::string text;
  for (const std::string& problem : problems) {
    absl::StrAppend(&text, "PROBLEM: ", problem, "\n");
  }
  for (const std::string& note : notes) {
    absl::StrAppend(&text, "note: ", note, "\n");
  }
  if (problems.empty()) {
    absl::StrAppend(&text, "verified ", options.directory, ": ", Totals(report),
                    ", no problems\n");
  } else {
    absl::StrAppend(&text, "found ", problems.size(),
                    problems.size() == 1 ? " problem" : " problems", " in ",
                    options.directory, ": ", Totals(report), "\n");
  }
  return text;
}

std::string JsonReport(const VerifyOptions& options,
                       const shiplog_verify_report& report,
                       const std::vector<std::string>& problems,
                       const std::vector<std::string>& notes) {
  JsonWriter json;
  json.BeginObject();
  json.Key("path").String(options.directory);
  json.Key("logs").Int(static_cast<int64_t>(report.logs));
  json.Key("segments").Int(static_cast<int64_t>(report.segments));
  json.Key("batches").Int(static_cast<int64_t>(report.batches));
  json.Key("records").Int(static_cast<int64_t>(report.records));
  json.Key("bytes").Int(static_cast<int64_t>(report.bytes));
  json.Key("problems").BeginArray();
  for (const std::string& problem : problems) json.String(problem);
  json.EndArray();
  json.Key("notes").BeginArray();
  for (const std::string& note : notes) json.String(note);
  json.EndArray();
  json.EndObject();
  return absl::StrCat(json.text(), "\n");
}

absl::Status Verify(const VerifyOptions& options) {
  ProgressBar bar(options.progress);
  shiplog_verify_options verify_options = SHIPLOG_VERIFY_OPTIONS_INIT;
  if (options.progress) {
    verify_options.progress = DrawProgress;
    verify_options.progress_context = &bar;
  }
  shiplog_verify_report report = SHIPLOG_VERIFY_REPORT_INIT;
  shiplog_strarray problem_array = {};
  shiplog_strarray note_array = {};
  const int status =
      shiplog_store_verify(&report, &problem_array, &note_array,
                           options.directory.c_str(), &verify_options);
  // The count and the first problem, from this thread's last error.
  const absl::Status verified = AbiStatus(status);
  bar.Clear();
  if (status != SHIPLOG_OK && status != SHIPLOG_ECORRUPT) return verified;
  const std::vector<std::string> problems = TakeStrings(&problem_array);
  const std::vector<std::string> notes = TakeStrings(&note_array);
  StdoutBuffer out;
  *out.buffer() = options.json ? JsonReport(options, report, problems, notes)
                               : TextReport(options, report, problems, notes);
  RETURN_IF_ERROR(out.Flush());
  return verified;
}

}  // namespace

const CommandSpec& VerifySpec() {
  static const CommandSpec* spec = new CommandSpec{
      .name = "verify",
      .positionals = {"DIR"},
      .summary = "check every byte of a store or backup",
      .description =
          "Reads the store in DIR (a backup, or a store whose writer may be "
          "running)\nfrom its files, writing nothing, and checks every "
          "batch's CRC, that offsets\ncontinue within and across segments, "
          "every index entry against the batches,\nlog.properties, and the "
          "checkpoints against the logs.\n\n"
          "Prints `PROBLEM: <what>` for each problem (damaged or missing "
          "data, an index\nthe store would trust that disagrees with it, a "
          "checkpoint the logs\ncontradict), `note: <what>` for what a store "
          "repairs by itself with no data\nat stake (an index it rebuilds, a "
          "live writer's unflushed tail), then a\nsummary. A progress bar "
          "goes to stderr when it is a terminal. Exit status 0\nwhen there "
          "are no problems; 1 when there are, with their count and the "
          "first\non stderr, or when DIR cannot be read.\n",
      .flags = {{"progress", "",
                 "draw the progress bar on stderr even when it is not a "
                 "terminal"},
                {"json", "", "print one JSON document instead of the text"}}};
  return *spec;
}

int RunVerify(const ParsedFlags& flags) {
  return RunCommand("verify", ParseOptions(flags), Verify);
}

}  // namespace shiplog::cli
