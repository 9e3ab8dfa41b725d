// The Kafka protocol's primitive types, read from a request and written into
// a response (https://kafka.apache.org/protocol#protocol_types): big-endian
// fixed-width integers, unsigned varints, strings and byte arrays with int16
// / int32 lengths or, in flexible versions, "compact" unsigned-varint
// lengths plus one, arrays likewise, and tagged fields.
//
// WireReader never reads past its input: the first malformed or truncated
// field makes it fail, every later read returns a zero value, and error()
// says what and where. Handlers read a whole request and check ok() once.
//
// Thread-safety: plain values; not thread-safe.
#ifndef SHIPLOG_BINDINGS_KAFKA_WIRE_H_
#define SHIPLOG_BINDINGS_KAFKA_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace shiplog::kafka {

class WireReader {
 public:
  explicit WireReader(absl::string_view input) : input_(input) {}

  int8_t Int8();
  int16_t Int16();
  int32_t Int32();
  int64_t Int64();
  uint32_t UnsignedVarint();

  // STRING / COMPACT_STRING. A null is an error here.
  std::string String(bool compact);
  // NULLABLE_STRING / COMPACT_NULLABLE_STRING.
  std::optional<std::string> NullableString(bool compact);
  // NULLABLE_BYTES / COMPACT_NULLABLE_BYTES (also BYTES): a view into the
  // input, valid while it is. A null is nullopt.
  std::optional<absl::string_view> NullableBytes(bool compact);
  // An ARRAY's or COMPACT_ARRAY's element count; -1 for a null array. A
  // count that cannot fit in what is left (every element takes at least
  // `min_element_bytes`) fails, so a hostile count allocates nothing.
  int32_t ArrayLength(bool compact, size_t min_element_bytes = 1);
  // Skips a TAGGED_FIELDS section (every tag is optional to us).
  void SkipTaggedFields();
  // Skips one in flexible versions; nothing otherwise.
  void TaggedFields(bool flexible) {
    if (flexible) SkipTaggedFields();
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t remaining() const { return input_.size() - position_; }
  // Fails unless every byte was read: trailing bytes mean a version mix-up.
  void ExpectEnd();
  // Fails with `message` (the first failure is the one reported).
  void Fail(absl::string_view message);

 private:
  // The next `size` bytes, or an empty view after failing.
  absl::string_view Take(size_t size, absl::string_view what);
  // A length: int16/int32 (-1 null) or compact unsigned varint (0 null).
  int64_t Length(bool compact, bool wide);

  absl::string_view input_;
  size_t position_ = 0;
  std::string error_;
};

class WireWriter {
 public:
  explicit WireWriter(std::string* out) : out_(out) {}

  void Int8(int8_t value);
  void Int16(int16_t value);
  void Int32(int32_t value);
  void Int64(int64_t value);
  void UnsignedVarint(uint32_t value);
  void String(absl::string_view value, bool compact);
  void NullableString(const std::optional<std::string>& value, bool compact);
  // The length prefix of a NULLABLE_BYTES field whose `size` bytes follow
  // (written by the caller, or sent from a file).
  void BytesLength(int32_t size, bool compact);
  void Bytes(absl::string_view value, bool compact);
  void ArrayLength(int32_t count, bool compact);
  // An empty TAGGED_FIELDS section, in flexible versions only.
  void TaggedFields(bool flexible) {
    if (flexible) UnsignedVarint(0);
  }
  void Raw(absl::string_view bytes) { out_->append(bytes.data(), bytes.size()); }

  size_t size() const { return out_->size(); }
  // Overwrites the int32 at `position`, written earlier as a placeholder.
  void PatchInt32(size_t position, int32_t value);

 private:
  std::string* out_;
};

}  // namespace shiplog::kafka

#endif  // SHIPLOG_BINDINGS_KAFKA_WIRE_H_
