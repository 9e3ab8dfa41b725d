#include "engine/io/env.h"

#include "absl/strings/str_cat.h"
#include "engine/status/status_macros.h"

namespace shiplog {

absl::Status ReadFully(const File& file, uint64_t position,
                       absl::Span<char> dst) {
  ASSIGN_OR_RETURN(const size_t n, file.ReadAt(position, dst));
  if (n != dst.size()) {
    return absl::DataLossError(absl::StrCat(file.path(), ": expected ",
                                            dst.size(), " bytes at position ",
                                            position, ", file ends after ", n));
  }
  return absl::OkStatus();
}

absl::Status Env::LinkFile(const std::string& from, const std::string& to) {
  return absl::UnimplementedError(absl::StrCat("cannot link ", from, " to ", to,
                                               ": this Env has no links"));
}

absl::StatusOr<std::unique_ptr<File>> Env::OpenForDirectRead(
    const File& file) {
  return absl::UnimplementedError(absl::StrCat(
      "cannot open ", file.path(), " for direct reads: this Env has none"));
}

absl::StatusOr<std::unique_ptr<DirectFile>> Env::OpenDirectFile(
    const std::string& path, std::shared_ptr<AioContextPool> /*contexts*/) {
  return absl::UnimplementedError(
      absl::StrCat("cannot open ", path, " for direct writes: this Env has no "
                   "direct I/O"));
}

absl::Status WriteFileAtomically(Env* env, const std::string& path,
                                 absl::string_view contents) {
  const std::string temporary = absl::StrCat(path, kTemporaryFileSuffix);
  {
    ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                     env->OpenFile(temporary, OpenMode::kCreate));
    RETURN_IF_ERROR(file->Truncate(0));
    RETURN_IF_ERROR(file->WriteAt(0, contents));
    RETURN_IF_ERROR(file->Sync());
  }
  RETURN_IF_ERROR(env->RenameFile(temporary, path));
  const size_t slash = path.rfind('/');
  return env->SyncDir(slash == std::string::npos ? "."
                      : slash == 0               ? "/"
                                                 : path.substr(0, slash));
}

absl::StatusOr<std::string> ReadSmallFile(Env* env, const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<File> file,
                   env->OpenFile(path, OpenMode::kReadOnly));
  ASSIGN_OR_RETURN(const uint64_t size, file->Size());
  std::string contents(size, '\0');
  RETURN_IF_ERROR(ReadFully(*file, 0, absl::MakeSpan(contents)));
  return contents;
}

std::string JoinPath(absl::string_view directory, absl::string_view name) {
  if (directory.empty()) return std::string(name);
  if (directory.back() == '/') return absl::StrCat(directory, name);
  return absl::StrCat(directory, "/", name);
}

}  // namespace shiplog
