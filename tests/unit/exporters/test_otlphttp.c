#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>

#include "base/log.h"
#include "base/telemetry.h"
#include "base/timeutil.h"
#include "exporter/otlphttp/otlphttp.h"
#include "otlp/otlp.h"

#include "batches.h"
#include "http_sink.h"

#define MS GB_NS_PER_MS

typedef struct fixture {
    sink s;
    otlphttp_cfg cfg;
    pl_component c;
    char endpoint[128];
    bool created;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f || sink_start(&f->s, 0) != 0) return -1;
    otlphttp_cfg_default(&f->cfg);
    snprintf(f->endpoint, sizeof f->endpoint, "http://127.0.0.1:%u", f->s.port);
    f->cfg.endpoint = f->endpoint;
    f->cfg.queue.enabled = false; /* consume returns the final result */
    f->cfg.timeout = 2000 * MS;
    f->cfg.retry.initial_interval = 5 * MS;
    f->cfg.retry.max_interval = 20 * MS;
    f->cfg.retry.max_elapsed_time = 3000 * MS;
    f->cfg.retry.randomization_factor = 0;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    if (f->created) {
        f->c.desc->shutdown(&f->c, gb_mono_ns() + 1000 * MS);
        f->c.desc->destroy(&f->c);
    }
    sink_stop(&f->s);
    free(f);
    return 0;
}

static void start(fixture *f, const char *name)
{
    f->c.desc = &exporter_otlphttp_descriptor;
    snprintf(f->c.id, sizeof f->c.id, "otlphttp/%s", name);
    snprintf(f->c.full_id, sizeof f->c.full_id, "exporter/otlphttp/%s", name);
    f->c.cfg = &f->cfg;
    assert_int_equal(f->c.desc->create(&f->c), GB_OK);
    f->created = true;
    assert_int_equal(f->c.desc->start(&f->c, NULL), GB_OK);
}

static uint64_t counter(const char *name, const char *id)
{
    char labels[160];
    snprintf(labels, sizeof labels, "exporter=\"otlphttp/%s\"", id);
    gb_series *s = gb_tm_find(name, labels);
    return s ? gb_series_value(s) : 0;
}

static void expect_body(const sink_req *r, pd_batch *b, bool json)
{
    gb_sbuf enc;
    gb_sbuf_init(&enc, 0);
    assert_int_equal(json ? otlp_encode_json(b, &enc) : otlp_encode_proto(b, &enc), GB_OK);
    assert_true(r->decode_ok);
    assert_int_equal(r->body_len, enc.len);
    assert_memory_equal(r->body, enc.data, enc.len);
    gb_sbuf_free(&enc);
}

static void hdr(const sink_req *r, const char *name, char *out, size_t n)
{
    sink_header(r->headers, name, out, n);
}

static void test_success_gzip_proto_headers(void **state)
{
    fixture *f = *state;
    char *keys[] = {"X-Scope-OrgID", "authorization"};
    char *vals[] = {"tenant1", "Bearer abc"};
    f->cfg.headers = (cfg_strmap){keys, vals, 2};
    start(f, "ok");
    pd_batch *b = tb_traces(3);
    pd_batch_ref(b);
    assert_int_equal(f->c.desc->consume(&f->c, b), GB_OK);
    assert_int_equal(sink_count(&f->s), 1);
    sink_req *r = &f->s.req[0];
    assert_string_equal(r->method, "POST");
    assert_string_equal(r->path, "/v1/traces");
    char v[128];
    hdr(r, "Content-Type", v, sizeof v);
    assert_string_equal(v, "application/x-protobuf");
    hdr(r, "Content-Encoding", v, sizeof v);
    assert_string_equal(v, "gzip");
    hdr(r, "X-Scope-OrgID", v, sizeof v);
    assert_string_equal(v, "tenant1");
    hdr(r, "Authorization", v, sizeof v);
    assert_string_equal(v, "Bearer abc");
    hdr(r, "User-Agent", v, sizeof v);
    assert_non_null(strstr(v, "GenOps Collector"));
    assert_true(r->raw_len > 0 && r->raw[0] == 0x1f && r->raw[1] == 0x8b); /* gzip magic */
    expect_body(r, b, false);
    pd_batch_unref(b);
    assert_int_equal(counter("otelcol_exporter_sent_spans", "ok"), 3);

    /* a second batch reuses the kept-alive connection */
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(1)), GB_OK);
    assert_int_equal(sink_count(&f->s), 2);
    assert_int_equal(f->s.n_conn, 1);
}

static void test_signals_and_endpoints(void **state)
{
    fixture *f = *state;
    char ep[160], mep[160];
    snprintf(ep, sizeof ep, "%s/otlp/", f->endpoint); /* trailing slash is not doubled */
    snprintf(mep, sizeof mep, "%s/custom/metrics", f->endpoint);
    f->cfg.endpoint = ep;
    f->cfg.metrics_endpoint = mep;
    f->cfg.compression = OTLPHTTP_COMP_NONE;
    start(f, "signals");
    pd_batch *m = tb_metrics(4), *l = tb_logs(2);
    pd_batch_ref(m);
    pd_batch_ref(l);
    assert_int_equal(f->c.desc->consume(&f->c, m), GB_OK);
    assert_int_equal(f->c.desc->consume(&f->c, l), GB_OK);
    assert_int_equal(sink_count(&f->s), 2);
    assert_string_equal(f->s.req[0].path, "/custom/metrics");
    assert_string_equal(f->s.req[1].path, "/otlp/v1/logs");
    char v[64];
    hdr(&f->s.req[0], "Content-Encoding", v, sizeof v);
    assert_string_equal(v, "");
    expect_body(&f->s.req[0], m, false);
    expect_body(&f->s.req[1], l, false);
    pd_batch_unref(m);
    pd_batch_unref(l);
    assert_int_equal(counter("otelcol_exporter_sent_metric_points", "signals"), 4);
    assert_int_equal(counter("otelcol_exporter_sent_log_records", "signals"), 2);
}

static void test_zstd_and_deflate(void **state)
{
    fixture *f = *state;
    f->cfg.compression = OTLPHTTP_COMP_ZSTD;
    start(f, "zstd");
    pd_batch *b = tb_traces(50);
    pd_batch_ref(b);
    assert_int_equal(f->c.desc->consume(&f->c, b), GB_OK);
    char v[64];
    hdr(&f->s.req[0], "Content-Encoding", v, sizeof v);
    assert_string_equal(v, "zstd");
    expect_body(&f->s.req[0], b, false);
    f->c.desc->shutdown(&f->c, gb_mono_ns() + 100 * MS);
    f->c.desc->destroy(&f->c);

    f->cfg.compression = OTLPHTTP_COMP_DEFLATE;
    start(f, "deflate");
    assert_int_equal(f->c.desc->consume(&f->c, pd_batch_ref(b)), GB_OK);
    hdr(&f->s.req[1], "Content-Encoding", v, sizeof v);
    assert_string_equal(v, "deflate");
    expect_body(&f->s.req[1], b, false);
    pd_batch_unref(b);
}

static void test_json_encoding(void **state)
{
    fixture *f = *state;
    f->cfg.encoding = OTLPHTTP_ENC_JSON;
    start(f, "json");
    pd_batch *b = tb_logs(2);
    pd_batch_ref(b);
    assert_int_equal(f->c.desc->consume(&f->c, b), GB_OK);
    char v[64];
    hdr(&f->s.req[0], "Content-Type", v, sizeof v);
    assert_string_equal(v, "application/json");
    expect_body(&f->s.req[0], b, true);
    pd_batch_unref(b);
}

static void test_partial_success(void **state)
{
    fixture *f = *state;
    gb_sbuf r;
    gb_sbuf_init(&r, 0);
    assert_int_equal(otlp_encode_response_proto(PD_TRACES, 2, "2 spans had no name", &r), GB_OK);
    sink_script(&f->s, 0, 200, "Content-Type: application/x-protobuf\r\n", r.data, r.len);
    gb_sbuf_free(&r);
    start(f, "partial");
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(5)), GB_OK);
    assert_int_equal(counter("otelcol_exporter_sent_spans", "partial"), 3);
    assert_int_equal(counter("otelcol_exporter_send_failed_spans", "partial"), 2);
}

static void test_503_retry_after_then_success(void **state)
{
    fixture *f = *state;
    sink_script(&f->s, 0, 503, "Retry-After: 1\r\n", NULL, 0);
    sink_script(&f->s, 1, 200, NULL, NULL, 0);
    start(f, "retryafter");
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(2)), GB_OK);
    assert_int_equal(sink_count(&f->s), 2);
    int64_t gap = f->s.req[1].t_ns - f->s.req[0].t_ns;
    assert_true(gap >= 950 * MS); /* the server's 1s wins over the 5ms backoff */
    assert_true(gap < 2000 * MS);
    assert_int_equal(counter("otelcol_exporter_sent_spans", "retryafter"), 2);
}

static void test_429_and_502_retried(void **state)
{
    fixture *f = *state;
    sink_script(&f->s, 0, 429, NULL, NULL, 0);
    sink_script(&f->s, 1, 502, NULL, NULL, 0);
    sink_script(&f->s, 2, 504, NULL, NULL, 0);
    sink_script(&f->s, 3, 200, NULL, NULL, 0);
    start(f, "retryable");
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(1)), GB_OK);
    assert_int_equal(sink_count(&f->s), 4);
}

static void test_400_permanent(void **state)
{
    fixture *f = *state;
    gb_sbuf st;
    gb_sbuf_init(&st, 0);
    assert_int_equal(otlp_encode_status_proto(OTLP_GRPC_INVALID_ARGUMENT, "bad span", &st), GB_OK);
    sink_script(&f->s, 0, 400, "Content-Type: application/x-protobuf\r\n", st.data, st.len);
    gb_sbuf_free(&st);
    start(f, "perm");
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(4)), GB_ERR_PERMANENT);
    usleep(30000);
    assert_int_equal(sink_count(&f->s), 1); /* not retried */
    assert_int_equal(counter("otelcol_exporter_send_failed_spans", "perm"), 4);
    assert_int_equal(counter("otelcol_exporter_sent_spans", "perm"), 0);

    /* 500 and 404 are permanent too */
    sink_script(&f->s, 1, 500, NULL, NULL, 0);
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(1)), GB_ERR_PERMANENT);
    assert_int_equal(sink_count(&f->s), 2);
}

typedef struct late_sink {
    sink *s;
    uint16_t port;
    int ok;
} late_sink;

static void *start_sink_later(void *arg)
{
    late_sink *l = arg;
    usleep(60000);
    l->ok = sink_start(l->s, l->port) == 0;
    return NULL;
}

static void test_connection_refused_retries(void **state)
{
    fixture *f = *state;
    uint16_t port = sink_dead_port();
    char ep[64];
    snprintf(ep, sizeof ep, "http://127.0.0.1:%u", port);
    f->cfg.endpoint = ep;
    f->cfg.retry.max_elapsed_time = 80 * MS;
    start(f, "refused");
    int64_t t0 = gb_mono_ns();
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(2)), GB_ERR_RETRY);
    int64_t took = gb_mono_ns() - t0;
    assert_true(took >= 60 * MS && took < 1000 * MS); /* retried until max_elapsed_time */
    assert_int_equal(counter("otelcol_exporter_send_failed_spans", "refused"), 2);

    /* the peer comes up while we retry: the batch gets through */
    f->c.desc->shutdown(&f->c, gb_mono_ns() + 100 * MS);
    f->c.desc->destroy(&f->c);
    f->cfg.retry.max_elapsed_time = 3000 * MS;
    start(f, "refused2");
    sink late;
    late_sink l = {&late, port, 0};
    pthread_t t;
    pthread_create(&t, NULL, start_sink_later, &l);
    gb_status st = f->c.desc->consume(&f->c, tb_traces(3));
    pthread_join(t, NULL);
    assert_true(l.ok);
    assert_int_equal(st, GB_OK);
    assert_int_equal(sink_count(&late), 1);
    assert_int_equal(counter("otelcol_exporter_sent_spans", "refused2"), 3);
    f->c.desc->shutdown(&f->c, gb_mono_ns() + 100 * MS);
    f->c.desc->destroy(&f->c);
    f->created = false;
    sink_stop(&late);
}

static void test_timeout_is_retryable(void **state)
{
    fixture *f = *state;
    f->s.script[0].status = 200;
    f->s.script[0].delay_ms = 400;
    f->cfg.timeout = 80 * MS;
    f->cfg.retry.enabled = false;
    start(f, "timeout");
    int64_t t0 = gb_mono_ns();
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(1)), GB_ERR_RETRY);
    assert_true(gb_mono_ns() - t0 < 350 * MS);
}

static void test_queued_consumers_drain(void **state)
{
    fixture *f = *state;
    f->cfg.queue.enabled = true;
    f->cfg.queue.num_consumers = 3;
    f->cfg.queue.queue_size = 50;
    start(f, "queued");
    for (int i = 0; i < 20; i++)
        assert_int_equal(f->c.desc->consume(&f->c, tb_traces(2)), GB_OK);
    assert_int_equal(f->c.desc->shutdown(&f->c, gb_mono_ns() + 3000 * MS), GB_OK);
    assert_int_equal(sink_count(&f->s), 20);
    assert_true(f->s.n_conn <= 3);
    assert_int_equal(counter("otelcol_exporter_sent_spans", "queued"), 40);
    /* after shutdown the exporter refuses with backpressure */
    assert_int_equal(f->c.desc->consume(&f->c, tb_traces(1)), GB_ERR_RETRY);
}

static void test_retry_after_parse(void **state)
{
    (void)state;
    assert_int_equal(otlphttp_parse_retry_after("120", 0), 120 * GB_NS_PER_S);
    assert_int_equal(otlphttp_parse_retry_after(" 3 ", 0), 3 * GB_NS_PER_S);
    assert_int_equal(otlphttp_parse_retry_after("", 0), 0);
    assert_int_equal(otlphttp_parse_retry_after(NULL, 0), 0);
    assert_int_equal(otlphttp_parse_retry_after("soon", 0), 0);
    assert_int_equal(otlphttp_parse_retry_after("-5", 0), 0);
    /* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
    assert_int_equal(otlphttp_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470),
                     10 * GB_NS_PER_S);
    assert_int_equal(otlphttp_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

static void test_status_message_parse(void **state)
{
    (void)state;
    char msg[64];
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    assert_int_equal(otlp_encode_status_proto(3, "invalid span id", &b), GB_OK);
    otlphttp_status_message((const uint8_t *)b.data, b.len, false, msg, sizeof msg);
    assert_string_equal(msg, "invalid span id");
    gb_sbuf_reset(&b);
    assert_int_equal(otlp_encode_status_json(3, "bad json", &b), GB_OK);
    otlphttp_status_message((const uint8_t *)b.data, b.len, true, msg, sizeof msg);
    assert_string_equal(msg, "bad json");
    gb_sbuf_free(&b);
    const uint8_t junk[] = {0x12, 0x7f, 'a'};
    otlphttp_status_message(junk, sizeof junk, false, msg, sizeof msg);
    assert_string_equal(msg, "");
    otlphttp_status_message((const uint8_t *)"{", 1, true, msg, sizeof msg);
    assert_string_equal(msg, "");
}

int main(void)
{
    gb_log_set_level(GB_LOG_ERROR);
    signal(SIGPIPE,
           SIG_IGN); /* the sink writes to peers that may have gone (the service does the same) */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_success_gzip_proto_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signals_and_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zstd_and_deflate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json_encoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_503_retry_after_then_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_429_and_502_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_400_permanent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connection_refused_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_is_retryable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queued_consumers_drain, setup, teardown),
        cmocka_unit_test(test_retry_after_parse),
        cmocka_unit_test(test_status_message_parse),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    gb_tm_reset();
    return rc;
}
