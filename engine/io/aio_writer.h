// AioWriter: durable O_DIRECT writes through one Linux native AIO context
// (libaio: io_setup, io_submit, io_getevents, io_destroy).
//
// A write is submitted with RWF_DSYNC on its iocb, so its completion means
// the data, and the metadata needed to read it back (the file size of an
// extending write), are on stable storage: the kernel sends the write with
// FUA where the device honours it, or follows it with a cache flush. One
// submission replaces pwrite + fdatasync (engine/log/DIRECT_IO.md has the
// measurements).
//
// The caller's buffer belongs to the kernel until the write completes, so
// Write never returns while the write is in flight: it waits in slices of
// `wait_slice_ms` (each slice that passes without a completion is counted
// in slow_waits(), for a stuck device to show) and retries EINTR and
// EAGAIN. The context comes from an AioContextPool when the writer is
// given one, and goes back to it with the writer (nothing is in flight by
// then): a direct log's segments take turns with one context, so a roll
// does not wait the grace period io_destroy(2) costs (35 ms here).
// Without a pool, the writer makes its own and destroys it with itself.
//
// Thread-safety: Write is serialized by an internal mutex (one write in
// flight per context, which is what the group commit needs); accessors are
// thread-safe.
#ifndef SHIPLOG_ENGINE_IO_AIO_WRITER_H_
#define SHIPLOG_ENGINE_IO_AIO_WRITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "engine/io/aio_context_pool.h"
#include "engine/sync/mutex.h"

namespace shiplog {

class AioWriter {
 public:
  // A context for one write at a time, from `contexts` (when not null) or
  // of its own. kResourceExhausted (naming /proc/sys/fs/aio-max-nr) when
  // the system has no AIO events left.
  static absl::StatusOr<std::unique_ptr<AioWriter>> Create(
      std::shared_ptr<AioContextPool> contexts = nullptr,
      int64_t wait_slice_ms = 1000);

  ~AioWriter();
  AioWriter(const AioWriter&) = delete;
  AioWriter& operator=(const AioWriter&) = delete;

  // Writes all of `data` at `position` of `fd` (opened with O_DIRECT; the
  // address, length and position aligned as its file system requires) and
  // returns once the write is durable. A short completion is continued
  // from where it stopped. On error (the errno in the status; `path` names
  // the file) an unknown prefix of `data` may have reached the file, and
  // none of it is known to be durable.
  absl::Status Write(int fd, absl::string_view path, uint64_t position,
                     absl::Span<const char> data);

  // Device writes completed (each Write is one, unless a short completion
  // made it continue).
  uint64_t writes() const { return writes_.load(std::memory_order_relaxed); }
  // Wait slices that ended without a completion.
  uint64_t slow_waits() const {
    return slow_waits_.load(std::memory_order_relaxed);
  }

 private:
  struct Context;
  AioWriter(std::unique_ptr<Context> context, int64_t wait_slice_ms);

  // Submits one write and waits for its completion: the bytes written, or
  // the negated errno.
  int64_t SubmitAndWait(int fd, uint64_t position, const char* data,
                        size_t length) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Mutex mu_;
  const std::unique_ptr<Context> context_ ABSL_PT_GUARDED_BY(mu_);
  const int64_t wait_slice_ms_;
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> slow_waits_{0};
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_IO_AIO_WRITER_H_
