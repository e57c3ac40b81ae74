/* OTLP protobuf codec: traces, AnyValue kinds, ids, malformed input, limits, appending. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "otlp/otlp.h"
#include "pbtest.h"

static pd_batch *decode_ok(pd_signal s, const uint8_t *d, size_t n)
{
    pd_batch *b = NULL;
    otlp_error err;
    assert_int_equal(pd_batch_new(s, 0, &b), GB_OK);
    gb_status st = otlp_decode_proto(b, NULL, d, n, &err);
    if (st != GB_OK) fail_msg("decode failed: %s", err.msg);
    return b;
}

static gb_status decode_err(pd_signal s, const uint8_t *d, size_t n, otlp_error *err)
{
    pd_batch *b = NULL;
    assert_int_equal(pd_batch_new(s, 0, &b), GB_OK);
    gb_status st = otlp_decode_proto(b, NULL, d, n, err);
    pd_batch_unref(b);
    return st;
}

static void encode(const pd_batch *b, gb_sbuf *out)
{
    gb_sbuf_init(out, 0);
    assert_int_equal(otlp_encode_proto(b, out), GB_OK);
}

/* A span with every field set, wrapped in a full request. Fields are written in field-number
 * order, so our encoder must reproduce these exact bytes. */
static pb *build_trace_request(void)
{
    static const uint8_t tid[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t sid[8] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
    static const uint8_t pid[8] = {0xb1, 0, 0, 0, 0, 0, 0, 0xb8};
    pb *span = pb_new();
    pb_bytes(span, 1, tid, 16);
    pb_bytes(span, 2, sid, 8);
    pb_str(span, 3, "k=v");
    pb_bytes(span, 4, pid, 8);
    pb_str(span, 5, "GET /");
    pb_uv(span, 6, 2);
    pb_f64(span, 7, 1700000000000000000ull);
    pb_f64(span, 8, 1700000000000001000ull);
    pb_kv_str(span, 9, "http.method", "GET");
    {
        pb *kv = pb_new(), *any = pb_new();
        pb_uv(any, 3, (uint64_t)-42);
        pb_str(kv, 1, "n");
        pb_msg(kv, 2, any);
        pb_msg(span, 9, kv);
    }
    pb_uv(span, 10, 3);
    {
        pb *ev = pb_new();
        pb_f64(ev, 1, 1700000000000000500ull);
        pb_str(ev, 2, "exception");
        pb_kv_str(ev, 3, "exception.type", "E");
        pb_uv(ev, 4, 1);
        pb_msg(span, 11, ev);
    }
    pb_uv(span, 12, 4);
    {
        pb *ln = pb_new();
        pb_bytes(ln, 1, tid, 16);
        pb_bytes(ln, 2, pid, 8);
        pb_str(ln, 3, "ts");
        pb_kv_str(ln, 4, "a", "b");
        pb_uv(ln, 5, 7);
        pb_f32(ln, 6, 0x301);
        pb_msg(span, 13, ln);
    }
    pb_uv(span, 14, 5);
    {
        pb *stat = pb_new();
        pb_str(stat, 2, "boom");
        pb_uv(stat, 3, 2);
        pb_msg(span, 15, stat);
    }
    pb_f32(span, 16, 0x101);

    pb *scope = pb_new();
    pb_str(scope, 1, "lib");
    pb_str(scope, 2, "1.0");
    pb_kv_str(scope, 3, "sk", "sv");
    pb_uv(scope, 4, 9);
    pb *ss = pb_new();
    pb_msg(ss, 1, scope);
    pb_msg(ss, 2, span);
    pb_str(ss, 3, "https://schema/scope");

    pb *res = pb_new();
    pb_kv_str(res, 1, "service.name", "checkout");
    pb_uv(res, 2, 1);
    pb *rs = pb_new();
    pb_msg(rs, 1, res);
    pb_msg(rs, 2, ss);
    pb_str(rs, 3, "https://schema/res");

    pb *req = pb_new();
    pb_msg(req, 1, rs);
    return req;
}

static void test_trace_decode_fields_and_reencode(void **state)
{
    (void)state;
    pb *req = build_trace_request();
    pd_batch *b = decode_ok(PD_TRACES, req->d, req->n);
    assert_int_equal(b->u.traces.n, 1);
    pd_resource_spans *rs = &b->u.traces.v[0];
    assert_true(gb_str_eq_c(rs->schema_url, "https://schema/res"));
    assert_int_equal(rs->resource.attrs.n, 1);
    assert_true(gb_str_eq_c(rs->resource.attrs.v[0].key, "service.name"));
    assert_true(gb_str_eq_c(rs->resource.attrs.v[0].value.u.str, "checkout"));
    assert_int_equal(rs->resource.dropped_attributes_count, 1);
    assert_int_equal(rs->n_scope_spans, 1);
    pd_scope_spans *ss = &rs->scope_spans[0];
    assert_true(gb_str_eq_c(ss->scope.name, "lib"));
    assert_true(gb_str_eq_c(ss->scope.version, "1.0"));
    assert_int_equal(ss->scope.dropped_attributes_count, 9);
    assert_int_equal(ss->n_spans, 1);
    pd_span *s = &ss->spans[0];
    assert_int_equal(s->trace_id.b[0], 1);
    assert_int_equal(s->trace_id.b[15], 16);
    assert_int_equal(s->span_id.b[7], 0xa8);
    assert_int_equal(s->parent_span_id.b[0], 0xb1);
    assert_true(gb_str_eq_c(s->trace_state, "k=v"));
    assert_true(gb_str_eq_c(s->name, "GET /"));
    assert_int_equal(s->kind, PD_SPAN_KIND_SERVER);
    assert_int_equal(s->start_time_unix_nano, 1700000000000000000ull);
    assert_int_equal(s->end_time_unix_nano, 1700000000000001000ull);
    assert_int_equal(s->attrs.n, 2);
    assert_int_equal(s->attrs.v[1].value.type, PD_ANY_INT);
    assert_int_equal(s->attrs.v[1].value.u.i, -42);
    assert_int_equal(s->dropped_attributes_count, 3);
    assert_int_equal(s->n_events, 1);
    assert_true(gb_str_eq_c(s->events[0].name, "exception"));
    assert_int_equal(s->events[0].attrs.n, 1);
    assert_int_equal(s->dropped_events_count, 4);
    assert_int_equal(s->n_links, 1);
    assert_int_equal(s->links[0].flags, 0x301);
    assert_int_equal(s->links[0].dropped_attributes_count, 7);
    assert_int_equal(s->dropped_links_count, 5);
    assert_true(gb_str_eq_c(s->status.message, "boom"));
    assert_int_equal(s->status.code, PD_STATUS_ERROR);
    assert_int_equal(s->flags, 0x101);
    assert_int_equal(pd_batch_count(b), 1);
    /* zero-copy: strings point into the input */
    assert_true((const uint8_t *)s->name.ptr >= req->d &&
                (const uint8_t *)s->name.ptr < req->d + req->n);

    gb_sbuf out;
    encode(b, &out);
    assert_int_equal(out.len, req->n);
    assert_memory_equal(out.data, req->d, req->n);
    gb_sbuf_free(&out);
    pd_batch_unref(b);
    free(req);
}

/* Builds a batch by hand with every AnyValue kind, nested arrays and kvlists. */
static void test_trace_anyvalue_kinds_roundtrip(void **state)
{
    (void)state;
    pd_batch *b;
    assert_int_equal(pd_batch_new(PD_TRACES, 0, &b), GB_OK);
    gb_arena *a = &b->arena;
    b->u.traces.v = gb_arena_calloc(a, 1, sizeof(pd_resource_spans));
    b->u.traces.n = 1;
    pd_resource_spans *rs = b->u.traces.v;
    rs->scope_spans = gb_arena_calloc(a, 1, sizeof(pd_scope_spans));
    rs->n_scope_spans = 1;
    pd_span *s = gb_arena_calloc(a, 1, sizeof(pd_span));
    rs->scope_spans[0].spans = s;
    rs->scope_spans[0].n_spans = 1;
    s->name = GB_STR_LIT("s");
    s->trace_id.b[3] = 7;

    pd_any inner[3];
    inner[0] = pd_any_str(GB_STR_LIT(""));
    inner[1] = pd_any_bool(false);
    inner[2].type = PD_ANY_EMPTY;
    pd_kv nested_kv[2];
    nested_kv[0].key = GB_STR_LIT("x");
    nested_kv[0].value = pd_any_double(-0.0);
    nested_kv[1].key = GB_STR_LIT("arr");
    nested_kv[1].value.type = PD_ANY_ARRAY;
    nested_kv[1].value.u.arr.v = inner;
    nested_kv[1].value.u.arr.n = 3;

    const gb_str keys[] = {GB_STR_LIT("str"),   GB_STR_LIT("bool"),  GB_STR_LIT("int"),
                           GB_STR_LIT("dbl"),   GB_STR_LIT("array"), GB_STR_LIT("kvlist"),
                           GB_STR_LIT("bytes"), GB_STR_LIT("empty"), GB_STR_LIT("")};
    pd_any vals[9];
    vals[0] = pd_any_str(GB_STR_LIT("hello"));
    vals[1] = pd_any_bool(true);
    vals[2] = pd_any_int(INT64_MIN);
    vals[3] = pd_any_double(3.25);
    vals[4].type = PD_ANY_ARRAY;
    vals[4].u.arr.v = inner;
    vals[4].u.arr.n = 3;
    vals[5].type = PD_ANY_KVLIST;
    vals[5].u.kvl.v = nested_kv;
    vals[5].u.kvl.n = 2;
    vals[6].type = PD_ANY_BYTES;
    vals[6].u.str = gb_str_n("\x00\x01\xff", 3);
    vals[7].type = PD_ANY_EMPTY;
    vals[8] = pd_any_int(0);
    for (int i = 0; i < 9; i++)
        assert_int_equal(pd_attrs_put(a, &s->attrs, keys[i], vals[i]), GB_OK);

    gb_sbuf out;
    encode(b, &out);
    pd_batch *d = decode_ok(PD_TRACES, (const uint8_t *)out.data, out.len);
    pd_span *ds = &d->u.traces.v[0].scope_spans[0].spans[0];
    assert_int_equal(ds->attrs.n, 9);
    for (int i = 0; i < 9; i++) {
        assert_true(gb_str_eq(ds->attrs.v[i].key, keys[i]));
        assert_true(pd_any_equal(&ds->attrs.v[i].value, &vals[i]));
    }
    /* -0.0 keeps its sign bit */
    double z = ds->attrs.v[5].value.u.kvl.v[0].value.u.d;
    assert_true(z == 0.0 && 1.0 / z < 0);
    assert_int_equal(ds->trace_id.b[3], 7);
    /* re-encoding the decoded batch is byte-identical */
    gb_sbuf out2;
    encode(d, &out2);
    assert_int_equal(out2.len, out.len);
    assert_memory_equal(out2.data, out.data, out.len);
    gb_sbuf_free(&out2);
    gb_sbuf_free(&out);
    pd_batch_unref(d);
    pd_batch_unref(b);
}

static void test_trace_zero_ids_omitted(void **state)
{
    (void)state;
    static const uint8_t zeros[16];
    pb *span = pb_new();
    pb_bytes(span, 1, zeros, 16);
    pb_bytes(span, 2, zeros, 8);
    pb_bytes(span, 4, "", 0);
    pb_str(span, 5, "n");
    pb *ss = pb_new(), *rs = pb_new(), *req = pb_new();
    pb_msg(ss, 2, span);
    pb_msg(rs, 2, ss);
    pb_msg(req, 1, rs);
    pd_batch *b = decode_ok(PD_TRACES, req->d, req->n);
    pd_span *s = &b->u.traces.v[0].scope_spans[0].spans[0];
    assert_true(pd_trace_id_is_empty(&s->trace_id));
    assert_true(pd_span_id_is_empty(&s->span_id));
    gb_sbuf out;
    encode(b, &out);
    /* request{rs{ss{span{name}}}}: 0a 07 12 05 12 03 2a 01 6e */
    static const uint8_t want[] = {0x0a, 0x07, 0x12, 0x05, 0x12, 0x03, 0x2a, 0x01, 'n'};
    assert_int_equal(out.len, sizeof want);
    assert_memory_equal(out.data, want, sizeof want);
    gb_sbuf_free(&out);
    pd_batch_unref(b);
    free(req);
}

static void check_bad_id(uint32_t field, size_t len, const char *name)
{
    uint8_t id[20] = {1};
    pb *span = pb_new();
    pb_bytes(span, field, id, len);
    pb *ss = pb_new(), *rs = pb_new(), *req = pb_new();
    pb_msg(ss, 2, span);
    pb_msg(rs, 2, ss);
    pb_msg(req, 1, rs);
    otlp_error err;
    assert_int_equal(decode_err(PD_TRACES, req->d, req->n, &err), GB_ERR_INVALID);
    assert_non_null(strstr(err.msg, name));
    assert_non_null(strstr(err.msg, "bytes or empty"));
    free(req);
}

static void test_trace_invalid_ids(void **state)
{
    (void)state;
    check_bad_id(1, 15, "trace_id");
    check_bad_id(1, 17, "trace_id");
    check_bad_id(2, 7, "span_id");
    check_bad_id(2, 16, "span_id");
    check_bad_id(4, 9, "parent_span_id");
}

static void test_unknown_fields_skipped(void **state)
{
    (void)state;
    /* Unknown fields of every wire type at several levels, including a nested group. */
    pb *span = pb_new();
    pb_uv(span, 99, 12345);
    pb_str(span, 5, "x");
    pb_f64(span, 98, 1);
    pb_f32(span, 97, 2);
    pb_bytes(span, 96, "zz", 2);
    pb_tag(span, 95, 3); /* group { 1: varint, 2: group { } } */
    pb_uv(span, 1000, 1);
    pb_tag(span, 2, 3);
    pb_tag(span, 2, 4);
    pb_tag(span, 95, 4);
    pb *ss = pb_new(), *rs = pb_new(), *req = pb_new();
    pb_msg(ss, 2, span);
    pb_uv(ss, 50, 1);
    pb_msg(rs, 2, ss);
    pb_f32(rs, 51, 1);
    pb_msg(req, 1, rs);
    pb_bytes(req, 2, "unknown", 7);
    pd_batch *b = decode_ok(PD_TRACES, req->d, req->n);
    assert_true(gb_str_eq_c(b->u.traces.v[0].scope_spans[0].spans[0].name, "x"));
    gb_sbuf out;
    encode(b, &out);
    static const uint8_t want[] = {0x0a, 0x07, 0x12, 0x05, 0x12, 0x03, 0x2a, 0x01, 'x'};
    assert_int_equal(out.len, sizeof want);
    assert_memory_equal(out.data, want, sizeof want);
    gb_sbuf_free(&out);
    pd_batch_unref(b);
    free(req);
}

static void test_malformed_inputs(void **state)
{
    (void)state;
    otlp_error err;
    struct {
        const char *bytes;
        size_t len;
        const char *why;
    } cases[] = {
        {"\x0a\x05\x12\x03", 4, "past the end"},                        /* length past the end */
        {"\x0a", 1, "truncated"},                                       /* missing length */
        {"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 11, "varint"}, /* 10th byte > 1 */
        {"\x08\x80\x80", 3, "varint"},                                  /* truncated varint */
        {"\x09\x01\x02", 3, "truncated fixed"},                         /* truncated fixed64 */
        {"\x0d\x01", 2, "truncated fixed"},                             /* truncated fixed32 */
        {"\x0c", 1, "wire type"},                             /* end group without start */
        {"\x0e", 1, "wire type"},                             /* wire type 6 */
        {"\x0b\x08\x01", 3, "group"},                         /* unterminated group */
        {"\x00", 1, "field number"},                          /* field 0 */
        {"\x08\x01", 2, "wire type varint"},                  /* resource_spans as varint */
        {"\x0a\x02\x0a\x00\x0a\x02\x08\x05", 8, "wire type"}, /* resource as varint inside */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err.msg[0] = 0;
        gb_status st = decode_err(PD_TRACES, (const uint8_t *)cases[i].bytes, cases[i].len, &err);
        if (st != GB_ERR_INVALID) fail_msg("case %zu: status %d", i, st);
        if (!strstr(err.msg, cases[i].why)) fail_msg("case %zu: msg '%s'", i, err.msg);
        assert_non_null(strstr(err.msg, "proto: "));
        assert_null(strchr(err.msg, '\n'));
    }
    /* wrong wire type for a known span field */
    pb *span = pb_new();
    pb_uv(span, 5, 1); /* name as varint */
    pb *ss = pb_new(), *rs = pb_new(), *req = pb_new();
    pb_msg(ss, 2, span);
    pb_msg(rs, 2, ss);
    pb_msg(req, 1, rs);
    assert_int_equal(decode_err(PD_TRACES, req->d, req->n, &err), GB_ERR_INVALID);
    assert_non_null(strstr(err.msg, "span"));
    free(req);
}

static void test_every_truncation_rejected_or_ok(void **state)
{
    (void)state;
    pb *req = build_trace_request();
    size_t ok = 0;
    for (size_t n = 0; n < req->n; n++) {
        otlp_error err;
        gb_status st = decode_err(PD_TRACES, req->d, n, &err);
        assert_true(st == GB_OK || st == GB_ERR_INVALID);
        if (st == GB_OK) ok++;
    }
    assert_true(ok >= 1); /* the empty prefix is a valid empty request */
    assert_true(ok < req->n / 2);
    free(req);
}

static void test_garbage_never_crashes(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    uint8_t buf[512];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = (size_t)(iter % 512);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        for (int s = 0; s < 3; s++) {
            otlp_error err;
            gb_status st = decode_err((pd_signal)s, buf, n, &err);
            assert_true(st == GB_OK || st == GB_ERR_INVALID);
        }
    }
}

/* AnyValue nested as array_value{values{array_value{...}}} depth times, inside a span attr. */
static pb *nested_any_request(int depth)
{
    pb *any = pb_new();
    pb_str(any, 1, "leaf");
    for (int i = 0; i < depth; i++) {
        pb *arr = pb_new(), *outer = pb_new();
        pb_msg(arr, 1, any);
        pb_msg(outer, 5, arr);
        any = outer;
    }
    pb *kv = pb_new();
    pb_str(kv, 1, "deep");
    pb_msg(kv, 2, any);
    pb *span = pb_new(), *ss = pb_new(), *rs = pb_new(), *req = pb_new();
    pb_msg(span, 9, kv);
    pb_msg(ss, 2, span);
    pb_msg(rs, 2, ss);
    pb_msg(req, 1, rs);
    return req;
}

static void test_depth_limit(void **state)
{
    (void)state;
    pb *ok = nested_any_request(32);
    pd_batch *b = decode_ok(PD_TRACES, ok->d, ok->n);
    gb_sbuf out;
    encode(b, &out);
    assert_int_equal(out.len, ok->n);
    assert_memory_equal(out.data, ok->d, ok->n);
    gb_sbuf_free(&out);
    pd_batch_unref(b);
    free(ok);

    pb *deep = nested_any_request(33);
    otlp_error err;
    assert_int_equal(decode_err(PD_TRACES, deep->d, deep->n, &err), GB_ERR_INVALID);
    assert_non_null(strstr(err.msg, "nesting deeper than 32"));
    free(deep);
}

static void test_decode_appends(void **state)
{
    (void)state;
    pb *req = build_trace_request();
    gb_buf *buf;
    assert_int_equal(gb_buf_new(req->n, &buf), GB_OK);
    assert_int_equal(gb_buf_append(&buf, req->d, req->n), GB_OK);
    free(req);
    pd_batch *b;
    otlp_error err;
    assert_int_equal(pd_batch_new(PD_TRACES, 0, &b), GB_OK);
    assert_int_equal(otlp_decode_proto(b, buf, buf->data, buf->len, &err), GB_OK);
    assert_int_equal(otlp_decode_proto(b, buf, buf->data, buf->len, &err), GB_OK);
    assert_int_equal(b->u.traces.n, 2);
    assert_int_equal(pd_batch_count(b), 2);
    gb_buf_unref(buf); /* the batch holds its own references */
    assert_true(gb_str_eq_c(b->u.traces.v[1].scope_spans[0].spans[0].name, "GET /"));
    assert_true(gb_str_eq_c(b->u.traces.v[0].resource.attrs.v[0].value.u.str, "checkout"));
    /* a failed decode leaves the batch as it was */
    assert_int_equal(otlp_decode_proto(b, NULL, (const uint8_t *)"\x0a\x05", 2, &err),
                     GB_ERR_INVALID);
    assert_int_equal(b->u.traces.n, 2);
    gb_sbuf out;
    encode(b, &out);
    pd_batch *d = decode_ok(PD_TRACES, (const uint8_t *)out.data, out.len);
    assert_int_equal(d->u.traces.n, 2);
    pd_batch_unref(d);
    gb_sbuf_free(&out);
    pd_batch_unref(b);
}

static void test_encode_limit_and_append(void **state)
{
    (void)state;
    pb *req = build_trace_request();
    pd_batch *b = decode_ok(PD_TRACES, req->d, req->n);
    gb_sbuf out;
    gb_sbuf_init(&out, 16);
    assert_int_equal(otlp_encode_proto(b, &out), GB_ERR_LIMIT);
    gb_sbuf_free(&out);
    /* encoding appends after existing content */
    gb_sbuf_init(&out, 0);
    gb_sbuf_puts(&out, "prefix");
    assert_int_equal(otlp_encode_proto(b, &out), GB_OK);
    assert_int_equal(out.len, 6 + req->n);
    assert_memory_equal(out.data, "prefix", 6);
    assert_memory_equal(out.data + 6, req->d, req->n);
    gb_sbuf_free(&out);
    pd_batch_unref(b);
    free(req);
}

/* Many spans with many attributes: exercises writer growth across several reallocations. */
static void test_large_batch_roundtrip(void **state)
{
    (void)state;
    pb *ss = pb_new();
    for (int i = 0; i < 40; i++) {
        pb *span = pb_new();
        char name[32];
        snprintf(name, sizeof name, "span-%d", i);
        pb_str(span, 5, name);
        for (int k = 0; k < 10; k++)
            pb_kv_str(span, 9, "key", "a somewhat longer value");
        pb_msg(ss, 2, span);
    }
    pb *rs = pb_new(), *req = pb_new();
    pb_msg(rs, 2, ss);
    pb_msg(req, 1, rs);
    pd_batch *b = decode_ok(PD_TRACES, req->d, req->n);
    assert_int_equal(pd_batch_count(b), 40);
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    /* start from a tiny buffer so the backward writer must grow */
    gb_sbuf_reserve(&out, 8);
    assert_int_equal(otlp_encode_proto(b, &out), GB_OK);
    assert_int_equal(out.len, req->n);
    assert_memory_equal(out.data, req->d, req->n);
    gb_sbuf_free(&out);
    pd_batch_unref(b);
    free(req);
}

/* 200k empty spans: 400 KB on the wire but ~200 bytes each decoded. */
static uint8_t *empty_spans_request(size_t *len)
{
    const size_t spans = 200000, inner = spans * 2;
    uint8_t *d = malloc(inner + 32), *p = d;
    assert_non_null(d);
    size_t ss_len = inner, rs_len = 1 + 3 + ss_len; /* 0x12 + 3-byte varint + payload */
    *p++ = 0x0a;                                    /* request.resource_spans */
    *p++ = (uint8_t)(rs_len | 0x80);
    *p++ = (uint8_t)((rs_len >> 7) | 0x80);
    *p++ = (uint8_t)(rs_len >> 14);
    *p++ = 0x12; /* resource_spans.scope_spans */
    *p++ = (uint8_t)(ss_len | 0x80);
    *p++ = (uint8_t)((ss_len >> 7) | 0x80);
    *p++ = (uint8_t)(ss_len >> 14);
    for (size_t i = 0; i < spans; i++) {
        *p++ = 0x12; /* scope_spans.spans, empty */
        *p++ = 0x00;
    }
    *len = (size_t)(p - d);
    return d;
}

static void test_expansion_bound(void **state)
{
    (void)state;
    size_t len;
    uint8_t *d = empty_spans_request(&len);
    otlp_error err;
    pd_batch *b;
    assert_int_equal(pd_batch_new(PD_TRACES, 0, &b), GB_OK);
    assert_int_equal(otlp_decode_proto(b, NULL, d, len, &err), GB_ERR_INVALID);
    assert_non_null(strstr(err.msg, "expands to more than 32x"));
    assert_int_equal(b->arena.limit, 0); /* restored */
    assert_int_equal(b->u.traces.n, 0);
    /* a caller-set arena limit is honoured and reported as out of memory */
    b->arena.limit = b->arena.total + 65536;
    assert_int_equal(otlp_decode_proto(b, NULL, d, len, &err), GB_ERR_NOMEM);
    assert_non_null(strstr(err.msg, "out of memory"));
    /* and a generous one lets it through */
    b->arena.limit = 0;
    pd_batch_unref(b);
    assert_int_equal(pd_batch_new(PD_TRACES, 0, &b), GB_OK);
    b->arena.limit = (size_t)1 << 30;
    assert_int_equal(otlp_decode_proto(b, NULL, d, len, &err), GB_OK);
    assert_int_equal(pd_batch_count(b), 200000);
    pd_batch_unref(b);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_decode_fields_and_reencode),
        cmocka_unit_test(test_trace_anyvalue_kinds_roundtrip),
        cmocka_unit_test(test_trace_zero_ids_omitted),
        cmocka_unit_test(test_trace_invalid_ids),
        cmocka_unit_test(test_unknown_fields_skipped),
        cmocka_unit_test(test_malformed_inputs),
        cmocka_unit_test(test_every_truncation_rejected_or_ok),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_decode_appends),
        cmocka_unit_test(test_encode_limit_and_append),
        cmocka_unit_test(test_large_batch_roundtrip),
        cmocka_unit_test(test_expansion_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
