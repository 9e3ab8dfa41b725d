// The broker: what the server's request handlers share. One node (id 0)
// that leads every partition of every topic; topics are the store's logs.
//
// Thread-safety: not thread-safe; the server's one event-loop thread owns
// it and runs every handler.
#ifndef SHIPLOG_BINDINGS_KAFKA_BROKER_H_
#define SHIPLOG_BINDINGS_KAFKA_BROKER_H_

#include <cstdint>
#include <string>

#include "bindings/kafka/topics.h"
#include "shiplog.h"

namespace shiplog::kafka {

struct BrokerOptions {
  // What Metadata tells clients to connect to.
  std::string advertised_host = "127.0.0.1";
  int32_t advertised_port = 9092;
  int32_t node_id = 0;
  // Partitions of a topic created on first use, or by a CreateTopics that
  // asks for the default (-1).
  int32_t default_partitions = 1;
  // The most partitions CreateTopics gives a topic: each is a log, so one
  // request must not be able to ask for 2^31 of them.
  int32_t max_partitions = 1024;
  // How Fetch responses ship record sets (a shiplog_send_policy).
  int send_policy = SHIPLOG_SEND_SENDFILE;
  // Record sets starting more than this far behind a partition's end are
  // read with O_DIRECT (shiplog_send_options.cold_read_lag_bytes); 0: off.
  uint64_t cold_read_lag_bytes = 0;
  std::string cluster_id = "shiplog";
};

class Broker {
 public:
  Broker(shiplog_store* store, Topics topics, BrokerOptions options)
      : store_(store), topics_(std::move(topics)), options_(std::move(options)) {}

  shiplog_store* store() { return store_; }
  Topics& topics() { return topics_; }
  const BrokerOptions& options() const { return options_; }

  // The log of a partition, creating the topic first (with the default
  // partition count) when it does not exist and `create_topic`. nullptr
  // if there is no such partition.
  shiplog_log* Partition(const std::string& topic, int32_t partition,
                         bool create_topic);

 private:
  shiplog_store* store_;
  Topics topics_;
  BrokerOptions options_;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_BROKER_H_
