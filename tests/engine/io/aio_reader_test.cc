#include "engine/io/aio_reader.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/status/errno_status.h"
#include "tests/engine/open_resources.h"
#include "tests/engine/test_env.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::AioContextCount;
using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::shiplog::testing::TestEnv;
using ::testing::HasSubstr;

constexpr size_t kPage = AlignedBufferPool::kAlignment;

int OpenDescriptors() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return count;
}

// Bytes whose every position is recognisable: a shifted range shows.
std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
  }
  return bytes;
}

class AioReaderTest : public ::testing::Test {
 protected:
  // A file of `size` pattern bytes in the test's directory, open through
  // the Env.
  std::unique_ptr<File> WriteFile(const std::string& name, size_t size) {
    contents_ = Pattern(size);
    auto file = env_.OpenFile(dir_.Join(name), OpenMode::kCreate);
    EXPECT_OK(file);
    EXPECT_OK((*file)->WriteAt(0, contents_));
    return *std::move(file);
  }

  // Its direct descriptor; nullptr, with the reason, where the file system
  // has no O_DIRECT.
  std::unique_ptr<File> OpenDirect(const File& file) {
    absl::StatusOr<std::unique_ptr<File>> direct = env_.OpenForDirectRead(file);
    if (absl::IsInvalidArgument(direct.status())) {
      skip_reason_ = direct.status().ToString();
      return nullptr;
    }
    EXPECT_OK(direct);
    return direct.ok() ? *std::move(direct) : nullptr;
  }

  AioReaderOptions Options(size_t buffer_bytes, size_t buffers,
                           size_t depth = 4) {
    auto pool = AlignedBufferPool::Create(buffer_bytes, buffers);
    EXPECT_OK(pool);
    pool_ = *pool;
    AioReaderOptions options;
    options.pool = pool_;
    options.max_reads_in_flight = depth;
    options.buffer_wait_ms = 0;
    return options;
  }

  // Every chunk of [position, position + length), checked in order and
  // for size, concatenated.
  std::string ReadAll(AioReader& reader, uint64_t position, size_t* chunks) {
    std::string read;
    *chunks = 0;
    while (!reader.done()) {
      absl::StatusOr<AioReader::Chunk> chunk = reader.Next();
      EXPECT_OK(chunk);
      if (!chunk.ok()) break;
      EXPECT_EQ(chunk->position, position + read.size());
      EXPECT_LE(chunk->bytes.size(), pool_->buffer_bytes());
      read.append(chunk->bytes.data(), chunk->bytes.size());
      ++*chunks;
    }
    return read;
  }

  TempDir dir_;
  TestEnv env_;
  std::string contents_;
  std::shared_ptr<AlignedBufferPool> pool_;
  std::string skip_reason_;
};

// Declares `var`, the direct descriptor of `file`; skips the test where
// the file system has no O_DIRECT.
#define OPEN_DIRECT_OR_SKIP(var, file)                    \
  std::unique_ptr<File> var = OpenDirect(file);          \
  if (var == nullptr) {                                  \
    if (!skip_reason_.empty()) {                         \
      GTEST_SKIP() << "no O_DIRECT here: " << skip_reason_; \
    }                                                    \
    FAIL();                                              \
  }

TEST_F(AioReaderTest, AlignmentComesFromTheFileSystemAndIsAPowerOfTwo) {
  auto file = WriteFile("f", 3 * kPage);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(const size_t alignment, DirectReadAlignment(*direct));
  EXPECT_GE(alignment, 1u);
  EXPECT_LE(alignment, kPage);
  EXPECT_EQ(alignment & (alignment - 1), 0u);
}

TEST_F(AioReaderTest, ARangeStartingAndEndingMidBlockComesOutExactly) {
  auto file = WriteFile("f", 64 * 1024);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(
      auto reader, AioReader::Open(std::move(direct), 1000, 10'001,
                                   Options(kPage, 8)));
  size_t chunks = 0;
  EXPECT_TRUE(ReadAll(*reader, 1000, &chunks) == contents_.substr(1000, 10'001));
  // [0, 12288) aligned: three page-sized reads.
  EXPECT_EQ(chunks, 3u);
}

TEST_F(AioReaderTest, ARangeWithinOneBlockComesOutExactly) {
  auto file = WriteFile("f", 2 * kPage);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 100, 7,
                                                    Options(kPage, 2)));
  size_t chunks = 0;
  EXPECT_EQ(ReadAll(*reader, 100, &chunks), contents_.substr(100, 7));
  EXPECT_EQ(chunks, 1u);
}

TEST_F(AioReaderTest, AShortReadAtTheEndOfTheFileIsNormal) {
  // 10,000 bytes: the aligned superset of [5000, 10000) runs past the end.
  auto file = WriteFile("f", 10'000);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 5000,
                                                    5000, Options(kPage, 4)));
  size_t chunks = 0;
  EXPECT_EQ(ReadAll(*reader, 5000, &chunks), contents_.substr(5000));
}

TEST_F(AioReaderTest, ManyBuffersOfRangeArriveInFileOrder) {
  auto file = WriteFile("f", 1 << 20);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(auto reader,
                       AioReader::Open(std::move(direct), 333, (1 << 20) - 666,
                                       Options(2 * kPage, 6, /*depth=*/4)));
  size_t chunks = 0;
  EXPECT_TRUE(ReadAll(*reader, 333, &chunks) ==
              contents_.substr(333, (1 << 20) - 666));
  EXPECT_EQ(chunks, 128u);
  EXPECT_EQ(pool_->available(), 6u);
}

TEST_F(AioReaderTest, AnEmptyRangeIsDoneWithoutReading) {
  auto file = WriteFile("f", kPage);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 10, 0,
                                                    Options(kPage, 1)));
  EXPECT_TRUE(reader->done());
  EXPECT_THAT(reader->Next(), StatusIs(absl::StatusCode::kOutOfRange,
                                       HasSubstr("complete")));
}

TEST_F(AioReaderTest, KeepsAtMostItsDepthInFlight) {
  auto file = WriteFile("f", 64 * kPage);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(
      auto reader, AioReader::Open(std::move(direct), 0, 64 * kPage,
                                   Options(kPage, 10, /*depth=*/4)));
  ASSERT_OK_AND_ASSIGN(AioReader::Chunk chunk, reader->Next());
  // The chunk handed out, and four reads in flight behind it.
  EXPECT_EQ(pool_->available(), 10u - 1 - 4);
}

TEST_F(AioReaderTest, NeverTakesMoreBuffersThanThePoolHas) {
  auto file = WriteFile("f", 64 * kPage);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(
      auto reader, AioReader::Open(std::move(direct), 0, 64 * kPage,
                                   Options(kPage, 2, /*depth=*/8)));
  size_t chunks = 0;
  EXPECT_TRUE(ReadAll(*reader, 0, &chunks) == contents_);
  EXPECT_EQ(chunks, 64u);
  EXPECT_EQ(pool_->available(), 2u);
}

TEST_F(AioReaderTest, AReaderHoldingNoBufferGivesUpThenResumes) {
  auto file = WriteFile("f", 4 * kPage);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  AioReaderOptions options = Options(kPage, 1);
  ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 0,
                                                    4 * kPage, options));
  std::optional<AlignedBufferPool::Buffer> held = pool_->Acquire(0);
  ASSERT_TRUE(held.has_value());
  EXPECT_THAT(reader->Next(), StatusIs(absl::StatusCode::kResourceExhausted,
                                       HasSubstr("no direct read buffer")));
  EXPECT_EQ(reader->next_position(), 0u);
  held.reset();
  size_t chunks = 0;
  EXPECT_TRUE(ReadAll(*reader, 0, &chunks) == contents_);
}

TEST_F(AioReaderTest, AFileEndingInsideTheRangeIsDataLoss) {
  auto file = WriteFile("f", 3 * kPage + 10);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 0,
                                                    5 * kPage, Options(kPage, 8)));
  absl::Status status;
  while (status.ok() && !reader->done()) status = reader->Next().status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kDataLoss,
                               HasSubstr("ended at position 12298")));
  // Finished: the same error again.
  EXPECT_THAT(reader->Next(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("ended")));
  reader.reset();
  EXPECT_EQ(pool_->available(), 8u);
}

TEST_F(AioReaderTest, AnUnlinkedFileIsStillReadThroughItsDescriptor) {
  auto file = WriteFile("doomed", 5 * kPage);
  ASSERT_OK(env_.RemoveFile(dir_.Join("doomed")));
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 4000,
                                                    9000, Options(kPage, 4)));
  size_t chunks = 0;
  EXPECT_TRUE(ReadAll(*reader, 4000, &chunks) == contents_.substr(4000, 9000));
}

TEST_F(AioReaderTest, AFailingDiskIsAnErrorAndEverythingIsReleased) {
  auto file = WriteFile("f", 16 * kPage);
  env_.BreakDirectReads(true);
  const int descriptors = OpenDescriptors();
  {
    OPEN_DIRECT_OR_SKIP(direct, *file);
    ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 0,
                                                      16 * kPage,
                                                      Options(kPage, 4)));
    const absl::StatusOr<AioReader::Chunk> chunk = reader->Next();
    EXPECT_FALSE(chunk.ok());
    EXPECT_EQ(StatusErrno(chunk.status()), EBADF) << chunk.status();
    EXPECT_THAT(chunk.status().message(), HasSubstr("io_submit"));
  }
  EXPECT_EQ(pool_->available(), 4u);
  EXPECT_EQ(OpenDescriptors(), descriptors);
}

TEST_F(AioReaderTest, DestroyingAReaderMidRangeReleasesEverything) {
  auto file = WriteFile("f", 256 * kPage);
  const int descriptors = OpenDescriptors();
  {
    OPEN_DIRECT_OR_SKIP(direct, *file);
    ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 0,
                                                      256 * kPage,
                                                      Options(kPage, 8)));
    ASSERT_OK(reader->Next());
    EXPECT_LT(pool_->available(), 8u);
    // Destroyed with reads in flight: it waits for them.
  }
  EXPECT_EQ(pool_->available(), 8u);
  EXPECT_EQ(OpenDescriptors(), descriptors);
}

// io_destroy waits for a grace period (tens of ms), so readers of one pool
// take turns with one context instead of making and destroying their own.
TEST_F(AioReaderTest, ReadersOneAfterAnotherReuseOneContext) {
  auto file = WriteFile("f", 64 * kPage);
  const int contexts = AioContextCount();
  AioReaderOptions options = Options(kPage, 8);
  for (size_t i = 0; i < 5; ++i) {
    OPEN_DIRECT_OR_SKIP(direct, *file);
    ASSERT_OK_AND_ASSIGN(auto reader,
                         AioReader::Open(std::move(direct), i * 1000,
                                         20 * kPage, options));
    size_t chunks = 0;
    EXPECT_TRUE(ReadAll(*reader, i * 1000, &chunks) ==
                contents_.substr(i * 1000, 20 * kPage));
  }
  EXPECT_EQ(pool_->aio_contexts().created(), 1u);
  EXPECT_EQ(pool_->aio_contexts().idle(), 1u);
  EXPECT_EQ(AioContextCount(), contexts + 1);
  // The pool's last owner gone, so is its idle context.
  options.pool.reset();
  pool_.reset();
  EXPECT_EQ(AioContextCount(), contexts);
}

// A reader stopped with reads in flight waits for them before its context
// is reused: a completion left behind would reach the next reader and
// point it at a read that no longer exists.
TEST_F(AioReaderTest, AReaderStoppedMidRangeGivesBackADrainedContext) {
  auto file = WriteFile("f", 256 * kPage);
  AioReaderOptions options = Options(kPage, 8, /*depth=*/4);
  {
    OPEN_DIRECT_OR_SKIP(direct, *file);
    ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 0,
                                                      256 * kPage, options));
    ASSERT_OK(reader->Next());  // and four reads in flight behind it
  }
  EXPECT_EQ(pool_->available(), 8u);
  ASSERT_EQ(pool_->aio_contexts().idle(), 1u);
  ASSERT_OK_AND_ASSIGN(io_context_t context,
                       pool_->aio_contexts().Acquire(4));
  // Nothing more ever completes on it: the wait runs out with no event.
  struct io_event leftovers[8];
  struct timespec timeout = {1, 0};
  EXPECT_EQ(io_getevents(context, 1, 8, leftovers, &timeout), 0);
  pool_->aio_contexts().Release(context, 4);

  // And the next reader, on that context, reads exactly its range.
  OPEN_DIRECT_OR_SKIP(direct, *file);
  ASSERT_OK_AND_ASSIGN(auto reader,
                       AioReader::Open(std::move(direct), 5000,
                                       100 * kPage, options));
  size_t chunks = 0;
  EXPECT_TRUE(ReadAll(*reader, 5000, &chunks) ==
              contents_.substr(5000, 100 * kPage));
  EXPECT_EQ(pool_->aio_contexts().created(), 1u);
}

TEST_F(AioReaderTest, IdleContextsAreBoundedByThePool) {
  auto file = WriteFile("f", 8 * kPage);
  const int contexts = AioContextCount();
  // 8 buffers keep 8 / kMaxReadsPerContext = 2 idle contexts at most.
  AioReaderOptions options = Options(kPage, 8);
  ASSERT_EQ(pool_->aio_contexts().max_idle(), 2u);
  {
    std::vector<std::unique_ptr<AioReader>> readers;
    for (int i = 0; i < 5; ++i) {
      OPEN_DIRECT_OR_SKIP(direct, *file);
      ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 0,
                                                        8 * kPage, options));
      readers.push_back(std::move(reader));
    }
    EXPECT_EQ(pool_->aio_contexts().created(), 5u);
    EXPECT_EQ(AioContextCount(), contexts + 5);
  }
  EXPECT_EQ(pool_->aio_contexts().idle(), 2u);
  EXPECT_EQ(AioContextCount(), contexts + 2);
}

TEST_F(AioReaderTest, AnIdleContextTooSmallForTheDepthIsNotHandedOut) {
  Options(kPage, 8);
  AioContextPool& pool = pool_->aio_contexts();
  ASSERT_OK_AND_ASSIGN(io_context_t small, pool.Acquire(2));
  pool.Release(small, 2);
  ASSERT_OK_AND_ASSIGN(io_context_t large, pool.Acquire(16));
  EXPECT_NE(large, small);
  EXPECT_EQ(pool.created(), 2u);
  ASSERT_OK_AND_ASSIGN(io_context_t again, pool.Acquire(2));
  EXPECT_EQ(again, small);
  pool.Release(again, 2);
  pool.Release(large, 16);
  EXPECT_EQ(pool.idle(), 2u);
}

// A forked child cannot use its parent's contexts (the kernel keeps them
// per address space): a pool used there makes the child's own.
TEST_F(AioReaderTest, AForkedChildReadsWithContextsOfItsOwn) {
  auto file = WriteFile("f", 16 * kPage);
  AioReaderOptions options = Options(kPage, 8);
  {
    OPEN_DIRECT_OR_SKIP(direct, *file);
    ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 0,
                                                      16 * kPage, options));
    size_t chunks = 0;
    ASSERT_TRUE(ReadAll(*reader, 0, &chunks) == contents_);
  }
  ASSERT_EQ(pool_->aio_contexts().idle(), 1u);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // No gtest assertions here: the exit status is the verdict.
    absl::StatusOr<std::unique_ptr<AioReader>> reader =
        AioReader::Open(std::move(direct), 100, 10 * kPage, options);
    if (!reader.ok()) _exit(2);
    std::string read;
    while (!(*reader)->done()) {
      absl::StatusOr<AioReader::Chunk> chunk = (*reader)->Next();
      if (!chunk.ok()) _exit(3);
      read.append(chunk->bytes.data(), chunk->bytes.size());
    }
    _exit(read == contents_.substr(100, 10 * kPage) ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0)
      << "2: no reader, 3: a read failed, 4: wrong bytes";
  // The parent's idle context is still there, and still works.
  EXPECT_EQ(pool_->aio_contexts().idle(), 1u);
  ASSERT_OK_AND_ASSIGN(auto reader, AioReader::Open(std::move(direct), 0,
                                                    kPage, options));
  size_t chunks = 0;
  EXPECT_TRUE(ReadAll(*reader, 0, &chunks) == contents_.substr(0, kPage));
  EXPECT_EQ(pool_->aio_contexts().created(), 1u);
}

TEST_F(AioReaderTest, AReaderNeedsABufferPool) {
  auto file = WriteFile("f", 4 * kPage);
  OPEN_DIRECT_OR_SKIP(direct, *file);
  EXPECT_THAT(AioReader::Open(std::move(direct), 0, kPage, AioReaderOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("buffer pool")));
}

}  // namespace
}  // namespace shiplog
