/* Test helper: a tiny forward protobuf writer to build wire messages by hand in unit tests
 * (independent of the codec under test). Fixed capacity; aborts the test when exceeded. */
#ifndef TEST_PBTEST_H
#define TEST_PBTEST_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct pb {
    uint8_t d[16384];
    size_t n;
} pb;

static inline pb *pb_new(void)
{
    pb *b = calloc(1, sizeof *b);
    if (!b) abort();
    return b;
}

static inline void pb_raw(pb *b, const void *p, size_t n)
{
    if (b->n + n > sizeof b->d) abort();
    memcpy(b->d + b->n, p, n);
    b->n += n;
}

static inline void pb_varint(pb *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    pb_raw(b, t, n);
}

static inline void pb_tag(pb *b, uint32_t num, uint32_t wt)
{
    pb_varint(b, ((uint64_t)num << 3) | wt);
}

static inline void pb_uv(pb *b, uint32_t num, uint64_t v)
{
    pb_tag(b, num, 0);
    pb_varint(b, v);
}

static inline void pb_f64(pb *b, uint32_t num, uint64_t v)
{
    uint8_t t[8];
    for (int i = 0; i < 8; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    pb_tag(b, num, 1);
    pb_raw(b, t, 8);
}

static inline void pb_dbl(pb *b, uint32_t num, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    pb_f64(b, num, u);
}

static inline void pb_f32(pb *b, uint32_t num, uint32_t v)
{
    uint8_t t[4];
    for (int i = 0; i < 4; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    pb_tag(b, num, 5);
    pb_raw(b, t, 4);
}

static inline void pb_bytes(pb *b, uint32_t num, const void *p, size_t n)
{
    pb_tag(b, num, 2);
    pb_varint(b, n);
    pb_raw(b, p, n);
}

static inline void pb_str(pb *b, uint32_t num, const char *s)
{
    pb_bytes(b, num, s, strlen(s));
}

/* Appends sub as a length-delimited field and frees it. */
static inline void pb_msg(pb *b, uint32_t num, pb *sub)
{
    pb_bytes(b, num, sub->d, sub->n);
    free(sub);
}

/* KeyValue {key, value {string_value}} */
static inline void pb_kv_str(pb *b, uint32_t num, const char *k, const char *v)
{
    pb *kv = pb_new(), *any = pb_new();
    pb_str(any, 1, v);
    pb_str(kv, 1, k);
    pb_msg(kv, 2, any);
    pb_msg(b, num, kv);
}

#endif
