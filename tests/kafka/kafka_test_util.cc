#include "tests/kafka/kafka_test_util.h"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace shiplog::kafka::testing {

std::string Encode(const std::function<void(WireWriter&)>& write) {
  std::string bytes;
  WireWriter writer(&bytes);
  write(writer);
  return bytes;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr && *base != '\0' ? base : "/tmp",
                   "/shiplog-kafka-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp(" << pattern << ") failed";
  }
  path_ = std::move(pattern);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

TempStore::TempStore() { Open(); }

void TempStore::Open() {
  absl::StatusOr<cli::Owned<shiplog_store>> store =
      cli::OpenStore(directory_.path(), /*read_only=*/false,
                     /*maintenance=*/false);
  ASSERT_OK(store);
  store_ = *std::move(store);
}

void TempStore::Close() {
  ASSERT_EQ(shiplog_store_close(store_.get()), SHIPLOG_OK)
      << shiplog_last_error();
  store_.reset();
}

void TempStore::Reopen() {
  Close();
  Open();
}

cli::Owned<shiplog_log> TempStore::OpenLog(const std::string& name) {
  const shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
  absl::StatusOr<cli::Owned<shiplog_log>> log =
      cli::Open(shiplog_log_open, store_.get(), name.c_str(), &options);
  EXPECT_OK(log);
  return log.ok() ? *std::move(log) : nullptr;
}

std::vector<std::string> TempStore::LogNames() {
  shiplog_strarray names = {};
  EXPECT_EQ(shiplog_store_list_logs(&names, store_.get()), SHIPLOG_OK)
      << shiplog_last_error();
  std::vector<std::string> result(names.strings, names.strings + names.count);
  shiplog_strarray_dispose(&names);
  return result;
}

}  // namespace shiplog::kafka::testing
