#include "bindings/kafka/broker.h"

namespace shiplog::kafka {

shiplog_log* Broker::Partition(const std::string& topic, int32_t partition,
                               bool create_topic) {
  if (create_topic && topics_.PartitionCount(topic) == 0) {
    // A name the store refuses is simply no partition: the caller answers
    // UNKNOWN_TOPIC_OR_PARTITION (or INVALID_TOPIC_EXCEPTION, checked
    // first where the protocol has it).
    topics_.Create(topic, options_.default_partitions).IgnoreError();
  }
  return topics_.Find(topic, partition);
}

}  // namespace shiplog::kafka
