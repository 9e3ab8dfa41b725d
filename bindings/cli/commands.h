// The subcommands of the `shiplog` tool. Each has a spec (its positional
// arguments and flags, for parsing and --help) and an entry point that
// main() calls with the parsed command line.
//
// Exit statuses: 0 success, 1 the engine or the system reported an error,
// 2 a bad command line. Errors go to stderr as one line,
// "shiplog <command>: <message>".
#ifndef SHIPLOG_BINDINGS_CLI_COMMANDS_H_
#define SHIPLOG_BINDINGS_CLI_COMMANDS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bindings/cli/flags.h"

namespace shiplog::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "shiplog <command>: <status message>" on stderr; returns
// `exit_status`.
int ReportError(absl::string_view command, const absl::Status& status,
                int exit_status);

// Runs a subcommand's two phases: `options` is the command line checked
// and parsed (an error is a usage error), `run` does the work.
template <typename Options>
int RunCommand(absl::string_view command,
               const absl::StatusOr<Options>& options,
               absl::Status (*run)(const Options&)) {
  if (!options.ok()) return ReportError(command, options.status(), kExitUsage);
  const absl::Status status = run(*options);
  if (!status.ok()) return ReportError(command, status, kExitFailure);
  return kExitOk;
}

struct Command {
  const CommandSpec& spec;
  int (*run)(const ParsedFlags& flags);
};

const CommandSpec& ProduceSpec();
int RunProduce(const ParsedFlags& flags);

const CommandSpec& ConsumeSpec();
int RunConsume(const ParsedFlags& flags);

const CommandSpec& DumpSpec();
int RunDump(const ParsedFlags& flags);

const CommandSpec& SendSpec();
int RunSend(const ParsedFlags& flags);

const CommandSpec& StatsSpec();
int RunStats(const ParsedFlags& flags);

const CommandSpec& BenchSpec();
int RunBench(const ParsedFlags& flags);

const CommandSpec& ServeSpec();
int RunServe(const ParsedFlags& flags);

const CommandSpec& ReplicateSpec();
int RunReplicate(const ParsedFlags& flags);

const CommandSpec& BackupSpec();
int RunBackup(const ParsedFlags& flags);

const CommandSpec& VerifySpec();
int RunVerify(const ParsedFlags& flags);

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_COMMANDS_H_
