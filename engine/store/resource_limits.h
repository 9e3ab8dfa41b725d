// Resource limits: the store's caps on what idle segments hold open,
// derived from the process's own limits, and the warnings an operator
// needs when those limits are close (the article's tuning advice on
// `ulimit -n` and `vm.max_map_count`, checked by the engine itself).
//
// Thread-safety: pure functions of their arguments.
#ifndef SHIPLOG_ENGINE_STORE_RESOURCE_LIMITS_H_
#define SHIPLOG_ENGINE_STORE_RESOURCE_LIMITS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "engine/metrics/process_stats.h"
#include "engine/segment/segment_cache.h"

namespace shiplog {

// What an active segment holds open while it is active: its .log and two
// index files (descriptors), and the two index mappings.
inline constexpr uint64_t kActiveSegmentFiles = 3;
inline constexpr uint64_t kActiveSegmentMappings = 2;
// The least a cap resolves to, so a tiny limit still leaves room to read.
inline constexpr uint64_t kMinimumSegmentCacheCap = 16;

// The caps: each given value as it is, each 0 as half of the matching
// limit (RLIMIT_NOFILE's soft limit, vm.max_map_count), at least
// kMinimumSegmentCacheCap; unbounded when the limit is unknown or
// unlimited.
SegmentCacheLimits ResolveSegmentCacheLimits(uint64_t max_open_segment_files,
                                             uint64_t max_segment_mappings,
                                             const ProcessStats& process);

// What a store will hold open at most.
struct ResourceDemand {
  uint64_t logs = 0;
  bool writable = true;  // read-only stores have no active segments
  SegmentCacheLimits cache;
};

// One sentence per limit that the demand reaches kResourceWarningPercent
// of, naming the limit, what uses it and how to raise it; then the
// process's own warnings (ProcessStats::warnings). Empty when all is well.
std::vector<std::string> ResourceWarnings(const ResourceDemand& demand,
                                          const ProcessStats& process);

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STORE_RESOURCE_LIMITS_H_
