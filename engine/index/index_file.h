// IndexFile: a file of fixed-size entries mapped into memory, the common
// core of the offset index and the time index (Kafka's AbstractIndex). The
// entry layouts live in INDEX.md.
//
// Thread-safety: one writer at a time (Append, TruncateToEntries, Trim,
// Flush), serialized by the owner; any number of concurrent readers of
// entries below entries(). The writer stores an entry's bytes before it
// publishes the new count (release/acquire), so a reader never sees a
// half-written entry; an owner keeping an IndexSummary of the entries
// updates it before Append, for the same reason.
#ifndef SHIPLOG_ENGINE_INDEX_INDEX_FILE_H_
#define SHIPLOG_ENGINE_INDEX_INDEX_FILE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/index/index_summary.h"
#include "engine/io/env.h"
#include "engine/io/mapping.h"

namespace shiplog {

class IndexFile {
 public:
  // Opens `path` for appending (creating it if missing): the file is
  // extended to `max_bytes` rounded down to whole entries and mapped
  // read-write. The first `valid_entries` entries are kept; the caller knows
  // them to be good (from a trimmed file or a rebuild).
  // kInvalidArgument if max_bytes holds fewer than two entries or fewer
  // than valid_entries.
  static absl::StatusOr<std::unique_ptr<IndexFile>> OpenForAppend(
      Env* env, const std::string& path, size_t entry_size, uint64_t max_bytes,
      size_t valid_entries);

  // Opens a trimmed index read-only; every entry in the file counts. Only
  // the mapping is kept: the descriptor is closed once the file is mapped.
  // kDataLoss if the file size is not a whole number of entries.
  static absl::StatusOr<std::unique_ptr<IndexFile>> OpenReadOnly(
      Env* env, const std::string& path, size_t entry_size);

  // A copy of the index file's entries in anonymous memory, read with
  // pread. For processes that do not own the store (read-only opens,
  // tools): a writer may shrink the file at any time (trimming on roll or
  // close), and a shared mapping of it would then fault (SIGBUS) on the
  // pages cut off; a copy cannot. Whole entries only: a file that shrinks
  // while it is read yields the entries read. kDataLoss if the size is not
  // a whole number of entries.
  static absl::StatusOr<std::unique_ptr<IndexFile>> ReadSnapshot(
      Env* env, const std::string& path, size_t entry_size);

  // An empty index in anonymous memory, appendable, for stores opened
  // read-only, which rebuild what they cannot trust without writing.
  static absl::StatusOr<std::unique_ptr<IndexFile>> InMemory(
      Env* env, size_t entry_size, uint64_t max_bytes);

  IndexFile(const IndexFile&) = delete;
  IndexFile& operator=(const IndexFile&) = delete;

  size_t entry_size() const { return entry_size_; }
  size_t entries() const { return entries_.load(std::memory_order_acquire); }
  size_t max_entries() const { return max_entries_; }
  bool writable() const { return writable_; }
  // Whether the index keeps a descriptor open (appendable files do, for
  // Trim and Flush) and a mapping (all but empty read-only files).
  bool holds_file() const { return file_ != nullptr; }
  bool mapped() const { return !mapping_.empty(); }
  // The bytes of entry `slot`, which must be below entries().
  const char* entry(size_t slot) const {
    return mapping_.data() + slot * entry_size_;
  }

  // Copies entry_size() bytes from `bytes` into the next slot and publishes
  // it. kFailedPrecondition if the index is full or not writable.
  absl::Status Append(const char* bytes);
  // Forgets every entry from `slot` on.
  void TruncateToEntries(size_t slot);
  // Shrinks the file to its entries (a closed segment's index holds no
  // preallocated space) and stops further appends. The mapping keeps its
  // length, so readers holding it stay safe; only bytes below the new size
  // are ever touched.
  absl::Status Trim();
  // Makes the entries durable: msync of the mapping, fdatasync of the file.
  absl::Status Flush();

  // Largest slot whose key is <= target, or -1 if none, where
  // key_at(slot) is non-decreasing. Kafka's warm-section search: the last
  // 8 KiB of entries, where almost every lookup of a tailing reader lands,
  // are searched first, so those pages stay hot in the page cache and the
  // CPU cache and cold pages are touched only by readers far behind. Below
  // the warm section, `summary`, a summary of the same keys, replaces the
  // binary search when given.
  template <typename Key, typename KeyAt>
  int64_t FindLargestSlotAtMost(
      Key target, const KeyAt& key_at,
      const IndexSummary<std::type_identity_t<Key>>* summary = nullptr) const;

 private:
  static constexpr size_t kWarmSectionBytes = 8192;

  IndexFile(std::unique_ptr<File> file, Mapping mapping, size_t entry_size,
            size_t max_entries, size_t entries, bool writable);

  // Null for in-memory and read-only indexes.
  std::unique_ptr<File> file_;
  Mapping mapping_;
  const size_t entry_size_;
  const size_t warm_entries_;  // kWarmSectionBytes of entries
  const size_t max_entries_;
  std::atomic<size_t> entries_;
  bool writable_;
};

template <typename Key, typename KeyAt>
int64_t IndexFile::FindLargestSlotAtMost(
    Key target, const KeyAt& key_at,
    const IndexSummary<std::type_identity_t<Key>>* summary) const {
  const size_t count = entries();
  if (count == 0) return -1;
  const size_t first_hot =
      count - 1 > warm_entries_ ? count - 1 - warm_entries_ : 0;
  if (key_at(first_hot) <= target) {
    return static_cast<int64_t>(
        index_internal::SearchAtMost(target, key_at, first_hot, count));
  }
  if (key_at(0) > target) return -1;
  if (summary != nullptr) {
    return summary->FindLargestSlotAtMost(target, count, key_at);
  }
  return static_cast<int64_t>(
      index_internal::SearchAtMost(target, key_at, 0, first_hot));
}

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_INDEX_INDEX_FILE_H_
