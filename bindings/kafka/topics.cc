#include "bindings/kafka/topics.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bindings/cli/status_macros.h"

namespace shiplog::kafka {
namespace {

constexpr size_t kMaxTopicNameBytes = 249;

std::string LogName(const std::string& topic, int32_t partition) {
  return absl::StrCat(topic, "-", partition);
}

// A log name "T-P" as (T, P); nullopt for a log that is no partition.
std::optional<std::pair<std::string, int32_t>> ParseLogName(
    absl::string_view name) {
  const size_t dash = name.rfind('-');
  if (dash == absl::string_view::npos || dash == 0) return std::nullopt;
  const absl::string_view digits = name.substr(dash + 1);
  int32_t partition = 0;
  if (digits.empty() || !absl::ascii_isdigit(digits[0]) ||
      !absl::SimpleAtoi(digits, &partition) || partition < 0 ||
      LogName(std::string(name.substr(0, dash)), partition) != name) {
    return std::nullopt;
  }
  return std::make_pair(std::string(name.substr(0, dash)), partition);
}

}  // namespace

absl::StatusOr<Topics> Topics::Load(shiplog_store* store) {
  Topics topics(store);
  shiplog_strarray names = {};
  RETURN_IF_ERROR(cli::AbiStatus(shiplog_store_list_logs(&names, store)));
  absl::Status status;
  for (size_t i = 0; i < names.count && status.ok(); ++i) {
    if (const auto parsed = ParseLogName(names.strings[i])) {
      shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
      options.create_if_missing = 0;
      status = topics.Open(parsed->first, parsed->second, options);
    }
  }
  shiplog_strarray_dispose(&names);
  RETURN_IF_ERROR(status);
  return topics;
}

absl::Status Topics::Open(const std::string& topic, int32_t partition,
                          shiplog_log_options options) {
  ASSIGN_OR_RETURN(cli::Owned<shiplog_log> log,
                   cli::Open(shiplog_log_open, store_,
                             LogName(topic, partition).c_str(), &options));
  logs_[{topic, partition}] = std::move(log);
  return absl::OkStatus();
}

shiplog_log* Topics::Find(const std::string& topic, int32_t partition) const {
  const auto it = logs_.find({topic, partition});
  return it == logs_.end() ? nullptr : it->second.get();
}

int32_t Topics::PartitionCount(const std::string& topic) const {
  // One past the highest partition: a missing partition below it (a
  // delete cut short) is reported as unavailable, not hidden.
  int32_t count = 0;
  for (auto it = logs_.lower_bound({topic, 0});
       it != logs_.end() && it->first.first == topic; ++it) {
    count = it->first.second + 1;
  }
  return count;
}

std::map<std::string, int32_t> Topics::List() const {
  std::map<std::string, int32_t> topics;
  for (const auto& [key, log] : logs_) {
    topics[key.first] = std::max(topics[key.first], key.second + 1);
  }
  return topics;
}

absl::Status Topics::CheckName(const std::string& topic, int32_t partitions) {
  if (topic.empty() || topic.size() > kMaxTopicNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "topic name must be 1 to ", kMaxTopicNameBytes, " bytes long"));
  }
  if (topic == "." || topic == "..") {
    return absl::InvalidArgumentError("topic name cannot be \".\" or \"..\"");
  }
  for (const char c : topic) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "topic name \"", absl::CEscape(topic),
          "\" has a character outside [A-Za-z0-9._-]"));
    }
  }
  // The longest partition's log name must be a legal log name as well.
  return cli::AbiStatus(
      shiplog_log_name_check(LogName(topic, partitions - 1).c_str()));
}

absl::Status Topics::Create(const std::string& topic, int32_t partitions,
                            const shiplog_log_options& options) {
  if (partitions < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("a topic needs at least one partition, not ", partitions));
  }
  RETURN_IF_ERROR(CheckName(topic, partitions));
  if (PartitionCount(topic) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("topic ", topic, " already exists"));
  }
  shiplog_log_options create = options;
  create.create_if_missing = 1;
  for (int32_t partition = 0; partition < partitions; ++partition) {
    if (absl::Status opened = Open(topic, partition, create); !opened.ok()) {
      if (partition > 0) Delete(topic).IgnoreError();
      return opened;
    }
  }
  return absl::OkStatus();
}

absl::Status Topics::Delete(const std::string& topic) {
  std::vector<int32_t> partitions;
  for (auto it = logs_.lower_bound({topic, 0});
       it != logs_.end() && it->first.first == topic; ++it) {
    partitions.push_back(it->first.second);
  }
  if (partitions.empty()) {
    return absl::NotFoundError(absl::StrCat("no topic ", topic));
  }
  for (const int32_t partition : partitions) {
    logs_.erase({topic, partition});
    RETURN_IF_ERROR(cli::AbiStatus(shiplog_store_delete_log(
        store_, LogName(topic, partition).c_str())));
  }
  return absl::OkStatus();
}

}  // namespace shiplog::kafka
