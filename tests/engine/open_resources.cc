#include "tests/engine/open_resources.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace shiplog::testing {
namespace {

bool Under(const std::string& path, const std::string& directory) {
  return path == directory || absl::StartsWith(path, absl::StrCat(directory, "/"));
}

}  // namespace

std::vector<std::string> FilesOpenUnder(const std::string& directory) {
  std::vector<std::string> files;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/self/fd", error)) {
    char target[4096];
    const ssize_t length = readlink(entry.path().c_str(), target, sizeof(target));
    if (length <= 0) continue;  // the iterator's own, closed meanwhile
    const std::string path(target, static_cast<size_t>(length));
    if (Under(path, directory)) files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> MappingsOfFilesUnder(const std::string& directory) {
  std::vector<std::string> mappings;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // The path is the sixth field and may contain spaces: it starts at the
    // first '/' after the inode.
    const size_t slash = line.find('/');
    if (slash != std::string::npos && Under(line.substr(slash), directory)) {
      mappings.push_back(line);
    }
  }
  return mappings;
}

ScopedFileLimit::ScopedFileLimit(rlim_t soft_limit) {
  EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &saved_), 0);
  rlimit lowered = saved_;
  lowered.rlim_cur = soft_limit;
  EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
}

ScopedFileLimit::~ScopedFileLimit() {
  EXPECT_EQ(setrlimit(RLIMIT_NOFILE, &saved_), 0);
}

int ThreadCount() {
  int threads = 0;
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task", error)) {
    (void)entry;
    ++threads;
  }
  return threads;
}

int AioContextCount() {
  int contexts = 0;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (absl::StrContains(line, "/[aio]")) ++contexts;
  }
  return contexts;
}

}  // namespace shiplog::testing
