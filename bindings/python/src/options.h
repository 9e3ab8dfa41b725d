// A log's settings as Python keyword arguments and as a dict, under
// Kafka's topic-setting names with '_' for '.' (segment.bytes is
// segment_bytes).
#ifndef SHIPLOG_BINDINGS_PYTHON_SRC_OPTIONS_H_
#define SHIPLOG_BINDINGS_PYTHON_SRC_OPTIONS_H_

#include <pybind11/pybind11.h>

#include "shiplog.h"

namespace shiplog::python {

namespace py = pybind11;

// Sets `options`' settings from `settings` (name=int, or name=None to keep
// the stored value or the default). Raises TypeError for a name that is no
// setting.
void ApplyLogSettings(const py::kwargs& settings, shiplog_log_options* options);

// Every setting of `options` by name.
py::dict LogSettingsDict(const shiplog_log_options& options);

}  // namespace shiplog::python

#endif  // SHIPLOG_BINDINGS_PYTHON_SRC_OPTIONS_H_
