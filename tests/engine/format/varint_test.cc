#include "engine/format/varint.h"

#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace shiplog {
namespace {

constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

std::string VarintHex(int32_t v) {
  std::string out;
  AppendVarint(&out, v);
  return absl::BytesToHexString(out);
}

std::string VarlongHex(int64_t v) {
  std::string out;
  AppendVarlong(&out, v);
  return absl::BytesToHexString(out);
}

std::string FromHex(absl::string_view hex) {
  return absl::HexStringToBytes(hex);
}

// Values on both sides of every 7-bit boundary, plus the extremes.
std::vector<int64_t> InterestingInt64s() {
  std::vector<int64_t> values = {0,         -1,        1,        kInt64Min,
                                 kInt64Max, kInt32Min, kInt32Max};
  for (int bits = 1; bits < 63; ++bits) {
    const int64_t edge = int64_t{1} << bits;
    for (const int64_t v : {edge - 1, edge, edge + 1}) {
      values.push_back(v);
      values.push_back(-v);
    }
  }
  return values;
}

TEST(VarintTest, ZigZagInterleavesSigns) {
  EXPECT_EQ(ZigZagEncode32(0), 0u);
  EXPECT_EQ(ZigZagEncode32(-1), 1u);
  EXPECT_EQ(ZigZagEncode32(1), 2u);
  EXPECT_EQ(ZigZagEncode32(-2), 3u);
  EXPECT_EQ(ZigZagEncode32(kInt32Max), 0xfffffffeu);
  EXPECT_EQ(ZigZagEncode32(kInt32Min), 0xffffffffu);
  EXPECT_EQ(ZigZagEncode64(kInt64Min), ~uint64_t{0});
  EXPECT_EQ(ZigZagDecode32(0xffffffffu), kInt32Min);
  EXPECT_EQ(ZigZagDecode64(~uint64_t{0}), kInt64Min);
}

TEST(VarintTest, EncodesKafkaKnownVarints) {
  EXPECT_EQ(VarintHex(0), "00");
  EXPECT_EQ(VarintHex(-1), "01");
  EXPECT_EQ(VarintHex(1), "02");
  EXPECT_EQ(VarintHex(63), "7e");
  EXPECT_EQ(VarintHex(-64), "7f");
  EXPECT_EQ(VarintHex(64), "8001");
  EXPECT_EQ(VarintHex(-65), "8101");
  EXPECT_EQ(VarintHex(300), "d804");
  EXPECT_EQ(VarintHex(kInt32Max), "feffffff0f");
  EXPECT_EQ(VarintHex(kInt32Min), "ffffffff0f");
}

TEST(VarintTest, EncodesVarlongExtremesInTenBytes) {
  EXPECT_EQ(VarlongHex(kInt64Max), "feffffffffffffffff01");
  EXPECT_EQ(VarlongHex(kInt64Min), "ffffffffffffffffff01");
  EXPECT_EQ(VarlongHex(-1), "01");
}

// Encodes `v` with `append`, decodes it with `decode`, and expects the
// value back with nothing left over.
template <typename T>
void ExpectRoundTrip(T v, void (*append)(std::string*, T),
                     bool (*decode)(absl::string_view*, T*)) {
  std::string encoded;
  append(&encoded, v);
  absl::string_view input = encoded;
  T decoded;
  ASSERT_TRUE(decode(&input, &decoded)) << v;
  EXPECT_EQ(decoded, v);
  EXPECT_TRUE(input.empty()) << v;
}

TEST(VarintTest, VarintRoundTripsEveryInterestingInt32) {
  for (const int64_t v : InterestingInt64s()) {
    if (v < kInt32Min || v > kInt32Max) continue;
    ExpectRoundTrip<int32_t>(static_cast<int32_t>(v), &AppendVarint,
                             &DecodeVarint);
  }
}

TEST(VarintTest, VarlongRoundTripsEveryInterestingInt64) {
  for (const int64_t v : InterestingInt64s()) {
    ExpectRoundTrip<int64_t>(v, &AppendVarlong, &DecodeVarlong);
  }
}

TEST(VarintTest, UnsignedVarintRoundTripsEveryInterestingUint64) {
  for (const int64_t v : InterestingInt64s()) {
    ExpectRoundTrip<uint64_t>(static_cast<uint64_t>(v), &AppendUnsignedVarint,
                              &DecodeUnsignedVarint64);
  }
}

TEST(VarintTest, RandomValuesRoundTrip) {
  std::mt19937_64 random(42);
  for (int i = 0; i < 100000; ++i) {
    // Shift by a random amount so every encoded length is common.
    const auto v = static_cast<int64_t>(random() >> (random() % 64));
    ExpectRoundTrip<int64_t>(v, &AppendVarlong, &DecodeVarlong);
    ExpectRoundTrip<int32_t>(static_cast<int32_t>(v), &AppendVarint,
                             &DecodeVarint);
  }
}

TEST(VarintTest, SizeFunctionsAgreeWithEncoders) {
  for (const int64_t v : InterestingInt64s()) {
    char buffer[kMaxVarint64Bytes];
    const auto u = static_cast<uint64_t>(v);
    EXPECT_EQ(UnsignedVarintSize(u),
              static_cast<size_t>(EncodeUnsignedVarint(u, buffer) - buffer));
    EXPECT_EQ(VarlongSize(v),
              static_cast<size_t>(EncodeVarlong(v, buffer) - buffer));
    const auto v32 = static_cast<int32_t>(v);
    EXPECT_EQ(VarintSize(v32),
              static_cast<size_t>(EncodeVarint(v32, buffer) - buffer));
  }
  EXPECT_EQ(UnsignedVarintSize(0), 1u);
  EXPECT_EQ(UnsignedVarintSize(127), 1u);
  EXPECT_EQ(UnsignedVarintSize(128), 2u);
  EXPECT_EQ(UnsignedVarintSize(~uint64_t{0}), 10u);
}

TEST(VarintTest, DecodersConsumeOnlyTheirEncoding) {
  std::string encoded = FromHex("8001ff");
  absl::string_view input = encoded;
  int32_t value;
  ASSERT_TRUE(DecodeVarint(&input, &value));
  EXPECT_EQ(value, 64);
  EXPECT_EQ(input, "\xff");
}

TEST(VarintTest, DecodersRejectTruncationAtEveryByteAndLeaveInput) {
  for (const int64_t v : InterestingInt64s()) {
    std::string encoded;
    AppendVarlong(&encoded, v);
    for (size_t size = 0; size < encoded.size(); ++size) {
      const absl::string_view original(encoded.data(), size);
      absl::string_view input = original;
      int64_t value64;
      int32_t value32;
      uint64_t unsigned64;
      uint32_t unsigned32;
      EXPECT_FALSE(DecodeVarlong(&input, &value64));
      EXPECT_FALSE(DecodeVarint(&input, &value32));
      EXPECT_FALSE(DecodeUnsignedVarint64(&input, &unsigned64));
      EXPECT_FALSE(DecodeUnsignedVarint32(&input, &unsigned32));
      EXPECT_EQ(input.data(), original.data());
      EXPECT_EQ(input.size(), original.size());
    }
  }
}

TEST(VarintTest, Varint32RejectsSixBytes) {
  const std::string encoded = FromHex("808080808000");
  absl::string_view input = encoded;
  int32_t value;
  EXPECT_FALSE(DecodeVarint(&input, &value));
  EXPECT_EQ(input.size(), encoded.size());
}

TEST(VarintTest, Varint32RejectsFifthByteBeyondThirtyTwoBits) {
  // Kafka's reader drops these high bits silently; shiplog refuses them.
  for (const char* hex : {"ffffffff1f", "8080808010", "ffffffff7f"}) {
    const std::string encoded = FromHex(hex);
    absl::string_view input = encoded;
    uint32_t value;
    EXPECT_FALSE(DecodeUnsignedVarint32(&input, &value)) << hex;
    EXPECT_EQ(input.size(), encoded.size());
  }
  const std::string max = FromHex("ffffffff0f");
  absl::string_view input = max;
  uint32_t value;
  ASSERT_TRUE(DecodeUnsignedVarint32(&input, &value));
  EXPECT_EQ(value, 0xffffffffu);
}

TEST(VarintTest, Varint64RejectsElevenBytes) {
  const std::string encoded = FromHex("8080808080808080808000");
  absl::string_view input = encoded;
  int64_t value;
  EXPECT_FALSE(DecodeVarlong(&input, &value));
  EXPECT_EQ(input.size(), encoded.size());
}

TEST(VarintTest, Varint64RejectsTenthByteBeyondSixtyFourBits) {
  const std::string encoded = FromHex("ffffffffffffffffff02");
  absl::string_view input = encoded;
  uint64_t value;
  EXPECT_FALSE(DecodeUnsignedVarint64(&input, &value));
  const std::string max = FromHex("ffffffffffffffffff01");
  input = max;
  ASSERT_TRUE(DecodeUnsignedVarint64(&input, &value));
  EXPECT_EQ(value, ~uint64_t{0});
}

// The pointer decoders behind the string_view ones have inline paths for
// one- and two-byte encodings: they must agree with the general decoder on
// every length, and never read past `limit`.
TEST(VarintTest, PointerDecodersAgreeAndStopAtTheLimit) {
  for (const int64_t v : InterestingInt64s()) {
    std::string encoded;
    AppendVarlong(&encoded, v);
    // A copy with nothing after the encoding, so a read past the limit is
    // a read past the allocation (which ASan reports).
    const auto exact = std::make_unique<char[]>(encoded.size());
    std::memcpy(exact.get(), encoded.data(), encoded.size());
    const char* begin = exact.get();
    const char* limit = begin + encoded.size();
    int64_t value64;
    ASSERT_EQ(DecodeVarintAt(begin, limit, &value64), limit) << v;
    EXPECT_EQ(value64, v);
    for (const char* cut = begin; cut < limit; ++cut) {
      EXPECT_EQ(DecodeVarintAt(begin, cut, &value64), nullptr) << v;
    }
    if (v < kInt32Min || v > kInt32Max) continue;
    std::string encoded32;
    AppendVarint(&encoded32, static_cast<int32_t>(v));
    const auto exact32 = std::make_unique<char[]>(encoded32.size());
    std::memcpy(exact32.get(), encoded32.data(), encoded32.size());
    int32_t value32;
    const char* end32 = exact32.get() + encoded32.size();
    ASSERT_EQ(DecodeVarintAt(exact32.get(), end32, &value32), end32) << v;
    EXPECT_EQ(value32, v);
    for (const char* cut = exact32.get(); cut < end32; ++cut) {
      EXPECT_EQ(DecodeVarintAt(exact32.get(), cut, &value32), nullptr) << v;
    }
  }
}

TEST(VarintTest, TwoByteFastPathHandlesEveryTwoByteValue) {
  for (uint32_t v = 0; v < (1u << 14); ++v) {
    std::string encoded;
    AppendUnsignedVarint(&encoded, v);
    encoded += '\xff';  // a continuation byte after it must not be read
    uint32_t value;
    const char* end =
        DecodeVarintAt(encoded.data(), encoded.data() + encoded.size(), &value);
    ASSERT_EQ(end, encoded.data() + encoded.size() - 1) << v;
    ASSERT_EQ(value, v);
  }
}

TEST(VarintTest, NonMinimalEncodingWithinLimitIsAccepted) {
  // Kafka and protobuf accept padding bytes; the length limits still hold.
  const std::string encoded = FromHex("8280808000");
  absl::string_view input = encoded;
  uint32_t value;
  ASSERT_TRUE(DecodeUnsignedVarint32(&input, &value));
  EXPECT_EQ(value, 2u);
}

}  // namespace
}  // namespace shiplog
