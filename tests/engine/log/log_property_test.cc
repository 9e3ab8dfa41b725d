// Randomized appends, checked offset by offset: whatever batches go in
// (sizes, counts, keys, headers, compression), every offset reads back as
// the record that was appended there, before and after reopening.
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "tests/engine/log/log_test_fixture.h"

namespace shiplog {
namespace {

using ::shiplog::testing::DecodeSlice;
using ::shiplog::testing::LogTest;
using ::shiplog::testing::ReadAll;

struct ExpectedRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<RecordHeader> headers;
  int64_t timestamp_ms;
};

class LogPropertyTest : public LogTest,
                        public ::testing::WithParamInterface<int> {
 protected:
  std::string RandomBytes(size_t size) {
    std::string bytes(size, '\0');
    for (char& c : bytes) c = static_cast<char>(random_() & 0xff);
    return bytes;
  }

  // Appends a random batch and remembers what each of its records holds.
  void AppendRandomBatch() {
    const int count = 1 + static_cast<int>(random_() % 12);
    std::vector<ExpectedRecord> batch;
    for (int i = 0; i < count; ++i) {
      ExpectedRecord record;
      if (random_() % 3 != 0) record.key = RandomBytes(random_() % 20);
      if (random_() % 10 != 0) {
        // Mostly small values, a few larger than the index interval.
        record.value = RandomBytes(random_() % 8 == 0 ? 200 + random_() % 600
                                                      : random_() % 40);
      }
      for (int h = static_cast<int>(random_() % 3); h > 0; --h) {
        RecordHeader header;
        header.key = absl::StrCat("h", h);
        if (random_() % 2) header.value = RandomBytes(random_() % 10);
        record.headers.push_back(header);
      }
      record.timestamp_ms =
          1'700'000'000'000 + static_cast<int64_t>(random_() % 100'000);
      batch.push_back(std::move(record));
    }
    std::vector<std::vector<RecordHeaderView>> header_views(batch.size());
    std::vector<RecordView> views;
    for (size_t i = 0; i < batch.size(); ++i) {
      for (const RecordHeader& header : batch[i].headers) {
        RecordHeaderView view;
        view.key = header.key;
        if (header.value) view.value = *header.value;
        header_views[i].push_back(view);
      }
      RecordView view;
      if (batch[i].key) view.key = *batch[i].key;
      if (batch[i].value) view.value = *batch[i].value;
      view.headers = header_views[i];
      view.timestamp_ms = batch[i].timestamp_ms;
      views.push_back(view);
    }
    BatchOptions options;
    if (random_() % 4 == 0) options.compression = Compression::kZstd;
    absl::StatusOr<AppendResult> result = log_->Append(views, options);
    ASSERT_OK(result);
    ASSERT_EQ(result->base_offset, static_cast<int64_t>(expected_.size()));
    for (ExpectedRecord& record : batch) expected_.push_back(std::move(record));
  }

  void ExpectEveryOffsetReadsBack() {
    ASSERT_EQ(log_->end_offset(), static_cast<int64_t>(expected_.size()));
    for (size_t offset = 0; offset < expected_.size(); ++offset) {
      const uint64_t max_bytes = random_() % 2000;
      ASSERT_OK_AND_ASSIGN(Slice slice,
                           log_->Read(static_cast<int64_t>(offset), max_bytes));
      ASSERT_OK_AND_ASSIGN(std::vector<Record> records,
                           DecodeSlice(slice, static_cast<int64_t>(offset)));
      ASSERT_FALSE(records.empty()) << "offset " << offset;
      const Record& got = records.front();
      const ExpectedRecord& want = expected_[offset];
      ASSERT_EQ(got.offset, static_cast<int64_t>(offset));
      ASSERT_EQ(got.key, want.key) << "offset " << offset;
      ASSERT_EQ(got.value, want.value) << "offset " << offset;
      ASSERT_EQ(got.headers, want.headers) << "offset " << offset;
      ASSERT_EQ(got.timestamp_ms, want.timestamp_ms) << "offset " << offset;
    }
    ASSERT_OK_AND_ASSIGN(std::vector<Record> all, ReadAll(*log_, 0, 3000));
    ASSERT_EQ(all.size(), expected_.size());
  }

  std::mt19937_64 random_{static_cast<uint64_t>(GetParam())};
  std::vector<ExpectedRecord> expected_;
};

TEST_P(LogPropertyTest, EveryOffsetReadsBackAsAppended) {
  LogConfig config = SmallConfig();
  config.segment_bytes = 4096;
  config.max_index_bytes = 256;
  config.index_interval_bytes = 300;
  Open(config);
  for (int i = 0; i < 300; ++i) {
    AppendRandomBatch();
    if (HasFatalFailure()) return;
  }
  ASSERT_GT(log_->segment_count(), 5u);
  ExpectEveryOffsetReadsBack();

  // A clean reopen trusts the files; a crash (no Close) rescans them. Both
  // must serve exactly the same records, and appends continue.
  ASSERT_OK(log_->Close());
  LogOpenOptions clean;
  clean.clean_shutdown = true;
  Open(config, clean);
  ExpectEveryOffsetReadsBack();
  for (int i = 0; i < 20; ++i) AppendRandomBatch();
  Open(config, LogOpenOptions{});
  ExpectEveryOffsetReadsBack();
}

INSTANTIATE_TEST_SUITE_P(Seeds, LogPropertyTest, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace shiplog
