// A strict reader of the Prometheus text exposition format (0.0.4), for
// tests: it accepts only what the format allows and what a scraper relies
// on, so a test that parses FormatPrometheus' output checks both.
#ifndef SHIPLOG_TESTS_ENGINE_METRICS_EXPOSITION_PARSER_H_
#define SHIPLOG_TESTS_ENGINE_METRICS_EXPOSITION_PARSER_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shiplog::testing {

struct ParsedSample {
  std::string name;  // the family's, or with _bucket/_sum/_count
  std::map<std::string, std::string> labels;  // values unescaped
  double value = 0;
};

struct ParsedFamily {
  std::string help;  // unescaped
  std::string type;
  std::vector<ParsedSample> samples;
};

// Families by name. Fails (kInvalidArgument, naming the line) unless: the
// text ends in a newline; each family appears once, as "# HELP", then
// "# TYPE", then its samples; each sample line is `name{labels} value`
// with a name of its family (histograms: name_bucket, name_sum,
// name_count); and each histogram's buckets have increasing `le` bounds
// and non-decreasing counts, ending in le="+Inf" equal to name_count.
absl::StatusOr<std::map<std::string, ParsedFamily>> ParseExposition(
    absl::string_view text);

}  // namespace shiplog::testing

#endif  // SHIPLOG_TESTS_ENGINE_METRICS_EXPOSITION_PARSER_H_
