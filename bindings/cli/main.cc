// `shiplog`: the command-line tool over a store (README: `shiplog --help`).
// main() only dispatches; each subcommand lives in its own file.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/flags.h"

namespace shiplog::cli {

int ReportError(absl::string_view command, const absl::Status& status,
                int exit_status) {
  const std::string line =
      absl::StrCat("shiplog ", command, ": ", status.message(), "\n");
  std::fputs(line.c_str(), stderr);
  return exit_status;
}

namespace {

std::string ToolHelp(const std::vector<Command>& commands) {
  std::string text =
      "Usage: shiplog COMMAND [arguments] [flags]\n\n"
      "Writes, reads, ships and inspects shiplog stores: directories of "
      "Kafka-format\nlogs.\n\nCommands:\n";
  for (const Command& command : commands) {
    absl::StrAppend(&text, "  ", command.spec.name,
                    std::string(10 - command.spec.name.size(), ' '),
                    command.spec.summary, "\n");
  }
  absl::StrAppend(&text,
                  "\nFlags:\n"
                  "  -h, --help  print this help and exit\n"
                  "  --version   print the version and exit\n\n"
                  "`shiplog COMMAND --help` describes a command.\n");
  return text;
}

int Main(std::vector<std::string> args) {
  const std::vector<Command> commands = {
      {ProduceSpec(), RunProduce}, {ConsumeSpec(), RunConsume},
      {DumpSpec(), RunDump},       {SendSpec(), RunSend},
      {StatsSpec(), RunStats},     {BenchSpec(), RunBench},
      {ServeSpec(), RunServe},     {ReplicateSpec(), RunReplicate},
      {BackupSpec(), RunBackup},   {VerifySpec(), RunVerify}};
  if (args.empty()) {
    std::fputs(ToolHelp(commands).c_str(), stderr);
    return kExitUsage;
  }
  const std::string& first = args[0];
  if (first == "-h" || first == "--help") {
    std::fputs(ToolHelp(commands).c_str(), stdout);
    return kExitOk;
  }
  if (first == "--version") {
    std::puts("shiplog " SHIPLOG_VERSION);
    return kExitOk;
  }
  for (const Command& command : commands) {
    if (command.spec.name != first) continue;
    absl::StatusOr<ParsedFlags> flags =
        ParsedFlags::Parse(command.spec, absl::MakeConstSpan(args).subspan(1));
    if (!flags.ok()) {
      return ReportError(command.spec.name, flags.status(), kExitUsage);
    }
    if (flags->help()) {
      std::fputs(HelpText(command.spec).c_str(), stdout);
      return kExitOk;
    }
    return command.run(*flags);
  }
  const std::string message =
      absl::StrCat("shiplog: unknown ", first[0] == '-' ? "flag" : "command",
                   " '", first, "' (see shiplog --help)\n");
  std::fputs(message.c_str(), stderr);
  return kExitUsage;
}

}  // namespace
}  // namespace shiplog::cli

int main(int argc, char** argv) {
  return shiplog::cli::Main(std::vector<std::string>(argv + 1, argv + argc));
}
