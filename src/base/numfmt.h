/* Number formatting shared by components that must print numbers the way the Go collector does. */
#ifndef GB_NUMFMT_H
#define GB_NUMFMT_H

#include <stddef.h>

/* Longest gb_fmt_double text (sign, "0.", 323 zeros, 17 digits) plus the NUL, rounded up. */
#define GB_FMT_DOUBLE_MAX 352

/* d like Go's strconv.FormatFloat(d, 'f', -1, 64): the shortest digits that read back as d, never
 * an exponent ("0.1", "100", "1e+23" -> "100000000000000000000000"); NaN, +Inf, -Inf. Writes a
 * NUL-terminated text into buf (cap bytes; GB_FMT_DOUBLE_MAX never truncates) and returns its
 * length. */
size_t gb_fmt_double(double d, char *buf, size_t cap);

#endif
