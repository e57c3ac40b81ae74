/* Bounded streaming decompression into a growing gb_buf. zlib (gzip with concatenated members,
 * zlib and raw deflate) and libzstd streaming APIs inflate chunk by chunk; the buffer doubles up
 * to max_out + 1 bytes at most, and crossing max_out stops at once. Snappy's block format stores
 * the uncompressed length up front, which is checked before allocating.
 *
 * Rejected: one-shot decompression with a size guess (a bomb makes the guess meaningless), and
 * reading the gzip ISIZE trailer (it is modulo 2^32 and attacker-controlled). */
#include "decompress.h"

#include <snappy-c.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>

net_encoding net_encoding_parse(gb_str t)
{
    static const struct {
        const char *name;
        net_encoding e;
    } map[] = {{"identity", NET_ENC_IDENTITY}, {"gzip", NET_ENC_GZIP}, {"x-gzip", NET_ENC_GZIP},
               {"deflate", NET_ENC_DEFLATE},   {"zstd", NET_ENC_ZSTD}, {"snappy", NET_ENC_SNAPPY}};
    while (t.len && (t.ptr[0] == ' ' || t.ptr[0] == '\t'))
        t.ptr++, t.len--;
    while (t.len && (t.ptr[t.len - 1] == ' ' || t.ptr[t.len - 1] == '\t'))
        t.len--;
    if (t.len == 0) return NET_ENC_IDENTITY;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i].name) == t.len && strncasecmp(map[i].name, t.ptr, t.len) == 0)
            return map[i].e;
    return NET_ENC_UNKNOWN;
}

const char *net_encoding_name(net_encoding e)
{
    switch (e) {
    case NET_ENC_IDENTITY:
        return "identity";
    case NET_ENC_GZIP:
        return "gzip";
    case NET_ENC_DEFLATE:
        return "deflate";
    case NET_ENC_ZSTD:
        return "zstd";
    case NET_ENC_SNAPPY:
        return "snappy";
    default:
        return "unknown";
    }
}

/* Makes room for at least one more byte, never beyond limit+1 (the +1 detects overflow). */
static gb_status grow(gb_buf **b, size_t max_out)
{
    size_t want = (*b)->cap ? (*b)->cap * 2 : 4096;
    if (max_out && want > max_out + 1) want = max_out + 1;
    if (want <= (*b)->cap) return GB_ERR_LIMIT;
    return gb_buf_reserve(b, want);
}

/* Free space to inflate into: never past max_out + 1, even when gb_buf_reserve rounded the
 * capacity up to a power of two beyond it (so at most max_out + 1 bytes are ever touched). */
static size_t room(const gb_buf *b, size_t max_out)
{
    size_t r = b->cap - b->len;
    if (max_out && max_out + 1 - b->len < r) r = max_out + 1 - b->len;
    return r;
}

static size_t initial_cap(size_t len, size_t max_out)
{
    size_t c = len < ((size_t)1 << 28) ? len * 4 : len; /* typical OTLP ratios are 4-10x */
    if (c < 4096) c = 4096;
    if (max_out && c > max_out + 1) c = max_out + 1;
    return c;
}

static gb_status inflate_zlib(int window_bits, const uint8_t *in, size_t len, size_t max_out,
                              gb_buf **outp, char *err, size_t err_size)
{
    gb_status st = GB_OK;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, window_bits) != Z_OK) return GB_ERR_NOMEM;
    gb_buf *b = *outp;
    size_t off = 0;
    for (;;) {
        if (b->len == b->cap) {
            st = grow(&b, max_out);
            if (st != GB_OK) goto out;
        }
        size_t in_chunk = len - off > (1u << 30) ? (1u << 30) : len - off;
        size_t out_chunk = room(b, max_out) > (1u << 30) ? (1u << 30) : room(b, max_out);
        zs.next_in = (Bytef *)(uintptr_t)(in + off);
        zs.avail_in = (uInt)in_chunk;
        zs.next_out = b->data + b->len;
        zs.avail_out = (uInt)out_chunk;
        int rc = inflate(&zs, Z_NO_FLUSH);
        off += in_chunk - zs.avail_in;
        b->len += out_chunk - zs.avail_out;
        if (max_out && b->len > max_out) {
            st = GB_ERR_LIMIT;
            goto out;
        }
        if (rc == Z_STREAM_END) {
            /* gzip allows concatenated members */
            if (window_bits > 15 + 16 - 1 && off < len) {
                if (inflateReset(&zs) != Z_OK) {
                    st = GB_ERR_INVALID;
                    goto out;
                }
                continue;
            }
            if (off < len) {
                snprintf(err, err_size, "trailing data after compressed stream");
                st = GB_ERR_INVALID;
            }
            goto out;
        }
        if (rc == Z_BUF_ERROR && off == len && zs.avail_out > 0) {
            snprintf(err, err_size, "truncated compressed stream");
            st = GB_ERR_INVALID;
            goto out;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            snprintf(err, err_size, "corrupt compressed stream: %s", zs.msg ? zs.msg : "error");
            st = GB_ERR_INVALID;
            goto out;
        }
    }
out:
    *outp = b;
    inflateEnd(&zs);
    return st;
}

static gb_status inflate_zstd(const uint8_t *in, size_t len, size_t max_out, gb_buf **outp,
                              char *err, size_t err_size)
{
    gb_status st = GB_OK;
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (!ds) return GB_ERR_NOMEM;
    /* Refuse frames that need a window larger than 8 MiB (memory bound of the decoder). */
    ZSTD_DCtx_setParameter(ds, ZSTD_d_windowLogMax, 23);
    ZSTD_inBuffer ib = {in, len, 0};
    gb_buf *b = *outp;
    size_t last = 1;
    while (ib.pos < ib.size || last != 0) {
        if (b->len == b->cap) {
            st = grow(&b, max_out);
            if (st != GB_OK) goto out;
        }
        ZSTD_outBuffer ob = {b->data + b->len, room(b, max_out), 0};
        size_t before_in = ib.pos;
        last = ZSTD_decompressStream(ds, &ob, &ib);
        if (ZSTD_isError(last)) {
            snprintf(err, err_size, "corrupt zstd stream: %s", ZSTD_getErrorName(last));
            st = GB_ERR_INVALID;
            goto out;
        }
        b->len += ob.pos;
        if (max_out && b->len > max_out) {
            st = GB_ERR_LIMIT;
            goto out;
        }
        if (ib.pos == ib.size && last != 0 && ob.pos < ob.size && ib.pos == before_in) {
            snprintf(err, err_size, "truncated zstd stream");
            st = GB_ERR_INVALID;
            goto out;
        }
        if (ib.pos == ib.size && last == 0) break;
    }
out:
    *outp = b;
    ZSTD_freeDStream(ds);
    return st;
}

gb_status net_decompress(net_encoding enc, const uint8_t *in, size_t len, size_t max_out,
                         gb_buf **out, char *err, size_t err_size)
{
    gb_status st = GB_OK;
    gb_buf *b = NULL;
    if (err_size) err[0] = '\0';
    switch (enc) {
    case NET_ENC_IDENTITY:
        if (max_out && len > max_out) return GB_ERR_LIMIT;
        st = gb_buf_new(len, &b);
        if (st == GB_OK) st = gb_buf_append(&b, in, len);
        break;
    case NET_ENC_GZIP:
    case NET_ENC_DEFLATE:
        st = gb_buf_new(initial_cap(len, max_out), &b);
        if (st != GB_OK) break;
        if (enc == NET_ENC_GZIP) {
            st = inflate_zlib(15 + 16, in, len, max_out, &b, err, err_size);
        } else {
            /* zlib header check: CMF/FLG multiple of 31 and method 8 */
            bool zlib_hdr = len >= 2 && (in[0] & 0x0f) == 8 && ((in[0] << 8) | in[1]) % 31 == 0;
            st = inflate_zlib(zlib_hdr ? 15 : -15, in, len, max_out, &b, err, err_size);
        }
        break;
    case NET_ENC_ZSTD:
        st = gb_buf_new(initial_cap(len, max_out), &b);
        if (st == GB_OK) st = inflate_zstd(in, len, max_out, &b, err, err_size);
        break;
    case NET_ENC_SNAPPY: {
        size_t ulen = 0;
        if (snappy_uncompressed_length((const char *)in, len, &ulen) != SNAPPY_OK) {
            snprintf(err, err_size, "corrupt snappy block");
            return GB_ERR_INVALID;
        }
        if (max_out && ulen > max_out) return GB_ERR_LIMIT;
        st = gb_buf_new(ulen ? ulen : 1, &b);
        if (st != GB_OK) break;
        size_t olen = b->cap;
        if (snappy_uncompress((const char *)in, len, (char *)b->data, &olen) != SNAPPY_OK) {
            snprintf(err, err_size, "corrupt snappy block");
            st = GB_ERR_INVALID;
            break;
        }
        b->len = olen;
        break;
    }
    default:
        snprintf(err, err_size, "unsupported encoding");
        return GB_ERR_UNSUPPORTED;
    }
    if (st != GB_OK) {
        if (st == GB_ERR_LIMIT && err_size && !err[0])
            snprintf(err, err_size, "decompressed body exceeds %zu bytes", max_out);
        gb_buf_unref(b);
        return st;
    }
    *out = b;
    return GB_OK;
}
