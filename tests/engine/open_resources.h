// What this process holds open under a directory, read from the kernel:
// the exact check that a store, once closed, left no descriptor and no
// mapping of its files behind, whatever else the process (the test
// framework, the allocator, a sanitizer) opens or maps meanwhile.
#ifndef SHIPLOG_TESTS_ENGINE_OPEN_RESOURCES_H_
#define SHIPLOG_TESTS_ENGINE_OPEN_RESOURCES_H_

#include <sys/resource.h>

#include <string>
#include <vector>

namespace shiplog::testing {

// The targets of /proc/self/fd entries that lie under `directory`
// (unlinked files included, with the kernel's " (deleted)"), sorted.
std::vector<std::string> FilesOpenUnder(const std::string& directory);

// The /proc/self/maps lines of files under `directory`, one per mapping.
std::vector<std::string> MappingsOfFilesUnder(const std::string& directory);

// Lowers RLIMIT_NOFILE's soft limit for the life of the object.
class ScopedFileLimit {
 public:
  explicit ScopedFileLimit(rlim_t soft_limit);
  ~ScopedFileLimit();
  ScopedFileLimit(const ScopedFileLimit&) = delete;
  ScopedFileLimit& operator=(const ScopedFileLimit&) = delete;

 private:
  rlimit saved_;
};

// The threads of this process (/proc/self/task).
int ThreadCount();

// The kernel AIO contexts this process holds: each io_setup maps its ring
// as "/[aio] (deleted)" until io_destroy.
int AioContextCount();

}  // namespace shiplog::testing

#endif  // SHIPLOG_TESTS_ENGINE_OPEN_RESOURCES_H_
