// capi_sequence_fuzz: the input is a little program of C ABI calls against
// a store in a scratch directory (README.md, "capi_sequence_fuzz"). It
// sees the library only through shiplog.h, as every binding does. Every
// call must return a status the header lists (never SHIPLOG_ERROR, the
// library's "bug" code) and never crash, and the logs must behave: end
// offsets only grow (but for truncate, reset and delete), appends land at
// the end, every offset in [start, end) reads and decodes, and a clean
// reopen finds each log as it was.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "shiplog.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/scratch_dir.h"

namespace shiplog::fuzz {
namespace {

constexpr int kMaxOps = 256;
// Store opens (and reopens) cost a checkpoint and a lock each: a program
// of nothing else would run for long and find nothing more.
constexpr int kMaxStoreOpens = 8;
constexpr size_t kLogSlots = 2;
constexpr size_t kSliceSlots = 4;
constexpr int kMaxRecordsRead = 1024;
constexpr int kMaxSendCalls = 1024;

// The names programs open logs by: two pairs of good ones and the kinds of
// bad ones the name rule refuses.
const char* const kNames[] = {"events-0", "events-1", "orders-0", "orders-1",
                              "", ".", "..", "a/b", "tab\there", "x*y"};
constexpr size_t kGoodNames = 4;

std::string LongName() { return std::string(250, 'n'); }

enum Op : uint8_t {
  kOpenStore,
  kCloseStore,
  kFreeStore,
  kReopenStore,
  kOpenLog,
  kFreeLog,
  kAppend,
  kAppendBatches,
  kCopyBatches,
  kRead,
  kUseSlice,
  kReadRecords,
  kTruncate,
  kReset,
  kRoll,
  kFlush,
  kOffsetForTime,
  kInspectLog,
  kStoreCalls,
  kDeleteLog,
  kSend,
  kInspectFiles,
  kMetrics,
  kNullHandles,
  kOpCount,
};

bool KnownStatus(int status) {
  return status == SHIPLOG_OK || status == SHIPLOG_ITEROVER ||
         (status <= SHIPLOG_EINVAL && status >= SHIPLOG_ELOWSPACE);
}

// CAPI_FUZZ_TRACE=1 prints every call and its status: what a program does.
bool Tracing() {
  static const bool tracing = std::getenv("CAPI_FUZZ_TRACE") != nullptr;
  return tracing;
}

// Every status must be one the header lists, and never SHIPLOG_ERROR.
int Checked(int status, const char* call) {
  if (Tracing()) std::fprintf(stderr, "%s -> %d\n", call, status);
  FUZZ_CHECK(KnownStatus(status), "%s returned %d (%s): %s", call, status,
             shiplog_status_str(status), shiplog_last_error());
  FUZZ_CHECK(shiplog_last_error() != nullptr, "shiplog_last_error is NULL");
  return status;
}
#define CALL(expr) Checked((expr), #expr)

// CRC-32C, bit by bit: enough to make fuzzed batches pass the check.
uint32_t Crc32c(const char* data, size_t size) {
  uint32_t crc = 0xffffffff;
  for (size_t i = 0; i < size; ++i) {
    crc ^= static_cast<uint8_t>(data[i]);
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ (0x82f63b78 & (0u - (crc & 1)));
    }
  }
  return ~crc;
}

uint32_t LoadBigEndian32(const char* p) {
  return (uint32_t{static_cast<uint8_t>(p[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(p[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(p[2])} << 8) |
         uint32_t{static_cast<uint8_t>(p[3])};
}

void StoreBigEndian32(char* p, uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    p[i] = static_cast<char>(value >> (24 - 8 * i));
  }
}

// Recomputes the CRC of every whole batch in `bytes` (RecordBatch v2: the
// CRC at 17 covers bytes 21 to the end; batchLength at 8).
void RepairCrcs(std::string* bytes) {
  size_t position = 0;
  while (bytes->size() - position >= 61) {
    char* batch = bytes->data() + position;
    const uint64_t size = 12 + uint64_t{LoadBigEndian32(batch + 8)};
    if (size < 61 || size > bytes->size() - position) return;
    StoreBigEndian32(batch + 17, Crc32c(batch + 21, size - 21));
    position += size;
  }
}

int DevNull() {
  static const int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  FUZZ_CHECK(fd >= 0, "cannot open /dev/null");
  return fd;
}

// A log handle the program holds, and what it knows of the log.
struct LogSlot {
  shiplog_log* handle = nullptr;
  size_t name = 0;         // index into kNames (or the long name)
  bool read_only = false;  // opened from a read-only store
  bool known = false;      // end offset observed at least once
  int64_t end = 0;         // the last end offset observed
  bool may_shrink = false;  // truncated or reset (by any handle) since
  // The log's files may change under this handle (the store deleted the
  // log, or was closed and another open may write them): reads may fail.
  bool stale = false;
};

class Program {
 public:
  Program(const ScratchDir& dir, FuzzInput& input)
      : path_(dir.Join("store")), input_(input) {}

  ~Program() {
    for (shiplog_slice*& slice : slices_) shiplog_slice_free(slice);
    for (LogSlot& slot : logs_) shiplog_log_free(slot.handle);
    shiplog_store_free(store_);
  }

  void Run() {
    for (int op = 0; op < kMaxOps && !input_.empty(); ++op) Step();
  }

 private:
  // Operands are read in the order they appear in the input: each is read
  // into a local before the call that uses it.
  void Step() {
    const auto op = static_cast<Op>(input_.Byte() % kOpCount);
    if (Tracing()) std::fprintf(stderr, "op %d\n", static_cast<int>(op));
    switch (op) {
      case kOpenStore: return OpenStore();
      case kCloseStore: return CloseStore();
      case kFreeStore: return FreeStore();
      case kReopenStore: return ReopenStore();
      case kOpenLog: {
        LogSlot& slot = Slot();
        const uint8_t name = input_.Byte();
        return OpenLog(slot, name);
      }
      case kFreeLog: return FreeLog(Slot());
      case kAppend: return Append(Slot());
      case kAppendBatches: return AppendBatches(Slot());
      case kCopyBatches: {
        LogSlot& from = Slot();
        LogSlot& to = Slot();
        return CopyBatches(from, to);
      }
      case kRead: return Read(Slot());
      case kUseSlice: {
        const size_t kept = input_.Byte() % kSliceSlots;
        return UseSlice(slices_[kept], stale_slices_[kept]);
      }
      case kReadRecords: return ReadRecords(Slot());
      case kTruncate: return Truncate(Slot());
      case kReset: return Reset(Slot());
      case kRoll: return Roll(Slot());
      case kFlush: return Flush(Slot());
      case kOffsetForTime: return OffsetForTime(Slot());
      case kInspectLog: return InspectLog(Slot());
      case kStoreCalls: return StoreCalls();
      case kDeleteLog: return DeleteLog(input_.Byte());
      case kSend: return Send(Slot());
      case kInspectFiles: return InspectFiles(Slot());
      case kMetrics: return Metrics();
      case kNullHandles: return NullHandles();
      case kOpCount: break;
    }
  }

  LogSlot& Slot() { return logs_[input_.Byte() % kLogSlots]; }

  std::string Name(size_t name) const {
    return name < std::size(kNames) ? kNames[name] : LongName();
  }
  // A store that is open and not closed: writes may succeed.
  bool Writable() const { return store_ != nullptr && !store_closed_ &&
                                 !store_read_only_; }

  // The log's offsets now, checked against what was seen before: the end
  // never moves back unless the program cut the log.
  struct Offsets {
    int64_t start = 0;
    int64_t end = 0;
  };
  Offsets Observe(LogSlot& slot) {
    Offsets offsets;
    FUZZ_CHECK(CALL(shiplog_log_start_offset(&offsets.start, slot.handle)) ==
                       SHIPLOG_OK &&
                   CALL(shiplog_log_end_offset(&offsets.end, slot.handle)) ==
                       SHIPLOG_OK,
               "offsets of an open log: %s", shiplog_last_error());
    FUZZ_CHECK(offsets.start <= offsets.end, "start %lld above end %lld",
               static_cast<long long>(offsets.start),
               static_cast<long long>(offsets.end));
    FUZZ_CHECK(!slot.known || slot.may_shrink || offsets.end >= slot.end,
               "log %s: end went from %lld back to %lld",
               Name(slot.name).c_str(), static_cast<long long>(slot.end),
               static_cast<long long>(offsets.end));
    slot.known = true;
    slot.end = offsets.end;
    slot.may_shrink = false;
    return offsets;
  }

  // Every handle of the log `name` may see its end move back: one of them
  // cut it (or the store deleted it).
  void MayShrink(size_t name, bool deleted) {
    for (LogSlot& slot : logs_) {
      if (slot.handle == nullptr || slot.name != name) continue;
      slot.may_shrink = true;
      slot.stale = slot.stale || deleted;
    }
    // A slice keeps its segment through retention, not through a cut of
    // the file (only views do): its bytes may be gone.
    stale_slices_.fill(true);
  }

  // The store that opened every held log is gone: another may rewrite its
  // files.
  void AllStale() {
    for (LogSlot& slot : logs_) slot.stale = true;
    stale_slices_.fill(true);
  }

  // An offset near the log's interesting places.
  int64_t PickOffset(const Offsets& offsets) {
    const uint8_t choice = input_.Byte();
    switch (choice % 6) {
      case 0: return offsets.start;
      case 1: return offsets.end;
      case 2: return offsets.end + 1;
      case 3: return offsets.start - 1;
      case 4:
        return offsets.start +
               static_cast<int64_t>(input_.U16()) %
                   (offsets.end - offsets.start + 1);
      default: return input_.I64();
    }
  }

  uint64_t PickMaxBytes() {
    constexpr uint64_t kChoices[] = {0, 1, 100, 4096, 1 << 20,
                                     std::numeric_limits<uint64_t>::max()};
    return kChoices[input_.Byte() % std::size(kChoices)];
  }

  // One of `choices`, or any value up to `most` (a u32 operand).
  int64_t PickSetting(std::initializer_list<int64_t> choices,
                      uint32_t most = std::numeric_limits<uint32_t>::max()) {
    const uint8_t choice = input_.Byte();
    if (choice % (choices.size() + 1) == choices.size()) {
      return static_cast<int64_t>(std::min(input_.U32(), most));
    }
    return *(choices.begin() + choice % (choices.size() + 1));
  }

  shiplog_log_options LogOptions() {
    shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
    const uint8_t flags = input_.Byte();
    if ((flags & 0x80) != 0) options.version = 99;
    options.create_if_missing = (flags & 0x40) == 0;
    options.segment_bytes = PickSetting({SHIPLOG_UNSET, 61, 200, 1024, 0});
    // Index files are preallocated to this, and the index reader copies
    // them whole: a 2 GiB one costs seconds and gigabytes, and finds
    // nothing a 1 MiB one does not.
    options.segment_index_bytes =
        PickSetting({SHIPLOG_UNSET, 64, 256, 63}, 1 << 20);
    options.index_interval_bytes = PickSetting({SHIPLOG_UNSET, 0, 64, -5});
    if ((flags & 0x01) != 0) {
      options.retention_bytes = PickSetting({-1, 0, 500});
      options.retention_ms = PickSetting({-1, 0, 1000});
      options.segment_ms = PickSetting({1, 1000, -1});
    }
    if ((flags & 0x02) != 0) {
      options.flush_messages = PickSetting({-1, 1, 3, 0});
      options.flush_ms = PickSetting({-1, 1, 0});
    }
    return options;
  }

  // ---- Stores ----

  void OpenStore() {
    if (++store_opens_ > kMaxStoreOpens) return;
    shiplog_store_options options = SHIPLOG_STORE_OPTIONS_INIT;
    const uint8_t flags = input_.Byte();
    options.maintenance_interval_ms = 0;  // no thread: runs stay repeatable
    options.read_only = (flags & 0x01) != 0;
    options.create_if_missing = (flags & 0x02) == 0;
    if ((flags & 0x04) != 0) options.version = 0;
    options.default_log_options = LogOptions();
    shiplog_store* store = nullptr;
    const int status = CALL(shiplog_store_open(&store, path_.c_str(), &options));
    FUZZ_CHECK((status == SHIPLOG_OK) == (store != nullptr),
               "store_open: status %d with handle %p", status,
               static_cast<void*>(store));
    if (store_ != nullptr && !store_closed_ && !store_read_only_ &&
        !options.read_only) {
      FUZZ_CHECK(status != SHIPLOG_OK, "a second writer opened the store");
    }
    if (store_ != nullptr || status != SHIPLOG_OK) {
      shiplog_store_free(store);  // a second handle: only its open counted
      return;
    }
    store_ = store;
    store_closed_ = false;
    store_read_only_ = options.read_only != 0;
  }

  void CloseStore() {
    const int status = CALL(shiplog_store_close(store_));
    if (store_ == nullptr) {
      FUZZ_CHECK(status == SHIPLOG_EINVAL, "closing a NULL store");
      return;
    }
    FUZZ_CHECK(status == SHIPLOG_OK, "store_close: %s", shiplog_last_error());
    store_closed_ = true;
    AllStale();
  }

  void FreeStore() {
    shiplog_store_free(store_);
    store_ = nullptr;
    AllStale();
  }

  // A clean shutdown and a new open: every log must be found as it was.
  void ReopenStore() {
    if (!Writable() || ++store_opens_ > kMaxStoreOpens) return;
    std::vector<std::pair<size_t, int64_t>> ends;
    for (LogSlot& slot : logs_) {
      if (slot.handle != nullptr && !slot.stale) {
        ends.push_back({slot.name, Observe(slot).end});
      }
      shiplog_log_free(slot.handle);
      slot = LogSlot{};
    }
    FUZZ_CHECK(CALL(shiplog_store_close(store_)) == SHIPLOG_OK,
               "store_close: %s", shiplog_last_error());
    FreeStore();
    shiplog_store_options options = SHIPLOG_STORE_OPTIONS_INIT;
    options.maintenance_interval_ms = 0;
    FUZZ_CHECK(CALL(shiplog_store_open(&store_, path_.c_str(), &options)) ==
                   SHIPLOG_OK,
               "reopening the store: %s", shiplog_last_error());
    store_closed_ = false;
    store_read_only_ = false;
    for (size_t i = 0; i < ends.size(); ++i) {
      shiplog_log_options log_options = SHIPLOG_LOG_OPTIONS_INIT;
      log_options.create_if_missing = 0;
      LogSlot& slot = logs_[i];
      slot = LogSlot{};
      slot.name = ends[i].first;
      slot.known = true;
      slot.end = ends[i].second;
      FUZZ_CHECK(CALL(shiplog_log_open(&slot.handle, store_,
                                       Name(slot.name).c_str(),
                                       &log_options)) == SHIPLOG_OK,
                 "reopening log %s: %s", Name(slot.name).c_str(),
                 shiplog_last_error());
      int64_t end = 0;
      CALL(shiplog_log_end_offset(&end, slot.handle));
      FUZZ_CHECK(end == ends[i].second,
                 "log %s ended at %lld before a clean reopen, at %lld after",
                 Name(slot.name).c_str(),
                 static_cast<long long>(ends[i].second),
                 static_cast<long long>(end));
    }
  }

  // ---- Logs ----

  void OpenLog(LogSlot& slot, uint8_t name) {
    shiplog_log_free(slot.handle);
    slot = LogSlot{};
    slot.name = name % (std::size(kNames) + 1);
    slot.read_only = store_read_only_;
    const shiplog_log_options options = LogOptions();
    const int status = CALL(shiplog_log_open(
        &slot.handle, store_, Name(slot.name).c_str(), &options));
    FUZZ_CHECK((status == SHIPLOG_OK) == (slot.handle != nullptr),
               "log_open: status %d with handle %p", status,
               static_cast<void*>(slot.handle));
    if (slot.name >= kGoodNames && slot.name < std::size(kNames)) {
      FUZZ_CHECK(status != SHIPLOG_OK, "a bad name was accepted: \"%s\"",
                 kNames[slot.name]);
    }
    if (status == SHIPLOG_OK) Observe(slot);
  }

  void FreeLog(LogSlot& slot) {
    shiplog_log_free(slot.handle);
    slot = LogSlot{};
  }

  void Append(LogSlot& slot) {
    const size_t count = 1 + input_.Byte() % 4;
    std::vector<shiplog_record> records(count);
    std::vector<std::array<shiplog_header, 2>> headers(count);
    std::vector<std::string> bytes;
    bytes.reserve(count * 6);
    const auto field = [&](const void** data, size_t* size) {
      const uint8_t length = input_.Byte();
      if (length == 0xff) return;  // null
      bytes.emplace_back(input_.Bytes(length % 64));
      *data = bytes.back().data();
      *size = bytes.back().size();
    };
    for (size_t i = 0; i < count; ++i) {
      shiplog_record& record = records[i];
      record = {};
      field(&record.key, &record.key_len);
      field(&record.value, &record.value_len);
      constexpr int64_t kTimestamps[] = {SHIPLOG_NO_TIMESTAMP, 0,
                                         1'700'000'000'000, -7};
      record.timestamp_ms = kTimestamps[input_.Byte() % 4];
      record.header_count = input_.Byte() % 3;
      for (size_t h = 0; h < record.header_count; ++h) {
        headers[i][h] = {};
        field(&headers[i][h].key, &headers[i][h].key_len);
        field(&headers[i][h].value, &headers[i][h].value_len);
      }
      record.headers = record.header_count > 0 ? headers[i].data() : nullptr;
    }
    shiplog_append_options options = SHIPLOG_APPEND_OPTIONS_INIT;
    const uint8_t flags = input_.Byte();
    options.compression =
        (flags & 0x03) == 1 ? SHIPLOG_COMPRESSION_ZSTD : (flags & 0x03) == 2 ? 7 : 0;
    if ((flags & 0x04) != 0) options.zstd_level = static_cast<int8_t>(input_.Byte());
    const bool exists = slot.handle != nullptr;
    const Offsets before = exists ? Observe(slot) : Offsets{};
    shiplog_append_result result;
    const int status = CALL(
        shiplog_log_append(&result, slot.handle, records.data(), count,
                           (flags & 0x08) != 0 ? nullptr : &options));
    if (!exists) {
      FUZZ_CHECK(status == SHIPLOG_EINVAL, "append to a NULL log");
      return;
    }
    const Offsets after = Observe(slot);
    if (status != SHIPLOG_OK) {
      FUZZ_CHECK(after.end == before.end, "a failed append moved the end");
      return;
    }
    FUZZ_CHECK(result.base_offset == before.end &&
                   result.last_offset == before.end + int64_t(count) - 1 &&
                   after.end == result.last_offset + 1,
               "append of %zu at end %lld gave [%lld, %lld], end now %lld",
               count, static_cast<long long>(before.end),
               static_cast<long long>(result.base_offset),
               static_cast<long long>(result.last_offset),
               static_cast<long long>(after.end));
  }

  // Appends `batches` (whole batches, validated by the library) to `slot`.
  int AppendBytes(LogSlot& slot, std::string batches) {
    const bool exists = slot.handle != nullptr;
    const Offsets before = exists ? Observe(slot) : Offsets{};
    shiplog_append_result result;
    const int status = CALL(shiplog_log_append_batches(
        &result, slot.handle, batches.empty() ? nullptr : batches.data(),
        batches.size()));
    if (!exists) return status;
    const Offsets after = Observe(slot);
    if (status != SHIPLOG_OK) {
      FUZZ_CHECK(after.end == before.end, "failed append_batches moved the end");
      return status;
    }
    FUZZ_CHECK(result.base_offset == before.end &&
                   after.end == result.last_offset + 1 &&
                   result.bytes == batches.size(),
               "append_batches at end %lld gave [%lld, %lld], end now %lld",
               static_cast<long long>(before.end),
               static_cast<long long>(result.base_offset),
               static_cast<long long>(result.last_offset),
               static_cast<long long>(after.end));
    return status;
  }

  void AppendBatches(LogSlot& slot) {
    const uint8_t flags = input_.Byte();
    std::string batches(input_.Bytes(input_.U16()));
    if ((flags & 0x01) != 0) RepairCrcs(&batches);
    AppendBytes(slot, std::move(batches));
  }

  // A follower's copy: batches read from one log appended to another.
  void CopyBatches(LogSlot& from, LogSlot& to) {
    if (from.handle == nullptr) return;
    const Offsets offsets = Observe(from);
    shiplog_slice* slice = nullptr;
    if (CALL(shiplog_log_read(&slice, from.handle, PickOffset(offsets),
                              PickMaxBytes())) != SHIPLOG_OK) {
      return;
    }
    shiplog_view* view = nullptr;
    std::string copy;
    if (CALL(shiplog_view_open(&view, slice)) == SHIPLOG_OK) {
      const void* data = nullptr;
      size_t size = 0;
      FUZZ_CHECK(CALL(shiplog_view_data(&data, &size, view)) == SHIPLOG_OK,
                 "view_data of an open view");
      copy.assign(static_cast<const char*>(data), size);
    }
    shiplog_view_free(view);
    shiplog_slice_free(slice);
    if (copy.empty()) return;
    const int status = AppendBytes(to, std::move(copy));
    // What one log accepted, another must: the bytes were validated.
    FUZZ_CHECK(status != SHIPLOG_ECORRUPT || from.stale,
               "copied batches are corrupt: %s", shiplog_last_error());
  }

  void Read(LogSlot& slot) {
    const size_t kept_slot = input_.Byte() % kSliceSlots;
    shiplog_slice*& kept = slices_[kept_slot];
    shiplog_slice_free(kept);
    kept = nullptr;
    stale_slices_[kept_slot] = slot.stale;
    if (slot.handle == nullptr) {
      FUZZ_CHECK(CALL(shiplog_log_read(&kept, nullptr, 0, 1)) == SHIPLOG_EINVAL,
                 "read of a NULL log");
      return;
    }
    const Offsets offsets = Observe(slot);
    const int64_t offset = PickOffset(offsets);
    const int status = CALL(
        shiplog_log_read(&kept, slot.handle, offset, PickMaxBytes()));
    const bool deleted = slot.stale;
    if (offset < offsets.start || offset > offsets.end) {
      FUZZ_CHECK(status == SHIPLOG_ERANGE || deleted,
                 "read at %lld outside [%lld, %lld]: %s",
                 static_cast<long long>(offset),
                 static_cast<long long>(offsets.start),
                 static_cast<long long>(offsets.end),
                 shiplog_status_str(status));
      return;
    }
    FUZZ_CHECK(status == SHIPLOG_OK || deleted,
               "read at %lld in [%lld, %lld]: %s", static_cast<long long>(offset),
               static_cast<long long>(offsets.start),
               static_cast<long long>(offsets.end), shiplog_last_error());
    if (status != SHIPLOG_OK) return;
    shiplog_slice_info info;
    FUZZ_CHECK(CALL(shiplog_slice_info_get(&info, kept)) == SHIPLOG_OK,
               "slice info");
    if (offset == offsets.end) {
      FUZZ_CHECK(info.size == 0, "a read at the end returned bytes");
    } else {
      FUZZ_CHECK(info.size > 0 && info.first_offset <= offset &&
                     offset < info.next_offset,
                 "read at %lld: slice [%lld, %lld) of %llu bytes",
                 static_cast<long long>(offset),
                 static_cast<long long>(info.first_offset),
                 static_cast<long long>(info.next_offset),
                 static_cast<unsigned long long>(info.size));
    }
  }

  // Decodes what an iterator yields: offsets rising from `min_offset`, and
  // no corrupt batch (every byte was validated on the way in) unless the
  // bytes are `stale`.
  void Drain(shiplog_records* records, int64_t min_offset, bool stale) {
    shiplog_record record;
    int64_t expected = min_offset;
    for (int i = 0; i < kMaxRecordsRead; ++i) {
      const int status = CALL(shiplog_records_next(&record, records));
      if (status == SHIPLOG_ITEROVER || status == SHIPLOG_EUNSUPPORTED) return;
      if (stale && status != SHIPLOG_OK) return;
      FUZZ_CHECK(status == SHIPLOG_OK, "records_next: %s",
                 shiplog_last_error());
      FUZZ_CHECK(record.offset >= expected,
                 "record %lld where %lld was due",
                 static_cast<long long>(record.offset),
                 static_cast<long long>(expected));
      FUZZ_CHECK((record.key != nullptr || record.key_len == 0) &&
                     (record.value != nullptr || record.value_len == 0) &&
                     (record.headers != nullptr || record.header_count == 0),
                 "a record with a NULL pointer and a length");
      expected = record.offset + 1;
    }
  }

  void UseSlice(shiplog_slice* slice, bool stale) {
    shiplog_slice_info info;
    if (CALL(shiplog_slice_info_get(&info, slice)) != SHIPLOG_OK) {
      FUZZ_CHECK(slice == nullptr, "slice_info_get of a live slice");
      return;
    }
    shiplog_view* view = nullptr;
    if (CALL(shiplog_view_open(&view, slice)) == SHIPLOG_OK) {
      const void* data = nullptr;
      size_t size = 0;
      FUZZ_CHECK(CALL(shiplog_view_data(&data, &size, view)) == SHIPLOG_OK &&
                     size == info.size,
                 "a view of %zu bytes of a %llu-byte slice", size,
                 static_cast<unsigned long long>(info.size));
      shiplog_view_free(view);
    }
    shiplog_records* records = nullptr;
    const int64_t min_offset = info.first_offset + input_.Byte() % 4;
    if (CALL(shiplog_records_open(&records, slice, min_offset)) == SHIPLOG_OK) {
      Drain(records, min_offset, stale);
    }
    shiplog_records_free(records);
  }

  void ReadRecords(LogSlot& slot) {
    shiplog_records* records = nullptr;
    if (slot.handle == nullptr) {
      FUZZ_CHECK(CALL(shiplog_records_open_log(&records, nullptr, 0, 1)) ==
                     SHIPLOG_EINVAL,
                 "records of a NULL log");
      return;
    }
    const Offsets offsets = Observe(slot);
    const int64_t offset = PickOffset(offsets);
    const int status = CALL(
        shiplog_records_open_log(&records, slot.handle, offset, PickMaxBytes()));
    const bool inside = offset >= offsets.start && offset <= offsets.end;
    FUZZ_CHECK(status == SHIPLOG_OK || !inside || slot.stale,
               "records_open_log at %lld in [%lld, %lld]: %s",
               static_cast<long long>(offset),
               static_cast<long long>(offsets.start),
               static_cast<long long>(offsets.end), shiplog_last_error());
    // Not dense: readers skip control batches.
    if (status == SHIPLOG_OK) Drain(records, offset, slot.stale);
    shiplog_records_free(records);
  }

  void Truncate(LogSlot& slot) {
    if (slot.handle == nullptr) return;
    const int64_t offset = PickOffset(Observe(slot));
    if (CALL(shiplog_log_truncate(slot.handle, offset)) == SHIPLOG_OK) {
      MayShrink(slot.name, /*deleted=*/false);
      FUZZ_CHECK(Observe(slot).end == offset, "truncated to %lld, ends else",
                 static_cast<long long>(offset));
    }
  }

  void Reset(LogSlot& slot) {
    if (slot.handle == nullptr) return;
    const Offsets before = Observe(slot);
    const int64_t offset =
        (input_.Byte() & 1) != 0 ? PickOffset(before) : -1;
    const int status = CALL(shiplog_log_reset(slot.handle, offset));
    if (offset < 0) {
      FUZZ_CHECK(status == SHIPLOG_EINVAL, "reset to a negative offset");
    }
    if (status == SHIPLOG_OK) {
      MayShrink(slot.name, /*deleted=*/false);
      const Offsets after = Observe(slot);
      FUZZ_CHECK(after.start == offset && after.end == offset,
                 "reset to %lld gave [%lld, %lld)", static_cast<long long>(offset),
                 static_cast<long long>(after.start),
                 static_cast<long long>(after.end));
    }
  }

  void Roll(LogSlot& slot) {
    if (slot.handle == nullptr) return;
    const int64_t end = Observe(slot).end;
    CALL(shiplog_log_roll(slot.handle));
    FUZZ_CHECK(Observe(slot).end == end, "a roll moved the end");
  }

  void Flush(LogSlot& slot) {
    if (slot.handle == nullptr) {
      FUZZ_CHECK(CALL(shiplog_log_flush(nullptr)) == SHIPLOG_EINVAL,
                 "flush of a NULL log");
      return;
    }
    const int64_t end = Observe(slot).end;
    if (CALL(shiplog_log_flush(slot.handle)) != SHIPLOG_OK) return;
    int64_t committed = 0;
    CALL(shiplog_log_committed_offset(&committed, slot.handle));
    FUZZ_CHECK(committed >= end || slot.read_only,
               "flushed, but committed %lld is below the end %lld",
               static_cast<long long>(committed), static_cast<long long>(end));
  }

  void OffsetForTime(LogSlot& slot) {
    if (slot.handle == nullptr) return;
    const Offsets offsets = Observe(slot);
    constexpr int64_t kTimes[] = {std::numeric_limits<int64_t>::min(), -1, 0,
                                  1'700'000'000'000,
                                  std::numeric_limits<int64_t>::max()};
    int64_t found = 0;
    if (CALL(shiplog_log_offset_for_time(&found, slot.handle,
                                         kTimes[input_.Byte() % 5])) ==
        SHIPLOG_OK) {
      FUZZ_CHECK(found >= offsets.start && found < offsets.end,
                 "offset_for_time found %lld outside [%lld, %lld)",
                 static_cast<long long>(found),
                 static_cast<long long>(offsets.start),
                 static_cast<long long>(offsets.end));
    }
  }

  void InspectLog(LogSlot& slot) {
    shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
    uint64_t size = 0;
    uint64_t segments = 0;
    int64_t committed = 0;
    const int got = CALL(shiplog_log_get_options(&options, slot.handle));
    const int sized = CALL(shiplog_log_size(&size, &segments, slot.handle));
    const int committed_status =
        CALL(shiplog_log_committed_offset(&committed, slot.handle));
    if (slot.handle == nullptr) {
      FUZZ_CHECK(got == SHIPLOG_EINVAL && sized == SHIPLOG_EINVAL &&
                     committed_status == SHIPLOG_EINVAL,
                 "getters of a NULL log");
      return;
    }
    FUZZ_CHECK(got == SHIPLOG_OK && sized == SHIPLOG_OK &&
                   committed_status == SHIPLOG_OK,
               "getters of an open log: %s", shiplog_last_error());
    FUZZ_CHECK(options.segment_bytes != SHIPLOG_UNSET &&
                   options.flush_ms != SHIPLOG_UNSET,
               "get_options left a setting unset");
    const Offsets offsets = Observe(slot);
    FUZZ_CHECK(committed <= offsets.end, "committed %lld past the end %lld",
               static_cast<long long>(committed),
               static_cast<long long>(offsets.end));
  }

  // ---- The rest of the store's calls ----

  void StoreCalls() {
    shiplog_strarray names = {};
    if (CALL(shiplog_store_list_logs(&names, store_)) == SHIPLOG_OK) {
      for (size_t i = 0; i < names.count; ++i) {
        FUZZ_CHECK(CALL(shiplog_log_name_check(names.strings[i])) == SHIPLOG_OK,
                   "the store lists a bad name \"%s\"", names.strings[i]);
      }
    }
    shiplog_strarray_dispose(&names);
    shiplog_strarray notes = {};
    CALL(shiplog_store_load_notes(&notes, store_));
    shiplog_strarray_dispose(&notes);
    CALL(shiplog_store_checkpoint(store_));
    CALL(shiplog_store_run_maintenance(store_));
    for (LogSlot& slot : logs_) {
      // Retention may have moved the start: the end stays.
      if (slot.handle != nullptr) Observe(slot);
    }
  }

  void DeleteLog(uint8_t name) {
    const size_t index = name % (std::size(kNames) + 1);
    const int status =
        CALL(shiplog_store_delete_log(store_, Name(index).c_str()));
    if (status == SHIPLOG_OK) MayShrink(index, /*deleted=*/true);
  }

  void Send(LogSlot& slot) {
    if (slot.handle == nullptr) return;
    const Offsets offsets = Observe(slot);
    const int64_t offset = PickOffset(offsets);
    const uint64_t max_bytes = PickMaxBytes();
    shiplog_send_options options = SHIPLOG_SEND_OPTIONS_INIT;
    options.policy = input_.Byte() % 5;  // 4: no such policy
    const bool inside = offset >= offsets.start && offset <= offsets.end &&
                        !slot.stale && options.policy < 4;
    if ((input_.Byte() & 1) != 0) {
      shiplog_send_result result;
      const int status = CALL(shiplog_log_send(&result, slot.handle, offset,
                                               max_bytes, DevNull(), &options));
      FUZZ_CHECK(status == SHIPLOG_OK || !inside, "log_send: %s",
                 shiplog_last_error());
      return;
    }
    shiplog_sender* sender = nullptr;
    const int status = CALL(shiplog_sender_open(&sender, slot.handle, offset,
                                                max_bytes, DevNull(), &options));
    FUZZ_CHECK(status == SHIPLOG_OK || !inside, "sender_open: %s",
               shiplog_last_error());
    if (status == SHIPLOG_OK) {
      uint64_t size = 0;
      CALL(shiplog_sender_size(&size, sender));
      shiplog_send_result progress = {};
      int sent = SHIPLOG_EAGAIN;
      for (int i = 0; i < kMaxSendCalls && sent == SHIPLOG_EAGAIN; ++i) {
        sent = CALL(shiplog_sender_send(&progress, sender));
      }
      FUZZ_CHECK(sent == SHIPLOG_OK && progress.bytes_sent == size,
                 "sender sent %llu of %llu: %s",
                 static_cast<unsigned long long>(progress.bytes_sent),
                 static_cast<unsigned long long>(size), shiplog_last_error());
    }
    shiplog_sender_free(sender);
  }

  // The files of a log, read the way `shiplog dump` reads them.
  void InspectFiles(LogSlot& slot) {
    const std::string directory = path_ + "/" + Name(slot.name);
    DIR* listing = opendir(directory.c_str());
    if (listing == nullptr) return;
    std::vector<std::string> files;
    while (const dirent* entry = readdir(listing)) {
      if (entry->d_name[0] != '.') files.push_back(entry->d_name);
    }
    closedir(listing);
    if (files.empty()) return;
    const std::string file =
        directory + "/" + files[input_.Byte() % files.size()];
    shiplog_segment_reader* reader = nullptr;
    if (CALL(shiplog_segment_reader_open(&reader, file.c_str(),
                                         input_.Byte() & 1)) == SHIPLOG_OK) {
      shiplog_file_batch batch;
      for (int i = 0; i < kMaxRecordsRead; ++i) {
        if (CALL(shiplog_segment_reader_next(&batch, reader)) != SHIPLOG_OK) {
          break;
        }
        CALL(shiplog_segment_reader_check(reader));
      }
    }
    shiplog_segment_reader_free(reader);
    shiplog_index_reader* index = nullptr;
    if (CALL(shiplog_index_reader_open(&index, file.c_str())) == SHIPLOG_OK) {
      int kind = 0;
      uint64_t entries = 0;
      FUZZ_CHECK(CALL(shiplog_index_reader_info(&kind, &entries, index)) ==
                     SHIPLOG_OK,
                 "index_reader_info");
      shiplog_index_entry entry;
      for (uint64_t i = 0; i < entries && i < kMaxRecordsRead; ++i) {
        FUZZ_CHECK(CALL(shiplog_index_reader_get(&entry, index, i)) ==
                       SHIPLOG_OK,
                   "index slot %llu of %llu", static_cast<unsigned long long>(i),
                   static_cast<unsigned long long>(entries));
      }
      FUZZ_CHECK(CALL(shiplog_index_reader_get(&entry, index, entries)) ==
                     SHIPLOG_ERANGE,
                 "an index slot past the last");
    }
    shiplog_index_reader_free(index);
  }

  void Metrics() {
    shiplog_metrics* metrics = nullptr;
    if (CALL(shiplog_metrics_open(&metrics, (input_.Byte() & 1) != 0
                                                ? store_
                                                : nullptr)) != SHIPLOG_OK) {
      return;
    }
    shiplog_metrics_values values = SHIPLOG_METRICS_VALUES_INIT;
    CALL(shiplog_metrics_values_get(&values, metrics));
    char* text = nullptr;
    if (CALL(shiplog_metrics_prometheus(&text, metrics)) == SHIPLOG_OK) {
      FUZZ_CHECK(text != nullptr, "prometheus text is NULL");
    }
    shiplog_free(text);
    text = nullptr;
    if (CALL(shiplog_metrics_text(&text, metrics)) == SHIPLOG_OK) {
      FUZZ_CHECK(text != nullptr, "metrics text is NULL");
    }
    shiplog_free(text);
    shiplog_metrics_free(metrics);
  }

  // NULL for every handle and output pointer: SHIPLOG_EINVAL, no crash.
  void NullHandles() {
    int64_t offset = 0;
    shiplog_slice* slice = nullptr;
    shiplog_strarray names = {};
    const int statuses[] = {
        CALL(shiplog_store_open(nullptr, path_.c_str(), nullptr)),
        CALL(shiplog_store_open(nullptr, nullptr, nullptr)),
        CALL(shiplog_store_list_logs(&names, nullptr)),
        CALL(shiplog_store_list_logs(nullptr, store_)),
        CALL(shiplog_log_open(nullptr, store_, "events-0", nullptr)),
        CALL(shiplog_log_end_offset(nullptr, logs_[0].handle)),
        CALL(shiplog_log_end_offset(&offset, nullptr)),
        CALL(shiplog_log_append(nullptr, logs_[0].handle, nullptr, 1, nullptr)),
        CALL(shiplog_log_append_batches(nullptr, logs_[0].handle, nullptr, 0)),
        CALL(shiplog_log_read(nullptr, logs_[0].handle, 0, 1)),
        CALL(shiplog_log_read(&slice, nullptr, 0, 1)),
        CALL(shiplog_slice_info_get(nullptr, slices_[0])),
        CALL(shiplog_view_open(nullptr, slices_[0])),
        CALL(shiplog_records_open(nullptr, slices_[0], 0)),
        CALL(shiplog_records_next(nullptr, nullptr)),
        CALL(shiplog_log_offset_for_time(nullptr, logs_[0].handle, 0)),
        CALL(shiplog_sender_size(nullptr, nullptr)),
        CALL(shiplog_segment_reader_open(nullptr, nullptr, 0)),
        CALL(shiplog_index_reader_open(nullptr, nullptr)),
        CALL(shiplog_log_name_check(nullptr)),
        CALL(shiplog_metrics_values_get(nullptr, nullptr)),
        CALL(shiplog_log_options_init(nullptr, SHIPLOG_LOG_OPTIONS_VERSION)),
    };
    for (const int status : statuses) {
      FUZZ_CHECK(status == SHIPLOG_EINVAL, "a NULL argument gave %s",
                 shiplog_status_str(status));
    }
    FUZZ_CHECK(slice == nullptr, "a failed read left a slice");
    shiplog_strarray_dispose(nullptr);
    shiplog_slice_free(nullptr);
    shiplog_records_free(nullptr);
    shiplog_view_free(nullptr);
    shiplog_sender_free(nullptr);
    shiplog_metrics_free(nullptr);
    shiplog_free(nullptr);
    FUZZ_CHECK(shiplog_status_str(static_cast<int>(input_.U32())) != nullptr,
               "status_str is NULL");
  }

  const std::string path_;
  FuzzInput& input_;
  shiplog_store* store_ = nullptr;
  bool store_closed_ = false;
  bool store_read_only_ = false;
  int store_opens_ = 0;
  std::array<LogSlot, kLogSlots> logs_;
  std::array<shiplog_slice*, kSliceSlots> slices_ = {};
  std::array<bool, kSliceSlots> stale_slices_ = {};
};

}  // namespace
}  // namespace shiplog::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  shiplog::fuzz::FuzzInput input(data, size);
  shiplog::fuzz::ScratchDir dir;
  shiplog::fuzz::Program program(dir, input);
  program.Run();
  return 0;
}
