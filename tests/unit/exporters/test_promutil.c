/* OTLP -> Prometheus translation (components/exporter/promutil): metric names with unit and type
 * suffixes, label names, label values, float formatting, job/instance and label sets. Expected
 * values are those of otelcol-contrib's translator (otlptranslator). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/arena.h"
#include "exporter/promutil/promutil.h"

typedef struct name_case {
    const char *name;
    const char *unit;
    promutil_kind kind;
    const char *ns;
    bool suffixes;
    const char *want; /* NULL: invalid */
} name_case;

static const name_case k_names[] = {
    /* the GenOps metrics */
    {"genops.cost", "{USD}", PROMUTIL_COUNTER, NULL, true, "genops_cost_total"},
    {"genops.tokens", "{token}", PROMUTIL_COUNTER, NULL, true, "genops_tokens_total"},
    {"genops.budget.utilization", "{percent}", PROMUTIL_GAUGE, NULL, true,
     "genops_budget_utilization"},
    {"genops.cost", "{USD}", PROMUTIL_COUNTER, "acme", true, "acme_genops_cost_total"},
    /* units */
    {"http.server.duration", "ms", PROMUTIL_HISTOGRAM, NULL, true,
     "http_server_duration_milliseconds"},
    {"http.server.request.duration", "s", PROMUTIL_HISTOGRAM, NULL, true,
     "http_server_request_duration_seconds"},
    {"system.memory.usage", "By", PROMUTIL_NONMONOTONIC, NULL, true, "system_memory_usage_bytes"},
    {"system.memory.usage", "By", PROMUTIL_GAUGE, NULL, true, "system_memory_usage_bytes"},
    {"heap", "KiBy", PROMUTIL_GAUGE, NULL, true, "heap_kibibytes"},
    {"disk", "TiBy", PROMUTIL_GAUGE, NULL, true, "disk_tibibytes"},
    {"cpu.utilization", "1", PROMUTIL_GAUGE, NULL, true, "cpu_utilization_ratio"},
    {"cpu.utilization", "1", PROMUTIL_NONMONOTONIC, NULL, true, "cpu_utilization"},
    {"requests", "1", PROMUTIL_COUNTER, NULL, true, "requests_total"},
    {"hit.ratio", "1", PROMUTIL_GAUGE, NULL, true, "hit_ratio"},
    {"ratio.hit", "1", PROMUTIL_GAUGE, NULL, true, "hit_ratio"},
    {"disk.used", "%", PROMUTIL_GAUGE, NULL, true, "disk_used_percent"},
    {"temp", "Cel", PROMUTIL_GAUGE, NULL, true, "temp_celsius"},
    {"freq", "Hz", PROMUTIL_GAUGE, NULL, true, "freq_hertz"},
    {"uptime", "d", PROMUTIL_GAUGE, NULL, true, "uptime_days"},
    {"lat", "us", PROMUTIL_GAUGE, NULL, true, "lat_microseconds"},
    {"lat", "ns", PROMUTIL_GAUGE, NULL, true, "lat_nanoseconds"},
    {"lat", "min", PROMUTIL_GAUGE, NULL, true, "lat_minutes"},
    {"io", "By/s", PROMUTIL_GAUGE, NULL, true, "io_bytes_per_second"},
    {"throughput", "By/mo", PROMUTIL_COUNTER, NULL, true, "throughput_bytes_per_month_total"},
    {"rate", "{request}/s", PROMUTIL_GAUGE, NULL, true, "rate_per_second"},
    {"rate", "1/s", PROMUTIL_GAUGE, NULL, true, "rate_per_second"},
    {"rate", "req/{x}", PROMUTIL_GAUGE, NULL, true, "rate_req"},
    {"rate", "m/", PROMUTIL_GAUGE, NULL, true, "rate_meters"},
    {"x", "foo/bar", PROMUTIL_GAUGE, NULL, true, "x_foo_per_bar"},
    {"x", "  s  ", PROMUTIL_GAUGE, NULL, true, "x_seconds"},
    {"x", "unknown.unit", PROMUTIL_GAUGE, NULL, true, "x_unknown_unit"},
    {"x", "$$", PROMUTIL_GAUGE, NULL, true, "x"},
    {"x", "", PROMUTIL_GAUGE, NULL, true, "x"},
    /* unit already a token: not repeated */
    {"request.duration.seconds", "s", PROMUTIL_HISTOGRAM, NULL, true, "request_duration_seconds"},
    {"seconds.total", "s", PROMUTIL_COUNTER, NULL, true, "seconds_total"},
    /* '_' separates tokens too, so "per_second" is not a token: appended again, as otelcol */
    {"io.bytes_per_second", "By/s", PROMUTIL_GAUGE, NULL, true, "io_bytes_per_second_per_second"},
    {"io.bytes", "By/s", PROMUTIL_GAUGE, NULL, true, "io_bytes_per_second"},
    /* total moved to the end */
    {"requests.total.count", "", PROMUTIL_COUNTER, NULL, true, "requests_count_total"},
    {"requests_total", "", PROMUTIL_COUNTER, NULL, true, "requests_total"},
    {"requests_total", "", PROMUTIL_GAUGE, NULL, true, "requests_total"},
    /* sanitizing */
    {"foo--bar__baz", "", PROMUTIL_GAUGE, NULL, true, "foo_bar_baz"},
    {"_foo_", "", PROMUTIL_GAUGE, NULL, true, "foo"},
    {"a:b", "", PROMUTIL_GAUGE, NULL, true, "a:b"},
    {"2xx.count", "", PROMUTIL_COUNTER, NULL, true, "_2xx_count_total"},
    {"caf\xc3\xa9.latte", "", PROMUTIL_GAUGE, NULL, true, "caf_latte"},
    {"...", "", PROMUTIL_GAUGE, NULL, true, NULL},
    {"", "", PROMUTIL_GAUGE, NULL, true, NULL},
    /* without suffixes */
    {"genops.cost", "{USD}", PROMUTIL_COUNTER, NULL, false, "genops_cost"},
    {"http.server.duration", "ms", PROMUTIL_HISTOGRAM, NULL, false, "http_server_duration"},
    {"cpu.utilization", "1", PROMUTIL_GAUGE, NULL, false, "cpu_utilization"},
    {"a..b", "", PROMUTIL_GAUGE, NULL, false, "a_b"},
    {"a__b", "", PROMUTIL_GAUGE, NULL, false, "a__b"},
    {"2xx", "", PROMUTIL_GAUGE, NULL, false, "_2xx"},
    {"2xx", "", PROMUTIL_GAUGE, "ns", false, "ns_2xx"},
    {"genops.cost", "{USD}", PROMUTIL_COUNTER, "acme", false, "acme_genops_cost"},
    {"___", "", PROMUTIL_GAUGE, NULL, false, "___"},
};

static void test_metric_names(void **state)
{
    (void)state;
    char out[PROMUTIL_NAME_MAX];
    for (size_t i = 0; i < sizeof k_names / sizeof k_names[0]; i++) {
        const name_case *c = &k_names[i];
        gb_status st = promutil_build_name(gb_str_c(c->name), gb_str_c(c->unit), c->kind, c->ns,
                                           c->suffixes, out, sizeof out);
        if (c->want) {
            if (st != GB_OK || strcmp(out, c->want) != 0)
                fail_msg("case %zu: %s [%s] -> '%s' (st %d), want %s", i, c->name, c->unit, out,
                         (int)st, c->want);
        } else {
            if (st == GB_OK) fail_msg("case %zu: %s -> '%s', want invalid", i, c->name, out);
            assert_string_equal(out, "");
        }
    }
}

static void test_metric_name_from_pdata(void **state)
{
    (void)state;
    char out[PROMUTIL_NAME_MAX];
    pd_metric m = {.name = GB_STR_LIT("genops.cost"),
                   .unit = GB_STR_LIT("{USD}"),
                   .type = PD_METRIC_SUM,
                   .temporality = PD_TEMPORALITY_DELTA,
                   .is_monotonic = true};
    assert_int_equal(promutil_kind_of(&m), PROMUTIL_COUNTER);
    assert_int_equal(promutil_metric_name(&m, NULL, true, out, sizeof out), GB_OK);
    assert_string_equal(out, "genops_cost_total");
    m.is_monotonic = false;
    assert_int_equal(promutil_kind_of(&m), PROMUTIL_NONMONOTONIC);
    assert_int_equal(promutil_metric_name(&m, "", true, out, sizeof out), GB_OK);
    assert_string_equal(out, "genops_cost");
    m.type = PD_METRIC_GAUGE;
    m.unit = GB_STR_LIT("1");
    assert_int_equal(promutil_metric_name(&m, NULL, true, out, sizeof out), GB_OK);
    assert_string_equal(out, "genops_cost_ratio");
    m.type = PD_METRIC_SUMMARY;
    assert_int_equal(promutil_kind_of(&m), PROMUTIL_SUMMARY);
    m.type = PD_METRIC_EXP_HISTOGRAM;
    assert_int_equal(promutil_kind_of(&m), PROMUTIL_EXP_HISTOGRAM);
    /* truncation never overflows */
    char small[8];
    m.type = PD_METRIC_GAUGE;
    m.unit = GB_STR_LIT("By");
    m.name = GB_STR_LIT("a.very.long.metric.name");
    assert_int_equal(promutil_metric_name(&m, NULL, true, small, sizeof small), GB_OK);
    assert_string_equal(small, "a_very_");
}

static void test_unit_suffix(void **state)
{
    (void)state;
    char out[64];
    promutil_unit_suffix(GB_STR_LIT("ms"), out, sizeof out);
    assert_string_equal(out, "milliseconds");
    promutil_unit_suffix(GB_STR_LIT("By/s"), out, sizeof out);
    assert_string_equal(out, "bytes_per_second");
    promutil_unit_suffix(GB_STR_LIT("{USD}"), out, sizeof out);
    assert_string_equal(out, "");
    promutil_unit_suffix(GB_STR_LIT("1"), out, sizeof out);
    assert_string_equal(out, "");
    promutil_unit_suffix(GB_STR_LIT("{req}/min"), out, sizeof out);
    assert_string_equal(out, "per_min");
}

typedef struct label_case {
    const char *key;
    const char *want; /* NULL: invalid */
} label_case;

static const label_case k_labels[] = {
    {"genops.team", "genops_team"},
    {"1abc", "key_1abc"},
    {"_x", "key_x"},
    {"__x", "__x"},
    {"__name__", "__name__"},
    {"http.method", "http_method"},
    {"a:b", "a_b"},
    {"a-b c", "a_b_c"},
    {"a..b", "a__b"},
    {".x", "key_x"},
    {"caf\xc3\xa9", "caf_"},
    {"\xc3\xa9t\xc3\xa9", "key_t_"},
    {"service.instance.id", "service_instance_id"},
    {"", NULL},
    {"_", "key_"},
    {"..", NULL},
};

static void test_label_names(void **state)
{
    (void)state;
    char out[PROMUTIL_NAME_MAX];
    for (size_t i = 0; i < sizeof k_labels / sizeof k_labels[0]; i++) {
        const label_case *c = &k_labels[i];
        gb_status st = promutil_label_name(gb_str_c(c->key), out, sizeof out);
        if (c->want) {
            if (st != GB_OK || strcmp(out, c->want) != 0)
                fail_msg("label %zu: '%s' -> '%s' (st %d), want '%s'", i, c->key, out, (int)st,
                         c->want);
        } else if (st == GB_OK) {
            fail_msg("label %zu: '%s' -> '%s', want invalid", i, c->key, out);
        }
    }
}

static const char *value_str(pd_any v, gb_sbuf *sb)
{
    gb_sbuf_reset(sb);
    assert_int_equal(promutil_label_value(&v, sb), GB_OK);
    gb_sbuf_append(sb, "", 0);
    return sb->data;
}

static void test_label_values(void **state)
{
    (void)state;
    gb_sbuf sb;
    gb_sbuf_init(&sb, 0);
    assert_string_equal(value_str(pd_any_str(GB_STR_LIT("platform")), &sb), "platform");
    assert_string_equal(value_str(pd_any_int(-42), &sb), "-42");
    assert_string_equal(value_str(pd_any_int(INT64_MAX), &sb), "9223372036854775807");
    assert_string_equal(value_str(pd_any_bool(true), &sb), "true");
    assert_string_equal(value_str(pd_any_bool(false), &sb), "false");
    assert_string_equal(value_str(pd_any_double(1.5), &sb), "1.5");
    assert_string_equal(value_str(pd_any_double(3), &sb), "3");
    assert_string_equal(value_str(pd_any_double(0.1), &sb), "0.1");
    assert_string_equal(value_str(pd_any_double(1e20), &sb), "100000000000000000000");
    assert_string_equal(value_str(pd_any_double(1e21), &sb), "1e+21");
    assert_string_equal(value_str(pd_any_double(1e-7), &sb), "1e-7");
    assert_string_equal(value_str(pd_any_double(0.000001), &sb), "0.000001");
    assert_string_equal(value_str(pd_any_double(123456789.25), &sb), "123456789.25");
    assert_string_equal(value_str(pd_any_double(0.0), &sb), "0");
    pd_any e = {.type = PD_ANY_EMPTY};
    assert_string_equal(value_str(e, &sb), "");
    pd_any bytes = {.type = PD_ANY_BYTES, .u.str = GB_STR_LIT("hello")};
    assert_string_equal(value_str(bytes, &sb), "aGVsbG8=");
    pd_any arr_v[3] = {pd_any_str(GB_STR_LIT("a<b")), pd_any_int(2), pd_any_double(2.5)};
    pd_any arr = {.type = PD_ANY_ARRAY, .u.arr = {arr_v, 3}};
    assert_string_equal(value_str(arr, &sb), "[\"a\\u003cb\",2,2.5]");
    pd_kv kvs[3] = {{GB_STR_LIT("z"), pd_any_bool(true)},
                    {GB_STR_LIT("a"), pd_any_str(GB_STR_LIT("q\"x"))},
                    {GB_STR_LIT("m"), arr}};
    pd_any map = {.type = PD_ANY_KVLIST, .u.kvl = {kvs, 3}};
    assert_string_equal(value_str(map, &sb),
                        "{\"a\":\"q\\\"x\",\"m\":[\"a\\u003cb\",2,2.5],\"z\":true}");
    /* NaN / Inf: pcommon AsString's texts; inside a map json.Marshal fails -> "" */
    assert_string_equal(value_str(pd_any_double(NAN), &sb), "json: unsupported value: NaN");
    assert_string_equal(value_str(pd_any_double(-INFINITY), &sb), "json: unsupported value: -Inf");
    pd_kv nan_kv[1] = {{GB_STR_LIT("x"), pd_any_double(NAN)}};
    pd_any nan_map = {.type = PD_ANY_KVLIST, .u.kvl = {nan_kv, 1}};
    gb_sbuf_reset(&sb);
    gb_sbuf_puts(&sb, "keep:");
    assert_int_equal(promutil_label_value(&nan_map, &sb), GB_OK);
    assert_string_equal(sb.data, "keep:");
    pd_any emptymap = {.type = PD_ANY_KVLIST};
    assert_string_equal(value_str(emptymap, &sb), "{}");
    gb_sbuf_free(&sb);
}

static void test_format_float(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } k[] = {
        {0, "0"},
        {1, "1"},
        {-1, "-1"},
        {0.5, "0.5"},
        {0.1, "0.1"},
        {12.375, "12.375"},
        {100000, "100000"},
        {1e6, "1e+06"},
        {1234567, "1.234567e+06"},
        {0.0001, "0.0001"},
        {0.00001, "1e-05"},
        {2.5e-10, "2.5e-10"},
        {123456.5, "123456.5"},
        {1e21, "1e+21"},
        {0.005, "0.005"},
        {-3.25, "-3.25"},
    };
    char out[40];
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        promutil_format_float(k[i].v, out, sizeof out);
        if (strcmp(out, k[i].want) != 0) fail_msg("%.17g -> %s, want %s", k[i].v, out, k[i].want);
    }
    promutil_format_float(INFINITY, out, sizeof out);
    assert_string_equal(out, "+Inf");
    promutil_format_float(-INFINITY, out, sizeof out);
    assert_string_equal(out, "-Inf");
    promutil_format_float(NAN, out, sizeof out);
    assert_string_equal(out, "NaN");
}

static void test_job_instance(void **state)
{
    (void)state;
    gb_sbuf job, inst;
    gb_sbuf_init(&job, 0);
    gb_sbuf_init(&inst, 0);
    pd_kv kv[3] = {{GB_STR_LIT("service.name"), pd_any_str(GB_STR_LIT("checkout"))},
                   {GB_STR_LIT("service.namespace"), pd_any_str(GB_STR_LIT("shop"))},
                   {GB_STR_LIT("service.instance.id"), pd_any_str(GB_STR_LIT("i-1"))}};
    pd_attrs a = {kv, 3, 3};
    promutil_job_instance(&a, &job, &inst);
    assert_string_equal(job.data, "shop/checkout");
    assert_string_equal(inst.data, "i-1");
    a.n = 1;
    promutil_job_instance(&a, &job, &inst);
    assert_string_equal(job.data, "checkout");
    assert_string_equal(inst.data, "");
    /* namespace without name: no job */
    a.v = &kv[1];
    a.n = 2;
    promutil_job_instance(&a, &job, &inst);
    assert_string_equal(job.data, "");
    assert_string_equal(inst.data, "i-1");
    promutil_job_instance(NULL, &job, &inst);
    assert_int_equal(job.len, 0);
    assert_int_equal(inst.len, 0);
    gb_sbuf_free(&job);
    gb_sbuf_free(&inst);
}

static void test_label_set_collisions(void **state)
{
    (void)state;
    promutil_labels ls;
    promutil_labels_init(&ls);
    /* "a.b" and "a_b" collide; joined in sorted-original-key order ("a.b" < "a_b") */
    pd_kv kv[4] = {{GB_STR_LIT("a_b"), pd_any_str(GB_STR_LIT("second"))},
                   {GB_STR_LIT("genops.team"), pd_any_str(GB_STR_LIT("platform"))},
                   {GB_STR_LIT("a.b"), pd_any_str(GB_STR_LIT("first"))},
                   {GB_STR_LIT("empty"), pd_any_str(GB_STR_LIT(""))}};
    pd_attrs a = {kv, 4, 4};
    for (int round = 0; round < 3; round++) { /* reuse across resets */
        promutil_labels_reset(&ls);
        assert_int_equal(promutil_labels_put_attrs(&ls, &a, NULL, PROMUTIL_JOIN), GB_OK);
        assert_int_equal(
            promutil_labels_put(&ls, GB_STR_LIT("job"), GB_STR_LIT("j1"), PROMUTIL_REPLACE), GB_OK);
        assert_int_equal(
            promutil_labels_put(&ls, GB_STR_LIT("job"), GB_STR_LIT("j2"), PROMUTIL_REPLACE), GB_OK);
        assert_int_equal(
            promutil_labels_put(&ls, GB_STR_LIT("genops_team"), GB_STR_LIT("x"), PROMUTIL_KEEP),
            GB_OK);
        gb_str v;
        assert_true(promutil_labels_get(&ls, GB_STR_LIT("a_b"), &v));
        assert_true(gb_str_eq_c(v, "first;second"));
        assert_false(promutil_labels_get(&ls, GB_STR_LIT("nope"), &v));
        assert_int_equal(promutil_labels_finish(&ls), GB_OK);
        assert_int_equal(ls.n, 3); /* "empty" dropped */
        assert_string_equal(ls.v[0].name, "a_b");
        assert_string_equal(ls.v[0].value, "first;second");
        assert_string_equal(ls.v[1].name, "genops_team");
        assert_string_equal(ls.v[1].value, "platform");
        assert_string_equal(ls.v[2].name, "job");
        assert_string_equal(ls.v[2].value, "j2");
    }
    promutil_labels_free(&ls);
}

static void test_point_labels(void **state)
{
    (void)state;
    promutil_labels ls;
    promutil_labels_init(&ls);
    pd_kv rkv[3] = {{GB_STR_LIT("service.name"), pd_any_str(GB_STR_LIT("chat"))},
                    {GB_STR_LIT("service.instance.id"), pd_any_str(GB_STR_LIT("pod-7"))},
                    {GB_STR_LIT("genops.team"), pd_any_str(GB_STR_LIT("from-resource"))}};
    pd_resource res = {.attrs = {rkv, 3, 3}};
    pd_kv skv[1] = {{GB_STR_LIT("lib.kind"), pd_any_str(GB_STR_LIT("sdk"))}};
    pd_scope scope = {.name = GB_STR_LIT("genops.sdk"), .attrs = {skv, 1, 1}};
    pd_kv pkv[2] = {{GB_STR_LIT("genops.team"), pd_any_str(GB_STR_LIT("platform"))},
                    {GB_STR_LIT("genops.model"), pd_any_str(GB_STR_LIT("gpt-4o"))}};
    pd_attrs pa = {pkv, 2, 2};
    promutil_label cl[2] = {{"env", "prod"}, {"job", "ignored"}};
    promutil_label_opts o = {.resource_to_telemetry = true,
                             .scope_labels = true,
                             .job_instance = true,
                             .const_labels = cl,
                             .n_const_labels = 2};
    assert_int_equal(promutil_point_labels(&ls, &res, &scope, &pa, &o), GB_OK);
    assert_int_equal(
        promutil_labels_put(&ls, GB_STR_LIT("le"), GB_STR_LIT("+Inf"), PROMUTIL_REPLACE), GB_OK);
    assert_int_equal(promutil_labels_finish(&ls), GB_OK);
    static const char *want[][2] = {
        {"env", "prod"},
        {"genops_model", "gpt-4o"},
        {"genops_team", "from-resource"}, /* the resource wins, as otelcol's upsert */
        {"instance", "pod-7"},
        {"job", "chat"},
        {"le", "+Inf"},
        {"otel_scope_lib_kind", "sdk"},
        {"otel_scope_name", "genops.sdk"}, /* version empty: dropped */
        {"service_instance_id", "pod-7"},
        {"service_name", "chat"},
    };
    assert_int_equal(ls.n, sizeof want / sizeof want[0]);
    for (uint32_t i = 0; i < ls.n; i++) {
        assert_string_equal(ls.v[i].name, want[i][0]);
        assert_string_equal(ls.v[i].value, want[i][1]);
    }
    /* defaults: only point attributes */
    promutil_label_opts none = {0};
    assert_int_equal(promutil_point_labels(&ls, &res, &scope, &pa, &none), GB_OK);
    assert_int_equal(promutil_labels_finish(&ls), GB_OK);
    assert_int_equal(ls.n, 2);
    assert_string_equal(ls.v[0].name, "genops_model");
    promutil_labels_free(&ls);
}

static void test_large_label_set(void **state)
{
    (void)state;
    /* 40000 attributes, every "k.<i>" colliding with "k_<i>": sorted output, joined values, and
     * no quadratic cost (hash index, n log n sorts) */
    enum { N = 20000 };
    static pd_kv kv[2 * N];
    static char keys[2 * N][16];
    for (int i = 0; i < N; i++) {
        snprintf(keys[2 * i], sizeof keys[0], "k_%05d", i);
        snprintf(keys[2 * i + 1], sizeof keys[0], "k.%05d", N - 1 - i);
        kv[2 * i] = (pd_kv){gb_str_c(keys[2 * i]), pd_any_int(2)};
        kv[2 * i + 1] = (pd_kv){gb_str_c(keys[2 * i + 1]), pd_any_int(1)};
    }
    pd_attrs a = {kv, 2 * N, 2 * N};
    promutil_labels ls;
    promutil_labels_init(&ls);
    for (int round = 0; round < 2; round++) {
        promutil_labels_reset(&ls);
        assert_int_equal(promutil_labels_put_attrs(&ls, &a, NULL, PROMUTIL_JOIN), GB_OK);
        assert_int_equal(
            promutil_labels_put(&ls, GB_STR_LIT("k_00007"), GB_STR_LIT("x"), PROMUTIL_KEEP), GB_OK);
        gb_str v;
        assert_true(promutil_labels_get(&ls, GB_STR_LIT("k_00007"), &v));
        assert_true(gb_str_eq_c(v, "1;2")); /* "k.00007" sorts before "k_00007" */
        assert_int_equal(promutil_labels_finish(&ls), GB_OK);
        assert_int_equal(ls.n, N);
        for (uint32_t i = 1; i < ls.n; i++)
            assert_true(strcmp(ls.v[i - 1].name, ls.v[i].name) < 0);
        assert_string_equal(ls.v[N - 1].name, "k_19999");
        assert_string_equal(ls.v[N - 1].value, "1;2");
        /* still consistent for lookups after finish */
        assert_true(promutil_labels_get(&ls, GB_STR_LIT("k_12345"), &v));
        assert_true(gb_str_eq_c(v, "1;2"));
    }
    promutil_labels_free(&ls);
}

static void test_histogram_cumulative(void **state)
{
    (void)state;
    uint64_t counts[4] = {1, 2, 0, 5};
    double bounds[3] = {0.1, 1, 10};
    pd_histogram_dp dp = {.count = 8,
                          .bucket_counts = counts,
                          .n_bucket_counts = 4,
                          .explicit_bounds = bounds,
                          .n_explicit_bounds = 3};
    assert_int_equal(promutil_hist_cumulative(&dp, 0), 1);
    assert_int_equal(promutil_hist_cumulative(&dp, 1), 3);
    assert_int_equal(promutil_hist_cumulative(&dp, 2), 3);
    dp.n_bucket_counts = 1; /* short bucket list: missing ones count 0 */
    assert_int_equal(promutil_hist_cumulative(&dp, 2), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metric_names),         cmocka_unit_test(test_metric_name_from_pdata),
        cmocka_unit_test(test_unit_suffix),          cmocka_unit_test(test_label_names),
        cmocka_unit_test(test_label_values),         cmocka_unit_test(test_format_float),
        cmocka_unit_test(test_job_instance),         cmocka_unit_test(test_label_set_collisions),
        cmocka_unit_test(test_point_labels),         cmocka_unit_test(test_large_label_set),
        cmocka_unit_test(test_histogram_cumulative),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
