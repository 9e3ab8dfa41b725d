#include "engine/transport/slice_view.h"

#include <string>

#include "engine/format/record_reader.h"
#include "engine/segment/segment_files.h"
#include "tests/engine/transport/transport_test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::MakeTestLog;
using ::shiplog::testing::StatusIs;
using ::testing::HasSubstr;

TEST(SliceViewTest, ShowsTheSliceBytesWithoutCopying) {
  auto data = MakeTestLog(50, 4, 100);
  ASSERT_OK_AND_ASSIGN(Slice slice, data->log->Read(17, 2000));
  ASSERT_OK_AND_ASSIGN(SliceView view, SliceView::Create(slice));
  std::string copied;
  ASSERT_OK(ReadSliceBytes(slice, &copied));
  EXPECT_EQ(view.bytes(), copied);
  RecordReader reader(view.bytes(), 17);
  ASSERT_TRUE(reader.Next());
  EXPECT_EQ(reader.record().offset, 17);
  EXPECT_EQ(reader.record().value->substr(0, 10), "record-17-");
}

TEST(SliceViewTest, StaysValidAfterRetentionDeletesTheSegment) {
  LogConfigOverrides overrides;
  overrides.retention_bytes = 0;
  auto data = MakeTestLog(100, 4, 100, 4096, overrides);
  ASSERT_OK_AND_ASSIGN(Slice slice, data->log->Read(0, 4096));
  ASSERT_OK_AND_ASSIGN(SliceView view, SliceView::Create(slice));
  const std::string before(view.bytes());
  ASSERT_OK_AND_ASSIGN(RetentionResult deleted, data->log->EnforceRetention(0));
  ASSERT_GT(deleted.segments_deleted, 0);
  EXPECT_TRUE(
      absl::IsNotFound(Env::Default()
                           ->Stat(JoinPath(data->log->directory(),
                                           SegmentFileName(0, kLogFileSuffix)))
                           .status()));
  EXPECT_EQ(view.bytes(), before);
}

TEST(SliceViewTest, TruncationNeverPullsPagesFromUnderAView) {
  // The view maps the active segment; truncating the log below it would
  // shrink the file and fault (SIGBUS) on the view's pages. The cut goes
  // to a new file instead, and the view keeps the old bytes.
  auto data = MakeTestLog(40, 4, 1000, 1 << 20);
  ASSERT_EQ(data->log->segment_count(), 1u);
  ASSERT_OK_AND_ASSIGN(Slice slice, data->log->Read(80, 1 << 20));
  ASSERT_OK_AND_ASSIGN(SliceView view, SliceView::Create(slice));
  const std::string before(view.bytes());
  ASSERT_OK(data->log->TruncateTo(40));
  std::vector<std::string> values = {std::string(5000, 'n')};
  std::vector<RecordView> records(1);
  records[0].value = values[0];
  ASSERT_OK(data->log->Append(records));
  // Every byte of the view is still the byte it was.
  EXPECT_EQ(view.bytes(), before);
  // And the log itself holds the new data.
  ASSERT_OK_AND_ASSIGN(Slice now, data->log->Read(40, 1 << 20));
  ASSERT_OK_AND_ASSIGN(SliceView new_view, SliceView::Create(now));
  RecordReader reader(new_view.bytes(), 40);
  ASSERT_TRUE(reader.Next());
  EXPECT_EQ(reader.record().value->size(), 5000u);
}

TEST(SliceViewTest, ASliceCutByTruncationCannotBeViewed) {
  auto data = MakeTestLog(40, 4, 100, 1 << 20);
  ASSERT_OK_AND_ASSIGN(Slice stale, data->log->Read(120, 1 << 20));
  ASSERT_OK(data->log->TruncateTo(100));
  EXPECT_THAT(SliceView::Create(stale),
              StatusIs(absl::StatusCode::kOutOfRange,
                       HasSubstr("past the segment's end")));
}

TEST(SliceViewTest, AnEmptySliceHasAnEmptyView) {
  auto data = MakeTestLog(1, 1, 10);
  ASSERT_OK_AND_ASSIGN(Slice slice, data->log->Read(1, 100));
  ASSERT_OK_AND_ASSIGN(SliceView view, SliceView::Create(slice));
  EXPECT_TRUE(view.bytes().empty());
}

}  // namespace
}  // namespace shiplog
