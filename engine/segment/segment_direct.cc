// Segment: direct mode (write.mode=direct, engine/log/DIRECT_IO.md), where
// appends are staged in a DirectAppender and published once a group write
// made them durable.
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/segment/segment.h"
#include "engine/status/status_macros.h"

namespace shiplog {

std::shared_ptr<DirectAppender> Segment::appender() const {
  MutexLock lock(&appender_mu_);
  return appender_;
}

uint64_t Segment::append_size() const {
  const std::shared_ptr<DirectAppender> direct = appender();
  return direct != nullptr ? direct->staged_end() : size();
}

int64_t Segment::append_next_offset() const {
  const std::shared_ptr<DirectAppender> direct = appender();
  return direct != nullptr ? direct->staged_next_offset() : next_offset();
}

std::shared_ptr<GroupCompletion> Segment::PendingCompletion() const {
  const std::shared_ptr<DirectAppender> direct = appender();
  return direct != nullptr ? direct->PendingCompletion() : nullptr;
}

absl::Status Segment::StartDirectWrites() {
  File* log = log_file_ptr_.load(std::memory_order_acquire);
  if (log == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(log_path_, ": direct writes need the segment loaded"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<DirectFile> file,
                   env_->OpenDirectFile(log_path_,
                                        options_.direct_write_contexts));
  ASSIGN_OR_RETURN(
      std::unique_ptr<DirectAppender> opened,
      DirectAppender::Open(std::move(file), *log, size(), next_offset()));
  MutexLock lock(&appender_mu_);
  appender_ = std::move(opened);
  return absl::OkStatus();
}

absl::Status Segment::StopDirectWrites() {
  const std::shared_ptr<DirectAppender> direct = appender();
  if (direct == nullptr) return absl::OkStatus();
  if (direct->staged_end() != size()) {
    return absl::FailedPreconditionError(absl::StrCat(
        log_path_, ": ", direct->staged_end() - size(),
        " staged bytes are not durable yet"));
  }
  // Holders of a mapping touch no page past the published size, so
  // cutting the padding past it cannot fault them. The cut is made
  // durable by the fdatasync that follows a seal (a roll's, which turns
  // the log read-only if it fails); until then, or if a crash comes
  // first, recovery finds the padding and cuts it as a torn tail.
  File* log = log_file_ptr_.load(std::memory_order_acquire);
  RETURN_IF_ERROR(log->Truncate(size()));
  MutexLock lock(&appender_mu_);
  appender_.reset();
  return absl::OkStatus();
}

absl::Status Segment::SetDirectWrites(bool direct) {
  if (direct == direct_writes_) return absl::OkStatus();
  if (!direct) {
    RETURN_IF_ERROR(StopDirectWrites());
    direct_writes_ = false;
    return absl::OkStatus();
  }
  if (active_) RETURN_IF_ERROR(StartDirectWrites());
  direct_writes_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<GroupCompletion>> Segment::CommitStaged() {
  const std::shared_ptr<DirectAppender> direct = appender();
  if (direct == nullptr) return nullptr;
  std::optional<DirectGroup> group = direct->TakeGroup();
  if (!group.has_value()) return nullptr;
  const absl::Status written = direct->Write(*group);
  const uint64_t end = group->end;
  const int64_t next = group->next_offset;
  std::shared_ptr<GroupCompletion> completion = group->completion;
  direct->Return(*std::move(group));
  if (written.ok()) Publish(end, next);
  completion->Complete(written);
  RETURN_IF_ERROR(written);
  return completion;
}

absl::Status Segment::DiscardStaged(const absl::Status& reason) {
  const std::shared_ptr<DirectAppender> direct = appender();
  if (direct == nullptr) return absl::OkStatus();
  ASSIGN_OR_RETURN(const Loaded loaded, Load());
  // Index entries of staged batches point past the published end.
  loaded.indexes->offset->TruncateTo(next_offset());
  loaded.indexes->time->TruncateTo(next_offset());
  RETURN_IF_ERROR(direct->Reset(*loaded.log, size(), next_offset(), reason));
  return RebuildWriterState(*loaded.log, *loaded.indexes);
}

}  // namespace shiplog
