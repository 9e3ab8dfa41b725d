// Early returns for the tool's absl::Status code. The engine keeps its own
// pair; the tool sees nothing of the engine but the C ABI, so it has these.
//
//   RETURN_IF_ERROR(expr);             // expr: absl::Status or StatusOr<T>
//   ASSIGN_OR_RETURN(lhs, expr);       // expr: absl::StatusOr<T>
//
// Both evaluate `expr` once. ASSIGN_OR_RETURN expands to several
// statements: under an `if`, use braces.
#ifndef SHIPLOG_BINDINGS_CLI_STATUS_MACROS_H_
#define SHIPLOG_BINDINGS_CLI_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace shiplog::cli::status_internal {

inline absl::Status StatusOf(absl::Status status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& value) {
  return value.status();
}

}  // namespace shiplog::cli::status_internal

#define RETURN_IF_ERROR(expr)                                \
  do {                                                       \
    if (absl::Status cli_status_ =                           \
            ::shiplog::cli::status_internal::StatusOf(expr); \
        !cli_status_.ok()) {                                 \
      return cli_status_;                                    \
    }                                                        \
  } while (false)

#define ASSIGN_OR_RETURN(lhs, expr) \
  CLI_ASSIGN_OR_RETURN_(CLI_STATUS_JOIN_(cli_value_, __LINE__), lhs, expr)

#define CLI_ASSIGN_OR_RETURN_(value, lhs, expr)      \
  auto value = (expr);                               \
  if (!value.ok()) return std::move(value).status(); \
  lhs = *std::move(value)

#define CLI_STATUS_JOIN_(a, b) CLI_STATUS_JOIN_INNER_(a, b)
#define CLI_STATUS_JOIN_INNER_(a, b) a##b

#endif  // SHIPLOG_BINDINGS_CLI_STATUS_MACROS_H_
