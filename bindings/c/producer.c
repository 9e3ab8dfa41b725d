/* shiplog-producer: appends the lines of stdin to a log, a batch of lines
 * per append, and prints the offsets each append got.
 *
 *   shiplog-producer STORE LOG [--batch N] [--keys] [--flush-every N]
 *
 * --batch N        lines per append (default 100); a last, partial batch
 *                  is appended at the end of the input
 * --keys           split each line at its first ':' into key and value (a
 *                  line without ':' is a record with a null key)
 * --flush-every N  fdatasync (shiplog_log_flush) once N records have been
 *                  appended since the last one, so they survive a crash
 *
 * Prints "FIRST..LAST" on stdout for each append. Exit status: 0 success,
 * 1 an error (one line on stderr), 2 a bad command line. */
#define _POSIX_C_SOURCE 200809L /* getline */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common.h"
#include "shiplog.h"

#define PROGRAM "shiplog-producer"
#define DEFAULT_BATCH_LINES 100

static const char* const kUsage =
    "usage: shiplog-producer STORE LOG [--batch N] [--keys] "
    "[--flush-every N]\n";

struct options {
  const char* store_path;
  const char* log_name;
  long long batch_lines;
  long long flush_every; /* 0: leave flushing to the log's settings */
  int split_keys;
};

/* The lines read and not yet appended, and the records that point into
 * them. */
struct batch {
  char** lines;
  shiplog_record* records;
  size_t count;
};

static int parse_options(int argc, char** argv, struct options* options) {
  int i;
  int positionals = 0;
  options->batch_lines = DEFAULT_BATCH_LINES;
  options->flush_every = 0;
  options->split_keys = 0;
  for (i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (strcmp(arg, "--keys") == 0) {
      options->split_keys = 1;
    } else if (strcmp(arg, "--batch") == 0 && i + 1 < argc) {
      if (parse_integer(argv[++i], 1, LLONG_MAX, &options->batch_lines)) {
        return -1;
      }
    } else if (strcmp(arg, "--flush-every") == 0 && i + 1 < argc) {
      if (parse_integer(argv[++i], 1, LLONG_MAX, &options->flush_every)) {
        return -1;
      }
    } else if (arg[0] == '-' || positionals == 2) {
      return -1;
    } else if (positionals++ == 0) {
      options->store_path = arg;
    } else {
      options->log_name = arg;
    }
  }
  return positionals == 2 ? 0 : -1;
}

/* Makes record `i` of the batch from its line, `length` bytes without the
 * line end. */
static void make_record(struct batch* batch, size_t i, size_t length,
                        int split_keys) {
  char* line = batch->lines[i];
  char* colon = split_keys ? memchr(line, ':', length) : NULL;
  shiplog_record* record = &batch->records[i];
  memset(record, 0, sizeof(*record));
  record->timestamp_ms = SHIPLOG_NO_TIMESTAMP; /* the log's clock */
  record->value = line;
  record->value_len = length;
  if (colon != NULL) {
    record->key = line;
    record->key_len = (size_t)(colon - line);
    record->value = colon + 1;
    record->value_len = length - record->key_len - 1;
  }
}

static void clear_batch(struct batch* batch) {
  size_t i;
  for (i = 0; i < batch->count; ++i) free(batch->lines[i]);
  batch->count = 0;
}

/* Appends the batch as one record batch, prints its offsets, and flushes
 * the log when --flush-every says so. `*unflushed` counts the records
 * appended since the last flush. */
static int append_batch(shiplog_log* log, const struct options* options,
                        struct batch* batch, long long* unflushed) {
  shiplog_append_result appended;
  int status =
      shiplog_log_append(&appended, log, batch->records, batch->count, NULL);
  if (status != SHIPLOG_OK) {
    report_error(PROGRAM, "append", status);
    return -1;
  }
  clear_batch(batch);
  *unflushed += appended.last_offset - appended.base_offset + 1;
  if (options->flush_every > 0 && *unflushed >= options->flush_every) {
    status = shiplog_log_flush(log);
    if (status != SHIPLOG_OK) {
      report_error(PROGRAM, "flush", status);
      return -1;
    }
    *unflushed = 0;
  }
  /* Flushed at once: a reader of our output may be waiting for it. */
  if (printf("%lld..%lld\n", (long long)appended.base_offset,
             (long long)appended.last_offset) < 0 ||
      fflush(stdout) != 0) {
    perror(PROGRAM ": writing stdout");
    return -1;
  }
  return 0;
}

/* Reads stdin to its end, appending as batches fill. */
static int produce(shiplog_log* log, const struct options* options,
                   struct batch* batch) {
  long long unflushed = 0;
  for (;;) {
    char* line = NULL;
    size_t capacity = 0;
    ssize_t length = getline(&line, &capacity, stdin);
    if (length < 0) {
      free(line);
      break;
    }
    if (length > 0 && line[length - 1] == '\n') --length;
    if (length > 0 && line[length - 1] == '\r') --length;
    batch->lines[batch->count] = line;
    make_record(batch, batch->count, (size_t)length, options->split_keys);
    ++batch->count;
    if ((long long)batch->count == options->batch_lines &&
        append_batch(log, options, batch, &unflushed) != 0) {
      return -1;
    }
  }
  if (ferror(stdin)) {
    perror(PROGRAM ": reading stdin");
    return -1;
  }
  return batch->count > 0 ? append_batch(log, options, batch, &unflushed) : 0;
}

int main(int argc, char** argv) {
  struct options options;
  struct batch batch;
  shiplog_store* store = NULL;
  shiplog_log* log = NULL;
  int status;
  int exit_status = 1;

  if (parse_options(argc, argv, &options) != 0) {
    fputs(kUsage, stderr);
    return 2;
  }
  batch.count = 0;
  batch.lines = calloc((size_t)options.batch_lines, sizeof(*batch.lines));
  batch.records = calloc((size_t)options.batch_lines, sizeof(*batch.records));
  if (batch.lines == NULL || batch.records == NULL) {
    fputs(PROGRAM ": out of memory\n", stderr);
    goto done;
  }
  status = shiplog_store_open(&store, options.store_path, NULL);
  if (status != SHIPLOG_OK) {
    report_error(PROGRAM, "opening the store", status);
    goto done;
  }
  status = shiplog_log_open(&log, store, options.log_name, NULL);
  if (status != SHIPLOG_OK) {
    report_error(PROGRAM, "opening the log", status);
    goto done;
  }
  if (produce(log, &options, &batch) != 0) goto done;
  /* The clean shutdown flushes what is left: every offset is durable. */
  status = shiplog_store_close(store);
  if (status != SHIPLOG_OK) {
    report_error(PROGRAM, "closing the store", status);
    goto done;
  }
  exit_status = 0;
done:
  if (batch.lines != NULL) clear_batch(&batch);
  free(batch.lines);
  free(batch.records);
  shiplog_log_free(log);
  shiplog_store_free(store);
  return exit_status;
}
