// Shipping ranges of logs to descriptors: one-shot and resumable.
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "capi/src/handles.h"
#include "capi/src/options.h"
#include "capi/src/status.h"
#include "capi/src/versioned.h"

using shiplog::capi::CheckHandle;
using shiplog::capi::CheckNotNull;
using shiplog::capi::kSendOptionsSizes;
using shiplog::capi::ReadVersioned;
using shiplog::capi::Fail;
using shiplog::capi::Guard;
using shiplog::capi::Report;
using shiplog::capi::WriteVersioned;

namespace {

constexpr shiplog::SendPath kPathOrder[] = {
    shiplog::SendPath::kSendfile, shiplog::SendPath::kSplice,
    shiplog::SendPath::kMmapWrite, shiplog::SendPath::kCopy,
    shiplog::SendPath::kDirectRead};
static_assert(SHIPLOG_PATH_SENDFILE == 0 && SHIPLOG_PATH_SPLICE == 1 &&
              SHIPLOG_PATH_MMAP_WRITE == 2 && SHIPLOG_PATH_COPY == 3 &&
              SHIPLOG_PATH_DIRECT_READ == 4);
static_assert(std::size(kPathOrder) ==
              sizeof(shiplog_send_result::bytes_by_path) / sizeof(uint64_t));

// The path slots a caller's shiplog_send_result has: version 1 options
// (and NULL, which old callers pass too) come with a four-slot result.
size_t PathSlots(const shiplog_send_options* options) {
  return options != nullptr && options->version >= 2 ? std::size(kPathOrder)
                                                     : 4;
}

void FillPaths(const shiplog::PerSendPath<uint64_t>& bytes, size_t slots,
               shiplog_send_result* out) {
  for (size_t i = 0; i < slots; ++i) {
    out->bytes_by_path[i] = bytes[kPathOrder[i]];
  }
}

// Checks and converts the options; `options` may be NULL. Cold reads use
// the buffer pool of `log`'s store.
int Convert(const shiplog_send_options* options, const shiplog_log& log,
            shiplog::SendOptions* out, int64_t* timeout_ms) {
  shiplog_send_options given = SHIPLOG_SEND_OPTIONS_INIT;
  if (options != nullptr) {
    SHIPLOG_TRY(ReadVersioned(options, kSendOptionsSizes,
                              "shiplog_send_options", &given));
  }
  absl::StatusOr<shiplog::SendOptions> converted =
      shiplog::capi::ToSendOptions(given);
  if (!converted.ok()) return Report(converted.status());
  *out = *converted;
  out->direct_read_pool = log.direct_read_pool;
  if (timeout_ms != nullptr) *timeout_ms = given.timeout_ms;
  return SHIPLOG_OK;
}

int CheckFd(int fd) {
  if (fd >= 0) return SHIPLOG_OK;
  return Fail(SHIPLOG_EINVAL, absl::StrCat("fd ", fd, " is not a descriptor"));
}

}  // namespace

extern "C" {

int shiplog_send_options_init(shiplog_send_options* options,
                              unsigned int version) {
  SHIPLOG_TRY(CheckNotNull(options, "options"));
  const shiplog_send_options defaults = SHIPLOG_SEND_OPTIONS_INIT;
  return WriteVersioned(defaults, version, kSendOptionsSizes,
                        "shiplog_send_options", options);
}

int shiplog_send_auto_threshold(uint64_t* out, int fd) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    SHIPLOG_TRY(CheckFd(fd));
    absl::StatusOr<shiplog::Destination> destination =
        shiplog::Destination::Inspect(fd);
    if (!destination.ok()) return Report(destination.status());
    *out = shiplog::DefaultMmapThreshold(*destination);
    return SHIPLOG_OK;
  });
}

int shiplog_log_send(shiplog_send_result* out, const shiplog_log* log,
                     int64_t offset, uint64_t max_bytes, int fd,
                     const shiplog_send_options* options) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckHandle(log, shiplog::capi::kLogMagic, "log"));
    SHIPLOG_TRY(CheckFd(fd));
    shiplog::SendOptions send_options;
    int64_t timeout_ms = -1;
    SHIPLOG_TRY(Convert(options, *log, &send_options, &timeout_ms));
    absl::StatusOr<shiplog::SendResult> sent = shiplog::SendLogRange(
        *log->log, offset, max_bytes, fd, send_options, timeout_ms);
    if (!sent.ok()) return Report(sent.status());
    if (out != nullptr) {
      out->bytes_sent = sent->bytes_sent;
      out->first_offset = sent->first_offset;
      out->next_offset = sent->next_offset;
      FillPaths(sent->bytes_by_path, PathSlots(options), out);
    }
    return SHIPLOG_OK;
  });
}

int shiplog_sender_open(shiplog_sender** out, const shiplog_log* log,
                        int64_t offset, uint64_t max_bytes, int fd,
                        const shiplog_send_options* options) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckHandle(log, shiplog::capi::kLogMagic, "log"));
    SHIPLOG_TRY(CheckFd(fd));
    shiplog::SendOptions send_options;
    SHIPLOG_TRY(Convert(options, *log, &send_options, nullptr));
    absl::StatusOr<shiplog::Destination> destination =
        shiplog::Destination::Inspect(fd);
    if (!destination.ok()) return Report(destination.status());
    absl::StatusOr<shiplog::LogSendCursor> cursor =
        shiplog::LogSendCursor::Start(*log->log, offset, max_bytes,
                                      *destination, send_options);
    if (!cursor.ok()) return Report(cursor.status());
    auto handle = std::make_unique<shiplog_sender>();
    handle->cursor.emplace(*std::move(cursor));
    handle->path_slots = PathSlots(options);
    *out = handle.release();
    return SHIPLOG_OK;
  });
}

int shiplog_sender_size(uint64_t* out, const shiplog_sender* sender) {
  SHIPLOG_TRY(CheckNotNull(out, "out"));
  SHIPLOG_TRY(CheckHandle(sender, shiplog::capi::kSenderMagic, "sender"));
  *out = sender->cursor->size_bytes();
  return SHIPLOG_OK;
}

int shiplog_sender_send(shiplog_send_result* progress, shiplog_sender* sender) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckHandle(sender, shiplog::capi::kSenderMagic, "sender"));
    shiplog::LogSendCursor& cursor = *sender->cursor;
    const absl::Status sent = cursor.Send().status();
    if (progress != nullptr) {
      progress->bytes_sent = cursor.bytes_sent();
      progress->first_offset = cursor.first_offset();
      progress->next_offset = cursor.next_offset();
      FillPaths(cursor.bytes_by_path(), sender->path_slots, progress);
    }
    SHIPLOG_TRY(Report(sent));
    return cursor.done() ? SHIPLOG_OK : SHIPLOG_EAGAIN;
  });
}

void shiplog_sender_free(shiplog_sender* sender) {
  if (sender == nullptr || sender->magic != shiplog::capi::kSenderMagic) {
    return;
  }
  Guard([&]() -> int {
    sender->magic = shiplog::capi::kFreedMagic;
    delete sender;
    return SHIPLOG_OK;
  });
}

}  // extern "C"
