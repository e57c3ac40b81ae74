#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/mem.h"
#include "base/telemetry.h"
#include "processor/batch/batch.h"
#include "proc_testutil.h"

typedef struct fixture {
    batch_cfg cfg;
    pl_component c;
    sink k;
} fixture;

static void fx_start(fixture *f, pd_signal sig, int64_t timeout_ms, int64_t size, int64_t max)
{
    memset(&f->cfg, 0, sizeof f->cfg);
    f->cfg.timeout = timeout_ms * GB_NS_PER_MS;
    f->cfg.send_batch_size = size;
    f->cfg.send_batch_max_size = max;
    f->cfg.metadata_cardinality_limit = 1000;
    sink_init(&f->k);
    comp_init(&f->c, &processor_batch_descriptor, "batch", &f->cfg, sig, &f->k.c);
    assert_int_equal(processor_batch_descriptor.create(&f->c), GB_OK);
    assert_int_equal(processor_batch_descriptor.start(&f->c, NULL), GB_OK);
}

static void fx_stop(fixture *f)
{
    assert_int_equal(processor_batch_descriptor.shutdown(&f->c, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    processor_batch_descriptor.destroy(&f->c);
    sink_free(&f->k);
}

static gb_status consume(fixture *f, pd_batch *b)
{
    return processor_batch_descriptor.consume(&f->c, b);
}

/* Collects span names of every received batch in order into names (joined by ','). */
static void span_names(sink *k, char *out, size_t size)
{
    size_t len = 0;
    out[0] = 0;
    for (unsigned i = 0; i < k->n; i++) {
        pd_batch *b = k->got[i];
        for (uint32_t r = 0; r < b->u.traces.n; r++)
            for (uint32_t s = 0; s < b->u.traces.v[r].n_scope_spans; s++) {
                const pd_scope_spans *ss = &b->u.traces.v[r].scope_spans[s];
                for (uint32_t j = 0; j < ss->n_spans; j++)
                    len += (size_t)snprintf(out + len, size - len, "%.*s,",
                                            GB_STR_FMT(ss->spans[j].name));
            }
    }
}

static void test_size_trigger(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_TRACES, 10000, 10, 0);
    assert_int_equal(consume(&f, mk_traces("a", 1, 1, 4)), GB_OK);
    assert_int_equal(consume(&f, mk_traces("b", 1, 1, 4)), GB_OK);
    assert_int_equal(sink_batches(&f.k), 0);
    assert_int_equal(consume(&f, mk_traces("c", 2, 1, 2)), GB_OK);
    /* 12 >= 10: one merged batch, not split (no max) */
    assert_int_equal(sink_batches(&f.k), 1);
    pd_batch *o = f.k.got[0];
    assert_int_equal(pd_batch_count(o), 12);
    assert_int_equal(o->u.traces.n, 4); /* resource entries concatenated */
    assert_true(gb_str_eq_c(
        pd_attrs_find(&o->u.traces.v[2].resource.attrs, GB_STR_LIT("res"))->value.u.str, "c-r0"));
    char names[512];
    span_names(&f.k, names, sizeof names);
    assert_string_equal(names, "a-0,a-1,a-2,a-3,b-0,b-1,b-2,b-3,c-0,c-1,c-2,c-3,");
    batch_stats st;
    batch_get_stats(&f.c, &st);
    assert_int_equal(st.size_triggers, 1);
    assert_int_equal(st.timeout_triggers, 0);
    assert_int_equal(st.pending_items, 0);
    fx_stop(&f);
}

static void test_timeout_trigger(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_TRACES, 30, 1000, 0);
    int64_t t0 = gb_mono_ns();
    assert_int_equal(consume(&f, mk_traces("a", 1, 1, 5)), GB_OK);
    assert_int_equal(consume(&f, mk_traces("b", 1, 1, 1)), GB_OK);
    WAIT_FOR(sink_batches(&f.k) == 1, 2000);
    int64_t dt = gb_mono_ns() - t0;
    assert_int_equal(sink_batches(&f.k), 1);
    assert_int_equal(sink_items(&f.k), 6);
    assert_true(dt >= 25 * GB_NS_PER_MS);
    batch_stats st;
    batch_get_stats(&f.c, &st);
    assert_int_equal(st.timeout_triggers, 1);
    assert_int_equal(st.size_triggers, 0);
    /* a later batch starts a new timer */
    assert_int_equal(consume(&f, mk_traces("c", 1, 1, 2)), GB_OK);
    WAIT_FOR(sink_batches(&f.k) == 2, 2000);
    assert_int_equal(sink_items(&f.k), 8);
    fx_stop(&f);
}

static void test_timeout_zero_sends_immediately(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_TRACES, 0, 2, 3);
    assert_int_equal(consume(&f, mk_traces("a", 1, 1, 7)), GB_OK);
    assert_int_equal(sink_batches(&f.k), 3); /* 3,3,1 */
    assert_int_equal(pd_batch_count(f.k.got[2]), 1);
    fx_stop(&f);
}

static void test_split_traces(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_TRACES, 10000, 7, 7);
    /* 2 resources x 2 scopes x 5 spans = 20 */
    assert_int_equal(consume(&f, mk_traces("t", 2, 2, 5)), GB_OK);
    assert_int_equal(sink_batches(&f.k), 2); /* 7 + 7 sent, 6 pending */
    batch_stats st;
    batch_get_stats(&f.c, &st);
    assert_int_equal(st.pending_items, 6);
    assert_int_equal(processor_batch_descriptor.shutdown(&f.c, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    assert_int_equal(f.k.n, 3);
    assert_int_equal(pd_batch_count(f.k.got[0]), 7);
    assert_int_equal(pd_batch_count(f.k.got[1]), 7);
    assert_int_equal(pd_batch_count(f.k.got[2]), 6);
    char names[1024];
    span_names(&f.k, names, sizeof names);
    assert_string_equal(names, "t-0,t-1,t-2,t-3,t-4,t-5,t-6,t-7,t-8,t-9,t-10,t-11,t-12,t-13,t-14,"
                               "t-15,t-16,t-17,t-18,t-19,");
    /* second output: spans 7..13 = r0 s1 [2..5) + r1 s0 [0..5) -> two resources */
    pd_batch *o = f.k.got[1];
    assert_int_equal(o->u.traces.n, 2);
    assert_true(gb_str_eq_c(o->u.traces.v[0].scope_spans[0].scope.name, "t-s0.1"));
    assert_true(gb_str_eq_c(
        pd_attrs_find(&o->u.traces.v[1].resource.attrs, GB_STR_LIT("res"))->value.u.str, "t-r1"));
    /* span attributes are intact */
    const pd_span *sp = &o->u.traces.v[0].scope_spans[0].spans[0];
    assert_true(gb_str_eq_c(sp->name, "t-7"));
    assert_true(gb_str_eq_c(pd_attrs_find(&sp->attrs, GB_STR_LIT("k"))->value.u.str, "t-7"));
    /* an entry shared by two outputs has its own attribute array */
    pd_attrs *a0 = &f.k.got[0]->u.traces.v[0].resource.attrs;
    pd_attrs *a1 = &o->u.traces.v[0].resource.attrs;
    assert_ptr_not_equal(a0->v, a1->v);
    assert_int_equal(pd_attrs_put(&o->arena, a1, GB_STR_LIT("new"), pd_any_int(1)), GB_OK);
    assert_null(pd_attrs_find(a0, GB_STR_LIT("new")));
    processor_batch_descriptor.destroy(&f.c);
    sink_free(&f.k);
}

static void test_split_metrics_at_points(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_METRICS, 10000, 5, 5);
    const uint32_t ndp[] = {4, 3, 3, 2}; /* gauge 4, sum 3, histogram 3, summary 2 = 12 */
    assert_int_equal(consume(&f, mk_metrics(ndp, 4, 100)), GB_OK);
    assert_int_equal(processor_batch_descriptor.shutdown(&f.c, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    assert_int_equal(f.k.n, 3);
    assert_int_equal(pd_batch_count(f.k.got[0]), 5);
    assert_int_equal(pd_batch_count(f.k.got[1]), 5);
    assert_int_equal(pd_batch_count(f.k.got[2]), 2);
    int64_t expect = 100;
    for (unsigned i = 0; i < f.k.n; i++) {
        pd_batch *b = f.k.got[i];
        assert_int_equal(b->u.metrics.n, 1);
        const pd_scope_metrics *sm = &b->u.metrics.v[0].scope_metrics[0];
        for (uint32_t k = 0; k < sm->n_metrics; k++)
            for (uint32_t j = 0; j < sm->metrics[k].n_dp; j++)
                assert_int_equal(dp_value(&sm->metrics[k], j), expect++);
    }
    assert_int_equal(expect, 112);
    /* output 1: gauge[4] + sum[0] ; output 2: sum[1..3) + hist[0..3) */
    const pd_scope_metrics *sm0 = &f.k.got[0]->u.metrics.v[0].scope_metrics[0];
    assert_int_equal(sm0->n_metrics, 2);
    assert_true(gb_str_eq_c(sm0->metrics[1].name, "metric1"));
    assert_int_equal(sm0->metrics[1].n_dp, 1);
    const pd_scope_metrics *sm1 = &f.k.got[1]->u.metrics.v[0].scope_metrics[0];
    assert_int_equal(sm1->n_metrics, 2);
    assert_int_equal(sm1->metrics[0].type, PD_METRIC_SUM);
    assert_int_equal(sm1->metrics[0].n_dp, 2);
    assert_int_equal(sm1->metrics[1].type, PD_METRIC_HISTOGRAM);
    assert_true(gb_str_eq_c(
        pd_attrs_find(&sm1->metrics[0].dp.number[0].attrs, GB_STR_LIT("dp"))->value.u.str, "x"));
    processor_batch_descriptor.destroy(&f.c);
    sink_free(&f.k);
}

static void test_split_logs(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_LOGS, 10000, 4, 4);
    assert_int_equal(consume(&f, mk_logs("l", 1, 3, 3)), GB_OK); /* 9 */
    assert_int_equal(consume(&f, mk_logs("m", 1, 1, 1)), GB_OK); /* 10 */
    assert_int_equal(processor_batch_descriptor.shutdown(&f.c, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    assert_int_equal(f.k.n, 3);
    assert_int_equal(pd_batch_count(f.k.got[0]), 4);
    assert_int_equal(pd_batch_count(f.k.got[1]), 4);
    assert_int_equal(pd_batch_count(f.k.got[2]), 2);
    const char *want[] = {"l-0", "l-1", "l-2", "l-3", "l-4", "l-5", "l-6", "l-7", "l-8", "m-0"};
    unsigned w = 0;
    for (unsigned i = 0; i < f.k.n; i++) {
        pd_batch *b = f.k.got[i];
        for (uint32_t r = 0; r < b->u.logs.n; r++)
            for (uint32_t s = 0; s < b->u.logs.v[r].n_scope_logs; s++) {
                const pd_scope_logs *sl = &b->u.logs.v[r].scope_logs[s];
                for (uint32_t j = 0; j < sl->n_logs; j++) {
                    assert_true(gb_str_eq_c(sl->logs[j].body.u.str, want[w]));
                    assert_true(gb_str_eq_c(
                        pd_attrs_find(&sl->logs[j].attrs, GB_STR_LIT("k"))->value.u.str, want[w]));
                    w++;
                }
            }
    }
    assert_int_equal(w, 10);
    /* last output mixes the tail of l with m: two resources */
    assert_int_equal(f.k.got[2]->u.logs.n, 2);
    processor_batch_descriptor.destroy(&f.c);
    sink_free(&f.k);
}

static void test_merge_by_reference_lifetime(void **state)
{
    (void)state;
    fixture f;
    int64_t mem0 = gb_mem_in_flight();
    fx_start(&f, PD_TRACES, 10000, 6, 0);
    pd_batch *a = mk_traces("a", 1, 1, 3);
    pd_batch *b = mk_traces("b", 1, 1, 3);
    pd_batch_ref(a);
    pd_batch_ref(b);
    assert_int_equal(consume(&f, a), GB_OK);
    assert_int_equal(consume(&f, b), GB_OK);
    assert_int_equal(sink_batches(&f.k), 1);
    pd_batch *o = f.k.got[0];
    /* the output points into the inputs, not into copies */
    assert_ptr_equal(o->u.traces.v[0].scope_spans, a->u.traces.v[0].scope_spans);
    assert_ptr_equal(o->u.traces.v[1].scope_spans[0].spans, b->u.traces.v[0].scope_spans[0].spans);
    /* our extra ref + the output's hold */
    assert_int_equal(atomic_load(&a->refs), 2);
    pd_batch_unref(a);
    pd_batch_unref(b);
    /* inputs stay alive while the output is: reading them is valid (ASan checks) */
    assert_true(gb_str_eq_c(o->u.traces.v[1].scope_spans[0].spans[2].name, "b-2"));
    fx_stop(&f); /* releases the output and with it the inputs */
    assert_int_equal(gb_mem_in_flight(), mem0);
}

static void test_metadata_partitioning(void **state)
{
    (void)state;
    fixture f;
    char *keys[] = {"X-Tenant"};
    memset(&f.cfg, 0, sizeof f.cfg);
    f.cfg.timeout = 10 * GB_NS_PER_S;
    f.cfg.send_batch_size = 5;
    f.cfg.metadata_keys = (cfg_strings){keys, 1};
    f.cfg.metadata_cardinality_limit = 2;
    sink_init(&f.k);
    comp_init(&f.c, &processor_batch_descriptor, "batch/t", &f.cfg, PD_TRACES, &f.k.c);
    assert_int_equal(processor_batch_descriptor.create(&f.c), GB_OK);
    assert_int_equal(processor_batch_descriptor.start(&f.c, NULL), GB_OK);

    pd_batch *b1 = mk_traces("a", 1, 1, 3);
    add_meta(b1, "x-tenant", "acme");
    add_meta(b1, "authorization", "secret");
    pd_batch *b2 = mk_traces("b", 1, 1, 3);
    add_meta(b2, "x-tenant", "globex");
    pd_batch *b3 = mk_traces("c", 1, 1, 2);
    add_meta(b3, "x-tenant", "acme");
    assert_int_equal(consume(&f, b1), GB_OK);
    assert_int_equal(consume(&f, b2), GB_OK);
    assert_int_equal(sink_batches(&f.k), 0); /* 3 + 3 but in different batchers */
    assert_int_equal(consume(&f, b3), GB_OK);
    assert_int_equal(sink_batches(&f.k), 1); /* acme reached 5 */
    pd_batch *o = f.k.got[0];
    assert_int_equal(pd_batch_count(o), 5);
    assert_int_equal(o->meta.n, 1); /* only the partition keys are carried */
    assert_true(gb_str_eq_c(o->meta.v[0].key, "x-tenant"));
    assert_true(gb_str_eq_c(o->meta.v[0].value, "acme"));

    /* a third distinct value passes the cardinality limit */
    pd_batch *b4 = mk_traces("d", 1, 1, 1);
    add_meta(b4, "x-tenant", "initech");
    assert_int_equal(consume(&f, b4), GB_ERR_PERMANENT);
    /* no value at all is its own combination, also over the limit */
    assert_int_equal(consume(&f, mk_traces("e", 1, 1, 1)), GB_ERR_PERMANENT);
    batch_stats st;
    batch_get_stats(&f.c, &st);
    assert_int_equal(st.batchers, 2);
    assert_int_equal(st.dropped_items, 2);
    gb_series *card =
        gb_tm_find("otelcol_processor_batch_metadata_cardinality", "processor=\"batch/t\"");
    assert_non_null(card);
    assert_int_equal(gb_series_value(card), 2);

    assert_int_equal(processor_batch_descriptor.shutdown(&f.c, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    assert_int_equal(f.k.n, 2);
    assert_true(gb_str_eq_c(f.k.got[1]->meta.v[0].value, "globex"));
    assert_int_equal(pd_batch_count(f.k.got[1]), 3);
    processor_batch_descriptor.destroy(&f.c);
    sink_free(&f.k);
}

static void test_pushback_on_downstream_retry(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_TRACES, 10000, 4, 0);
    sink_set_answer(&f.k, GB_ERR_RETRY);
    /* accepted: the merged batch is kept for resending */
    assert_int_equal(consume(&f, mk_traces("a", 1, 1, 4)), GB_OK);
    assert_int_equal(f.k.calls, 1);
    /* while downstream refuses, new data is pushed back */
    assert_int_equal(consume(&f, mk_traces("b", 1, 1, 1)), GB_ERR_RETRY);
    batch_stats st;
    batch_get_stats(&f.c, &st);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.pending_items, 4);
    assert_int_equal(st.dropped_items, 0);
    /* downstream recovers: the flush thread resends the same data */
    sink_set_answer(&f.k, GB_OK);
    WAIT_FOR(sink_batches(&f.k) == 1, 3000);
    assert_int_equal(sink_batches(&f.k), 1);
    char names[256];
    span_names(&f.k, names, sizeof names);
    assert_string_equal(names, "a-0,a-1,a-2,a-3,");
    assert_int_equal(consume(&f, mk_traces("c", 1, 1, 1)), GB_OK);
    fx_stop(&f);
}

static void test_pushback_on_bound(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_TRACES, 10000, 10, 0); /* bound = 2 x 10 */
    assert_int_equal(consume(&f, mk_traces("a", 1, 1, 9)), GB_OK);
    assert_int_equal(consume(&f, mk_traces("b", 1, 1, 15)), GB_ERR_RETRY);
    assert_int_equal(consume(&f, mk_traces("c", 1, 1, 11)), GB_OK); /* 20: at the bound */
    assert_int_equal(sink_items(&f.k), 20);
    fx_stop(&f);
}

static void test_permanent_error_counted(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_TRACES, 10000, 2, 0);
    sink_set_answer(&f.k, GB_ERR_PERMANENT);
    assert_int_equal(consume(&f, mk_traces("a", 1, 1, 3)), GB_OK);
    batch_stats st;
    batch_get_stats(&f.c, &st);
    assert_int_equal(st.dropped_items, 3);
    assert_int_equal(st.pending_items, 0);
    fx_stop(&f);
}

static void test_shutdown_flushes(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_LOGS, 60000, 8192, 0);
    assert_int_equal(consume(&f, mk_logs("x", 2, 1, 3)), GB_OK);
    assert_int_equal(consume(&f, mk_logs("y", 1, 1, 1)), GB_OK);
    assert_int_equal(sink_batches(&f.k), 0);
    assert_int_equal(processor_batch_descriptor.shutdown(&f.c, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    assert_int_equal(sink_items(&f.k), 7);
    /* after shutdown new data is refused, shutdown is idempotent */
    assert_int_equal(consume(&f, mk_logs("z", 1, 1, 1)), GB_ERR_RETRY);
    assert_int_equal(processor_batch_descriptor.shutdown(&f.c, gb_mono_ns()), GB_OK);
    processor_batch_descriptor.destroy(&f.c);
    sink_free(&f.k);
}

static void test_shutdown_deadline_drops_counted(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_TRACES, 10000, 2, 0);
    sink_set_answer(&f.k, GB_ERR_RETRY);
    assert_int_equal(consume(&f, mk_traces("a", 1, 1, 2)), GB_OK);
    int64_t t0 = gb_mono_ns();
    assert_int_equal(processor_batch_descriptor.shutdown(&f.c, gb_mono_ns() + 100 * GB_NS_PER_MS),
                     GB_OK);
    assert_true(gb_mono_ns() - t0 < 2 * GB_NS_PER_S);
    batch_stats st;
    batch_get_stats(&f.c, &st);
    assert_int_equal(st.dropped_items, 2);
    assert_int_equal(st.pending_items, 0);
    processor_batch_descriptor.destroy(&f.c);
    sink_free(&f.k);
}

typedef struct thr_arg {
    fixture *f;
    int n;
} thr_arg;

static void *producer(void *p)
{
    thr_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        while (consume(a->f, mk_traces("p", 1, 1, 3)) == GB_ERR_RETRY)
            sleep_ms(1);
    }
    return NULL;
}

static void test_concurrent_producers(void **state)
{
    (void)state;
    fixture f;
    fx_start(&f, PD_TRACES, 5, 100, 100);
    pthread_t t[4];
    thr_arg a = {&f, 300};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, producer, &a);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(processor_batch_descriptor.shutdown(&f.c, gb_mono_ns() + GB_NS_PER_S), GB_OK);
    assert_int_equal(sink_items(&f.k), 4 * 300 * 3);
    for (unsigned i = 0; i < f.k.n; i++)
        assert_true(pd_batch_count(f.k.got[i]) <= 100);
    gb_series *h = gb_tm_find("otelcol_processor_batch_batch_send_size", "processor=\"batch\"");
    assert_non_null(h);
    processor_batch_descriptor.destroy(&f.c);
    sink_free(&f.k);
}

static void test_config_check(void **state)
{
    (void)state;
    char err[256];
    batch_cfg c = {.timeout = 1,
                   .send_batch_size = 100,
                   .send_batch_max_size = 50,
                   .metadata_cardinality_limit = 1000};
    assert_int_equal(batch_check(&c, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "send_batch_max_size"));
    c.send_batch_max_size = 0;
    assert_int_equal(batch_check(&c, err, sizeof err), GB_OK);
    c.send_batch_max_size = 100;
    assert_int_equal(batch_check(&c, err, sizeof err), GB_OK);
    char *keys[] = {"a", "A"};
    c.metadata_keys = (cfg_strings){keys, 2};
    assert_int_equal(batch_check(&c, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "duplicate"));
    c.metadata_keys.n = 1;
    c.metadata_cardinality_limit = 0;
    assert_int_equal(batch_check(&c, err, sizeof err), GB_ERR_INVALID);
    /* create refuses an invalid config */
    c.metadata_cardinality_limit = 10;
    c.send_batch_max_size = 5;
    pl_component comp;
    comp_init(&comp, &processor_batch_descriptor, "batch", &c, PD_TRACES, NULL);
    assert_int_equal(processor_batch_descriptor.create(&comp), GB_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_trigger),
        cmocka_unit_test(test_timeout_trigger),
        cmocka_unit_test(test_timeout_zero_sends_immediately),
        cmocka_unit_test(test_split_traces),
        cmocka_unit_test(test_split_metrics_at_points),
        cmocka_unit_test(test_split_logs),
        cmocka_unit_test(test_merge_by_reference_lifetime),
        cmocka_unit_test(test_metadata_partitioning),
        cmocka_unit_test(test_pushback_on_downstream_retry),
        cmocka_unit_test(test_pushback_on_bound),
        cmocka_unit_test(test_permanent_error_counted),
        cmocka_unit_test(test_shutdown_flushes),
        cmocka_unit_test(test_shutdown_deadline_drops_counted),
        cmocka_unit_test(test_concurrent_producers),
        cmocka_unit_test(test_config_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
