// A scratch directory for a benchmark, removed with its contents.
#ifndef SHIPLOG_TESTS_BENCH_BENCH_DIR_H_
#define SHIPLOG_TESTS_BENCH_BENCH_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace shiplog::bench {

class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ =
        std::string(base && *base ? base : "/tmp") + "/shiplog-bench-XXXXXX";
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~BenchDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace shiplog::bench

#endif  // SHIPLOG_TESTS_BENCH_BENCH_DIR_H_
