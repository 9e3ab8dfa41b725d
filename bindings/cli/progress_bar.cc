#include "bindings/cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace shiplog::cli {

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

void ProgressBar::Update(absl::string_view phase, int64_t done, int64_t total) {
  if (!enabled_) return;
  const int64_t percent =
      total > 0 ? std::clamp<int64_t>(done * 100 / total, 0, 100) : 100;
  if (percent == percent_ && phase == phase_) return;
  percent_ = percent;
  phase_ = std::string(phase);
  constexpr int64_t kWidth = 30;
  const int64_t filled = percent * kWidth / 100;
  const std::string line = absl::StrCat("\r[", std::string(filled, '#'),
                                        std::string(kWidth - filled, ' '), "] ",
                                        percent, "% ", phase, "\033[K");
  std::fputs(line.c_str(), stderr);
  drawn_ = true;
}

void ProgressBar::Clear() {
  if (drawn_) std::fputs("\r\033[K", stderr);
  drawn_ = false;
}

}  // namespace shiplog::cli
