// The C ABI's error plumbing: absl::Status to shiplog_status, the
// thread-local last error, argument checks, and the exception barrier every
// entry point runs its body in.
#ifndef SHIPLOG_CAPI_SRC_STATUS_H_
#define SHIPLOG_CAPI_SRC_STATUS_H_

#include <exception>
#include <new>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "capi/include/shiplog.h"

namespace shiplog::capi {

// The one mapping from engine statuses to C codes. Records the message as
// this thread's last error when `status` is not OK.
int Report(const absl::Status& status);

// Records `message` as the last error and returns `code`.
int Fail(int code, absl::string_view message);

// SHIPLOG_EINVAL unless `handle` is non-NULL and carries `magic`.
template <typename Handle>
int CheckHandle(const Handle* handle, uint32_t magic, const char* what) {
  if (handle == nullptr) {
    return Fail(SHIPLOG_EINVAL, std::string(what) + " is NULL");
  }
  if (handle->magic != magic) {
    return Fail(SHIPLOG_EINVAL, std::string(what) + " is not a live " + what +
                                    " handle (freed, or not one)");
  }
  return SHIPLOG_OK;
}

// SHIPLOG_EINVAL if a required pointer argument is NULL.
int CheckNotNull(const void* pointer, const char* what);

// SHIPLOG_EVERSION unless `version` is `expected`.
int CheckVersion(unsigned int version, unsigned int expected, const char* what);
// SHIPLOG_EVERSION unless oldest <= `version` <= newest: a struct that grew
// by appended fields, whose older versions are still accepted.
int CheckVersionBetween(unsigned int version, unsigned int oldest,
                        unsigned int newest, const char* what);

// Runs `body` (returning int) so that no C++ exception crosses the ABI.
template <typename Body>
int Guard(Body body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(SHIPLOG_ENOMEM, "out of memory");
  } catch (const std::exception& e) {
    return Fail(SHIPLOG_ERROR, std::string("internal error: ") + e.what());
  } catch (...) {
    return Fail(SHIPLOG_ERROR, "internal error: unknown exception");
  }
}

}  // namespace shiplog::capi

// Early return of a non-OK int status inside a Guard body.
#define SHIPLOG_TRY(expr)                     \
  do {                                        \
    const int shiplog_capi_status_ = (expr);  \
    if (shiplog_capi_status_ != SHIPLOG_OK) { \
      return shiplog_capi_status_;            \
    }                                         \
  } while (false)

#endif  // SHIPLOG_CAPI_SRC_STATUS_H_
