// Shared test helpers: status assertions (Debian's Abseil has no status
// matchers) and a temporary directory that removes itself.
#ifndef SHIPLOG_TESTS_ENGINE_TEST_UTIL_H_
#define SHIPLOG_TESTS_ENGINE_TEST_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/status/status_macros.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shiplog::testing {

using ::shiplog::status_internal::AsStatus;

// Matches an absl::Status or absl::StatusOr<T> with the given code and a
// message matching `message_matcher`.
MATCHER_P2(StatusIs, code, message_matcher,
           absl::StrCat("has status code ", absl::StatusCodeToString(code))) {
  const absl::Status& status = AsStatus(arg);
  if (status.code() != code) {
    *result_listener << "whose status is " << status;
    return false;
  }
  return ::testing::ExplainMatchResult(
      message_matcher, std::string(status.message()), result_listener);
}

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object is destroyed.
class TempDir {
 public:
  TempDir();
  // Under `base` instead (e.g. /dev/shm, where fsync costs nothing, for
  // tests whose durability is modelled by a FaultInjectionEnv); falls back
  // to the default when `base` is not a writable directory.
  explicit TempDir(const std::string& base);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace shiplog::testing

#define SHIPLOG_TEST_CONCAT_INNER_(a, b) a##b
#define SHIPLOG_TEST_CONCAT_(a, b) SHIPLOG_TEST_CONCAT_INNER_(a, b)

#define ASSERT_OK(expr) \
  ASSERT_EQ(::shiplog::status_internal::AsStatus((expr)), absl::OkStatus())
#define EXPECT_OK(expr) \
  EXPECT_EQ(::shiplog::status_internal::AsStatus((expr)), absl::OkStatus())

// ASSERT_OK_AND_ASSIGN(auto value, FunctionReturningStatusOr());
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  SHIPLOG_ASSERT_OK_AND_ASSIGN_IMPL_(    \
      SHIPLOG_TEST_CONCAT_(shiplog_statusor_, __LINE__), lhs, rexpr)
#define SHIPLOG_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                       \
  ASSERT_EQ(statusor.status(), absl::OkStatus());                \
  lhs = *std::move(statusor)

#endif  // SHIPLOG_TESTS_ENGINE_TEST_UTIL_H_
