// Writes the seed corpora of the fuzz targets (README.md, "Seed corpora")
// into <dir>/<target>/seed-<name>, made with the engine's own encoders:
// real batches, real index files and segment directories written by a Log,
// Kafka request frames of every API and version the server serves, and
// C ABI programs. Deterministic: the same files on every run.
//
//   fuzz_corpus_generator tests/fuzz/corpus
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "bindings/kafka/protocol.h"
#include "bindings/kafka/wire.h"
#include "engine/format/batch_builder.h"
#include "engine/format/byte_order.h"
#include "engine/format/record.h"
#include "engine/format/record_batch.h"
#include "engine/index/offset_index.h"
#include "engine/index/time_index.h"
#include "engine/io/env.h"
#include "engine/log/log.h"
#include "engine/segment/segment_files.h"
#include "tests/fuzz/scratch_dir.h"

namespace shiplog::fuzz {
namespace {

namespace fs = std::filesystem;
using kafka::ApiKey;
using kafka::WireWriter;

constexpr int64_t kTime = 1'700'000'000'000;

void Die(const std::string& what) {
  std::fprintf(stderr, "fuzz_corpus_generator: %s\n", what.c_str());
  std::exit(1);
}

// Little-endian framing fields (fuzz_input.h).
class Frame {
 public:
  Frame& Byte(uint8_t value) { return Unsigned(value, 1); }
  Frame& U16(uint16_t value) { return Unsigned(value, 2); }
  Frame& U32(uint32_t value) { return Unsigned(value, 4); }
  Frame& U64(uint64_t value) { return Unsigned(value, 8); }
  Frame& Bytes(absl::string_view bytes) {
    bytes_.append(bytes.data(), bytes.size());
    return *this;
  }
  Frame& LengthPrefixed(absl::string_view bytes) {
    return U32(static_cast<uint32_t>(bytes.size())).Bytes(bytes);
  }
  const std::string& bytes() const { return bytes_; }

 private:
  Frame& Unsigned(uint64_t value, int width) {
    for (int i = 0; i < width; ++i) {
      bytes_.push_back(static_cast<char>(value >> (8 * i)));
    }
    return *this;
  }
  std::string bytes_;
};

class Corpus {
 public:
  explicit Corpus(fs::path root) : root_(std::move(root)) {}

  void Write(const std::string& target, const std::string& name,
             absl::string_view bytes) {
    const fs::path dir = root_ / target;
    fs::create_directories(dir);
    std::ofstream out(dir / ("seed-" + name), std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) Die("cannot write " + (dir / name).string());
  }

 private:
  fs::path root_;
};

// ---- Batches ----

struct RecordSpec {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp_ms = kTime;
};

std::string Batch(const std::vector<RecordSpec>& specs,
                  Compression compression = Compression::kNone,
                  int64_t base_offset = 0) {
  std::vector<std::vector<RecordHeaderView>> headers(specs.size());
  std::vector<RecordView> views;
  for (size_t i = 0; i < specs.size(); ++i) {
    for (const auto& [key, value] : specs[i].headers) {
      headers[i].push_back(
          {key, value ? std::optional<absl::string_view>(*value)
                      : std::nullopt});
    }
    views.push_back(
        {specs[i].key ? std::optional<absl::string_view>(*specs[i].key)
                      : std::nullopt,
         specs[i].value ? std::optional<absl::string_view>(*specs[i].value)
                        : std::nullopt,
         headers[i], specs[i].timestamp_ms});
  }
  std::string out;
  if (!AppendBatch(views, {.compression = compression}, kTime, &out).ok()) {
    Die("AppendBatch");
  }
  SetBaseOffset(out.data(), base_offset);
  return out;
}

std::string Values(int first, int count,
                   Compression compression = Compression::kNone) {
  std::vector<RecordSpec> specs;
  for (int i = first; i < first + count; ++i) {
    specs.push_back({std::nullopt, absl::StrCat("value-", i), {},
                     kTime + i});
  }
  return Batch(specs, compression);
}

// Sets attribute bits and makes the CRC right again.
std::string WithAttributes(std::string batch, uint16_t attributes) {
  StoreBigEndian16(batch.data() + kAttributesPosition,
                   LoadBigEndian16(batch.data() + kAttributesPosition) |
                       attributes);
  StoreBigEndian32(batch.data() + kCrcPosition,
                   ComputeBatchCrc(batch.data(), batch.size()));
  return batch;
}

void BatchSeeds(Corpus& corpus) {
  const auto seed = [&](const std::string& name, uint8_t flags,
                        absl::string_view batches) {
    corpus.Write("batch_fuzz", name,
                 Frame().Byte(flags).Byte(0).Bytes(batches).bytes());
  };
  seed("one-record", 0, Values(0, 1));
  seed("records-with-headers", 0,
       Batch({{"key", "value", {{"h1", "v1"}, {"h2", std::nullopt}}, kTime},
              {std::nullopt, "", {}, kTime + 5},
              {"", std::nullopt, {{"", ""}}, kTime - 5}}));
  seed("zstd", 0, Values(0, 20, Compression::kZstd));
  seed("two-batches", 0, Values(0, 3) + Values(3, 2, Compression::kZstd));
  std::string bad_crc = Values(0, 2);
  bad_crc[kCrcPosition] ^= 0x55;
  seed("repair-crc", 0x01, bad_crc);
  seed("compress", 0x02, Values(0, 8));
  seed("small-cap", 0x04, Values(0, 300, Compression::kZstd));
  seed("control", 0, WithAttributes(Values(0, 1), kControlFlag));
  seed("gzip-codec", 0, WithAttributes(Values(0, 2), 1));
  seed("log-append-time", 0,
       WithAttributes(Values(0, 2), kTimestampTypeLogAppendTime));
  std::string torn = Values(0, 4);
  torn.resize(torn.size() - 3);
  seed("torn", 0, Values(0, 1) + torn);
}

// ---- Indexes ----

std::string OffsetEntries(int count, uint32_t spacing) {
  std::string file(count * OffsetIndex::kEntrySize, '\0');
  for (int i = 0; i < count; ++i) {
    StoreBigEndian32(file.data() + i * 8, static_cast<uint32_t>(i * 3 + 2));
    StoreBigEndian32(file.data() + i * 8 + 4, static_cast<uint32_t>(i) * spacing);
  }
  return file;
}

std::string TimeEntries(int count) {
  std::string file(count * TimeIndex::kEntrySize, '\0');
  for (int i = 0; i < count; ++i) {
    StoreBigEndian64(file.data() + i * 12, static_cast<uint64_t>(kTime + i * 7));
    StoreBigEndian32(file.data() + i * 12 + 8, static_cast<uint32_t>(i * 3 + 2));
  }
  return file;
}

void IndexSeeds(Corpus& corpus) {
  // flags, base, extra slots, contents, then the operations' operands:
  // SanityCheck's next offset and log size, appends, a cut.
  const auto seed = [&](const std::string& name, uint8_t flags, uint64_t base,
                        absl::string_view contents, const Frame& operations) {
    corpus.Write("index_fuzz", name,
                 Frame()
                     .Byte(flags)
                     .U64(base)
                     .U16(16)
                     .LengthPrefixed(contents)
                     .Bytes(operations.bytes())
                     .bytes());
  };
  const Frame sanity = Frame().U64(1000).U32(1 << 20).Byte(0);
  seed("offset-read-only", 0x00, 100, OffsetEntries(10, 4096), sanity);
  seed("offset-snapshot", 0x02, 0, OffsetEntries(300, 100), sanity);
  seed("offset-append", 0x04, 5, OffsetEntries(10, 4096),
       Frame().U64(1000).U32(1 << 20).Byte(3).Byte(1).U16(100).Byte(0).U16(1)
           .Byte(4).U16(4096).U32(12));
  seed("offset-shrunk", 0x06, 5, OffsetEntries(10, 4096), sanity);
  seed("offset-large", 0x00, 1 << 20, OffsetEntries(4200, 64), sanity);
  seed("offset-sort", 0x08, 0, std::string("\x09\x00\x00\x00\x00\x01\x00\x00"
                                           "\x01\x00\x00\x00\x00\x00\x10\x00",
                                           16),
       sanity);
  seed("time-read-only", 0x01, 100, TimeEntries(10), sanity);
  seed("time-append", 0x05, 100, TimeEntries(40),
       Frame().U64(1000).U32(0).Byte(2).U16(5).Byte(1).Byte(0).U16(0).Byte(2)
           .Byte(1).U32(30).U64(kTime));
  seed("time-large", 0x03, 0, TimeEntries(1200), sanity);
  seed("partial-entry", 0x00, 0, OffsetEntries(2, 10).substr(0, 13), sanity);
}

// ---- Segment directories ----

std::string ReadFileOrEmpty(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadSmallFile(Env::Default(), path);
  return bytes.ok() ? *bytes : std::string();
}

LogConfig SmallConfig() {
  LogConfig config;
  config.segment_bytes = 700;
  config.max_index_bytes = 256;
  config.index_interval_bytes = 64;
  return config;
}

std::shared_ptr<Log> OpenLogOrDie(const ScratchDir& dir,
                                  const LogOpenOptions& options = {}) {
  absl::StatusOr<std::shared_ptr<Log>> log = Log::Open(
      Env::Default(), dir.path(), "fuzz-0", SmallConfig(), options);
  if (!log.ok()) Die(log.status().ToString());
  return *log;
}

void Append(Log& log, int first, int count,
            Compression compression = Compression::kNone) {
  std::vector<std::string> values;
  for (int i = first; i < first + count; ++i) {
    values.push_back(absl::StrCat("value-", i));
  }
  std::vector<RecordView> views;
  for (size_t i = 0; i < values.size(); ++i) {
    views.push_back({std::nullopt, values[i], {}, kTime + first + int64_t(i)});
  }
  if (!log.Append(views, {.compression = compression}).ok()) Die("Append");
}

// The recovery_fuzz framing of the segments in `dir` (at most two, the
// oldest first), with `flags`, and operands for the append and truncation.
std::string SegmentFrame(const ScratchDir& dir, uint8_t flags,
                         int64_t recovery_point,
                         const std::vector<int64_t>& bases,
                         const std::function<void(std::string&)>& damage = {}) {
  Frame frame;
  frame.Byte(flags | (bases.size() > 1 ? 0x01 : 0x00) | 0x20 | 0x40)
      .U64(static_cast<uint64_t>(bases[0]))
      .U32(bases.size() > 1 ? static_cast<uint32_t>(bases[1] - bases[0]) : 0)
      .U64(static_cast<uint64_t>(recovery_point))
      .U16(700 - 512);  // segment.bytes 700, as SmallConfig()
  for (size_t i = 0; i < bases.size() && i < 2; ++i) {
    std::string log = ReadFileOrEmpty(
        dir.Join(SegmentFileName(bases[i], kLogFileSuffix)));
    if (damage && i + 1 == bases.size()) damage(log);
    frame.LengthPrefixed(log)
        .LengthPrefixed(ReadFileOrEmpty(
            dir.Join(SegmentFileName(bases[i], kOffsetIndexFileSuffix))))
        .LengthPrefixed(ReadFileOrEmpty(
            dir.Join(SegmentFileName(bases[i], kTimeIndexFileSuffix))));
  }
  return frame.Byte(5).Bytes("hello").Byte(1).U16(1).bytes();
}

void RecoverySeeds(Corpus& corpus) {
  {
    ScratchDir dir;
    std::shared_ptr<Log> log = OpenLogOrDie(dir);
    for (int i = 0; i < 6; ++i) Append(*log, i * 3, 3);
    if (!log->Close().ok()) Die("Close");
    corpus.Write("recovery_fuzz", "one-segment-clean",
                 SegmentFrame(dir, 0, 0, {0}));
    corpus.Write("recovery_fuzz", "one-segment-trusted",
                 SegmentFrame(dir, 0x04, 18, {0}));
  }
  {
    ScratchDir dir;
    std::shared_ptr<Log> log = OpenLogOrDie(dir);
    for (int i = 0; i < 4; ++i) Append(*log, i * 2, 2, Compression::kZstd);
    log.reset();  // a crash: the indexes keep their preallocated size
    corpus.Write("recovery_fuzz", "one-segment-crash",
                 SegmentFrame(dir, 0, 0, {0}));
    corpus.Write("recovery_fuzz", "torn-tail",
                 SegmentFrame(dir, 0, 0, {0}, [](std::string& bytes) {
                   bytes.resize(bytes.size() - 7);
                 }));
    corpus.Write("recovery_fuzz", "flipped-byte",
                 SegmentFrame(dir, 0, 0, {0}, [](std::string& bytes) {
                   bytes[bytes.size() / 2] ^= 1;
                 }));
    corpus.Write("recovery_fuzz", "repaired",
                 SegmentFrame(dir, 0x02 | 0x08, 0, {0},
                              [](std::string& bytes) {
                                bytes[bytes.size() - 2] ^= 1;
                              }));
  }
  {
    ScratchDir dir;
    std::shared_ptr<Log> log = OpenLogOrDie(dir);
    for (int i = 0; i < 12; ++i) Append(*log, i * 4, 4);
    const std::vector<int64_t> bases = log->segment_base_offsets();
    if (bases.size() < 2) Die("expected two segments");
    const std::vector<int64_t> last_two(bases.end() - 2, bases.end());
    if (!log->Close().ok()) Die("Close");
    corpus.Write("recovery_fuzz", "two-segments",
                 SegmentFrame(dir, 0, 0, last_two));
    corpus.Write("recovery_fuzz", "two-segments-trusted",
                 SegmentFrame(dir, 0x04, last_two[1], last_two));
    corpus.Write("recovery_fuzz", "two-segments-gap",
                 SegmentFrame(dir, 0, 0, {last_two[0], last_two[1] + 1}));
  }
}

// ---- Kafka request frames ----

// A request as a client sends it: int32 size, header v1 (v2 when
// flexible), body.
std::string Request(ApiKey key, int16_t version, int32_t correlation_id,
                    const std::function<void(WireWriter&, int16_t, bool)>& body) {
  const std::optional<kafka::ApiVersionRange> api =
      kafka::FindApi(static_cast<int16_t>(key));
  const bool flexible = api && version >= api->first_flexible_version;
  std::string frame;
  WireWriter out(&frame);
  out.Int32(0);
  out.Int16(static_cast<int16_t>(key));
  out.Int16(version);
  out.Int32(correlation_id);
  out.NullableString(std::string("consumer"), /*compact=*/false);
  out.TaggedFields(flexible);
  body(out, version, flexible);
  out.PatchInt32(0, static_cast<int32_t>(frame.size() - 4));
  return frame;
}

const std::string& ProducedBatches() {
  static const std::string* batches =
      new std::string(Values(0, 2) + Values(2, 3, Compression::kZstd));
  return *batches;
}

void Produce(WireWriter& out, int16_t, bool flexible,
             const std::string& topic = "events", int16_t acks = 1) {
  out.NullableString(std::nullopt, flexible);  // transactional_id
  out.Int16(acks);
  out.Int32(1000);                              // timeout_ms
  out.ArrayLength(1, flexible);
  out.String(topic, flexible);
  out.ArrayLength(1, flexible);
  out.Int32(0);
  out.Bytes(ProducedBatches(), flexible);
  out.TaggedFields(flexible);
  out.TaggedFields(flexible);
  out.TaggedFields(flexible);
}

void Fetch(WireWriter& out, int16_t version, bool flexible) {
  out.Int32(-1);     // replica_id
  out.Int32(0);      // max_wait_ms
  out.Int32(1);      // min_bytes
  out.Int32(1 << 20);
  out.Int8(0);       // isolation_level
  if (version >= 7) {
    out.Int32(0);    // session_id
    out.Int32(-1);   // session_epoch
  }
  out.ArrayLength(1, flexible);
  out.String("events", flexible);
  out.ArrayLength(2, flexible);
  for (int32_t partition = 0; partition < 2; ++partition) {
    out.Int32(partition);
    if (version >= 9) out.Int32(-1);  // current_leader_epoch
    out.Int64(1);                     // fetch_offset
    if (version >= 5) out.Int64(-1);  // log_start_offset
    out.Int32(1 << 16);
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
  if (version >= 7) {
    out.ArrayLength(1, flexible);  // forgotten_topics_data
    out.String("gone", flexible);
    out.ArrayLength(1, flexible);
    out.Int32(0);
    out.TaggedFields(flexible);
  }
  if (version >= 11) out.String("rack", flexible);
  out.TaggedFields(flexible);
}

void ListOffsets(WireWriter& out, int16_t version, bool flexible) {
  out.Int32(-1);                    // replica_id
  if (version >= 2) out.Int8(0);    // isolation_level
  out.ArrayLength(1, flexible);
  out.String("events", flexible);
  out.ArrayLength(3, flexible);
  for (const int64_t timestamp : {int64_t{-1}, int64_t{-2}, kTime + 1}) {
    out.Int32(0);
    if (version >= 4) out.Int32(-1);  // current_leader_epoch
    out.Int64(timestamp);
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
  out.TaggedFields(flexible);
}

void Metadata(WireWriter& out, int16_t version, bool flexible) {
  out.ArrayLength(2, flexible);
  out.String("events", flexible);
  out.TaggedFields(flexible);
  out.String("auto-created", flexible);
  out.TaggedFields(flexible);
  if (version >= 4) out.Int8(1);  // allow_auto_topic_creation
  if (version >= 8) {
    out.Int8(0);
    out.Int8(0);
  }
  out.TaggedFields(flexible);
}

void OffsetCommit(WireWriter& out, int16_t version, bool flexible,
                  int32_t generation = -1, const std::string& member = "") {
  out.String("group", flexible);
  if (version >= 1) {
    out.Int32(generation);
    out.String(member, flexible);
  }
  if (version >= 7) out.NullableString(std::nullopt, flexible);
  if (version >= 2 && version <= 4) out.Int64(-1);  // retention_time_ms
  out.ArrayLength(1, flexible);
  out.String("events", flexible);
  out.ArrayLength(1, flexible);
  out.Int32(0);
  out.Int64(2);
  if (version >= 6) out.Int32(-1);     // committed_leader_epoch
  if (version == 1) out.Int64(kTime);  // commit_timestamp
  out.NullableString(std::string("meta"), flexible);
  out.TaggedFields(flexible);
  out.TaggedFields(flexible);
  out.TaggedFields(flexible);
}

void OffsetFetch(WireWriter& out, int16_t version, bool flexible) {
  out.String("group", flexible);
  if (version >= 2) {
    out.ArrayLength(-1, flexible);  // every committed partition
  } else {
    out.ArrayLength(1, flexible);
    out.String("events", flexible);
    out.ArrayLength(1, flexible);
    out.Int32(0);
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
}

void FindCoordinator(WireWriter& out, int16_t version, bool flexible) {
  out.String("group", flexible);
  if (version >= 1) out.Int8(0);
  out.TaggedFields(flexible);
}

void JoinGroup(WireWriter& out, int16_t version, bool flexible,
               const std::string& member = "") {
  out.String("group", flexible);
  out.Int32(10000);                  // session_timeout_ms
  if (version >= 1) out.Int32(5000);  // rebalance_timeout_ms
  out.String(member, flexible);
  if (version >= 5) out.NullableString(std::nullopt, flexible);
  out.String("consumer", flexible);
  out.ArrayLength(2, flexible);
  for (const char* protocol : {"range", "roundrobin"}) {
    out.String(protocol, flexible);
    out.Bytes(std::string("\0\1\0\0\0\1\0\6events\0\0\0\0", 18), flexible);
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
}

void Heartbeat(WireWriter& out, int16_t version, bool flexible,
               int32_t generation = 1,
               const std::string& member = "consumer-1") {
  out.String("group", flexible);
  out.Int32(generation);
  out.String(member, flexible);
  if (version >= 3) out.NullableString(std::nullopt, flexible);
  out.TaggedFields(flexible);
}

void LeaveGroup(WireWriter& out, int16_t version, bool flexible) {
  out.String("group", flexible);
  if (version <= 2) {
    out.String("consumer-1", flexible);
  } else {
    out.ArrayLength(1, flexible);
    out.String("consumer-1", flexible);
    out.NullableString(std::nullopt, flexible);
    out.TaggedFields(flexible);
  }
  out.TaggedFields(flexible);
}

void SyncGroup(WireWriter& out, int16_t version, bool flexible) {
  out.String("group", flexible);
  out.Int32(1);
  out.String("consumer-1", flexible);
  if (version >= 3) out.NullableString(std::nullopt, flexible);
  out.ArrayLength(1, flexible);
  out.String("consumer-1", flexible);
  out.Bytes(std::string("\0\1\0\0\0\1\0\6events\0\0\0\1\0\0\0\0\0\0\0\0", 26),
            flexible);
  out.TaggedFields(flexible);
  out.TaggedFields(flexible);
}

void ApiVersions(WireWriter& out, int16_t, bool flexible) {
  if (!flexible) return;
  out.String("shiplog-fuzz", /*compact=*/true);
  out.String("1.0", /*compact=*/true);
  out.TaggedFields(true);
}

void CreateTopics(WireWriter& out, int16_t version, bool flexible) {
  out.ArrayLength(2, flexible);
  out.String("created", flexible);
  out.Int32(3);
  out.Int16(1);
  out.ArrayLength(0, flexible);  // assignments
  out.ArrayLength(2, flexible);  // configs
  out.String("segment.bytes", flexible);
  out.NullableString(std::string("4096"), flexible);
  out.TaggedFields(flexible);
  out.String("retention.ms", flexible);
  out.NullableString(std::nullopt, flexible);
  out.TaggedFields(flexible);
  out.TaggedFields(flexible);
  out.String("events", flexible);  // exists already
  out.Int32(-1);
  out.Int16(-1);
  out.ArrayLength(0, flexible);
  out.ArrayLength(0, flexible);
  out.TaggedFields(flexible);
  out.Int32(1000);                // timeout_ms
  if (version >= 1) out.Int8(0);  // validate_only
  out.TaggedFields(flexible);
}

void DeleteTopics(WireWriter& out, int16_t, bool flexible) {
  out.ArrayLength(2, flexible);
  out.String("events", flexible);
  out.String("missing", flexible);
  out.Int32(1000);
  out.TaggedFields(flexible);
}

using BodyWriter = std::function<void(WireWriter&, int16_t, bool)>;

void KafkaSeeds(Corpus& corpus) {
  const std::vector<std::pair<ApiKey, BodyWriter>> apis = {
      {ApiKey::kProduce,
       [](WireWriter& out, int16_t v, bool f) { Produce(out, v, f); }},
      {ApiKey::kFetch, Fetch},
      {ApiKey::kListOffsets, ListOffsets},
      {ApiKey::kMetadata, Metadata},
      {ApiKey::kOffsetCommit,
       [](WireWriter& out, int16_t v, bool f) { OffsetCommit(out, v, f); }},
      {ApiKey::kOffsetFetch, OffsetFetch},
      {ApiKey::kFindCoordinator, FindCoordinator},
      {ApiKey::kJoinGroup,
       [](WireWriter& out, int16_t v, bool f) { JoinGroup(out, v, f); }},
      {ApiKey::kHeartbeat,
       [](WireWriter& out, int16_t v, bool f) { Heartbeat(out, v, f); }},
      {ApiKey::kLeaveGroup, LeaveGroup},
      {ApiKey::kSyncGroup, SyncGroup},
      {ApiKey::kApiVersions, ApiVersions},
      {ApiKey::kCreateTopics, CreateTopics},
      {ApiKey::kDeleteTopics, DeleteTopics},
  };
  // Every API at every version the server serves.
  for (const auto& [key, body] : apis) {
    const kafka::ApiVersionRange range =
        *kafka::FindApi(static_cast<int16_t>(key));
    for (int16_t version = range.min_version; version <= range.max_version;
         ++version) {
      corpus.Write("kafka_request_fuzz",
                   absl::StrCat("api", static_cast<int>(key), "-v", version),
                   Request(key, version, 7, body));
    }
  }
  // Conversations: a producer and a consumer; a consumer group's whole
  // life; topics created and deleted; and what the server refuses.
  corpus.Write(
      "kafka_request_fuzz", "produce-fetch",
      Request(ApiKey::kApiVersions, 3, 1, ApiVersions) +
          Request(ApiKey::kMetadata, 8, 2, Metadata) +
          Request(ApiKey::kProduce, 8, 3,
                  [](WireWriter& out, int16_t v, bool f) {
                    Produce(out, v, f, "events", -1);
                  }) +
          Request(ApiKey::kProduce, 7, 4,
                  [](WireWriter& out, int16_t v, bool f) {
                    Produce(out, v, f, "auto", 0);
                  }) +
          Request(ApiKey::kListOffsets, 5, 5, ListOffsets) +
          Request(ApiKey::kFetch, 11, 6, Fetch));
  corpus.Write(
      "kafka_request_fuzz", "group-life",
      Request(ApiKey::kFindCoordinator, 2, 8, FindCoordinator) +
          Request(ApiKey::kJoinGroup, 5, 9,
                  [](WireWriter& out, int16_t v, bool f) {
                    JoinGroup(out, v, f);
                  }) +
          Request(ApiKey::kJoinGroup, 5, 10,
                  [](WireWriter& out, int16_t v, bool f) {
                    JoinGroup(out, v, f, "consumer-1");
                  }) +
          Request(ApiKey::kSyncGroup, 3, 11, SyncGroup) +
          Request(ApiKey::kHeartbeat, 3, 12,
                  [](WireWriter& out, int16_t v, bool f) {
                    Heartbeat(out, v, f);
                  }) +
          Request(ApiKey::kOffsetCommit, 7, 13,
                  [](WireWriter& out, int16_t v, bool f) {
                    OffsetCommit(out, v, f, 1, "consumer-1");
                  }) +
          Request(ApiKey::kOffsetFetch, 5, 14, OffsetFetch) +
          Request(ApiKey::kLeaveGroup, 3, 15, LeaveGroup) +
          Request(ApiKey::kHeartbeat, 0, 16,
                  [](WireWriter& out, int16_t v, bool f) {
                    Heartbeat(out, v, f);
                  }));
  corpus.Write("kafka_request_fuzz", "topics",
               Request(ApiKey::kCreateTopics, 4, 17, CreateTopics) +
                   Request(ApiKey::kMetadata, 0, 18,
                           [](WireWriter& out, int16_t, bool f) {
                             out.ArrayLength(0, f);  // v0: every topic
                           }) +
                   Request(ApiKey::kDeleteTopics, 3, 19, DeleteTopics) +
                   Request(ApiKey::kMetadata, 1, 20,
                           [](WireWriter& out, int16_t, bool f) {
                             out.ArrayLength(-1, f);  // v1: every topic
                           }));
  corpus.Write("kafka_request_fuzz", "unsupported",
               Request(ApiKey::kApiVersions, 4, 21, ApiVersions) +
                   Request(ApiKey::kFetch, 12, 22, Fetch) +
                   Request(static_cast<ApiKey>(42), 0, 23,
                           [](WireWriter&, int16_t, bool) {}) +
                   Request(ApiKey::kMetadata, 1, 24, Metadata));
}

// ---- C ABI programs (capi_sequence_fuzz.cc's opcodes) ----

enum CapiOp : uint8_t {
  kOpenStore, kCloseStore, kFreeStore, kReopenStore, kOpenLog, kFreeLog,
  kAppend, kAppendBatches, kCopyBatches, kRead, kUseSlice, kReadRecords,
  kTruncate, kReset, kRoll, kFlush, kOffsetForTime, kInspectLog,
  kStoreCalls, kDeleteLog, kSend, kInspectFiles, kMetrics, kNullHandles,
};

// PickOffset's choices (capi_sequence_fuzz.cc).
enum At : uint8_t { kStart, kEnd, kPastEnd, kBeforeStart, kInside };

class Program {
 public:
  Program& Op(CapiOp op) { frame_.Byte(op); return *this; }
  // Log options: flags, then segment.bytes, segment.index.bytes and
  // index.interval.bytes by their choice index (defaults: 0).
  Program& LogOptions(uint8_t flags = 0, uint8_t segment_bytes = 0,
                      uint8_t index_bytes = 0, uint8_t interval = 0) {
    frame_.Byte(flags).Byte(segment_bytes).Byte(index_bytes).Byte(interval);
    if ((flags & 0x01) != 0) frame_.Byte(1).Byte(1).Byte(1);
    if ((flags & 0x02) != 0) frame_.Byte(1).Byte(0);
    return *this;
  }
  Program& OpenStore(uint8_t flags = 0) {
    Op(kOpenStore);
    frame_.Byte(flags);
    return LogOptions();
  }
  Program& OpenLog(uint8_t slot, uint8_t name, uint8_t segment_bytes = 2,
                   uint8_t flags = 0) {
    Op(kOpenLog);
    frame_.Byte(slot).Byte(name);
    return LogOptions(flags, segment_bytes, 1, 2);
  }
  // Opens with every setting left as stored (what a read-only store needs).
  Program& OpenStoredLog(uint8_t slot, uint8_t name) {
    Op(kOpenLog);
    frame_.Byte(slot).Byte(name);
    return LogOptions();
  }
  Program& Append(uint8_t slot, uint8_t count, uint8_t flags = 0) {
    Op(kAppend);
    frame_.Byte(slot).Byte(count - 1);
    for (int i = 0; i < count; ++i) {
      frame_.Byte(3).Bytes("key").Byte(5).Bytes("value").Byte(2).Byte(1);
      frame_.Byte(2).Bytes("hk").Byte(0xff);  // a header with a null value
    }
    frame_.Byte(flags);
    return *this;
  }
  Program& AppendBatches(uint8_t slot, absl::string_view batches,
                         bool repair) {
    Op(kAppendBatches);
    frame_.Byte(slot).Byte(repair ? 1 : 0)
        .U16(static_cast<uint16_t>(batches.size()))
        .Bytes(batches);
    return *this;
  }
  Program& Slot(CapiOp op, uint8_t slot) {
    Op(op);
    frame_.Byte(slot);
    return *this;
  }
  Program& Read(uint8_t slot, uint8_t kept, At at, uint8_t max_bytes = 3) {
    Slot(kRead, slot);
    frame_.Byte(kept).Byte(at);
    if (at == kInside) frame_.U16(1);
    frame_.Byte(max_bytes);
    return *this;
  }
  Program& UseSlice(uint8_t kept) {
    Op(kUseSlice);
    frame_.Byte(kept).Byte(0);
    return *this;
  }
  Program& ReadRecords(uint8_t slot, At at) {
    Slot(kReadRecords, slot);
    frame_.Byte(at).Byte(4);
    return *this;
  }
  Program& CopyBatches(uint8_t from, uint8_t to) {
    Op(kCopyBatches);
    frame_.Byte(from).Byte(to).Byte(kStart).Byte(4);
    return *this;
  }
  Program& Truncate(uint8_t slot, uint16_t inside) {
    Slot(kTruncate, slot);
    frame_.Byte(kInside).U16(inside);
    return *this;
  }
  Program& Reset(uint8_t slot, At at) {
    Slot(kReset, slot);
    frame_.Byte(1).Byte(at);
    return *this;
  }
  Program& OffsetForTime(uint8_t slot, uint8_t time) {
    Slot(kOffsetForTime, slot);
    frame_.Byte(time);
    return *this;
  }
  Program& Send(uint8_t slot, uint8_t policy, bool sender) {
    Slot(kSend, slot);
    frame_.Byte(kStart).Byte(5).Byte(policy).Byte(sender ? 0 : 1);
    return *this;
  }
  Program& InspectFiles(uint8_t slot, uint8_t file, bool verify) {
    Slot(kInspectFiles, slot);
    frame_.Byte(file).Byte(verify ? 1 : 0);
    return *this;
  }
  Program& Byte(uint8_t value) { frame_.Byte(value); return *this; }
  const std::string& bytes() const { return frame_.bytes(); }

 private:
  Frame frame_;
};

void CapiSeeds(Corpus& corpus) {
  corpus.Write("capi_sequence_fuzz", "basic",
               Program()
                   .OpenStore()
                   .OpenLog(0, 0)
                   .Append(0, 3)
                   .Append(0, 1, /*zstd*/ 1)
                   .Append(0, 2)
                   .Read(0, 0, kStart)
                   .UseSlice(0)
                   .ReadRecords(0, kStart)
                   .Slot(kRoll, 0)
                   .Slot(kFlush, 0)
                   .OffsetForTime(0, 3)
                   .Truncate(0, 3)
                   .Slot(kInspectLog, 0)
                   .Op(kReopenStore)
                   .Read(0, 1, kInside)
                   .Op(kStoreCalls)
                   .InspectFiles(0, 0, true)
                   .InspectFiles(0, 1, false)
                   .Op(kMetrics).Byte(1)
                   .Send(0, 1, true)
                   .Send(0, 3, false)
                   .Op(kNullHandles).Byte(0).Byte(0).Byte(0).Byte(0)
                   .Op(kCloseStore)
                   .Op(kFreeStore)
                   .bytes());
  corpus.Write("capi_sequence_fuzz", "follower",
               Program()
                   .OpenStore()
                   .OpenLog(0, 0)
                   .OpenLog(1, 2)
                   .Append(0, 4)
                   .Append(0, 2, 1)
                   .CopyBatches(0, 1)
                   .Reset(1, kPastEnd)
                   .CopyBatches(0, 1)
                   .ReadRecords(1, kStart)
                   .Read(1, 2, kEnd)
                   .UseSlice(2)
                   .bytes());
  corpus.Write("capi_sequence_fuzz", "append-batches",
               Program()
                   .OpenStore()
                   .OpenLog(0, 1)
                   .AppendBatches(0, Values(0, 3) + Values(3, 2, Compression::kZstd),
                                  false)
                   .AppendBatches(0, WithAttributes(Values(0, 2), 1), true)
                   .AppendBatches(0, WithAttributes(Values(0, 1), kControlFlag),
                                  true)
                   .ReadRecords(0, kStart)
                   .Read(0, 3, kStart, 5)
                   .UseSlice(3)
                   .bytes());
  corpus.Write("capi_sequence_fuzz", "retention-delete",
               Program()
                   .OpenStore()
                   .OpenLog(0, 3, /*segment_bytes=61*/ 1, /*flags=*/0x01)
                   .Append(0, 2)
                   .Append(0, 2)
                   .Append(0, 2)
                   .Op(kStoreCalls)
                   .Read(0, 0, kStart)
                   .OpenLog(1, 3)
                   .Op(kDeleteLog).Byte(3)
                   .Read(0, 1, kStart)
                   .Append(0, 1)
                   .OpenLog(0, 3)
                   .Append(0, 1)
                   .bytes());
  corpus.Write("capi_sequence_fuzz", "read-only-store",
               Program()
                   .OpenStore()
                   .OpenLog(0, 0)
                   .Append(0, 2)
                   .OpenStore()           // a second writer: refused
                   .Op(kCloseStore)
                   .Op(kFreeStore)
                   .OpenStore(/*read_only=*/0x01)
                   .OpenStoredLog(1, 0)
                   .Read(1, 0, kStart)
                   .Append(1, 1)
                   .Slot(kFlush, 1)
                   .OpenLog(0, 5)         // a bad name
                   .bytes());
}

}  // namespace
}  // namespace shiplog::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  shiplog::fuzz::Corpus corpus(argv[1]);
  shiplog::fuzz::BatchSeeds(corpus);
  shiplog::fuzz::IndexSeeds(corpus);
  shiplog::fuzz::RecoverySeeds(corpus);
  shiplog::fuzz::KafkaSeeds(corpus);
  shiplog::fuzz::CapiSeeds(corpus);
  return 0;
}
