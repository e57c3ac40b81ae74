/* Test tool: decodes an Export*ServiceRequest (protobuf) from stdin and writes our re-encoding
 * to stdout. Usage: otlp_roundtrip traces|metrics|logs [clone|count]
 *   clone: re-encode a pd_batch_clone of the decoded batch instead of the batch itself;
 *   count: print the item count instead of the bytes.
 * Exit status 0 on success, 2 on a decode error (reason on stderr), 1 on usage/IO errors. */
#include <stdio.h>
#include <string.h>

#include "otlp/otlp.h"

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
