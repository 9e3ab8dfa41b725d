#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "shiplog.h"

int parse_integer(const char* text, long long min, long long max,
                  long long* out) {
  char* end = NULL;
  long long value;
  errno = 0;
  value = strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
    return -1;
  }
  *out = value;
  return 0;
}

void report_error(const char* program, const char* what, int status) {
  fprintf(stderr, "%s: %s: %s: %s\n", program, what, shiplog_status_str(status),
          shiplog_last_error());
}

int open_log_to_read(const char* program, const char* directory,
                     const char* name, shiplog_store** store,
                     shiplog_log** log) {
  shiplog_store_options store_options = SHIPLOG_STORE_OPTIONS_INIT;
  shiplog_log_options log_options = SHIPLOG_LOG_OPTIONS_INIT;
  int status;
  *log = NULL;
  store_options.read_only = 1;
  store_options.maintenance_interval_ms = 0; /* a reader maintains nothing */
  status = shiplog_store_open(store, directory, &store_options);
  if (status != SHIPLOG_OK) {
    report_error(program, "opening the store", status);
    return -1;
  }
  log_options.create_if_missing = 0;
  status = shiplog_log_open(log, *store, name, &log_options);
  if (status != SHIPLOG_OK) {
    report_error(program, "opening the log", status);
    return -1;
  }
  return 0;
}
