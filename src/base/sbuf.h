/* Growable heap string/byte builder for control-path output (diagnostics, Prometheus text, JSON
 * encoding, HTTP bodies). Amortized doubling; bounded by an optional limit. Not thread-safe. */
#ifndef GB_SBUF_H
#define GB_SBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "str.h"

typedef struct gb_sbuf {
    char *data;   /* always NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    size_t limit; /* 0 = unbounded */
    gb_status err; /* sticky: first failure; later appends are no-ops */
} gb_sbuf;

void gb_sbuf_init(gb_sbuf *b, size_t limit);
void gb_sbuf_free(gb_sbuf *b);
void gb_sbuf_reset(gb_sbuf *b);
gb_status gb_sbuf_reserve(gb_sbuf *b, size_t extra);
gb_status gb_sbuf_append(gb_sbuf *b, const void *p, size_t n);
gb_status gb_sbuf_puts(gb_sbuf *b, const char *s);
gb_status gb_sbuf_putc(gb_sbuf *b, char c);
gb_status gb_sbuf_put_str(gb_sbuf *b, gb_str s);
gb_status gb_sbuf_printf(gb_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
gb_status gb_sbuf_vprintf(gb_sbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Appends s as the inside of a JSON string (escapes quotes, backslash, control chars; invalid
 * UTF-8 bytes become U+FFFD). */
gb_status gb_sbuf_json_escape(gb_sbuf *b, const char *s, size_t n);
/* Hands the storage to the caller (free() it); the builder is reset. */
char *gb_sbuf_take(gb_sbuf *b, size_t *len);

#endif
