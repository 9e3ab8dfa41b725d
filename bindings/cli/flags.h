// Command-line parsing for the `shiplog` tool: one table per subcommand
// describes its positional arguments and flags, and drives both the parser
// and the --help text, so the two cannot disagree.
//
// Syntax is GNU style: `--name value` or `--name=value` for flags that take
// a value, `--name` for switches, `--` ends the flags, and `-h`/`--help`
// is accepted everywhere. A flag's value is taken as given, even if it
// starts with '-' (so `--retention-ms -1` works).
//
// Every error is a kInvalidArgument status whose message names the flag
// and the problem, e.g. "--count: expected a positive integer, got 'x'";
// the caller prefixes it with the command name and exits with status 2.
//
// Thread-safety: plain values; no shared state.
#ifndef SHIPLOG_BINDINGS_CLI_FLAGS_H_
#define SHIPLOG_BINDINGS_CLI_FLAGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace shiplog::cli {

struct FlagSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // "N", "SEP", ...; empty for a switch
  std::string help;        // one line
  bool repeatable = false;  // may be given more than once (GetAll)
};

struct CommandSpec {
  std::string name;                      // "produce"
  std::vector<std::string> positionals;  // {"DIR", "LOG"}, all required
  std::string summary;                   // one line, for `shiplog --help`
  std::string description;               // paragraphs for `--help`
  std::vector<FlagSpec> flags;           // -h/--help is implied
};

// The flags and positional arguments of one invocation, checked against
// its CommandSpec: every flag is known, every value present.
class ParsedFlags {
 public:
  // `spec` must outlive the result.
  static absl::StatusOr<ParsedFlags> Parse(const CommandSpec& spec,
                                           absl::Span<const std::string> args);

  // -h or --help was given: the caller prints HelpText and exits 0. The
  // positionals are not checked then.
  bool help() const { return help_; }
  const std::string& positional(size_t index) const {
    return positionals_[index];
  }
  // True if the switch or flag was given.
  bool Has(absl::string_view name) const;
  // Every value of a repeatable flag, in order (empty if not given).
  std::vector<std::string> GetAll(absl::string_view name) const;

  // The flag's value, or nullopt if the flag was not given.
  std::optional<std::string> GetString(absl::string_view name) const;
  // The flag's value as an integer >= `min`. `min` chooses the wording of
  // the error: 1 "a positive integer", 0 "a non-negative integer", -1 "a
  // non-negative integer or -1".
  absl::StatusOr<std::optional<int64_t>> GetInt(absl::string_view name,
                                                int64_t min) const;
  // The flag's value as a byte count >= `min` (ParseByteSize: "65536",
  // "64K" and "64KiB" are equal).
  absl::StatusOr<std::optional<uint64_t>> GetByteCount(absl::string_view name,
                                                       uint64_t min) const;
  // The flag's value, which must be one of `choices`.
  absl::StatusOr<std::optional<std::string>> GetChoice(
      absl::string_view name,
      const std::vector<absl::string_view>& choices) const;

 private:
  ParsedFlags() = default;

  bool help_ = false;
  std::vector<std::string> positionals_;
  // Flag name -> value ("" for switches).
  std::map<std::string, std::string, std::less<>> values_;  // the first
  std::map<std::string, std::vector<std::string>, std::less<>> all_values_;
};

// "Usage: shiplog NAME POSITIONALS [flags]", the description, then one
// line per flag, aligned.
std::string HelpText(const CommandSpec& spec);

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_FLAGS_H_
