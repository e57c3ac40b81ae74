/* Micro-benchmark of the OTLP protobuf codec: a 1000-span ExportTraceServiceRequest with 25
 * attributes per span (string, int, bool and double values) plus resource and scope attributes,
 * decoded into a fresh batch and re-encoded many times. Prints ns per span for each direction.
 *
 * Build (after the normal CMake build):
 *   gcc -O2 -Isrc bench/micro/bench_otlp_proto.c build/lib/libgenops_core.a -lm -lpthread \
 *       -o build/bench_otlp_proto && build/bench_otlp_proto [iterations] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "otlp/otlp.h"

#define SPANS 1000
#define ATTRS 25

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void check(gb_status st, const char *what)
{
    if (st != GB_OK) {
        fprintf(stderr, "%s failed: %s\n", what, gb_status_str(st));
        exit(1);
    }
}

static pd_batch *build_batch(void)
{
    static const char *const keys[] = {"http.request.method",
                                       "http.response.status_code",
                                       "url.full",
                                       "server.address",
                                       "server.port",
                                       "network.protocol.version",
                                       "user_agent.original",
                                       "client.address",
                                       "db.system",
                                       "db.statement",
                                       "rpc.system",
                                       "rpc.service",
                                       "rpc.method",
                                       "messaging.system",
                                       "thread.id",
                                       "thread.name",
                                       "code.function",
                                       "code.namespace",
                                       "code.lineno",
                                       "peer.service",
                                       "gen_ai.system",
                                       "gen_ai.request.model",
                                       "gen_ai.usage.input_tokens",
                                       "gen_ai.usage.output_tokens",
                                       "error"};
    pd_batch *b;
    check(pd_batch_new(PD_TRACES, 0, &b), "batch");
    gb_arena *a = &b->arena;
    pd_resource_spans *rs = gb_arena_calloc(a, 1, sizeof *rs);
    b->u.traces.v = rs;
    b->u.traces.n = 1;
    check(pd_attrs_put(a, &rs->resource.attrs, GB_STR_LIT("service.name"),
                       pd_any_str(GB_STR_LIT("checkout"))),
          "attr");
    check(pd_attrs_put(a, &rs->resource.attrs, GB_STR_LIT("host.name"),
                       pd_any_str(GB_STR_LIT("node-17.example.internal"))),
          "attr");
    rs->scope_spans = gb_arena_calloc(a, 1, sizeof(pd_scope_spans));
    rs->n_scope_spans = 1;
    pd_scope_spans *ss = rs->scope_spans;
    ss->scope.name = GB_STR_LIT("io.opentelemetry.instrumentation.http");
    ss->scope.version = GB_STR_LIT("1.32.0");
    ss->spans = gb_arena_calloc(a, SPANS, sizeof(pd_span));
    ss->n_spans = SPANS;
    for (int i = 0; i < SPANS; i++) {
        pd_span *s = &ss->spans[i];
        for (int k = 0; k < 16; k++)
            s->trace_id.b[k] = (uint8_t)(i * 7 + k + 1);
        for (int k = 0; k < 8; k++)
            s->span_id.b[k] = (uint8_t)(i * 13 + k + 1);
        if (i % 4) s->parent_span_id = ss->spans[i - 1].span_id;
        s->name = GB_STR_LIT("GET /api/v1/orders/{id}");
        s->kind = PD_SPAN_KIND_SERVER;
        s->start_time_unix_nano = 1700000000000000000ull + (uint64_t)i * 1000;
        s->end_time_unix_nano = s->start_time_unix_nano + 123456;
        s->status.code = PD_STATUS_OK;
        s->attrs.v = gb_arena_alloc(a, ATTRS * sizeof(pd_kv));
        s->attrs.cap = ATTRS;
        for (int k = 0; k < ATTRS; k++) {
            pd_kv *kv = &s->attrs.v[s->attrs.n++];
            kv->key = gb_str_c(keys[k]);
            switch (k % 5) {
            case 1:
                kv->value = pd_any_int(200 + k * 1000 + i);
                break;
            case 3:
                kv->value = pd_any_bool(k & 1);
                break;
            case 4:
                kv->value = pd_any_double(0.25 * k + i);
                break;
            default:
                kv->value = pd_any_str(GB_STR_LIT("some attribute value/42"));
                break;
            }
        }
    }
    return b;
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 200;
    pd_batch *src = build_batch();
    gb_sbuf wire;
    gb_sbuf_init(&wire, 0);
    check(otlp_encode_proto(src, &wire), "encode");
    gb_buf *buf;
    check(gb_buf_new(wire.len, &buf), "buf");
    check(gb_buf_append(&buf, wire.data, wire.len), "buf");

    /* decode: fresh batch per request, as the receiver does */
    double best_dec = 1e18, best_enc = 1e18;
    for (int round = 0; round < 5; round++) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++) {
            pd_batch *b;
            otlp_error err;
            check(pd_batch_new(PD_TRACES, 0, &b), "batch");
            if (otlp_decode_proto(b, buf, buf->data, buf->len, &err) != GB_OK) {
                fprintf(stderr, "decode: %s\n", err.msg);
                return 1;
            }
            pd_batch_unref(b);
        }
        double dec = (now_ns() - t0) / ((double)iters * SPANS);
        if (dec < best_dec) best_dec = dec;
    }
    pd_batch *d;
    otlp_error err;
    check(pd_batch_new(PD_TRACES, 0, &d), "batch");
    check(otlp_decode_proto(d, buf, buf->data, buf->len, &err), "decode");
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    for (int round = 0; round < 5; round++) {
        double t0 = now_ns();
        for (int i = 0; i < iters; i++) {
            gb_sbuf_reset(&out);
            check(otlp_encode_proto(d, &out), "encode");
        }
        double enc = (now_ns() - t0) / ((double)iters * SPANS);
        if (enc < best_enc) best_enc = enc;
    }
    if (out.len != wire.len || memcmp(out.data, wire.data, wire.len) != 0) {
        fprintf(stderr, "re-encoding differs\n");
        return 1;
    }
    printf("request: %d spans x %d attrs, %zu bytes (%.0f B/span)\n", SPANS, ATTRS, wire.len,
           (double)wire.len / SPANS);
    printf("decode: %.1f ns/span (%.0f MB/s)\n", best_dec, wire.len / (best_dec * SPANS) * 1e3);
    printf("encode: %.1f ns/span (%.0f MB/s)\n", best_enc, wire.len / (best_enc * SPANS) * 1e3);
    gb_sbuf_free(&out);
    gb_sbuf_free(&wire);
    pd_batch_unref(d);
    pd_batch_unref(src);
    gb_buf_unref(buf);
    return 0;
}
