/* A program outside the shiplog tree, built against an installed shiplog
 * (CMake package or pkg-config): `consumer DIR` checks the running
 * library's version, opens a store in DIR, appends one record and reads it
 * back. Exit status 0 when all of that works. */
#include <shiplog.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check(int status, const char* what) {
  if (status != SHIPLOG_OK) {
    fprintf(stderr, "consumer: %s: %s (%s)\n", what, shiplog_status_str(status),
            shiplog_last_error());
    exit(1);
  }
  return status;
}

int main(int argc, char** argv) {
  shiplog_store* store = NULL;
  shiplog_log* log = NULL;
  shiplog_records* records = NULL;
  shiplog_record record;
  shiplog_append_result appended;
  static const char kKey[] = "greeting";
  static const char kValue[] = "hello from a consumer";

  if (argc != 2) {
    fputs("usage: consumer DIR\n", stderr);
    return 2;
  }
  if (shiplog_version_number() != SHIPLOG_VERSION_NUMBER ||
      strcmp(shiplog_version(), SHIPLOG_VERSION_STRING) != 0) {
    fprintf(stderr, "consumer: built against %s, running %s\n",
            SHIPLOG_VERSION_STRING, shiplog_version());
    return 1;
  }

  check(shiplog_store_open(&store, argv[1], NULL), "shiplog_store_open");
  check(shiplog_log_open(&log, store, "consumer-0", NULL), "shiplog_log_open");

  memset(&record, 0, sizeof record);
  record.timestamp_ms = SHIPLOG_NO_TIMESTAMP;
  record.key = kKey;
  record.key_len = strlen(kKey);
  record.value = kValue;
  record.value_len = strlen(kValue);
  check(shiplog_log_append(&appended, log, &record, 1, NULL),
        "shiplog_log_append");

  check(shiplog_records_open_log(&records, log, appended.base_offset, 1 << 20),
        "shiplog_records_open_log");
  check(shiplog_records_next(&record, records), "shiplog_records_next");
  if (record.offset != appended.base_offset ||
      record.value_len != strlen(kValue) ||
      memcmp(record.value, kValue, record.value_len) != 0 ||
      record.key_len != strlen(kKey) ||
      memcmp(record.key, kKey, record.key_len) != 0) {
    fprintf(stderr, "consumer: read back a different record\n");
    return 1;
  }
  if (shiplog_records_next(&record, records) != SHIPLOG_ITEROVER) {
    fprintf(stderr, "consumer: more than one record\n");
    return 1;
  }

  shiplog_records_free(records);
  shiplog_log_free(log);
  check(shiplog_store_close(store), "shiplog_store_close");
  shiplog_store_free(store);
  printf("consumer: libshiplog %s: appended and read back offset %lld\n",
         shiplog_version(), (long long)appended.base_offset);
  return 0;
}
