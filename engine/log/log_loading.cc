// Log: opening a log directory and recovering it after an unclean
// shutdown.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/log/log.h"
#include "engine/metrics/engine_metrics.h"
#include "engine/segment/segment_files.h"
#include "engine/status/status_macros.h"

namespace shiplog {
namespace {

void NoteRecovery(int64_t base_offset, const SegmentRecovery& recovery,
                  bool read_only, LogLoadReport* report) {
  report->segments_recovered++;
  GlobalMetrics().segments_recovered.Add();
  if (recovery.invalid_bytes == 0) return;
  report->bytes_truncated += recovery.invalid_bytes;
  GlobalMetrics().bytes_truncated_by_recovery.Add(recovery.invalid_bytes);
  report->notes.push_back(absl::StrCat(
      "segment ", base_offset, ": ", read_only ? "ignored " : "truncated ",
      recovery.invalid_bytes, " invalid bytes at position ",
      recovery.valid_bytes, ": ", recovery.reason));
}

}  // namespace

absl::StatusOr<std::shared_ptr<Log>> Log::Open(Env* env,
                                               const std::string& directory,
                                               const std::string& name,
                                               const LogConfig& config,
                                               const LogOpenOptions& options) {
  RETURN_IF_ERROR(config.Validate());
  std::shared_ptr<Log> log(
      new Log(env, directory, name, config, options.read_only));
  if (absl::Status loaded = log->Load(options); !loaded.ok()) {
    return absl::Status(loaded.code(), absl::StrCat("opening log ", name, ": ",
                                                    loaded.message()));
  }
  return log;
}

absl::Status Log::Load(const LogOpenOptions& options) {
  free_space_guard_ = options.free_space_guard;
  segment_cache_ = options.segment_cache;
  ASSIGN_OR_RETURN(const std::vector<std::string> names,
                   env_->ListDir(directory_));
  std::vector<int64_t> bases;
  for (const std::string& file_name : names) {
    if (auto base = ParseSegmentFileName(file_name, kLogFileSuffix)) {
      bases.push_back(*base);
    }
  }
  std::sort(bases.begin(), bases.end());
  if (!read_only_) {
    // A temporary file is left from a truncation or atomic write cut short.
    for (const std::string& file_name : names) {
      if (absl::EndsWith(file_name, kTemporaryFileSuffix)) {
        RETURN_IF_ERROR(env_->RemoveFile(JoinPath(directory_, file_name)));
      }
    }
    // An index without its .log is left from a deletion cut short.
    for (const std::string& file_name : names) {
      for (absl::string_view suffix :
           {kOffsetIndexFileSuffix, kTimeIndexFileSuffix}) {
        const std::optional<int64_t> base =
            ParseSegmentFileName(file_name, suffix);
        if (base && !std::binary_search(bases.begin(), bases.end(), *base)) {
          RETURN_IF_ERROR(env_->RemoveFile(JoinPath(directory_, file_name)));
        }
      }
    }
  }

  const SegmentOptions segment_opts = segment_options();
  SegmentList list;
  for (size_t i = 0; i < bases.size(); ++i) {
    ASSIGN_OR_RETURN(std::shared_ptr<Segment> segment,
                     Segment::Open(env_, directory_, bases[i], segment_opts));
    const bool last = i + 1 == bases.size();
    // After an unclean shutdown nothing at or past the recovery point is
    // trusted, index entries included: scan those segments.
    const bool scan = !options.clean_shutdown &&
                      (last || bases[i + 1] > options.recovery_point);
    if (scan) {
      ASSIGN_OR_RETURN(const SegmentRecovery recovery, segment->Recover());
      NoteRecovery(bases[i], recovery, read_only_, &load_report_);
      // Recovery rebuilt the indexes preallocated, as for appends: a
      // closed segment's are sealed as its roll sealed them, or every
      // later reader maps (or copies) segment.index.bytes per file, finds
      // them implausible and rebuilds them again.
      // Flushed at once, as a roll flushes what it seals: a closed segment
      // with unwritten changes keeps its files open (SegmentCache).
      if (!last) {
        RETURN_IF_ERROR(segment->Seal());
        if (!read_only_) RETURN_IF_ERROR(segment->Flush());
      }
    } else if (last) {
      ASSIGN_OR_RETURN(const std::optional<SegmentRecovery> recovery,
                       segment->LoadTail());
      if (recovery.has_value()) {
        NoteRecovery(bases[i], *recovery, read_only_, &load_report_);
      }
    } else {
      segment->SetNextOffset(bases[i + 1]);
    }
    list.push_back(segment);
    if (!last && segment->next_offset() != bases[i + 1]) {
      // Recovery cut this segment short: what follows cannot continue it.
      const size_t dropped = bases.size() - i - 1;
      load_report_.segments_removed += static_cast<int>(dropped);
      load_report_.notes.push_back(absl::StrCat(
          "segment ", bases[i], " ends at offset ", segment->next_offset(),
          " but the next segment starts at ", bases[i + 1], ": ",
          read_only_ ? "ignoring" : "removing", " the ", dropped,
          " segments after it"));
      if (!read_only_) {
        for (size_t j = bases.size(); j > i + 1; --j) {
          ASSIGN_OR_RETURN(
              std::shared_ptr<Segment> doomed,
              Segment::Open(env_, directory_, bases[j - 1], segment_opts));
          RETURN_IF_ERROR(doomed->Delete());
        }
      }
      break;
    }
  }
  load_report_.segments = static_cast<int>(list.size());

  // Where a log without segments starts: the checkpoint's offset, made one
  // a segment can start at.
  const int64_t empty_start =
      std::clamp<int64_t>(options.log_start_offset, 0, kLogOffsetLimit);
  if (!read_only_) {
    if (list.empty()) {
      ASSIGN_OR_RETURN(
          std::shared_ptr<Segment> first,
          Segment::Create(env_, directory_, empty_start, segment_opts));
      list.push_back(std::move(first));
      directory_dirty_.store(true, std::memory_order_release);
    } else if (absl::Status activated = list.back()->Activate();
               !activated.ok()) {
      // The last segment's indexes are full for the configured size.
      if (!absl::IsResourceExhausted(activated)) return activated;
      ASSIGN_OR_RETURN(
          std::shared_ptr<Segment> next,
          Segment::Create(env_, directory_, list.back()->next_offset(),
                          segment_opts));
      list.push_back(std::move(next));
      directory_dirty_.store(true, std::memory_order_release);
    }
  }

  const int64_t first =
      list.empty() ? empty_start : list.front()->base_offset();
  const int64_t end = list.empty() ? first : list.back()->next_offset();
  start_offset_.store(std::clamp(options.log_start_offset, first, end));
  recovery_point_.store(options.clean_shutdown
                            ? end
                            : std::clamp(options.recovery_point, first, end));
  dirty_offset_.store(end);
  // What this open saw may rest on directory entries that never became
  // durable (a flush that failed before its directory fsync, in the last
  // run): the first flush makes them so before it advances the recovery
  // point over them.
  if (!read_only_) directory_dirty_.store(true, std::memory_order_release);
  PublishSegments(std::move(list));
  // Direct mode: each group moves the recovery point past all before it,
  // so what this open found (after a process crash, recovered bytes may
  // still be only in the page cache) is made durable first.
  if (!read_only_ && config().write_mode == WriteMode::kDirect) {
    return FlushTo(end);
  }
  return absl::OkStatus();
}

}  // namespace shiplog
