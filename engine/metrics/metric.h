// Counter, Gauge and Histogram: the metric cells the engine updates on its
// hot paths (every append, every send, every fsync).
//
// An update is one relaxed atomic read-modify-write and nothing else: no
// lock, no allocation, no fence. Relaxed order is enough because a metric
// orders nothing; readers only need each cell to be torn-free and to
// converge. METRICS.md records what an update costs and why the cells are
// not sharded per thread.
//
// Thread-safety: every method of Counter, Gauge and Histogram may be called
// from any number of threads at once, lock-free. Values read while writers
// run are each exact at some instant, but several values read one after
// another are not a consistent cut.
#ifndef SHIPLOG_ENGINE_METRICS_METRIC_H_
#define SHIPLOG_ENGINE_METRICS_METRIC_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace shiplog {

// Cells written by different threads are placed this far apart so that one
// thread's updates do not evict the line another thread is updating.
inline constexpr size_t kCacheLineBytes = 64;

// A monotonically increasing count (bytes sent, syscalls issued, ...).
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (open files, mapped bytes).
class Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  void Sub(int64_t n = 1) { value_.fetch_sub(n, std::memory_order_relaxed); }
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  int64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A histogram's values at one moment: plain data, freely copied.
struct HistogramSnapshot {
  // Bucket i holds the values v with upper_bounds[i-1] < v <= upper_bounds[i]
  // (Prometheus's `le`); strictly increasing.
  std::vector<uint64_t> upper_bounds;
  // One more entry than upper_bounds: the last bucket holds the values above
  // every bound (Prometheus's le="+Inf").
  std::vector<uint64_t> bucket_counts;
  uint64_t count = 0;  // the sum of bucket_counts
  uint64_t sum = 0;    // the sum of the recorded values

  // An estimate of the p-th percentile (p in [0, 100]) of the recorded
  // values: the bucket holding that rank is found, and the value is
  // interpolated linearly inside it, as Prometheus's histogram_quantile()
  // does. A rank in the overflow bucket yields the largest bound, since the
  // bucket has no upper end. Returns 0 when nothing was recorded.
  double Percentile(double p) const;
};

// A distribution over fixed buckets chosen at construction.
class Histogram {
 public:
  // Buckets with upper bounds first_upper_bound * factor^i for i in
  // [0, count), rounded to integers and forced strictly increasing (a
  // bound equal to its predecessor becomes predecessor + 1), plus an
  // overflow bucket. Requires first_upper_bound >= 1, factor > 1, count >= 1.
  static Histogram Exponential(uint64_t first_upper_bound, double factor,
                               size_t count);

  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts `value` in its bucket and adds it to the sum: two relaxed
  // fetch_adds after a binary search of the bounds.
  void Record(uint64_t value);

  HistogramSnapshot Snapshot() const;

 private:
  explicit Histogram(std::vector<uint64_t> upper_bounds);

  // Immutable after construction, so Record reads them without
  // synchronization.
  const std::vector<uint64_t> upper_bounds_;
  // upper_bounds_.size() + 1 cells. The count is not kept in a cell of its
  // own: Snapshot() sums the buckets, which saves Record an atomic and
  // guarantees that the +Inf bucket equals the count in every snapshot.
  const std::unique_ptr<std::atomic<uint64_t>[]> bucket_counts_;
  std::atomic<uint64_t> sum_{0};
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_METRICS_METRIC_H_
