#include "bindings/kafka/offset_store.h"

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bindings/cli/status_macros.h"

namespace shiplog::kafka {
namespace {

constexpr uint64_t kReplayChunkBytes = 1 << 20;

std::string EncodeKey(const std::string& group, const std::string& topic,
                      int32_t partition) {
  return absl::StrCat(group, absl::string_view("\0", 1), topic,
                      absl::string_view("\0", 1), partition);
}

std::string EncodeValue(const OffsetStore::Committed& committed) {
  return absl::StrCat(committed.offset, absl::string_view("\0", 1),
                      committed.metadata);
}

}  // namespace

absl::StatusOr<OffsetStore> OffsetStore::Open(shiplog_store* store) {
  shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
  options.retention_ms = -1;
  ASSIGN_OR_RETURN(
      cli::Owned<shiplog_log> log,
      cli::Open(shiplog_log_open, store,
                absl::StrCat(kOffsetsTopic, "-0").c_str(), &options));
  OffsetStore offsets(std::move(log));
  RETURN_IF_ERROR(offsets.Replay());
  return offsets;
}

absl::Status OffsetStore::Replay() {
  int64_t offset = 0;
  int64_t end = 0;
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_log_start_offset(&offset, log_.get())));
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_log_end_offset(&end, log_.get())));
  while (offset < end) {
    const int64_t chunk_start = offset;
    ASSIGN_OR_RETURN(const cli::Owned<shiplog_records> records,
                     cli::Open(shiplog_records_open_log, log_.get(), offset,
                               kReplayChunkBytes));
    shiplog_record record;
    int status;
    while ((status = shiplog_records_next(&record, records.get())) ==
           SHIPLOG_OK) {
      offset = record.offset + 1;
      const std::vector<absl::string_view> key = absl::StrSplit(
          absl::string_view(static_cast<const char*>(record.key),
                            record.key_len),
          absl::ByChar('\0'));
      const absl::string_view value(static_cast<const char*>(record.value),
                                    record.value_len);
      const size_t separator = value.find('\0');
      Committed committed;
      int32_t partition = 0;
      if (key.size() != 3 || !absl::SimpleAtoi(key[2], &partition) ||
          separator == absl::string_view::npos ||
          !absl::SimpleAtoi(value.substr(0, separator), &committed.offset)) {
        return absl::DataLossError(absl::StrCat(
            kOffsetsTopic, "-0: record at offset ", record.offset,
            " is not a committed offset"));
      }
      committed.metadata = std::string(value.substr(separator + 1));
      offsets_[{std::string(key[0]), std::string(key[1]), partition}] =
          std::move(committed);
    }
    if (status != SHIPLOG_ITEROVER) return cli::AbiStatus(status);
    if (offset == chunk_start) {
      return absl::DataLossError(absl::StrCat(
          kOffsetsTopic, "-0: no record readable at offset ", offset,
          " of ", end));
    }
  }
  return absl::OkStatus();
}

absl::Status OffsetStore::CommitOffsets(const std::string& group,
                                        const std::vector<Commit>& commits) {
  if (commits.empty()) return absl::OkStatus();
  // NUL separates the key's fields: names holding one could not be read
  // back, and would make the store unopenable.
  const auto has_nul = [](const std::string& name) {
    return name.find('\0') != std::string::npos;
  };
  if (has_nul(group)) {
    return absl::InvalidArgumentError("a group id cannot hold a NUL byte");
  }
  for (const Commit& commit : commits) {
    if (has_nul(commit.topic)) {
      return absl::InvalidArgumentError("a topic name cannot hold a NUL byte");
    }
  }
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<shiplog_record> records(commits.size());
  keys.reserve(commits.size());
  values.reserve(commits.size());
  for (size_t i = 0; i < commits.size(); ++i) {
    keys.push_back(EncodeKey(group, commits[i].topic, commits[i].partition));
    values.push_back(EncodeValue(commits[i].committed));
    records[i].timestamp_ms = SHIPLOG_NO_TIMESTAMP;
    records[i].key = keys[i].data();
    records[i].key_len = keys[i].size();
    records[i].value = values[i].data();
    records[i].value_len = values[i].size();
  }
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_log_append(
      nullptr, log_.get(), records.data(), records.size(), nullptr)));
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_log_flush(log_.get())));
  for (const Commit& commit : commits) {
    offsets_[{group, commit.topic, commit.partition}] = commit.committed;
  }
  return absl::OkStatus();
}

std::optional<OffsetStore::Committed> OffsetStore::Find(
    const std::string& group, const std::string& topic,
    int32_t partition) const {
  const auto it = offsets_.find({group, topic, partition});
  if (it == offsets_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, int32_t>> OffsetStore::Partitions(
    const std::string& group) const {
  std::vector<std::pair<std::string, int32_t>> partitions;
  for (auto it = offsets_.lower_bound({group, "", INT32_MIN});
       it != offsets_.end() && std::get<0>(it->first) == group; ++it) {
    partitions.emplace_back(std::get<1>(it->first), std::get<2>(it->first));
  }
  return partitions;
}

}  // namespace shiplog::kafka
