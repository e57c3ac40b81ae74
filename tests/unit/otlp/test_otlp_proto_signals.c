/* OTLP protobuf codec: metrics (every type, exemplars, packed/unpacked scalars), logs,
 * Export*ServiceResponse, google.rpc.Status and pd_batch_clone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
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

static void assert_reencodes_to(const pd_batch *b, const uint8_t *want, size_t n)
{
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    assert_int_equal(otlp_encode_proto(b, &out), GB_OK);
    assert_int_equal(out.len, n);
    assert_memory_equal(out.data, want, n);
    gb_sbuf_free(&out);
}

static const uint8_t TID[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t SID[8] = {0xca, 0xfe, 0, 0, 0, 0, 0, 1};

static void add_exemplar(pb *dp, uint32_t num, bool as_int)
{
    pb *ex = pb_new();
    pb_f64(ex, 2, 111);
    if (!as_int) pb_dbl(ex, 3, 0.0); /* oneof member set to zero is kept */
    pb_bytes(ex, 4, SID, 8);
    pb_bytes(ex, 5, TID, 16);
    if (as_int) pb_f64(ex, 6, (uint64_t)-5);
    pb_kv_str(ex, 7, "fa", "fv");
    pb_msg(dp, num, ex);
}

/* Wraps metrics (already serialized Metric messages in `metrics`) into a request. */
static pb *wrap_metrics(pb *metrics)
{
    pb *scope = pb_new();
    pb_str(scope, 1, "meter");
    pb *sm = pb_new();
    pb_msg(sm, 1, scope);
    pb_raw(sm, metrics->d, metrics->n);
    free(metrics);
    pb *res = pb_new();
    pb_kv_str(res, 1, "service.name", "svc");
    pb *rm = pb_new();
    pb_msg(rm, 1, res);
    pb_msg(rm, 2, sm);
    pb *req = pb_new();
    pb_msg(req, 1, rm);
    return req;
}

/* All five metric types in canonical (packed) form; with unpacked = true the repeated scalars
 * are written one element per field instead, which must decode to the same data. */
static pb *build_metrics(bool unpacked)
{
    pb *all = pb_new();
    { /* gauge: double point with exemplar, int point */
        pb *g = pb_new();
        pb *dp = pb_new();
        pb_f64(dp, 2, 10);
        pb_f64(dp, 3, 20);
        pb_dbl(dp, 4, 1.5);
        add_exemplar(dp, 5, false);
        pb_kv_str(dp, 7, "k", "v");
        pb_uv(dp, 8, 1);
        pb_msg(g, 1, dp);
        dp = pb_new();
        pb_f64(dp, 3, 21);
        pb_f64(dp, 6, (uint64_t)INT64_MIN);
        pb_msg(g, 1, dp);
        pb *m = pb_new();
        pb_str(m, 1, "g");
        pb_str(m, 2, "a gauge");
        pb_str(m, 3, "1");
        pb_msg(m, 5, g);
        pb_kv_str(m, 12, "meta", "data");
        pb_msg(all, 2, m);
    }
    { /* sum */
        pb *s = pb_new();
        pb *dp = pb_new();
        add_exemplar(dp, 5, true);
        pb_f64(dp, 6, 0); /* as_int = 0 kept */
        pb_msg(s, 1, dp);
        pb_uv(s, 2, 2);
        pb_uv(s, 3, 1);
        pb *m = pb_new();
        pb_str(m, 1, "s");
        pb_msg(m, 7, s);
        pb_msg(all, 2, m);
    }
    { /* histogram */
        pb *h = pb_new();
        pb *dp = pb_new();
        pb_f64(dp, 2, 1);
        pb_f64(dp, 3, 2);
        pb_f64(dp, 4, 6);
        pb_dbl(dp, 5, 0.0); /* optional sum = 0 kept */
        const uint64_t counts[] = {1, 2, 3};
        const double bounds[] = {0.5, 1e9};
        if (unpacked) {
            for (int i = 0; i < 3; i++)
                pb_f64(dp, 6, counts[i]);
            for (int i = 0; i < 2; i++)
                pb_dbl(dp, 7, bounds[i]);
        } else {
            uint8_t raw[24];
            for (int i = 0; i < 3; i++)
                for (int k = 0; k < 8; k++)
                    raw[8 * i + k] = (uint8_t)(counts[i] >> (8 * k));
            pb_bytes(dp, 6, raw, 24);
            uint8_t rb[16];
            memcpy(rb, bounds, 16); /* little-endian host */
            pb_bytes(dp, 7, rb, 16);
        }
        add_exemplar(dp, 8, false);
        pb_kv_str(dp, 9, "hk", "hv");
        pb_uv(dp, 10, 1);
        pb_dbl(dp, 11, -1.0);
        pb_dbl(dp, 12, 7.0);
        pb_msg(h, 1, dp);
        pb_uv(h, 2, 1);
        pb *m = pb_new();
        pb_str(m, 1, "h");
        pb_msg(m, 9, h);
        pb_msg(all, 2, m);
    }
    { /* exponential histogram */
        pb *e = pb_new();
        pb *dp = pb_new();
        pb_kv_str(dp, 1, "ek", "ev");
        pb_f64(dp, 2, 1);
        pb_f64(dp, 3, 2);
        pb_f64(dp, 4, 300);
        pb_dbl(dp, 5, 12.5);
        pb_uv(dp, 6, 7); /* sint32 -4 */
        pb_f64(dp, 7, 3);
        pb *pos = pb_new();
        pb_uv(pos, 1, 3); /* sint32 -2 */
        const uint64_t c[] = {1, 300, UINT64_MAX};
        if (unpacked) {
            for (int i = 0; i < 3; i++)
                pb_uv(pos, 2, c[i]);
        } else {
            pb *packed = pb_new();
            for (int i = 0; i < 3; i++)
                pb_varint(packed, c[i]);
            pb_msg(pos, 2, packed);
        }
        pb_msg(dp, 8, pos);
        pb *neg = pb_new();
        pb_uv(neg, 1, 4); /* sint32 2 */
        pb_msg(dp, 9, neg);
        pb_uv(dp, 10, 1);
        add_exemplar(dp, 11, true);
        pb_dbl(dp, 12, 0.0);
        pb_dbl(dp, 13, 99.0);
        pb_dbl(dp, 14, 1e-9);
        pb_msg(e, 1, dp);
        pb_uv(e, 2, 2);
        pb *m = pb_new();
        pb_str(m, 1, "e");
        pb_msg(m, 10, e);
        pb_msg(all, 2, m);
    }
    { /* summary */
        pb *s = pb_new();
        pb *dp = pb_new();
        pb_f64(dp, 3, 5);
        pb_f64(dp, 4, 10);
        pb_dbl(dp, 5, 55.5);
        for (int i = 0; i < 2; i++) {
            pb *q = pb_new();
            if (i) pb_dbl(q, 1, 0.99);
            pb_dbl(q, 2, 100.0 + i);
            pb_msg(dp, 6, q);
        }
        pb_kv_str(dp, 7, "sk", "sv");
        pb_msg(s, 1, dp);
        pb *m = pb_new();
        pb_str(m, 1, "sm");
        pb_msg(m, 11, s);
        pb_msg(all, 2, m);
    }
    { /* empty gauge (no points) and a metric with no data */
        pb *m = pb_new();
        pb_str(m, 1, "eg");
        pb_bytes(m, 5, "", 0);
        pb_msg(all, 2, m);
        m = pb_new();
        pb_str(m, 1, "none");
        pb_msg(all, 2, m);
    }
    return wrap_metrics(all);
}

static void check_metrics(const pd_batch *b)
{
    assert_int_equal(b->u.metrics.n, 1);
    const pd_scope_metrics *sm = &b->u.metrics.v[0].scope_metrics[0];
    assert_true(gb_str_eq_c(sm->scope.name, "meter"));
    assert_int_equal(sm->n_metrics, 7);
    const pd_metric *g = &sm->metrics[0];
    assert_int_equal(g->type, PD_METRIC_GAUGE);
    assert_true(gb_str_eq_c(g->description, "a gauge"));
    assert_true(gb_str_eq_c(g->unit, "1"));
    assert_int_equal(g->metadata.n, 1);
    assert_int_equal(g->n_dp, 2);
    assert_int_equal(g->dp.number[0].value_type, PD_NUM_DOUBLE);
    assert_true(g->dp.number[0].value.d == 1.5);
    assert_int_equal(g->dp.number[0].flags, 1);
    assert_int_equal(g->dp.number[0].n_exemplars, 1);
    const pd_exemplar *ex = &g->dp.number[0].exemplars[0];
    assert_int_equal(ex->value_type, PD_NUM_DOUBLE);
    assert_memory_equal(ex->trace_id.b, TID, 16);
    assert_memory_equal(ex->span_id.b, SID, 8);
    assert_int_equal(ex->filtered_attrs.n, 1);
    assert_int_equal(g->dp.number[1].value_type, PD_NUM_INT);
    assert_true(g->dp.number[1].value.i == INT64_MIN);

    const pd_metric *s = &sm->metrics[1];
    assert_int_equal(s->type, PD_METRIC_SUM);
    assert_int_equal(s->temporality, PD_TEMPORALITY_CUMULATIVE);
    assert_true(s->is_monotonic);
    assert_int_equal(s->dp.number[0].value_type, PD_NUM_INT);
    assert_int_equal(s->dp.number[0].exemplars[0].value_type, PD_NUM_INT);
    assert_true(s->dp.number[0].exemplars[0].value.i == -5);

    const pd_metric *h = &sm->metrics[2];
    assert_int_equal(h->type, PD_METRIC_HISTOGRAM);
    assert_int_equal(h->temporality, PD_TEMPORALITY_DELTA);
    const pd_histogram_dp *hd = &h->dp.histogram[0];
    assert_int_equal(hd->count, 6);
    assert_true(hd->has_sum && hd->sum == 0.0);
    assert_true(hd->has_min && hd->min == -1.0);
    assert_true(hd->has_max && hd->max == 7.0);
    assert_int_equal(hd->n_bucket_counts, 3);
    assert_int_equal(hd->bucket_counts[2], 3);
    assert_int_equal((uintptr_t)hd->bucket_counts % 8, 0);
    assert_int_equal(hd->n_explicit_bounds, 2);
    assert_true(hd->explicit_bounds[1] == 1e9);

    const pd_metric *e = &sm->metrics[3];
    assert_int_equal(e->type, PD_METRIC_EXP_HISTOGRAM);
    const pd_exp_histogram_dp *ed = &e->dp.exp_histogram[0];
    assert_int_equal(ed->scale, -4);
    assert_int_equal(ed->zero_count, 3);
    assert_true(ed->zero_threshold == 1e-9);
    assert_int_equal(ed->positive.offset, -2);
    assert_int_equal(ed->positive.n_bucket_counts, 3);
    assert_true(ed->positive.bucket_counts[1] == 300);
    assert_true(ed->positive.bucket_counts[2] == UINT64_MAX);
    assert_int_equal(ed->negative.offset, 2);
    assert_int_equal(ed->negative.n_bucket_counts, 0);
    assert_true(ed->has_min && ed->min == 0.0);
    assert_true(ed->has_sum && ed->sum == 12.5);
    assert_int_equal(ed->attrs.n, 1);

    const pd_metric *su = &sm->metrics[4];
    assert_int_equal(su->type, PD_METRIC_SUMMARY);
    assert_int_equal(su->dp.summary[0].n_quantiles, 2);
    assert_true(su->dp.summary[0].quantiles[1].quantile == 0.99);
    assert_true(su->dp.summary[0].quantiles[0].value == 100.0);
    assert_true(su->dp.summary[0].sum == 55.5);

    assert_int_equal(sm->metrics[5].type, PD_METRIC_GAUGE);
    assert_int_equal(sm->metrics[5].n_dp, 0);
    assert_int_equal(sm->metrics[6].type, PD_METRIC_EMPTY);
    assert_int_equal(pd_batch_count(b), 6);
}

static void test_metrics_all_types(void **state)
{
    (void)state;
    pb *req = build_metrics(false);
    pd_batch *b = decode_ok(PD_METRICS, req->d, req->n);
    check_metrics(b);
    assert_reencodes_to(b, req->d, req->n);
    pd_batch_unref(b);

    /* unpacked repeated scalars decode the same and re-encode packed */
    pb *unp = build_metrics(true);
    assert_true(unp->n != req->n);
    b = decode_ok(PD_METRICS, unp->d, unp->n);
    check_metrics(b);
    assert_reencodes_to(b, req->d, req->n);
    pd_batch_unref(b);
    free(unp);
    free(req);
}

static void test_metrics_bad_packed(void **state)
{
    (void)state;
    pb *dp = pb_new();
    pb_bytes(dp, 6, "1234567", 7); /* packed fixed64 not a multiple of 8 */
    pb *h = pb_new();
    pb_msg(h, 1, dp);
    pb *m = pb_new();
    pb_msg(m, 9, h);
    pb *all = pb_new();
    pb_msg(all, 2, m);
    pb *req = wrap_metrics(all);
    pd_batch *b;
    otlp_error err;
    assert_int_equal(pd_batch_new(PD_METRICS, 0, &b), GB_OK);
    assert_int_equal(otlp_decode_proto(b, NULL, req->d, req->n, &err), GB_ERR_INVALID);
    assert_non_null(strstr(err.msg, "multiple of 8"));
    pd_batch_unref(b);
    free(req);

    pb *bk = pb_new();
    pb_bytes(bk, 2, "\x01\x80", 2); /* packed varint truncated */
    dp = pb_new();
    pb_msg(dp, 8, bk);
    pb *e = pb_new();
    pb_msg(e, 1, dp);
    m = pb_new();
    pb_msg(m, 10, e);
    all = pb_new();
    pb_msg(all, 2, m);
    req = wrap_metrics(all);
    assert_int_equal(pd_batch_new(PD_METRICS, 0, &b), GB_OK);
    assert_int_equal(otlp_decode_proto(b, NULL, req->d, req->n, &err), GB_ERR_INVALID);
    assert_non_null(strstr(err.msg, "varint"));
    pd_batch_unref(b);
    free(req);
}

static pb *build_logs(void)
{
    pb *lr = pb_new();
    pb_f64(lr, 1, 1000);
    pb_uv(lr, 2, 17);
    pb_str(lr, 3, "ERROR");
    {
        pb *body = pb_new(), *kvl = pb_new();
        pb_kv_str(kvl, 1, "msg", "disk full");
        {
            pb *kv = pb_new(), *any = pb_new();
            pb_bytes(any, 7, "\x00\xff", 2);
            pb_str(kv, 1, "raw");
            pb_msg(kv, 2, any);
            pb_msg(kvl, 1, kv);
        }
        pb_msg(body, 6, kvl);
        pb_msg(lr, 5, body);
    }
    pb_kv_str(lr, 6, "log.file", "a.log");
    {
        pb *kv = pb_new(), *any = pb_new();
        pb_dbl(any, 4, 2.5);
        pb_str(kv, 1, "ratio");
        pb_msg(kv, 2, any);
        pb_msg(lr, 6, kv);
    }
    pb_uv(lr, 7, 2);
    pb_f32(lr, 8, 1);
    pb_bytes(lr, 9, TID, 16);
    pb_bytes(lr, 10, SID, 8);
    pb_f64(lr, 11, 2000);
    pb_str(lr, 12, "app.started");
    pb *sl = pb_new();
    pb_msg(sl, 2, lr);
    pb *lr2 = pb_new(); /* minimal record: body bool false */
    pb *body = pb_new();
    pb_uv(body, 2, 0);
    pb_msg(lr2, 5, body);
    pb_msg(sl, 2, lr2);
    pb_str(sl, 3, "https://s");
    pb *rl = pb_new();
    pb_msg(rl, 2, sl);
    pb *req = pb_new();
    pb_msg(req, 1, rl);
    return req;
}

static void test_logs_roundtrip(void **state)
{
    (void)state;
    pb *req = build_logs();
    pd_batch *b = decode_ok(PD_LOGS, req->d, req->n);
    const pd_scope_logs *sl = &b->u.logs.v[0].scope_logs[0];
    assert_int_equal(sl->n_logs, 2);
    const pd_log *l = &sl->logs[0];
    assert_int_equal(l->time_unix_nano, 1000);
    assert_int_equal(l->observed_time_unix_nano, 2000);
    assert_int_equal(l->severity_number, 17);
    assert_true(gb_str_eq_c(l->severity_text, "ERROR"));
    assert_int_equal(l->body.type, PD_ANY_KVLIST);
    assert_int_equal(l->body.u.kvl.n, 2);
    assert_int_equal(l->body.u.kvl.v[1].value.type, PD_ANY_BYTES);
    assert_int_equal(l->body.u.kvl.v[1].value.u.str.len, 2);
    assert_int_equal(l->attrs.n, 2);
    assert_true(l->attrs.v[1].value.u.d == 2.5);
    assert_int_equal(l->dropped_attributes_count, 2);
    assert_int_equal(l->flags, 1);
    assert_memory_equal(l->trace_id.b, TID, 16);
    assert_memory_equal(l->span_id.b, SID, 8);
    assert_true(gb_str_eq_c(l->event_name, "app.started"));
    assert_int_equal(sl->logs[1].body.type, PD_ANY_BOOL);
    assert_false(sl->logs[1].body.u.b);
    assert_int_equal(pd_batch_count(b), 2);
    assert_reencodes_to(b, req->d, req->n);
    pd_batch_unref(b);
    free(req);
}

static void test_logs_bad_span_id(void **state)
{
    (void)state;
    pb *lr = pb_new();
    pb_bytes(lr, 10, "123", 3);
    pb *sl = pb_new(), *rl = pb_new(), *req = pb_new();
    pb_msg(sl, 2, lr);
    pb_msg(rl, 2, sl);
    pb_msg(req, 1, rl);
    pd_batch *b;
    otlp_error err;
    assert_int_equal(pd_batch_new(PD_LOGS, 0, &b), GB_OK);
    assert_int_equal(otlp_decode_proto(b, NULL, req->d, req->n, &err), GB_ERR_INVALID);
    assert_string_equal(err.msg, "proto: log_record: span_id must be 8 bytes or empty, got 3");
    pd_batch_unref(b);
    free(req);
}

static void test_responses(void **state)
{
    (void)state;
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    /* all accepted: empty message */
    assert_int_equal(otlp_encode_response_proto(PD_TRACES, 0, NULL, &out), GB_OK);
    assert_int_equal(out.len, 0);
    int64_t rej = -1;
    char msg[64] = "x";
    assert_int_equal(otlp_decode_response_proto(PD_TRACES, (const uint8_t *)out.data, out.len, &rej,
                                                msg, sizeof msg),
                     GB_OK);
    assert_int_equal(rej, 0);
    assert_string_equal(msg, "");

    /* partial_success {rejected = 3, error_message = "bad"} */
    for (int s = 0; s < 3; s++) {
        gb_sbuf_reset(&out);
        assert_int_equal(otlp_encode_response_proto((pd_signal)s, 3, "bad", &out), GB_OK);
        static const uint8_t want[] = {0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, 'b', 'a', 'd'};
        assert_int_equal(out.len, sizeof want);
        assert_memory_equal(out.data, want, sizeof want);
        assert_int_equal(otlp_decode_response_proto((pd_signal)s, (const uint8_t *)out.data,
                                                    out.len, &rej, msg, sizeof msg),
                         GB_OK);
        assert_int_equal(rej, 3);
        assert_string_equal(msg, "bad");
    }
    /* message only; truncated into a small buffer */
    gb_sbuf_reset(&out);
    assert_int_equal(otlp_encode_response_proto(PD_LOGS, 0, "a long warning", &out), GB_OK);
    char small[5];
    assert_int_equal(otlp_decode_response_proto(PD_LOGS, (const uint8_t *)out.data, out.len, &rej,
                                                small, sizeof small),
                     GB_OK);
    assert_int_equal(rej, 0);
    assert_string_equal(small, "a lo");
    /* large rejected count, unknown fields skipped */
    gb_sbuf_reset(&out);
    assert_int_equal(otlp_encode_response_proto(PD_METRICS, 1000000000000LL, NULL, &out), GB_OK);
    gb_sbuf_append(&out, "\x10\x01", 2);
    assert_int_equal(otlp_decode_response_proto(PD_METRICS, (const uint8_t *)out.data, out.len,
                                                &rej, msg, sizeof msg),
                     GB_OK);
    assert_true(rej == 1000000000000LL);
    /* garbage */
    assert_int_equal(otlp_decode_response_proto(PD_METRICS, (const uint8_t *)"\x0a\x09\x08", 3,
                                                &rej, msg, sizeof msg),
                     GB_ERR_INVALID);
    /* partial_success with the wrong wire type */
    assert_int_equal(otlp_decode_response_proto(PD_METRICS, (const uint8_t *)"\x08\x01", 2, &rej,
                                                msg, sizeof msg),
                     GB_ERR_INVALID);
    /* only an unknown field */
    assert_int_equal(otlp_decode_response_proto(PD_METRICS, (const uint8_t *)"\x10\x01", 2, &rej,
                                                msg, sizeof msg),
                     GB_OK);
    assert_int_equal(rej, 0);
    gb_sbuf_free(&out);
}

static void test_status(void **state)
{
    (void)state;
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    assert_int_equal(otlp_encode_status_proto(OTLP_GRPC_INVALID_ARGUMENT, "bad data", &out), GB_OK);
    static const uint8_t want[] = {0x08, 0x03, 0x12, 0x08, 'b', 'a', 'd', ' ', 'd', 'a', 't', 'a'};
    assert_int_equal(out.len, sizeof want);
    assert_memory_equal(out.data, want, sizeof want);
    gb_sbuf_reset(&out);
    assert_int_equal(otlp_encode_status_proto(-1, NULL, &out), GB_OK);
    static const uint8_t neg[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    assert_int_equal(out.len, sizeof neg);
    assert_memory_equal(out.data, neg, sizeof neg);
    gb_sbuf_reset(&out);
    assert_int_equal(otlp_encode_status_proto(0, "", &out), GB_OK);
    assert_int_equal(out.len, 0);
    gb_sbuf_free(&out);
}

static void test_clone_independent(void **state)
{
    (void)state;
    /* traces: build a request in a heap buffer the original batch holds */
    pb *span = pb_new();
    pb_bytes(span, 1, TID, 16);
    pb_str(span, 5, "orig");
    pb_kv_str(span, 9, "k", "v");
    pb *ss = pb_new(), *rs = pb_new(), *req = pb_new(), *res = pb_new();
    pb_msg(ss, 2, span);
    pb_kv_str(res, 1, "service.name", "svc");
    pb_msg(rs, 1, res);
    pb_msg(rs, 2, ss);
    pb_msg(req, 1, rs);
    gb_buf *buf;
    assert_int_equal(gb_buf_new(req->n, &buf), GB_OK);
    assert_int_equal(gb_buf_append(&buf, req->d, req->n), GB_OK);
    pd_batch *orig;
    otlp_error err;
    assert_int_equal(pd_batch_new(PD_TRACES, 0, &orig), GB_OK);
    assert_int_equal(otlp_decode_proto(orig, buf, buf->data, buf->len, &err), GB_OK);
    gb_buf_unref(buf);
    orig->transport = "grpc";
    orig->meta.v = gb_arena_alloc(&orig->arena, sizeof(pd_meta_entry));
    orig->meta.v[0].key = GB_STR_LIT("x-tenant");
    orig->meta.v[0].value = GB_STR_LIT("acme");
    orig->meta.n = 1;

    pd_batch *cl;
    assert_int_equal(pd_batch_clone(orig, &cl), GB_OK);
    assert_false(cl->read_only);
    assert_string_equal(cl->transport, "grpc");
    assert_int_equal(cl->meta.n, 1);
    assert_true(gb_str_eq_c(cl->meta.v[0].value, "acme"));
    assert_ptr_not_equal(cl->meta.v[0].value.ptr, orig->meta.v[0].value.ptr);
    assert_reencodes_to(cl, req->d, req->n);

    /* mutate the clone */
    pd_span *cs = &cl->u.traces.v[0].scope_spans[0].spans[0];
    cs->name = GB_STR_LIT("changed");
    cs->trace_id.b[0] = 0;
    assert_int_equal(pd_attrs_put(&cl->arena, &cs->attrs, GB_STR_LIT("new"), pd_any_int(1)), GB_OK);
    cl->u.traces.v[0].resource.attrs.v[0].value = pd_any_str(GB_STR_LIT("other"));

    /* the original is unchanged */
    const pd_span *os = &orig->u.traces.v[0].scope_spans[0].spans[0];
    assert_true(gb_str_eq_c(os->name, "orig"));
    assert_int_equal(os->trace_id.b[0], 0xde);
    assert_int_equal(os->attrs.n, 1);
    assert_true(gb_str_eq_c(orig->u.traces.v[0].resource.attrs.v[0].value.u.str, "svc"));
    assert_reencodes_to(orig, req->d, req->n);

    /* the clone outlives the original and its buffer */
    pd_batch_unref(orig);
    assert_int_equal(cs->attrs.n, 2);
    assert_true(gb_str_eq_c(cs->attrs.v[0].key, "k"));
    assert_true(gb_str_eq_c(cl->u.traces.v[0].resource.attrs.v[0].key, "service.name"));
    pd_batch_unref(cl);
    free(req);

    /* metrics and logs clones are exact */
    pb *mreq = build_metrics(false);
    pd_batch *m = decode_ok(PD_METRICS, mreq->d, mreq->n);
    assert_int_equal(pd_batch_clone(m, &cl), GB_OK);
    pd_batch_unref(m);
    check_metrics(cl);
    assert_reencodes_to(cl, mreq->d, mreq->n);
    pd_batch_unref(cl);
    free(mreq);
    pb *lreq = build_logs();
    pd_batch *lb = decode_ok(PD_LOGS, lreq->d, lreq->n);
    assert_int_equal(pd_batch_clone(lb, &cl), GB_OK);
    pd_batch_unref(lb);
    assert_reencodes_to(cl, lreq->d, lreq->n);
    pd_batch_unref(cl);
    free(lreq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_all_types), cmocka_unit_test(test_metrics_bad_packed),
        cmocka_unit_test(test_logs_roundtrip),    cmocka_unit_test(test_logs_bad_span_id),
        cmocka_unit_test(test_responses),         cmocka_unit_test(test_status),
        cmocka_unit_test(test_clone_independent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
