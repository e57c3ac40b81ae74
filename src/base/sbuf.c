#include "sbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gb_sbuf_init(gb_sbuf *b, size_t limit)
{
    memset(b, 0, sizeof *b);
    b->limit = limit;
}

void gb_sbuf_free(gb_sbuf *b)
{
    free(b->data);
    size_t limit = b->limit;
    gb_sbuf_init(b, limit);
}

void gb_sbuf_reset(gb_sbuf *b)
{
    b->len = 0;
    b->err = GB_OK;
    if (b->data) b->data[0] = '\0';
}

gb_status gb_sbuf_reserve(gb_sbuf *b, size_t extra)
{
    if (b->err) return b->err;
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return GB_OK;
    if (b->limit && need > b->limit + 1) return b->err = GB_ERR_LIMIT;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need) ncap *= 2;
    char *p = realloc(b->data, ncap);
    if (!p) return b->err = GB_ERR_NOMEM;
    b->data = p;
    b->cap = ncap;
    return GB_OK;
}

gb_status gb_sbuf_append(gb_sbuf *b, const void *p, size_t n)
{
    gb_status st = gb_sbuf_reserve(b, n);
    if (st) return st;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return GB_OK;
}

gb_status gb_sbuf_puts(gb_sbuf *b, const char *s)
{
    return gb_sbuf_append(b, s, strlen(s));
}

gb_status gb_sbuf_putc(gb_sbuf *b, char c)
{
    return gb_sbuf_append(b, &c, 1);
}

gb_status gb_sbuf_put_str(gb_sbuf *b, gb_str s)
{
    return gb_sbuf_append(b, s.ptr, s.len);
}

gb_status gb_sbuf_vprintf(gb_sbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return b->err = GB_ERR_INVALID;
    gb_status st = gb_sbuf_reserve(b, (size_t)n);
    if (st) return st;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return GB_OK;
}

gb_status gb_sbuf_printf(gb_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gb_status st = gb_sbuf_vprintf(b, fmt, ap);
    va_end(ap);
    return st;
}

/* Length of a valid UTF-8 sequence starting at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) len = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) len = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) len = 4, cp = c & 0x07;
    else return 0;
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

gb_status gb_sbuf_json_escape(gb_sbuf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    while (i < n) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        size_t ul = c >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (ul) {
            i += ul;
            continue;
        }
        gb_sbuf_append(b, p + run, i - run);
        char esc[8];
        size_t el = 2;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            if (c < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                el = 6;
            } else {
                memcpy(esc, "\\ufffd", 6);
                el = 6;
            }
        }
        gb_sbuf_append(b, esc, el);
        i++;
        run = i;
    }
    return gb_sbuf_append(b, p + run, n - run);
}

char *gb_sbuf_take(gb_sbuf *b, size_t *len)
{
    char *d = b->data;
    if (len) *len = b->len;
    size_t limit = b->limit;
    gb_sbuf_init(b, limit);
    return d;
}
