// Throughput of the format layer's hot paths: CRC-32C (portable, one
// stream of crc32 instructions, three interleaved streams, AVX-512
// folding), batch encoding
// (AppendBatch into a std::string and into a ByteBuffer), decoding
// (RecordReader) and validation (ValidateBatch with and without the record
// walk). The baseline for the batch paths is a plain copy of the same
// batch bytes: what a path costs beyond touching each byte once.
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/format/batch_builder.h"
#include "engine/format/batch_validator.h"
#include "engine/format/byte_buffer.h"
#include "engine/format/crc32c.h"
#include "engine/format/record_reader.h"
#include "tests/bench/ratio_reporter.h"

namespace shiplog::bench {
namespace {

std::string RandomBytes(size_t size) {
  std::mt19937_64 random(size);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

using ExtendFunction = uint32_t (*)(uint32_t, const char*, size_t);

void RunCrc(benchmark::State& state, ExtendFunction extend, bool available) {
  if (!available) {
    state.SkipWithError("the CPU lacks the instructions");
    return;
  }
  const std::string bytes = RandomBytes(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(extend(0, bytes.data(), bytes.size()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          state.range(0));
}

void BM_Crc32cPortable(benchmark::State& state) {
  RunCrc(state, &crc32c::ExtendPortable, true);
}
void BM_Crc32cSse42(benchmark::State& state) {
  RunCrc(state, &crc32c::ExtendSse42, crc32c::HardwareAccelerated());
}
void BM_Crc32cInterleaved(benchmark::State& state) {
  RunCrc(state, &crc32c::ExtendSse42Interleaved,
         crc32c::InterleavedAccelerated());
}

void CrcSizes(benchmark::internal::Benchmark* bench) {
  bench->ArgName("bytes");
  for (const int64_t size : {64, 4 << 10, 64 << 10, 1 << 20}) {
    bench->Arg(size);
  }
}

void BM_Crc32cAvx512(benchmark::State& state) {
  RunCrc(state, &crc32c::ExtendAvx512, crc32c::Avx512Accelerated());
}

BENCHMARK(BM_Crc32cPortable)->Apply(CrcSizes);
BENCHMARK(BM_Crc32cSse42)->Apply(CrcSizes);
BENCHMARK(BM_Crc32cInterleaved)->Apply(CrcSizes);
BENCHMARK(BM_Crc32cAvx512)->Apply(CrcSizes);

constexpr int64_t kNowMs = 1'700'000'000'000;

// range(0) records of range(1) value bytes each, no keys or headers: the
// shape append_bench appends.
class BatchRecords {
 public:
  explicit BatchRecords(const benchmark::State& state)
      : values_(static_cast<size_t>(state.range(0))), records_(values_.size()) {
    std::mt19937 random(static_cast<uint32_t>(state.range(1)));
    for (size_t i = 0; i < values_.size(); ++i) {
      values_[i].resize(static_cast<size_t>(state.range(1)));
      for (char& c : values_[i]) c = static_cast<char>('a' + random() % 26);
      records_[i].value = values_[i];
    }
  }

  absl::Span<const RecordView> records() const { return records_; }
  std::string Encode() const {
    std::string batch;
    (void)AppendBatch(records_, {}, kNowMs, &batch);
    return batch;
  }

 private:
  std::vector<std::string> values_;
  std::vector<RecordView> records_;
};

void SetBatchCounters(benchmark::State& state, size_t batch_bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(batch_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) *
                          state.range(0));
}

// The baseline: copying the encoded batch into a reused buffer.
void BM_CopyBatch(benchmark::State& state) {
  const std::string batch = BatchRecords(state).Encode();
  std::string copy;
  for (auto _ : state) {
    copy.assign(batch);
    benchmark::DoNotOptimize(copy.data());
  }
  SetBatchCounters(state, batch.size());
}

// Encodes the batch into `Buffer`, a fresh one per batch unless `reuse`.
template <typename Buffer>
void RunEncode(benchmark::State& state, bool reuse) {
  const BatchRecords input(state);
  Buffer reused;
  size_t batch_bytes = 0;
  for (auto _ : state) {
    Buffer fresh;
    Buffer& batch = reuse ? reused : fresh;
    batch.clear();
    if (!AppendBatch(input.records(), {}, kNowMs, &batch).ok()) {
      state.SkipWithError("AppendBatch failed");
      break;
    }
    batch_bytes = batch.size();
    benchmark::DoNotOptimize(batch.data());
  }
  SetBatchCounters(state, batch_bytes);
}

// What Log::Append did before ByteBuffer: a fresh string per batch.
void BM_EncodeToString(benchmark::State& state) {
  RunEncode<std::string>(state, /*reuse=*/false);
}
// A fresh ByteBuffer per batch: no zero-fill, one allocation.
void BM_EncodeToByteBuffer(benchmark::State& state) {
  RunEncode<ByteBuffer>(state, /*reuse=*/false);
}
// One ByteBuffer reused for every batch: no allocation either.
void BM_EncodeToReusedByteBuffer(benchmark::State& state) {
  RunEncode<ByteBuffer>(state, /*reuse=*/true);
}

// Every record decoded, copied out as Record values (RecordReader validates
// the batch first).
void BM_DecodeRecords(benchmark::State& state) {
  const std::string batch = BatchRecords(state).Encode();
  for (auto _ : state) {
    RecordReader reader(batch);
    while (reader.Next()) benchmark::DoNotOptimize(&reader.record());
    if (!reader.status().ok()) {
      state.SkipWithError("RecordReader failed");
      break;
    }
  }
  SetBatchCounters(state, batch.size());
}

void RunValidate(benchmark::State& state, bool check_records) {
  const std::string batch = BatchRecords(state).Encode();
  ValidateOptions options;
  options.check_records = check_records;
  for (auto _ : state) {
    if (!ValidateBatch(batch, options).ok()) {
      state.SkipWithError("ValidateBatch failed");
      break;
    }
  }
  SetBatchCounters(state, batch.size());
}

// What Log::AppendBatches checks for each producer batch.
void BM_ValidateBatch(benchmark::State& state) { RunValidate(state, true); }
// Lengths, header and CRC only.
void BM_ValidateBatchHeaderAndCrc(benchmark::State& state) {
  RunValidate(state, false);
}

// {records per batch, value bytes}
void BatchShapes(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"batch_records", "record_bytes"});
  bench->Args({100, 100});
  bench->Args({1000, 100});
  bench->Args({100, 1024});
}

BENCHMARK(BM_CopyBatch)->Apply(BatchShapes);
BENCHMARK(BM_EncodeToString)->Apply(BatchShapes);
BENCHMARK(BM_EncodeToByteBuffer)->Apply(BatchShapes);
BENCHMARK(BM_EncodeToReusedByteBuffer)->Apply(BatchShapes);
BENCHMARK(BM_DecodeRecords)->Apply(BatchShapes);
BENCHMARK(BM_ValidateBatch)->Apply(BatchShapes);
BENCHMARK(BM_ValidateBatchHeaderAndCrc)->Apply(BatchShapes);

// {measured, baseline}, all by bytes per second.
constexpr std::pair<const char*, const char*> kComparisons[] = {
    {"BM_Crc32cSse42", "BM_Crc32cPortable"},
    {"BM_Crc32cInterleaved", "BM_Crc32cSse42"},
    {"BM_Crc32cAvx512", "BM_Crc32cSse42"},
    {"BM_EncodeToByteBuffer", "BM_EncodeToString"},
    {"BM_EncodeToReusedByteBuffer", "BM_EncodeToString"},
    {"BM_EncodeToString", "BM_CopyBatch"},
    {"BM_EncodeToByteBuffer", "BM_CopyBatch"},
    {"BM_EncodeToReusedByteBuffer", "BM_CopyBatch"},
    {"BM_DecodeRecords", "BM_CopyBatch"},
    {"BM_ValidateBatch", "BM_CopyBatch"},
    {"BM_ValidateBatchHeaderAndCrc", "BM_CopyBatch"},
};

}  // namespace
}  // namespace shiplog::bench

int main(int argc, char** argv) {
  shiplog::bench::RatioReporter reporter;
  for (const auto& [measured, baseline] : shiplog::bench::kComparisons) {
    reporter.Compare(measured, baseline, "bytes_per_second");
  }
  return shiplog::bench::RunBenchmarks(argc, argv, reporter);
}
