// JsonWriter: one JSON document (RFC 8259) built in a string, for
// `shiplog bench --json`. The writer places commas and escapes strings;
// the caller nests Begin/End calls and puts a Key before each value in an
// object.
//
// Thread-safety: a plain value; not thread-safe.
#ifndef SHIPLOG_BINDINGS_CLI_JSON_WRITER_H_
#define SHIPLOG_BINDINGS_CLI_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace shiplog::cli {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(absl::string_view name);
  JsonWriter& String(absl::string_view value);
  // NaN and infinities, which JSON cannot hold, are written as null.
  JsonWriter& Number(double value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Null();

  // The document so far; complete once every Begin has had its End.
  const std::string& text() const { return text_; }

 private:
  void BeforeValue();
  JsonWriter& Open(char bracket);
  JsonWriter& Close(char bracket);

  std::string text_;
  // Per open object or array: whether it holds an item yet.
  std::vector<bool> has_items_;
  bool after_key_ = false;
};

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_JSON_WRITER_H_
