#include "engine/index/index_file.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/status/errno_status.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

struct ExistingIndexFile {
  std::unique_ptr<File> file;
  uint64_t size;
};

// Opens an index file read-only; kDataLoss unless it holds whole entries.
absl::StatusOr<ExistingIndexFile> OpenWholeEntries(Env* env,
                                                   const std::string& path,
                                                   size_t entry_size) {
  ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                   env->OpenFile(path, OpenMode::kReadOnly));
  ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  if (size % entry_size != 0) {
    return absl::DataLossError(absl::StrCat(path, ": size ", size,
                                            " is not a multiple of the ",
                                            entry_size, "-byte entry size"));
  }
  return ExistingIndexFile{std::move(file), size};
}

// Replaces `path`, when a hard link (a backup's) shares it, with a copy of
// its first `keep_bytes` holding only this name, so that appends and
// trims never reach the other names. An index is a cache: a crash before
// the rename leaves the shared file, which holds the same entries.
absl::Status UnshareIfLinked(Env* env, const std::string& path,
                             uint64_t keep_bytes) {
  absl::StatusOr<FileInfo> info = env->Stat(path);
  if (absl::IsNotFound(info.status())) return absl::OkStatus();
  RETURN_IF_ERROR(info.status());
  if (info->hard_links <= 1) return absl::OkStatus();
  if (keep_bytes == 0) return env->RemoveFile(path);
  std::string kept(keep_bytes, '\0');
  {
    ASSIGN_OR_RETURN(std::unique_ptr<File> shared,
                     env->OpenFile(path, OpenMode::kReadOnly));
    RETURN_IF_ERROR(ReadFully(*shared, 0, absl::MakeSpan(kept)));
  }
  const std::string temporary = absl::StrCat(path, kTemporaryFileSuffix);
  {
    ASSIGN_OR_RETURN(std::unique_ptr<File> copy,
                     env->OpenFile(temporary, OpenMode::kCreate));
    RETURN_IF_ERROR(copy->Truncate(0));
    RETURN_IF_ERROR(copy->WriteAt(0, kept));
    RETURN_IF_ERROR(copy->Sync());
  }
  return env->RenameFile(temporary, path);
}

}  // namespace

IndexFile::IndexFile(std::unique_ptr<File> file, Mapping mapping,
                     size_t entry_size, size_t max_entries, size_t entries,
                     bool writable)
    : file_(std::move(file)),
      mapping_(std::move(mapping)),
      entry_size_(entry_size),
      warm_entries_(kWarmSectionBytes / entry_size),
      max_entries_(max_entries),
      entries_(entries),
      writable_(writable) {}

absl::StatusOr<std::unique_ptr<IndexFile>> IndexFile::OpenForAppend(
    Env* env, const std::string& path, size_t entry_size, uint64_t max_bytes,
    size_t valid_entries) {
  const size_t max_entries = max_bytes / entry_size;
  if (max_entries < 2 || max_entries < valid_entries) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": max index size ", max_bytes, " holds ", max_entries,
        " entries of ", entry_size, " bytes; need at least ",
        std::max<size_t>(2, valid_entries)));
  }
  RETURN_IF_ERROR(UnshareIfLinked(env, path, valid_entries * entry_size));
  ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                   env->OpenFile(path, OpenMode::kCreate));
  const uint64_t length = max_entries * entry_size;
  RETURN_IF_ERROR(file->Truncate(length));
  ASSIGN_OR_RETURN(Mapping mapping, env->MapFile(*file, length, true));
  // The preallocated tail is a hole. Without this advice the first write
  // fault reads ahead around it, so a new segment's first entry pulls
  // megabytes of zero pages into the page cache (up to the whole 10 MiB, in
  // large folios: about 20% of append time in append_bench); with it each
  // page is faulted in alone as entries reach it. Only advice: ignoring a
  // failure costs speed, never correctness.
  (void)madvise(mapping.data(), mapping.length(), MADV_RANDOM);
  return std::unique_ptr<IndexFile>(
      new IndexFile(std::move(file), std::move(mapping), entry_size,
                    max_entries, valid_entries, true));
}

absl::StatusOr<std::unique_ptr<IndexFile>> IndexFile::OpenReadOnly(
    Env* env, const std::string& path, size_t entry_size) {
  ASSIGN_OR_RETURN(ExistingIndexFile existing,
                   OpenWholeEntries(env, path, entry_size));
  ASSIGN_OR_RETURN(Mapping mapping,
                   env->MapFile(*existing.file, existing.size, false));
  const size_t entries = existing.size / entry_size;
  // A mapping outlives its descriptor: a closed segment's index costs a
  // mapping but no descriptor (the segment cache counts both).
  return std::unique_ptr<IndexFile>(new IndexFile(
      nullptr, std::move(mapping), entry_size, entries, entries, false));
}

absl::StatusOr<std::unique_ptr<IndexFile>> IndexFile::ReadSnapshot(
    Env* env, const std::string& path, size_t entry_size) {
  ASSIGN_OR_RETURN(const ExistingIndexFile existing,
                   OpenWholeEntries(env, path, entry_size));
  ASSIGN_OR_RETURN(Mapping mapping, env->MapAnonymous(existing.size));
  ASSIGN_OR_RETURN(
      const size_t read,
      existing.file->ReadAt(0, absl::MakeSpan(mapping.data(), existing.size)));
  const size_t entries = read / entry_size;
  return std::unique_ptr<IndexFile>(new IndexFile(
      nullptr, std::move(mapping), entry_size, entries, entries, false));
}

absl::StatusOr<std::unique_ptr<IndexFile>> IndexFile::InMemory(
    Env* env, size_t entry_size, uint64_t max_bytes) {
  const size_t max_entries = max_bytes / entry_size;
  if (max_entries < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("max index size ", max_bytes, " holds fewer than two ",
                     entry_size, "-byte entries"));
  }
  ASSIGN_OR_RETURN(Mapping mapping,
                   env->MapAnonymous(max_entries * entry_size));
  return std::unique_ptr<IndexFile>(new IndexFile(
      nullptr, std::move(mapping), entry_size, max_entries, 0, true));
}

absl::Status IndexFile::Append(const char* bytes) {
  const size_t count = entries_.load(std::memory_order_relaxed);
  if (!writable_) {
    return absl::FailedPreconditionError(absl::StrCat(
        file_ ? file_->path() : "index", ": index is closed for appends"));
  }
  if (count >= max_entries_) {
    return absl::FailedPreconditionError(
        absl::StrCat(file_ ? file_->path() : "index", ": index is full (",
                     max_entries_, " entries)"));
  }
  std::memcpy(mapping_.data() + count * entry_size_, bytes, entry_size_);
  entries_.store(count + 1, std::memory_order_release);
  return absl::OkStatus();
}

void IndexFile::TruncateToEntries(size_t slot) {
  if (slot < entries_.load(std::memory_order_relaxed)) {
    entries_.store(slot, std::memory_order_release);
  }
}

absl::Status IndexFile::Trim() {
  writable_ = false;
  if (file_ == nullptr) return absl::OkStatus();
  return file_->Truncate(entries_.load(std::memory_order_relaxed) *
                         entry_size_);
}

absl::Status IndexFile::Flush() {
  if (file_ == nullptr) return absl::OkStatus();
  const size_t used = entries_.load(std::memory_order_relaxed) * entry_size_;
  if (used != 0 && mapping_.length() != 0 &&
      msync(mapping_.data(), std::min(used, mapping_.length()), MS_SYNC) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("msync ", file_->path()));
  }
  return file_->Sync();
}

}  // namespace shiplog
