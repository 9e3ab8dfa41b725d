#include "bindings/cli/store_flags.h"

#include "bindings/cli/status_macros.h"

namespace shiplog::cli {

std::vector<FlagSpec> StoreTuningFlags() {
  return {
      {"min-free-bytes", "B",
       "refuse appends that would leave less than B free on the store's "
       "file system (default 0: no guard)"},
      {"max-open-segment-files", "N",
       "descriptors idle segments may hold open; the least recently used "
       "close (default: half of ulimit -n)"},
      {"max-segment-mappings", "N",
       "memory maps idle segments may hold (default: half of "
       "vm.max_map_count)"},
  };
}

absl::StatusOr<StoreTuning> ParseStoreTuning(const ParsedFlags& flags) {
  StoreTuning tuning;
  ASSIGN_OR_RETURN(const std::optional<uint64_t> min_free,
                   flags.GetByteCount("min-free-bytes", 0));
  tuning.min_free_bytes = min_free.value_or(0);
  ASSIGN_OR_RETURN(const std::optional<int64_t> files,
                   flags.GetInt("max-open-segment-files", 1));
  tuning.max_open_segment_files = static_cast<uint64_t>(files.value_or(0));
  ASSIGN_OR_RETURN(const std::optional<int64_t> mappings,
                   flags.GetInt("max-segment-mappings", 1));
  tuning.max_segment_mappings = static_cast<uint64_t>(mappings.value_or(0));
  return tuning;
}

}  // namespace shiplog::cli
