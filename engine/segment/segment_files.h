// The names of a segment's files: `<base offset, 20 digits><suffix>`.
#ifndef SHIPLOG_ENGINE_SEGMENT_SEGMENT_FILES_H_
#define SHIPLOG_ENGINE_SEGMENT_SEGMENT_FILES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace shiplog {

inline constexpr absl::string_view kLogFileSuffix = ".log";
inline constexpr absl::string_view kOffsetIndexFileSuffix = ".index";
inline constexpr absl::string_view kTimeIndexFileSuffix = ".timeindex";

// "00000000000000000042.log" for (42, ".log").
std::string SegmentFileName(int64_t base_offset, absl::string_view suffix);

// The base offset in `file_name` if it is exactly 20 digits followed by
// `suffix` and at most kLogOffsetLimit; nullopt otherwise.
std::optional<int64_t> ParseSegmentFileName(absl::string_view file_name,
                                            absl::string_view suffix);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_SEGMENT_SEGMENT_FILES_H_
