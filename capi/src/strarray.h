// shiplog_strarray: lists of strings handed to the caller.
#ifndef SHIPLOG_CAPI_SRC_STRARRAY_H_
#define SHIPLOG_CAPI_SRC_STRARRAY_H_

#include <string>
#include <vector>

#include "capi/include/shiplog.h"

namespace shiplog::capi {

// Hands copies of `strings` to the caller in `*out` (released with
// shiplog_strarray_dispose). Throws std::bad_alloc, which Guard reports.
void FillStrArray(const std::vector<std::string>& strings,
                  shiplog_strarray* out);

}  // namespace shiplog::capi

#endif  // SHIPLOG_CAPI_SRC_STRARRAY_H_
