// Segment: zero-copy access to the .log (its descriptor for sendfile, a
// shared mapping for in-process views) and the truncation that keeps both
// safe.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/segment/segment.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

// Mappings grow in steps this large, so a reader following the active
// segment remaps rarely. Pages past the end of the file are never touched.
constexpr uint64_t kMappingGranularityBytes = uint64_t{64} << 20;
constexpr size_t kCopyBufferBytes = size_t{1} << 20;

}  // namespace

absl::StatusOr<std::shared_ptr<const File>> Segment::LogFile() const {
  ASSIGN_OR_RETURN(Loaded loaded, Load());
  return std::shared_ptr<const File>(std::move(loaded.log));
}

absl::StatusOr<std::unique_ptr<File>> Segment::OpenLogFileForDirectRead()
    const {
  ASSIGN_OR_RETURN(const Loaded loaded, Load());
  return env_->OpenForDirectRead(*loaded.log);
}

absl::StatusOr<std::shared_ptr<const Mapping>> Segment::MapForReading(
    uint64_t end) const {
  std::shared_ptr<const Mapping> mapping;
  bool idle = false;
  SegmentUsage usage;
  {
    MutexLock lock(&load_mu_);
    ASSIGN_OR_RETURN(mapping, MapForReadingLocked(end));
    idle = IdleLocked();
    if (idle) usage = UsageLocked();
  }
  if (idle) ReportToCache(idle, usage);
  return mapping;
}

absl::StatusOr<std::shared_ptr<const Mapping>> Segment::MapForReadingLocked(
    uint64_t end) const {
  // Checked under the lock: a truncation publishes the smaller size before
  // it takes the lock to cut the file.
  if (end > size()) {
    return absl::OutOfRangeError(absl::StrCat(log_path_, ": bytes up to ", end,
                                              " are past the segment's end (",
                                              size(), ")"));
  }
  RETURN_IF_ERROR(OpenLogFileLocked());
  if (log_mapping_ != nullptr && log_mapping_->length() >= end) {
    return log_mapping_;
  }
  if (log_mapping_ != nullptr) {
    std::erase_if(older_mappings_,
                  [](const std::weak_ptr<const Mapping>& mapping) {
                    return mapping.expired();
                  });
    older_mappings_.push_back(log_mapping_);
  }
  const uint64_t length =
      (std::max<uint64_t>(end, 1) + kMappingGranularityBytes - 1) /
      kMappingGranularityBytes * kMappingGranularityBytes;
  ASSIGN_OR_RETURN(Mapping mapping,
                   env_->MapFile(*CurrentLogFileLocked(), length,
                                 /*writable=*/false));
  log_mapping_ = std::make_shared<const Mapping>(std::move(mapping));
  return log_mapping_;
}

bool Segment::MappedByHoldersLocked() const {
  if (log_mapping_ != nullptr && log_mapping_.use_count() > 1) return true;
  return std::any_of(older_mappings_.begin(), older_mappings_.end(),
                     [](const std::weak_ptr<const Mapping>& mapping) {
                       return !mapping.expired();
                     });
}

absl::Status Segment::CutLogFileLocked(uint64_t position) const {
  File* current = CurrentLogFileLocked();
  const bool mapped = MappedByHoldersLocked();
  ASSIGN_OR_RETURN(const FileInfo info, env_->Stat(log_path_));
  const bool shared = info.hard_links > 1;
  // Either way the cached mapping shows bytes that are gone.
  log_mapping_.reset();
  older_mappings_.clear();
  if (!mapped && !shared) {
    RETURN_IF_ERROR(current->Truncate(position));
    return current->Sync();
  }
  // Holders map pages past the cut, and touching a page past the end of a
  // shrunk file is SIGBUS; a hard link (a backup's) must keep every byte.
  // The kept prefix goes to a new file that takes the name; the old one
  // lives on, unlinked or under its other names, until the segment dies.
  const std::string temporary = absl::StrCat(log_path_, kTemporaryFileSuffix);
  if (absl::Status removed = env_->RemoveFile(temporary);
      !removed.ok() && !absl::IsNotFound(removed)) {
    return removed;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<File> replacement,
                   env_->OpenFile(temporary, OpenMode::kCreateExclusive));
  std::vector<char> buffer(
      static_cast<size_t>(std::min<uint64_t>(position, kCopyBufferBytes)));
  for (uint64_t copied = 0; copied < position;) {
    const size_t chunk = static_cast<size_t>(
        std::min<uint64_t>(buffer.size(), position - copied));
    RETURN_IF_ERROR(
        ReadFully(*current, copied, absl::MakeSpan(buffer.data(), chunk)));
    RETURN_IF_ERROR(
        replacement->WriteAt(copied, absl::string_view(buffer.data(), chunk)));
    copied += chunk;
  }
  RETURN_IF_ERROR(replacement->Sync());
  RETURN_IF_ERROR(env_->RenameFile(temporary, log_path_));
  RETURN_IF_ERROR(env_->SyncDir(directory_));
  InstallLogFileLocked(std::move(replacement));
  return absl::OkStatus();
}

}  // namespace shiplog
