#include "engine/format/zstd_codec.h"

#include <zstd.h>

#include <string>

#include "tests/engine/format/format_test_util.h"
#include "tests/engine/test_util.h"

namespace shiplog {
namespace {

using ::shiplog::testing::StatusIs;
using ::shiplog::testing::ZstdFrameWithoutContentSize;
using ::testing::HasSubstr;

constexpr size_t kNoCap = size_t{1} << 30;

// Compressible but not trivially so.
std::string Text(size_t size) {
  std::string text(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    text[i] = static_cast<char>('a' + (i * i / 7 + i / 3) % 26);
  }
  return text;
}

std::string Compress(absl::string_view input, int level = 3) {
  std::string out;
  EXPECT_OK(ZstdCompress(input, level, &out));
  return out;
}

TEST(ZstdCodecTest, RoundTripsSizesAroundTheOutputGrowthSteps) {
  for (const size_t size : {size_t{0}, size_t{1}, size_t{65535}, size_t{65536},
                            size_t{65537}, size_t{1} << 20}) {
    const std::string input = Text(size);
    std::string output;
    ASSERT_OK(ZstdDecompress(Compress(input), kNoCap, &output));
    EXPECT_EQ(output, input) << "size " << size;
  }
}

TEST(ZstdCodecTest, BothDirectionsAppendToExistingOutput) {
  std::string compressed = "prefix";
  ASSERT_OK(ZstdCompress("payload", 3, &compressed));
  ASSERT_EQ(compressed.substr(0, 6), "prefix");
  std::string output = "before:";
  ASSERT_OK(ZstdDecompress(compressed.substr(6), kNoCap, &output));
  EXPECT_EQ(output, "before:payload");
}

TEST(ZstdCodecTest, AcceptsNegativeFastLevels) {
  std::string output;
  ASSERT_OK(ZstdDecompress(Compress("fast", -5), kNoCap, &output));
  EXPECT_EQ(output, "fast");
}

TEST(ZstdCodecTest, RejectsLevelOutsideZstdRange) {
  std::string out = "unchanged";
  EXPECT_THAT(
      ZstdCompress("x", ZSTD_maxCLevel() + 1, &out),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("zstd level")));
  EXPECT_THAT(
      ZstdCompress("x", ZSTD_minCLevel() - 1, &out),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("zstd level")));
  EXPECT_EQ(out, "unchanged");
}

TEST(ZstdCodecTest, DecodesFrameWithoutContentSize) {
  const std::string input = Text(300000);
  std::string output;
  ASSERT_OK(
      ZstdDecompress(ZstdFrameWithoutContentSize(input), kNoCap, &output));
  EXPECT_EQ(output, input);
}

TEST(ZstdCodecTest, DecodesConcatenatedFrames) {
  std::string output;
  ASSERT_OK(
      ZstdDecompress(Compress("first,") + ZstdFrameWithoutContentSize("second"),
                     kNoCap, &output));
  EXPECT_EQ(output, "first,second");
}

TEST(ZstdCodecTest, SkipsSkippableFrames) {
  // Magic 0x184D2A50, little-endian payload size 3, payload.
  const std::string skippable(
      "\x50\x2a\x4d\x18\x03\x00\x00\x00"
      "abc",
      11);
  std::string output;
  ASSERT_OK(ZstdDecompress(skippable + Compress("data"), kNoCap, &output));
  EXPECT_EQ(output, "data");
}

TEST(ZstdCodecTest, OutputExactlyAtTheCapIsAccepted) {
  const std::string input = Text(100000);
  std::string output;
  EXPECT_OK(ZstdDecompress(Compress(input), input.size(), &output));
}

TEST(ZstdCodecTest, OutputOneByteOverTheCapIsDataLoss) {
  const std::string input = Text(100000);
  std::string output = "unchanged";
  EXPECT_THAT(ZstdDecompress(Compress(input), input.size() - 1, &output),
              StatusIs(absl::StatusCode::kDataLoss,
                       "decompressed size exceeds 99999 bytes"));
  EXPECT_EQ(output, "unchanged");
}

TEST(ZstdCodecTest, CapHoldsAgainstAFrameThatHidesItsSize) {
  const std::string bomb =
      ZstdFrameWithoutContentSize(std::string(10 << 20, 0));
  std::string output;
  EXPECT_THAT(ZstdDecompress(bomb, 1 << 20, &output),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("exceeds")));
}

TEST(ZstdCodecTest, RejectsTruncationAtEveryByte) {
  const std::string frame = Compress(Text(5000));
  for (size_t size = 0; size < frame.size(); ++size) {
    std::string output;
    EXPECT_THAT(ZstdDecompress(absl::string_view(frame).substr(0, size), kNoCap,
                               &output),
                StatusIs(absl::StatusCode::kDataLoss, ::testing::_))
        << "cut at " << size;
  }
}

TEST(ZstdCodecTest, RejectsCorruptInputNamingZstdError) {
  std::string frame = Compress("some data");
  frame[0] ^= 0x01;
  std::string output;
  EXPECT_THAT(
      ZstdDecompress(frame, kNoCap, &output),
      StatusIs(absl::StatusCode::kDataLoss,
               HasSubstr("corrupt zstd data: Unknown frame descriptor")));
}

TEST(ZstdCodecTest, RejectsGarbageAfterTheLastFrame) {
  std::string output;
  EXPECT_THAT(ZstdDecompress(Compress("data") + "garbage!", kNoCap, &output),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("corrupt")));
}

}  // namespace
}  // namespace shiplog
