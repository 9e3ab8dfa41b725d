#include "bindings/cli/flags.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bindings/cli/byte_size.h"

namespace shiplog::cli {
namespace {

const FlagSpec* FindFlag(const CommandSpec& spec, absl::string_view name) {
  for (const FlagSpec& flag : spec.flags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

std::string IntKindName(int64_t min) {
  switch (min) {
    case 1:
      return "a positive integer";
    case 0:
      return "a non-negative integer";
    case -1:
      return "a non-negative integer or -1";
    default:
      return absl::StrCat("an integer >= ", min);
  }
}

}  // namespace

absl::StatusOr<ParsedFlags> ParsedFlags::Parse(
    const CommandSpec& spec, absl::Span<const std::string> args) {
  ParsedFlags parsed;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // A lone "-" is an ordinary argument, as for most tools.
    if (flags_ended || arg.size() < 2 || arg[0] != '-') {
      parsed.positionals_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      parsed.help_ = true;
      continue;
    }
    if (arg[1] != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '", arg, "'"));
    }
    const size_t equals = arg.find('=');
    const std::string name = arg.substr(2, equals - 2);
    const FlagSpec* flag = FindFlag(spec, name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag '--", name, "'"));
    }
    if (!flag->repeatable && parsed.values_.count(name) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": given more than once"));
    }
    std::string value;
    if (flag->value_name.empty()) {
      if (equals != std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, ": takes no value"));
      }
    } else if (equals != std::string::npos) {
      value = arg.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": missing value (", flag->value_name, ")"));
    }
    parsed.all_values_[name].push_back(value);
    parsed.values_.emplace(name, std::move(value));
  }
  if (parsed.help_) return parsed;
  const size_t want = spec.positionals.size();
  const size_t got = parsed.positionals_.size();
  if (got < want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "missing ", spec.positionals[got], " (usage: shiplog ", spec.name, " ",
        absl::StrJoin(spec.positionals, " "), " [flags])"));
  }
  if (got > want) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected argument '", parsed.positionals_[want], "'"));
  }
  return parsed;
}

bool ParsedFlags::Has(absl::string_view name) const {
  return values_.find(name) != values_.end();
}

std::vector<std::string> ParsedFlags::GetAll(absl::string_view name) const {
  auto it = all_values_.find(name);
  if (it == all_values_.end()) return {};
  return it->second;
}

std::optional<std::string> ParsedFlags::GetString(
    absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::optional<int64_t>> ParsedFlags::GetInt(
    absl::string_view name, int64_t min) const {
  const std::optional<std::string> text = GetString(name);
  if (!text) return std::nullopt;
  int64_t value;
  if (!absl::SimpleAtoi(*text, &value) || value < min) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, ": expected ", IntKindName(min), ", got '", *text, "'"));
  }
  return value;
}

absl::StatusOr<std::optional<uint64_t>> ParsedFlags::GetByteCount(
    absl::string_view name, uint64_t min) const {
  const std::optional<std::string> text = GetString(name);
  if (!text) return std::nullopt;
  const std::optional<uint64_t> bytes = ParseByteSize(*text);
  if (!bytes || *bytes < min) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, ": expected a byte count of at least ", FormatByteSize(min),
        " (such as 65536, 64K or 64KiB), got '", *text, "'"));
  }
  return *bytes;
}

absl::StatusOr<std::optional<std::string>> ParsedFlags::GetChoice(
    absl::string_view name,
    const std::vector<absl::string_view>& choices) const {
  std::optional<std::string> text = GetString(name);
  if (!text) return std::nullopt;
  if (std::find(choices.begin(), choices.end(), *text) == choices.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, ": expected one of ",
                     absl::StrJoin(choices, ", "), "; got '", *text, "'"));
  }
  return text;
}

std::string HelpText(const CommandSpec& spec) {
  std::string text = absl::StrCat("Usage: shiplog ", spec.name);
  for (const std::string& positional : spec.positionals) {
    absl::StrAppend(&text, " ", positional);
  }
  absl::StrAppend(&text, " [flags]\n\n", spec.description, "\nFlags:\n");
  std::vector<std::pair<std::string, std::string>> rows;
  for (const FlagSpec& flag : spec.flags) {
    rows.emplace_back(
        absl::StrCat("--", flag.name, flag.value_name.empty() ? "" : " ",
                     flag.value_name),
        flag.help);
  }
  rows.emplace_back("-h, --help", "print this help and exit");
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [left, right] : rows) {
    absl::StrAppend(&text, "  ", left,
                    std::string(width + 2 - left.size(), ' '), right, "\n");
  }
  return text;
}

}  // namespace shiplog::cli
