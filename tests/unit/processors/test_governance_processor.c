/* governance processor: configs through the real YAML binder, batches built in code, exact
 * costs for each convention generation, attribution, tiers, logs, budgets (dedup), policies
 * (results, events, drop, redact) and configuration diagnostics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <unistd.h>

#include "base/telemetry.h"
#include "processor/governance/governance.h"
#include "processor/governance/governance_internal.h"
#include "proc_testutil.h"

/* ---- config ------------------------------------------------------------------------------ */

typedef struct bound {
    cfg_doc doc;
    cfg_diags d;
    void *obj;
    gb_status st;
    char text[8192];
} bound;

static void bind_yaml(bound *b, const char *yaml)
{
    memset(b, 0, sizeof *b);
    cfg_doc_init(&b->doc);
    cfg_diags_init(&b->d);
    assert_int_equal(cfg_doc_parse(&b->doc, "test.yaml", yaml, strlen(yaml), &b->d), GB_OK);
    const cfg_node *n = cfg_node_get(b->doc.root, "p");
    b->st = cfg_bind_new(processor_governance_descriptor.config,
                         processor_governance_descriptor.config_size, n, "processors.governance",
                         &b->doc, &b->d, &b->obj);
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    cfg_diags_render(&b->d, &out);
    snprintf(b->text, sizeof b->text, "%s", out.data ? out.data : "");
    gb_sbuf_free(&out);
}

static void bound_free(bound *b)
{
    cfg_diags_free(&b->d);
    cfg_doc_free(&b->doc);
}

static void expect_error(const char *yaml, const char *want1, const char *want2)
{
    bound b;
    bind_yaml(&b, yaml);
    if (b.st != GB_ERR_INVALID) fail_msg("no error for:\n%s\n(%s)", yaml, b.text);
    if (!strstr(b.text, want1)) fail_msg("diagnostics \"%s\" do not contain \"%s\"", b.text, want1);
    if (want2 && !strstr(b.text, want2))
        fail_msg("diagnostics \"%s\" do not contain \"%s\"", b.text, want2);
    bound_free(&b);
}

/* A processor instance from yaml ("p:\n  ..."), started with data_dir = a temp dir. */
typedef struct proc {
    bound b;
    sink k;
    pl_component c;
    pl_host host;
    char dir[64];
} proc;

static void proc_open_sig(proc *p, const char *yaml, pd_signal sig)
{
    memset(p, 0, sizeof *p);
    bind_yaml(&p->b, yaml);
    if (p->b.st != GB_OK) fail_msg("config error: %s", p->b.text);
    sink_init(&p->k);
    comp_init(&p->c, &processor_governance_descriptor, "governance", p->b.obj, sig, &p->k.c);
    snprintf(p->dir, sizeof p->dir, "/tmp/govtest-XXXXXX");
    assert_non_null(mkdtemp(p->dir));
    p->host.data_dir = p->dir;
    assert_int_equal(processor_governance_descriptor.create(&p->c), GB_OK);
    assert_int_equal(processor_governance_descriptor.start(&p->c, &p->host), GB_OK);
}

static void proc_open(proc *p, const char *yaml)
{
    proc_open_sig(p, yaml, PD_TRACES);
}

static void proc_close(proc *p)
{
    processor_governance_descriptor.shutdown(&p->c, 0);
    processor_governance_descriptor.destroy(&p->c);
    sink_free(&p->k);
    bound_free(&p->b);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", p->dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- batches ----------------------------------------------------------------------------- */

/* attrs spec: "key=value" strings; value "i:123" = int, "d:1.5" = double, "b:true" = bool,
 * else string. */
static void put_spec(pd_batch *b, pd_attrs *a, const char *spec)
{
    const char *eq = strchr(spec, '=');
    assert_non_null(eq);
    char key[128];
    snprintf(key, sizeof key, "%.*s", (int)(eq - spec), spec);
    const char *v = eq + 1;
    pd_any val;
    if (!strncmp(v, "i:", 2))
        val = pd_any_int(strtoll(v + 2, NULL, 10));
    else if (!strncmp(v, "d:", 2))
        val = pd_any_double(strtod(v + 2, NULL));
    else if (!strncmp(v, "b:", 2))
        val = pd_any_bool(!strcmp(v + 2, "true"));
    else
        val = pd_any_str(tdup(b, v));
    pd_attrs_put(&b->arena, a, tdup(b, key), val);
}

/* One resource (attributes res, NULL-terminated), one scope, n spans each with attrs
 * (NULL-terminated); span i has span id i+1 and trace id 0xAB.. */
static pd_batch *mk_spans(const char *const *res, uint32_t n, const char *const *attrs)
{
    pd_batch *b;
    pd_batch_new(PD_TRACES, 0, &b);
    b->u.traces.v = gb_arena_calloc(&b->arena, 1, sizeof(pd_resource_spans));
    b->u.traces.n = 1;
    pd_resource_spans *rs = &b->u.traces.v[0];
    rs->resource.attrs = tattrs(b, 4);
    for (const char *const *r = res; r && *r; r++)
        put_spec(b, &rs->resource.attrs, *r);
    rs->scope_spans = gb_arena_calloc(&b->arena, 1, sizeof(pd_scope_spans));
    rs->n_scope_spans = 1;
    pd_scope_spans *ss = &rs->scope_spans[0];
    ss->spans = gb_arena_calloc(&b->arena, n, sizeof(pd_span));
    ss->n_spans = n;
    for (uint32_t i = 0; i < n; i++) {
        pd_span *sp = &ss->spans[i];
        memset(sp->trace_id.b, 0xAB, 16);
        sp->span_id.b[7] = (uint8_t)(i + 1);
        sp->name = tdup(b, "chat");
        sp->start_time_unix_nano = 1780000000000000000ull; /* 2026-05-28 */
        sp->end_time_unix_nano = sp->start_time_unix_nano + 1000000000ull;
        sp->attrs = tattrs(b, 4);
        for (const char *const *a = attrs; a && *a; a++)
            put_spec(b, &sp->attrs, *a);
    }
    return b;
}

static pd_span *out_span(proc *p, unsigned batch, uint32_t i)
{
    assert_true(p->k.n > batch);
    pd_batch *o = p->k.got[batch];
    assert_true(o->u.traces.n >= 1);
    assert_true(o->u.traces.v[0].n_scope_spans >= 1);
    assert_true(o->u.traces.v[0].scope_spans[0].n_spans > i);
    return &o->u.traces.v[0].scope_spans[0].spans[i];
}

static const pd_any *get(const pd_attrs *a, const char *k)
{
    pd_kv *kv = pd_attrs_find(a, gb_str_c(k));
    return kv ? &kv->value : NULL;
}

static void expect_str(const pd_attrs *a, const char *k, const char *want)
{
    const pd_any *v = get(a, k);
    if (!v) fail_msg("%s missing (want \"%s\")", k, want);
    if (v->type != PD_ANY_STR) fail_msg("%s is not a string", k);
    if (!gb_str_eq_c(v->u.str, want))
        fail_msg("%s = \"%.*s\", want \"%s\"", k, GB_STR_FMT(v->u.str), want);
}

static void expect_dbl(const pd_attrs *a, const char *k, double want)
{
    const pd_any *v = get(a, k);
    if (!v) fail_msg("%s missing (want %.9f)", k, want);
    if (v->type != PD_ANY_DOUBLE) fail_msg("%s is not a double (type %d)", k, v->type);
    if (fabs(v->u.d - want) > 1e-12) fail_msg("%s = %.12f, want %.12f", k, v->u.d, want);
}

static void expect_int(const pd_attrs *a, const char *k, int64_t want)
{
    const pd_any *v = get(a, k);
    if (!v) fail_msg("%s missing (want %lld)", k, (long long)want);
    if (v->type != PD_ANY_INT) fail_msg("%s is not an int", k);
    if (v->u.i != want) fail_msg("%s = %lld, want %lld", k, (long long)v->u.i, (long long)want);
}

static void expect_processed(const pd_attrs *a)
{
    const pd_any *v = get(a, "genops.governance.processed");
    assert_non_null(v);
    assert_int_equal(v->type, PD_ANY_BOOL);
    assert_true(v->u.b);
}

/* Sends one span with attrs through p, returns its attributes in the output. */
static pd_attrs *run1(proc *p, const char *const *res, const char *const *attrs)
{
    unsigned before = p->k.n;
    assert_int_equal(processor_governance_descriptor.consume(&p->c, mk_spans(res, 1, attrs)),
                     GB_OK);
    assert_int_equal(p->k.n, before + 1);
    return &out_span(p, before, 0)->attrs;
}

/* ---- pricing ---------------------------------------------------------------------------- */

static void test_openai_current_conventions(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n");
    const char *attrs[] = {"gen_ai.provider.name=openai",
                           "gen_ai.request.model=gpt-4o",
                           "gen_ai.response.model=gpt-4o-2024-08-06",
                           "gen_ai.usage.input_tokens=i:1000",
                           "gen_ai.usage.output_tokens=i:500",
                           "gen_ai.usage.cache_read.input_tokens=i:200",
                           NULL};
    pd_attrs *a = run1(&p, NULL, attrs);
    /* (800 * 2.50 + 200 * 1.25 + 500 * 10.00) / 1e6 */
    expect_dbl(a, "genops.cost.total", 0.00725);
    expect_dbl(a, "genops.cost.input", 0.002);
    expect_dbl(a, "genops.cost.cache_read", 0.00025);
    expect_dbl(a, "genops.cost.output", 0.005);
    expect_dbl(a, "genops.cost.cache_write", 0.0);
    expect_str(a, "genops.cost.currency", "USD");
    expect_str(a, "genops.cost.provider", "openai");
    expect_str(a, "genops.cost.model", "gpt-4o-2024-08-06");
    expect_str(a, "genops.cost.source", "collector");
    expect_str(a, "genops.cost.status", "priced");
    expect_str(a, "genops.cost.tier", "low");
    const pd_any *v = get(a, "genops.cost.pricing_version");
    assert_non_null(v);
    assert_true(gb_str_has_prefix(v->u.str, GB_STR_LIT("builtin-")));
    expect_int(a, "genops.tokens.input", 1000);
    expect_int(a, "genops.tokens.output", 500);
    expect_int(a, "genops.tokens.total", 1500);
    expect_int(a, "genops.tokens.cache_read", 200);
    assert_null(get(a, "genops.tokens.cache_write"));
    expect_processed(a);
    proc_close(&p);
}

static void test_anthropic_cached_semantics(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n");
    /* Anthropic's API spelling: input_tokens excludes the cached tokens */
    const char *attrs[] = {"gen_ai.system=anthropic",
                           "gen_ai.request.model=claude-sonnet-4-5",
                           "gen_ai.usage.input_tokens=i:100",
                           "gen_ai.usage.cache_read_input_tokens=i:1000",
                           "gen_ai.usage.cache_creation_input_tokens=i:200",
                           "gen_ai.usage.output_tokens=i:300",
                           NULL};
    pd_attrs *a = run1(&p, NULL, attrs);
    /* 100 * 3 + 1000 * 0.30 + 200 * 3.75 + 300 * 15 = 5850 per 1M */
    expect_dbl(a, "genops.cost.total", 0.00585);
    expect_dbl(a, "genops.cost.input", 0.0003);
    expect_dbl(a, "genops.cost.cache_read", 0.0003);
    expect_dbl(a, "genops.cost.cache_write", 0.00075);
    expect_dbl(a, "genops.cost.output", 0.0045);
    expect_int(a, "genops.tokens.input", 1300); /* includes cached tokens */
    expect_int(a, "genops.tokens.cache_read", 1000);
    expect_int(a, "genops.tokens.cache_write", 200);
    expect_int(a, "genops.tokens.total", 1600);
    /* originals kept; the canonical provider key added; no canonical cache keys next to an
     * exclusive input count */
    expect_int(a, "gen_ai.usage.input_tokens", 100);
    expect_str(a, "gen_ai.system", "anthropic");
    expect_str(a, "gen_ai.provider.name", "anthropic");
    assert_null(get(a, "gen_ai.usage.cache_read.input_tokens"));
    expect_int(a, "gen_ai.usage.cache_read_input_tokens", 1000);
    proc_close(&p);
}

static void test_older_conventions(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n");
    const char *attrs[] = {"gen_ai.system=openai", "gen_ai.request.model=gpt-4o-mini",
                           "gen_ai.usage.prompt_tokens=i:10000",
                           "gen_ai.usage.completion_tokens=i:2000", NULL};
    pd_attrs *a = run1(&p, NULL, attrs);
    /* 10000 * 0.15 + 2000 * 0.60 = 2700 per 1M */
    expect_dbl(a, "genops.cost.total", 0.0027);
    expect_str(a, "genops.cost.status", "priced");
    /* canonical keys written, aliases kept */
    expect_int(a, "gen_ai.usage.input_tokens", 10000);
    expect_int(a, "gen_ai.usage.output_tokens", 2000);
    expect_int(a, "gen_ai.usage.prompt_tokens", 10000);
    expect_str(a, "gen_ai.provider.name", "openai");
    proc_close(&p);
}

static void test_openinference_gemini_tier(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n");
    const char *attrs[] = {"llm.provider=google", "llm.model_name=gemini-2.5-pro",
                           "llm.token_count.prompt=i:300000", "llm.token_count.completion=i:1000",
                           NULL};
    pd_attrs *a = run1(&p, NULL, attrs);
    /* above 200K input tokens: 2.50 in, 15.00 out -> 300000 * 2.5 + 1000 * 15 per 1M */
    expect_dbl(a, "genops.cost.total", 0.765);
    expect_str(a, "genops.cost.tier", "high");
    expect_str(a, "genops.cost.model", "gemini-2.5-pro");
    expect_str(a, "gen_ai.request.model", "gemini-2.5-pro");
    expect_int(a, "gen_ai.usage.input_tokens", 300000);
    expect_int(a, "genops.tokens.total", 301000);
    proc_close(&p);
}

/* The three models under each convention generation, 1000 uncached + 200 cached input tokens
 * and 500 output tokens, each generation with its own spelling of the cached count. */
static void test_models_by_generation(void **state)
{
    (void)state;
    static const struct {
        const char *prov_now, *prov_old, *prov_oi, *model;
        double cost;
    } M[] = {
        /* 1000 * 2.50 + 200 * 1.25 + 500 * 10.00 */
        {"openai", "openai", "openai", "gpt-4o", 0.00775},
        /* 1000 * 3.00 + 200 * 0.30 + 500 * 15.00 */
        {"anthropic", "anthropic", "anthropic", "claude-sonnet-4-5", 0.01056},
        /* 1000 * 0.30 + 200 * 0.03 + 500 * 2.50 */
        {"gcp.gemini", "gemini", "google", "gemini-2.5-flash", 0.001556},
    };
    proc p;
    proc_open(&p, "p:\n");
    for (size_t m = 0; m < sizeof M / sizeof M[0]; m++) {
        char prov[96], model[96], model_oi[96], prov_old[96], prov_oi[96];
        snprintf(prov, sizeof prov, "gen_ai.provider.name=%s", M[m].prov_now);
        snprintf(prov_old, sizeof prov_old, "gen_ai.system=%s", M[m].prov_old);
        snprintf(prov_oi, sizeof prov_oi, "llm.provider=%s", M[m].prov_oi);
        snprintf(model, sizeof model, "gen_ai.request.model=%s", M[m].model);
        snprintf(model_oi, sizeof model_oi, "llm.model_name=%s", M[m].model);
        bool anthropic = !strcmp(M[m].prov_now, "anthropic");
        /* current: input includes the cached tokens */
        const char *now[] = {prov,
                             model,
                             "gen_ai.usage.input_tokens=i:1200",
                             "gen_ai.usage.cache_read.input_tokens=i:200",
                             "gen_ai.usage.output_tokens=i:500",
                             NULL};
        /* older: prompt/completion; Anthropic's instrumentations copy its usage (input without
         * the cache), the others report OpenAI's prompt_tokens_details */
        const char *old_a[] = {prov_old,
                               model,
                               "gen_ai.usage.prompt_tokens=i:1000",
                               "gen_ai.usage.cache_read_input_tokens=i:200",
                               "gen_ai.usage.completion_tokens=i:500",
                               NULL};
        const char *old_o[] = {prov_old,
                               model,
                               "gen_ai.usage.prompt_tokens=i:1200",
                               "gen_ai.usage.prompt_tokens_details.cached_tokens=i:200",
                               "gen_ai.usage.completion_tokens=i:500",
                               NULL};
        /* OpenInference: the prompt count is the whole prompt */
        const char *oi[] = {prov_oi,
                            model_oi,
                            "llm.token_count.prompt=i:1200",
                            "llm.token_count.prompt_details.cache_read=i:200",
                            "llm.token_count.completion=i:500",
                            NULL};
        const char *const *gens[] = {now, anthropic ? old_a : old_o, oi};
        for (int g = 0; g < 3; g++) {
            pd_attrs *a = run1(&p, NULL, gens[g]);
            if (fabs(get(a, "genops.cost.total")->u.d - M[m].cost) > 1e-12)
                fail_msg("%s generation %d: cost %.9f, want %.9f", M[m].model, g,
                         get(a, "genops.cost.total")->u.d, M[m].cost);
            expect_str(a, "genops.cost.status", "priced");
            expect_int(a, "genops.tokens.input", 1200);
            expect_int(a, "genops.tokens.cache_read", 200);
            expect_int(a, "genops.tokens.output", 500);
            expect_str(a, "gen_ai.request.model", M[m].model);
        }
    }
    proc_close(&p);
}

static void test_unpriced_and_not_ai(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n");
    const char *attrs[] = {"gen_ai.provider.name=acme", "gen_ai.request.model=secret-model-9",
                           "gen_ai.usage.input_tokens=i:10", "gen_ai.usage.output_tokens=i:5",
                           NULL};
    pd_attrs *a = run1(&p, NULL, attrs);
    expect_str(a, "genops.cost.status", "unpriced");
    expect_dbl(a, "genops.cost.total", 0.0);
    assert_null(get(a, "genops.cost.input"));
    expect_processed(a);

    /* not an AI operation: untouched */
    const char *plain[] = {"http.method=GET", NULL};
    a = run1(&p, NULL, plain);
    assert_null(get(a, "genops.governance.processed"));
    assert_null(get(a, "genops.cost.total"));
    assert_int_equal(a->n, 1);

    /* an SDK evaluation record: aliases normalized, marked processed, not priced */
    const char *eval[] = {"genops.eval.metric=accuracy", "genops.eval.score=d:0.9",
                          "genops.policy.result=ALLOWED", "genops.budget.utilization_percent=d:42",
                          NULL};
    a = run1(&p, NULL, eval);
    expect_str(a, "genops.eval.metric_name", "accuracy");
    expect_str(a, "genops.eval.metric", "accuracy");
    expect_str(a, "genops.policy.result", "passed");
    expect_dbl(a, "genops.budget.utilization", 42.0);
    expect_processed(a);
    assert_null(get(a, "genops.cost.total"));
    proc_close(&p);
}

static void test_sdk_cost_kept_and_recompute(void **state)
{
    (void)state;
    const char *attrs[] = {"gen_ai.request.model=gpt-4o", "gen_ai.usage.input_tokens=i:1000",
                           "gen_ai.usage.output_tokens=i:1000", "genops.cost.amount=d:0.5", NULL};
    proc p;
    proc_open(&p, "p:\n");
    pd_attrs *a = run1(&p, NULL, attrs);
    expect_dbl(a, "genops.cost.total", 0.5);
    expect_dbl(a, "genops.cost.amount", 0.5);
    expect_str(a, "genops.cost.source", "sdk");
    expect_str(a, "genops.cost.status", "priced");
    expect_str(a, "genops.cost.tier", "high");
    assert_null(get(a, "genops.cost.input"));
    proc_close(&p);

    proc_open(&p, "p:\n  pricing:\n    recompute: true\n");
    a = run1(&p, NULL, attrs);
    /* 1000 * 2.5 + 1000 * 10 per 1M */
    expect_dbl(a, "genops.cost.total", 0.0125);
    expect_str(a, "genops.cost.source", "collector");
    expect_str(a, "genops.cost.tier", "medium");
    proc_close(&p);
}

static void test_second_pass_keeps_collector_cost(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n");
    const char *attrs[] = {"gen_ai.request.model=secret", "gen_ai.usage.input_tokens=i:10", NULL};
    pd_attrs *a = run1(&p, NULL, attrs);
    expect_str(a, "genops.cost.status", "unpriced");
    /* the output batch through the processor again: still unpriced, source collector */
    pd_batch *again = p.k.got[0];
    p.k.got[0] = NULL;
    p.k.n = 0;
    assert_int_equal(processor_governance_descriptor.consume(&p.c, again), GB_OK);
    a = &out_span(&p, 0, 0)->attrs;
    expect_str(a, "genops.cost.status", "unpriced");
    expect_str(a, "genops.cost.source", "collector");
    proc_close(&p);
}

static void test_overrides_and_price_file(void **state)
{
    (void)state;
    char path[] = "/tmp/govprices-XXXXXX.yaml";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    const char *yaml = "prices:\n  - {provider: openai, model: gpt-4o, input: 5, output: 20}\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    char cfg[512];
    snprintf(cfg, sizeof cfg,
             "p:\n  pricing:\n    file: %s\n    overrides:\n"
             "      - {provider: openai, model: my-ft, input: 3.0, output: 12.0}\n",
             path);
    proc p;
    proc_open(&p, cfg);
    const char *a1[] = {"gen_ai.provider.name=openai", "gen_ai.request.model=gpt-4o",
                        "gen_ai.usage.input_tokens=i:1000", "gen_ai.usage.output_tokens=i:1000",
                        NULL};
    pd_attrs *a = run1(&p, NULL, a1);
    expect_dbl(a, "genops.cost.total", 0.025); /* the file's 5/20 */
    const char *a2[] = {"gen_ai.provider.name=openai", "gen_ai.request.model=my-ft",
                        "gen_ai.usage.input_tokens=i:1000", "gen_ai.usage.output_tokens=i:1000",
                        NULL};
    a = run1(&p, NULL, a2);
    expect_dbl(a, "genops.cost.total", 0.015);
    const pd_any *v = get(a, "genops.cost.pricing_version");
    assert_true(gb_str_has_prefix(v->u.str, GB_STR_LIT("custom-")));
    proc_close(&p);
    unlink(path);
}

/* ---- attribution and tiers -------------------------------------------------------------- */

static void test_attribution_and_tiers(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n"
                  "  attribution:\n"
                  "    customer_id: [genops.customer_id, tenant.id]\n"
                  "    defaults: {environment: production, project: unknown-project}\n"
                  "  cost_tiers: {medium: 0.001, high: 0.005}\n");
    const char *res[] = {"genops.team=ml", "deployment.environment.name=staging", NULL};
    const char *attrs[] = {"gen_ai.request.model=gpt-4o", "gen_ai.usage.input_tokens=i:1000",
                           "gen_ai.usage.output_tokens=i:100", "tenant.id=acme", NULL};
    pd_attrs *a = run1(&p, res, attrs);
    expect_str(a, "genops.team", "ml");                 /* from the resource */
    expect_str(a, "genops.customer_id", "acme");        /* configured source */
    expect_str(a, "genops.environment", "staging");     /* default source list */
    expect_str(a, "genops.project", "unknown-project"); /* default value */
    assert_null(get(a, "genops.feature"));
    /* 1000 * 2.5 + 100 * 10 = 3500 per 1M = 0.0035: between 0.001 and 0.005 */
    expect_dbl(a, "genops.cost.total", 0.0035);
    expect_str(a, "genops.cost.tier", "medium");

    /* the span's own value wins, the §1 alias genops.customer is read */
    const char *own[] = {"gen_ai.request.model=gpt-4o", "gen_ai.usage.input_tokens=i:1",
                         "genops.team=search", "genops.customer=globex", NULL};
    a = run1(&p, res, own);
    expect_str(a, "genops.team", "search");
    expect_str(a, "genops.customer_id", "globex");
    expect_str(a, "genops.environment", "staging");

    /* aliases found among few and among many other genops.* keys */
    const char *few[] = {"gen_ai.request.model=gpt-4o", "genops.tags=x",
                         "genops.budget.allocated=i:10", "genops.customer=c1", NULL};
    a = run1(&p, res, few);
    expect_str(a, "genops.customer_id", "c1");
    expect_dbl(a, "genops.budget.limit", 10.0);
    const char *many[] = {"gen_ai.request.model=gpt-4o",
                          "genops.x1=1",
                          "genops.x2=2",
                          "genops.x3=3",
                          "genops.x4=4",
                          "genops.x5=5",
                          "genops.x6=6",
                          "genops.x7=7",
                          "genops.x8=8",
                          "genops.x9=9",
                          "genops.budget.consumed=d:2.5",
                          "genops.customer=c3",
                          NULL};
    a = run1(&p, res, many);
    expect_str(a, "genops.customer_id", "c3");
    expect_dbl(a, "genops.budget.used", 2.5);
    proc_close(&p);

    proc_open(&p, "p:\n  attribution:\n    defaults: {environment: production}\n");
    a = run1(&p, NULL, attrs);
    expect_str(a, "genops.environment", "production");
    assert_null(get(a, "genops.customer_id")); /* tenant.id is not a default source */
    proc_close(&p);
}

/* ---- logs -------------------------------------------------------------------------------- */

static void test_logs(void **state)
{
    (void)state;
    proc p;
    proc_open_sig(&p, "p:\n  budgets:\n    - {name: all, limit: 10}\n", PD_LOGS);
    pd_batch *b = mk_logs("l", 1, 1, 2);
    pd_log *lg = &b->u.logs.v[0].scope_logs[0].logs[0];
    lg->event_name = tdup(b, "gen_ai.client.inference.operation.details");
    lg->time_unix_nano = 1780000000000000000ull;
    memset(lg->trace_id.b, 1, 16);
    lg->span_id.b[0] = 9;
    put_spec(b, &lg->attrs, "gen_ai.provider.name=openai");
    put_spec(b, &lg->attrs, "gen_ai.request.model=gpt-4o");
    put_spec(b, &lg->attrs, "gen_ai.usage.input_tokens=i:1000");
    put_spec(b, &lg->attrs, "gen_ai.usage.output_tokens=i:1000");
    assert_int_equal(processor_governance_descriptor.consume(&p.c, b), GB_OK);
    assert_int_equal(p.k.n, 1);
    pd_scope_logs *sl = &p.k.got[0]->u.logs.v[0].scope_logs[0];
    assert_int_equal(sl->n_logs, 2);
    expect_dbl(&sl->logs[0].attrs, "genops.cost.total", 0.0125);
    expect_str(&sl->logs[0].attrs, "genops.budget.name", "all");
    expect_dbl(&sl->logs[0].attrs, "genops.budget.used", 0.0125);
    expect_processed(&sl->logs[0].attrs);
    /* the other record has no GenAI usage */
    assert_null(get(&sl->logs[1].attrs, "genops.governance.processed"));
    proc_close(&p);
}

static void test_log_content_events(void **state)
{
    (void)state;
    proc p;
    proc_open_sig(&p,
                  "p:\n"
                  "  policies:\n"
                  "    - {name: teams, kind: team_access, allowed_teams: [ml]}\n"
                  "    - {name: pii, kind: content_filter, blocked_patterns: [password], "
                  "action: redact}\n",
                  PD_LOGS);
    pd_batch *b = mk_logs("l", 1, 1, 3);
    pd_log *lg = b->u.logs.v[0].scope_logs[0].logs;
    lg[0].event_name = tdup(b, "gen_ai.user.message");
    lg[0].body = pd_any_str(tdup(b, "my Password is hunter2"));
    put_spec(b, &lg[0].attrs, "gen_ai.system=openai");
    put_spec(b, &lg[1].attrs, "event.name=gen_ai.choice");
    lg[1].body = pd_any_str(tdup(b, "nothing to see"));
    lg[2].body = pd_any_str(tdup(b, "password outside GenAI")); /* not a GenAI event */
    assert_int_equal(processor_governance_descriptor.consume(&p.c, b), GB_OK);
    pd_log *o = p.k.got[0]->u.logs.v[0].scope_logs[0].logs;
    assert_true(gb_str_eq_c(o[0].body.u.str, "[REDACTED]"));
    expect_str(&o[0].attrs, "genops.policy.name", "pii");
    expect_str(&o[0].attrs, "genops.policy.result", "warning");
    expect_processed(&o[0].attrs);
    assert_null(get(&o[0].attrs, "genops.cost.total")); /* not priced */
    expect_str(&o[1].attrs, "genops.policy.result", "passed");
    assert_true(gb_str_eq_c(o[1].body.u.str, "nothing to see"));
    assert_null(get(&o[2].attrs, "genops.governance.processed"));
    assert_true(gb_str_eq_c(o[2].body.u.str, "password outside GenAI"));
    proc_close(&p);
}

/* ---- budgets ---------------------------------------------------------------------------- */

static void test_budget_charged_once(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n"
                  "  budget_store: {path: \":memory:\"}\n"
                  "  budgets:\n"
                  "    - name: team-daily\n"
                  "      group_by: genops.team\n"
                  "      limit: 0.05\n"
                  "    - name: prod-monthly\n"
                  "      match: {genops.environment: production}\n"
                  "      limit: 100\n"
                  "      window: month\n"
                  "    - name: staging\n"
                  "      match: {genops.environment: staging}\n"
                  "      limit: 100\n");
    const char *attrs[] = {"gen_ai.request.model=gpt-4o",       "gen_ai.usage.input_tokens=i:1000",
                           "gen_ai.usage.output_tokens=i:1000", "genops.team=ml",
                           "genops.environment=production",     NULL};
    for (int round = 0; round < 2; round++) {
        pd_batch *b = mk_spans(NULL, 2, attrs);
        assert_int_equal(processor_governance_descriptor.consume(&p.c, b), GB_OK);
    }
    assert_int_equal(p.k.n, 2);
    /* two spans of 0.0125 each, charged once although sent twice */
    pd_attrs *a = &out_span(&p, 1, 1)->attrs;
    expect_str(a, "genops.budget.name", "team-daily"); /* the most utilized */
    expect_dbl(a, "genops.budget.used", 0.025);
    expect_dbl(a, "genops.budget.limit", 0.05);
    expect_dbl(a, "genops.budget.remaining", 0.025);
    expect_dbl(a, "genops.budget.utilization", 50.0);
    expect_str(a, "genops.budget.status", "warning");
    expect_str(a, "genops.budget.group", "ml");
    expect_str(a, "genops.budget.window", "2026-05-28");
    /* two budgets matched: one event each */
    pd_span *sp = out_span(&p, 1, 1);
    assert_int_equal(sp->n_events, 2);
    assert_true(gb_str_eq_c(sp->events[0].name, "genops.budget.evaluated"));
    expect_str(&sp->events[0].attrs, "genops.budget.name", "team-daily");
    expect_str(&sp->events[1].attrs, "genops.budget.name", "prod-monthly");
    expect_str(&sp->events[1].attrs, "genops.budget.window", "2026-05");
    assert_null(get(&sp->events[1].attrs, "genops.budget.group"));
    expect_dbl(&sp->events[1].attrs, "genops.budget.used", 0.025);
    proc_close(&p);
}

/* ---- policies ---------------------------------------------------------------------------- */

static void test_policies(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n"
                  "  policies:\n"
                  "    - {name: max-cost, kind: cost_limit, max_cost: 0.01}\n"
                  "    - {name: models, kind: model_allowlist, allowed_models: [\"gpt-4o*\"], "
                  "enforcement: blocked}\n"
                  "    - {name: teams, kind: team_access, allowed_teams: [ml]}\n"
                  "    - {name: pii, kind: content_filter, blocked_patterns: [ssn], action: "
                  "redact}\n"
                  "    - {name: no-debug, kind: condition, match: {debug: \"true\"}, action: "
                  "drop}\n");
    /* cost 0.0125 > 0.01: warning; model allowed; team allowed */
    const char *a1[] = {"gen_ai.request.model=gpt-4o",       "gen_ai.usage.input_tokens=i:1000",
                        "gen_ai.usage.output_tokens=i:1000", "genops.team=ml",
                        "gen_ai.prompt=my SSN is 123",       NULL};
    pd_attrs *a = run1(&p, NULL, a1);
    expect_str(a, "genops.policy.name", "max-cost");
    expect_str(a, "genops.policy.result", "warning");
    assert_non_null(get(a, "genops.policy.reason"));
    expect_str(a, "gen_ai.prompt", "[REDACTED]");
    pd_span *sp = out_span(&p, 0, 0);
    assert_int_equal(sp->n_events, 5);
    for (uint32_t i = 0; i < 5; i++)
        assert_true(gb_str_eq_c(sp->events[i].name, "genops.policy.evaluated"));
    expect_str(&sp->events[1].attrs, "genops.policy.name", "models");
    expect_str(&sp->events[1].attrs, "genops.policy.result", "passed");
    expect_str(&sp->events[3].attrs, "genops.policy.result", "warning"); /* pii */

    /* a model outside the allowlist: blocked is the most severe */
    const char *a2[] = {"gen_ai.request.model=claude-haiku-4-5", "gen_ai.usage.input_tokens=i:10",
                        "genops.team=ml", NULL};
    a = run1(&p, NULL, a2);
    expect_str(a, "genops.policy.name", "models");
    expect_str(a, "genops.policy.result", "blocked");

    /* drop: the span is removed, the others stay, empty containers go */
    const char *a3[] = {"gen_ai.request.model=gpt-4o", "gen_ai.usage.input_tokens=i:10",
                        "genops.team=ml", "debug=true", NULL};
    unsigned before = p.k.n;
    pd_batch *b = mk_spans(NULL, 3, a1);
    pd_span *mid = &b->u.traces.v[0].scope_spans[0].spans[1];
    put_spec(b, &mid->attrs, "debug=true");
    assert_int_equal(processor_governance_descriptor.consume(&p.c, b), GB_OK);
    pd_batch *o = p.k.got[before];
    assert_int_equal(o->u.traces.v[0].scope_spans[0].n_spans, 2);
    assert_int_equal(o->u.traces.v[0].scope_spans[0].spans[1].span_id.b[7], 3);
    before = p.k.n;
    assert_int_equal(processor_governance_descriptor.consume(&p.c, mk_spans(NULL, 2, a3)), GB_OK);
    o = p.k.got[before];
    assert_int_equal(o->u.traces.n, 0);
    assert_int_equal(pd_batch_count(o), 0);
    gb_series *dropped = gb_tm_find("otelcol_processor_dropped_spans", "processor=\"governance\"");
    assert_non_null(dropped);
    assert_int_equal(gb_series_value(dropped), 3);
    proc_close(&p);
}

/* ---- shared state between the instances of one definition --------------------------------- */

static void test_instances_share_state(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n  budgets:\n    - {name: all, limit: 1}\n");
    sink k2;
    sink_init(&k2);
    pl_component c2;
    comp_init(&c2, &processor_governance_descriptor, "governance", p.b.obj, PD_LOGS, &k2.c);
    assert_int_equal(processor_governance_descriptor.create(&c2), GB_OK);
    assert_int_equal(processor_governance_descriptor.start(&c2, &p.host), GB_OK);
    const char *attrs[] = {"gen_ai.request.model=gpt-4o", "gen_ai.usage.input_tokens=i:1000",
                           "gen_ai.usage.output_tokens=i:1000", NULL};
    run1(&p, NULL, attrs);
    pd_batch *b = mk_logs("l", 1, 1, 1);
    pd_log *lg = &b->u.logs.v[0].scope_logs[0].logs[0];
    lg->span_id.b[0] = 77;
    lg->time_unix_nano = 1780000000000000000ull; /* the spans' day */
    put_spec(b, &lg->attrs, "gen_ai.request.model=gpt-4o");
    put_spec(b, &lg->attrs, "gen_ai.usage.input_tokens=i:1000");
    put_spec(b, &lg->attrs, "gen_ai.usage.output_tokens=i:1000");
    assert_int_equal(processor_governance_descriptor.consume(&c2, b), GB_OK);
    expect_dbl(&k2.got[0]->u.logs.v[0].scope_logs[0].logs[0].attrs, "genops.budget.used", 0.025);
    /* the first instance's shutdown keeps the store open for the second */
    processor_governance_descriptor.shutdown(&c2, 0);
    processor_governance_descriptor.destroy(&c2);
    sink_free(&k2);
    pd_attrs *a = run1(&p, NULL, attrs); /* same ids as the first: not charged again */
    expect_dbl(a, "genops.budget.used", 0.025);
    proc_close(&p);
}

/* ---- budget API handler ------------------------------------------------------------------ */

static int api_call(proc *p, const char *method, const char *path, char *body, size_t cap)
{
    net_http_request req = {0};
    req.method = gb_str_c(method);
    req.path = gb_str_c(path);
    req.target = req.path;
    net_http_response resp;
    memset(&resp, 0, sizeof resp);
    gb_sbuf_init(&resp.headers, 0);
    gb_sbuf_init(&resp.body, 0);
    governance_api_handle(&req, &resp, governance_core_of(&p->c));
    snprintf(body, cap, "%.*s", (int)resp.body.len, resp.body.data ? resp.body.data : "");
    int status = resp.status;
    gb_sbuf_free(&resp.headers);
    gb_sbuf_free(&resp.body);
    return status;
}

static void test_budget_api_handler(void **state)
{
    (void)state;
    proc p;
    proc_open(&p, "p:\n"
                  "  budgets:\n"
                  "    - {name: team daily, group_by: genops.team, limit: 10}\n"
                  "    - {name: total, limit: 100}\n");
    /* spans now, so they fall in the current windows the API reports */
    const char *ml[] = {"gen_ai.request.model=gpt-4o", "gen_ai.usage.input_tokens=i:1000",
                        "gen_ai.usage.output_tokens=i:1000", "genops.team=ml", NULL};
    const char *se[] = {"gen_ai.request.model=gpt-4o", "gen_ai.usage.input_tokens=i:2000",
                        "gen_ai.usage.output_tokens=i:2000", "genops.team=search", NULL};
    for (int i = 0; i < 2; i++) {
        pd_batch *b = mk_spans(NULL, 1, i ? se : ml);
        pd_span *sp = &b->u.traces.v[0].scope_spans[0].spans[0];
        sp->span_id.b[0] = (uint8_t)(i + 1);
        sp->end_time_unix_nano = (uint64_t)gb_now_ns();
        assert_int_equal(processor_governance_descriptor.consume(&p.c, b), GB_OK);
    }
    char body[4096];
    assert_int_equal(api_call(&p, "GET", "/v1/budgets", body, sizeof body), 200);
    assert_non_null(strstr(body, "{\"budgets\":["));
    assert_non_null(strstr(body, "\"group\":\"ml\""));
    assert_non_null(strstr(body, "\"group\":\"search\""));
    assert_non_null(strstr(body, "\"name\":\"total\""));
    assert_non_null(strstr(body, "\"used\":0.0375")); /* total: 0.0125 + 0.025 */
    /* one budget, all its groups; the name percent-decoded */
    assert_int_equal(api_call(&p, "GET", "/v1/budgets/team%20daily", body, sizeof body), 200);
    assert_non_null(strstr(body, "\"group\":\"ml\""));
    assert_non_null(strstr(body, "\"group\":\"search\""));
    assert_null(strstr(body, "\"name\":\"total\""));
    assert_int_equal(api_call(&p, "GET", "/v1/budgets/nope", body, sizeof body), 404);
    assert_string_equal(body, "{\"error\":\"unknown budget \\\"nope\\\"\"}");
    assert_int_equal(api_call(&p, "DELETE", "/v1/budgets/total", body, sizeof body), 405);
    assert_int_equal(api_call(&p, "GET", "/v1/budgets/a/b", body, sizeof body), 404);
    assert_int_equal(api_call(&p, "GET", "/v1/budgets/%zz", body, sizeof body), 404);
    assert_int_equal(api_call(&p, "GET", "/v1/budget", body, sizeof body), 404);
    assert_int_equal(api_call(&p, "GET", "/", body, sizeof body), 404);
    proc_close(&p);
}

/* ---- configuration errors ---------------------------------------------------------------- */

static void test_config_errors(void **state)
{
    (void)state;
    bound b;
    bind_yaml(&b, "p:\n");
    assert_int_equal(b.st, GB_OK);
    governance_cfg *c = b.obj;
    assert_false(c->pricing.recompute);
    assert_true(fabs(c->cost_tiers.medium - 0.01) < 1e-12);
    assert_int_equal(c->budget_store.flush_interval, 1000000000);
    bound_free(&b);

    expect_error("p:\n  policies:\n    - {name: x, kind: cost_limt, max_cost: 1}\n", "test.yaml:3:",
                 "unknown policy kind \"cost_limt\" (did you mean \"cost_limit\"?)");
    expect_error("p:\n  budgets:\n    - name: b\n      limit: 10\n      timezone: Mars/Olympus\n",
                 "test.yaml:5:17", "unknown time zone \"Mars/Olympus\"");
    expect_error("p:\n  budgets:\n    - name: b\n      limit: -5\n", "test.yaml:4:14",
                 "limit must be a positive amount");
    expect_error("p:\n  budgets:\n    - {name: b, limit: 0}\n",
                 "test.yaml:3:", "limit must be a positive amount");
    expect_error("p:\n  pricing:\n    file: /nonexistent/prices.yaml\n", "test.yaml:3:11",
                 "cannot load the price file");
    expect_error("p:\n  budgets:\n    - {name: b, limit: 1, window: fortnight}\n",
                 "test.yaml:3:", "unknown window \"fortnight\"");
    expect_error("p:\n  budgets:\n    - {name: b, limit: 1, match: 'attributes[\"x\"] == \"y\"'}\n",
                 "not supported yet: use match", NULL);
    expect_error("p:\n  budgets:\n    - {name: b, limit: 1}\n    - {name: b, limit: 2}\n",
                 "duplicate budget name \"b\"", NULL);
    expect_error("p:\n  policies:\n    - {name: r, kind: rate_limit}\n",
                 "kind rate_limit needs \"max_requests_per_minute\"", NULL);
    expect_error("p:\n  policies:\n    - {name: r, kind: cost_limit, max_cost: 1, action: dorp}\n",
                 "unknown action \"dorp\" (did you mean \"drop\"?)", NULL);
    expect_error("p:\n  attribution:\n    defaults: {teem: x}\n",
                 "test.yaml:3:", "unknown field \"teem\" (did you mean \"team\"?)");
    expect_error("p:\n  cost_tiers: {medium: 0.5, high: 0.1}\n", "medium < high", NULL);
    expect_error("p:\n  pricing:\n    overrides:\n      - {provider: openai, model: x, input: 1}\n",
                 "test.yaml:4:", "missing required key \"output\"");
    expect_error("p:\n  budgets:\n    - {name: b, limit: 1, thresholds: [80, 50]}\n",
                 "increasing order", NULL);

    /* an unreadable price file at create (config filled by hand) fails create */
    governance_cfg hand = {0};
    hand.pricing.file = "/nonexistent/prices.json";
    hand.cost_tiers.medium = 0.01;
    hand.cost_tiers.high = 0.1;
    pl_component comp;
    comp_init(&comp, &processor_governance_descriptor, "governance", &hand, PD_TRACES, NULL);
    assert_int_equal(processor_governance_descriptor.create(&comp), GB_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_current_conventions),
        cmocka_unit_test(test_anthropic_cached_semantics),
        cmocka_unit_test(test_older_conventions),
        cmocka_unit_test(test_openinference_gemini_tier),
        cmocka_unit_test(test_models_by_generation),
        cmocka_unit_test(test_unpriced_and_not_ai),
        cmocka_unit_test(test_sdk_cost_kept_and_recompute),
        cmocka_unit_test(test_second_pass_keeps_collector_cost),
        cmocka_unit_test(test_overrides_and_price_file),
        cmocka_unit_test(test_attribution_and_tiers),
        cmocka_unit_test(test_logs),
        cmocka_unit_test(test_log_content_events),
        cmocka_unit_test(test_budget_charged_once),
        cmocka_unit_test(test_policies),
        cmocka_unit_test(test_instances_share_state),
        cmocka_unit_test(test_budget_api_handler),
        cmocka_unit_test(test_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
