#include "engine/store/resource_limits.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"

namespace shiplog {
namespace {

uint64_t ResolveCap(uint64_t given, const std::optional<int64_t>& limit) {
  if (given != 0) return given;
  if (!limit.has_value() || *limit <= 0) return UINT64_MAX;
  return std::max<uint64_t>(kMinimumSegmentCacheCap,
                            static_cast<uint64_t>(*limit) / 2);
}

// Whether `demand` reaches kResourceWarningPercent of `limit`, without
// overflow for unbounded caps.
bool Close(uint64_t pinned, uint64_t cache_cap, int64_t limit) {
  const uint64_t threshold =
      static_cast<uint64_t>(limit) * kResourceWarningPercent / 100;
  return pinned >= threshold || cache_cap >= threshold - pinned;
}

std::string CapText(uint64_t cap) {
  return cap == UINT64_MAX ? std::string("no bound") : absl::StrCat(cap);
}

}  // namespace

SegmentCacheLimits ResolveSegmentCacheLimits(uint64_t max_open_segment_files,
                                             uint64_t max_segment_mappings,
                                             const ProcessStats& process) {
  return SegmentCacheLimits{
      .max_open_files = ResolveCap(max_open_segment_files, process.max_fds),
      .max_mappings =
          ResolveCap(max_segment_mappings, process.max_memory_maps)};
}

std::vector<std::string> ResourceWarnings(const ResourceDemand& demand,
                                          const ProcessStats& process) {
  std::vector<std::string> warnings;
  const uint64_t active = demand.writable ? demand.logs : 0;
  if (process.max_fds.has_value() &&
      Close(active * kActiveSegmentFiles, demand.cache.max_open_files,
            *process.max_fds)) {
    warnings.push_back(absl::StrCat(
        "descriptors: the active segments of ", active, " logs hold ",
        active * kActiveSegmentFiles, " and idle segments up to ",
        CapText(demand.cache.max_open_files),
        " (max_open_segment_files), against RLIMIT_NOFILE's soft limit of ",
        *process.max_fds, ", with sockets and clients still to come: raise it "
        "(ulimit -n, systemd LimitNOFILE=) or lower max_open_segment_files"));
  }
  if (process.max_memory_maps.has_value() &&
      Close(active * kActiveSegmentMappings, demand.cache.max_mappings,
            *process.max_memory_maps)) {
    warnings.push_back(absl::StrCat(
        "memory maps: the active segments of ", active, " logs hold ",
        active * kActiveSegmentMappings, " and idle segments up to ",
        CapText(demand.cache.max_mappings),
        " (max_segment_mappings), against vm.max_map_count of ",
        *process.max_memory_maps,
        ": raise it (sysctl -w vm.max_map_count=N) or lower "
        "max_segment_mappings"));
  }
  warnings.insert(warnings.end(), process.warnings.begin(),
                  process.warnings.end());
  return warnings;
}

}  // namespace shiplog
