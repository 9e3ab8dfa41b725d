// Backup: a consistent copy of a store, taken while writers run, that
// opens as a store (BACKUP.md).
//
// Each log is copied as it was at one moment, up to an offset below which
// every byte is durable: closed segments become hard links (copies where
// the destination is on another file system), the segment holding that
// offset is copied up to it, and the checkpoints record it. Logs are
// consistent one by one, not with each other.
//
// Thread-safety: BackupStore may run on any thread, beside the store's
// writers and readers; writers to a log wait only while its segments are
// linked, never while bytes are copied.
#ifndef SHIPLOG_ENGINE_STORE_BACKUP_H_
#define SHIPLOG_ENGINE_STORE_BACKUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/store/progress.h"
#include "engine/store/store.h"

namespace shiplog {

struct BackupOptions {
  ProgressCallback progress;  // may be empty
};

// One log in the backup: offsets [start_offset, end_offset).
struct LogBackup {
  std::string name;
  int64_t start_offset = 0;
  int64_t end_offset = 0;
  int segments_linked = 0;
  int segments_copied = 0;  // across file systems, and the last one
};

struct BackupReport {
  std::vector<LogBackup> logs;  // sorted by name
  int64_t segments_linked = 0;
  int64_t segments_copied = 0;
  uint64_t bytes_linked = 0;
  uint64_t bytes_copied = 0;
  // What the backup could not take as it would have liked, one line each
  // (a flush that failed, segments retention removed meanwhile).
  std::vector<std::string> notes;
};

// Copies `store` into `destination`, which must not exist or be an empty
// directory, and must not lie inside the store. The copy is built in
// `<destination>.partial-<pid>`, every file and directory fsync'd, then
// renamed to `destination`: after a crash `destination` is either absent
// or complete. On error the partial directory is removed.
//
// A writable store (this process is the writer) flushes each log and
// copies it up to its recovery point, linking under the log's writer lock.
// A read-only store (the writer, if any, is another process) copies what
// its open found, fdatasyncs those bytes in the source first, and checks
// that each file it links or copies still holds them; a log truncated
// meanwhile fails the backup with kAborted ("run it again").
//
// Errors: kAlreadyExists (destination not empty, or a partial directory
// left by a backup that was cut short), kInvalidArgument (destination
// inside the store), kAborted, or the I/O error.
absl::StatusOr<BackupReport> BackupStore(Store& store,
                                         const std::string& destination,
                                         const BackupOptions& options = {});

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STORE_BACKUP_H_
