#include "engine/metrics/metric.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "engine/metrics/engine_metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace shiplog {
namespace {

using ::testing::ElementsAre;

constexpr int kThreads = 4;
constexpr int kPerThread = 100'000;

// Runs `body(thread_index)` on kThreads threads at once and joins them.
template <typename Body>
void RunConcurrently(Body body) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(body, t);
  for (std::thread& thread : threads) thread.join();
}

TEST(CounterTest, ConcurrentAddsSumExactly) {
  Counter counter;
  RunConcurrently([&counter](int t) {
    for (int i = 0; i < kPerThread; ++i) counter.Add(t + 1);
  });
  EXPECT_EQ(counter.Value(), uint64_t{kPerThread} * (1 + 2 + 3 + 4));
}

TEST(CounterTest, AddDefaultsToOne) {
  Counter counter;
  counter.Add();
  counter.Add();
  EXPECT_EQ(counter.Value(), 2u);
}

TEST(GaugeTest, ConcurrentAddsAndSubsSumExactly) {
  Gauge gauge;
  RunConcurrently([&gauge](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      gauge.Add(3);
      if (t % 2 == 0) gauge.Sub(5);
    }
  });
  // Four threads add 3 each time; two of them also take 5 away.
  EXPECT_EQ(gauge.Value(), int64_t{kPerThread} * (4 * 3 - 2 * 5));
}

TEST(GaugeTest, SetReplacesAndValuesMayGoNegative) {
  Gauge gauge;
  gauge.Add(10);
  gauge.Set(-4);
  EXPECT_EQ(gauge.Value(), -4);
  gauge.Sub();
  EXPECT_EQ(gauge.Value(), -5);
}

TEST(HistogramTest, ExponentialBoundsAreRounded) {
  EXPECT_THAT(Histogram::Exponential(1, 2, 5).Snapshot().upper_bounds,
              ElementsAre(1, 2, 4, 8, 16));
  EXPECT_THAT(Histogram::Exponential(10, 1.5, 5).Snapshot().upper_bounds,
              ElementsAre(10, 15, 23, 34, 51));
}

TEST(HistogramTest, ExponentialBoundsStayStrictlyIncreasing) {
  // 1.1^i rounds to 1 for the first few i.
  EXPECT_THAT(Histogram::Exponential(1, 1.1, 4).Snapshot().upper_bounds,
              ElementsAre(1, 2, 3, 4));
}

TEST(HistogramTest, BoundsAreInclusiveAndOverflowIsLast) {
  Histogram histogram = Histogram::Exponential(1, 2, 4);  // 1 2 4 8 +Inf
  for (uint64_t value : {0, 1, 2, 3, 4, 5, 8, 9, 1000}) {
    histogram.Record(value);
  }
  const HistogramSnapshot snapshot = histogram.Snapshot();
  EXPECT_THAT(snapshot.bucket_counts, ElementsAre(2, 1, 2, 2, 2));
  EXPECT_EQ(snapshot.count, 9u);
  EXPECT_EQ(snapshot.sum, 0u + 1 + 2 + 3 + 4 + 5 + 8 + 9 + 1000);
}

TEST(HistogramTest, ConcurrentRecordsCountExactly) {
  Histogram histogram = Histogram::Exponential(1, 2, 10);
  RunConcurrently([&histogram](int t) {
    for (int i = 0; i < kPerThread; ++i) histogram.Record(t);
  });
  const HistogramSnapshot snapshot = histogram.Snapshot();
  EXPECT_EQ(snapshot.count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(snapshot.sum, uint64_t{kPerThread} * (0 + 1 + 2 + 3));
  // 0 and 1 share the first bucket; 3 lies in (2, 4].
  EXPECT_EQ(snapshot.bucket_counts[0], 2u * kPerThread);
  EXPECT_EQ(snapshot.bucket_counts[1], uint64_t{kPerThread});
  EXPECT_EQ(snapshot.bucket_counts[2], uint64_t{kPerThread});
}

HistogramSnapshot MakeSnapshot(std::vector<uint64_t> upper_bounds,
                               std::vector<uint64_t> bucket_counts) {
  HistogramSnapshot snapshot;
  snapshot.upper_bounds = std::move(upper_bounds);
  snapshot.bucket_counts = std::move(bucket_counts);
  for (uint64_t n : snapshot.bucket_counts) snapshot.count += n;
  return snapshot;
}

TEST(HistogramSnapshotTest, PercentileInterpolatesInsideTheBucket) {
  const HistogramSnapshot snapshot = MakeSnapshot({10, 20, 30}, {0, 10, 0, 0});
  EXPECT_DOUBLE_EQ(snapshot.Percentile(0), 10);
  EXPECT_DOUBLE_EQ(snapshot.Percentile(50), 15);
  EXPECT_DOUBLE_EQ(snapshot.Percentile(100), 20);
}

TEST(HistogramSnapshotTest, PercentileWalksCumulativeCounts) {
  // Ranks 1-4 in (0, 10], 5-8 in (10, 20], 9-10 in (20, 30].
  const HistogramSnapshot snapshot = MakeSnapshot({10, 20, 30}, {4, 4, 2, 0});
  EXPECT_DOUBLE_EQ(snapshot.Percentile(20), 5);
  EXPECT_DOUBLE_EQ(snapshot.Percentile(60), 15);
  EXPECT_DOUBLE_EQ(snapshot.Percentile(90), 25);
}

TEST(HistogramSnapshotTest, PercentileInOverflowIsTheLargestBound) {
  const HistogramSnapshot snapshot = MakeSnapshot({10, 20, 30}, {1, 0, 0, 9});
  EXPECT_DOUBLE_EQ(snapshot.Percentile(99), 30);
}

TEST(HistogramSnapshotTest, PercentileOfNothingIsZero) {
  EXPECT_EQ(Histogram::Exponential(1, 2, 4).Snapshot().Percentile(50), 0);
  EXPECT_EQ(HistogramSnapshot().Percentile(50), 0);
}

TEST(EngineMetricsTest, SnapshotCopiesEveryGroup) {
  EngineMetrics metrics;
  metrics.appended_bytes.Add(100);
  metrics.sent_bytes[SendPath::kSplice].Add(7);
  metrics.send_syscalls[SendPath::kCopy].Add(2);
  metrics.fsync_latency_us.Record(3);
  metrics.mapped_bytes.Add(4096);
  metrics.crc_failures.Add();
  const EngineMetricsSnapshot snapshot = TakeSnapshot(metrics);
  EXPECT_EQ(snapshot.appended_bytes, 100u);
  EXPECT_EQ(snapshot.sent_bytes[SendPath::kSplice], 7u);
  EXPECT_EQ(snapshot.sent_bytes[SendPath::kSendfile], 0u);
  EXPECT_EQ(snapshot.send_syscalls[SendPath::kCopy], 2u);
  EXPECT_EQ(snapshot.fsync_latency_us.count, 1u);
  EXPECT_EQ(snapshot.fsync_latency_us.upper_bounds.size(),
            kFsyncLatencyBuckets);
  EXPECT_EQ(snapshot.fsync_latency_us.upper_bounds.back(), uint64_t{1} << 26);
  EXPECT_EQ(snapshot.mapped_bytes, 4096);
  EXPECT_EQ(snapshot.crc_failures, 1u);
}

TEST(EngineMetricsTest, SendPathNamesAreTheLabelValues) {
  std::vector<std::string> names;
  for (SendPath path : kSendPaths) names.emplace_back(SendPathName(path));
  EXPECT_THAT(names, ElementsAre("sendfile", "splice", "mmap_write", "copy",
                                 "direct_read"));
}

TEST(EngineMetricsTest, GlobalMetricsIsOneInstance) {
  EXPECT_EQ(&GlobalMetrics(), &GlobalMetrics());
}

}  // namespace
}  // namespace shiplog
