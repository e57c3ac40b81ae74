/* sum and count connectors: per-batch delta metrics checked exactly (defaults, conditions in the
 * supported OTTL subset, attributes and default values, span events, logs, data points, several
 * resources) and config errors with positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conn_testutil.h"
#include "connector/connutil/connutil.h"

extern const pl_descriptor connector_sum_descriptor;
extern const pl_descriptor connector_count_descriptor;
#define SUM   (&connector_sum_descriptor)
#define COUNT (&connector_count_descriptor)

static int64_t count_of(const pd_metric *m, const char *labels)
{
    const pd_number_dp *dp = dp_must(m, labels);
    assert_int_equal(m->type, PD_METRIC_SUM);
    assert_int_equal(m->temporality, PD_TEMPORALITY_DELTA);
    assert_true(m->is_monotonic);
    assert_int_equal(dp->value_type, PD_NUM_INT);
    return dp->value.i;
}

static double sum_of(const pd_metric *m, const char *labels)
{
    const pd_number_dp *dp = dp_must(m, labels);
    assert_int_equal(m->temporality, PD_TEMPORALITY_DELTA);
    assert_int_equal(dp->value_type, PD_NUM_DOUBLE);
    return dp->value.d;
}

static void test_count_defaults(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, COUNT, "", PD_TRACES);
    pd_batch *b = traces_new("service.name=svc", 3);
    pd_span *s = span_add(b, "a", "", 1);
    event_add(b, s, "e1", "");
    event_add(b, s, "e2", "");
    span_add(b, "b", "", 1);
    span_add(b, "c", "", 1);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    pd_batch *out = last_out(&fx);
    assert_non_null(out);
    assert_int_equal(out->u.metrics.n, 1);
    assert_true(gb_str_eq_c(out->u.metrics.v[0].resource.attrs.v[0].value.u.str, "svc"));
    const pd_metric *m = metric_in(out, 0, "trace.span.count");
    assert_int_equal(count_of(m, ""), 3);
    assert_true(gb_str_eq_c(m->description, "The number of spans observed."));
    assert_int_equal(count_of(metric_in(out, 0, "trace.span.event.count"), ""), 2);
    assert_null(metric_in(out, 0, "log.record.count"));
    /* logs get log.record.count */
    pd_batch *lb = logs_new(2);
    log_add(lb, "", 1);
    log_add(lb, "", 2);
    assert_int_equal(conn_feed(&fx, lb), GB_OK);
    assert_int_equal(count_of(metric_in(last_out(&fx), 0, "log.record.count"), ""), 2);
    /* every batch is counted on its own (delta) */
    b = traces_new("", 1);
    span_add(b, "d", "", 1);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    assert_int_equal(count_of(metric_in(last_out(&fx), 0, "trace.span.count"), ""), 1);
    assert_int_equal(fx.out.n, 3);
    conn_down(&fx);
}

static void test_count_conditions_and_attributes(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, COUNT,
            "spans:\n"
            "  errors.by.svc:\n"
            "    description: Errors per service\n"
            "    conditions:\n"
            "      - attributes[\"status\"] == \"error\"\n"
            "      - attributes[\"http.code\"] == 500 and resource.attributes[\"env\"] != \"dev\"\n"
            "    attributes:\n"
            "      - key: svc\n"
            "        default_value: unknown\n"
            "  all.with.user:\n"
            "    attributes: [{key: user}, {key: http.code}]\n"
            "  named:\n"
            "    conditions: ['name == \"checkout\" or attributes[\"flag\"] == true']\n"
            "  no.user:\n"
            "    conditions: ['attributes[\"user\"] == nil']\n",
            PD_TRACES);
    pd_batch *b = traces_new("env=prod", 8);
    span_add(b, "checkout", "status=error;svc=a;user=u1;http.code=i:200", 1);
    span_add(b, "x", "status=error;user=u1;http.code=i:200", 1);
    span_add(b, "x", "status=ok;svc=a;http.code=d:500", 1); /* 500.0 == 500 */
    span_add(b, "x", "status=ok;svc=b;http.code=i:404;flag=b:true", 1);
    span_add(b, "x", "status=error;svc=a;user=u2", 1);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    pd_batch *out = last_out(&fx);
    const pd_metric *m = metric_in(out, 0, "errors.by.svc");
    assert_true(gb_str_eq_c(m->description, "Errors per service"));
    assert_int_equal(m->n_dp, 2);
    assert_int_equal(count_of(m, "svc=a"), 3);
    assert_int_equal(count_of(m, "svc=unknown"), 1);
    m = metric_in(out, 0, "all.with.user");
    assert_int_equal(m->n_dp, 1); /* items lacking an attribute without default are skipped */
    assert_int_equal(count_of(m, "user=u1,http.code=200"), 2);
    assert_int_equal(count_of(metric_in(out, 0, "named"), ""), 2);
    assert_int_equal(count_of(metric_in(out, 0, "no.user"), ""), 2);
    assert_null(metric_in(out, 0, "trace.span.count")); /* spans configured: no default */
    /* spanevents keeps its default metric, but no span had events: no empty metric */
    assert_null(metric_in(out, 0, "trace.span.event.count"));
    conn_down(&fx);

    /* a resource with env=dev does not match the second condition */
    conn_up(&fx, COUNT,
            "spans:\n  c:\n    conditions: ['resource.attributes[\"env\"] != \"dev\"']\n",
            PD_TRACES);
    b = traces_new("env=dev", 1);
    span_add(b, "x", "", 1);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    assert_int_equal(fx.out.n, 0); /* nothing matched: nothing sent */
    conn_down(&fx);
}

static void test_count_metrics_and_datapoints(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, COUNT, "datapoints:\n  dp.by.kind:\n    attributes: [{key: dp}]\n", PD_METRICS);
    const uint32_t ndp[] = {2, 3, 1};
    pd_batch *b = mk_metrics(ndp, 3, 0);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    pd_batch *out = last_out(&fx);
    assert_int_equal(count_of(metric_in(out, 0, "metric.count"), ""), 3);
    assert_int_equal(count_of(metric_in(out, 0, "dp.by.kind"), "dp=x"), 5);
    conn_down(&fx);
}

static void test_sum_values_attributes_and_resources(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, SUM,
            "spans:\n"
            "  card.charge:\n"
            "    description: charges\n"
            "    source_attribute: payment.amount\n"
            "    conditions: ['attributes[\"payment.amount\"] != \"NULL\"']\n"
            "    attributes:\n"
            "      - key: user\n"
            "        default_value: anonymous\n"
            "spanevents:\n"
            "  event.bytes:\n"
            "    source_attribute: bytes\n"
            "logs:\n"
            "  log.total:\n"
            "    source_attribute: total\n"
            "    attributes: [{key: region, default_value: 7}]\n",
            PD_TRACES);
    pd_batch *b;
    pd_batch_new(PD_TRACES, 0, &b);
    b->u.traces.v = gb_arena_calloc(&b->arena, 2, sizeof(pd_resource_spans));
    b->u.traces.n = 2;
    for (int r = 0; r < 2; r++) {
        pd_resource_spans *rs = &b->u.traces.v[r];
        rs->resource.attrs = tattrs(b, 2);
        tput_str(b, &rs->resource.attrs, "host", r ? "h2" : "h1");
        rs->scope_spans = gb_arena_calloc(&b->arena, 1, sizeof(pd_scope_spans));
        rs->n_scope_spans = 1;
        rs->scope_spans[0].spans = gb_arena_calloc(&b->arena, 8, sizeof(pd_span));
    }
    /* resource 0 */
    pd_scope_spans *ss = &b->u.traces.v[0].scope_spans[0];
    const char *sp0[] = {"user=u1;payment.amount=d:10.5", "user=u1;payment.amount=i:2",
                         "user=u2;payment.amount=3.25",   "payment.amount=d:1",
                         "user=u1;payment.amount=NULL",   "user=u1;payment.amount=abc"};
    for (int i = 0; i < 6; i++) {
        pd_span *sp = &ss->spans[ss->n_spans++];
        sp->attrs = tattrs(b, 4);
        attrs_from(b, &sp->attrs, sp0[i]);
    }
    pd_span *first = &ss->spans[0];
    event_add(b, first, "e", "bytes=i:100");
    event_add(b, first, "e", "bytes=d:0.5");
    /* resource 1: one span */
    ss = &b->u.traces.v[1].scope_spans[0];
    ss->spans[0].attrs = tattrs(b, 4);
    attrs_from(b, &ss->spans[0].attrs, "user=u9;payment.amount=d:4");
    ss->n_spans = 1;
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    pd_batch *out = last_out(&fx);
    assert_int_equal(out->u.metrics.n, 2);
    const pd_metric *m = metric_in(out, 0, "card.charge");
    assert_int_equal(m->n_dp, 3);
    assert_true(sum_of(m, "user=u1") == 12.5); /* 10.5 + 2 + 0 ("abc" is not a number) */
    assert_true(sum_of(m, "user=u2") == 3.25);
    assert_true(sum_of(m, "user=anonymous") == 1.0);
    assert_true(sum_of(metric_in(out, 0, "event.bytes"), "") == 100.5);
    assert_true(sum_of(metric_in(out, 1, "card.charge"), "user=u9") == 4.0);
    assert_null(metric_in(out, 1, "event.bytes"));
    char host[64];
    attrs_str(&out->u.metrics.v[1].resource.attrs, host, sizeof host);
    assert_string_equal(host, "host=h2");
    /* logs, with a typed default */
    pd_batch *lb = logs_new(3);
    log_add(lb, "total=d:1.25;region=eu", 1);
    log_add(lb, "total=i:2", 1);
    log_add(lb, "total=d:0.75;region=eu", 1);
    assert_int_equal(conn_feed(&fx, lb), GB_OK);
    m = metric_in(last_out(&fx), 0, "log.total");
    assert_true(sum_of(m, "region=eu") == 2.0);
    assert_true(sum_of(m, "region=#7") == 2.0);
    conn_down(&fx);
}

static void test_condition_parser_subset(void **state)
{
    (void)state;
    gb_arena a;
    gb_arena_init(&a, 0, 0);
    cu_and *ors;
    uint32_t n, off = 0;
    char err[512];
    assert_int_equal(
        cu_parse_condition(&a,
                           "attributes[\"a\"] == \"x\" and name != \"y\" or "
                           "metric.name == \"m\" or \"v\" == resource.attributes[\"r\"]",
                           &ors, &n, err, sizeof err, &off),
        GB_OK);
    assert_int_equal(n, 3);
    assert_int_equal(ors[0].n, 2);
    assert_int_equal(ors[0].v[0].path, CU_PATH_ATTR);
    assert_string_equal(ors[0].v[0].key, "a");
    assert_int_equal(ors[0].v[1].path, CU_PATH_NAME);
    assert_true(ors[0].v[1].ne);
    assert_int_equal(ors[1].v[0].path, CU_PATH_METRIC_NAME);
    assert_int_equal(ors[2].v[0].path, CU_PATH_RES_ATTR);
    assert_string_equal(ors[2].v[0].key, "r");
    static const struct {
        const char *text;
        uint32_t off;
    } bad[] = {{"IsMatch(attributes[\"a\"], \"x\")", 0},
               {"attributes[\"a\"] > 3", 16},
               {"(attributes[\"a\"] == 1)", 0},
               {"attributes[\"a\"] == 1 and", 24},
               {"attributes[\"a\"][\"b\"] == 1", 15},
               {"not attributes[\"a\"] == 1", 0},
               {"", 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        off = 999;
        gb_status st = cu_parse_condition(&a, bad[i].text, &ors, &n, err, sizeof err, &off);
        if (st == GB_OK) fail_msg("accepted: %s", bad[i].text);
        assert_non_null(strstr(err, "OTTL not supported yet"));
        if (off != bad[i].off)
            fail_msg("%s: offset %u, want %u (%s)", bad[i].text, off, bad[i].off, err);
    }
    gb_arena_free(&a);
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const pl_descriptor *d;
        const char *yaml, *want;
    } cases[] = {
        {SUM, "spans:\n  m:\n    description: x\n",
         "test.yaml:2:3: error: connectors::x::spans: metric \"m\": missing required key "
         "\"source_attribute\""},
        {SUM,
         "spans:\n  m:\n    source_attribute: a\n    conditions:\n"
         "      - IsMatch(attributes[\"a\"], \"x\")\n",
         "test.yaml:5:9: error: connectors::x::spans: OTTL not supported yet: function call at "
         "\"IsMatch"},
        {COUNT, "logs:\n  m:\n    conditions:\n      - 'attributes[\"a\"] >= 1'\n",
         "test.yaml:4:26: error: connectors::x::logs: OTTL not supported yet: expected == or !="},
        {COUNT, "spans:\n  m:\n    attributes: [{default_value: x}]\n",
         "metric \"m\": attributes: attribute key missing"},
        {COUNT, "spans:\n  m:\n    colour: red\n",
         "test.yaml:3:5: error: connectors::x::spans: "
         "metric \"m\": unknown key \"colour\""},
        {SUM, "metrics:\n  m:\n    source_attribute: a\n",
         "section \"metrics\" is not supported by this connector yet"},
        {COUNT, "spanz: {}\n", "unknown key \"spanz\" (did you mean \"spans\"?)"},
        {COUNT, "metrics:\n  m:\n    attributes: [{key: a}]\n",
         "attributes are not supported for metrics"},
        {COUNT, "spans: [a]\n", "expected a map of metric name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_config_error(cases[i].d, cases[i].yaml, cases[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count_defaults),
        cmocka_unit_test(test_count_conditions_and_attributes),
        cmocka_unit_test(test_count_metrics_and_datapoints),
        cmocka_unit_test(test_sum_values_attributes_and_resources),
        cmocka_unit_test(test_condition_parser_subset),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
