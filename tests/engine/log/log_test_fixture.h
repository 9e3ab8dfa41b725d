// A fixture that opens a Log in a temporary directory on a TestEnv.
#ifndef SHIPLOG_TESTS_ENGINE_LOG_LOG_TEST_FIXTURE_H_
#define SHIPLOG_TESTS_ENGINE_LOG_LOG_TEST_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "engine/log/log.h"
#include "tests/engine/records_test_util.h"
#include "tests/engine/test_env.h"
#include "tests/engine/test_util.h"

namespace shiplog::testing {

class LogTest : public ::testing::Test {
 protected:
  // Small segments and dense indexes, so a few records exercise rolls.
  static LogConfig SmallConfig() {
    LogConfig config;
    config.segment_bytes = 1024;
    config.index_interval_bytes = 128;
    config.max_index_bytes = 4096;
    return config;
  }

  void Open(const LogConfig& config, const LogOpenOptions& options = {}) {
    log_.reset();
    auto opened = Log::Open(&env_, dir_.path(), "orders-0", config, options);
    ASSERT_OK(opened);
    log_ = *std::move(opened);
  }

  // Appends one batch per call; returns its result.
  AppendResult AppendValues(const std::vector<std::string>& values,
                            int64_t timestamp_ms = kNoTimestamp) {
    const std::vector<RecordView> records = ValueRecords(values, timestamp_ms);
    absl::StatusOr<AppendResult> result = log_->Append(records);
    EXPECT_OK(result);
    return result.ok() ? *result : AppendResult{};
  }

  std::vector<std::string> ReadValues(int64_t offset) {
    absl::StatusOr<std::vector<Record>> records = ReadAll(*log_, offset);
    EXPECT_OK(records);
    return records.ok() ? Values(*records) : std::vector<std::string>{};
  }

  TestEnv env_;
  TempDir dir_;
  std::shared_ptr<Log> log_;
};

}  // namespace shiplog::testing

#endif  // SHIPLOG_TESTS_ENGINE_LOG_LOG_TEST_FIXTURE_H_
