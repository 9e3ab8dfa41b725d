#include "engine/format/crc32c.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace shiplog::crc32c {
namespace {

using ExtendFunction = uint32_t (*)(uint32_t, const char*, size_t);

struct Implementation {
  const char* name;
  ExtendFunction extend;
  bool available;
};

std::string PrintName(const ::testing::TestParamInfo<Implementation>& info) {
  return info.param.name;
}

// Every implementation must pass the same vectors.
class Crc32cTest : public ::testing::TestWithParam<Implementation> {
 protected:
  void SetUp() override {
    if (!GetParam().available) GTEST_SKIP() << "CPU lacks the instructions";
  }
  uint32_t Crc(const std::string& data) const {
    return GetParam().extend(0, data.data(), data.size());
  }
};

INSTANTIATE_TEST_SUITE_P(
    Implementations, Crc32cTest,
    ::testing::Values(
        Implementation{"Portable", &ExtendPortable, true},
        Implementation{"Sse42", &ExtendSse42, HardwareAccelerated()},
        Implementation{"Sse42Interleaved", &ExtendSse42Interleaved,
                       InterleavedAccelerated()},
        Implementation{"Avx512", &ExtendAvx512, Avx512Accelerated()},
        Implementation{"Dispatching", &Extend, true}),
    PrintName);

// RFC 3720 (iSCSI), appendix B.4.
TEST_P(Crc32cTest, MatchesRfc3720Vectors) {
  EXPECT_EQ(Crc(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending(32, '\0');
  std::string descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[i] = static_cast<char>(i);
    descending[i] = static_cast<char>(31 - i);
  }
  EXPECT_EQ(Crc(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc(descending), 0x113FDB5Cu);
}

TEST_P(Crc32cTest, MatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc("123456789"), 0xE3069283u);
}

TEST_P(Crc32cTest, EmptyInputLeavesTheCrcUnchanged) {
  EXPECT_EQ(Crc(""), 0u);
  EXPECT_EQ(GetParam().extend(0x12345678, nullptr, 0), 0x12345678u);
}

// 3000 bytes: long enough for every implementation's widest loop.
TEST_P(Crc32cTest, ExtendComposesAtEverySplit) {
  std::string data(3000, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31);
  const uint32_t whole = Crc(data);
  for (size_t split = 0; split <= data.size(); ++split) {
    const uint32_t first = GetParam().extend(0, data.data(), split);
    EXPECT_EQ(
        GetParam().extend(first, data.data() + split, data.size() - split),
        whole)
        << "split at " << split;
  }
}

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

// Checks `extend` against the portable implementation for every start
// alignment (0..7) and every size in `sizes`, from a nonzero CRC so the
// incoming state is exercised too.
template <typename Sizes>
void ExpectAgreesWithPortable(ExtendFunction extend, const Sizes& sizes) {
  size_t largest = 0;
  for (const size_t size : sizes) largest = std::max(largest, size);
  const std::string buffer = RandomBytes(largest + 8, 7);
  for (size_t start = 0; start < 8; ++start) {
    for (const size_t size : sizes) {
      const char* data = buffer.data() + start;
      ASSERT_EQ(ExtendPortable(0x9E3779B9, data, size),
                extend(0x9E3779B9, data, size))
          << "start " << start << " size " << size;
    }
  }
}

std::vector<size_t> EverySizeUpTo(size_t limit) {
  std::vector<size_t> sizes(limit + 1);
  for (size_t size = 0; size <= limit; ++size) sizes[size] = size;
  return sizes;
}

TEST(Crc32cAgreementTest, SingleStreamAgreesOnEveryLengthAndAlignment) {
  if (!HardwareAccelerated()) GTEST_SKIP() << "CPU lacks SSE4.2";
  ExpectAgreesWithPortable(&ExtendSse42, EverySizeUpTo(1000));
}

// The block-wise implementations: each works in steps of `step_bytes`
// from inputs of `min_bytes` on and hands the tail to a simpler one.
struct BlockwiseImplementation {
  const char* name;
  ExtendFunction extend;
  bool available;
  size_t step_bytes;
  size_t min_bytes;
};

std::string PrintBlockwiseName(
    const ::testing::TestParamInfo<BlockwiseImplementation>& info) {
  return info.param.name;
}

class Crc32cBlockwiseTest
    : public ::testing::TestWithParam<BlockwiseImplementation> {
 protected:
  void SetUp() override {
    if (!GetParam().available) GTEST_SKIP() << "CPU lacks the instructions";
  }
};

INSTANTIATE_TEST_SUITE_P(
    Implementations, Crc32cBlockwiseTest,
    // Interleaved: rounds of three 64-byte blocks after up to 7 bytes of
    // alignment. Avx512: 256-byte folding steps from 1 KiB on.
    ::testing::Values(BlockwiseImplementation{"Sse42Interleaved",
                                              &ExtendSse42Interleaved,
                                              InterleavedAccelerated(), 192,
                                              200},
                      BlockwiseImplementation{"Avx512", &ExtendAvx512,
                                              Avx512Accelerated(), 256, 1024}),
    PrintBlockwiseName);

// Every size up to several steps past the minimum covers each way the
// steps and the tail can meet.
TEST_P(Crc32cBlockwiseTest, AgreesOnEveryLengthAndAlignment) {
  ExpectAgreesWithPortable(
      GetParam().extend,
      EverySizeUpTo(GetParam().min_bytes + 8 * GetParam().step_bytes));
}

TEST_P(Crc32cBlockwiseTest, AgreesAroundStepBoundaries) {
  std::vector<size_t> sizes = {size_t{1} << 20};
  for (size_t steps = 1; steps <= 600; steps += 7) {
    for (size_t delta = 0; delta <= 16; ++delta) {
      sizes.push_back(steps * GetParam().step_bytes + delta);
      sizes.push_back(steps * GetParam().step_bytes - delta);
    }
  }
  ExpectAgreesWithPortable(GetParam().extend, sizes);
}

TEST(Crc32cAgreementTest, ValueIsExtendFromZero) {
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(Value("123456789", 9), 0xE3069283u);
}

}  // namespace
}  // namespace shiplog::crc32c
