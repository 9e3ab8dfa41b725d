#include "bindings/kafka/follower.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <optional>

#include "absl/strings/str_cat.h"
#include "bindings/cli/errno_error.h"
#include "bindings/cli/status_macros.h"
#include "bindings/kafka/clock.h"

namespace shiplog::kafka {
namespace {

void Report(absl::string_view line) {
  std::fprintf(stderr, "shiplog replicate: %.*s\n",
               static_cast<int>(line.size()), line.data());
}

}  // namespace

absl::StatusOr<std::unique_ptr<Follower>> Follower::Create(
    shiplog_store* store, FollowerOptions options) {
  cli::ScopedFd stop(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop.valid()) return cli::ErrnoError(errno, "eventfd");
  return std::unique_ptr<Follower>(
      new Follower(store, std::move(options), std::move(stop)));
}

void Follower::Stop() {
  stopping_.store(true);
  const uint64_t one = 1;
  // Only fails when the counter would overflow: it is readable then.
  [[maybe_unused]] const ssize_t written = write(stop_.get(), &one, sizeof one);
}

bool Follower::WaitForStop(int64_t timeout_ms) const {
  const int64_t deadline_ms = NowMs() + timeout_ms;
  while (!stopping()) {
    const int64_t left_ms = deadline_ms - NowMs();
    if (left_ms <= 0) break;
    pollfd stop = {stop_.get(), POLLIN, 0};
    poll(&stop, 1, static_cast<int>(std::min<int64_t>(left_ms, 60000)));
  }
  return stopping();
}

void Follower::Run() {
  int64_t backoff_ms = options_.initial_backoff_ms;
  while (!stopping()) {
    const absl::Status session = RunSession(&backoff_ms);
    if (stopping()) break;
    Report(absl::StrCat("leader ", options_.leader, ": ", session.message(),
                        "; reconnecting in ", backoff_ms, " ms"));
    if (WaitForStop(backoff_ms)) break;
    backoff_ms = std::min(backoff_ms * 2, options_.max_backoff_ms);
  }
  Report(absl::StrCat("stopped; replicated ", replicated_batches_, " batches (",
                      replicated_bytes_, " bytes)"));
}

absl::Status Follower::RunSession(int64_t* backoff_ms) {
  ASSIGN_OR_RETURN(cli::ScopedFd socket,
                   options_.connect(options_.connect_timeout_ms));
  ReplicaClientOptions client_options;
  client_options.client_id =
      absl::StrCat("shiplog-replicate-", options_.replica_id);
  client_options.cancel_fd = stop_.get();
  ASSIGN_OR_RETURN(ReplicaClient client,
                   ReplicaClient::Open(std::move(socket), client_options));
  Report(absl::StrCat("connected to ", options_.leader, " (Metadata v",
                      client.metadata_version(), ", Fetch v",
                      client.fetch_version(), ", replica id ",
                      options_.replica_id, ")"));
  for (auto& [key, partition] : partitions_) partition.log.Reconnected();
  int64_t refresh_at_ms = 0;
  while (!stopping()) {
    if (NowMs() >= refresh_at_ms) {
      RETURN_IF_ERROR(RefreshMetadata(client));
      refresh_at_ms = NowMs() + options_.metadata_refresh_ms;
    }
    const FetchRequest request = NextFetch();
    if (request.topics.empty()) {
      WaitForStop(refresh_at_ms - NowMs());
      continue;
    }
    ASSIGN_OR_RETURN(FetchResult result, client.Fetch(request));
    *backoff_ms = options_.initial_backoff_ms;
    ApplyFetch(result);
  }
  return absl::OkStatus();
}

absl::Status Follower::RefreshMetadata(ReplicaClient& client) {
  std::optional<std::vector<std::string>> wanted;
  if (!options_.topics.empty()) wanted = options_.topics;
  ASSIGN_OR_RETURN(const std::vector<TopicMetadata> topics,
                   client.Metadata(wanted));
  std::set<Key> listed;
  for (const TopicMetadata& topic : topics) {
    if (topic.error != ErrorCode::kNone || topic.partitions.empty()) {
      if (missing_topics_.insert(topic.name).second) {
        Report(absl::StrCat("topic ", topic.name,
                            ": the leader has no partition of it to serve "
                            "(error code ",
                            static_cast<int>(topic.error),
                            "); asking again every ",
                            options_.metadata_refresh_ms, " ms"));
      }
      continue;
    }
    missing_topics_.erase(topic.name);
    size_t added = 0;
    for (const int32_t index : topic.partitions) {
      listed.emplace(topic.name, index);
      if (partitions_.count({topic.name, index}) == 0) {
        AddPartition(topic.name, index);
        ++added;
      }
    }
    if (added > 0) {
      Report(absl::StrCat("replicating topic ", topic.name, " (", added,
                          added == 1 ? " partition)" : " partitions)"));
    }
  }
  for (auto& [key, partition] : partitions_) {
    const bool now_listed = listed.count(key) != 0;
    if (partition.listed && !now_listed) {
      Report(absl::StrCat(partition.log.name(),
                          ": the leader no longer lists it; the local log is "
                          "kept as it is"));
    }
    partition.listed = now_listed;
    if (partition.state == State::kPaused) partition.state = State::kActive;
  }
  return absl::OkStatus();
}

void Follower::AddPartition(const std::string& topic, int32_t index) {
  const std::string name = absl::StrCat(topic, "-", index);
  shiplog_log_options options = SHIPLOG_LOG_OPTIONS_INIT;
  options.create_if_missing = 1;
  absl::StatusOr<cli::Owned<shiplog_log>> log =
      cli::Open(shiplog_log_open, store_, name.c_str(),
                static_cast<const shiplog_log_options*>(&options));
  if (!log.ok()) {
    // Not added: the next metadata refresh tries again.
    Report(absl::StrCat(
        name, ": cannot open the local log: ", log.status().message()));
    return;
  }
  partitions_.emplace(
      std::piecewise_construct, std::forward_as_tuple(topic, index),
      std::forward_as_tuple(Partition{ReplicaLog(name, *std::move(log))}));
}

FetchRequest Follower::NextFetch() {
  FetchRequest request;
  request.replica_id = options_.replica_id;
  request.max_wait_ms = options_.max_wait_ms;
  request.min_bytes = 1;
  request.max_bytes = options_.max_bytes;
  std::vector<std::pair<const Key*, Partition*>> active;
  for (auto& [key, partition] : partitions_) {
    if (partition.listed && partition.state == State::kActive) {
      active.emplace_back(&key, &partition);
    }
  }
  if (active.empty()) return request;
  // The first partitions of a fetch may take all of max_bytes: a
  // different one goes first each round, so none starves.
  std::rotate(active.begin(), active.begin() + (rotation_++ % active.size()),
              active.end());
  for (const auto& [key, partition] : active) {
    const absl::StatusOr<int64_t> offset = partition->log.NextFetchOffset();
    if (!offset.ok()) {
      Pause(*partition, offset.status());
      continue;
    }
    // Adjacent partitions of a topic share its entry; after the rotation
    // a topic may also appear twice, which the protocol allows.
    if (request.topics.empty() || request.topics.back().name != key->first) {
      request.topics.emplace_back().name = key->first;
    }
    request.topics.back().partitions.push_back(
        {key->second, *offset, options_.partition_max_bytes});
  }
  return request;
}

void Follower::ApplyFetch(FetchResult& result) {
  std::vector<Partition*> appended;
  for (const FetchedTopic& topic : result.topics) {
    for (const FetchedPartition& answer : topic.partitions) {
      // Stopping leaves the rest of the answer: fetched again next time.
      if (stopping()) break;
      const auto it = partitions_.find({topic.name, answer.index});
      if (it == partitions_.end() || it->second.state != State::kActive) {
        continue;
      }
      Partition& partition = it->second;
      const absl::StatusOr<ReplicaLog::Applied> applied =
          partition.log.Apply(answer);
      if (!applied.ok()) {
        Pause(partition, applied.status());
        continue;
      }
      if (!applied->note.empty()) {
        Report(absl::StrCat(partition.log.name(), ": ", applied->note));
      }
      if (applied->batches > 0) appended.push_back(&partition);
      replicated_batches_ += applied->batches;
      replicated_bytes_ += applied->bytes;
    }
  }
  for (Partition* partition : appended) {
    if (absl::Status flushed = partition->log.Flush(); !flushed.ok()) {
      Pause(*partition, flushed);
    }
  }
}

void Follower::Pause(Partition& partition, const absl::Status& why) {
  const bool never = absl::IsFailedPrecondition(why);
  partition.state = never ? State::kFailed : State::kPaused;
  Report(absl::StrCat(partition.log.name(), ": ", why.message(),
                      never ? "; no longer replicated"
                            : "; paused until the next metadata refresh"));
}

}  // namespace shiplog::kafka
