// Committed consumer-group offsets, kept in the store's internal log
// "__consumer_offsets-0" (topic __consumer_offsets, as in Kafka) so they
// survive a restart. Each commit is one batch of records, key
// "GROUP\0TOPIC\0PARTITION", value "OFFSET\0METADATA", fdatasync'd before
// the commit is acknowledged; loading replays the log, the last record
// for a key winning. The log never expires (retention.ms -1) and is not
// compacted: it grows by every commit (PROTOCOL.md).
//
// Thread-safety: not thread-safe; the server's event-loop thread owns it.
#ifndef SHIPLOG_BINDINGS_KAFKA_OFFSET_STORE_H_
#define SHIPLOG_BINDINGS_KAFKA_OFFSET_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bindings/cli/abi.h"
#include "shiplog.h"

namespace shiplog::kafka {

inline constexpr char kOffsetsTopic[] = "__consumer_offsets";

class OffsetStore {
 public:
  struct Committed {
    int64_t offset = -1;
    std::string metadata;
  };
  struct Commit {
    std::string topic;
    int32_t partition = 0;
    Committed committed;
  };

  // Opens (creating) the internal log of `store` and replays it.
  static absl::StatusOr<OffsetStore> Open(shiplog_store* store);

  // Appends and fdatasyncs `commits` of `group`; all or nothing.
  absl::Status CommitOffsets(const std::string& group,
                             const std::vector<Commit>& commits);
  // The offset `group` committed for a partition, if any.
  std::optional<Committed> Find(const std::string& group,
                                const std::string& topic,
                                int32_t partition) const;
  // Every (topic, partition) `group` committed, in order.
  std::vector<std::pair<std::string, int32_t>> Partitions(
      const std::string& group) const;

 private:
  using Key = std::tuple<std::string, std::string, int32_t>;
  explicit OffsetStore(cli::Owned<shiplog_log> log) : log_(std::move(log)) {}
  absl::Status Replay();

  cli::Owned<shiplog_log> log_;
  std::map<Key, Committed> offsets_;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_OFFSET_STORE_H_
