#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/metrics/prometheus.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shiplog {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(absl::string_view(text).substr(0, text.size() - 1),
                        '\n');
}

TEST(TextReportTest, ValuesAreHumanizedAndAligned) {
  EngineMetrics metrics;
  metrics.appended_bytes.Add(3 << 19);  // 1.5 MiB
  metrics.sent_bytes[SendPath::kSendfile].Add(512);
  metrics.appended_records.Add(1234);
  const std::vector<LogGauges> logs = {
      {"orders-0", 3, int64_t{5} << 30, 0, 7, 7}};
  const std::vector<std::string> lines =
      Lines(FormatText(TakeSnapshot(metrics), std::nullopt, logs));
  EXPECT_THAT(lines, Contains(MatchesRegex("appended_bytes_total +1.5 MiB")));
  EXPECT_THAT(
      lines,
      Contains(MatchesRegex("sent_bytes_total\\{path=sendfile\\} +512 B")));
  EXPECT_THAT(lines, Contains(MatchesRegex("appended_records_total +1234")));
  EXPECT_THAT(
      lines,
      Contains(MatchesRegex("log_size_bytes\\{log=orders-0\\} +5.0 GiB")));
  // Every value starts in the same column: two spaces past the longest name.
  size_t longest_name = 0;
  for (const std::string& line : lines) {
    longest_name = std::max(longest_name, line.find(' '));
  }
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find_first_not_of(' ', line.find(' ')), longest_name + 2)
        << line;
  }
}

TEST(TextReportTest, HistogramShowsCountPercentilesAndMaxBucket) {
  EngineMetrics metrics;
  for (int i = 0; i < 3; ++i) metrics.fsync_latency_us.Record(1000);
  // Three values in (512, 1024] us: p50 interpolates to 768 us.
  EXPECT_THAT(
      FormatText(TakeSnapshot(metrics), std::nullopt, {}),
      HasSubstr("count 3  p50 768.0 us  p99 1.02 ms  max <= 1.02 ms\n"));
}

TEST(TextReportTest, HistogramOverflowShowsTheLastBound) {
  EngineMetrics metrics;
  metrics.fsync_latency_us.Record(100'000'000);
  EXPECT_THAT(FormatText(TakeSnapshot(metrics), std::nullopt, {}),
              HasSubstr("max > 67.11 s\n"));
}

TEST(TextReportTest, EmptyHistogramShowsOnlyItsCount) {
  EXPECT_THAT(Lines(FormatText(EngineMetricsSnapshot(), std::nullopt, {})),
              Contains(MatchesRegex("fsync_duration_seconds +count 0")));
}

TEST(TextReportTest, ProcessWarningsFollowTheTable) {
  ProcessStats stats;
  stats.user_cpu_seconds = 0.0025;
  stats.warnings = {"memory maps: 9 of 10 (90%); raise vm.max_map_count"};
  const std::vector<std::string> lines =
      Lines(FormatText(EngineMetricsSnapshot(), stats, {}));
  EXPECT_THAT(lines, Contains(MatchesRegex(
                         "process_cpu_seconds_total\\{mode=user\\} +2.50 ms")));
  EXPECT_EQ(lines.back(),
            "warning: memory maps: 9 of 10 (90%); raise vm.max_map_count");
}

}  // namespace
}  // namespace shiplog
