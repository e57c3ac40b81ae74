/* Structured, rate-limited runtime logging to stderr:
 *   2026-11-25T19:30:00.123Z  warn  exporter/otlphttp/primary  export failed  error="..."
 * Thread-safe. The component ID is the first argument ("" for the collector itself). A message
 * logged more than a few times a second from the same call site is suppressed and the number of
 * suppressed lines is reported with the next one that passes. */
#ifndef GB_LOG_H
#define GB_LOG_H

typedef enum gb_log_level {
    GB_LOG_DEBUG = 0,
    GB_LOG_INFO,
    GB_LOG_WARN,
    GB_LOG_ERROR,
} gb_log_level;

void gb_log_set_level(gb_log_level lvl);
gb_log_level gb_log_get_level(void);
/* Parses "debug", "info", "warn", "error"; returns 0 on success. */
int gb_log_parse_level(const char *s, gb_log_level *out);
void gb_log(gb_log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));


#endif
