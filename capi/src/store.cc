// Versions, option initializers, stores and logs.
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "capi/src/handles.h"
#include "capi/src/options.h"
#include "capi/src/status.h"
#include "capi/src/strarray.h"
#include "capi/src/versioned.h"
#include "engine/store/log_name.h"

using shiplog::capi::CheckHandle;
using shiplog::capi::CheckNotNull;
using shiplog::capi::CheckVersion;
using shiplog::capi::Fail;
using shiplog::capi::FillStrArray;
using shiplog::capi::Guard;
using shiplog::capi::kLogOptionsSizes;
using shiplog::capi::kStoreOptionsSizes;
using shiplog::capi::ReadVersioned;
using shiplog::capi::Report;
using shiplog::capi::WriteVersioned;

namespace {

int CheckStore(const shiplog_store* store) {
  SHIPLOG_TRY(CheckHandle(store, shiplog::capi::kStoreMagic, "store"));
  if (store->closed) {
    return Fail(SHIPLOG_ECLOSED, "the store was closed; only free it now");
  }
  return SHIPLOG_OK;
}

int CheckLog(const shiplog_log* log) {
  return CheckHandle(log, shiplog::capi::kLogMagic, "log");
}

}  // namespace

extern "C" {

unsigned int shiplog_version_number(void) { return SHIPLOG_VERSION_NUMBER; }

const char* shiplog_version(void) { return SHIPLOG_VERSION_STRING; }

void shiplog_free(void* memory) { std::free(memory); }

void shiplog_strarray_dispose(shiplog_strarray* array) {
  if (array == nullptr) return;
  for (size_t i = 0; i < array->count; ++i) std::free(array->strings[i]);
  std::free(array->strings);
  array->strings = nullptr;
  array->count = 0;
}

int shiplog_log_options_init(shiplog_log_options* options,
                             unsigned int version) {
  SHIPLOG_TRY(CheckNotNull(options, "options"));
  const shiplog_log_options defaults = SHIPLOG_LOG_OPTIONS_INIT;
  return WriteVersioned(defaults, version, kLogOptionsSizes,
                        "shiplog_log_options", options);
}

int shiplog_store_options_init(shiplog_store_options* options,
                               unsigned int version) {
  SHIPLOG_TRY(CheckNotNull(options, "options"));
  const shiplog_store_options defaults = SHIPLOG_STORE_OPTIONS_INIT;
  SHIPLOG_TRY(WriteVersioned(defaults, version, kStoreOptionsSizes,
                             "shiplog_store_options", options));
  // Version 1 has room for version 1 log options only.
  if (version == 1) options->default_log_options.version = 1;
  return SHIPLOG_OK;
}

int shiplog_store_open(shiplog_store** out, const char* path,
                       const shiplog_store_options* options) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckNotNull(path, "path"));
    shiplog_store_options given = SHIPLOG_STORE_OPTIONS_INIT;
    if (options != nullptr) {
      SHIPLOG_TRY(ReadVersioned(options, kStoreOptionsSizes,
                                "shiplog_store_options", &given));
      // The embedded log options are read by their own version, which a
      // version 1 store struct only has room for as version 1.
      const shiplog_log_options embedded = given.default_log_options;
      if (given.version == 1 && embedded.version != 1) {
        return Fail(SHIPLOG_EVERSION,
                    "a version 1 shiplog_store_options holds version 1 "
                    "default_log_options, not version " +
                        std::to_string(embedded.version));
      }
      given.default_log_options = SHIPLOG_LOG_OPTIONS_INIT;
      SHIPLOG_TRY(ReadVersioned(&embedded, kLogOptionsSizes,
                                "shiplog_store_options.default_log_options",
                                &given.default_log_options));
    }
    absl::StatusOr<shiplog::StoreOptions> store_options =
        shiplog::capi::ToStoreOptions(given);
    if (!store_options.ok()) return Report(store_options.status());
    absl::StatusOr<std::unique_ptr<shiplog::Store>> store =
        shiplog::Store::Open(path, *store_options);
    if (!store.ok()) return Report(store.status());
    auto handle = std::make_unique<shiplog_store>();
    handle->store = *std::move(store);
    *out = handle.release();
    return SHIPLOG_OK;
  });
}

int shiplog_store_close(shiplog_store* store) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckHandle(store, shiplog::capi::kStoreMagic, "store"));
    if (store->closed) return SHIPLOG_OK;
    store->closed = true;
    return Report(store->store->Close());
  });
}

void shiplog_store_free(shiplog_store* store) {
  if (store == nullptr || store->magic != shiplog::capi::kStoreMagic) return;
  Guard([&]() -> int {
    store->magic = shiplog::capi::kFreedMagic;
    delete store;
    return SHIPLOG_OK;
  });
}

int shiplog_store_list_logs(shiplog_strarray* out, shiplog_store* store) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = shiplog_strarray{nullptr, 0};
    SHIPLOG_TRY(CheckStore(store));
    FillStrArray(store->store->ListLogs(), out);
    return SHIPLOG_OK;
  });
}

int shiplog_store_load_notes(shiplog_strarray* out, shiplog_store* store) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = shiplog_strarray{nullptr, 0};
    SHIPLOG_TRY(CheckStore(store));
    FillStrArray(store->store->load_notes(), out);
    return SHIPLOG_OK;
  });
}

int shiplog_log_name_check(const char* name) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(name, "name"));
    return Report(shiplog::ValidateLogName(name));
  });
}

int shiplog_store_delete_log(shiplog_store* store, const char* name) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckStore(store));
    SHIPLOG_TRY(CheckNotNull(name, "name"));
    return Report(store->store->DeleteLog(name));
  });
}

int shiplog_store_checkpoint(shiplog_store* store) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckStore(store));
    return Report(store->store->Checkpoint());
  });
}

int shiplog_store_run_maintenance(shiplog_store* store) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckStore(store));
    return Report(store->store->RunMaintenance());
  });
}

int shiplog_log_open(shiplog_log** out, shiplog_store* store, const char* name,
                     const shiplog_log_options* options) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    *out = nullptr;
    SHIPLOG_TRY(CheckStore(store));
    SHIPLOG_TRY(CheckNotNull(name, "name"));
    shiplog_log_options given = SHIPLOG_LOG_OPTIONS_INIT;
    if (options != nullptr) {
      SHIPLOG_TRY(ReadVersioned(options, kLogOptionsSizes,
                                "shiplog_log_options", &given));
    }
    absl::StatusOr<shiplog::LogConfigOverrides> overrides =
        shiplog::capi::ToOverrides(given);
    if (!overrides.ok()) return Report(overrides.status());
    absl::StatusOr<std::shared_ptr<shiplog::Log>> log = store->store->OpenLog(
        name, *overrides, given.create_if_missing != 0);
    if (!log.ok()) return Report(log.status());
    auto handle = std::make_unique<shiplog_log>();
    handle->log = *std::move(log);
    handle->direct_read_pool = store->store->direct_read_pool();
    *out = handle.release();
    return SHIPLOG_OK;
  });
}

void shiplog_log_free(shiplog_log* log) {
  if (log == nullptr || log->magic != shiplog::capi::kLogMagic) return;
  Guard([&]() -> int {
    log->magic = shiplog::capi::kFreedMagic;
    delete log;
    return SHIPLOG_OK;
  });
}

int shiplog_log_get_options(shiplog_log_options* out, const shiplog_log* log) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(out, "out"));
    SHIPLOG_TRY(CheckLog(log));
    shiplog_log_options settings = SHIPLOG_LOG_OPTIONS_INIT;
    shiplog::capi::FromConfig(log->log->config(), &settings);
    settings.create_if_missing = 0;
    // Only the fields of the caller's version: its struct may be smaller.
    return WriteVersioned(settings, out->version, kLogOptionsSizes,
                          "shiplog_log_options", out);
  });
}

int shiplog_log_start_offset(int64_t* out, const shiplog_log* log) {
  SHIPLOG_TRY(CheckNotNull(out, "out"));
  SHIPLOG_TRY(CheckLog(log));
  *out = log->log->start_offset();
  return SHIPLOG_OK;
}

int shiplog_log_end_offset(int64_t* out, const shiplog_log* log) {
  SHIPLOG_TRY(CheckNotNull(out, "out"));
  SHIPLOG_TRY(CheckLog(log));
  *out = log->log->end_offset();
  return SHIPLOG_OK;
}

int shiplog_log_committed_offset(int64_t* out, const shiplog_log* log) {
  SHIPLOG_TRY(CheckNotNull(out, "out"));
  SHIPLOG_TRY(CheckLog(log));
  *out = log->log->committed_offset();
  return SHIPLOG_OK;
}

int shiplog_log_size(uint64_t* size_bytes, uint64_t* segments,
                     const shiplog_log* log) {
  return Guard([&]() -> int {
    SHIPLOG_TRY(CheckNotNull(size_bytes, "size_bytes"));
    SHIPLOG_TRY(CheckNotNull(segments, "segments"));
    SHIPLOG_TRY(CheckLog(log));
    *size_bytes = log->log->size_bytes();
    *segments = log->log->segment_count();
    return SHIPLOG_OK;
  });
}

}  // extern "C"
