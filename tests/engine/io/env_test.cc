#include "engine/io/env.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "engine/status/errno_status.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::StatusIs;
using ::shiplog::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

TEST(PosixEnvTest, WriteAtThenReadAtRoundTrips) {
  TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK_AND_ASSIGN(auto file,
                       env->OpenFile(dir.Join("f"), OpenMode::kCreate));
  ASSERT_OK(file->WriteAt(0, "hello"));
  ASSERT_OK(file->WriteAt(5, " world"));
  std::string buffer(11, '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, file->ReadAt(0, absl::MakeSpan(buffer)));
  EXPECT_EQ(n, 11u);
  EXPECT_EQ(buffer, "hello world");
  ASSERT_OK_AND_ASSIGN(uint64_t size, file->Size());
  EXPECT_EQ(size, 11u);
}

TEST(PosixEnvTest, ReadAtIsShortOnlyAtEndOfFile) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(
      auto file, Env::Default()->OpenFile(dir.Join("f"), OpenMode::kCreate));
  ASSERT_OK(file->WriteAt(0, "abc"));
  std::string buffer(10, '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, file->ReadAt(1, absl::MakeSpan(buffer)));
  EXPECT_EQ(n, 2u);
  EXPECT_THAT(ReadFully(*file, 1, absl::MakeSpan(buffer)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("ends after 2")));
}

TEST(PosixEnvTest, OpenMissingFileIsNotFound) {
  TempDir dir;
  EXPECT_THAT(
      Env::Default()->OpenFile(dir.Join("missing"), OpenMode::kReadOnly),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing")));
}

TEST(PosixEnvTest, CreateExclusiveRefusesExistingFile) {
  TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK(env->OpenFile(dir.Join("f"), OpenMode::kCreate));
  EXPECT_THAT(env->OpenFile(dir.Join("f"), OpenMode::kCreateExclusive),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("f")));
}

TEST(PosixEnvTest, TruncateShrinksAndExtendsWithZeros) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(
      auto file, Env::Default()->OpenFile(dir.Join("f"), OpenMode::kCreate));
  ASSERT_OK(file->WriteAt(0, "abcdef"));
  ASSERT_OK(file->Truncate(2));
  ASSERT_OK(file->Truncate(4));
  std::string buffer(4, 'x');
  ASSERT_OK(ReadFully(*file, 0, absl::MakeSpan(buffer)));
  EXPECT_EQ(buffer, std::string("ab\0\0", 4));
}

TEST(PosixEnvTest, MapFileSeesWritesThroughTheFile) {
  TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK_AND_ASSIGN(auto file,
                       env->OpenFile(dir.Join("f"), OpenMode::kCreate));
  ASSERT_OK(file->Truncate(4096));
  ASSERT_OK_AND_ASSIGN(Mapping mapping, env->MapFile(*file, 4096, true));
  ASSERT_OK(file->WriteAt(10, "xyz"));
  EXPECT_EQ(std::string(mapping.data() + 10, 3), "xyz");
  mapping.data()[0] = 'Q';
  std::string first(1, '\0');
  ASSERT_OK(ReadFully(*file, 0, absl::MakeSpan(first)));
  EXPECT_EQ(first, "Q");
}

TEST(PosixEnvTest, MappingOutlivesItsFileAndMovesOwnership) {
  TempDir dir;
  Env* env = Env::Default();
  Mapping moved;
  {
    ASSERT_OK_AND_ASSIGN(auto file,
                         env->OpenFile(dir.Join("f"), OpenMode::kCreate));
    ASSERT_OK(file->WriteAt(0, "data"));
    ASSERT_OK_AND_ASSIGN(Mapping mapping, env->MapFile(*file, 4, false));
    moved = std::move(mapping);
    EXPECT_TRUE(mapping.empty());
  }
  EXPECT_EQ(std::string(moved.data(), 4), "data");
}

TEST(PosixEnvTest, ListDirNamesEntriesWithoutDots) {
  TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK(env->CreateDir(dir.Join("sub")));
  ASSERT_OK(env->OpenFile(dir.Join("a"), OpenMode::kCreate));
  ASSERT_OK_AND_ASSIGN(auto names, env->ListDir(dir.path()));
  EXPECT_THAT(names, UnorderedElementsAre("sub", "a"));
  ASSERT_OK_AND_ASSIGN(FileInfo info, env->Stat(dir.Join("sub")));
  EXPECT_TRUE(info.is_directory);
  EXPECT_THAT(env->CreateDir(dir.Join("sub")),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("sub")));
}

TEST(PosixEnvTest, SecondLockOnSameFileFailsUntilReleased) {
  TempDir dir;
  Env* env = Env::Default();
  const std::string path = dir.Join("LOCK");
  {
    ASSERT_OK_AND_ASSIGN(auto lock, env->LockFile(path));
    EXPECT_THAT(env->LockFile(path),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr("locked by another writer (pid ")));
  }
  EXPECT_OK(env->LockFile(path));
}

TEST(PosixEnvTest, WriteFileAtomicallyReplacesContents) {
  TempDir dir;
  Env* env = Env::Default();
  const std::string path = dir.Join("checkpoint");
  ASSERT_OK(WriteFileAtomically(env, path, "first version\n"));
  ASSERT_OK(WriteFileAtomically(env, path, "v2\n"));
  ASSERT_OK_AND_ASSIGN(std::string contents, ReadSmallFile(env, path));
  EXPECT_EQ(contents, "v2\n");
  ASSERT_OK_AND_ASSIGN(auto names, env->ListDir(dir.path()));
  EXPECT_THAT(names, UnorderedElementsAre("checkpoint"));
}

TEST(ErrnoStatusTest, DiskFullIsDistinctAndKeepsErrno) {
  const absl::Status full = ErrnoToStatus(ENOSPC, "write x.log");
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(IsDiskFull(full));
  EXPECT_EQ(StatusErrno(full), ENOSPC);
  EXPECT_THAT(std::string(full.message()),
              HasSubstr("write x.log: No space left on device (errno 28)"));

  const absl::Status io = ErrnoToStatus(EIO, "fdatasync x.log");
  EXPECT_EQ(io.code(), absl::StatusCode::kInternal);
  EXPECT_FALSE(IsDiskFull(io));
  EXPECT_EQ(StatusErrno(io), EIO);
  EXPECT_EQ(StatusErrno(absl::InternalError("no errno")), 0);
}

TEST(PosixEnvTest, OpenForDirectReadReopensTheSameFileReadOnlyEvenUnlinked) {
  TempDir dir;
  Env* env = Env::Default();
  ASSERT_OK_AND_ASSIGN(auto file,
                       env->OpenFile(dir.Join("f"), OpenMode::kCreate));
  ASSERT_OK(env->RemoveFile(dir.Join("f")));
  absl::StatusOr<std::unique_ptr<File>> direct = env->OpenForDirectRead(*file);
  if (absl::IsInvalidArgument(direct.status())) {
    GTEST_SKIP() << "no O_DIRECT here: " << direct.status();
  }
  ASSERT_OK(direct);
  struct stat original, reopened;
  ASSERT_EQ(fstat(file->fd(), &original), 0);
  ASSERT_EQ(fstat((*direct)->fd(), &reopened), 0);
  EXPECT_EQ(original.st_ino, reopened.st_ino);
  EXPECT_EQ(original.st_dev, reopened.st_dev);
  const int flags = fcntl((*direct)->fd(), F_GETFL);
  EXPECT_EQ(flags & O_ACCMODE, O_RDONLY);
  EXPECT_NE(flags & O_DIRECT, 0);
  EXPECT_EQ((*direct)->path(), file->path());
}

}  // namespace
}  // namespace shiplog
