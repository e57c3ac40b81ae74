/* Blocking unary gRPC client (see grpc_client.h and docs/internals/grpc-client.md).
 *
 * What: one HTTP/2 connection per client, used by one exporter consumer thread at a time. A call
 * frames and compresses the request, opens one stream, and pumps the connection until the stream
 * closes or the deadline passes; the response message and the trailers (grpc-status,
 * grpc-message, grpc-status-details-bin) are collected by nghttp2 callbacks.
 *
 * How: the socket is non-blocking and every wait is a poll() bounded by the call deadline (and by
 * the next keepalive event). nghttp2 runs in "memory" mode (mem_send / mem_recv) so the same
 * loop drives plain TCP and OpenSSL. The connection is reused across calls; before reuse, pending
 * input is drained (GOAWAY, EOF, PING acks) and a connection that is gone is replaced. A call
 * that fails on a reused connection before the server saw anything of it (EOF, refused stream,
 * GOAWAY below our stream id) is replayed once on a fresh connection, as gRPC's transparent
 * retry does.
 *
 * Rejected: libevent bufferevents (a second event loop per consumer thread buys nothing for a
 * strictly request/response client and makes deadlines harder to bound); a shared multiplexed
 * connection across threads (needs locking and a reader thread; otelcol's num_consumers
 * connections give the same parallelism); libcurl (no access to gRPC trailers).
 */
#include "net/grpc_client.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "base/timeutil.h"
#include "net/decompress.h"
#include "net/grpc_server.h"
#include "net/tls.h"

#ifndef GENOPS_VERSION
#define GENOPS_VERSION "0"
#endif

#define GRPC_DEFAULT_MAX_RESPONSE (4u << 20)
#define GRPC_DETAILS_MAX          8192
#define GRPC_STREAM_WINDOW        (1 << 20)
#define GRPC_CONN_WINDOW          (1 << 24)
#define GRPC_MAX_DATA_FRAME       (1 << 20) /* when the peer's SETTINGS_MAX_FRAME_SIZE allows */
#define GRPC_NO_DEADLINE_NS       (3600LL * GB_NS_PER_S)

enum {
    ST_OK = 0,
    ST_CANCELLED = 1,
    ST_UNKNOWN = 2,
    ST_DEADLINE_EXCEEDED = 4,
    ST_PERMISSION_DENIED = 7,
    ST_RESOURCE_EXHAUSTED = 8,
    ST_UNIMPLEMENTED = 12,
    ST_INTERNAL = 13,
    ST_UNAVAILABLE = 14,
    ST_UNAUTHENTICATED = 16,
};

/* Compression state kept by a client across calls: a z_stream reset instead of re-initialised
 * (deflateInit allocates ~256 KiB) and a zstd context. */
typedef struct grpc_compressor {
    z_stream z;
    bool z_ready;
    int z_level;
    ZSTD_CCtx *zc;
} grpc_compressor;

struct net_grpc_client {
    net_grpc_client_opts o;
    char *strs[12]; /* owned copies of the option strings */
    char authority[300];
    char user_agent[96];
    SSL_CTX *ssl_ctx;
    uint64_t connects;
    grpc_compressor comp;

    /* connection */
    int fd;
    SSL *ssl;
    nghttp2_session *h2;
    bool goaway;
    int32_t goaway_last_stream;
    bool eof;
    int64_t last_rx_ns;
    int64_t ping_sent_ns; /* 0 = no PING outstanding */

    /* current call */
    int32_t stream_id;
    gb_sbuf req;
    size_t req_off;
    const uint8_t *body; /* uncompressed message sent after c->req (NULL when compressed) */
    size_t body_len;
    gb_sbuf raw;
    gb_sbuf msg;
    gb_sbuf scratch; /* grpc-message decoding */
    gb_sbuf names;   /* lower-cased metadata names of the current call */
    size_t max_resp;
    bool closed;
    uint32_t stream_err;
    bool stream_rx; /* anything received for this stream */
    bool too_big;
    int http_status;
    int grpc_status; /* -1 = none */
    char grpc_message[256];
    char encoding[32];
    char content_type[64];
    bool has_retry;
    int64_t retry_ns;
    char errbuf[600]; /* transport failure reason */
    char h2err[160];  /* last protocol error nghttp2 reported on this connection */

    uint8_t rbuf[16384];
};

/* ---- small helpers ----------------------------------------------------------------------------
 */

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t size, const char *fmt, ...)
{
    if (!err || size == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

const char *net_grpc_compression_name(net_grpc_compression c)
{
    switch (c) {
    case NET_GRPC_COMP_GZIP:
        return "gzip";
    case NET_GRPC_COMP_ZSTD:
        return "zstd";
    case NET_GRPC_COMP_SNAPPY:
        return "snappy";
    default:
        return "identity";
    }
}

void net_grpc_format_timeout(int64_t ns, char *buf, size_t size)
{
    static const struct {
        int64_t ns;
        char unit;
    } units[] = {{1, 'n'},
                 {1000, 'u'},
                 {1000000, 'm'},
                 {1000000000, 'S'},
                 {60LL * 1000000000, 'M'},
                 {3600LL * 1000000000, 'H'}};
    if (ns <= 0) ns = 1;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        int64_t v = ns / units[i].ns + (ns % units[i].ns != 0);
        if (v <= 99999999) {
            snprintf(buf, size, "%lld%c", (long long)v, units[i].unit);
            return;
        }
    }
    snprintf(buf, size, "99999999H");
}

gb_status net_grpc_base64_decode(const char *in, size_t len, uint8_t *out, size_t size,
                                 size_t *out_len)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)in[i], v;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            v = ch - '0' + 52;
        else if (ch == '+' || ch == '-')
            v = 62;
        else if (ch == '/' || ch == '_')
            v = 63;
        else if (ch == '=')
            break;
        else
            return GB_ERR_INVALID;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= size) return GB_ERR_LIMIT;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out_len = o;
    return GB_OK;
}

/* ---- minimal protobuf reading: google.rpc.Status / Any / RetryInfo / Duration ---------------- */

typedef struct pb_rd {
    const uint8_t *p, *end;
} pb_rd;

static bool pb_varint(pb_rd *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) return false;
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* Reads one field: number, wire type and (for length-delimited) the payload view. Varints and
 * fixed values come back in *v. */
static bool pb_field(pb_rd *r, uint32_t *num, int *wt, uint64_t *v, const uint8_t **data,
                     size_t *len)
{
    uint64_t key;
    if (!pb_varint(r, &key)) return false;
    *num = (uint32_t)(key >> 3);
    *wt = (int)(key & 7);
    if (*num == 0) return false;
    switch (*wt) {
    case 0:
        return pb_varint(r, v);
    case 1:
        if (r->end - r->p < 8) return false;
        r->p += 8;
        return true;
    case 5:
        if (r->end - r->p < 4) return false;
        r->p += 4;
        return true;
    case 2: {
        uint64_t l;
        if (!pb_varint(r, &l) || l > (uint64_t)(r->end - r->p)) return false;
        *data = r->p;
        *len = (size_t)l;
        r->p += l;
        return true;
    }
    default:
        return false;
    }
}

static gb_status parse_retry_info(const uint8_t *p, size_t len, int64_t *delay_ns)
{
    pb_rd r = {p, p + len};
    int64_t secs = 0, nanos = 0;
    while (r.p < r.end) {
        uint32_t num;
        int wt;
        uint64_t v = 0;
        const uint8_t *d = NULL;
        size_t dl = 0;
        if (!pb_field(&r, &num, &wt, &v, &d, &dl)) return GB_ERR_INVALID;
        if (num == 1 && wt == 2) { /* retry_delay: google.protobuf.Duration */
            pb_rd dr = {d, d + dl};
            while (dr.p < dr.end) {
                uint32_t n2;
                int w2;
                uint64_t v2 = 0;
                const uint8_t *d2;
                size_t l2;
                if (!pb_field(&dr, &n2, &w2, &v2, &d2, &l2)) return GB_ERR_INVALID;
                if (n2 == 1 && w2 == 0) secs = (int64_t)v2;
                if (n2 == 2 && w2 == 0) nanos = (int64_t)(int32_t)(uint32_t)v2;
            }
        }
    }
    int64_t ns;
    if (secs < 0 || (secs == 0 && nanos < 0))
        ns = 0;
    else if (secs > INT64_MAX / GB_NS_PER_S - 1)
        ns = INT64_MAX;
    else
        ns = secs * GB_NS_PER_S + nanos;
    *delay_ns = ns < 0 ? 0 : ns;
    return GB_OK;
}

gb_status net_grpc_parse_retry_info(const uint8_t *p, size_t len, int64_t *delay_ns)
{
    static const char suffix[] = "/google.rpc.RetryInfo";
    pb_rd r = {p, p + len};
    bool found = false;
    while (r.p < r.end) {
        uint32_t num;
        int wt;
        uint64_t v = 0;
        const uint8_t *d = NULL;
        size_t dl = 0;
        if (!pb_field(&r, &num, &wt, &v, &d, &dl)) return GB_ERR_INVALID;
        if (num != 3 || wt != 2) continue; /* code (1), message (2) */
        /* details: google.protobuf.Any {type_url = 1, value = 2} */
        pb_rd ar = {d, d + dl};
        const uint8_t *url = NULL, *val = NULL;
        size_t url_len = 0, val_len = 0;
        while (ar.p < ar.end) {
            uint32_t n2;
            int w2;
            uint64_t v2;
            const uint8_t *d2 = NULL;
            size_t l2 = 0;
            if (!pb_field(&ar, &n2, &w2, &v2, &d2, &l2)) return GB_ERR_INVALID;
            if (n2 == 1 && w2 == 2) url = d2, url_len = l2;
            if (n2 == 2 && w2 == 2) val = d2, val_len = l2;
        }
        size_t sl = sizeof(suffix) - 1;
        bool is_retry = url && ((url_len >= sl && memcmp(url + url_len - sl, suffix, sl) == 0) ||
                                (url_len == sl - 1 && memcmp(url, suffix + 1, sl - 1) == 0));
        if (is_retry && !found) {
            gb_status st = parse_retry_info(val ? val : (const uint8_t *)"", val_len, delay_ns);
            if (st != GB_OK) return st;
            found = true;
        }
    }
    return found ? GB_OK : GB_ERR_NOTFOUND;
}

/* ---- compression ---------------------------------------------------------------------------- */

static uint32_t g_crc_table[256];
static pthread_once_t g_crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        g_crc_table[i] = c;
    }
}

/* CRC-32C (Castagnoli), as the snappy framing format requires. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
    pthread_once(&g_crc_once, crc_init);
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = g_crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t snappy_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static void put_le(uint8_t *p, uint32_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void compressor_free(grpc_compressor *k)
{
    if (k->z_ready) deflateEnd(&k->z);
    k->z_ready = false;
    ZSTD_freeCCtx(k->zc);
    k->zc = NULL;
}

static gb_status compress_gzip(grpc_compressor *k, int level, const uint8_t *msg, size_t len,
                               gb_sbuf *out)
{
    if (level == 0) level = NET_GRPC_GZIP_DEFAULT_LEVEL;
    if (level < 1 || level > 9) return GB_ERR_INVALID;
    if (k->z_ready && k->z_level != level) {
        deflateEnd(&k->z);
        k->z_ready = false;
    }
    if (!k->z_ready) {
        memset(&k->z, 0, sizeof(k->z));
        if (deflateInit2(&k->z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return GB_ERR_NOMEM;
        k->z_ready = true;
        k->z_level = level;
    } else if (deflateReset(&k->z) != Z_OK) {
        return GB_ERR_INVALID;
    }
    size_t bound = deflateBound(&k->z, (uLong)len) + 32;
    if (len > 0xFFFFFFF0u || bound > 0xFFFFFFF0u) return GB_ERR_LIMIT;
    gb_status st = gb_sbuf_reserve(out, bound);
    if (st != GB_OK) return st;
    k->z.next_in = (Bytef *)(uintptr_t)msg;
    k->z.avail_in = (uInt)len;
    k->z.next_out = (Bytef *)out->data + out->len;
    k->z.avail_out = (uInt)bound;
    if (deflate(&k->z, Z_FINISH) != Z_STREAM_END) return GB_ERR_INVALID;
    out->len += k->z.total_out;
    out->data[out->len] = '\0';
    return GB_OK;
}

static gb_status compress_zstd(grpc_compressor *k, int level, const uint8_t *msg, size_t len,
                               gb_sbuf *out)
{
    if (level == 0) level = NET_GRPC_ZSTD_DEFAULT_LEVEL;
    if (level < 1 || level > ZSTD_maxCLevel()) return GB_ERR_INVALID;
    if (!k->zc && !(k->zc = ZSTD_createCCtx())) return GB_ERR_NOMEM;
    size_t bound = ZSTD_compressBound(len);
    gb_status st = gb_sbuf_reserve(out, bound + 1);
    if (st != GB_OK) return st;
    size_t n = ZSTD_compressCCtx(k->zc, out->data + out->len, bound, msg, len, level);
    if (ZSTD_isError(n)) return GB_ERR_INVALID;
    out->len += n;
    out->data[out->len] = '\0';
    return GB_OK;
}

static gb_status compress_snappy(const uint8_t *msg, size_t len, gb_sbuf *out)
{
    static const uint8_t ident[10] = {0xff, 0x06, 0x00, 0x00, 's', 'N', 'a', 'P', 'p', 'Y'};
    gb_status st = gb_sbuf_append(out, ident, sizeof(ident));
    for (size_t off = 0; st == GB_OK && off < len;) {
        size_t n = len - off > 65536 ? 65536 : len - off;
        size_t bound = snappy_max_compressed_length(n);
        if ((st = gb_sbuf_reserve(out, 8 + bound)) != GB_OK) break;
        uint8_t *hdr = (uint8_t *)out->data + out->len;
        size_t clen = bound;
        uint8_t type = 0x00;
        if (snappy_compress((const char *)msg + off, n, (char *)hdr + 8, &clen) != SNAPPY_OK ||
            clen >= n - n / 8) {
            type = 0x01;
            memcpy(hdr + 8, msg + off, n);
            clen = n;
        }
        hdr[0] = type;
        put_le(hdr + 1, (uint32_t)(clen + 4), 3);
        put_le(hdr + 4, snappy_mask(crc32c(msg + off, n)), 4);
        out->len += 8 + clen;
        out->data[out->len] = '\0';
        off += n;
    }
    return st;
}

static gb_status frame_with(grpc_compressor *k, net_grpc_compression c, int level,
                            const uint8_t *msg, size_t len, gb_sbuf *out)
{
    size_t start = out->len;
    uint8_t prefix[5] = {0, 0, 0, 0, 0};
    gb_status st = gb_sbuf_append(out, prefix, 5);
    if (st != GB_OK) return st;
    switch (c) {
    case NET_GRPC_COMP_NONE:
        st = gb_sbuf_append(out, msg, len);
        break;
    case NET_GRPC_COMP_GZIP:
        st = compress_gzip(k, level, msg, len, out);
        break;
    case NET_GRPC_COMP_ZSTD:
        st = compress_zstd(k, level, msg, len, out);
        break;
    case NET_GRPC_COMP_SNAPPY:
        st = compress_snappy(msg, len, out);
        break;
    default:
        st = GB_ERR_INVALID;
    }
    if (st != GB_OK) {
        out->len = start;
        return st;
    }
    size_t body = out->len - start - 5;
    if (body > 0xFFFFFFFFu) {
        out->len = start;
        return GB_ERR_LIMIT;
    }
    net_grpc_frame_write((uint8_t *)out->data + start, c != NET_GRPC_COMP_NONE, (uint32_t)body);
    return GB_OK;
}

gb_status net_grpc_frame(net_grpc_compression c, int level, const uint8_t *msg, size_t len,
                         gb_sbuf *out)
{
    grpc_compressor k;
    memset(&k, 0, sizeof(k));
    gb_status st = frame_with(&k, c, level, msg, len, out);
    compressor_free(&k);
    return st;
}

static gb_status inflate_snappy(const uint8_t *p, size_t len, size_t max, gb_sbuf *out)
{
    size_t off = 0;
    bool seen_ident = false;
    while (off < len) {
        if (len - off < 4) return GB_ERR_INVALID;
        uint8_t type = p[off];
        size_t clen = (size_t)p[off + 1] | (size_t)p[off + 2] << 8 | (size_t)p[off + 3] << 16;
        off += 4;
        if (clen > len - off) return GB_ERR_INVALID;
        const uint8_t *d = p + off;
        off += clen;
        if (type == 0xff) {
            if (clen != 6 || memcmp(d, "sNaPpY", 6) != 0) return GB_ERR_INVALID;
            seen_ident = true;
            continue;
        }
        if (!seen_ident) return GB_ERR_INVALID;
        if (type >= 0x80) continue; /* padding and skippable chunks */
        if ((type != 0x00 && type != 0x01) || clen < 4) return GB_ERR_INVALID;
        uint32_t crc =
            (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
        d += 4;
        clen -= 4;
        size_t n = clen;
        if (type == 0x00 && snappy_uncompressed_length((const char *)d, clen, &n) != SNAPPY_OK)
            return GB_ERR_INVALID;
        if (n > 65536 || out->len + n > max) return n > 65536 ? GB_ERR_INVALID : GB_ERR_LIMIT;
        gb_status st = gb_sbuf_reserve(out, n + 1);
        if (st != GB_OK) return st;
        uint8_t *dst = (uint8_t *)out->data + out->len;
        if (type == 0x00) {
            size_t got = n;
            if (snappy_uncompress((const char *)d, clen, (char *)dst, &got) != SNAPPY_OK ||
                got != n)
                return GB_ERR_INVALID;
        } else {
            memcpy(dst, d, n);
        }
        if (snappy_mask(crc32c(dst, n)) != crc) return GB_ERR_INVALID;
        out->len += n;
        out->data[out->len] = '\0';
    }
    return GB_OK;
}

gb_status net_grpc_unframe(const uint8_t *p, size_t len, const char *encoding, size_t max,
                           gb_sbuf *out)
{
    gb_sbuf_reset(out);
    if (len < 5 || p[0] > 1) return GB_ERR_INVALID;
    bool compressed;
    uint32_t n;
    net_grpc_frame_header(p, &compressed, &n);
    if (n != len - 5) return GB_ERR_INVALID;
    p += 5;
    if (!compressed) {
        if (n > max) return GB_ERR_LIMIT;
        return gb_sbuf_append(out, p, n);
    }
    if (!encoding || !*encoding || strcmp(encoding, "identity") == 0) return GB_ERR_INVALID;
    /* gRPC's snappy is the framing format; the shared decompressor knows the block format */
    if (strcmp(encoding, "snappy") == 0) return inflate_snappy(p, n, max, out);
    net_encoding enc = net_encoding_parse(gb_str_c(encoding));
    if (enc != NET_ENC_GZIP && enc != NET_ENC_ZSTD && enc != NET_ENC_DEFLATE)
        return GB_ERR_UNSUPPORTED;
    gb_buf *b = NULL;
    char err[128];
    gb_status st = net_decompress(enc, p, n, max, &b, err, sizeof(err));
    if (st == GB_OK) st = gb_sbuf_append(out, b->data, b->len);
    gb_buf_unref(b);
    return st;
}

/* ---- endpoint ------------------------------------------------------------------------------- */

gb_status net_grpc_parse_endpoint(const char *endpoint, net_grpc_endpoint *out, char *err,
                                  size_t err_size)
{
    memset(out, 0, sizeof(*out));
    out->tls_scheme = -1;
    if (!endpoint || !*endpoint) {
        set_err(err, err_size, "endpoint is empty");
        return GB_ERR_INVALID;
    }
    const char *s = endpoint;
    if (strncmp(s, "http://", 7) == 0) {
        out->tls_scheme = 0;
        s += 7;
    } else if (strncmp(s, "https://", 8) == 0) {
        out->tls_scheme = 1;
        s += 8;
    } else if (strncmp(s, "dns:", 4) == 0) {
        s += 4;
        if (strncmp(s, "//", 2) == 0) { /* dns://[authority]/host:port */
            const char *slash = strchr(s + 2, '/');
            if (!slash) {
                set_err(err, err_size, "invalid endpoint \"%s\": dns target has no host", endpoint);
                return GB_ERR_INVALID;
            }
            s = slash + 1;
        }
    } else if (strstr(s, "://")) {
        set_err(err, err_size,
                "unsupported endpoint scheme in \"%s\" (use host:port, dns:///, "
                "http:// or https://)",
                endpoint);
        return GB_ERR_INVALID;
    }
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == '/')
        len--;
    const char *host = s, *port = NULL;
    size_t host_len;
    if (len > 0 && s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb) {
            set_err(err, err_size, "invalid endpoint \"%s\": missing ']'", endpoint);
            return GB_ERR_INVALID;
        }
        host = s + 1;
        host_len = (size_t)(rb - host);
        if ((size_t)(rb + 1 - s) < len) {
            if (rb[1] != ':') {
                set_err(err, err_size, "invalid endpoint \"%s\"", endpoint);
                return GB_ERR_INVALID;
            }
            port = rb + 2;
        }
    } else {
        const char *colon = NULL;
        for (size_t i = 0; i < len; i++)
            if (s[i] == ':') colon = s + i;
        if (colon && memchr(s, ':', (size_t)(colon - s))) {
            set_err(err, err_size, "invalid endpoint \"%s\": IPv6 addresses need brackets",
                    endpoint);
            return GB_ERR_INVALID;
        }
        host_len = colon ? (size_t)(colon - s) : len;
        if (colon) port = colon + 1;
    }
    if (host_len == 0 || host_len >= sizeof(out->host)) {
        set_err(err, err_size, "invalid endpoint \"%s\": missing or too long host", endpoint);
        return GB_ERR_INVALID;
    }
    for (size_t i = 0; i < host_len; i++) {
        unsigned char ch = (unsigned char)host[i];
        if (ch <= ' ' || ch == '/' || ch == '?' || ch == '#' || ch == '@' || ch >= 0x7f) {
            set_err(err, err_size, "invalid endpoint \"%s\": bad character in host", endpoint);
            return GB_ERR_INVALID;
        }
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    size_t port_len = port ? (size_t)(s + len - port) : 0;
    if (!port) {
        /* gRPC's default is 443; http:// and https:// URLs default by scheme. */
        out->port = out->tls_scheme == 0 ? 80 : 443;
        return GB_OK;
    }
    unsigned long v = 0;
    if (port_len == 0 || port_len > 5) goto bad_port;
    for (size_t i = 0; i < port_len; i++) {
        if (port[i] < '0' || port[i] > '9') goto bad_port;
        v = v * 10 + (unsigned long)(port[i] - '0');
    }
    if (v == 0 || v > 65535) goto bad_port;
    out->port = (uint16_t)v;
    return GB_OK;
bad_port:
    set_err(err, err_size, "invalid port in endpoint \"%s\"", endpoint);
    return GB_ERR_INVALID;
}

/* ---- client lifecycle ----------------------------------------------------------------------- */

static char *dupstr(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void ssl_errstr(char *buf, size_t size, const char *what)
{
    unsigned long e = ERR_get_error();
    char tmp[160];
    if (e)
        ERR_error_string_n(e, tmp, sizeof(tmp));
    else
        snprintf(tmp, sizeof(tmp), "%s", strerror(errno ? errno : EIO));
    snprintf(buf, size, "%s: %s", what, tmp);
    ERR_clear_error();
}

static bool has(const char *s)
{
    return s && *s;
}

/* Adds every certificate of a PEM text to the context's trust store. */
static bool load_ca_pem(SSL_CTX *ctx, const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int n = 0;
    X509 *x;
    if (!bio) return false;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, x) == 1) n++;
        X509_free(x);
    }
    ERR_clear_error(); /* the end-of-input "no start line" */
    BIO_free(bio);
    return n > 0;
}

/* Certificate chain from PEM text: the first is the leaf, the rest are chain certificates. */
static bool load_cert_pem(SSL_CTX *ctx, const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    bool ok = false;
    X509 *x;
    if (!bio) return false;
    if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        ok = SSL_CTX_use_certificate(ctx, x) == 1;
        X509_free(x);
        SSL_CTX_clear_extra_chain_certs(ctx);
        while (ok && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
            if (SSL_CTX_add_extra_chain_cert(ctx, x) != 1) { /* takes x on success */
                X509_free(x);
                ok = false;
            }
        }
        if (ok) ERR_clear_error();
    }
    BIO_free(bio);
    return ok;
}

static bool load_key_pem(SSL_CTX *ctx, const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    bool ok = false;
    if (!bio) return false;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    if (k) {
        ok = SSL_CTX_use_PrivateKey(ctx, k) == 1;
        EVP_PKEY_free(k);
    }
    BIO_free(bio);
    return ok;
}

static gb_status make_ssl_ctx(net_grpc_client *c, char *err, size_t err_size)
{
    const net_grpc_tls_opts *t = &c->o.tls;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    gb_status st = GB_ERR_INVALID;
    int minv = 0, maxv = 0;
    if (!ctx) {
        ssl_errstr(err, err_size, "tls");
        return GB_ERR_NOMEM;
    }
    if (net_tls_parse_version(t->min_version ? t->min_version : "", &minv) != GB_OK) {
        set_err(err, err_size, "tls: invalid min_version \"%s\"", t->min_version);
        goto fail;
    }
    if (net_tls_parse_version(t->max_version ? t->max_version : "", &maxv) != GB_OK) {
        set_err(err, err_size, "tls: invalid max_version \"%s\"", t->max_version);
        goto fail;
    }
    SSL_CTX_set_min_proto_version(ctx, minv ? minv : TLS1_2_VERSION);
    if (maxv) SSL_CTX_set_max_proto_version(ctx, maxv);
    bool custom_ca = has(t->ca_file) || has(t->ca_pem);
    if (!custom_ca || t->include_system_ca_certs_pool) SSL_CTX_set_default_verify_paths(ctx);
    if (has(t->ca_file) && SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1) {
        ssl_errstr(err, err_size, "tls: cannot load ca_file");
        goto fail;
    }
    if (has(t->ca_pem) && !load_ca_pem(ctx, t->ca_pem)) {
        ssl_errstr(err, err_size, "tls: cannot load ca_pem");
        goto fail;
    }
    bool has_cert = has(t->cert_file) || has(t->cert_pem);
    bool has_key = has(t->key_file) || has(t->key_pem);
    if (has_cert != has_key) {
        set_err(err, err_size, "tls: cert_file and key_file must be set together");
        goto fail;
    }
    if (has(t->cert_file) && SSL_CTX_use_certificate_chain_file(ctx, t->cert_file) != 1) {
        ssl_errstr(err, err_size, "tls: cannot load cert_file");
        goto fail;
    }
    if (!has(t->cert_file) && has(t->cert_pem) && !load_cert_pem(ctx, t->cert_pem)) {
        ssl_errstr(err, err_size, "tls: cannot load cert_pem");
        goto fail;
    }
    if (has(t->key_file) && SSL_CTX_use_PrivateKey_file(ctx, t->key_file, SSL_FILETYPE_PEM) != 1) {
        ssl_errstr(err, err_size, "tls: cannot load key_file");
        goto fail;
    }
    if (!has(t->key_file) && has(t->key_pem) && !load_key_pem(ctx, t->key_pem)) {
        ssl_errstr(err, err_size, "tls: cannot load key_pem");
        goto fail;
    }
    if (has_cert && SSL_CTX_check_private_key(ctx) != 1) {
        ssl_errstr(err, err_size, "tls: key does not match the certificate");
        goto fail;
    }
    static const unsigned char alpn[] = {2, 'h', '2'};
    if (SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn)) != 0) {
        ssl_errstr(err, err_size, "tls: alpn");
        goto fail;
    }
    SSL_CTX_set_verify(ctx, t->insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    c->ssl_ctx = ctx;
    return GB_OK;
fail:
    SSL_CTX_free(ctx);
    return st;
}

gb_status net_grpc_client_new(const net_grpc_client_opts *opts, net_grpc_client **out, char *err,
                              size_t err_size)
{
    gb_status st = GB_OK;
    *out = NULL;
    if (!opts->host || !*opts->host || opts->port == 0) {
        set_err(err, err_size, "grpc client: host and port are required");
        return GB_ERR_INVALID;
    }
    net_grpc_client *c = calloc(1, sizeof(*c));
    if (!c) return GB_ERR_NOMEM;
    c->o = *opts;
    c->fd = -1;
    const char **fields[] = {&c->o.host,
                             &c->o.tls.ca_file,
                             &c->o.tls.cert_file,
                             &c->o.tls.key_file,
                             &c->o.tls.server_name_override,
                             &c->o.tls.min_version,
                             &c->o.user_agent,
                             &c->o.authority,
                             &c->o.tls.max_version,
                             &c->o.tls.ca_pem,
                             &c->o.tls.cert_pem,
                             &c->o.tls.key_pem};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (!*fields[i]) continue;
        c->strs[i] = dupstr(*fields[i]);
        if (!c->strs[i]) {
            st = GB_ERR_NOMEM;
            goto fail;
        }
        *fields[i] = c->strs[i];
    }
    if (c->o.max_response_bytes == 0) c->o.max_response_bytes = GRPC_DEFAULT_MAX_RESPONSE;
    if (c->o.keepalive_timeout <= 0) c->o.keepalive_timeout = 20 * GB_NS_PER_S;
    if (c->o.authority && *c->o.authority)
        snprintf(c->authority, sizeof(c->authority), "%s", c->o.authority);
    else if (strchr(c->o.host, ':'))
        snprintf(c->authority, sizeof(c->authority), "[%s]:%u", c->o.host, c->o.port);
    else
        snprintf(c->authority, sizeof(c->authority), "%s:%u", c->o.host, c->o.port);
    snprintf(c->user_agent, sizeof(c->user_agent), "%s",
             c->o.user_agent ? c->o.user_agent : "genops-collector/" GENOPS_VERSION);
    if (c->o.tls.enabled && (st = make_ssl_ctx(c, err, err_size)) != GB_OK) goto fail;
    gb_sbuf_init(&c->req, 0);
    gb_sbuf_init(&c->raw, 0);
    gb_sbuf_init(&c->msg, 0);
    gb_sbuf_init(&c->scratch, 64 * 1024);
    gb_sbuf_init(&c->names, 0);
    *out = c;
    return GB_OK;
fail:
    for (size_t i = 0; i < 12; i++)
        free(c->strs[i]);
    free(c);
    return st;
}

void net_grpc_client_close(net_grpc_client *c)
{
    if (!c) return;
    if (c->h2) {
        nghttp2_session_del(c->h2);
        c->h2 = NULL;
    }
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    c->goaway = false;
    c->eof = false;
    c->ping_sent_ns = 0;
    c->h2err[0] = '\0';
}

void net_grpc_client_free(net_grpc_client *c)
{
    if (!c) return;
    net_grpc_client_close(c);
    if (c->ssl_ctx) SSL_CTX_free(c->ssl_ctx);
    compressor_free(&c->comp);
    gb_sbuf_free(&c->req);
    gb_sbuf_free(&c->raw);
    gb_sbuf_free(&c->msg);
    gb_sbuf_free(&c->scratch);
    gb_sbuf_free(&c->names);
    for (size_t i = 0; i < 12; i++)
        free(c->strs[i]);
    free(c);
}

uint64_t net_grpc_client_connects(const net_grpc_client *c)
{
    return c->connects;
}

/* ---- socket I/O with deadlines -------------------------------------------------------------- */

/* Waits for events on the socket until deadline; returns >0 ready, 0 timeout, <0 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - gb_mono_ns();
        if (left <= 0) return 0;
        int ms = (int)((left + GB_NS_PER_MS - 1) / GB_NS_PER_MS);
        struct pollfd pfd = {fd, events, 0};
        int rc = poll(&pfd, 1, ms);
        if (rc < 0 && errno == EINTR) continue;
        return rc;
    }
}

/* Writes all of p/n before deadline. Returns GB_OK, GB_ERR_TIMEOUT or GB_ERR_IO. */
static gb_status io_write_all(net_grpc_client *c, const uint8_t *p, size_t n, int64_t deadline)
{
    while (n > 0) {
        ssize_t w;
        short want = POLLOUT;
        if (c->ssl) {
            ERR_clear_error();
            int rc = SSL_write(c->ssl, p, (int)(n > (1u << 30) ? (1u << 30) : n));
            if (rc > 0) {
                w = rc;
            } else {
                int e = SSL_get_error(c->ssl, rc);
                if (e == SSL_ERROR_WANT_WRITE)
                    want = POLLOUT;
                else if (e == SSL_ERROR_WANT_READ)
                    want = POLLIN;
                else {
                    ssl_errstr(c->errbuf, sizeof(c->errbuf), "tls write");
                    return GB_ERR_IO;
                }
                w = -1;
                errno = EAGAIN;
            }
        } else {
            w = send(c->fd, p, n, MSG_NOSIGNAL);
        }
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(c->fd, want, deadline);
            if (rc == 0) return GB_ERR_TIMEOUT;
            if (rc < 0) {
                snprintf(c->errbuf, sizeof(c->errbuf), "poll: %s", strerror(errno));
                return GB_ERR_IO;
            }
            continue;
        }
        snprintf(c->errbuf, sizeof(c->errbuf), "write: %s", strerror(errno));
        return GB_ERR_IO;
    }
    return GB_OK;
}

/* Non-blocking read: >0 bytes, 0 would block, -1 EOF or error (errbuf set). *want_write tells a
 * TLS read that needs the socket writable. */
static ssize_t io_read(net_grpc_client *c, bool *want_write)
{
    *want_write = false;
    if (c->ssl) {
        ERR_clear_error();
        int rc = SSL_read(c->ssl, c->rbuf, (int)sizeof(c->rbuf));
        if (rc > 0) return rc;
        int e = SSL_get_error(c->ssl, rc);
        if (e == SSL_ERROR_WANT_READ) return 0;
        if (e == SSL_ERROR_WANT_WRITE) {
            *want_write = true;
            return 0;
        }
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
            snprintf(c->errbuf, sizeof(c->errbuf), "connection closed by peer");
        else
            ssl_errstr(c->errbuf, sizeof(c->errbuf), "tls read");
        return -1;
    }
    for (;;) {
        ssize_t r = recv(c->fd, c->rbuf, sizeof(c->rbuf), MSG_DONTWAIT);
        if (r > 0) return r;
        if (r == 0) {
            snprintf(c->errbuf, sizeof(c->errbuf), "connection closed by peer");
            return -1;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        snprintf(c->errbuf, sizeof(c->errbuf), "read: %s", strerror(errno));
        return -1;
    }
}

/* Sends whatever nghttp2 has queued. */
static gb_status h2_flush(net_grpc_client *c, int64_t deadline)
{
    for (;;) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->h2, &data);
        if (n < 0) {
            snprintf(c->errbuf, sizeof(c->errbuf), "http2: %s", nghttp2_strerror((int)n));
            return GB_ERR_IO;
        }
        if (n == 0) return GB_OK;
        gb_status st = io_write_all(c, data, (size_t)n, deadline);
        if (st != GB_OK) {
            c->eof = true; /* a frame may be half written: the connection is unusable */
            return st;
        }
    }
}

/* Reads and processes everything available now, without waiting. GB_OK, or GB_ERR_IO when the
 * connection is gone (c->eof set). */
static gb_status h2_drain(net_grpc_client *c, bool *want_write)
{
    for (;;) {
        ssize_t r = io_read(c, want_write);
        if (r == 0) return GB_OK;
        if (r < 0) {
            c->eof = true;
            if (c->h2err[0])
                snprintf(c->errbuf, sizeof(c->errbuf), "http2 protocol error from peer: %s",
                         c->h2err);
            return GB_ERR_IO;
        }
        c->last_rx_ns = gb_mono_ns();
        ssize_t rc = nghttp2_session_mem_recv(c->h2, c->rbuf, (size_t)r);
        if (rc < 0) {
            snprintf(c->errbuf, sizeof(c->errbuf), "http2: %s", nghttp2_strerror((int)rc));
            c->eof = true;
            return GB_ERR_IO;
        }
        if (!nghttp2_session_want_read(c->h2) && !c->goaway) {
            /* nghttp2 ended the session: the peer broke the protocol */
            snprintf(c->errbuf, sizeof(c->errbuf), "http2 protocol error from peer: %s",
                     c->h2err[0] ? c->h2err : "session ended");
            c->eof = true;
            return GB_ERR_IO;
        }
    }
}

/* ---- nghttp2 callbacks ---------------------------------------------------------------------- */

static int on_header(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
    (void)s;
    (void)flags;
    net_grpc_client *c = ud;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->hd.stream_id != c->stream_id) return 0;
    c->stream_rx = true;
#define HNAME(lit) (namelen == sizeof(lit) - 1 && memcmp(name, lit, namelen) == 0)
    if (HNAME(":status")) {
        int v = 0;
        for (size_t i = 0; i < valuelen && i < 4; i++)
            v = v * 10 + (isdigit(value[i]) ? value[i] - '0' : 0);
        c->http_status = v;
    } else if (HNAME("grpc-status")) {
        int v = 0;
        bool ok = valuelen > 0 && valuelen <= 3;
        for (size_t i = 0; ok && i < valuelen; i++) {
            if (!isdigit(value[i]))
                ok = false;
            else
                v = v * 10 + (value[i] - '0');
        }
        c->grpc_status = ok ? v : ST_UNKNOWN;
    } else if (HNAME("grpc-message")) {
        gb_sbuf_reset(&c->scratch);
        net_grpc_percent_decode((const char *)value, valuelen, &c->scratch);
        snprintf(c->grpc_message, sizeof(c->grpc_message), "%.*s",
                 (int)(c->scratch.len < sizeof(c->grpc_message) ? c->scratch.len
                                                                : sizeof(c->grpc_message) - 1),
                 c->scratch.data ? c->scratch.data : "");
    } else if (HNAME("grpc-encoding")) {
        snprintf(c->encoding, sizeof(c->encoding), "%.*s", (int)valuelen, (const char *)value);
    } else if (HNAME("content-type")) {
        snprintf(c->content_type, sizeof(c->content_type), "%.*s", (int)valuelen,
                 (const char *)value);
    } else if (HNAME("grpc-status-details-bin")) {
        uint8_t buf[GRPC_DETAILS_MAX];
        size_t n = 0;
        int64_t d = 0;
        if (net_grpc_base64_decode((const char *)value, valuelen, buf, sizeof(buf), &n) == GB_OK &&
            net_grpc_parse_retry_info(buf, n, &d) == GB_OK) {
            c->has_retry = true;
            c->retry_ns = d;
        }
    }
#undef HNAME
    return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t stream_id, const uint8_t *data,
                         size_t len, void *ud)
{
    (void)flags;
    net_grpc_client *c = ud;
    if (stream_id != c->stream_id) return 0;
    c->stream_rx = true;
    if (c->too_big) return 0;
    /* compressed or not, a frame never needs more than the bound plus its prefix (compressed
     * data bigger than the bound would also be refused after inflating) */
    if (c->raw.len + len > c->max_resp + 5) {
        c->too_big = true;
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
        return 0;
    }
    if (gb_sbuf_append(&c->raw, data, len) != GB_OK) {
        c->too_big = true;
        nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, stream_id, NGHTTP2_CANCEL);
    }
    return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t stream_id, uint32_t error_code, void *ud)
{
    (void)s;
    net_grpc_client *c = ud;
    if (stream_id == c->stream_id) {
        c->closed = true;
        c->stream_err = error_code;
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *frame, void *ud)
{
    (void)s;
    net_grpc_client *c = ud;
    if (frame->hd.type == NGHTTP2_GOAWAY) {
        c->goaway = true;
        c->goaway_last_stream = frame->goaway.last_stream_id;
    } else if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK)) {
        c->ping_sent_ns = 0;
    } else if (frame->hd.stream_id == c->stream_id && c->stream_id > 0) {
        c->stream_rx = true;
    }
    return 0;
}

static int on_h2_error(nghttp2_session *s, int lib_error_code, const char *msg, size_t len,
                       void *ud)
{
    (void)s;
    (void)lib_error_code;
    net_grpc_client *c = ud;
    snprintf(c->h2err, sizeof(c->h2err), "%.*s", (int)(len > 150 ? 150 : len), msg);
    return 0;
}

/* DATA frame size: nghttp2 uses 16 KiB unless told otherwise; as large as the peer and the flow
 * control windows allow (capped), so a big message costs a few frames and writes, not one write
 * per 16 KiB. */
static ssize_t req_read_length(nghttp2_session *s, uint8_t frame_type, int32_t stream_id,
                               int32_t session_window, int32_t stream_window,
                               uint32_t remote_max_frame, void *ud)
{
    (void)s;
    (void)frame_type;
    (void)stream_id;
    (void)ud;
    int64_t n = GRPC_MAX_DATA_FRAME;
    if ((int64_t)remote_max_frame < n) n = remote_max_frame;
    if (session_window < n) n = session_window;
    if (stream_window < n) n = stream_window;
    return n < 1 ? 1 : (ssize_t)n;
}

static ssize_t req_read(nghttp2_session *s, int32_t stream_id, uint8_t *buf, size_t length,
                        uint32_t *data_flags, nghttp2_data_source *source, void *ud)
{
    (void)s;
    (void)stream_id;
    (void)source;
    net_grpc_client *c = ud;
    /* the body is c->req (prefix, or prefix + compressed message) then, uncompressed, the
     * caller's message itself: no copy of the message when it is not compressed */
    size_t total = c->req.len + c->body_len, done = 0;
    while (done < length && c->req_off < total) {
        const uint8_t *src;
        size_t avail;
        if (c->req_off < c->req.len) {
            src = (const uint8_t *)c->req.data + c->req_off;
            avail = c->req.len - c->req_off;
        } else {
            src = c->body + (c->req_off - c->req.len);
            avail = total - c->req_off;
        }
        size_t n = avail < length - done ? avail : length - done;
        memcpy(buf + done, src, n);
        done += n;
        c->req_off += n;
    }
    if (c->req_off == total) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)done;
}

/* ---- connect -------------------------------------------------------------------------------- */

static gb_status tcp_connect(net_grpc_client *c, int64_t deadline)
{
    char port[8];
    snprintf(port, sizeof(port), "%u", c->o.port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int rc = getaddrinfo(c->o.host, port, &hints, &res);
    if (rc != 0) {
        snprintf(c->errbuf, sizeof(c->errbuf), "resolve %s: %s", c->o.host, gai_strerror(rc));
        return GB_ERR_IO;
    }
    gb_status st = GB_ERR_IO;
    snprintf(c->errbuf, sizeof(c->errbuf), "connect %s: no address", c->authority);
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int err = 0;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) {
                err = errno;
            } else {
                int w = wait_fd(fd, POLLOUT, deadline);
                if (w == 0) {
                    close(fd);
                    snprintf(c->errbuf, sizeof(c->errbuf), "connect %s: timed out", c->authority);
                    st = GB_ERR_TIMEOUT;
                    goto out;
                }
                socklen_t sl = sizeof(err);
                if (w < 0)
                    err = errno;
                else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
                    err = errno;
            }
        }
        if (err) {
            snprintf(c->errbuf, sizeof(c->errbuf), "connect %s: %s", c->authority, strerror(err));
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->fd = fd;
        st = GB_OK;
        break;
    }
out:
    freeaddrinfo(res);
    return st;
}

static bool is_ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* A socket BIO that writes with MSG_NOSIGNAL: OpenSSL's own socket BIO uses write(), which
 * raises SIGPIPE when the peer has gone, and a library must not depend on the process
 * ignoring it. */
static int bio_fd(BIO *b)
{
    return (int)(intptr_t)BIO_get_data(b);
}

static int bio_write(BIO *b, const char *data, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n;
    do {
        n = send(bio_fd(b), data, (size_t)len, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_write(b);
    return (int)n;
}

static int bio_read(BIO *b, char *data, int len)
{
    BIO_clear_retry_flags(b);
    ssize_t n;
    do {
        n = recv(bio_fd(b), data, (size_t)len, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_read(b);
    return (int)n;
}

static int bio_puts(BIO *b, const char *s)
{
    return bio_write(b, s, (int)strlen(s));
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static BIO_METHOD *g_bio_method;
static pthread_once_t g_bio_once = PTHREAD_ONCE_INIT;

static void bio_method_init(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "grpc-socket");
    if (!m) return;
    BIO_meth_set_write(m, bio_write);
    BIO_meth_set_read(m, bio_read);
    BIO_meth_set_puts(m, bio_puts);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    g_bio_method = m;
}

static gb_status tls_handshake(net_grpc_client *c, int64_t deadline)
{
    const char *name = c->o.tls.server_name_override && *c->o.tls.server_name_override
                           ? c->o.tls.server_name_override
                           : c->o.host;
    pthread_once(&g_bio_once, bio_method_init);
    c->ssl = SSL_new(c->ssl_ctx);
    BIO *bio = g_bio_method ? BIO_new(g_bio_method) : NULL;
    if (!c->ssl || !bio) {
        BIO_free(bio);
        ssl_errstr(c->errbuf, sizeof(c->errbuf), "tls");
        return GB_ERR_IO;
    }
    BIO_set_data(bio, (void *)(intptr_t)c->fd);
    SSL_set_bio(c->ssl, bio, bio);
    if (!is_ip_literal(name)) SSL_set_tlsext_host_name(c->ssl, name);
    if (!c->o.tls.insecure_skip_verify) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        int ok = is_ip_literal(name) ? X509_VERIFY_PARAM_set1_ip_asc(vp, name)
                                     : X509_VERIFY_PARAM_set1_host(vp, name, 0);
        if (ok != 1) {
            ssl_errstr(c->errbuf, sizeof(c->errbuf), "tls: server name");
            return GB_ERR_IO;
        }
    }
    for (;;) {
        ERR_clear_error();
        int rc = SSL_connect(c->ssl);
        if (rc == 1) break;
        int e = SSL_get_error(c->ssl, rc);
        short want;
        if (e == SSL_ERROR_WANT_READ)
            want = POLLIN;
        else if (e == SSL_ERROR_WANT_WRITE)
            want = POLLOUT;
        else {
            long vr = SSL_get_verify_result(c->ssl);
            if (vr != X509_V_OK)
                snprintf(c->errbuf, sizeof(c->errbuf), "tls handshake with %s: certificate: %s",
                         c->authority, X509_verify_cert_error_string(vr));
            else
                ssl_errstr(c->errbuf, sizeof(c->errbuf), "tls handshake");
            return GB_ERR_IO;
        }
        int w = wait_fd(c->fd, want, deadline);
        if (w == 0) {
            snprintf(c->errbuf, sizeof(c->errbuf), "tls handshake with %s: timed out",
                     c->authority);
            return GB_ERR_TIMEOUT;
        }
        if (w < 0) {
            snprintf(c->errbuf, sizeof(c->errbuf), "poll: %s", strerror(errno));
            return GB_ERR_IO;
        }
    }
    const unsigned char *proto = NULL;
    unsigned plen = 0;
    SSL_get0_alpn_selected(c->ssl, &proto, &plen);
    if (plen != 2 || memcmp(proto, "h2", 2) != 0) {
        snprintf(c->errbuf, sizeof(c->errbuf), "tls: server %s did not negotiate h2 (ALPN)",
                 c->authority);
        return GB_ERR_IO;
    }
    return GB_OK;
}

static gb_status h2_open(net_grpc_client *c, int64_t deadline)
{
    nghttp2_session_callbacks *cb;
    if (nghttp2_session_callbacks_new(&cb) != 0) return GB_ERR_NOMEM;
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_error_callback2(cb, on_h2_error);
    nghttp2_session_callbacks_set_data_source_read_length_callback(cb, req_read_length);
    int rc = nghttp2_session_client_new(&c->h2, cb, c);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0) return GB_ERR_NOMEM;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, GRPC_STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 64 * 1024},
    };
    if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) != 0 ||
        nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, GRPC_CONN_WINDOW) != 0)
        return GB_ERR_NOMEM;
    return h2_flush(c, deadline);
}

static gb_status conn_open(net_grpc_client *c, int64_t deadline)
{
    gb_status st = tcp_connect(c, deadline);
    if (st == GB_OK && c->ssl_ctx) st = tls_handshake(c, deadline);
    if (st == GB_OK) st = h2_open(c, deadline);
    if (st != GB_OK) {
        net_grpc_client_close(c);
        return st;
    }
    c->connects++;
    c->last_rx_ns = gb_mono_ns();
    return GB_OK;
}

/* Keeps a reused connection only if it is still usable: drains pending input (GOAWAY, EOF),
 * and with permit_without_stream probes an idle one with a PING. */
static void conn_check(net_grpc_client *c, int64_t deadline)
{
    bool ww;
    if (!c->h2) return;
    if (h2_drain(c, &ww) != GB_OK || c->goaway || c->eof || !nghttp2_session_want_read(c->h2)) {
        net_grpc_client_close(c);
        return;
    }
    int64_t now = gb_mono_ns();
    if (c->o.keepalive_time > 0 && c->o.keepalive_permit_without_stream &&
        now - c->last_rx_ns >= c->o.keepalive_time) {
        int64_t until = now + c->o.keepalive_timeout;
        if (until > deadline) until = deadline;
        if (nghttp2_submit_ping(c->h2, NGHTTP2_FLAG_NONE, NULL) != 0 ||
            h2_flush(c, until) != GB_OK) {
            net_grpc_client_close(c);
            return;
        }
        c->ping_sent_ns = now;
        while (c->ping_sent_ns) {
            int w = wait_fd(c->fd, POLLIN, until);
            if (w <= 0 || h2_drain(c, &ww) != GB_OK || c->goaway) {
                net_grpc_client_close(c);
                return;
            }
        }
    }
}

/* ---- the call ------------------------------------------------------------------------------- */

static int32_t http_to_grpc(int http)
{
    switch (http) {
    case 400:
        return ST_INTERNAL;
    case 401:
        return ST_UNAUTHENTICATED;
    case 403:
        return ST_PERMISSION_DENIED;
    case 404:
        return ST_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
        return ST_UNAVAILABLE;
    default:
        return ST_UNKNOWN;
    }
}

static void call_reset(net_grpc_client *c)
{
    c->stream_id = -1;
    c->req_off = 0;
    gb_sbuf_reset(&c->raw);
    gb_sbuf_reset(&c->msg);
    c->closed = false;
    c->stream_err = 0;
    c->stream_rx = false;
    c->too_big = false;
    c->http_status = 0;
    c->grpc_status = -1;
    c->grpc_message[0] = '\0';
    c->encoding[0] = '\0';
    c->content_type[0] = '\0';
    c->has_retry = false;
    c->retry_ns = 0;
    c->errbuf[0] = '\0';
}

static void add_nv(nghttp2_nv *nv, size_t *n, const char *name, size_t nl, const char *value)
{
    nv[*n].name = (uint8_t *)(uintptr_t)name;
    nv[*n].namelen = nl;
    nv[*n].value = (uint8_t *)(uintptr_t)value;
    nv[*n].valuelen = strlen(value);
    nv[*n].flags = NGHTTP2_NV_FLAG_NONE;
    (*n)++;
}

static bool reserved_header(const char *n)
{
    return n[0] == ':' || strcmp(n, "content-type") == 0 || strcmp(n, "te") == 0 ||
           strcmp(n, "grpc-timeout") == 0 || strcmp(n, "grpc-encoding") == 0 ||
           strcmp(n, "grpc-accept-encoding") == 0 || strcmp(n, "user-agent") == 0 ||
           strcmp(n, "connection") == 0 || strcmp(n, "host") == 0 ||
           strcmp(n, "transfer-encoding") == 0;
}

typedef enum attempt_result {
    ATT_DONE,      /* stream closed; response fields are set */
    ATT_TIMEOUT,   /* deadline passed */
    ATT_TRANSPORT, /* connection failed (errbuf) */
    ATT_REPLAY,    /* the server never saw the stream: safe to replay on a new connection */
} attempt_result;

static attempt_result attempt(net_grpc_client *c, const char *path, const net_grpc_header *hdrs,
                              size_t n_hdrs, int64_t deadline, bool reused)
{
    char timeout[24];
    nghttp2_nv stackv[24], *nv = stackv;
    size_t nn = 0;
    attempt_result ar = ATT_TRANSPORT;
    char *lower = NULL;
    size_t lower_len = 0;

    call_reset(c);
    int64_t now = gb_mono_ns();
    net_grpc_format_timeout(deadline - now, timeout, sizeof(timeout));
    if (n_hdrs + 12 > sizeof(stackv) / sizeof(stackv[0])) {
        nv = malloc((n_hdrs + 12) * sizeof(*nv));
        if (!nv) {
            snprintf(c->errbuf, sizeof(c->errbuf), "out of memory");
            return ATT_TRANSPORT;
        }
    }
    for (size_t i = 0; i < n_hdrs; i++)
        if (hdrs[i].name) lower_len += strlen(hdrs[i].name) + 1;
    /* lower-cased names live in a buffer the client keeps across calls */
    gb_sbuf_reset(&c->names);
    if (gb_sbuf_reserve(&c->names, lower_len + 1) != GB_OK) {
        snprintf(c->errbuf, sizeof(c->errbuf), "out of memory");
        goto out;
    }
    lower = c->names.data;
    add_nv(nv, &nn, ":method", 7, "POST");
    add_nv(nv, &nn, ":scheme", 7, c->ssl_ctx ? "https" : "http");
    add_nv(nv, &nn, ":path", 5, path);
    add_nv(nv, &nn, ":authority", 10, c->authority);
    add_nv(nv, &nn, "content-type", 12, "application/grpc");
    add_nv(nv, &nn, "te", 2, "trailers");
    add_nv(nv, &nn, "user-agent", 10, c->user_agent);
    add_nv(nv, &nn, "grpc-timeout", 12, timeout);
    if (c->o.compression != NET_GRPC_COMP_NONE)
        add_nv(nv, &nn, "grpc-encoding", 13, net_grpc_compression_name(c->o.compression));
    add_nv(nv, &nn, "grpc-accept-encoding", 20, "identity,gzip,zstd,snappy");
    size_t lo = 0;
    for (size_t i = 0; i < n_hdrs; i++) {
        if (!hdrs[i].name || !hdrs[i].value || !*hdrs[i].name) continue;
        char *ln = lower + lo;
        size_t l = strlen(hdrs[i].name);
        for (size_t k = 0; k < l; k++)
            ln[k] = (char)tolower((unsigned char)hdrs[i].name[k]);
        ln[l] = '\0';
        lo += l + 1;
        if (reserved_header(ln)) continue;
        add_nv(nv, &nn, ln, l, hdrs[i].value);
    }

    nghttp2_data_provider prd;
    prd.source.ptr = NULL;
    prd.read_callback = req_read;
    int32_t sid = nghttp2_submit_request(c->h2, NULL, nv, nn, &prd, c);
    if (sid < 0) {
        snprintf(c->errbuf, sizeof(c->errbuf), "http2: %s", nghttp2_strerror(sid));
        ar = reused ? ATT_REPLAY : ATT_TRANSPORT;
        goto out;
    }
    c->stream_id = sid;

    while (!c->closed) {
        gb_status st = h2_flush(c, deadline);
        if (st == GB_ERR_TIMEOUT) {
            ar = ATT_TIMEOUT;
            goto out;
        }
        if (st != GB_OK) {
            ar = reused && !c->stream_rx ? ATT_REPLAY : ATT_TRANSPORT;
            goto out;
        }
        if (!nghttp2_session_want_read(c->h2) && !c->goaway) {
            /* nghttp2 sent GOAWAY for a protocol error of the peer and ended the session */
            snprintf(c->errbuf, sizeof(c->errbuf), "http2 protocol error from peer: %s",
                     c->h2err[0] ? c->h2err : "session ended");
            c->eof = true;
            ar = ATT_TRANSPORT;
            goto out;
        }
        bool ww = false;
        st = h2_drain(c, &ww);
        if (c->closed) break;
        if (st != GB_OK) {
            /* GOAWAY below our id or EOF on a reused connection before any answer: the server
             * did not process the stream */
            bool unseen = c->goaway && c->goaway_last_stream < sid;
            ar = (reused && !c->stream_rx) || unseen ? ATT_REPLAY : ATT_TRANSPORT;
            goto out;
        }
        if (c->goaway && c->goaway_last_stream < sid) {
            snprintf(c->errbuf, sizeof(c->errbuf), "server sent GOAWAY");
            ar = ATT_REPLAY;
            goto out;
        }
        if (nghttp2_session_want_write(c->h2)) continue;
        /* keepalive while the call is in flight */
        now = gb_mono_ns();
        int64_t wake = deadline;
        if (c->o.keepalive_time > 0) {
            if (c->ping_sent_ns) {
                if (now - c->ping_sent_ns >= c->o.keepalive_timeout) {
                    snprintf(c->errbuf, sizeof(c->errbuf), "keepalive ping not acknowledged");
                    ar = ATT_TRANSPORT;
                    goto out;
                }
                if (c->ping_sent_ns + c->o.keepalive_timeout < wake)
                    wake = c->ping_sent_ns + c->o.keepalive_timeout;
            } else if (now - c->last_rx_ns >= c->o.keepalive_time) {
                nghttp2_submit_ping(c->h2, NGHTTP2_FLAG_NONE, NULL);
                c->ping_sent_ns = now;
                continue;
            } else if (c->last_rx_ns + c->o.keepalive_time < wake) {
                wake = c->last_rx_ns + c->o.keepalive_time;
            }
        }
        int w = wait_fd(c->fd, (short)(POLLIN | (ww ? POLLOUT : 0)), wake);
        if (w < 0) {
            snprintf(c->errbuf, sizeof(c->errbuf), "poll: %s", strerror(errno));
            ar = ATT_TRANSPORT;
            goto out;
        }
        if (w == 0 && gb_mono_ns() >= deadline) {
            ar = ATT_TIMEOUT;
            goto out;
        }
    }
    if (!c->stream_rx && c->stream_err == NGHTTP2_REFUSED_STREAM) {
        snprintf(c->errbuf, sizeof(c->errbuf), "stream refused by server");
        ar = ATT_REPLAY;
        goto out;
    }
    ar = ATT_DONE;
out:
    if (nv != stackv) free(nv);
    return ar;
}

static void finish_response(net_grpc_client *c, net_grpc_result *res)
{
    if (c->too_big) {
        res->status = ST_RESOURCE_EXHAUSTED;
        snprintf(res->message, sizeof(res->message), "response larger than %zu bytes", c->max_resp);
        res->transport_error = true;
        return;
    }
    if (c->grpc_status < 0) {
        if (c->http_status && c->http_status != 200) {
            res->status = http_to_grpc(c->http_status);
            snprintf(res->message, sizeof(res->message), "unexpected HTTP status %d%s%s",
                     c->http_status, c->content_type[0] ? ", content-type " : "", c->content_type);
        } else if (c->stream_err) {
            uint32_t e = c->stream_err;
            res->status = e == NGHTTP2_REFUSED_STREAM        ? ST_UNAVAILABLE
                          : e == NGHTTP2_CANCEL              ? ST_CANCELLED
                          : e == NGHTTP2_ENHANCE_YOUR_CALM   ? ST_RESOURCE_EXHAUSTED
                          : e == NGHTTP2_INADEQUATE_SECURITY ? ST_PERMISSION_DENIED
                                                             : ST_INTERNAL;
            snprintf(res->message, sizeof(res->message), "stream reset by server: %s",
                     nghttp2_http2_strerror(e));
        } else {
            res->status = ST_INTERNAL;
            snprintf(res->message, sizeof(res->message),
                     "server closed the stream without grpc-status");
        }
        res->transport_error = true;
        return;
    }
    res->status = c->grpc_status;
    snprintf(res->message, sizeof(res->message), "%s", c->grpc_message);
    res->has_retry_info = c->has_retry;
    res->retry_delay_ns = c->retry_ns;
    if (c->grpc_status != ST_OK || c->raw.len == 0) return;
    gb_status st = net_grpc_unframe((const uint8_t *)c->raw.data, c->raw.len, c->encoding,
                                    c->max_resp, &c->msg);
    if (st == GB_OK) {
        res->response = (const uint8_t *)c->msg.data;
        res->response_len = c->msg.len;
        if (!res->response) res->response = (const uint8_t *)"";
        return;
    }
    res->transport_error = true;
    if (st == GB_ERR_LIMIT) {
        res->status = ST_RESOURCE_EXHAUSTED;
        snprintf(res->message, sizeof(res->message), "response larger than %zu bytes", c->max_resp);
    } else {
        res->status = ST_INTERNAL;
        snprintf(res->message, sizeof(res->message), "malformed response message (%s%s%s)",
                 st == GB_ERR_UNSUPPORTED ? "unsupported grpc-encoding " : "bad framing or data",
                 st == GB_ERR_UNSUPPORTED ? c->encoding : "", "");
    }
}

gb_status net_grpc_client_call(net_grpc_client *c, const char *path, const uint8_t *req, size_t len,
                               const net_grpc_header *hdrs, size_t n_hdrs, int64_t deadline_ns,
                               net_grpc_result *res)
{
    memset(res, 0, sizeof(*res));
    int64_t now = gb_mono_ns();
    int64_t deadline = deadline_ns > 0 ? deadline_ns : now + GRPC_NO_DEADLINE_NS;
    c->max_resp = c->o.max_response_bytes;
    gb_status st;
    gb_sbuf_reset(&c->req);
    if (now >= deadline) {
        res->status = ST_DEADLINE_EXCEEDED;
        res->transport_error = true;
        snprintf(res->message, sizeof(res->message), "deadline exceeded before the call");
        return GB_ERR_TIMEOUT;
    }
    c->body = NULL;
    c->body_len = 0;
    if (c->o.compression == NET_GRPC_COMP_NONE) {
        if (len > 0xFFFFFFFFu) {
            st = GB_ERR_LIMIT;
        } else if ((st = gb_sbuf_reserve(&c->req, 5)) == GB_OK) {
            net_grpc_frame_write((uint8_t *)c->req.data, false, (uint32_t)len);
            c->req.len = 5;
            c->body = req;
            c->body_len = len;
        }
    } else {
        st = frame_with(&c->comp, c->o.compression, c->o.compression_level, req, len, &c->req);
    }
    if (st != GB_OK) {
        res->status = ST_INTERNAL;
        res->transport_error = true;
        snprintf(res->message, sizeof(res->message), "cannot frame request: %s", gb_status_str(st));
        return GB_ERR_IO;
    }
    attempt_result ar = ATT_TRANSPORT;
    for (int round = 0; round < 2; round++) {
        bool reused = false;
        if (c->h2) {
            conn_check(c, deadline);
            reused = c->h2 != NULL;
        }
        if (!c->h2) {
            call_reset(c);
            st = conn_open(c, deadline);
            if (st != GB_OK) {
                ar = st == GB_ERR_TIMEOUT ? ATT_TIMEOUT : ATT_TRANSPORT;
                break;
            }
        }
        ar = attempt(c, path, hdrs, n_hdrs, deadline, reused);
        if (ar != ATT_REPLAY) break;
        net_grpc_client_close(c);
        if (gb_mono_ns() >= deadline) {
            ar = ATT_TIMEOUT;
            break;
        }
        ar = ATT_TRANSPORT;
    }
    switch (ar) {
    case ATT_DONE:
        finish_response(c, res);
        if (c->goaway || c->eof) net_grpc_client_close(c);
        if (res->status == ST_OK) return GB_OK;
        if (res->transport_error)
            return res->status == ST_RESOURCE_EXHAUSTED ? GB_ERR_LIMIT : GB_ERR_IO;
        return GB_ERR_PERMANENT;
    case ATT_TIMEOUT:
        res->status = ST_DEADLINE_EXCEEDED;
        res->transport_error = true;
        snprintf(res->message, sizeof(res->message), "deadline exceeded%s%.200s",
                 c->errbuf[0] ? ": " : "", c->errbuf);
        if (c->h2 && !c->eof && c->stream_id > 0 && !c->closed) {
            /* cancel the stream; the connection stays usable if the peer was just slow */
            nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, c->stream_id, NGHTTP2_CANCEL);
            if (h2_flush(c, gb_mono_ns() + 100 * GB_NS_PER_MS) != GB_OK || !c->stream_rx)
                net_grpc_client_close(c);
        } else {
            net_grpc_client_close(c);
        }
        return GB_ERR_TIMEOUT;
    default:
        res->status = ST_UNAVAILABLE;
        res->transport_error = true;
        snprintf(res->message, sizeof(res->message), "%.250s",
                 c->errbuf[0] ? c->errbuf : "connection failed");
        net_grpc_client_close(c);
        return GB_ERR_IO;
    }
}
