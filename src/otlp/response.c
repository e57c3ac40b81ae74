/* OTLP protobuf responses: Export*ServiceResponse {partial_success = 1 {rejected_<items> = 1,
 * error_message = 2}} and google.rpc.Status {code = 1, message = 2, details = 3}. Small control-
 * path messages, written forward with known sizes (no backward writer needed). */
#include <stdio.h>

#include "otlp.h"
#include "wire.h"

static void put_varint(uint8_t *d, size_t *n, uint64_t v)
{
    while (v >= 0x80) {
        d[(*n)++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    d[(*n)++] = (uint8_t)v;
}

/* Appends tag + length prefix of a length-delimited field. */
static gb_status put_len_hdr(gb_sbuf *out, uint32_t num, size_t len)
{
    uint8_t hdr[16];
    size_t n = 0;
    put_varint(hdr, &n, PW_TAG(num, PW_LEN));
    put_varint(hdr, &n, len);
    return gb_sbuf_append(out, hdr, n);
}

static gb_status put_varint_field(gb_sbuf *out, uint32_t num, uint64_t v)
{
    uint8_t d[16];
    size_t n = 0;
    put_varint(d, &n, PW_TAG(num, PW_VARINT));
    put_varint(d, &n, v);
    return gb_sbuf_append(out, d, n);
}

static size_t varint_field_size(uint64_t v)
{
    return 1 + pw_varint_size(v);
}

static size_t str_field_size(size_t len)
{
    return 1 + pw_varint_size(len) + len;
}

gb_status otlp_encode_response_proto(pd_signal s, int64_t rejected, const char *msg, gb_sbuf *out)
{
    gb_status st = GB_OK;
    (void)s; /* the three responses share one layout */
    if (rejected == 0 && msg == NULL) return gb_sbuf_reserve(out, 0);
    size_t mlen = msg ? strlen(msg) : 0;
    size_t inner =
        (rejected ? varint_field_size((uint64_t)rejected) : 0) + (mlen ? str_field_size(mlen) : 0);
    st = put_len_hdr(out, 1, inner);
    if (st == GB_OK && rejected) st = put_varint_field(out, 1, (uint64_t)rejected);
    if (st == GB_OK && mlen) {
        st = put_len_hdr(out, 2, mlen);
        if (st == GB_OK) st = gb_sbuf_append(out, msg, mlen);
    }
    return st;
}

static void copy_msg(char *msg, size_t msg_size, const uint8_t *p, size_t n)
{
    if (!msg || !msg_size) return;
    if (n > msg_size - 1) n = msg_size - 1;
    if (n) memcpy(msg, p, n);
    msg[n] = '\0';
}

gb_status otlp_decode_response_proto(pd_signal s, const uint8_t *data, size_t len,
                                     int64_t *rejected, char *msg, size_t msg_size)
{
    (void)s;
    *rejected = 0;
    if (msg && msg_size) msg[0] = '\0';
    if (!data) data = (const uint8_t *)"";
    const uint8_t *q = data, *end = data + len;
    pw_field f;
    while (q < end) {
        if (pw_next(&q, end, &f) != PW_OK) return GB_ERR_INVALID;
        if (f.num != 1) continue;
        if (f.wt != PW_LEN) return GB_ERR_INVALID;
        const uint8_t *r = f.p, *rend = f.p + f.len;
        pw_field g;
        while (r < rend) {
            if (pw_next(&r, rend, &g) != PW_OK) return GB_ERR_INVALID;
            if (g.num == 1) {
                if (g.wt != PW_VARINT) return GB_ERR_INVALID;
                *rejected = (int64_t)g.v;
            } else if (g.num == 2) {
                if (g.wt != PW_LEN) return GB_ERR_INVALID;
                copy_msg(msg, msg_size, g.p, g.len);
            }
        }
    }
    return GB_OK;
}

gb_status otlp_encode_status_proto(int32_t code, const char *msg, gb_sbuf *out)
{
    gb_status st = gb_sbuf_reserve(out, 0);
    if (st == GB_OK && code) st = put_varint_field(out, 1, (uint64_t)(int64_t)code);
    size_t mlen = msg ? strlen(msg) : 0;
    if (st == GB_OK && mlen) {
        st = put_len_hdr(out, 2, mlen);
        if (st == GB_OK) st = gb_sbuf_append(out, msg, mlen);
    }
    return st;
}
