// One writer, several readers and retention, all at once: readers never
// see a torn or wrong record, never fail except by falling behind the log
// start (which they then skip to), and reach the end.
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/store/store.h"
#include "tests/engine/records_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::DecodeSlice;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::ValueRecords;

TEST(ConcurrencyTest, OneWriterManyReadersAndRetentionAtOnce) {
  TempDir dir;
  StoreOptions options;
  options.maintenance_interval_ms = 0;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir.Join("store"), options));
  LogConfigOverrides overrides;
  overrides.segment_bytes = 8192;
  overrides.index_interval_bytes = 512;
  overrides.retention_bytes = 64 * 1024;
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<Log> log,
                       store->OpenLog("busy", overrides));

  constexpr int kBatches = 3000;
  constexpr int kReaders = 3;
  std::atomic<bool> writer_done{false};
  std::atomic<int> retention_passes{0};
  std::atomic<int64_t> segments_deleted{0};

  std::thread writer([&] {
    int64_t next = 0;
    for (int b = 0; b < kBatches; ++b) {
      std::vector<std::string> values;
      const int count = 1 + b % 7;
      for (int i = 0; i < count; ++i) {
        values.push_back(absl::StrCat("record-", next + i));
      }
      absl::StatusOr<AppendResult> appended = log->Append(ValueRecords(values));
      ASSERT_OK(appended);
      ASSERT_EQ(appended->base_offset, next);
      next += count;
    }
    writer_done = true;
  });

  std::thread retention([&] {
    while (!writer_done) {
      absl::StatusOr<RetentionResult> result = log->EnforceRetention(0);
      ASSERT_OK(result);
      segments_deleted += result->segments_deleted;
      ++retention_passes;
    }
  });

  std::vector<int64_t> verified(kReaders, 0);
  std::vector<int64_t> skipped(kReaders, 0);
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937 random(r);
      int64_t offset = 0;
      while (!writer_done || offset < log->end_offset()) {
        absl::StatusOr<Slice> slice = log->Read(offset, 256 + random() % 8192);
        if (absl::IsOutOfRange(slice.status()) &&
            offset < log->start_offset()) {
          skipped[r] += log->start_offset() - offset;
          offset = log->start_offset();
          continue;
        }
        ASSERT_OK(slice);
        if (slice->empty()) continue;
        absl::StatusOr<std::vector<Record>> records =
            DecodeSlice(*slice, offset);
        ASSERT_OK(records);
        for (const Record& record : *records) {
          ASSERT_EQ(record.offset, offset);
          ASSERT_EQ(*record.value, absl::StrCat("record-", offset));
          ++offset;
          ++verified[r];
        }
      }
    });
  }
  writer.join();
  retention.join();
  for (std::thread& reader : readers) reader.join();

  const int64_t end = log->end_offset();
  EXPECT_GT(segments_deleted.load(), 0);
  EXPECT_GT(retention_passes.load(), 1);
  for (int r = 0; r < kReaders; ++r) {
    EXPECT_EQ(verified[r] + skipped[r], end) << "reader " << r;
    EXPECT_GT(verified[r], 0) << "reader " << r;
  }
  ASSERT_OK(store->Close());
}

// Found by ASan: Log::FlushTo looped over `*segments()`, a list only the
// loop header's temporary held, so a retention pass that published a new
// list during an fdatasync freed the one the loop was reading.
TEST(ConcurrencyTest, FlushesBesideRetentionKeepTheSegmentListTheyRead) {
  TempDir dir;
  StoreOptions options;
  options.maintenance_interval_ms = 0;
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir.Join("store"), options));
  LogConfigOverrides overrides;
  overrides.segment_bytes = 1024;
  overrides.retention_bytes = 4096;
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<Log> log,
                       store->OpenLog("flushed", overrides));

  constexpr int kBatches = 2000;
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      ASSERT_OK(log->Append(ValueRecords({absl::StrCat("record-", b)})));
    }
    writer_done = true;
  });
  // Each flush fdatasyncs the segments rolled since the last one, one
  // after another: time for retention to publish a new list meanwhile.
  std::thread flusher([&] {
    while (!writer_done) ASSERT_OK(log->Flush());
  });
  std::atomic<int64_t> segments_deleted{0};
  std::thread retention([&] {
    while (!writer_done) {
      absl::StatusOr<RetentionResult> result = log->EnforceRetention(0);
      ASSERT_OK(result);
      segments_deleted += result->segments_deleted;
    }
  });
  writer.join();
  flusher.join();
  retention.join();

  EXPECT_GT(segments_deleted.load(), 0);
  EXPECT_EQ(log->end_offset(), kBatches);
  ASSERT_OK(store->Close());
}

}  // namespace
}  // namespace shiplog
