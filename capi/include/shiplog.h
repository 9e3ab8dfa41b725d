/*
 * shiplog.h: the stable C ABI of libshiplog.so.1.
 *
 * shiplog keeps Kafka-style logs: durable, ordered, offset-addressed records
 * in segment files whose bytes are Apache Kafka's RecordBatch v2 format, and
 * ships ranges of them to sockets without copying them through user space.
 *
 * Conventions (libgit2's):
 *  - Every function named shiplog_<object>_<verb> returns an int status:
 *    SHIPLOG_OK (0) or a negative shiplog_status. Output parameters come
 *    first. shiplog_last_error() explains the last failure on this thread.
 *  - Objects are opaque handles made by an _open function and released by
 *    the matching _free function (which accepts NULL).
 *  - Option structs start with a version field. Initialize them with their
 *    _INIT macro or _init() function, then set what you need; passing NULL
 *    for options means all defaults. A struct whose version this library
 *    does not know is refused with SHIPLOG_EVERSION. A struct grows only
 *    by fields appended in a new version: the library reads (and _init
 *    writes) only the fields of the version the caller states, so a
 *    program built against an older header keeps working unchanged.
 *  - Byte strings are (pointer, length) pairs and may hold any bytes. A NULL
 *    pointer with length 0 is a null key or value (Kafka's null), a non-NULL
 *    pointer with length 0 an empty one.
 *  - A NULL handle, a NULL output pointer or an impossible length is
 *    SHIPLOG_EINVAL, never a crash. No C++ exception crosses this ABI.
 *
 * Thread-safety: a store and the logs opened from it may be used from any
 * number of threads at once. Slices, views, record iterators, senders and
 * metrics snapshots belong to one thread at a time. shiplog_last_error() is
 * per thread.
 *
 * Versioning (zstd's): SHIPLOG_VERSION_* give the version compiled against,
 * shiplog_version_number() the version running. Symbols are never removed
 * or changed within a major version; "since" notes say when each appeared.
 */
#ifndef SHIPLOG_H
#define SHIPLOG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SHIPLOG_BUILDING_LIBRARY) && defined(__GNUC__)
#define SHIPLOG_API __attribute__((visibility("default")))
#else
#define SHIPLOG_API
#endif

/* ---------------------------------------------------------------------- */
/* Version                                                                 */
/* ---------------------------------------------------------------------- */

#define SHIPLOG_VERSION_MAJOR 1
#define SHIPLOG_VERSION_MINOR 2
#define SHIPLOG_VERSION_PATCH 0
#define SHIPLOG_VERSION_NUMBER                                     \
  (SHIPLOG_VERSION_MAJOR * 10000 + SHIPLOG_VERSION_MINOR * 100 + \
   SHIPLOG_VERSION_PATCH)
#define SHIPLOG_VERSION_STRING "1.2.0"

/** The running library's version as SHIPLOG_VERSION_NUMBER computes it.
 *  Since 1.0. */
SHIPLOG_API unsigned int shiplog_version_number(void);

/** The running library's version, "MAJOR.MINOR.PATCH". Never NULL.
 *  Since 1.0. */
SHIPLOG_API const char* shiplog_version(void);

/* ---------------------------------------------------------------------- */
/* Status codes and errors                                                 */
/* ---------------------------------------------------------------------- */

typedef enum shiplog_status {
  SHIPLOG_OK = 0,
  /** Anything not listed below: a bug, or an error the library does not
   *  classify. The message says what. */
  SHIPLOG_ERROR = -1,
  /** A bad argument: a NULL handle or pointer, a bad log name, a setting
   *  out of range, a length that cannot be. */
  SHIPLOG_EINVAL = -2,
  /** No such store, log, or record (e.g. no record at or after a time). */
  SHIPLOG_ENOTFOUND = -3,
  /** Something that must not exist does. */
  SHIPLOG_EEXISTS = -4,
  /** An offset outside the log: before its start or past its end. */
  SHIPLOG_ERANGE = -5,
  /** Corrupt bytes: a batch that fails validation (bad CRC, magic,
   *  lengths, records), or a damaged file. */
  SHIPLOG_ECORRUPT = -6,
  /** The store or log is read-only: opened so, or turned so by a failed
   *  fsync (the message gives the original error). */
  SHIPLOG_EREADONLY = -7,
  /** Another process (or handle) is the store's writer; the message names
   *  its pid. */
  SHIPLOG_ELOCKED = -8,
  /** The disk is full (ENOSPC, EDQUOT). Nothing acknowledged was lost;
   *  later appends may succeed once space returns. */
  SHIPLOG_ENOSPC = -9,
  /** An I/O error from the operating system (EIO and the like). */
  SHIPLOG_EIO = -10,
  /** A non-blocking descriptor is full: call again when it is writable. */
  SHIPLOG_EAGAIN = -11,
  /** The peer closed the connection (EPIPE, ECONNRESET). */
  SHIPLOG_EPEERCLOSED = -12,
  /** The handle was closed (shiplog_store_close) and can only be freed. */
  SHIPLOG_ECLOSED = -13,
  /** Valid but not supported here, e.g. decoding a gzip batch in
   *  process. */
  SHIPLOG_EUNSUPPORTED = -14,
  /** A timeout given to the call ran out. */
  SHIPLOG_ETIMEDOUT = -15,
  /** An options struct with a version this library does not know. */
  SHIPLOG_EVERSION = -16,
  /** Out of memory. */
  SHIPLOG_ENOMEM = -17,
  /** The append would leave less than the store's min_free_bytes free on
   *  its file system: refused before the disk is full, nothing written.
   *  Later appends pass once space returns. Since 1.2. */
  SHIPLOG_ELOWSPACE = -18,
  /** Not an error: an iterator has no more items. */
  SHIPLOG_ITEROVER = -30
} shiplog_status;

/** A static, human-readable name for a status ("SHIPLOG_ERANGE: offset out
 *  of range"). Never NULL, also for unknown values. Since 1.0. */
SHIPLOG_API const char* shiplog_status_str(int status);

/** The message of the last call on this thread that failed, or "" if none
 *  has. Never NULL. Valid until the next failing call on this thread.
 *  Since 1.0. */
SHIPLOG_API const char* shiplog_last_error(void);

/** Frees memory the library returned to the caller (text from
 *  shiplog_metrics_prometheus and the like). NULL is fine. Since 1.0. */
SHIPLOG_API void shiplog_free(void* memory);

/** A list of strings returned by the library; release it with
 *  shiplog_strarray_dispose. */
typedef struct shiplog_strarray {
  char** strings;
  size_t count;
} shiplog_strarray;

/** Frees the strings and zeroes the struct. NULL is fine. Since 1.0. */
SHIPLOG_API void shiplog_strarray_dispose(shiplog_strarray* array);

/* ---------------------------------------------------------------------- */
/* Log settings                                                            */
/* ---------------------------------------------------------------------- */

/** A setting left at SHIPLOG_UNSET keeps its stored value (or, for a new
 *  log, the store's default). */
#define SHIPLOG_UNSET INT64_MIN

/** How a log's appends reach the disk: shiplog_log_options.write_mode.
 *  Since 1.2. */
typedef enum shiplog_write_mode {
  /** Into the page cache; flush_messages and flush_ms decide when
   *  fdatasync runs (the default). */
  SHIPLOG_WRITE_BUFFERED = 0,
  /** O_DIRECT writes from an aligned buffer with group commit: every
   *  append is durable when it returns, and concurrent appends share one
   *  device write. Needs a file system with direct I/O. */
  SHIPLOG_WRITE_DIRECT = 1
} shiplog_write_mode;

/** A log's settings, Kafka's topic settings under Kafka's names. Settings
 *  given when a log is opened are stored with it (log.properties) and kept
 *  by later opens. -1 means "never" or "no limit" where noted.
 *
 *  Version 2 (1.2) appended write_mode. Structs of version 1 (1.0, 1.1)
 *  are still accepted everywhere: they have no write_mode, which is then
 *  left unset. */
typedef struct shiplog_log_options {
  unsigned int version;
  /** Create the log if it does not exist (default 1). */
  int create_if_missing;
  /** segment.bytes: roll at this size (default 1 GiB, at most 2 GiB-1). */
  int64_t segment_bytes;
  /** segment.index.bytes: preallocated size of each index (10 MiB). */
  int64_t segment_index_bytes;
  /** index.interval.bytes: log bytes between index entries (4096). */
  int64_t index_interval_bytes;
  /** segment.ms: roll when a segment's records span this long (7 days). */
  int64_t segment_ms;
  /** retention.ms: delete segments whose newest record is older; -1
   *  never (7 days). */
  int64_t retention_ms;
  /** retention.bytes: delete old segments while the log stays at least
   *  this large; -1 no limit (default). */
  int64_t retention_bytes;
  /** flush.messages: fdatasync after this many records; -1 leaves it to
   *  the OS (default). 1 makes every append durable before it returns. */
  int64_t flush_messages;
  /** flush.ms: fdatasync once unflushed data is this old; -1 never. */
  int64_t flush_ms;
  /** write.mode: a shiplog_write_mode (SHIPLOG_WRITE_BUFFERED by
   *  default). Changing it on an open log applies at once. Since 1.2
   *  (version 2). */
  int64_t write_mode;
} shiplog_log_options;

#define SHIPLOG_LOG_OPTIONS_VERSION 2
#define SHIPLOG_LOG_OPTIONS_INIT                                          \
  {                                                                       \
    SHIPLOG_LOG_OPTIONS_VERSION, 1, SHIPLOG_UNSET, SHIPLOG_UNSET,         \
        SHIPLOG_UNSET, SHIPLOG_UNSET, SHIPLOG_UNSET, SHIPLOG_UNSET,       \
        SHIPLOG_UNSET, SHIPLOG_UNSET, SHIPLOG_UNSET                       \
  }

/** Fills `options` as SHIPLOG_LOG_OPTIONS_INIT does, for `version` 2 or 1
 *  (a version-1 struct is filled as 1.1 did, its size only). SHIPLOG_EVERSION
 *  for an unknown `version`. Since 1.0. */
SHIPLOG_API int shiplog_log_options_init(shiplog_log_options* options,
                                         unsigned int version);

/* ---------------------------------------------------------------------- */
/* Stores                                                                  */
/* ---------------------------------------------------------------------- */

/** A directory of logs. */
typedef struct shiplog_store shiplog_store;

typedef struct shiplog_store_options {
  unsigned int version;
  /** Open without the writer lock; write nothing (default 0). Any number
   *  of read-only opens may run beside the one writer. */
  int read_only;
  /** Create the directory if missing (writable opens; default 1). */
  int create_if_missing;
  /** How often the background thread flushes by flush.ms, rolls by
   *  segment.ms and applies retention; 0 runs no thread (default 1000). */
  int64_t maintenance_interval_ms;
  /** How often recovery points are checkpointed (default 60000). */
  int64_t checkpoint_interval_ms;
  /** Settings for logs created without their own (all SHIPLOG_UNSET by
   *  default: Kafka's defaults). create_if_missing is ignored here. Its
   *  version may be 1 or 2 (see shiplog_store_options_init). */
  shiplog_log_options default_log_options;

  /* Version 2 (since 1.2) */

  /** Appends that would leave less than this many bytes available on the
   *  store's file system are refused with SHIPLOG_ELOWSPACE, before the
   *  disk is full and with nothing written; 0 turns the guard off
   *  (default). */
  uint64_t min_free_bytes;
  /** Descriptors that idle closed segments may hold open together; the
   *  least recently used are closed and reopened on their next use. 0
   *  (default): half of RLIMIT_NOFILE's soft limit. */
  uint64_t max_open_segment_files;
  /** Memory mappings (index files) idle closed segments may hold together.
   *  0 (default): half of vm.max_map_count. */
  uint64_t max_segment_mappings;
  /** Modes of the files and directories the store creates, before the
   *  umask (defaults 0640 and 0750). Files need 0600 and directories
   *  0700: anything less is SHIPLOG_EINVAL. */
  unsigned int file_mode;
  unsigned int directory_mode;
} shiplog_store_options;

#define SHIPLOG_STORE_OPTIONS_VERSION 2
#define SHIPLOG_STORE_OPTIONS_INIT                                   \
  {                                                                  \
    SHIPLOG_STORE_OPTIONS_VERSION, 0, 1, 1000, 60000,                \
        SHIPLOG_LOG_OPTIONS_INIT, 0, 0, 0, 0640, 0750                \
  }

/** Fills `options` as SHIPLOG_STORE_OPTIONS_INIT does, for a struct of
 *  `version` (1 or 2): only that version's fields are written, so a program
 *  built against an older header passes its own version. A version 1
 *  struct holds version 1 default_log_options (no write_mode). Since 1.0.
 */
SHIPLOG_API int shiplog_store_options_init(shiplog_store_options* options,
                                           unsigned int version);

/** Opens (or creates) the store at `path` and every log in it, recovering
 *  what an unclean shutdown left. SHIPLOG_ELOCKED if another writer has it.
 *  On success *out is a new handle; on failure *out is NULL. Since 1.0. */
SHIPLOG_API int shiplog_store_open(shiplog_store** out, const char* path,
                                   const shiplog_store_options* options);

/** Clean shutdown: stops the background thread, flushes every log, writes
 *  the checkpoints and the marker that lets the next open skip recovery.
 *  The handle stays allocated (later calls give SHIPLOG_ECLOSED) until
 *  shiplog_store_free. Closing twice is fine. Since 1.0. */
SHIPLOG_API int shiplog_store_close(shiplog_store* store);

/** Closes the store if it is open (errors are lost: call
 *  shiplog_store_close first to see them) and frees the handle. Logs
 *  opened from it stay valid to free; their writes fail. NULL is fine.
 *  Since 1.0. */
SHIPLOG_API void shiplog_store_free(shiplog_store* store);

/** The names of the store's logs, sorted. Since 1.0. */
SHIPLOG_API int shiplog_store_list_logs(shiplog_strarray* out,
                                        shiplog_store* store);

/** What opening the store found and repaired, one message each, in order:
 *  torn tails cut, segments removed, a bad checkpoint ignored, directories
 *  skipped. Empty after a clean open. Since 1.0. */
SHIPLOG_API int shiplog_store_load_notes(shiplog_strarray* out,
                                         shiplog_store* store);

/** Closes the log and removes its files. Since 1.0. */
SHIPLOG_API int shiplog_store_delete_log(shiplog_store* store,
                                         const char* name);

/** Writes the recovery-point and log-start checkpoints now. Since 1.0. */
SHIPLOG_API int shiplog_store_checkpoint(shiplog_store* store);

/** One pass of the background work now (flush.ms, segment.ms, retention,
 *  checkpoint when due), for stores opened without the thread. Since 1.0. */
SHIPLOG_API int shiplog_store_run_maintenance(shiplog_store* store);

/* ---------------------------------------------------------------------- */
/* Logs                                                                    */
/* ---------------------------------------------------------------------- */

/** One log of a store: an ordered, offset-addressed partition. */
typedef struct shiplog_log shiplog_log;

/** Opens the log `name` (1-249 characters of A-Z a-z 0-9 . _ -, not "." or
 *  ".."), creating it when options->create_if_missing. Settings in
 *  `options` are applied and stored (SHIPLOG_EREADONLY in a read-only
 *  store). Release with shiplog_log_free. Since 1.0. */
SHIPLOG_API int shiplog_log_open(shiplog_log** out, shiplog_store* store,
                                 const char* name,
                                 const shiplog_log_options* options);

/** SHIPLOG_OK if `name` is a valid log name (the rule shiplog_log_open
 *  applies, reserved names included), SHIPLOG_EINVAL saying which rule it
 *  breaks otherwise. Needs no store. Since 1.0. */
SHIPLOG_API int shiplog_log_name_check(const char* name);

/** Releases the handle (the log stays open in its store). NULL is fine.
 *  Since 1.0. */
SHIPLOG_API void shiplog_log_free(shiplog_log* log);

/** The log's current settings, every field set. `out->version` must be set
 *  (SHIPLOG_LOG_OPTIONS_INIT) before the call; a version-1 struct gets the
 *  version-1 fields. Since 1.0. */
SHIPLOG_API int shiplog_log_get_options(shiplog_log_options* out,
                                        const shiplog_log* log);

/** The first offset the log holds. Since 1.0. */
SHIPLOG_API int shiplog_log_start_offset(int64_t* out, const shiplog_log* log);
/** The offset the next append gets; records are readable below it.
 *  Since 1.0. */
SHIPLOG_API int shiplog_log_end_offset(int64_t* out, const shiplog_log* log);
/** Offsets below this are durable (fdatasync'd): the recovery point.
 *  Since 1.0. */
SHIPLOG_API int shiplog_log_committed_offset(int64_t* out,
                                             const shiplog_log* log);
/** The log's size on disk and its number of segments. Since 1.0. */
SHIPLOG_API int shiplog_log_size(uint64_t* size_bytes, uint64_t* segments,
                                 const shiplog_log* log);

/* Records -------------------------------------------------------------- */

#define SHIPLOG_NO_TIMESTAMP (-1)

typedef struct shiplog_header {
  const void* key; /* header keys are never null */
  size_t key_len;
  const void* value; /* NULL with value_len 0: a null value */
  size_t value_len;
} shiplog_header;

/** A record. For appends, `offset` is ignored and a `timestamp_ms` of
 *  SHIPLOG_NO_TIMESTAMP means "now". For reads every field is set and the
 *  pointers stay valid until the iterator moves on. */
typedef struct shiplog_record {
  int64_t offset;
  int64_t timestamp_ms;
  const void* key; /* NULL with key_len 0: a null key */
  size_t key_len;
  const void* value; /* NULL with value_len 0: a null value */
  size_t value_len;
  const shiplog_header* headers;
  size_t header_count;
} shiplog_record;

typedef enum shiplog_compression {
  SHIPLOG_COMPRESSION_NONE = 0,
  SHIPLOG_COMPRESSION_ZSTD = 4
} shiplog_compression;

typedef struct shiplog_append_options {
  unsigned int version;
  /** SHIPLOG_COMPRESSION_NONE (default) or _ZSTD. */
  int compression;
  /** zstd's level (default 3). */
  int zstd_level;
} shiplog_append_options;

#define SHIPLOG_APPEND_OPTIONS_VERSION 1
#define SHIPLOG_APPEND_OPTIONS_INIT \
  { SHIPLOG_APPEND_OPTIONS_VERSION, SHIPLOG_COMPRESSION_NONE, 3 }

/** Since 1.0. */
SHIPLOG_API int shiplog_append_options_init(shiplog_append_options* options,
                                            unsigned int version);

typedef struct shiplog_append_result {
  int64_t base_offset; /* the first offset assigned */
  int64_t last_offset; /* the last offset assigned */
  uint64_t bytes;      /* batch bytes written */
} shiplog_append_result;

/** Appends `count` (>= 1) records as one batch. Returns once they are
 *  readable, and durable too if the log's flush policy called for an
 *  fdatasync. SHIPLOG_ENOSPC for a full disk (nothing lost). `out` may be
 *  NULL. Since 1.0. */
SHIPLOG_API int shiplog_log_append(shiplog_append_result* out,
                                   shiplog_log* log,
                                   const shiplog_record* records, size_t count,
                                   const shiplog_append_options* options);

/** Appends ready-made Kafka RecordBatch v2 batches (a producer's bytes),
 *  back to back in `batches`. Each is validated (CRC, magic, lengths, every
 *  record); if any fails the call is rejected with SHIPLOG_ECORRUPT and
 *  nothing is written. The log's offsets are written into `batches` in
 *  place (baseOffset lies outside the CRC). `out` may be NULL. Since 1.0. */
SHIPLOG_API int shiplog_log_append_batches(shiplog_append_result* out,
                                           shiplog_log* log, void* batches,
                                           size_t size);

/** fdatasyncs everything appended so far; the committed offset advances.
 *  A failure turns the log read-only for good. Since 1.0. */
SHIPLOG_API int shiplog_log_flush(shiplog_log* log);

/** Starts a new segment now (if the active one holds anything).
 *  Since 1.0. */
SHIPLOG_API int shiplog_log_roll(shiplog_log* log);

/** Removes every record from `offset` on; `offset` must be a batch
 *  boundary (SHIPLOG_EINVAL naming the batch otherwise). Durable when it
 *  returns. Since 1.0. */
SHIPLOG_API int shiplog_log_truncate(shiplog_log* log, int64_t offset);

/** Empties the log and makes it start at `start_offset` (>= 0): every
 *  segment is removed (slices, views and senders in flight keep theirs)
 *  and the next append gets `start_offset`. For a follower whose leader no
 *  longer has the follower's end (Kafka's truncateFullyAndStartAt).
 *  Durable when it returns. SHIPLOG_EINVAL for a negative offset, or one
 *  so large (above 2^63 - 2^32) that offsets could overflow.
 *  Since 1.1. */
SHIPLOG_API int shiplog_log_reset(shiplog_log* log, int64_t start_offset);

/** The first offset whose record timestamp is >= `timestamp_ms` (Kafka's
 *  ListOffsets by time); SHIPLOG_ENOTFOUND if every record is older.
 *  Since 1.0. */
SHIPLOG_API int shiplog_log_offset_for_time(int64_t* out,
                                            const shiplog_log* log,
                                            int64_t timestamp_ms);

/* Slices and zero-copy views ------------------------------------------ */

/** Whole batches of one segment: what a read returns instead of bytes. It
 *  keeps its segment readable while it lives, even after retention deletes
 *  it. */
typedef struct shiplog_slice shiplog_slice;

/** The batches from the one holding `offset`, at most `max_bytes` (but at
 *  least one whole batch), within one segment. An empty slice at the log's
 *  end; SHIPLOG_ERANGE outside the log. Since 1.0. */
SHIPLOG_API int shiplog_log_read(shiplog_slice** out, const shiplog_log* log,
                                 int64_t offset, uint64_t max_bytes);

SHIPLOG_API void shiplog_slice_free(shiplog_slice* slice);

typedef struct shiplog_slice_info {
  int64_t first_offset; /* base offset of the first batch */
  int64_t next_offset;  /* the offset after the last batch */
  uint64_t position;    /* in the segment file */
  uint64_t size;        /* bytes */
} shiplog_slice_info;

/** Since 1.0. */
SHIPLOG_API int shiplog_slice_info_get(shiplog_slice_info* out,
                                       const shiplog_slice* slice);

/** A slice's bytes in place, through a read-only mapping of the segment:
 *  no copy. */
typedef struct shiplog_view shiplog_view;

/** The view stays valid while it lives, even if retention deletes the
 *  segment or truncation cuts it. Since 1.0. */
SHIPLOG_API int shiplog_view_open(shiplog_view** out,
                                  const shiplog_slice* slice);

/** The bytes: Kafka RecordBatch v2 batches, read-only (writing faults).
 *  Valid until shiplog_view_free. Since 1.0. */
SHIPLOG_API int shiplog_view_data(const void** data, size_t* size,
                                  const shiplog_view* view);

SHIPLOG_API void shiplog_view_free(shiplog_view* view);

/* Decoded records ------------------------------------------------------ */

/** Decodes records; copies them into process memory (the one place data
 *  is copied on purpose). */
typedef struct shiplog_records shiplog_records;

/** The records of `slice` from `min_offset` on. Since 1.0. */
SHIPLOG_API int shiplog_records_open(shiplog_records** out,
                                     const shiplog_slice* slice,
                                     int64_t min_offset);

/** The records of `log` from `offset`, up to `max_bytes` of batches (but
 *  at least one batch), across segments. Since 1.0. */
SHIPLOG_API int shiplog_records_open_log(shiplog_records** out,
                                         const shiplog_log* log,
                                         int64_t offset, uint64_t max_bytes);

/** The next record into `*out` (pointers valid until the next call or the
 *  free); SHIPLOG_ITEROVER after the last; SHIPLOG_ECORRUPT for a batch
 *  that fails validation; SHIPLOG_EUNSUPPORTED for a codec that cannot be
 *  decoded in process. Since 1.0. */
SHIPLOG_API int shiplog_records_next(shiplog_record* out,
                                     shiplog_records* records);

SHIPLOG_API void shiplog_records_free(shiplog_records* records);

/* Sending to descriptors ----------------------------------------------- */

typedef enum shiplog_send_policy {
  /** mmap + write below a threshold, sendfile from there up (see
   *  shiplog_send_options.mmap_threshold_bytes). */
  SHIPLOG_SEND_AUTO = 0,
  /** sendfile(2): no copy through user space. */
  SHIPLOG_SEND_SENDFILE = 1,
  /** write(2) from the segment's mapping. */
  SHIPLOG_SEND_MMAP_WRITE = 2,
  /** pread(2) + write(2) through one buffer: the traditional path. */
  SHIPLOG_SEND_COPY = 3
} shiplog_send_policy;

/** How bytes went: index shiplog_send_result.bytes_by_path with these. */
typedef enum shiplog_send_path {
  SHIPLOG_PATH_SENDFILE = 0,
  SHIPLOG_PATH_SPLICE = 1,
  SHIPLOG_PATH_MMAP_WRITE = 2,
  SHIPLOG_PATH_COPY = 3,
  /** A cold slice read with O_DIRECT into a buffer, then written: it
   *  bypassed the page cache (cold_read_lag_bytes). Since 1.2. */
  SHIPLOG_PATH_DIRECT_READ = 4
} shiplog_send_path;

typedef struct shiplog_send_options {
  unsigned int version;
  int policy;                    /* a shiplog_send_policy (default AUTO) */
  /** AUTO's threshold; 0 picks it by destination from what was measured
   *  (TRANSPORT.md): never sendfile to loopback TCP, from 64 KiB to AF_UNIX
   *  sockets, from 1 MiB to anything else. */
  uint64_t mmap_threshold_bytes;
  /** shiplog_log_send only: give up after this long on a descriptor that
   *  stays full; -1 waits forever (default). */
  int64_t timeout_ms;
  /** Cold reads: a part of the range that starts more than this many
   *  bytes behind the log's end is read with O_DIRECT into buffers of the
   *  store's pool and written from there, whatever the policy, so a
   *  consumer far behind does not evict from the page cache the tail that
   *  caught-up consumers are sent from. 0: off (default). Version 2,
   *  since 1.2. */
  uint64_t cold_read_lag_bytes;
} shiplog_send_options;

/* Version 1 (1.0) ends at timeout_ms; version 2 (1.2) adds
 * cold_read_lag_bytes. Both are accepted. */
#define SHIPLOG_SEND_OPTIONS_VERSION 2
#define SHIPLOG_SEND_OPTIONS_INIT \
  { SHIPLOG_SEND_OPTIONS_VERSION, SHIPLOG_SEND_AUTO, 0, -1, 0 }

/** Fills `options` as SHIPLOG_SEND_OPTIONS_INIT does, with the fields of
 *  `version` (1 or 2) only. Since 1.0; version 2 since 1.2. */
SHIPLOG_API int shiplog_send_options_init(shiplog_send_options* options,
                                          unsigned int version);

typedef struct shiplog_send_result {
  uint64_t bytes_sent;
  /** The base offset of the range's first batch (at or before the offset
   *  asked for). */
  int64_t first_offset;
  /** The offset after the last batch sent: where the next range starts. */
  int64_t next_offset;
  /** Indexed by shiplog_send_path. The fifth slot (SHIPLOG_PATH_DIRECT_READ,
   *  since 1.2) is written only by sends given options of version 2 or
   *  later: a caller built against an older header has four. */
  uint64_t bytes_by_path[5];
} shiplog_send_result;

/** The threshold SHIPLOG_SEND_AUTO uses for `fd` when the options leave it
 *  at 0: UINT64_MAX (never sendfile) for TCP to a loopback address, 64 KiB
 *  for AF_UNIX sockets, 1 MiB otherwise. Since 1.0. */
SHIPLOG_API int shiplog_send_auto_threshold(uint64_t* out, int fd);

/** Ships the log from the batch holding `offset`, up to `max_bytes` (but at
 *  least one whole batch), to `fd` (a socket, pipe or file; not owned),
 *  waiting for a non-blocking descriptor to drain when it fills. Never
 *  raises SIGPIPE: a closed peer is SHIPLOG_EPEERCLOSED. `out` may be NULL.
 *  Since 1.0. */
SHIPLOG_API int shiplog_log_send(shiplog_send_result* out,
                                 const shiplog_log* log, int64_t offset,
                                 uint64_t max_bytes, int fd,
                                 const shiplog_send_options* options);

/** A resumable send, for event loops. */
typedef struct shiplog_sender shiplog_sender;

/** Resolves the range now (so its size is known, and retention cannot
 *  break it); sends nothing yet. Since 1.0. */
SHIPLOG_API int shiplog_sender_open(shiplog_sender** out,
                                    const shiplog_log* log, int64_t offset,
                                    uint64_t max_bytes, int fd,
                                    const shiplog_send_options* options);

/** The range's size in bytes: known before the first byte goes out (a
 *  Kafka Fetch response states it up front). Since 1.0. */
SHIPLOG_API int shiplog_sender_size(uint64_t* out,
                                    const shiplog_sender* sender);

/** Sends what the descriptor takes now. SHIPLOG_OK when the whole range is
 *  sent; SHIPLOG_EAGAIN when the descriptor is full: call again once it is
 *  writable, and the send resumes where it stopped. `progress` (may be
 *  NULL) gets the totals so far. Since 1.0. */
SHIPLOG_API int shiplog_sender_send(shiplog_send_result* progress,
                                    shiplog_sender* sender);

SHIPLOG_API void shiplog_sender_free(shiplog_sender* sender);

/* ---------------------------------------------------------------------- */
/* Inspecting files                                                        */
/* ---------------------------------------------------------------------- */

/* For tools (shiplog dump): the batches of a segment file and the entries
 * of an index file, read directly from the files, without a store. Nothing
 * is ever written. */

/** One batch of a segment file, as its header describes it. */
typedef struct shiplog_file_batch {
  uint64_t position; /* where the batch starts in the file */
  uint64_t size;     /* bytes, header included */
  int64_t base_offset;
  int64_t last_offset;
  int32_t records;
  uint32_t crc;
  int compression; /* attributes bits 0-2: 0 none ... 4 zstd */
  int64_t base_timestamp;
  int64_t max_timestamp;
  int32_t partition_leader_epoch;
  int16_t attributes;
} shiplog_file_batch;

typedef struct shiplog_segment_reader shiplog_segment_reader;

/** Opens a segment's .log file. With `verify`, every batch's header, CRC
 *  and offset continuity (from the base offset in the file name) are
 *  checked as it is read. Since 1.0. */
SHIPLOG_API int shiplog_segment_reader_open(shiplog_segment_reader** out,
                                            const char* path, int verify);

/** The next batch; SHIPLOG_ITEROVER at the end of the file; SHIPLOG_ECORRUPT
 *  where the bytes stop being valid batches (the message gives the position
 *  and the fault; the reader stops there). Since 1.0. */
SHIPLOG_API int shiplog_segment_reader_next(shiplog_file_batch* out,
                                            shiplog_segment_reader* reader);

/** Validates the batch the last shiplog_segment_reader_next returned as
 *  shiplog_log_append_batches would (magic, lengths, CRC-32C, every
 *  record): SHIPLOG_OK, or SHIPLOG_ECORRUPT naming the position and the
 *  fault. The reader is not moved. Since 1.0. */
SHIPLOG_API int shiplog_segment_reader_check(
    const shiplog_segment_reader* reader);

SHIPLOG_API void shiplog_segment_reader_free(shiplog_segment_reader* reader);

typedef enum shiplog_index_kind {
  SHIPLOG_INDEX_OFFSET = 0, /* .index: offset -> position */
  SHIPLOG_INDEX_TIME = 1    /* .timeindex: timestamp -> offset */
} shiplog_index_kind;

/** One index entry: for an offset index (offset, position), for a time
 *  index (timestamp, offset). Offsets are absolute. */
typedef struct shiplog_index_entry {
  int64_t key;
  int64_t value;
} shiplog_index_entry;

typedef struct shiplog_index_reader shiplog_index_reader;

/** Opens an .index or .timeindex file (the kind and base offset come from
 *  its name). Every slot is read, preallocated empty ones included; the
 *  file is copied, never mapped, so a writer may trim it meanwhile.
 *  SHIPLOG_ECORRUPT if its size is not a whole number of entries.
 *  Since 1.0. */
SHIPLOG_API int shiplog_index_reader_open(shiplog_index_reader** out,
                                          const char* path);

/** The reader's kind and its number of slots. Since 1.0. */
SHIPLOG_API int shiplog_index_reader_info(int* kind, uint64_t* entries,
                                          const shiplog_index_reader* reader);

/** The entry in slot `slot`. SHIPLOG_ERANGE past the last. Since 1.0. */
SHIPLOG_API int shiplog_index_reader_get(shiplog_index_entry* out,
                                         const shiplog_index_reader* reader,
                                         uint64_t slot);

SHIPLOG_API void shiplog_index_reader_free(shiplog_index_reader* reader);

/* ---------------------------------------------------------------------- */
/* Backup and verification                                                 */
/* ---------------------------------------------------------------------- */

/** How far a backup or a verification has got, for progress bars. The
 *  library fills it; fields may be added after those of `version`. */
typedef struct shiplog_progress {
  unsigned int version; /* SHIPLOG_PROGRESS_VERSION of the library */
  /** The log being worked on; "" before the first and after the last.
   *  Valid during the callback only. */
  const char* log;
  uint64_t logs_done;
  uint64_t logs_total;
  uint64_t bytes_done;
  /** From the sizes when the call started; exact in the last callback,
   *  where it equals bytes_done. */
  uint64_t bytes_total;
} shiplog_progress;

#define SHIPLOG_PROGRESS_VERSION 1

/** Called on the calling thread as the work advances (at least once per
 *  log and once at the end), never while the library holds a lock: it may
 *  call the library, but not free the store being backed up. */
typedef void (*shiplog_progress_fn)(const shiplog_progress* progress,
                                    void* context);

typedef struct shiplog_backup_options {
  unsigned int version;
  shiplog_progress_fn progress; /* NULL: none (default) */
  void* progress_context;       /* passed to `progress` */
} shiplog_backup_options;

#define SHIPLOG_BACKUP_OPTIONS_VERSION 1
#define SHIPLOG_BACKUP_OPTIONS_INIT \
  { SHIPLOG_BACKUP_OPTIONS_VERSION, NULL, NULL }

/** Fills `options` as SHIPLOG_BACKUP_OPTIONS_INIT does. Since 1.2. */
SHIPLOG_API int shiplog_backup_options_init(shiplog_backup_options* options,
                                            unsigned int version);

/** What a backup took; `out->version` must be set first
 *  (SHIPLOG_BACKUP_REPORT_INIT). */
typedef struct shiplog_backup_report {
  unsigned int version;
  uint64_t logs;
  uint64_t segments_linked; /* hard links to closed segments */
  uint64_t segments_copied; /* across file systems, and each log's last */
  uint64_t bytes_linked;
  uint64_t bytes_copied;
} shiplog_backup_report;

#define SHIPLOG_BACKUP_REPORT_VERSION 1
#define SHIPLOG_BACKUP_REPORT_INIT \
  { SHIPLOG_BACKUP_REPORT_VERSION, 0, 0, 0, 0, 0 }

/** Copies the store into `destination`, which must not exist or be an
 *  empty directory, and must not lie inside the store; writers and readers
 *  carry on meanwhile. Each log is copied as it was at one moment, up to
 *  an offset below which every byte is durable: its closed segments become
 *  hard links (copies when `destination` is on another file system), the
 *  segment holding that offset is copied up to it, and the backup's
 *  checkpoints record it. A store open for writing flushes each log and
 *  backs it up to its recovery point, linking under the log's writer lock;
 *  a read-only store (beside another process's writer) backs up what its
 *  open found, fdatasync'ing those bytes in the source first. Logs are
 *  consistent one by one, not with each other.
 *
 *  The backup is built in `<destination>.partial-<pid>`, every file and
 *  directory fsync'd, then renamed: after a crash `destination` is absent
 *  or complete. Opening `destination` as a store restores it: it loads with
 *  no repairs, and the store appends to its own copy of each log's last
 *  segment (neither store's later writes reach the other through the
 *  links).
 *
 *  `out` (may be NULL) gets the counts; `notes` (may be NULL; release with
 *  shiplog_strarray_dispose) what the backup could not take as it would
 *  have liked (a flush that failed, segments the writer's retention removed
 *  meanwhile). SHIPLOG_EEXISTS for a destination that is not empty (or a
 *  partial directory left by a backup that was cut short), SHIPLOG_EINVAL
 *  for one inside the store, SHIPLOG_ERROR when a log changed under a
 *  read-only backup (run it again). On error nothing is left at
 *  `destination`. Since 1.2. */
SHIPLOG_API int shiplog_store_backup(shiplog_backup_report* out,
                                     shiplog_strarray* notes,
                                     shiplog_store* store,
                                     const char* destination,
                                     const shiplog_backup_options* options);

typedef struct shiplog_verify_options {
  unsigned int version;
  shiplog_progress_fn progress; /* NULL: none (default) */
  void* progress_context;       /* passed to `progress` */
} shiplog_verify_options;

#define SHIPLOG_VERIFY_OPTIONS_VERSION 1
#define SHIPLOG_VERIFY_OPTIONS_INIT \
  { SHIPLOG_VERIFY_OPTIONS_VERSION, NULL, NULL }

/** Fills `options` as SHIPLOG_VERIFY_OPTIONS_INIT does. Since 1.2. */
SHIPLOG_API int shiplog_verify_options_init(shiplog_verify_options* options,
                                            unsigned int version);

/** What a verification read and found; `out->version` must be set first
 *  (SHIPLOG_VERIFY_REPORT_INIT). */
typedef struct shiplog_verify_report {
  unsigned int version;
  uint64_t logs;
  uint64_t segments;
  uint64_t batches;
  uint64_t records;
  uint64_t bytes; /* of segment data, every byte read */
  uint64_t problems;
  uint64_t notes;
} shiplog_verify_report;

#define SHIPLOG_VERIFY_REPORT_VERSION 1
#define SHIPLOG_VERIFY_REPORT_INIT \
  { SHIPLOG_VERIFY_REPORT_VERSION, 0, 0, 0, 0, 0, 0, 0 }

/** Checks the store at `path` (a backup, or a store with or without a
 *  live writer) from its files, writing nothing: every batch's header and
 *  CRC-32C, offsets continuing within and across segments, every index
 *  entry against the batches, log.properties, and the checkpoints against
 *  the logs. `problems` gets what is wrong (damaged or missing data,
 *  indexes the store would trust that disagree with it, checkpoints the
 *  logs contradict), first found first; `notes` what a store repairs by
 *  itself with no data at stake (indexes it rebuilds, leftover temporary
 *  files, a live writer's unflushed tail). `out`, `problems` and `notes`
 *  may each be NULL.
 *
 *  SHIPLOG_OK when there are no problems; SHIPLOG_ECORRUPT when there are
 *  (shiplog_last_error() counts them and gives the first; the outputs are
 *  filled either way); SHIPLOG_ENOTFOUND for a missing store; another code
 *  when the files cannot be read. Since 1.2. */
SHIPLOG_API int shiplog_store_verify(shiplog_verify_report* out,
                                     shiplog_strarray* problems,
                                     shiplog_strarray* notes,
                                     const char* path,
                                     const shiplog_verify_options* options);

/* ---------------------------------------------------------------------- */
/* Metrics                                                                 */
/* ---------------------------------------------------------------------- */

/** The engine's counters at one moment, this process's resource use, and
 *  (given a store) each log's gauges. */
typedef struct shiplog_metrics shiplog_metrics;

/** `store` may be NULL (no per-log gauges). Since 1.0. */
SHIPLOG_API int shiplog_metrics_open(shiplog_metrics** out,
                                     shiplog_store* store);

/** The counters as a struct; `out->version` must be set first
 *  (SHIPLOG_METRICS_VALUES_INIT). */
typedef struct shiplog_metrics_values {
  unsigned int version;
  uint64_t appended_bytes;
  uint64_t appended_batches;
  uint64_t appended_records;
  uint64_t sent_bytes[4];    /* by shiplog_send_path */
  uint64_t send_syscalls[4]; /* by shiplog_send_path */
  uint64_t partial_sends;
  uint64_t send_eagain;
  uint64_t send_fallbacks;
  uint64_t send_errors;
  uint64_t fsyncs;
  uint64_t fsync_failures;
  double fsync_p50_seconds;
  double fsync_p99_seconds;
  int64_t open_files;
  int64_t mapped_bytes;
  int64_t mappings;
  uint64_t segments_recovered;
  uint64_t bytes_truncated_by_recovery;
  uint64_t crc_failures;
  uint64_t index_rebuilds;
} shiplog_metrics_values;

#define SHIPLOG_METRICS_VALUES_VERSION 1
/* Every field spelled out, so -Wextra -Werror code can use it. */
#define SHIPLOG_METRICS_VALUES_INIT                                      \
  {                                                                      \
    SHIPLOG_METRICS_VALUES_VERSION, 0, 0, 0, {0, 0, 0, 0}, {0, 0, 0, 0}, \
        0, 0, 0, 0, 0, 0, 0.0, 0.0, 0, 0, 0, 0, 0, 0, 0                  \
  }

/** Since 1.0. */
SHIPLOG_API int shiplog_metrics_values_get(shiplog_metrics_values* out,
                                           const shiplog_metrics* metrics);

/** The snapshot in Prometheus text exposition format (0.0.4), in a new
 *  NUL-terminated buffer to release with shiplog_free. Since 1.0. */
SHIPLOG_API int shiplog_metrics_prometheus(char** out,
                                           const shiplog_metrics* metrics);

/** The snapshot as a table for people, in a new buffer to release with
 *  shiplog_free. Since 1.0. */
SHIPLOG_API int shiplog_metrics_text(char** out,
                                     const shiplog_metrics* metrics);

SHIPLOG_API void shiplog_metrics_free(shiplog_metrics* metrics);

#ifdef __cplusplus
}
#endif

#endif /* SHIPLOG_H */
