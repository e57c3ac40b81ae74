/* prometheusremotewrite exporter internals: translation of OTLP metrics into series (labels,
 * histograms, summaries, target_info, delta drop, created series, metadata), the WriteRequest
 * encoding (exact bytes for a hand-built case, and decoded back with a small protobuf reader),
 * splitting by max_batch_size_bytes, snappy, and config binding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cfg_bind_util.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "exporter/prometheusremotewrite/prw.h"
#include "otlp/otlp.h"
#include "otlp/wire.h"

static pd_batch *from_json(const char *json)
{
    pd_batch *b = NULL;
    otlp_error err;
    assert_int_equal(pd_batch_new(PD_METRICS, 0, &b), GB_OK);
    assert_int_equal(otlp_decode_json(b, json, strlen(json), &err), GB_OK);
    return b;
}

/* "name{a=\"x\",b=\"y\"} value @ts" with every label (sorted order checked separately). */
static void render(const prw_series_set *s, uint32_t i, char *out, size_t n)
{
    const prw_series *ts = &s->series[i];
    size_t w = 0;
    gb_str name = GB_STR_NULL;
    for (uint32_t j = 0; j < ts->n_labels; j++) {
        const prw_label *l = &s->labels[ts->first_label + j];
        if (gb_str_eq_c(prw_str(s, l->name_off, l->name_len), "__name__"))
            name = prw_str(s, l->value_off, l->value_len);
    }
    w += (size_t)snprintf(out + w, n - w, "%.*s{", GB_STR_FMT(name));
    bool first = true;
    for (uint32_t j = 0; j < ts->n_labels; j++) {
        const prw_label *l = &s->labels[ts->first_label + j];
        gb_str ln = prw_str(s, l->name_off, l->name_len);
        if (gb_str_eq_c(ln, "__name__")) continue;
        w += (size_t)snprintf(out + w, n - w, "%s%.*s=\"%.*s\"", first ? "" : ",", GB_STR_FMT(ln),
                              GB_STR_FMT(prw_str(s, l->value_off, l->value_len)));
        first = false;
    }
    snprintf(out + w, n - w, "} %g @%lld", ts->value, (long long)ts->ts_ms);
}

static void assert_sorted(const prw_series_set *s)
{
    for (uint32_t i = 0; i < s->n_series; i++) {
        const prw_series *ts = &s->series[i];
        for (uint32_t j = 1; j < ts->n_labels; j++) {
            const prw_label *a = &s->labels[ts->first_label + j - 1];
            const prw_label *b = &s->labels[ts->first_label + j];
            gb_str x = prw_str(s, a->name_off, a->name_len),
                   y = prw_str(s, b->name_off, b->name_len);
            uint32_t m = x.len < y.len ? x.len : y.len;
            int c = memcmp(x.ptr, y.ptr, m);
            assert_true(c < 0 || (c == 0 && x.len < y.len));
        }
    }
}

static void expect_series(const prw_series_set *s, const char *const *want, uint32_t n)
{
    char buf[1024];
    if (s->n_series != n) {
        for (uint32_t i = 0; i < s->n_series; i++) {
            render(s, i, buf, sizeof buf);
            print_message("got: %s\n", buf);
        }
    }
    assert_int_equal(s->n_series, n);
    for (uint32_t i = 0; i < n; i++) {
        render(s, i, buf, sizeof buf);
        assert_string_equal(buf, want[i]);
    }
    assert_sorted(s);
}

#define RES                                                                                        \
    "\"resource\":{\"attributes\":["                                                               \
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"chatbot\"}},"                          \
    "{\"key\":\"service.namespace\",\"value\":{\"stringValue\":\"ai\"}},"                          \
    "{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":\"pod-1\"}},"                     \
    "{\"key\":\"deployment.environment\",\"value\":{\"stringValue\":\"prod\"}}]}"

static const char k_counter[] =
    "{\"resourceMetrics\":[{" RES ",\"scopeMetrics\":[{\"metrics\":["
    "{\"name\":\"genops.cost\",\"unit\":\"{USD}\",\"description\":\"cost\",\"sum\":{"
    "\"aggregationTemporality\":2,\"isMonotonic\":true,\"dataPoints\":["
    "{\"attributes\":[{\"key\":\"genops.team\",\"value\":{\"stringValue\":\"search\"}},"
    "{\"key\":\"cluster\",\"value\":{\"stringValue\":\"from-attr\"}}],"
    "\"startTimeUnixNano\":\"1000000000\",\"timeUnixNano\":\"2000000000\",\"asDouble\":1.5}]}}"
    "]}]}]}";

static void test_counter_labels(void **state)
{
    (void)state;
    pd_batch *b = from_json(k_counter);
    prw_series_set s;
    prw_series_set_init(&s);
    promutil_label ext[] = {{"cluster", "production"}, {"region", "eu"}};
    prw_translate_opts o = {.add_metric_suffixes = true,
                            .target_info = true,
                            .external_labels = ext,
                            .n_external_labels = 2};
    assert_int_equal(prw_translate(b, &o, &s), GB_OK);
    const char *want[] = {
        /* the attribute "cluster" wins over the external label of the same name */
        "genops_cost_total{cluster=\"from-attr\",genops_team=\"search\",instance=\"pod-1\","
        "job=\"ai/chatbot\",region=\"eu\"} 1.5 @2000",
        "target_info{cluster=\"production\",deployment_environment=\"prod\",instance=\"pod-1\","
        "job=\"ai/chatbot\",region=\"eu\"} 1 @2000",
    };
    expect_series(&s, want, 2);
    assert_int_equal(s.dropped_points, 0);

    /* namespace, no suffixes, resource attributes as labels, target_info off, created series */
    o = (prw_translate_opts){.namespace_ = "acme",
                             .add_metric_suffixes = false,
                             .resource_to_telemetry = true,
                             .created_metric = true};
    assert_int_equal(prw_translate(b, &o, &s), GB_OK);
    const char *want2[] = {
        "acme_genops_cost{cluster=\"from-attr\",deployment_environment=\"prod\","
        "genops_team=\"search\",instance=\"pod-1\",job=\"ai/chatbot\",service_instance_id="
        "\"pod-1\",service_name=\"chatbot\",service_namespace=\"ai\"} 1.5 @2000",
        "acme_genops_cost_created{cluster=\"from-attr\",deployment_environment=\"prod\","
        "genops_team=\"search\",instance=\"pod-1\",job=\"ai/chatbot\",service_instance_id="
        "\"pod-1\",service_name=\"chatbot\",service_namespace=\"ai\"} 1000 @2000",
    };
    expect_series(&s, want2, 2);
    prw_series_set_free(&s);
    pd_batch_unref(b);
}

/* resource_to_telemetry: a resource attribute wins over a point attribute of the same name
 * (otelcol's resourcetotelemetry upserts); a point attribute "job" is replaced by the service's job
 */
static const char k_collide[] =
    "{\"resourceMetrics\":[{" RES ",\"scopeMetrics\":[{\"metrics\":["
    "{\"name\":\"up\",\"gauge\":{\"dataPoints\":[{\"attributes\":["
    "{\"key\":\"deployment.environment\",\"value\":{\"stringValue\":\"dev\"}},"
    "{\"key\":\"job\",\"value\":{\"stringValue\":\"mine\"}}],"
    "\"timeUnixNano\":\"3000000\",\"asInt\":\"1\"}]}}]}]}]}";

static void test_resource_to_telemetry_wins(void **state)
{
    (void)state;
    pd_batch *b = from_json(k_collide);
    prw_series_set s;
    prw_series_set_init(&s);
    prw_translate_opts o = {.add_metric_suffixes = true, .resource_to_telemetry = true};
    assert_int_equal(prw_translate(b, &o, &s), GB_OK);
    const char *want[] = {
        "up{deployment_environment=\"prod\",instance=\"pod-1\",job=\"ai/chatbot\","
        "service_instance_id=\"pod-1\",service_name=\"chatbot\",service_namespace=\"ai\"} 1 @3",
    };
    expect_series(&s, want, 1);
    prw_series_set_free(&s);
    pd_batch_unref(b);
}

static const char k_hist[] =
    "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
    "{\"name\":\"latency\",\"unit\":\"s\",\"histogram\":{\"aggregationTemporality\":2,"
    "\"dataPoints\":[{\"timeUnixNano\":\"5000000\",\"count\":\"10\",\"sum\":7.5,"
    "\"bucketCounts\":[\"2\",\"5\",\"3\"],\"explicitBounds\":[0.00001,1]}]}},"
    "{\"name\":\"rpc\",\"summary\":{\"dataPoints\":[{\"timeUnixNano\":\"6000000\",\"count\":\"4\","
    "\"sum\":2,\"quantileValues\":[{\"quantile\":0.5,\"value\":0.4},"
    "{\"quantile\":0.99,\"value\":0.9}]}]}}"
    "]}]}]}";

static void test_histogram_summary(void **state)
{
    (void)state;
    pd_batch *b = from_json(k_hist);
    prw_series_set s;
    prw_series_set_init(&s);
    prw_translate_opts o = {.add_metric_suffixes = true, .target_info = true};
    assert_int_equal(prw_translate(b, &o, &s), GB_OK);
    const char *want[] = {
        "latency_seconds_sum{} 7.5 @5",
        "latency_seconds_count{} 10 @5",
        "latency_seconds_bucket{le=\"0.00001\"} 2 @5",
        "latency_seconds_bucket{le=\"1\"} 7 @5",
        "latency_seconds_bucket{le=\"+Inf\"} 10 @5",
        "rpc_sum{} 2 @6",
        "rpc_count{} 4 @6",
        "rpc{quantile=\"0.5\"} 0.4 @6",
        "rpc{quantile=\"0.99\"} 0.9 @6",
    };
    /* no target_info: the resource has no attributes */
    expect_series(&s, want, 9);
    prw_series_set_free(&s);
    pd_batch_unref(b);
}

/* target_info needs job or instance; bounds without bucket counts are not sent */
static const char k_no_job[] =
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"host.name\","
    "\"value\":{\"stringValue\":\"h1\"}}]},\"scopeMetrics\":[{\"metrics\":["
    "{\"name\":\"h\",\"histogram\":{\"aggregationTemporality\":2,"
    "\"dataPoints\":[{\"timeUnixNano\":\"5000000\",\"count\":\"3\","
    "\"bucketCounts\":[\"1\"],\"explicitBounds\":[1.5,2.5]}]}}]}]}]}";

static void test_target_info_needs_identity(void **state)
{
    (void)state;
    pd_batch *b = from_json(k_no_job);
    prw_series_set s;
    prw_series_set_init(&s);
    prw_translate_opts o = {.add_metric_suffixes = true, .target_info = true};
    assert_int_equal(prw_translate(b, &o, &s), GB_OK);
    const char *want[] = {
        "h_count{} 3 @5",
        "h_bucket{le=\"1.5\"} 1 @5",
        "h_bucket{le=\"+Inf\"} 3 @5",
    };
    expect_series(&s, want, 3);
    prw_series_set_free(&s);
    pd_batch_unref(b);
}

static const char k_delta[] =
    "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
    "{\"name\":\"tokens\",\"sum\":{\"aggregationTemporality\":1,\"isMonotonic\":true,"
    "\"dataPoints\":[{\"timeUnixNano\":\"1000000\",\"asInt\":\"3\"},"
    "{\"timeUnixNano\":\"1000000\",\"asInt\":\"4\"}]}},"
    "{\"name\":\"h\",\"histogram\":{\"aggregationTemporality\":1,"
    "\"dataPoints\":[{\"timeUnixNano\":\"1000000\",\"count\":\"1\"}]}},"
    "{\"name\":\"e\",\"exponentialHistogram\":{\"aggregationTemporality\":2,"
    "\"dataPoints\":[{\"timeUnixNano\":\"1000000\",\"count\":\"1\"}]}},"
    "{\"name\":\"up\",\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":\"1000000\",\"asInt\":\"1\"},"
    "{\"timeUnixNano\":\"2000000\",\"asInt\":\"0\",\"flags\":1}]}}"
    "]}]}]}";

static void test_delta_dropped(void **state)
{
    (void)state;
    pd_batch *b = from_json(k_delta);
    prw_series_set s;
    prw_series_set_init(&s);
    prw_translate_opts o = {.add_metric_suffixes = true};
    assert_int_equal(prw_translate(b, &o, &s), GB_OK);
    assert_int_equal(s.dropped_points, 4);
    assert_non_null(strstr(s.first_error, "invalid temporality and type combination"));
    assert_non_null(strstr(s.first_error, "\"tokens\""));
    assert_int_equal(s.n_series, 2);
    char buf[256];
    render(&s, 0, buf, sizeof buf);
    assert_string_equal(buf, "up{} 1 @1");
    /* NoRecordedValue: the Prometheus stale marker */
    assert_true(isnan(s.series[1].value));
    assert_int_equal(pw_d2u(s.series[1].value), 0x7ff0000000000002ull);
    prw_series_set_free(&s);
    pd_batch_unref(b);
}

/* Hand-built set: one series {__name__="up", job="x"} 1 @1000. */
static void one_series(prw_series_set *s)
{
    prw_series_set_reset(s);
    gb_sbuf_puts(&s->strs, "__name__upjobx");
    s->labels = calloc(2, sizeof *s->labels);
    s->cap_labels = 2;
    s->labels[0] = (prw_label){0, 8, 8, 2};
    s->labels[1] = (prw_label){10, 3, 13, 1};
    s->n_labels = 2;
    s->series = calloc(1, sizeof *s->series);
    s->cap_series = 1;
    s->series[0] = (prw_series){0, 2, 1.0, 1000};
    s->n_series = 1;
}

static void test_encode_bytes(void **state)
{
    (void)state;
    prw_series_set s;
    prw_series_set_init(&s);
    one_series(&s);
    static const uint8_t want[] = {
        0x0a, 0x28, /* timeseries, 40 bytes */
        0x0a, 0x0e, 0x0a, 0x08, '_', '_', 'n', 'a',  'm',  'e',  '_',  '_', /* label __name__ */
        0x12, 0x02, 'u',  'p',                                              /* = "up" */
        0x0a, 0x08, 0x0a, 0x03, 'j', 'o', 'b', 0x12, 0x01, 'x',             /* label job="x" */
        0x12, 0x0c, 0x09, 0,    0,   0,   0,   0,    0,    0xf0, 0x3f,      /* sample value 1.0 */
        0x10, 0xe8, 0x07,                                                   /* timestamp 1000 */
    };
    assert_int_equal(prw_series_wire_size(&s, 0), sizeof want);
    prw_chunk c = {0, 1, 0, 0};
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    assert_int_equal(prw_encode(&s, &c, &out), GB_OK);
    assert_int_equal(out.len, sizeof want);
    assert_memory_equal(out.data, want, sizeof want);

    /* snappy round trip */
    char *z = NULL;
    size_t zcap = 0, zlen = 0;
    assert_int_equal(prw_snappy(out.data, out.len, &z, &zcap, &zlen), GB_OK);
    char back[128];
    size_t blen = sizeof back;
    assert_int_equal(snappy_uncompress(z, zlen, back, &blen), SNAPPY_OK);
    assert_int_equal(blen, sizeof want);
    assert_memory_equal(back, want, sizeof want);
    free(z);
    gb_sbuf_free(&out);
    prw_series_set_free(&s);
}

/* Decodes a WriteRequest and renders its series like render() (labels in wire order). */
static uint32_t decode_request(const uint8_t *p, size_t n, char out[][1024], uint32_t max,
                               uint32_t *n_meta)
{
    const uint8_t *end = p + n;
    uint32_t k = 0;
    pw_field f = {0};
    while (p < end) {
        assert_int_equal(pw_next(&p, end, &f), PW_OK);
        if (f.num == 3) {
            (*n_meta)++;
            continue;
        }
        assert_int_equal(f.num, 1);
        assert_true(k < max);
        char labels[900] = "", name[128] = "";
        double v = 0;
        int64_t ts = 0;
        const uint8_t *q = f.p, *qe = f.p + f.len;
        pw_field g = {0};
        while (q < qe) {
            assert_int_equal(pw_next(&q, qe, &g), PW_OK);
            const uint8_t *r = g.p, *re = g.p + g.len;
            pw_field h = {0};
            if (g.num == 1) {
                gb_str ln = GB_STR_NULL, lv = GB_STR_NULL;
                while (r < re) {
                    assert_int_equal(pw_next(&r, re, &h), PW_OK);
                    if (h.num == 1) ln = gb_str_n(h.p, h.len);
                    if (h.num == 2) lv = gb_str_n(h.p, h.len);
                }
                if (gb_str_eq_c(ln, "__name__")) {
                    snprintf(name, sizeof name, "%.*s", GB_STR_FMT(lv));
                } else {
                    size_t w = strlen(labels);
                    snprintf(labels + w, sizeof labels - w, "%s%.*s=\"%.*s\"", w ? "," : "",
                             GB_STR_FMT(ln), GB_STR_FMT(lv));
                }
            } else if (g.num == 2) {
                while (r < re) {
                    assert_int_equal(pw_next(&r, re, &h), PW_OK);
                    if (h.num == 1) v = pw_u2d(h.v);
                    if (h.num == 2) ts = (int64_t)h.v;
                }
            }
        }
        int w = snprintf(out[k++], 1024, "%s{%s} %g @%lld", name, labels, v, (long long)ts);
        assert_true(w > 0 && w < 1024);
    }
    return k;
}

static void test_split_and_decode(void **state)
{
    (void)state;
    /* 40 gauge points with distinct attributes, metadata on */
    gb_sbuf js;
    gb_sbuf_init(&js, 0);
    gb_sbuf_puts(&js, "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
                      "{\"name\":\"g\",\"description\":\"a gauge\",\"unit\":\"By\","
                      "\"gauge\":{\"dataPoints\":[");
    for (int i = 0; i < 40; i++)
        gb_sbuf_printf(&js,
                       "%s{\"attributes\":[{\"key\":\"i\",\"value\":{\"intValue\":\"%d\"}}],"
                       "\"timeUnixNano\":\"%d000000\",\"asDouble\":%d.25}",
                       i ? "," : "", i, i + 1, i);
    gb_sbuf_puts(&js, "]}}]}]}]}");
    pd_batch *b = from_json(js.data);
    prw_series_set s;
    prw_series_set_init(&s);
    prw_translate_opts o = {.add_metric_suffixes = true, .send_metadata = true};
    assert_int_equal(prw_translate(b, &o, &s), GB_OK);
    assert_int_equal(s.n_series, 40);
    assert_int_equal(s.n_meta, 1);
    assert_int_equal(s.meta[0].type, PRW_MT_GAUGE);

    prw_chunk *chunks = NULL;
    uint32_t n = 0, cap = 0;
    const size_t max = 150;
    assert_int_equal(prw_split(&s, max, &chunks, &n, &cap), GB_OK);
    assert_true(n > 5);
    char(*got)[1024] = calloc(64, 1024);
    uint32_t total = 0, metas = 0, next_series = 0;
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    for (uint32_t c = 0; c < n; c++) {
        assert_int_equal(chunks[c].first_series, next_series);
        next_series = chunks[c].end_series;
        gb_sbuf_reset(&out);
        assert_int_equal(prw_encode(&s, &chunks[c], &out), GB_OK);
        uint32_t entries = (chunks[c].end_series - chunks[c].first_series) +
                           (chunks[c].end_meta - chunks[c].first_meta);
        assert_true(out.len <= max || entries == 1);
        total +=
            decode_request((const uint8_t *)out.data, out.len, got + total, 64 - total, &metas);
    }
    assert_int_equal(total, 40);
    assert_int_equal(metas, 1);
    char want[1024];
    for (uint32_t i = 0; i < 40; i++) {
        render(&s, i, want, sizeof want);
        assert_string_equal(got[i], want);
    }
    assert_string_equal(got[3], "g_bytes{i=\"3\"} 3.25 @4");

    /* everything in one request when the limit allows */
    assert_int_equal(prw_split(&s, 3000000, &chunks, &n, &cap), GB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(chunks[0].end_series, 40);
    assert_int_equal(chunks[0].end_meta, 1);
    free(got);
    free(chunks);
    gb_sbuf_free(&out);
    gb_sbuf_free(&js);
    prw_series_set_free(&s);
    pd_batch_unref(b);
}

/* ---- config -----------------------------------------------------------------------------------
 */

static void bind_yaml(cfg_bound *b, prw_cfg *c, const char *yaml)
{
    cfg_bind_yaml(b, &prw_table, c, sizeof *c, "exporters.prometheusremotewrite", yaml);
}

static void test_config(void **state)
{
    (void)state;
    prw_cfg c, def;
    cfg_bound b;
    bind_yaml(&b, &c, "endpoint: http://mimir:9009/api/v1/push\n");
    assert_int_equal(b.d.errors, 0);
    prw_cfg_default(&def);
    assert_true(c.add_metric_suffixes && c.target_info.enabled && !c.send_metadata);
    assert_false(c.resource_to_telemetry.enabled);
    assert_int_equal(c.max_batch_size_bytes, def.max_batch_size_bytes);
    assert_int_equal(c.timeout, 5 * GB_NS_PER_S);
    assert_true(c.queue.enabled);
    assert_int_equal(c.queue.queue_size, 10000);
    assert_int_equal(c.queue.num_consumers, 5);
    assert_int_equal(c.retry.initial_interval, def.retry.initial_interval);
    assert_int_equal(c.retry.max_interval, 200 * GB_NS_PER_MS);
    assert_int_equal(c.retry.max_elapsed_time, 60 * GB_NS_PER_S);
    cfg_bound_free(&b);

    bind_yaml(&b, &c,
              "endpoint: http://mimir:9009/api/v1/push\n"
              "headers:\n  X-Scope-OrgID: tenant-a\n"
              "external_labels:\n  cluster: production\n  region: us-west-2\n"
              "resource_to_telemetry_conversion:\n  enabled: true\n"
              "namespace: genops\nsend_metadata: true\nadd_metric_suffixes: false\n"
              "target_info:\n  enabled: false\nmax_batch_size_bytes: 1000\n"
              "remote_write_queue:\n  queue_size: 50\n  num_consumers: 2\n");
    assert_int_equal(b.d.errors, 0);
    assert_int_equal(c.external_labels.n, 2);
    assert_true(c.resource_to_telemetry.enabled && c.send_metadata && !c.add_metric_suffixes);
    assert_false(c.target_info.enabled);
    assert_string_equal(c.namespace_, "genops");
    assert_int_equal(c.queue.queue_size, 50);
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: http://x/api/v1/write\nwal:\n  directory: ./prom_rw\n");
    assert_int_equal(b.d.errors, 1);
    assert_non_null(strstr(b.text.data, "t.yaml:2:1"));
    assert_non_null(strstr(b.text.data, "not supported in this build"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: http://x/api/v1/write\nsending_queue:\n  enabled: true\n");
    assert_int_equal(b.d.errors, 1);
    assert_non_null(strstr(b.text.data, "t.yaml:2:1"));
    assert_non_null(strstr(b.text.data, "remote_write_queue"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: http://x/api/v1/write\ncompression: gzip\n");
    assert_true(b.d.errors >= 1);
    assert_non_null(strstr(b.text.data, "snappy"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "namespace: x\n");
    assert_int_equal(b.d.errors, 1);
    assert_non_null(strstr(b.text.data, "endpoint"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: ftp://x\nexternal_labels:\n  cluster: \"\"\n");
    assert_int_equal(b.d.errors, 2);
    assert_non_null(strstr(b.text.data, "the scheme must be http:// or https://"));
    assert_non_null(strstr(b.text.data, "external_labels: empty label name or value"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: http://x/\nremote_write_queue:\n  queue_size: 0\n");
    assert_int_equal(b.d.errors, 1);
    assert_non_null(strstr(b.text.data, "t.yaml:3:15"));
    assert_non_null(strstr(b.text.data, "a 0 size queue will drop all the data"));
    cfg_bound_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_labels),    cmocka_unit_test(test_resource_to_telemetry_wins),
        cmocka_unit_test(test_histogram_summary), cmocka_unit_test(test_target_info_needs_identity),
        cmocka_unit_test(test_delta_dropped),     cmocka_unit_test(test_encode_bytes),
        cmocka_unit_test(test_split_and_decode),  cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
