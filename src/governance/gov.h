/* Governance library: usage normalization, model matching, price tables and cost.
 *
 * Pure library, no I/O on the data path: gov_normalize reads a span's attributes (views, no
 * allocation) into a gov_usage; gov_cost_compute prices it against a gov_prices table with integer
 * arithmetic. Loading a price table (built-in, YAML, LiteLLM JSON) is control-path work and
 * allocates. A loaded gov_prices is immutable and may be read from several threads at once.
 *
 * Money: prices are held in micro-USD per 1M tokens (= pico-USD per token), so
 * tokens x price is an exact integer in pico-USD; results are rounded once to nano-USD (int64),
 * the unit budgets and ledgers sum (9.2e9 USD of headroom, 2.8 nUSD for one token at the
 * cheapest listed rate). Doubles only appear when writing the wire attribute (gov_nusd_to_usd). */
#ifndef GOV_GOV_H
#define GOV_GOV_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/status.h"
#include "../base/str.h"
#include "../config/config.h"
#include "../pdata/pdata.h"

/* ---- normalization (GOVERNANCE.md 1-2) ------------------------------------------------------ */

enum {
    GOV_HAS_INPUT = 1u << 0,
    GOV_HAS_OUTPUT = 1u << 1,
    GOV_HAS_CACHE_READ = 1u << 2,
    GOV_HAS_CACHE_WRITE = 1u << 3,
    GOV_HAS_REASONING = 1u << 4,
    GOV_HAS_COST = 1u << 5,
    /* input tokens were reported without cached tokens (Anthropic style) and the normalizer
     * added cache_read + cache_write to them */
    GOV_INPUT_CACHE_ADDED = 1u << 6,
};

typedef struct gov_usage {
    gb_str provider;       /* canonical (renamed), e.g. "gcp.gemini"; empty when absent */
    gb_str request_model;  /* as reported */
    gb_str response_model; /* as reported */
    /* Token counts, all >= 0; valid when the matching GOV_HAS_* bit is set (else 0).
     * input always includes cache_read and cache_write (OTel convention); reasoning is part of
     * output. */
    int64_t input;
    int64_t output;
    int64_t cache_read;
    int64_t cache_write;
    int64_t reasoning;
    double cost;        /* existing cost on the span (genops.cost.total or an alias) */
    gb_str cost_source; /* genops.cost.source when set ("sdk", "provider", ...) */
    gb_str currency;    /* genops.cost.currency when set */
    uint32_t flags;     /* GOV_HAS_* */
    /* attribution (span first, then resource) */
    gb_str team, customer_id, project, environment, feature, cost_center, user_id, session_id;
} gov_usage;

/* Reads span attributes (and, for attribution keys and the provider only, resource attributes;
 * resource may be NULL) into *out. Every string in *out is a view into the attributes or static
 * storage. Integers are accepted as int, integral double or decimal string; negative,
 * fractional or malformed counts are ignored. Never allocates. */
gb_status gov_normalize(const pd_attrs *span, const pd_attrs *resource, gov_usage *out);
/* The same in two steps, for many items under one resource: gov_normalize_resource reads what
 * a resource gives its items (the provider, as written, and the attribution fields; resource may
 * be NULL) into *res, once; gov_normalize_with then reads one item's attributes against it
 * (res NULL = no resource). gov_normalize(s, r, out) is exactly both. */
gb_status gov_normalize_resource(const pd_attrs *resource, gov_usage *res);
gb_status gov_normalize_with(const pd_attrs *span, const gov_usage *res, gov_usage *out);
/* Canonical provider name: renames az.ai.openai -> azure.ai.openai, vertex_ai -> gcp.vertex_ai,
 * gemini -> gcp.gemini (case-insensitive); other values are returned as given. */
gb_str gov_provider_canonical(gb_str provider);
/* The model to price: response model when present, else request model. */
gb_str gov_usage_model(const gov_usage *u);

/* ---- price table (GOVERNANCE.md 3) ---------------------------------------------------------- */

#define GOV_PRICE_ABSENT (-1) /* a rate that is not known */
#define GOV_MAX_TIERS    4

/* Micro-USD per 1M tokens (2.50 USD/1M = 2500000); GOV_PRICE_ABSENT when unknown. */
typedef struct gov_rates {
    int64_t input;
    int64_t output;
    int64_t cache_read;
    int64_t cache_write;
} gov_rates;

/* Applies to the whole request when its input tokens (including cached) exceed above_input.
 * Absent rates in a tier inherit the base rates. */
typedef struct gov_price_tier {
    int64_t above_input;
    gov_rates rates;
} gov_price_tier;

typedef struct gov_price {
    const char *provider;        /* canonical provider, e.g. "openai", "gcp.gemini" */
    const char *model;           /* model id, e.g. "gpt-4o" */
    const char *const *aliases;  /* NULL-terminated exact alternative ids, or NULL */
    const char *const *prefixes; /* NULL-terminated id prefixes, or NULL */
    int64_t effective_from;      /* unix seconds (a date at 00:00 UTC); 0 = always */
    gov_rates rates;
    gov_price_tier tiers[GOV_MAX_TIERS]; /* ascending above_input */
    uint32_t n_tiers;
    const char *source;  /* where the figures come from */
    const char *checked; /* "YYYY-MM-DD" the figures were last checked, or "unchecked" */
} gov_price;

/* The built-in table (generated from prices-builtin.csv by gen_prices_builtin.py). */
extern const gov_price gov_prices_builtin[];
extern const uint32_t gov_prices_builtin_count;

typedef struct gov_prices gov_prices;

/* A table holding the built-in entries. Free with gov_prices_free. */
gb_status gov_prices_new_builtin(gov_prices **out);
/* An empty table. */
gb_status gov_prices_new_empty(gov_prices **out);
void gov_prices_free(gov_prices *p);

/* Loads a user file into p: YAML (prices: [...]) or, when the path ends in ".json", LiteLLM's
 * model_prices_and_context_window.json. Entries of the file replace every entry of p with the
 * same provider and model (the file then holds that model's whole history) and add the others.
 * Problems go to d with file:line; GB_ERR_INVALID leaves p unchanged. */
gb_status gov_prices_load_file(gov_prices *p, const char *path, cfg_diags *d);
/* Same from memory; name is used in diagnostics. */
gb_status gov_prices_load_yaml(gov_prices *p, const char *name, const char *text, size_t len,
                               cfg_diags *d);
/* Loads the entries of a YAML sequence node with the schema of a price file's `prices:` list
 * (e.g. the governance processor's pricing.overrides), with the same replace-or-add rule.
 * Diagnostics carry the nodes' marks; path names the list in messages. A NULL list is a no-op. */
gb_status gov_prices_load_entries(gov_prices *p, const cfg_node *list, const char *path,
                                  cfg_diags *d);
gb_status gov_prices_load_litellm(gov_prices *p, const char *name, const char *text, size_t len,
                                  cfg_diags *d);

/* "builtin-2026-07-29-1a2b3c4d": origin, newest checked date, hash of every entry. Changes
 * whenever a figure changes. Valid while p lives. */
const char *gov_prices_version(const gov_prices *p);
uint32_t gov_prices_count(const gov_prices *p);
const gov_price *gov_prices_at(const gov_prices *p, uint32_t i);

typedef enum gov_match_kind {
    GOV_MATCH_NONE = 0,
    GOV_MATCH_EXACT,  /* model id or alias, as given or after dropping a "provider/" prefix */
    GOV_MATCH_DATED,  /* after stripping a date / -latest suffix */
    GOV_MATCH_VENDOR, /* after removing Bedrock-style region/vendor prefixes and -vN:M */
    GOV_MATCH_PREFIX, /* a configured prefix */
} gov_match_kind;

/* Finds the entry for provider (may be empty) and model at time at_unix_nano: the newest entry
 * whose effective_from <= that time among the entries the model id matches. Entries of the same
 * provider family are preferred; *provider_match tells whether the chosen one is. Returns NULL
 * when nothing matches. */
const gov_price *gov_prices_lookup(const gov_prices *p, gb_str provider, gb_str model,
                                   uint64_t at_unix_nano, gov_match_kind *kind,
                                   bool *provider_match);
/* Same, also giving the range of times (unix seconds, as gov_prices_at_sec gives them) over
 * which the same lookup returns the same entry, kind and provider match: [*valid_from,
 * *valid_until). Either pointer may be NULL. */
const gov_price *gov_prices_lookup_range(const gov_prices *p, gb_str provider, gb_str model,
                                         uint64_t at_unix_nano, gov_match_kind *kind,
                                         bool *provider_match, int64_t *valid_from,
                                         int64_t *valid_until);
/* The time a lookup at at_unix_nano compares effective dates with (0 = now: INT64_MAX). */
int64_t gov_prices_at_sec(uint64_t at_unix_nano);
/* Strips one date suffix (-YYYY-MM-DD, -YYYYMMDD, @YYYYMMDD, -latest); false if none. */
bool gov_model_strip_date(gb_str model, gb_str *out);
/* Bedrock-style id to the vendor's: "us.anthropic.claude-haiku-4-5-20251001-v1:0" ->
 * "claude-haiku-4-5-20251001" (optional region, then a known vendor, then -vN[:M]); false when
 * the id has no vendor prefix. */
bool gov_model_strip_vendor(gb_str model, gb_str *out);

/* ---- cost -------------------------------------------------------------------------------- */

typedef enum gov_cost_status {
    GOV_COST_PRICED = 0, /* computed from a matching price, or kept from the span */
    GOV_COST_ESTIMATED,  /* a price was used with an assumption (other provider, missing rate) */
    GOV_COST_UNPRICED,   /* no price: total is 0 and must not be read as free */
} gov_cost_status;

typedef enum gov_cost_source {
    GOV_SOURCE_COLLECTOR = 0,
    GOV_SOURCE_SDK,
    GOV_SOURCE_PROVIDER,
} gov_cost_source;

typedef struct gov_cost {
    gov_cost_status status;
    gov_cost_source source;
    int64_t total;               /* nano-USD */
    int64_t input;               /* nano-USD, uncached input */
    int64_t output;              /* nano-USD, including reasoning */
    int64_t cache_read;          /* nano-USD */
    int64_t cache_write;         /* nano-USD */
    const gov_price *price;      /* entry used, or NULL */
    int32_t tier;                /* index of the context tier applied, -1 for base rates */
    const char *pricing_version; /* table version, NULL when the span's cost was kept */
} gov_cost;

typedef struct gov_cost_opts {
    bool recompute; /* price even when the span already carries a cost */
} gov_cost_opts;

/* Prices u at the span's start time. Never fails for unknown models (status UNPRICED);
 * GB_ERR_LIMIT when the arithmetic would overflow int64 nano-USD (out is then UNPRICED). */
gb_status gov_cost_compute(const gov_prices *p, const gov_usage *u, uint64_t start_unix_nano,
                           const gov_cost_opts *opts, gov_cost *out);

/* A few recent price lookups (provider, model, time range -> entry), for one thread: a batch's
 * operations mostly repeat a handful of models, and a lookup (normalized ids, binary searches,
 * provider families) costs far more than comparing two short strings. The strings are views:
 * the cache must not outlive what they point into (use one per batch). Zero-initialize. */
#define GOV_PRICE_CACHE_SLOTS 8
typedef struct gov_price_cache {
    const gov_prices *p;
    uint32_t n, next;
    struct {
        gb_str provider, model;
        int64_t from, until;
        const gov_price *e;
        gov_match_kind kind;
        bool provider_match;
    } s[GOV_PRICE_CACHE_SLOTS];
} gov_price_cache;

/* gov_cost_compute with the price lookups going through cache (may be NULL). */
gb_status gov_cost_compute_cached(const gov_prices *p, const gov_usage *u, uint64_t start_unix_nano,
                                  const gov_cost_opts *opts, gov_price_cache *cache, gov_cost *out);

const char *gov_cost_status_str(gov_cost_status s);
const char *gov_cost_source_str(gov_cost_source s);
static inline double gov_nusd_to_usd(int64_t nusd)
{
    return (double)nusd / 1e9;
}
/* Exact nano-USD of a USD amount carried as an attribute value (genops.cost.*): round half away
 * from zero of value x 1e9. Accepts doubles, integers and decimal strings (parsed exactly, no
 * binary rounding; exponent forms through strtod). GB_ERR_INVALID for other types, non-finite
 * values or more than 9.2e9 USD in magnitude. Shared by the ledger, the governance connector and
 * the debug exporter's summary, so every sum of the same spans agrees to the nano-USD. */
gb_status gov_usd_to_nusd(const pd_any *v, int64_t *out);

/* ---- cost tiers -------------------------------------------------------------------------- */

typedef struct gov_cost_tiers {
    int64_t medium_from; /* nano-USD; default 0.01 USD */
    int64_t high_from;   /* nano-USD; default 0.10 USD */
} gov_cost_tiers;

#define GOV_COST_TIERS_DEFAULT ((gov_cost_tiers){10000000, 100000000})

/* "low" below medium_from, "medium" below high_from, else "high". */
const char *gov_cost_tier(const gov_cost_tiers *t, int64_t total_nusd);

#endif
