#include "options.h"

#include <cstdint>
#include <string>

#include "convert.h"

namespace shiplog::python {
namespace {

struct LogSetting {
  const char* name;
  int64_t shiplog_log_options::*field;
};

constexpr LogSetting kLogSettings[] = {
    {"segment_bytes", &shiplog_log_options::segment_bytes},
    {"segment_index_bytes", &shiplog_log_options::segment_index_bytes},
    {"index_interval_bytes", &shiplog_log_options::index_interval_bytes},
    {"segment_ms", &shiplog_log_options::segment_ms},
    {"retention_ms", &shiplog_log_options::retention_ms},
    {"retention_bytes", &shiplog_log_options::retention_bytes},
    {"flush_messages", &shiplog_log_options::flush_messages},
    {"flush_ms", &shiplog_log_options::flush_ms},
};

// write_mode takes and gives "buffered" or "direct" (write.mode's values).
constexpr const char* kWriteModeSetting = "write_mode";

int64_t ToWriteMode(const py::handle& value) {
  if (value.is_none()) return SHIPLOG_UNSET;
  if (py::isinstance<py::str>(value)) {
    const std::string mode = py::str(value);
    if (mode == "buffered") return SHIPLOG_WRITE_BUFFERED;
    if (mode == "direct") return SHIPLOG_WRITE_DIRECT;
  }
  throw py::value_error("write_mode must be 'buffered' or 'direct', not " +
                        std::string(py::repr(value)));
}

const LogSetting* FindSetting(const std::string& name) {
  for (const LogSetting& setting : kLogSettings) {
    if (name == setting.name) return &setting;
  }
  return nullptr;
}

}  // namespace

void ApplyLogSettings(const py::kwargs& settings,
                      shiplog_log_options* options) {
  for (const auto& [key, value] : settings) {
    const std::string name = py::str(key);
    if (name == kWriteModeSetting) {
      options->write_mode = ToWriteMode(value);
      continue;
    }
    const LogSetting* setting = FindSetting(name);
    if (setting == nullptr) {
      throw py::type_error("unexpected keyword argument '" + name +
                           "': not a log setting");
    }
    options->*setting->field =
        value.is_none() ? SHIPLOG_UNSET : ToInt64(value, name.c_str());
  }
}

py::dict LogSettingsDict(const shiplog_log_options& options) {
  py::dict settings;
  for (const LogSetting& setting : kLogSettings) {
    settings[setting.name] = options.*setting.field;
  }
  settings[kWriteModeSetting] =
      options.write_mode == SHIPLOG_WRITE_DIRECT ? "direct" : "buffered";
  return settings;
}

}  // namespace shiplog::python
