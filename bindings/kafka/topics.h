// Topics over a store: topic T's partition P is the store's log "T-P".
// Topics are found by listing the store's logs at start, and created (every
// partition's log at once) by CreateTopics or on first use.
//
// Thread-safety: not thread-safe; the server's one event-loop thread owns
// it.
#ifndef SHIPLOG_BINDINGS_KAFKA_TOPICS_H_
#define SHIPLOG_BINDINGS_KAFKA_TOPICS_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bindings/cli/abi.h"
#include "shiplog.h"

namespace shiplog::kafka {

class Topics {
 public:
  // Loads the topics of `store` (not owned; must outlive this).
  static absl::StatusOr<Topics> Load(shiplog_store* store);

  Topics(Topics&&) = default;
  Topics& operator=(Topics&&) = default;

  // The log of `topic`'s `partition`, or nullptr if there is none.
  shiplog_log* Find(const std::string& topic, int32_t partition) const;
  // Partitions of `topic`; 0 if it does not exist.
  int32_t PartitionCount(const std::string& topic) const;
  // Every topic and its partition count, sorted by name.
  std::map<std::string, int32_t> List() const;

  // Creates `topic` with `partitions` partitions, each log with `options`
  // (the store's defaults where unset). kAlreadyExists if it exists;
  // kInvalidArgument for a name that is not a legal topic name or a setting
  // out of range, in which case no partition is left behind.
  absl::Status Create(
      const std::string& topic, int32_t partitions,
      const shiplog_log_options& options = SHIPLOG_LOG_OPTIONS_INIT);
  // Deletes every partition of `topic` (kNotFound if it does not exist).
  absl::Status Delete(const std::string& topic);

  // OK if `topic` is a legal Kafka topic name whose partitions' log names
  // are legal too: 1-249 of [A-Za-z0-9._-], not "." or "..".
  static absl::Status CheckName(const std::string& topic, int32_t partitions);

 private:
  explicit Topics(shiplog_store* store) : store_(store) {}
  absl::Status Open(const std::string& topic, int32_t partition,
                    shiplog_log_options options);

  shiplog_store* store_;
  // (topic, partition) -> its log.
  std::map<std::pair<std::string, int32_t>, cli::Owned<shiplog_log>> logs_;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_TOPICS_H_
