#include "bindings/cli/bench_report.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bindings/cli/byte_size.h"
#include "bindings/cli/json_writer.h"
#include "bindings/cli/send_names.h"

namespace shiplog::cli {
namespace {

// A field of a sample, as both JSON and CSV write it.
using FieldValue = std::variant<int64_t, double, std::string>;
using Fields = std::vector<std::pair<absl::string_view, FieldValue>>;

// Every field of a transfer sample, measured then derived: the JSON
// object's keys and the CSV's columns, in one place.
Fields SampleFields(const TransferSample& sample) {
  const auto count = [](uint64_t n) { return static_cast<int64_t>(n); };
  return {
      {"size_bytes", count(sample.size_bytes)},
      {"path", std::string(SendPolicyName(sample.policy))},
      {"repetition", int64_t{sample.repetition}},
      {"turn", int64_t{sample.turn}},
      {"transfers", sample.transfers},
      {"bytes", count(sample.total_bytes())},
      {"wall_seconds", sample.wall_seconds},
      {"user_cpu_seconds", sample.sender.user_cpu_seconds},
      {"system_cpu_seconds", sample.sender.system_cpu_seconds},
      {"voluntary_switches", sample.sender.voluntary_switches},
      {"involuntary_switches", sample.sender.involuntary_switches},
      {"syscalls", count(sample.syscalls)},
      {"other_path_bytes", count(sample.other_path_bytes)},
      {"throughput_mb_per_s", sample.throughput_mb_per_s()},
      {"cpu_seconds_per_gib", sample.cpu_seconds_per_gib()},
      {"voluntary_switches_per_transfer",
       sample.voluntary_switches_per_transfer()},
      {"involuntary_switches_per_transfer",
       sample.involuntary_switches_per_transfer()},
      {"syscalls_per_mib", sample.syscalls_per_mib()},
  };
}

// The measures a cell summarizes, each with its Spread in CellSummary.
struct SummarizedMeasure {
  absl::string_view name;
  double (TransferSample::*measure)() const;
  Spread CellSummary::*spread;
};

constexpr SummarizedMeasure kSummarizedMeasures[] = {
    {"throughput_mb_per_s", &TransferSample::throughput_mb_per_s,
     &CellSummary::throughput_mb_per_s},
    {"cpu_seconds_per_gib", &TransferSample::cpu_seconds_per_gib,
     &CellSummary::cpu_seconds_per_gib},
    {"voluntary_switches_per_transfer",
     &TransferSample::voluntary_switches_per_transfer,
     &CellSummary::voluntary_switches_per_transfer},
    {"involuntary_switches_per_transfer",
     &TransferSample::involuntary_switches_per_transfer,
     &CellSummary::involuntary_switches_per_transfer},
    {"syscalls_per_mib", &TransferSample::syscalls_per_mib,
     &CellSummary::syscalls_per_mib},
};

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle]
                                : (values[middle - 1] + values[middle]) / 2;
}

Spread SpreadOf(const std::vector<double>& values) {
  if (values.empty()) return Spread{};
  const auto [min, max] = std::minmax_element(values.begin(), values.end());
  return Spread{Median(values), *min, *max};
}

// Three significant digits, never in exponent form: "812", "2.41",
// "0.0123".
std::string Rounded(double value) {
  const double magnitude = std::fabs(value);
  if (magnitude >= 100 || value == 0) return absl::StrFormat("%.0f", value);
  const int decimals =
      std::min(6, 2 - static_cast<int>(std::floor(std::log10(magnitude))));
  return absl::StrFormat("%.*f", decimals, value);
}

// Context switches per transfer: most small transfers switch none, and
// "0.00" says so more plainly than "0.000137".
std::string Hundredths(double value) { return absl::StrFormat("%.2f", value); }

std::string Repetitions(size_t count) {
  return absl::StrCat(count, count == 1 ? " repetition" : " repetitions");
}

std::string Seconds(double seconds) {
  return absl::StrFormat("%.2f s", seconds);
}

// Pads `rows` into columns; the first `left_columns` are left-aligned,
// the rest right-aligned.
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows,
                         size_t left_columns) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string text;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string padding(widths[i] - row[i].size(), ' ');
      absl::StrAppend(&line, i == 0 ? "" : "  ",
                      i < left_columns ? row[i] + padding : padding + row[i]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    absl::StrAppend(&text, line, "\n");
  }
  return text;
}

const CellSummary* FindCell(absl::Span<const CellSummary> cells,
                            uint64_t size_bytes, shiplog_send_policy policy) {
  for (const CellSummary& cell : cells) {
    if (cell.size_bytes == size_bytes && cell.policy == policy) return &cell;
  }
  return nullptr;
}

// The smallest size from which on `sendfile_better` holds at every larger
// measured size.
std::optional<uint64_t> StableCrossover(
    absl::Span<const CellSummary> cells,
    const std::function<bool(const CellSummary& sendfile,
                             const CellSummary& mmap_write)>& sendfile_better) {
  std::optional<uint64_t> crossover;
  for (auto it = cells.rbegin(); it != cells.rend(); ++it) {
    if (it->policy != SHIPLOG_SEND_SENDFILE) continue;
    const CellSummary* mmap_write =
        FindCell(cells, it->size_bytes, SHIPLOG_SEND_MMAP_WRITE);
    if (mmap_write == nullptr || !sendfile_better(*it, *mmap_write)) break;
    crossover = it->size_bytes;
  }
  return crossover;
}

struct AppendSummary {
  double append_mb_per_s = 0;
  double write_mb_per_s = 0;
};

AppendSummary SummarizeAppends(absl::Span<const AppendSample> samples) {
  std::vector<double> appends;
  std::vector<double> writes;
  for (const AppendSample& sample : samples) {
    appends.push_back(sample.bytes / 1e6 / sample.append_seconds);
    writes.push_back(sample.bytes / 1e6 / sample.write_seconds);
  }
  return AppendSummary{Median(appends), Median(writes)};
}

std::string SinkDescription(SinkKind sink) {
  return sink == SinkKind::kUnixSocketPair
             ? "an AF_UNIX socket pair"
             : "a TCP loopback connection (127.0.0.1)";
}

// What the AUTO policy does for the sink, as the library decides it.
std::string AutoPolicyLine(uint64_t threshold_bytes) {
  const std::string choice =
      threshold_bytes == UINT64_MAX
          ? std::string("mmap_write at every size, never sendfile")
          : absl::StrCat("mmap_write below ", FormatByteSize(threshold_bytes),
                         ", sendfile from there up");
  return absl::StrCat("auto policy for this sink: ", choice,
                      " (shiplog_send_auto_threshold)\n");
}

// `cells`: sizes ascending, not empty.
std::string CrossoverLines(const Crossover& crossover,
                           absl::Span<const CellSummary> cells) {
  const auto size = [&](const std::optional<uint64_t>& found) {
    return found ? FormatByteSize(*found)
                 : absl::StrCat("none in ",
                                FormatByteSize(cells.front().size_bytes), "..",
                                FormatByteSize(cells.back().size_bytes));
  };
  return absl::StrCat(
      "crossover: the smallest size from which sendfile beats mmap_write at "
      "every larger size\n  in median throughput: ",
      size(crossover.throughput_size_bytes),
      "\n  in median CPU s/GiB:  ", size(crossover.cpu_size_bytes), "\n");
}

void WriteSpread(JsonWriter& json, absl::string_view name,
                 const Spread& spread) {
  json.Key(name).BeginObject();
  json.Key("median").Number(spread.median);
  json.Key("min").Number(spread.min);
  json.Key("max").Number(spread.max);
  json.EndObject();
}

void WriteFields(JsonWriter& json, const Fields& fields) {
  json.BeginObject();
  for (const auto& [name, value] : fields) {
    json.Key(name);
    if (const auto* integer = std::get_if<int64_t>(&value)) {
      json.Int(*integer);
    } else if (const auto* real = std::get_if<double>(&value)) {
      json.Number(*real);
    } else {
      json.String(std::get<std::string>(value));
    }
  }
  json.EndObject();
}

void WriteOptionalSize(JsonWriter& json, absl::string_view name,
                       const std::optional<uint64_t>& size) {
  json.Key(name);
  if (size) {
    json.Int(static_cast<int64_t>(*size));
  } else {
    json.Null();
  }
}

}  // namespace

std::vector<CellSummary> Summarize(absl::Span<const TransferSample> samples) {
  std::vector<uint64_t> sizes;
  for (const TransferSample& sample : samples) {
    if (std::find(sizes.begin(), sizes.end(), sample.size_bytes) ==
        sizes.end()) {
      sizes.push_back(sample.size_bytes);
    }
  }
  std::sort(sizes.begin(), sizes.end());
  std::vector<CellSummary> cells;
  for (uint64_t size : sizes) {
    for (shiplog_send_policy policy : kBenchPolicies) {
      CellSummary cell{.size_bytes = size, .policy = policy};
      std::vector<const TransferSample*> repetitions;
      for (const TransferSample& sample : samples) {
        if (sample.size_bytes != size || sample.policy != policy) continue;
        repetitions.push_back(&sample);
        cell.other_path_bytes += sample.other_path_bytes;
      }
      for (const SummarizedMeasure& measure : kSummarizedMeasures) {
        std::vector<double> values;
        for (const TransferSample* sample : repetitions) {
          values.push_back((sample->*measure.measure)());
        }
        cell.*measure.spread = SpreadOf(values);
      }
      cells.push_back(cell);
    }
  }
  return cells;
}

Crossover FindCrossover(absl::Span<const CellSummary> cells) {
  Crossover crossover;
  crossover.throughput_size_bytes = StableCrossover(
      cells, [](const CellSummary& sendfile, const CellSummary& mmap_write) {
        return sendfile.throughput_mb_per_s.median >
               mmap_write.throughput_mb_per_s.median;
      });
  crossover.cpu_size_bytes = StableCrossover(
      cells, [](const CellSummary& sendfile, const CellSummary& mmap_write) {
        return sendfile.cpu_seconds_per_gib.median <
               mmap_write.cpu_seconds_per_gib.median;
      });
  return crossover;
}

std::string MachineLine(const MachineInfo& machine) {
  return absl::StrCat(machine.cpus, " CPUs, ", machine.kernel, ", ",
                      machine.cpu_model);
}

// "4 KiB batches of 4 records": the bench log's layout.
std::string BatchDescription() {
  return absl::StrCat(FormatByteSize(kBenchBatchBytes), " batches of ",
                      kBenchRecordsPerBatch, " records");
}

// Where a requested size is not a whole number of batches, what was
// measured instead; "" when every size is.
std::string RoundedSizesNote(const std::vector<TransferSize>& sizes) {
  std::vector<std::string> rounded;
  for (const TransferSize& size : sizes) {
    if (size.requested_bytes == size.whole_batch_bytes) continue;
    rounded.push_back(absl::StrCat(FormatByteSize(size.requested_bytes), " as ",
                                   FormatByteSize(size.whole_batch_bytes)));
  }
  if (rounded.empty()) return "";
  return absl::StrCat("note: sizes are the nearest whole batches, measured ",
                      absl::StrJoin(rounded, ", "), "\n");
}

std::string FormatBenchTable(const BenchResults& results) {
  const BenchConfig& config = results.config;
  const SetupReport& setup = results.setup;
  std::string text = absl::StrCat(
      "shiplog bench: copy (pread + write) vs mmap_write vs sendfile, one "
      "log range each,\nto ",
      SinkDescription(config.sink),
      " drained by a thread of this process\nmachine: ",
      MachineLine(results.machine), "\n");
  if (setup.written_bytes > 0) {
    absl::StrAppend(&text, "setup: wrote ", FormatByteSize(setup.written_bytes),
                    " (", BatchDescription(), ") to log ", kBenchLogName,
                    " in ", Seconds(setup.write_seconds), " with fdatasync;\n");
  } else {
    absl::StrAppend(&text, "setup: log ", kBenchLogName, " already held ",
                    FormatByteSize(setup.log_bytes), ";\n");
  }
  absl::StrAppend(
      &text, "       read it once (", Seconds(setup.warm_seconds),
      "): the page cache is warm\nrows: median (min..max) of ",
      Repetitions(config.repetitions),
      ", the paths alternating in an order rotated each\n      repetition; "
      "a cell repeats its transfer until it lasts >= ",
      static_cast<int>(config.min_cell_seconds * 1000),
      " ms\nsizes: whole batches from the log's start (the library never "
      "sends part of one)\nMB/s = 10^6 bytes/s until the receiver has every "
      "byte; CPU s/GiB, context switches per\ntransfer and syscalls per MiB "
      "are the sending thread's\n",
      RoundedSizesNote(setup.sizes), "\n");

  const std::vector<CellSummary> cells = Summarize(results.transfers);
  std::vector<std::vector<std::string>> rows = {
      {"size", "path", "MB/s", "(min..max)", "CPU s/GiB", "vol ctx",
       "invol ctx", "syscalls/MiB"}};
  uint64_t other_path_bytes = 0;
  for (const CellSummary& cell : cells) {
    const bool first_of_size = cell.policy == kBenchPolicies.front();
    rows.push_back(
        {first_of_size ? FormatByteSize(cell.size_bytes) : "",
         std::string(SendPolicyName(cell.policy)),
         Rounded(cell.throughput_mb_per_s.median),
         absl::StrCat("(", Rounded(cell.throughput_mb_per_s.min), "..",
                      Rounded(cell.throughput_mb_per_s.max), ")"),
         Rounded(cell.cpu_seconds_per_gib.median),
         Hundredths(cell.voluntary_switches_per_transfer.median),
         Hundredths(cell.involuntary_switches_per_transfer.median),
         Rounded(cell.syscalls_per_mib.median)});
    other_path_bytes += cell.other_path_bytes;
  }
  absl::StrAppend(&text, AlignColumns(rows, 2), "\n");
  if (other_path_bytes > 0) {
    absl::StrAppend(&text, "note: ", other_path_bytes,
                    " bytes went by another path than asked (a sendfile the "
                    "kernel refused was copied instead)\n");
  }
  if (!results.appends.empty()) {
    const AppendSummary append = SummarizeAppends(results.appends);
    absl::StrAppend(
        &text, "append: Log::Append ", Rounded(append.append_mb_per_s),
        " MB/s, write(2) of the same batch bytes ",
        Rounded(append.write_mb_per_s), " MB/s: ",
        Rounded(100 * append.append_mb_per_s / append.write_mb_per_s), "%\n(",
        FormatByteSize(results.appends.front().bytes), " of ",
        BatchDescription(), ", page cache only, median of ",
        Repetitions(results.appends.size()), ")\n\n");
  }
  absl::StrAppend(&text, CrossoverLines(FindCrossover(cells), cells),
                  AutoPolicyLine(setup.auto_threshold_bytes));
  return text;
}

std::string FormatBenchJson(const BenchResults& results) {
  const BenchConfig& config = results.config;
  JsonWriter json;
  json.BeginObject();
  json.Key("machine").BeginObject();
  json.Key("nproc").Int(results.machine.cpus);
  json.Key("kernel").String(results.machine.kernel);
  json.Key("cpu_model").String(results.machine.cpu_model);
  json.EndObject();

  json.Key("config").BeginObject();
  json.Key("sink").String(SinkKindName(config.sink));
  json.Key("sizes_bytes").BeginArray();
  for (uint64_t size : config.sizes_bytes) json.Int(static_cast<int64_t>(size));
  json.EndArray();
  json.Key("repetitions").Int(config.repetitions);
  json.Key("min_cell_seconds").Number(config.min_cell_seconds);
  json.Key("batch_bytes").Int(kBenchBatchBytes);
  json.Key("value_bytes").Int(static_cast<int64_t>(results.setup.value_bytes));
  json.Key("records_per_batch").Int(kBenchRecordsPerBatch);
  // The sink's AUTO threshold; null where AUTO never sends by sendfile.
  json.Key("mmap_threshold_bytes");
  if (results.setup.auto_threshold_bytes == UINT64_MAX) {
    json.Null();
  } else {
    json.Int(static_cast<int64_t>(results.setup.auto_threshold_bytes));
  }
  json.EndObject();

  json.Key("setup").BeginObject();
  json.Key("log_bytes").Int(static_cast<int64_t>(results.setup.log_bytes));
  json.Key("written_bytes")
      .Int(static_cast<int64_t>(results.setup.written_bytes));
  json.Key("write_seconds").Number(results.setup.write_seconds);
  json.Key("warm_read_seconds").Number(results.setup.warm_seconds);
  json.Key("sizes").BeginArray();
  for (const TransferSize& size : results.setup.sizes) {
    json.BeginObject();
    json.Key("requested_bytes").Int(static_cast<int64_t>(size.requested_bytes));
    json.Key("whole_batch_bytes")
        .Int(static_cast<int64_t>(size.whole_batch_bytes));
    json.EndObject();
  }
  json.EndArray();
  json.EndObject();

  json.Key("transfers").BeginArray();
  for (const TransferSample& sample : results.transfers) {
    WriteFields(json, SampleFields(sample));
  }
  json.EndArray();

  const std::vector<CellSummary> cells = Summarize(results.transfers);
  json.Key("summary").BeginArray();
  for (const CellSummary& cell : cells) {
    json.BeginObject();
    json.Key("size_bytes").Int(static_cast<int64_t>(cell.size_bytes));
    json.Key("path").String(SendPolicyName(cell.policy));
    for (const SummarizedMeasure& measure : kSummarizedMeasures) {
      WriteSpread(json, measure.name, cell.*measure.spread);
    }
    json.Key("other_path_bytes")
        .Int(static_cast<int64_t>(cell.other_path_bytes));
    json.EndObject();
  }
  json.EndArray();

  json.Key("append").BeginObject();
  json.Key("samples").BeginArray();
  for (const AppendSample& sample : results.appends) {
    json.BeginObject();
    json.Key("repetition").Int(sample.repetition);
    json.Key("bytes").Int(static_cast<int64_t>(sample.bytes));
    json.Key("append_seconds").Number(sample.append_seconds);
    json.Key("write_seconds").Number(sample.write_seconds);
    json.EndObject();
  }
  json.EndArray();
  const AppendSummary append = SummarizeAppends(results.appends);
  json.Key("append_mb_per_s").Number(append.append_mb_per_s);
  json.Key("write_mb_per_s").Number(append.write_mb_per_s);
  json.Key("ratio").Number(append.append_mb_per_s / append.write_mb_per_s);
  json.EndObject();

  const Crossover crossover = FindCrossover(cells);
  json.Key("crossover").BeginObject();
  WriteOptionalSize(json, "throughput_size_bytes",
                    crossover.throughput_size_bytes);
  WriteOptionalSize(json, "cpu_size_bytes", crossover.cpu_size_bytes);
  json.EndObject();
  json.EndObject();
  return json.text() + "\n";
}

std::string FormatBenchCsv(const BenchResults& results) {
  std::string text =
      absl::StrCat("# machine: ", MachineLine(results.machine),
                   "; sink: ", SinkKindName(results.config.sink), "\n");
  for (size_t i = 0; i < results.transfers.size(); ++i) {
    const Fields fields = SampleFields(results.transfers[i]);
    if (i == 0) {
      std::vector<absl::string_view> names;
      for (const auto& field : fields) names.push_back(field.first);
      absl::StrAppend(&text, absl::StrJoin(names, ","), "\n");
    }
    std::vector<std::string> values;
    for (const auto& [name, value] : fields) {
      if (const auto* integer = std::get_if<int64_t>(&value)) {
        values.push_back(absl::StrCat(*integer));
      } else if (const auto* real = std::get_if<double>(&value)) {
        values.push_back(absl::StrFormat("%.9g", *real));
      } else {
        values.push_back(std::get<std::string>(value));
      }
    }
    absl::StrAppend(&text, absl::StrJoin(values, ","), "\n");
  }
  return text;
}

}  // namespace shiplog::cli
