/* Budget store: charging, de-dup, thresholds, status, groups, matching, JSON, rolling windows,
 * persistence across close/reopen (temp dir under $TMPDIR), concurrency, and a timing printout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "gov_test_util.h"
#include "governance/gov_budget.h"

#define T0  1795608000LL /* 2026-11-25T12:00:00Z */
#define USD 1000000000LL

static gov_budget_def mkdef(const char *name, int64_t limit, gov_window_kind kind)
{
    gov_budget_def d;
    memset(&d, 0, sizeof d);
    d.name = name;
    d.limit_nusd = limit;
    d.window.kind = kind;
    return d;
}

static void ids(uint64_t n, pd_trace_id *tid, pd_span_id *sid)
{
    memset(tid, 0, sizeof *tid);
    memset(sid, 0, sizeof *sid);
    tid->b[0] = 0xAB;
    memcpy(tid->b + 8, &n, 8);
    memcpy(sid->b, &n, 8);
    sid->b[7] ^= 0x5A;
}

static gov_budgets *open_mem(const gov_budget_def *defs, uint32_t n)
{
    gov_budgets *b = NULL;
    char err[256];
    gov_budgets_opts o = {0};
    assert_int_equal(gov_budgets_open(defs, n, &o, &b, err, sizeof err), GB_OK);
    return b;
}

static gb_status charge(gov_budgets *b, uint32_t i, const char *group, uint64_t id, int64_t t,
                        int64_t cost, gov_budget_state *s)
{
    pd_trace_id tid;
    pd_span_id sid;
    ids(id, &tid, &sid);
    return gov_budgets_charge(b, i, gb_str_c(group), &tid, &sid, t, cost, s);
}

static void test_exact_sums_and_status(void **state)
{
    (void)state;
    gov_budget_def d = mkdef("daily", USD, GOV_WINDOW_DAY);
    gov_budgets *b = open_mem(&d, 1);
    gov_budget_state s;
    double crossed[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(charge(b, 0, "", (uint64_t)i + 1, T0, 333333333, &s), GB_OK);
        crossed[i] = s.crossed_threshold;
        assert_false(s.duplicate);
    }
    assert_int_equal(s.used_nusd, 999999999);
    assert_int_equal(s.remaining_nusd, 1);
    assert_int_equal(s.limit_nusd, USD);
    assert_string_equal(s.window_id, "2026-11-25");
    assert_int_equal(s.window_start, 1795564800);
    assert_int_equal(s.window_end, 1795651200);
    assert_ptr_equal(s.def, &d);
    assert_string_equal(s.group, "");
    assert_true(crossed[0] == -1); /* 33 % */
    assert_true(crossed[1] == 50); /* 66 %: only 50 */
    assert_true(crossed[2] == 95); /* 99.99 %: 80 and 95 at once, the highest reported */
    assert_int_equal(s.status, GOV_BUDGET_WARNING);
    assert_true(s.utilization > 99.9999 && s.utilization < 100);
    assert_int_equal(charge(b, 0, "", 4, T0, 1, &s), GB_OK);
    assert_int_equal(s.used_nusd, USD);
    assert_int_equal(s.remaining_nusd, 0);
    assert_int_equal(s.status, GOV_BUDGET_EXCEEDED);
    assert_true(s.crossed_threshold == 100);
    assert_int_equal(charge(b, 0, "", 5, T0, USD, &s), GB_OK);
    assert_int_equal(s.remaining_nusd, -USD);
    assert_true(s.utilization == 200);
    assert_true(s.crossed_threshold == -1);
    /* the next day starts from zero and alerts again */
    assert_int_equal(charge(b, 0, "", 6, T0 + 86400, USD / 2, &s), GB_OK);
    assert_string_equal(s.window_id, "2026-11-26");
    assert_int_equal(s.used_nusd, USD / 2);
    assert_true(s.crossed_threshold == 50);
    assert_int_equal(s.status, GOV_BUDGET_WARNING);
    /* a late span for the previous day still lands in that day */
    assert_int_equal(charge(b, 0, "", 7, T0, 1, &s), GB_OK);
    assert_string_equal(s.window_id, "2026-11-25");
    assert_int_equal(s.used_nusd, 2 * USD + 1);
    gov_budgets_close(b);
}

static void test_status_transitions(void **state)
{
    (void)state;
    gov_budget_def d[3] = {mkdef("default", 1000, GOV_WINDOW_MONTH),
                           mkdef("ninety", 1000, GOV_WINDOW_MONTH),
                           mkdef("hundred", 1000, GOV_WINDOW_MONTH)};
    d[1].thresholds[0] = 90;
    d[1].thresholds[1] = 100;
    d[1].n_thresholds = 2;
    d[2].thresholds[0] = 100;
    d[2].thresholds[1] = 150;
    d[2].n_thresholds = 2;
    gov_budgets *b = open_mem(d, 3);
    gov_budget_state s;
    const struct {
        int64_t add;
        gov_budget_status st[3];
    } steps[] = {
        {499, {GOV_BUDGET_OK, GOV_BUDGET_OK, GOV_BUDGET_OK}},
        {1, {GOV_BUDGET_WARNING, GOV_BUDGET_OK, GOV_BUDGET_OK}},       /* 50 % */
        {399, {GOV_BUDGET_WARNING, GOV_BUDGET_OK, GOV_BUDGET_OK}},     /* 89.9 % */
        {1, {GOV_BUDGET_WARNING, GOV_BUDGET_WARNING, GOV_BUDGET_OK}},  /* 90 % */
        {99, {GOV_BUDGET_WARNING, GOV_BUDGET_WARNING, GOV_BUDGET_OK}}, /* 99.9 % */
        {1, {GOV_BUDGET_EXCEEDED, GOV_BUDGET_EXCEEDED, GOV_BUDGET_EXCEEDED}},
    };
    uint64_t id = 1;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        for (uint32_t i = 0; i < 3; i++) {
            assert_int_equal(charge(b, i, "", id++, T0, steps[k].add, &s), GB_OK);
            assert_int_equal(s.status, steps[k].st[i]);
        }
    }
    assert_int_equal(charge(b, 2, "", id++, T0, 500, &s), GB_OK);
    assert_true(s.crossed_threshold == 150);
    assert_string_equal(gov_budget_status_str(GOV_BUDGET_OK), "ok");
    assert_string_equal(gov_budget_status_str(GOV_BUDGET_WARNING), "warning");
    assert_string_equal(gov_budget_status_str(GOV_BUDGET_EXCEEDED), "exceeded");
    gov_budgets_close(b);
}

static void test_dedup(void **state)
{
    (void)state;
    gov_budget_def d[2] = {mkdef("a", USD, GOV_WINDOW_DAY), mkdef("b", USD, GOV_WINDOW_DAY)};
    gov_budgets *b = open_mem(d, 2);
    gov_budget_state s;
    assert_int_equal(charge(b, 0, "", 42, T0, 600000000, &s), GB_OK);
    assert_false(s.duplicate);
    assert_true(s.crossed_threshold == 50);
    assert_int_equal(charge(b, 0, "", 42, T0, 600000000, &s), GB_OK);
    assert_true(s.duplicate);
    assert_int_equal(s.used_nusd, 600000000);
    assert_true(s.crossed_threshold == -1);
    assert_int_equal(s.status, GOV_BUDGET_WARNING);
    /* same span, other budget: charged there */
    assert_int_equal(charge(b, 1, "", 42, T0, 600000000, &s), GB_OK);
    assert_false(s.duplicate);
    assert_int_equal(s.used_nusd, 600000000);
    /* all-zero ids are never de-duplicated */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(gov_budgets_charge(b, 0, GB_STR_LIT(""), NULL, NULL, T0, 1, &s), GB_OK);
        assert_false(s.duplicate);
    }
    pd_trace_id zt = {{0}};
    pd_span_id zs = {{0}};
    assert_int_equal(gov_budgets_charge(b, 0, GB_STR_LIT(""), &zt, &zs, T0, 1, &s), GB_OK);
    assert_false(s.duplicate);
    assert_int_equal(s.used_nusd, 600000003);
    /* only the span id differs: different charge */
    pd_trace_id tid;
    pd_span_id sid;
    ids(42, &tid, &sid);
    sid.b[0] ^= 1;
    assert_int_equal(gov_budgets_charge(b, 0, GB_STR_LIT(""), &tid, &sid, T0, 1, &s), GB_OK);
    assert_false(s.duplicate);
    /* errors */
    assert_int_equal(charge(b, 2, "", 1, T0, 1, &s), GB_ERR_INVALID);
    assert_int_equal(charge(b, 0, "", 1, T0, -1, &s), GB_ERR_INVALID);
    assert_int_equal(charge(b, 0, "", 1, -5, 1, &s), GB_ERR_INVALID);
    assert_int_equal(charge(b, 0, "", 1, 253402300800LL, 1, &s), GB_ERR_INVALID);
    gov_budgets_close(b);
}

static void test_dedup_capacity(void **state)
{
    (void)state;
    gov_budget_def d = mkdef("cap", USD, GOV_WINDOW_DAY);
    gov_budgets *b = NULL;
    char err[256];
    gov_budgets_opts o = {.dedup_capacity = 1000};
    assert_int_equal(gov_budgets_open(&d, 1, &o, &b, err, sizeof err), GB_OK);
    gov_budget_state s;
    for (uint64_t i = 0; i < 3000; i++)
        assert_int_equal(charge(b, 0, "", i, T0, 1, &s), GB_OK);
    assert_int_equal(s.used_nusd, 3000);
    /* the newest 1000 are remembered, older ones were evicted */
    for (uint64_t i = 2000; i < 3000; i++) {
        assert_int_equal(charge(b, 0, "", i, T0, 1, &s), GB_OK);
        assert_true(s.duplicate);
    }
    assert_int_equal(charge(b, 0, "", 5, T0, 1, &s), GB_OK);
    assert_false(s.duplicate);
    assert_int_equal(s.used_nusd, 3001);
    gov_budgets_close(b);
}

static void test_dedup_horizon(void **state)
{
    (void)state;
    gov_budget_def d = mkdef("horizon", USD, GOV_WINDOW_DAY);
    gov_budgets *b = NULL;
    char err[256];
    gov_budgets_opts o = {.dedup_horizon_sec = 1};
    assert_int_equal(gov_budgets_open(&d, 1, &o, &b, err, sizeof err), GB_OK);
    gov_budget_state s;
    assert_int_equal(charge(b, 0, "", 1, T0, 1, &s), GB_OK);
    assert_int_equal(charge(b, 0, "", 1, T0, 1, &s), GB_OK);
    assert_true(s.duplicate);
    usleep(2100 * 1000); /* past the horizon: a retry is charged again, then remembered again */
    assert_int_equal(charge(b, 0, "", 1, T0, 1, &s), GB_OK);
    assert_false(s.duplicate);
    assert_int_equal(charge(b, 0, "", 1, T0, 1, &s), GB_OK);
    assert_true(s.duplicate);
    assert_int_equal(charge(b, 0, "", 2, T0, 1, &s), GB_OK);
    assert_int_equal(charge(b, 0, "", 1, T0, 1, &s), GB_OK);
    assert_true(s.duplicate);
    assert_int_equal(s.used_nusd, 3);
    gov_budgets_close(b);
}

static void test_groups(void **state)
{
    (void)state;
    gov_budget_def d = mkdef("per-team", USD, GOV_WINDOW_DAY);
    d.group_by = "genops.team";
    pd_kv si[] = {KV_I("genops.team", 42)};
    pd_kv sd[] = {KV_D("genops.team", 0.5)};
    pd_kv sb[] = {KV_B("genops.team", true)};
    pd_kv ss[] = {KV_S("genops.team", "search")};
    pd_kv sn[] = {KV_S("other", "x")};
    pd_kv rs[] = {KV_S("genops.team", "from-resource")};
    pd_attrs ai = ATTRS(si), ad = ATTRS(sd), ab = ATTRS(sb), as = ATTRS(ss), an = ATTRS(sn),
             ar = ATTRS(rs);
    gb_str g = gov_budget_group(&d, &ai, NULL);
    assert_true(gb_str_eq_c(g, "42"));
    g = gov_budget_group(&d, &ad, NULL);
    assert_true(gb_str_eq_c(g, "0.5"));
    g = gov_budget_group(&d, &ab, NULL);
    assert_true(gb_str_eq_c(g, "true"));
    g = gov_budget_group(&d, &as, &ar);
    assert_true(gb_str_eq_c(g, "search"));
    assert_ptr_equal(g.ptr, ss[0].value.u.str.ptr); /* a view into the attributes */
    g = gov_budget_group(&d, &an, &ar);
    assert_true(gb_str_eq_c(g, "from-resource"));
    g = gov_budget_group(&d, &an, NULL);
    assert_true(gb_str_eq_c(g, "unknown"));
    gov_budget_def nog = mkdef("all", USD, GOV_WINDOW_DAY);
    g = gov_budget_group(&nog, &ai, NULL);
    assert_int_equal(g.len, 0);
    pd_kv big[] = {KV_D("genops.team", 1e21), KV_D("x", 123456789.0)};
    pd_attrs abig = ATTRS(big);
    g = gov_budget_group(&d, &abig, NULL);
    assert_true(gb_str_eq_c(g, "1000000000000000000000"));

    gov_budgets *b = open_mem(&d, 1);
    gov_budget_state s;
    g = gov_budget_group(&d, &ai, NULL);
    assert_int_equal(gov_budgets_charge(b, 0, g, NULL, NULL, T0, 700000000, &s), GB_OK);
    assert_string_equal(s.group, "42");
    assert_int_equal(charge(b, 0, "search", 1, T0, 100, &s), GB_OK);
    assert_int_equal(s.used_nusd, 100);
    assert_string_equal(s.group, "search");
    assert_int_equal(charge(b, 0, "42", 2, T0, 1, &s), GB_OK);
    assert_int_equal(s.used_nusd, 700000001);
    /* long group values are truncated at a UTF-8 boundary */
    char longg[300];
    memset(longg, 'a', sizeof longg);
    memcpy(longg + 126, "\xc3\xa9", 2); /* é straddling byte 127 */
    longg[299] = 0;
    assert_int_equal(charge(b, 0, longg, 3, T0, 5, &s), GB_OK);
    assert_int_equal(strlen(s.group), 126);
    gov_budgets_close(b);
}

typedef struct collected {
    gov_budget_state v[16];
    int n;
} collected;

static void collect(const gov_budget_state *s, void *arg)
{
    collected *c = arg;
    if (c->n < 16) c->v[c->n++] = *s;
}

static void test_list(void **state)
{
    (void)state;
    gov_budget_def d[3] = {mkdef("total", 10 * USD, GOV_WINDOW_MONTH),
                           mkdef("teams", USD, GOV_WINDOW_DAY),
                           mkdef("rolling", USD, GOV_WINDOW_ROLLING)};
    d[1].group_by = "genops.team";
    d[2].window.rolling_sec = 3600;
    gov_budgets *b = open_mem(d, 3);
    collected c = {0};
    assert_int_equal(gov_budgets_list(b, T0, collect, &c), GB_OK);
    assert_int_equal(c.n, 2); /* budgets without group_by always report one counter */
    assert_string_equal(c.v[0].def->name, "total");
    assert_int_equal(c.v[0].used_nusd, 0);
    assert_string_equal(c.v[0].window_id, "2026-11");
    assert_int_equal(c.v[0].status, GOV_BUDGET_OK);
    assert_string_equal(c.v[1].def->name, "rolling");
    assert_string_equal(c.v[1].window_id, "rolling-1h");
    gov_budget_state s;
    assert_int_equal(charge(b, 1, "zeta", 1, T0, 3, &s), GB_OK);
    assert_int_equal(charge(b, 1, "alpha", 2, T0, 4, &s), GB_OK);
    assert_int_equal(charge(b, 1, "alpha", 3, T0 - 86400, 4, &s), GB_OK); /* yesterday */
    assert_int_equal(charge(b, 0, "", 4, T0, 5, &s), GB_OK);
    memset(&c, 0, sizeof c);
    assert_int_equal(gov_budgets_list(b, T0, collect, &c), GB_OK);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.v[0].def->name, "total");
    assert_int_equal(c.v[0].used_nusd, 5);
    assert_string_equal(c.v[1].group, "alpha");
    assert_int_equal(c.v[1].used_nusd, 4);
    assert_string_equal(c.v[2].group, "zeta");
    assert_int_equal(c.v[2].used_nusd, 3);
    assert_string_equal(c.v[3].def->name, "rolling");
    assert_int_equal(gov_budgets_count(b), 3);
    assert_ptr_equal(gov_budgets_def(b, 1), &d[1]);
    assert_null(gov_budgets_def(b, 3));
    gov_budgets_close(b);
}

static void test_match(void **state)
{
    (void)state;
    gov_budget_def d = mkdef("m", USD, GOV_WINDOW_DAY);
    pd_kv span[] = {KV_S("genops.team", "search"), KV_I("genops.tier", 2),
                    KV_B("genops.prod", true)};
    pd_kv res[] = {KV_S("genops.environment", "prod"), KV_S("genops.team", "ignored")};
    pd_attrs as = ATTRS(span), ar = ATTRS(res);
    assert_true(gov_budget_matches(&d, &as, &ar)); /* no match = every span */
    d.match[0] = (gov_attr_match){"genops.team", "search"};
    d.n_match = 1;
    assert_true(gov_budget_matches(&d, &as, &ar));
    d.match[1] = (gov_attr_match){"genops.environment", "prod"}; /* from the resource */
    d.n_match = 2;
    assert_true(gov_budget_matches(&d, &as, &ar));
    assert_false(gov_budget_matches(&d, &as, NULL));
    d.match[2] = (gov_attr_match){"genops.tier", "2"};
    d.match[3] = (gov_attr_match){"genops.prod", "true"};
    d.n_match = 4;
    assert_true(gov_budget_matches(&d, &as, &ar));
    d.match[3].value = "false";
    assert_false(gov_budget_matches(&d, &as, &ar)); /* AND: one mismatch fails */
    d.match[3].value = "true";
    d.match[0].value = "ignored"; /* the span attribute wins over the resource */
    assert_false(gov_budget_matches(&d, &as, &ar));
    d.match[0] = (gov_attr_match){"absent", "x"};
    assert_false(gov_budget_matches(&d, &as, &ar));
}

static void test_json(void **state)
{
    (void)state;
    gov_budget_def d = mkdef("team \"a\"", 100 * USD, GOV_WINDOW_MONTH);
    d.group_by = "genops.team";
    gov_budgets *b = open_mem(&d, 1);
    gov_budget_state s;
    assert_int_equal(charge(b, 0, "search", 1, T0, 12500000000LL + 3, &s), GB_OK);
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    assert_int_equal(gov_budget_state_json(&s, &out), GB_OK);
    assert_string_equal(out.data,
                        "{\"name\":\"team \\\"a\\\"\",\"group\":\"search\",\"window\":\"2026-11\","
                        "\"window_start\":\"2026-11-01T00:00:00Z\",\"reset_at\":\"2026-12-01T00:"
                        "00:00Z\",\"limit\":100,\"used\":12.500000003,\"remaining\":87.499999997,"
                        "\"utilization\":12.500000003,\"status\":\"ok\",\"currency\":\"USD\"}");
    assert_int_equal(charge(b, 0, "search", 2, T0, 100 * USD, &s), GB_OK);
    gb_sbuf_reset(&out);
    assert_int_equal(gov_budget_state_json(&s, &out), GB_OK);
    assert_non_null(strstr(out.data, "\"remaining\":-12.500000003,"));
    assert_non_null(strstr(out.data, "\"status\":\"exceeded\""));
    gb_sbuf_free(&out);
    gov_budgets_close(b);
}

static void test_rolling(void **state)
{
    (void)state;
    gov_budget_def d = mkdef("hourly", 1000, GOV_WINDOW_ROLLING);
    d.window.rolling_sec = 3600; /* buckets of 60 s */
    gov_budgets *b = open_mem(&d, 1);
    gov_budget_state s;
    int64_t t = T0; /* a bucket boundary */
    assert_int_equal(charge(b, 0, "", 1, t, 300, &s), GB_OK);
    assert_string_equal(s.window_id, "rolling-1h");
    assert_int_equal(s.window_start, t - 3600);
    assert_int_equal(s.window_end, t);
    assert_int_equal(charge(b, 0, "", 2, t + 1800, 300, &s), GB_OK);
    assert_int_equal(s.used_nusd, 600);
    assert_true(s.crossed_threshold == 50);
    assert_int_equal(charge(b, 0, "", 3, t + 3599, 100, &s), GB_OK);
    assert_int_equal(s.used_nusd, 700);
    /* an hour after the first charge, it has left the window */
    assert_int_equal(charge(b, 0, "", 4, t + 3600, 0, &s), GB_OK);
    assert_int_equal(s.used_nusd, 400);
    collected c = {0};
    assert_int_equal(gov_budgets_list(b, t + 1800 + 3600, collect, &c), GB_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.v[0].used_nusd, 100);
    /* utilization fell below 50 %: crossing it again alerts again */
    assert_int_equal(charge(b, 0, "", 5, t + 5400, 450, &s), GB_OK);
    assert_int_equal(s.used_nusd, 550);
    assert_true(s.crossed_threshold == 50);
    assert_int_equal(charge(b, 0, "", 8, -3600, 1, &s), GB_ERR_INVALID);
    /* a charge older than the ring is not counted; out-of-order within it is */
    assert_int_equal(charge(b, 0, "", 6, t - 86400, 999, &s), GB_OK);
    assert_int_equal(s.used_nusd, 550);
    assert_int_equal(charge(b, 0, "", 7, t + 4000, 10, &s), GB_OK);
    assert_int_equal(s.used_nusd, 560);
    gov_budgets_close(b);
}

static void test_open_errors(void **state)
{
    (void)state;
    gov_budgets *b = NULL;
    char err[256];
    gov_budgets_opts o = {0};
    gov_budget_def d = mkdef("x", 0, GOV_WINDOW_DAY);
    assert_int_equal(gov_budgets_open(&d, 1, &o, &b, err, sizeof err), GB_ERR_INVALID);
    assert_null(b);
    d.limit_nusd = 1;
    d.thresholds[0] = 80;
    d.thresholds[1] = 50;
    d.n_thresholds = 2;
    assert_int_equal(gov_budgets_open(&d, 1, &o, &b, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "ascending"));
    d.n_thresholds = 0;
    d.window.kind = GOV_WINDOW_ROLLING;
    d.window.rolling_sec = 10;
    assert_int_equal(gov_budgets_open(&d, 1, &o, &b, err, sizeof err), GB_ERR_INVALID);
    d.window.kind = GOV_WINDOW_DAY;
    gov_budget_def two[2] = {mkdef("same", 1, GOV_WINDOW_DAY), mkdef("same", 2, GOV_WINDOW_DAY)};
    assert_int_equal(gov_budgets_open(two, 2, &o, &b, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "defined twice"));
    two[1].name = "other";
    two[1].match[0].key = "k";
    two[1].n_match = 1;
    assert_int_equal(gov_budgets_open(two, 2, &o, &b, err, sizeof err), GB_ERR_INVALID);
    assert_null(b);
    /* counter limit */
    o.max_counters = 2;
    assert_int_equal(gov_budgets_open(&d, 1, &o, &b, err, sizeof err), GB_OK);
    gov_budget_state s;
    int64_t today = (int64_t)time(NULL) / 86400 * 86400 + 43200;
    assert_int_equal(charge(b, 0, "", 1, today, 1, &s), GB_OK);
    assert_int_equal(charge(b, 0, "", 2, today + 86400, 1, &s), GB_OK);
    assert_int_equal(charge(b, 0, "", 3, today + 2 * 86400, 1, &s), GB_ERR_LIMIT);
    gov_budgets_close(b);
    /* counters of windows that ended more than an hour ago make room */
    assert_int_equal(gov_budgets_open(&d, 1, &o, &b, err, sizeof err), GB_OK);
    assert_int_equal(charge(b, 0, "", 1, T0 - 86400, 1, &s), GB_OK);
    assert_int_equal(charge(b, 0, "", 2, T0, 1, &s), GB_OK);
    assert_int_equal(charge(b, 0, "", 3, today, 1, &s), GB_OK);
    assert_int_equal(s.used_nusd, 1);
    gov_budgets_close(b);
    gov_budgets_close(NULL);
}

/* ---- persistence ----------------------------------------------------------------------------- */

static char g_dir[512];

static void rm_store(void)
{
    const char *files[] = {"data/budgets.db", "data/budgets.db-wal", "data/budgets.db-shm",
                           "bad.db"};
    char p[700];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/data", g_dir);
    rmdir(p);
}

static int setup_dir(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/gov_budget_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    rm_store();
    return rmdir(g_dir);
}

static gov_budgets *open_db(const gov_budget_def *d, uint32_t n, int64_t flush_ms)
{
    char path[600];
    snprintf(path, sizeof path, "%s/data/budgets.db", g_dir);
    gov_budgets_opts o = {.db_path = path, .flush_interval_ms = flush_ms};
    gov_budgets *b = NULL;
    char err[256];
    gb_status st = gov_budgets_open(d, n, &o, &b, err, sizeof err);
    if (st != GB_OK) fprintf(stderr, "open: %s\n", err);
    assert_int_equal(st, GB_OK);
    return b;
}

static void test_persistence(void **state)
{
    (void)state;
    rm_store();
    int64_t now = (int64_t)time(NULL);
    int64_t t = now / 86400 * 86400 + 43200; /* noon today: the window is current */
    gov_budget_def d[3] = {mkdef("daily", 1000, GOV_WINDOW_DAY),
                           mkdef("teams", 1000, GOV_WINDOW_MONTH),
                           mkdef("rolling", 1000, GOV_WINDOW_ROLLING)};
    d[1].group_by = "genops.team";
    d[2].window.rolling_sec = 7 * 86400;
    gov_budgets *b = open_db(d, 3, 60000);
    gov_budget_state s;
    assert_int_equal(charge(b, 0, "", 1, t, 333, &s), GB_OK);
    assert_int_equal(charge(b, 0, "", 2, t, 333, &s), GB_OK);
    assert_true(s.crossed_threshold == 50);
    assert_int_equal(charge(b, 1, "search", 1, t, 810, &s), GB_OK);
    assert_true(s.crossed_threshold == 80);
    assert_int_equal(charge(b, 1, "ads", 3, t, 10, &s), GB_OK);
    assert_int_equal(charge(b, 2, "", 4, now, 600, &s), GB_OK);
    assert_true(s.crossed_threshold == 50);
    assert_int_equal(gov_budgets_flush(b), GB_OK);
    assert_int_equal(charge(b, 0, "", 5, t, 1, &s), GB_OK); /* written by close */
    gov_budgets_close(b);

    /* reopen with a changed limit for "daily": the used amount is kept */
    d[0].limit_nusd = 2000;
    b = open_db(d, 3, 60000);
    collected c = {0};
    assert_int_equal(gov_budgets_list(b, now, collect, &c), GB_OK);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.v[0].def->name, "daily");
    assert_int_equal(c.v[0].used_nusd, 667);
    assert_int_equal(c.v[0].limit_nusd, 2000);
    assert_string_equal(c.v[1].group, "ads");
    assert_int_equal(c.v[1].used_nusd, 10);
    assert_string_equal(c.v[2].group, "search");
    assert_int_equal(c.v[2].used_nusd, 810);
    assert_string_equal(c.v[3].def->name, "rolling");
    assert_int_equal(c.v[3].used_nusd, 600);
    /* de-dup ids survived */
    assert_int_equal(charge(b, 0, "", 1, t, 333, &s), GB_OK);
    assert_true(s.duplicate);
    assert_int_equal(s.used_nusd, 667);
    assert_int_equal(charge(b, 1, "search", 1, t, 810, &s), GB_OK);
    assert_true(s.duplicate);
    assert_int_equal(charge(b, 0, "", 5, t, 1, &s), GB_OK);
    assert_true(s.duplicate);
    /* alerted thresholds survived: 80 is not reported again, 95 is */
    assert_int_equal(charge(b, 1, "search", 10, t, 50, &s), GB_OK);
    assert_int_equal(s.used_nusd, 860);
    assert_true(s.crossed_threshold == -1);
    assert_int_equal(charge(b, 1, "search", 11, t, 100, &s), GB_OK);
    assert_true(s.crossed_threshold == 95);
    /* the limit doubled: 1000 of 2000 is 50 %, which was already alerted in this window */
    assert_int_equal(charge(b, 0, "", 12, t, 333, &s), GB_OK);
    assert_true(s.crossed_threshold == -1);
    assert_int_equal(charge(b, 2, "", 13, now, 300, &s), GB_OK);
    assert_int_equal(s.used_nusd, 900);
    assert_true(s.crossed_threshold == 80);
    gov_budgets_close(b);

    /* a third run sees the second run's charges; the background flusher writes them too */
    b = open_db(d, 3, 20);
    assert_int_equal(charge(b, 1, "search", 11, t, 100, &s), GB_OK);
    assert_true(s.duplicate);
    assert_int_equal(s.used_nusd, 960);
    assert_int_equal(charge(b, 0, "", 20, t, 1, &s), GB_OK);
    assert_int_equal(s.used_nusd, 1001);
    usleep(200 * 1000); /* several flush intervals */
    /* a store opened on the same file while this one runs sees the flushed charge */
    gov_budgets *b2 = open_db(d, 3, 60000);
    assert_int_equal(charge(b2, 0, "", 20, t, 1, &s), GB_OK);
    assert_true(s.duplicate);
    assert_int_equal(s.used_nusd, 1001);
    gov_budgets_close(b2);
    gov_budgets_close(b);
}

static void test_db_errors(void **state)
{
    (void)state;
    gov_budget_def d = mkdef("x", 1000, GOV_WINDOW_DAY);
    gov_budgets *b = NULL;
    char err[256], path[700];
    snprintf(path, sizeof path, "%s/missing/two/levels.db", g_dir);
    gov_budgets_opts o = {.db_path = path};
    assert_int_equal(gov_budgets_open(&d, 1, &o, &b, err, sizeof err), GB_ERR_IO);
    assert_null(b);
    assert_non_null(strstr(err, "cannot create directory"));
    snprintf(path, sizeof path, "%s/bad.db", g_dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 100; i++)
        fputs("this is not an SQLite database file\n", f);
    fclose(f);
    assert_int_equal(gov_budgets_open(&d, 1, &o, &b, err, sizeof err), GB_ERR_IO);
    assert_null(b);
    assert_non_null(strstr(err, "budget store"));
}

/* ---- concurrency and timing ------------------------------------------------------------------ */

typedef struct worker {
    gov_budgets *b;
    uint64_t base;
    int n;
    gb_status st;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    gov_budget_state s;
    for (int i = 0; i < w->n; i++) {
        gb_status st = charge(w->b, 0, (i & 1) ? "odd" : "even", w->base + (uint64_t)i, T0, 7, &s);
        if (st != GB_OK || s.duplicate) w->st = st != GB_OK ? st : GB_ERR_EXISTS;
    }
    return NULL;
}

typedef struct lister {
    gov_budgets *b;
    volatile int stop;
    int calls;
    bool monotonic;
} lister;

static void sum_used(const gov_budget_state *s, void *arg)
{
    *(int64_t *)arg += s->used_nusd;
}

static void *list_loop(void *arg)
{
    lister *l = arg;
    int64_t last = 0;
    l->monotonic = true;
    while (!__atomic_load_n(&l->stop, __ATOMIC_ACQUIRE)) {
        int64_t sum = 0;
        if (gov_budgets_list(l->b, T0, sum_used, &sum) != GB_OK || sum < last) l->monotonic = false;
        last = sum;
        l->calls++;
    }
    return NULL;
}

static void test_concurrency(void **state)
{
    (void)state;
    rm_store();
    gov_budget_def d = mkdef("shared", 1000 * USD, GOV_WINDOW_DAY);
    d.group_by = "k";
    gov_budgets *b = open_db(&d, 1, 5); /* the flusher runs all the time */
    pthread_t th[2];
    worker w[2] = {{b, 0, 100000, GB_OK}, {b, 1u << 30, 100000, GB_OK}};
    lister l = {.b = b};
    pthread_t lt;
    assert_int_equal(pthread_create(&lt, NULL, list_loop, &l), 0); /* the budget API, meanwhile */
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].st, GB_OK);
    }
    __atomic_store_n(&l.stop, 1, __ATOMIC_RELEASE);
    pthread_join(lt, NULL);
    assert_true(l.monotonic);
    assert_true(l.calls > 0);
    collected c = {0};
    assert_int_equal(gov_budgets_list(b, T0, collect, &c), GB_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.v[0].used_nusd + c.v[1].used_nusd, 7 * 200000);
    assert_int_equal(c.v[0].used_nusd, 7 * 100000);
    gov_budgets_close(b);
    /* the database has the exact sum, written as deltas by many concurrent flushes */
    char path[600];
    snprintf(path, sizeof path, "%s/data/budgets.db", g_dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT sum(used), count(*) FROM counters WHERE "
                                        "budget = 'shared' AND window = '2026-11-25'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 7 * 200000);
    assert_int_equal(sqlite3_column_int64(st, 1), 2);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM charges", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 200000);
    sqlite3_finalize(st);
    sqlite3_close(db);
    b = open_db(&d, 1, 60000);
    gov_budget_state s;
    assert_int_equal(charge(b, 0, "even", 0, T0, 7, &s), GB_OK);
    assert_true(s.duplicate); /* ids are loaded whatever the window */
    gov_budgets_close(b);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void test_timing(void **state)
{
    (void)state;
    gov_budget_def d = mkdef("timed", 1000 * USD, GOV_WINDOW_DAY);
    d.group_by = "genops.team";
    gov_budgets *b = open_mem(&d, 1); /* default de-dup capacity: one million keys */
    gov_budget_state s;
    const int n = 500000;
    double ns[4];
    uint64_t id = 1;
    for (int pass = 0; pass < 3; pass++) {
        double t0 = now_ns();
        for (int i = 0; i < n; i++)
            charge(b, 0, "search", id++, T0 + (i & 1023), 1, &s);
        ns[pass] = (now_ns() - t0) / n;
    }
    double t0 = now_ns();
    for (int i = 0; i < n; i++)
        gov_budgets_charge(b, 0, GB_STR_LIT("search"), NULL, NULL, T0, 1, &s);
    ns[3] = (now_ns() - t0) / n;
    assert_int_equal(s.used_nusd, 4 * n);
    gov_budgets_close(b);
    /* a de-dup set that fits in the caches: what the charge costs besides memory latency */
    char err[256];
    gov_budgets_opts o = {.dedup_capacity = 16384};
    assert_int_equal(gov_budgets_open(&d, 1, &o, &b, err, sizeof err), GB_OK);
    for (int i = 0; i < 20000; i++)
        charge(b, 0, "search", id++, T0, 1, &s);
    t0 = now_ns();
    for (int i = 0; i < n; i++)
        charge(b, 0, "search", id++, T0 + (i & 1023), 1, &s);
    double small = (now_ns() - t0) / n;
    printf("timing (uncontended, ns per charge): with de-dup over 1M keys %.0f (first 500k keys, "
           "fresh pages), %.0f (next 500k), %.0f (ring full, evicting); with de-dup over 16k keys "
           "%.0f; without ids %.0f\n",
           ns[0], ns[1], ns[2], small, ns[3]);
    gov_budgets_close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_sums_and_status),
        cmocka_unit_test(test_status_transitions),
        cmocka_unit_test(test_dedup),
        cmocka_unit_test(test_dedup_capacity),
        cmocka_unit_test(test_dedup_horizon),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_rolling),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_db_errors),
        cmocka_unit_test(test_concurrency),
        cmocka_unit_test(test_timing),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
