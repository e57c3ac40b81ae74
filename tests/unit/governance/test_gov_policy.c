#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "gov_test_util.h"
#include "governance/gov_policy.h"

#define SEC 1000000000ll

/* ---- helpers ----------------------------------------------------------------------------- */

static gov_policy_def def_of(const char *name, gov_policy_kind kind)
{
    gov_policy_def d;
    memset(&d, 0, sizeof(d));
    d.name = name;
    d.kind = kind;
    d.enabled = true;
    return d;
}

static gov_policies *make(const gov_policy_def *defs, uint32_t n)
{
    gov_policies *p = NULL;
    for (uint32_t i = 0; i < n; i++) {
        char err[128];
        gb_status st = gov_policy_check(&defs[i], err, sizeof(err));
        if (st != GB_OK) fail_msg("check %s: %s", defs[i].name, err);
    }
    assert_int_equal(gov_policies_new(defs, n, &p), GB_OK);
    assert_non_null(p);
    assert_int_equal(gov_policies_count(p), n);
    return p;
}

typedef struct run {
    gov_policy_eval out[8];
    uint32_t n;
    int32_t worst;
    bool drop, redact;
} run;

static run eval(gov_policies *p, const gov_policy_input *in)
{
    run r;
    memset(&r, 0, sizeof(r));
    assert_true(gov_policies_count(p) <= 8);
    assert_int_equal(gov_policies_eval(p, in, r.out, &r.n, &r.worst, &r.drop, &r.redact), GB_OK);
    return r;
}

/* Evaluates one policy against span attributes; asserts it applied. */
static gov_policy_eval eval1(gov_policies *p, pd_attrs *span, pd_attrs *res, int64_t now_ns)
{
    gov_policy_input in = {.span = span, .resource = res, .now_ns = now_ns};
    run r = eval(p, &in);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.worst, 0);
    return r.out[0];
}

static void assert_reason(const gov_policy_eval *e, const char *want)
{
    if (strcmp(e->reason, want) != 0) fail_msg("reason \"%s\", want \"%s\"", e->reason, want);
}

/* ---- names ------------------------------------------------------------------------------- */

static void test_kind_names(void **state)
{
    (void)state;
    const char *names[] = {"cost_limit",  "rate_limit",      "content_filter",
                           "team_access", "model_allowlist", "condition"};
    for (unsigned i = 0; i < 6; i++) {
        gov_policy_kind k;
        assert_true(gov_policy_kind_parse(names[i], &k));
        assert_int_equal(k, i);
        assert_string_equal(gov_policy_kind_str(k), names[i]);
    }
    gov_policy_kind k = GOV_POLICY_CONDITION;
    assert_true(gov_policy_kind_parse("Model_Allowlist", &k));
    assert_int_equal(k, GOV_POLICY_MODEL_ALLOWLIST);
    k = GOV_POLICY_CONDITION;
    assert_false(gov_policy_kind_parse("cost-limit", &k));
    assert_false(gov_policy_kind_parse("", &k));
    assert_false(gov_policy_kind_parse("cost_limits", &k));
    assert_false(gov_policy_kind_parse(NULL, &k));
    assert_int_equal(k, GOV_POLICY_CONDITION); /* untouched on failure */
    assert_string_equal(gov_policy_kind_str((gov_policy_kind)42), "unknown");
}

static void test_result_names(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        gov_policy_result r;
    } ok[] = {
        {"passed", GOV_POLICY_PASSED},
        {"allowed", GOV_POLICY_PASSED},
        {"ALLOWED", GOV_POLICY_PASSED},
        {"PASSED", GOV_POLICY_PASSED},
        {"warning", GOV_POLICY_WARNING},
        {"warn", GOV_POLICY_WARNING},
        {"WARNING", GOV_POLICY_WARNING},
        {"rate_limited", GOV_POLICY_RATE_LIMITED},
        {"RATE_LIMITED", GOV_POLICY_RATE_LIMITED},
        {"blocked", GOV_POLICY_BLOCKED},
        {"block", GOV_POLICY_BLOCKED},
        {"Blocked", GOV_POLICY_BLOCKED},
    };
    for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        gov_policy_result r = (gov_policy_result)99;
        if (!gov_policy_result_parse(gb_str_c(ok[i].s), &r)) fail_msg("rejected %s", ok[i].s);
        assert_int_equal(r, ok[i].r);
    }
    const char *bad[] = {"", "pass", "denied", "rate-limited", "blocked ", "warnings"};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gov_policy_result r;
        if (gov_policy_result_parse(gb_str_c(bad[i]), &r)) fail_msg("accepted \"%s\"", bad[i]);
    }
    assert_string_equal(gov_policy_result_str(GOV_POLICY_PASSED), "passed");
    assert_string_equal(gov_policy_result_str(GOV_POLICY_WARNING), "warning");
    assert_string_equal(gov_policy_result_str(GOV_POLICY_RATE_LIMITED), "rate_limited");
    assert_string_equal(gov_policy_result_str(GOV_POLICY_BLOCKED), "blocked");
    /* severity order of the enum */
    assert_true(GOV_POLICY_PASSED < GOV_POLICY_WARNING);
    assert_true(GOV_POLICY_WARNING < GOV_POLICY_RATE_LIMITED);
    assert_true(GOV_POLICY_RATE_LIMITED < GOV_POLICY_BLOCKED);

    gov_policy_action a;
    assert_true(gov_policy_action_parse(GB_STR_LIT("Redact"), &a));
    assert_int_equal(a, GOV_ACTION_REDACT);
    assert_true(gov_policy_action_parse(GB_STR_LIT("drop"), &a));
    assert_int_equal(a, GOV_ACTION_DROP);
    assert_true(gov_policy_action_parse(GB_STR_LIT("annotate"), &a));
    assert_int_equal(a, GOV_ACTION_ANNOTATE);
    assert_false(gov_policy_action_parse(GB_STR_LIT("delete"), &a));
    assert_string_equal(gov_policy_action_str(GOV_ACTION_DROP), "drop");
}

static void test_check_rejects(void **state)
{
    (void)state;
    char err[128];
    gov_policy_def d = def_of("r", GOV_POLICY_RATE_LIMIT);
    assert_int_equal(gov_policy_check(&d, err, sizeof(err)), GB_ERR_INVALID);
    assert_string_equal(err, "policy r: max_requests_per_minute must be > 0");

    d.max_requests_per_minute = 10;
    d.rate_max_groups = GOV_POLICY_RATE_GROUPS_LIMIT + 1;
    assert_int_equal(gov_policy_check(&d, err, sizeof(err)), GB_ERR_INVALID);
    assert_string_equal(err, "policy r: rate_max_groups too large (at most 1000000)");
    d.rate_max_groups = GOV_POLICY_RATE_GROUPS_LIMIT;
    assert_int_equal(gov_policy_check(&d, err, sizeof(err)), GB_OK);
    assert_string_equal(err, "");

    d = def_of(NULL, GOV_POLICY_COST_LIMIT);
    assert_int_equal(gov_policy_check(&d, err, sizeof(err)), GB_ERR_INVALID);
    assert_string_equal(err, "policy (unnamed): name is required");

    d = def_of("m", GOV_POLICY_MODEL_ALLOWLIST);
    assert_int_equal(gov_policy_check(&d, err, sizeof(err)), GB_ERR_INVALID);
    assert_string_equal(err, "policy m: allowed_models is empty");
    d.items[0] = "";
    d.n_items = 1;
    assert_int_equal(gov_policy_check(&d, err, sizeof(err)), GB_ERR_INVALID);
    d.n_items = GOV_POLICY_MAX_ITEMS + 1;
    assert_int_equal(gov_policy_check(&d, err, sizeof(err)), GB_ERR_INVALID);

    d = def_of("c", GOV_POLICY_CONDITION);
    assert_int_equal(gov_policy_check(&d, err, sizeof(err)), GB_ERR_INVALID);
    assert_string_equal(err, "policy c: condition has no attribute");

    d = def_of("k", (gov_policy_kind)17);
    assert_int_equal(gov_policy_check(&d, err, sizeof(err)), GB_ERR_INVALID);
    d = def_of("e", GOV_POLICY_COST_LIMIT);
    d.enforcement = (gov_policy_result)9;
    assert_int_equal(gov_policy_check(&d, NULL, 0), GB_ERR_INVALID);
    d = def_of("neg", GOV_POLICY_COST_LIMIT);
    d.max_cost_nusd = -1;
    assert_int_equal(gov_policy_check(&d, err, sizeof(err)), GB_ERR_INVALID);

    /* gov_policies_new refuses a bad definition among good ones and returns NULL */
    gov_policy_def defs[2] = {def_of("ok", GOV_POLICY_COST_LIMIT),
                              def_of("bad", GOV_POLICY_RATE_LIMIT)};
    gov_policies *p = (gov_policies *)&d;
    assert_int_equal(gov_policies_new(defs, 2, &p), GB_ERR_INVALID);
    assert_null(p);
    assert_int_equal(gov_policies_new(defs, 0, &p), GB_OK);
    assert_int_equal(gov_policies_count(p), 0);
    run r = eval(p, &(gov_policy_input){0});
    assert_int_equal(r.n, 0);
    assert_int_equal(r.worst, -1);
    gov_policies_free(p);
}

/* ---- cost_limit -------------------------------------------------------------------------- */

static void test_cost_limit(void **state)
{
    (void)state;
    gov_policy_def d = def_of("max_cost", GOV_POLICY_COST_LIMIT);
    d.max_cost_nusd = 10000000; /* 0.01 USD */
    d.enforcement = GOV_POLICY_BLOCKED;
    gov_policies *p = make(&d, 1);
    pd_attrs none = {0};

    gov_cost c = {.status = GOV_COST_PRICED, .total = 50000000};
    gov_policy_input in = {.span = &none, .cost = &c};
    run r = eval(p, &in);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.out[0].result, GOV_POLICY_BLOCKED);
    assert_reason(&r.out[0], "cost 0.050000 USD > max_cost 0.010000 USD");
    assert_ptr_not_equal(r.out[0].def, &d); /* a copy */
    assert_string_equal(r.out[0].def->name, "max_cost");

    c.total = 10000000; /* equal: not over */
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_PASSED);
    assert_reason(&r.out[0], "cost 0.010000 USD <= max_cost 0.010000 USD");

    c.status = GOV_COST_ESTIMATED;
    c.total = 10000001;
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_BLOCKED);

    /* unpriced operations pass */
    c.status = GOV_COST_UNPRICED;
    c.total = 0;
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_PASSED);
    assert_non_null(strstr(r.out[0].reason, "unpriced"));
    in.cost = NULL;
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_PASSED);
    assert_non_null(strstr(r.out[0].reason, "unpriced"));

    /* the usage's existing cost (USD) when no gov_cost is given */
    gov_usage u;
    memset(&u, 0, sizeof(u));
    u.flags = GOV_HAS_COST;
    u.cost = 0.25;
    in.usage = &u;
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_BLOCKED);
    assert_reason(&r.out[0], "cost 0.250000 USD > max_cost 0.010000 USD");
    u.currency = GB_STR_LIT("EUR");
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_PASSED);
    assert_reason(&r.out[0], "unpriced: cost in EUR, not USD");

    /* without usage, the span is normalized: genops.cost.total */
    pd_kv kv[] = {KV_D("genops.cost.total", 0.005)};
    pd_attrs a = ATTRS(kv);
    gov_policy_eval e = eval1(p, &a, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_PASSED);
    assert_reason(&e, "cost 0.005000 USD <= max_cost 0.010000 USD");
    gov_policies_free(p);
}

/* ---- rate_limit -------------------------------------------------------------------------- */

static void test_rate_limit_window(void **state)
{
    (void)state;
    gov_policy_def d = def_of("rpm", GOV_POLICY_RATE_LIMIT);
    d.max_requests_per_minute = 3;
    gov_policies *p = make(&d, 1);
    pd_attrs none = {0};
    int64_t t0 = (int64_t)T_NOW_NS;

    /* 3 at t0, t0+10, t0+20 pass; the 4th at t0+30 violates with the default result */
    gov_policy_eval e;
    for (int i = 0; i < 3; i++) {
        e = eval1(p, &none, NULL, t0 + i * 10 * SEC);
        assert_int_equal(e.result, GOV_POLICY_PASSED);
    }
    assert_reason(&e, "rate 3/min <= 3/min");
    e = eval1(p, &none, NULL, t0 + 30 * SEC);
    assert_int_equal(e.result, GOV_POLICY_RATE_LIMITED);
    assert_reason(&e, "rate 4/min > 3/min");
    /* at t0+60 the first one (t0) left the window: t0+10, +20, +30, +60 = 4 */
    e = eval1(p, &none, NULL, t0 + 60 * SEC);
    assert_reason(&e, "rate 4/min > 3/min");
    /* at t0+81: +30, +60, +81 remain (the +10 and +20 left) */
    e = eval1(p, &none, NULL, t0 + 81 * SEC);
    assert_reason(&e, "rate 3/min <= 3/min");
    assert_int_equal(e.result, GOV_POLICY_PASSED);
    /* a clock going backwards counts at the newest second seen */
    e = eval1(p, &none, NULL, t0);
    assert_reason(&e, "rate 4/min > 3/min");
    /* long idle: everything expired */
    e = eval1(p, &none, NULL, t0 + 3600 * SEC);
    assert_reason(&e, "rate 1/min <= 3/min");
    /* sub-second times in the same second count together */
    e = eval1(p, &none, NULL, t0 + 3600 * SEC + SEC / 2);
    assert_reason(&e, "rate 2/min <= 3/min");
    gov_policies_free(p);

    /* explicit enforcement wins over the rate_limited default */
    d.enforcement = GOV_POLICY_BLOCKED;
    d.max_requests_per_minute = 1;
    p = make(&d, 1);
    assert_int_equal(eval1(p, &none, NULL, t0).result, GOV_POLICY_PASSED);
    assert_int_equal(eval1(p, &none, NULL, t0).result, GOV_POLICY_BLOCKED);
    gov_policies_free(p);
}

static void test_rate_limit_groups(void **state)
{
    (void)state;
    gov_policy_def d = def_of("team_rpm", GOV_POLICY_RATE_LIMIT);
    d.max_requests_per_minute = 60;
    d.rate_group_by = "genops.team";
    d.rate_max_groups = 2;
    gov_policies *p = make(&d, 1);
    int64_t t0 = (int64_t)T_NOW_NS;
    pd_kv ml[] = {KV_S("genops.team", "ml")};
    pd_kv web[] = {KV_S("genops.team", "web")};
    pd_kv ops[] = {KV_S("genops.team", "ops")};
    pd_kv num[] = {KV_I("genops.team", 7)};
    pd_attrs a_ml = ATTRS(ml), a_web = ATTRS(web), a_ops = ATTRS(ops), a_num = ATTRS(num);
    pd_attrs none = {0};

    gov_policy_eval e;
    for (int i = 0; i < 60; i++)
        e = eval1(p, &a_ml, NULL, t0 + i * (SEC / 2));
    assert_int_equal(e.result, GOV_POLICY_PASSED);
    assert_reason(&e, "rate 60/min <= 60/min for team ml");
    e = eval1(p, &a_ml, NULL, t0 + 31 * SEC);
    assert_int_equal(e.result, GOV_POLICY_RATE_LIMITED);
    assert_reason(&e, "rate 61/min > 60/min for team ml");
    /* another team has its own counter; the group may come from the resource */
    e = eval1(p, &none, &a_web, t0 + 31 * SEC);
    assert_reason(&e, "rate 1/min <= 60/min for team web");
    /* the table holds 2 groups: ops and every further value share "(other)" */
    e = eval1(p, &a_ops, NULL, t0 + 31 * SEC);
    assert_reason(&e, "rate 1/min <= 60/min for team (other)");
    e = eval1(p, &a_num, NULL, t0 + 31 * SEC);
    assert_reason(&e, "rate 2/min <= 60/min for team (other)");
    e = eval1(p, &none, NULL, t0 + 31 * SEC); /* "unknown" is a group too: full, shared */
    assert_reason(&e, "rate 3/min <= 60/min for team (other)");
    /* known groups keep counting exactly */
    e = eval1(p, &a_web, NULL, t0 + 32 * SEC);
    assert_reason(&e, "rate 2/min <= 60/min for team web");

    /* 60 s after ml's last operation, ml (least recently used, idle) is evicted for ops */
    e = eval1(p, &a_web, NULL, t0 + 91 * SEC); /* window (t0+31, t0+91]: +32 and +91 */
    assert_reason(&e, "rate 2/min <= 60/min for team web");
    e = eval1(p, &a_ops, NULL, t0 + 91 * SEC);
    assert_reason(&e, "rate 1/min <= 60/min for team ops");
    /* the table is full again with active groups: 7 (int form) shares the other counter,
     * which expired meanwhile */
    e = eval1(p, &a_num, NULL, t0 + 92 * SEC);
    assert_reason(&e, "rate 1/min <= 60/min for team (other)");
    gov_policies_free(p);

    /* default bound: many distinct groups stay exact up to the bound */
    d.rate_max_groups = 0;
    d.max_requests_per_minute = 1;
    p = make(&d, 1);
    char buf[32];
    for (int i = 0; i < 2 * GOV_POLICY_RATE_MAX_GROUPS; i++) {
        snprintf(buf, sizeof(buf), "t%d", i % (GOV_POLICY_RATE_MAX_GROUPS + 1));
        pd_kv kv[] = {{GB_STR_LIT("genops.team"), {.type = PD_ANY_STR, .u.str = gb_str_c(buf)}}};
        pd_attrs a = ATTRS(kv);
        e = eval1(p, &a, NULL, t0);
        if (i < GOV_POLICY_RATE_MAX_GROUPS) {
            assert_int_equal(e.result, GOV_POLICY_PASSED);
        } else if (i == GOV_POLICY_RATE_MAX_GROUPS) {
            assert_reason(&e, "rate 1/min <= 1/min for team (other)");
        } else {
            /* t0 .. t9998 come back: their own counter holds 2 */
            assert_int_equal(e.result, GOV_POLICY_RATE_LIMITED);
        }
    }
    gov_policies_free(p);
}

typedef struct rate_thread {
    gov_policies *p;
    int64_t now;
    int iters;
    int violations;
} rate_thread;

static void *rate_worker(void *arg)
{
    rate_thread *t = arg;
    pd_kv kv[] = {KV_S("genops.team", "ml")};
    pd_attrs a = ATTRS(kv);
    for (int i = 0; i < t->iters; i++) {
        gov_policy_input in = {.span = &a, .now_ns = t->now};
        gov_policy_eval out[1];
        uint32_t n = 0;
        int32_t worst = -1;
        bool drop, redact;
        if (gov_policies_eval(t->p, &in, out, &n, &worst, &drop, &redact) != GB_OK || n != 1)
            return (void *)1;
        if (out[0].result != GOV_POLICY_PASSED) t->violations++;
    }
    return NULL;
}

static void test_rate_limit_threads(void **state)
{
    (void)state;
    gov_policy_def d = def_of("rpm", GOV_POLICY_RATE_LIMIT);
    d.max_requests_per_minute = 15000;
    d.rate_group_by = "genops.team";
    gov_policies *p = make(&d, 1);
    rate_thread t[2] = {{p, (int64_t)T_NOW_NS, 10000, 0}, {p, (int64_t)T_NOW_NS, 10000, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, rate_worker, &t[i]), 0);
    for (int i = 0; i < 2; i++) {
        void *ret = (void *)1;
        assert_int_equal(pthread_join(th[i], &ret), 0);
        assert_null(ret);
    }
    /* 20000 operations in one second, 15000 allowed: exactly 5000 violations */
    assert_int_equal(t[0].violations + t[1].violations, 5000);
    pd_kv kv[] = {KV_S("genops.team", "ml")};
    pd_attrs a = ATTRS(kv);
    gov_policy_eval e = eval1(p, &a, NULL, (int64_t)T_NOW_NS);
    assert_reason(&e, "rate 20001/min > 15000/min for team ml");
    gov_policies_free(p);
}

/* ---- content_filter ---------------------------------------------------------------------- */

static void test_content_filter(void **state)
{
    (void)state;
    gov_policy_def d = def_of("pii", GOV_POLICY_CONTENT_FILTER);
    d.items[0] = "password";
    d.items[1] = "SSN:";
    d.n_items = 2;
    d.enforcement = GOV_POLICY_BLOCKED;
    d.action = GOV_ACTION_REDACT;
    gov_policies *p = make(&d, 1);

    /* plain string, case-insensitive both ways */
    pd_kv k1[] = {KV_S("genops.team", "password"), KV_S("gen_ai.prompt", "my PassWord is x")};
    pd_attrs a1 = ATTRS(k1);
    gov_policy_input in = {.span = &a1};
    run r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_BLOCKED);
    assert_reason(&r.out[0], "policy pii: blocked pattern 1 in gen_ai.prompt");
    assert_null(strstr(r.out[0].reason, "PassWord"));
    assert_true(r.redact);
    assert_false(r.drop);

    /* non-content keys are never scanned */
    pd_kv k2[] = {KV_S("genops.team", "password"), KV_S("gen_ai.prompt", "hello")};
    pd_attrs a2 = ATTRS(k2);
    in.span = &a2;
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_PASSED);
    assert_reason(&r.out[0], "no blocked pattern");
    assert_false(r.redact);

    /* nested: kvlist inside an array inside gen_ai.input.messages */
    pd_kv msg[] = {KV_S("role", "user"), KV_S("content", "my ssn: 123")};
    pd_any elems[] = {
        {.type = PD_ANY_INT, .u.i = 1},
        {.type = PD_ANY_STR, .u.str = GB_STR_LIT("fine")},
        {.type = PD_ANY_KVLIST, .u.kvl = {msg, 2}},
    };
    pd_kv k3[] = {
        {GB_STR_LIT("gen_ai.input.messages"), {.type = PD_ANY_ARRAY, .u.arr = {elems, 3}}}};
    pd_attrs a3 = ATTRS(k3);
    in.span = &a3;
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_BLOCKED);
    assert_reason(&r.out[0], "policy pii: blocked pattern 2 in gen_ai.input.messages");

    /* indexed keys (OpenLLMetry) */
    pd_kv k4[] = {KV_S("gen_ai.prompt.0.content", "reset my PASSWORD")};
    pd_attrs a4 = ATTRS(k4);
    in.span = &a4;
    r = eval(p, &in);
    assert_reason(&r.out[0], "policy pii: blocked pattern 1 in gen_ai.prompt.0.content");

    /* beyond the depth bound nothing is scanned (no recursion without end) */
    pd_any deep[GOV_POLICY_MAX_DEPTH + 3];
    deep[GOV_POLICY_MAX_DEPTH + 2] = (pd_any){.type = PD_ANY_STR, .u.str = GB_STR_LIT("password")};
    for (int i = GOV_POLICY_MAX_DEPTH + 1; i >= 0; i--)
        deep[i] = (pd_any){.type = PD_ANY_ARRAY, .u.arr = {&deep[i + 1], 1}};
    pd_kv k5[] = {{GB_STR_LIT("llm.prompts"), deep[0]}};
    pd_attrs a5 = ATTRS(k5);
    in.span = &a5;
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_PASSED);
    /* at the bound it is */
    k5[0].value = deep[2];
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_BLOCKED);

    /* log body */
    in.span = &a2;
    in.body = GB_STR_LIT("user typed their Password here");
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_BLOCKED);
    assert_reason(&r.out[0], "policy pii: blocked pattern 1 in log body");

    /* pattern at the very end, and a near miss */
    in.body = GB_STR_LIT("xx ssn:");
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_BLOCKED);
    in.body = GB_STR_LIT("passwor");
    r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_PASSED);
    gov_policies_free(p);
}

static void test_content_keys_and_redact(void **state)
{
    (void)state;
    const char *yes[] = {"gen_ai.prompt",
                         "gen_ai.completion",
                         "gen_ai.input.messages",
                         "gen_ai.output.messages",
                         "gen_ai.system_instructions",
                         "gen_ai.content.prompt",
                         "gen_ai.content.completion",
                         "llm.prompts",
                         "llm.input_messages",
                         "llm.output_messages",
                         "input.value",
                         "output.value",
                         "gen_ai.prompt.0.content",
                         "gen_ai.completion.1.role",
                         "llm.input_messages.0.message.content",
                         "llm.output_messages.2.message.role"};
    const char *no[] = {"gen_ai.prompt.", "gen_ai.prompts", "gen_ai.request.model", "genops.team",
                        "input",          "llm.prompt",     "output.values",        ""};
    for (unsigned i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (!gov_is_content_key(gb_str_c(yes[i]))) fail_msg("%s is content", yes[i]);
    for (unsigned i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (gov_is_content_key(gb_str_c(no[i]))) fail_msg("%s is not content", no[i]);

    pd_any elems[] = {{.type = PD_ANY_STR, .u.str = GB_STR_LIT("secret")}};
    pd_kv kv[] = {
        KV_S("gen_ai.prompt", "secret prompt"),
        KV_S("genops.team", "ml"),
        {GB_STR_LIT("gen_ai.input.messages"), {.type = PD_ANY_ARRAY, .u.arr = {elems, 1}}},
        KV_I("gen_ai.usage.input_tokens", 12),
        KV_S("output.value", "secret answer"),
    };
    pd_attrs a = ATTRS(kv);
    gb_arena arena;
    gb_arena_init(&arena, 0, 0);
    uint32_t count = 0;
    assert_int_equal(gov_policy_redact(&arena, &a, &count), GB_OK);
    assert_int_equal(count, 3);
    const char *keys[] = {"gen_ai.prompt", "gen_ai.input.messages", "output.value"};
    for (unsigned i = 0; i < 3; i++) {
        pd_kv *f = pd_attrs_find(&a, gb_str_c(keys[i]));
        assert_non_null(f);
        assert_int_equal(f->value.type, PD_ANY_STR);
        assert_true(gb_str_eq_c(f->value.u.str, "[REDACTED]"));
    }
    assert_true(gb_str_eq_c(pd_attrs_find(&a, GB_STR_LIT("genops.team"))->value.u.str, "ml"));
    assert_int_equal(pd_attrs_find(&a, GB_STR_LIT("gen_ai.usage.input_tokens"))->value.u.i, 12);
    assert_int_equal(a.n, 5);
    /* idempotent; NULL arena and count accepted */
    assert_int_equal(gov_policy_redact(NULL, &a, NULL), GB_OK);
    assert_int_equal(gov_policy_redact(NULL, &a, &count), GB_OK);
    assert_int_equal(count, 3);
    gb_arena_free(&arena);
}

/* ---- team_access ------------------------------------------------------------------------- */

static void test_team_access(void **state)
{
    (void)state;
    gov_policy_def d = def_of("teams", GOV_POLICY_TEAM_ACCESS);
    d.items[0] = "search";
    d.items[1] = "ml-platform";
    d.n_items = 2;
    gov_policies *p = make(&d, 1);

    pd_kv ok[] = {KV_S("genops.team", "ml-platform")};
    pd_kv bad[] = {KV_S("genops.team", "ml-research")};
    pd_kv other[] = {KV_S("genops.project", "x")};
    pd_attrs a_ok = ATTRS(ok), a_bad = ATTRS(bad), a_other = ATTRS(other);

    gov_policy_eval e = eval1(p, &a_ok, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_PASSED);
    assert_reason(&e, "team ml-platform allowed");
    e = eval1(p, &a_bad, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_WARNING); /* default enforcement */
    assert_reason(&e, "team ml-research not in allowed_teams");
    e = eval1(p, &a_other, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_WARNING);
    assert_reason(&e, "no genops.team");
    /* span first, then resource */
    e = eval1(p, &a_other, &a_ok, 0);
    assert_int_equal(e.result, GOV_POLICY_PASSED);
    e = eval1(p, &a_bad, &a_ok, 0);
    assert_int_equal(e.result, GOV_POLICY_WARNING);
    /* a given usage is used as is */
    gov_usage u;
    memset(&u, 0, sizeof(u));
    u.team = GB_STR_LIT("search");
    gov_policy_input in = {.span = &a_bad, .usage = &u};
    run r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_PASSED);
    gov_policies_free(p);
}

/* ---- model_allowlist --------------------------------------------------------------------- */

static void test_glob(void **state)
{
    (void)state;
    static const struct {
        const char *p, *s;
        bool want;
    } cases[] = {
        {"gpt-4o", "gpt-4o", true},
        {"gpt-4o", "GPT-4O", true},
        {"GPT-4o*", "gpt-4o-mini", true},
        {"gpt-4o", "gpt-4o-mini", false},
        {"gpt-4?", "gpt-4o", true},
        {"gpt-4?", "gpt-4", false},
        {"*", "", true},
        {"*", "anything", true},
        {"", "", true},
        {"", "x", false},
        {"claude-*-4-*", "claude-sonnet-4-5", true},
        {"claude-*-4-*", "claude-sonnet-3-5", false},
        {"*mini", "gpt-4o-mini", true},
        {"*mini", "gpt-4o-mini-2024", false},
        {"a*b*c", "aXXbYYc", true},
        {"a*b*c", "aXXcYYb", false},
        {"**a", "bba", true},
        {"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
        {"openai/*", "openai/gpt-4o", true},
        {"?", "", false},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = gov_glob_match(gb_str_c(cases[i].p), gb_str_c(cases[i].s));
        if (got != cases[i].want)
            fail_msg("glob \"%s\" on \"%s\": got %d", cases[i].p, cases[i].s, got);
    }
}

static void test_model_allowlist(void **state)
{
    (void)state;
    gov_policy_def d = def_of("models", GOV_POLICY_MODEL_ALLOWLIST);
    d.items[0] = "gpt-4o-mini*";
    d.items[1] = "anthropic/claude-*";
    d.n_items = 2;
    d.enforcement = GOV_POLICY_BLOCKED;
    d.action = GOV_ACTION_DROP;
    gov_policies *p = make(&d, 1);

    pd_kv k1[] = {KV_S("gen_ai.request.model", "GPT-4o-mini-2024-07-18")};
    pd_kv k2[] = {KV_S("gen_ai.provider.name", "openai"), KV_S("gen_ai.request.model", "gpt-4o")};
    pd_kv k3[] = {KV_S("gen_ai.provider.name", "anthropic"),
                  KV_S("gen_ai.request.model", "claude-sonnet-4-5")};
    pd_kv k4[] = {KV_S("gen_ai.provider.name", "aws.bedrock"),
                  KV_S("gen_ai.request.model", "claude-sonnet-4-5")};
    pd_kv k5[] = {KV_S("genops.team", "x")};
    pd_attrs a1 = ATTRS(k1), a2 = ATTRS(k2), a3 = ATTRS(k3), a4 = ATTRS(k4), a5 = ATTRS(k5);

    gov_policy_eval e = eval1(p, &a1, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_PASSED);
    assert_reason(&e, "model GPT-4o-mini-2024-07-18 allowed");
    gov_policy_input in = {.span = &a2};
    run r = eval(p, &in);
    assert_int_equal(r.out[0].result, GOV_POLICY_BLOCKED);
    assert_reason(&r.out[0], "model gpt-4o not in allowed_models");
    assert_true(r.drop);
    assert_false(r.redact);
    /* provider-qualified form */
    e = eval1(p, &a3, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_PASSED);
    e = eval1(p, &a4, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_BLOCKED);
    /* no model at all: violation */
    e = eval1(p, &a5, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_BLOCKED);
    assert_reason(&e, "no gen_ai model");
    gov_policies_free(p);
}

/* ---- condition and match restriction ----------------------------------------------------- */

static void test_condition(void **state)
{
    (void)state;
    gov_policy_def d = def_of("prod_debug", GOV_POLICY_CONDITION);
    d.match[0] = (gov_attr_match){"genops.environment", "production"};
    d.match[1] = (gov_attr_match){"debug", "true"};
    d.n_match = 2;
    d.enforcement = GOV_POLICY_BLOCKED;
    gov_policies *p = make(&d, 1);

    pd_kv both[] = {KV_S("genops.environment", "production"), KV_B("debug", true)};
    pd_kv one[] = {KV_S("genops.environment", "production"), KV_B("debug", false)};
    pd_kv res[] = {KV_S("genops.environment", "production")};
    pd_kv dbg[] = {KV_B("debug", true)};
    pd_attrs a_both = ATTRS(both), a_one = ATTRS(one), a_res = ATTRS(res), a_dbg = ATTRS(dbg);

    gov_policy_eval e = eval1(p, &a_both, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_BLOCKED);
    assert_reason(&e, "condition holds: genops.environment=production (+1 more)");
    e = eval1(p, &a_one, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_PASSED);
    assert_reason(&e, "condition does not hold");
    e = eval1(p, &a_dbg, &a_res, 0); /* environment from the resource */
    assert_int_equal(e.result, GOV_POLICY_BLOCKED);
    gov_policies_free(p);

    /* numeric equality */
    pd_kv n[] = {KV_I("http.status", 500), KV_D("temp", 1.5)};
    pd_attrs a_n = ATTRS(n);
    gov_attr_match m = {"http.status", "500"};
    assert_true(gov_attr_match_holds(&m, &a_n, NULL));
    m.value = "500.0";
    assert_true(gov_attr_match_holds(&m, &a_n, NULL));
    m.value = "50";
    assert_false(gov_attr_match_holds(&m, &a_n, NULL));
    m.value = "500x";
    assert_false(gov_attr_match_holds(&m, &a_n, NULL));
    m = (gov_attr_match){"temp", "1.50"};
    assert_true(gov_attr_match_holds(&m, &a_n, NULL));
    m = (gov_attr_match){"missing", "x"};
    assert_false(gov_attr_match_holds(&m, &a_n, NULL));
    assert_false(gov_attr_match_holds(&m, NULL, NULL));
}

static void test_match_restriction(void **state)
{
    (void)state;
    gov_policy_def d = def_of("prod_models", GOV_POLICY_MODEL_ALLOWLIST);
    d.items[0] = "gpt-4o-mini";
    d.n_items = 1;
    d.match[0] = (gov_attr_match){"genops.environment", "production"};
    d.n_match = 1;
    gov_policies *p = make(&d, 1);

    pd_kv prod[] = {KV_S("genops.environment", "production"), KV_S("gen_ai.request.model", "o1")};
    pd_kv dev[] = {KV_S("genops.environment", "dev"), KV_S("gen_ai.request.model", "o1")};
    pd_attrs a_prod = ATTRS(prod), a_dev = ATTRS(dev);
    gov_policy_input in = {.span = &a_dev};
    run r = eval(p, &in);
    assert_int_equal(r.n, 0); /* not applying: not evaluated */
    assert_int_equal(r.worst, -1);
    assert_false(r.drop);
    in.span = &a_prod;
    r = eval(p, &in);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.out[0].result, GOV_POLICY_WARNING);
    gov_policies_free(p);
}

/* ---- several policies -------------------------------------------------------------------- */

static void test_severity_and_worst(void **state)
{
    (void)state;
    gov_policy_def defs[6];
    defs[0] = def_of("teams", GOV_POLICY_TEAM_ACCESS); /* warning */
    defs[0].items[0] = "search";
    defs[0].n_items = 1;
    defs[1] = def_of("disabled", GOV_POLICY_CONDITION); /* would block, but disabled */
    defs[1].match[0] = (gov_attr_match){"genops.team", "ml"};
    defs[1].n_match = 1;
    defs[1].enforcement = GOV_POLICY_BLOCKED;
    defs[1].enabled = false;
    defs[2] = def_of("rpm", GOV_POLICY_RATE_LIMIT); /* rate_limited on the 2nd call */
    defs[2].max_requests_per_minute = 1;
    defs[2].action = GOV_ACTION_DROP;
    defs[3] = def_of("models", GOV_POLICY_MODEL_ALLOWLIST); /* passes */
    defs[3].items[0] = "gpt-*";
    defs[3].n_items = 1;
    defs[4] = def_of("pii", GOV_POLICY_CONTENT_FILTER); /* warning + redact */
    defs[4].items[0] = "secret";
    defs[4].n_items = 1;
    defs[4].action = GOV_ACTION_REDACT;
    defs[5] = def_of("teams2", GOV_POLICY_TEAM_ACCESS); /* warning, second */
    defs[5].items[0] = "nobody";
    defs[5].n_items = 1;
    gov_policies *p = make(defs, 6);

    pd_kv kv[] = {KV_S("genops.team", "ml"), KV_S("gen_ai.request.model", "gpt-4o"),
                  KV_S("gen_ai.prompt", "a SECRET")};
    pd_attrs a = ATTRS(kv);
    gov_policy_input in = {.span = &a, .now_ns = (int64_t)T_NOW_NS};
    run r = eval(p, &in);
    assert_int_equal(r.n, 5);
    assert_string_equal(r.out[0].def->name, "teams");
    assert_string_equal(r.out[1].def->name, "rpm");
    assert_string_equal(r.out[2].def->name, "models");
    assert_string_equal(r.out[3].def->name, "pii");
    assert_string_equal(r.out[4].def->name, "teams2");
    assert_int_equal(r.out[1].result, GOV_POLICY_PASSED);
    assert_int_equal(r.out[2].result, GOV_POLICY_PASSED);
    assert_int_equal(r.worst, 0); /* warning, first of three */
    assert_false(r.drop);
    assert_true(r.redact);

    r = eval(p, &in);
    assert_int_equal(r.out[1].result, GOV_POLICY_RATE_LIMITED);
    assert_int_equal(r.worst, 1);
    assert_true(r.drop);
    assert_true(r.redact);

    /* all passing: worst is the first entry */
    pd_kv kv2[] = {KV_S("gen_ai.request.model", "gpt-4o")};
    pd_attrs a2 = ATTRS(kv2);
    gov_policy_def one = def_of("models", GOV_POLICY_MODEL_ALLOWLIST);
    one.items[0] = "gpt-*";
    one.n_items = 1;
    gov_policy_def two[2] = {one, one};
    two[1].name = "models2";
    gov_policies *q = make(two, 2);
    in.span = &a2;
    r = eval(q, &in);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.worst, 0);
    assert_false(r.drop || r.redact);
    gov_policies_free(q);
    gov_policies_free(p);
}

static void test_defs_copied(void **state)
{
    (void)state;
    char name[16] = "teams", team[16] = "search", key[16] = "genops.env", val[16] = "prod";
    gov_policy_def d = def_of(name, GOV_POLICY_TEAM_ACCESS);
    d.items[0] = team;
    d.n_items = 1;
    d.match[0] = (gov_attr_match){key, val};
    d.n_match = 1;
    gov_policies *p = make(&d, 1);
    memset(name, 'x', sizeof(name) - 1);
    memset(team, 'x', sizeof(team) - 1);
    memset(key, 'x', sizeof(key) - 1);
    memset(val, 'x', sizeof(val) - 1);
    pd_kv kv[] = {KV_S("genops.team", "search"), KV_S("genops.env", "prod")};
    pd_attrs a = ATTRS(kv);
    gov_policy_eval e = eval1(p, &a, NULL, 0);
    assert_int_equal(e.result, GOV_POLICY_PASSED);
    assert_string_equal(e.def->name, "teams");
    assert_string_equal(e.def->items[0], "search");
    gov_policies_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_result_names),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_cost_limit),
        cmocka_unit_test(test_rate_limit_window),
        cmocka_unit_test(test_rate_limit_groups),
        cmocka_unit_test(test_rate_limit_threads),
        cmocka_unit_test(test_content_filter),
        cmocka_unit_test(test_content_keys_and_redact),
        cmocka_unit_test(test_team_access),
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_model_allowlist),
        cmocka_unit_test(test_condition),
        cmocka_unit_test(test_match_restriction),
        cmocka_unit_test(test_severity_and_worst),
        cmocka_unit_test(test_defs_copied),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
