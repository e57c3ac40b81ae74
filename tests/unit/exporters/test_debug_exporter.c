#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/telemetry.h"
#include "base/timeutil.h"
#include "exporter/debug/debug.h"

#include "batches.h"

/* ---- stderr capture -----------------------------------------------------------------------------
 */

typedef struct capture {
    int saved;
    int fd;
    char path[64];
} capture;

static void capture_begin(capture *c)
{
    snprintf(c->path, sizeof c->path, "/tmp/genops-debug-XXXXXX");
    c->fd = mkstemp(c->path);
    assert_true(c->fd >= 0);
    fflush(stderr);
    c->saved = dup(STDERR_FILENO);
    assert_true(c->saved >= 0);
    assert_true(dup2(c->fd, STDERR_FILENO) >= 0);
}

/* Returns the captured text (free it). */
static char *capture_end(capture *c)
{
    fflush(stderr);
    dup2(c->saved, STDERR_FILENO);
    close(c->saved);
    off_t n = lseek(c->fd, 0, SEEK_END);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(pread(c->fd, s, (size_t)n, 0), n);
    s[n] = '\0';
    close(c->fd);
    unlink(c->path);
    return s;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        if (*s == '\n') n++;
    return n;
}

static int count_substr(const char *s, const char *sub)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)); p += strlen(sub))
        n++;
    return n;
}

/* ---- exporter harness -------------------------------------------------------------------------
 */

typedef struct dbg {
    debug_cfg cfg;
    pl_component c;
} dbg;

static void dbg_start(dbg *d, const char *id, int verbosity)
{
    memset(d, 0, sizeof *d);
    debug_cfg_default(&d->cfg);
    d->cfg.verbosity = verbosity;
    d->c.desc = &exporter_debug_descriptor;
    snprintf(d->c.id, sizeof d->c.id, "%s", id);
    snprintf(d->c.full_id, sizeof d->c.full_id, "exporter/%s", id);
    const char *slash = strchr(d->c.id, '/');
    d->c.name = slash ? slash + 1 : "";
    d->c.cfg = &d->cfg;
    assert_int_equal(d->c.desc->create(&d->c), GB_OK);
}

static void dbg_run(dbg *d)
{
    assert_int_equal(d->c.desc->start(&d->c, NULL), GB_OK);
}

static void dbg_stop(dbg *d)
{
    assert_int_equal(d->c.desc->shutdown(&d->c, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    d->c.desc->destroy(&d->c);
}

static char *run_capture(const char *id, int verbosity, pd_batch *b)
{
    dbg d;
    capture cap;
    dbg_start(&d, id, verbosity);
    dbg_run(&d);
    capture_begin(&cap);
    gb_status st = d.c.desc->consume(&d.c, b);
    char *out = capture_end(&cap);
    assert_int_equal(st, GB_OK);
    dbg_stop(&d);
    return out;
}

/* ---- tests ------------------------------------------------------------------------------------
 */

static void test_basic_summary_lines(void **state)
{
    (void)state;
    char *out = run_capture("debug", DEBUG_BASIC, tb_traces(2));
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "\tinfo\tTraces\t{"));
    assert_non_null(strstr(out, "\"otelcol.component.id\": \"debug\""));
    assert_non_null(strstr(out, "\"otelcol.signal\": \"traces\""));
    assert_non_null(strstr(out, "\"resource spans\": 1, \"spans\": 2}\n"));
    free(out);

    out = run_capture("debug/m", DEBUG_BASIC, tb_metrics(3));
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "\tMetrics\t{\"otelcol.component.id\": \"debug/m\""));
    assert_non_null(strstr(out, "\"resource metrics\": 1, \"metrics\": 1, \"data points\": 3}"));
    free(out);

    out = run_capture("debug/l", DEBUG_BASIC, tb_logs(4));
    assert_int_equal(count_lines(out), 1);
    assert_non_null(strstr(out, "\tLogs\t{"));
    assert_non_null(strstr(out, "\"resource logs\": 1, \"log records\": 4}"));
    free(out);

    char labels[64];
    snprintf(labels, sizeof labels, "exporter=\"debug/l\"");
    gb_series *s = gb_tm_find("otelcol_exporter_sent_log_records", labels);
    assert_non_null(s);
    assert_int_equal(gb_series_value(s), 4);
}

/* Spans priced by the governance processor: the basic line adds their cost (nano-USD sum) and
 * the priced / unpriced counts. */
static void test_basic_line_cost_summary(void **state)
{
    (void)state;
    pd_batch *b = tb_traces(3);
    pd_scope_spans *ss = &b->u.traces.v[0].scope_spans[0];
    pd_attrs_put(&b->arena, &ss->spans[0].attrs, GB_STR_LIT("genops.cost.total"),
                 pd_any_double(0.1));
    pd_attrs_put(&b->arena, &ss->spans[1].attrs, GB_STR_LIT("genops.cost.total"),
                 pd_any_double(0.2));
    pd_attrs_put(&b->arena, &ss->spans[2].attrs, GB_STR_LIT("genops.cost.total"),
                 pd_any_double(0.0));
    pd_attrs_put(&b->arena, &ss->spans[2].attrs, GB_STR_LIT("genops.cost.status"),
                 pd_any_str(GB_STR_LIT("unpriced")));
    char *out = run_capture("debug", DEBUG_BASIC, b);
    /* 0.1 + 0.2 summed as integers is exactly 0.3 (a double sum would print 0.30000000000000004) */
    assert_non_null(strstr(out, "\"spans\": 3, \"genops.cost.total\": 0.3, \"priced\": 2, "
                                "\"unpriced\": 1}\n"));
    free(out);
}

static void test_normal_one_line_per_item(void **state)
{
    (void)state;
    char *out = run_capture("debug/n", DEBUG_NORMAL, tb_traces(2));
    /* summary + resource + scope + 2 spans */
    assert_int_equal(count_lines(out), 5);
    assert_non_null(strstr(out, "\nResourceTraces #0 service.name=checkout\n"));
    assert_non_null(strstr(out, "\nScopeTraces #0 genops.test@1.0.0\n"));
    assert_non_null(strstr(out, "\nGET /cart 101112131415161718191a1b1c1d1e1f a0a1a2a3a4a5a6a7 "
                                "http.method=GET count=1\n"));
    assert_non_null(strstr(out, "\ndb.query 101112131415161718191a1b1c1d1e1f a1a2a3a4a5a6a7a8 "
                                "http.method=GET count=1\n"));
    free(out);

    out = run_capture("debug/n2", DEBUG_NORMAL, tb_metrics(2));
    assert_int_equal(count_lines(out), 5);
    assert_non_null(strstr(out, "\nrequests{route=/cart} 40\n"));
    assert_non_null(strstr(out, "\nrequests{route=/cart} 41\n"));
    free(out);

    out = run_capture("debug/n3", DEBUG_NORMAL, tb_logs(1));
    assert_int_equal(count_lines(out), 4);
    assert_non_null(strstr(out, "\nResourceLog #0 service.name=checkout\n"));
    assert_non_null(strstr(out, "\nuser logged in user=alice\n"));
    free(out);
}

static void test_detailed_dump(void **state)
{
    (void)state;
    char *out = run_capture("debug/d", DEBUG_DETAILED, tb_traces(2));
    const char *expect[] = {
        "\nResourceSpans #0\nResource SchemaURL: \nResource attributes:\n"
        "     -> service.name: Str(checkout)\n",
        "\nScopeSpans #0\nScopeSpans SchemaURL: \nInstrumentationScope genops.test 1.0.0\n",
        "\nSpan #0\n    Trace ID       : 101112131415161718191a1b1c1d1e1f\n"
        "    Parent ID      : \n    ID             : a0a1a2a3a4a5a6a7\n"
        "    Name           : GET /cart\n    Kind           : Server\n"
        "    Start time     : 2023-11-14 22:13:20 +0000 UTC\n"
        "    End time       : 2023-11-14 22:13:20.5 +0000 UTC\n"
        "    Status code    : Ok\n    Status message : \nAttributes:\n"
        "     -> http.method: Str(GET)\n     -> count: Int(1)\n",
        "\nSpan #1\n",
        "    Start time     : 2023-11-14 22:13:20.000000001 +0000 UTC\n",
    };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        if (!strstr(out, expect[i])) fail_msg("missing:\n%s\nin:\n%s", expect[i], out);
    free(out);

    out = run_capture("debug/d2", DEBUG_DETAILED, tb_metrics(1));
    const char *mexp[] = {
        "\nResourceMetrics #0\n",
        "\nMetric #0\nDescriptor:\n     -> Name: requests\n     -> Description: Requests served\n"
        "     -> Unit: 1\n     -> DataType: Sum\n     -> IsMonotonic: true\n"
        "     -> AggregationTemporality: Cumulative\n"
        "NumberDataPoints #0\nData point attributes:\n     -> route: Str(/cart)\n"
        "StartTimestamp: 2023-11-14 22:13:20 +0000 UTC\n"
        "Timestamp: 2023-11-14 22:13:30 +0000 UTC\nValue: 40\n",
    };
    for (size_t i = 0; i < sizeof mexp / sizeof mexp[0]; i++)
        if (!strstr(out, mexp[i])) fail_msg("missing:\n%s\nin:\n%s", mexp[i], out);
    free(out);

    out = run_capture("debug/d3", DEBUG_DETAILED, tb_logs(1));
    const char *lexp[] = {
        "\nResourceLog #0\n",
        "\nScopeLogs #0\n",
        "\nLogRecord #0\nObservedTimestamp: 1970-01-01 00:00:00 +0000 UTC\n"
        "Timestamp: 2023-11-14 22:13:20 +0000 UTC\nSeverityText: INFO\n"
        "SeverityNumber: Info(9)\nBody: Str(user logged in)\nAttributes:\n"
        "     -> user: Str(alice)\nTrace ID: \nSpan ID: \nFlags: 0\n",
    };
    for (size_t i = 0; i < sizeof lexp / sizeof lexp[0]; i++)
        if (!strstr(out, lexp[i])) fail_msg("missing:\n%s\nin:\n%s", lexp[i], out);
    free(out);
}

static void test_value_formats(void **state)
{
    (void)state;
    pd_batch *b = tb_logs(1);
    pd_log *l = &b->u.logs.v[0].scope_logs[0].logs[0];
    pd_kv *kv = gb_arena_calloc(&b->arena, 6, sizeof *kv);
    pd_any *arr = gb_arena_calloc(&b->arena, 2, sizeof *arr);
    pd_kv *inner = gb_arena_calloc(&b->arena, 1, sizeof *inner);
    arr[0] = pd_any_str(gb_str_c("a\"b"));
    arr[1] = pd_any_int(7);
    inner[0].key = gb_str_c("k");
    inner[0].value = pd_any_bool(true);
    kv[0] = (pd_kv){gb_str_c("d"), pd_any_double(1.5)};
    kv[1] = (pd_kv){gb_str_c("b"), pd_any_bool(false)};
    kv[2].key = gb_str_c("bytes");
    kv[2].value.type = PD_ANY_BYTES;
    kv[2].value.u.str = gb_str_c("hi!");
    kv[3].key = gb_str_c("arr");
    kv[3].value.type = PD_ANY_ARRAY;
    kv[3].value.u.arr.v = arr;
    kv[3].value.u.arr.n = 2;
    kv[4].key = gb_str_c("map");
    kv[4].value.type = PD_ANY_KVLIST;
    kv[4].value.u.kvl.v = inner;
    kv[4].value.u.kvl.n = 1;
    kv[5].key = gb_str_c("empty");
    l->attrs.v = kv;
    l->attrs.n = 6;
    l->severity_number = 17;
    gb_sbuf o;
    gb_sbuf_init(&o, 0);
    assert_int_equal(debug_format(b, DEBUG_DETAILED, "debug", &o), GB_OK);
    const char *expect[] = {
        "     -> d: Double(1.5)\n",         "     -> b: Bool(false)\n",
        "     -> bytes: Bytes(aGkh)\n",     "     -> arr: Slice([\"a\\\"b\",7])\n",
        "     -> map: Map({\"k\":true})\n", "     -> empty: Empty()\n",
        "SeverityNumber: Error(17)\n"};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        if (!strstr(o.data, expect[i])) fail_msg("missing:\n%s\nin:\n%s", expect[i], o.data);
    gb_sbuf_free(&o);
    pd_batch_unref(b);
}

static void test_sampling(void **state)
{
    (void)state;
    dbg d;
    dbg_start(&d, "debug/sampled", DEBUG_BASIC);
    d.cfg.sampling_initial = 2;
    d.cfg.sampling_thereafter = 3;
    dbg_run(&d);
    /* start right after a second boundary so the 8 batches fall in one sampling window */
    int64_t now = gb_mono_ns();
    int64_t next = (now / GB_NS_PER_S + 1) * GB_NS_PER_S + 5 * GB_NS_PER_MS;
    usleep((useconds_t)((next - now) / 1000));
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    debug_set_fd(&d.c, fds[1]);
    for (int i = 0; i < 8; i++)
        assert_int_equal(d.c.desc->consume(&d.c, tb_traces(1)), GB_OK);
    close(fds[1]);
    char buf[8192];
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(fds[0]);
    /* written: #1, #2 (initial), then every 3rd: #5, #8 */
    assert_int_equal(count_lines(buf), 4);
    dbg_stop(&d);
}

typedef struct writer_arg {
    dbg *d;
} writer_arg;

static void *writer(void *arg)
{
    writer_arg *a = arg;
    for (int i = 0; i < 20; i++)
        a->d->c.desc->consume(&a->d->c, tb_traces(3));
    return NULL;
}

static void test_concurrent_batches_do_not_interleave(void **state)
{
    (void)state;
    dbg d;
    dbg_start(&d, "debug/conc", DEBUG_NORMAL);
    d.cfg.sampling_initial = 1000000;
    dbg_run(&d);
    capture cap;
    capture_begin(&cap);
    pthread_t t[4];
    writer_arg a = {&d};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, writer, &a);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    char *out = capture_end(&cap);
    /* 80 batches x (summary + resource + scope + 3 spans), each block contiguous */
    assert_int_equal(count_lines(out), 80 * 6);
    assert_int_equal(count_substr(out, "\tTraces\t{"), 80);
    assert_int_equal(count_substr(out, "}\nResourceTraces #0 service.name=checkout\nScopeTraces #0 "
                                       "genops.test@1.0.0\nGET /cart "),
                     80);
    free(out);
    dbg_stop(&d);
}

static void test_loglevel_mapping(void **state)
{
    (void)state;
    cfg_diags diags;
    debug_cfg c;
    const char *levels[] = {"debug", "info", "warn", "error"};
    int want[] = {DEBUG_DETAILED, DEBUG_NORMAL, DEBUG_BASIC, DEBUG_BASIC};
    for (int i = 0; i < 4; i++) {
        cfg_diags_init(&diags);
        debug_cfg_default(&c);
        c.loglevel = (char *)levels[i];
        debug_table.validate(&c, NULL, "exporters.logging", &diags);
        assert_int_equal(diags.errors, 0);
        assert_int_equal(c.verbosity, want[i]);
        cfg_diags_free(&diags);
    }
    cfg_diags_init(&diags);
    debug_cfg_default(&c);
    c.loglevel = "verbose";
    debug_table.validate(&c, NULL, "exporters.logging", &diags);
    assert_int_equal(diags.errors, 1);
    cfg_diags_free(&diags);

    cfg_diags_init(&diags);
    debug_cfg_default(&c);
    c.loglevel = "debug";
    c.verbosity_set = true;
    debug_table.validate(&c, NULL, "exporters.logging", &diags);
    assert_int_equal(diags.errors, 1);
    cfg_diags_free(&diags);

    assert_string_equal(exporter_debug_descriptor.aliases[0], "logging");
}

int main(void)
{
    gb_log_set_level(GB_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_summary_lines),
        cmocka_unit_test(test_basic_line_cost_summary),
        cmocka_unit_test(test_normal_one_line_per_item),
        cmocka_unit_test(test_detailed_dump),
        cmocka_unit_test(test_value_formats),
        cmocka_unit_test(test_sampling),
        cmocka_unit_test(test_concurrent_batches_do_not_interleave),
        cmocka_unit_test(test_loglevel_mapping),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    gb_tm_reset();
    return rc;
}
