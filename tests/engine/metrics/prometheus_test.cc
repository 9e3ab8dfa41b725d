#include "engine/metrics/prometheus.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "tests/engine/metrics/exposition_parser.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::ParsedFamily;
using ::shiplog::testing::ParseExposition;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using Families = std::map<std::string, ParsedFamily>;
using Labels = std::map<std::string, std::string>;

// The value of the one sample named `name` with exactly `labels`.
double SampleValue(const Families& families, const std::string& family_name,
                   const std::string& name, const Labels& labels = {}) {
  const auto family = families.find(family_name);
  if (family == families.end()) {
    ADD_FAILURE() << "no family " << family_name;
    return -1;
  }
  for (const auto& sample : family->second.samples) {
    if (sample.name == name && sample.labels == labels) return sample.value;
  }
  ADD_FAILURE() << "no sample " << name << " in " << family_name;
  return -1;
}

double Value(const Families& families, const std::string& name,
             const Labels& labels = {}) {
  return SampleValue(families, name, name, labels);
}

ProcessStats KnownProcessStats() {
  ProcessStats stats;
  stats.user_cpu_seconds = 1.5;
  stats.system_cpu_seconds = 0.25;
  stats.voluntary_context_switches = 10;
  stats.involuntary_context_switches = 2;
  stats.resident_memory_bytes = 1 << 20;
  stats.open_fds = 12;
  stats.max_fds = 1024;
  stats.memory_maps = 40;
  stats.max_memory_maps = 65530;
  stats.io_wait_seconds = 0.5;
  return stats;
}

std::vector<LogGauges> TwoLogs() {
  return {{"orders-0", 3, 4096, 10, 110, 100}, {"payments-1", 1, 0, 0, 0, 0}};
}

Families Parse(const std::string& text) {
  absl::StatusOr<Families> families = ParseExposition(text);
  EXPECT_OK(families) << text;
  return families.ok() ? *std::move(families) : Families();
}

TEST(PrometheusTest, ExposesEveryFamilyByItsName) {
  std::vector<std::string> names;
  for (const auto& [name, family] : Parse(FormatPrometheus(
           EngineMetricsSnapshot(), KnownProcessStats(), TwoLogs()))) {
    names.push_back(name);
  }
  EXPECT_THAT(
      names,
      ElementsAre(
          "shiplog_appended_batches_total", "shiplog_appended_bytes_total",
          "shiplog_appended_records_total", "shiplog_crc_failures_total",
          "shiplog_direct_read_buffer_waits_total",
          "shiplog_direct_read_buffers_in_use",
          "shiplog_direct_read_bytes_total",
          "shiplog_direct_read_fallbacks_total", "shiplog_direct_reads_total",
          "shiplog_fsync_duration_seconds", "shiplog_fsync_failures_total",
          "shiplog_fsyncs_total", "shiplog_index_rebuilds_total",
          "shiplog_log_committed_offset", "shiplog_log_end_offset",
          "shiplog_log_segments", "shiplog_log_size_bytes",
          "shiplog_log_start_offset", "shiplog_mapped_bytes",
          "shiplog_mappings", "shiplog_open_files",
          "shiplog_partial_sends_total",
          "shiplog_process_context_switches_total",
          "shiplog_process_cpu_seconds_total",
          "shiplog_process_io_wait_seconds_total", "shiplog_process_max_fds",
          "shiplog_process_max_memory_maps", "shiplog_process_memory_maps",
          "shiplog_process_open_fds", "shiplog_process_resident_memory_bytes",
          "shiplog_recovery_truncated_bytes_total",
          "shiplog_segment_releases_total",
          "shiplog_segments_recovered_total", "shiplog_send_eagain_total",
          "shiplog_send_errors_total", "shiplog_send_fallbacks_total",
          "shiplog_send_syscalls_total", "shiplog_sent_bytes_total"));
}

TEST(PrometheusTest, CountersEndInTotalAndHaveHelp) {
  for (const auto& [name, family] : Parse(FormatPrometheus(
           EngineMetricsSnapshot(), KnownProcessStats(), TwoLogs()))) {
    EXPECT_EQ(family.type == "counter", absl::EndsWith(name, "_total")) << name;
    EXPECT_FALSE(family.help.empty()) << name;
  }
}

TEST(PrometheusTest, EngineCountsParseBackExactly) {
  EngineMetrics metrics;
  metrics.appended_bytes.Add(1000);
  metrics.appended_batches.Add(2);
  metrics.appended_records.Add(30);
  metrics.sent_bytes[SendPath::kSendfile].Add(4096);
  metrics.sent_bytes[SendPath::kMmapWrite].Add(100);
  metrics.send_syscalls[SendPath::kSendfile].Add(3);
  metrics.send_eagain.Add(5);
  metrics.send_fallbacks.Add();
  metrics.open_files.Add(6);
  metrics.mapped_bytes.Add(1 << 20);
  metrics.mappings.Add(2);
  metrics.bytes_truncated_by_recovery.Add(77);
  metrics.sent_bytes[SendPath::kDirectRead].Add(8192);
  metrics.direct_reads.Add(4);
  metrics.direct_read_bytes.Add(8704);
  metrics.direct_read_buffer_waits.Add(2);
  metrics.direct_read_fallbacks.Add(1);
  metrics.direct_read_buffers_in_use.Add(3);

  const Families families =
      Parse(FormatPrometheus(TakeSnapshot(metrics), std::nullopt, {}));
  EXPECT_EQ(Value(families, "shiplog_appended_bytes_total"), 1000);
  EXPECT_EQ(Value(families, "shiplog_appended_batches_total"), 2);
  EXPECT_EQ(Value(families, "shiplog_appended_records_total"), 30);
  EXPECT_EQ(Value(families, "shiplog_sent_bytes_total", {{"path", "sendfile"}}),
            4096);
  EXPECT_EQ(
      Value(families, "shiplog_sent_bytes_total", {{"path", "mmap_write"}}),
      100);
  EXPECT_EQ(Value(families, "shiplog_sent_bytes_total", {{"path", "splice"}}),
            0);
  EXPECT_EQ(
      Value(families, "shiplog_send_syscalls_total", {{"path", "sendfile"}}),
      3);
  EXPECT_EQ(Value(families, "shiplog_send_eagain_total"), 5);
  EXPECT_EQ(Value(families, "shiplog_send_fallbacks_total"), 1);
  EXPECT_EQ(Value(families, "shiplog_open_files"), 6);
  EXPECT_EQ(Value(families, "shiplog_mapped_bytes"), 1 << 20);
  EXPECT_EQ(Value(families, "shiplog_mappings"), 2);
  EXPECT_EQ(Value(families, "shiplog_recovery_truncated_bytes_total"), 77);
  EXPECT_EQ(
      Value(families, "shiplog_sent_bytes_total", {{"path", "direct_read"}}),
      8192);
  EXPECT_EQ(Value(families, "shiplog_direct_reads_total"), 4);
  EXPECT_EQ(Value(families, "shiplog_direct_read_bytes_total"), 8704);
  EXPECT_EQ(Value(families, "shiplog_direct_read_buffer_waits_total"), 2);
  EXPECT_EQ(Value(families, "shiplog_direct_read_fallbacks_total"), 1);
  EXPECT_EQ(Value(families, "shiplog_direct_read_buffers_in_use"), 3);
  EXPECT_EQ(families.at("shiplog_direct_read_buffers_in_use").type, "gauge");
  EXPECT_EQ(families.at("shiplog_open_files").type, "gauge");
  EXPECT_EQ(families.at("shiplog_sent_bytes_total").type, "counter");
}

TEST(PrometheusTest, FsyncHistogramIsCumulativeInSeconds) {
  EngineMetrics metrics;
  for (uint64_t micros : {3, 100, 2'000'000, 100'000'000}) {
    metrics.fsync_latency_us.Record(micros);
  }
  const std::string text =
      FormatPrometheus(TakeSnapshot(metrics), std::nullopt, {});
  const Families families = Parse(text);
  const std::string name = "shiplog_fsync_duration_seconds";
  EXPECT_EQ(families.at(name).type, "histogram");
  const std::string bucket = name + "_bucket";
  EXPECT_EQ(SampleValue(families, name, bucket, {{"le", "2e-06"}}), 0);
  EXPECT_EQ(SampleValue(families, name, bucket, {{"le", "4e-06"}}), 1);
  EXPECT_EQ(SampleValue(families, name, bucket, {{"le", "0.000128"}}), 2);
  EXPECT_EQ(SampleValue(families, name, bucket, {{"le", "2.097152"}}), 3);
  EXPECT_EQ(SampleValue(families, name, bucket, {{"le", "67.108864"}}), 3);
  EXPECT_EQ(SampleValue(families, name, bucket, {{"le", "+Inf"}}), 4);
  EXPECT_EQ(SampleValue(families, name, name + "_count"), 4);
  // Written as the shortest text that round-trips, so exact.
  EXPECT_THAT(text, HasSubstr(name + "_sum 102.000103\n"));
}

TEST(PrometheusTest, PerLogGaugesAreLabelledByLog) {
  const Families families =
      Parse(FormatPrometheus(EngineMetricsSnapshot(), std::nullopt, TwoLogs()));
  EXPECT_EQ(Value(families, "shiplog_log_segments", {{"log", "orders-0"}}), 3);
  EXPECT_EQ(Value(families, "shiplog_log_size_bytes", {{"log", "orders-0"}}),
            4096);
  EXPECT_EQ(Value(families, "shiplog_log_start_offset", {{"log", "orders-0"}}),
            10);
  EXPECT_EQ(Value(families, "shiplog_log_end_offset", {{"log", "orders-0"}}),
            110);
  EXPECT_EQ(
      Value(families, "shiplog_log_committed_offset", {{"log", "orders-0"}}),
      100);
  EXPECT_EQ(Value(families, "shiplog_log_segments", {{"log", "payments-1"}}),
            1);
}

TEST(PrometheusTest, ProcessStatsParseBack) {
  const Families families =
      Parse(FormatPrometheus(EngineMetricsSnapshot(), KnownProcessStats(), {}));
  EXPECT_EQ(
      Value(families, "shiplog_process_cpu_seconds_total", {{"mode", "user"}}),
      1.5);
  EXPECT_EQ(Value(families, "shiplog_process_cpu_seconds_total",
                  {{"mode", "system"}}),
            0.25);
  EXPECT_EQ(Value(families, "shiplog_process_context_switches_total",
                  {{"kind", "voluntary"}}),
            10);
  EXPECT_EQ(Value(families, "shiplog_process_context_switches_total",
                  {{"kind", "involuntary"}}),
            2);
  EXPECT_EQ(Value(families, "shiplog_process_resident_memory_bytes"), 1 << 20);
  EXPECT_EQ(Value(families, "shiplog_process_open_fds"), 12);
  EXPECT_EQ(Value(families, "shiplog_process_max_fds"), 1024);
  EXPECT_EQ(Value(families, "shiplog_process_memory_maps"), 40);
  EXPECT_EQ(Value(families, "shiplog_process_max_memory_maps"), 65530);
  EXPECT_EQ(Value(families, "shiplog_process_io_wait_seconds_total"), 0.5);
}

TEST(PrometheusTest, AbsentFieldsLeaveTheirFamiliesOut) {
  ProcessStats stats = KnownProcessStats();
  stats.io_wait_seconds.reset();
  stats.max_fds.reset();
  const std::string text =
      FormatPrometheus(EngineMetricsSnapshot(), stats, /*logs=*/{});
  ASSERT_OK(ParseExposition(text));
  EXPECT_THAT(text, Not(HasSubstr("shiplog_process_io_wait_seconds_total")));
  EXPECT_THAT(text, Not(HasSubstr("shiplog_process_max_fds")));
  EXPECT_THAT(text, Not(HasSubstr("shiplog_log_")));
  EXPECT_THAT(text, HasSubstr("shiplog_process_open_fds 12\n"));
}

TEST(PrometheusTest, WithoutProcessStatsNoProcessFamilies) {
  const std::string text =
      FormatPrometheus(EngineMetricsSnapshot(), std::nullopt, {});
  ASSERT_OK(ParseExposition(text));
  EXPECT_THAT(text, Not(HasSubstr("shiplog_process_")));
}

TEST(PrometheusTest, LabelValuesAreEscaped) {
  const std::string name = "a\"b\\c\nd";
  const std::vector<LogGauges> logs = {{name, 1, 2, 3, 4, 5}};
  const std::string text =
      FormatPrometheus(EngineMetricsSnapshot(), std::nullopt, logs);
  EXPECT_THAT(text,
              HasSubstr("shiplog_log_segments{log=\"a\\\"b\\\\c\\nd\"} 1\n"));
  const Families families = Parse(text);
  EXPECT_EQ(Value(families, "shiplog_log_segments", {{"log", name}}), 1);
}

TEST(ExpositionParserTest, RejectsWhatScrapersWouldReject) {
  const std::vector<std::string> bad = {
      "# HELP x h\n# TYPE x counter\nx 1",               // no final newline
      "x 1\n",                                           // no HELP/TYPE
      "# HELP x h\nx 1\n",                               // no TYPE
      "# HELP x h\n# TYPE x counter\ny 1\n",             // foreign sample
      "# HELP x h\n# TYPE x counter\nx{a=\"\\t\"} 1\n",  // bad escape
      "# HELP x h\n# TYPE x histogram\nx_bucket{le=\"1\"} 2\n"
      "x_bucket{le=\"+Inf\"} 1\nx_sum 1\nx_count 1\n",  // not cumulative
      "# HELP x h\n# TYPE x histogram\nx_bucket{le=\"+Inf\"} 2\n"
      "x_sum 1\nx_count 1\n",  // +Inf != count
  };
  for (const std::string& text : bad) {
    EXPECT_FALSE(ParseExposition(text).ok()) << text;
  }
}

}  // namespace
}  // namespace shiplog
