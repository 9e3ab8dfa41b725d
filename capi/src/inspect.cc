// Reading segment and index files directly, for tools.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "capi/src/handles.h"
#include "capi/src/status.h"
#include "engine/format/batch_validator.h"
#include "engine/segment/segment_files.h"

using shiplog::capi::CheckHandle;
using shiplog::capi::CheckNotNull;
using shiplog::capi::Fail;
using shiplog::capi::Guard;
using shiplog::capi::Report;

namespace {

absl::string_view BaseName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
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

}  // namespace

extern "C" {

int shiplog_segment_reader_open(shiplog_segment_reader** out, const char* path,
                                int verify) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckNotNull(path, "path"));
    absl::StatusOr<std::unique_ptr<shiplog::File>> file =
        shiplog::Env::Default()->OpenFile(path, shiplog::OpenMode::kReadOnly);
    if (!file.ok()) return Report(file.status());
    absl::StatusOr<uint64_t> size = (*file)->Size();
    if (!size.ok()) return Report(size.status());
    shiplog::BatchScanner::Options options;
    options.verify = verify != 0;
    options.buffer_bytes = 256 * 1024;
    if (options.verify) {
      // Offsets must continue from the base offset the name gives.
      options.expected_base_offset = shiplog::ParseSegmentFileName(
          BaseName(path), shiplog::kLogFileSuffix);
    }
    auto handle = std::make_unique<shiplog_segment_reader>();
    handle->file = *std::move(file);
    handle->scanner.emplace(*handle->file, 0, *size, options);
    *out = handle.release();
    return SHIPLOG_OK;
  });
}

int shiplog_segment_reader_next(shiplog_file_batch* out,
                                shiplog_segment_reader* reader) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    SHIPLOG_TRY(CheckHandle(reader, shiplog::capi::kSegmentReaderMagic,
                            "segment reader"));
    reader->has_batch = false;
    if (reader->finished) return SHIPLOG_ITEROVER;
    shiplog::BatchScanner& scanner = *reader->scanner;
    if (!scanner.Next()) {
      reader->finished = true;
      SHIPLOG_TRY(Report(scanner.status()));
      return SHIPLOG_ITEROVER;
    }
    const shiplog::BatchHeader& header = scanner.header();
    out->position = scanner.position();
    out->size = header.size_in_bytes();
    out->base_offset = header.base_offset;
    out->last_offset = header.last_offset();
    out->records = header.records_count;
    out->crc = header.crc;
    out->compression = static_cast<int>(header.compression());
    out->base_timestamp = header.base_timestamp;
    out->max_timestamp = header.max_timestamp;
    out->partition_leader_epoch = header.partition_leader_epoch;
    out->attributes = header.attributes;
    reader->has_batch = true;
    return SHIPLOG_OK;
  });
}

int shiplog_segment_reader_check(const shiplog_segment_reader* reader) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckHandle(reader, shiplog::capi::kSegmentReaderMagic,
                            "segment reader"));
    if (!reader->has_batch) {
      return Fail(SHIPLOG_EINVAL,
                  "no batch to check: call "
                  "shiplog_segment_reader_next first");
    }
    const shiplog::BatchScanner& scanner = *reader->scanner;
    std::string bytes(scanner.header().size_in_bytes(), '\0');
    SHIPLOG_TRY(Report(shiplog::ReadFully(*reader->file, scanner.position(),
                                          absl::MakeSpan(bytes))));
    absl::StatusOr<shiplog::BatchInfo> valid = shiplog::ValidateBatch(
        bytes, shiplog::ValidateOptions{}, scanner.position());
    if (!valid.ok()) {
      return Report(absl::DataLossError(
          absl::StrCat(reader->file->path(), ": ", valid.status().message())));
    }
    return SHIPLOG_OK;
  });
}

void shiplog_segment_reader_free(shiplog_segment_reader* reader) {
  FreeHandle(reader, shiplog::capi::kSegmentReaderMagic);
}

int shiplog_index_reader_open(shiplog_index_reader** out, const char* path) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckNotNull(path, "path"));
    const absl::string_view name = BaseName(path);
    const bool time = absl::EndsWith(name, shiplog::kTimeIndexFileSuffix);
    const std::optional<int64_t> base = shiplog::ParseSegmentFileName(
        name,
        time ? shiplog::kTimeIndexFileSuffix : shiplog::kOffsetIndexFileSuffix);
    if (!base.has_value()) {
      return Fail(SHIPLOG_EINVAL,
                  absl::StrCat(path,
                               " is not named <20-digit base offset>"
                               ".index or .timeindex"));
    }
    absl::StatusOr<std::unique_ptr<shiplog::IndexFile>> file =
        shiplog::IndexFile::ReadSnapshot(
            shiplog::Env::Default(), path,
            time ? shiplog::TimeIndex::kEntrySize
                 : shiplog::OffsetIndex::kEntrySize);
    if (!file.ok()) return Report(file.status());
    auto handle = std::make_unique<shiplog_index_reader>();
    if (time) {
      handle->kind = SHIPLOG_INDEX_TIME;
      handle->time_index =
          std::make_unique<shiplog::TimeIndex>(*base, *std::move(file));
    } else {
      handle->offset_index =
          std::make_unique<shiplog::OffsetIndex>(*base, *std::move(file));
    }
    *out = handle.release();
    return SHIPLOG_OK;
  });
}

int shiplog_index_reader_info(int* kind, uint64_t* entries,
                              const shiplog_index_reader* reader) {
  SHIPLOG_TRY(CheckNotNull(kind, "kind"));
  SHIPLOG_TRY(CheckNotNull(entries, "entries"));
  SHIPLOG_TRY(
      CheckHandle(reader, shiplog::capi::kIndexReaderMagic, "index reader"));
  *kind = reader->kind;
  *entries = reader->time_index ? reader->time_index->entries()
                                : reader->offset_index->entries();
  return SHIPLOG_OK;
}

int shiplog_index_reader_get(shiplog_index_entry* out,
                             const shiplog_index_reader* reader,
                             uint64_t slot) {
  SHIPLOG_TRY(CheckNotNull(out, "out"));
  SHIPLOG_TRY(
      CheckHandle(reader, shiplog::capi::kIndexReaderMagic, "index reader"));
  const uint64_t entries = reader->time_index ? reader->time_index->entries()
                                              : reader->offset_index->entries();
  if (slot >= entries) {
    return Fail(SHIPLOG_ERANGE, absl::StrCat("slot ", slot, " is past the ",
                                             entries, " entries"));
  }
  if (reader->time_index) {
    const shiplog::TimestampOffset entry = reader->time_index->EntryAt(slot);
    out->key = entry.timestamp;
    out->value = entry.offset;
  } else {
    const shiplog::OffsetPosition entry = reader->offset_index->EntryAt(slot);
    out->key = entry.offset;
    out->value = entry.position;
  }
  return SHIPLOG_OK;
}

void shiplog_index_reader_free(shiplog_index_reader* reader) {
  FreeHandle(reader, shiplog::capi::kIndexReaderMagic);
}

}  // extern "C"
