/* Test tool: decodes an Export*ServiceRequest (protobuf) from stdin and writes our re-encoding
 * to stdout. Usage: otlp_roundtrip traces|metrics|logs [clone|count|stream]
 *   clone: re-encode a pd_batch_clone of the decoded batch instead of the batch itself;
 *   count: print the item count instead of the bytes;
 *   stream: many messages in one run. Input frames are <u32 LE length><bytes>; for each, the
 *           output frame is <u32 LE status><u32 LE length><direct re-encoding><u32 LE length>
 *           <re-encoding of the clone>, status 0 = ok, else the gb_status of the decode (the
 *           payloads are then the error message and nothing).
 * Exit status 0 on success, 2 on a decode error (reason on stderr), 1 on usage/IO errors. */
#include <stdio.h>
#include <string.h>

#include "otlp/otlp.h"

static void put_u32(uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(b, 1, 4, stdout);
}

static void put_frame(const void *p, size_t n)
{
    put_u32((uint32_t)n);
    if (n) fwrite(p, 1, n, stdout);
}

static int stream(pd_signal sig)
{
    uint8_t hdr[4];
    while (fread(hdr, 1, 4, stdin) == 4) {
        uint32_t n = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 |
                     (uint32_t)hdr[3] << 24;
        gb_buf *buf = NULL;
        if (gb_buf_new(n ? n : 1, &buf)) return 1;
        if (n && fread(buf->data, 1, n, stdin) != n) return 1;
        buf->len = n;
        pd_batch *b = NULL, *c = NULL;
        otlp_error err;
        if (pd_batch_new(sig, 0, &b)) return 1;
        gb_status st = otlp_decode_proto(b, buf, buf->data, buf->len, &err);
        gb_buf_unref(buf);
        put_u32((uint32_t)st);
        if (st != GB_OK) {
            put_frame(err.msg, strlen(err.msg));
            put_frame("", 0);
            pd_batch_unref(b);
            continue;
        }
        gb_sbuf out;
        gb_sbuf_init(&out, 0);
        if (otlp_encode_proto(b, &out) != GB_OK) return 1;
        put_frame(out.data, out.len);
        gb_sbuf_reset(&out);
        if (pd_batch_clone(b, &c) != GB_OK || otlp_encode_proto(c, &out) != GB_OK) return 1;
        put_frame(out.data, out.len);
        gb_sbuf_free(&out);
        pd_batch_unref(c);
        pd_batch_unref(b);
    }
    return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
    pd_signal sig;
    if (argc < 2) goto usage;
    if (!strcmp(argv[1], "traces"))
        sig = PD_TRACES;
    else if (!strcmp(argv[1], "metrics"))
        sig = PD_METRICS;
    else if (!strcmp(argv[1], "logs"))
        sig = PD_LOGS;
    else
        goto usage;
    const char *mode = argc > 2 ? argv[2] : "";
    if (!strcmp(mode, "stream")) return stream(sig);

    gb_buf *buf = NULL;
    if (gb_buf_new(65536, &buf)) return 1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (gb_buf_append(&buf, chunk, n)) return 1;

    pd_batch *b = NULL, *c = NULL;
    otlp_error err;
    int rc = 0;
    if (pd_batch_new(sig, 0, &b)) return 1;
    if (otlp_decode_proto(b, buf, buf->data, buf->len, &err) != GB_OK) {
        fprintf(stderr, "%s\n", err.msg);
        rc = 2;
        goto out;
    }
    if (!strcmp(mode, "count")) {
        printf("%llu\n", (unsigned long long)pd_batch_count(b));
        goto out;
    }
    const pd_batch *src = b;
    if (!strcmp(mode, "clone")) {
        if (pd_batch_clone(b, &c)) {
            rc = 1;
            goto out;
        }
        src = c;
    }
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    if (otlp_encode_proto(src, &out) != GB_OK)
        rc = 1;
    else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = 1;
    gb_sbuf_free(&out);
out:
    pd_batch_unref(c);
    pd_batch_unref(b);
    gb_buf_unref(buf);
    return rc;
usage:
    fprintf(stderr, "usage: otlp_roundtrip traces|metrics|logs [clone|count]\n");
    return 1;
}
