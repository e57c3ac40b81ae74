#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/timeutil.h"
#include "pipeline/graph.h"

/* ---- fake components --------------------------------------------------------------------- */

typedef struct fake_cfg {
    char *tag;
    int64_t fail_start;
} fake_cfg;

static const cfg_field fake_fields[] = {
    {.key = "tag",
     .type = CFG_T_STRING,
     .offset = offsetof(fake_cfg, tag),
     .def = "none",
     .doc = "a tag"},
    {.key = "fail_start",
     .type = CFG_T_INT,
     .offset = offsetof(fake_cfg, fail_start),
     .def = "0",
     .doc = "fail start when 1"},
};
static CFG_TABLE(fake_table, fake_fields, NULL);

static char g_events[2048];
static int g_exported[8];
static int g_exported_read_only;

static void event(const char *what, pl_component *c)
{
    char line[256];
    snprintf(line, sizeof line, "%s %s;", what, c->full_id);
    strncat(g_events, line, sizeof g_events - strlen(g_events) - 1);
}

static gb_status fake_start(pl_component *c, pl_host *h)
{
    (void)h;
    fake_cfg *cfg = c->cfg;
    event("start", c);
    return cfg->fail_start ? GB_ERR_IO : GB_OK;
}

static gb_status fake_shutdown(pl_component *c, int64_t deadline)
{
    (void)deadline;
    event("stop", c);
    return GB_OK;
}

static gb_status pass_consume(pl_component *c, pd_batch *b)
{
    if (c->desc->mutates) {
        assert_false(b->read_only);
        if (b->u.traces.n)
            pd_attrs_put(&b->arena, &b->u.traces.v[0].resource.attrs, GB_STR_LIT("mutated"),
                         pd_any_bool(true));
    }
    return pl_consume(c->next[c->signal], b);
}

static gb_status exp_consume(pl_component *c, pd_batch *b)
{
    fake_cfg *cfg = c->cfg;
    int idx = cfg->tag[0] - '0';
    if (idx >= 0 && idx < 8) g_exported[idx]++;
    if (b->read_only) g_exported_read_only++;
    pd_batch_unref(b);
    return GB_OK;
}

static const pl_descriptor fake_recv = {.kind = PL_RECEIVER,
                                        .type = "fakerecv",
                                        .aliases = (const char *const[]){"fake_recv", NULL},
                                        .stability = {PL_STABLE, PL_STABLE, PL_UNSUPPORTED},
                                        .config = &fake_table,
                                        .config_size = sizeof(fake_cfg),
                                        .start = fake_start,
                                        .shutdown = fake_shutdown};
static const pl_descriptor fake_proc = {.kind = PL_PROCESSOR,
                                        .type = "fakeproc",
                                        .stability = {PL_BETA, PL_BETA, PL_BETA},
                                        .config = &fake_table,
                                        .config_size = sizeof(fake_cfg),
                                        .start = fake_start,
                                        .shutdown = fake_shutdown,
                                        .consume = pass_consume};
static const pl_descriptor fake_mut = {.kind = PL_PROCESSOR,
                                       .type = "fakemut",
                                       .stability = {PL_BETA, PL_BETA, PL_BETA},
                                       .config = &fake_table,
                                       .config_size = sizeof(fake_cfg),
                                       .mutates = true,
                                       .start = fake_start,
                                       .shutdown = fake_shutdown,
                                       .consume = pass_consume};
static const pl_descriptor fake_exp = {.kind = PL_EXPORTER,
                                       .type = "fakeexp",
                                       .stability = {PL_STABLE, PL_STABLE, PL_STABLE},
                                       .config = &fake_table,
                                       .config_size = sizeof(fake_cfg),
                                       .start = fake_start,
                                       .shutdown = fake_shutdown,
                                       .consume = exp_consume};
static gb_status conn_consume(pl_component *c, pd_batch *b)
{
    event("conn", c);
    pd_batch_unref(b);
    return GB_OK;
}
static const pl_descriptor fake_conn = {
    .kind = PL_CONNECTOR,
    .type = "fakeconn",
    .connector =
        {[PD_TRACES] = {[PD_METRICS] = PL_ALPHA}, [PD_METRICS] = {[PD_METRICS] = PL_ALPHA}},
    .config = &fake_table,
    .config_size = sizeof(fake_cfg),
    .start = fake_start,
    .shutdown = fake_shutdown,
    .consume = conn_consume};
static const pl_descriptor *const fake_registry[] = {&fake_recv, &fake_proc, &fake_mut,
                                                     &fake_exp,  &fake_conn, NULL};

/* ---- helpers ------------------------------------------------------------------------------- */

static const char *out_text(const gb_sbuf *b)
{
    return b->data ? b->data : "";
}

typedef struct fixture {
    cfg_doc doc;
    cfg_diags d;
    pl_host host;
    pl_graph *g;
    gb_sbuf out;
} fixture;

static gb_status build(fixture *f, const char *yaml)
{
    cfg_doc_init(&f->doc);
    cfg_diags_init(&f->d);
    gb_sbuf_init(&f->out, 0);
    memset(&f->host, 0, sizeof f->host);
    f->g = NULL;
    gb_status st = cfg_doc_parse(&f->doc, "test.yaml", yaml, strlen(yaml), &f->d);
    if (st == GB_OK) st = pl_graph_build(&f->doc, &f->host, &f->d, &f->g);
    cfg_diags_render(&f->d, &f->out);
    return st;
}

static void done(fixture *f)
{
    pl_graph_free(f->g);
    cfg_diags_free(&f->d);
    cfg_doc_free(&f->doc);
    gb_sbuf_free(&f->out);
}

static int setup(void **state)
{
    (void)state;
    pl_registry_use(fake_registry);
    g_events[0] = '\0';
    memset(g_exported, 0, sizeof g_exported);
    g_exported_read_only = 0;
    return 0;
}

static pd_batch *one_resource_batch(void)
{
    pd_batch *b;
    assert_int_equal(pd_batch_new(PD_TRACES, 0, &b), GB_OK);
    b->u.traces.v = gb_arena_calloc(&b->arena, 1, sizeof(pd_resource_spans));
    b->u.traces.n = 1;
    return b;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_shared_receiver_and_lifecycle_order(void **state)
{
    (void)state;
    fixture f;
    gb_status st = build(&f, "receivers:\n"
                             "  fakerecv:\n"
                             "processors:\n"
                             "  fakeproc:\n"
                             "exporters:\n"
                             "  fakeexp/0: {tag: '0'}\n"
                             "  fakeexp/1: {tag: '1'}\n"
                             "service:\n"
                             "  pipelines:\n"
                             "    traces:\n"
                             "      receivers: [fakerecv]\n"
                             "      processors: [fakeproc]\n"
                             "      exporters: [fakeexp/0]\n"
                             "    traces/b:\n"
                             "      receivers: [fake_recv]\n"
                             "      processors: [fakeproc]\n"
                             "      exporters: [fakeexp/1, fakeexp/0]\n");
    assert_int_equal(st, GB_OK);
    assert_int_equal(f.d.errors, 0);
    /* the alias in a pipeline reference resolves to the same single instance */
    pl_component *r = pl_graph_find(f.g, "receiver/fakerecv");
    assert_non_null(r);
    assert_int_equal(pl_graph_start(f.g), GB_OK);
    assert_string_equal(g_events, "start exporter/fakeexp/0;start exporter/fakeexp/1;"
                                  "start processor/fakeproc;start processor/fakeproc;"
                                  "start receiver/fakerecv;");
    /* one batch into the receiver reaches both pipelines: exporter 0 twice, exporter 1 once */
    assert_int_equal(pl_consume(r->next[PD_TRACES], one_resource_batch()), GB_OK);
    assert_int_equal(g_exported[0], 2);
    assert_int_equal(g_exported[1], 1);
    assert_true(g_exported_read_only >= 2);
    g_events[0] = '\0';
    pl_graph_shutdown(f.g, gb_mono_ns() + GB_NS_PER_S);
    assert_string_equal(g_events, "stop receiver/fakerecv;stop processor/fakeproc;"
                                  "stop processor/fakeproc;stop exporter/fakeexp/0;"
                                  "stop exporter/fakeexp/1;");
    done(&f);
}

static void test_failed_start_stops_started_in_reverse(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(build(&f, "receivers:\n"
                               "  fakerecv: {fail_start: 1}\n"
                               "exporters:\n"
                               "  fakeexp: {tag: '0'}\n"
                               "service:\n"
                               "  pipelines:\n"
                               "    metrics:\n"
                               "      receivers: [fakerecv]\n"
                               "      exporters: [fakeexp]\n"),
                     GB_OK);
    assert_int_not_equal(pl_graph_start(f.g), GB_OK);
    assert_string_equal(g_events,
                        "start exporter/fakeexp;start receiver/fakerecv;stop exporter/fakeexp;");
    done(&f);
}

static void test_errors_are_all_reported_with_positions(void **state)
{
    (void)state;
    fixture f;
    gb_status st = build(&f, "receivers:\n"
                             "  fakerecv:\n"
                             "    tga: x\n"
                             "  jaeger:\n"
                             "exporters:\n"
                             "  fakeexq:\n"
                             "  fakeexp: {tag: '0'}\n"
                             "servce: {}\n"
                             "service:\n"
                             "  pipelines:\n"
                             "    traces:\n"
                             "      receivers: [fakerecv, nothere]\n"
                             "      exporters: [fakeexp]\n"
                             "    logs:\n"
                             "      receivers: [fakerecv]\n"
                             "      exporters: [fakeexp]\n"
                             "    spans:\n"
                             "      receivers: [fakerecv]\n");
    assert_int_equal(st, GB_ERR_INVALID);
    const char *o = f.out.data;
    assert_non_null(o);
    assert_non_null(strstr(o, "test.yaml:3:5: error: "));
    assert_non_null(strstr(o, "did you mean \"tag\""));
    assert_non_null(strstr(o, "test.yaml:4:3: error: receivers: receiver type \"jaeger\" is not "
                              "available in this build"));
    assert_non_null(strstr(o, "test.yaml:6:3: error: exporters: unknown exporter type \"fakeexq\" "
                              "(did you mean \"fakeexp\"?)"));
    assert_non_null(strstr(o, "test.yaml:8:1: error: unknown key \"servce\" (did you mean "
                              "\"service\"?)"));
    assert_non_null(strstr(o, "test.yaml:12:29: error: service::pipelines::traces::receivers: "
                              "references receiver \"nothere\" which is not configured"));
    assert_non_null(strstr(o, "receiver \"fakerecv\" does not support logs"));
    assert_non_null(strstr(o, "test.yaml:17:5: error: service::pipelines: invalid pipeline ID "
                              "\"spans\""));
    done(&f);
}

static void test_pipeline_needs_receiver_and_exporter(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(build(&f, "receivers: {fakerecv: }\n"
                               "exporters: {fakeexp: {tag: '0'}}\n"
                               "service:\n"
                               "  pipelines:\n"
                               "    traces:\n"
                               "      receivers: [fakerecv]\n"
                               "    metrics:\n"
                               "      exporters: [fakeexp]\n"),
                     GB_ERR_INVALID);
    assert_non_null(strstr(f.out.data, "service::pipelines::traces: pipeline must have at least "
                                       "one exporter"));
    assert_non_null(strstr(f.out.data, "service::pipelines::metrics: pipeline must have at least "
                                       "one receiver"));
    done(&f);
}

static void test_telemetry_address_and_readers(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(build(&f, "receivers: {fakerecv: }\n"
                               "exporters: {fakeexp: {tag: '0'}}\n"
                               "service:\n"
                               "  telemetry:\n"
                               "    metrics:\n"
                               "      address: ':9999'\n"
                               "  pipelines:\n"
                               "    traces: {receivers: [fakerecv], exporters: [fakeexp]}\n"),
                     GB_OK);
    assert_int_equal(pl_graph_telemetry(f.g)->metrics_port, 9999);
    assert_string_equal(pl_graph_telemetry(f.g)->metrics_host, "0.0.0.0");
    done(&f);
    assert_int_equal(build(&f, "receivers: {fakerecv: }\n"
                               "exporters: {fakeexp: {tag: '0'}}\n"
                               "service:\n"
                               "  telemetry:\n"
                               "    metrics:\n"
                               "      readers:\n"
                               "        - pull: {exporter: {prometheus: {host: 127.0.0.1, port: "
                               "18888}}}\n"
                               "  pipelines:\n"
                               "    traces: {receivers: [fakerecv], exporters: [fakeexp]}\n"),
                     GB_OK);
    assert_int_equal(pl_graph_telemetry(f.g)->metrics_port, 18888);
    assert_string_equal(pl_graph_telemetry(f.g)->metrics_host, "127.0.0.1");
    done(&f);
}

static void test_mutating_consumers_get_writable_copies(void **state)
{
    (void)state;
    fixture f;
    assert_int_equal(build(&f, "receivers: {fakerecv: }\n"
                               "processors: {fakemut: }\n"
                               "exporters: {fakeexp/0: {tag: '0'}, fakeexp/1: {tag: '1'}}\n"
                               "service:\n"
                               "  pipelines:\n"
                               "    traces/a: {receivers: [fakerecv], processors: [fakemut], "
                               "exporters: [fakeexp/0]}\n"
                               "    traces/b: {receivers: [fakerecv], exporters: [fakeexp/1]}\n"),
                     GB_OK);
    pl_component *r = pl_graph_find(f.g, "receiver/fakerecv");
    pd_batch *b = one_resource_batch();
    pd_batch_ref(b);
    assert_int_equal(pl_consume(r->next[PD_TRACES], b), GB_OK);
    /* the original, seen read-only by pipeline b, was not modified by pipeline a's processor */
    assert_int_equal(b->u.traces.v[0].resource.attrs.n, 0);
    assert_int_equal(g_exported[0], 1);
    assert_int_equal(g_exported[1], 1);
    pd_batch_unref(b);
    done(&f);
}

/* A connector shuts down after the pipelines feeding it and before the processors of the
 * pipelines it feeds (its final flush must find them running), whatever the pipeline order. */
static void test_connector_shutdown_follows_data_flow(void **state)
{
    (void)state;
    fixture f;
    gb_status st = build(&f, "receivers: {fakerecv: }\n"
                             "processors: {fakeproc/m: , fakeproc/t: }\n"
                             "exporters: {fakeexp/0: {tag: '0'}}\n"
                             "connectors: {fakeconn: }\n"
                             "service:\n"
                             "  pipelines:\n"
                             "    metrics: {receivers: [fakeconn], processors: [fakeproc/m], "
                             "exporters: [fakeexp/0]}\n"
                             "    traces: {receivers: [fakerecv], processors: [fakeproc/t], "
                             "exporters: [fakeconn]}\n");
    assert_int_equal(st, GB_OK);
    assert_int_equal(pl_graph_start(f.g), GB_OK);
    pl_component *r = pl_graph_find(f.g, "receiver/fakerecv");
    assert_int_equal(pl_consume(r->next[PD_TRACES], one_resource_batch()), GB_OK);
    assert_non_null(strstr(g_events, "conn connector/fakeconn;"));
    g_events[0] = '\0';
    pl_graph_shutdown(f.g, gb_mono_ns() + GB_NS_PER_S);
    assert_string_equal(g_events, "stop receiver/fakerecv;stop processor/fakeproc/t;"
                                  "stop connector/fakeconn;stop processor/fakeproc/m;"
                                  "stop exporter/fakeexp/0;");
    done(&f);
}

/* Data would loop forever: a connector cycle is a config error naming the path. */
static void test_connector_cycles_are_rejected(void **state)
{
    (void)state;
    fixture f;
    gb_status st = build(&f, "receivers: {fakerecv: }\n"
                             "exporters: {fakeexp/0: {tag: '0'}}\n"
                             "connectors: {fakeconn: , fakeconn/b: }\n"
                             "service:\n"
                             "  pipelines:\n"
                             "    traces: {receivers: [fakerecv], exporters: [fakeconn]}\n"
                             "    metrics: {receivers: [fakeconn], exporters: [fakeconn/b]}\n"
                             "    metrics/b: {receivers: [fakeconn/b], exporters: [fakeexp/0, "
                             "fakeconn]}\n");
    assert_int_equal(st, GB_ERR_INVALID);
    assert_non_null(strstr(out_text(&f.out),
                           "test.yaml:7:5: error: service::pipelines: connectors form a cycle: "
                           "pipeline \"metrics\" -> connector \"fakeconn/b\" -> pipeline "
                           "\"metrics/b\" -> connector \"fakeconn\" -> pipeline \"metrics\""));
    done(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_shared_receiver_and_lifecycle_order, setup),
        cmocka_unit_test_setup(test_failed_start_stops_started_in_reverse, setup),
        cmocka_unit_test_setup(test_errors_are_all_reported_with_positions, setup),
        cmocka_unit_test_setup(test_pipeline_needs_receiver_and_exporter, setup),
        cmocka_unit_test_setup(test_telemetry_address_and_readers, setup),
        cmocka_unit_test_setup(test_mutating_consumers_get_writable_copies, setup),
        cmocka_unit_test_setup(test_connector_shutdown_follows_data_flow, setup),
        cmocka_unit_test_setup(test_connector_cycles_are_rejected, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
