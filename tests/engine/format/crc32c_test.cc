#include "engine/format/crc32c.h"

#include <cstdint>
#include <random>
#include <string>

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
    if (!GetParam().available) GTEST_SKIP() << "CPU lacks SSE4.2";
  }
  uint32_t Crc(const std::string& data) const {
    return GetParam().extend(0, data.data(), data.size());
  }
};

INSTANTIATE_TEST_SUITE_P(
    Implementations, Crc32cTest,
    ::testing::Values(Implementation{"Portable", &ExtendPortable, true},
                      Implementation{"Sse42", &ExtendSse42,
                                     HardwareAccelerated()},
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

TEST_P(Crc32cTest, ExtendComposesAtEverySplit) {
  std::string data(200, '\0');
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

TEST(Crc32cAgreementTest, ImplementationsAgreeOnEveryLengthAndAlignment) {
  if (!HardwareAccelerated()) GTEST_SKIP() << "CPU lacks SSE4.2";
  std::mt19937 random(7);
  std::string buffer(1000 + 8, '\0');
  for (char& c : buffer) c = static_cast<char>(random());
  for (size_t start = 0; start < 8; ++start) {
    for (size_t size = 0; size + start <= buffer.size() && size <= 1000;
         ++size) {
      const char* data = buffer.data() + start;
      ASSERT_EQ(ExtendPortable(0, data, size), ExtendSse42(0, data, size))
          << "start " << start << " size " << size;
    }
  }
}

TEST(Crc32cAgreementTest, ValueIsExtendFromZero) {
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(Value("123456789", 9), 0xE3069283u);
}

}  // namespace
}  // namespace shiplog::crc32c
