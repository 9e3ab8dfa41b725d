/* shiplog.h compiles on its own as C99 with -pedantic -Werror: nothing in
 * it needs another header first, and it uses nothing beyond C99. */
#include "shiplog.h"

int main(void) {
  shiplog_store_options store_options = SHIPLOG_STORE_OPTIONS_INIT;
  shiplog_log_options log_options = SHIPLOG_LOG_OPTIONS_INIT;
  shiplog_append_options append_options = SHIPLOG_APPEND_OPTIONS_INIT;
  shiplog_send_options send_options = SHIPLOG_SEND_OPTIONS_INIT;
  shiplog_metrics_values values = SHIPLOG_METRICS_VALUES_INIT;
  return (int)(store_options.version + log_options.version +
               append_options.version + send_options.version +
               values.version) == 0;
}
