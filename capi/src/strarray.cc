#include "capi/src/strarray.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace shiplog::capi {
namespace {

char* CopyString(const std::string& text) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

}  // namespace

void FillStrArray(const std::vector<std::string>& strings,
                  shiplog_strarray* out) {
  out->strings =
      static_cast<char**>(std::calloc(strings.size() + 1, sizeof(char*)));
  if (out->strings == nullptr) throw std::bad_alloc();
  for (const std::string& text : strings) {
    out->strings[out->count] = CopyString(text);
    ++out->count;
  }
}

}  // namespace shiplog::capi
