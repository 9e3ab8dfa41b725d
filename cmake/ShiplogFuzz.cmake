# SHIPLOG_FUZZ: the libFuzzer targets of tests/fuzz. libFuzzer is clang's,
# so the option needs clang. Every target of the tree is compiled with
# -fsanitize=fuzzer-no-link, so the engine, the C ABI's shared library and
# the Kafka server report coverage to the fuzzer; only the fuzz targets
# themselves link libFuzzer (-fsanitize=fuzzer, tests/fuzz/CMakeLists.txt).
# The other programs of the tree get the coverage callbacks from the
# sanitizer runtime and run as usual.
if(SHIPLOG_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SHIPLOG_FUZZ needs clang (libFuzzer); configure "
      "with -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_C_COMPILER=clang-14")
  endif()
  if(NOT SHIPLOG_BUILD_TESTS)
    message(FATAL_ERROR "SHIPLOG_FUZZ needs SHIPLOG_BUILD_TESTS")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
