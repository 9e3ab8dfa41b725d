# Third-party dependencies, all from Debian packages (see ./dev).
find_package(Threads REQUIRED)
find_package(absl REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# libaio (libaio-dev): Linux native AIO, for direct (O_DIRECT) reads of cold
# segments and durable direct appends. It ships no pkg-config file or CMake
# package.
find_path(LIBAIO_INCLUDE_DIR libaio.h REQUIRED)
find_library(LIBAIO_LIBRARY aio REQUIRED)
add_library(LibAio::LibAio UNKNOWN IMPORTED)
set_target_properties(LibAio::LibAio PROPERTIES
  IMPORTED_LOCATION ${LIBAIO_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${LIBAIO_INCLUDE_DIR})

if(SHIPLOG_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(SHIPLOG_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()
