#include "engine/store/backup_destination.h"

#include <unistd.h>

#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

bool SameFile(const FileInfo& a, const FileInfo& b) {
  return a.device == b.device && a.inode == b.inode;
}

// `path` without trailing slashes ("/" stays "/").
std::string TrimTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// The directory holding `path`, lexically: "a/b" -> "a", "b" -> ".".
std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// kInvalidArgument if `directory` is the store or lies inside it. The
// kernel resolves each "/.." (symbolic links and "." included), so the
// walk up from `directory` meets the store's inode exactly when the store
// is one of its ancestors.
absl::Status CheckOutsideStore(Env* env, const FileInfo& store,
                               const std::string& store_path,
                               const std::string& directory,
                               const std::string& destination) {
  std::string ancestor = directory;
  std::optional<FileInfo> previous;
  while (true) {
    ASSIGN_OR_RETURN(const FileInfo info, env->Stat(ancestor));
    if (SameFile(info, store)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot back up store ", store_path, " into ",
                       destination, ", which is inside it"));
    }
    if (previous.has_value() && SameFile(info, *previous)) break;  // at "/"
    previous = info;
    ancestor = absl::StrCat(ancestor, "/..");
  }
  return absl::OkStatus();
}

void RemoveTree(Env* env, const std::string& path) {
  absl::StatusOr<std::vector<std::string>> names = env->ListDir(path);
  if (names.ok()) {
    for (const std::string& name : *names) {
      const std::string child = JoinPath(path, name);
      absl::StatusOr<FileInfo> info = env->Stat(child);
      if (info.ok() && info->is_directory) {
        RemoveTree(env, child);
      } else {
        (void)env->RemoveFile(child);
      }
    }
  }
  (void)env->RemoveDir(path);
}

}  // namespace

absl::StatusOr<BackupDestination> BackupDestination::Prepare(
    Env* env, const std::string& store_path, const std::string& destination) {
  if (destination.empty()) {
    return absl::InvalidArgumentError("the backup destination is empty");
  }
  const std::string target = TrimTrailingSlashes(destination);
  const std::string parent = ParentOf(target);
  ASSIGN_OR_RETURN(const FileInfo store, env->Stat(store_path));
  absl::StatusOr<FileInfo> existing = env->Stat(target);
  if (existing.ok()) {
    if (!existing->is_directory) {
      return absl::AlreadyExistsError(absl::StrCat(
          "backup destination ", destination, " exists and is a file"));
    }
    RETURN_IF_ERROR(
        CheckOutsideStore(env, store, store_path, target, destination));
    ASSIGN_OR_RETURN(const std::vector<std::string> names,
                     env->ListDir(target));
    if (!names.empty()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "backup destination ", destination,
          " exists and is not empty: back up into a new directory"));
    }
  } else if (!absl::IsNotFound(existing.status())) {
    return existing.status();
  }
  absl::StatusOr<FileInfo> parent_info = env->Stat(parent);
  if (absl::IsNotFound(parent_info.status())) {
    return absl::NotFoundError(absl::StrCat("cannot back up into ", destination,
                                            ": ", parent, " does not exist"));
  }
  RETURN_IF_ERROR(parent_info.status());
  RETURN_IF_ERROR(
      CheckOutsideStore(env, store, store_path, parent, destination));

  std::string partial = absl::StrCat(target, ".partial-", getpid());
  absl::Status created = env->CreateDir(partial);
  if (absl::IsAlreadyExists(created)) {
    return absl::AlreadyExistsError(absl::StrCat(
        partial,
        " exists: another backup to the same destination is running, or one "
        "was cut short (then remove it)"));
  }
  RETURN_IF_ERROR(created);
  return BackupDestination(env, target, std::move(partial), parent);
}

absl::Status BackupDestination::Publish() {
  RETURN_IF_ERROR(env_->SyncDir(partial_path_));
  RETURN_IF_ERROR(env_->RenameFile(partial_path_, destination_));
  return env_->SyncDir(parent_path_);
}

void BackupDestination::Discard() { RemoveTree(env_, partial_path_); }

}  // namespace shiplog
