# Third-party dependencies, all from Debian packages (see ./dev).
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# libaio (libaio-dev): Linux native AIO, for the direct (O_DIRECT) reads of
# cold segments. It ships no pkg-config file.
find_path(LIBAIO_INCLUDE_DIR libaio.h REQUIRED)
find_library(LIBAIO_LIBRARY aio REQUIRED)
add_library(shiplog_libaio INTERFACE IMPORTED)
target_include_directories(shiplog_libaio INTERFACE ${LIBAIO_INCLUDE_DIR})
target_link_libraries(shiplog_libaio INTERFACE ${LIBAIO_LIBRARY})

if(SHIPLOG_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SHIPLOG_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
