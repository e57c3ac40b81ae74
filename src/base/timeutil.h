#ifndef GB_TIMEUTIL_H
#define GB_TIMEUTIL_H

#include <stdint.h>

#define GB_NS_PER_MS 1000000LL
#define GB_NS_PER_S  1000000000LL

/* Wall clock, ns since the Unix epoch. */
int64_t gb_now_ns(void);
/* Monotonic clock, ns. */
int64_t gb_mono_ns(void);
/* RFC 3339 UTC with milliseconds ("2026-11-25T19:30:00.123Z") into buf (>= 32 bytes). */
void gb_fmt_rfc3339(int64_t unix_ns, char *buf, unsigned size);
/* Go-style duration string for ns ("1h2m3.5s", "250ms") into buf (>= 32 bytes). */
void gb_fmt_duration(int64_t ns, char *buf, unsigned size);

#endif
