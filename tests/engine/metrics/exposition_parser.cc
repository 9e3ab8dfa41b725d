#include "tests/engine/metrics/exposition_parser.h"

#include <charconv>
#include <limits>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/status/status_macros.h"

namespace shiplog::testing {
namespace {

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(std::string(why));
}

// Consumes a metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*) from the
// front of `text`; empty if there is none.
std::string TakeName(absl::string_view* text) {
  size_t length = 0;
  while (length < text->size()) {
    const char c = (*text)[length];
    const bool allowed = absl::ascii_isalpha(c) || c == '_' || c == ':' ||
                         (length > 0 && absl::ascii_isdigit(c));
    if (!allowed) break;
    ++length;
  }
  std::string name(text->substr(0, length));
  text->remove_prefix(length);
  return name;
}

absl::StatusOr<double> ParseValue(absl::string_view text) {
  if (text == "+Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  double value = 0;
  const auto [end, error] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return Invalid(absl::StrCat("bad value '", text, "'"));
  }
  return value;
}

// Reads text up to an unescaped `terminator` (or to the end if it is '\0'),
// undoing the escapes in `escapes` (pairs of escaped char, meaning).
absl::StatusOr<std::string> TakeEscaped(absl::string_view* text,
                                        char terminator,
                                        absl::string_view escapes) {
  std::string out;
  while (!text->empty()) {
    const char c = text->front();
    text->remove_prefix(1);
    if (c == terminator) return out;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (text->empty()) return Invalid("a backslash ends the text");
    const size_t at = escapes.find(text->front());
    if (at == absl::string_view::npos || at % 2 != 0) {
      return Invalid(absl::StrCat("bad escape \\", text->substr(0, 1)));
    }
    out += escapes[at + 1];
    text->remove_prefix(1);
  }
  if (terminator != '\0') return Invalid("unterminated label value");
  return out;
}

absl::Status TakeLabels(absl::string_view* text,
                        std::map<std::string, std::string>* labels) {
  if (!absl::ConsumePrefix(text, "{")) return absl::OkStatus();
  while (true) {
    const std::string name = TakeName(text);
    if (name.empty() || !absl::ConsumePrefix(text, "=\"")) {
      return Invalid("expected name=\"value\" in the labels");
    }
    ASSIGN_OR_RETURN(std::string value, TakeEscaped(text, '"', "\\\\\"\"n\n"));
    if (!labels->emplace(name, std::move(value)).second) {
      return Invalid(absl::StrCat("label ", name, " repeated"));
    }
    if (absl::ConsumePrefix(text, "}")) return absl::OkStatus();
    if (!absl::ConsumePrefix(text, ",")) return Invalid("expected , or }");
  }
}

absl::StatusOr<ParsedSample> ParseSample(absl::string_view line) {
  ParsedSample sample;
  sample.name = TakeName(&line);
  if (sample.name.empty()) return Invalid("no metric name");
  RETURN_IF_ERROR(TakeLabels(&line, &sample.labels));
  if (!absl::ConsumePrefix(&line, " ")) return Invalid("expected ' value'");
  ASSIGN_OR_RETURN(sample.value, ParseValue(line));
  return sample;
}

// Whether a sample called `sample_name` belongs to `family_name`.
bool BelongsTo(absl::string_view sample_name, absl::string_view family_name,
               absl::string_view type) {
  if (sample_name == family_name) return type != "histogram";
  if (type != "histogram") return false;
  absl::string_view suffix = sample_name;
  if (!absl::ConsumePrefix(&suffix, family_name)) return false;
  return suffix == "_bucket" || suffix == "_sum" || suffix == "_count";
}

absl::Status CheckHistogram(const std::string& name,
                            const ParsedFamily& family) {
  double previous_le = -std::numeric_limits<double>::infinity();
  double previous_count = 0;
  const ParsedSample* count = nullptr;
  bool has_sum = false;
  for (const ParsedSample& sample : family.samples) {
    if (sample.name == name + "_count") count = &sample;
    if (sample.name == name + "_sum") has_sum = true;
    if (sample.name != name + "_bucket") continue;
    const auto le = sample.labels.find("le");
    if (le == sample.labels.end()) return Invalid("a bucket without le");
    ASSIGN_OR_RETURN(const double bound, ParseValue(le->second));
    if (bound <= previous_le) return Invalid("le bounds not increasing");
    if (sample.value < previous_count) return Invalid("buckets not cumulative");
    previous_le = bound;
    previous_count = sample.value;
  }
  if (previous_le != std::numeric_limits<double>::infinity()) {
    return Invalid(absl::StrCat(name, ": the last bucket is not le=\"+Inf\""));
  }
  if (count == nullptr || !has_sum) {
    return Invalid(absl::StrCat(name, ": no _count or no _sum"));
  }
  if (count->value != previous_count) {
    return Invalid(absl::StrCat(name, ": +Inf bucket differs from _count"));
  }
  return absl::OkStatus();
}

// Parser state: the family whose lines are being read, and what it has
// seen so far.
struct Reader {
  std::map<std::string, ParsedFamily> families;
  std::string current;  // the family being read
  bool typed = false;   // its # TYPE line was read

  absl::Status Line(absl::string_view line) {
    if (absl::ConsumePrefix(&line, "# HELP ")) {
      current = TakeName(&line);
      typed = false;
      if (current.empty() || !absl::ConsumePrefix(&line, " ")) {
        return Invalid("bad # HELP line");
      }
      if (families.count(current) != 0) return Invalid("family repeated");
      ASSIGN_OR_RETURN(families[current].help,
                       TakeEscaped(&line, '\0', "\\\\n\n"));
      return absl::OkStatus();
    }
    if (absl::ConsumePrefix(&line, "# TYPE ")) {
      if (TakeName(&line) != current || typed || current.empty()) {
        return Invalid("# TYPE does not follow its # HELP");
      }
      static const std::set<absl::string_view> kTypes = {
          "counter", "gauge", "histogram", "summary", "untyped"};
      if (!absl::ConsumePrefix(&line, " ") || kTypes.count(line) == 0) {
        return Invalid("bad type");
      }
      families[current].type = std::string(line);
      typed = true;
      return absl::OkStatus();
    }
    if (absl::StartsWith(line, "#")) return Invalid("unexpected comment");
    ASSIGN_OR_RETURN(ParsedSample sample, ParseSample(line));
    if (!typed || !BelongsTo(sample.name, current, families[current].type)) {
      return Invalid("sample outside its family");
    }
    families[current].samples.push_back(std::move(sample));
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::map<std::string, ParsedFamily>> ParseExposition(
    absl::string_view text) {
  if (!absl::ConsumeSuffix(&text, "\n")) return Invalid("no final newline");
  Reader reader;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const absl::Status status = reader.Line(line);
    if (!status.ok()) {
      return Invalid(absl::StrCat("line ", line_number, " '", line,
                                  "': ", status.message()));
    }
  }
  for (const auto& [name, family] : reader.families) {
    if (family.type == "histogram")
      RETURN_IF_ERROR(CheckHistogram(name, family));
  }
  return std::move(reader.families);
}

}  // namespace shiplog::testing
