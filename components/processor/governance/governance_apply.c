/* governance processor, data path: one pass over the spans (or log records) of a batch.
 *
 * Per item:
 *   1. gov_normalize(item attributes, resource attributes) -> usage. An item is an *AI
 *      operation* when it reports a model, any token count or a cost. GenAI log events without
 *      usage (message content) get attribution and the content_filter policies only. Items that
 *      carry genops.* attributes (evaluation, budget or policy records from the SDK) only get
 *      their §1 aliases normalized and genops.governance.processed; other items are untouched.
 *   2. attribution: each genops.<field> the item lacks is filled from the configured source keys
 *      (item first, then resource), else from the configured default;
 *   3. §1 aliases -> canonical keys (originals kept), policy result words -> canonical words;
 *   4. cost (gov_cost_compute at the item's start time), tokens, gen_ai.* canonical keys when
 *      only aliases were present, genops.cost.*, the cost tier;
 *   5. budgets: every matching budget is charged once per (trace_id, span_id); the most
 *      utilized state goes on the item, each state becomes a genops.budget.evaluated event when
 *      several matched; a crossed threshold logs one WARN line;
 *   6. policies: the most severe result goes on the item, each result becomes a
 *      genops.policy.evaluated event when several ran; drop removes the item, redact replaces
 *      its content attributes.
 * A cost computed by an earlier governance processor (genops.cost.source = collector) is kept as
 * it is, so a span that crosses two collectors is priced once and keeps its status.
 *
 * Memory: every string written is a static literal, a view into the batch, or copied into the
 * batch arena (window ids, group values, reasons, configured names and defaults); attribute and
 * event arrays grow in the arena. Nothing is allocated on the heap per item.
 *
 * Speed: one pass per item records which of the keys we write are already present (a 64-bit
 * mask over OUT_KEYS, with the position of each), and the attribute array is grown once, so
 * writing an absent key is an append and rewriting or reading a present one an index, instead of
 * a linear search; attribution sources outside genops.* are located by the same pass; attribution
 * values of a resource are looked up once per resource; alias lookups search only the item's
 * genops.* keys that are not output keys (listed by the same pass); price lookups go through a
 * per-batch gov_price_cache; each policy evaluation's name and reason are copied once and shared by
 * the item and its event. About 13.5k instructions per span on the core benchmark's payload with
 * forward-governance.yaml (tests/tools/gov_bench.c): normalization 2.5k, the presence pass 2.2k,
 * policies 2.9k, budgets 1.8k, writes ~1.1k.
 *
 * Rejected: writing the attributes through an attraction-style action list (it would need one
 * action per key and could not express "only when absent" per key family); re-normalizing after
 * the writes (the usage is patched with the attribution values instead). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "governance_internal.h"

#define L(s) GB_STR_LIT(s)
/* a gb_str initializer usable in a static table */
#define S(s)                                                                                       \
    {                                                                                              \
        (s), sizeof(s) - 1                                                                         \
    }

/* Attribution values found on one resource, computed at its first AI operation. */
typedef struct res_cache {
    bool done;
    gb_str val[GOVERNANCE_N_ATTR];
    bool usage_done;
    gov_usage usage; /* gov_normalize_resource of the resource, read once */
} res_cache;

/* A policy's name copied into the batch arena, remembered for the rest of the batch by the
 * position of its evaluation (the same policies evaluate in the same order on most items). */
#define NAME_MEMO 64u /* = the most policies per processor, see policies() */
typedef struct name_memo {
    const void *def; /* the definition (alive as long as the processor) */
    gb_str name;
} name_memo;

typedef struct item {
    governance_core *core;
    gb_arena *arena;
    pd_attrs *attrs;
    const pd_attrs *res;
    const pd_trace_id *tid;
    const pd_span_id *sid;
    uint64_t start_ns, end_ns;
    gb_str body;
    pd_span *span; /* NULL for log records */
    pd_log *log;   /* NULL for spans */
    pd_signal sig;
    uint64_t present; /* bit i: OUT_KEYS[i] is among the item's attributes */
    /* position + 1 of the first attribute with key OUT_KEYS[i] when bit i of present is set;
     * valid while opos_ok (positions fit a byte; attributes are only appended meanwhile) */
    uint8_t opos[64];
    bool opos_ok;
    bool any_genops;   /* some key starts with "genops." */
    bool other_genops; /* some genops.* key that is not in OUT_KEYS (an alias, an eval key) */
    /* positions of the genops.* keys that are not in OUT_KEYS (aliases, evaluation keys), so
     * the alias lookups search these few instead of every attribute (n_other > OTHER_MAX: too
     * many to list, search everything) */
    uint8_t other[8];
    uint32_t n_other;
    /* position + 1 of the first attribute with each key of cc.foreign (0 = absent); valid when
     * fpos_ok (at most 255 attributes) */
    uint8_t fpos[GOVERNANCE_MAX_FOREIGN];
    bool fpos_ok;
    res_cache *rc;                /* attribution values of the item's resource */
    gb_str *pv;                   /* the pricing version copied into the arena once per batch */
    gov_price_cache *pc;          /* recent price lookups of this batch */
    name_memo *names;             /* [NAME_MEMO] policy names copied in this batch */
    uint64_t *n_ops, *n_unpriced; /* self-metrics of this batch, added once at its end */
} item;

enum out_key {
    K_GENOPS_TOKENS_INPUT,
    K_GENOPS_TOKENS_OUTPUT,
    K_GENOPS_TOKENS_TOTAL,
    K_GENOPS_TOKENS_CACHE_READ,
    K_GENOPS_TOKENS_CACHE_WRITE,
    K_GENOPS_TOKENS_REASONING,
    K_GEN_AI_PROVIDER_NAME,
    K_GEN_AI_REQUEST_MODEL,
    K_GEN_AI_RESPONSE_MODEL,
    K_GEN_AI_USAGE_INPUT_TOKENS,
    K_GEN_AI_USAGE_OUTPUT_TOKENS,
    K_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    K_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    K_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
    K_GENOPS_COST_TOTAL,
    K_GENOPS_COST_CURRENCY,
    K_GENOPS_COST_SOURCE,
    K_GENOPS_COST_STATUS,
    K_GENOPS_COST_TIER,
    K_GENOPS_COST_PROVIDER,
    K_GENOPS_COST_MODEL,
    K_GENOPS_COST_PRICING_VERSION,
    K_GENOPS_COST_INPUT,
    K_GENOPS_COST_OUTPUT,
    K_GENOPS_COST_CACHE_READ,
    K_GENOPS_COST_CACHE_WRITE,
    K_GENOPS_GOVERNANCE_PROCESSED,
    K_GENOPS_TEAM,
    K_GENOPS_CUSTOMER_ID,
    K_GENOPS_PROJECT,
    K_GENOPS_ENVIRONMENT,
    K_GENOPS_FEATURE,
    K_GENOPS_COST_CENTER,
    K_GENOPS_USER_ID,
    K_GENOPS_SESSION_ID,
    K_GENOPS_EVAL_METRIC_NAME,
    K_GENOPS_BUDGET_NAME,
    K_GENOPS_BUDGET_LIMIT,
    K_GENOPS_BUDGET_USED,
    K_GENOPS_BUDGET_REMAINING,
    K_GENOPS_BUDGET_UTILIZATION,
    K_GENOPS_BUDGET_WINDOW,
    K_GENOPS_BUDGET_STATUS,
    K_GENOPS_BUDGET_GROUP,
    K_GENOPS_POLICY_NAME,
    K_GENOPS_POLICY_RESULT,
    K_GENOPS_POLICY_REASON,
    N_OUT
};

/* Every key the processor writes on an item. A bitmap of the ones present is computed once per
 * item, so writing a key that is absent appends without searching the attribute list (a linear
 * search per write was most of the cost per span). */
static const gb_str OUT_KEYS[N_OUT] = {
    S("genops.tokens.input"),
    S("genops.tokens.output"),
    S("genops.tokens.total"),
    S("genops.tokens.cache_read"),
    S("genops.tokens.cache_write"),
    S("genops.tokens.reasoning"),
    S("gen_ai.provider.name"),
    S("gen_ai.request.model"),
    S("gen_ai.response.model"),
    S("gen_ai.usage.input_tokens"),
    S("gen_ai.usage.output_tokens"),
    S("gen_ai.usage.cache_read.input_tokens"),
    S("gen_ai.usage.cache_creation.input_tokens"),
    S("gen_ai.usage.reasoning.output_tokens"),
    S("genops.cost.total"),
    S("genops.cost.currency"),
    S("genops.cost.source"),
    S("genops.cost.status"),
    S("genops.cost.tier"),
    S("genops.cost.provider"),
    S("genops.cost.model"),
    S("genops.cost.pricing_version"),
    S("genops.cost.input"),
    S("genops.cost.output"),
    S("genops.cost.cache_read"),
    S("genops.cost.cache_write"),
    S("genops.governance.processed"),
    S("genops.team"),
    S("genops.customer_id"),
    S("genops.project"),
    S("genops.environment"),
    S("genops.feature"),
    S("genops.cost_center"),
    S("genops.user_id"),
    S("genops.session_id"),
    S("genops.eval.metric_name"),
    S("genops.budget.name"),
    S("genops.budget.limit"),
    S("genops.budget.used"),
    S("genops.budget.remaining"),
    S("genops.budget.utilization"),
    S("genops.budget.window"),
    S("genops.budget.status"),
    S("genops.budget.group"),
    S("genops.policy.name"),
    S("genops.policy.result"),
    S("genops.policy.reason"),
};
#define OUT_SLOTS 256u
static uint8_t out_slot[OUT_SLOTS]; /* index + 1; 0 = empty */
static pthread_once_t out_once = PTHREAD_ONCE_INIT;

/* Length and three sampled bytes: about 1.1 probes per output key (checked when the table
 * changed), much cheaper than hashing the whole key. */
static uint32_t out_hash(gb_str k)
{
    return (k.len * 31u + (uint8_t)k.ptr[k.len - 1] * 7u + (uint8_t)k.ptr[k.len / 2] * 3u +
            (uint8_t)k.ptr[k.len * 3 / 4]) %
           OUT_SLOTS;
}

static void out_index_build(void)
{
    _Static_assert(N_OUT <= 64 && N_OUT < OUT_SLOTS / 2, "OUT_KEYS must fit a 64-bit mask");
    for (uint32_t i = 0; i < N_OUT; i++) {
        uint32_t h = out_hash(OUT_KEYS[i]);
        while (out_slot[h])
            h = (h + 1) % OUT_SLOTS;
        out_slot[h] = (uint8_t)(i + 1);
    }
}

static inline __attribute__((always_inline)) int out_index(gb_str k)
{
    if (k.len < 11 || k.ptr[0] != 'g' || k.ptr[1] != 'e' || k.ptr[2] != 'n') return -1;
    for (uint32_t h = out_hash(k); out_slot[h]; h = (h + 1) % OUT_SLOTS)
        if (gb_str_eq(k, OUT_KEYS[out_slot[h] - 1])) return out_slot[h] - 1;
    return -1;
}

#define OTHER_MAX 8u

/* Computes the presence bitmap and makes room for `room` more attributes in one allocation. */
static gb_status item_prepare(item *it, uint32_t room)
{
    it->present = 0;
    it->any_genops = it->other_genops = false;
    it->n_other = 0;
    pd_attrs *a = it->attrs;
    const governance_compiled *cc = &it->core->cc;
    memset(it->fpos, 0, sizeof it->fpos);
    it->fpos_ok = it->opos_ok = a->n <= UINT8_MAX;
    for (uint32_t i = 0; i < a->n; i++) {
        if ((cc->foreign_len_mask >> (a->v[i].key.len % 64)) & 1 && i < UINT8_MAX) {
            for (uint32_t j = 0; j < cc->n_foreign; j++)
                if (!it->fpos[j] && gb_str_eq(a->v[i].key, cc->foreign[j]))
                    it->fpos[j] = (uint8_t)(i + 1);
        }
        int k = out_index(a->v[i].key);
        if (k >= 0 && !(it->present & (1ull << k))) {
            it->present |= 1ull << k;
            it->opos[k] = (uint8_t)(i + 1); /* (i < UINT8_MAX when opos_ok) */
        }
        if (gb_str_has_prefix(a->v[i].key, L("genops."))) {
            it->any_genops = true;
            if (k < 0) {
                it->other_genops = true;
                if (it->n_other < OTHER_MAX && i <= UINT8_MAX) it->other[it->n_other] = (uint8_t)i;
                it->n_other++;
            }
        }
    }
    if (a->cap >= a->n && a->cap - a->n >= room) return GB_OK;
    pd_kv *v = gb_arena_alloc(it->arena, (size_t)(a->n + room) * sizeof *v);
    if (!v) return GB_ERR_NOMEM;
    if (a->n) memcpy(v, a->v, a->n * sizeof *v);
    a->v = v;
    a->cap = a->n + room;
    return GB_OK;
}

/* Records that OUT_KEYS[k] was just appended (at a->n - 1). */
static void appended(item *it, int k)
{
    uint32_t i = it->attrs->n - 1;
    it->present |= 1ull << k;
    if (i < UINT8_MAX)
        it->opos[k] = (uint8_t)(i + 1);
    else
        it->opos_ok = false;
}

static gb_status putk(item *it, int k, pd_any v)
{
    pd_attrs *a = it->attrs;
    if (it->present & (1ull << k)) {
        if (!it->opos_ok) return pd_attrs_put(it->arena, a, OUT_KEYS[k], v);
        a->v[it->opos[k] - 1].value = v; /* the first one, as pd_attrs_put would */
        return GB_OK;
    }
    if (a->n >= a->cap || a->cap < a->n) {
        gb_status st = pd_attrs_put(it->arena, a, OUT_KEYS[k], v);
        if (st == GB_OK) appended(it, k);
        return st;
    }
    a->v[a->n].key = OUT_KEYS[k];
    a->v[a->n].value = v;
    a->n++;
    appended(it, k);
    return GB_OK;
}

/* The first item attribute with genops.* key `key` that is not one of OUT_KEYS (as
 * pd_attrs_find would find it; the keys written since item_prepare are all OUT_KEYS). */
static pd_kv *find_other(const item *it, gb_str key)
{
    if (!it->other_genops) return NULL;
    if (it->n_other > OTHER_MAX || it->attrs->n > UINT8_MAX) return pd_attrs_find(it->attrs, key);
    for (uint32_t i = 0; i < it->n_other; i++)
        if (gb_str_eq(it->attrs->v[it->other[i]].key, key)) return &it->attrs->v[it->other[i]];
    return NULL;
}

static bool hask(const item *it, int k)
{
    return (it->present >> k) & 1;
}

/* The attribute OUT_KEYS[k] of the item, when present. */
static pd_kv *findk(const item *it, int k)
{
    if (!hask(it, k)) return NULL;
    return it->opos_ok ? &it->attrs->v[it->opos[k] - 1] : pd_attrs_find(it->attrs, OUT_KEYS[k]);
}

/* Text of a scalar attribute value (strings as they are, numbers and bools formatted into the
 * arena); false for empty strings and non-scalars. */
static bool value_text(gb_arena *a, const pd_any *v, gb_str *out)
{
    switch (v->type) {
    case PD_ANY_STR:
        *out = v->u.str;
        return v->u.str.len > 0;
    case PD_ANY_BOOL:
        *out = v->u.b ? L("true") : L("false");
        return true;
    case PD_ANY_INT:
        return gb_arena_printf(a, out, "%lld", (long long)v->u.i) == GB_OK;
    case PD_ANY_DOUBLE:
        return gb_arena_printf(a, out, "%.17g", v->u.d) == GB_OK;
    default:
        return false;
    }
}

/* Writes on the item through putk(), on anything else (an event's attributes) directly. An
 * event's list is allocated by its writer and written only through here, so a key in it is the
 * very view OUT_KEYS[k]: comparing pointers finds it, and an absent key is appended without a
 * string search (pd_attrs_put only when the list is full). */
static gb_status aputk(item *it, pd_attrs *a, int k, pd_any v)
{
    if (a == it->attrs) return putk(it, k, v);
    for (uint32_t i = 0; i < a->n; i++) {
        if (a->v[i].key.ptr == OUT_KEYS[k].ptr && a->v[i].key.len == OUT_KEYS[k].len) {
            a->v[i].value = v;
            return GB_OK;
        }
    }
    if (a->n >= a->cap) return pd_attrs_put(it->arena, a, OUT_KEYS[k], v);
    a->v[a->n].key = OUT_KEYS[k];
    a->v[a->n].value = v;
    a->n++;
    return GB_OK;
}

/* ---- attribution ------------------------------------------------------------------------ */

static gb_str *usage_field(gov_usage *u, int f)
{
    switch (f) {
    case GOVERNANCE_ATTR_TEAM:
        return &u->team;
    case GOVERNANCE_ATTR_CUSTOMER_ID:
        return &u->customer_id;
    case GOVERNANCE_ATTR_PROJECT:
        return &u->project;
    case GOVERNANCE_ATTR_ENVIRONMENT:
        return &u->environment;
    case GOVERNANCE_ATTR_FEATURE:
        return &u->feature;
    case GOVERNANCE_ATTR_COST_CENTER:
        return &u->cost_center;
    case GOVERNANCE_ATTR_USER_ID:
        return &u->user_id;
    default:
        return &u->session_id;
    }
}

/* First source of f with a usable value in attrs (the item's when it is given, else a
 * resource's). */
static bool lookup(gb_arena *a, const pd_attrs *attrs, const governance_attr *f, const item *it,
                   gb_str *out)
{
    if (!attrs) return false;
    for (uint32_t s = 0; s < f->n_sources; s++) {
        /* on the item, a source that is one of our output keys is known absent from the bitmap;
         * other genops.* sources are absent when the item has no genops.* key */
        if (it && f->source_out[s] >= 0 && !hask(it, f->source_out[s])) continue;
        if (it && !it->any_genops && gb_str_has_prefix(f->sources[s], L("genops."))) continue;
        /* a genops.* source that is not an output key is among the item's "other" keys, a
         * foreign one was located by item_prepare */
        const pd_kv *kv;
        if (it && f->source_out[s] < 0 && gb_str_has_prefix(f->sources[s], L("genops.")))
            kv = find_other(it, f->sources[s]);
        else if (it && it->fpos_ok && f->source_foreign[s] >= 0)
            kv = it->fpos[f->source_foreign[s]] ? &attrs->v[it->fpos[f->source_foreign[s]] - 1]
                                                : NULL;
        else
            kv = pd_attrs_find(attrs, f->sources[s]);
        if (kv && value_text(a, &kv->value, out)) return true;
    }
    return false;
}

/* The attribution values a resource provides (the same for every item under it). */
static void resource_values(const governance_core *core, gb_arena *arena, const pd_attrs *res,
                            res_cache *rc)
{
    for (int f = 0; f < GOVERNANCE_N_ATTR; f++) {
        rc->val[f] = GB_STR_NULL;
        lookup(arena, res, &core->cc.attrs[f], NULL, &rc->val[f]);
    }
    rc->done = true;
}

static gb_status attribution(item *it, gov_usage *u)
{
    const governance_compiled *cc = &it->core->cc;
    gb_status st = GB_OK;
    if (!it->rc->done) resource_values(it->core, it->arena, it->res, it->rc);
    for (int f = 0; st == GB_OK && f < GOVERNANCE_N_ATTR; f++) {
        const governance_attr *a = &cc->attrs[f];
        int k = K_GENOPS_TEAM + f;
        gb_str val = GB_STR_NULL;
        const pd_kv *canon = findk(it, k);
        if (canon && value_text(it->arena, &canon->value, &val)) {
            /* what the application wrote wins */
            *usage_field(u, f) = val;
            continue;
        }
        /* the alias ("genops.customer") is a genops.* key that is not an output key */
        const pd_kv *alias = a->alias.len ? find_other(it, a->alias) : NULL;
        if ((alias && value_text(it->arena, &alias->value, &val)) ||
            lookup(it->arena, it->attrs, a, it, &val)) {
            st = putk(it, k, pd_any_str(val));
        } else if (it->rc->val[f].len) {
            val = it->rc->val[f];
            st = putk(it, k, pd_any_str(val));
        } else if (a->def.len) {
            st = gb_arena_dup(it->arena, a->def.ptr, a->def.len, &val);
            if (st == GB_OK) st = putk(it, k, pd_any_str(val));
        } else {
            continue;
        }
        *usage_field(u, f) = val;
    }
    return st;
}

/* ---- §1 aliases ------------------------------------------------------------------------- */

static bool parse_double(gb_str s, double *out)
{
    char tmp[64];
    if (s.len == 0 || s.len >= sizeof tmp) return false;
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = 0;
    char *end;
    double d = strtod(tmp, &end);
    if (*end || !isfinite(d)) return false;
    *out = d;
    return true;
}

static gb_status aliases(item *it)
{
    static const struct {
        gb_str alias;
        int canon;
        bool number;
    } A[] = {
        {S("genops.eval.metric"), K_GENOPS_EVAL_METRIC_NAME, false},
        {S("genops.budget.utilization_percent"), K_GENOPS_BUDGET_UTILIZATION, true},
        {S("genops.budget.allocated"), K_GENOPS_BUDGET_LIMIT, true},
        {S("genops.budget.consumed"), K_GENOPS_BUDGET_USED, true},
    };
    gb_status st = GB_OK;
    for (size_t i = 0; it->other_genops && st == GB_OK && i < sizeof A / sizeof A[0]; i++) {
        if (hask(it, A[i].canon)) continue;
        const pd_kv *kv = find_other(it, A[i].alias);
        if (!kv) continue;
        pd_any v = kv->value;
        double d;
        if (A[i].number && v.type == PD_ANY_STR && parse_double(v.u.str, &d)) v = pd_any_double(d);
        if (A[i].number && v.type == PD_ANY_INT) v = pd_any_double((double)v.u.i);
        st = putk(it, A[i].canon, v);
    }
    pd_kv *pr = findk(it, K_GENOPS_POLICY_RESULT);
    gov_policy_result r;
    if (st == GB_OK && pr && pr->value.type == PD_ANY_STR &&
        gov_policy_result_parse(pr->value.u.str, &r)) {
        const char *canon = gov_policy_result_str(r);
        if (!gb_str_eq_c(pr->value.u.str, canon)) pr->value = pd_any_str(gb_str_c(canon));
    }
    return st;
}

static bool has_genops_key(const pd_attrs *a)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (gb_str_has_prefix(a->v[i].key, L("genops."))) return true;
    return false;
}

/* ---- tokens and cost -------------------------------------------------------------------- */

static gb_status put_count_if_absent(item *it, int key, bool present, int64_t v)
{
    if (!present || hask(it, key)) return GB_OK;
    return putk(it, key, pd_any_int(v));
}

static gb_status tokens(item *it, const gov_usage *u)
{
    gb_status st = GB_OK;
    uint32_t f = u->flags;
    if (f & (GOV_HAS_INPUT | GOV_HAS_OUTPUT)) {
        if ((st = putk(it, K_GENOPS_TOKENS_INPUT, pd_any_int(u->input))) ||
            (st = putk(it, K_GENOPS_TOKENS_OUTPUT, pd_any_int(u->output))) ||
            (st = putk(it, K_GENOPS_TOKENS_TOTAL, pd_any_int(u->input + u->output))))
            return st;
    }
    if (((f & GOV_HAS_CACHE_READ) &&
         (st = putk(it, K_GENOPS_TOKENS_CACHE_READ, pd_any_int(u->cache_read)))) ||
        ((f & GOV_HAS_CACHE_WRITE) &&
         (st = putk(it, K_GENOPS_TOKENS_CACHE_WRITE, pd_any_int(u->cache_write)))) ||
        ((f & GOV_HAS_REASONING) &&
         (st = putk(it, K_GENOPS_TOKENS_REASONING, pd_any_int(u->reasoning)))))
        return st;
    /* gen_ai.* canonical keys when only aliases were present. When the input came without cached
     * tokens under the canonical key (Anthropic verbatim), writing canonical cache keys next to
     * it would describe the input as inclusive: then they are left as the producer wrote them. */
    bool canon_input = hask(it, K_GEN_AI_USAGE_INPUT_TOKENS);
    bool cache_ok = !(canon_input && (f & GOV_INPUT_CACHE_ADDED));
    if (u->provider.len && !hask(it, K_GEN_AI_PROVIDER_NAME) &&
        (st = putk(it, K_GEN_AI_PROVIDER_NAME, pd_any_str(u->provider))))
        return st;
    if (u->request_model.len && !hask(it, K_GEN_AI_REQUEST_MODEL) &&
        (st = putk(it, K_GEN_AI_REQUEST_MODEL, pd_any_str(u->request_model))))
        return st;
    if (u->response_model.len && !hask(it, K_GEN_AI_RESPONSE_MODEL) &&
        (st = putk(it, K_GEN_AI_RESPONSE_MODEL, pd_any_str(u->response_model))))
        return st;
    if ((st = put_count_if_absent(it, K_GEN_AI_USAGE_INPUT_TOKENS, f & GOV_HAS_INPUT, u->input)) ||
        (st = put_count_if_absent(it, K_GEN_AI_USAGE_OUTPUT_TOKENS, f & GOV_HAS_OUTPUT,
                                  u->output)) ||
        (st = put_count_if_absent(it, K_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
                                  cache_ok && (f & GOV_HAS_CACHE_READ), u->cache_read)) ||
        (st = put_count_if_absent(it, K_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
                                  cache_ok && (f & GOV_HAS_CACHE_WRITE), u->cache_write)) ||
        (st = put_count_if_absent(it, K_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, f & GOV_HAS_REASONING,
                                  u->reasoning)))
        return st;
    return GB_OK;
}

/* Status of a cost an earlier governance processor wrote. */
static gov_cost_status previous_status(const item *it)
{
    const pd_kv *kv = findk(it, K_GENOPS_COST_STATUS);
    if (kv && kv->value.type == PD_ANY_STR) {
        if (gb_str_eq_c(kv->value.u.str, "unpriced")) return GOV_COST_UNPRICED;
        if (gb_str_eq_c(kv->value.u.str, "estimated")) return GOV_COST_ESTIMATED;
    }
    return GOV_COST_PRICED;
}

static gb_status cost(item *it, const gov_usage *u, gov_cost *c)
{
    const governance_compiled *cc = &it->core->cc;
    gb_status st = gov_cost_compute_cached(cc->prices, u, it->start_ns, &cc->cost_opts, it->pc, c);
    if (st == GB_ERR_LIMIT) {
        gb_log(GB_LOG_WARN, it->core->id, "cost out of range (over 9.2 million USD): unpriced");
        st = GB_OK;
    }
    if (st) return st;
    bool kept = (u->flags & GOV_HAS_COST) && !cc->cost_opts.recompute;
    if (kept && u->cost_source.len == 9 && strncasecmp(u->cost_source.ptr, "collector", 9) == 0) {
        /* priced by a governance processor upstream: keep everything it wrote */
        c->source = GOV_SOURCE_COLLECTOR;
        c->status = previous_status(it);
        return GB_OK;
    }
    gb_str model = gov_usage_model(u);
    if (c->price && !model.len) model = gb_str_c(c->price->model);
    gb_str provider = u->provider;
    if (c->price && !provider.len) provider = gb_str_c(c->price->provider);
    if ((st = putk(it, K_GENOPS_COST_TOTAL, pd_any_double(gov_nusd_to_usd(c->total)))) ||
        (st = putk(it, K_GENOPS_COST_CURRENCY,
                   pd_any_str(kept && u->currency.len ? u->currency : L("USD")))) ||
        (st = putk(it, K_GENOPS_COST_SOURCE,
                   pd_any_str(gb_str_c(gov_cost_source_str(c->source))))) ||
        (st = putk(it, K_GENOPS_COST_STATUS,
                   pd_any_str(gb_str_c(gov_cost_status_str(c->status))))) ||
        (st = putk(it, K_GENOPS_COST_TIER,
                   pd_any_str(gb_str_c(gov_cost_tier(&cc->tiers, c->total))))))
        return st;
    if (provider.len && !hask(it, K_GENOPS_COST_PROVIDER) &&
        (st = putk(it, K_GENOPS_COST_PROVIDER, pd_any_str(provider))))
        return st;
    if (model.len && !hask(it, K_GENOPS_COST_MODEL) &&
        (st = putk(it, K_GENOPS_COST_MODEL, pd_any_str(model))))
        return st;
    if (kept) return GB_OK;
    if (c->pricing_version) {
        if (!it->pv->ptr &&
            (st = gb_arena_dup(it->arena, c->pricing_version, strlen(c->pricing_version), it->pv)))
            return st;
        if ((st = putk(it, K_GENOPS_COST_PRICING_VERSION, pd_any_str(*it->pv)))) return st;
    }
    if (c->status == GOV_COST_UNPRICED) return GB_OK;
    if ((st = putk(it, K_GENOPS_COST_INPUT, pd_any_double(gov_nusd_to_usd(c->input)))) ||
        (st = putk(it, K_GENOPS_COST_OUTPUT, pd_any_double(gov_nusd_to_usd(c->output)))) ||
        (st = putk(it, K_GENOPS_COST_CACHE_READ, pd_any_double(gov_nusd_to_usd(c->cache_read)))) ||
        (st = putk(it, K_GENOPS_COST_CACHE_WRITE, pd_any_double(gov_nusd_to_usd(c->cache_write)))))
        return st;
    return GB_OK;
}

/* ---- events ----------------------------------------------------------------------------- */

/* Appends n events to the span (arena); returns the first, zeroed, or NULL. */
static pd_event *add_events(item *it, uint32_t n)
{
    pd_span *sp = it->span;
    pd_event *ev = gb_arena_calloc(it->arena, sp->n_events + n, sizeof *ev);
    if (!ev) return NULL;
    if (sp->n_events) memcpy(ev, sp->events, sp->n_events * sizeof *ev);
    sp->events = ev;
    pd_event *first = &ev[sp->n_events];
    sp->n_events += n;
    return first;
}

/* ---- budgets ---------------------------------------------------------------------------- */

#define MAX_BUDGETS_PER_ITEM 64

static gb_status budget_attrs(item *it, pd_attrs *a, const gov_budget_state *s)
{
    gb_status st;
    gb_str name, window;
    if ((st = gb_arena_dup(it->arena, s->def->name, strlen(s->def->name), &name)) ||
        (st = gb_arena_dup(it->arena, s->window_id, strlen(s->window_id), &window)) ||
        (st = aputk(it, a, K_GENOPS_BUDGET_NAME, pd_any_str(name))) ||
        (st = aputk(it, a, K_GENOPS_BUDGET_LIMIT, pd_any_double(gov_nusd_to_usd(s->limit_nusd)))) ||
        (st = aputk(it, a, K_GENOPS_BUDGET_USED, pd_any_double(gov_nusd_to_usd(s->used_nusd)))) ||
        (st = aputk(it, a, K_GENOPS_BUDGET_REMAINING,
                    pd_any_double(gov_nusd_to_usd(s->remaining_nusd)))) ||
        (st = aputk(it, a, K_GENOPS_BUDGET_UTILIZATION, pd_any_double(s->utilization))) ||
        (st = aputk(it, a, K_GENOPS_BUDGET_WINDOW, pd_any_str(window))) ||
        (st = aputk(it, a, K_GENOPS_BUDGET_STATUS,
                    pd_any_str(gb_str_c(gov_budget_status_str(s->status))))))
        return st;
    if (s->def->group_by) {
        gb_str g;
        if ((st = gb_arena_dup(it->arena, s->group, strlen(s->group), &g)) ||
            (st = aputk(it, a, K_GENOPS_BUDGET_GROUP, pd_any_str(g))))
            return st;
    }
    return GB_OK;
}

static void budget_alert(const governance_core *core, const gov_budget_state *s)
{
    char thr[32];
    snprintf(thr, sizeof thr, "%g", s->crossed_threshold);
    if (s->def->group_by)
        gb_log(GB_LOG_WARN, core->id,
               "budget \"%s\" group \"%s\" window %s crossed %s%% (used %.2f USD of %.2f USD)",
               s->def->name, s->group, s->window_id, thr, gov_nusd_to_usd(s->used_nusd),
               gov_nusd_to_usd(s->limit_nusd));
    else
        gb_log(GB_LOG_WARN, core->id,
               "budget \"%s\" window %s crossed %s%% (used %.2f USD of %.2f USD)", s->def->name,
               s->window_id, thr, gov_nusd_to_usd(s->used_nusd), gov_nusd_to_usd(s->limit_nusd));
}

static gb_status budgets(item *it, const gov_cost *c)
{
    governance_core *core = it->core;
    if (!core->budgets) return GB_OK;
    gov_budget_state states[MAX_BUDGETS_PER_ITEM];
    uint32_t n = 0;
    int32_t best = -1;
    int64_t t = it->end_ns     ? (int64_t)(it->end_ns / 1000000000u)
                : it->start_ns ? (int64_t)(it->start_ns / 1000000000u)
                               : gb_now_ns() / 1000000000;
    static const pd_trace_id zt;
    static const pd_span_id zs;
    gb_status st = GB_OK;
    for (uint32_t i = 0; i < core->cc.n_budgets && n < MAX_BUDGETS_PER_ITEM; i++) {
        const gov_budget_def *def = &core->cc.budgets[i];
        if (!gov_budget_matches(def, it->attrs, it->res)) continue;
        gb_str group = gov_budget_group(def, it->attrs, it->res);
        int64_t amount = c->total > 0 ? c->total : 0;
        st = gov_budgets_charge(core->budgets, i, group, it->tid ? it->tid : &zt,
                                it->sid ? it->sid : &zs, t, amount, &states[n]);
        if (st) {
            gb_log(GB_LOG_ERROR, core->id, "budget \"%s\": charge failed: %s", def->name,
                   gb_status_str(st));
            st = GB_OK;
            continue;
        }
        if (states[n].crossed_threshold >= 0 && !states[n].duplicate)
            budget_alert(core, &states[n]);
        if (best < 0 || states[n].utilization > states[best].utilization) best = (int32_t)n;
        n++;
    }
    if (best < 0) return GB_OK;
    if ((st = budget_attrs(it, it->attrs, &states[best]))) return st;
    if (n >= 2 && it->span) {
        pd_event *ev = add_events(it, n);
        if (!ev) return GB_ERR_NOMEM;
        uint64_t when = it->end_ns ? it->end_ns : it->start_ns;
        for (uint32_t i = 0; i < n; i++) {
            ev[i].name = L("genops.budget.evaluated");
            ev[i].time_unix_nano = when;
            ev[i].attrs.v = gb_arena_alloc(it->arena, 8 * sizeof(pd_kv));
            ev[i].attrs.cap = ev[i].attrs.v ? 8 : 0;
            if ((st = budget_attrs(it, &ev[i].attrs, &states[i]))) return st;
        }
    }
    return GB_OK;
}

/* ---- policies --------------------------------------------------------------------------- */

/* The name and reason of an evaluation copied into the batch arena (the definitions may be gone
 * by the time the batch is exported; the reason is a stack buffer). */
typedef struct eval_text {
    gb_str name, reason;
} eval_text;

static gb_status eval_text_of(item *it, const gov_policy_eval *e, uint32_t i, eval_text *t)
{
    gb_status st;
    name_memo *nm = &it->names[i % NAME_MEMO];
    if (nm->def == e->def) {
        t->name = nm->name;
    } else {
        if ((st = gb_arena_dup(it->arena, e->def->name, strlen(e->def->name), &t->name))) return st;
        nm->def = e->def;
        nm->name = t->name;
    }
    return gb_arena_dup(it->arena, e->reason, strlen(e->reason), &t->reason);
}

static gb_status policy_attrs(item *it, pd_attrs *a, const gov_policy_eval *e, const eval_text *t)
{
    gb_status st;
    if ((st = aputk(it, a, K_GENOPS_POLICY_NAME, pd_any_str(t->name))) ||
        (st = aputk(it, a, K_GENOPS_POLICY_RESULT,
                    pd_any_str(gb_str_c(gov_policy_result_str(e->result))))) ||
        (st = aputk(it, a, K_GENOPS_POLICY_REASON, pd_any_str(t->reason))))
        return st;
    return GB_OK;
}

/* Replaces every content attribute by "[REDACTED]", and the body of a log record (a GenAI event
 * body is message content). */
static gb_status redact(item *it, pd_log *log)
{
    gb_status st = gov_policy_redact(it->arena, it->attrs, NULL);
    if (st == GB_OK && log && log->body.type != PD_ANY_EMPTY)
        log->body = pd_any_str(L("[REDACTED]"));
    return st;
}

static gb_status policies(item *it, gov_policies *set, const gov_usage *u, const gov_cost *c,
                          pd_log *log, bool *drop)
{
    if (!set) return GB_OK;
    gov_policy_eval evals[64]; /* at most 64 policies per processor (config) */
    uint32_t n = 0;
    int32_t worst = -1;
    bool want_drop = false, want_redact = false;
    gov_policy_input in = {.span = it->attrs,
                           .resource = it->res,
                           .usage = u,
                           .cost = c && c->status != GOV_COST_UNPRICED ? c : NULL,
                           .body = it->body,
                           .now_ns = gb_now_ns()};
    gb_status st = gov_policies_eval(set, &in, evals, &n, &worst, &want_drop, &want_redact);
    if (st) return st;
    if (worst < 0 || n == 0) return GB_OK;
    /* a result the application already recorded is kept unless ours is more severe */
    const pd_kv *prev = findk(it, K_GENOPS_POLICY_RESULT);
    gov_policy_result pr;
    bool keep_prev = prev && prev->value.type == PD_ANY_STR &&
                     gov_policy_result_parse(prev->value.u.str, &pr) && pr > evals[worst].result;
    /* each evaluation's text is copied once, shared by the item and its event */
    eval_text texts[64];
    bool events = n >= 2 && it->span;
    for (uint32_t i = 0; i < n; i++)
        if ((events || (i == (uint32_t)worst && !keep_prev)) &&
            (st = eval_text_of(it, &evals[i], i, &texts[i])))
            return st;
    if (!keep_prev && (st = policy_attrs(it, it->attrs, &evals[worst], &texts[worst]))) return st;
    if (events) {
        pd_event *ev = add_events(it, n);
        if (!ev) return GB_ERR_NOMEM;
        uint64_t when = it->end_ns ? it->end_ns : it->start_ns;
        for (uint32_t i = 0; i < n; i++) {
            ev[i].name = L("genops.policy.evaluated");
            ev[i].time_unix_nano = when;
            ev[i].attrs.v = gb_arena_alloc(it->arena, 3 * sizeof(pd_kv));
            ev[i].attrs.cap = ev[i].attrs.v ? 3 : 0;
            if ((st = policy_attrs(it, &ev[i].attrs, &evals[i], &texts[i]))) return st;
        }
    }
    if (want_redact && (st = redact(it, log))) return st;
    *drop = want_drop;
    return GB_OK;
}

/* A log record that is a GenAI event: event_name (or the older event.name attribute) under
 * "gen_ai.". */
static bool is_genai_event(const pd_log *log)
{
    if (gb_str_has_prefix(log->event_name, L("gen_ai."))) return true;
    const pd_kv *kv = pd_attrs_find(&log->attrs, L("event.name"));
    return kv && kv->value.type == PD_ANY_STR && gb_str_has_prefix(kv->value.u.str, L("gen_ai."));
}

/* ---- one item --------------------------------------------------------------------------- */

static gb_status process(item *it, bool *drop)
{
    pd_log *log = it->log;
    governance_core *core = it->core;
    gov_usage u;
    pthread_once(&out_once, out_index_build);
    gb_status st;
    if (!it->rc->usage_done) {
        if ((st = gov_normalize_resource(it->res, &it->rc->usage))) return st;
        it->rc->usage_done = true;
    }
    if ((st = gov_normalize_with(it->attrs, &it->rc->usage, &u))) return st;
    *drop = false;
    bool ai = u.request_model.len || u.response_model.len ||
              (u.flags & (GOV_HAS_INPUT | GOV_HAS_OUTPUT | GOV_HAS_CACHE_READ |
                          GOV_HAS_CACHE_WRITE | GOV_HAS_REASONING | GOV_HAS_COST));
    if (!ai && log && core->content_policies && is_genai_event(log)) {
        /* a GenAI event without usage (message content): attribution and the content_filter
         * policies only (the other kinds would judge a missing model or team) */
        if ((st = item_prepare(it, 16)) || (st = attribution(it, &u)) || (st = aliases(it)) ||
            (st = putk(it, K_GENOPS_GOVERNANCE_PROCESSED, pd_any_bool(true))))
            return st;
        return policies(it, core->content_policies, &u, NULL, log, drop);
    }
    if (!ai) {
        if (!has_genops_key(it->attrs)) return GB_OK;
        if ((st = item_prepare(it, 8)) || (st = aliases(it))) return st;
        return putk(it, K_GENOPS_GOVERNANCE_PROCESSED, pd_any_bool(true));
    }
    gov_cost c;
    if ((st = item_prepare(it, 40)) || (st = attribution(it, &u)) || (st = aliases(it)) ||
        (st = tokens(it, &u)) || (st = cost(it, &u, &c)) ||
        (st = putk(it, K_GENOPS_GOVERNANCE_PROCESSED, pd_any_bool(true))))
        return st;
    (*it->n_ops)++;
    if (c.status == GOV_COST_UNPRICED) (*it->n_unpriced)++;
    if ((st = budgets(it, &c)) || (st = policies(it, core->policies, &u, &c, log, drop))) return st;
    return GB_OK;
}

/* ---- batch walk ------------------------------------------------------------------------- */

/* The fields of an item taken from a span or a log record. */
static void item_of_span(item *it, pd_span *sp)
{
    it->attrs = &sp->attrs;
    it->tid = &sp->trace_id;
    it->sid = &sp->span_id;
    it->start_ns = sp->start_time_unix_nano;
    it->end_ns = sp->end_time_unix_nano;
    it->span = sp;
    it->sig = PD_TRACES;
}

static void item_of_log(item *it, pd_log *lg)
{
    uint64_t t = lg->time_unix_nano ? lg->time_unix_nano : lg->observed_time_unix_nano;
    it->attrs = &lg->attrs;
    it->tid = &lg->trace_id;
    it->sid = &lg->span_id;
    it->start_ns = it->end_ns = t;
    it->body = lg->body.type == PD_ANY_STR ? lg->body.u.str : GB_STR_NULL;
    it->log = lg;
    it->sig = PD_LOGS;
}

/* Traces and logs are walked alike: resource -> scope -> item, processing each item and
 * compacting the arrays in place when a policy drops items (a scope or resource left empty by
 * drops goes too; one that was empty on arrival stays). */
#define DEFINE_WALK(FN, SIG, SIGNAL, RES, SCOPE, SCOPES, N_SCOPES, ITEMS, N_ITEMS, INIT)           \
    static gb_status FN(governance_core *core, pd_batch *b, uint64_t *dropped)                     \
    {                                                                                              \
        gb_status st = GB_OK;                                                                      \
        gb_str pv = GB_STR_NULL;                                                                   \
        gov_price_cache pc;                                                                        \
        pc.p = NULL;                                                                               \
        name_memo names[NAME_MEMO];                                                                \
        memset(names, 0, sizeof names);                                                            \
        uint64_t n_ops = 0, n_unpriced = 0;                                                        \
        uint32_t rn = 0;                                                                           \
        for (uint32_t i = 0; st == GB_OK && i < b->u.SIG.n; i++) {                                 \
            RES *r = &b->u.SIG.v[i];                                                               \
            res_cache rc = {0};                                                                    \
            uint32_t sn = 0;                                                                       \
            bool had_items = false;                                                                \
            for (uint32_t j = 0; st == GB_OK && j < r->N_SCOPES; j++) {                            \
                SCOPE *sc = &r->SCOPES[j];                                                         \
                uint32_t kept = 0;                                                                 \
                if (sc->N_ITEMS) had_items = true;                                                 \
                for (uint32_t k = 0; k < sc->N_ITEMS; k++) {                                       \
                    item it = {.core = core,                                                       \
                               .arena = &b->arena,                                                 \
                               .res = &r->resource.attrs,                                          \
                               .rc = &rc,                                                          \
                               .pv = &pv,                                                          \
                               .pc = &pc,                                                          \
                               .names = names,                                                     \
                               .n_ops = &n_ops,                                                    \
                               .n_unpriced = &n_unpriced};                                         \
                    INIT(&it, &sc->ITEMS[k]);                                                      \
                    bool drop = false;                                                             \
                    if (st == GB_OK) st = process(&it, &drop);                                     \
                    if (drop) {                                                                    \
                        (*dropped)++;                                                              \
                        continue;                                                                  \
                    }                                                                              \
                    if (kept != k) sc->ITEMS[kept] = sc->ITEMS[k];                                 \
                    kept++;                                                                        \
                }                                                                                  \
                bool emptied = sc->N_ITEMS && !kept;                                               \
                sc->N_ITEMS = kept;                                                                \
                if (emptied) continue;                                                             \
                if (sn != j) r->SCOPES[sn] = *sc;                                                  \
                sn++;                                                                              \
            }                                                                                      \
            r->N_SCOPES = sn;                                                                      \
            if (had_items && sn == 0) continue;                                                    \
            if (rn != i) b->u.SIG.v[rn] = *r;                                                      \
            rn++;                                                                                  \
        }                                                                                          \
        b->u.SIG.n = rn;                                                                           \
        if (n_ops) gb_series_add(core->m_operations[SIGNAL], n_ops);                               \
        if (n_unpriced) gb_series_add(core->m_unpriced[SIGNAL], n_unpriced);                       \
        return st;                                                                                 \
    }

DEFINE_WALK(apply_traces, traces, PD_TRACES, pd_resource_spans, pd_scope_spans, scope_spans,
            n_scope_spans, spans, n_spans, item_of_span)
DEFINE_WALK(apply_logs, logs, PD_LOGS, pd_resource_logs, pd_scope_logs, scope_logs, n_scope_logs,
            logs, n_logs, item_of_log)

void governance_apply_init(governance_compiled *cc)
{
    pthread_once(&out_once, out_index_build);
    cc->n_foreign = 0;
    cc->foreign_len_mask = 0;
    for (int f = 0; f < GOVERNANCE_N_ATTR; f++) {
        governance_attr *a = &cc->attrs[f];
        for (uint32_t s = 0; s < a->n_sources; s++) {
            gb_str src = a->sources[s];
            a->source_out[s] = (int8_t)out_index(src);
            a->source_foreign[s] = -1;
            if (a->source_out[s] >= 0 || gb_str_has_prefix(src, L("genops."))) continue;
            uint32_t j = 0;
            while (j < cc->n_foreign && !gb_str_eq(cc->foreign[j], src))
                j++;
            if (j == cc->n_foreign) {
                if (j == GOVERNANCE_MAX_FOREIGN) continue; /* searched (pd_attrs_find) */
                cc->foreign[cc->n_foreign++] = src;
                cc->foreign_len_mask |= 1ull << (src.len % 64);
            }
            a->source_foreign[s] = (int8_t)j;
        }
    }
}

gb_status governance_apply(governance_core *core, pd_batch *b, uint64_t *dropped)
{
    *dropped = 0;
    switch (b->signal) {
    case PD_TRACES:
        return apply_traces(core, b, dropped);
    case PD_LOGS:
        return apply_logs(core, b, dropped);
    default:
        return GB_OK; /* metrics pass through */
    }
}
