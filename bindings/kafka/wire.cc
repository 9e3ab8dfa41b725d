#include "bindings/kafka/wire.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace shiplog::kafka {
namespace {

template <typename T>
T LoadBigEndian(absl::string_view bytes) {
  using Unsigned = std::make_unsigned_t<T>;
  Unsigned value = 0;
  for (const char byte : bytes) {
    value = static_cast<Unsigned>(value << 8) | static_cast<uint8_t>(byte);
  }
  return static_cast<T>(value);
}

template <typename T>
void StoreBigEndian(T value, std::string* out) {
  using Unsigned = std::make_unsigned_t<T>;
  const auto bits = static_cast<Unsigned>(value);
  for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((bits >> shift) & 0xff));
  }
}

}  // namespace

absl::string_view WireReader::Take(size_t size, absl::string_view what) {
  if (!ok()) return {};
  if (size > remaining()) {
    Fail(absl::StrCat(what, " at byte ", position_, " needs ", size,
                      " bytes; the request has ", remaining(), " left"));
    return {};
  }
  absl::string_view bytes = input_.substr(position_, size);
  position_ += size;
  return bytes;
}

void WireReader::Fail(absl::string_view message) {
  if (ok()) error_ = std::string(message);
}

void WireReader::ExpectEnd() {
  if (ok() && remaining() != 0) {
    Fail(absl::StrCat(remaining(), " unexpected bytes after the request"));
  }
}

int8_t WireReader::Int8() { return LoadBigEndian<int8_t>(Take(1, "int8")); }
int16_t WireReader::Int16() {
  return LoadBigEndian<int16_t>(Take(2, "int16"));
}
int32_t WireReader::Int32() {
  return LoadBigEndian<int32_t>(Take(4, "int32"));
}
int64_t WireReader::Int64() {
  return LoadBigEndian<int64_t>(Take(8, "int64"));
}

uint32_t WireReader::UnsignedVarint() {
  uint32_t value = 0;
  for (int shift = 0; shift <= 28; shift += 7) {
    const absl::string_view byte = Take(1, "varint");
    if (!ok()) return 0;
    const auto bits = static_cast<uint8_t>(byte[0]);
    if (shift == 28 && (bits & 0xf0) != 0) break;  // more than 32 bits
    value |= static_cast<uint32_t>(bits & 0x7f) << shift;
    if ((bits & 0x80) == 0) return value;
  }
  Fail(absl::StrCat("unsigned varint longer than 32 bits at byte ", position_));
  return 0;
}

int64_t WireReader::Length(bool compact, bool wide) {
  if (compact) return static_cast<int64_t>(UnsignedVarint()) - 1;
  return wide ? Int32() : Int16();
}

std::optional<std::string> WireReader::NullableString(bool compact) {
  const int64_t length = Length(compact, /*wide=*/false);
  if (!ok()) return std::string();
  if (length < -1) {
    Fail(absl::StrCat("negative string length ", length));
    return std::string();
  }
  if (length == -1) return std::nullopt;
  return std::string(Take(static_cast<size_t>(length), "string"));
}

std::string WireReader::String(bool compact) {
  std::optional<std::string> value = NullableString(compact);
  if (!value.has_value()) {
    Fail("a null where the protocol requires a string");
    return std::string();
  }
  return *std::move(value);
}

std::optional<absl::string_view> WireReader::NullableBytes(bool compact) {
  const int64_t length = Length(compact, /*wide=*/true);
  if (!ok()) return absl::string_view();
  if (length < -1) {
    Fail(absl::StrCat("negative bytes length ", length));
    return absl::string_view();
  }
  if (length == -1) return std::nullopt;
  return Take(static_cast<size_t>(length), "bytes");
}

int32_t WireReader::ArrayLength(bool compact, size_t min_element_bytes) {
  const int64_t count = Length(compact, /*wide=*/true);
  if (!ok()) return 0;
  if (count < -1) {
    Fail(absl::StrCat("negative array length ", count));
    return 0;
  }
  if (count > 0 &&
      static_cast<uint64_t>(count) * min_element_bytes > remaining()) {
    Fail(absl::StrCat("an array of ", count, " elements cannot fit in the ",
                      remaining(), " bytes left"));
    return 0;
  }
  return static_cast<int32_t>(count);
}

void WireReader::SkipTaggedFields() {
  const uint32_t count = UnsignedVarint();
  for (uint32_t i = 0; i < count && ok(); ++i) {
    UnsignedVarint();  // the tag
    const uint32_t size = UnsignedVarint();
    Take(size, "tagged field");
  }
}

void WireWriter::Int8(int8_t value) { StoreBigEndian(value, out_); }
void WireWriter::Int16(int16_t value) { StoreBigEndian(value, out_); }
void WireWriter::Int32(int32_t value) { StoreBigEndian(value, out_); }
void WireWriter::Int64(int64_t value) { StoreBigEndian(value, out_); }

void WireWriter::UnsignedVarint(uint32_t value) {
  while (value >= 0x80) {
    out_->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_->push_back(static_cast<char>(value));
}

void WireWriter::String(absl::string_view value, bool compact) {
  if (compact) {
    UnsignedVarint(static_cast<uint32_t>(value.size()) + 1);
  } else {
    Int16(static_cast<int16_t>(value.size()));
  }
  out_->append(value.data(), value.size());
}

void WireWriter::NullableString(const std::optional<std::string>& value,
                                bool compact) {
  if (value.has_value()) return String(*value, compact);
  if (compact) {
    UnsignedVarint(0);
  } else {
    Int16(-1);
  }
}

void WireWriter::BytesLength(int32_t size, bool compact) {
  if (compact) {
    UnsignedVarint(static_cast<uint32_t>(size + 1));
  } else {
    Int32(size);
  }
}

void WireWriter::Bytes(absl::string_view value, bool compact) {
  BytesLength(static_cast<int32_t>(value.size()), compact);
  out_->append(value.data(), value.size());
}

void WireWriter::ArrayLength(int32_t count, bool compact) {
  if (compact) {
    UnsignedVarint(static_cast<uint32_t>(count + 1));
  } else {
    Int32(count);
  }
}

void WireWriter::PatchInt32(size_t position, int32_t value) {
  std::string bytes;
  StoreBigEndian(value, &bytes);
  out_->replace(position, bytes.size(), bytes);
}

}  // namespace shiplog::kafka
