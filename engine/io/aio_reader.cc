#include "engine/io/aio_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

// Where the kernel does not report the alignment: the largest logical
// block size of the disks Linux drives.
constexpr size_t kFallbackAlignment = 4096;

int64_t MonotonicMs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

uint64_t RoundDown(uint64_t value, size_t alignment) {
  return value - value % alignment;
}

uint64_t RoundUp(uint64_t value, size_t alignment) {
  return RoundDown(value + alignment - 1, alignment);
}

}  // namespace

absl::StatusOr<size_t> DirectReadAlignment(const File& file) {
#ifdef STATX_DIOALIGN
  struct statx attributes;
  if (statx(file.fd(), "", AT_EMPTY_PATH, STATX_DIOALIGN, &attributes) == 0 &&
      (attributes.stx_mask & STATX_DIOALIGN) != 0) {
    if (attributes.stx_dio_offset_align == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          file.path(), ": its file system has no direct I/O for it"));
    }
    if (attributes.stx_dio_mem_align > AlignedBufferPool::kAlignment) {
      return absl::FailedPreconditionError(absl::StrCat(
          file.path(), ": direct I/O needs memory aligned to ",
          attributes.stx_dio_mem_align, " bytes, more than the ",
          AlignedBufferPool::kAlignment, " the buffer pool gives"));
    }
    return static_cast<size_t>(attributes.stx_dio_offset_align);
  }
#endif
  return kFallbackAlignment;
}

absl::StatusOr<std::unique_ptr<AioReader>> AioReader::Open(
    std::unique_ptr<File> file, uint64_t position, uint64_t length,
    const AioReaderOptions& options) {
  if (options.pool == nullptr) {
    return absl::InvalidArgumentError("a direct reader needs a buffer pool");
  }
  ASSIGN_OR_RETURN(const size_t alignment, DirectReadAlignment(*file));
  const size_t buffer_bytes = options.pool->buffer_bytes();
  if (buffer_bytes % alignment != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        file->path(), ": direct reads must be aligned to ", alignment,
        " bytes, which does not divide the pool's ", buffer_bytes,
        "-byte buffers"));
  }
  std::unique_ptr<AioReader> reader(
      new AioReader(std::move(file), position, length, alignment, options));
  ASSIGN_OR_RETURN(reader->context_,
                   reader->options_.pool->aio_contexts().Acquire(
                       reader->events()));
  return reader;
}

AioReader::AioReader(std::unique_ptr<File> file, uint64_t position,
                     uint64_t length, size_t alignment,
                     const AioReaderOptions& options)
    : file_(std::move(file)),
      end_(position + length),
      alignment_(alignment),
      options_([&] {
        AioReaderOptions adjusted = options;
        adjusted.max_reads_in_flight =
            std::max<size_t>(adjusted.max_reads_in_flight, 1);
        return adjusted;
      }()),
      submit_position_(RoundDown(position, alignment)),
      handed_out_(position) {}

AioReader::~AioReader() {
  // Until the reads in flight complete, the kernel writes into their
  // buffers: only then do the buffers go back to the pool (reads_) and the
  // file close (file_). A drained context goes back to the pool for the
  // next reader; one that cannot be drained is destroyed, and io_destroy(2)
  // waits for its reads.
  if (context_ == nullptr) return;
  if (Drain()) {
    options_.pool->aio_contexts().Release(context_, events());
  } else {
    io_destroy(context_);
  }
}

absl::Status AioReader::Fail(absl::Status status) {
  error_ = status;
  return status;
}

absl::Status AioReader::Submit(bool may_wait) {
  const uint64_t aligned_end = RoundUp(end_, alignment_);
  EngineMetrics& metrics = GlobalMetrics();
  while (reads_.size() < options_.max_reads_in_flight &&
         submit_position_ < aligned_end) {
    // Wait only while holding no buffer: a reader that holds some never
    // blocks another that is waiting for one.
    const bool wait = may_wait && reads_.empty();
    std::optional<AlignedBufferPool::Buffer> buffer =
        options_.pool->Acquire(wait ? options_.buffer_wait_ms : 0);
    if (!buffer.has_value()) {
      if (!wait) break;
      return absl::ResourceExhaustedError(absl::StrCat(
          "no direct read buffer came free within ", options_.buffer_wait_ms,
          " ms (all ", options_.pool->buffer_count(), " of ",
          options_.pool->buffer_bytes(), " bytes in use)"));
    }
    auto read = std::make_unique<Read>(Read{{}, *std::move(buffer)});
    read->position = submit_position_;
    read->length = static_cast<size_t>(std::min<uint64_t>(
        read->buffer.size(), aligned_end - submit_position_));
    io_prep_pread(&read->control, file_->fd(), read->buffer.data(),
                  read->length, static_cast<long long>(read->position));
    read->control.data = read.get();
    struct iocb* controls[1] = {&read->control};
    const int submitted = io_submit(context_, 1, controls);
    if (submitted != 1) {
      const int error = submitted < 0 ? -submitted : EAGAIN;
      // The kernel is short of request slots: the reads in flight will
      // free some.
      if (error == EAGAIN && !reads_.empty()) break;
      return Fail(ErrnoToStatus(
          error, absl::StrCat("io_submit a direct read of ", file_->path(),
                              " at position ", read->position)));
    }
    metrics.direct_reads.Add();
    reads_.push_back(std::move(read));
    submit_position_ += reads_.back()->length;
  }
  return absl::OkStatus();
}

absl::Status AioReader::Collect(int64_t deadline_ms,
                                absl::FunctionRef<bool()> done) {
  std::vector<struct io_event> completions(options_.max_reads_in_flight);
  while (!done()) {
    const int64_t left_ms = std::max<int64_t>(deadline_ms - MonotonicMs(), 0);
    struct timespec timeout = {static_cast<time_t>(left_ms / 1000),
                               static_cast<long>(left_ms % 1000) * 1000000};
    const int n =
        io_getevents(context_, 1, static_cast<long>(completions.size()),
                     completions.data(), &timeout);
    if (n == -EINTR) continue;
    if (n < 0) {
      return ErrnoToStatus(-n, absl::StrCat("io_getevents for ",
                                            file_->path()));
    }
    for (int i = 0; i < n; ++i) {
      Read* read = static_cast<Read*>(completions[i].data);
      read->completed = true;
      read->result =
          static_cast<int64_t>(static_cast<long>(completions[i].res));
    }
    if (n == 0 && MonotonicMs() >= deadline_ms) {
      return absl::DeadlineExceededError("");
    }
  }
  return absl::OkStatus();
}

absl::Status AioReader::AwaitOldest() {
  const absl::Status collected =
      Collect(MonotonicMs() + options_.read_timeout_ms,
              [this] { return reads_.front()->completed; });
  if (absl::IsDeadlineExceeded(collected)) {
    return Fail(absl::DeadlineExceededError(absl::StrCat(
        "a direct read of ", file_->path(), " at position ",
        reads_.front()->position, " took longer than ",
        options_.read_timeout_ms, " ms")));
  }
  if (!collected.ok()) return Fail(collected);
  return absl::OkStatus();
}

bool AioReader::Drain() {
  return Collect(MonotonicMs() + options_.read_timeout_ms, [this] {
           return std::all_of(reads_.begin(), reads_.end(),
                              [](const std::unique_ptr<Read>& read) {
                                return read->completed;
                              });
         }).ok();
}

absl::StatusOr<AioReader::Chunk> AioReader::Next() {
  RETURN_IF_ERROR(error_);
  if (done()) {
    return absl::OutOfRangeError(absl::StrCat(
        "the direct read of ", file_->path(), " is complete at ", end_));
  }
  RETURN_IF_ERROR(Submit(/*may_wait=*/true));
  RETURN_IF_ERROR(AwaitOldest());
  std::unique_ptr<Read> read = std::move(reads_.front());
  reads_.pop_front();
  if (read->result < 0) {
    return Fail(ErrnoToStatus(
        static_cast<int>(-read->result),
        absl::StrCat("direct read of ", file_->path(), " at position ",
                     read->position)));
  }
  GlobalMetrics().direct_read_bytes.Add(static_cast<uint64_t>(read->result));
  // Short at the end of the file is normal, but not inside the range.
  const uint64_t wanted_end = std::min<uint64_t>(
      read->position + read->length, end_);
  const uint64_t read_end =
      read->position + static_cast<uint64_t>(read->result);
  if (read_end < wanted_end) {
    return Fail(absl::DataLossError(absl::StrCat(
        file_->path(), " ended at position ", read_end,
        " inside a direct read of a range that runs to ", end_,
        " (truncated under the read?)")));
  }
  const uint64_t chunk_begin = handed_out_;
  Chunk chunk{std::move(read->buffer), {}, chunk_begin};
  chunk.bytes = absl::string_view(
      chunk.buffer.data() + (chunk_begin - read->position),
      static_cast<size_t>(wanted_end - chunk_begin));
  handed_out_ = wanted_end;
  // Keep the disk busy while the caller writes this chunk out.
  RETURN_IF_ERROR(Submit(/*may_wait=*/false));
  return chunk;
}

}  // namespace shiplog
