// How WireReader fails on input a hostile or confused client sends: every
// truncation of every type, lengths and counts no valid encoding has, and
// trailing bytes. It must fail cleanly, name the field, and never read past
// its input (run under ASan: cmake -DSHIPLOG_SANITIZE=address,undefined).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "bindings/kafka/wire.h"
#include "gtest/gtest.h"
#include "tests/kafka/kafka_test_util.h"

namespace shiplog::kafka {
namespace {

using ::shiplog::kafka::testing::Encode;
using ::testing::IsSubstring;

// One field's valid encoding, and the name its truncation error must carry:
// `length_field` while the cut falls in its first `length_bytes` bytes (a
// length prefix), `field` after.
struct TruncationCase {
  std::string name;
  std::string bytes;
  size_t length_bytes;
  const char* length_field;
  const char* field;
  std::function<void(WireReader&)> read;
};

void PrintTo(const TruncationCase& c, std::ostream* os) { *os << c.name; }

void ReadArrayOfInt8(WireReader& reader, bool compact) {
  for (int32_t i = reader.ArrayLength(compact); i > 0; --i) reader.Int8();
}

std::vector<TruncationCase> TruncationCases() {
  const std::string long_text(200, 't');  // a compact length of two bytes
  return {
      {"Int8", Encode([](WireWriter& w) { w.Int8(-5); }), 0, "", "int8",
       [](WireReader& r) { r.Int8(); }},
      {"Int16", Encode([](WireWriter& w) { w.Int16(-5); }), 0, "", "int16",
       [](WireReader& r) { r.Int16(); }},
      {"Int32", Encode([](WireWriter& w) { w.Int32(-5); }), 0, "", "int32",
       [](WireReader& r) { r.Int32(); }},
      {"Int64", Encode([](WireWriter& w) { w.Int64(-5); }), 0, "", "int64",
       [](WireReader& r) { r.Int64(); }},
      {"UnsignedVarint",
       Encode([](WireWriter& w) { w.UnsignedVarint(UINT32_MAX); }), 0, "",
       "varint", [](WireReader& r) { r.UnsignedVarint(); }},
      {"ClassicString",
       Encode([&](WireWriter& w) { w.String(long_text, false); }), 2, "int16",
       "string", [](WireReader& r) { r.String(false); }},
      {"CompactString",
       Encode([&](WireWriter& w) { w.String(long_text, true); }), 2, "varint",
       "string", [](WireReader& r) { r.String(true); }},
      {"ClassicNullableString",
       Encode([](WireWriter& w) { w.NullableString("client", false); }), 2,
       "int16", "string", [](WireReader& r) { r.NullableString(false); }},
      {"CompactNullableString",
       Encode([](WireWriter& w) { w.NullableString("client", true); }), 1,
       "varint", "string", [](WireReader& r) { r.NullableString(true); }},
      {"ClassicBytes", Encode([](WireWriter& w) { w.Bytes("records", false); }),
       4, "int32", "bytes", [](WireReader& r) { r.NullableBytes(false); }},
      {"CompactBytes", Encode([&](WireWriter& w) { w.Bytes(long_text, true); }),
       2, "varint", "bytes", [](WireReader& r) { r.NullableBytes(true); }},
      {"ClassicArray", Encode([](WireWriter& w) {
         w.ArrayLength(2, false);
         w.Raw("ee");
       }),
       4, "int32", "array", [](WireReader& r) { ReadArrayOfInt8(r, false); }},
      {"CompactArray", Encode([](WireWriter& w) {
         w.ArrayLength(130, true);  // two varint bytes
         w.Raw(std::string(130, 'e'));
       }),
       2, "varint", "array", [](WireReader& r) { ReadArrayOfInt8(r, true); }},
      {"TaggedFields", Encode([](WireWriter& w) {
         w.UnsignedVarint(1);
         w.UnsignedVarint(5);
         w.UnsignedVarint(4);
         w.Raw("data");
       }),
       3, "varint", "tagged field",
       [](WireReader& r) { r.SkipTaggedFields(); }},
  };
}

class WireTruncationTest : public ::testing::TestWithParam<TruncationCase> {};

TEST_P(WireTruncationTest, WholeEncodingReads) {
  const TruncationCase& c = GetParam();
  WireReader reader(c.bytes);
  c.read(reader);
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok()) << reader.error();
}

TEST_P(WireTruncationTest, EveryCutFailsNamingTheField) {
  const TruncationCase& c = GetParam();
  for (size_t cut = 0; cut < c.bytes.size(); ++cut) {
    // Exactly `cut` bytes on the heap, so a read past them is a sanitizer
    // error rather than a read of the rest of the encoding.
    const auto input = std::make_unique<char[]>(cut);
    std::copy(c.bytes.begin(), c.bytes.begin() + cut, input.get());
    WireReader reader(absl::string_view(input.get(), cut));
    c.read(reader);
    EXPECT_FALSE(reader.ok()) << "cut at " << cut;
    const char* field = cut < c.length_bytes ? c.length_field : c.field;
    EXPECT_PRED_FORMAT2(IsSubstring, field, reader.error()) << "cut at " << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryType, WireTruncationTest, ::testing::ValuesIn(TruncationCases()),
    [](const ::testing::TestParamInfo<TruncationCase>& case_info) {
      return case_info.param.name;
    });

TEST(WireReader, ReadsAfterAFailureReturnZeroAndKeepTheFirstError) {
  const std::string bytes("\x00\x00\x00\x07", 4);
  WireReader reader(bytes);
  EXPECT_EQ(reader.Int64(), 0);  // needs 8 bytes
  EXPECT_EQ(reader.Int32(), 0);  // would fit, but the reader has failed
  EXPECT_EQ(reader.String(false), "");
  EXPECT_EQ(reader.ArrayLength(false), 0);
  EXPECT_FALSE(reader.ok());
  EXPECT_PRED_FORMAT2(IsSubstring, "int64", reader.error());
}

TEST(WireReader, FailKeepsTheFirstMessage) {
  WireReader reader("");
  reader.Fail("first");
  reader.Fail("second");
  EXPECT_EQ(reader.error(), "first");
}

// ---------------------------------------------------------------------------
// Values no valid encoding has

TEST(WireReader, RejectsAVarintLongerThanFiveBytes) {
  WireReader reader("\x80\x80\x80\x80\x80\x01");
  EXPECT_EQ(reader.UnsignedVarint(), 0u);
  EXPECT_FALSE(reader.ok());
  EXPECT_PRED_FORMAT2(IsSubstring, "longer than 32 bits", reader.error());
}

TEST(WireReader, RejectsAFiveByteVarintOverThirtyTwoBits) {
  WireReader reader("\xff\xff\xff\xff\x1f");  // 2^33 - 1
  EXPECT_EQ(reader.UnsignedVarint(), 0u);
  EXPECT_FALSE(reader.ok());
  EXPECT_PRED_FORMAT2(IsSubstring, "longer than 32 bits", reader.error());
}

TEST(WireReader, RejectsANegativeStringLengthOtherThanMinusOne) {
  for (const int16_t length :
       {int16_t{-2}, std::numeric_limits<int16_t>::min()}) {
    std::string bytes = Encode([&](WireWriter& w) { w.Int16(length); });
    bytes.append("abcd");
    WireReader reader(bytes);
    EXPECT_EQ(reader.NullableString(/*compact=*/false), "");
    EXPECT_FALSE(reader.ok()) << length;
    EXPECT_PRED_FORMAT2(IsSubstring, "negative string length", reader.error());
  }
}

TEST(WireReader, RejectsANegativeBytesLengthOtherThanMinusOne) {
  std::string bytes = Encode([](WireWriter& w) { w.Int32(-2); });
  bytes.append("abcd");
  WireReader reader(bytes);
  reader.NullableBytes(/*compact=*/false);
  EXPECT_FALSE(reader.ok());
  EXPECT_PRED_FORMAT2(IsSubstring, "negative bytes length", reader.error());
}

TEST(WireReader, RejectsANegativeArrayLengthOtherThanMinusOne) {
  for (const int32_t count : {-2, std::numeric_limits<int32_t>::min()}) {
    std::string bytes = Encode([&](WireWriter& w) { w.Int32(count); });
    bytes.append("abcd");
    WireReader reader(bytes);
    EXPECT_EQ(reader.ArrayLength(/*compact=*/false), 0);
    EXPECT_FALSE(reader.ok()) << count;
    EXPECT_PRED_FORMAT2(IsSubstring, "negative array length", reader.error());
  }
}

TEST(WireReader, RejectsANullWhereAStringIsRequired) {
  for (const bool compact : {false, true}) {
    const std::string bytes =
        Encode([&](WireWriter& w) { w.NullableString(std::nullopt, compact); });
    WireReader reader(bytes);
    EXPECT_EQ(reader.String(compact), "");
    EXPECT_FALSE(reader.ok()) << compact;
    EXPECT_PRED_FORMAT2(IsSubstring, "null", reader.error());
  }
}

TEST(WireReader, RejectsAStringLongerThanTheInput) {
  std::string bytes = Encode([](WireWriter& w) { w.Int16(32767); });
  bytes.append("abc");
  WireReader reader(bytes);
  EXPECT_EQ(reader.String(/*compact=*/false), "");
  EXPECT_FALSE(reader.ok());
  EXPECT_PRED_FORMAT2(IsSubstring, "string", reader.error());
}

TEST(WireReader, RejectsACompactStringOfTheLargestLength) {
  std::string bytes =
      Encode([](WireWriter& w) { w.UnsignedVarint(UINT32_MAX); });
  bytes.append("abc");
  WireReader reader(bytes);
  EXPECT_EQ(reader.String(/*compact=*/true), "");
  EXPECT_FALSE(reader.ok());
  EXPECT_PRED_FORMAT2(IsSubstring, "string", reader.error());
}

TEST(WireReader, RejectsAnArrayCountThatCannotFitInTheRemainingBytes) {
  std::string bytes = Encode(
      [](WireWriter& w) { w.Int32(std::numeric_limits<int32_t>::max()); });
  bytes.append(16, 'e');
  WireReader reader(bytes);
  EXPECT_EQ(reader.ArrayLength(/*compact=*/false), 0);
  EXPECT_FALSE(reader.ok());
  EXPECT_PRED_FORMAT2(IsSubstring, "cannot fit", reader.error());
}

TEST(WireReader, RejectsACompactArrayCountThatCannotFitInTheRemainingBytes) {
  std::string bytes =
      Encode([](WireWriter& w) { w.UnsignedVarint(UINT32_MAX); });
  bytes.append(16, 'e');
  WireReader reader(bytes);
  EXPECT_EQ(reader.ArrayLength(/*compact=*/true), 0);
  EXPECT_FALSE(reader.ok());
  EXPECT_PRED_FORMAT2(IsSubstring, "cannot fit", reader.error());
}

TEST(WireReader, ArrayCountFitsOnlyIfEveryElementHasItsMinimumSize) {
  std::string bytes = Encode([](WireWriter& w) { w.Int32(3); });
  bytes.append(12, 'e');
  WireReader exact(bytes);
  EXPECT_EQ(exact.ArrayLength(/*compact=*/false, /*min_element_bytes=*/4), 3);
  EXPECT_TRUE(exact.ok()) << exact.error();

  bytes.pop_back();
  WireReader short_by_one(bytes);
  EXPECT_EQ(
      short_by_one.ArrayLength(/*compact=*/false, /*min_element_bytes=*/4), 0);
  EXPECT_FALSE(short_by_one.ok());
}

TEST(WireReader, RejectsTaggedFieldDataLongerThanTheInput) {
  const std::string bytes = Encode([](WireWriter& w) {
    w.UnsignedVarint(1);
    w.UnsignedVarint(0);
    w.UnsignedVarint(UINT32_MAX);
    w.Raw("abc");
  });
  WireReader reader(bytes);
  reader.SkipTaggedFields();
  EXPECT_FALSE(reader.ok());
  EXPECT_PRED_FORMAT2(IsSubstring, "tagged field", reader.error());
}

TEST(WireReader, ExpectEndRejectsTrailingBytes) {
  WireReader reader(absl::string_view("\x00\x01\x02", 3));
  reader.Int16();
  reader.ExpectEnd();
  EXPECT_FALSE(reader.ok());
  EXPECT_PRED_FORMAT2(IsSubstring, "1 unexpected bytes", reader.error());
}

TEST(WireReader, ExpectEndAcceptsAFullyReadInput) {
  WireReader reader(absl::string_view("\x00\x01", 2));
  reader.Int16();
  reader.ExpectEnd();
  EXPECT_TRUE(reader.ok()) << reader.error();
}

TEST(WireReader, ExpectEndKeepsAnEarlierError) {
  WireReader reader(absl::string_view("\x00\x01\x02", 3));
  reader.Int32();
  reader.ExpectEnd();
  EXPECT_PRED_FORMAT2(IsSubstring, "int32", reader.error());
}

}  // namespace
}  // namespace shiplog::kafka
