// ScratchDir: a fresh directory for one fuzz input, removed with its
// contents when destroyed, so every run starts from nothing and leaves
// nothing behind. It lives under /dev/shm when there is one: a tmpfs makes
// the engine's fdatasyncs free, so runs are not bound by the disk.
//
// Thread-safety: plain value; one thread.
#ifndef SHIPLOG_TESTS_FUZZ_SCRATCH_DIR_H_
#define SHIPLOG_TESTS_FUZZ_SCRATCH_DIR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace shiplog::fuzz {

class ScratchDir {
 public:
  // Aborts if no directory can be made: the target cannot run at all.
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  // "<path>/<name>".
  std::string Join(absl::string_view name) const;

 private:
  std::string path_;
};

// Writes `contents` to `path`, creating or replacing the file. Aborts on
// failure (a scratch directory that cannot be written is no test).
void WriteFileOrDie(const std::string& path, absl::string_view contents);

}  // namespace shiplog::fuzz

#endif  // SHIPLOG_TESTS_FUZZ_SCRATCH_DIR_H_
