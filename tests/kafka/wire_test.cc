// The Kafka protocol's primitive types: what WireWriter writes and
// WireReader reads back (https://kafka.apache.org/protocol#protocol_types).
#include "bindings/kafka/wire.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/kafka/kafka_test_util.h"

namespace shiplog::kafka {
namespace {

using ::shiplog::kafka::testing::Encode;

// ---------------------------------------------------------------------------
// Round trips

TEST(WireRoundTrip, Int8KeepsEveryValueIncludingExtremes) {
  for (const int8_t value :
       {int8_t{0}, int8_t{1}, int8_t{-1}, std::numeric_limits<int8_t>::min(),
        std::numeric_limits<int8_t>::max()}) {
    const std::string bytes = Encode([&](WireWriter& w) { w.Int8(value); });
    WireReader reader(bytes);
    EXPECT_EQ(reader.Int8(), value);
    reader.ExpectEnd();
    EXPECT_TRUE(reader.ok()) << reader.error();
  }
}

TEST(WireRoundTrip, Int16KeepsEveryValueIncludingExtremes) {
  for (const int16_t value :
       {int16_t{0}, int16_t{1}, int16_t{-1}, int16_t{0x1234},
        std::numeric_limits<int16_t>::min(),
        std::numeric_limits<int16_t>::max()}) {
    const std::string bytes = Encode([&](WireWriter& w) { w.Int16(value); });
    WireReader reader(bytes);
    EXPECT_EQ(reader.Int16(), value);
    reader.ExpectEnd();
    EXPECT_TRUE(reader.ok()) << reader.error();
  }
}

TEST(WireRoundTrip, Int32KeepsEveryValueIncludingExtremes) {
  for (const int32_t value :
       {0, 1, -1, 0x12345678, -0x12345678, std::numeric_limits<int32_t>::min(),
        std::numeric_limits<int32_t>::max()}) {
    const std::string bytes = Encode([&](WireWriter& w) { w.Int32(value); });
    WireReader reader(bytes);
    EXPECT_EQ(reader.Int32(), value);
    reader.ExpectEnd();
    EXPECT_TRUE(reader.ok()) << reader.error();
  }
}

TEST(WireRoundTrip, Int64KeepsEveryValueIncludingExtremes) {
  for (const int64_t value :
       {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{0x123456789abcdef0},
        -int64_t{0x123456789abcdef0}, std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::max()}) {
    const std::string bytes = Encode([&](WireWriter& w) { w.Int64(value); });
    WireReader reader(bytes);
    EXPECT_EQ(reader.Int64(), value);
    reader.ExpectEnd();
    EXPECT_TRUE(reader.ok()) << reader.error();
  }
}

TEST(WireWriter, WritesIntegersBigEndian) {
  EXPECT_EQ(Encode([](WireWriter& w) { w.Int16(-2); }), "\xff\xfe");
  EXPECT_EQ(Encode([](WireWriter& w) { w.Int32(0x01020304); }),
            "\x01\x02\x03\x04");
  EXPECT_EQ(Encode([](WireWriter& w) { w.Int64(0x0102030405060708); }),
            "\x01\x02\x03\x04\x05\x06\x07\x08");
}

struct VarintCase {
  uint32_t value;
  size_t encoded_bytes;
};

TEST(WireRoundTrip, UnsignedVarintKeepsValuesAtEverySevenBitBoundary) {
  const VarintCase cases[] = {
      {0, 1},        {(1u << 7) - 1, 1},
      {1u << 7, 2},  {(1u << 14) - 1, 2},
      {1u << 14, 3}, {(1u << 21) - 1, 3},
      {1u << 21, 4}, {(1u << 28) - 1, 4},
      {1u << 28, 5}, {std::numeric_limits<uint32_t>::max(), 5},
  };
  for (const VarintCase& c : cases) {
    const std::string bytes =
        Encode([&](WireWriter& w) { w.UnsignedVarint(c.value); });
    EXPECT_EQ(bytes.size(), c.encoded_bytes) << c.value;
    WireReader reader(bytes);
    EXPECT_EQ(reader.UnsignedVarint(), c.value);
    reader.ExpectEnd();
    EXPECT_TRUE(reader.ok()) << c.value << ": " << reader.error();
  }
}

TEST(WireWriter, WritesUnsignedVarintLowGroupFirst) {
  EXPECT_EQ(Encode([](WireWriter& w) { w.UnsignedVarint(300); }), "\xac\x02");
  EXPECT_EQ(Encode([](WireWriter& w) { w.UnsignedVarint(UINT32_MAX); }),
            "\xff\xff\xff\xff\x0f");
}

TEST(WireRoundTrip, ClassicStringKeepsEmptyShortAndLongestValues) {
  for (const std::string& value :
       {std::string(), std::string("topic"), std::string(32767, 'x')}) {
    const std::string bytes =
        Encode([&](WireWriter& w) { w.String(value, /*compact=*/false); });
    EXPECT_EQ(bytes.size(), 2 + value.size());
    WireReader reader(bytes);
    EXPECT_EQ(reader.String(/*compact=*/false), value);
    reader.ExpectEnd();
    EXPECT_TRUE(reader.ok()) << reader.error();
  }
}

TEST(WireRoundTrip, CompactStringKeepsEmptyShortAndMultiByteLengthValues) {
  for (const std::string& value :
       {std::string(), std::string("topic"), std::string(200, 'x')}) {
    const std::string bytes =
        Encode([&](WireWriter& w) { w.String(value, /*compact=*/true); });
    WireReader reader(bytes);
    EXPECT_EQ(reader.String(/*compact=*/true), value);
    reader.ExpectEnd();
    EXPECT_TRUE(reader.ok()) << reader.error();
  }
}

TEST(WireWriter, WritesStringLengthsAsInt16OrVarintPlusOne) {
  EXPECT_EQ(Encode([](WireWriter& w) { w.String("ab", false); }),
            std::string("\x00\x02"
                        "ab",
                        4));
  EXPECT_EQ(Encode([](WireWriter& w) { w.String("ab", true); }),
            "\x03"
            "ab");
  EXPECT_EQ(Encode([](WireWriter& w) { w.String("", true); }), "\x01");
}

TEST(WireRoundTrip, NullableStringKeepsNullEmptyAndValueInBothForms) {
  for (const bool compact : {false, true}) {
    for (const std::optional<std::string>& value :
         {std::optional<std::string>(), std::optional<std::string>(""),
          std::optional<std::string>("client")}) {
      const std::string bytes =
          Encode([&](WireWriter& w) { w.NullableString(value, compact); });
      WireReader reader(bytes);
      EXPECT_EQ(reader.NullableString(compact), value) << compact;
      reader.ExpectEnd();
      EXPECT_TRUE(reader.ok()) << reader.error();
    }
  }
}

TEST(WireWriter, WritesANullStringAsMinusOneOrCompactZero) {
  EXPECT_EQ(
      Encode([](WireWriter& w) { w.NullableString(std::nullopt, false); }),
      "\xff\xff");
  EXPECT_EQ(Encode([](WireWriter& w) { w.NullableString(std::nullopt, true); }),
            std::string("\x00", 1));
}

TEST(WireRoundTrip, BytesKeepEmptyAndBinaryValuesInBothForms) {
  for (const bool compact : {false, true}) {
    for (const absl::string_view value :
         {absl::string_view(), absl::string_view("\x00\xff\x80 bin", 7)}) {
      const std::string bytes =
          Encode([&](WireWriter& w) { w.Bytes(value, compact); });
      WireReader reader(bytes);
      const std::optional<absl::string_view> read =
          reader.NullableBytes(compact);
      ASSERT_TRUE(read.has_value());
      EXPECT_EQ(*read, value);
      reader.ExpectEnd();
      EXPECT_TRUE(reader.ok()) << reader.error();
    }
  }
}

TEST(WireRoundTrip, BytesLengthMinusOneReadsAsNullInBothForms) {
  for (const bool compact : {false, true}) {
    const std::string bytes =
        Encode([&](WireWriter& w) { w.BytesLength(-1, compact); });
    WireReader reader(bytes);
    EXPECT_FALSE(reader.NullableBytes(compact).has_value()) << compact;
    reader.ExpectEnd();
    EXPECT_TRUE(reader.ok()) << reader.error();
  }
}

TEST(WireReader, NullableBytesIsAViewIntoTheInput) {
  const std::string bytes =
      Encode([](WireWriter& w) { w.Bytes("payload", /*compact=*/false); });
  WireReader reader(bytes);
  const std::optional<absl::string_view> read =
      reader.NullableBytes(/*compact=*/false);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->data(), bytes.data() + 4);
}

TEST(WireRoundTrip, ArrayLengthKeepsNullEmptyAndCountsInBothForms) {
  for (const bool compact : {false, true}) {
    for (const int32_t count : {-1, 0, 1, 3, 200}) {
      std::string bytes =
          Encode([&](WireWriter& w) { w.ArrayLength(count, compact); });
      bytes.append(count > 0 ? count : 0, 'e');  // one byte per element
      WireReader reader(bytes);
      EXPECT_EQ(reader.ArrayLength(compact), count) << compact;
      EXPECT_TRUE(reader.ok()) << reader.error();
      EXPECT_EQ(reader.remaining(), static_cast<size_t>(count > 0 ? count : 0));
    }
  }
}

TEST(WireWriter, WritesANullArrayAsMinusOneOrCompactZero) {
  EXPECT_EQ(Encode([](WireWriter& w) { w.ArrayLength(-1, false); }),
            "\xff\xff\xff\xff");
  EXPECT_EQ(Encode([](WireWriter& w) { w.ArrayLength(-1, true); }),
            std::string("\x00", 1));
}

TEST(WireWriter, WritesAnEmptyTaggedFieldsSectionOnlyWhenFlexible) {
  EXPECT_EQ(Encode([](WireWriter& w) { w.TaggedFields(true); }),
            std::string("\x00", 1));
  EXPECT_EQ(Encode([](WireWriter& w) { w.TaggedFields(false); }), "");
}

TEST(WireWriter, PatchInt32OverwritesThePlaceholderOnly) {
  std::string bytes;
  WireWriter writer(&bytes);
  writer.Int32(0);
  writer.String("after", /*compact=*/false);
  writer.PatchInt32(0, 0x0a0b0c0d);
  EXPECT_EQ(bytes, std::string("\x0a\x0b\x0c\x0d\x00\x05"
                               "after",
                               11));
}

// ---------------------------------------------------------------------------
// Tagged fields

TEST(WireReader, SkipsEveryTaggedFieldAndItsData) {
  std::string bytes = Encode([](WireWriter& w) {
    w.UnsignedVarint(3);  // fields
    w.UnsignedVarint(0);  // tag
    w.UnsignedVarint(3);  // size
    w.Raw("abc");
    w.UnsignedVarint(7);
    w.UnsignedVarint(0);
    w.UnsignedVarint(300);  // a tag whose number needs two bytes
    w.UnsignedVarint(200);  // data whose size needs two bytes
    w.Raw(std::string(200, 'd'));
    w.Int16(42);  // the next field
  });
  WireReader reader(bytes);
  reader.TaggedFields(/*flexible=*/true);
  EXPECT_EQ(reader.Int16(), 42);
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok()) << reader.error();
}

TEST(WireReader, ReadsNoTaggedFieldsWhenNotFlexible) {
  const std::string bytes = Encode([](WireWriter& w) { w.Int16(42); });
  WireReader reader(bytes);
  reader.TaggedFields(/*flexible=*/false);
  EXPECT_EQ(reader.Int16(), 42);
  EXPECT_TRUE(reader.ok()) << reader.error();
}

}  // namespace
}  // namespace shiplog::kafka
