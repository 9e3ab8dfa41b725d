// BackupDestination: where a backup is built, and the rename that makes it
// the destination only once it is complete (BACKUP.md, "Atomicity").
//
// Thread-safety: a plain value, used by one backup on one thread.
#ifndef SHIPLOG_ENGINE_STORE_BACKUP_DESTINATION_H_
#define SHIPLOG_ENGINE_STORE_BACKUP_DESTINATION_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/io/env.h"

namespace shiplog {

class BackupDestination {
 public:
  // Checks that `destination` does not exist or is an empty directory,
  // and that it is not the store at `store_path` nor inside it; then
  // creates the partial directory `<destination>.partial-<pid>` beside it.
  // kAlreadyExists if the destination holds anything or the partial
  // directory exists (a backup running, or one cut short: remove it);
  // kInvalidArgument for a destination inside the store.
  static absl::StatusOr<BackupDestination> Prepare(
      Env* env, const std::string& store_path, const std::string& destination);

  const std::string& partial_path() const { return partial_path_; }

  // fsyncs the partial directory, renames it to the destination (over an
  // empty directory there) and fsyncs the directory holding both.
  absl::Status Publish();

  // Removes the partial directory and everything in it, as far as it can:
  // what is left is named .partial-<pid> and never opens as the
  // destination.
  void Discard();

 private:
  BackupDestination(Env* env, std::string destination, std::string partial_path,
                    std::string parent_path)
      : env_(env),
        destination_(std::move(destination)),
        partial_path_(std::move(partial_path)),
        parent_path_(std::move(parent_path)) {}

  Env* env_;
  std::string destination_;
  std::string partial_path_;
  std::string parent_path_;
};

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STORE_BACKUP_DESTINATION_H_
