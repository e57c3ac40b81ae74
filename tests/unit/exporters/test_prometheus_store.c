/* prometheus exporter accumulator and exposition (components/exporter/prometheus/store.c):
 * exact text for a set of metrics, latest-value / delta accumulation rules, expiry, target_info,
 * OpenMetrics, timestamps, resource labels, limits and concurrent use. Batches are written as
 * OTLP/JSON and decoded with the project's codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter/prometheus/store.h"
#include "otlp/otlp.h"

#define S 1000000000LL

static pd_batch *batch_json(const char *json)
{
    pd_batch *b = NULL;
    assert_int_equal(pd_batch_new(PD_METRICS, 0, &b), GB_OK);
    otlp_error err = {{0}};
    gb_status st = otlp_decode_json(b, json, strlen(json), &err);
    if (st != GB_OK) fail_msg("bad test JSON: %s", err.msg);
    return b;
}

static void add_json(prometheus_store *s, const char *json, int64_t now, prometheus_add_stats *st)
{
    pd_batch *b = batch_json(json);
    prometheus_add_stats local;
    assert_int_equal(prometheus_store_add(s, b, now, st ? st : &local), GB_OK);
    pd_batch_unref(b);
}

static char *render(prometheus_store *s, bool om, int64_t now)
{
    gb_sbuf o;
    gb_sbuf_init(&o, 0);
    assert_int_equal(prometheus_store_render(s, om, now, &o), GB_OK);
    gb_sbuf_append(&o, "", 0);
    return gb_sbuf_take(&o, NULL);
}

static void expect_text(prometheus_store *s, bool om, int64_t now, const char *want)
{
    char *got = render(s, om, now);
    if (strcmp(got, want) != 0) fail_msg("exposition differs:\n--- got\n%s--- want\n%s", got, want);
    free(got);
}

static prometheus_store *store_new(const prometheus_store_cfg *cfg)
{
    prometheus_store *s = NULL;
    assert_int_equal(prometheus_store_new(cfg, &s), GB_OK);
    return s;
}

static prometheus_store_cfg default_cfg(void)
{
    prometheus_store_cfg c = {.add_suffixes = true, .expiration_ns = 300 * S};
    return c;
}

static const char k_mixed[] =
    "{\"resourceMetrics\":[{\"resource\":{\"attributes\":["
    "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"chat\"}},"
    "{\"key\":\"service.namespace\",\"value\":{\"stringValue\":\"ai\"}},"
    "{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":\"pod-1\"}},"
    "{\"key\":\"host.name\",\"value\":{\"stringValue\":\"h1\"}}]},"
    "\"scopeMetrics\":[{\"scope\":{\"name\":\"genops\",\"version\":\"1.2\"},\"metrics\":["
    "{\"name\":\"genops.cost\",\"unit\":\"{USD}\",\"description\":\"AI cost in \\\"USD\\\"\\\\n\","
    "\"sum\":{\"aggregationTemporality\":2,\"isMonotonic\":true,\"dataPoints\":["
    "{\"asDouble\":1.25,\"startTimeUnixNano\":\"1690000000000000000\","
    "\"timeUnixNano\":\"1700000000000000000\",\"attributes\":["
    "{\"key\":\"genops.team\",\"value\":{\"stringValue\":\"platform\"}}]},"
    "{\"asDouble\":0.5,\"startTimeUnixNano\":\"1690000000000000000\","
    "\"timeUnixNano\":\"1700000000000000000\",\"attributes\":["
    "{\"key\":\"genops.team\",\"value\":{\"stringValue\":\"a\\\"b\\\\c\\nd\"}}]}]}},"
    "{\"name\":\"genops.budget.utilization\",\"unit\":\"{percent}\",\"gauge\":{\"dataPoints\":["
    "{\"asInt\":\"42\",\"timeUnixNano\":\"1700000000000000000\"}]}},"
    "{\"name\":\"http.server.duration\",\"unit\":\"ms\",\"histogram\":{\"aggregationTemporality\":"
    "2,"
    "\"dataPoints\":[{\"count\":\"6\",\"sum\":40.5,\"bucketCounts\":[\"1\",\"2\",\"3\"],"
    "\"explicitBounds\":[10,5],\"timeUnixNano\":\"1700000000000000000\"}]}},"
    "{\"name\":\"rpc.latency\",\"unit\":\"s\",\"summary\":{\"dataPoints\":[{\"count\":\"4\","
    "\"sum\":2,\"quantileValues\":[{\"quantile\":0.99,\"value\":1.5},{\"quantile\":0.5,"
    "\"value\":0.25}],\"timeUnixNano\":\"1700000000000000000\"}]}},"
    "{\"name\":\"queue.depth\",\"unit\":\"1\",\"sum\":{\"aggregationTemporality\":2,"
    "\"isMonotonic\":false,\"dataPoints\":[{\"asInt\":\"-3\",\"timeUnixNano\":"
    "\"1700000000000000000\"}]}}"
    "]}]}]}";

#define SC "otel_scope_name=\"genops\",otel_scope_version=\"1.2\""
#define JI "instance=\"pod-1\",job=\"ai/chat\""

static void test_exact_exposition(void **state)
{
    (void)state;
    prometheus_store_cfg c = default_cfg();
    promutil_label cl[1] = {{"env", "prod"}};
    c.const_labels = cl;
    c.n_const_labels = 1;
    prometheus_store *s = store_new(&c);
    prometheus_add_stats st;
    add_json(s, k_mixed, 0, &st);
    assert_int_equal(st.points, 6);
    assert_int_equal(st.dropped, 0);
    expect_text(
        s, false, 1,
        "# HELP genops_budget_utilization \n"
        "# TYPE genops_budget_utilization gauge\n"
        "genops_budget_utilization{env=\"prod\"," JI "," SC "} 42\n"
        "# HELP genops_cost_total AI cost in \"USD\"\\\\n\n"
        "# TYPE genops_cost_total counter\n"
        "genops_cost_total{env=\"prod\",genops_team=\"a\\\"b\\\\c\\nd\"," JI "," SC "} 0.5\n"
        "genops_cost_total{env=\"prod\",genops_team=\"platform\"," JI "," SC "} 1.25\n"
        "# HELP http_server_duration_milliseconds \n"
        "# TYPE http_server_duration_milliseconds histogram\n"
        "http_server_duration_milliseconds_bucket{env=\"prod\"," JI "," SC ",le=\"5\"} 2\n"
        "http_server_duration_milliseconds_bucket{env=\"prod\"," JI "," SC ",le=\"10\"} 3\n"
        "http_server_duration_milliseconds_bucket{env=\"prod\"," JI "," SC ",le=\"+Inf\"} 6\n"
        "http_server_duration_milliseconds_sum{env=\"prod\"," JI "," SC "} 40.5\n"
        "http_server_duration_milliseconds_count{env=\"prod\"," JI "," SC "} 6\n"
        "# HELP queue_depth \n"
        "# TYPE queue_depth gauge\n"
        "queue_depth{env=\"prod\"," JI "," SC "} -3\n"
        "# HELP rpc_latency_seconds \n"
        "# TYPE rpc_latency_seconds summary\n"
        "rpc_latency_seconds{env=\"prod\"," JI "," SC ",quantile=\"0.5\"} 0.25\n"
        "rpc_latency_seconds{env=\"prod\"," JI "," SC ",quantile=\"0.99\"} 1.5\n"
        "rpc_latency_seconds_sum{env=\"prod\"," JI "," SC "} 2\n"
        "rpc_latency_seconds_count{env=\"prod\"," JI "," SC "} 4\n"
        "# HELP target_info Target metadata\n"
        "# TYPE target_info gauge\n"
        "target_info{host_name=\"h1\"," JI "} 1\n");
    assert_int_equal(prometheus_store_series(s), 7);
    prometheus_store_free(s);
}

static void test_openmetrics_and_timestamps(void **state)
{
    (void)state;
    prometheus_store_cfg c = default_cfg();
    c.send_timestamps = true;
    c.without_scope_info = true;
    prometheus_store *s = store_new(&c);
    add_json(s,
             "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
             "{\"name\":\"genops.cost\",\"unit\":\"{USD}\",\"sum\":{\"aggregationTemporality\":2,"
             "\"isMonotonic\":true,\"dataPoints\":[{\"asDouble\":3,\"startTimeUnixNano\":"
             "\"1690000000500000000\",\"timeUnixNano\":\"1700000000250000000\"}]}},"
             "{\"name\":\"lat\",\"unit\":\"s\",\"histogram\":{\"aggregationTemporality\":2,"
             "\"dataPoints\":[{\"count\":\"2\",\"sum\":1,\"bucketCounts\":[\"1\",\"1\"],"
             "\"explicitBounds\":[1],\"timeUnixNano\":\"1700000000250000000\"}]}}]}]}]}",
             0, NULL);
    expect_text(s, false, 1,
                "# HELP genops_cost_total \n"
                "# TYPE genops_cost_total counter\n"
                "genops_cost_total 3 1700000000250\n"
                "# HELP lat_seconds \n"
                "# TYPE lat_seconds histogram\n"
                "lat_seconds_bucket{le=\"1\"} 1 1700000000250\n"
                "lat_seconds_bucket{le=\"+Inf\"} 2 1700000000250\n"
                "lat_seconds_sum 1 1700000000250\n"
                "lat_seconds_count 2 1700000000250\n");
    expect_text(s, true, 1,
                "# HELP genops_cost \n"
                "# TYPE genops_cost counter\n"
                "genops_cost_total 3.0 1700000000.250\n"
                "genops_cost_created 1.6900000005e+09\n"
                "# HELP lat_seconds \n"
                "# TYPE lat_seconds histogram\n"
                "lat_seconds_bucket{le=\"1.0\"} 1 1700000000.250\n"
                "lat_seconds_bucket{le=\"+Inf\"} 2 1700000000.250\n"
                "lat_seconds_sum 1.0 1700000000.250\n"
                "lat_seconds_count 2 1700000000.250\n"
                "# EOF\n");
    prometheus_store_free(s);
}

static const char *sum_json(char *buf, size_t len, int temporality, bool monotonic, double v,
                            long long start_s, long long time_s, int flags)
{
    snprintf(buf, len,
             "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
             "{\"name\":\"tokens\",\"unit\":\"{token}\",\"sum\":{\"aggregationTemporality\":%d,"
             "\"isMonotonic\":%s,\"dataPoints\":[{\"asDouble\":%g,\"startTimeUnixNano\":"
             "\"%lld000000000\",\"timeUnixNano\":\"%lld000000000\",\"flags\":%d}]}}]}]}]}",
             temporality, monotonic ? "true" : "false", v, start_s, time_s, flags);
    return buf;
}

static void test_cumulative_keeps_latest(void **state)
{
    (void)state;
    prometheus_store_cfg c = default_cfg();
    c.without_scope_info = true;
    prometheus_store *s = store_new(&c);
    char j[1024];
    add_json(s, sum_json(j, sizeof j, 2, true, 10, 100, 200, 0), 0, NULL);
    add_json(s, sum_json(j, sizeof j, 2, true, 7, 100, 150, 0), 0, NULL); /* older: ignored */
    expect_text(s, false, 1,
                "# HELP tokens_total \n# TYPE tokens_total counter\ntokens_total 10\n");
    add_json(s, sum_json(j, sizeof j, 2, true, 12, 100, 210, 0), 0, NULL);
    expect_text(s, false, 1,
                "# HELP tokens_total \n# TYPE tokens_total counter\ntokens_total 12\n");
    /* a point flagged "no recorded value" removes the series */
    add_json(s, sum_json(j, sizeof j, 2, true, 0, 100, 220, 1), 0, NULL);
    expect_text(s, false, 1, "");
    assert_int_equal(prometheus_store_series(s), 0);
    prometheus_store_free(s);
}

static void test_delta_sums_accumulate(void **state)
{
    (void)state;
    prometheus_store_cfg c = default_cfg();
    c.without_scope_info = true;
    prometheus_store *s = store_new(&c);
    char j[1024];
    add_json(s, sum_json(j, sizeof j, 1, true, 1.5, 100, 110, 0), 0, NULL);
    add_json(s, sum_json(j, sizeof j, 1, true, 2.25, 110, 120, 0), 0, NULL);
    add_json(s, sum_json(j, sizeof j, 1, true, 0.25, 105, 108, 0), 0, NULL); /* out of order */
    expect_text(s, false, 1, "# HELP tokens_total \n# TYPE tokens_total counter\ntokens_total 4\n");
    /* non-monotonic delta sums are dropped, as otelcol */
    prometheus_add_stats st;
    add_json(s, sum_json(j, sizeof j, 1, false, 5, 100, 110, 0), 0, &st);
    assert_int_equal(st.points, 0);
    assert_int_equal(st.dropped, 1);
    assert_non_null(strstr(st.reason, "non-monotonic delta"));
    /* delta histograms too: bucket counts add, bounds merged */
    add_json(s,
             "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
             "{\"name\":\"d\",\"histogram\":{\"aggregationTemporality\":1,\"dataPoints\":["
             "{\"count\":\"3\",\"sum\":3,\"bucketCounts\":[\"1\",\"2\"],\"explicitBounds\":[1],"
             "\"timeUnixNano\":\"1\"},"
             "{\"count\":\"4\",\"sum\":6,\"bucketCounts\":[\"1\",\"1\",\"2\"],"
             "\"explicitBounds\":[1,2],\"timeUnixNano\":\"2\"}]}}]}]}]}",
             0, NULL);
    char *got = render(s, false, 1);
    assert_non_null(strstr(got, "d_bucket{le=\"1\"} 2\n"
                                "d_bucket{le=\"2\"} 3\n"
                                "d_bucket{le=\"+Inf\"} 7\n"
                                "d_sum 9\n"
                                "d_count 7\n"));
    free(got);
    prometheus_store_free(s);
}

static void test_expiry(void **state)
{
    (void)state;
    prometheus_store_cfg c = default_cfg();
    c.expiration_ns = 60 * S;
    prometheus_store *s = store_new(&c);
    add_json(s, k_mixed, 0, NULL);
    char *got = render(s, false, 59 * S);
    assert_non_null(strstr(got, "target_info"));
    free(got);
    /* only the cost series is refreshed; everything else expires */
    add_json(s,
             "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
             "{\"name\":\"genops.cost\",\"unit\":\"{USD}\",\"sum\":{\"aggregationTemporality\":2,"
             "\"isMonotonic\":true,\"dataPoints\":[{\"asDouble\":9,\"timeUnixNano\":"
             "\"1800000000000000000\"}]}}]}]}]}",
             50 * S, NULL);
    expect_text(s, false, 61 * S,
                "# HELP genops_cost_total AI cost in \"USD\"\\\\n\n"
                "# TYPE genops_cost_total counter\n"
                "genops_cost_total 9\n");
    assert_int_equal(prometheus_store_series(s), 1);
    expect_text(s, false, 200 * S, "");
    assert_int_equal(prometheus_store_series(s), 0);
    /* an older (ignored) point does not keep a series alive */
    char j[1024];
    add_json(s, sum_json(j, sizeof j, 2, true, 5, 100, 200, 0), 300 * S, NULL);
    add_json(s, sum_json(j, sizeof j, 2, true, 4, 100, 150, 0), 350 * S, NULL);
    char *t = render(s, false, 355 * S);
    assert_non_null(strstr(t, "tokens_total 5\n"));
    free(t);
    expect_text(s, false, 361 * S, "");
    prometheus_store_free(s);
}

static void test_resource_labels(void **state)
{
    (void)state;
    prometheus_store_cfg c = default_cfg();
    c.resource_to_telemetry = true;
    c.exclude_service_attributes = true;
    c.without_scope_info = true;
    c.namespace_ = "acme";
    prometheus_store *s = store_new(&c);
    static const char j[] =
        "{\"resourceMetrics\":[{\"resource\":{\"attributes\":["
        "{\"key\":\"service.name\",\"value\":{\"stringValue\":\"chat\"}},"
        "{\"key\":\"k8s.pod.name\",\"value\":{\"stringValue\":\"p1\"}},"
        "{\"key\":\"team\",\"value\":{\"stringValue\":\"from-resource\"}}]},"
        "\"scopeMetrics\":[{\"metrics\":[{\"name\":\"up\",\"gauge\":{\"dataPoints\":["
        "{\"asInt\":\"1\",\"timeUnixNano\":\"1\",\"attributes\":[{\"key\":\"team\","
        "\"value\":{\"stringValue\":\"point\"}}]}]}}]}]}]}";
    add_json(s, j, 0, NULL);
    expect_text(s, false, 1,
                "# HELP acme_target_info Target metadata\n"
                "# TYPE acme_target_info gauge\n"
                "acme_target_info{job=\"chat\",k8s_pod_name=\"p1\",team=\"from-resource\"} 1\n"
                "# HELP acme_up \n"
                "# TYPE acme_up gauge\n"
                "acme_up{job=\"chat\",k8s_pod_name=\"p1\",team=\"from-resource\"} 1\n");
    prometheus_store_free(s);

    /* resource_constant_labels: included patterns, excluded wins */
    const char *inc[] = {"k8s.*", "team"};
    const char *exc[] = {"k8s.pod.*"};
    c = default_cfg();
    c.without_scope_info = true;
    c.rcl_set = true;
    c.rcl_included = inc;
    c.n_rcl_included = 2;
    c.rcl_excluded = exc;
    c.n_rcl_excluded = 1;
    s = store_new(&c);
    add_json(s, j, 0, NULL);
    char *got = render(s, false, 1);
    assert_non_null(strstr(got, "up{job=\"chat\",team=\"from-resource\"} 1\n"));
    free(got);
    prometheus_store_free(s);
}

static void test_limits_and_conflicts(void **state)
{
    (void)state;
    prometheus_store_cfg c = default_cfg();
    c.without_scope_info = true;
    c.max_series = 2;
    prometheus_store *s = store_new(&c);
    prometheus_add_stats st;
    char j[1024];
    for (int i = 0; i < 4; i++) {
        snprintf(j, sizeof j,
                 "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
                 "{\"name\":\"g\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"%d\",\"timeUnixNano\":"
                 "\"1\",\"attributes\":[{\"key\":\"i\",\"value\":{\"intValue\":\"%d\"}}]}]}}]}]}]}",
                 i, i);
        add_json(s, j, 0, &st);
    }
    assert_int_equal(prometheus_store_series(s), 2);
    assert_int_equal(st.dropped, 1);
    assert_non_null(strstr(st.reason, "max_series"));
    /* an existing series still updates at the limit */
    add_json(s,
             "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
             "{\"name\":\"g\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"7\",\"timeUnixNano\":\"2\","
             "\"attributes\":[{\"key\":\"i\",\"value\":{\"intValue\":\"0\"}}]}]}}]}]}]}",
             0, &st);
    assert_int_equal(st.points, 1);
    expect_text(s, false, 1, "# HELP g \n# TYPE g gauge\ng{i=\"0\"} 7\ng{i=\"1\"} 1\n");
    prometheus_store_free(s);

    /* a counter and a histogram named alike: the first type wins, the other is dropped */
    c.max_series = 0;
    s = store_new(&c);
    add_json(s, sum_json(j, sizeof j, 2, true, 1, 1, 2, 0), 0, &st);
    add_json(s,
             "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
             "{\"name\":\"tokens.total\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"1\"}]}}]}]}]}",
             0, &st);
    assert_int_equal(st.dropped, 1);
    assert_non_null(strstr(st.reason, "type conflict"));
    /* a name with no valid form is dropped */
    add_json(s,
             "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
             "{\"name\":\"...\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"1\"}]}}]}]}]}",
             0, &st);
    assert_int_equal(st.dropped, 1);
    prometheus_store_free(s);
}

static void test_exponential_histogram(void **state)
{
    (void)state;
    prometheus_store_cfg c = default_cfg();
    c.without_scope_info = true;
    prometheus_store *s = store_new(&c);
    /* scale 0: base 2; positive offset 1 -> buckets (2,4], (4,8]; zero bucket; one negative
     * bucket at offset 0 -> [-2,-1) with upper bound -1 */
    add_json(s,
             "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
             "{\"name\":\"e\",\"exponentialHistogram\":{\"aggregationTemporality\":2,"
             "\"dataPoints\":[{\"count\":\"7\",\"sum\":20,\"scale\":0,\"zeroCount\":\"1\","
             "\"positive\":{\"offset\":1,\"bucketCounts\":[\"2\",\"3\"]},"
             "\"negative\":{\"offset\":0,\"bucketCounts\":[\"1\"]},"
             "\"timeUnixNano\":\"1\"}]}}]}]}]}",
             0, NULL);
    expect_text(s, false, 1,
                "# HELP e \n# TYPE e histogram\n"
                "e_bucket{le=\"-1\"} 1\n"
                "e_bucket{le=\"0\"} 2\n"
                "e_bucket{le=\"4\"} 4\n"
                "e_bucket{le=\"8\"} 7\n"
                "e_bucket{le=\"+Inf\"} 7\n"
                "e_sum 20\n"
                "e_count 7\n");
    prometheus_store_free(s);
}

static void test_odd_input(void **state)
{
    (void)state;
    prometheus_store_cfg c = default_cfg();
    c.without_scope_info = true;
    prometheus_store *s = store_new(&c);
    /* scale outside [-10, 20], huge offsets, fewer bucket counts than bounds, unsorted duplicate
     * bounds, an empty metric, a histogram with no buckets */
    add_json(s,
             "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
             "{\"name\":\"e1\",\"exponentialHistogram\":{\"aggregationTemporality\":2,"
             "\"dataPoints\":[{\"count\":\"3\",\"sum\":1,\"scale\":30,"
             "\"positive\":{\"offset\":5,\"bucketCounts\":[\"3\"]},\"timeUnixNano\":\"1\"}]}},"
             "{\"name\":\"e2\",\"exponentialHistogram\":{\"aggregationTemporality\":2,"
             "\"dataPoints\":[{\"count\":\"4\",\"sum\":1,\"scale\":-10,"
             "\"positive\":{\"offset\":2147483000,\"bucketCounts\":[\"1\",\"1\"]},"
             "\"negative\":{\"offset\":2147483000,\"bucketCounts\":[\"1\",\"1\"]},"
             "\"timeUnixNano\":\"1\"}]}},"
             "{\"name\":\"h\",\"histogram\":{\"aggregationTemporality\":2,\"dataPoints\":["
             "{\"count\":\"5\",\"sum\":1,\"bucketCounts\":[\"1\"],\"explicitBounds\":[3,1,3,2],"
             "\"timeUnixNano\":\"1\"}]}},"
             "{\"name\":\"nob\",\"histogram\":{\"aggregationTemporality\":2,\"dataPoints\":["
             "{\"count\":\"0\",\"timeUnixNano\":\"1\"}]}},"
             "{\"name\":\"empty\"}]}]}]}",
             0, NULL);
    char *got = render(s, false, 1);
    assert_non_null(strstr(got, "e1_bucket{le=\"+Inf\"} 3\ne1_sum 1\ne1_count 3\n"));
    assert_null(strstr(got, "e1_bucket{le=\"0\"}"));
    assert_non_null(strstr(got, "e2_bucket{le=\"+Inf\"} 4\n"));
    /* both negatives overflow to -Inf; the positives only count in +Inf */
    assert_non_null(strstr(got, "e2_bucket{le=\"-Inf\"} 2\ne2_bucket{le=\"0\"} 2\n"
                                "e2_bucket{le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(got, "h_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"3\"} 1\n"
                                "h_bucket{le=\"+Inf\"} 5\n"));
    assert_non_null(strstr(got, "nob_bucket{le=\"+Inf\"} 0\nnob_sum 0\nnob_count 0\n"));
    assert_null(strstr(got, "empty"));
    free(got);

    /* 5000 explicit bounds (more than the 4096 kept): +Inf, _sum and _count only */
    gb_sbuf j;
    gb_sbuf_init(&j, 0);
    gb_sbuf_puts(&j, "{\"resourceMetrics\":[{\"resource\":{},\"scopeMetrics\":[{\"metrics\":["
                     "{\"name\":\"big\",\"histogram\":{\"aggregationTemporality\":2,"
                     "\"dataPoints\":[{\"count\":\"9\",\"sum\":2,\"timeUnixNano\":\"1\","
                     "\"explicitBounds\":[");
    for (int i = 0; i < 5000; i++)
        gb_sbuf_printf(&j, "%s%d", i ? "," : "", 5000 - i);
    gb_sbuf_puts(&j, "]}]}}]}]}]}");
    add_json(s, j.data, 0, NULL);
    gb_sbuf_free(&j);
    got = render(s, false, 1);
    assert_non_null(strstr(got, "# TYPE big histogram\nbig_bucket{le=\"+Inf\"} 9\nbig_sum 2\n"));
    free(got);
    prometheus_store_free(s);
}

typedef struct worker_arg {
    prometheus_store *s;
    int n;
} worker_arg;

static void *adder(void *p)
{
    worker_arg *a = p;
    char j[1024];
    for (int i = 0; i < a->n; i++) {
        pd_batch *b = batch_json(sum_json(j, sizeof j, 1, true, 1, 100, 101 + i, 0));
        prometheus_add_stats st;
        prometheus_store_add(a->s, b, 0, &st);
        pd_batch_unref(b);
    }
    return NULL;
}

static void *scraper(void *p)
{
    worker_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        gb_sbuf o;
        gb_sbuf_init(&o, 0);
        prometheus_store_render(a->s, (i & 1) != 0, 1, &o);
        gb_sbuf_free(&o);
    }
    return NULL;
}

static void test_concurrent_add_and_scrape(void **state)
{
    (void)state;
    prometheus_store_cfg c = default_cfg();
    c.without_scope_info = true;
    prometheus_store *s = store_new(&c);
    pthread_t t[4];
    worker_arg a = {s, 200};
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, adder, &a);
    pthread_create(&t[3], NULL, scraper, &a);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    expect_text(s, false, 1,
                "# HELP tokens_total \n# TYPE tokens_total counter\ntokens_total 600\n");
    prometheus_store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_exposition),
        cmocka_unit_test(test_openmetrics_and_timestamps),
        cmocka_unit_test(test_cumulative_keeps_latest),
        cmocka_unit_test(test_delta_sums_accumulate),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_resource_labels),
        cmocka_unit_test(test_limits_and_conflicts),
        cmocka_unit_test(test_exponential_histogram),
        cmocka_unit_test(test_odd_input),
        cmocka_unit_test(test_concurrent_add_and_scrape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
