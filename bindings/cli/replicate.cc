// `shiplog replicate DIR --from HOST:PORT`: a follower that replicates a
// leader (`shiplog serve`) into the store in DIR (bindings/kafka/follower.h).
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bindings/cli/abi.h"
#include "bindings/cli/commands.h"
#include "bindings/cli/status_macros.h"
#include "bindings/cli/store_flags.h"
#include "bindings/cli/tcp_connect.h"
#include "bindings/kafka/follower.h"
#include "bindings/kafka/topics.h"
#include "shiplog.h"

namespace shiplog::cli {
namespace {

struct ReplicateOptions {
  std::string directory;
  HostPort leader;
  kafka::FollowerOptions follower;
  StoreTuning tuning;
};

// The follower SIGINT and SIGTERM stop (set while it runs).
std::atomic<kafka::Follower*> running_follower{nullptr};

void OnStopSignal(int) {
  if (kafka::Follower* follower = running_follower.load()) follower->Stop();
}

absl::StatusOr<ReplicateOptions> ParseOptions(const ParsedFlags& flags) {
  ReplicateOptions options;
  options.directory = flags.positional(0);
  const std::optional<std::string> from = flags.GetString("from");
  if (!from.has_value()) {
    return absl::InvalidArgumentError("--from HOST:PORT is required");
  }
  absl::StatusOr<HostPort> leader = ParseHostPort(*from);
  if (!leader.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--from: ", leader.status().message()));
  }
  options.leader = *std::move(leader);
  // Repeatable, and each value may be a list: topic names hold no comma.
  for (const std::string& topics : flags.GetAll("topic")) {
    for (const absl::string_view topic : absl::StrSplit(topics, ',')) {
      if (absl::Status valid = kafka::Topics::CheckName(std::string(topic), 1);
          !valid.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--topic: ", valid.message()));
      }
      options.follower.topics.emplace_back(topic);
    }
  }
  ASSIGN_OR_RETURN(const std::optional<int64_t> replica_id,
                   flags.GetInt("replica-id", 0));
  if (replica_id) {
    if (*replica_id > std::numeric_limits<int32_t>::max()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--replica-id: ", *replica_id, " exceeds int32"));
    }
    options.follower.replica_id = static_cast<int32_t>(*replica_id);
  }
  ASSIGN_OR_RETURN(options.tuning, ParseStoreTuning(flags));
  return options;
}

absl::Status Replicate(const ReplicateOptions& options) {
  ASSIGN_OR_RETURN(const Owned<shiplog_store> store,
                   OpenStore(options.directory, /*read_only=*/false,
                             /*maintenance=*/true, options.tuning));
  kafka::FollowerOptions follower_options = options.follower;
  const HostPort leader = options.leader;
  follower_options.leader = FormatHostPort(leader);
  follower_options.connect = [leader](int64_t timeout_ms) {
    return ConnectTcp(leader, timeout_ms);
  };
  ASSIGN_OR_RETURN(
      std::unique_ptr<kafka::Follower> follower,
      kafka::Follower::Create(store.get(), std::move(follower_options)));
  struct sigaction action = {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  running_follower.store(follower.get());
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  follower->Run();
  running_follower.store(nullptr);
  follower.reset();  // its logs are released before the store closes
  return AbiStatus(shiplog_store_close(store.get()));
}

}  // namespace

const CommandSpec& ReplicateSpec() {
  static const CommandSpec* spec = [] {
    auto* built = new CommandSpec{
      .name = "replicate",
      .positionals = {"DIR"},
      .summary = "follow a Kafka leader, copying its topics into a store",
      .description =
          "Follows the leader at --from (a `shiplog serve`) and copies its "
          "topics into the\nstore in DIR: partition P of topic T into log "
          "T-P, created when missing. Fetches\nas a replica (Kafka's Fetch "
          "with --replica-id) from each log's own end offset,\nso a restart "
          "resumes where it stopped, and appends the leader's batches as\n"
          "they are: same offsets, same bytes, CRC checked. Where the "
          "leader's log is\nshorter, the local one is truncated to match. "
          "Every round of appends is\nflushed before the next fetch. "
          "Topics created on the leader later are picked\nup within 5 s. "
          "Reconnects to a leader that goes away, backing off from\n100 ms "
          "to 5 s, until stopped by SIGINT or SIGTERM (exit status 0).\n",
      .flags = {
          {"from", "HOST:PORT", "the leader (required)"},
          {"topic", "T[,T...]",
           "replicate only these topics; repeatable (default: every topic)",
           /*repeatable=*/true},
          {"replica-id", "N", "the replica id the fetches carry (default 1)"},
      }};
    for (const FlagSpec& flag : StoreTuningFlags()) {
      built->flags.push_back(flag);
    }
    return built;
  }();
  return *spec;
}

int RunReplicate(const ParsedFlags& flags) {
  return RunCommand("replicate", ParseOptions(flags), Replicate);
}

}  // namespace shiplog::cli
