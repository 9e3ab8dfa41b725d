#include "bindings/kafka/replica_log.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bindings/cli/status_macros.h"
#include "bindings/kafka/wire.h"

namespace shiplog::kafka {
namespace {

// RecordBatch v2 header fields (engine/format/FORMAT.md): what a follower
// reads of a batch before the append validates all of it.
constexpr size_t kBaseOffsetPosition = 0;        // int64
constexpr size_t kBatchLengthPosition = 8;       // int32, bytes after it
constexpr size_t kLogOverhead = 12;              // baseOffset + batchLength
constexpr size_t kLastOffsetDeltaPosition = 23;  // int32
constexpr size_t kBatchHeaderBytes = 61;

// Where one whole batch lies in a record set, and its offsets.
struct BatchBounds {
  int64_t base_offset = 0;
  int64_t last_offset = 0;
  size_t position = 0;
  size_t size = 0;
};

int64_t Int64At(absl::Span<const char> bytes, size_t position) {
  return WireReader(absl::string_view(bytes.data() + position, 8)).Int64();
}
int32_t Int32At(absl::Span<const char> bytes, size_t position) {
  return WireReader(absl::string_view(bytes.data() + position, 4)).Int32();
}

// The whole batches at the start of `records`. A trailing partial batch
// (Kafka may cut the last one at max_bytes) is left out; a length no batch
// can have is kDataLoss, so it is never mistaken for a partial one.
absl::StatusOr<std::vector<BatchBounds>> WholeBatches(
    absl::Span<const char> records) {
  std::vector<BatchBounds> batches;
  size_t position = 0;
  while (records.size() - position >= kLogOverhead) {
    BatchBounds batch;
    batch.position = position;
    batch.base_offset = Int64At(records, position + kBaseOffsetPosition);
    const int32_t length = Int32At(records, position + kBatchLengthPosition);
    if (length < static_cast<int32_t>(kBatchHeaderBytes - kLogOverhead)) {
      return absl::DataLossError(
          absl::StrCat("the leader sent a batch at offset ", batch.base_offset,
                       " whose length ", length, " is shorter than a header"));
    }
    batch.size = kLogOverhead + static_cast<size_t>(length);
    if (batch.size > records.size() - position) break;
    const int32_t delta = Int32At(records, position + kLastOffsetDeltaPosition);
    if (delta < 0) {
      return absl::DataLossError(
          absl::StrCat("the leader sent a batch at offset ", batch.base_offset,
                       " with lastOffsetDelta ", delta));
    }
    batch.last_offset = batch.base_offset + delta;
    batches.push_back(batch);
    position += batch.size;
  }
  return batches;
}

}  // namespace

absl::StatusOr<int64_t> ReplicaLog::EndOffset() const {
  int64_t end = 0;
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_log_end_offset(&end, log_.get())));
  return end;
}

absl::StatusOr<int64_t> ReplicaLog::BatchStart(int64_t offset) const {
  ASSIGN_OR_RETURN(
      const cli::Owned<shiplog_slice> slice,
      cli::Open(shiplog_log_read, log_.get(), offset, uint64_t{1}));
  shiplog_slice_info info;
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_slice_info_get(&info, slice.get())));
  return info.first_offset;
}

absl::StatusOr<int64_t> ReplicaLog::NextFetchOffset() {
  ASSIGN_OR_RETURN(const int64_t end, EndOffset());
  int64_t start = 0;
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_log_start_offset(&start, log_.get())));
  if (end == start) tail_checked_ = true;  // nothing to check
  if (tail_checked_) {
    fetch_offset_ = end;
  } else {
    ASSIGN_OR_RETURN(fetch_offset_, BatchStart(end - 1));
  }
  return fetch_offset_;
}

absl::Status ReplicaLog::Flush() {
  return cli::AbiStatus(shiplog_log_flush(log_.get()));
}

absl::StatusOr<bool> ReplicaLog::TailMatches(absl::string_view leader_batch,
                                             int64_t end) const {
  ASSIGN_OR_RETURN(
      const cli::Owned<shiplog_slice> slice,
      cli::Open(shiplog_log_read, log_.get(), end - 1, uint64_t{1}));
  ASSIGN_OR_RETURN(const cli::Owned<shiplog_view> view,
                   cli::Open(shiplog_view_open,
                             static_cast<const shiplog_slice*>(slice.get())));
  const void* data = nullptr;
  size_t size = 0;
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_view_data(&data, &size, view.get())));
  return size == leader_batch.size() &&
         std::memcmp(data, leader_batch.data(), size) == 0;
}

absl::StatusOr<ReplicaLog::Applied> ReplicaLog::TruncateToLeaderEnd(
    int64_t leader_end, int64_t end) {
  int64_t start = 0;
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_log_start_offset(&start, log_.get())));
  if (leader_end < start) {
    return absl::FailedPreconditionError(
        absl::StrCat("the leader's log ends at offset ", leader_end,
                     ", before this log's start ", start,
                     ", and a shiplog log's start offset never moves back"));
  }
  // The leader's end may fall inside a local batch: the cut is at its
  // start, and the leader sends the batch again.
  ASSIGN_OR_RETURN(const int64_t cut, BatchStart(leader_end));
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_log_truncate(log_.get(), cut)));
  tail_checked_ = false;
  Applied applied;
  applied.note = absl::StrCat("truncated from offset ", end, " to ", cut,
                              ": the leader's log ends at ", leader_end);
  return applied;
}

absl::StatusOr<ReplicaLog::Applied> ReplicaLog::OutOfRange(
    const FetchedPartition& answer, int64_t end) {
  const int64_t leader_start = answer.log_start_offset;
  if (leader_start > end) {
    // Retention on the leader deleted offsets this log never had: what it
    // holds can never be continued, so it starts over at the leader's
    // start (Kafka's truncateFullyAndStartAt).
    RETURN_IF_ERROR(
        cli::AbiStatus(shiplog_log_reset(log_.get(), leader_start)));
    tail_checked_ = true;  // nothing local is left to compare
    Applied applied;
    applied.note = absl::StrCat(
        "the leader's log starts at offset ", leader_start,
        " (retention deleted what came before), past this log's end ", end,
        ": emptied this log and restarted it at ", leader_start);
    return applied;
  }
  if (leader_start > fetch_offset_) {
    // The tail check asked for a batch the leader's retention deleted.
    if (leader_start < end) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the leader's log starts at offset ", leader_start,
          ", inside the local last batch (offsets ", fetch_offset_, " to ",
          end - 1,
          "): the logs have diverged where the leader keeps nothing "
          "to compare"));
    }
    tail_checked_ = true;  // nothing before the local end left to compare
    return Applied{};
  }
  return absl::UnavailableError(absl::StrCat(
      "the leader answered OFFSET_OUT_OF_RANGE for offset ", fetch_offset_,
      " (its log: offsets ", leader_start, " to ", answer.high_watermark, ")"));
}

absl::StatusOr<ReplicaLog::Applied> ReplicaLog::Apply(
    const FetchedPartition& answer) {
  if (answer.error != ErrorCode::kNone &&
      answer.error != ErrorCode::kOffsetOutOfRange) {
    return absl::UnavailableError(absl::StrCat(
        "the leader answered error code ", static_cast<int>(answer.error)));
  }
  ASSIGN_OR_RETURN(const int64_t end, EndOffset());
  if (answer.high_watermark >= 0 && answer.high_watermark < end) {
    return TruncateToLeaderEnd(answer.high_watermark, end);
  }
  if (answer.error == ErrorCode::kOffsetOutOfRange) {
    return OutOfRange(answer, end);
  }
  ASSIGN_OR_RETURN(const std::vector<BatchBounds> batches,
                   WholeBatches(answer.records));
  if (batches.empty()) {
    if (answer.records.empty()) return Applied{};
    return absl::UnavailableError(
        absl::StrCat("the leader sent only the first ", answer.records.size(),
                     " bytes of the batch at offset ", fetch_offset_));
  }
  size_t first = 0;
  if (!tail_checked_) {
    const BatchBounds& leader = batches.front();
    ASSIGN_OR_RETURN(
        const bool same,
        TailMatches(absl::string_view(answer.records.data() + leader.position,
                                      leader.size),
                    end));
    if (!same) {
      RETURN_IF_ERROR(
          cli::AbiStatus(shiplog_log_truncate(log_.get(), fetch_offset_)));
      Applied applied;
      applied.note = absl::StrCat(
          "truncated from offset ", end, " to ", fetch_offset_,
          ": the local last batch differs from the leader's at offset ",
          fetch_offset_);
      return applied;
    }
    tail_checked_ = true;
    first = 1;
  }
  if (first == batches.size()) return Applied{};

  // The leader's offsets must be the ones the log assigns next, as they
  // are: never renumbered.
  int64_t expected = end;
  for (size_t i = first; i < batches.size(); ++i) {
    if (batches[i].base_offset != expected) {
      if (i == first) tail_checked_ = false;
      return absl::DataLossError(absl::StrCat(
          "the leader's batch at offset ", batches[i].base_offset,
          " does not start at offset ", expected,
          i == first ? ", the local end: the logs disagree, and the local "
                       "tail is checked against the leader's again"
                     : ": its offsets have a gap, which a shiplog log "
                       "(dense offsets) cannot copy"));
    }
    expected = batches[i].last_offset + 1;
  }
  const size_t position = batches[first].position;
  const size_t size = batches.back().position + batches.back().size - position;
  shiplog_append_result result;
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_log_append_batches(
      &result, log_.get(), answer.records.data() + position, size)));
  if (result.base_offset != end || result.last_offset != expected - 1) {
    // Not the leader's offsets after all: undone, and never retried.
    const absl::Status undone =
        cli::AbiStatus(shiplog_log_truncate(log_.get(), end));
    return absl::FailedPreconditionError(absl::StrCat(
        "the log appended the leader's offsets ", end, " to ", expected - 1,
        " at offsets ", result.base_offset, " to ", result.last_offset,
        undone.ok() ? "; undone" : "; undoing it failed: ", undone.message()));
  }
  Applied applied;
  applied.batches = batches.size() - first;
  applied.bytes = size;
  return applied;
}

}  // namespace shiplog::kafka
