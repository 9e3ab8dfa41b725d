// Log names: the only strings that become paths inside a store.
#ifndef SHIPLOG_ENGINE_STORE_LOG_NAME_H_
#define SHIPLOG_ENGINE_STORE_LOG_NAME_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shiplog {

inline constexpr size_t kMaxLogNameLength = 249;

// OK if `name` is 1-249 characters of [A-Za-z0-9._-], is neither "." nor
// "..", and is not the name of one of the store's own files. Otherwise
// kInvalidArgument saying which rule it breaks. A valid name never leaves
// the store directory: it has no '/', and "." and ".." are refused.
absl::Status ValidateLogName(absl::string_view name);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STORE_LOG_NAME_H_
