// shiplog.h compiles on its own as pedantic C++ too (extern "C", no C-only
// constructs in the macros).
#include "shiplog.h"

int main() {
  shiplog_store_options store_options = SHIPLOG_STORE_OPTIONS_INIT;
  shiplog_send_options send_options = SHIPLOG_SEND_OPTIONS_INIT;
  return static_cast<int>(store_options.version + send_options.version) == 0;
}
