/* memory_limiter -> resource -> attributes -> batch -> sink, fed by several threads: the
 * processors compose through the consumer contract and every span arrives exactly once with
 * the attributes set by the mutating processors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>

#include "base/mem.h"
#include "processor/attributes/attributes.h"
#include "processor/batch/batch.h"
#include "processor/memory_limiter/memory_limiter.h"
#include "processor/resource/resource.h"
#include "proc_testutil.h"

/* What the engine does: a component seen as a consumer. */
typedef struct adapter {
    pl_consumer c;
    pl_component *comp;
} adapter;

static gb_status adapter_consume(pl_consumer *self, pd_batch *b)
{
    adapter *a = (adapter *)self;
    return a->comp->desc->consume(a->comp, b);
}

static void chain_link(adapter *a, pl_component *comp)
{
    a->c.consume = adapter_consume;
    a->c.mutates = comp->desc->mutates;
    a->comp = comp;
}

static atomic_uint_fast64_t rss;

static uint64_t fake_rss(void)
{
    return atomic_load(&rss);
}

typedef struct prod_arg {
    pl_consumer *head;
    int n;
    atomic_int *refused;
} prod_arg;

static void *producer(void *p)
{
    prod_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        pd_batch *b = mk_traces("c", 2, 1, 5);
        add_meta(b, "x-team", "core");
        while (pl_consume(a->head, pd_batch_ref(b)) == GB_ERR_RETRY) {
            atomic_fetch_add(a->refused, 1);
            sleep_ms(1);
        }
        pd_batch_unref(b);
    }
    return NULL;
}

static void test_chain(void **state)
{
    (void)state;
    int64_t mem0 = gb_mem_in_flight();
    sink k;
    sink_init(&k);

    memory_limiter_source src = {.rss = fake_rss};
    memory_limiter_set_source(&src);
    atomic_store(&rss, 10ull << 20);
    memory_limiter_cfg mlc = {
        .check_interval = 5 * GB_NS_PER_MS, .check_interval_set = true, .limit_mib = 100};
    attraction_cfg racts[] = {
        {.key = "deployment.environment", .value = scalar("prod", false), .action = "upsert"}};
    resource_cfg rc = {.attributes = {racts, 1}};
    attraction_cfg aacts[] = {
        {.key = "team", .from_context = "x-team", .action = "insert"},
        {.key = "k", .action = "hash"},
    };
    attributes_cfg ac = {.actions = {aacts, 2}};
    batch_cfg bc = {.timeout = 20 * GB_NS_PER_MS,
                    .send_batch_size = 64,
                    .send_batch_max_size = 64,
                    .metadata_cardinality_limit = 1000};

    pl_component ml, res, attrs, bat;
    adapter a_ml, a_res, a_attrs, a_bat;
    comp_init(&bat, &processor_batch_descriptor, "batch", &bc, PD_TRACES, &k.c);
    chain_link(&a_bat, &bat);
    comp_init(&attrs, &processor_attributes_descriptor, "attributes", &ac, PD_TRACES, &a_bat.c);
    chain_link(&a_attrs, &attrs);
    comp_init(&res, &processor_resource_descriptor, "resource", &rc, PD_TRACES, &a_attrs.c);
    chain_link(&a_res, &res);
    comp_init(&ml, &processor_memory_limiter_descriptor, "memory_limiter", &mlc, PD_TRACES,
              &a_res.c);
    chain_link(&a_ml, &ml);
    pl_component *all[] = {&ml, &res, &attrs, &bat};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(all[i]->desc->create(all[i]), GB_OK);
        if (all[i]->desc->start) assert_int_equal(all[i]->desc->start(all[i], NULL), GB_OK);
    }

    /* memory pressure for a moment: producers get RETRY and retry */
    atomic_store(&rss, 95ull << 20);
    memory_limiter_sample(&ml);
    atomic_int refused = 0;
    prod_arg pa = {&a_ml.c, 200, &refused};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, producer, &pa);
    sleep_ms(30);
    atomic_store(&rss, 10ull << 20);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_true(atomic_load(&refused) > 0);

    for (int i = 0; i < 4; i++)
        if (all[i]->desc->shutdown)
            assert_int_equal(all[i]->desc->shutdown(all[i], gb_mono_ns() + GB_NS_PER_S), GB_OK);

    assert_int_equal(sink_items(&k), 3 * 200 * 10);
    for (unsigned i = 0; i < k.n; i++) {
        pd_batch *b = k.got[i];
        assert_true(pd_batch_count(b) <= 64);
        for (uint32_t r = 0; r < b->u.traces.n; r++) {
            pd_resource_spans *rs = &b->u.traces.v[r];
            pd_kv *env = pd_attrs_find(&rs->resource.attrs, GB_STR_LIT("deployment.environment"));
            assert_non_null(env);
            assert_true(gb_str_eq_c(env->value.u.str, "prod"));
            for (uint32_t s = 0; s < rs->n_scope_spans; s++)
                for (uint32_t j = 0; j < rs->scope_spans[s].n_spans; j++) {
                    pd_attrs *sa = &rs->scope_spans[s].spans[j].attrs;
                    pd_kv *team = pd_attrs_find(sa, GB_STR_LIT("team"));
                    pd_kv *h = pd_attrs_find(sa, GB_STR_LIT("k"));
                    assert_non_null(team);
                    assert_true(gb_str_eq_c(team->value.u.str, "core"));
                    assert_int_equal(h->value.u.str.len, 64);
                }
        }
    }
    for (int i = 0; i < 4; i++)
        all[i]->desc->destroy(all[i]);
    sink_free(&k);
    memory_limiter_set_source(NULL);
    assert_int_equal(gb_mem_in_flight(), mem0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
