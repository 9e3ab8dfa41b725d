// Progress of a long store-wide task (a backup, a verification), for
// progress bars.
//
// Thread-safety: the callback runs on the thread that called the task,
// never while the task holds an engine lock, so it may call back into the
// engine.
#ifndef SHIPLOG_ENGINE_STORE_PROGRESS_H_
#define SHIPLOG_ENGINE_STORE_PROGRESS_H_

#include <cstdint>
#include <functional>

#include "absl/strings/string_view.h"

namespace shiplog {

struct Progress {
  // The log being worked on; empty before the first and after the last.
  absl::string_view log;
  int64_t logs_done = 0;
  int64_t logs_total = 0;
  // bytes_total is known when the task starts, from the sizes then; it
  // becomes exact in the last call, where bytes_done == bytes_total.
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
};

// Called as the task advances: at least once per log and once at the end.
using ProgressCallback = std::function<void(const Progress&)>;

}  // namespace shiplog

#endif  // SHIPLOG_ENGINE_STORE_PROGRESS_H_
