#include "capi/src/status.h"

#include <cerrno>
#include <string>

#include "engine/status/errno_status.h"
#include "engine/status/error_kind.h"

namespace shiplog::capi {
namespace {

thread_local std::string last_error;

int CodeFor(const absl::Status& status) {
  if (const std::optional<ErrorKind> kind = GetErrorKind(status)) {
    switch (*kind) {
      case ErrorKind::kLocked:
        return SHIPLOG_ELOCKED;
      case ErrorKind::kReadOnly:
        return SHIPLOG_EREADONLY;
      case ErrorKind::kClosed:
        return SHIPLOG_ECLOSED;
      case ErrorKind::kLowDiskSpace:
        return SHIPLOG_ELOWSPACE;
    }
  }
  switch (StatusErrno(status)) {
    case 0:
      break;
    case ENOSPC:
    case EDQUOT:
      return SHIPLOG_ENOSPC;
    case EPIPE:
    case ECONNRESET:
      return SHIPLOG_EPEERCLOSED;
    case EAGAIN:
      return SHIPLOG_EAGAIN;
    case ENOMEM:
      return SHIPLOG_ENOMEM;
    case ENOENT:
      return SHIPLOG_ENOTFOUND;
    case EEXIST:
      return SHIPLOG_EEXISTS;
    case EINVAL:
      return SHIPLOG_EINVAL;
    default:
      return SHIPLOG_EIO;
  }
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return SHIPLOG_OK;
    case absl::StatusCode::kInvalidArgument:
      return SHIPLOG_EINVAL;
    case absl::StatusCode::kNotFound:
      return SHIPLOG_ENOTFOUND;
    case absl::StatusCode::kAlreadyExists:
      return SHIPLOG_EEXISTS;
    case absl::StatusCode::kOutOfRange:
      return SHIPLOG_ERANGE;
    case absl::StatusCode::kDataLoss:
      return SHIPLOG_ECORRUPT;
    case absl::StatusCode::kFailedPrecondition:
      return SHIPLOG_EREADONLY;
    case absl::StatusCode::kUnimplemented:
      return SHIPLOG_EUNSUPPORTED;
    case absl::StatusCode::kDeadlineExceeded:
      return SHIPLOG_ETIMEDOUT;
    case absl::StatusCode::kPermissionDenied:
      return SHIPLOG_EIO;
    default:
      return SHIPLOG_ERROR;
  }
}

}  // namespace

int Fail(int code, absl::string_view message) {
  last_error.assign(message.data(), message.size());
  return code;
}

int Report(const absl::Status& status) {
  if (status.ok()) return SHIPLOG_OK;
  return Fail(CodeFor(status), status.message());
}

int CheckNotNull(const void* pointer, const char* what) {
  if (pointer != nullptr) return SHIPLOG_OK;
  return Fail(SHIPLOG_EINVAL, std::string(what) + " is NULL");
}

int CheckVersion(unsigned int version, unsigned int expected,
                 const char* what) {
  if (version == expected) return SHIPLOG_OK;
  return Fail(SHIPLOG_EVERSION,
              std::string(what) + " has version " + std::to_string(version) +
                  "; this library knows version " + std::to_string(expected) +
                  " (initialize it with its _INIT macro)");
}

int CheckVersionBetween(unsigned int version, unsigned int oldest,
                        unsigned int newest, const char* what) {
  if (version >= oldest && version <= newest) return SHIPLOG_OK;
  return Fail(SHIPLOG_EVERSION,
              std::string(what) + " has version " + std::to_string(version) +
                  "; this library knows versions " + std::to_string(oldest) +
                  " to " + std::to_string(newest) +
                  " (initialize it with its _INIT macro)");
}

}  // namespace shiplog::capi

extern "C" {

const char* shiplog_last_error(void) {
  return shiplog::capi::last_error.c_str();
}

const char* shiplog_status_str(int status) {
  switch (status) {
    case SHIPLOG_OK:
      return "SHIPLOG_OK: success";
    case SHIPLOG_ERROR:
      return "SHIPLOG_ERROR: internal error";
    case SHIPLOG_EINVAL:
      return "SHIPLOG_EINVAL: invalid argument";
    case SHIPLOG_ENOTFOUND:
      return "SHIPLOG_ENOTFOUND: not found";
    case SHIPLOG_EEXISTS:
      return "SHIPLOG_EEXISTS: already exists";
    case SHIPLOG_ERANGE:
      return "SHIPLOG_ERANGE: offset out of range";
    case SHIPLOG_ECORRUPT:
      return "SHIPLOG_ECORRUPT: corrupt data";
    case SHIPLOG_EREADONLY:
      return "SHIPLOG_EREADONLY: read-only";
    case SHIPLOG_ELOCKED:
      return "SHIPLOG_ELOCKED: store locked by another writer";
    case SHIPLOG_ENOSPC:
      return "SHIPLOG_ENOSPC: disk full";
    case SHIPLOG_EIO:
      return "SHIPLOG_EIO: I/O error";
    case SHIPLOG_EAGAIN:
      return "SHIPLOG_EAGAIN: would block";
    case SHIPLOG_EPEERCLOSED:
      return "SHIPLOG_EPEERCLOSED: peer closed the connection";
    case SHIPLOG_ECLOSED:
      return "SHIPLOG_ECLOSED: handle closed";
    case SHIPLOG_EUNSUPPORTED:
      return "SHIPLOG_EUNSUPPORTED: not supported";
    case SHIPLOG_ETIMEDOUT:
      return "SHIPLOG_ETIMEDOUT: timed out";
    case SHIPLOG_EVERSION:
      return "SHIPLOG_EVERSION: unknown options version";
    case SHIPLOG_ENOMEM:
      return "SHIPLOG_ENOMEM: out of memory";
    case SHIPLOG_ELOWSPACE:
      return "SHIPLOG_ELOWSPACE: free space below min_free_bytes";
    case SHIPLOG_ITEROVER:
      return "SHIPLOG_ITEROVER: no more items";
    default:
      return "unknown shiplog status";
  }
}

}  // extern "C"
