// FUZZ_CHECK: an invariant of a fuzz target. A failure prints what broke
// and aborts, which libFuzzer reports as a crash and saves the input.
#ifndef SHIPLOG_TESTS_FUZZ_FUZZ_CHECK_H_
#define SHIPLOG_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, ...)                                        \
  do {                                                                    \
    if (!(condition)) {                                                   \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__,    \
                   __LINE__, #condition);                                 \
      std::fprintf(stderr, __VA_ARGS__);                                  \
      std::fputc('\n', stderr);                                           \
      std::abort();                                                       \
    }                                                                     \
  } while (false)

#endif  // SHIPLOG_TESTS_FUZZ_FUZZ_CHECK_H_
