/* crash_append STORE LOG RUN BATCHES MODE: appends BATCHES batches through
 * the C ABI, every append durable before it returns (flush.messages=1),
 * and prints "BASE LAST" for each once shiplog_log_append has returned.
 * test_capi_crash.py SIGKILLs it and checks the log.
 *
 * Record i of run RUN (counting from 0 over the whole run) has the value
 * "c.RUN.i." followed by size(i) pattern bytes: 'a' + (i * 7 + k) % 26 for
 * byte k. The Python side makes the same values from the same rules.
 *
 * MODE "torn": every third batch holds 24 records of 256 KiB (6 MiB, a
 * write long enough for a kill to cut); the others one small record.
 * MODE "churn": batches of 1-3 small records into 600-byte segments with
 * retention.bytes 8192, and the store's maintenance thread every
 * millisecond (retention, checkpoints every 5 ms): a kill lands in a roll,
 * a deletion or a checkpoint as often as in an append. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shiplog.h"

#define BIG_RECORD_BYTES (256 * 1024)
#define BIG_BATCH_RECORDS 24
#define MAX_BATCH_RECORDS BIG_BATCH_RECORDS

static int torn;

/* Records in batch `batch` and the size of each one's pattern. */
static int batch_records(long batch) {
  if (torn) return batch % 3 == 2 ? BIG_BATCH_RECORDS : 1;
  return 1 + (int)(batch % 3);
}

static size_t pattern_bytes(long batch, long record) {
  if (torn && batch % 3 == 2) return BIG_RECORD_BYTES;
  return (size_t)(20 + record * 37 % 100);
}

static char* make_value(long run, long record, size_t pattern,
                        size_t* length) {
  char head[64];
  int head_length = snprintf(head, sizeof head, "c.%ld.%ld.", run, record);
  char* value = malloc((size_t)head_length + pattern);
  size_t k;
  if (value == NULL) return NULL;
  memcpy(value, head, (size_t)head_length);
  for (k = 0; k < pattern; ++k) {
    value[head_length + k] = (char)('a' + (record * 7 + (long)k) % 26);
  }
  *length = (size_t)head_length + pattern;
  return value;
}

static int fail(const char* what, int status) {
  fprintf(stderr, "crash_append: %s: %s: %s\n", what,
          shiplog_status_str(status), shiplog_last_error());
  return 1;
}

int main(int argc, char** argv) {
  shiplog_store_options store_options = SHIPLOG_STORE_OPTIONS_INIT;
  shiplog_log_options log_options = SHIPLOG_LOG_OPTIONS_INIT;
  shiplog_store* store = NULL;
  shiplog_log* log = NULL;
  shiplog_record records[MAX_BATCH_RECORDS];
  char* values[MAX_BATCH_RECORDS];
  long run, batches, batch, record = 0;
  int status, i;

  if (argc != 6) {
    fprintf(stderr, "usage: crash_append STORE LOG RUN BATCHES torn|churn\n");
    return 2;
  }
  run = atol(argv[3]);
  batches = atol(argv[4]);
  torn = strcmp(argv[5], "torn") == 0;

  log_options.flush_messages = 1;
  if (torn) {
    log_options.segment_bytes = 64 << 20;
  } else {
    store_options.maintenance_interval_ms = 1;
    store_options.checkpoint_interval_ms = 5;
    log_options.segment_bytes = 600;
    log_options.retention_bytes = 8192;
  }
  status = shiplog_store_open(&store, argv[1], &store_options);
  if (status != SHIPLOG_OK) return fail("opening the store", status);
  status = shiplog_log_open(&log, store, argv[2], &log_options);
  if (status != SHIPLOG_OK) return fail("opening the log", status);

  for (batch = 0; batch < batches; ++batch) {
    shiplog_append_result appended;
    const int count = batch_records(batch);
    for (i = 0; i < count; ++i) {
      size_t length = 0;
      values[i] = make_value(run, record + i, pattern_bytes(batch, record + i),
                             &length);
      if (values[i] == NULL) return fail("out of memory", SHIPLOG_ENOMEM);
      memset(&records[i], 0, sizeof records[i]);
      records[i].timestamp_ms = SHIPLOG_NO_TIMESTAMP;
      records[i].value = values[i];
      records[i].value_len = length;
    }
    status = shiplog_log_append(&appended, log, records, (size_t)count, NULL);
    for (i = 0; i < count; ++i) free(values[i]);
    if (status != SHIPLOG_OK) return fail("appending", status);
    printf("%lld %lld\n", (long long)appended.base_offset,
           (long long)appended.last_offset);
    fflush(stdout);
    record += count;
  }
  shiplog_log_free(log);
  status = shiplog_store_close(store);
  shiplog_store_free(store);
  return status == SHIPLOG_OK ? 0 : fail("closing the store", status);
}
