// Appends, flushes, rolls, truncation and time lookups.
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "capi/src/handles.h"
#include "capi/src/status.h"

using shiplog::capi::CheckHandle;
using shiplog::capi::CheckNotNull;
using shiplog::capi::CheckVersion;
using shiplog::capi::Fail;
using shiplog::capi::Guard;
using shiplog::capi::Report;

namespace {

int CheckLog(const shiplog_log* log) {
  return CheckHandle(log, shiplog::capi::kLogMagic, "log");
}

// A (pointer, length) byte string: NULL with 0 is null; NULL with a length
// is a caller's mistake.
int ToBytes(const void* data, size_t length, const char* what,
            std::optional<absl::string_view>* out) {
  if (data == nullptr) {
    if (length != 0) {
      return Fail(SHIPLOG_EINVAL,
                  absl::StrCat(what, " is NULL but its length is ", length));
    }
    out->reset();
    return SHIPLOG_OK;
  }
  *out = absl::string_view(static_cast<const char*>(data), length);
  return SHIPLOG_OK;
}

void Fill(shiplog_append_result* out, const shiplog::AppendResult& result) {
  if (out == nullptr) return;
  out->base_offset = result.base_offset;
  out->last_offset = result.last_offset;
  out->bytes = result.bytes;
}

}  // namespace

extern "C" {

int shiplog_append_options_init(shiplog_append_options* options,
                                unsigned int version) {
  SHIPLOG_TRY(CheckNotNull(options, "options"));
  SHIPLOG_TRY(CheckVersion(version, SHIPLOG_APPEND_OPTIONS_VERSION,
                           "shiplog_append_options"));
  *options = SHIPLOG_APPEND_OPTIONS_INIT;
  return SHIPLOG_OK;
}

int shiplog_log_append(shiplog_append_result* out, shiplog_log* log,
                       const shiplog_record* records, size_t count,
                       const shiplog_append_options* options) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckLog(log));
    SHIPLOG_TRY(CheckNotNull(records, "records"));
    if (count == 0) return Fail(SHIPLOG_EINVAL, "count is 0: no records");
    shiplog_append_options defaults = SHIPLOG_APPEND_OPTIONS_INIT;
    if (options == nullptr) options = &defaults;
    SHIPLOG_TRY(CheckVersion(options->version, SHIPLOG_APPEND_OPTIONS_VERSION,
                             "shiplog_append_options"));
    shiplog::BatchOptions batch_options;
    switch (options->compression) {
      case SHIPLOG_COMPRESSION_NONE:
        batch_options.compression = shiplog::Compression::kNone;
        break;
      case SHIPLOG_COMPRESSION_ZSTD:
        batch_options.compression = shiplog::Compression::kZstd;
        break;
      default:
        return Fail(SHIPLOG_EINVAL,
                    absl::StrCat("unknown compression ", options->compression,
                                 " (SHIPLOG_COMPRESSION_NONE or _ZSTD)"));
    }
    batch_options.zstd_level = options->zstd_level;

    std::vector<shiplog::RecordView> views(count);
    size_t header_total = 0;
    for (size_t i = 0; i < count; ++i) header_total += records[i].header_count;
    std::vector<shiplog::RecordHeaderView> header_views;
    header_views.reserve(header_total);
    for (size_t i = 0; i < count; ++i) {
      const shiplog_record& record = records[i];
      shiplog::RecordView& view = views[i];
      SHIPLOG_TRY(
          ToBytes(record.key, record.key_len, "a record's key", &view.key));
      SHIPLOG_TRY(ToBytes(record.value, record.value_len, "a record's value",
                          &view.value));
      view.timestamp_ms = record.timestamp_ms;
      if (record.header_count > 0) {
        SHIPLOG_TRY(CheckNotNull(record.headers, "a record's headers"));
      }
      const size_t first_header = header_views.size();
      for (size_t h = 0; h < record.header_count; ++h) {
        const shiplog_header& header = record.headers[h];
        std::optional<absl::string_view> key;
        SHIPLOG_TRY(
            ToBytes(header.key, header.key_len, "a header's key", &key));
        if (!key.has_value()) {
          return Fail(SHIPLOG_EINVAL,
                      "a header's key is NULL: header keys "
                      "are never null");
        }
        shiplog::RecordHeaderView& header_view = header_views.emplace_back();
        header_view.key = *key;
        SHIPLOG_TRY(ToBytes(header.value, header.value_len, "a header's value",
                            &header_view.value));
      }
      view.headers = absl::MakeConstSpan(header_views)
                         .subspan(first_header, record.header_count);
    }
    absl::StatusOr<shiplog::AppendResult> appended =
        log->log->Append(views, batch_options);
    if (!appended.ok()) return Report(appended.status());
    Fill(out, *appended);
    return SHIPLOG_OK;
  });
}

int shiplog_log_append_batches(shiplog_append_result* out, shiplog_log* log,
                               void* batches, size_t size) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckLog(log));
    SHIPLOG_TRY(CheckNotNull(batches, "batches"));
    if (size == 0) return Fail(SHIPLOG_EINVAL, "size is 0: no batches");
    absl::StatusOr<shiplog::AppendResult> appended = log->log->AppendBatches(
        absl::MakeSpan(static_cast<char*>(batches), size));
    if (!appended.ok()) return Report(appended.status());
    Fill(out, *appended);
    return SHIPLOG_OK;
  });
}

int shiplog_log_flush(shiplog_log* log) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckLog(log));
    return Report(log->log->Flush());
  });
}

int shiplog_log_roll(shiplog_log* log) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckLog(log));
    return Report(log->log->Roll());
  });
}

int shiplog_log_truncate(shiplog_log* log, int64_t offset) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckLog(log));
    return Report(log->log->TruncateTo(offset));
  });
}

int shiplog_log_reset(shiplog_log* log, int64_t start_offset) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckLog(log));
    return Report(log->log->TruncateFullyAndStartAt(start_offset));
  });
}

int shiplog_log_offset_for_time(int64_t* out, const shiplog_log* log,
                                int64_t timestamp_ms) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    SHIPLOG_TRY(CheckLog(log));
    absl::StatusOr<std::optional<int64_t>> found =
        log->log->OffsetForTime(timestamp_ms);
    if (!found.ok()) return Report(found.status());
    if (!found->has_value()) {
      return Fail(SHIPLOG_ENOTFOUND,
                  absl::StrCat("no record in log ", log->log->name(),
                               " has a timestamp at or after ", timestamp_ms));
    }
    *out = **found;
    return SHIPLOG_OK;
  });
}

}  // extern "C"
