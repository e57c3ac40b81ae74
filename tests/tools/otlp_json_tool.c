/* Test tool: converts an Export*ServiceRequest between OTLP/JSON and protobuf on stdin/stdout
 * through the pdata model. Usage: otlp_json_tool traces|metrics|logs json2proto|proto2json|json
 *   json2proto: decode OTLP/JSON, encode protobuf;
 *   proto2json: decode protobuf, encode OTLP/JSON;
 *   json:       decode OTLP/JSON, encode OTLP/JSON.
 * Exit status 0 on success, 2 on a decode error (reason on stderr), 1 on usage/IO errors. */
#include <stdio.h>
#include <string.h>

#include "otlp/otlp.h"

int main(int argc, char **argv)
{
    pd_signal sig;
    if (argc < 3) goto usage;
    if (!strcmp(argv[1], "traces"))
        sig = PD_TRACES;
    else if (!strcmp(argv[1], "metrics"))
        sig = PD_METRICS;
    else if (!strcmp(argv[1], "logs"))
        sig = PD_LOGS;
    else
        goto usage;
    bool from_json = !strcmp(argv[2], "json2proto") || !strcmp(argv[2], "json");
    bool to_json = !strcmp(argv[2], "proto2json") || !strcmp(argv[2], "json");
    if (!from_json && !to_json) goto usage;

    gb_buf *buf = NULL;
    if (gb_buf_new(65536, &buf)) return 1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (gb_buf_append(&buf, chunk, n)) return 1;

    pd_batch *b = NULL;
    otlp_error err = {{0}};
    int rc = 0;
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    if (pd_batch_new(sig, 0, &b)) return 1;
    gb_status st = from_json ? otlp_decode_json(b, (const char *)buf->data, buf->len, &err)
                             : otlp_decode_proto(b, buf, buf->data, buf->len, &err);
    if (st != GB_OK) {
        fprintf(stderr, "%s\n", err.msg);
        rc = 2;
        goto out;
    }
    st = to_json ? otlp_encode_json(b, &out) : otlp_encode_proto(b, &out);
    if (st != GB_OK)
        rc = 1;
    else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = 1;
out:
    gb_sbuf_free(&out);
    pd_batch_unref(b);
    gb_buf_unref(buf);
    return rc;
usage:
    fprintf(stderr, "usage: otlp_json_tool traces|metrics|logs json2proto|proto2json|json\n");
    return 1;
}
