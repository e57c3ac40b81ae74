#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>

#include "base/telemetry.h"
#include "processor/memory_limiter/memory_limiter.h"
#include "proc_testutil.h"

#define MIB (1024ull * 1024ull)

static atomic_uint_fast64_t fake_rss;
static atomic_int_fast64_t fake_inflight;

static uint64_t rd_rss(void)
{
    return atomic_load(&fake_rss);
}
static int64_t rd_inflight(void)
{
    return atomic_load(&fake_inflight);
}
static uint64_t rd_total(void)
{
    return 1000 * MIB;
}

static const memory_limiter_source fake = {rd_rss, rd_inflight, rd_total};

typedef struct fixture {
    memory_limiter_cfg cfg;
    pl_component c;
    sink k;
} fixture;

static void fx_start(fixture *f, int64_t limit_mib, int64_t spike_mib, int64_t interval_ms)
{
    memset(&f->cfg, 0, sizeof f->cfg);
    f->cfg.check_interval = interval_ms * GB_NS_PER_MS;
    f->cfg.check_interval_set = true;
    f->cfg.limit_mib = limit_mib;
    f->cfg.spike_limit_mib = spike_mib;
    sink_init(&f->k);
    memory_limiter_set_source(&fake);
    comp_init(&f->c, &processor_memory_limiter_descriptor, "memory_limiter", &f->cfg, PD_TRACES,
              &f->k.c);
    assert_int_equal(processor_memory_limiter_descriptor.create(&f->c), GB_OK);
    assert_int_equal(processor_memory_limiter_descriptor.start(&f->c, NULL), GB_OK);
}

static void fx_stop(fixture *f)
{
    processor_memory_limiter_descriptor.shutdown(&f->c, gb_mono_ns() + GB_NS_PER_S);
    processor_memory_limiter_descriptor.destroy(&f->c);
    sink_free(&f->k);
    memory_limiter_set_source(NULL);
}

static gb_status consume(fixture *f, uint32_t n)
{
    return processor_memory_limiter_descriptor.consume(&f->c, mk_traces("m", 1, 1, n));
}

static void test_limits_and_default_spike(void **state)
{
    (void)state;
    fixture f;
    atomic_store(&fake_rss, 10 * MIB);
    fx_start(&f, 100, 0, 1000);
    uint64_t hard, soft;
    memory_limiter_limits(&f.c, &hard, &soft);
    assert_int_equal(hard, 100 * MIB);
    assert_int_equal(soft, 80 * MIB); /* spike = 20% */
    fx_stop(&f);

    /* percentages of total memory */
    memory_limiter_cfg cfg = {.check_interval = GB_NS_PER_S,
                              .check_interval_set = true,
                              .limit_percentage = 50,
                              .spike_limit_percentage = 10};
    memory_limiter_set_source(&fake);
    pl_component c;
    comp_init(&c, &processor_memory_limiter_descriptor, "memory_limiter", &cfg, PD_LOGS, NULL);
    assert_int_equal(processor_memory_limiter_descriptor.create(&c), GB_OK);
    memory_limiter_limits(&c, &hard, &soft);
    assert_int_equal(hard, 500 * MIB);
    assert_int_equal(soft, 400 * MIB);
    processor_memory_limiter_descriptor.destroy(&c);
    memory_limiter_set_source(NULL);
}

static void test_refuse_and_recover(void **state)
{
    (void)state;
    fixture f;
    atomic_store(&fake_rss, 50 * MIB);
    atomic_store(&fake_inflight, 0);
    fx_start(&f, 100, 20, 10000); /* soft 80 MiB; the thread will not sample during the test */
    assert_int_equal(consume(&f, 3), GB_OK);
    assert_int_equal(sink_items(&f.k), 3);

    atomic_store(&fake_rss, 85 * MIB); /* above soft */
    memory_limiter_sample(&f.c);
    assert_int_equal(consume(&f, 2), GB_ERR_RETRY);
    assert_int_equal(consume(&f, 4), GB_ERR_RETRY);
    assert_int_equal(sink_items(&f.k), 3);

    atomic_store(&fake_rss, 70 * MIB); /* back under soft */
    memory_limiter_sample(&f.c);
    assert_int_equal(consume(&f, 1), GB_OK);
    assert_int_equal(sink_items(&f.k), 4);

    gb_series *ref = gb_tm_find("otelcol_processor_refused_spans", "processor=\"memory_limiter\"");
    gb_series *acc = gb_tm_find("otelcol_processor_accepted_spans", "processor=\"memory_limiter\"");
    assert_non_null(ref);
    assert_non_null(acc);
    assert_int_equal(gb_series_value(ref), 6);
    assert_int_equal(gb_series_value(acc), 4);
    fx_stop(&f);
}

static void test_checker_thread_samples(void **state)
{
    (void)state;
    fixture f;
    atomic_store(&fake_rss, 10 * MIB);
    atomic_store(&fake_inflight, 0);
    fx_start(&f, 100, 20, 5);
    assert_int_equal(consume(&f, 1), GB_OK);
    atomic_store(&fake_rss, 95 * MIB);
    gb_status st = GB_OK;
    for (int i = 0; i < 500 && st == GB_OK; i++) {
        sleep_ms(2);
        st = consume(&f, 1);
    }
    assert_int_equal(st, GB_ERR_RETRY);
    atomic_store(&fake_rss, 10 * MIB);
    for (int i = 0; i < 500 && st != GB_OK; i++) {
        sleep_ms(2);
        st = consume(&f, 1);
    }
    assert_int_equal(st, GB_OK);
    fx_stop(&f);
}

static void test_in_flight_growth_hits_hard_limit(void **state)
{
    (void)state;
    fixture f;
    atomic_store(&fake_rss, 60 * MIB);
    atomic_store(&fake_inflight, 5 * MIB);
    fx_start(&f, 100, 20, 10000);
    assert_int_equal(consume(&f, 1), GB_OK);
    /* 30 MiB more in flight since the sample: 60 + 30 = 90 < 100 */
    atomic_store(&fake_inflight, 35 * MIB);
    assert_int_equal(consume(&f, 1), GB_OK);
    /* 45 MiB more: 105 > 100 -> refused without waiting for the next sample */
    atomic_store(&fake_inflight, 50 * MIB);
    assert_int_equal(consume(&f, 1), GB_ERR_RETRY);
    atomic_store(&fake_inflight, 10 * MIB);
    assert_int_equal(consume(&f, 1), GB_OK);
    fx_stop(&f);
}

static void test_config_errors(void **state)
{
    (void)state;
    char err[256];
    memory_limiter_cfg c = {.check_interval = GB_NS_PER_S, .check_interval_set = true};
    assert_int_equal(memory_limiter_check(&c, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "'limit_mib' or 'limit_percentage'"));
    c.limit_mib = 100;
    c.spike_limit_mib = 100;
    assert_int_equal(memory_limiter_check(&c, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "'spike_limit_mib' must be smaller"));
    c.spike_limit_mib = 99;
    assert_int_equal(memory_limiter_check(&c, err, sizeof err), GB_OK);
    c.limit_mib = 0;
    c.spike_limit_mib = 0;
    c.limit_percentage = 101;
    assert_int_equal(memory_limiter_check(&c, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "less than or equal to hundred"));
    c.limit_percentage = 50;
    c.spike_limit_percentage = 50;
    assert_int_equal(memory_limiter_check(&c, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "'spike_limit_percentage' must be smaller"));
    c.spike_limit_percentage = 20;
    assert_int_equal(memory_limiter_check(&c, err, sizeof err), GB_OK);
    c.check_interval = 0;
    assert_int_equal(memory_limiter_check(&c, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "check_interval"));

    /* missing check_interval: create defaults it to 1s */
    memory_limiter_cfg m = {.limit_mib = 10};
    pl_component comp;
    comp_init(&comp, &processor_memory_limiter_descriptor, "memory_limiter", &m, PD_TRACES, NULL);
    assert_int_equal(processor_memory_limiter_descriptor.create(&comp), GB_OK);
    processor_memory_limiter_descriptor.destroy(&comp);
    /* invalid config: create fails */
    memory_limiter_cfg bad = {
        .check_interval = GB_NS_PER_S, .limit_mib = 10, .spike_limit_mib = 20};
    comp_init(&comp, &processor_memory_limiter_descriptor, "memory_limiter", &bad, PD_TRACES, NULL);
    assert_int_equal(processor_memory_limiter_descriptor.create(&comp), GB_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits_and_default_spike),
        cmocka_unit_test(test_refuse_and_recover),
        cmocka_unit_test(test_checker_thread_samples),
        cmocka_unit_test(test_in_flight_growth_hits_hard_limit),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
