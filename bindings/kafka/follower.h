// A follower (`shiplog replicate`): replicates a leader's partitions into
// a store, partition T-P of the leader into the store's log "T-P", with
// Kafka's replica protocol (Fetch with replica_id >= 0, long polling).
//
// The loop: connect, negotiate versions, learn the topics from Metadata
// (again every metadata_refresh_ms, so topics created later are picked
// up), create the missing logs, then fetch every partition from its own
// end offset and apply the answers (ReplicaLog). After each round, every
// log that was appended to is flushed (fdatasync) before the next fetch:
// the offset a follower fetches from is what it tells the leader it has,
// so that is only ever what it has durably. A restart resumes from the
// logs' end offsets, which is what they are after recovery.
//
// Failures of the connection (refused, closed, timed out, a response that
// does not decode) are reported one line each on stderr, and the follower
// reconnects after a backoff that doubles from initial_backoff_ms to
// max_backoff_ms, resetting once a fetch succeeds; it retries until
// stopped. A failure of one partition pauses it until the next metadata
// refresh, or for good when it can never be replicated (kFailedPrecondition
// from ReplicaLog::Apply); the other partitions carry on.
//
// The leader's high watermark is taken as its log's end offset, which is
// what `shiplog serve` answers: a Kafka broker's lags behind its log end
// while followers catch up, so a Kafka leader is not supported.
//
// Thread-safety: Run() on one thread; Stop() from any thread or a signal
// handler.
#ifndef SHIPLOG_BINDINGS_KAFKA_FOLLOWER_H_
#define SHIPLOG_BINDINGS_KAFKA_FOLLOWER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "bindings/cli/scoped_fd.h"
#include "bindings/kafka/replica_client.h"
#include "bindings/kafka/replica_log.h"
#include "shiplog.h"

namespace shiplog::kafka {

struct FollowerOptions {
  // Connects to the leader within `timeout_ms`: a connected, blocking
  // socket.
  std::function<absl::StatusOr<cli::ScopedFd>(int64_t timeout_ms)> connect;
  std::string leader;               // "host:port", for messages
  std::vector<std::string> topics;  // empty: every topic the leader has
  int32_t replica_id = 1;
  int32_t max_wait_ms = 500;
  // Kafka's replica.fetch.max.bytes and replica.fetch.response.max.bytes.
  int32_t partition_max_bytes = 1 << 20;
  int32_t max_bytes = 10 << 20;
  int64_t metadata_refresh_ms = 5000;
  int64_t connect_timeout_ms = 5000;
  int64_t initial_backoff_ms = 100;
  int64_t max_backoff_ms = 5000;
};

class Follower {
 public:
  // A follower into `store` (not owned; must outlive it).
  static absl::StatusOr<std::unique_ptr<Follower>> Create(
      shiplog_store* store, FollowerOptions options);

  // Replicates until Stop(). Returns after the append in progress (and
  // its flush) is done; what it reports goes to stderr.
  void Run();
  // Async-signal-safe: makes Run() return.
  void Stop();

 private:
  enum class State { kActive, kPaused, kFailed };
  struct Partition {
    ReplicaLog log;
    bool listed = true;  // by the leader's latest metadata
    State state = State::kActive;
  };
  using Key = std::pair<std::string, int32_t>;  // topic, partition

  Follower(shiplog_store* store, FollowerOptions options, cli::ScopedFd stop)
      : store_(store), options_(std::move(options)), stop_(std::move(stop)) {}

  // One connection, until it fails (the error) or Stop() (OK).
  absl::Status RunSession(int64_t* backoff_ms);
  absl::Status RefreshMetadata(ReplicaClient& client);
  void AddPartition(const std::string& topic, int32_t index);
  FetchRequest NextFetch();
  // Appends `result`'s record sets in place (ReplicaLog::Apply).
  void ApplyFetch(FetchResult& result);
  void Pause(Partition& partition, const absl::Status& why);
  // Waits up to `timeout_ms`; true once stopped.
  bool WaitForStop(int64_t timeout_ms) const;
  bool stopping() const { return stopping_.load(); }

  shiplog_store* store_;
  FollowerOptions options_;
  cli::ScopedFd stop_;  // an eventfd, readable once stopped
  std::atomic<bool> stopping_{false};
  std::map<Key, Partition> partitions_;
  // Topics asked for that the leader lacks, reported once each.
  std::set<std::string> missing_topics_;
  size_t rotation_ = 0;  // which partition goes first in the next fetch
  uint64_t replicated_batches_ = 0;
  uint64_t replicated_bytes_ = 0;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_FOLLOWER_H_
