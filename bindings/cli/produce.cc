// `shiplog produce DIR LOG`: appends the lines of stdin to a log, one
// record per line.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/line_reader.h"
#include "bindings/cli/status_macros.h"
#include "bindings/cli/store_flags.h"
#include "bindings/cli/stdout_buffer.h"
#include "shiplog.h"

namespace shiplog::cli {
namespace {

constexpr size_t kMaxLineBytes = size_t{64} << 20;
constexpr int64_t kDefaultBatchRecords = 1000;
// Batches are also cut by size: a reader's slice holds at least one whole
// batch, so huge batches cost every reader memory.
constexpr uint64_t kMaxBatchBytes = uint64_t{1} << 20;
// The most a record's framing adds to its key and value: length,
// attributes, timestamp and offset deltas, key and value lengths, header
// count, all varints.
constexpr uint64_t kRecordOverheadBytes = 40;
// A Kafka RecordBatch v2 header (DESIGN.md).
constexpr uint64_t kBatchHeaderBytes = 61;

// A log setting that a flag sets; the store keeps it with the log.
struct SettingFlag {
  FlagSpec flag;
  int64_t min;
  int64_t shiplog_log_options::*field;
};

const std::vector<SettingFlag>& SettingFlags() {
  static const auto* settings = new std::vector<SettingFlag>{
      {{"segment-bytes", "B", "roll to a new segment file at B bytes"},
       1,
       &shiplog_log_options::segment_bytes},
      {{"index-interval-bytes", "B", "log bytes between .index entries"},
       0,
       &shiplog_log_options::index_interval_bytes},
      {{"retention-ms", "MS",
        "delete segments whose records are older than MS (-1: never)"},
       -1,
       &shiplog_log_options::retention_ms},
      {{"retention-bytes", "B",
        "delete old segments while the log is larger than B (-1: no limit)"},
       -1,
       &shiplog_log_options::retention_bytes},
      {{"flush-messages", "N",
        "fdatasync after every N records (-1: leave it to the OS)"},
       -1,
       &shiplog_log_options::flush_messages},
  };
  return *settings;
}

struct ProduceOptions {
  std::string directory;
  std::string log_name;
  std::optional<std::string> key_separator;
  int64_t batch_records = kDefaultBatchRecords;
  int compression = SHIPLOG_COMPRESSION_NONE;
  // The settings given (the rest SHIPLOG_UNSET); creates a missing log.
  shiplog_log_options log_options = SHIPLOG_LOG_OPTIONS_INIT;
  bool print_offsets = false;
  bool verbose = false;
  StoreTuning tuning;
};

absl::StatusOr<ProduceOptions> ParseOptions(const ParsedFlags& flags) {
  ProduceOptions options;
  options.directory = flags.positional(0);
  options.log_name = flags.positional(1);
  // Checked before the store is opened, so a bad name creates nothing.
  RETURN_IF_ERROR(CheckLogName(options.log_name));
  options.key_separator = flags.GetString("key-separator");
  if (options.key_separator && options.key_separator->empty()) {
    return absl::InvalidArgumentError("--key-separator: must not be empty");
  }
  ASSIGN_OR_RETURN(const std::optional<int64_t> batch_records,
                   flags.GetInt("batch-records", 1));
  options.batch_records = batch_records.value_or(kDefaultBatchRecords);
  ASSIGN_OR_RETURN(const std::optional<std::string> compression,
                   flags.GetChoice("compression", {"none", "zstd"}));
  if (compression == "zstd") options.compression = SHIPLOG_COMPRESSION_ZSTD;
  for (const SettingFlag& setting : SettingFlags()) {
    ASSIGN_OR_RETURN(const std::optional<int64_t> value,
                     flags.GetInt(setting.flag.name, setting.min));
    if (value) options.log_options.*setting.field = *value;
  }
  ASSIGN_OR_RETURN(const std::optional<std::string> write_mode,
                   flags.GetChoice("write-mode", {"buffered", "direct"}));
  if (write_mode) {
    options.log_options.write_mode = *write_mode == "direct"
                                         ? SHIPLOG_WRITE_DIRECT
                                         : SHIPLOG_WRITE_BUFFERED;
  }
  options.print_offsets = flags.Has("print-offsets");
  ASSIGN_OR_RETURN(options.tuning, ParseStoreTuning(flags));
  options.verbose = flags.Has("verbose");
  return options;
}

// Prints appended offsets once they are as durable as the flush policy
// makes them.
class OffsetPrinter {
 public:
  explicit OffsetPrinter(bool enabled) : enabled_(enabled) {}

  void Appended(const shiplog_append_result& result) {
    if (next_ < 0) next_ = result.base_offset;
    end_ = result.last_offset + 1;
  }
  // Prints the appended offsets below `limit` not printed yet, and flushes
  // them to stdout at once: a reading process may be waiting for them.
  absl::Status PrintBelow(int64_t limit) {
    if (!enabled_ || next_ < 0) return absl::OkStatus();
    for (limit = std::min(limit, end_); next_ < limit; ++next_) {
      absl::StrAppend(out_.buffer(), next_, "\n");
    }
    return out_.Flush();
  }
  absl::Status PrintAll() { return PrintBelow(end_); }

 private:
  const bool enabled_;
  int64_t next_ = -1;  // the first offset not printed; -1 before appends
  int64_t end_ = -1;   // after the last offset appended
  StdoutBuffer out_;
};

// Reads stdin to its end, appending its lines to `log` in batches.
class Producer {
 public:
  // `settings`: the log's, as shiplog_log_get_options gives them.
  Producer(const ProduceOptions& options, shiplog_log* log,
           const shiplog_log_options& settings)
      : options_(options),
        log_(log),
        max_batch_bytes_(std::min<uint64_t>(
            kMaxBatchBytes, static_cast<uint64_t>(settings.segment_bytes))),
        // Offsets are printed after their fdatasync when a flush policy
        // exists, at once when durability is left to the OS, or when it
        // comes with every append (direct mode).
        print_when_committed_(settings.write_mode != SHIPLOG_WRITE_DIRECT &&
                              (settings.flush_messages > 0 ||
                               settings.flush_ms > 0)),
        reader_(STDIN_FILENO, kMaxLineBytes),
        printer_(options.print_offsets) {}

  absl::Status Run();
  // After the store is closed (and everything flushed).
  absl::Status PrintRemainingOffsets() { return printer_.PrintAll(); }

  int64_t records() const { return records_; }
  int64_t first_offset() const { return first_offset_; }
  int64_t last_offset() const { return last_offset_; }

 private:
  absl::Status AddLine(LineReader::Span line);
  // Appends the lines read but not yet appended (those before a bad line
  // or a failed read are kept too), then returns `status`.
  absl::Status AppendPendingThen(const absl::Status& status);
  absl::Status AppendBatch();
  // An upper bound of the encoded size of a batch whose records hold
  // `record_bytes` (framing included).
  uint64_t BatchBound(uint64_t record_bytes) const;

  const ProduceOptions& options_;
  shiplog_log* const log_;
  const uint64_t max_batch_bytes_;
  const bool print_when_committed_;
  LineReader reader_;
  OffsetPrinter printer_;
  std::vector<LineReader::Span> batch_;
  uint64_t batch_record_bytes_ = 0;
  // The lines of batch_ as the ABI takes them.
  std::vector<shiplog_record> batch_records_;
  int64_t records_ = 0;
  int64_t first_offset_ = -1;
  int64_t last_offset_ = -1;
};

uint64_t Producer::BatchBound(uint64_t record_bytes) const {
  uint64_t bound = kBatchHeaderBytes + record_bytes;
  // zstd output may exceed its input a little (ZSTD_compressBound).
  if (options_.compression == SHIPLOG_COMPRESSION_ZSTD) {
    bound += bound / 128 + 128;
  }
  return bound;
}

absl::Status Producer::Run() {
  while (true) {
    absl::StatusOr<std::optional<LineReader::Span>> line = reader_.NextLine();
    if (!line.ok()) return AppendPendingThen(line.status());
    if (*line) {
      RETURN_IF_ERROR(AddLine(**line));
      continue;
    }
    if (reader_.at_end()) break;
    // Nothing more to read right now: what has been read goes to the log
    // before the read blocks, so a reader sees it promptly.
    if (!batch_.empty() && !reader_.InputReady()) {
      RETURN_IF_ERROR(AppendBatch());
    }
    reader_.Compact(absl::MakeSpan(batch_));
    if (absl::Status read = reader_.Fill(); !read.ok()) {
      return AppendPendingThen(read);
    }
  }
  return AppendPendingThen(absl::OkStatus());
}

absl::Status Producer::AppendPendingThen(const absl::Status& status) {
  if (!batch_.empty()) RETURN_IF_ERROR(AppendBatch());
  return status;
}

absl::Status Producer::AddLine(LineReader::Span line) {
  const uint64_t record_bytes = line.size + kRecordOverheadBytes;
  if (!batch_.empty() &&
      BatchBound(batch_record_bytes_ + record_bytes) > max_batch_bytes_) {
    RETURN_IF_ERROR(AppendBatch());
  }
  batch_.push_back(line);
  batch_record_bytes_ += record_bytes;
  if (static_cast<int64_t>(batch_.size()) >= options_.batch_records) {
    return AppendBatch();
  }
  return absl::OkStatus();
}

absl::Status Producer::AppendBatch() {
  batch_records_.clear();
  for (const LineReader::Span& span : batch_) {
    const absl::string_view line = reader_.line(span);
    // A line's bytes are never NULL, so an empty key or value stays empty
    // (not null); the key is null where the line has no separator.
    shiplog_record record = {};
    record.timestamp_ms = SHIPLOG_NO_TIMESTAMP;
    absl::string_view value = line;
    const size_t separator = options_.key_separator
                                 ? line.find(*options_.key_separator)
                                 : absl::string_view::npos;
    if (separator != absl::string_view::npos) {
      record.key = line.data();
      record.key_len = separator;
      value = line.substr(separator + options_.key_separator->size());
    }
    record.value = value.data();
    record.value_len = value.size();
    batch_records_.push_back(record);
  }
  shiplog_append_options append_options = SHIPLOG_APPEND_OPTIONS_INIT;
  append_options.compression = options_.compression;
  shiplog_append_result appended;
  RETURN_IF_ERROR(
      AbiStatus(shiplog_log_append(&appended, log_, batch_records_.data(),
                                   batch_records_.size(), &append_options)));
  batch_.clear();
  batch_record_bytes_ = 0;
  records_ += appended.last_offset - appended.base_offset + 1;
  if (first_offset_ < 0) first_offset_ = appended.base_offset;
  last_offset_ = appended.last_offset;
  printer_.Appended(appended);
  if (!print_when_committed_) return printer_.PrintAll();
  int64_t committed = 0;
  RETURN_IF_ERROR(AbiStatus(shiplog_log_committed_offset(&committed, log_)));
  return printer_.PrintBelow(committed);
}

// With --verbose: what opening the store found and repaired (torn tails
// cut, segments removed, a bad checkpoint ignored), one line each, as the
// library lists it.
absl::Status ReportLoadNotes(shiplog_store* store) {
  shiplog_strarray notes = {};
  RETURN_IF_ERROR(AbiStatus(shiplog_store_load_notes(&notes, store)));
  for (size_t i = 0; i < notes.count; ++i) {
    std::fprintf(stderr, "shiplog produce: recovery: %s\n", notes.strings[i]);
  }
  shiplog_strarray_dispose(&notes);
  return absl::OkStatus();
}

absl::Status Produce(const ProduceOptions& options) {
  ASSIGN_OR_RETURN(const Owned<shiplog_store> store,
                   OpenStore(options.directory, /*read_only=*/false,
                             /*maintenance=*/true, options.tuning));
  if (options.verbose) RETURN_IF_ERROR(ReportLoadNotes(store.get()));
  ASSIGN_OR_RETURN(const Owned<shiplog_log> log,
                   Open(shiplog_log_open, store.get(), options.log_name.c_str(),
                        &options.log_options));
  shiplog_log_options settings = SHIPLOG_LOG_OPTIONS_INIT;
  RETURN_IF_ERROR(AbiStatus(shiplog_log_get_options(&settings, log.get())));
  Producer producer(options, log.get(), settings);
  RETURN_IF_ERROR(producer.Run());
  // The clean shutdown flushes everything: every offset is durable now.
  RETURN_IF_ERROR(AbiStatus(shiplog_store_close(store.get())));
  RETURN_IF_ERROR(producer.PrintRemainingOffsets());
  if (options.verbose) {
    std::string summary = absl::StrCat("produced ", producer.records(),
                                       " records to ", options.log_name);
    if (producer.records() > 0) {
      absl::StrAppend(&summary, ", offsets ", producer.first_offset(), "..",
                      producer.last_offset());
    }
    std::fprintf(stderr, "%s\n", summary.c_str());
  }
  return absl::OkStatus();
}

}  // namespace

const CommandSpec& ProduceSpec() {
  static const CommandSpec* spec = [] {
    auto* built = new CommandSpec{
        .name = "produce",
        .positionals = {"DIR", "LOG"},
        .summary = "append the lines of stdin to a log",
        .description =
            "Appends each line of stdin to log LOG of the store in directory "
            "DIR as one\nrecord, creating the store and the log if missing. "
            "Lines end at '\\n' (a '\\r'\nbefore it is dropped too); a last "
            "line without '\\n' counts; an empty line is a\nrecord with an "
            "empty value. Lines may hold any bytes and be up to 64 MiB. With\n"
            "--key-separator, a line without SEP is a record with a null key "
            "and the line\nas its value.\n"
            "Records go to the log in batches, and a partial batch as soon as "
            "stdin has\nnothing more to read. Batches are also kept under 1 "
            "MiB and to fit a segment.\nThe log settings given are stored "
            "with the log and kept by later runs.\n",
        .flags = {{"key-separator", "SEP",
                   "split each line at its first SEP into key and value"},
                  {"batch-records", "N",
                   "at most N records per batch (default 1000)"},
                  {"compression", "none|zstd",
                   "compress each batch (default none)"}}};
    for (const SettingFlag& setting : SettingFlags()) {
      built->flags.push_back(setting.flag);
    }
    for (const FlagSpec& flag : StoreTuningFlags()) {
      built->flags.push_back(flag);
    }
    built->flags.push_back(
        {"write-mode", "buffered|direct",
         "direct: O_DIRECT with group commit, each append durable when it "
         "returns"});
    built->flags.push_back(
        {"print-offsets", "",
         "print each record's offset on stdout once durable under the flush "
         "policy"});
    built->flags.push_back(
        {"verbose", "", "print a summary (and store repairs) on stderr"});
    return built;
  }();
  return *spec;
}

int RunProduce(const ParsedFlags& flags) {
  return RunCommand("produce", ParseOptions(flags), Produce);
}

}  // namespace shiplog::cli
