// RecordFormat: the `--format` of `shiplog consume`, compiled once and
// applied to every record.
//
//   %o offset      %t timestamp (ms)   %k key    %v value
//   %h headers as key=value pairs joined by ',' (a null value prints the
//      key alone)
//   %% '%'         \t tab   \n newline   \\ backslash
//
// A null key or value prints as nothing. Any other character is copied.
//
// Thread-safety: immutable after Parse.
#ifndef SHIPLOG_BINDINGS_CLI_RECORD_FORMAT_H_
#define SHIPLOG_BINDINGS_CLI_RECORD_FORMAT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "shiplog.h"

namespace shiplog::cli {

class RecordFormat {
 public:
  // kInvalidArgument naming the first unknown %x or \x, or a trailing lone
  // '%' or '\'.
  static absl::StatusOr<RecordFormat> Parse(absl::string_view format);

  // Appends `record` (as shiplog_records_next fills it), formatted, to
  // `*out`.
  void Append(const shiplog_record& record, std::string* out) const;

 private:
  enum class Field { kLiteral, kOffset, kTimestamp, kKey, kValue, kHeaders };
  struct Piece {
    Field field;
    std::string literal;  // for kLiteral
  };

  // A two-character token of the format string and what it stands for.
  struct Token {
    char text[2];
    Field field;
    char literal;  // for kLiteral
  };
  static constexpr Token kTokens[] = {
      {{'%', 'o'}, Field::kOffset, 0},
      {{'%', 't'}, Field::kTimestamp, 0},
      {{'%', 'k'}, Field::kKey, 0},
      {{'%', 'v'}, Field::kValue, 0},
      {{'%', 'h'}, Field::kHeaders, 0},
      {{'%', '%'}, Field::kLiteral, '%'},
      {{'\\', 't'}, Field::kLiteral, '\t'},
      {{'\\', 'n'}, Field::kLiteral, '\n'},
      {{'\\', '\\'}, Field::kLiteral, '\\'},
  };

  RecordFormat() = default;
  void AddLiteral(char c);

  std::vector<Piece> pieces_;
};

}  // namespace shiplog::cli

#endif  // SHIPLOG_BINDINGS_CLI_RECORD_FORMAT_H_
