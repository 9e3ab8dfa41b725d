// Slices, zero-copy views and decoded records.
#include <utility>

#include "absl/strings/str_cat.h"
#include "capi/src/handles.h"
#include "capi/src/status.h"
#include "engine/status/status_macros.h"

using shiplog::capi::CheckHandle;
using shiplog::capi::CheckNotNull;
using shiplog::capi::Guard;
using shiplog::capi::Report;

namespace {

int CheckLog(const shiplog_log* log) {
  return CheckHandle(log, shiplog::capi::kLogMagic, "log");
}
int CheckSlice(const shiplog_slice* slice) {
  return CheckHandle(slice, shiplog::capi::kSliceMagic, "slice");
}

template <typename Handle>
void FreeHandle(Handle* handle, uint32_t magic) {
  if (handle == nullptr || handle->magic != magic) return;
  Guard([&]() -> int {
    handle->magic = shiplog::capi::kFreedMagic;
    delete handle;
    return SHIPLOG_OK;
  });
}

// Decodes the next slice into `records->bytes`; false when none is left.
absl::StatusOr<bool> LoadNextSlice(shiplog_records* records) {
  if (records->next_slice == records->slices.size()) return false;
  shiplog::Slice& slice = records->slices[records->next_slice++];
  RETURN_IF_ERROR(shiplog::ReadSliceBytes(slice, &records->bytes));
  slice = shiplog::Slice{};  // let go of the segment
  records->reader.emplace(records->bytes, records->min_offset);
  return true;
}

void FillRecord(shiplog_records* records, shiplog_record* out) {
  const shiplog::Record& record = records->current;
  out->offset = record.offset;
  out->timestamp_ms = record.timestamp_ms;
  out->key = record.key ? record.key->data() : nullptr;
  out->key_len = record.key ? record.key->size() : 0;
  out->value = record.value ? record.value->data() : nullptr;
  out->value_len = record.value ? record.value->size() : 0;
  records->current_headers.clear();
  for (const shiplog::RecordHeader& header : record.headers) {
    shiplog_header& entry = records->current_headers.emplace_back();
    entry.key = header.key.data();
    entry.key_len = header.key.size();
    entry.value = header.value ? header.value->data() : nullptr;
    entry.value_len = header.value ? header.value->size() : 0;
  }
  out->headers = records->current_headers.empty()
                     ? nullptr
                     : records->current_headers.data();
  out->header_count = records->current_headers.size();
}

}  // namespace

extern "C" {

int shiplog_log_read(shiplog_slice** out, const shiplog_log* log,
                     int64_t offset, uint64_t max_bytes) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckLog(log));
    absl::StatusOr<shiplog::Slice> slice = log->log->Read(offset, max_bytes);
    if (!slice.ok()) return Report(slice.status());
    auto handle = std::make_unique<shiplog_slice>();
    handle->slice = *std::move(slice);
    *out = handle.release();
    return SHIPLOG_OK;
  });
}

void shiplog_slice_free(shiplog_slice* slice) {
  FreeHandle(slice, shiplog::capi::kSliceMagic);
}

int shiplog_slice_info_get(shiplog_slice_info* out,
                           const shiplog_slice* slice) {
  SHIPLOG_TRY(CheckNotNull(out, "out"));
  SHIPLOG_TRY(CheckSlice(slice));
  out->first_offset = slice->slice.first_offset;
  out->next_offset = slice->slice.next_offset;
  out->position = slice->slice.position;
  out->size = slice->slice.size;
  return SHIPLOG_OK;
}

int shiplog_view_open(shiplog_view** out, const shiplog_slice* slice) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckSlice(slice));
    absl::StatusOr<shiplog::SliceView> view =
        shiplog::SliceView::Create(slice->slice);
    if (!view.ok()) return Report(view.status());
    auto handle = std::make_unique<shiplog_view>();
    handle->view.emplace(*std::move(view));
    *out = handle.release();
    return SHIPLOG_OK;
  });
}

int shiplog_view_data(const void** data, size_t* size,
                      const shiplog_view* view) {
  SHIPLOG_TRY(CheckNotNull(data, "data"));
  SHIPLOG_TRY(CheckNotNull(size, "size"));
  SHIPLOG_TRY(CheckHandle(view, shiplog::capi::kViewMagic, "view"));
  *data = view->view->bytes().data();
  *size = view->view->bytes().size();
  return SHIPLOG_OK;
}

void shiplog_view_free(shiplog_view* view) {
  FreeHandle(view, shiplog::capi::kViewMagic);
}

int shiplog_records_open(shiplog_records** out, const shiplog_slice* slice,
                         int64_t min_offset) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckSlice(slice));
    auto handle = std::make_unique<shiplog_records>();
    handle->slices.push_back(slice->slice);
    handle->min_offset = min_offset;
    *out = handle.release();
    return SHIPLOG_OK;
  });
}

int shiplog_records_open_log(shiplog_records** out, const shiplog_log* log,
                             int64_t offset, uint64_t max_bytes) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckLog(log));
    absl::StatusOr<shiplog::LogRange> range =
        shiplog::ResolveLogRange(*log->log, offset, max_bytes);
    if (!range.ok()) return Report(range.status());
    auto handle = std::make_unique<shiplog_records>();
    handle->slices = std::move(range->slices);
    handle->min_offset = offset;
    *out = handle.release();
    return SHIPLOG_OK;
  });
}

int shiplog_records_next(shiplog_record* out, shiplog_records* records) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    SHIPLOG_TRY(CheckHandle(records, shiplog::capi::kRecordsMagic, "records"));
    while (true) {
      if (records->reader.has_value()) {
        if (records->reader->Next()) {
          records->current = records->reader->record();
          FillRecord(records, out);
          return SHIPLOG_OK;
        }
        SHIPLOG_TRY(Report(records->reader->status()));
        records->reader.reset();
      }
      absl::StatusOr<bool> loaded = LoadNextSlice(records);
      if (!loaded.ok()) return Report(loaded.status());
      if (!*loaded) return SHIPLOG_ITEROVER;
    }
  });
}

void shiplog_records_free(shiplog_records* records) {
  FreeHandle(records, shiplog::capi::kRecordsMagic);
}

}  // extern "C"
