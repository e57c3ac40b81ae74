/* OTLP/JSON codec: decoding of the OTLP specification's example payloads and of hand-written
 * fixtures (every field checked), exact encoder output, encode/decode round trips of random
 * batches, lenient input forms, and every error case. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/otlp.h"
#include "test_otlp_json_eq.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static pd_batch *decode_ok(pd_signal s, const char *json)
{
    pd_batch *b;
    otlp_error err = {{0}};
    assert_int_equal(pd_batch_new(s, 0, &b), GB_OK);
    gb_status st = otlp_decode_json(b, json, strlen(json), &err);
    if (st != GB_OK) fprintf(stderr, "decode failed: %s\n", err.msg);
    assert_int_equal(st, GB_OK);
    return b;
}

/* Decodes json expecting failure; returns the error message (static storage). */
static const char *decode_err(pd_signal s, const char *json)
{
    static otlp_error err;
    pd_batch *b;
    memset(&err, 0, sizeof err);
    assert_int_equal(pd_batch_new(s, 0, &b), GB_OK);
    gb_status st = otlp_decode_json(b, json, strlen(json), &err);
    if (st == GB_OK) fprintf(stderr, "unexpected success: %s\n", json);
    assert_int_not_equal(st, GB_OK);
    assert_true(err.msg[0] != '\0');
    pd_batch_unref(b);
    return err.msg;
}

static void expect_err(pd_signal s, const char *json, const char *needle)
{
    const char *msg = decode_err(s, json);
    if (!strstr(msg, needle)) fprintf(stderr, "error \"%s\" lacks \"%s\"\n", msg, needle);
    assert_non_null(strstr(msg, needle));
}

static char *encode(const pd_batch *b)
{
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    assert_int_equal(otlp_encode_json(b, &out), GB_OK);
    return gb_sbuf_take(&out, NULL);
}

static void assert_str(gb_str s, const char *want)
{
    if (!gb_str_eq_c(s, want)) fprintf(stderr, "got \"%.*s\", want \"%s\"\n", GB_STR_FMT(s), want);
    assert_true(gb_str_eq_c(s, want));
}

static const pd_any *attr(const pd_attrs *a, const char *key)
{
    pd_kv *kv = pd_attrs_find(a, gb_str_c(key));
    assert_non_null(kv);
    return &kv->value;
}

static void assert_attr_str(const pd_attrs *a, const char *key, const char *want)
{
    const pd_any *v = attr(a, key);
    assert_int_equal(v->type, PD_ANY_STR);
    assert_str(v->u.str, want);
}

static void assert_hex(const uint8_t *id, size_t n, const char *hex)
{
    char got[40];
    for (size_t i = 0; i < n; i++)
        snprintf(got + 2 * i, 3, "%02x", id[i]);
    assert_string_equal(got, hex);
}

/* ---- the OTLP specification's examples (the examples folder of opentelemetry-proto) ------------
 */

static const char spec_trace[] =
    "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{"
    "\"stringValue\":\"my.service\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"my.library\","
    "\"version\":\"1.0.0\",\"attributes\":[{\"key\":\"my.scope.attribute\",\"value\":{"
    "\"stringValue\":\"some scope attribute\"}}]},\"spans\":[{\"traceId\":"
    "\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"EEE19B7EC3C1B174\",\"parentSpanId\":"
    "\"EEE19B7EC3C1B173\",\"name\":\"I'm a server span\",\"startTimeUnixNano\":"
    "1544712660000000000,\"endTimeUnixNano\":1544712661000000000,\"kind\":2,\"attributes\":[{"
    "\"key\":\"my.span.attr\",\"value\":{\"stringValue\":\"some value\"}}]}]}]}]}";

static void check_spec_resource_scope(const pd_resource *r, const pd_scope *sc)
{
    assert_int_equal(r->attrs.n, 1);
    assert_attr_str(&r->attrs, "service.name", "my.service");
    assert_str(sc->name, "my.library");
    assert_str(sc->version, "1.0.0");
    assert_int_equal(sc->attrs.n, 1);
    assert_attr_str(&sc->attrs, "my.scope.attribute", "some scope attribute");
}

static void test_spec_trace_example(void **state)
{
    (void)state;
    pd_batch *b = decode_ok(PD_TRACES, spec_trace);
    assert_int_equal(b->u.traces.n, 1);
    const pd_resource_spans *rs = &b->u.traces.v[0];
    assert_int_equal(rs->n_scope_spans, 1);
    check_spec_resource_scope(&rs->resource, &rs->scope_spans[0].scope);
    assert_int_equal(rs->scope_spans[0].n_spans, 1);
    const pd_span *s = &rs->scope_spans[0].spans[0];
    assert_hex(s->trace_id.b, 16, "5b8efff798038103d269b633813fc60c");
    assert_hex(s->span_id.b, 8, "eee19b7ec3c1b174");
    assert_hex(s->parent_span_id.b, 8, "eee19b7ec3c1b173");
    assert_str(s->name, "I'm a server span");
    assert_int_equal(s->start_time_unix_nano, 1544712660000000000ULL);
    assert_int_equal(s->end_time_unix_nano, 1544712661000000000ULL);
    assert_int_equal(s->kind, PD_SPAN_KIND_SERVER);
    assert_int_equal(s->attrs.n, 1);
    assert_attr_str(&s->attrs, "my.span.attr", "some value");
    assert_int_equal(s->n_events, 0);
    assert_int_equal(s->n_links, 0);
    assert_int_equal(s->status.code, 0);
    assert_int_equal(pd_batch_count(b), 1);
    pd_batch_unref(b);
}

static const char spec_metrics[] =
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{"
    "\"stringValue\":\"my.service\"}}]},\"scopeMetrics\":[{\"scope\":{\"name\":\"my.library\","
    "\"version\":\"1.0.0\",\"attributes\":[{\"key\":\"my.scope.attribute\",\"value\":{"
    "\"stringValue\":\"some scope attribute\"}}]},\"metrics\":[{\"name\":\"my.counter\",\"unit\":"
    "\"1\",\"description\":\"I`m a Counter\",\"sum\":{\"aggregationTemporality\":1,"
    "\"isMonotonic\":true,\"dataPoints\":[{\"asDouble\":5,\"startTimeUnixNano\":"
    "1544712660300000000,\"timeUnixNano\":1544712660300000000,\"attributes\":[{\"key\":"
    "\"my.counter.attr\",\"value\":{\"stringValue\":\"some value\"}}]}]}},{\"name\":"
    "\"my.gauge\",\"unit\":\"1\",\"description\":\"I`m a Gauge\",\"gauge\":{\"dataPoints\":[{"
    "\"asDouble\":10,\"timeUnixNano\":1544712660300000000,\"attributes\":[{\"key\":"
    "\"my.gauge.attr\",\"value\":{\"stringValue\":\"some value\"}}]}]}},{\"name\":"
    "\"my.histogram\",\"unit\":\"1\",\"description\":\"I`m a Histogram\",\"histogram\":{"
    "\"aggregationTemporality\":1,\"dataPoints\":[{\"startTimeUnixNano\":1544712660300000000,"
    "\"timeUnixNano\":1544712660300000000,\"count\":3,\"sum\":3,\"bucketCounts\":[1,1,1],"
    "\"explicitBounds\":[1],\"min\":1,\"max\":1,\"attributes\":[{\"key\":\"my.histogram.attr\","
    "\"value\":{\"stringValue\":\"some value\"}}]}]}}]}]}]}";

static void test_spec_metrics_example(void **state)
{
    (void)state;
    pd_batch *b = decode_ok(PD_METRICS, spec_metrics);
    assert_int_equal(b->u.metrics.n, 1);
    const pd_resource_metrics *rm = &b->u.metrics.v[0];
    check_spec_resource_scope(&rm->resource, &rm->scope_metrics[0].scope);
    const pd_scope_metrics *sm = &rm->scope_metrics[0];
    assert_int_equal(sm->n_metrics, 3);

    const pd_metric *m = &sm->metrics[0];
    assert_str(m->name, "my.counter");
    assert_str(m->unit, "1");
    assert_str(m->description, "I`m a Counter");
    assert_int_equal(m->type, PD_METRIC_SUM);
    assert_int_equal(m->temporality, PD_TEMPORALITY_DELTA);
    assert_true(m->is_monotonic);
    assert_int_equal(m->n_dp, 1);
    assert_int_equal(m->dp.number[0].value_type, PD_NUM_DOUBLE);
    assert_true(m->dp.number[0].value.d == 5.0);
    assert_int_equal(m->dp.number[0].start_time_unix_nano, 1544712660300000000ULL);
    assert_int_equal(m->dp.number[0].time_unix_nano, 1544712660300000000ULL);
    assert_attr_str(&m->dp.number[0].attrs, "my.counter.attr", "some value");

    m = &sm->metrics[1];
    assert_str(m->name, "my.gauge");
    assert_int_equal(m->type, PD_METRIC_GAUGE);
    assert_int_equal(m->n_dp, 1);
    assert_true(m->dp.number[0].value.d == 10.0);
    assert_int_equal(m->dp.number[0].start_time_unix_nano, 0);
    assert_attr_str(&m->dp.number[0].attrs, "my.gauge.attr", "some value");

    m = &sm->metrics[2];
    assert_str(m->name, "my.histogram");
    assert_int_equal(m->type, PD_METRIC_HISTOGRAM);
    assert_int_equal(m->temporality, PD_TEMPORALITY_DELTA);
    const pd_histogram_dp *h = &m->dp.histogram[0];
    assert_int_equal(h->count, 3);
    assert_true(h->has_sum && h->sum == 3.0);
    assert_true(h->has_min && h->min == 1.0);
    assert_true(h->has_max && h->max == 1.0);
    assert_int_equal(h->n_bucket_counts, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(h->bucket_counts[i], 1);
    assert_int_equal(h->n_explicit_bounds, 1);
    assert_true(h->explicit_bounds[0] == 1.0);
    assert_attr_str(&h->attrs, "my.histogram.attr", "some value");
    assert_int_equal(pd_batch_count(b), 3);
    pd_batch_unref(b);
}

static const char spec_logs[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{"
    "\"stringValue\":\"my.service\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":\"my.library\","
    "\"version\":\"1.0.0\",\"attributes\":[{\"key\":\"my.scope.attribute\",\"value\":{"
    "\"stringValue\":\"some scope attribute\"}}]},\"logRecords\":[{\"timeUnixNano\":"
    "1544712660300000000,\"observedTimeUnixNano\":1544712660300000000,\"severityText\":"
    "\"Information\",\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":"
    "\"EEE19B7EC3C1B174\",\"body\":{\"stringValue\":\"Example log record\"},\"attributes\":[{"
    "\"key\":\"string.attribute\",\"value\":{\"stringValue\":\"some string\"}},{\"key\":"
    "\"boolean.attribute\",\"value\":{\"boolValue\":true}},{\"key\":\"int.attribute\",\"value\":"
    "{\"intValue\":10}},{\"key\":\"double.attribute\",\"value\":{\"doubleValue\":637.704}},{"
    "\"key\":\"array.attribute\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":"
    "\"many\"},{\"stringValue\":\"values\"}]}}},{\"key\":\"map.attribute\",\"value\":{"
    "\"kvlistValue\":{\"values\":[{\"key\":\"some.map.key\",\"value\":{\"stringValue\":"
    "\"some value\"}}]}}}]}]}]}]}";

static void test_spec_logs_example(void **state)
{
    (void)state;
    pd_batch *b = decode_ok(PD_LOGS, spec_logs);
    assert_int_equal(b->u.logs.n, 1);
    const pd_resource_logs *rl = &b->u.logs.v[0];
    check_spec_resource_scope(&rl->resource, &rl->scope_logs[0].scope);
    assert_int_equal(rl->scope_logs[0].n_logs, 1);
    const pd_log *l = &rl->scope_logs[0].logs[0];
    assert_int_equal(l->time_unix_nano, 1544712660300000000ULL);
    assert_int_equal(l->observed_time_unix_nano, 1544712660300000000ULL);
    assert_str(l->severity_text, "Information");
    assert_int_equal(l->severity_number, 0);
    assert_hex(l->trace_id.b, 16, "5b8efff798038103d269b633813fc60c");
    assert_hex(l->span_id.b, 8, "eee19b7ec3c1b174");
    assert_int_equal(l->body.type, PD_ANY_STR);
    assert_str(l->body.u.str, "Example log record");
    assert_int_equal(l->attrs.n, 6);
    assert_attr_str(&l->attrs, "string.attribute", "some string");
    const pd_any *v = attr(&l->attrs, "boolean.attribute");
    assert_int_equal(v->type, PD_ANY_BOOL);
    assert_true(v->u.b);
    v = attr(&l->attrs, "int.attribute");
    assert_int_equal(v->type, PD_ANY_INT);
    assert_int_equal(v->u.i, 10);
    v = attr(&l->attrs, "double.attribute");
    assert_int_equal(v->type, PD_ANY_DOUBLE);
    assert_true(v->u.d == 637.704);
    v = attr(&l->attrs, "array.attribute");
    assert_int_equal(v->type, PD_ANY_ARRAY);
    assert_int_equal(v->u.arr.n, 2);
    assert_str(v->u.arr.v[0].u.str, "many");
    assert_str(v->u.arr.v[1].u.str, "values");
    v = attr(&l->attrs, "map.attribute");
    assert_int_equal(v->type, PD_ANY_KVLIST);
    assert_int_equal(v->u.kvl.n, 1);
    assert_str(v->u.kvl.v[0].key, "some.map.key");
    assert_str(v->u.kvl.v[0].value.u.str, "some value");
    pd_batch_unref(b);
}

/* examples/events.json writes kvlistValue as a bare array of KeyValue; accepted. */
static const char spec_events[] =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{"
    "\"stringValue\":\"my.service\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":\"my.library\","
    "\"version\":\"1.0.0\",\"attributes\":[{\"key\":\"my.scope.attribute\",\"value\":{"
    "\"stringValue\":\"some scope attribute\"}}]},\"logRecords\":[{\"timeUnixNano\":"
    "\"1544712660300000000\",\"observedTimeUnixNano\":\"1544712660300000000\","
    "\"severityNumber\":9,\"attributes\":[{\"key\":\"event.name\",\"value\":{\"stringValue\":"
    "\"browser.page_view\"}}],\"body\":{\"kvlistValue\":[{\"key\":\"type\",\"value\":{"
    "\"intValue\":\"0\"}},{\"key\":\"url\",\"value\":{\"stringValue\":"
    "\"https://www.guidgenerator.com/online-guid-generator.aspx\"}},{\"key\":\"referrer\","
    "\"value\":{\"stringValue\":\"https://wwww.google.com\"}},{\"key\":\"title\",\"value\":{"
    "\"stringValue\":\"Free Online GUID Generator\"}}]}}]}]}]}";

static void test_spec_events_example(void **state)
{
    (void)state;
    pd_batch *b = decode_ok(PD_LOGS, spec_events);
    const pd_log *l = &b->u.logs.v[0].scope_logs[0].logs[0];
    assert_int_equal(l->time_unix_nano, 1544712660300000000ULL);
    assert_int_equal(l->severity_number, 9);
    assert_attr_str(&l->attrs, "event.name", "browser.page_view");
    assert_int_equal(l->body.type, PD_ANY_KVLIST);
    assert_int_equal(l->body.u.kvl.n, 4);
    assert_str(l->body.u.kvl.v[0].key, "type");
    assert_int_equal(l->body.u.kvl.v[0].value.type, PD_ANY_INT);
    assert_int_equal(l->body.u.kvl.v[0].value.u.i, 0);
    assert_str(l->body.u.kvl.v[3].value.u.str, "Free Online GUID Generator");
    pd_batch_unref(b);
}

/* ---- hand-written fixtures: every field ---------------------------------------------------- */

/* Traces with every field, mixing camelCase and proto names, enum names and numbers. */
static const char full_trace[] =
    "{\"resource_spans\":[{\"resource\":{\"attributes\":[],\"dropped_attributes_count\":2},"
    "\"schema_url\":\"https://r\",\"scope_spans\":[{\"scope\":{\"name\":\"s\","
    "\"droppedAttributesCount\":\"1\"},\"schemaUrl\":\"https://s\",\"spans\":[{"
    "\"trace_id\":\"0102030405060708090a0b0c0d0e0f10\",\"span_id\":\"1112131415161718\","
    "\"trace_state\":\"a=b\",\"parent_span_id\":\"\",\"flags\":257,\"name\":\"op\","
    "\"kind\":\"SPAN_KIND_CLIENT\",\"start_time_unix_nano\":\"18446744073709551615\","
    "\"end_time_unix_nano\":1e3,\"dropped_attributes_count\":3,\"events\":[{"
    "\"time_unix_nano\":\"5\",\"name\":\"ev\",\"attributes\":[{\"key\":\"k\",\"value\":{"
    "\"int_value\":\"-9223372036854775808\"}}],\"dropped_attributes_count\":4}],"
    "\"dropped_events_count\":5,\"links\":[{\"traceId\":\"ffffffffffffffffffffffffffffffff\","
    "\"spanId\":\"0000000000000001\",\"traceState\":\"x=y\",\"attributes\":[{\"key\":\"b\","
    "\"value\":{\"bytes_value\":\"AAEC/w\"}}],\"droppedAttributesCount\":6,\"flags\":7}],"
    "\"droppedLinksCount\":8,\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"bad\"},"
    "\"unknownField\":{\"nested\":[1,2,3]}},{\"kind\":99,\"status\":{\"code\":1}}]}]}],"
    "\"unknownTop\":true}";

static void test_decode_full_trace(void **state)
{
    (void)state;
    pd_batch *b = decode_ok(PD_TRACES, full_trace);
    const pd_resource_spans *rs = &b->u.traces.v[0];
    assert_int_equal(rs->resource.attrs.n, 0);
    assert_int_equal(rs->resource.dropped_attributes_count, 2);
    assert_str(rs->schema_url, "https://r");
    const pd_scope_spans *ss = &rs->scope_spans[0];
    assert_str(ss->scope.name, "s");
    assert_int_equal(ss->scope.version.len, 0);
    assert_int_equal(ss->scope.dropped_attributes_count, 1);
    assert_str(ss->schema_url, "https://s");
    assert_int_equal(ss->n_spans, 2);
    const pd_span *s = &ss->spans[0];
    assert_hex(s->trace_id.b, 16, "0102030405060708090a0b0c0d0e0f10");
    assert_hex(s->span_id.b, 8, "1112131415161718");
    assert_true(pd_span_id_is_empty(&s->parent_span_id));
    assert_str(s->trace_state, "a=b");
    assert_int_equal(s->flags, 257);
    assert_str(s->name, "op");
    assert_int_equal(s->kind, PD_SPAN_KIND_CLIENT);
    assert_true(s->start_time_unix_nano == UINT64_MAX);
    assert_int_equal(s->end_time_unix_nano, 1000);
    assert_int_equal(s->dropped_attributes_count, 3);
    assert_int_equal(s->n_events, 1);
    assert_int_equal(s->events[0].time_unix_nano, 5);
    assert_str(s->events[0].name, "ev");
    assert_true(attr(&s->events[0].attrs, "k")->u.i == INT64_MIN);
    assert_int_equal(s->events[0].dropped_attributes_count, 4);
    assert_int_equal(s->dropped_events_count, 5);
    assert_int_equal(s->n_links, 1);
    const pd_link *l = &s->links[0];
    assert_hex(l->trace_id.b, 16, "ffffffffffffffffffffffffffffffff");
    assert_hex(l->span_id.b, 8, "0000000000000001");
    assert_str(l->trace_state, "x=y");
    const pd_any *by = attr(&l->attrs, "b");
    assert_int_equal(by->type, PD_ANY_BYTES);
    assert_int_equal(by->u.str.len, 4);
    assert_memory_equal(by->u.str.ptr, "\x00\x01\x02\xff", 4);
    assert_int_equal(l->dropped_attributes_count, 6);
    assert_int_equal(l->flags, 7);
    assert_int_equal(s->dropped_links_count, 8);
    assert_int_equal(s->status.code, PD_STATUS_ERROR);
    assert_str(s->status.message, "bad");
    assert_int_equal(ss->spans[1].kind, 99);
    assert_int_equal(ss->spans[1].status.code, PD_STATUS_OK);
    pd_batch_unref(b);
}

static const char full_metrics[] =
    "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":["
    /* gauge with an int point and an exemplar of each kind */
    "{\"name\":\"g\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"-7\",\"flags\":1,\"exemplars\":[{"
    "\"filteredAttributes\":[{\"key\":\"f\",\"value\":{\"boolValue\":false}}],\"timeUnixNano\":"
    "\"9\",\"asDouble\":\"NaN\",\"spanId\":\"0102030405060708\",\"traceId\":"
    "\"0102030405060708090a0b0c0d0e0f10\"},{\"as_int\":3}]}]}},"
    /* sum with enum name temporality, metadata */
    "{\"name\":\"s\",\"sum\":{\"aggregation_temporality\":\"AGGREGATION_TEMPORALITY_CUMULATIVE\","
    "\"is_monotonic\":false,\"data_points\":[{\"as_double\":\"-Infinity\"}]},\"metadata\":[{"
    "\"key\":\"m\",\"value\":{\"stringValue\":\"v\"}}]},"
    /* histogram without sum/min/max, bounds with Infinity */
    "{\"name\":\"h\",\"histogram\":{\"aggregationTemporality\":2,\"dataPoints\":[{\"count\":\"4\","
    "\"bucket_counts\":[\"1\",3],\"explicit_bounds\":[\"0.5\"]}]}},"
    /* exponential histogram */
    "{\"name\":\"e\",\"exponential_histogram\":{\"aggregationTemporality\":1,\"dataPoints\":[{"
    "\"attributes\":[{\"key\":\"a\",\"value\":{\"doubleValue\":\"Infinity\"}}],"
    "\"startTimeUnixNano\":\"1\",\"timeUnixNano\":\"2\",\"count\":\"10\",\"sum\":0,\"scale\":-3,"
    "\"zero_count\":\"2\",\"positive\":{\"offset\":-2,\"bucketCounts\":[\"3\",\"4\"]},"
    "\"negative\":{\"offset\":5,\"bucket_counts\":[1]},\"flags\":1,\"exemplars\":[{\"asInt\":"
    "\"1\"}],\"min\":-1.5,\"max\":2.25,\"zeroThreshold\":1e-9}]}},"
    /* summary */
    "{\"name\":\"q\",\"unit\":\"ms\",\"summary\":{\"dataPoints\":[{\"count\":5,\"sum\":12.5,"
    "\"quantile_values\":[{\"quantile\":0.5,\"value\":2},{\"quantile\":1,\"value\":9}]}]}},"
    /* no data at all */
    "{\"name\":\"empty\"}]}]}]}";

static void test_decode_full_metrics(void **state)
{
    (void)state;
    pd_batch *b = decode_ok(PD_METRICS, full_metrics);
    const pd_scope_metrics *sm = &b->u.metrics.v[0].scope_metrics[0];
    assert_int_equal(sm->n_metrics, 6);

    const pd_metric *m = &sm->metrics[0];
    assert_int_equal(m->type, PD_METRIC_GAUGE);
    const pd_number_dp *n = &m->dp.number[0];
    assert_int_equal(n->value_type, PD_NUM_INT);
    assert_int_equal(n->value.i, -7);
    assert_int_equal(n->flags, 1);
    assert_int_equal(n->n_exemplars, 2);
    assert_int_equal(n->exemplars[0].value_type, PD_NUM_DOUBLE);
    assert_true(isnan(n->exemplars[0].value.d));
    assert_int_equal(n->exemplars[0].time_unix_nano, 9);
    assert_hex(n->exemplars[0].span_id.b, 8, "0102030405060708");
    assert_hex(n->exemplars[0].trace_id.b, 16, "0102030405060708090a0b0c0d0e0f10");
    assert_int_equal(n->exemplars[0].filtered_attrs.n, 1);
    assert_int_equal(attr(&n->exemplars[0].filtered_attrs, "f")->type, PD_ANY_BOOL);
    assert_int_equal(n->exemplars[1].value_type, PD_NUM_INT);
    assert_int_equal(n->exemplars[1].value.i, 3);

    m = &sm->metrics[1];
    assert_int_equal(m->type, PD_METRIC_SUM);
    assert_int_equal(m->temporality, PD_TEMPORALITY_CUMULATIVE);
    assert_false(m->is_monotonic);
    assert_true(isinf(m->dp.number[0].value.d) && m->dp.number[0].value.d < 0);
    assert_attr_str(&m->metadata, "m", "v");

    m = &sm->metrics[2];
    const pd_histogram_dp *h = &m->dp.histogram[0];
    assert_int_equal(m->temporality, PD_TEMPORALITY_CUMULATIVE);
    assert_int_equal(h->count, 4);
    assert_false(h->has_sum || h->has_min || h->has_max);
    assert_int_equal(h->n_bucket_counts, 2);
    assert_int_equal(h->bucket_counts[1], 3);
    assert_true(h->explicit_bounds[0] == 0.5);

    m = &sm->metrics[3];
    assert_int_equal(m->type, PD_METRIC_EXP_HISTOGRAM);
    assert_int_equal(m->temporality, PD_TEMPORALITY_DELTA);
    const pd_exp_histogram_dp *e = &m->dp.exp_histogram[0];
    assert_true(isinf(attr(&e->attrs, "a")->u.d));
    assert_int_equal(e->start_time_unix_nano, 1);
    assert_int_equal(e->time_unix_nano, 2);
    assert_int_equal(e->count, 10);
    assert_true(e->has_sum && e->sum == 0);
    assert_int_equal(e->scale, -3);
    assert_int_equal(e->zero_count, 2);
    assert_int_equal(e->positive.offset, -2);
    assert_int_equal(e->positive.n_bucket_counts, 2);
    assert_int_equal(e->positive.bucket_counts[1], 4);
    assert_int_equal(e->negative.offset, 5);
    assert_int_equal(e->negative.bucket_counts[0], 1);
    assert_int_equal(e->flags, 1);
    assert_int_equal(e->n_exemplars, 1);
    assert_true(e->has_min && e->min == -1.5);
    assert_true(e->has_max && e->max == 2.25);
    assert_true(e->zero_threshold == 1e-9);

    m = &sm->metrics[4];
    assert_int_equal(m->type, PD_METRIC_SUMMARY);
    assert_str(m->unit, "ms");
    const pd_summary_dp *q = &m->dp.summary[0];
    assert_int_equal(q->count, 5);
    assert_true(q->sum == 12.5);
    assert_int_equal(q->n_quantiles, 2);
    assert_true(q->quantiles[0].quantile == 0.5 && q->quantiles[0].value == 2);
    assert_true(q->quantiles[1].quantile == 1 && q->quantiles[1].value == 9);

    assert_int_equal(sm->metrics[5].type, PD_METRIC_EMPTY);
    assert_int_equal(sm->metrics[5].n_dp, 0);
    pd_batch_unref(b);
}

static void test_decode_full_log(void **state)
{
    (void)state;
    const char *json =
        "{\"resource_logs\":[{\"scope_logs\":[{\"log_records\":[{\"time_unix_nano\":1,"
        "\"observed_time_unix_nano\":\"2\",\"severity_number\":\"SEVERITY_NUMBER_FATAL4\","
        "\"severity_text\":\"F\",\"body\":{\"arrayValue\":{\"values\":[{},{\"kvlistValue\":{}},"
        "{\"arrayValue\":{}}]}},\"dropped_attributes_count\":1,\"flags\":1,\"trace_id\":"
        "\"0102030405060708090A0B0C0D0E0F10\",\"span_id\":\"0102030405060708\",\"event_name\":"
        "\"my.event\"},{\"eventName\":\"second\",\"severityNumber\":17,\"body\":null}]}]}]}";
    pd_batch *b = decode_ok(PD_LOGS, json);
    const pd_scope_logs *sl = &b->u.logs.v[0].scope_logs[0];
    assert_int_equal(sl->n_logs, 2);
    const pd_log *l = &sl->logs[0];
    assert_int_equal(l->time_unix_nano, 1);
    assert_int_equal(l->observed_time_unix_nano, 2);
    assert_int_equal(l->severity_number, 24);
    assert_str(l->severity_text, "F");
    assert_int_equal(l->body.type, PD_ANY_ARRAY);
    assert_int_equal(l->body.u.arr.n, 3);
    assert_int_equal(l->body.u.arr.v[0].type, PD_ANY_EMPTY);
    assert_int_equal(l->body.u.arr.v[1].type, PD_ANY_KVLIST);
    assert_int_equal(l->body.u.arr.v[1].u.kvl.n, 0);
    assert_int_equal(l->body.u.arr.v[2].type, PD_ANY_ARRAY);
    assert_int_equal(l->dropped_attributes_count, 1);
    assert_int_equal(l->flags, 1);
    assert_hex(l->trace_id.b, 16, "0102030405060708090a0b0c0d0e0f10");
    assert_hex(l->span_id.b, 8, "0102030405060708");
    assert_str(l->event_name, "my.event");
    assert_str(sl->logs[1].event_name, "second");
    assert_int_equal(sl->logs[1].severity_number, 17);
    assert_int_equal(sl->logs[1].body.type, PD_ANY_EMPTY);
    pd_batch_unref(b);
}

/* ---- lenient number / string forms --------------------------------------------------------- */

static int64_t decode_int_attr(const char *value_json)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"intValue\":%s}}]}]"
             "}]}",
             value_json);
    pd_batch *b = decode_ok(PD_LOGS, json);
    const pd_any *v = &b->u.logs.v[0].scope_logs[0].logs[0].body;
    assert_int_equal(v->type, PD_ANY_INT);
    int64_t i = v->u.i;
    pd_batch_unref(b);
    return i;
}

static double decode_double_attr(const char *value_json)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"doubleValue\":%s}}"
             "]}]}]}",
             value_json);
    pd_batch *b = decode_ok(PD_LOGS, json);
    const pd_any *v = &b->u.logs.v[0].scope_logs[0].logs[0].body;
    assert_int_equal(v->type, PD_ANY_DOUBLE);
    double d = v->u.d;
    pd_batch_unref(b);
    return d;
}

static void test_number_forms(void **state)
{
    (void)state;
    assert_true(decode_int_attr("\"9223372036854775807\"") == INT64_MAX);
    assert_true(decode_int_attr("-9223372036854775808") == INT64_MIN);
    assert_true(decode_int_attr("\"-42\"") == -42);
    assert_true(decode_int_attr("\"007\"") == 7);
    assert_true(decode_int_attr("1.0e2") == 100);
    assert_true(decode_double_attr("\"1.5\"") == 1.5);
    assert_true(decode_double_attr("-3") == -3.0);
    assert_true(decode_double_attr("\"-1e-3\"") == -1e-3);
    assert_true(isnan(decode_double_attr("\"NaN\"")));
    double inf = decode_double_attr("\"Infinity\"");
    assert_true(isinf(inf) && inf > 0);
    inf = decode_double_attr("\"-Infinity\"");
    assert_true(isinf(inf) && inf < 0);
}

static void test_base64_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *want;
        size_t n;
    } cases[] = {
        {"\"\"", "", 0},
        {"\"Zg==\"", "f", 1},
        {"\"Zg\"", "f", 1},
        {"\"Zm8=\"", "fo", 2},
        {"\"Zm9v\"", "foo", 3},
        {"\"-_8\"", "\xfb\xff", 2},
        {"\"+/8=\"", "\xfb\xff", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"bytesValue\":"
                 "%s}}]}]}]}",
                 cases[i].in);
        pd_batch *b = decode_ok(PD_LOGS, json);
        const pd_any *v = &b->u.logs.v[0].scope_logs[0].logs[0].body;
        assert_int_equal(v->type, PD_ANY_BYTES);
        assert_int_equal(v->u.str.len, cases[i].n);
        if (cases[i].n) assert_memory_equal(v->u.str.ptr, cases[i].want, cases[i].n);
        pd_batch_unref(b);
    }
}

/* Strings are copied into the arena: the views survive the input buffer. */
static void test_strings_are_copied(void **state)
{
    (void)state;
    char *json = strdup("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"a\\u0000b"
                        "\\u00e9\"}]}]}]}");
    pd_batch *b;
    otlp_error err;
    assert_int_equal(pd_batch_new(PD_TRACES, 0, &b), GB_OK);
    assert_int_equal(otlp_decode_json(b, json, strlen(json), &err), GB_OK);
    memset(json, 'x', strlen(json));
    free(json);
    gb_str name = b->u.traces.v[0].scope_spans[0].spans[0].name;
    assert_int_equal(name.len, 5);
    assert_memory_equal(name.ptr, "a\0b\xc3\xa9", 5);
    char *out = encode(b);
    assert_non_null(strstr(out, "\"name\":\"a\\u0000b\xc3\xa9\""));
    free(out);
    pd_batch_unref(b);
}

/* Decoding appends to what the batch already holds. */
static void test_decode_appends(void **state)
{
    (void)state;
    pd_batch *b = decode_ok(PD_TRACES, spec_trace);
    otlp_error err;
    assert_int_equal(otlp_decode_json(b, full_trace, strlen(full_trace), &err), GB_OK);
    assert_int_equal(b->u.traces.n, 2);
    assert_str(b->u.traces.v[0].scope_spans[0].spans[0].name, "I'm a server span");
    assert_str(b->u.traces.v[1].scope_spans[0].spans[0].name, "op");
    assert_int_equal(pd_batch_count(b), 3);
    /* A failing decode leaves the lists untouched. */
    const char *bad = "{\"resourceSpans\":[{},{\"scopeSpans\":[{\"spans\":[{\"kind\":\"X\"}]}]}]}";
    assert_int_equal(otlp_decode_json(b, bad, strlen(bad), &err), GB_ERR_INVALID);
    assert_int_equal(b->u.traces.n, 2);
    /* Another signal's root key is not this signal's data. */
    assert_int_equal(otlp_decode_json(b, spec_logs, strlen(spec_logs), &err), GB_OK);
    assert_int_equal(b->u.traces.n, 2);
    pd_batch_unref(b);
}

/* ---- errors -------------------------------------------------------------------------------- */

#define SPAN_JSON(fields) "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{" fields "}]}]}]}"
#define LOG_JSON(fields)  "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{" fields "}]}]}]}"
#define MET_JSON(fields)  "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{" fields "}]}]}]}"

static void test_errors(void **state)
{
    (void)state;
    static const struct {
        pd_signal s;
        const char *json;
        const char *needle;
    } cases[] = {
        {PD_TRACES, "", "json: line"},
        {PD_TRACES, "{", "json: line 1"},
        {PD_TRACES, "[]", "top level must be an object"},
        {PD_TRACES, "{\"resourceSpans\":{}}", "resourceSpans: expected an array, got an object"},
        {PD_TRACES, "{\"resourceSpans\":[1]}", "resourceSpans[0]: expected an object"},
        {PD_TRACES, "{\"resourceSpans\":[{\"resource\":[]}]}", "resource: expected an object"},
        {PD_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"scope\":{\"name\":1}}]}]}",
         "scopeSpans[0].scope.name: expected a string, got an integer"},
        {PD_TRACES, SPAN_JSON("\"traceId\":\"0102\""),
         "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits, got 4"},
        {PD_TRACES, SPAN_JSON("\"spanId\":\"010203040506070z\""), "spanId: expected 16 hex"},
        {PD_TRACES, SPAN_JSON("\"parentSpanId\":\"AQIDBAUGBwg=\""), "parentSpanId: expected 16"},
        {PD_TRACES, SPAN_JSON("\"traceId\":5"), "traceId: expected a hex string"},
        {PD_TRACES, SPAN_JSON("\"kind\":\"SPAN_KIND_NOPE\""), "kind: unknown enum name"},
        {PD_TRACES, SPAN_JSON("\"kind\":true"), "kind: expected an enum name or integer"},
        {PD_TRACES, SPAN_JSON("\"kind\":4294967296"), "kind: expected a signed 32-bit"},
        {PD_TRACES, SPAN_JSON("\"status\":{\"code\":\"OK\"}"), "status.code: unknown enum"},
        {PD_TRACES, SPAN_JSON("\"status\":\"ok\""), "status: expected an object"},
        {PD_TRACES, SPAN_JSON("\"startTimeUnixNano\":-1"),
         "startTimeUnixNano: expected an "
         "unsigned 64-bit"},
        {PD_TRACES, SPAN_JSON("\"startTimeUnixNano\":\"18446744073709551616\""),
         "startTimeUnixNano: expected an unsigned 64-bit"},
        {PD_TRACES, SPAN_JSON("\"startTimeUnixNano\":\"12a\""), "startTimeUnixNano"},
        {PD_TRACES, SPAN_JSON("\"startTimeUnixNano\":\"-1\""), "startTimeUnixNano"},
        {PD_TRACES, SPAN_JSON("\"startTimeUnixNano\":1.5"), "startTimeUnixNano"},
        {PD_TRACES, SPAN_JSON("\"endTimeUnixNano\":\"\""), "endTimeUnixNano"},
        {PD_TRACES, SPAN_JSON("\"endTimeUnixNano\":99999999999999999999"), "json: line 1"},
        {PD_TRACES, SPAN_JSON("\"flags\":4294967296"), "flags: expected an unsigned 32-bit"},
        {PD_TRACES, SPAN_JSON("\"droppedAttributesCount\":-1"), "droppedAttributesCount"},
        {PD_TRACES, SPAN_JSON("\"attributes\":{}"), "attributes: expected an array"},
        {PD_TRACES, SPAN_JSON("\"attributes\":[{\"key\":\"k\",\"value\":1}]"),
         "spans[0].attributes[0].value: expected an object, got an integer"},
        {PD_TRACES, SPAN_JSON("\"events\":[{\"name\":false}]"), "events[0].name: expected a"},
        {PD_TRACES, SPAN_JSON("\"links\":[{\"traceId\":\"00\"}]"), "links[0].traceId"},
        {PD_TRACES, SPAN_JSON("\"name\":[]"), "name: expected a string, got an array"},
        {PD_LOGS, LOG_JSON("\"body\":{\"intValue\":\"9223372036854775808\"}"),
         "body.intValue: expected a signed 64-bit"},
        {PD_LOGS, LOG_JSON("\"body\":{\"intValue\":\"-9223372036854775809\"}"), "intValue"},
        {PD_LOGS, LOG_JSON("\"body\":{\"intValue\":\" 1\"}"), "intValue"},
        {PD_LOGS, LOG_JSON("\"body\":{\"intValue\":\"+1\"}"), "intValue"},
        {PD_LOGS, LOG_JSON("\"body\":{\"boolValue\":\"true\"}"), "boolValue: expected true or"},
        {PD_LOGS, LOG_JSON("\"body\":{\"doubleValue\":\"inf\"}"), "doubleValue: expected a number"},
        {PD_LOGS, LOG_JSON("\"body\":{\"doubleValue\":\"1e999\"}"), "doubleValue"},
        {PD_LOGS, LOG_JSON("\"body\":{\"doubleValue\":\"0x10\"}"), "doubleValue"},
        {PD_LOGS, LOG_JSON("\"body\":{\"doubleValue\":{}}"), "doubleValue"},
        {PD_LOGS, LOG_JSON("\"body\":{\"bytesValue\":\"Z\"}"), "bytesValue: invalid base64 len"},
        {PD_LOGS, LOG_JSON("\"body\":{\"bytesValue\":\"Zm9v!A==\"}"), "invalid base64 char"},
        {PD_LOGS, LOG_JSON("\"body\":{\"bytesValue\":\"Zg===\"}"), "invalid base64 length"},
        {PD_LOGS, LOG_JSON("\"body\":{\"bytesValue\":7}"), "expected a base64 string"},
        {PD_LOGS, LOG_JSON("\"body\":{\"arrayValue\":5}"), "arrayValue: expected an object"},
        {PD_LOGS, LOG_JSON("\"body\":{\"arrayValue\":{\"values\":{}}}"),
         "arrayValue.values: expected an array"},
        {PD_LOGS, LOG_JSON("\"body\":{\"kvlistValue\":{\"values\":[{\"key\":3}]}}"),
         "kvlistValue.values[0].key: expected a string"},
        {PD_LOGS, LOG_JSON("\"body\":\"text\""), "body: expected an object, got a string"},
        {PD_LOGS, LOG_JSON("\"severityNumber\":\"INFO\""), "severityNumber: unknown enum name"},
        {PD_LOGS, LOG_JSON("\"eventName\":1"), "eventName: expected a string"},
        {PD_LOGS, LOG_JSON("\"spanId\":\"01\""), "logRecords[0].spanId: expected 16 hex"},
        {PD_METRICS, MET_JSON("\"gauge\":[]"), "metrics[0].gauge: expected an object"},
        {PD_METRICS, MET_JSON("\"sum\":{\"isMonotonic\":1}"), "isMonotonic: expected true"},
        {PD_METRICS, MET_JSON("\"sum\":{\"aggregationTemporality\":\"DELTA\"}"),
         "aggregationTemporality: unknown enum name"},
        {PD_METRICS, MET_JSON("\"gauge\":{\"dataPoints\":[{\"asDouble\":\"x\"}]}"),
         "metrics[0].dataPoints[0].asDouble"},
        {PD_METRICS, MET_JSON("\"gauge\":{\"dataPoints\":[{\"asInt\":1.5}]}"), "asInt"},
        {PD_METRICS, MET_JSON("\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[-1]}]}"),
         "bucketCounts: expected an unsigned 64-bit"},
        {PD_METRICS, MET_JSON("\"histogram\":{\"dataPoints\":[{\"explicitBounds\":[\"a\"]}]}"),
         "explicitBounds"},
        {PD_METRICS, MET_JSON("\"histogram\":{\"dataPoints\":[{\"sum\":true}]}"), "sum: expected"},
        {PD_METRICS, MET_JSON("\"exponentialHistogram\":{\"dataPoints\":[{\"scale\":2147483648}]}"),
         "scale: expected a signed 32-bit"},
        {PD_METRICS, MET_JSON("\"exponentialHistogram\":{\"dataPoints\":[{\"positive\":[]}]}"),
         "positive: expected an object"},
        {PD_METRICS,
         MET_JSON("\"exponentialHistogram\":{\"dataPoints\":[{\"negative\":{\"offset\":\"x\"}}]}"),
         "negative"},
        {PD_METRICS,
         MET_JSON("\"summary\":{\"dataPoints\":[{\"quantileValues\":[{\"value\":[]}]}]}"),
         "quantileValues[0].value"},
        {PD_METRICS, MET_JSON("\"gauge\":{\"dataPoints\":[{\"exemplars\":[{\"spanId\":\"1\"}]}]}"),
         "exemplars[0].spanId"},
        {PD_METRICS, MET_JSON("\"metadata\":[{\"value\":{\"stringValue\":1}}]"),
         "metadata[0].value.stringValue"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_err(cases[i].s, cases[i].json, cases[i].needle);
}

/* Deep AnyValue nesting is refused with an error; JSON nesting beyond the parser's bound too. */
static void test_deep_nesting(void **state)
{
    (void)state;
    gb_sbuf sb;
    gb_sbuf_init(&sb, 0);
    gb_sbuf_puts(&sb, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":");
    for (int i = 0; i < 100; i++)
        gb_sbuf_puts(&sb, "{\"arrayValue\":{\"values\":[");
    gb_sbuf_puts(&sb, "{}");
    for (int i = 0; i < 100; i++)
        gb_sbuf_puts(&sb, "]}}");
    gb_sbuf_puts(&sb, "}]}]}]}");
    const char *msg = decode_err(PD_LOGS, sb.data);
    assert_non_null(strstr(msg, "nested deeper than"));
    gb_sbuf_reset(&sb);
    for (int i = 0; i < 100000; i++)
        gb_sbuf_putc(&sb, '[');
    msg = decode_err(PD_LOGS, sb.data);
    assert_non_null(strstr(msg, "json: line 1"));
    gb_sbuf_free(&sb);

    /* 60 levels are fine and round-trip. */
    gb_sbuf_init(&sb, 0);
    gb_sbuf_puts(&sb, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":");
    for (int i = 0; i < 60; i++)
        gb_sbuf_puts(&sb, "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":");
    gb_sbuf_puts(&sb, "{\"intValue\":\"1\"}");
    for (int i = 0; i < 60; i++)
        gb_sbuf_puts(&sb, "}]}}");
    gb_sbuf_puts(&sb, "}]}]}]}");
    pd_batch *b = decode_ok(PD_LOGS, sb.data);
    char *out = encode(b);
    assert_string_equal(out, sb.data);
    free(out);
    pd_batch_unref(b);
    gb_sbuf_free(&sb);
}

/* ---- encoding ------------------------------------------------------------------------------ */

static gb_str S(const char *s)
{
    return gb_str_c(s);
}

static void test_encode_trace_exact(void **state)
{
    (void)state;
    pd_batch *b;
    assert_int_equal(pd_batch_new(PD_TRACES, 0, &b), GB_OK);
    pd_resource_spans *rs = gb_arena_calloc(&b->arena, 1, sizeof *rs);
    pd_scope_spans *ss = gb_arena_calloc(&b->arena, 1, sizeof *ss);
    pd_span *sp = gb_arena_calloc(&b->arena, 2, sizeof *sp);
    pd_event *ev = gb_arena_calloc(&b->arena, 1, sizeof *ev);
    pd_link *ln = gb_arena_calloc(&b->arena, 1, sizeof *ln);
    b->u.traces.v = rs;
    b->u.traces.n = 1;
    assert_int_equal(
        pd_attrs_put(&b->arena, &rs->resource.attrs, S("service.name"), pd_any_str(S("svc"))),
        GB_OK);
    rs->scope_spans = ss;
    rs->n_scope_spans = 1;
    rs->schema_url = S("u");
    ss->scope.name = S("lib");
    ss->spans = sp;
    ss->n_spans = 2;
    for (int i = 0; i < 16; i++)
        sp[0].trace_id.b[i] = (uint8_t)(0xa0 + i);
    for (int i = 0; i < 8; i++)
        sp[0].span_id.b[i] = (uint8_t)(i + 1);
    sp[0].parent_span_id.b[7] = 0xff;
    sp[0].trace_state = S("k=v");
    sp[0].name = S("GET \"/x\"\n");
    sp[0].kind = PD_SPAN_KIND_SERVER;
    sp[0].start_time_unix_nano = 1700000000000000000ULL;
    sp[0].end_time_unix_nano = UINT64_MAX;
    sp[0].flags = 256;
    pd_any bytes = {.type = PD_ANY_BYTES, .u.str = {"\x00\xff\x10", 3}};
    pd_attrs_put(&b->arena, &sp[0].attrs, S("i"), pd_any_int(-5));
    pd_attrs_put(&b->arena, &sp[0].attrs, S("d"), pd_any_double(0.1));
    pd_attrs_put(&b->arena, &sp[0].attrs, S("n"), pd_any_double(NAN));
    pd_attrs_put(&b->arena, &sp[0].attrs, S("z"), pd_any_double(0));
    pd_attrs_put(&b->arena, &sp[0].attrs, S("b"), pd_any_bool(false));
    pd_attrs_put(&b->arena, &sp[0].attrs, S("y"), bytes);
    pd_attrs_put(&b->arena, &sp[0].attrs, S("e"), (pd_any){.type = PD_ANY_EMPTY});
    ev->time_unix_nano = 3;
    ev->name = S("ev");
    ev->dropped_attributes_count = 1;
    sp[0].events = ev;
    sp[0].n_events = 1;
    ln->span_id.b[0] = 1;
    ln->flags = 1;
    sp[0].links = ln;
    sp[0].n_links = 1;
    sp[0].dropped_links_count = 2;
    sp[0].status.code = PD_STATUS_ERROR;
    sp[0].status.message = S("boom");
    char *out = encode(b);
    const char *want =
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{"
        "\"stringValue\":\"svc\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"lib\"},\"spans\":[{"
        "\"traceId\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\",\"spanId\":\"0102030405060708\","
        "\"traceState\":\"k=v\",\"parentSpanId\":\"00000000000000ff\",\"name\":\"GET "
        "\\\"/x\\\"\\n\",\"kind\":2,\"startTimeUnixNano\":\"1700000000000000000\","
        "\"endTimeUnixNano\":\"18446744073709551615\",\"attributes\":[{\"key\":\"i\",\"value\":{"
        "\"intValue\":\"-5\"}},{\"key\":\"d\",\"value\":{\"doubleValue\":0.1}},{\"key\":\"n\","
        "\"value\":{\"doubleValue\":\"NaN\"}},{\"key\":\"z\",\"value\":{\"doubleValue\":0}},{"
        "\"key\":\"b\",\"value\":{\"boolValue\":false}},{\"key\":\"y\",\"value\":{\"bytesValue\":"
        "\"AP8Q\"}},{\"key\":\"e\",\"value\":{}}],\"events\":[{\"timeUnixNano\":\"3\",\"name\":"
        "\"ev\",\"droppedAttributesCount\":1}],\"links\":[{\"spanId\":\"0100000000000000\","
        "\"flags\":1}],\"droppedLinksCount\":2,\"status\":{\"message\":\"boom\",\"code\":2},"
        "\"flags\":256},{}]}],\"schemaUrl\":\"u\"}]}";
    assert_string_equal(out, want);
    /* What we write parses back to the same batch. */
    pd_batch *back = decode_ok(PD_TRACES, out);
    assert_true(eq_batch(b, back));
    pd_batch_unref(back);
    free(out);
    pd_batch_unref(b);
}

/* The hand-written canonical text of every metric kind is what the encoder writes back. */
static void test_encode_metrics_exact(void **state)
{
    (void)state;
    const char *canon =
        "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":["
        "{\"name\":\"g\",\"description\":\"d\",\"unit\":\"1\",\"gauge\":{\"dataPoints\":[{"
        "\"timeUnixNano\":\"5\",\"asDouble\":0,\"exemplars\":[{\"timeUnixNano\":\"1\","
        "\"spanId\":\"0102030405060708\",\"asInt\":\"-1\"},{\"asDouble\":2.5,\"traceId\":"
        "\"0102030405060708090a0b0c0d0e0f10\",\"filteredAttributes\":[{\"key\":\"a\",\"value\":"
        "{\"stringValue\":\"b\"}}]}]},{\"asInt\":\"0\"},{}]}},"
        "{\"name\":\"s\",\"sum\":{\"dataPoints\":[{\"startTimeUnixNano\":\"1\",\"asInt\":"
        "\"9223372036854775807\",\"flags\":1}],\"aggregationTemporality\":2,\"isMonotonic\":true}"
        ",\"metadata\":[{\"key\":\"m\",\"value\":{\"boolValue\":true}}]},"
        "{\"name\":\"h\",\"histogram\":{\"dataPoints\":[{\"count\":\"3\",\"sum\":0,\"bucketCounts\""
        ":[\"0\",\"3\"],\"explicitBounds\":[-1.5,\"Infinity\"],\"min\":-0.0,\"max\":1e+300},{}],"
        "\"aggregationTemporality\":1}},"
        "{\"name\":\"e\",\"exponentialHistogram\":{\"dataPoints\":[{\"attributes\":[{\"key\":\"k\","
        "\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":\"1\"},{}]}}}],\"count\":\"7\","
        "\"scale\":-2,\"zeroCount\":\"1\",\"positive\":{\"offset\":-1,\"bucketCounts\":[\"1\","
        "\"2\"]},\"negative\":{\"bucketCounts\":[\"3\"]},\"exemplars\":[{\"asDouble\":1}],"
        "\"zeroThreshold\":1e-10}],\"aggregationTemporality\":2}},"
        "{\"name\":\"q\",\"summary\":{\"dataPoints\":[{\"count\":\"2\",\"sum\":0.30000000000000004,"
        "\"quantileValues\":[{\"value\":1},{\"quantile\":1,\"value\":2}]}]}},"
        "{\"name\":\"x\",\"gauge\":{}},{\"name\":\"none\"}]}]}]}";
    pd_batch *b = decode_ok(PD_METRICS, canon);
    const pd_histogram_dp *h = &b->u.metrics.v[0].scope_metrics[0].metrics[2].dp.histogram[0];
    assert_true(h->has_sum && h->has_min && h->has_max && signbit(h->min));
    assert_false(b->u.metrics.v[0].scope_metrics[0].metrics[2].dp.histogram[1].has_sum);
    char *out = encode(b);
    assert_string_equal(out, canon);
    free(out);
    pd_batch_unref(b);
}

static void test_encode_logs_exact(void **state)
{
    (void)state;
    const char *canon =
        "{\"resourceLogs\":[{\"resource\":{\"droppedAttributesCount\":1},\"scopeLogs\":[{\"scope\""
        ":{\"version\":\"2\",\"attributes\":[{\"key\":\"a\",\"value\":{\"kvlistValue\":{}}}]},"
        "\"logRecords\":[{\"timeUnixNano\":\"1\",\"severityNumber\":9,\"severityText\":\"INFO\","
        "\"body\":{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":{\"doubleValue\":"
        "\"-Infinity\"}}]}},\"droppedAttributesCount\":2,\"flags\":1,\"traceId\":"
        "\"0102030405060708090a0b0c0d0e0f10\",\"spanId\":\"0102030405060708\","
        "\"observedTimeUnixNano\":\"2\",\"eventName\":\"e\"},{\"body\":{\"stringValue\":\"\"}}],"
        "\"schemaUrl\":\"s\"}]}]}";
    pd_batch *b = decode_ok(PD_LOGS, canon);
    char *out = encode(b);
    assert_string_equal(out, canon);
    free(out);
    pd_batch_unref(b);
}

/* Snake-case input, numbers and enum names come out canonical. */
static void test_encode_canonicalizes(void **state)
{
    (void)state;
    pd_batch *b =
        decode_ok(PD_TRACES, SPAN_JSON("\"trace_id\":\"AABBCCDDEEFF00112233445566778899\","
                                       "\"kind\":\"SPAN_KIND_CONSUMER\",\"start_time_"
                                       "unix_nano\":12,\"status\":{\"code\":\"STATUS_"
                                       "CODE_OK\"},\"parent_span_id\":\"\""));
    char *out = encode(b);
    assert_string_equal(out, SPAN_JSON("\"traceId\":\"aabbccddeeff00112233445566778899\","
                                       "\"kind\":5,\"startTimeUnixNano\":\"12\",\"status\":{"
                                       "\"code\":1}"));
    free(out);
    pd_batch_unref(b);
}

/* Invalid UTF-8 in a model string still yields JSON that parses. */
static void test_encode_invalid_utf8(void **state)
{
    (void)state;
    pd_batch *b = decode_ok(PD_LOGS, LOG_JSON("\"severityText\":\"x\""));
    pd_log *l = &b->u.logs.v[0].scope_logs[0].logs[0];
    l->severity_text = gb_str_n("a\xff\xc3(\x01\"", 6);
    l->body = pd_any_str(gb_str_n("\xed\xa0\x80", 3)); /* a UTF-16 surrogate */
    char *out = encode(b);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    json_decref(j);
    pd_batch *back = decode_ok(PD_LOGS, out);
    assert_str(back->u.logs.v[0].scope_logs[0].logs[0].severity_text,
               "a\xef\xbf\xbd\xef\xbf\xbd(\x01\"");
    pd_batch_unref(back);
    free(out);
    pd_batch_unref(b);
}

static void test_encode_empty_and_limit(void **state)
{
    (void)state;
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        pd_batch *b;
        assert_int_equal(pd_batch_new((pd_signal)s, 0, &b), GB_OK);
        char *out = encode(b);
        assert_string_equal(out, "{}");
        free(out);
        pd_batch_unref(b);
    }
    pd_batch *b = decode_ok(PD_TRACES, full_trace);
    gb_sbuf sb;
    gb_sbuf_init(&sb, 64);
    assert_int_equal(otlp_encode_json(b, &sb), GB_ERR_LIMIT);
    gb_sbuf_free(&sb);
    pd_batch_unref(b);
}

/* ---- random round trips -------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint32_t rndn(uint32_t n)
{
    return n ? (uint32_t)(rnd() % n) : 0;
}

static gb_str rnd_str(gb_arena *a)
{
    uint32_t n = rndn(4) == 0 ? 0 : rndn(12) + 1;
    char *p = gb_arena_alloc(a, n + 1);
    for (uint32_t i = 0; i < n; i++) {
        switch (rndn(6)) {
        case 0:
            p[i] = (char)rndn(0x20);
            break; /* control */
        case 1:
            p[i] = "\"\\/"[rndn(3)];
            break;
        default:
            p[i] = (char)(0x20 + rndn(0x5f));
            break;
        }
    }
    return gb_str_n(p, n);
}

static double rnd_double(void)
{
    switch (rndn(8)) {
    case 0:
        return 0;
    case 1:
        return NAN;
    case 2:
        return rndn(2) ? INFINITY : -INFINITY;
    case 3:
        return -0.0;
    case 4:
        return (double)(int64_t)rnd();
    case 5: {
        uint64_t bits = rnd();
        double d;
        memcpy(&d, &bits, sizeof d);
        return isnan(d) ? 1.25 : d;
    }
    default:
        return ((double)(int64_t)rnd() / 1e9) * (rndn(2) ? 1e-200 : 1.0);
    }
}

static uint64_t rnd_u64(void)
{
    switch (rndn(4)) {
    case 0:
        return 0;
    case 1:
        return rndn(1000);
    default:
        return rnd();
    }
}

static void rnd_any(gb_arena *a, pd_any *v, int depth);

static void rnd_attrs(gb_arena *a, pd_attrs *at, int depth)
{
    at->n = at->cap = rndn(4);
    at->v = at->n ? gb_arena_calloc(a, at->n, sizeof(pd_kv)) : NULL;
    for (uint32_t i = 0; i < at->n; i++) {
        at->v[i].key = rnd_str(a);
        rnd_any(a, &at->v[i].value, depth + 1);
    }
}

static void rnd_any(gb_arena *a, pd_any *v, int depth)
{
    memset(v, 0, sizeof *v);
    v->type = (pd_any_type)rndn(depth > 3 ? 5 : 8);
    if (v->type == PD_ANY_ARRAY || v->type == PD_ANY_KVLIST) v->type = PD_ANY_BYTES;
    if (depth <= 3 && rndn(3) == 0) v->type = rndn(2) ? PD_ANY_ARRAY : PD_ANY_KVLIST;
    switch (v->type) {
    case PD_ANY_STR:
        v->u.str = rnd_str(a);
        break;
    case PD_ANY_BYTES: {
        uint32_t n = rndn(9);
        uint8_t *p = gb_arena_alloc(a, n + 1);
        for (uint32_t i = 0; i < n; i++)
            p[i] = (uint8_t)rnd();
        v->u.str = gb_str_n(p, n);
        break;
    }
    case PD_ANY_BOOL:
        v->u.b = rndn(2);
        break;
    case PD_ANY_INT:
        v->u.i = (int64_t)rnd_u64();
        break;
    case PD_ANY_DOUBLE:
        v->u.d = rnd_double();
        break;
    case PD_ANY_ARRAY:
        v->u.arr.n = rndn(4);
        v->u.arr.v = v->u.arr.n ? gb_arena_calloc(a, v->u.arr.n, sizeof(pd_any)) : NULL;
        for (uint32_t i = 0; i < v->u.arr.n; i++)
            rnd_any(a, &v->u.arr.v[i], depth + 1);
        break;
    case PD_ANY_KVLIST: {
        pd_attrs at;
        rnd_attrs(a, &at, depth);
        v->u.kvl.v = at.v;
        v->u.kvl.n = at.n;
        break;
    }
    default:
        break;
    }
}

static void rnd_id(uint8_t *p, size_t n)
{
    memset(p, 0, n);
    if (rndn(4) == 0) return;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

static void rnd_scope(gb_arena *a, pd_resource *r, pd_scope *s)
{
    rnd_attrs(a, &r->attrs, 0);
    r->dropped_attributes_count = rndn(3);
    s->name = rnd_str(a);
    s->version = rnd_str(a);
    rnd_attrs(a, &s->attrs, 0);
    s->dropped_attributes_count = rndn(3);
}

#define RND_LIST(a, ptr, n, max)                                                                   \
    do {                                                                                           \
        (n) = rndn(max);                                                                           \
        (ptr) = (n) ? gb_arena_calloc((a), (n), sizeof(*(ptr))) : NULL;                            \
    } while (0)

static void rnd_span(gb_arena *a, pd_span *s)
{
    rnd_id(s->trace_id.b, 16);
    rnd_id(s->span_id.b, 8);
    rnd_id(s->parent_span_id.b, 8);
    s->trace_state = rnd_str(a);
    s->flags = (uint32_t)rnd_u64();
    s->name = rnd_str(a);
    s->kind = (int32_t)rndn(7);
    s->start_time_unix_nano = rnd_u64();
    s->end_time_unix_nano = rnd_u64();
    rnd_attrs(a, &s->attrs, 0);
    s->dropped_attributes_count = rndn(2);
    RND_LIST(a, s->events, s->n_events, 3);
    for (uint32_t i = 0; i < s->n_events; i++) {
        s->events[i].time_unix_nano = rnd_u64();
        s->events[i].name = rnd_str(a);
        rnd_attrs(a, &s->events[i].attrs, 0);
        s->events[i].dropped_attributes_count = rndn(2);
    }
    s->dropped_events_count = rndn(2);
    RND_LIST(a, s->links, s->n_links, 3);
    for (uint32_t i = 0; i < s->n_links; i++) {
        rnd_id(s->links[i].trace_id.b, 16);
        rnd_id(s->links[i].span_id.b, 8);
        s->links[i].trace_state = rnd_str(a);
        rnd_attrs(a, &s->links[i].attrs, 0);
        s->links[i].dropped_attributes_count = rndn(2);
        s->links[i].flags = rndn(3);
    }
    s->dropped_links_count = rndn(2);
    s->status.code = (int32_t)rndn(3);
    s->status.message = rnd_str(a);
}

static void rnd_exemplars(gb_arena *a, pd_exemplar **ex, uint32_t *n)
{
    RND_LIST(a, *ex, *n, 3);
    for (uint32_t i = 0; i < *n; i++) {
        pd_exemplar *e = &(*ex)[i];
        rnd_attrs(a, &e->filtered_attrs, 0);
        e->time_unix_nano = rnd_u64();
        e->value_type = (pd_num_type)rndn(3);
        if (e->value_type == PD_NUM_DOUBLE) e->value.d = rnd_double();
        if (e->value_type == PD_NUM_INT) e->value.i = (int64_t)rnd_u64();
        rnd_id(e->span_id.b, 8);
        rnd_id(e->trace_id.b, 16);
    }
}

static void rnd_u64s(gb_arena *a, uint64_t **v, uint32_t *n)
{
    RND_LIST(a, *v, *n, 5);
    for (uint32_t i = 0; i < *n; i++)
        (*v)[i] = rnd_u64();
}

static void rnd_metric(gb_arena *a, pd_metric *m)
{
    m->name = rnd_str(a);
    m->description = rnd_str(a);
    m->unit = rnd_str(a);
    m->type = (pd_metric_type)rndn(6);
    if (m->type == PD_METRIC_SUM || m->type == PD_METRIC_HISTOGRAM ||
        m->type == PD_METRIC_EXP_HISTOGRAM)
        m->temporality = (int32_t)rndn(3);
    if (m->type == PD_METRIC_SUM) m->is_monotonic = rndn(2);
    rnd_attrs(a, &m->metadata, 0);
    if (m->type == PD_METRIC_EMPTY) return;
    m->n_dp = rndn(3);
    for (uint32_t i = 0; i < m->n_dp; i++) {
        switch (m->type) {
        case PD_METRIC_GAUGE:
        case PD_METRIC_SUM: {
            if (!i) m->dp.number = gb_arena_calloc(a, m->n_dp, sizeof(pd_number_dp));
            pd_number_dp *p = &m->dp.number[i];
            rnd_attrs(a, &p->attrs, 0);
            p->start_time_unix_nano = rnd_u64();
            p->time_unix_nano = rnd_u64();
            p->value_type = (pd_num_type)rndn(3);
            if (p->value_type == PD_NUM_DOUBLE) p->value.d = rnd_double();
            if (p->value_type == PD_NUM_INT) p->value.i = (int64_t)rnd_u64();
            rnd_exemplars(a, &p->exemplars, &p->n_exemplars);
            p->flags = rndn(2);
            break;
        }
        case PD_METRIC_HISTOGRAM: {
            if (!i) m->dp.histogram = gb_arena_calloc(a, m->n_dp, sizeof(pd_histogram_dp));
            pd_histogram_dp *p = &m->dp.histogram[i];
            rnd_attrs(a, &p->attrs, 0);
            p->start_time_unix_nano = rnd_u64();
            p->time_unix_nano = rnd_u64();
            p->count = rnd_u64();
            p->has_sum = rndn(2), p->has_min = rndn(2), p->has_max = rndn(2);
            if (p->has_sum) p->sum = rnd_double();
            if (p->has_min) p->min = rnd_double();
            if (p->has_max) p->max = rnd_double();
            rnd_u64s(a, &p->bucket_counts, &p->n_bucket_counts);
            RND_LIST(a, p->explicit_bounds, p->n_explicit_bounds, 4);
            for (uint32_t j = 0; j < p->n_explicit_bounds; j++)
                p->explicit_bounds[j] = rnd_double();
            rnd_exemplars(a, &p->exemplars, &p->n_exemplars);
            p->flags = rndn(2);
            break;
        }
        case PD_METRIC_EXP_HISTOGRAM: {
            if (!i) m->dp.exp_histogram = gb_arena_calloc(a, m->n_dp, sizeof(pd_exp_histogram_dp));
            pd_exp_histogram_dp *p = &m->dp.exp_histogram[i];
            rnd_attrs(a, &p->attrs, 0);
            p->start_time_unix_nano = rnd_u64();
            p->time_unix_nano = rnd_u64();
            p->count = rnd_u64();
            p->has_sum = rndn(2), p->has_min = rndn(2), p->has_max = rndn(2);
            if (p->has_sum) p->sum = rnd_double();
            if (p->has_min) p->min = rnd_double();
            if (p->has_max) p->max = rnd_double();
            p->scale = (int32_t)rnd();
            p->zero_count = rnd_u64();
            p->zero_threshold = rnd_double();
            p->positive.offset = (int32_t)rndn(5) - 2;
            rnd_u64s(a, &p->positive.bucket_counts, &p->positive.n_bucket_counts);
            p->negative.offset = (int32_t)rndn(5) - 2;
            rnd_u64s(a, &p->negative.bucket_counts, &p->negative.n_bucket_counts);
            rnd_exemplars(a, &p->exemplars, &p->n_exemplars);
            p->flags = rndn(2);
            break;
        }
        case PD_METRIC_SUMMARY: {
            if (!i) m->dp.summary = gb_arena_calloc(a, m->n_dp, sizeof(pd_summary_dp));
            pd_summary_dp *p = &m->dp.summary[i];
            rnd_attrs(a, &p->attrs, 0);
            p->start_time_unix_nano = rnd_u64();
            p->time_unix_nano = rnd_u64();
            p->count = rnd_u64();
            p->sum = rnd_double();
            RND_LIST(a, p->quantiles, p->n_quantiles, 4);
            for (uint32_t j = 0; j < p->n_quantiles; j++) {
                p->quantiles[j].quantile = rnd_double();
                p->quantiles[j].value = rnd_double();
            }
            p->flags = rndn(2);
            break;
        }
        default:
            break;
        }
    }
}

static void rnd_log(gb_arena *a, pd_log *l)
{
    l->time_unix_nano = rnd_u64();
    l->observed_time_unix_nano = rnd_u64();
    l->severity_number = (int32_t)rndn(25);
    l->severity_text = rnd_str(a);
    rnd_any(a, &l->body, 0);
    rnd_attrs(a, &l->attrs, 0);
    l->dropped_attributes_count = rndn(2);
    l->flags = rndn(2);
    rnd_id(l->trace_id.b, 16);
    rnd_id(l->span_id.b, 8);
    l->event_name = rnd_str(a);
}

/* Fills one signal's resource -> scope -> item tree; the three signals differ only in names. */
#define RND_SIGNAL_TREE(a, top, R, scopes, n_scopes, S, items, n_items, rnd_item)                  \
    do {                                                                                           \
        RND_LIST(a, (top).v, (top).n, 3);                                                          \
        for (uint32_t i = 0; i < (top).n; i++) {                                                   \
            R *r = &(top).v[i];                                                                    \
            r->schema_url = rnd_str(a);                                                            \
            RND_LIST(a, r->scopes, r->n_scopes, 3);                                                \
            for (uint32_t j = 0; j < r->n_scopes; j++) {                                           \
                S *sc = &r->scopes[j];                                                             \
                rnd_scope(a, &r->resource, &sc->scope);                                            \
                sc->schema_url = rnd_str(a);                                                       \
                RND_LIST(a, sc->items, sc->n_items, 4);                                            \
                for (uint32_t k = 0; k < sc->n_items; k++)                                         \
                    rnd_item(a, &sc->items[k]);                                                    \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static pd_batch *rnd_batch(pd_signal s)
{
    pd_batch *b;
    assert_int_equal(pd_batch_new(s, 0, &b), GB_OK);
    gb_arena *a = &b->arena;
    switch (s) {
    case PD_TRACES:
        RND_SIGNAL_TREE(a, b->u.traces, pd_resource_spans, scope_spans, n_scope_spans,
                        pd_scope_spans, spans, n_spans, rnd_span);
        break;
    case PD_METRICS:
        RND_SIGNAL_TREE(a, b->u.metrics, pd_resource_metrics, scope_metrics, n_scope_metrics,
                        pd_scope_metrics, metrics, n_metrics, rnd_metric);
        break;
    case PD_LOGS:
        RND_SIGNAL_TREE(a, b->u.logs, pd_resource_logs, scope_logs, n_scope_logs, pd_scope_logs,
                        logs, n_logs, rnd_log);
        break;
    }
    return b;
}

static void test_random_round_trips(void **state)
{
    (void)state;
    rng_state = 0x9e3779b97f4a7c15ULL;
    for (int iter = 0; iter < 600; iter++) {
        pd_signal s = (pd_signal)(iter % 3);
        pd_batch *b = rnd_batch(s);
        char *out = encode(b);
        pd_batch *back = decode_ok(s, out);
        if (!eq_batch(b, back)) fprintf(stderr, "iteration %d: %s\n", iter, out);
        assert_true(eq_batch(b, back));
        char *again = encode(back);
        assert_string_equal(out, again);
        free(again);
        free(out);
        pd_batch_unref(back);
        pd_batch_unref(b);
    }
}

/* Doubles: short decimals print short, every value reads back bit for bit. */
static void test_double_printing(void **state)
{
    (void)state;
    static const struct {
        double d;
        const char *text;
    } cases[] = {
        {0.1, "0.1"},
        {0.125, "0.125"},
        {-12.5, "-12.5"},
        {1e-6, "0.000001"},
        {123.456, "123.456"},
        {1e21, "1e+21"},
        {3.0, "3"},
        {-0.0, "-0.0"},
        {1.0 / 3, "0.33333333333333331"},
        {5e-324, "4.94065645841247e-324"},
        {9007199254740993.0, "9007199254740992"},
        {1e300, "1e+300"},
    };
    pd_batch *b = decode_ok(PD_LOGS, LOG_JSON("\"body\":{\"doubleValue\":1}"));
    pd_any *body = &b->u.logs.v[0].scope_logs[0].logs[0].body;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        body->u.d = cases[i].d;
        char *out = encode(b);
        char want[256];
        snprintf(want, sizeof want, LOG_JSON("\"body\":{\"doubleValue\":%s}"), cases[i].text);
        assert_string_equal(out, want);
        free(out);
    }
    rng_state = 12345;
    for (int i = 0; i < 20000; i++) {
        double d;
        if (i % 2) {
            uint64_t bits = rnd();
            memcpy(&d, &bits, sizeof d);
            if (isnan(d)) continue;
        } else {
            d = (double)(int64_t)(rnd() % 2000000001) / (double)(1ULL << rndn(40)) /
                (rndn(2) ? 1.0 : 1000.0);
        }
        body->u.d = d;
        char *out = encode(b);
        pd_batch *back = decode_ok(PD_LOGS, out);
        double got = back->u.logs.v[0].scope_logs[0].logs[0].body.u.d;
        if (memcmp(&got, &d, sizeof d) != 0) fprintf(stderr, "%.17g -> %s\n", d, out);
        assert_memory_equal(&got, &d, sizeof d);
        pd_batch_unref(back);
        free(out);
    }
    pd_batch_unref(b);
}

/* The parse scratch is per thread: concurrent decodes on several threads (which then exit and
 * release their spare chunks), and jansson objects made outside a decode stay ordinary heap
 * blocks that can be freed at any time. */
static void *decode_loop(void *arg)
{
    (void)arg;
    for (int i = 0; i < 40; i++) {
        pd_batch *b = decode_ok(PD_LOGS, spec_logs);
        char *out = encode(b);
        pd_batch *back = decode_ok(PD_LOGS, out);
        if (!eq_batch(b, back)) abort();
        free(out);
        pd_batch_unref(back);
        pd_batch_unref(b);
    }
    return NULL;
}

static void test_threads_and_outside_objects(void **state)
{
    (void)state;
    json_t *outside = json_pack("{s:[i,s]}", "a", 1, "text");
    assert_non_null(outside);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, decode_loop, NULL), 0);
    decode_loop(NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    json_t *more = json_pack("{s:s}", "b", "c");
    assert_int_equal(json_object_update(outside, more), 0);
    json_decref(more);
    char *dump = json_dumps(outside, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(dump, "{\"a\":[1,\"text\"],\"b\":\"c\"}");
    free(dump);
    json_decref(outside);
}

/* ---- responses and status ------------------------------------------------------------------ */

static void test_response_json(void **state)
{
    (void)state;
    gb_sbuf sb;
    gb_sbuf_init(&sb, 0);
    assert_int_equal(otlp_encode_response_json(PD_TRACES, 0, NULL, &sb), GB_OK);
    assert_string_equal(sb.data, "{}");
    gb_sbuf_reset(&sb);
    assert_int_equal(otlp_encode_response_json(PD_TRACES, 3, "bad \"spans\"", &sb), GB_OK);
    assert_string_equal(sb.data,
                        "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":\"bad "
                        "\\\"spans\\\"\"}}");
    int64_t rej = -1;
    char msg[64];
    assert_int_equal(otlp_decode_response_json(PD_TRACES, sb.data, sb.len, &rej, msg, sizeof msg),
                     GB_OK);
    assert_int_equal(rej, 3);
    assert_string_equal(msg, "bad \"spans\"");
    gb_sbuf_reset(&sb);
    assert_int_equal(otlp_encode_response_json(PD_METRICS, 7, NULL, &sb), GB_OK);
    assert_string_equal(sb.data, "{\"partialSuccess\":{\"rejectedDataPoints\":\"7\"}}");
    gb_sbuf_reset(&sb);
    assert_int_equal(otlp_encode_response_json(PD_LOGS, 0, "warn", &sb), GB_OK);
    assert_string_equal(sb.data, "{\"partialSuccess\":{\"errorMessage\":\"warn\"}}");
    gb_sbuf_reset(&sb);
    assert_int_equal(otlp_encode_response_json(PD_LOGS, 2, "", &sb), GB_OK);
    assert_string_equal(sb.data, "{\"partialSuccess\":{\"rejectedLogRecords\":\"2\"}}");

    static const struct {
        pd_signal s;
        const char *in;
        gb_status st;
        int64_t rej;
        const char *msg;
    } cases[] = {
        {PD_TRACES, "", GB_OK, 0, ""},
        {PD_TRACES, " \n", GB_OK, 0, ""},
        {PD_TRACES, "{}", GB_OK, 0, ""},
        {PD_TRACES, "{\"partialSuccess\":{}}", GB_OK, 0, ""},
        {PD_TRACES, "{\"partialSuccess\":null}", GB_OK, 0, ""},
        {PD_METRICS, "{\"partial_success\":{\"rejected_data_points\":5,\"error_message\":\"m\"}}",
         GB_OK, 5, "m"},
        {PD_LOGS, "{\"partialSuccess\":{\"rejectedLogRecords\":\"9\",\"x\":1},\"y\":2}", GB_OK, 9,
         ""},
        {PD_LOGS, "{\"partialSuccess\":{\"rejectedSpans\":\"9\"}}", GB_OK, 0, ""},
        {PD_LOGS, "{\"partialSuccess\":{\"errorMessage\":\"a long message that is cut\"}}", GB_OK,
         0, "a long "},
        {PD_TRACES, "{\"partialSuccess\":[]}", GB_ERR_INVALID, 0, ""},
        {PD_TRACES, "{\"partialSuccess\":{\"rejectedSpans\":\"x\"}}", GB_ERR_INVALID, 0, ""},
        {PD_TRACES, "{\"partialSuccess\":{\"errorMessage\":5}}", GB_ERR_INVALID, 0, ""},
        {PD_TRACES, "[1]", GB_ERR_INVALID, 0, ""},
        {PD_TRACES, "{", GB_ERR_INVALID, 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char small[8];
        rej = -1;
        gb_status st = otlp_decode_response_json(cases[i].s, cases[i].in, strlen(cases[i].in), &rej,
                                                 small, sizeof small);
        assert_int_equal(st, cases[i].st);
        if (st == GB_OK) {
            assert_int_equal(rej, cases[i].rej);
            assert_string_equal(small, cases[i].msg);
        }
    }
    /* msg may be NULL */
    const char *in = "{\"partialSuccess\":{\"errorMessage\":\"x\",\"rejectedSpans\":1}}";
    assert_int_equal(otlp_decode_response_json(PD_TRACES, in, strlen(in), &rej, NULL, 0), GB_OK);
    assert_int_equal(rej, 1);
    gb_sbuf_free(&sb);
}

static void test_status_json(void **state)
{
    (void)state;
    gb_sbuf sb;
    gb_sbuf_init(&sb, 0);
    assert_int_equal(otlp_encode_status_json(OTLP_GRPC_INVALID_ARGUMENT, "bad\tinput", &sb), GB_OK);
    assert_string_equal(sb.data, "{\"code\":3,\"message\":\"bad\\tinput\"}");
    gb_sbuf_reset(&sb);
    assert_int_equal(otlp_encode_status_json(OTLP_GRPC_UNAVAILABLE, NULL, &sb), GB_OK);
    assert_string_equal(sb.data, "{\"code\":14}");
    gb_sbuf_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_trace_example),
        cmocka_unit_test(test_spec_metrics_example),
        cmocka_unit_test(test_spec_logs_example),
        cmocka_unit_test(test_spec_events_example),
        cmocka_unit_test(test_decode_full_trace),
        cmocka_unit_test(test_decode_full_metrics),
        cmocka_unit_test(test_decode_full_log),
        cmocka_unit_test(test_number_forms),
        cmocka_unit_test(test_base64_forms),
        cmocka_unit_test(test_strings_are_copied),
        cmocka_unit_test(test_decode_appends),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_encode_trace_exact),
        cmocka_unit_test(test_encode_metrics_exact),
        cmocka_unit_test(test_encode_logs_exact),
        cmocka_unit_test(test_encode_canonicalizes),
        cmocka_unit_test(test_encode_invalid_utf8),
        cmocka_unit_test(test_encode_empty_and_limit),
        cmocka_unit_test(test_random_round_trips),
        cmocka_unit_test(test_double_printing),
        cmocka_unit_test(test_threads_and_outside_objects),
        cmocka_unit_test(test_response_json),
        cmocka_unit_test(test_status_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
