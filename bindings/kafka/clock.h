// The one clock the server and the follower time things by: monotonic
// milliseconds (deadlines, timeouts, heartbeats), never the wall clock.
#ifndef SHIPLOG_BINDINGS_KAFKA_CLOCK_H_
#define SHIPLOG_BINDINGS_KAFKA_CLOCK_H_

#include <chrono>
#include <cstdint>

namespace shiplog::kafka {

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_CLOCK_H_
