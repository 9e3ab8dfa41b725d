#include "engine/metrics/metric.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>

namespace shiplog {

double HistogramSnapshot::Percentile(double p) const {
  if (count == 0 || bucket_counts.size() != upper_bounds.size() + 1) return 0;
  const double rank = std::clamp(p, 0.0, 100.0) / 100.0 * count;
  uint64_t below = 0;  // values in the buckets before `i`
  for (size_t i = 0; i < bucket_counts.size(); ++i) {
    const uint64_t in_bucket = bucket_counts[i];
    // Skipping empty buckets makes p=0 land on the smallest recorded
    // bucket rather than on an empty one below it.
    if (in_bucket == 0 || below + in_bucket < rank) {
      below += in_bucket;
      continue;
    }
    if (i == upper_bounds.size()) break;  // the overflow bucket
    const double lower =
        i == 0 ? 0.0 : static_cast<double>(upper_bounds[i - 1]);
    const double upper = static_cast<double>(upper_bounds[i]);
    return lower + (upper - lower) * (rank - below) / in_bucket;
  }
  return static_cast<double>(upper_bounds.back());
}

Histogram Histogram::Exponential(uint64_t first_upper_bound, double factor,
                                 size_t count) {
  assert(first_upper_bound >= 1 && factor > 1 && count >= 1);
  std::vector<uint64_t> upper_bounds;
  upper_bounds.reserve(count);
  double exact = static_cast<double>(first_upper_bound);
  for (size_t i = 0; i < count; ++i, exact *= factor) {
    uint64_t bound = static_cast<uint64_t>(std::llround(exact));
    if (!upper_bounds.empty()) bound = std::max(bound, upper_bounds.back() + 1);
    upper_bounds.push_back(bound);
  }
  return Histogram(std::move(upper_bounds));
}

Histogram::Histogram(std::vector<uint64_t> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)),
      bucket_counts_(new std::atomic<uint64_t>[upper_bounds_.size() + 1]()) {}

void Histogram::Record(uint64_t value) {
  // The first bound >= value is the bucket's (bounds are inclusive); past
  // the last bound, the index is the overflow bucket's.
  const size_t bucket =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) -
      upper_bounds_.begin();
  bucket_counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

HistogramSnapshot Histogram::Snapshot() const {
  HistogramSnapshot snapshot;
  snapshot.upper_bounds = upper_bounds_;
  snapshot.bucket_counts.resize(upper_bounds_.size() + 1);
  for (size_t i = 0; i < snapshot.bucket_counts.size(); ++i) {
    snapshot.bucket_counts[i] =
        bucket_counts_[i].load(std::memory_order_relaxed);
    snapshot.count += snapshot.bucket_counts[i];
  }
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

}  // namespace shiplog
