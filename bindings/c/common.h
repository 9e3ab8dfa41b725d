/* What the examples share (libgit2's examples/common.h is the model):
 * numbers from the command line, and libshiplog's errors reported the same
 * way everywhere. */
#ifndef SHIPLOG_EXAMPLES_COMMON_H
#define SHIPLOG_EXAMPLES_COMMON_H

#include "shiplog.h"

/* Parses `text`, a whole decimal number from `min` to `max`, into `*out`.
 * Returns 0, or -1 (leaving `*out` alone) for anything else. */
int parse_integer(const char* text, long long min, long long max,
                  long long* out);

/* Prints "PROGRAM: WHAT: STATUS: MESSAGE" on stderr: what failed, the
 * status's name (shiplog_status_str) and the library's account of it
 * (shiplog_last_error). */
void report_error(const char* program, const char* what, int status);

/* Opens log `name` of the store in `directory` to read it: the store
 * read-only (no writer lock, so a producer may write it meanwhile; the log
 * is seen as it was when opened), the log never created. Returns 0, or -1
 * after report_error; either way the caller frees `*store` and `*log`
 * (NULL when not opened). */
int open_log_to_read(const char* program, const char* directory,
                     const char* name, shiplog_store** store,
                     shiplog_log** log);

#endif /* SHIPLOG_EXAMPLES_COMMON_H */
