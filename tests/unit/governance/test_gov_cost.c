#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "gov_test_util.h"
#include "governance/gov.h"

static gov_prices *P;

static int setup(void **state)
{
    (void)state;
    return gov_prices_new_builtin(&P) == GB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gov_prices_free(P);
    return 0;
}

static gov_cost price_attrs(pd_attrs a, uint64_t at, bool recompute)
{
    gov_usage u;
    assert_int_equal(gov_normalize(&a, NULL, &u), GB_OK);
    gov_cost c;
    gov_cost_opts o = {recompute};
    assert_int_equal(gov_cost_compute(P, &u, at, &o, &c), GB_OK);
    return c;
}

static void test_openai_cached(void **state)
{
    (void)state;
    pd_kv kv[] = {
        KV_S("gen_ai.provider.name", "openai"),
        KV_S("gen_ai.response.model", "gpt-4o-2024-08-06"),
        KV_I("gen_ai.usage.input_tokens", 1000), /* includes the 400 cached */
        KV_I("gen_ai.usage.cache_read.input_tokens", 400),
        KV_I("gen_ai.usage.output_tokens", 200),
        KV_I("gen_ai.usage.reasoning.output_tokens", 50), /* inside the 200 */
    };
    gov_cost c = price_attrs(ATTRS(kv), T_NOW_NS, false);
    /* 600 x 2.50 + 400 x 1.25 + 200 x 10.00 per 1M = 0.0015 + 0.0005 + 0.002 USD */
    assert_int_equal(c.status, GOV_COST_PRICED);
    assert_int_equal(c.source, GOV_SOURCE_COLLECTOR);
    assert_int_equal(c.input, 1500000);
    assert_int_equal(c.cache_read, 500000);
    assert_int_equal(c.cache_write, 0);
    assert_int_equal(c.output, 2000000);
    assert_int_equal(c.total, 4000000);
    assert_true(fabs(gov_nusd_to_usd(c.total) - 0.004) < 1e-15);
    assert_string_equal(c.price->model, "gpt-4o");
    assert_int_equal(c.tier, -1);
    assert_string_equal(c.pricing_version, gov_prices_version(P));
    assert_string_equal(gov_cost_status_str(c.status), "priced");
    assert_string_equal(gov_cost_source_str(c.source), "collector");
}

static void test_anthropic_vs_otel_style(void **state)
{
    (void)state;
    /* Anthropic API style: 100 uncached input, cache separate */
    pd_kv a[] = {
        KV_S("gen_ai.system", "anthropic"),
        KV_S("gen_ai.request.model", "claude-sonnet-4-5-20250929"),
        KV_I("gen_ai.usage.input_tokens", 100),
        KV_I("gen_ai.usage.cache_read_input_tokens", 2000),
        KV_I("gen_ai.usage.cache_creation_input_tokens", 300),
        KV_I("gen_ai.usage.output_tokens", 50),
    };
    /* the same call in the OTel convention: input includes cache */
    pd_kv o[] = {
        KV_S("gen_ai.provider.name", "anthropic"),
        KV_S("gen_ai.request.model", "claude-sonnet-4-5"),
        KV_I("gen_ai.usage.input_tokens", 2400),
        KV_I("gen_ai.usage.cache_read.input_tokens", 2000),
        KV_I("gen_ai.usage.cache_creation.input_tokens", 300),
        KV_I("gen_ai.usage.output_tokens", 50),
    };
    gov_cost ca = price_attrs(ATTRS(a), T_NOW_NS, false);
    gov_cost co = price_attrs(ATTRS(o), T_NOW_NS, false);
    /* 100 x 3 + 2000 x 0.30 + 300 x 3.75 + 50 x 15 per 1M */
    assert_int_equal(ca.input, 300000);
    assert_int_equal(ca.cache_read, 600000);
    assert_int_equal(ca.cache_write, 1125000);
    assert_int_equal(ca.output, 750000);
    assert_int_equal(ca.total, 2775000);
    assert_int_equal(ca.status, GOV_COST_PRICED);
    assert_int_equal(co.total, ca.total);
    assert_int_equal(co.input, ca.input);
}

static void test_reasoning_reported_apart(void **state)
{
    (void)state;
    pd_kv kv[] = {
        KV_S("gen_ai.provider.name", "openai"),
        KV_S("gen_ai.request.model", "o4-mini"),
        KV_I("gen_ai.usage.output_tokens", 100),
        KV_I("gen_ai.usage.input_tokens", 0),
        KV_I("gen_ai.usage.reasoning.output_tokens", 400),
    };
    gov_cost c = price_attrs(ATTRS(kv), T_NOW_NS, false);
    assert_int_equal(c.output, 2200000); /* 500 x 4.40 per 1M */
    assert_int_equal(c.total, 2200000);
}

static void test_context_tier(void **state)
{
    (void)state;
    pd_kv big[] = {
        KV_S("gen_ai.provider.name", "openai"),
        KV_S("gen_ai.request.model", "gpt-5.4"),
        KV_I("gen_ai.usage.input_tokens", 300000),
        KV_I("gen_ai.usage.cache_read.input_tokens", 100000),
        KV_I("gen_ai.usage.output_tokens", 1000),
    };
    gov_cost c = price_attrs(ATTRS(big), T_NOW_NS, false);
    /* above 272K: 200000 x 5.00 + 100000 x 0.50 + 1000 x 22.50 per 1M */
    assert_int_equal(c.tier, 0);
    assert_int_equal(c.input, 1000000000);
    assert_int_equal(c.cache_read, 50000000);
    assert_int_equal(c.output, 22500000);
    assert_int_equal(c.total, 1072500000);
    pd_kv edge[] = {
        KV_S("gen_ai.request.model", "gpt-5.4"),
        KV_I("gen_ai.usage.input_tokens", 272000),
    };
    c = price_attrs(ATTRS(edge), T_NOW_NS, false);
    assert_int_equal(c.tier, -1);
    assert_int_equal(c.total, 680000000); /* 272000 x 2.50 per 1M */
}

static void test_effective_dates(void **state)
{
    (void)state;
    pd_kv kv[] = {
        KV_S("gen_ai.provider.name", "anthropic"),
        KV_S("gen_ai.request.model", "claude-sonnet-5"),
        KV_I("gen_ai.usage.input_tokens", 1000000),
        KV_I("gen_ai.usage.output_tokens", 0),
    };
    uint64_t july = 1783036800ull * 1000000000ull; /* 2026-07-03 */
    gov_cost old = price_attrs(ATTRS(kv), july, false);
    gov_cost now = price_attrs(ATTRS(kv), T_NOW_NS, false);
    assert_int_equal(old.total, 2000000000); /* intro 2.00 / 1M */
    assert_int_equal(now.total, 3000000000); /* from 2026-09-01: 3.00 / 1M */
    assert_int_equal(old.price->effective_from, 0);
    assert_int_equal(now.price->effective_from, 1788220800);
}

/* The price cache answers exactly like a lookup: across an effective date (in both directions),
 * for other models and providers, and after more distinct models than it has slots. */
static void test_price_cache(void **state)
{
    (void)state;
    static const char *const models[] = {
        "claude-sonnet-5", "gpt-4o",           "gpt-4o-mini", "gpt-5.4", "gemini-2.5-pro",
        "gpt-7-ultra",     "claude-haiku-4-5", "o3",          "gpt-4.1", "gpt-4o-2024-08-06"};
    static const char *const providers[] = {"anthropic", "openai", "", "aws.bedrock"};
    uint64_t times[] = {1783036800ull * 1000000000ull, T_NOW_NS, 1788220799ull * 1000000000ull,
                        1788220800ull * 1000000000ull, 0};
    gov_price_cache cache;
    memset(&cache, 0, sizeof cache);
    gov_cost_opts o = {false};
    for (int round = 0; round < 3; round++)
        for (size_t m = 0; m < sizeof models / sizeof models[0]; m++)
            for (size_t pi = 0; pi < sizeof providers / sizeof providers[0]; pi++)
                for (size_t t = 0; t < sizeof times / sizeof times[0]; t++) {
                    size_t tt = round == 1 ? sizeof times / sizeof times[0] - 1 - t : t;
                    pd_kv kv[] = {
                        {GB_STR_LIT("gen_ai.provider.name"), pd_any_str(gb_str_c(providers[pi]))},
                        {GB_STR_LIT("gen_ai.request.model"), pd_any_str(gb_str_c(models[m]))},
                        KV_I("gen_ai.usage.input_tokens", 1000000),
                        KV_I("gen_ai.usage.output_tokens", 1000),
                    };
                    pd_attrs a = ATTRS(kv);
                    gov_usage u;
                    assert_int_equal(gov_normalize(&a, NULL, &u), GB_OK);
                    gov_cost want, got;
                    assert_int_equal(gov_cost_compute(P, &u, times[tt], &o, &want), GB_OK);
                    assert_int_equal(gov_cost_compute_cached(P, &u, times[tt], &o, &cache, &got),
                                     GB_OK);
                    assert_ptr_equal(got.price, want.price);
                    assert_int_equal(got.status, want.status);
                    assert_int_equal(got.total, want.total);
                    assert_int_equal(got.tier, want.tier);
                }
}

static void test_unpriced(void **state)
{
    (void)state;
    pd_kv kv[] = {
        KV_S("gen_ai.provider.name", "openai"),
        KV_S("gen_ai.request.model", "gpt-7-ultra"),
        KV_I("gen_ai.usage.input_tokens", 1000),
        KV_I("gen_ai.usage.output_tokens", 10),
    };
    gov_cost c = price_attrs(ATTRS(kv), T_NOW_NS, false);
    assert_int_equal(c.status, GOV_COST_UNPRICED);
    assert_int_equal(c.total, 0);
    assert_null(c.price);
    assert_non_null(c.pricing_version);
    assert_string_equal(gov_cost_status_str(c.status), "unpriced");
    /* known model but no token counts: nothing to price */
    pd_kv none[] = {KV_S("gen_ai.request.model", "gpt-4o")};
    c = price_attrs(ATTRS(none), T_NOW_NS, false);
    assert_int_equal(c.status, GOV_COST_UNPRICED);
    /* no model */
    pd_kv nomodel[] = {KV_I("gen_ai.usage.input_tokens", 5)};
    c = price_attrs(ATTRS(nomodel), T_NOW_NS, false);
    assert_int_equal(c.status, GOV_COST_UNPRICED);
}

static void test_estimated(void **state)
{
    (void)state;
    /* a price from another provider's entry */
    pd_kv other[] = {
        KV_S("gen_ai.provider.name", "openrouter"),
        KV_S("gen_ai.request.model", "openai/gpt-4o"),
        KV_I("gen_ai.usage.input_tokens", 1000),
        KV_I("gen_ai.usage.output_tokens", 0),
    };
    gov_cost c = price_attrs(ATTRS(other), T_NOW_NS, false);
    assert_int_equal(c.status, GOV_COST_ESTIMATED);
    assert_int_equal(c.total, 2500000);
    /* a cache read without a cache-read price: charged at the input rate */
    pd_kv nocr[] = {
        KV_S("gen_ai.provider.name", "mistral_ai"),
        KV_S("gen_ai.request.model", "mistral-medium-3"),
        KV_I("gen_ai.usage.input_tokens", 1000),
        KV_I("gen_ai.usage.cache_read.input_tokens", 500),
        KV_I("gen_ai.usage.output_tokens", 0),
    };
    c = price_attrs(ATTRS(nocr), T_NOW_NS, false);
    assert_int_equal(c.status, GOV_COST_ESTIMATED);
    assert_int_equal(c.cache_read, 200000); /* 500 x 0.40 per 1M */
    assert_int_equal(c.total, 400000);
    /* the same model without cached tokens is priced */
    pd_kv plain[] = {
        KV_S("gen_ai.provider.name", "mistral_ai"),
        KV_S("gen_ai.request.model", "mistral-medium-3"),
        KV_I("gen_ai.usage.input_tokens", 1000),
    };
    c = price_attrs(ATTRS(plain), T_NOW_NS, false);
    assert_int_equal(c.status, GOV_COST_PRICED);
}

static void test_existing_cost(void **state)
{
    (void)state;
    pd_kv kv[] = {
        KV_S("gen_ai.provider.name", "openai"),  KV_S("gen_ai.request.model", "gpt-4o"),
        KV_I("gen_ai.usage.input_tokens", 1000), KV_I("gen_ai.usage.output_tokens", 0),
        KV_D("genops.cost.total", 0.0123),
    };
    gov_cost c = price_attrs(ATTRS(kv), T_NOW_NS, false);
    assert_int_equal(c.source, GOV_SOURCE_SDK);
    assert_int_equal(c.status, GOV_COST_PRICED);
    assert_int_equal(c.total, 12300000);
    assert_null(c.pricing_version);
    c = price_attrs(ATTRS(kv), T_NOW_NS, true);
    assert_int_equal(c.source, GOV_SOURCE_COLLECTOR);
    assert_int_equal(c.total, 2500000);
    pd_kv prov[] = {KV_S("llm.cost.total", "0.5"), KV_S("genops.cost.source", "provider")};
    c = price_attrs(ATTRS(prov), T_NOW_NS, false);
    assert_int_equal(c.source, GOV_SOURCE_PROVIDER);
    assert_int_equal(c.total, 500000000);
    assert_string_equal(gov_cost_source_str(c.source), "provider");
}

static void test_rounding_and_overflow(void **state)
{
    (void)state;
    /* one cache-read token at 0.0028 USD/1M = 2.8 nUSD -> 3 */
    gov_usage u = {0};
    u.provider = GB_STR_LIT("deepseek");
    u.request_model = GB_STR_LIT("deepseek-v4-flash");
    u.input = 1;
    u.cache_read = 1;
    u.flags = GOV_HAS_INPUT | GOV_HAS_CACHE_READ;
    gov_cost c;
    assert_int_equal(gov_cost_compute(P, &u, T_NOW_NS, NULL, &c), GB_OK);
    assert_int_equal(c.cache_read, 3);
    assert_int_equal(c.input, 0);
    assert_int_equal(c.total, 3);
    /* the parts always add up to the total */
    u.input = 7;
    u.output = 3;
    u.flags |= GOV_HAS_OUTPUT;
    assert_int_equal(gov_cost_compute(P, &u, T_NOW_NS, NULL, &c), GB_OK);
    assert_int_equal(c.total, c.input + c.output + c.cache_read + c.cache_write);
    assert_int_equal(c.input, 840); /* 6 x 0.14 USD/1M = 840 nUSD */
    /* overflow is an error, never a wrapped number */
    u.input = INT64_MAX / 2;
    u.cache_read = 0;
    assert_int_equal(gov_cost_compute(P, &u, T_NOW_NS, NULL, &c), GB_ERR_LIMIT);
    assert_int_equal(c.status, GOV_COST_UNPRICED);
    assert_int_equal(c.total, 0);
    assert_int_equal(gov_cost_compute(P, NULL, T_NOW_NS, NULL, &c), GB_ERR_INVALID);
}

static void test_cost_tiers(void **state)
{
    (void)state;
    assert_string_equal(gov_cost_tier(NULL, 0), "low");
    assert_string_equal(gov_cost_tier(NULL, 9999999), "low");
    assert_string_equal(gov_cost_tier(NULL, 10000000), "medium"); /* 0.01 USD */
    assert_string_equal(gov_cost_tier(NULL, 99999999), "medium");
    assert_string_equal(gov_cost_tier(NULL, 100000000), "high"); /* 0.10 USD */
    gov_cost_tiers t = {1000, 2000};
    assert_string_equal(gov_cost_tier(&t, 999), "low");
    assert_string_equal(gov_cost_tier(&t, 1000), "medium");
    assert_string_equal(gov_cost_tier(&t, 5000), "high");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_cached),
        cmocka_unit_test(test_anthropic_vs_otel_style),
        cmocka_unit_test(test_reasoning_reported_apart),
        cmocka_unit_test(test_context_tier),
        cmocka_unit_test(test_effective_dates),
        cmocka_unit_test(test_unpriced),
        cmocka_unit_test(test_estimated),
        cmocka_unit_test(test_existing_cost),
        cmocka_unit_test(test_rounding_and_overflow),
        cmocka_unit_test(test_cost_tiers),
        cmocka_unit_test(test_price_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
