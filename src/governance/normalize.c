/* Usage normalization: one pass over a span's attributes fills a gov_usage from the canonical
 * keys and every alias of GOVERNANCE.md §1-§2 (three generations of the OTel GenAI conventions,
 * OpenLLMetry's llm.*, OpenInference's llm.token_count.*, and genops.*).
 *
 * How: a static table (keys with their lengths, indexed by a small open-addressing hash built
 * once) maps each known key to a field and a rank (0 =
 * canonical). Each attribute whose key starts with "gen_ai.", "llm." or "genops." is looked up
 * there; a field keeps the value of the lowest rank seen, so the canonical key wins whatever the
 * attribute order. All strings stay views; nothing is allocated.
 *
 * Cached tokens: the OTel conventions, OpenAI's prompt_tokens_details and OpenInference count
 * cached tokens inside input tokens. Anthropic's API does not, and instrumentations that copy its
 * usage verbatim do not either. The input is treated as *excluding* cache tokens when
 *   - the cache counts use Anthropic's API spelling (gen_ai.usage.cache_read_input_tokens,
 *     gen_ai.usage.cache_creation_input_tokens), or
 *   - the provider is anthropic and the input came from a pre-1.27 key
 *     (gen_ai.usage.prompt_tokens, llm.usage.prompt_tokens), or
 *   - input < cache_read + cache_write (impossible if input included them),
 * and then cache_read + cache_write are added to input, so input always includes them and
 * the cost formula never counts a cached token twice.
 *
 * A resource is read once for all its items (gov_normalize_resource, then gov_normalize_with
 * per item): only its provider and attribution values count, and they are the same for each.
 *
 * Rejected: a hash map of keys (the table is small and the prefix test rejects most keys);
 * copying strings (the attributes outlive the usage). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>

#include "governance/gov.h"

enum field {
    F_PROVIDER,
    F_REQ_MODEL,
    F_RESP_MODEL,
    F_INPUT,
    F_OUTPUT,
    F_CACHE_READ,
    F_CACHE_WRITE,
    F_REASONING,
    F_COST,
    F_COST_SOURCE,
    F_CURRENCY,
    F_TEAM,
    F_CUSTOMER,
    F_PROJECT,
    F_ENV,
    F_FEATURE,
    F_COST_CENTER,
    F_USER,
    F_SESSION,
    F_COUNT,
};

/* key properties */
enum {
    K_ANTHROPIC_CACHE = 1u << 0, /* cache counts in Anthropic's API spelling: not in input */
    K_LEGACY_INPUT = 1u << 1,    /* pre-1.27 input key */
};

typedef struct key_def {
    gb_str key;
    uint8_t field;
    uint8_t rank;
    uint8_t props;
} key_def;

/* a gb_str initializer usable in a static table */
#define K(s)                                                                                       \
    {                                                                                              \
        (s), sizeof(s) - 1                                                                         \
    }

static const key_def KEYS[] = {
    {K("gen_ai.provider.name"), F_PROVIDER, 0, 0},
    {K("gen_ai.system"), F_PROVIDER, 1, 0},
    {K("genops.cost.provider"), F_PROVIDER, 2, 0},
    {K("llm.provider"), F_PROVIDER, 3, 0},
    {K("llm.system"), F_PROVIDER, 4, 0},
    {K("llm.vendor"), F_PROVIDER, 5, 0},

    {K("gen_ai.request.model"), F_REQ_MODEL, 0, 0},
    {K("llm.request.model"), F_REQ_MODEL, 1, 0},
    {K("llm.model_name"), F_REQ_MODEL, 2, 0},
    {K("genops.cost.model"), F_REQ_MODEL, 3, 0},
    {K("gen_ai.response.model"), F_RESP_MODEL, 0, 0},
    {K("llm.response.model"), F_RESP_MODEL, 1, 0},

    {K("gen_ai.usage.input_tokens"), F_INPUT, 0, 0},
    {K("genops.tokens.input"), F_INPUT, 1, 0},
    {K("gen_ai.usage.prompt_tokens"), F_INPUT, 2, K_LEGACY_INPUT},
    {K("llm.usage.prompt_tokens"), F_INPUT, 3, K_LEGACY_INPUT},
    {K("llm.token_count.prompt"), F_INPUT, 4, 0},

    {K("gen_ai.usage.output_tokens"), F_OUTPUT, 0, 0},
    {K("genops.tokens.output"), F_OUTPUT, 1, 0},
    {K("gen_ai.usage.completion_tokens"), F_OUTPUT, 2, 0},
    {K("llm.usage.completion_tokens"), F_OUTPUT, 3, 0},
    {K("llm.token_count.completion"), F_OUTPUT, 4, 0},

    {K("gen_ai.usage.cache_read.input_tokens"), F_CACHE_READ, 0, 0},
    {K("genops.tokens.cache_read"), F_CACHE_READ, 1, 0},
    {K("gen_ai.usage.cache_read_input_tokens"), F_CACHE_READ, 2, K_ANTHROPIC_CACHE},
    {K("llm.token_count.prompt_details.cache_read"), F_CACHE_READ, 3, 0},
    {K("gen_ai.usage.prompt_tokens_details.cached_tokens"), F_CACHE_READ, 4, 0},

    {K("gen_ai.usage.cache_creation.input_tokens"), F_CACHE_WRITE, 0, 0},
    {K("genops.tokens.cache_write"), F_CACHE_WRITE, 1, 0},
    {K("gen_ai.usage.cache_creation_input_tokens"), F_CACHE_WRITE, 2, K_ANTHROPIC_CACHE},
    {K("llm.token_count.prompt_details.cache_write"), F_CACHE_WRITE, 3, 0},

    {K("gen_ai.usage.reasoning.output_tokens"), F_REASONING, 0, 0},
    {K("genops.tokens.reasoning"), F_REASONING, 1, 0},
    {K("gen_ai.usage.reasoning_tokens"), F_REASONING, 2, 0},
    {K("llm.token_count.completion_details.reasoning"), F_REASONING, 3, 0},

    {K("genops.cost.total"), F_COST, 0, 0},
    {K("genops.cost.amount"), F_COST, 1, 0},
    {K("gen_ai.usage.cost"), F_COST, 2, 0},
    {K("llm.cost.total"), F_COST, 3, 0},
    {K("gen_ai.usage.cost.amount"), F_COST, 4, 0},
    {K("genops.cost.source"), F_COST_SOURCE, 0, 0},
    {K("genops.cost.currency"), F_CURRENCY, 0, 0},

    {K("genops.team"), F_TEAM, 0, 0},
    {K("genops.customer_id"), F_CUSTOMER, 0, 0},
    {K("genops.customer"), F_CUSTOMER, 1, 0},
    {K("genops.project"), F_PROJECT, 0, 0},
    {K("genops.environment"), F_ENV, 0, 0},
    {K("genops.feature"), F_FEATURE, 0, 0},
    {K("genops.cost_center"), F_COST_CENTER, 0, 0},
    {K("genops.user_id"), F_USER, 0, 0},
    {K("genops.session_id"), F_SESSION, 0, 0},
};
#define N_KEYS (sizeof(KEYS) / sizeof(KEYS[0]))

static bool is_string_field(int f)
{
    return f == F_PROVIDER || f == F_REQ_MODEL || f == F_RESP_MODEL || f == F_COST_SOURCE ||
           f == F_CURRENCY || f >= F_TEAM;
}

/* A token count from int, integral double, or a decimal string; false when not usable. */
static bool read_count(const pd_any *v, int64_t *out)
{
    switch (v->type) {
    case PD_ANY_INT:
        if (v->u.i < 0) return false;
        *out = v->u.i;
        return true;
    case PD_ANY_DOUBLE: {
        double d = v->u.d;
        if (!isfinite(d) || d < 0 || d > 9.0e15 || floor(d) != d) return false;
        *out = (int64_t)d;
        return true;
    }
    case PD_ANY_STR: {
        gb_str s = v->u.str;
        uint32_t i = 0;
        while (i < s.len && (s.ptr[i] == ' ' || s.ptr[i] == '\t'))
            i++;
        if (i < s.len && s.ptr[i] == '+') i++;
        if (i == s.len) return false;
        int64_t n = 0;
        for (; i < s.len; i++) {
            char c = s.ptr[i];
            if (c == ' ' || c == '\t') break;
            if (c < '0' || c > '9' || n > (INT64_MAX - 9) / 10) return false;
            n = n * 10 + (c - '0');
        }
        for (; i < s.len; i++)
            if (s.ptr[i] != ' ' && s.ptr[i] != '\t') return false;
        *out = n;
        return true;
    }
    default:
        return false;
    }
}

/* A cost from double, int or decimal string. */
static bool read_money(const pd_any *v, double *out)
{
    switch (v->type) {
    case PD_ANY_DOUBLE:
        if (!isfinite(v->u.d) || v->u.d < 0) return false;
        *out = v->u.d;
        return true;
    case PD_ANY_INT:
        if (v->u.i < 0) return false;
        *out = (double)v->u.i;
        return true;
    case PD_ANY_STR: {
        char tmp[64];
        if (v->u.str.len == 0 || v->u.str.len >= sizeof tmp) return false;
        memcpy(tmp, v->u.str.ptr, v->u.str.len);
        tmp[v->u.str.len] = '\0';
        char *end = NULL;
        double d = strtod(tmp, &end);
        while (end && (*end == ' ' || *end == '\t'))
            end++;
        if (!end || *end != '\0' || end == tmp || !isfinite(d) || d < 0) return false;
        *out = d;
        return true;
    }
    default:
        return false;
    }
}

/* Open-addressing index over KEYS, built once. The hash reads three bytes and the length, so a
 * lookup costs about one memcmp whatever the number of keys. */
#define KEY_SLOTS 256u
static uint8_t key_slot[KEY_SLOTS]; /* index into KEYS + 1; 0 = empty */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static uint32_t key_hash(gb_str k)
{
    return (k.len * 31u + (uint8_t)k.ptr[k.len - 1] * 7u + (uint8_t)k.ptr[k.len / 2] * 3u +
            (uint8_t)k.ptr[k.len * 3 / 4]) %
           KEY_SLOTS;
}

static void key_index_build(void)
{
    _Static_assert(N_KEYS < KEY_SLOTS / 2 && N_KEYS < 255, "key index too small");
    for (size_t i = 0; i < N_KEYS; i++) {
        uint32_t h = key_hash(KEYS[i].key);
        while (key_slot[h])
            h = (h + 1) % KEY_SLOTS;
        key_slot[h] = (uint8_t)(i + 1);
    }
}

static inline __attribute__((always_inline)) const key_def *find_key(gb_str k)
{
    if (k.len < 5 ||
        !(gb_str_has_prefix(k, GB_STR_LIT("gen_ai.")) || gb_str_has_prefix(k, GB_STR_LIT("llm.")) ||
          gb_str_has_prefix(k, GB_STR_LIT("genops."))))
        return NULL;
    for (uint32_t h = key_hash(k); key_slot[h]; h = (h + 1) % KEY_SLOTS) {
        const key_def *d = &KEYS[key_slot[h] - 1];
        if (gb_str_eq(k, d->key)) return d;
    }
    return NULL;
}

typedef struct scan {
    uint8_t rank[F_COUNT]; /* 255 = unset */
    uint8_t props[F_COUNT];
    gb_str str[F_COUNT];
    int64_t n[F_COUNT];
    double money;
} scan;

static void scan_attrs(const pd_attrs *a, scan *s, bool resource)
{
    if (!a) return;
    for (uint32_t i = 0; i < a->n; i++) {
        const pd_kv *kv = &a->v[i];
        const key_def *k = find_key(kv->key);
        if (!k) continue;
        int f = k->field;
        /* From the resource only attribution and the provider (service-wide facts). */
        if (resource && !(f >= F_TEAM || f == F_PROVIDER)) continue;
        if (s->rank[f] != 255 && s->rank[f] <= k->rank) continue;
        if (is_string_field(f)) {
            if (kv->value.type != PD_ANY_STR || kv->value.u.str.len == 0) continue;
            s->str[f] = kv->value.u.str;
        } else if (f == F_COST) {
            if (!read_money(&kv->value, &s->money)) continue;
        } else {
            if (!read_count(&kv->value, &s->n[f])) continue;
        }
        s->rank[f] = k->rank;
        s->props[f] = k->props;
    }
}

static bool ieq(gb_str a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && strncasecmp(a.ptr, b, n) == 0;
}

gb_str gov_provider_canonical(gb_str p)
{
    if (ieq(p, "az.ai.openai")) return GB_STR_LIT("azure.ai.openai");
    if (ieq(p, "vertex_ai")) return GB_STR_LIT("gcp.vertex_ai");
    if (ieq(p, "gemini")) return GB_STR_LIT("gcp.gemini");
    return p;
}

gb_str gov_usage_model(const gov_usage *u)
{
    return u->response_model.len ? u->response_model : u->request_model;
}

/* The usage field of each string field a resource may give (F_PROVIDER, F_TEAM and after). */
static gb_str *res_field(gov_usage *u, int f)
{
    switch (f) {
    case F_PROVIDER:
        return &u->provider;
    case F_TEAM:
        return &u->team;
    case F_CUSTOMER:
        return &u->customer_id;
    case F_PROJECT:
        return &u->project;
    case F_ENV:
        return &u->environment;
    case F_FEATURE:
        return &u->feature;
    case F_COST_CENTER:
        return &u->cost_center;
    case F_USER:
        return &u->user_id;
    case F_SESSION:
        return &u->session_id;
    default:
        return NULL;
    }
}

gb_status gov_normalize_resource(const pd_attrs *resource, gov_usage *res)
{
    if (!res) return GB_ERR_INVALID;
    pthread_once(&key_once, key_index_build);
    memset(res, 0, sizeof *res);
    scan r;
    memset(&r, 0, sizeof r);
    memset(r.rank, 255, sizeof r.rank);
    scan_attrs(resource, &r, true);
    /* a string field is set exactly when it holds a non-empty value (scan_attrs) */
    for (int f = 0; f < F_COUNT; f++) {
        gb_str *dst = res_field(res, f);
        if (dst && r.rank[f] != 255) *dst = r.str[f];
    }
    return GB_OK;
}

gb_status gov_normalize(const pd_attrs *span, const pd_attrs *resource, gov_usage *out)
{
    gov_usage r;
    gb_status st = gov_normalize_resource(resource, &r);
    return st ? st : gov_normalize_with(span, &r, out);
}

gb_status gov_normalize_with(const pd_attrs *span, const gov_usage *res, gov_usage *out)
{
    if (!out) return GB_ERR_INVALID;
    pthread_once(&key_once, key_index_build);
    memset(out, 0, sizeof *out);
    scan s;
    memset(&s, 0, sizeof s);
    memset(s.rank, 255, sizeof s.rank);
    scan_attrs(span, &s, false);
    /* Resource values fill only what the span left unset. */
    for (int f = 0; res && f < F_COUNT; f++) {
        if (s.rank[f] != 255) continue;
        const gb_str *v = res_field((gov_usage *)res, f);
        if (v && v->len) {
            s.rank[f] = 0;
            s.str[f] = *v;
        }
    }

    out->provider = gov_provider_canonical(s.str[F_PROVIDER]);
    out->request_model = s.str[F_REQ_MODEL];
    out->response_model = s.str[F_RESP_MODEL];
    static const struct {
        int f;
        uint32_t bit;
    } counts[] = {{F_INPUT, GOV_HAS_INPUT},
                  {F_OUTPUT, GOV_HAS_OUTPUT},
                  {F_CACHE_READ, GOV_HAS_CACHE_READ},
                  {F_CACHE_WRITE, GOV_HAS_CACHE_WRITE},
                  {F_REASONING, GOV_HAS_REASONING}};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (s.rank[counts[i].f] != 255) out->flags |= counts[i].bit;
    out->input = s.n[F_INPUT];
    out->output = s.n[F_OUTPUT];
    out->cache_read = s.n[F_CACHE_READ];
    out->cache_write = s.n[F_CACHE_WRITE];
    out->reasoning = s.n[F_REASONING];
    if (s.rank[F_COST] != 255) {
        out->flags |= GOV_HAS_COST;
        out->cost = s.money;
    }
    out->cost_source = s.str[F_COST_SOURCE];
    out->currency = s.str[F_CURRENCY];

    int64_t cached = out->cache_read + out->cache_write;
    if (cached > 0) {
        bool excl = (s.props[F_CACHE_READ] | s.props[F_CACHE_WRITE]) & K_ANTHROPIC_CACHE;
        if (ieq(out->provider, "anthropic") && (s.props[F_INPUT] & K_LEGACY_INPUT)) excl = true;
        if (out->input < cached) excl = true;
        if (excl && (out->flags & GOV_HAS_INPUT)) {
            out->input += cached;
            out->flags |= GOV_INPUT_CACHE_ADDED;
        } else if (!(out->flags & GOV_HAS_INPUT)) {
            /* only cache counts: they are the whole input we know of */
            out->input = cached;
            out->flags |= GOV_HAS_INPUT;
        }
    }
    /* Reasoning is part of output; a producer reporting more reasoning than output has
     * reported them separately. */
    if (out->reasoning > out->output) out->output += out->reasoning;

    out->team = s.str[F_TEAM];
    out->customer_id = s.str[F_CUSTOMER];
    out->project = s.str[F_PROJECT];
    out->environment = s.str[F_ENV];
    out->feature = s.str[F_FEATURE];
    out->cost_center = s.str[F_COST_CENTER];
    out->user_id = s.str[F_USER];
    out->session_id = s.str[F_SESSION];
    return GB_OK;
}
