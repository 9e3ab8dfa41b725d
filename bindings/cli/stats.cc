// `shiplog stats DIR`: the engine's metrics, each log's gauges and this
// process's resource use, for people or for Prometheus
// (engine/metrics/METRICS.md).
#include <string>

#include "bindings/cli/abi.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/status_macros.h"
#include "bindings/cli/stdout_buffer.h"
#include "shiplog.h"

namespace shiplog::cli {
namespace {

struct StatsOptions {
  std::string directory;
  bool prometheus = false;
};

absl::StatusOr<StatsOptions> ParseOptions(const ParsedFlags& flags) {
  return StatsOptions{.directory = flags.positional(0),
                      .prometheus = flags.Has("prometheus")};
}

absl::Status Stats(const StatsOptions& options) {
  ASSIGN_OR_RETURN(const Owned<shiplog_store> store,
                   OpenStore(options.directory, /*read_only=*/true));
  ASSIGN_OR_RETURN(const Owned<shiplog_metrics> metrics,
                   Open(shiplog_metrics_open, store.get()));
  ASSIGN_OR_RETURN(const Owned<char> text,
                   options.prometheus
                       ? Open(shiplog_metrics_prometheus, metrics.get())
                       : Open(shiplog_metrics_text, metrics.get()));
  StdoutBuffer out;
  *out.buffer() = text.get();
  return out.Flush();
}

}  // namespace

const CommandSpec& StatsSpec() {
  static const CommandSpec* spec = new CommandSpec{
      .name = "stats",
      .positionals = {"DIR"},
      .summary = "print a store's metrics, per-log gauges and process stats",
      .description =
          "Opens the store in DIR read-only and prints, one line per sample: "
          "each log's\nsegments, size and start, end and committed offsets; "
          "the engine's counters;\nand the process's CPU time, context "
          "switches, resident memory, open file\ndescriptors against "
          "RLIMIT_NOFILE, memory maps against vm.max_map_count and\ntime "
          "blocked on disk I/O (the article's monitoring items), with a "
          "warning for\nany resource past 80% of its limit. "
          "engine/metrics/METRICS.md lists them all.\n\n"
          "The counters and process stats are this process's own: the "
          "engine counts in\nthe process that links it, so they show what "
          "opening the store cost. A\nserver's traffic shows in the metrics "
          "the server itself exports.\n",
      .flags = {{"prometheus", "",
                 "print the Prometheus text format (0.0.4) instead"}}};
  return *spec;
}

int RunStats(const ParsedFlags& flags) {
  return RunCommand("stats", ParseOptions(flags), Stats);
}

}  // namespace shiplog::cli
