#include "engine/io/aio_writer.h"

#include <libaio.h>
#include <sys/uio.h>  // RWF_DSYNC

#include <cerrno>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "engine/status/errno_status.h"

namespace shiplog {
namespace {

// io_submit's EAGAIN means the context has no free slot; with one write at
// a time that is transient (a completion not yet reaped by the kernel).
constexpr int kSubmitAttempts = 1000;

}  // namespace

struct AioWriter::Context {
  // Where the context came from and goes back to.
  std::shared_ptr<AioContextPool> pool;
  io_context_t context = nullptr;
  // Set when the context had to be destroyed early (see SubmitAndWait).
  bool destroyed = false;
};

absl::StatusOr<std::unique_ptr<AioWriter>> AioWriter::Create(
    std::shared_ptr<AioContextPool> contexts, int64_t wait_slice_ms) {
  // Without a pool, one that keeps nothing idle: the writer's own context,
  // destroyed with it.
  if (contexts == nullptr) contexts = std::make_shared<AioContextPool>(0);
  absl::StatusOr<io_context_t> taken = contexts->Acquire(1);
  if (!taken.ok()) {
    if (StatusErrno(taken.status()) == EAGAIN) {
      return absl::ResourceExhaustedError(
          "io_setup: no AIO events left (raise /proc/sys/fs/aio-max-nr, or "
          "use fewer logs in write.mode=direct)");
    }
    return taken.status();
  }
  auto context = std::make_unique<Context>();
  context->pool = std::move(contexts);
  context->context = *taken;
  return std::unique_ptr<AioWriter>(
      new AioWriter(std::move(context), wait_slice_ms));
}

AioWriter::AioWriter(std::unique_ptr<Context> context, int64_t wait_slice_ms)
    : context_(std::move(context)),
      wait_slice_ms_(wait_slice_ms > 0 ? wait_slice_ms : 1) {}

AioWriter::~AioWriter() {
  // No write is in flight: Write returns only after its completion.
  if (!context_->destroyed) context_->pool->Release(context_->context, 1);
}

int64_t AioWriter::SubmitAndWait(int fd, uint64_t position, const char* data,
                                 size_t length) {
  struct iocb request;
  io_prep_pwrite(&request, fd, const_cast<char*>(data), length,
                 static_cast<long long>(position));
  request.aio_rw_flags = RWF_DSYNC;
  struct iocb* requests[1] = {&request};
  int submitted = 0;
  for (int attempt = 0; attempt < kSubmitAttempts; ++attempt) {
    submitted = io_submit(context_->context, 1, requests);
    if (submitted == 1) break;
    if (submitted != -EAGAIN && submitted != -EINTR && submitted != 0) {
      return submitted;
    }
  }
  if (submitted != 1) return submitted == 0 ? -EAGAIN : submitted;

  // From here the kernel owns `data` until the completion is reaped.
  struct io_event event;
  while (true) {
    struct timespec slice;
    slice.tv_sec = static_cast<time_t>(wait_slice_ms_ / 1000);
    slice.tv_nsec = static_cast<long>((wait_slice_ms_ % 1000) * 1'000'000);
    const int reaped = io_getevents(context_->context, 1, 1, &event, &slice);
    if (reaped == 1) break;
    if (reaped == 0) {
      slow_waits_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (reaped == -EINTR) continue;
    // Only a broken context gets here. io_destroy waits for the write, so
    // the buffer is the caller's again when this returns.
    (void)io_destroy(context_->context);
    context_->destroyed = true;
    return reaped;
  }
  writes_.fetch_add(1, std::memory_order_relaxed);
  // res is the byte count or the negated errno, as an unsigned long.
  return static_cast<int64_t>(static_cast<long>(event.res));
}

absl::Status AioWriter::Write(int fd, absl::string_view path,
                              uint64_t position, absl::Span<const char> data) {
  MutexLock lock(&mu_);
  if (context_->destroyed) {
    return absl::FailedPreconditionError(
        absl::StrCat("direct write ", path, ": the AIO context failed before"));
  }
  size_t done = 0;
  while (done < data.size()) {
    const int64_t result = SubmitAndWait(fd, position + done,
                                         data.data() + done, data.size() - done);
    if (result < 0) {
      return ErrnoToStatus(static_cast<int>(-result),
                           absl::StrCat("direct write ", path, " at position ",
                                        position + done));
    }
    if (result == 0) {
      return ErrnoToStatus(EIO, absl::StrCat("direct write ", path,
                                             " at position ", position + done,
                                             " wrote nothing"));
    }
    done += static_cast<size_t>(result);
  }
  return absl::OkStatus();
}

}  // namespace shiplog
