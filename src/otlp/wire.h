/* Protobuf wire primitives shared by the OTLP codec (internal to src/otlp).
 *
 * Reading: a field cursor over [p, end) that yields (number, wire type, value) and never reads
 * past end. Writing: a backward writer that fills an output region from its end towards its
 * start, so a nested message is written before its length prefix is known and no size pre-pass
 * is needed (the approach of gogo-protobuf's MarshalToSizedBuffer and of upb). The region lives
 * inside the caller's gb_sbuf; the finished bytes are moved once to the sbuf's tail. */
#ifndef OTLP_WIRE_H
#define OTLP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../base/sbuf.h"
#include "../base/status.h"
#include "../base/str.h"

enum {
    PW_VARINT = 0,
    PW_I64 = 1,
    PW_LEN = 2,
    PW_SGROUP = 3,
    PW_EGROUP = 4,
    PW_I32 = 5,
};

#define PW_TAG(num, wt) ((uint32_t)(((num) << 3) | (wt)))

static inline uint64_t pw_load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t pw_load32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline void pw_store64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

static inline void pw_store32(uint8_t *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}

static inline double pw_u2d(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static inline uint64_t pw_d2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* ---- reading ---------------------------------------------------------------------------- */

/* Reads a varint at *pp (< end). Returns false on truncation or more than 10 bytes / overflow. */
static inline bool pw_read_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) {
        *out = *p;
        *pp = p + 1;
        return true;
    }
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 70; shift += 7) {
        if (p >= end) return false;
        uint8_t byte = *p++;
        if (shift == 63 && byte > 1) return false; /* the 10th byte may only carry bit 63 */
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (byte < 0x80) {
            *out = v;
            *pp = p;
            return true;
        }
    }
    return false;
}

/* One decoded field. For PW_LEN, p/len is the payload; otherwise v holds the value (fixed
 * values little-endian decoded). */
typedef struct pw_field {
    uint32_t num;
    uint32_t wt;
    uint64_t v;
    const uint8_t *p;
    size_t len;
} pw_field;

/* Reason strings for pw_next failures. */
typedef enum pw_err {
    PW_OK = 0,
    PW_ERR_TAG,
    PW_ERR_VARINT,
    PW_ERR_TRUNC_FIXED,
    PW_ERR_TRUNC_LEN,
    PW_ERR_WIRETYPE,
    PW_ERR_GROUP,
    PW_ERR_FIELDNUM,
} pw_err;

static inline const char *pw_err_str(pw_err e)
{
    switch (e) {
    case PW_OK:
        return "ok";
    case PW_ERR_TAG:
        return "truncated or overlong tag";
    case PW_ERR_VARINT:
        return "truncated or overlong varint";
    case PW_ERR_TRUNC_FIXED:
        return "truncated fixed-width field";
    case PW_ERR_TRUNC_LEN:
        return "length-delimited field runs past the end";
    case PW_ERR_WIRETYPE:
        return "invalid wire type";
    case PW_ERR_GROUP:
        return "unbalanced or too deeply nested group";
    case PW_ERR_FIELDNUM:
        return "invalid field number 0";
    }
    return "error";
}

pw_err pw_skip_group(const uint8_t **pp, const uint8_t *end, uint32_t num, int depth);

/* Reads the next field at *pp. Groups (deprecated wire types 3/4) are skipped whole and
 * reported with wt = PW_SGROUP. Returns PW_OK or a reason. */
static inline __attribute__((always_inline)) pw_err pw_next(const uint8_t **pp, const uint8_t *end,
                                                            pw_field *f)
{
    const uint8_t *p = *pp;
    uint64_t tag;
    if (p < end && *p < 0x80) {
        tag = *p++;
    } else if (!pw_read_varint(&p, end, &tag) || tag > UINT32_MAX) {
        return PW_ERR_TAG;
    }
    f->num = (uint32_t)(tag >> 3);
    f->wt = (uint32_t)(tag & 7);
    f->v = 0;
    f->p = p;
    f->len = 0;
    if (f->num == 0) return PW_ERR_FIELDNUM;
    switch (f->wt) {
    case PW_VARINT:
        if (!pw_read_varint(&p, end, &f->v)) return PW_ERR_VARINT;
        break;
    case PW_I64:
        if (end - p < 8) return PW_ERR_TRUNC_FIXED;
        f->v = pw_load64(p);
        p += 8;
        break;
    case PW_LEN: {
        uint64_t n;
        if (p < end && *p < 0x80)
            n = *p++;
        else if (!pw_read_varint(&p, end, &n))
            return PW_ERR_VARINT;
        if (n > (uint64_t)(end - p)) return PW_ERR_TRUNC_LEN;
        f->p = p;
        f->len = (size_t)n;
        p += n;
        break;
    }
    case PW_I32:
        if (end - p < 4) return PW_ERR_TRUNC_FIXED;
        f->v = pw_load32(p);
        p += 4;
        break;
    case PW_SGROUP: {
        pw_err e = pw_skip_group(&p, end, f->num, 0);
        if (e) return e;
        break;
    }
    default:
        return PW_ERR_WIRETYPE; /* end-group without start, or 6/7 */
    }
    *pp = p;
    return PW_OK;
}

/* ---- writing (backward) ------------------------------------------------------------------ */

typedef struct pw_writer {
    gb_sbuf *sb;
    uint8_t *start; /* first writable byte (sb->data + sb->len) */
    uint8_t *p;     /* first written byte; data is [p, end) */
    uint8_t *end;   /* sb->data + sb->cap - 1 (room for the sbuf's NUL) */
    gb_status err;
} pw_writer;

gb_status pw_writer_init(pw_writer *w, gb_sbuf *sb, size_t hint);
/* Makes room for n more bytes; false (and w->err set) when the sbuf cannot grow. */
bool pw_writer_grow(pw_writer *w, size_t n);
/* Moves the written bytes to the sbuf's tail. */
gb_status pw_writer_finish(pw_writer *w);

static inline bool pw_room(pw_writer *w, size_t n)
{
    if ((size_t)(w->p - w->start) >= n) return true;
    return pw_writer_grow(w, n);
}

static inline size_t pw_written(const pw_writer *w)
{
    return (size_t)(w->end - w->p);
}

static inline unsigned pw_varint_size(uint64_t v)
{
    /* 1 + floor(bits/7) with bits = 64 - clz(v|1) */
    unsigned bits = 64u - (unsigned)__builtin_clzll(v | 1);
    return (bits + 6) / 7;
}

/* Unchecked: caller ensured room. */
static inline void pw_put_varint_u(pw_writer *w, uint64_t v)
{
    if (v < 0x80) {
        *--w->p = (uint8_t)v;
        return;
    }
    unsigned n = pw_varint_size(v);
    w->p -= n;
    uint8_t *q = w->p;
    while (v >= 0x80) {
        *q++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *q = (uint8_t)v;
}

static inline void pw_varint(pw_writer *w, uint64_t v)
{
    if (pw_room(w, 10)) pw_put_varint_u(w, v);
}

static inline void pw_tag_varint(pw_writer *w, uint32_t num, uint64_t v)
{
    if (!pw_room(w, 15)) return;
    pw_put_varint_u(w, v);
    pw_put_varint_u(w, PW_TAG(num, PW_VARINT));
}

static inline void pw_tag_fixed64(pw_writer *w, uint32_t num, uint64_t v)
{
    if (!pw_room(w, 13)) return;
    w->p -= 8;
    pw_store64(w->p, v);
    pw_put_varint_u(w, PW_TAG(num, PW_I64));
}

static inline void pw_tag_fixed32(pw_writer *w, uint32_t num, uint32_t v)
{
    if (!pw_room(w, 9)) return;
    w->p -= 4;
    pw_store32(w->p, v);
    pw_put_varint_u(w, PW_TAG(num, PW_I32));
}

static inline void pw_tag_bytes(pw_writer *w, uint32_t num, const void *d, size_t n)
{
    if (!pw_room(w, n + 15)) return;
    w->p -= n;
    if (n) memcpy(w->p, d, n);
    pw_put_varint_u(w, n);
    pw_put_varint_u(w, PW_TAG(num, PW_LEN));
}

/* Closes a length-delimited field whose payload was written since mark (a pw_written value). */
static inline void pw_close(pw_writer *w, uint32_t num, size_t mark)
{
    if (!pw_room(w, 15)) return;
    pw_put_varint_u(w, pw_written(w) - mark);
    pw_put_varint_u(w, PW_TAG(num, PW_LEN));
}

/* Like pw_close but writes nothing when the payload is empty (proto3 omitted message). */
static inline void pw_close_opt(pw_writer *w, uint32_t num, size_t mark)
{
    if (pw_written(w) != mark) pw_close(w, num, mark);
}

#endif
