// Option structs that grow by version. Each version of a struct appends
// fields to the one before, so version N is a byte prefix of the newest:
// the library reads only the caller's version's bytes (a program built
// against an older header allocated no more), and _init writes only them.
#ifndef SHIPLOG_CAPI_SRC_VERSIONED_H_
#define SHIPLOG_CAPI_SRC_VERSIONED_H_

#include <cstddef>
#include <cstring>

#include "capi/include/shiplog.h"
#include "capi/src/status.h"

namespace shiplog::capi {

// The size of each version of struct T, oldest first: sizes[N - 1] is the
// size of version N, and the last is sizeof(T).
template <typename T, size_t kVersions>
struct VersionSizes {
  size_t sizes[kVersions];
};

// SHIPLOG_EVERSION (naming `what`) unless 1 <= version <= kVersions.
template <typename T, size_t kVersions>
int CheckKnownVersion(unsigned int version, const VersionSizes<T, kVersions>&,
                      const char* what) {
  return CheckVersionBetween(version, 1, kVersions, what);
}

// `*out` holds the newest version's defaults; the caller's fields of its
// version replace them. `given` may be an older, smaller struct.
template <typename T, size_t kVersions>
int ReadVersioned(const T* given, const VersionSizes<T, kVersions>& sizes,
                  const char* what, T* out) {
  SHIPLOG_TRY(CheckKnownVersion(given->version, sizes, what));
  std::memcpy(static_cast<void*>(out), given, sizes.sizes[given->version - 1]);
  return SHIPLOG_OK;
}

// Writes the first `version`'s bytes of `defaults` to `out`, which may be
// an older, smaller struct, and stamps it with `version`.
template <typename T, size_t kVersions>
int WriteVersioned(const T& defaults, unsigned int version,
                   const VersionSizes<T, kVersions>& sizes, const char* what,
                   T* out) {
  SHIPLOG_TRY(CheckKnownVersion(version, sizes, what));
  std::memcpy(static_cast<void*>(out), &defaults, sizes.sizes[version - 1]);
  out->version = version;
  return SHIPLOG_OK;
}

// shiplog_log_options: version 2 appends write_mode.
inline constexpr VersionSizes<shiplog_log_options, 2> kLogOptionsSizes = {
    {offsetof(shiplog_log_options, write_mode), sizeof(shiplog_log_options)}};

// shiplog_store_options: version 1 ends with its default_log_options (of
// log options version 1); version 2 appends the resource settings.
inline constexpr VersionSizes<shiplog_store_options, 2> kStoreOptionsSizes = {
    {offsetof(shiplog_store_options, default_log_options) +
         kLogOptionsSizes.sizes[0],
     sizeof(shiplog_store_options)}};

// shiplog_send_options: version 2 appends cold_read_lag_bytes.
inline constexpr VersionSizes<shiplog_send_options, 2> kSendOptionsSizes = {
    {offsetof(shiplog_send_options, cold_read_lag_bytes),
     sizeof(shiplog_send_options)}};

}  // namespace shiplog::capi

#endif  // SHIPLOG_CAPI_SRC_VERSIONED_H_
