// recovery_fuzz: a log directory of arbitrary segment files, opened as after
// a crash (README.md, "recovery_fuzz"). Recovery must keep a log whose
// every offset reads back as valid, contiguous batches; an append must
// land at the end; and a clean reopen and another crash recovery must both
// find the same log again.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/format/batch_validator.h"
#include "engine/format/byte_order.h"
#include "engine/format/record.h"
#include "engine/format/record_batch.h"
#include "engine/format/record_reader.h"
#include "engine/io/env.h"
#include "engine/log/log.h"
#include "engine/log/log_config.h"
#include "engine/segment/segment_files.h"
#include "engine/segment/slice.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/scratch_dir.h"

namespace shiplog::fuzz {
namespace {

constexpr uint8_t kTwoSegments = 0x01;
constexpr uint8_t kRepairCrcs = 0x02;
constexpr uint8_t kTrustBelowRecoveryPoint = 0x04;
constexpr uint8_t kRenumberBatches = 0x08;
constexpr int kIndexIntervalShift = 4;  // bits 4-5
constexpr int kIndexBytesShift = 6;     // bits 6-7
constexpr int64_t kIndexIntervals[] = {0, 1, 64, 4096};
constexpr int64_t kIndexBytes[] = {64, 256, 1024, 10 << 20};
// A file section's length with this bit set: the file is absent.
constexpr uint32_t kAbsent = 0x80000000;
constexpr int64_t kMinSegmentBytes = 512;
// Reads stop after this many batches: every offset of a large fuzzed log
// costs time and finds nothing new.
constexpr int kMaxBatchesRead = 4096;

const ValidateOptions kHeaderChecks{.check_records = false};

// Makes the batches of a .log easier to keep: CRCs recomputed and base
// offsets renumbered from the segment's base, as the flags ask. Stops at
// the first bytes that are no batch.
void RepairLog(std::string* log, int64_t base, uint8_t flags) {
  size_t position = 0;
  int64_t next = base;
  while (log->size() - position >= kBatchHeaderSize) {
    char* batch = log->data() + position;
    const auto batch_length =
        static_cast<int32_t>(LoadBigEndian32(batch + kBatchLengthPosition));
    if (batch_length < kMinBatchLength ||
        kBatchLogOverhead + static_cast<uint64_t>(batch_length) >
            log->size() - position) {
      return;
    }
    const size_t size = kBatchLogOverhead + static_cast<size_t>(batch_length);
    if ((flags & kRenumberBatches) != 0) {
      SetBaseOffset(batch, next);
      next = WrappingAdd(DecodeBatchHeader(batch).last_offset(), 1);
    }
    if ((flags & kRepairCrcs) != 0) {
      StoreBigEndian32(batch + kCrcPosition, ComputeBatchCrc(batch, size));
    }
    position += size;
  }
}

struct SegmentFiles {
  int64_t base = 0;
  std::optional<std::string> log, offset_index, time_index;
};

std::optional<std::string> FileSection(FuzzInput& input) {
  const uint32_t length = input.U32();
  if ((length & kAbsent) != 0) return std::nullopt;
  return std::string(input.Bytes(length));
}

void WriteSegment(const ScratchDir& dir, const SegmentFiles& segment) {
  const auto write = [&](const std::optional<std::string>& contents,
                         absl::string_view suffix) {
    if (contents.has_value()) {
      WriteFileOrDie(dir.Join(SegmentFileName(segment.base, suffix)),
                     *contents);
    }
  };
  write(segment.log, kLogFileSuffix);
  write(segment.offset_index, kOffsetIndexFileSuffix);
  write(segment.time_index, kTimeIndexFileSuffix);
}

// What reading the whole log found.
struct LogContents {
  int64_t start = 0;
  int64_t end = 0;
  std::vector<int64_t> batch_starts;  // base offsets, in order
  int64_t max_timestamp = kNoTimestamp;
};

// Reads every offset of `log` one batch at a time. With `strict` (every
// segment was recovered, none trusted) each read must succeed and return
// whole, CRC-valid batches that continue each other from the start to the
// end; otherwise reads may fail (trusted files may be damaged) but must not
// crash.
LogContents ReadEverything(const Log& log, bool strict) {
  LogContents contents;
  contents.start = log.start_offset();
  contents.end = log.end_offset();
  FUZZ_CHECK(contents.start <= contents.end, "start %lld above end %lld",
             static_cast<long long>(contents.start),
             static_cast<long long>(contents.end));
  std::string bytes;
  int64_t offset = contents.start;
  for (int batches = 0; offset < contents.end && batches < kMaxBatchesRead;
       ++batches) {
    absl::StatusOr<Slice> slice = log.Read(offset, 1);
    if (!strict && !slice.ok()) return contents;
    FUZZ_CHECK(slice.ok(), "Read(%lld) in [%lld, %lld): %s",
               static_cast<long long>(offset),
               static_cast<long long>(contents.start),
               static_cast<long long>(contents.end),
               slice.status().ToString().c_str());
    const absl::Status read = ReadSliceBytes(*slice, &bytes);
    if (!strict && (!read.ok() || slice->empty())) return contents;
    FUZZ_CHECK(read.ok(), "reading a slice: %s", read.ToString().c_str());
    FUZZ_CHECK(!slice->empty(), "an empty slice at %lld below the end %lld",
               static_cast<long long>(offset),
               static_cast<long long>(contents.end));
    absl::StatusOr<std::vector<BatchInfo>> batches_read =
        ValidateBatches(bytes, kHeaderChecks);
    if (!strict && !batches_read.ok()) return contents;
    FUZZ_CHECK(batches_read.ok(), "Read(%lld) returned bad batches: %s",
               static_cast<long long>(offset),
               batches_read.status().ToString().c_str());
    int64_t expected = slice->first_offset;
    for (const BatchInfo& batch : *batches_read) {
      if (strict) {
        FUZZ_CHECK(batch.header.base_offset == expected,
                   "a batch at %lld where %lld was due",
                   static_cast<long long>(batch.header.base_offset),
                   static_cast<long long>(expected));
      }
      contents.batch_starts.push_back(batch.header.base_offset);
      contents.max_timestamp =
          std::max(contents.max_timestamp, batch.header.max_timestamp);
      expected = WrappingAdd(batch.header.last_offset(), 1);
    }
    if (strict) {
      FUZZ_CHECK(slice->first_offset <= offset &&
                     offset < slice->next_offset &&
                     expected == slice->next_offset,
                 "slice [%lld, %lld) for offset %lld ends at %lld",
                 static_cast<long long>(slice->first_offset),
                 static_cast<long long>(slice->next_offset),
                 static_cast<long long>(offset),
                 static_cast<long long>(expected));
      FUZZ_CHECK(batches_read->front().header.base_offset == offset ||
                     offset != contents.start,
                 "the log starts at %lld but its first batch at %lld",
                 static_cast<long long>(offset),
                 static_cast<long long>(
                     batches_read->front().header.base_offset));
    }
    // Records are not checked by recovery: they may be corrupt, but
    // decoding them must fail cleanly.
    RecordReader reader(bytes, offset);
    while (reader.Next()) {
    }
    if (slice->next_offset <= offset) return contents;  // trusted garbage
    offset = slice->next_offset;
  }
  if (offset < contents.end) return contents;  // stopped early
  if (strict) {
    absl::StatusOr<Slice> at_end = log.Read(contents.end, 1);
    FUZZ_CHECK(at_end.ok() && at_end->empty(),
               "Read(end) is not an empty slice: %s",
               at_end.status().ToString().c_str());
    if (contents.end < std::numeric_limits<int64_t>::max()) {
      FUZZ_CHECK(absl::IsOutOfRange(log.Read(contents.end + 1, 1).status()),
                 "Read(end + 1) is not out of range");
    }
  }
  return contents;
}

// Time lookups answer inside the log; with trusted segments (`strict`
// false) they only must not crash: a trusted file's batch may claim any
// base offset.
void CheckTimeLookups(const Log& log, const LogContents& contents,
                      bool strict) {
  for (const int64_t timestamp :
       {std::numeric_limits<int64_t>::min(), int64_t{-1}, int64_t{0},
        contents.max_timestamp, std::numeric_limits<int64_t>::max()}) {
    absl::StatusOr<std::optional<int64_t>> found = log.OffsetForTime(timestamp);
    if (strict && found.ok() && found->has_value()) {
      FUZZ_CHECK(**found >= contents.start && **found <= contents.end,
                 "OffsetForTime(%lld) = %lld outside [%lld, %lld]",
                 static_cast<long long>(timestamp),
                 static_cast<long long>(**found),
                 static_cast<long long>(contents.start),
                 static_cast<long long>(contents.end));
    }
  }
}

absl::StatusOr<std::shared_ptr<Log>> OpenLog(const ScratchDir& dir,
                                             const LogConfig& config,
                                             const LogOpenOptions& options) {
  return Log::Open(Env::Default(), dir.path(), "fuzz-0", config, options);
}

}  // namespace
}  // namespace shiplog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shiplog;        // NOLINT(build/namespaces)
  using namespace shiplog::fuzz;  // NOLINT(build/namespaces)
  FuzzInput input(data, size);
  const uint8_t flags = input.Byte();
  std::vector<SegmentFiles> segments(1);
  segments[0].base =
      static_cast<int64_t>(input.U64() & std::numeric_limits<int64_t>::max());
  const uint32_t second_base_delta = input.U32();
  const int64_t recovery_point = input.I64();
  const uint16_t segment_bytes = input.U16();
  if ((flags & kTwoSegments) != 0 &&
      segments[0].base <=
          std::numeric_limits<int64_t>::max() - second_base_delta) {
    segments.push_back({segments[0].base + second_base_delta});
  }
  for (SegmentFiles& segment : segments) {
    segment.log = FileSection(input);
    segment.offset_index = FileSection(input);
    segment.time_index = FileSection(input);
    if (segment.log.has_value()) RepairLog(&*segment.log, segment.base, flags);
  }
  ScratchDir dir;
  for (const SegmentFiles& segment : segments) WriteSegment(dir, segment);

  LogConfig config;
  // Room for the append below (a record of up to 255 bytes) at least.
  config.segment_bytes = kMinSegmentBytes + segment_bytes;
  config.index_interval_bytes = kIndexIntervals[(flags >> kIndexIntervalShift) & 3];
  config.max_index_bytes = kIndexBytes[(flags >> kIndexBytesShift) & 3];
  const bool strict = (flags & kTrustBelowRecoveryPoint) == 0;
  LogOpenOptions crashed;
  crashed.clean_shutdown = false;
  crashed.recovery_point = strict ? 0 : recovery_point;

  absl::StatusOr<std::shared_ptr<Log>> log = OpenLog(dir, config, crashed);
  if (!strict && !log.ok()) return 0;
  FUZZ_CHECK(log.ok(), "recovery failed: %s", log.status().ToString().c_str());
  const LogContents before = ReadEverything(**log, strict);
  CheckTimeLookups(**log, before, strict);

  // An append lands at the end, and reads back.
  const std::string value(input.Bytes(input.Byte()));
  const RecordView record{std::nullopt, value, {}, kNoTimestamp};
  absl::StatusOr<AppendResult> appended = (*log)->Append({&record, 1});
  if (!strict && !appended.ok()) return 0;
  // A log whose offsets reached the limit takes no more records.
  const bool full = before.end == kLogOffsetLimit;
  FUZZ_CHECK(appended.ok() != full, "an append after recovery, at %lld: %s",
             static_cast<long long>(before.end),
             appended.status().ToString().c_str());
  FUZZ_CHECK(full || (appended->base_offset == before.end &&
                      (*log)->end_offset() == before.end + 1),
             "appended at %lld, the log ended at %lld and now at %lld",
             static_cast<long long>(appended->base_offset),
             static_cast<long long>(before.end),
             static_cast<long long>((*log)->end_offset()));
  LogContents after = ReadEverything(**log, strict);
  if (strict && !full) {
    std::string bytes;
    absl::StatusOr<Slice> slice = (*log)->Read(before.end, 1);
    FUZZ_CHECK(slice.ok() && ReadSliceBytes(*slice, &bytes).ok(),
               "reading the append back");
    RecordReader reader(bytes, before.end);
    FUZZ_CHECK(reader.Next() && reader.record().offset == before.end &&
                   reader.record().value == value,
               "the appended record does not read back: %s",
               reader.status().ToString().c_str());
  }

  // A truncation to one of the batch boundaries read.
  if (!after.batch_starts.empty() && input.Byte() % 2 == 1) {
    const int64_t cut =
        after.batch_starts[input.U16() % after.batch_starts.size()];
    const absl::Status truncated = (*log)->TruncateTo(cut);
    if (!strict && !truncated.ok()) return 0;
    FUZZ_CHECK(truncated.ok(), "TruncateTo(%lld), a batch boundary: %s",
               static_cast<long long>(cut), truncated.ToString().c_str());
    FUZZ_CHECK((*log)->end_offset() == cut, "truncated to %lld, ends at %lld",
               static_cast<long long>(cut),
               static_cast<long long>((*log)->end_offset()));
    after = ReadEverything(**log, strict);
  }

  // A clean close and reopen, then another crash: the same log each time.
  const absl::Status closed = (*log)->Close();
  if (!strict && !closed.ok()) return 0;
  FUZZ_CHECK(closed.ok(), "Close: %s", closed.ToString().c_str());
  log->reset();
  LogOpenOptions clean;
  clean.clean_shutdown = true;
  clean.recovery_point = after.end;
  for (const LogOpenOptions& options : {clean, crashed}) {
    absl::StatusOr<std::shared_ptr<Log>> reopened =
        OpenLog(dir, config, options);
    if (!strict && !reopened.ok()) return 0;
    FUZZ_CHECK(reopened.ok(), "reopening: %s",
               reopened.status().ToString().c_str());
    const LogContents again = ReadEverything(**reopened, strict);
    if (strict) {
      FUZZ_CHECK(again.start == after.start && again.end == after.end &&
                     again.batch_starts == after.batch_starts,
                 "reopened as [%lld, %lld) with %zu batches, was [%lld, "
                 "%lld) with %zu",
                 static_cast<long long>(again.start),
                 static_cast<long long>(again.end), again.batch_starts.size(),
                 static_cast<long long>(after.start),
                 static_cast<long long>(after.end),
                 after.batch_starts.size());
    }
    FUZZ_CHECK((*reopened)->Close().ok() || !strict, "closing the reopened log");
  }
  return 0;
}
