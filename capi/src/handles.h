// The structs behind shiplog.h's opaque handles.
//
// Each starts with a magic number that the entry points check, so a NULL,
// foreign or already-freed handle (in the common case where the memory has
// not been reused) is refused with SHIPLOG_EINVAL instead of being used.
#ifndef SHIPLOG_CAPI_SRC_HANDLES_H_
#define SHIPLOG_CAPI_SRC_HANDLES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capi/include/shiplog.h"
#include "engine/format/record.h"
#include "engine/format/record_reader.h"
#include "engine/index/offset_index.h"
#include "engine/index/time_index.h"
#include "engine/io/env.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/metrics/process_stats.h"
#include "engine/segment/batch_scanner.h"
#include "engine/store/store.h"
#include "engine/transport/log_sender.h"
#include "engine/transport/slice_view.h"

namespace shiplog::capi {

enum Magic : uint32_t {
  kStoreMagic = 0x53544f52,          // "STOR"
  kLogMagic = 0x4c4f4721,            // "LOG!"
  kSliceMagic = 0x534c4943,          // "SLIC"
  kViewMagic = 0x56494557,           // "VIEW"
  kRecordsMagic = 0x52454353,        // "RECS"
  kSenderMagic = 0x53454e44,         // "SEND"
  kMetricsMagic = 0x4d455452,        // "METR"
  kSegmentReaderMagic = 0x5345474d,  // "SEGM"
  kIndexReaderMagic = 0x494e4458,    // "INDX"
  kFreedMagic = 0xdeadbeef,
};

}  // namespace shiplog::capi

struct shiplog_store {
  uint32_t magic = shiplog::capi::kStoreMagic;
  std::unique_ptr<shiplog::Store> store;
  bool closed = false;
};

struct shiplog_log {
  uint32_t magic = shiplog::capi::kLogMagic;
  std::shared_ptr<shiplog::Log> log;
  // The store's, for cold reads; outlives the store handle if need be.
  std::shared_ptr<shiplog::AlignedBufferPool> direct_read_pool;
};

struct shiplog_slice {
  uint32_t magic = shiplog::capi::kSliceMagic;
  shiplog::Slice slice;
};

struct shiplog_view {
  uint32_t magic = shiplog::capi::kViewMagic;
  std::optional<shiplog::SliceView> view;
};

struct shiplog_records {
  uint32_t magic = shiplog::capi::kRecordsMagic;
  // The slices still to decode, one at a time, into `bytes`.
  std::vector<shiplog::Slice> slices;
  size_t next_slice = 0;
  int64_t min_offset = 0;
  std::string bytes;
  std::optional<shiplog::RecordReader> reader;
  // What the last shiplog_records_next handed out points into these.
  shiplog::Record current;
  std::vector<shiplog_header> current_headers;
};

struct shiplog_sender {
  uint32_t magic = shiplog::capi::kSenderMagic;
  std::optional<shiplog::LogSendCursor> cursor;
  // The bytes_by_path slots of the caller's shiplog_send_result, from the
  // version of the options the sender was opened with.
  size_t path_slots = 4;
};

struct shiplog_metrics {
  uint32_t magic = shiplog::capi::kMetricsMagic;
  shiplog::EngineMetricsSnapshot engine;
  std::optional<shiplog::ProcessStats> process;
  std::vector<shiplog::LogGauges> logs;
};

struct shiplog_segment_reader {
  uint32_t magic = shiplog::capi::kSegmentReaderMagic;
  std::unique_ptr<shiplog::File> file;
  std::optional<shiplog::BatchScanner> scanner;
  bool finished = false;
  bool has_batch = false;  // the last next() returned a batch
};

struct shiplog_index_reader {
  uint32_t magic = shiplog::capi::kIndexReaderMagic;
  int kind = SHIPLOG_INDEX_OFFSET;
  std::unique_ptr<shiplog::OffsetIndex> offset_index;
  std::unique_ptr<shiplog::TimeIndex> time_index;
};

#endif  // SHIPLOG_CAPI_SRC_HANDLES_H_
