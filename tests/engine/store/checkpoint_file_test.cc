#include "engine/store/checkpoint_file.h"

#include "engine/log/log_config.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(CheckpointFileTest, LogNamesWithAPartitionAreWrittenAsKafkaDoes) {
  const OffsetCheckpoint offsets = {
      {"orders-0", 10}, {"audit", 7}, {"a-b-12", 3}, {"x-007", 1}, {"-5", 2}};
  EXPECT_EQ(FormatCheckpoint(offsets),
            "0\n5\n"
            "-5 -1 2\n"
            "a-b 12 3\n"
            "audit -1 7\n"
            "orders 0 10\n"
            "x-007 -1 1\n");
}

TEST(CheckpointFileTest, EveryNameRoundTrips) {
  const OffsetCheckpoint offsets = {
      {"orders-0", 10}, {"audit", 7}, {"a-b-12", 3},        {"x-007", 1},
      {"-5", 2},        {"t--1", 4},  {"big-2147483648", 9}};
  ASSERT_OK_AND_ASSIGN(OffsetCheckpoint parsed,
                       ParseCheckpoint(FormatCheckpoint(offsets)));
  EXPECT_EQ(parsed, offsets);
}

TEST(CheckpointFileTest, MalformedFilesAreDataLossNamingTheLine) {
  EXPECT_THAT(ParseCheckpoint(""), StatusIs(absl::StatusCode::kDataLoss,
                                            HasSubstr("missing version")));
  EXPECT_THAT(ParseCheckpoint("1\n0\n"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("unsupported version '1'")));
  EXPECT_THAT(ParseCheckpoint("0\n2\nt 0 1\n"),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("entry count '2' but 1 entries follow")));
  EXPECT_THAT(ParseCheckpoint("0\n1\nt zero 1\n"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("line 3")));
  EXPECT_THAT(ParseCheckpoint("0\n1\nt 0 -4\n"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("line 3")));
}

TEST(CheckpointFileTest, AMissingFileIsAnEmptyCheckpoint) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(OffsetCheckpoint offsets,
                       ReadCheckpoint(Env::Default(), dir.Join("none")));
  EXPECT_TRUE(offsets.empty());
  ASSERT_OK(WriteCheckpoint(Env::Default(), dir.Join("cp"), {{"t-1", 5}}));
  ASSERT_OK_AND_ASSIGN(offsets, ReadCheckpoint(Env::Default(), dir.Join("cp")));
  EXPECT_EQ(offsets, (OffsetCheckpoint{{"t-1", 5}}));
}

TEST(LogConfigTest, PropertiesRoundTripUnderKafkaNames) {
  LogConfig config;
  config.segment_bytes = 4096;
  config.retention_bytes = 1 << 20;
  config.flush_messages = 1;
  const std::string text = FormatLogConfig(config);
  EXPECT_THAT(text, HasSubstr("segment.bytes=4096\n"));
  EXPECT_THAT(text, HasSubstr("segment.index.bytes=10485760\n"));
  EXPECT_THAT(text, HasSubstr("flush.ms=-1\n"));
  ASSERT_OK_AND_ASSIGN(LogConfig parsed, ParseLogConfig(text, LogConfig{}));
  EXPECT_EQ(parsed, config);
}

TEST(LogConfigTest, ParseKeepsDefaultsForMissingSettings) {
  LogConfig defaults;
  defaults.retention_ms = 1234;
  ASSERT_OK_AND_ASSIGN(
      LogConfig parsed,
      ParseLogConfig("# comment\n\nsegment.ms = 99\n", defaults));
  EXPECT_EQ(parsed.segment_ms, 99);
  EXPECT_EQ(parsed.retention_ms, 1234);
}

TEST(LogConfigTest, ParseNamesTheBadLine) {
  EXPECT_THAT(ParseLogConfig("segment.ms=1\nnonsense\n", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 2: expected name=value")));
  EXPECT_THAT(ParseLogConfig("retention.ms=soon\n", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 1: retention.ms needs an integer")));
  EXPECT_THAT(ParseLogConfig("retention.ms=-2\n", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("retention.ms must be -1 or between 0")));
}

TEST(LogConfigTest, OverridesReplaceOnlyWhatTheySet) {
  LogConfigOverrides overrides;
  EXPECT_TRUE(overrides.empty());
  overrides.flush_ms = 5;
  EXPECT_FALSE(overrides.empty());
  const LogConfig applied = overrides.ApplyTo(LogConfig{});
  EXPECT_EQ(applied.flush_ms, 5);
  EXPECT_EQ(applied.segment_bytes, LogConfig{}.segment_bytes);
}

TEST(LogConfigTest, WriteModeRoundTripsAsShiplogsOwnSetting) {
  LogConfig config;
  config.write_mode = WriteMode::kDirect;
  const std::string text = FormatLogConfig(config);
  EXPECT_THAT(text, HasSubstr("write.mode=direct\n"));
  ASSERT_OK_AND_ASSIGN(LogConfig parsed, ParseLogConfig(text, LogConfig{}));
  EXPECT_EQ(parsed, config);
  EXPECT_EQ(parsed.write_mode, WriteMode::kDirect);
}

TEST(LogConfigTest, BufferedLogsWriteNoWriteModeSoOlderVersionsReadThem) {
  const std::string text = FormatLogConfig(LogConfig{});
  EXPECT_THAT(text, Not(HasSubstr("write.mode")));
  // A file without the line is buffered, whatever the store's default.
  LogConfig direct_default;
  direct_default.write_mode = WriteMode::kDirect;
  ASSERT_OK_AND_ASSIGN(LogConfig parsed, ParseLogConfig(text, direct_default));
  EXPECT_EQ(parsed.write_mode, WriteMode::kBuffered);
}

TEST(LogConfigTest, ParseRefusesAnUnknownWriteMode) {
  EXPECT_THAT(ParseLogConfig("write.mode=sometimes\n", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 1: write.mode must be buffered or "
                                 "direct, not 'sometimes'")));
  EXPECT_EQ(ParseWriteMode("direct"), WriteMode::kDirect);
  EXPECT_EQ(ParseWriteMode("buffered"), WriteMode::kBuffered);
  EXPECT_EQ(ParseWriteMode("DIRECT"), std::nullopt);
  EXPECT_EQ(WriteModeName(WriteMode::kDirect), "direct");
}

TEST(LogConfigTest, WriteModeOverrideAppliesAndCounts) {
  LogConfigOverrides overrides;
  overrides.write_mode = WriteMode::kDirect;
  EXPECT_FALSE(overrides.empty());
  EXPECT_EQ(overrides.ApplyTo(LogConfig{}).write_mode, WriteMode::kDirect);
  EXPECT_EQ(LogConfigOverrides{}.ApplyTo(LogConfig{}).write_mode,
            WriteMode::kBuffered);
}

}  // namespace
}  // namespace shiplog
