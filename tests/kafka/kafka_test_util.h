// Helpers for the Kafka server's tests. The server sees the engine only
// through the C ABI, and so do its tests: a temporary directory, a store in
// it opened as `shiplog serve` opens one, and status assertions (Debian's
// Abseil has no status matchers).
#ifndef SHIPLOG_TESTS_KAFKA_KAFKA_TEST_UTIL_H_
#define SHIPLOG_TESTS_KAFKA_KAFKA_TEST_UTIL_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bindings/cli/abi.h"
#include "bindings/kafka/protocol.h"
#include "bindings/kafka/wire.h"
#include "gtest/gtest.h"
#include "shiplog.h"

namespace shiplog::kafka {

// Prints a Kafka error code by its number in test failures.
inline void PrintTo(ErrorCode code, std::ostream* os) {
  *os << "ErrorCode(" << static_cast<int>(code) << ")";
}

}  // namespace shiplog::kafka

namespace shiplog::kafka::testing {

inline const absl::Status& StatusOf(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// The bytes `write` writes with a WireWriter.
std::string Encode(const std::function<void(WireWriter&)>& write);

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object is destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A writable store in its own temporary directory, without the background
// maintenance thread (nothing happens behind a test's back).
class TempStore {
 public:
  TempStore();

  shiplog_store* get() const { return store_.get(); }
  const std::string& path() const { return directory_.path(); }
  // Shuts the store down cleanly (shiplog_store_close) and frees it.
  // Handles opened from it must not be used afterwards.
  void Close();
  // Opens the store (again).
  void Open();
  // Close() and Open(), as a server restart does.
  void Reopen();
  // Log `name`, created with the store's default settings if missing.
  cli::Owned<shiplog_log> OpenLog(const std::string& name);
  // The names of the store's logs, sorted.
  std::vector<std::string> LogNames();

 private:
  TempDir directory_;
  cli::Owned<shiplog_store> store_;
};

}  // namespace shiplog::kafka::testing

#define ASSERT_OK(expr) \
  ASSERT_EQ(::shiplog::kafka::testing::StatusOf((expr)), absl::OkStatus())
#define EXPECT_OK(expr) \
  EXPECT_EQ(::shiplog::kafka::testing::StatusOf((expr)), absl::OkStatus())

#define SHIPLOG_KAFKA_TEST_CONCAT_INNER_(a, b) a##b
#define SHIPLOG_KAFKA_TEST_CONCAT_(a, b) SHIPLOG_KAFKA_TEST_CONCAT_INNER_(a, b)

// ASSERT_OK_AND_ASSIGN(auto value, FunctionReturningStatusOr());
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr)    \
  SHIPLOG_KAFKA_ASSERT_OK_AND_ASSIGN_IMPL_( \
      SHIPLOG_KAFKA_TEST_CONCAT_(kafka_statusor_, __LINE__), lhs, rexpr)
#define SHIPLOG_KAFKA_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                             \
  ASSERT_EQ(statusor.status(), absl::OkStatus());                      \
  lhs = *std::move(statusor)

#endif  // SHIPLOG_TESTS_KAFKA_KAFKA_TEST_UTIL_H_
