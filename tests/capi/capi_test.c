/* The C ABI, tested from C (LevelDB's c_test.c is the model): every call
 * of shiplog.h on its happy path, and its error paths and misuse: NULL
 * handles, wrong option versions, closed stores, bad names, corrupt
 * batches, a second writer. Compiled as C99 with -pedantic -Werror. */
#define _GNU_SOURCE /* mkdtemp, nftw, O_DIRECT */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shiplog.h"

static const char* phase = "";
static int failures = 0;

#define CHECK(cond)                                                    \
  do {                                                                 \
    if (!(cond)) {                                                     \
      fprintf(stderr, "%s:%d: %s: check failed: %s (last error: %s)\n", \
              __FILE__, __LINE__, phase, #cond, shiplog_last_error()); \
      ++failures;                                                      \
    }                                                                  \
  } while (0)

/* A status check that also shows the status by name when it fails. */
#define CHECK_STATUS(expected, call)                                      \
  do {                                                                    \
    int got_ = (call);                                                    \
    if (got_ != (expected)) {                                             \
      fprintf(stderr, "%s:%d: %s: %s gave %s, expected %s (%s)\n",        \
              __FILE__, __LINE__, phase, #call, shiplog_status_str(got_), \
              shiplog_status_str(expected), shiplog_last_error());        \
      ++failures;                                                         \
    }                                                                     \
  } while (0)

static void StartPhase(const char* name) {
  fprintf(stderr, "=== %s\n", name);
  phase = name;
}

static int RemoveEntry(const char* path, const struct stat* st, int flag,
                       struct FTW* ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static int Contains(const char* text, const char* part) {
  return text != NULL && strstr(text, part) != NULL;
}

static shiplog_record Record(const char* key, const char* value) {
  shiplog_record record;
  memset(&record, 0, sizeof(record));
  record.timestamp_ms = SHIPLOG_NO_TIMESTAMP;
  record.key = key;
  record.key_len = key != NULL ? strlen(key) : 0;
  record.value = value;
  record.value_len = value != NULL ? strlen(value) : 0;
  return record;
}

static void TestVersionAndErrors(void) {
  StartPhase("version and errors");
  CHECK(shiplog_version_number() == SHIPLOG_VERSION_NUMBER);
  CHECK(strcmp(shiplog_version(), SHIPLOG_VERSION_STRING) == 0);
  CHECK(shiplog_last_error() != NULL);
  CHECK(Contains(shiplog_status_str(SHIPLOG_ERANGE), "SHIPLOG_ERANGE"));
  CHECK(Contains(shiplog_status_str(12345), "unknown"));
  CHECK(Contains(shiplog_status_str(SHIPLOG_ITEROVER), "ITEROVER"));
}

static void TestMisuse(const char* dir) {
  shiplog_store* store = NULL;
  shiplog_log* log = NULL;
  shiplog_store_options options = SHIPLOG_STORE_OPTIONS_INIT;
  int64_t offset = 0;

  StartPhase("misuse: NULL arguments");
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_store_open(NULL, dir, NULL));
  CHECK(Contains(shiplog_last_error(), "out is NULL"));
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_store_open(&store, NULL, NULL));
  CHECK(store == NULL);
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_log_open(&log, NULL, "x", NULL));
  CHECK(Contains(shiplog_last_error(), "store is NULL"));
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_log_end_offset(&offset, NULL));
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_log_append(NULL, NULL, NULL, 0, NULL));
  shiplog_store_free(NULL);
  shiplog_log_free(NULL);
  shiplog_slice_free(NULL);
  shiplog_view_free(NULL);
  shiplog_records_free(NULL);
  shiplog_sender_free(NULL);
  shiplog_metrics_free(NULL);
  shiplog_free(NULL);
  shiplog_strarray_dispose(NULL);

  StartPhase("misuse: option versions");
  options.version = 99;
  CHECK_STATUS(SHIPLOG_EVERSION, shiplog_store_open(&store, dir, &options));
  CHECK(Contains(shiplog_last_error(), "version 99"));
  CHECK_STATUS(SHIPLOG_EVERSION, shiplog_store_options_init(&options, 7));
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_options_init(
                               &options, SHIPLOG_STORE_OPTIONS_VERSION));
  CHECK(options.create_if_missing == 1 && options.read_only == 0);
}

/* Version 2 of shiplog_store_options appends fields to version 1: a program
 * built against the 1.0 header allocates only version 1's bytes, and the
 * library must neither write nor read past them. */
static void TestStoreOptionsVersions(const char* dir) {
  const size_t v1_size = offsetof(shiplog_store_options, min_free_bytes);
  unsigned char buffer[sizeof(shiplog_store_options)];
  shiplog_store_options* old = (shiplog_store_options*)(void*)buffer;
  shiplog_store_options options = SHIPLOG_STORE_OPTIONS_INIT;
  shiplog_store* store = NULL;
  shiplog_log* log = NULL;
  shiplog_record record = Record(NULL, "x");
  char path[256];
  struct stat info;
  size_t i;
  int untouched = 1;

  StartPhase("store options: version 1 callers");
  memset(buffer, 0xAB, sizeof(buffer));
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_options_init(old, 1));
  for (i = v1_size; i < sizeof(buffer); ++i) untouched &= buffer[i] == 0xAB;
  CHECK(untouched);
  CHECK(old->version == 1 && old->create_if_missing == 1);
  /* The garbage past version 1 (a file mode of 0xABABABAB) is not read. */
  snprintf(path, sizeof(path), "%s/v1-store", dir);
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_open(&store, path, old));
  shiplog_store_free(store);
  store = NULL;

  StartPhase("store options: version 2");
  options.file_mode = 0400;
  snprintf(path, sizeof(path), "%s/v2-store", dir);
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_store_open(&store, path, &options));
  CHECK(Contains(shiplog_last_error(), "file mode 0400"));
  options.file_mode = 0600;
  options.directory_mode = 0700;
  options.max_open_segment_files = 8;
  options.max_segment_mappings = 8;
  /* More free space than any disk has: every append is refused. */
  options.min_free_bytes = UINT64_MAX / 2;
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_open(&store, path, &options));
  CHECK(stat(path, &info) == 0 && (info.st_mode & 0077) == 0);
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_open(&log, store, "guarded-0", NULL));
  CHECK_STATUS(SHIPLOG_ELOWSPACE,
               shiplog_log_append(NULL, log, &record, 1, NULL));
  CHECK(Contains(shiplog_last_error(), "min_free_bytes"));
  shiplog_log_free(log);
  shiplog_store_free(store);
}

static void TestAppendAndRead(shiplog_store* store) {
  shiplog_log* log = NULL;
  shiplog_log_options log_options = SHIPLOG_LOG_OPTIONS_INIT;
  shiplog_record records[3];
  shiplog_header header;
  shiplog_append_result appended;
  shiplog_records* iterator = NULL;
  shiplog_record record;
  int64_t end = -1;
  int count = 0;

  StartPhase("append and read back");
  log_options.segment_bytes = 4096;
  CHECK_STATUS(SHIPLOG_OK,
               shiplog_log_open(&log, store, "orders-0", &log_options));
  records[0] = Record("alice", "signed up");
  records[1] = Record(NULL, "no key");
  records[2] = Record("bob", "");
  header.key = "trace";
  header.key_len = 5;
  header.value = NULL;
  header.value_len = 0;
  records[0].headers = &header;
  records[0].header_count = 1;
  CHECK_STATUS(SHIPLOG_OK,
               shiplog_log_append(&appended, log, records, 3, NULL));
  CHECK(appended.base_offset == 0 && appended.last_offset == 2);
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_end_offset(&end, log));
  CHECK(end == 3);

  CHECK_STATUS(SHIPLOG_OK,
               shiplog_records_open_log(&iterator, log, 0, 1 << 20));
  while (shiplog_records_next(&record, iterator) == SHIPLOG_OK) {
    CHECK(record.offset == count);
    if (count == 0) {
      CHECK(record.key_len == 5 && memcmp(record.key, "alice", 5) == 0);
      CHECK(record.value_len == 9);
      CHECK(record.header_count == 1);
      CHECK(record.headers[0].key_len == 5 && record.headers[0].value == NULL);
    } else if (count == 1) {
      CHECK(record.key == NULL && record.key_len == 0);
    } else {
      CHECK(record.value != NULL && record.value_len == 0);
    }
    ++count;
  }
  CHECK(count == 3);
  CHECK_STATUS(SHIPLOG_ITEROVER, shiplog_records_next(&record, iterator));
  shiplog_records_free(iterator);

  StartPhase("append errors");
  records[1].value = NULL;
  records[1].value_len = 4;
  CHECK_STATUS(SHIPLOG_EINVAL,
               shiplog_log_append(NULL, log, records, 3, NULL));
  CHECK(Contains(shiplog_last_error(), "value is NULL but its length is 4"));
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_log_append(NULL, log, records, 0, NULL));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_end_offset(&end, log));
  CHECK(end == 3);
  shiplog_log_free(log);
}

static void TestSlicesViewsAndCorruption(shiplog_store* store) {
  shiplog_log* log = NULL;
  shiplog_slice* slice = NULL;
  shiplog_slice* past_end = NULL;
  shiplog_slice_info info;
  shiplog_view* view = NULL;
  const void* data = NULL;
  size_t size = 0;
  char* copy;
  shiplog_append_result appended;
  int64_t offset = 0;

  StartPhase("slices and views");
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_open(&log, store, "orders-0", NULL));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_read(&slice, log, 1, 1 << 20));
  CHECK_STATUS(SHIPLOG_OK, shiplog_slice_info_get(&info, slice));
  CHECK(info.first_offset == 0 && info.next_offset == 3 && info.size > 61);
  CHECK_STATUS(SHIPLOG_OK, shiplog_view_open(&view, slice));
  CHECK_STATUS(SHIPLOG_OK, shiplog_view_data(&data, &size, view));
  CHECK(size == info.size);
  CHECK(((const unsigned char*)data)[16] == 2); /* RecordBatch magic */

  StartPhase("ready-made batches");
  copy = malloc(size);
  memcpy(copy, data, size);
  CHECK_STATUS(SHIPLOG_OK,
               shiplog_log_append_batches(&appended, log, copy, size));
  CHECK(appended.base_offset == 3 && appended.last_offset == 5);
  copy[size - 1] ^= 1;
  CHECK_STATUS(SHIPLOG_ECORRUPT,
               shiplog_log_append_batches(NULL, log, copy, size));
  CHECK(Contains(shiplog_last_error(), "CRC mismatch"));
  free(copy);

  StartPhase("range and time errors");
  CHECK_STATUS(SHIPLOG_ERANGE, shiplog_log_read(&past_end, log, 99, 10));
  CHECK(past_end == NULL);
  CHECK(Contains(shiplog_last_error(), "past the end"));
  CHECK_STATUS(SHIPLOG_ENOTFOUND,
               shiplog_log_offset_for_time(&offset, log, INT64_MAX));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_offset_for_time(&offset, log, 0));
  CHECK(offset == 0);
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_log_truncate(log, 1));
  CHECK(Contains(shiplog_last_error(), "batch boundary"));

  shiplog_view_free(view);
  shiplog_slice_free(slice);
  shiplog_log_free(log);
}

static void TestReset(shiplog_store* store) {
  shiplog_log* log = NULL;
  shiplog_record record = Record("k", "before");
  shiplog_append_result appended;
  int64_t start = -1;
  int64_t end = -1;

  StartPhase("reset");
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_open(&log, store, "reset-0", NULL));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_append(NULL, log, &record, 1, NULL));
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_log_reset(NULL, 5));
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_log_reset(log, -1));
  CHECK(Contains(shiplog_last_error(), "negative offset"));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_reset(log, 500));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_start_offset(&start, log));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_end_offset(&end, log));
  CHECK(start == 500 && end == 500);
  record = Record("k", "after");
  CHECK_STATUS(SHIPLOG_OK,
               shiplog_log_append(&appended, log, &record, 1, NULL));
  CHECK(appended.base_offset == 500);
  shiplog_log_free(log);
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_delete_log(store, "reset-0"));
}

typedef struct ProgressSeen {
  int calls;
  uint64_t bytes_done;
  uint64_t bytes_total;
} ProgressSeen;

static void OnProgress(const shiplog_progress* progress, void* context) {
  ProgressSeen* seen = (ProgressSeen*)context;
  CHECK(progress->version == SHIPLOG_PROGRESS_VERSION);
  CHECK(progress->log != NULL);
  ++seen->calls;
  seen->bytes_done = progress->bytes_done;
  seen->bytes_total = progress->bytes_total;
}

static void TestBackupAndVerify(const char* dir, shiplog_store* store) {
  shiplog_log* log = NULL;
  shiplog_log_options log_options = SHIPLOG_LOG_OPTIONS_INIT;
  shiplog_backup_options options = SHIPLOG_BACKUP_OPTIONS_INIT;
  shiplog_backup_report report = SHIPLOG_BACKUP_REPORT_INIT;
  shiplog_verify_options verify_options = SHIPLOG_VERIFY_OPTIONS_INIT;
  shiplog_verify_report verified = SHIPLOG_VERIFY_REPORT_INIT;
  shiplog_strarray notes = {NULL, 0};
  shiplog_strarray problems = {NULL, 0};
  shiplog_store* restored = NULL;
  shiplog_append_result appended;
  shiplog_record record = Record("k", "backed up");
  ProgressSeen seen = {0, 0, 0};
  char backup[128];
  char inside[128];
  char segment[192];
  int64_t end = -1;
  int fd;
  int i;

  StartPhase("backup");
  snprintf(backup, sizeof(backup), "%s/backup", dir);
  snprintf(inside, sizeof(inside), "%s/store/backup", dir);
  log_options.segment_bytes = 4096;
  CHECK_STATUS(SHIPLOG_OK,
               shiplog_log_open(&log, store, "backup-0", &log_options));
  for (i = 0; i < 200; ++i) {
    CHECK_STATUS(SHIPLOG_OK, shiplog_log_append(NULL, log, &record, 1, NULL));
  }
  CHECK_STATUS(SHIPLOG_EINVAL,
               shiplog_store_backup(NULL, NULL, NULL, backup, NULL));
  CHECK_STATUS(SHIPLOG_EINVAL,
               shiplog_store_backup(NULL, NULL, store, NULL, NULL));
  CHECK_STATUS(SHIPLOG_EINVAL,
               shiplog_store_backup(NULL, NULL, store, inside, NULL));
  CHECK(Contains(shiplog_last_error(), "inside"));
  options.version = 99;
  CHECK_STATUS(SHIPLOG_EVERSION,
               shiplog_store_backup(NULL, NULL, store, backup, &options));
  CHECK_STATUS(SHIPLOG_EVERSION, shiplog_backup_options_init(&options, 99));
  CHECK_STATUS(SHIPLOG_OK, shiplog_backup_options_init(
                               &options, SHIPLOG_BACKUP_OPTIONS_VERSION));
  report.version = 99;
  CHECK_STATUS(SHIPLOG_EVERSION,
               shiplog_store_backup(&report, NULL, store, backup, NULL));
  report.version = SHIPLOG_BACKUP_REPORT_VERSION;
  options.progress = OnProgress;
  options.progress_context = &seen;
  CHECK_STATUS(SHIPLOG_OK,
               shiplog_store_backup(&report, &notes, store, backup, &options));
  CHECK(report.logs >= 2);
  CHECK(report.segments_linked > 0 && report.segments_copied >= 2);
  CHECK(notes.count == 0);
  CHECK(seen.calls >= 2 && seen.bytes_done == seen.bytes_total);
  CHECK(seen.bytes_done == report.bytes_linked + report.bytes_copied);
  shiplog_strarray_dispose(&notes);
  CHECK_STATUS(SHIPLOG_EEXISTS,
               shiplog_store_backup(NULL, NULL, store, backup, NULL));
  CHECK(Contains(shiplog_last_error(), "not empty"));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_end_offset(&end, log));
  shiplog_log_free(log);
  log = NULL;

  StartPhase("verify");
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_verify(&verified, &problems, &notes,
                                                backup, &verify_options));
  CHECK(verified.logs >= 2 && verified.records >= 200);
  CHECK(verified.problems == 0 && problems.count == 0);
  shiplog_strarray_dispose(&problems);
  shiplog_strarray_dispose(&notes);
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_verify(NULL, NULL, NULL, backup, NULL));
  CHECK_STATUS(SHIPLOG_ENOTFOUND,
               shiplog_store_verify(NULL, NULL, NULL, inside, NULL));
  CHECK_STATUS(SHIPLOG_EINVAL,
               shiplog_store_verify(NULL, NULL, NULL, NULL, NULL));
  verify_options.version = 99;
  CHECK_STATUS(SHIPLOG_EVERSION,
               shiplog_store_verify(NULL, NULL, NULL, backup, &verify_options));
  CHECK_STATUS(SHIPLOG_OK, shiplog_verify_options_init(
                               &verify_options, SHIPLOG_VERIFY_OPTIONS_VERSION));

  StartPhase("restore");
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_open(&restored, backup, NULL));
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_load_notes(&notes, restored));
  CHECK(notes.count == 0);
  shiplog_strarray_dispose(&notes);
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_open(&log, restored, "backup-0", NULL));
  CHECK_STATUS(SHIPLOG_OK,
               shiplog_log_append(&appended, log, &record, 1, NULL));
  CHECK(appended.base_offset == end);
  shiplog_log_free(log);
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_close(restored));
  shiplog_store_free(restored);

  StartPhase("verify finds damage");
  /* The source lets go of its names first: the first segment is a hard
   * link both stores share. */
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_delete_log(store, "backup-0"));
  snprintf(segment, sizeof(segment),
           "%s/backup-0/00000000000000000000.log", backup);
  fd = open(segment, O_RDWR);
  CHECK(fd >= 0);
  if (fd >= 0) {
    CHECK(pwrite(fd, "\xff\xff", 2, 100) == 2);
    close(fd);
  }
  CHECK_STATUS(SHIPLOG_ECORRUPT,
               shiplog_store_verify(&verified, &problems, NULL, backup, NULL));
  CHECK(verified.problems == problems.count && problems.count >= 1);
  CHECK(Contains(shiplog_last_error(), "problem"));
  CHECK(problems.count >= 1 && Contains(problems.strings[0], "backup-0"));
  shiplog_strarray_dispose(&problems);
}

static void TestSend(shiplog_store* store) {
  shiplog_log* log = NULL;
  shiplog_sender* sender = NULL;
  shiplog_send_result progress;
  shiplog_send_options options = SHIPLOG_SEND_OPTIONS_INIT;
  uint64_t size = 0;
  uint64_t received = 0;
  char buffer[65536];
  int fds[2];
  int status;
  int rounds = 0;

  StartPhase("resumable send to a non-blocking socket");
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_open(&log, store, "orders-0", NULL));
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  fcntl(fds[1], F_SETFL, O_NONBLOCK);
  options.policy = SHIPLOG_SEND_SENDFILE;
  CHECK_STATUS(SHIPLOG_OK,
               shiplog_sender_open(&sender, log, 0, 1 << 20, fds[0], &options));
  CHECK_STATUS(SHIPLOG_OK, shiplog_sender_size(&size, sender));
  CHECK(size > 0);
  do {
    ssize_t n;
    status = shiplog_sender_send(&progress, sender);
    while ((n = read(fds[1], buffer, sizeof(buffer))) > 0) received += n;
  } while (status == SHIPLOG_EAGAIN && ++rounds < 100000);
  CHECK_STATUS(SHIPLOG_OK, status);
  while (received < size) {
    ssize_t n = read(fds[1], buffer, sizeof(buffer));
    if (n <= 0) break;
    received += n;
  }
  CHECK(received == size);
  CHECK(progress.bytes_sent == size);
  CHECK(progress.bytes_by_path[SHIPLOG_PATH_SENDFILE] == size);
  CHECK(progress.next_offset == 6);
  shiplog_sender_free(sender);

  StartPhase("auto thresholds");
  {
    uint64_t threshold = 0;
    CHECK_STATUS(SHIPLOG_OK, shiplog_send_auto_threshold(&threshold, fds[0]));
    CHECK(threshold == 64 * 1024);
    CHECK_STATUS(SHIPLOG_EINVAL, shiplog_send_auto_threshold(&threshold, -1));
  }

  StartPhase("send to a closed peer");
  close(fds[1]);
  CHECK_STATUS(SHIPLOG_EPEERCLOSED,
               shiplog_log_send(NULL, log, 0, 1 << 20, fds[0], NULL));
  close(fds[0]);
  options.policy = 42;
  CHECK_STATUS(SHIPLOG_EINVAL,
               shiplog_log_send(NULL, log, 0, 1, 1, &options));
  shiplog_log_free(log);
}

/* Whether files under `dir` can be opened with O_DIRECT (tmpfs before
 * Linux 6.6 cannot). */
static int DirectIoWorksIn(const char* dir) {
  char probe[256];
  int fd;
  snprintf(probe, sizeof(probe), "%s/direct-probe", dir);
  fd = open(probe, O_CREAT | O_RDWR | O_DIRECT, 0600);
  if (fd >= 0) close(fd);
  unlink(probe);
  return fd >= 0;
}

/* Ships orders-0 whole to a socket pair with `options`; returns the status
 * and fills `sent`. */
static int SendWhole(shiplog_log* log, const shiplog_send_options* options,
                     shiplog_send_result* sent) {
  char buffer[65536];
  int fds[2];
  int status;
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return SHIPLOG_ERROR;
  /* The log is small: the socket's buffer takes all of it. */
  status = shiplog_log_send(sent, log, 0, UINT64_MAX, fds[0], options);
  close(fds[0]);
  while (read(fds[1], buffer, sizeof(buffer)) > 0) {
  }
  close(fds[1]);
  return status;
}

static void TestSendOptionsVersions(const char* dir, shiplog_store* store) {
  shiplog_log* log = NULL;
  shiplog_send_options options;
  shiplog_send_result sent;
  uint64_t size = 0;

  StartPhase("send options: versions 1 and 2");
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_open(&log, store, "orders-0", NULL));
  CHECK(SHIPLOG_SEND_OPTIONS_VERSION == 2);
  /* A version 1 struct ends before cold_read_lag_bytes: init leaves it. */
  memset(&options, 0, sizeof(options));
  options.cold_read_lag_bytes = 12345;
  CHECK_STATUS(SHIPLOG_OK, shiplog_send_options_init(&options, 1));
  CHECK(options.version == 1 && options.policy == SHIPLOG_SEND_AUTO);
  CHECK(options.timeout_ms == -1 && options.cold_read_lag_bytes == 12345);
  CHECK_STATUS(SHIPLOG_OK, shiplog_send_options_init(&options, 2));
  CHECK(options.version == 2 && options.cold_read_lag_bytes == 0);
  CHECK_STATUS(SHIPLOG_EVERSION, shiplog_send_options_init(&options, 0));
  CHECK_STATUS(SHIPLOG_EVERSION, shiplog_send_options_init(&options, 3));
  CHECK(Contains(shiplog_last_error(), "versions 1 to 2"));
  options.version = 3;
  CHECK_STATUS(SHIPLOG_EVERSION, SendWhole(log, &options, &sent));

  StartPhase("send options: a version 1 caller");
  /* Fields past version 1's are not read, and the result's fifth slot,
   * which a version 1 caller does not have, is not written. */
  CHECK_STATUS(SHIPLOG_OK, shiplog_send_options_init(&options, 1));
  options.policy = SHIPLOG_SEND_SENDFILE;
  options.cold_read_lag_bytes = 1; /* garbage beyond a v1 struct */
  sent.bytes_by_path[SHIPLOG_PATH_DIRECT_READ] = 777;
  CHECK_STATUS(SHIPLOG_OK, SendWhole(log, &options, &sent));
  size = sent.bytes_sent;
  CHECK(size > 0);
  CHECK(sent.bytes_by_path[SHIPLOG_PATH_SENDFILE] == size);
  CHECK(sent.bytes_by_path[SHIPLOG_PATH_DIRECT_READ] == 777);
  sent.bytes_by_path[SHIPLOG_PATH_DIRECT_READ] = 777;
  CHECK_STATUS(SHIPLOG_OK, SendWhole(log, NULL, &sent));
  CHECK(sent.bytes_by_path[SHIPLOG_PATH_DIRECT_READ] == 777);

  StartPhase("send options: cold reads (version 2)");
  CHECK_STATUS(SHIPLOG_OK, shiplog_send_options_init(
                               &options, SHIPLOG_SEND_OPTIONS_VERSION));
  options.policy = SHIPLOG_SEND_SENDFILE;
  CHECK_STATUS(SHIPLOG_OK, SendWhole(log, &options, &sent));
  CHECK(sent.bytes_by_path[SHIPLOG_PATH_SENDFILE] == size);
  CHECK(sent.bytes_by_path[SHIPLOG_PATH_DIRECT_READ] == 0);
  options.cold_read_lag_bytes = 1; /* everything is at least 1 byte behind */
  CHECK_STATUS(SHIPLOG_OK, SendWhole(log, &options, &sent));
  CHECK(sent.bytes_sent == size);
  if (DirectIoWorksIn(dir)) {
    CHECK(sent.bytes_by_path[SHIPLOG_PATH_DIRECT_READ] == size);
  } else {
    fprintf(stderr, "(no O_DIRECT under %s: cold reads fell back)\n", dir);
    CHECK(sent.bytes_by_path[SHIPLOG_PATH_SENDFILE] == size);
  }
  shiplog_log_free(log);
}

static void TestMetrics(shiplog_store* store) {
  shiplog_metrics* metrics = NULL;
  shiplog_metrics_values values = SHIPLOG_METRICS_VALUES_INIT;
  char* text = NULL;

  StartPhase("metrics");
  CHECK_STATUS(SHIPLOG_OK, shiplog_metrics_open(&metrics, store));
  CHECK_STATUS(SHIPLOG_OK, shiplog_metrics_values_get(&values, metrics));
  CHECK(values.appended_records >= 6);
  CHECK(values.sent_bytes[SHIPLOG_PATH_SENDFILE] > 0);
  CHECK_STATUS(SHIPLOG_OK, shiplog_metrics_prometheus(&text, metrics));
  CHECK(Contains(text, "shiplog_appended_records_total"));
  CHECK(Contains(text, "shiplog_log_end_offset{log=\"orders-0\"} 6"));
  shiplog_free(text);
  CHECK_STATUS(SHIPLOG_OK, shiplog_metrics_text(&text, metrics));
  CHECK(text != NULL && strlen(text) > 0);
  shiplog_free(text);
  values.version = 0;
  CHECK_STATUS(SHIPLOG_EVERSION, shiplog_metrics_values_get(&values, metrics));
  shiplog_metrics_free(metrics);
}

static void TestInspection(const char* path) {
  char file[256];
  shiplog_segment_reader* segment = NULL;
  shiplog_index_reader* index = NULL;
  shiplog_file_batch batch;
  shiplog_index_entry entry;
  int kind = -1;
  uint64_t entries = 0;
  int batches = 0;
  int status;

  StartPhase("inspecting files");
  snprintf(file, sizeof(file), "%s/orders-0/00000000000000000000.log", path);
  CHECK_STATUS(SHIPLOG_OK, shiplog_segment_reader_open(&segment, file, 1));
  while ((status = shiplog_segment_reader_next(&batch, segment)) ==
         SHIPLOG_OK) {
    CHECK_STATUS(SHIPLOG_OK, shiplog_segment_reader_check(segment));
    CHECK(batch.base_offset == 3 * batches);
    CHECK(batch.last_offset == batch.base_offset + 2);
    CHECK(batch.records == 3);
    ++batches;
  }
  CHECK_STATUS(SHIPLOG_ITEROVER, status);
  CHECK(batches == 2);
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_segment_reader_check(segment));
  shiplog_segment_reader_free(segment);

  snprintf(file, sizeof(file), "%s/orders-0/00000000000000000000.timeindex",
           path);
  CHECK_STATUS(SHIPLOG_OK, shiplog_index_reader_open(&index, file));
  CHECK_STATUS(SHIPLOG_OK, shiplog_index_reader_info(&kind, &entries, index));
  CHECK(kind == SHIPLOG_INDEX_TIME && entries > 0);
  CHECK_STATUS(SHIPLOG_OK, shiplog_index_reader_get(&entry, index, 0));
  CHECK_STATUS(SHIPLOG_ERANGE, shiplog_index_reader_get(&entry, index, entries));
  shiplog_index_reader_free(index);
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_index_reader_open(&index, "/tmp/x.txt"));
  CHECK_STATUS(SHIPLOG_ENOTFOUND,
               shiplog_segment_reader_open(&segment, "/nonexistent.log", 0));
}

static void TestStoreRules(const char* path, shiplog_store* store) {
  shiplog_store* second = NULL;
  shiplog_store* reader = NULL;
  shiplog_store_options options = SHIPLOG_STORE_OPTIONS_INIT;
  shiplog_log* log = NULL;
  shiplog_log* other = NULL;
  shiplog_strarray names = {NULL, 0};
  shiplog_record record = Record(NULL, "x");

  StartPhase("one writer, many readers");
  CHECK_STATUS(SHIPLOG_ELOCKED, shiplog_store_open(&second, path, NULL));
  CHECK(Contains(shiplog_last_error(), "locked by another writer (pid "));
  options.read_only = 1;
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_open(&reader, path, &options));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_open(&log, reader, "orders-0", NULL));
  CHECK_STATUS(SHIPLOG_EREADONLY,
               shiplog_log_append(NULL, log, &record, 1, NULL));
  shiplog_log_free(log);
  CHECK_STATUS(SHIPLOG_EREADONLY, shiplog_log_open(&log, reader, "new-0", NULL));
  shiplog_store_free(reader);

  StartPhase("names");
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_log_open(&log, store, "../x", NULL));
  CHECK(Contains(shiplog_last_error(), "contains '/'"));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_name_check("orders-0"));
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_log_name_check(".lock"));
  CHECK(Contains(shiplog_last_error(), "reserved"));
  CHECK_STATUS(SHIPLOG_EINVAL, shiplog_log_name_check(""));
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_load_notes(&names, store));
  CHECK(names.count == 0);
  shiplog_strarray_dispose(&names);
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_list_logs(&names, store));
  CHECK(names.count == 1 && strcmp(names.strings[0], "orders-0") == 0);
  shiplog_strarray_dispose(&names);
  CHECK(names.strings == NULL && names.count == 0);

  StartPhase("closed store");
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_open(&log, store, "orders-0", NULL));
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_close(store));
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_close(store));
  CHECK_STATUS(SHIPLOG_ECLOSED, shiplog_store_checkpoint(store));
  CHECK_STATUS(SHIPLOG_ECLOSED, shiplog_store_run_maintenance(store));
  CHECK_STATUS(SHIPLOG_ECLOSED, shiplog_log_open(&other, store, "x", NULL));
  CHECK(Contains(shiplog_last_error(), "closed"));
  CHECK_STATUS(SHIPLOG_ECLOSED,
               shiplog_log_append(NULL, log, &record, 1, NULL));
  shiplog_log_free(log);
}

/* What a caller built against 1.0 or 1.1 passes: a version-1 struct, as
 * large as version 1 was. The canary after it must stay untouched. */
typedef union OldLogOptions {
  shiplog_log_options options; /* for the alignment; only a prefix is v1 */
  unsigned char bytes[sizeof(shiplog_log_options)];
} OldLogOptions;

static int CanaryIntact(const unsigned char* bytes, size_t from, size_t to) {
  size_t i;
  for (i = from; i < to; ++i) {
    if (bytes[i] != 0xAB) return 0;
  }
  return 1;
}

static void TestWriteModes(shiplog_store* store) {
  shiplog_log* log = NULL;
  shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
  shiplog_log_options got = SHIPLOG_LOG_OPTIONS_INIT;
  shiplog_store_options store_options;
  OldLogOptions old;
  shiplog_append_result appended;
  shiplog_record record = Record("k", "durable");
  const size_t v1_bytes = offsetof(shiplog_log_options, write_mode);
  int64_t end = -1;
  int64_t committed = -2;

  StartPhase("write modes: direct");
  CHECK(SHIPLOG_LOG_OPTIONS_VERSION == 2);
  CHECK(options.write_mode == SHIPLOG_UNSET);
  options.write_mode = SHIPLOG_WRITE_DIRECT;
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_open(&log, store, "direct-0", &options));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_append(&appended, log, &record, 1, NULL));
  /* Durable when it returns: committed up to the end. */
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_end_offset(&end, log));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_committed_offset(&committed, log));
  CHECK(end == 1 && committed == 1);
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_get_options(&got, log));
  CHECK(got.write_mode == SHIPLOG_WRITE_DIRECT);
  shiplog_log_free(log);
  log = NULL;

  StartPhase("write modes: version-1 structs");
  memset(old.bytes, 0xAB, sizeof(old.bytes));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_options_init(&old.options, 1));
  CHECK(old.options.version == 1 && old.options.segment_bytes == SHIPLOG_UNSET);
  CHECK(CanaryIntact(old.bytes, v1_bytes, sizeof(old.bytes)));
  /* A version-1 open leaves the mode alone (its bytes past v1 are junk). */
  CHECK_STATUS(SHIPLOG_OK,
               shiplog_log_open(&log, store, "direct-0", &old.options));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_get_options(&old.options, log));
  CHECK(old.options.version == 1 && old.options.segment_bytes > 0);
  CHECK(CanaryIntact(old.bytes, v1_bytes, sizeof(old.bytes)));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_get_options(&got, log));
  CHECK(got.write_mode == SHIPLOG_WRITE_DIRECT);
  shiplog_log_free(log);
  log = NULL;
  /* A version 1 store struct holds version 1 default log options only;
   * version 2 holds the newest. */
  memset(&store_options, 0xAB, sizeof(store_options));
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_options_init(&store_options, 1));
  CHECK(store_options.default_log_options.version == 1);
  CHECK(CanaryIntact((const unsigned char*)&store_options,
                     offsetof(shiplog_store_options, default_log_options) +
                         v1_bytes,
                     sizeof(store_options)));
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_options_init(
                               &store_options, SHIPLOG_STORE_OPTIONS_VERSION));
  CHECK(store_options.default_log_options.version ==
            SHIPLOG_LOG_OPTIONS_VERSION &&
        store_options.default_log_options.write_mode == SHIPLOG_UNSET);

  StartPhase("write modes: switch back, refuse nonsense");
  options.write_mode = 7;
  CHECK_STATUS(SHIPLOG_EINVAL,
               shiplog_log_open(&log, store, "direct-0", &options));
  CHECK(Contains(shiplog_last_error(), "write_mode"));
  options.write_mode = SHIPLOG_WRITE_BUFFERED;
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_open(&log, store, "direct-0", &options));
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_get_options(&got, log));
  CHECK(got.write_mode == SHIPLOG_WRITE_BUFFERED);
  CHECK_STATUS(SHIPLOG_OK, shiplog_log_append(&appended, log, &record, 1, NULL));
  CHECK(appended.base_offset == 1);
  shiplog_log_free(log);
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_delete_log(store, "direct-0"));
}

int main(void) {
  char dir[] = "/tmp/shiplog-capi-XXXXXX";
  char path[64];
  shiplog_store* store = NULL;

  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  snprintf(path, sizeof(path), "%s/store", dir);

  TestVersionAndErrors();
  TestMisuse(path);
  TestStoreOptionsVersions(dir);
  StartPhase("open");
  CHECK_STATUS(SHIPLOG_OK, shiplog_store_open(&store, path, NULL));
  if (store != NULL) {
    TestAppendAndRead(store);
    TestSlicesViewsAndCorruption(store);
    TestSend(store);
    TestSendOptionsVersions(dir, store);
    TestReset(store);
    TestWriteModes(store);
    TestBackupAndVerify(dir, store);
    TestMetrics(store);
    TestInspection(path);
    TestStoreRules(path, store);
    shiplog_store_free(store);
  }
  nftw(dir, RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  if (failures > 0) {
    fprintf(stderr, "FAILED: %d checks\n", failures);
    return 1;
  }
  fprintf(stderr, "PASS\n");
  return 0;
}
