// One partition of a follower (`shiplog replicate`): a local log kept a
// byte-for-byte copy of the leader's partition. It says which offset to
// fetch from next, and applies the leader's answer: appends the leader's
// batches as they are (same offsets, same bytes, CRC checked by the
// append), truncates the local log where the leader's is shorter, and
// refuses to renumber anything.
//
// The local tail is checked against the leader once per connection (the
// leader may have lost an unflushed tail in a crash and taken new records
// at the same offsets since): the first fetch asks from the base offset of
// the local last batch, and the leader's batch there must be the same
// bytes. A different batch is cut off, and the one before it is checked
// next, until the logs agree (Kafka's followers do this with leader
// epochs, which a shiplog leader does not keep).
//
// Thread-safety: not thread-safe; the follower's one thread owns it.
#ifndef SHIPLOG_BINDINGS_KAFKA_REPLICA_LOG_H_
#define SHIPLOG_BINDINGS_KAFKA_REPLICA_LOG_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "bindings/cli/abi.h"
#include "bindings/kafka/replica_client.h"
#include "shiplog.h"

namespace shiplog::kafka {

class ReplicaLog {
 public:
  // `name` is the log's name ("T-P"), for messages.
  ReplicaLog(std::string name, cli::Owned<shiplog_log> log)
      : name_(std::move(name)), log_(std::move(log)) {}

  const std::string& name() const { return name_; }

  // A new connection to the leader: the local tail is checked again
  // before anything more is appended.
  void Reconnected() { tail_checked_ = false; }

  // Where the next fetch starts: the local end offset, or, while the tail
  // is unchecked, the base offset of the local last batch.
  absl::StatusOr<int64_t> NextFetchOffset();

  struct Applied {
    uint64_t batches = 0;
    uint64_t bytes = 0;
    // What happened to the local log beyond appends (a truncation), for
    // the operator; empty if nothing did.
    std::string note;
  };

  // Applies the leader's answer to a fetch from NextFetchOffset(): when
  // the leader's high watermark (a shiplog leader's end offset) is below
  // the local end, truncates to it, or to the start of the local batch
  // that holds it; when the leader's log starts past the local end
  // (retention), empties the log and restarts it there; otherwise checks the tail and appends the whole
  // batches that follow the local end (a trailing partial batch is left
  // for the next fetch). The append writes the log's offsets into
  // `answer.records` in place, which are the leader's: checked before and
  // after. Nothing is flushed here.
  //
  // Errors concern this partition only: kFailedPrecondition when it can
  // never be replicated into this log (the log turned read-only); any
  // other code for what a later fetch may get past.
  absl::StatusOr<Applied> Apply(const FetchedPartition& answer);

  // fdatasyncs what was appended.
  absl::Status Flush();

 private:
  absl::StatusOr<int64_t> EndOffset() const;
  // The base offset of the local batch that holds `offset`.
  absl::StatusOr<int64_t> BatchStart(int64_t offset) const;
  absl::StatusOr<Applied> TruncateToLeaderEnd(int64_t leader_end, int64_t end);
  absl::StatusOr<Applied> OutOfRange(const FetchedPartition& answer,
                                     int64_t end);
  // True if the local last batch holds the same bytes as `leader_batch`.
  absl::StatusOr<bool> TailMatches(absl::string_view leader_batch,
                                   int64_t end) const;

  std::string name_;
  cli::Owned<shiplog_log> log_;
  bool tail_checked_ = false;
  int64_t fetch_offset_ = 0;  // what NextFetchOffset() last returned
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_REPLICA_LOG_H_
