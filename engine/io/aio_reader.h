// AioReader: reads one byte range of a file opened for direct I/O
// (Env::OpenForDirectRead) through Linux native AIO (libaio), in file
// order, in buffer-sized chunks, with several reads in flight, so the disk
// works while the caller writes out the chunk before.
//
// Alignment. O_DIRECT needs the file offset, the length and the memory of
// every read aligned: to the file's direct I/O alignment, which statx(2)
// reports (STATX_DIOALIGN, Linux 6.1+; 4096 where it says nothing, the
// largest logical block size in use). The reader reads the aligned
// superset of the range, [floor(begin), ceil(end)), and hands out exactly
// the range's bytes. A read that stops short at the end of the file is
// normal as long as it covers the range; one that stops inside the range
// is kDataLoss.
//
// Buffers come from an AlignedBufferPool. A reader that holds none waits
// for one (at most buffer_wait_ms); one that already holds some only takes
// what is free, so readers never wait on each other while holding buffers
// (no deadlock), and the pool bounds the memory of every reader together.
//
// Resources: an AIO context taken from the pool's AioContextPool (an idle
// one, else a new one), the file, and the buffers of its reads. All of
// them are released when the reader is destroyed, on every path: reads in
// flight are waited for first (their buffers belong to the kernel until
// they complete), then the drained context goes back to the pool. A
// context whose reads cannot be drained (io_getevents fails, or they take
// longer than read_timeout_ms) is destroyed instead, never reused:
// io_destroy(2) waits for them.
//
// Thread-safety: not thread-safe; one thread drives a reader.
#ifndef SHIPLOG_ENGINE_IO_AIO_READER_H_
#define SHIPLOG_ENGINE_IO_AIO_READER_H_

#include <libaio.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/io/aligned_buffer_pool.h"
#include "engine/io/env.h"

namespace shiplog {

// The file offset alignment direct reads of `file` need: statx's
// stx_dio_offset_align, or 4096 where the kernel does not report it.
// kFailedPrecondition when the kernel reports that the file cannot do
// direct I/O, or needs a memory alignment AlignedBufferPool cannot give.
absl::StatusOr<size_t> DirectReadAlignment(const File& file);

struct AioReaderOptions {
  // The pool the reads take their buffers from (required).
  std::shared_ptr<AlignedBufferPool> pool;
  // Reads kept in flight at most: the read-ahead depth.
  size_t max_reads_in_flight = 4;
  // How long Next() waits for a buffer when the reader holds none.
  int64_t buffer_wait_ms = 100;
  // How long Next() waits for a read to complete (io_getevents' timeout).
  int64_t read_timeout_ms = 30'000;
};

class AioReader {
 public:
  // A chunk of the range: `bytes` lie in `buffer`, which goes back to the
  // pool when the chunk is destroyed.
  struct Chunk {
    AlignedBufferPool::Buffer buffer;
    absl::string_view bytes;
    uint64_t position = 0;  // of bytes[0] in the file
  };

  // A reader of [position, position + length) of `file`, which must have
  // been opened for direct I/O; it is owned by the reader. Reads nothing
  // yet. kFailedPrecondition if the file's alignment does not divide the
  // pool's buffer size (or DirectReadAlignment refuses); the errno status
  // of io_setup when the pool has no idle context and cannot make one
  // (EAGAIN: the system's fs.aio-max-nr is reached).
  static absl::StatusOr<std::unique_ptr<AioReader>> Open(
      std::unique_ptr<File> file, uint64_t position, uint64_t length,
      const AioReaderOptions& options);

  ~AioReader();
  AioReader(const AioReader&) = delete;
  AioReader& operator=(const AioReader&) = delete;

  // The next chunk of the range in file order, waiting for its read; then
  // submits further reads, so they proceed while the caller uses the
  // chunk. Destroy the chunk before the next call: a reader holding no
  // other buffer may wait for one. Errors: kResourceExhausted when no buffer came free within
  // buffer_wait_ms while the reader held none (nothing is lost: the next
  // call tries again, or the caller reads from next_position() another
  // way); kDataLoss when the file ends inside the range; kDeadlineExceeded
  // when a read took longer than read_timeout_ms; the errno status of a
  // failed submission or read. After any error but kResourceExhausted the
  // reader is finished and returns that error again.
  absl::StatusOr<Chunk> Next();

  // Every byte of the range has been handed out.
  bool done() const { return handed_out_ == end_; }
  // The first byte of the range not yet handed out.
  uint64_t next_position() const { return handed_out_; }
  size_t alignment() const { return alignment_; }
  const std::string& path() const { return file_->path(); }

 private:
  struct Read {
    struct iocb control;
    AlignedBufferPool::Buffer buffer;
    uint64_t position = 0;  // aligned
    size_t length = 0;      // aligned
    bool completed = false;
    int64_t result = 0;  // bytes read, or -errno
  };

  AioReader(std::unique_ptr<File> file, uint64_t position, uint64_t length,
            size_t alignment, const AioReaderOptions& options);
  // Submits reads while buffers and the depth allow; waits for a buffer
  // only when `may_wait` and the reader holds none (kResourceExhausted if
  // none came).
  absl::Status Submit(bool may_wait);
  // Collects completions until the oldest read has completed.
  absl::Status AwaitOldest();
  // Collects completions for `deadline_ms` (CLOCK_MONOTONIC) at most,
  // marking the reads they belong to, until `done` says to stop. An
  // io_getevents error is returned as it is.
  absl::Status Collect(int64_t deadline_ms, absl::FunctionRef<bool()> done);
  // Waits for every read in flight (read_timeout_ms at most); whether
  // none is left, so the context can be reused.
  bool Drain();
  absl::Status Fail(absl::Status status);
  // Operations the context must have room for.
  unsigned events() const {
    return static_cast<unsigned>(options_.max_reads_in_flight);
  }

  const std::unique_ptr<File> file_;
  const uint64_t end_;
  const size_t alignment_;
  const AioReaderOptions options_;
  io_context_t context_ = nullptr;
  // Reads submitted (oldest first), and where the next one starts.
  std::deque<std::unique_ptr<Read>> reads_;
  uint64_t submit_position_;
  uint64_t handed_out_;
  absl::Status error_;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_IO_AIO_READER_H_
