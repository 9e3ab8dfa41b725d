# Third-party dependencies, all from Debian packages (see ./dev).
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)

if(SHIPLOG_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SHIPLOG_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
