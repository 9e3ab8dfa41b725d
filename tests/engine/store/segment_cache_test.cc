// The store's caps on what idle segments hold open (SegmentCache): idle
// segments beyond a cap are closed, least recently used first, and reopen
// on their next use; whatever a reader holds (a slice's file, a view's
// mapping, a deleted segment's files) stays valid through it.
#include "engine/segment/segment_cache.h"

#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/segment/segment.h"
#include "engine/store/store.h"
#include "tests/engine/records_test_util.h"
#include "tests/engine/open_resources.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::DecodeSlice;
using ::shiplog::testing::FilesOpenUnder;
using ::shiplog::testing::MappingsOfFilesUnder;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::ValueRecords;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Le;

constexpr int kSegments = 40;

class SegmentCacheTest : public ::testing::Test {
 protected:
  // A store whose logs hold two one-record batches per segment.
  void OpenStore(uint64_t max_files, uint64_t max_mappings) {
    StoreOptions options;
    options.maintenance_interval_ms = 0;
    options.max_open_segment_files = max_files;
    options.max_segment_mappings = max_mappings;
    ASSERT_OK_AND_ASSIGN(store_, Store::Open(path_, options));
    LogConfigOverrides overrides;
    overrides.segment_bytes = 200;
    ASSERT_OK_AND_ASSIGN(log_, store_->OpenLog("many", overrides));
  }

  void AppendSegments(int segments) {
    for (int i = 0; i < 2 * segments; ++i) {
      ASSERT_OK(log_->Append(ValueRecords({Value(log_->end_offset())})));
    }
    ASSERT_GE(log_->segment_count(), static_cast<size_t>(segments));
  }

  static std::string Value(int64_t offset) {
    return absl::StrCat("value-", offset);
  }

  // Reads the record at `offset` and checks its value.
  void ExpectRecord(int64_t offset) {
    ASSERT_OK_AND_ASSIGN(const Slice slice, log_->Read(offset, 1));
    ASSERT_OK_AND_ASSIGN(const std::vector<Record> records,
                         DecodeSlice(slice, offset));
    ASSERT_FALSE(records.empty());
    EXPECT_EQ(records.front().offset, offset);
    EXPECT_EQ(*records.front().value, Value(offset));
  }

  void ReadEverything() {
    for (int64_t offset = log_->start_offset(); offset < log_->end_offset();
         ++offset) {
      ExpectRecord(offset);
      const SegmentCacheStats stats = store_->segment_cache_stats();
      ASSERT_LE(stats.files, store_->segment_cache_limits().max_open_files);
      ASSERT_LE(stats.mappings, store_->segment_cache_limits().max_mappings);
    }
  }

  TempDir dir_;
  const std::string path_ = dir_.Join("store");
  std::unique_ptr<Store> store_;
  std::shared_ptr<Log> log_;
};

TEST_F(SegmentCacheTest, IdleSegmentsStayWithinTheDescriptorCap) {
  const uint64_t releases_before = TakeSnapshot(GlobalMetrics()).segment_releases;
  OpenStore(/*max_files=*/6, /*max_mappings=*/UINT64_MAX);
  AppendSegments(kSegments);
  ReadEverything();
  ReadEverything();  // released segments reopen
  EXPECT_LE(store_->segment_cache_stats().files, 6u);
  EXPECT_GT(store_->segment_cache_stats().releases, 0u);
  EXPECT_GT(TakeSnapshot(GlobalMetrics()).segment_releases, releases_before);
  // What the process really holds: the cap, the active segment's three
  // files and the lock file.
  EXPECT_LE(FilesOpenUnder(path_).size(), 6u + 3 + 1);
}

TEST_F(SegmentCacheTest, IdleSegmentsStayWithinTheMappingCap) {
  OpenStore(/*max_files=*/UINT64_MAX, /*max_mappings=*/8);
  AppendSegments(kSegments);
  ReadEverything();
  EXPECT_LE(store_->segment_cache_stats().mappings, 8u);
  // The cap and the active segment's two index mappings.
  EXPECT_LE(MappingsOfFilesUnder(path_).size(), 8u + 2);
}

TEST_F(SegmentCacheTest, WithoutPressureNothingIsReleased) {
  OpenStore(/*max_files=*/10'000, /*max_mappings=*/10'000);
  AppendSegments(kSegments);
  ReadEverything();
  EXPECT_EQ(store_->segment_cache_stats().releases, 0u);
  // Every closed segment is registered once.
  EXPECT_EQ(store_->segment_cache_stats().segments, log_->segment_count() - 1);
}

TEST_F(SegmentCacheTest, HeldFileAndViewOutliveTheRelease) {
  OpenStore(/*max_files=*/3, /*max_mappings=*/3);
  AppendSegments(kSegments);
  ASSERT_OK_AND_ASSIGN(const Slice first, log_->Read(0, 1));
  std::string expected;
  ASSERT_OK(ReadSliceBytes(first, &expected));
  ASSERT_OK_AND_ASSIGN(const std::shared_ptr<const File> file,
                       first.segment->LogFile());
  ASSERT_OK_AND_ASSIGN(const std::shared_ptr<const Mapping> view,
                       first.segment->MapForReading(first.size));
  ReadEverything();
  // The segment let go of everything; the holders did not.
  EXPECT_EQ(first.segment->usage().files, 0u);
  EXPECT_EQ(first.segment->usage().mappings, 0u);
  std::string through_file(first.size, '\0');
  ASSERT_OK_AND_ASSIGN(const size_t read,
                       file->ReadAt(first.position, absl::MakeSpan(through_file)));
  EXPECT_EQ(read, first.size);
  EXPECT_EQ(through_file, expected);
  EXPECT_EQ(std::string(view->data() + first.position, first.size), expected);
  // And the slice reads again through reopened files.
  std::string again;
  ASSERT_OK(ReadSliceBytes(first, &again));
  EXPECT_EQ(again, expected);
}

TEST_F(SegmentCacheTest, DeletedSegmentKeepsItsFilesForHeldSlices) {
  OpenStore(/*max_files=*/3, /*max_mappings=*/3);
  AppendSegments(kSegments);
  ASSERT_OK_AND_ASSIGN(const Slice first, log_->Read(0, 1));
  std::string expected;
  ASSERT_OK(ReadSliceBytes(first, &expected));
  LogConfigOverrides retention;
  retention.retention_bytes = 2000;
  ASSERT_OK(store_->OpenLog("many", retention).status());
  ASSERT_OK_AND_ASSIGN(const RetentionResult deleted,
                       log_->EnforceRetention(0));
  ASSERT_GT(deleted.segments_deleted, 0);
  ASSERT_GT(log_->start_offset(), 0);
  ReadEverything();  // the cache churns through what is left
  EXPECT_GE(first.segment->usage().files, 1u);
  std::string after;
  ASSERT_OK(ReadSliceBytes(first, &after));
  EXPECT_EQ(after, expected);
}

// A view of a released segment still maps its file: a truncation that cuts
// the segment must write the kept prefix to a new file rather than shrink
// the mapped one (touching a page past a file's end is SIGBUS).
TEST_F(SegmentCacheTest, TruncationAfterAReleaseSparesHeldViews) {
  OpenStore(/*max_files=*/3, /*max_mappings=*/3);
  AppendSegments(kSegments);
  ASSERT_OK_AND_ASSIGN(const Slice slice, log_->Read(10, 1 << 20));
  ASSERT_EQ(slice.first_offset, 10);
  ASSERT_GT(slice.next_offset, 11);  // the segment holds offsets 10 and 11
  ASSERT_OK_AND_ASSIGN(const std::shared_ptr<const Mapping> view,
                       slice.segment->MapForReading(slice.position + slice.size));
  const std::string expected(view->data() + slice.position, slice.size);
  ReadEverything();
  ASSERT_EQ(slice.segment->usage().mappings, 0u);
  ASSERT_OK(log_->TruncateTo(11));  // cuts the segment after offset 10
  EXPECT_EQ(std::string(view->data() + slice.position, slice.size), expected);
  EXPECT_EQ(log_->end_offset(), 11);
  ExpectRecord(10);
}

TEST_F(SegmentCacheTest, ReadersWriterAndRetentionWithinTinyCaps) {
  OpenStore(/*max_files=*/4, /*max_mappings=*/4);
  LogConfigOverrides retention;
  retention.retention_bytes = 6000;
  ASSERT_OK(store_->OpenLog("many", retention).status());
  constexpr int kAppends = 600;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < kAppends; ++i) {
      ASSERT_OK(log_->Append(ValueRecords({Value(i)})));
      if (i % 50 == 0) {
        ASSERT_OK(log_->EnforceRetention(0).status());
      }
    }
    done = true;
  });
  std::vector<int64_t> verified(3, 0);
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937 random(r);
      for (int i = 0; !done || i < 200; ++i) {
        const int64_t start = log_->start_offset();
        const int64_t end = log_->end_offset();
        if (end == start) continue;
        const int64_t offset = start + random() % (end - start);
        absl::StatusOr<Slice> slice = log_->Read(offset, 1);
        if (absl::IsOutOfRange(slice.status())) continue;  // retention won
        ASSERT_OK(slice);
        absl::StatusOr<std::vector<Record>> records =
            DecodeSlice(*slice, offset);
        ASSERT_OK(records);
        ASSERT_FALSE(records->empty());
        ASSERT_EQ(*records->front().value, Value(offset));
        ++verified[r];
      }
    });
  }
  writer.join();
  for (std::thread& reader : readers) reader.join();
  EXPECT_THAT(verified, Each(::testing::Gt(0)));
  EXPECT_LE(store_->segment_cache_stats().files, 4u);
  EXPECT_GT(store_->segment_cache_stats().releases, 0u);
}

// Opening, reading, retention and closing, over and over: once a store is
// closed and its logs and slices are gone, the process holds no descriptor
// and no mapping of its files.
TEST_F(SegmentCacheTest, OpenCloseCyclesLeaveNothingOpen) {
  for (int cycle = 0; cycle < 3; ++cycle) {
    OpenStore(/*max_files=*/5, /*max_mappings=*/5);
    AppendSegments(10);
    ReadEverything();
    ASSERT_OK_AND_ASSIGN(Slice held, log_->Read(log_->start_offset(), 1));
    ASSERT_OK_AND_ASSIGN(std::shared_ptr<const File> held_file,
                         held.segment->LogFile());
    ASSERT_OK(log_->EnforceRetention(0).status());
    ASSERT_OK(store_->Close());
    log_.reset();
    store_.reset();
    EXPECT_THAT(FilesOpenUnder(path_), ElementsAre(held_file->path()));
    held_file.reset();
    held = Slice();
    EXPECT_THAT(FilesOpenUnder(path_), ::testing::IsEmpty()) << "cycle " << cycle;
    EXPECT_THAT(MappingsOfFilesUnder(path_), ::testing::IsEmpty())
        << "cycle " << cycle;
  }
}

TEST_F(SegmentCacheTest, FailedOpensLeaveNothingOpen) {
  OpenStore(/*max_files=*/5, /*max_mappings=*/5);
  AppendSegments(5);
  StoreOptions options;
  options.maintenance_interval_ms = 0;
  // A second writer is refused, and closes what it opened on the way.
  const std::vector<std::string> before = FilesOpenUnder(path_);
  EXPECT_FALSE(Store::Open(path_, options).ok());
  EXPECT_EQ(FilesOpenUnder(path_), before);
  ASSERT_OK(store_->Close());
  log_.reset();
  store_.reset();
  // A log whose settings do not parse fails the open after the lock was
  // taken: the lock goes too.
  ASSERT_OK(WriteFileAtomically(Env::Default(),
                                JoinPath(JoinPath(path_, "many"),
                                         "log.properties"),
                                "segment.bytes=many\n"));
  EXPECT_THAT(Store::Open(path_, options),
              ::shiplog::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                           ::testing::HasSubstr("segment.bytes")));
  EXPECT_THAT(FilesOpenUnder(path_), ::testing::IsEmpty());
  EXPECT_THAT(MappingsOfFilesUnder(path_), ::testing::IsEmpty());
}

}  // namespace
}  // namespace shiplog
