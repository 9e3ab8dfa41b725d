// `shiplog consume DIR LOG`: prints a log's records.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/record_format.h"
#include "bindings/cli/stdout_buffer.h"
#include "engine/format/record_reader.h"
#include "engine/log/log.h"
#include "engine/segment/slice.h"
#include "engine/status/status_macros.h"
#include "engine/store/log_name.h"
#include "engine/store/store.h"

namespace shiplog::cli {
namespace {

// Bytes per read of the log: whole batches, decoded one slice at a time.
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
  RETURN_IF_ERROR(ValidateLogName(options.log_name));
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
    const ConsumeOptions& options, const Log& log) {
  if (options.time_ms) return log.OffsetForTime(*options.time_ms);
  return options.offset.value_or(log.start_offset());
}

absl::Status Consume(const ConsumeOptions& options) {
  // Read-only: no lock, so this works beside a producer. The log shows
  // what was there when the store was opened.
  ASSIGN_OR_RETURN(
      std::unique_ptr<Store> store,
      Store::Open(options.directory, StoreOptions{.read_only = true}));
  ASSIGN_OR_RETURN(std::shared_ptr<Log> log,
                   store->OpenLog(options.log_name, {},
                                  /*create_if_missing=*/false));
  std::optional<int64_t> start;
  ASSIGN_OR_RETURN(start, StartOffset(options, *log));
  if (!start) return absl::OkStatus();
  int64_t remaining = options.count.value_or(INT64_MAX);
  const int64_t end = log->end_offset();
  int64_t offset = *start;
  StdoutBuffer out;
  std::string bytes;
  // Read checks `offset` against the log's range first, so an offset past
  // the end fails here even when the loop would not run.
  do {
    ASSIGN_OR_RETURN(const Slice slice, log->Read(offset, kReadBytes));
    if (slice.empty()) break;
    RETURN_IF_ERROR(ReadSliceBytes(slice, &bytes));
    RecordReader reader(bytes, offset);
    while (remaining > 0 && reader.Next()) {
      options.format.Append(reader.record(), out.buffer());
      --remaining;
      RETURN_IF_ERROR(out.MaybeFlush());
    }
    RETURN_IF_ERROR(reader.status());
    offset = slice.next_offset;
  } while (remaining > 0 && offset < end);
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
