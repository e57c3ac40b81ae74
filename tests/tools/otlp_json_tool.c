/* Test tool: converts Export*ServiceRequest messages between OTLP/JSON and protobuf through the
 * pdata model, stdin to stdout.
 * Usage: otlp_json_tool traces|metrics|logs json2proto|proto2json|json [framed]
 *   json2proto: decode OTLP/JSON, encode protobuf;
 *   proto2json: decode protobuf, encode OTLP/JSON;
 *   json:       decode OTLP/JSON, encode OTLP/JSON.
 * Without "framed", stdin is one message; exit status 0 on success, 2 on a decode error (reason
 * on stderr), 1 on usage/IO errors. With "framed", stdin is a sequence of messages, each a 4-byte
 * big-endian length and the bytes, and each answer is one status byte (0 ok, 2 decode error,
 * 1 encode error), a 4-byte big-endian length and the output (or the error text): one process
 * for a whole test run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/otlp.h"

typedef struct conv {
    pd_signal sig;
    bool from_json, to_json;
} conv;

/* Converts one message; out receives the result or the error text. Returns 0, 1 or 2. */
static int convert(const conv *c, const uint8_t *data, size_t len, gb_sbuf *out)
{
    gb_buf *buf = NULL;
    pd_batch *b = NULL;
    otlp_error err = {{0}};
    int rc = 0;
    if (gb_buf_new(len ? len : 1, &buf) || gb_buf_append(&buf, data, len) ||
        pd_batch_new(c->sig, 0, &b)) {
        rc = 1;
        goto out;
    }
    gb_status st = c->from_json ? otlp_decode_json(b, (const char *)buf->data, buf->len, &err)
                                : otlp_decode_proto(b, buf, buf->data, buf->len, &err);
    if (st != GB_OK) {
        gb_sbuf_puts(out, err.msg);
        rc = 2;
        goto out;
    }
    st = c->to_json ? otlp_encode_json(b, out) : otlp_encode_proto(b, out);
    if (st != GB_OK) rc = 1;
out:
    pd_batch_unref(b);
    gb_buf_unref(buf);
    return rc;
}

static bool read_full(void *p, size_t n)
{
    return n == 0 || fread(p, 1, n, stdin) == n;
}

static int run_framed(const conv *c)
{
    uint8_t hdr[4];
    while (read_full(hdr, 4)) {
        size_t len = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3];
        uint8_t *data = malloc(len ? len : 1);
        if (!data || !read_full(data, len)) {
            free(data);
            return 1;
        }
        gb_sbuf out;
        gb_sbuf_init(&out, 0);
        int rc = convert(c, data, len, &out);
        free(data);
        uint8_t ans[5] = {(uint8_t)rc, (uint8_t)(out.len >> 24), (uint8_t)(out.len >> 16),
                          (uint8_t)(out.len >> 8), (uint8_t)out.len};
        bool ok = fwrite(ans, 1, 5, stdout) == 5 &&
                  (out.len == 0 || fwrite(out.data, 1, out.len, stdout) == out.len);
        gb_sbuf_free(&out);
        if (!ok) return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    conv c = {0};
    if (argc < 3) goto usage;
    if (!strcmp(argv[1], "traces"))
        c.sig = PD_TRACES;
    else if (!strcmp(argv[1], "metrics"))
        c.sig = PD_METRICS;
    else if (!strcmp(argv[1], "logs"))
        c.sig = PD_LOGS;
    else
        goto usage;
    c.from_json = !strcmp(argv[2], "json2proto") || !strcmp(argv[2], "json");
    c.to_json = !strcmp(argv[2], "proto2json") || !strcmp(argv[2], "json");
    if (!c.from_json && !c.to_json) goto usage;
    if (argc > 3) {
        if (strcmp(argv[3], "framed")) goto usage;
        return run_framed(&c);
    }

    gb_sbuf in, out;
    gb_sbuf_init(&in, 0);
    gb_sbuf_init(&out, 0);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (gb_sbuf_append(&in, chunk, n)) return 1;
    int rc = convert(&c, (const uint8_t *)in.data, in.len, &out);
    if (rc == 2)
        fprintf(stderr, "%s\n", out.data);
    else if (rc == 0 && out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = 1;
    gb_sbuf_free(&in);
    gb_sbuf_free(&out);
    return rc;
usage:
    fprintf(stderr,
            "usage: otlp_json_tool traces|metrics|logs json2proto|proto2json|json [framed]\n");
    return 1;
}
