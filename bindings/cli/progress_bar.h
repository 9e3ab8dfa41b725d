// ProgressBar: one line on stderr, redrawn in place as a long command
// advances (shiplog bench, backup, verify).
//
// Thread-safety: not thread-safe; one per command.
#ifndef SHIPLOG_BINDINGS_CLI_PROGRESS_BAR_H_
#define SHIPLOG_BINDINGS_CLI_PROGRESS_BAR_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace shiplog::cli {

// True when stderr is a terminal: where a progress bar goes by default (a
// log file or a pipe gets nothing).
bool StderrIsTerminal();

class ProgressBar {
 public:
  // Draws nothing unless `enabled`.
  explicit ProgressBar(bool enabled = StderrIsTerminal()) : enabled_(enabled) {}
  ~ProgressBar() { Clear(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Redraws the bar at done/total with `phase` after it, when either
  // changed.
  void Update(absl::string_view phase, int64_t done, int64_t total);
  // Erases the bar, so that what follows starts on a clean line.
  void Clear();

 private:
  const bool enabled_;
  bool drawn_ = false;
  int64_t percent_ = -1;
  std::string phase_;
};

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_PROGRESS_BAR_H_
