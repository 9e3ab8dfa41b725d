// The engine's metrics after known operations: each counter moves by what
// the operation did, and the resource gauges come back when a store closes.
#include <filesystem>
#include <string>

#include "engine/metrics/engine_metrics.h"
#include "engine/segment/segment_files.h"
#include "engine/store/store.h"
#include "tests/engine/records_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::NumberedValues;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::ValueRecords;

EngineMetricsSnapshot Now() { return TakeSnapshot(GlobalMetrics()); }

StoreOptions NoThread() {
  StoreOptions options;
  options.maintenance_interval_ms = 0;
  return options;
}

TEST(StoreMetricsTest, AppendsCountBytesBatchesAndRecords) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir.Join("s"), NoThread()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("m-0"));
  const EngineMetricsSnapshot before = Now();
  uint64_t bytes = 0;
  for (int i = 0; i < 7; ++i) {
    ASSERT_OK_AND_ASSIGN(AppendResult appended,
                         log->Append(ValueRecords(NumberedValues("v", i, 3))));
    bytes += appended.bytes;
  }
  const EngineMetricsSnapshot after = Now();
  EXPECT_EQ(after.appended_batches - before.appended_batches, 7u);
  EXPECT_EQ(after.appended_records - before.appended_records, 21u);
  EXPECT_EQ(after.appended_bytes - before.appended_bytes, bytes);
}

TEST(StoreMetricsTest, FlushesCountFsyncsAndTheirLatency) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir.Join("s"), NoThread()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("m-0"));
  ASSERT_OK(log->Append(ValueRecords({"a"})));
  const EngineMetricsSnapshot before = Now();
  ASSERT_OK(log->Flush());
  const EngineMetricsSnapshot after = Now();
  // The .log, both indexes, and the directory (a new segment was created).
  EXPECT_EQ(after.fsyncs - before.fsyncs, 4u);
  EXPECT_EQ(after.fsync_latency_us.count - before.fsync_latency_us.count, 4u);
  EXPECT_EQ(after.fsync_failures, before.fsync_failures);
}

TEST(StoreMetricsTest, OpenFilesAndMappingsReturnWhenTheStoreCloses) {
  TempDir dir;
  const EngineMetricsSnapshot before = Now();
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir.Join("s"), NoThread()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("m-0"));
    ASSERT_OK(log->Append(ValueRecords({"a"})));
    const EngineMetricsSnapshot open = Now();
    // The segment's .log and two indexes (the lock is not a File).
    EXPECT_EQ(open.open_files - before.open_files, 3);
    // Two indexes preallocated to 10 MiB, rounded down to whole entries.
    constexpr int64_t kIndexBytes = 10 << 20;
    EXPECT_EQ(open.mappings - before.mappings, 2);
    EXPECT_EQ(open.mapped_bytes - before.mapped_bytes,
              kIndexBytes / 8 * 8 + kIndexBytes / 12 * 12);
    ASSERT_OK(store->Close());
  }
  const EngineMetricsSnapshot after = Now();
  EXPECT_EQ(after.open_files, before.open_files);
  EXPECT_EQ(after.mappings, before.mappings);
  EXPECT_EQ(after.mapped_bytes, before.mapped_bytes);
}

TEST(StoreMetricsTest, RecoveryCountsSegmentsTruncatedBytesAndCrcFailures) {
  TempDir dir;
  const std::string path = dir.Join("s");
  const std::string crashed = dir.Join("crashed");
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(path, NoThread()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("m-0"));
    ASSERT_OK(log->Append(ValueRecords({"a", "b"})));
    ASSERT_OK(log->Append(ValueRecords({"c"})));
    std::filesystem::copy(path, crashed,
                          std::filesystem::copy_options::recursive);
  }
  // Flip the last byte of the last batch: its CRC no longer matches.
  const std::string segment =
      crashed + "/m-0/" + SegmentFileName(0, kLogFileSuffix);
  ASSERT_OK_AND_ASSIGN(std::string bytes,
                       ReadSmallFile(Env::Default(), segment));
  bytes.back() ^= 0x01;
  std::filesystem::remove(segment);
  ASSERT_OK(WriteFileAtomically(Env::Default(), segment, bytes));

  const EngineMetricsSnapshot before = Now();
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(crashed, NoThread()));
  const EngineMetricsSnapshot after = Now();
  EXPECT_EQ(after.segments_recovered - before.segments_recovered, 1u);
  EXPECT_EQ(after.crc_failures - before.crc_failures, 1u);
  EXPECT_GT(after.bytes_truncated_by_recovery,
            before.bytes_truncated_by_recovery);
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("m-0", {}, false));
  EXPECT_EQ(log->end_offset(), 2);
}

TEST(StoreMetricsTest, AMissingIndexCountsARebuild) {
  TempDir dir;
  const std::string path = dir.Join("s");
  LogConfigOverrides small;
  small.segment_bytes = 200;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(path, NoThread()));
    ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("m-0", small));
    for (int i = 0; i < 5; ++i) {
      ASSERT_OK(log->Append(ValueRecords(NumberedValues("value-", i, 2))));
    }
    ASSERT_GT(log->segment_count(), 2u);
    ASSERT_OK(store->Close());
  }
  std::filesystem::remove(path + "/m-0/" +
                          SegmentFileName(0, kOffsetIndexFileSuffix));
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(path, NoThread()));
  ASSERT_OK_AND_ASSIGN(auto log, store->OpenLog("m-0", {}, false));
  const EngineMetricsSnapshot before = Now();
  ASSERT_OK(log->Read(0, 100));  // the closed segment loads its indexes now
  const EngineMetricsSnapshot after = Now();
  EXPECT_EQ(after.index_rebuilds - before.index_rebuilds, 1u);
}

TEST(StoreMetricsTest, LogGaugesDescribeEveryLog) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir.Join("s"), NoThread()));
  ASSERT_OK_AND_ASSIGN(auto b, store->OpenLog("b-1"));
  ASSERT_OK_AND_ASSIGN(auto a, store->OpenLog("a-0"));
  ASSERT_OK(a->Append(ValueRecords({"x", "y"})));
  ASSERT_OK(a->Flush());
  const std::vector<LogGauges> gauges = store->CollectLogGauges();
  ASSERT_EQ(gauges.size(), 2u);
  EXPECT_EQ(gauges[0].name, "a-0");
  EXPECT_EQ(gauges[0].segments, 1);
  EXPECT_EQ(gauges[0].end_offset, 2);
  EXPECT_EQ(gauges[0].committed_offset, 2);
  EXPECT_EQ(gauges[0].size_bytes, static_cast<int64_t>(a->size_bytes()));
  EXPECT_EQ(gauges[1].name, "b-1");
  EXPECT_EQ(gauges[1].end_offset, 0);
}

}  // namespace
}  // namespace shiplog
