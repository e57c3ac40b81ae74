/* governance connector: metrics produced from spans/logs carrying governance attributes, checked
 * exactly (cost sums in nano-USD, tokens by type, top-K and max_series overflow, budget gauges,
 * policy counts, eval histogram, flush timer, shared traces/logs state, config errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "conn_testutil.h"
#include "base/telemetry.h"
#include "connector/governance/governance.h"

#define D (&connector_governance_descriptor)

static const pd_batch *flush_get(conn_fx *fx)
{
    assert_int_equal(gvc_flush_now(&fx->c), GB_OK);
    pthread_mutex_lock(&fx->out.mu); /* the flush thread may append concurrently */
    const pd_batch *b = last_out(fx);
    pthread_mutex_unlock(&fx->out.mu);
    return b;
}

static double dval(const pd_metric *m, const char *labels)
{
    const pd_number_dp *dp = dp_must(m, labels);
    assert_int_equal(dp->value_type, PD_NUM_DOUBLE);
    return dp->value.d;
}

static int64_t ival(const pd_metric *m, const char *labels)
{
    const pd_number_dp *dp = dp_must(m, labels);
    assert_int_equal(dp->value_type, PD_NUM_INT);
    return dp->value.i;
}

static void test_cost_is_exact_and_cumulative(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "metrics_flush_interval: 1h\n", PD_TRACES);
    for (int round = 0; round < 2; round++) {
        pd_batch *b = traces_new("genops.environment=prod", 1000);
        for (int i = 0; i < 1000; i++)
            span_add(b, "chat",
                     i % 2 ? "genops.team=a;genops.cost.total=d:0.1"
                           : "genops.team=b;genops.cost.total=d:0.123456789",
                     1000 + (uint64_t)i);
        assert_int_equal(conn_feed(&fx, b), GB_OK);
        const pd_batch *out = flush_get(&fx);
        assert_non_null(out);
        const pd_metric *cost = metric_in(out, 0, "genops.cost");
        assert_non_null(cost);
        assert_int_equal(cost->type, PD_METRIC_SUM);
        assert_int_equal(cost->temporality, PD_TEMPORALITY_CUMULATIVE);
        assert_true(cost->is_monotonic);
        assert_true(gb_str_eq_c(cost->unit, "{USD}"));
        assert_int_equal(cost->n_dp, 2);
        /* 500 x 0.1 per round, summed in nano-USD: exactly 50 and 100 */
        assert_true(dval(cost, "genops.team=a,genops.environment=prod") == 50.0 * (round + 1));
        assert_true(dval(cost, "genops.team=b,genops.environment=prod") ==
                    (round ? 123.456789 : 61.7283945));
        const pd_number_dp *dp = dp_with(cost, "genops.team=a,genops.environment=prod");
        assert_true(dp->start_time_unix_nano > 0);
        assert_true(dp->time_unix_nano >= dp->start_time_unix_nano);
        const pd_metric *ops = metric_in(out, 0, "genops.operations");
        assert_int_equal(ival(ops, "genops.team=a,genops.environment=prod"), 500 * (round + 1));
        assert_true(gb_str_eq_c(ops->unit, "{operation}"));
    }
    conn_down(&fx);
}

static void test_tokens_by_type_and_unpriced(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "dimensions: [genops.team, {name: genops.project, default: none}]\n",
            PD_TRACES);
    /* amounts on the resource are not per operation: ignored */
    pd_batch *b = traces_new("genops.cost.total=9;genops.tokens.input=9", 6);
    span_add(b, "a",
             "genops.team=t;genops.tokens.input=i:100;genops.tokens.output=i:50;"
             "genops.tokens.cache_read=i:20;genops.tokens.cache_write=i:5;"
             "genops.tokens.reasoning=i:7;genops.cost.total=d:0.5",
             10);
    span_add(b, "b", "genops.team=t;genops.project=p;gen_ai.usage.input_tokens=i:3", 11);
    span_add(b, "c",
             "genops.team=t;genops.cost.status=unpriced;genops.cost.provider=acme;"
             "genops.cost.model=m1;genops.tokens.input=i:1",
             12);
    span_add(b, "d", "http.method=GET", 13); /* not an AI operation */
    /* another currency is not added to the USD sum (still an operation) */
    span_add(b, "e", "genops.team=t;genops.cost.total=d:9;genops.cost.currency=EUR", 14);
    span_add(b, "f", "genops.team=t;genops.cost.total=d:0.25;genops.cost.currency=usd", 15);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    const pd_batch *out = flush_get(&fx);
    const pd_metric *tok = metric_in(out, 0, "genops.tokens");
    assert_non_null(tok);
    assert_true(gb_str_eq_c(tok->unit, "{token}"));
    assert_int_equal(ival(tok, "genops.team=t,genops.project=none,type=input"), 101);
    assert_int_equal(ival(tok, "genops.team=t,genops.project=none,type=output"), 50);
    assert_int_equal(ival(tok, "genops.team=t,genops.project=none,type=cache_read"), 20);
    assert_int_equal(ival(tok, "genops.team=t,genops.project=none,type=cache_write"), 5);
    assert_int_equal(ival(tok, "genops.team=t,genops.project=none,type=reasoning"), 7);
    assert_int_equal(ival(tok, "genops.team=t,genops.project=p,type=input"), 3);
    assert_int_equal(tok->n_dp, 6);
    const pd_metric *unp = metric_in(out, 0, "genops.unpriced_operations");
    assert_int_equal(ival(unp, "genops.cost.provider=acme,genops.cost.model=m1"), 1);
    assert_int_equal(unp->n_dp, 1);
    const pd_metric *cost = metric_in(out, 0, "genops.cost");
    /* the unpriced span adds 0 to the same series */
    assert_true(dval(cost, "genops.team=t,genops.project=none") == 0.75);
    const pd_metric *ops = metric_in(out, 0, "genops.operations");
    assert_int_equal(ival(ops, "genops.team=t,genops.project=none"), 4);
    assert_int_equal(ival(ops, "genops.team=t,genops.project=p"), 1);
    assert_int_equal(ops->n_dp, 2);
    conn_down(&fx);
}

static void test_top_k_overflow_into_other(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "dimensions: [genops.team, genops.customer_id]\ntop_k: 2\n", PD_TRACES);
    pd_batch *b = traces_new("", 8);
    const char *teams[] = {"t1", "t2", "t3", "t1", "t4", "t2", "t5"};
    char kv[200];
    for (int i = 0; i < 7; i++) {
        snprintf(kv, sizeof kv, "genops.team=%s;genops.customer_id=c;genops.cost.total=d:1",
                 teams[i]);
        span_add(b, "s", kv, 5);
    }
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    /* a later batch: the slots are kept (t1, t2), t6 goes to other */
    b = traces_new("", 1);
    span_add(b, "s", "genops.team=t6;genops.customer=c;genops.cost.total=d:2", 6);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    const pd_metric *cost = metric_in(flush_get(&fx), 0, "genops.cost");
    assert_int_equal(cost->n_dp, 3);
    assert_true(dval(cost, "genops.team=t1,genops.customer_id=c") == 2.0);
    assert_true(dval(cost, "genops.team=t2,genops.customer_id=c") == 2.0);
    assert_true(dval(cost, "genops.team=other,genops.customer_id=c") == 5.0);
    /* self-metrics: t3, t4, t5, t6 went to "other" for cost and for operations */
    gb_series *ov = gb_tm_find("genops_connector_governance_overflow", "connector=\"governance\"");
    assert_non_null(ov);
    assert_int_equal(gb_series_value(ov), 8);
    gb_series *ns = gb_tm_find("genops_connector_governance_series", "connector=\"governance\"");
    assert_non_null(ns);
    assert_int_equal(gb_series_value(ns), 6); /* cost and operations: t1, t2, other */
    conn_down(&fx);
}

/* Consecutive spans with the same values (served by the per-batch series memo): admitted values
 * add up, values beyond top_k still go to "other" and count as overflow each time, rendered
 * (numeric) values match too. */
static void test_repeated_values_in_one_batch(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "dimensions: [genops.team]\ntop_k: 2\n", PD_TRACES);
    gb_series *ov = gb_tm_find("genops_connector_governance_overflow", "connector=\"governance\"");
    int64_t ov0 = ov ? gb_series_value(ov) : 0;
    const char *teams[] = {"t1", "t1", "t2", "t3", "t3", "t1", "i:7", "i:7", "t2"};
    pd_batch *b = traces_new("", 9);
    char kv[200];
    for (int i = 0; i < 9; i++) {
        snprintf(kv, sizeof kv, "genops.team=%s;genops.cost.total=d:1;genops.tokens.input=i:2",
                 teams[i]);
        span_add(b, "s", kv, 5);
    }
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    const pd_batch *out = flush_get(&fx);
    const pd_metric *cost = metric_in(out, 0, "genops.cost");
    assert_int_equal(cost->n_dp, 3);
    assert_true(dval(cost, "genops.team=t1") == 3.0);
    assert_true(dval(cost, "genops.team=t2") == 2.0);
    assert_true(dval(cost, "genops.team=other") == 4.0);
    const pd_metric *ops = metric_in(out, 0, "genops.operations");
    assert_int_equal(ival(ops, "genops.team=t1"), 3);
    assert_int_equal(ival(ops, "genops.team=other"), 4);
    const pd_metric *tok = metric_in(out, 0, "genops.tokens");
    assert_int_equal(ival(tok, "genops.team=t1,type=input"), 6);
    assert_int_equal(ival(tok, "genops.team=other,type=input"), 8);
    /* t3, t3, 7, 7: the team label overflows for operations, cost and tokens each time */
    ov = gb_tm_find("genops_connector_governance_overflow", "connector=\"governance\"");
    assert_non_null(ov);
    assert_int_equal(gb_series_value(ov) - ov0, 12);
    conn_down(&fx);
}

/* Label values are cut to 256 bytes (memory stays bounded by top_k whatever the input). */
static void test_long_label_values_are_cut(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "dimensions: [genops.team]\n", PD_TRACES);
    char kv[1200], want[400];
    memset(want, 0, sizeof want);
    memcpy(want, "genops.team=", 12);
    memset(want + 12, 'x', 256);
    snprintf(kv, sizeof kv, "genops.cost.total=d:2;genops.team=%0900d", 0);
    for (char *p = strstr(kv, "team=") + 5; *p; p++)
        *p = 'x';
    pd_batch *b = traces_new("", 1);
    span_add(b, "s", kv, 1);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    assert_true(dval(metric_in(flush_get(&fx), 0, "genops.cost"), want) == 2.0);
    conn_down(&fx);
}

static void test_max_series_aggregates_into_all_other(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "dimensions: [genops.team]\nmax_series: 4\n", PD_TRACES);
    pd_batch *b = traces_new("", 4);
    span_add(b, "s", "genops.team=t1;genops.cost.total=d:1", 1); /* cost t1, ops t1 */
    span_add(b, "s", "genops.team=t2;genops.cost.total=d:1", 1); /* cost t2, ops t2: full */
    span_add(b, "s", "genops.team=t3;genops.cost.total=d:1", 1);
    span_add(b, "s", "genops.team=t4;genops.cost.total=d:1.5", 1);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    const pd_batch *out = flush_get(&fx);
    const pd_metric *cost = metric_in(out, 0, "genops.cost");
    assert_int_equal(cost->n_dp, 3);
    assert_true(dval(cost, "genops.team=t1") == 1.0);
    assert_true(dval(cost, "genops.team=t2") == 1.0);
    assert_true(dval(cost, "genops.team=other") == 2.5);
    assert_int_equal(ival(metric_in(out, 0, "genops.operations"), "genops.team=other"), 2);
    conn_down(&fx);
}

static void test_budget_gauges_latest_wins(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "", PD_TRACES);
    pd_batch *b = traces_new("", 4);
    pd_span *s1 = span_add(b, "s", "genops.cost.total=d:1", 300);
    event_add(b, s1, "genops.budget.evaluated",
              "genops.budget.name=monthly;genops.budget.group=a;genops.budget.window=2026-12;"
              "genops.budget.limit=d:100;genops.budget.used=d:30;genops.budget.utilization=d:30");
    event_add(b, s1, "genops.budget.evaluated",
              "genops.budget.name=daily;genops.budget.window=2026-12-06;"
              "genops.budget.allocated=d:10;genops.budget.consumed=d:5");
    pd_span *s2 = span_add(b, "s", "genops.cost.total=d:1", 100); /* older: ignored */
    event_add(b, s2, "genops.budget.evaluated",
              "genops.budget.name=monthly;genops.budget.group=a;genops.budget.window=2026-12;"
              "genops.budget.limit=d:100;genops.budget.used=d:20;genops.budget.utilization=d:20");
    /* attributes when there is no event */
    span_add(b, "s",
             "genops.budget.name=monthly;genops.budget.group=b;genops.budget.window=2026-12;"
             "genops.budget.limit=d:50;genops.budget.used=d:45;"
             "genops.budget.utilization_percent=d:90",
             200);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    b = traces_new("", 1); /* a later batch with an older span: still ignored */
    pd_span *s3 = span_add(b, "s", "", 250);
    event_add(b, s3, "genops.budget.evaluated",
              "genops.budget.name=monthly;genops.budget.group=a;genops.budget.window=2026-12;"
              "genops.budget.limit=d:100;genops.budget.used=d:25");
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    const pd_batch *out = flush_get(&fx);
    const pd_metric *used = metric_in(out, 0, "genops.budget.used");
    assert_int_equal(used->type, PD_METRIC_GAUGE);
    assert_true(gb_str_eq_c(used->unit, "{USD}"));
    const char *ma =
        "genops.budget.name=monthly,genops.budget.group=a,genops.budget.window=2026-12";
    const char *mb =
        "genops.budget.name=monthly,genops.budget.group=b,genops.budget.window=2026-12";
    const char *dd = "genops.budget.name=daily,genops.budget.window=2026-12-06";
    assert_true(dval(used, ma) == 30.0);
    assert_true(dval(used, mb) == 45.0);
    assert_true(dval(used, dd) == 5.0);
    const pd_metric *limit = metric_in(out, 0, "genops.budget.limit");
    assert_true(dval(limit, ma) == 100.0);
    assert_true(dval(limit, dd) == 10.0);
    const pd_metric *util = metric_in(out, 0, "genops.budget.utilization");
    assert_true(gb_str_eq_c(util->unit, "{percent}"));
    assert_true(dval(util, ma) == 30.0);
    assert_true(dval(util, mb) == 90.0);
    assert_true(dval(util, dd) == 50.0); /* computed from used / limit */
    /* a newer value wins */
    b = traces_new("", 1);
    pd_span *s4 = span_add(b, "s", "", 400);
    event_add(b, s4, "genops.budget.evaluated",
              "genops.budget.name=monthly;genops.budget.group=a;genops.budget.window=2026-12;"
              "genops.budget.used=d:31");
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    assert_true(dval(metric_in(flush_get(&fx), 0, "genops.budget.used"), ma) == 31.0);
    /* a new window replaces the old one in the same series (no series per day) */
    b = traces_new("", 1);
    pd_span *s5 = span_add(b, "s", "", 500);
    event_add(b, s5, "genops.budget.evaluated",
              "genops.budget.name=monthly;genops.budget.group=a;genops.budget.window=2027-01;"
              "genops.budget.used=d:1");
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    used = metric_in(flush_get(&fx), 0, "genops.budget.used");
    assert_int_equal(used->n_dp, 3);
    assert_true(dval(used, "genops.budget.name=monthly,genops.budget.group=a,"
                           "genops.budget.window=2027-01") == 1.0);
    assert_null(dp_with(used, ma));
    conn_down(&fx);
}

static void test_policy_counts_from_events_else_attributes(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "", PD_TRACES);
    pd_batch *b = traces_new("", 3);
    pd_span *s1 = span_add(b, "s", "genops.policy.name=p2;genops.policy.result=blocked", 1);
    event_add(b, s1, "genops.policy.evaluated",
              "genops.policy.name=p1;genops.policy.result=passed");
    event_add(b, s1, "genops.policy.evaluated",
              "genops.policy.name=p2;genops.policy.result=blocked;genops.policy.reason=x");
    event_add(b, s1, "other.event", "genops.policy.name=p3;genops.policy.result=warning");
    span_add(b, "s", "genops.policy.name=p1;genops.policy.result=ALLOWED", 2);
    span_add(b, "s", "genops.policy.name=p3;genops.policy.result=Warning", 3);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    const pd_batch *out = flush_get(&fx);
    const pd_metric *ev = metric_in(out, 0, "genops.policy.evaluations");
    assert_int_equal(ev->n_dp, 3);
    assert_int_equal(ival(ev, "genops.policy.name=p1,genops.policy.result=passed"), 2);
    assert_int_equal(ival(ev, "genops.policy.name=p2,genops.policy.result=blocked"), 1);
    assert_int_equal(ival(ev, "genops.policy.name=p3,genops.policy.result=warning"), 1);
    const pd_metric *vi = metric_in(out, 0, "genops.policy.violations");
    assert_int_equal(vi->n_dp, 2);
    assert_int_equal(ival(vi, "genops.policy.name=p2,genops.policy.result=blocked"), 1);
    assert_int_equal(ival(vi, "genops.policy.name=p3,genops.policy.result=warning"), 1);
    conn_down(&fx);
}

static void test_eval_score_histogram(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "", PD_TRACES);
    pd_batch *b = traces_new("", 8);
    const double scores[] = {0.05, 0.1, 0.15, 0.95, 1.0, 1.5};
    char kv[200];
    for (int i = 0; i < 6; i++) {
        snprintf(kv, sizeof kv, "genops.eval.metric_name=faith;genops.eval.score=d:%g", scores[i]);
        span_add(b, "s", kv, 1);
    }
    span_add(b, "s", "genops.eval.metric=rel;genops.eval.score=d:0.5", 1);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    const pd_metric *h = metric_in(flush_get(&fx), 0, "genops.eval.score");
    assert_int_equal(h->type, PD_METRIC_HISTOGRAM);
    assert_int_equal(h->temporality, PD_TEMPORALITY_CUMULATIVE);
    const pd_histogram_dp *dp = hdp_with(h, "genops.eval.metric_name=faith");
    assert_non_null(dp);
    assert_int_equal(dp->n_explicit_bounds, 11);
    assert_int_equal(dp->n_bucket_counts, 12);
    const uint64_t want[12] = {0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 2, 1};
    for (int i = 0; i < 12; i++)
        assert_int_equal(dp->bucket_counts[i], want[i]);
    assert_int_equal(dp->count, 6);
    assert_true(dp->has_sum && fabs(dp->sum - 3.75) < 1e-12);
    const pd_histogram_dp *rel = hdp_with(h, "genops.eval.metric_name=rel");
    assert_non_null(rel);
    assert_int_equal(rel->bucket_counts[5], 1);
    conn_down(&fx);

    /* configured bounds */
    conn_up(&fx, D, "eval_score_buckets: [0.5, 0.9]\n", PD_TRACES);
    b = traces_new("", 3);
    span_add(b, "s", "genops.eval.metric_name=m;genops.eval.score=d:0.4", 1);
    span_add(b, "s", "genops.eval.metric_name=m;genops.eval.score=d:0.7", 1);
    span_add(b, "s", "genops.eval.metric_name=m;genops.eval.score=i:1", 1);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    dp = hdp_with(metric_in(flush_get(&fx), 0, "genops.eval.score"), "genops.eval.metric_name=m");
    assert_int_equal(dp->n_bucket_counts, 3);
    assert_int_equal(dp->bucket_counts[0], 1);
    assert_int_equal(dp->bucket_counts[1], 1);
    assert_int_equal(dp->bucket_counts[2], 1);
    conn_down(&fx);
}

/* The traces and logs instances of one connector ID share one accumulator; the timer flushes
 * periodically and shutdown flushes once more. */
static void test_logs_shared_state_timer_and_shutdown_flush(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "metrics_flush_interval: 30ms\ndimensions: [genops.team]\n", PD_TRACES);
    pl_component logs_inst = fx.c;
    logs_inst.signal = PD_LOGS;
    logs_inst.state = NULL;
    assert_int_equal(D->create(&logs_inst), GB_OK);
    assert_int_equal(D->start(&logs_inst, NULL), GB_OK);

    pd_batch *b = traces_new("", 1);
    span_add(b, "s", "genops.team=a;genops.cost.total=d:0.25", 1);
    assert_int_equal(conn_feed(&fx, b), GB_OK);
    pd_batch *lb = logs_new(2);
    log_add(lb, "genops.team=a;genops.cost.total=d:0.5", 2);
    log_add(lb, "genops.team=b;genops.cost.total=d:1", 3);
    assert_int_equal(D->consume(&logs_inst, lb), GB_OK);
    unsigned seen = sink_batches(&fx.out);
    WAIT_FOR(sink_batches(&fx.out) >= seen + 2, 3000); /* a flush that began after the feeds */
    assert_true(sink_batches(&fx.out) >= seen + 2);
    pthread_mutex_lock(&fx.out.mu);
    const pd_metric *cost = metric_in(fx.out.got[fx.out.n - 1], 0, "genops.cost");
    assert_true(dval(cost, "genops.team=a") == 0.75);
    assert_true(dval(cost, "genops.team=b") == 1.0);
    pthread_mutex_unlock(&fx.out.mu);

    /* the first instance to stop does not flush; the last one does */
    D->shutdown(&fx.c, gb_mono_ns() + GB_NS_PER_S);
    b = traces_new("", 1);
    span_add(b, "s", "genops.team=a;genops.cost.total=d:1", 4);
    assert_int_equal(D->consume(&logs_inst, b), GB_OK);
    unsigned before = sink_batches(&fx.out);
    D->shutdown(&logs_inst, gb_mono_ns() + GB_NS_PER_S);
    assert_int_equal(sink_batches(&fx.out), before + 1);
    cost = metric_in(last_out(&fx), 0, "genops.cost");
    assert_true(dval(cost, "genops.team=a") == 1.75);
    D->destroy(&logs_inst);
    conn_down(&fx);
}

typedef struct feeder {
    conn_fx *fx;
    int id;
} feeder;

static void *feed_main(void *arg)
{
    feeder *f = arg;
    for (int k = 0; k < 10; k++) {
        pd_batch *b = traces_new("", 100);
        for (int i = 0; i < 100; i++)
            span_add(b, "s",
                     i % 2 ? "genops.team=a;genops.cost.total=d:0.1"
                           : "genops.team=b;genops.cost.total=d:0.3;genops.tokens.input=i:7",
                     (uint64_t)(f->id * 1000 + k));
        conn_feed(f->fx, b);
    }
    return NULL;
}

/* consume from several threads at once, flushes in between: totals stay exact. */
static void test_concurrent_consume_is_exact(void **state)
{
    (void)state;
    conn_fx fx;
    conn_up(&fx, D, "metrics_flush_interval: 5ms\ndimensions: [genops.team]\n", PD_TRACES);
    pthread_t th[4];
    feeder f[4];
    for (int i = 0; i < 4; i++) {
        f[i] = (feeder){&fx, i};
        assert_int_equal(pthread_create(&th[i], NULL, feed_main, &f[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    const pd_batch *out = flush_get(&fx);
    const pd_metric *cost = metric_in(out, 0, "genops.cost");
    assert_true(dval(cost, "genops.team=a") == 200.0); /* 4 x 10 x 50 x 0.1 */
    assert_true(dval(cost, "genops.team=b") == 600.0);
    assert_int_equal(ival(metric_in(out, 0, "genops.tokens"), "genops.team=b,type=input"), 14000);
    assert_int_equal(ival(metric_in(out, 0, "genops.operations"), "genops.team=a"), 2000);
    conn_down(&fx);
}

/* A retried span (same trace_id and span_id) is counted once; with dedup_capacity 0, twice. */
static void test_retried_span_counted_once(void **state)
{
    (void)state;
    for (int off = 0; off < 2; off++) {
        conn_fx fx;
        conn_up(&fx, D,
                off ? "metrics_flush_interval: 1h\ndedup_capacity: 0\n"
                    : "metrics_flush_interval: 1h\n",
                PD_TRACES);
        for (int copy = 0; copy < 3; copy++) {
            pd_batch *b = traces_new("genops.environment=prod", 2);
            for (int i = 0; i < 2; i++) {
                pd_span *sp = span_add(b, "chat", "genops.team=a;genops.cost.total=d:0.25", 1000);
                sp->trace_id.b[0] = 0x11;
                sp->span_id.b[7] = (uint8_t)(i + 1);
            }
            assert_int_equal(conn_feed(&fx, b), GB_OK);
        }
        const pd_batch *out = flush_get(&fx);
        const pd_metric *cost = metric_in(out, 0, "genops.cost");
        const pd_metric *ops = metric_in(out, 0, "genops.operations");
        assert_true(dval(cost, "genops.team=a,genops.environment=prod") == (off ? 1.5 : 0.5));
        assert_int_equal(ival(ops, "genops.team=a,genops.environment=prod"), off ? 6 : 2);
        conn_down(&fx);
    }
}

static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"dimensions: genops.team\n", "test.yaml:1:13: error: connectors::x: dimensions: expected "
                                      "a list"},
        {"dimensions:\n  - {nme: genops.team}\n",
         "test.yaml:2:6: error: connectors::x: dimensions[0]: unknown key \"nme\""},
        {"dimensions: [genops.team, genops.team]\n", "\"genops.team\" is listed twice"},
        {"eval_score_buckets: [0.5, 0.2]\n",
         "test.yaml:1:27: error: connectors::x: eval_score_buckets[1]: expected a number greater"},
        {"top_k: 0\n", "test.yaml:1:8: error: connectors::x.top_k"},
        {"metrics_flush_interval: soon\n", "test.yaml:1:25: error: "},
        {"dimension: [a]\n", "unknown key \"dimension\" (did you mean \"dimensions\"?)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_config_error(D, cases[i].yaml, cases[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost_is_exact_and_cumulative),
        cmocka_unit_test(test_tokens_by_type_and_unpriced),
        cmocka_unit_test(test_top_k_overflow_into_other),
        cmocka_unit_test(test_repeated_values_in_one_batch),
        cmocka_unit_test(test_long_label_values_are_cut),
        cmocka_unit_test(test_max_series_aggregates_into_all_other),
        cmocka_unit_test(test_budget_gauges_latest_wins),
        cmocka_unit_test(test_policy_counts_from_events_else_attributes),
        cmocka_unit_test(test_eval_score_histogram),
        cmocka_unit_test(test_logs_shared_state_timer_and_shutdown_flush),
        cmocka_unit_test(test_concurrent_consume_is_exact),
        cmocka_unit_test(test_retried_span_counted_once),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
