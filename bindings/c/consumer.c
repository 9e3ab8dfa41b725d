/* shiplog-consumer: prints the records of a log from an offset to its end.
 *
 *   shiplog-consumer STORE LOG [OFFSET]
 *
 * OFFSET defaults to the log's start. One line per record on stdout,
 * "OFFSET<tab>KEY<tab>VALUE" (a null key or value prints as nothing). The
 * store is opened read-only, so this runs beside the producer writing it,
 * and sees the log as it was when the store was opened. Exit status: 0
 * success, 1 an error (one line on stderr), 2 a bad command line. */
#include <limits.h>
#include <stdio.h>

#include "common.h"
#include "shiplog.h"

#define PROGRAM "shiplog-consumer"
/* Batches decoded at a time: the records are copied into memory chunk by
 * chunk, never the whole log at once. */
#define CHUNK_BYTES (1u << 20)

/* `length` bytes of `bytes`, which may be NULL (a null key or value). */
static void print_bytes(const void* bytes, size_t length) {
  if (bytes != NULL) fwrite(bytes, 1, length, stdout);
}

/* Prints the records of one chunk from `*offset` on and moves `*offset`
 * past them; `*printed` says how many there were. */
static int print_chunk(const shiplog_log* log, int64_t* offset,
                       size_t* printed) {
  shiplog_records* records = NULL;
  shiplog_record record;
  int status = shiplog_records_open_log(&records, log, *offset, CHUNK_BYTES);
  if (status != SHIPLOG_OK) {
    report_error(PROGRAM, "reading the log", status);
    return -1;
  }
  *printed = 0;
  while ((status = shiplog_records_next(&record, records)) == SHIPLOG_OK) {
    printf("%lld\t", (long long)record.offset);
    print_bytes(record.key, record.key_len);
    putchar('\t');
    print_bytes(record.value, record.value_len);
    putchar('\n');
    /* Offsets are dense: the next record is the one after this. */
    *offset = record.offset + 1;
    ++*printed;
  }
  shiplog_records_free(records);
  if (status != SHIPLOG_ITEROVER) {
    report_error(PROGRAM, "decoding records", status);
    return -1;
  }
  if (ferror(stdout)) {
    perror(PROGRAM ": writing stdout");
    return -1;
  }
  return 0;
}

static int consume(const shiplog_log* log, int64_t offset) {
  int64_t end = 0;
  size_t printed = 0;
  int status = shiplog_log_end_offset(&end, log);
  if (status != SHIPLOG_OK) {
    report_error(PROGRAM, "reading the log's end", status);
    return -1;
  }
  /* The first chunk is read even at the end: it checks OFFSET against the
   * log (an offset past the end is SHIPLOG_ERANGE). */
  do {
    if (print_chunk(log, &offset, &printed) != 0) return -1;
  } while (printed > 0 && offset < end);
  if (fflush(stdout) != 0) {
    perror(PROGRAM ": writing stdout");
    return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  shiplog_store* store = NULL;
  shiplog_log* log = NULL;
  long long offset = 0;
  int status;
  int exit_status = 1;

  if ((argc != 3 && argc != 4) ||
      (argc == 4 && parse_integer(argv[3], 0, LLONG_MAX, &offset) != 0)) {
    fputs("usage: shiplog-consumer STORE LOG [OFFSET]\n", stderr);
    return 2;
  }
  if (open_log_to_read(PROGRAM, argv[1], argv[2], &store, &log) != 0) {
    goto done;
  }
  if (argc == 3) {
    int64_t start = 0;
    status = shiplog_log_start_offset(&start, log);
    if (status != SHIPLOG_OK) {
      report_error(PROGRAM, "reading the log's start", status);
      goto done;
    }
    offset = start;
  }
  if (consume(log, (int64_t)offset) == 0) exit_status = 0;
done:
  shiplog_log_free(log);
  shiplog_store_free(store); /* read-only: nothing to flush on close */
  return exit_status;
}
