#include "engine/metrics/metric_families.h"

#include <cstdint>
#include <utility>

namespace shiplog {
namespace {

// One unlabelled counter or gauge, as a row of the tables below.
struct ScalarRow {
  const char* name;
  const char* help;
  MetricUnit unit;
  double value;
};

// One per-log gauge: which LogGauges field it reads.
struct LogRow {
  const char* name;
  const char* help;
  MetricUnit unit;
  int64_t LogGauges::*field;
};

constexpr LogRow kLogRows[] = {
    {"shiplog_log_segments", "Segments in the log.", MetricUnit::kCount,
     &LogGauges::segments},
    {"shiplog_log_size_bytes", "Bytes of the log's segment files.",
     MetricUnit::kBytes, &LogGauges::size_bytes},
    {"shiplog_log_start_offset", "The log's first offset still kept.",
     MetricUnit::kCount, &LogGauges::start_offset},
    {"shiplog_log_end_offset", "The offset the log's next record will get.",
     MetricUnit::kCount, &LogGauges::end_offset},
    {"shiplog_log_committed_offset",
     "Offsets below this are fsync'd (the recovery point).", MetricUnit::kCount,
     &LogGauges::committed_offset},
};

MetricFamily& AddFamily(std::vector<MetricFamily>* families, std::string name,
                        std::string help, MetricType type, MetricUnit unit) {
  MetricFamily& family = families->emplace_back();
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  family.unit = unit;
  return family;
}

void AddScalars(std::vector<MetricFamily>* families, MetricType type,
                absl::Span<const ScalarRow> rows) {
  for (const ScalarRow& row : rows) {
    AddFamily(families, row.name, row.help, type, row.unit)
        .samples.push_back({{}, row.value});
  }
}

// A family of one sample per send path, labelled path="<name>".
void AddPerSendPath(std::vector<MetricFamily>* families, std::string name,
                    std::string help, MetricUnit unit,
                    const PerSendPath<uint64_t>& values) {
  MetricFamily& family = AddFamily(families, std::move(name), std::move(help),
                                   MetricType::kCounter, unit);
  for (SendPath path : kSendPaths) {
    family.samples.push_back({{{"path", std::string(SendPathName(path))}},
                              static_cast<double>(values[path])});
  }
}

void AddEngineFamilies(const EngineMetricsSnapshot& engine,
                       std::vector<MetricFamily>* families) {
  const auto count = [](uint64_t value) { return static_cast<double>(value); };
  AddScalars(
      families, MetricType::kCounter,
      {{"shiplog_appended_bytes_total", "Bytes of batches appended to logs.",
        MetricUnit::kBytes, count(engine.appended_bytes)},
       {"shiplog_appended_batches_total", "Record batches appended to logs.",
        MetricUnit::kCount, count(engine.appended_batches)},
       {"shiplog_appended_records_total", "Records appended to logs.",
        MetricUnit::kCount, count(engine.appended_records)}});
  AddPerSendPath(families, "shiplog_sent_bytes_total",
                 "Bytes sent to sockets, by the system call that moved them.",
                 MetricUnit::kBytes, engine.sent_bytes);
  AddPerSendPath(families, "shiplog_send_syscalls_total",
                 "System calls issued to send bytes to sockets.",
                 MetricUnit::kCount, engine.send_syscalls);
  AddScalars(
      families, MetricType::kCounter,
      {{"shiplog_partial_sends_total",
        "Send system calls that moved fewer bytes than asked.",
        MetricUnit::kCount, count(engine.partial_sends)},
       {"shiplog_send_eagain_total",
        "Send system calls that found the socket full (EAGAIN).",
        MetricUnit::kCount, count(engine.send_eagain)},
       {"shiplog_send_fallbacks_total",
        "Sends that fell back to copying because sendfile refused.",
        MetricUnit::kCount, count(engine.send_fallbacks)},
       {"shiplog_send_errors_total", "Sends that failed with an error.",
        MetricUnit::kCount, count(engine.send_errors)},
       {"shiplog_direct_reads_total",
        "Direct (O_DIRECT) reads of cold slices submitted.",
        MetricUnit::kCount, count(engine.direct_reads)},
       {"shiplog_direct_read_bytes_total",
        "Bytes direct reads returned, alignment padding included.",
        MetricUnit::kBytes, count(engine.direct_read_bytes)},
       {"shiplog_direct_read_buffer_waits_total",
        "Direct reads that found every pool buffer in use.",
        MetricUnit::kCount, count(engine.direct_read_buffer_waits)},
       {"shiplog_direct_read_fallbacks_total",
        "Cold slices sent through the page cache because a direct read "
        "could not be set up.",
        MetricUnit::kCount, count(engine.direct_read_fallbacks)},
       {"shiplog_fsyncs_total",
        "fdatasync calls on segment and index files, and durable direct "
        "writes.",
        MetricUnit::kCount, count(engine.fsyncs)},
       {"shiplog_fsync_failures_total",
        "fdatasync calls or durable direct writes that failed.",
        MetricUnit::kCount, count(engine.fsync_failures)}});

  MetricFamily& fsync_duration = AddFamily(
      families, "shiplog_fsync_duration_seconds",
      "Time an fdatasync (or a durable direct write) took.",
      MetricType::kHistogram, MetricUnit::kSeconds);
  fsync_duration.histogram = engine.fsync_latency_us;
  fsync_duration.histogram_values_per_unit = 1e6;

  AddScalars(families, MetricType::kGauge,
             {{"shiplog_open_files", "Files the engine holds open.",
               MetricUnit::kCount, static_cast<double>(engine.open_files)},
              {"shiplog_mapped_bytes", "Bytes the engine holds mmap'd.",
               MetricUnit::kBytes, static_cast<double>(engine.mapped_bytes)},
              {"shiplog_mappings", "Memory mappings the engine holds.",
               MetricUnit::kCount, static_cast<double>(engine.mappings)},
              {"shiplog_direct_read_buffers_in_use",
               "Direct read pool buffers lent out.", MetricUnit::kCount,
               static_cast<double>(engine.direct_read_buffers_in_use)}});
  AddScalars(
      families, MetricType::kCounter,
      {{"shiplog_segments_recovered_total",
        "Segments scanned and validated by recovery after an unclean "
        "shutdown.",
        MetricUnit::kCount, count(engine.segments_recovered)},
       {"shiplog_recovery_truncated_bytes_total",
        "Bytes of torn or corrupt tail cut off by recovery.",
        MetricUnit::kBytes, count(engine.bytes_truncated_by_recovery)},
       {"shiplog_crc_failures_total", "Batches whose CRC-32C did not match.",
        MetricUnit::kCount, count(engine.crc_failures)},
       {"shiplog_index_rebuilds_total",
        "Offset and time indexes rebuilt from their segment.",
        MetricUnit::kCount, count(engine.index_rebuilds)},
       {"shiplog_segment_releases_total",
        "Idle segments whose files were closed to stay within the caps on "
        "open descriptors and mappings.",
        MetricUnit::kCount, count(engine.segment_releases)}});
}

void AddLogFamilies(absl::Span<const LogGauges> logs,
                    std::vector<MetricFamily>* families) {
  if (logs.empty()) return;
  for (const LogRow& row : kLogRows) {
    MetricFamily& family =
        AddFamily(families, row.name, row.help, MetricType::kGauge, row.unit);
    for (const LogGauges& log : logs) {
      family.samples.push_back(
          {{{"log", log.name}}, static_cast<double>(log.*row.field)});
    }
  }
}

// A family for an optional process field, left out when it is absent.
template <typename T>
void AddIfPresent(std::vector<MetricFamily>* families, const char* name,
                  const char* help, MetricType type, MetricUnit unit,
                  const std::optional<T>& value) {
  if (!value.has_value()) return;
  AddFamily(families, name, help, type, unit)
      .samples.push_back({{}, static_cast<double>(*value)});
}

void AddProcessFamilies(const ProcessStats& process,
                        std::vector<MetricFamily>* families) {
  AddFamily(families, "shiplog_process_cpu_seconds_total",
            "CPU time the process used, by mode.", MetricType::kCounter,
            MetricUnit::kSeconds)
      .samples = {{{{"mode", "user"}}, process.user_cpu_seconds},
                  {{{"mode", "system"}}, process.system_cpu_seconds}};
  AddFamily(families, "shiplog_process_context_switches_total",
            "Context switches: voluntary (blocked) or involuntary "
            "(preempted).",
            MetricType::kCounter, MetricUnit::kCount)
      .samples = {{{{"kind", "voluntary"}},
                   static_cast<double>(process.voluntary_context_switches)},
                  {{{"kind", "involuntary"}},
                   static_cast<double>(process.involuntary_context_switches)}};
  AddIfPresent(families, "shiplog_process_resident_memory_bytes",
               "Resident memory of the process.", MetricType::kGauge,
               MetricUnit::kBytes, process.resident_memory_bytes);
  AddIfPresent(families, "shiplog_process_open_fds",
               "File descriptors the process holds open.", MetricType::kGauge,
               MetricUnit::kCount, process.open_fds);
  AddIfPresent(families, "shiplog_process_max_fds",
               "The process's file descriptor limit (RLIMIT_NOFILE soft).",
               MetricType::kGauge, MetricUnit::kCount, process.max_fds);
  AddIfPresent(families, "shiplog_process_memory_maps",
               "Memory mappings of the process.", MetricType::kGauge,
               MetricUnit::kCount, process.memory_maps);
  AddIfPresent(families, "shiplog_process_max_memory_maps",
               "The system's limit on mappings per process (vm.max_map_count).",
               MetricType::kGauge, MetricUnit::kCount, process.max_memory_maps);
  AddIfPresent(families, "shiplog_process_io_wait_seconds_total",
               "Time the process waited for block I/O (delay accounting).",
               MetricType::kCounter, MetricUnit::kSeconds,
               process.io_wait_seconds);
}

}  // namespace

std::vector<MetricFamily> CollectMetricFamilies(
    const EngineMetricsSnapshot& engine,
    const std::optional<ProcessStats>& process,
    absl::Span<const LogGauges> logs) {
  std::vector<MetricFamily> families;
  AddEngineFamilies(engine, &families);
  AddLogFamilies(logs, &families);
  if (process.has_value()) AddProcessFamilies(*process, &families);
  return families;
}

}  // namespace shiplog
