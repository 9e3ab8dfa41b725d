// Early-return helpers for absl::Status and absl::StatusOr<T>.
//
// Debian's Abseil (20220623) ships no status macros, so the engine defines the
// two it needs here, once. Both evaluate their argument exactly once.
#ifndef SHIPLOG_ENGINE_STATUS_STATUS_MACROS_H_
#define SHIPLOG_ENGINE_STATUS_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function with the status of `expr` if it is not
// OK. `expr` may be an absl::Status or an absl::StatusOr<T>.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    const absl::Status shiplog_status_ =               \
        ::shiplog::status_internal::AsStatus((expr));  \
    if (!shiplog_status_.ok()) return shiplog_status_; \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be
// a declaration (`ASSIGN_OR_RETURN(auto x, F())`) or an existing variable.
// It expands to several statements: under an `if`, use braces.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  SHIPLOG_ASSIGN_OR_RETURN_IMPL_(    \
      SHIPLOG_STATUS_CONCAT_(shiplog_statusor_, __LINE__), lhs, rexpr)

#define SHIPLOG_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();   \
  lhs = *std::move(statusor)

#define SHIPLOG_STATUS_CONCAT_INNER_(a, b) a##b
#define SHIPLOG_STATUS_CONCAT_(a, b) SHIPLOG_STATUS_CONCAT_INNER_(a, b)

namespace shiplog::status_internal {

inline const absl::Status& AsStatus(const absl::Status& status) {
  return status;
}

template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace shiplog::status_internal

#endif  // SHIPLOG_ENGINE_STATUS_STATUS_MACROS_H_
