#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/sbuf.h"
#include "gov_test_util.h"
#include "governance/gov.h"

/* ---- the built-in table reproduces the CSV -------------------------------------------------- */

/* Splits one CSV line (RFC 4180 quotes) into at most max fields, in place. */
static int csv_split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        if (*p == '"') {
            char *w = ++p;
            f[n++] = w;
            for (;;) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else if (!*p) {
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            *w = '\0';
            if (*p == ',')
                p++;
            else
                break;
        } else {
            f[n++] = p;
            char *c = strchr(p, ',');
            if (!c) break;
            *c = '\0';
            p = c + 1;
        }
    }
    return n;
}

/* First decimal figure of a cell in micro-USD per 1M tokens; GOV_PRICE_ABSENT when empty. */
static int64_t cell_micro(const char *s)
{
    if (!*s) return GOV_PRICE_ABSENT;
    double d = strtod(s, NULL);
    return (int64_t)(d * 1e6 + 0.5);
}

static const char *csv_provider(const char *p)
{
    static const char *const map[][2] = {
        {"openai", "openai"},
        {"anthropic", "anthropic"},
        {"google", "gcp.gemini"},
        {"mistral", "mistral_ai"},
        {"meta-via-groq", "groq"},
        {"meta-via-together", "together"},
        {"meta-via-bedrock", "aws.bedrock"},
        {"deepseek", "deepseek"},
        {"xai", "x_ai"},
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(p, map[i][0])) return map[i][1];
    return NULL;
}

static void test_builtin_matches_csv(void **state)
{
    (void)state;
    const char *src = getenv("GENOPS_SRC");
    assert_non_null(src);
    char path[1024];
    snprintf(path, sizeof path, "%s/src/governance/prices-builtin.csv", src);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[2048];
    assert_non_null(fgets(line, sizeof line, f)); /* header */
    int rows = 0;
    bool seen[256] = {0};
    assert_true(gov_prices_builtin_count < 256);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0]) continue;
        char *c[10];
        assert_int_equal(csv_split(line, c, 10), 10);
        rows++;
        char model[128];
        snprintf(model, sizeof model, "%s", c[1]);
        model[strcspn(model, " ")] = '\0';
        const char *prov = csv_provider(c[0]);
        if (!prov) fail_msg("CSV provider %s has no mapping", c[0]);
        int found = 0;
        for (uint32_t i = 0; i < gov_prices_builtin_count; i++) {
            const gov_price *e = &gov_prices_builtin[i];
            if (strcmp(e->model, model) != 0) continue;
            seen[i] = true;
            if (e->effective_from != 0) continue; /* a later price from the notes, checked below */
            found++;
            assert_string_equal(e->provider, prov);
            if (e->rates.input != cell_micro(c[2]) || e->rates.cache_read != cell_micro(c[3]) ||
                e->rates.cache_write != cell_micro(c[4]) || e->rates.output != cell_micro(c[5]))
                fail_msg("%s: table %lld/%lld/%lld/%lld vs CSV %s/%s/%s/%s", model,
                         (long long)e->rates.input, (long long)e->rates.cache_read,
                         (long long)e->rates.cache_write, (long long)e->rates.output, c[2], c[3],
                         c[4], c[5]);
            assert_string_equal(e->source, c[7]);
            assert_string_equal(e->checked, c[8]);
        }
        if (found != 1) fail_msg("CSV model %s: %d base entries in the table", model, found);
    }
    fclose(f);
    assert_int_equal(rows, 32);
    for (uint32_t i = 0; i < gov_prices_builtin_count; i++)
        if (!seen[i]) fail_msg("table entry %s is not in the CSV", gov_prices_builtin[i].model);
}

/* The figures the CSV holds in its notes column. */
static void test_builtin_notes(void **state)
{
    (void)state;
    gov_prices *p;
    assert_int_equal(gov_prices_new_builtin(&p), GB_OK);
    const gov_price *e =
        gov_prices_lookup(p, GB_STR_LIT("openai"), GB_STR_LIT("gpt-5.4"), T_NOW_NS, NULL, NULL);
    assert_non_null(e);
    assert_int_equal(e->n_tiers, 1);
    assert_int_equal(e->tiers[0].above_input, 272000);
    assert_int_equal(e->tiers[0].rates.input, 5000000);
    assert_int_equal(e->tiers[0].rates.cache_read, 500000);
    assert_int_equal(e->tiers[0].rates.output, 22500000);
    e = gov_prices_lookup(p, GB_STR_LIT("anthropic"), GB_STR_LIT("claude-sonnet-4-5"), T_NOW_NS,
                          NULL, NULL);
    assert_non_null(e);
    assert_int_equal(e->tiers[0].above_input, 200000);
    assert_int_equal(e->tiers[0].rates.cache_write, 7500000);
    assert_int_equal(e->tiers[0].rates.output, 22500000);
    /* claude-sonnet-5: intro price through 2026-08-31, list price from 2026-09-01 */
    uint64_t aug31 = 1788134400ull * 1000000000ull + 3600ull * 1000000000ull;
    uint64_t sep1 = 1788220800ull * 1000000000ull;
    e = gov_prices_lookup(p, GB_STR_LIT("anthropic"), GB_STR_LIT("claude-sonnet-5"), aug31, NULL,
                          NULL);
    assert_int_equal(e->rates.input, 2000000);
    assert_int_equal(e->rates.output, 10000000);
    e = gov_prices_lookup(p, GB_STR_LIT("anthropic"), GB_STR_LIT("claude-sonnet-5"), sep1, NULL,
                          NULL);
    assert_int_equal(e->rates.input, 3000000);
    assert_int_equal(e->rates.cache_read, 300000);
    assert_int_equal(e->rates.cache_write, 3750000);
    assert_int_equal(e->rates.output, 15000000);
    /* start time unknown: newest */
    e = gov_prices_lookup(p, GB_STR_LIT("anthropic"), GB_STR_LIT("claude-sonnet-5"), 0, NULL, NULL);
    assert_int_equal(e->rates.input, 3000000);
    const char *v = gov_prices_version(p);
    assert_true(strncmp(v, "builtin-2026-07-29-", 19) == 0);
    gov_prices_free(p);
}

/* ---- model ids -------------------------------------------------------------------------- */

static void expect_match(gov_prices *p, const char *prov, const char *model, const char *want,
                         gov_match_kind want_kind)
{
    gov_match_kind k;
    bool pm;
    const gov_price *e = gov_prices_lookup(p, gb_str_c(prov), gb_str_c(model), T_NOW_NS, &k, &pm);
    if (!want) {
        if (e) fail_msg("%s matched %s", model, e->model);
        assert_int_equal(k, GOV_MATCH_NONE);
        return;
    }
    if (!e) fail_msg("%s did not match", model);
    if (strcmp(e->model, want) != 0 || k != want_kind)
        fail_msg("%s -> %s (kind %d), want %s (kind %d)", model, e->model, k, want, want_kind);
}

static void test_model_matching(void **state)
{
    (void)state;
    gov_prices *p;
    assert_int_equal(gov_prices_new_builtin(&p), GB_OK);
    expect_match(p, "openai", "gpt-4o", "gpt-4o", GOV_MATCH_EXACT);
    expect_match(p, "openai", "GPT-4o", "gpt-4o", GOV_MATCH_EXACT);
    expect_match(p, "openai", "gpt-4o-2024-08-06", "gpt-4o", GOV_MATCH_DATED);
    expect_match(p, "openai", "gpt-4o-mini-2024-07-18", "gpt-4o-mini", GOV_MATCH_DATED);
    expect_match(p, "anthropic", "claude-haiku-4-5-20251001", "claude-haiku-4-5", GOV_MATCH_DATED);
    expect_match(p, "gcp.vertex_ai", "claude-opus-4-1@20250805", "claude-opus-4-1",
                 GOV_MATCH_DATED);
    expect_match(p, "anthropic", "claude-opus-4-7", "claude-opus-4-5", GOV_MATCH_EXACT); /* alias */
    expect_match(p, "openai", "openai/gpt-4o", "gpt-4o", GOV_MATCH_EXACT);
    expect_match(p, "gcp.gemini", "models/gemini-2.5-pro", "gemini-2.5-pro", GOV_MATCH_EXACT);
    expect_match(p, "together", "meta-llama/Llama-3.3-70B-Instruct-Turbo",
                 "meta-llama/Llama-3.3-70B-Instruct-Turbo", GOV_MATCH_EXACT);
    expect_match(p, "groq", "groq/meta-llama/llama-4-maverick-17b-128e-instruct",
                 "meta-llama/llama-4-maverick-17b-128e-instruct", GOV_MATCH_EXACT);
    expect_match(p, "mistral_ai", "mistral-medium-2508", "mistral-medium-3", GOV_MATCH_EXACT);
    expect_match(p, "x_ai", "grok-4.5-latest", "grok-4.5", GOV_MATCH_DATED);
    expect_match(p, "aws.bedrock", "us.anthropic.claude-haiku-4-5-20251001-v1:0",
                 "claude-haiku-4-5", GOV_MATCH_VENDOR);
    expect_match(p, "aws.bedrock", "anthropic.claude-opus-4-1-v1", "claude-opus-4-1",
                 GOV_MATCH_VENDOR);
    expect_match(p, "aws.bedrock", "meta.llama3-3-70b-instruct-v1:0",
                 "meta.llama3-3-70b-instruct-v1:0", GOV_MATCH_EXACT);
    expect_match(p, "aws.bedrock", "acme.claude-haiku-4-5", NULL, GOV_MATCH_NONE);
    expect_match(p, "openai", "gpt-5.4-nano", NULL, GOV_MATCH_NONE);
    expect_match(p, "openai", "gpt-4o-2024-08-06-extra", NULL, GOV_MATCH_NONE);
    expect_match(p, "openai", "", NULL, GOV_MATCH_NONE);

    gb_str s;
    assert_true(gov_model_strip_date(GB_STR_LIT("claude-3-5-sonnet-20241022"), &s));
    assert_true(gb_str_eq_c(s, "claude-3-5-sonnet"));
    assert_true(gov_model_strip_date(GB_STR_LIT("gpt-4o-2024-08-06"), &s));
    assert_true(gb_str_eq_c(s, "gpt-4o"));
    assert_true(gov_model_strip_date(GB_STR_LIT("mistral-large-latest"), &s));
    assert_true(gb_str_eq_c(s, "mistral-large"));
    assert_false(gov_model_strip_date(GB_STR_LIT("mistral-large-2512"), &s));
    assert_false(gov_model_strip_date(GB_STR_LIT("gpt-4o"), &s));
    assert_true(
        gov_model_strip_vendor(GB_STR_LIT("eu.meta.llama4-maverick-17b-instruct-v1:0"), &s));
    assert_true(gb_str_eq_c(s, "llama4-maverick-17b-instruct"));
    assert_false(gov_model_strip_vendor(GB_STR_LIT("anthropic."), &s));
    assert_false(gov_model_strip_vendor(GB_STR_LIT("claude-haiku-4-5"), &s));

    /* the same model from two providers: the span's provider (family) wins */
    bool pm;
    const gov_price *e = gov_prices_lookup(p, GB_STR_LIT("azure.ai.openai"), GB_STR_LIT("gpt-4o"),
                                           T_NOW_NS, NULL, &pm);
    assert_string_equal(e->provider, "openai");
    assert_true(pm);
    e = gov_prices_lookup(p, GB_STR_LIT("openrouter"), GB_STR_LIT("gpt-4o"), T_NOW_NS, NULL, &pm);
    assert_non_null(e);
    assert_false(pm);
    gov_prices_free(p);
}

/* ---- YAML ------------------------------------------------------------------------------- */

static char *render(const cfg_diags *d)
{
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    cfg_diags_render(d, &b);
    return b.data ? b.data : strdup("");
}

static const char GOOD_YAML[] = "version: acme-2026-11\n"
                                "prices:\n"
                                "  - provider: openai\n"
                                "    model: gpt-4o\n"
                                "    input: 2.00\n"
                                "    output: 8\n"
                                "  - provider: openai\n"
                                "    model: gpt-4o\n"
                                "    effective_from: 2026-10-01\n"
                                "    input: 1.5\n"
                                "    output: 6.0000005\n"
                                "    cache_read: 0.75\n"
                                "  - provider: vertex_ai\n"
                                "    model: acme-llm\n"
                                "    aliases: [acme-llm-v1]\n"
                                "    prefixes: [acme-llm-ft-]\n"
                                "    input: 0.0028\n"
                                "    output: 1e-1\n"
                                "    cache_write: 3.125\n"
                                "    tiers:\n"
                                "      - {above_input_tokens: 1000, input: 1}\n"
                                "      - {above_input_tokens: 5000, output: 9}\n"
                                "    source: contract 42\n"
                                "    checked: 2026-11-20\n";

static void test_yaml_override(void **state)
{
    (void)state;
    gov_prices *p;
    assert_int_equal(gov_prices_new_builtin(&p), GB_OK);
    uint32_t before = gov_prices_count(p);
    cfg_diags d;
    cfg_diags_init(&d);
    gb_status st = gov_prices_load_yaml(p, "prices.yaml", GOOD_YAML, sizeof GOOD_YAML - 1, &d);
    if (st != GB_OK) fail_msg("%s", render(&d));
    assert_int_equal(d.n, 0);
    /* gpt-4o replaced by two entries, one new model added */
    assert_int_equal(gov_prices_count(p), before + 2);
    if (strncmp(gov_prices_version(p), "acme-2026-11-2026-", 18) != 0)
        fail_msg("version %s", gov_prices_version(p));
    uint64_t sep = 1788220800ull * 1000000000ull, nov = T_NOW_NS;
    const gov_price *e =
        gov_prices_lookup(p, GB_STR_LIT("openai"), GB_STR_LIT("gpt-4o"), sep, NULL, NULL);
    assert_int_equal(e->rates.input, 2000000);
    assert_int_equal(e->rates.output, 8000000);
    assert_int_equal(e->rates.cache_read, GOV_PRICE_ABSENT);
    e = gov_prices_lookup(p, GB_STR_LIT("openai"), GB_STR_LIT("gpt-4o"), nov, NULL, NULL);
    assert_int_equal(e->rates.input, 1500000);
    assert_int_equal(e->rates.output, 6000001); /* 7th decimal rounds half up */
    assert_int_equal(e->rates.cache_read, 750000);
    e = gov_prices_lookup(p, GB_STR_LIT("gcp.vertex_ai"), GB_STR_LIT("acme-llm-v1"), nov, NULL,
                          NULL);
    assert_non_null(e);
    assert_string_equal(e->provider, "gcp.vertex_ai");
    assert_int_equal(e->rates.input, 2800);
    assert_int_equal(e->rates.output, 100000);
    assert_int_equal(e->rates.cache_write, 3125000);
    assert_int_equal(e->n_tiers, 2);
    assert_int_equal(e->tiers[0].rates.input, 1000000);
    assert_int_equal(e->tiers[0].rates.output, GOV_PRICE_ABSENT);
    assert_int_equal(e->tiers[1].above_input, 5000);
    assert_string_equal(e->source, "contract 42");
    assert_string_equal(e->checked, "2026-11-20");
    gov_match_kind k;
    e = gov_prices_lookup(p, GB_STR_LIT(""), GB_STR_LIT("acme-llm-ft-customer7"), nov, &k, NULL);
    assert_non_null(e);
    assert_int_equal(k, GOV_MATCH_PREFIX);
    /* built-ins of other models are untouched */
    e = gov_prices_lookup(p, GB_STR_LIT("openai"), GB_STR_LIT("gpt-4o-mini"), nov, NULL, NULL);
    assert_int_equal(e->rates.input, 150000);
    cfg_diags_free(&d);
    gov_prices_free(p);
}

static void test_yaml_errors(void **state)
{
    (void)state;
    static const char bad[] = "prices:\n"
                              "  - provider: openai\n"
                              "    model: gpt-x\n"
                              "    input: cheap\n"
                              "    ouput: 3\n"
                              "  - model: no-provider\n"
                              "    input: 1\n"
                              "    output: 1\n"
                              "    effective_from: yesterday\n"
                              "    tiers:\n"
                              "      - {input: 2}\n"
                              "  - provider: x\n"
                              "    model: y\n"
                              "    input: -1\n"
                              "    output: 1\n"
                              "colour: red\n";
    gov_prices *p;
    assert_int_equal(gov_prices_new_builtin(&p), GB_OK);
    uint32_t before = gov_prices_count(p);
    char version[128];
    snprintf(version, sizeof version, "%s", gov_prices_version(p));
    cfg_diags d;
    cfg_diags_init(&d);
    assert_int_equal(gov_prices_load_yaml(p, "prices.yaml", bad, sizeof bad - 1, &d),
                     GB_ERR_INVALID);
    char *out = render(&d);
    const char *want[] = {
        "prices.yaml:4:12: error: prices[0].input: expected a price",
        "prices.yaml:5:5: error: prices[0]: unknown key \"ouput\" (did you mean \"output\"?)",
        "prices.yaml:2:5: error: prices[0]: missing required key \"output\"",
        "prices.yaml:6:5: error: prices[1]: missing required key \"provider\"",
        "prices.yaml:9:21: error: prices[1].effective_from: expected a date YYYY-MM-DD",
        "prices.yaml:11:9: error: prices[1].tiers[0]: missing required key \"above_input_tokens\"",
        "prices.yaml:14:12: error: prices[2].input: expected a price",
        "prices.yaml:16:1: error: unknown key \"colour\"",
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        if (!strstr(out, want[i])) fail_msg("missing diagnostic\n  %s\nin\n%s", want[i], out);
    /* nothing applied */
    assert_int_equal(gov_prices_count(p), before);
    assert_string_equal(gov_prices_version(p), version);
    free(out);
    cfg_diags_free(&d);

    /* impossible dates */
    static const char *const dates[] = {"2026-02-30", "2025-02-29", "2026-13-01",
                                        "2026-1-05",  "26-01-05",   "2026-01-05x"};
    for (size_t i = 0; i < sizeof dates / sizeof *dates; i++) {
        char doc[200];
        int n = snprintf(doc, sizeof doc,
                         "prices:\n  - {provider: a, model: b, input: 1, output: 1, "
                         "effective_from: \"%s\"}\n",
                         dates[i]);
        cfg_diags_init(&d);
        if (gov_prices_load_yaml(p, "d.yaml", doc, (size_t)n, &d) != GB_ERR_INVALID)
            fail_msg("date %s accepted", dates[i]);
        cfg_diags_free(&d);
    }
    static const char leap[] = "prices:\n  - {provider: a, model: b, input: 1, output: 1, "
                               "effective_from: 2028-02-29}\n";
    cfg_diags_init(&d);
    assert_int_equal(gov_prices_load_yaml(p, "l.yaml", leap, sizeof leap - 1, &d), GB_OK);
    assert_int_equal(
        gov_prices_lookup(p, GB_STR_LIT("a"), GB_STR_LIT("b"), 0, NULL, NULL)->effective_from,
        1835395200);
    cfg_diags_free(&d);

    /* a YAML syntax error and a file that cannot be read */
    cfg_diags_init(&d);
    static const char broken[] = "prices: [\n";
    assert_int_equal(gov_prices_load_yaml(p, "b.yaml", broken, sizeof broken - 1, &d),
                     GB_ERR_INVALID);
    assert_true(d.errors > 0);
    cfg_diags_free(&d);
    cfg_diags_init(&d);
    assert_int_not_equal(gov_prices_load_file(p, "/nonexistent/prices.yaml", &d), GB_OK);
    assert_true(d.errors > 0);
    cfg_diags_free(&d);
    gov_prices_free(p);
}

static void test_yaml_file(void **state)
{
    (void)state;
    char path[] = "/tmp/gov_prices_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("prices:\n  - {provider: openai, model: gpt-9, input: 1, output: 2}\n", f);
    fclose(f);
    gov_prices *p;
    assert_int_equal(gov_prices_new_empty(&p), GB_OK);
    cfg_diags d;
    cfg_diags_init(&d);
    assert_int_equal(gov_prices_load_file(p, path, &d), GB_OK);
    assert_int_equal(gov_prices_count(p), 1);
    assert_string_equal(gov_prices_at(p, 0)->model, "gpt-9");
    assert_string_equal(gov_prices_at(p, 0)->source, path);
    assert_null(gov_prices_at(p, 1));
    cfg_diags_free(&d);
    gov_prices_free(p);
    unlink(path);
}

/* ---- LiteLLM ---------------------------------------------------------------------------- */

static const char LITELLM[] =
    "{\n"
    " \"sample_spec\": {\"input_cost_per_token\": 0, \"output_cost_per_token\": 0},\n"
    " \"gpt-4o\": {\"litellm_provider\": \"openai\", \"input_cost_per_token\": 2.5e-06,\n"
    "   \"output_cost_per_token\": 1e-05, \"cache_read_input_token_cost\": 1.25e-06, \"mode\": "
    "\"chat\"},\n"
    " \"gemini/gemini-2.5-pro\": {\"litellm_provider\": \"gemini\", \"input_cost_per_token\": "
    "1.25e-06,\n"
    "   \"output_cost_per_token\": 1e-05, \"input_cost_per_token_above_200k_tokens\": 2.5e-06,\n"
    "   \"output_cost_per_token_above_200k_tokens\": 1.5e-05,\n"
    "   \"cache_read_input_token_cost_above_200k_tokens\": 2.5e-07,\n"
    "   \"input_cost_per_image_token_above_128k_tokens\": 1e-06,\n"
    "   \"cache_creation_input_token_cost_above_1hr\": 1e-06},\n"
    " \"claude-x\": {\"litellm_provider\": \"anthropic\", \"input_cost_per_token\": 3e-06,\n"
    "   \"output_cost_per_token\": 1.5e-05, \"cache_creation_input_token_cost\": 3.75e-06,\n"
    "   \"cache_read_input_token_cost\": 3e-07},\n"
    " \"dall-e-3\": {\"litellm_provider\": \"openai\", \"output_cost_per_image\": 0.04},\n"
    " \"deepseek-chat\": {\"litellm_provider\": \"deepseek\", \"input_cost_per_token\": 2.8e-09,\n"
    "   \"output_cost_per_token\": 0}\n"
    "}\n";

static void test_litellm(void **state)
{
    (void)state;
    gov_prices *p;
    assert_int_equal(gov_prices_new_empty(&p), GB_OK);
    cfg_diags d;
    cfg_diags_init(&d);
    gb_status st = gov_prices_load_litellm(p, "litellm.json", LITELLM, sizeof LITELLM - 1, &d);
    if (st != GB_OK) fail_msg("%s", render(&d));
    assert_int_equal(gov_prices_count(p), 4); /* sample_spec and the image model skipped */
    const gov_price *e =
        gov_prices_lookup(p, GB_STR_LIT("openai"), GB_STR_LIT("gpt-4o"), T_NOW_NS, NULL, NULL);
    assert_non_null(e);
    assert_int_equal(e->rates.input, 2500000);
    assert_int_equal(e->rates.output, 10000000);
    assert_int_equal(e->rates.cache_read, 1250000);
    assert_int_equal(e->rates.cache_write, GOV_PRICE_ABSENT);
    e = gov_prices_lookup(p, GB_STR_LIT("gemini"), GB_STR_LIT("gemini-2.5-pro"), T_NOW_NS, NULL,
                          NULL);
    assert_non_null(e);
    assert_string_equal(e->provider, "gcp.gemini");
    assert_int_equal(e->n_tiers, 1);
    assert_int_equal(e->tiers[0].above_input, 200000);
    assert_int_equal(e->tiers[0].rates.input, 2500000);
    assert_int_equal(e->tiers[0].rates.output, 15000000);
    assert_int_equal(e->tiers[0].rates.cache_read, 250000);
    assert_non_null(gov_prices_lookup(p, GB_STR_LIT(""), GB_STR_LIT("gemini/gemini-2.5-pro"),
                                      T_NOW_NS, NULL, NULL));
    e = gov_prices_lookup(p, GB_STR_LIT("anthropic"), GB_STR_LIT("claude-x"), T_NOW_NS, NULL, NULL);
    assert_int_equal(e->rates.cache_write, 3750000);
    assert_int_equal(e->rates.cache_read, 300000);
    e = gov_prices_lookup(p, GB_STR_LIT("deepseek"), GB_STR_LIT("deepseek-chat"), T_NOW_NS, NULL,
                          NULL);
    assert_int_equal(e->rates.input, 2800);
    assert_int_equal(e->rates.output, 0);
    assert_true(strncmp(gov_prices_version(p), "litellm-undated-", 16) == 0);
    cfg_diags_free(&d);

    /* syntax error: line and column from the JSON parser */
    cfg_diags_init(&d);
    static const char bad[] = "{\n \"a\": {\"input_cost_per_token\": 1e-6,,}\n}";
    assert_int_equal(gov_prices_load_litellm(p, "bad.json", bad, sizeof bad - 1, &d),
                     GB_ERR_INVALID);
    char *out = render(&d);
    if (!strstr(out, "bad.json:2:")) fail_msg("no line in: %s", out);
    free(out);
    cfg_diags_free(&d);
    /* a negative price is an error and nothing is applied */
    cfg_diags_init(&d);
    static const char neg[] =
        "{\"m\": {\"litellm_provider\": \"openai\", \"input_cost_per_token\": "
        "-1e-6, \"output_cost_per_token\": 1e-6}}";
    assert_int_equal(gov_prices_load_litellm(p, "neg.json", neg, sizeof neg - 1, &d),
                     GB_ERR_INVALID);
    assert_int_equal(gov_prices_count(p), 4);
    out = render(&d);
    if (!strstr(out, "input_cost_per_token must be a number >= 0")) fail_msg("%s", out);
    free(out);
    cfg_diags_free(&d);
    gov_prices_free(p);
}

static void test_provider_preference(void **state)
{
    (void)state;
    static const char y[] =
        "prices:\n"
        "  - {provider: az.ai.openai, model: gpt-4o, input: 2.75, output: 11}\n";
    gov_prices *p;
    assert_int_equal(gov_prices_new_builtin(&p), GB_OK);
    cfg_diags d;
    cfg_diags_init(&d);
    assert_int_equal(gov_prices_load_yaml(p, "azure.yaml", y, sizeof y - 1, &d), GB_OK);
    bool pm;
    /* same provider name beats the same family */
    const gov_price *e = gov_prices_lookup(p, GB_STR_LIT("azure.ai.openai"), GB_STR_LIT("gpt-4o"),
                                           T_NOW_NS, NULL, &pm);
    assert_string_equal(e->provider, "azure.ai.openai");
    assert_int_equal(e->rates.input, 2750000);
    e = gov_prices_lookup(p, GB_STR_LIT("openai"), GB_STR_LIT("gpt-4o"), T_NOW_NS, NULL, &pm);
    assert_string_equal(e->provider, "openai");
    assert_int_equal(e->rates.input, 2500000);
    /* a span without provider: on a tie the entry loaded last (the user's) wins */
    e = gov_prices_lookup(p, GB_STR_LIT(""), GB_STR_LIT("gpt-4o"), T_NOW_NS, NULL, &pm);
    assert_string_equal(e->provider, "azure.ai.openai");
    cfg_diags_free(&d);
    gov_prices_free(p);
}

/* Garbage in: an error or an empty result, never a crash (run under ASan in CI). */
static void test_loaders_garbage(void **state)
{
    (void)state;
    gov_prices *p;
    assert_int_equal(gov_prices_new_empty(&p), GB_OK);
    uint64_t seed = 88172645463325252ull;
    char buf[512];
    static const char alphabet[] = "{}[]:,\"- \n\tabc01.e_prices model input output tiers";
    for (int round = 0; round < 400; round++) {
        size_t n = 0, len = (size_t)(round % 500) + 1;
        for (; n < len; n++) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            buf[n] = alphabet[seed % (sizeof alphabet - 1)];
        }
        cfg_diags d;
        cfg_diags_init(&d);
        gb_status a = gov_prices_load_yaml(p, "g.yaml", buf, n, &d);
        gb_status b = gov_prices_load_litellm(p, "g.json", buf, n, &d);
        assert_true(a == GB_OK || a == GB_ERR_INVALID);
        assert_true(b == GB_OK || b == GB_ERR_INVALID);
        cfg_diags_free(&d);
    }
    gov_prices_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_matches_csv),
        cmocka_unit_test(test_builtin_notes),
        cmocka_unit_test(test_model_matching),
        cmocka_unit_test(test_yaml_override),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_yaml_file),
        cmocka_unit_test(test_litellm),
        cmocka_unit_test(test_provider_preference),
        cmocka_unit_test(test_loaders_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
