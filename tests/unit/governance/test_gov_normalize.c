#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gov_test_util.h"
#include "governance/gov.h"

static void assert_str(gb_str s, const char *want)
{
    if (!gb_str_eq_c(s, want)) fail_msg("got \"%.*s\", want \"%s\"", GB_STR_FMT(s), want);
}

static gov_usage norm(pd_attrs a)
{
    gov_usage u;
    assert_int_equal(gov_normalize(&a, NULL, &u), GB_OK);
    return u;
}

static void test_current_conventions(void **state)
{
    (void)state;
    pd_kv kv[] = {
        KV_S("gen_ai.provider.name", "openai"),
        KV_S("gen_ai.request.model", "gpt-4o"),
        KV_S("gen_ai.response.model", "gpt-4o-2024-08-06"),
        KV_I("gen_ai.usage.input_tokens", 1000),
        KV_I("gen_ai.usage.output_tokens", 200),
        KV_I("gen_ai.usage.cache_read.input_tokens", 400),
        KV_I("gen_ai.usage.reasoning.output_tokens", 50),
        KV_S("genops.team", "search"),
    };
    gov_usage u = norm(ATTRS(kv));
    assert_str(u.provider, "openai");
    assert_str(u.request_model, "gpt-4o");
    assert_str(u.response_model, "gpt-4o-2024-08-06");
    assert_str(gov_usage_model(&u), "gpt-4o-2024-08-06");
    /* OpenAI style: input already includes cached tokens */
    assert_int_equal(u.input, 1000);
    assert_int_equal(u.cache_read, 400);
    assert_int_equal(u.output, 200); /* reasoning inside output */
    assert_int_equal(u.reasoning, 50);
    assert_false(u.flags & GOV_INPUT_CACHE_ADDED);
    assert_true(u.flags & GOV_HAS_CACHE_READ);
    assert_false(u.flags & GOV_HAS_CACHE_WRITE);
    assert_false(u.flags & GOV_HAS_COST);
    assert_str(u.team, "search");
}

static void test_legacy_and_openinference(void **state)
{
    (void)state;
    pd_kv old[] = {
        KV_S("gen_ai.system", "az.ai.openai"),
        KV_I("gen_ai.usage.prompt_tokens", 10),
        KV_I("gen_ai.usage.completion_tokens", 20),
        KV_I("gen_ai.usage.prompt_tokens_details.cached_tokens", 4),
    };
    gov_usage u = norm(ATTRS(old));
    assert_str(u.provider, "azure.ai.openai");
    assert_int_equal(u.input, 10);
    assert_int_equal(u.output, 20);
    assert_int_equal(u.cache_read, 4);

    pd_kv oi[] = {
        KV_S("llm.provider", "vertex_ai"),
        KV_S("llm.model_name", "gemini-2.5-pro"),
        KV_I("llm.token_count.prompt", 300),
        KV_I("llm.token_count.completion", 30),
        KV_I("llm.token_count.prompt_details.cache_read", 100),
        KV_I("llm.token_count.prompt_details.cache_write", 50),
        KV_I("llm.token_count.completion_details.reasoning", 7),
    };
    u = norm(ATTRS(oi));
    assert_str(u.provider, "gcp.vertex_ai");
    assert_str(u.request_model, "gemini-2.5-pro");
    assert_int_equal(u.input, 300); /* OpenInference: prompt includes cache */
    assert_int_equal(u.cache_read, 100);
    assert_int_equal(u.cache_write, 50);
    assert_int_equal(u.reasoning, 7);

    pd_kv ll[] = {
        KV_S("llm.vendor", "gemini"),
        KV_S("llm.request.model", "gemini-2.5-flash"),
        KV_S("llm.response.model", "gemini-2.5-flash-001"),
        KV_I("llm.usage.prompt_tokens", 11),
        KV_I("llm.usage.completion_tokens", 12),
        KV_I("gen_ai.usage.reasoning_tokens", 3),
    };
    u = norm(ATTRS(ll));
    assert_str(u.provider, "gcp.gemini");
    assert_str(u.request_model, "gemini-2.5-flash");
    assert_str(u.response_model, "gemini-2.5-flash-001");
    assert_int_equal(u.input, 11);
    assert_int_equal(u.output, 12);
    assert_int_equal(u.reasoning, 3);
}

static void test_provider_aliases_and_renames(void **state)
{
    (void)state;
    const char *keys[] = {"gen_ai.provider.name", "gen_ai.system", "llm.vendor",
                          "llm.system",           "llm.provider",  "genops.cost.provider"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        pd_kv kv[] = {{gb_str_c(keys[i]), {.type = PD_ANY_STR, .u.str = GB_STR_LIT("anthropic")}}};
        gov_usage u = norm(ATTRS(kv));
        if (!gb_str_eq_c(u.provider, "anthropic")) fail_msg("provider key %s not read", keys[i]);
    }
    assert_str(gov_provider_canonical(GB_STR_LIT("az.ai.openai")), "azure.ai.openai");
    assert_str(gov_provider_canonical(GB_STR_LIT("vertex_ai")), "gcp.vertex_ai");
    assert_str(gov_provider_canonical(GB_STR_LIT("Gemini")), "gcp.gemini");
    assert_str(gov_provider_canonical(GB_STR_LIT("openai")), "openai");
    /* canonical key wins whatever the order */
    pd_kv both[] = {KV_S("gen_ai.system", "old"), KV_S("gen_ai.provider.name", "new"),
                    KV_S("llm.vendor", "older")};
    gov_usage u = norm(ATTRS(both));
    assert_str(u.provider, "new");
}

typedef struct alias_case {
    const char *key;
    int which; /* 0 input 1 output 2 cache_read 3 cache_write 4 reasoning */
} alias_case;

static void test_every_token_alias(void **state)
{
    (void)state;
    static const alias_case cases[] = {
        {"gen_ai.usage.input_tokens", 0},
        {"gen_ai.usage.prompt_tokens", 0},
        {"llm.usage.prompt_tokens", 0},
        {"llm.token_count.prompt", 0},
        {"genops.tokens.input", 0},
        {"gen_ai.usage.output_tokens", 1},
        {"gen_ai.usage.completion_tokens", 1},
        {"llm.usage.completion_tokens", 1},
        {"llm.token_count.completion", 1},
        {"genops.tokens.output", 1},
        {"gen_ai.usage.cache_read.input_tokens", 2},
        {"gen_ai.usage.cache_read_input_tokens", 2},
        {"llm.token_count.prompt_details.cache_read", 2},
        {"gen_ai.usage.prompt_tokens_details.cached_tokens", 2},
        {"genops.tokens.cache_read", 2},
        {"gen_ai.usage.cache_creation.input_tokens", 3},
        {"gen_ai.usage.cache_creation_input_tokens", 3},
        {"llm.token_count.prompt_details.cache_write", 3},
        {"genops.tokens.cache_write", 3},
        {"gen_ai.usage.reasoning.output_tokens", 4},
        {"gen_ai.usage.reasoning_tokens", 4},
        {"llm.token_count.completion_details.reasoning", 4},
        {"genops.tokens.reasoning", 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        /* input 5000 and output 900 present unless the case is that field, so cache counts do
         * not trip the "input smaller than cache" rule */
        pd_kv kv[3];
        uint32_t n = 0;
        kv[n++] = (pd_kv){gb_str_c(cases[i].key), {.type = PD_ANY_INT, .u.i = 77}};
        if (cases[i].which != 0) kv[n++] = KV_I("gen_ai.usage.input_tokens", 5000);
        if (cases[i].which != 1) kv[n++] = KV_I("gen_ai.usage.output_tokens", 900);
        pd_attrs a = {kv, n, 0};
        gov_usage u;
        assert_int_equal(gov_normalize(&a, NULL, &u), GB_OK);
        int64_t got[] = {u.input, u.output, u.cache_read, u.cache_write, u.reasoning};
        if (got[cases[i].which] != 77)
            fail_msg("%s: got %lld", cases[i].key, (long long)got[cases[i].which]);
    }
}

static void test_int_double_string(void **state)
{
    (void)state;
    pd_kv kv[] = {
        KV_D("gen_ai.usage.input_tokens", 1234.0),
        KV_S("gen_ai.usage.output_tokens", " 56 "),
        KV_S("gen_ai.usage.reasoning.output_tokens", "5x"),   /* malformed: ignored */
        KV_D("gen_ai.usage.cache_read.input_tokens", 1.5),    /* fractional: ignored */
        KV_I("gen_ai.usage.cache_creation.input_tokens", -3), /* negative: ignored */
    };
    gov_usage u = norm(ATTRS(kv));
    assert_int_equal(u.input, 1234);
    assert_int_equal(u.output, 56);
    assert_false(u.flags & (GOV_HAS_REASONING | GOV_HAS_CACHE_READ | GOV_HAS_CACHE_WRITE));
    assert_true(u.flags & GOV_HAS_INPUT);
}

static void test_anthropic_cache_semantics(void **state)
{
    (void)state;
    /* Anthropic API spelling: input excludes cache -> normalized input adds them */
    pd_kv a[] = {
        KV_S("gen_ai.system", "anthropic"),
        KV_I("gen_ai.usage.input_tokens", 100),
        KV_I("gen_ai.usage.cache_read_input_tokens", 2000),
        KV_I("gen_ai.usage.cache_creation_input_tokens", 300),
        KV_I("gen_ai.usage.output_tokens", 50),
    };
    gov_usage u = norm(ATTRS(a));
    assert_int_equal(u.input, 2400);
    assert_int_equal(u.cache_read, 2000);
    assert_int_equal(u.cache_write, 300);
    assert_true(u.flags & GOV_INPUT_CACHE_ADDED);

    /* same spelling, input large enough to have included them: still Anthropic semantics */
    pd_kv b[] = {
        KV_I("gen_ai.usage.input_tokens", 5000),
        KV_I("gen_ai.usage.cache_read_input_tokens", 2000),
    };
    u = norm(ATTRS(b));
    assert_int_equal(u.input, 7000);

    /* anthropic with a pre-1.27 input key and OpenInference-style cache: excluded */
    pd_kv c[] = {
        KV_S("gen_ai.system", "anthropic"),
        KV_I("gen_ai.usage.prompt_tokens", 5000),
        KV_I("gen_ai.usage.cache_read.input_tokens", 1000),
    };
    u = norm(ATTRS(c));
    assert_int_equal(u.input, 6000);

    /* current OTel convention for anthropic: input includes cache (instrumentation summed) */
    pd_kv d[] = {
        KV_S("gen_ai.provider.name", "anthropic"),
        KV_I("gen_ai.usage.input_tokens", 5000),
        KV_I("gen_ai.usage.cache_read.input_tokens", 1000),
    };
    u = norm(ATTRS(d));
    assert_int_equal(u.input, 5000);
    assert_false(u.flags & GOV_INPUT_CACHE_ADDED);

    /* impossible inclusive reading (input < cache) is taken as exclusive */
    pd_kv e[] = {
        KV_S("gen_ai.provider.name", "openai"),
        KV_I("gen_ai.usage.input_tokens", 10),
        KV_I("gen_ai.usage.cache_read.input_tokens", 90),
    };
    u = norm(ATTRS(e));
    assert_int_equal(u.input, 100);
}

static void test_reasoning_separate(void **state)
{
    (void)state;
    pd_kv kv[] = {KV_I("gen_ai.usage.output_tokens", 10),
                  KV_I("gen_ai.usage.reasoning.output_tokens", 500)};
    gov_usage u = norm(ATTRS(kv));
    assert_int_equal(u.output, 510);
}

static void test_cost_and_attribution_aliases(void **state)
{
    (void)state;
    const char *cost_keys[] = {"genops.cost.total", "genops.cost.amount", "gen_ai.usage.cost",
                               "llm.cost.total", "gen_ai.usage.cost.amount"};
    for (size_t i = 0; i < sizeof cost_keys / sizeof *cost_keys; i++) {
        pd_kv kv[] = {{gb_str_c(cost_keys[i]), {.type = PD_ANY_DOUBLE, .u.d = 0.25}}};
        gov_usage u = norm(ATTRS(kv));
        assert_true(u.flags & GOV_HAS_COST);
        assert_true(u.cost == 0.25);
    }
    pd_kv s[] = {KV_S("genops.cost.amount", "0.5"), KV_D("genops.cost.total", 0.75)};
    gov_usage u = norm(ATTRS(s));
    assert_true(u.cost == 0.75);

    pd_kv at[] = {
        KV_S("genops.customer", "acme-old"), KV_S("genops.project", "p"),
        KV_S("genops.environment", "prod"),  KV_S("genops.feature", "chat"),
        KV_S("genops.cost_center", "cc-1"),  KV_S("genops.user_id", "u-1"),
        KV_S("genops.session_id", "s-1"),    KV_B("genops.team", true), /* not a string */
    };
    u = norm(ATTRS(at));
    assert_str(u.customer_id, "acme-old");
    assert_str(u.project, "p");
    assert_str(u.environment, "prod");
    assert_str(u.feature, "chat");
    assert_str(u.cost_center, "cc-1");
    assert_str(u.user_id, "u-1");
    assert_str(u.session_id, "s-1");
    assert_int_equal(u.team.len, 0);

    pd_kv both[] = {KV_S("genops.customer", "old"), KV_S("genops.customer_id", "new")};
    u = norm(ATTRS(both));
    assert_str(u.customer_id, "new");
}

static void test_resource_fallback(void **state)
{
    (void)state;
    pd_kv span[] = {KV_S("genops.team", "span-team"), KV_I("gen_ai.usage.input_tokens", 1)};
    pd_kv res[] = {KV_S("genops.team", "res-team"), KV_S("genops.project", "res-project"),
                   KV_S("gen_ai.system", "openai"), KV_I("gen_ai.usage.output_tokens", 99)};
    pd_attrs a = ATTRS(span), r = ATTRS(res);
    gov_usage u;
    assert_int_equal(gov_normalize(&a, &r, &u), GB_OK);
    assert_str(u.team, "span-team");
    assert_str(u.project, "res-project");
    assert_str(u.provider, "openai");
    assert_false(u.flags & GOV_HAS_OUTPUT); /* usage is never read from the resource */
    assert_int_equal(gov_normalize(NULL, NULL, &u), GB_OK);
    assert_int_equal(u.flags, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_current_conventions),
        cmocka_unit_test(test_legacy_and_openinference),
        cmocka_unit_test(test_provider_aliases_and_renames),
        cmocka_unit_test(test_every_token_alias),
        cmocka_unit_test(test_int_double_string),
        cmocka_unit_test(test_anthropic_cache_semantics),
        cmocka_unit_test(test_reasoning_separate),
        cmocka_unit_test(test_cost_and_attribution_aliases),
        cmocka_unit_test(test_resource_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
