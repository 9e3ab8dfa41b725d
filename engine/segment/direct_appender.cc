#include "engine/segment/direct_appender.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

// A buffer starts this large and grows to fit a group; one larger than
// kMaxSpareBytes is not kept for reuse once written.
constexpr size_t kInitialBufferBytes = 64 * 1024;
constexpr size_t kMaxSpareBytes = 8 << 20;

}  // namespace

void GroupCompletion::Complete(absl::Status status) {
  if (claimed_.exchange(true, std::memory_order_acq_rel)) return;
  status_ = std::move(status);
  done_.store(true, std::memory_order_release);
}

DirectAppender::DirectAppender(std::unique_ptr<DirectFile> file,
                               size_t alignment)
    : file_(std::move(file)), alignment_(alignment) {}

absl::StatusOr<std::unique_ptr<DirectAppender>> DirectAppender::Open(
    std::unique_ptr<DirectFile> file, const File& log, uint64_t end,
    int64_t next_offset) {
  const size_t alignment = file->alignment();
  std::unique_ptr<DirectAppender> appender(
      new DirectAppender(std::move(file), alignment));
  RETURN_IF_ERROR(appender->Reset(log, end, next_offset, absl::OkStatus()));
  return appender;
}

AlignedBuffer DirectAppender::NewBufferLocked(size_t bytes) {
  if (spare_.capacity() >= bytes) return std::move(spare_);
  return AlignedBuffer(alignment_, std::max(bytes, kInitialBufferBytes));
}

absl::Status DirectAppender::Reset(const File& log, uint64_t end,
                                   int64_t next_offset,
                                   const absl::Status& reason) {
  MutexLock lock(&mu_);
  const uint64_t block = AlignDown(end);
  if (filling_.capacity() < alignment_) filling_ = NewBufferLocked(alignment_);
  // The block's leading bytes are durable: the next group rewrites them
  // as they are.
  RETURN_IF_ERROR(ReadFully(
      log, block, absl::MakeSpan(filling_.data(), static_cast<size_t>(end - block))));
  if (filling_completion_ != nullptr) filling_completion_->Complete(reason);
  filling_completion_.reset();
  last_completion_.reset();
  filling_position_ = block;
  staged_end_ = end;
  taken_end_ = end;
  staged_next_offset_ = next_offset;
  return absl::OkStatus();
}

uint64_t DirectAppender::staged_end() const {
  MutexLock lock(&mu_);
  return staged_end_;
}

int64_t DirectAppender::staged_next_offset() const {
  MutexLock lock(&mu_);
  return staged_next_offset_;
}

std::shared_ptr<GroupCompletion> DirectAppender::Stage(absl::string_view bytes,
                                                       int64_t next_offset) {
  MutexLock lock(&mu_);
  const size_t used = static_cast<size_t>(staged_end_ - filling_position_);
  // Room for the padding too, which TakeGroup zeroes in place.
  const size_t needed = static_cast<size_t>(AlignUp(used + bytes.size()));
  if (filling_.capacity() < needed) {
    AlignedBuffer grown(alignment_, std::max(needed, 2 * filling_.capacity()));
    std::memcpy(grown.data(), filling_.data(), used);
    filling_ = std::move(grown);
  }
  std::memcpy(filling_.data() + used, bytes.data(), bytes.size());
  staged_end_ += bytes.size();
  staged_next_offset_ = next_offset;
  if (filling_completion_ == nullptr) {
    filling_completion_ = std::make_shared<GroupCompletion>();
  }
  return filling_completion_;
}

std::shared_ptr<GroupCompletion> DirectAppender::PendingCompletion() const {
  MutexLock lock(&mu_);
  if (filling_completion_ != nullptr) return filling_completion_;
  if (last_completion_ != nullptr && !last_completion_->done()) {
    return last_completion_;
  }
  return nullptr;
}

std::optional<DirectGroup> DirectAppender::TakeGroup() {
  MutexLock lock(&mu_);
  if (staged_end_ == taken_end_) return std::nullopt;
  DirectGroup group;
  group.position = filling_position_;
  group.end = staged_end_;
  group.next_offset = staged_next_offset_;
  const size_t used = static_cast<size_t>(staged_end_ - filling_position_);
  group.write_bytes = static_cast<size_t>(AlignUp(used));
  std::memset(filling_.data() + used, 0, group.write_bytes - used);
  group.completion = std::move(filling_completion_);
  last_completion_ = group.completion;
  // The next group starts with the partial last block of this one.
  const uint64_t tail_block = AlignDown(staged_end_);
  const size_t tail_bytes = static_cast<size_t>(staged_end_ - tail_block);
  AlignedBuffer next = NewBufferLocked(alignment_);
  std::memcpy(next.data(), filling_.data() + (tail_block - filling_position_),
              tail_bytes);
  group.buffer = std::exchange(filling_, std::move(next));
  filling_position_ = tail_block;
  taken_end_ = staged_end_;
  return group;
}

absl::Status DirectAppender::Write(const DirectGroup& group) {
  return file_->WriteDurably(
      group.position, absl::MakeConstSpan(group.buffer.data(), group.write_bytes));
}

void DirectAppender::Return(DirectGroup group) {
  MutexLock lock(&mu_);
  if (group.buffer.capacity() <= kMaxSpareBytes &&
      group.buffer.capacity() > spare_.capacity()) {
    spare_ = std::move(group.buffer);
  }
}

}  // namespace shiplog
