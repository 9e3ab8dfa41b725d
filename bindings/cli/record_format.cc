#include "bindings/cli/record_format.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace shiplog::cli {
namespace {

// A (pointer, length) byte string of the ABI; a null one (NULL) adds
// nothing, like an empty one.
void AppendBytes(const void* bytes, size_t length, std::string* out) {
  if (bytes != nullptr) out->append(static_cast<const char*>(bytes), length);
}

}  // namespace

void RecordFormat::AddLiteral(char c) {
  if (pieces_.empty() || pieces_.back().field != Field::kLiteral) {
    pieces_.push_back({Field::kLiteral, ""});
  }
  pieces_.back().literal.push_back(c);
}

absl::StatusOr<RecordFormat> RecordFormat::Parse(absl::string_view format) {
  RecordFormat parsed;
  for (size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c != '%' && c != '\\') {
      parsed.AddLiteral(c);
      continue;
    }
    if (i + 1 == format.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--format: ends with a lone '", absl::string_view(&c, 1), "'"));
    }
    const char next = format[++i];
    const Token* token = std::find_if(
        std::begin(kTokens), std::end(kTokens), [&](const Token& candidate) {
          return candidate.text[0] == c && candidate.text[1] == next;
        });
    if (token == std::end(kTokens)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--format: unknown token '", absl::string_view(&c, 1),
                       absl::string_view(&next, 1),
                       "' (known: %o %t %k %v %h %% \\t \\n \\\\)"));
    }
    if (token->field == Field::kLiteral) {
      parsed.AddLiteral(token->literal);
    } else {
      parsed.pieces_.push_back({token->field, ""});
    }
  }
  return parsed;
}

void RecordFormat::Append(const shiplog_record& record,
                          std::string* out) const {
  for (const Piece& piece : pieces_) {
    switch (piece.field) {
      case Field::kLiteral:
        out->append(piece.literal);
        break;
      case Field::kOffset:
        absl::StrAppend(out, record.offset);
        break;
      case Field::kTimestamp:
        absl::StrAppend(out, record.timestamp_ms);
        break;
      case Field::kKey:
        AppendBytes(record.key, record.key_len, out);
        break;
      case Field::kValue:
        AppendBytes(record.value, record.value_len, out);
        break;
      case Field::kHeaders:
        for (size_t i = 0; i < record.header_count; ++i) {
          const shiplog_header& header = record.headers[i];
          if (i > 0) out->push_back(',');
          AppendBytes(header.key, header.key_len, out);
          if (header.value != nullptr) {
            out->push_back('=');
            AppendBytes(header.value, header.value_len, out);
          }
        }
        break;
    }
  }
}

}  // namespace shiplog::cli
