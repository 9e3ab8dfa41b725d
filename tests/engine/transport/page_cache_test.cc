// The proof that cold reads spare the page cache, measured with mincore(2):
// a full scan with cold reads on leaves the residency of every segment as
// it was (the cold ones stay out, the hot tail stays in), while the same
// scan through the page cache (sendfile) pulls the cold segments in. It
// fails if the feature is missing: the first scan would pull them in too.
//
// The measuring instruments (mmap + mincore, fdatasync + posix_fadvise
// DONTNEED, pread) are system calls of the test's own, not the engine's.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "engine/segment/segment.h"
#include "engine/transport/log_sender.h"
#include "tests/engine/transport/transport_test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::ExpectedRangeBytes;
using ::shiplog::testing::FdPair;
using ::shiplog::testing::MakeTestLog;
using ::shiplog::testing::ReadUntilEof;
using ::shiplog::testing::UnixSocketPair;

// Of the segments, which pages are in the page cache: one flag per page,
// file after file.
struct Residency {
  std::vector<bool> in_core;

  size_t pages() const { return in_core.size(); }
  size_t resident() const {
    size_t count = 0;
    for (bool page : in_core) count += page;
    return count;
  }
  // The pages resident here that were not in `before`: what came in
  // between. Pages the kernel reclaimed in between (a busy machine) do not
  // hide pages that came in.
  size_t BroughtInSince(const Residency& before) const {
    EXPECT_EQ(before.pages(), pages());
    size_t count = 0;
    for (size_t i = 0; i < in_core.size() && i < before.in_core.size(); ++i) {
      count += in_core[i] && !before.in_core[i];
    }
    return count;
  }
};

// mincore(2) over a fresh read-only mapping of each file: mapping faults
// nothing in, so the mapping does not change what it measures.
Residency ResidencyOf(const std::vector<std::string>& paths) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  Residency total;
  for (const std::string& path : paths) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0) << path;
    struct stat st;
    EXPECT_EQ(fstat(fd, &st), 0);
    const size_t size = static_cast<size_t>(st.st_size);
    const size_t pages = (size + page - 1) / page;
    if (pages > 0) {
      void* mapped = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
      EXPECT_NE(mapped, MAP_FAILED);
      std::vector<unsigned char> in_core(pages);
      EXPECT_EQ(mincore(mapped, size, in_core.data()), 0);
      for (unsigned char page_state : in_core) {
        total.in_core.push_back((page_state & 1) != 0);
      }
      munmap(mapped, size);
    }
    close(fd);
  }
  return total;
}

// Writes each file back, then drops its pages from the page cache.
void Evict(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << path;
    EXPECT_EQ(fdatasync(fd), 0);
    EXPECT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    close(fd);
  }
}

// Reads each file whole through the page cache.
void MakeResident(const std::vector<std::string>& paths) {
  std::vector<char> buffer(1 << 20);
  for (const std::string& path : paths) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0) << path;
    while (read(fd, buffer.data(), buffer.size()) > 0) {
    }
    close(fd);
  }
}

// Drives `cursor` to completion on a blocking socket while a thread drains
// the other end; returns what arrived.
std::string SendAll(LogSendCursor& cursor, FdPair& pair) {
  std::string received;
  std::thread drain([&] {
    absl::StatusOr<std::string> bytes = ReadUntilEof(pair.receiver);
    if (bytes.ok()) received = *std::move(bytes);
  });
  while (!cursor.done()) {
    const absl::Status sent = cursor.Send().status();
    EXPECT_OK(sent);
    if (!sent.ok()) break;
  }
  pair.CloseSender();
  drain.join();
  return received;
}

std::ostream& operator<<(std::ostream& out, const Residency& residency) {
  return out << residency.resident() << " of " << residency.pages()
             << " pages";
}

TEST(PageCacheTest, AColdScanLeavesThePageCacheAsItWasAndABufferedOneDoesNot) {
  // About 12 MiB in 1 MiB segments: 10 cold, the last 2 hot.
  auto data = MakeTestLog(192, 16, 4000, 1 << 20);
  Log& log = *data->log;
  ASSERT_OK(log.Flush());
  std::vector<std::string> cold, hot;
  uint64_t hot_bytes = 0;
  uint64_t cold_bytes = 0;
  const std::vector<int64_t> bases = log.segment_base_offsets();
  ASSERT_GE(bases.size(), 6u);
  for (size_t i = 0; i < bases.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(Slice slice, log.Read(bases[i], 1));
    const bool is_hot = i + 2 >= bases.size();
    (is_hot ? hot : cold).push_back(slice.segment->log_path());
    (is_hot ? hot_bytes : cold_bytes) += slice.segment->size();
  }
  MakeResident(hot);
  Evict(cold);
  const Residency cold_evicted = ResidencyOf(cold);
  if (cold_evicted.resident() > 0) {
    GTEST_SKIP() << "posix_fadvise(DONTNEED) left " << cold_evicted
                 << " of the cold segments resident: the file system under "
                 << data->dir.path()
                 << " keeps file pages in memory (tmpfs?); the proof needs "
                    "a disk-backed one";
  }

  // The scan with cold reads on: every segment but the two hot ones lies
  // more than hot_bytes behind the end.
  FdPair cold_pair = UnixSocketPair();
  ASSERT_OK_AND_ASSIGN(Destination cold_destination,
                       Destination::Inspect(cold_pair.sender));
  SendOptions cold_options;
  cold_options.cold_read_lag_bytes = hot_bytes;
  cold_options.direct_read_pool = data->store->direct_read_pool();
  ASSERT_OK_AND_ASSIGN(
      LogSendCursor cold_scan,
      LogSendCursor::Start(log, 0, UINT64_MAX, cold_destination, cold_options));
  // Resolving the range read a batch header or two per segment through the
  // page cache (and the kernel's readahead around them); measured from
  // here, what follows is the send alone.
  const Residency cold_resolved = ResidencyOf(cold);
  const Residency hot_before = ResidencyOf(hot);
  ASSERT_EQ(hot_before.resident(), hot_before.pages());
  const std::string cold_received = SendAll(cold_scan, cold_pair);
  const Residency cold_after_cold_scan = ResidencyOf(cold);
  const Residency hot_after_cold_scan = ResidencyOf(hot);

  std::cout << "cold segments: " << cold_evicted << " evicted, "
            << cold_resolved << " after resolving the range, "
            << cold_after_cold_scan << " after the cold scan\n"
            << "hot segments: " << hot_before << " before, "
            << hot_after_cold_scan << " after the cold scan\n";
  EXPECT_EQ(cold_scan.bytes_by_path()[SendPath::kDirectRead], cold_bytes);
  EXPECT_EQ(cold_scan.bytes_sent(), cold_bytes + hot_bytes);
  // (a) the cold scan brought no page of the cold segments into the page
  // cache (page by page: one the kernel reclaimed meanwhile, as on a busy
  // CI machine, cannot mask one that came in);
  EXPECT_EQ(cold_after_cold_scan.BroughtInSince(cold_resolved), 0u);
  // (b) the hot tail is as resident as it was.
  EXPECT_EQ(hot_after_cold_scan.resident(), hot_before.resident());

  // The same range through the page cache, with cold reads off.
  FdPair buffered_pair = UnixSocketPair();
  ASSERT_OK_AND_ASSIGN(Destination buffered_destination,
                       Destination::Inspect(buffered_pair.sender));
  SendOptions buffered_options;
  buffered_options.policy = SendPolicy::kSendfile;
  ASSERT_OK_AND_ASSIGN(LogSendCursor buffered_scan,
                       LogSendCursor::Start(log, 0, UINT64_MAX,
                                            buffered_destination,
                                            buffered_options));
  const std::string buffered_received = SendAll(buffered_scan, buffered_pair);
  const Residency cold_after_buffered_scan = ResidencyOf(cold);
  std::cout << "cold segments: " << cold_after_buffered_scan
            << " after the buffered (sendfile) scan\n";
  EXPECT_EQ(buffered_scan.bytes_by_path()[SendPath::kSendfile],
            cold_bytes + hot_bytes);
  // sendfile pulled (nearly) every cold page in: the measurement sees what
  // the cold scan avoided.
  EXPECT_GE(cold_after_buffered_scan.BroughtInSince(cold_after_cold_scan),
            (cold_after_cold_scan.pages() - cold_after_cold_scan.resident()) *
                9 / 10);

  // Both scans shipped the log byte for byte (checked last: building the
  // expected bytes reads through the page cache).
  ASSERT_OK_AND_ASSIGN(const std::string expected,
                       ExpectedRangeBytes(log, 0, UINT64_MAX));
  EXPECT_TRUE(cold_received == expected);
  EXPECT_TRUE(buffered_received == expected);
}

}  // namespace
}  // namespace shiplog
