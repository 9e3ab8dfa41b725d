// AioWriter and the POSIX Env's direct files: durable O_DIRECT writes
// through libaio, on the real file system of the temporary directory.
#include "engine/io/aio_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "engine/io/aio_context_pool.h"
#include "engine/io/aligned_buffer.h"
#include "engine/io/env.h"
#include "engine/status/errno_status.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::testing::HasSubstr;

class DirectIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(env_->OpenFile(path_, OpenMode::kCreate));
    absl::StatusOr<std::unique_ptr<DirectFile>> file =
        env_->OpenDirectFile(path_, nullptr);
    if (absl::IsFailedPrecondition(file.status())) {
      GTEST_SKIP() << file.status();
    }
    ASSERT_OK(file);
    file_ = *std::move(file);
  }

  std::string ReadBack() {
    absl::StatusOr<std::string> contents = ReadSmallFile(env_, path_);
    EXPECT_OK(contents);
    return contents.ok() ? *contents : "";
  }

  Env* const env_ = Env::Default();
  TempDir dir_;
  const std::string path_ = dir_.Join("segment.log");
  std::unique_ptr<DirectFile> file_;
};

TEST_F(DirectIoTest, AlignmentIsAPowerOfTwoOfAtLeastAPage) {
  const size_t alignment = file_->alignment();
  EXPECT_GE(alignment, 4096u);
  EXPECT_EQ(alignment & (alignment - 1), 0u);
}

TEST_F(DirectIoTest, DurableWritesLandAndExtendTheFile) {
  const size_t block = file_->alignment();
  AlignedBuffer buffer(block, 2 * block);
  std::memset(buffer.data(), 'a', block);
  std::memset(buffer.data() + block, 'b', block);
  ASSERT_OK(file_->WriteDurably(0, absl::MakeConstSpan(buffer.data(), 2 * block)));
  // Rewriting the second block leaves the first alone.
  std::memset(buffer.data(), 'c', block);
  ASSERT_OK(file_->WriteDurably(block, absl::MakeConstSpan(buffer.data(), block)));
  const std::string contents = ReadBack();
  ASSERT_EQ(contents.size(), 2 * block);
  EXPECT_EQ(contents.substr(0, block), std::string(block, 'a'));
  EXPECT_EQ(contents.substr(block), std::string(block, 'c'));
}

TEST_F(DirectIoTest, UnalignedWritesAreRefusedBeforeTheKernel) {
  const size_t block = file_->alignment();
  AlignedBuffer buffer(block, 2 * block);
  EXPECT_THAT(file_->WriteDurably(1, absl::MakeConstSpan(buffer.data(), block)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not aligned")));
  EXPECT_THAT(file_->WriteDurably(0, absl::MakeConstSpan(buffer.data(), 100)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not aligned")));
  EXPECT_THAT(
      file_->WriteDurably(0, absl::MakeConstSpan(buffer.data() + 1, block)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not aligned")));
  EXPECT_EQ(ReadBack(), "");
}

TEST_F(DirectIoTest, OpeningAMissingFileIsNotFound) {
  EXPECT_THAT(env_->OpenDirectFile(dir_.Join("missing"), nullptr),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing")));
}

TEST_F(DirectIoTest, AioWriterCountsWritesAndReportsTheErrnoOfAFailedOne) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<AioWriter> writer, AioWriter::Create());
  const int fd = open(path_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const size_t block = file_->alignment();
  AlignedBuffer buffer(block, block);
  std::memset(buffer.data(), 'z', block);
  ASSERT_OK(writer->Write(fd, path_, 0, absl::MakeConstSpan(buffer.data(), block)));
  EXPECT_EQ(writer->writes(), 1u);
  // The kernel refuses an unaligned position: the errno comes back.
  const absl::Status refused =
      writer->Write(fd, path_, 512 + 1, absl::MakeConstSpan(buffer.data(), block));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kInvalidArgument,
                                HasSubstr("direct write")));
  EXPECT_EQ(StatusErrno(refused), EINVAL);
  close(fd);
  // A descriptor that is not open for writing.
  const int read_only = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(read_only, 0);
  EXPECT_EQ(StatusErrno(writer->Write(read_only, path_, 0,
                                      absl::MakeConstSpan(buffer.data(), block))),
            EBADF);
  close(read_only);
  EXPECT_EQ(ReadBack(), std::string(block, 'z'));
}

// Direct files opened one after another from one pool write through one
// context: each gives it back when closed, and the next takes it.
TEST_F(DirectIoTest, DirectFilesOfOnePoolTakeTurnsWithOneContext) {
  file_.reset();
  auto contexts = std::make_shared<AioContextPool>(1);
  size_t block = 0;
  for (char fill = 'a'; fill <= 'e'; ++fill) {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<DirectFile> file,
                         env_->OpenDirectFile(path_, contexts));
    block = file->alignment();
    AlignedBuffer buffer(block, block);
    std::memset(buffer.data(), fill, block);
    ASSERT_OK(file->WriteDurably(0, absl::MakeConstSpan(buffer.data(), block)));
    EXPECT_EQ(contexts->idle(), 0u);  // in use while the file is open
  }
  EXPECT_EQ(contexts->created(), 1u);
  EXPECT_EQ(contexts->idle(), 1u);
  EXPECT_EQ(ReadBack(), std::string(block, 'e'));
  // Two open at once: the second needs a context of its own, and only one
  // of them is kept once both are closed.
  {
    ASSERT_OK_AND_ASSIGN(auto first, env_->OpenDirectFile(path_, contexts));
    ASSERT_OK_AND_ASSIGN(auto second, env_->OpenDirectFile(path_, contexts));
    EXPECT_EQ(contexts->created(), 2u);
  }
  EXPECT_EQ(contexts->idle(), 1u);
}

}  // namespace
}  // namespace shiplog
