// `shiplog dump PATH`: prints (and with --verify, checks) the batches and
// index entries of segment files, one file or a whole log directory.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/errno_error.h"
#include "bindings/cli/segment_dump.h"
#include "bindings/cli/status_macros.h"

namespace shiplog::cli {
namespace {

enum class FileKind { kLog, kOffsetIndex, kTimeIndex };

struct SegmentFile {
  FileKind kind;
  int64_t base_offset;
};

constexpr FileKind kFileKinds[] = {FileKind::kLog, FileKind::kOffsetIndex,
                                   FileKind::kTimeIndex};

// A segment's files are named by its base offset in 20 digits.
constexpr size_t kBaseOffsetDigits = 20;

absl::string_view Suffix(FileKind kind) {
  switch (kind) {
    case FileKind::kLog:
      return ".log";
    case FileKind::kOffsetIndex:
      return ".index";
    case FileKind::kTimeIndex:
      return ".timeindex";
  }
  return "";
}

std::string SegmentFileName(int64_t base_offset, FileKind kind) {
  return absl::StrCat(absl::StrFormat("%020d", base_offset), Suffix(kind));
}

std::optional<SegmentFile> ClassifyFileName(absl::string_view name) {
  for (FileKind kind : kFileKinds) {
    const absl::string_view suffix = Suffix(kind);
    if (name.size() != kBaseOffsetDigits + suffix.size() ||
        !absl::EndsWith(name, suffix)) {
      continue;
    }
    const absl::string_view digits = name.substr(0, kBaseOffsetDigits);
    int64_t base_offset = 0;
    if (std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) &&
        absl::SimpleAtoi(digits, &base_offset)) {
      return SegmentFile{kind, base_offset};
    }
  }
  return std::nullopt;
}

std::string JoinPath(const std::string& directory, absl::string_view name) {
  return absl::StrCat(directory, absl::EndsWith(directory, "/") ? "" : "/",
                      name);
}

bool Exists(const std::string& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

absl::StatusOr<std::vector<std::string>> ListDirectory(
    const std::string& path) {
  std::vector<std::string> names;
  std::error_code error;
  for (std::filesystem::directory_iterator it(path, error), end;
       !error && it != end; it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  if (error) return ErrnoError(error.value(), "list directory " + path);
  std::sort(names.begin(), names.end());
  return names;
}

class Dumper {
 public:
  explicit Dumper(bool verify) : verify_(verify) {}

  // PATH is one segment file whose name `file` describes.
  absl::Status DumpFile(const std::string& path, const SegmentFile& file);
  // PATH is a log directory: every segment, oldest first.
  absl::Status DumpDirectory(const std::string& path);
  // Prints the closing line; returns the exit status.
  absl::StatusOr<int> Finish();

 private:
  // Scans the .log at `path` (printing it if `print`) and adds it to the
  // totals.
  absl::StatusOr<LogFileScan> ScanLog(const std::string& path,
                                      int64_t base_offset, bool print);
  absl::Status DumpIndex(const std::string& path, const SegmentFile& file,
                         const LogFileScan* log);

  const bool verify_;
  DumpOutput out_;
  int64_t batches_ = 0;
  int64_t records_ = 0;
  int64_t segments_ = 0;
};

absl::StatusOr<LogFileScan> Dumper::ScanLog(const std::string& path,
                                            int64_t base_offset, bool print) {
  ASSIGN_OR_RETURN(LogFileScan scan,
                   DumpLogFile(path, base_offset, print, verify_, out_));
  batches_ += static_cast<int64_t>(scan.batches.size());
  records_ += scan.records;
  ++segments_;
  return scan;
}

absl::Status Dumper::DumpIndex(const std::string& path, const SegmentFile& file,
                               const LogFileScan* log) {
  return file.kind == FileKind::kOffsetIndex
             ? DumpOffsetIndexFile(path, file.base_offset, log, out_)
             : DumpTimeIndexFile(path, file.base_offset, log, out_);
}

absl::Status Dumper::DumpFile(const std::string& path,
                              const SegmentFile& file) {
  if (file.kind == FileKind::kLog) {
    return ScanLog(path, file.base_offset, /*print=*/true).status();
  }
  if (!verify_) return DumpIndex(path, file, nullptr);
  // An index is checked against its segment's .log, beside it.
  const std::string log_path =
      absl::StrCat(path.substr(0, path.size() - Suffix(file.kind).size()),
                   Suffix(FileKind::kLog));
  if (!Exists(log_path)) {
    out_.Problem(path,
                 absl::StrCat("cannot verify: ", log_path, " does not exist"));
    return DumpIndex(path, file, nullptr);
  }
  ASSIGN_OR_RETURN(const LogFileScan scan,
                   ScanLog(log_path, file.base_offset, /*print=*/false));
  return DumpIndex(path, file, &scan);
}

absl::Status Dumper::DumpDirectory(const std::string& path) {
  ASSIGN_OR_RETURN(const std::vector<std::string> names, ListDirectory(path));
  std::vector<int64_t> bases;
  for (const std::string& name : names) {
    const std::optional<SegmentFile> file = ClassifyFileName(name);
    if (file && file->kind == FileKind::kLog)
      bases.push_back(file->base_offset);
  }
  std::sort(bases.begin(), bases.end());
  if (verify_) {
    // Indexes are caches of a .log: one without its .log is a leftover.
    for (const std::string& name : names) {
      const std::optional<SegmentFile> file = ClassifyFileName(name);
      if (file && file->kind != FileKind::kLog &&
          !std::binary_search(bases.begin(), bases.end(), file->base_offset)) {
        out_.Problem(JoinPath(path, name), "index without a .log segment");
      }
    }
  }
  std::optional<int64_t> expected_base;
  for (int64_t base : bases) {
    const std::string log_path =
        JoinPath(path, SegmentFileName(base, FileKind::kLog));
    out_.Line(absl::StrCat("Dumping ", log_path));
    if (verify_ && expected_base && base != *expected_base) {
      out_.Problem(log_path,
                   absl::StrCat("segment starts at offset ", base,
                                " but the previous one ends before offset ",
                                *expected_base));
    }
    ASSIGN_OR_RETURN(const LogFileScan scan,
                     ScanLog(log_path, base, /*print=*/true));
    expected_base = scan.next_offset;
    for (FileKind kind : {FileKind::kOffsetIndex, FileKind::kTimeIndex}) {
      const std::string index_path =
          JoinPath(path, SegmentFileName(base, kind));
      // A missing index is rebuilt by the engine: nothing to dump.
      if (!Exists(index_path)) continue;
      out_.Line(absl::StrCat("Dumping ", index_path));
      RETURN_IF_ERROR(DumpIndex(index_path, SegmentFile{kind, base},
                                verify_ ? &scan : nullptr));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Dumper::Finish() {
  const std::string totals = absl::StrCat(batches_, " batches, ", records_,
                                          " records, ", segments_, " segments");
  if (out_.problems() > 0) {
    out_.Line(absl::StrCat("found ", out_.problems(), " problems in ", totals));
  } else if (verify_) {
    out_.Line(absl::StrCat("verified: ", totals, ", no problems"));
  }
  RETURN_IF_ERROR(out_.Flush());
  return out_.problems() > 0 ? kExitFailure : kExitOk;
}

absl::StatusOr<int> Dump(const std::string& path, bool verify) {
  std::error_code error;
  const std::filesystem::file_status status =
      std::filesystem::status(path, error);
  if (error) return ErrnoError(error.value(), "stat " + path);
  Dumper dumper(verify);
  if (std::filesystem::is_directory(status)) {
    RETURN_IF_ERROR(dumper.DumpDirectory(path));
  } else {
    const size_t slash = path.rfind('/');
    const std::optional<SegmentFile> file = ClassifyFileName(
        slash == std::string::npos ? path : path.substr(slash + 1));
    if (!file) {
      return ReportError(
          "dump",
          absl::InvalidArgumentError(absl::StrCat(
              path,
              " is not a segment file (<20-digit offset>.log, .index "
              "or .timeindex) or a log directory")),
          kExitUsage);
    }
    RETURN_IF_ERROR(dumper.DumpFile(path, *file));
  }
  return dumper.Finish();
}

}  // namespace

const CommandSpec& DumpSpec() {
  static const CommandSpec* spec = new CommandSpec{
      .name = "dump",
      .positionals = {"PATH"},
      .summary = "print (and verify) segment files",
      .description =
          "Prints the batches of a .log file, the entries of an .index or "
          ".timeindex file,\nor every segment of a log directory (PATH), in "
          "the `key: value` style of\nKafka's DumpLogSegments. Works on the "
          "files alone and never changes them.\nProblems are printed as "
          "`PROBLEM: <file>: <what>` and make the exit status 1.\n",
      .flags = {{"verify", "",
                 "check CRCs, records, offset continuity and every index "
                 "entry against its .log"}}};
  return *spec;
}

int RunDump(const ParsedFlags& flags) {
  const absl::StatusOr<int> exit_status =
      Dump(flags.positional(0), flags.Has("verify"));
  if (!exit_status.ok()) {
    return ReportError("dump", exit_status.status(), kExitFailure);
  }
  return *exit_status;
}

}  // namespace shiplog::cli
