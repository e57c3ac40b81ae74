/* Cost of one operation from its normalized usage.
 *
 * cost = (input - cache_read - cache_write)·in + cache_read·cr + cache_write·cw + output·out,
 * prices per 1M tokens; reasoning tokens are inside output. Rates are micro-USD per 1M tokens,
 * which is pico-USD per token, so each product is an exact int64 in pico-USD (overflow-checked:
 * 9.2 million USD per operation). Each part is rounded half-up to nano-USD once, and the total is
 * the sum of the rounded parts, so the breakdown always adds up to the total.
 *
 * A context tier applies to the whole request when the input tokens (cached included) exceed
 * its threshold; rates a tier leaves out come from the base. A missing cache rate charges those
 * tokens at the input rate (an upper bound) and marks the cost "estimated"; so does a price
 * taken from another provider's entry. A missing input or output rate, an unknown model or a
 * span without token counts is "unpriced" with total 0 — never a silent zero cost.
 *
 * Rejected: doubles (sums drift, and budgets compare against limits); micro-USD results (a
 * single cheap token rounds to 0). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "governance/gov.h"

static int64_t pick_rate(int64_t tier, int64_t base)
{
    return tier != GOV_PRICE_ABSENT ? tier : base;
}

static bool mul_add(int64_t tokens, int64_t rate, int64_t *part_pusd)
{
    return !__builtin_mul_overflow(tokens, rate, part_pusd);
}

static int64_t pusd_to_nusd(int64_t p)
{
    return p / 1000 + (p % 1000 >= 500 ? 1 : 0);
}

static void unpriced(gov_cost *c, const gov_prices *p)
{
    c->status = GOV_COST_UNPRICED;
    c->source = GOV_SOURCE_COLLECTOR;
    c->total = c->input = c->output = c->cache_read = c->cache_write = 0;
    c->tier = -1;
    c->pricing_version = p ? gov_prices_version(p) : NULL;
}

/* gov_prices_lookup through the cache: a slot answers when provider and model are the same
 * bytes and the time falls in the range over which its lookup is known to give the same answer. */
static const gov_price *lookup(const gov_prices *p, gb_str provider, gb_str model, uint64_t at_ns,
                               gov_price_cache *c, bool *prov_match)
{
    if (!c) return gov_prices_lookup(p, provider, model, at_ns, NULL, prov_match);
    if (c->p != p) {
        c->p = p;
        c->n = c->next = 0;
    }
    int64_t at = gov_prices_at_sec(at_ns);
    for (uint32_t i = 0; i < c->n; i++) {
        if (gb_str_eq(c->s[i].model, model) && gb_str_eq(c->s[i].provider, provider) &&
            at >= c->s[i].from && at < c->s[i].until) {
            *prov_match = c->s[i].provider_match;
            return c->s[i].e;
        }
    }
    uint32_t i = c->n < GOV_PRICE_CACHE_SLOTS ? c->n++ : c->next++ % GOV_PRICE_CACHE_SLOTS;
    c->s[i].provider = provider;
    c->s[i].model = model;
    c->s[i].e = gov_prices_lookup_range(p, provider, model, at_ns, &c->s[i].kind,
                                        &c->s[i].provider_match, &c->s[i].from, &c->s[i].until);
    *prov_match = c->s[i].provider_match;
    return c->s[i].e;
}

gb_status gov_cost_compute(const gov_prices *p, const gov_usage *u, uint64_t start_unix_nano,
                           const gov_cost_opts *opts, gov_cost *out)
{
    return gov_cost_compute_cached(p, u, start_unix_nano, opts, NULL, out);
}

gb_status gov_cost_compute_cached(const gov_prices *p, const gov_usage *u, uint64_t start_unix_nano,
                                  const gov_cost_opts *opts, gov_price_cache *cache, gov_cost *out)
{
    gb_status st = GB_OK;
    memset(out, 0, sizeof *out);
    out->tier = -1;
    if (!u) {
        st = GB_ERR_INVALID;
        goto out;
    }
    if ((u->flags & GOV_HAS_COST) && !(opts && opts->recompute)) {
        out->status = GOV_COST_PRICED;
        out->source = GOV_SOURCE_SDK;
        if (u->cost_source.len == 8 && strncasecmp(u->cost_source.ptr, "provider", 8) == 0)
            out->source = GOV_SOURCE_PROVIDER;
        if (!(u->cost <= 9.2e9)) {
            unpriced(out, NULL);
            st = GB_ERR_LIMIT;
            goto out;
        }
        out->total = llround(u->cost * 1e9);
        goto out;
    }
    unpriced(out, p);
    if (!p || !(u->flags & (GOV_HAS_INPUT | GOV_HAS_OUTPUT))) goto out;
    bool prov_match = false;
    const gov_price *e =
        lookup(p, u->provider, gov_usage_model(u), start_unix_nano, cache, &prov_match);
    if (!e) goto out;

    int64_t in = u->input, cr = u->cache_read, cw = u->cache_write, o = u->output;
    gov_rates r = e->rates;
    int32_t tier = -1;
    for (uint32_t t = 0; t < e->n_tiers; t++)
        if (in > e->tiers[t].above_input) tier = (int32_t)t;
    if (tier >= 0) {
        const gov_rates *tr = &e->tiers[tier].rates;
        r.input = pick_rate(tr->input, r.input);
        r.output = pick_rate(tr->output, r.output);
        r.cache_read = pick_rate(tr->cache_read, r.cache_read);
        r.cache_write = pick_rate(tr->cache_write, r.cache_write);
    }
    bool estimated = u->provider.len > 0 && !prov_match;
    if (r.input == GOV_PRICE_ABSENT && in > 0) goto out;
    if (r.output == GOV_PRICE_ABSENT && o > 0) goto out;
    if (r.cache_read == GOV_PRICE_ABSENT) {
        r.cache_read = r.input;
        estimated |= cr > 0;
    }
    if (r.cache_write == GOV_PRICE_ABSENT) {
        r.cache_write = r.input;
        estimated |= cw > 0;
    }
    int64_t uncached = in - cr - cw;
    if (uncached < 0) uncached = 0;
    int64_t p_in = 0, p_out = 0, p_cr = 0, p_cw = 0;
    if ((uncached && !mul_add(uncached, r.input, &p_in)) || (o && !mul_add(o, r.output, &p_out)) ||
        (cr && !mul_add(cr, r.cache_read, &p_cr)) || (cw && !mul_add(cw, r.cache_write, &p_cw))) {
        st = GB_ERR_LIMIT;
        goto out;
    }
    out->input = pusd_to_nusd(p_in);
    out->output = pusd_to_nusd(p_out);
    out->cache_read = pusd_to_nusd(p_cr);
    out->cache_write = pusd_to_nusd(p_cw);
    if (__builtin_add_overflow(out->input, out->output, &out->total) ||
        __builtin_add_overflow(out->total, out->cache_read, &out->total) ||
        __builtin_add_overflow(out->total, out->cache_write, &out->total)) {
        unpriced(out, p);
        st = GB_ERR_LIMIT;
        goto out;
    }
    out->status = estimated ? GOV_COST_ESTIMATED : GOV_COST_PRICED;
    out->price = e;
    out->tier = tier;
out:
    return st;
}

const char *gov_cost_status_str(gov_cost_status s)
{
    switch (s) {
    case GOV_COST_PRICED:
        return "priced";
    case GOV_COST_ESTIMATED:
        return "estimated";
    case GOV_COST_UNPRICED:
        return "unpriced";
    }
    return "unpriced";
}

const char *gov_cost_source_str(gov_cost_source s)
{
    switch (s) {
    case GOV_SOURCE_COLLECTOR:
        return "collector";
    case GOV_SOURCE_SDK:
        return "sdk";
    case GOV_SOURCE_PROVIDER:
        return "provider";
    }
    return "collector";
}

const char *gov_cost_tier(const gov_cost_tiers *t, int64_t total_nusd)
{
    gov_cost_tiers d = GOV_COST_TIERS_DEFAULT;
    if (!t) t = &d;
    if (total_nusd < t->medium_from) return "low";
    if (total_nusd < t->high_from) return "medium";
    return "high";
}

/* ---- USD attribute values -> nano-USD ------------------------------------------------------ */

#define MAX_USD 9.2e9 /* int64 nano-USD */

/* Exact decimal string -> nano-USD (round half away from zero at the 10th decimal). */
static gb_status parse_decimal_nusd(gb_str s, int64_t *out)
{
    const char *p = s.ptr, *end = s.ptr + s.len;
    bool neg = false;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p < end && (*p == '-' || *p == '+')) neg = *p++ == '-';
    int64_t whole = 0, frac = 0;
    int digits = 0, fdigits = 0;
    bool round_up = false;
    for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
        if (whole > 9200000000LL) return GB_ERR_INVALID;
        whole = whole * 10 + (*p - '0');
    }
    if (p < end && *p == '.') {
        for (p++; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
            if (fdigits < 9)
                frac = frac * 10 + (*p - '0'), fdigits++;
            else if (fdigits == 9)
                round_up = *p >= '5', fdigits++;
        }
    }
    if (p != end || digits == 0) return GB_ERR_INVALID;
    if (whole > 9200000000LL) return GB_ERR_INVALID;
    for (int i = fdigits; i < 9; i++)
        frac *= 10;
    int64_t v = whole * 1000000000LL + frac + (round_up ? 1 : 0);
    *out = neg ? -v : v;
    return GB_OK;
}

gb_status gov_usd_to_nusd(const pd_any *v, int64_t *out)
{
    switch (v->type) {
    case PD_ANY_DOUBLE:
        if (!isfinite(v->u.d) || fabs(v->u.d) > MAX_USD) return GB_ERR_INVALID;
        *out = llround(v->u.d * 1e9);
        return GB_OK;
    case PD_ANY_INT:
        if (v->u.i > 9200000000LL || v->u.i < -9200000000LL) return GB_ERR_INVALID;
        *out = v->u.i * 1000000000LL;
        return GB_OK;
    case PD_ANY_STR: {
        if (parse_decimal_nusd(v->u.str, out) == GB_OK) return GB_OK;
        char buf[64]; /* exponent forms: 1.5e-3 */
        if (v->u.str.len == 0 || v->u.str.len >= sizeof buf) return GB_ERR_INVALID;
        memcpy(buf, v->u.str.ptr, v->u.str.len);
        buf[v->u.str.len] = '\0';
        char *e;
        double d = strtod(buf, &e);
        if (*e != '\0' || !isfinite(d) || fabs(d) > MAX_USD) return GB_ERR_INVALID;
        *out = llround(d * 1e9);
        return GB_OK;
    }
    default:
        return GB_ERR_INVALID;
    }
}
