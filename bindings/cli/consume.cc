// `shiplog consume DIR LOG`: prints a log's records.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/record_format.h"
#include "bindings/cli/status_macros.h"
#include "bindings/cli/stdout_buffer.h"
#include "shiplog.h"

namespace shiplog::cli {
namespace {

// Bytes of batches decoded at a time (at least one whole batch).
constexpr uint64_t kReadBytes = uint64_t{1} << 20;

struct ConsumeOptions {
  std::string directory;
  std::string log_name;
  std::optional<int64_t> offset;
  std::optional<int64_t> time_ms;
  std::optional<int64_t> count;
  RecordFormat format;
};

absl::StatusOr<ConsumeOptions> ParseOptions(const ParsedFlags& flags) {
  ASSIGN_OR_RETURN(
      RecordFormat format,
      RecordFormat::Parse(flags.GetString("format").value_or("%v\\n")));
  ConsumeOptions options{.format = std::move(format)};
  options.directory = flags.positional(0);
  options.log_name = flags.positional(1);
  RETURN_IF_ERROR(CheckLogName(options.log_name));
  ASSIGN_OR_RETURN(options.offset, flags.GetInt("offset", 0));
  ASSIGN_OR_RETURN(options.time_ms, flags.GetInt("time", 0));
  ASSIGN_OR_RETURN(options.count, flags.GetInt("count", 0));
  if (options.offset && options.time_ms) {
    return absl::InvalidArgumentError(
        "--offset and --time: give at most one of them");
  }
  return options;
}

// The offset to start from, or nullopt if no record qualifies.
absl::StatusOr<std::optional<int64_t>> StartOffset(
    const ConsumeOptions& options, const shiplog_log* log) {
  int64_t offset = 0;
  if (options.time_ms) {
    const int found =
        shiplog_log_offset_for_time(&offset, log, *options.time_ms);
    if (found == SHIPLOG_ENOTFOUND) return std::nullopt;  // all older
    RETURN_IF_ERROR(AbiStatus(found));
    return offset;
  }
  if (options.offset) return *options.offset;
  RETURN_IF_ERROR(AbiStatus(shiplog_log_start_offset(&offset, log)));
  return offset;
}

// Prints the records of `log` from `offset` up to `end`, at most
// `*remaining` of them, one chunk of batches at a time.
absl::Status PrintRecords(const shiplog_log* log, int64_t offset, int64_t end,
                          const RecordFormat& format, int64_t* remaining,
                          StdoutBuffer& out) {
  // The first open checks `offset` against the log's range, so an offset
  // past the end fails even when there is nothing to print.
  do {
    ASSIGN_OR_RETURN(const Owned<shiplog_records> records,
                     Open(shiplog_records_open_log, log, offset, kReadBytes));
    const int64_t chunk_start = offset;
    int next = SHIPLOG_ITEROVER;
    while (*remaining > 0) {
      shiplog_record record;
      next = shiplog_records_next(&record, records.get());
      if (next != SHIPLOG_OK) break;
      format.Append(record, out.buffer());
      // Offsets are dense: the chunk's next record is offset + 1.
      offset = record.offset + 1;
      --*remaining;
      RETURN_IF_ERROR(out.MaybeFlush());
    }
    if (*remaining == 0) break;
    if (next != SHIPLOG_ITEROVER) return AbiStatus(next);
    if (offset == chunk_start) break;  // the log's end
  } while (offset < end);
  return absl::OkStatus();
}

absl::Status Consume(const ConsumeOptions& options) {
  // Read-only: no lock, so this works beside a producer. The log shows
  // what was there when the store was opened.
  ASSIGN_OR_RETURN(const Owned<shiplog_store> store,
                   OpenStore(options.directory, /*read_only=*/true));
  ASSIGN_OR_RETURN(const Owned<shiplog_log> log,
                   OpenExistingLog(store.get(), options.log_name));
  ASSIGN_OR_RETURN(const std::optional<int64_t> start,
                   StartOffset(options, log.get()));
  if (!start) return absl::OkStatus();
  int64_t end = 0;
  RETURN_IF_ERROR(AbiStatus(shiplog_log_end_offset(&end, log.get())));
  int64_t remaining = options.count.value_or(INT64_MAX);
  StdoutBuffer out;
  RETURN_IF_ERROR(
      PrintRecords(log.get(), *start, end, options.format, &remaining, out));
  return out.Flush();
}

}  // namespace

const CommandSpec& ConsumeSpec() {
  static const CommandSpec* spec = new CommandSpec{
      .name = "consume",
      .positionals = {"DIR", "LOG"},
      .summary = "print the records of a log",
      .description =
          "Prints the records of log LOG of the store in directory DIR, from "
          "the log's\nstart (or --offset, or --time) to its current end, "
          "then exits. The store is\nopened read-only, so this works while a "
          "producer writes it.\n\n"
          "FMT tokens: %o offset, %t timestamp (ms), %k key, %v value, %h "
          "headers as\nk=v pairs joined by ',', %% a percent sign, \\t tab, "
          "\\n newline, \\\\ backslash.\nA null key or value prints as "
          "nothing.\n",
      .flags = {
          {"offset", "N", "start at offset N (default: the log's start)"},
          {"time", "MS",
           "start at the first record with timestamp >= MS (ms since the "
           "epoch)"},
          {"count", "N", "print at most N records (default: all)"},
          {"format", "FMT", "how to print each record (default '%v\\n')"},
      }};
  return *spec;
}

int RunConsume(const ParsedFlags& flags) {
  return RunCommand("consume", ParseOptions(flags), Consume);
}

}  // namespace shiplog::cli
