/* ledger exporter: turns priced spans and log records into ledger rows.
 *
 * What: a span or log record is a priced AI operation when it carries genops.cost.status or
 * genops.cost.total (written by the governance processor, GOVERNANCE.md 1). Its row holds the
 * attribution (span first, then resource), provider and model (genops.cost.* first, then the
 * gen_ai.* names), token counts, the cost in exact nano-USD, the cost/policy/budget annotations
 * and the resource's service.name.
 *
 * How: one pass over each attribute list; every key is looked up once in a small open-addressing
 * table of the ~45 keys the ledger reads (hash of the key, then one memcmp), and a pointer to its
 * value is kept per key. The resource list is scanned once per resource, not per span. Text is
 * copied into the chunk's byte array (the batch is released as soon as consume returns), so the
 * only allocations are the amortized growth of the chunk's two arrays.
 *
 * Records without a trace and span id (log records, mostly) are keyed by a 128-bit content hash
 * (two independent FNV-1a-style 64-bit hashes over the signal, times, name, body and every
 * attribute, recursively), so a retried request that carries the same records maps to the same
 * keys and is ignored by the database.
 *
 * Rejected: gov_normalize (it reads the raw producer conventions and does the normalization the
 * processor already did; the ledger stores what the processor decided) and a per-key linear scan
 * (45 string compares per attribute). */
#include "ledger_row.h"

#include "governance/gov.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- columns ----------------------------------------------------------------------------------
 */

const char *const ledger_text_cols[LS_COUNT] = {
    "team",        "customer_id",   "project",     "environment",     "feature",
    "cost_center", "user_id",       "provider",    "model",           "operation",
    "currency",    "cost_source",   "cost_status", "pricing_version", "cost_tier",
    "policy_name", "policy_result", "budget_name", "budget_window",   "service_name",
};

const char *const ledger_int_cols[LI_COUNT] = {
    "tokens_input",
    "tokens_output",
    "tokens_cache_read",
    "tokens_cache_write",
    "tokens_reasoning",
    "tokens_total",
    "cost_nusd",
    "cost_input_nusd",
    "cost_output_nusd",
    "cost_cache_read_nusd",
    "cost_cache_write_nusd",
};

/* ---- keys -------------------------------------------------------------------------------------
 */

enum {
    K_TEAM = 0,
    K_CUSTOMER_ID,
    K_PROJECT,
    K_ENVIRONMENT,
    K_FEATURE,
    K_COST_CENTER,
    K_USER_ID,
    K_CUSTOMER, /* alias of customer_id (guide spelling) */
    K_SERVICE_NAME,
    K_N_RESOURCE, /* keys above are also read from the resource */
    K_COST_PROVIDER = K_N_RESOURCE,
    K_GENAI_PROVIDER,
    K_COST_MODEL,
    K_RESPONSE_MODEL,
    K_REQUEST_MODEL,
    K_OPERATION,
    K_TOK_INPUT,
    K_TOK_OUTPUT,
    K_TOK_CACHE_READ,
    K_TOK_CACHE_WRITE,
    K_TOK_REASONING,
    K_TOK_TOTAL,
    K_USAGE_INPUT,
    K_USAGE_OUTPUT,
    K_USAGE_CACHE_READ,
    K_USAGE_CACHE_WRITE,
    K_USAGE_REASONING,
    K_COST_TOTAL,
    K_COST_INPUT,
    K_COST_OUTPUT,
    K_COST_CACHE_READ,
    K_COST_CACHE_WRITE,
    K_CURRENCY,
    K_COST_SOURCE,
    K_COST_STATUS,
    K_PRICING_VERSION,
    K_COST_TIER,
    K_POLICY_NAME,
    K_POLICY_RESULT,
    K_BUDGET_NAME,
    K_BUDGET_WINDOW,
    K_COUNT
};

static const char *const k_names[K_COUNT] = {
    [K_TEAM] = "genops.team",
    [K_CUSTOMER_ID] = "genops.customer_id",
    [K_PROJECT] = "genops.project",
    [K_ENVIRONMENT] = "genops.environment",
    [K_FEATURE] = "genops.feature",
    [K_COST_CENTER] = "genops.cost_center",
    [K_USER_ID] = "genops.user_id",
    [K_CUSTOMER] = "genops.customer",
    [K_SERVICE_NAME] = "service.name",
    [K_COST_PROVIDER] = "genops.cost.provider",
    [K_GENAI_PROVIDER] = "gen_ai.provider.name",
    [K_COST_MODEL] = "genops.cost.model",
    [K_RESPONSE_MODEL] = "gen_ai.response.model",
    [K_REQUEST_MODEL] = "gen_ai.request.model",
    [K_OPERATION] = "genops.operation.name",
    [K_TOK_INPUT] = "genops.tokens.input",
    [K_TOK_OUTPUT] = "genops.tokens.output",
    [K_TOK_CACHE_READ] = "genops.tokens.cache_read",
    [K_TOK_CACHE_WRITE] = "genops.tokens.cache_write",
    [K_TOK_REASONING] = "genops.tokens.reasoning",
    [K_TOK_TOTAL] = "genops.tokens.total",
    [K_USAGE_INPUT] = "gen_ai.usage.input_tokens",
    [K_USAGE_OUTPUT] = "gen_ai.usage.output_tokens",
    [K_USAGE_CACHE_READ] = "gen_ai.usage.cache_read.input_tokens",
    [K_USAGE_CACHE_WRITE] = "gen_ai.usage.cache_creation.input_tokens",
    [K_USAGE_REASONING] = "gen_ai.usage.reasoning.output_tokens",
    [K_COST_TOTAL] = "genops.cost.total",
    [K_COST_INPUT] = "genops.cost.input",
    [K_COST_OUTPUT] = "genops.cost.output",
    [K_COST_CACHE_READ] = "genops.cost.cache_read",
    [K_COST_CACHE_WRITE] = "genops.cost.cache_write",
    [K_CURRENCY] = "genops.cost.currency",
    [K_COST_SOURCE] = "genops.cost.source",
    [K_COST_STATUS] = "genops.cost.status",
    [K_PRICING_VERSION] = "genops.cost.pricing_version",
    [K_COST_TIER] = "genops.cost.tier",
    [K_POLICY_NAME] = "genops.policy.name",
    [K_POLICY_RESULT] = "genops.policy.result",
    [K_BUDGET_NAME] = "genops.budget.name",
    [K_BUDGET_WINDOW] = "genops.budget.window",
};

#define KH_SIZE 256 /* power of two, > 4 x K_COUNT */
static int8_t k_hash[KH_SIZE];
static pthread_once_t k_once = PTHREAD_ONCE_INIT;

static void k_build(void)
{
    memset(k_hash, -1, sizeof k_hash);
    for (int k = 0; k < K_COUNT; k++) {
        size_t h = gb_hash_bytes(k_names[k], strlen(k_names[k])) & (KH_SIZE - 1);
        while (k_hash[h] >= 0)
            h = (h + 1) & (KH_SIZE - 1);
        k_hash[h] = (int8_t)k;
    }
}

static int k_lookup(gb_str key)
{
    /* every key the ledger reads starts with 'g' (genops., gen_ai.) or 's' (service.name) */
    if (key.len < 11 || (key.ptr[0] != 'g' && key.ptr[0] != 's')) return -1;
    size_t h = gb_hash_bytes(key.ptr, key.len) & (KH_SIZE - 1);
    for (;;) {
        int k = k_hash[h];
        if (k < 0) return -1;
        if (gb_str_eq_c(key, k_names[k])) return k;
        h = (h + 1) & (KH_SIZE - 1);
    }
}

typedef struct slots {
    const pd_any *v[K_COUNT];
} slots;

static void scan(const pd_attrs *a, slots *s, int limit)
{
    memset(s, 0, sizeof *s);
    for (uint32_t i = 0; i < a->n; i++) {
        int k = k_lookup(a->v[i].key);
        if (k >= 0 && k < limit && !s->v[k]) s->v[k] = &a->v[i].value;
    }
}

/* ---- value conversion -------------------------------------------------------------------------
 */

/* Token count: int, integral double, or decimal string; >= 0. */
static bool to_count(const pd_any *v, int64_t *out)
{
    if (!v) return false;
    switch (v->type) {
    case PD_ANY_INT:
        if (v->u.i < 0) return false;
        *out = v->u.i;
        return true;
    case PD_ANY_DOUBLE:
        if (!(v->u.d >= 0 && v->u.d < 9.2e18) || v->u.d != floor(v->u.d)) return false;
        *out = (int64_t)v->u.d;
        return true;
    case PD_ANY_STR: {
        int64_t n = 0;
        if (v->u.str.len == 0 || v->u.str.len > 18) return false;
        for (uint32_t i = 0; i < v->u.str.len; i++) {
            char ch = v->u.str.ptr[i];
            if (ch < '0' || ch > '9') return false;
            n = n * 10 + (ch - '0');
        }
        *out = n;
        return true;
    }
    default:
        return false;
    }
}

/* ---- content hash -----------------------------------------------------------------------------
 */

typedef struct hash2 {
    uint64_t a, b;
} hash2;

static void h_bytes(hash2 *h, const void *p, size_t n)
{
    const uint8_t *c = p;
    uint64_t a = h->a, b = h->b;
    for (size_t i = 0; i < n; i++) {
        a = (a ^ c[i]) * 1099511628211ULL;
        b = (b ^ c[i]) * 0x9e3779b97f4a7c15ULL;
        b ^= b >> 29;
    }
    h->a = a;
    h->b = b;
}

static void h_u64(hash2 *h, uint64_t v)
{
    h_bytes(h, &v, sizeof v);
}

static void h_str(hash2 *h, gb_str s)
{
    h_u64(h, s.len);
    if (s.len) h_bytes(h, s.ptr, s.len);
}

static void h_attrs(hash2 *h, const pd_kv *kv, uint32_t n, int depth);

static void h_any(hash2 *h, const pd_any *v, int depth)
{
    h_u64(h, (uint64_t)v->type);
    switch (v->type) {
    case PD_ANY_STR:
    case PD_ANY_BYTES:
        h_str(h, v->u.str);
        break;
    case PD_ANY_BOOL:
        h_u64(h, v->u.b);
        break;
    case PD_ANY_INT:
        h_u64(h, (uint64_t)v->u.i);
        break;
    case PD_ANY_DOUBLE:
        h_bytes(h, &v->u.d, sizeof v->u.d);
        break;
    case PD_ANY_ARRAY:
        h_u64(h, v->u.arr.n);
        if (depth < 32)
            for (uint32_t i = 0; i < v->u.arr.n; i++)
                h_any(h, &v->u.arr.v[i], depth + 1);
        break;
    case PD_ANY_KVLIST:
        if (depth < 32) h_attrs(h, v->u.kvl.v, v->u.kvl.n, depth + 1);
        break;
    default:
        break;
    }
}

static void h_attrs(hash2 *h, const pd_kv *kv, uint32_t n, int depth)
{
    h_u64(h, n);
    for (uint32_t i = 0; i < n; i++) {
        h_str(h, kv[i].key);
        h_any(h, &kv[i].value, depth);
    }
}

/* ---- chunk ------------------------------------------------------------------------------------
 */

void ledger_chunk_reset(ledger_chunk *ch)
{
    ch->n = 0;
    ch->blen = 0;
    ch->done = 0;
}

void ledger_chunk_free(ledger_chunk *ch)
{
    free(ch->rows);
    free(ch->bytes);
    memset(ch, 0, sizeof *ch);
}

static gb_status chunk_row(ledger_chunk *ch, ledger_row **out)
{
    if (ch->n == ch->cap) {
        size_t nc = ch->cap ? ch->cap * 2 : 256;
        ledger_row *r = realloc(ch->rows, nc * sizeof *r);
        if (!r) return GB_ERR_NOMEM;
        ch->rows = r;
        ch->cap = nc;
    }
    ledger_row *r = &ch->rows[ch->n++];
    memset(r, 0, offsetof(ledger_row, soff));
    for (int i = 0; i < LS_COUNT; i++)
        r->slen[i] = LEDGER_ABSENT;
    *out = r;
    return GB_OK;
}

static gb_status put_text(ledger_chunk *ch, ledger_row *r, int col, gb_str s)
{
    if (ch->blen + s.len >= UINT32_MAX) return GB_ERR_LIMIT;
    if (ch->blen + s.len > ch->bcap) {
        size_t nc = ch->bcap ? ch->bcap : 16384;
        while (nc < ch->blen + s.len)
            nc *= 2;
        char *b = realloc(ch->bytes, nc);
        if (!b) return GB_ERR_NOMEM;
        ch->bytes = b;
        ch->bcap = nc;
    }
    if (s.len) memcpy(ch->bytes + ch->blen, s.ptr, s.len);
    r->soff[col] = (uint32_t)ch->blen;
    r->slen[col] = s.len;
    ch->blen += s.len;
    return GB_OK;
}

/* ---- extraction -------------------------------------------------------------------------------
 */

typedef struct rec {
    const slots *own; /* the record's attributes */
    const slots *res; /* the resource's (attribution keys and service.name) */
    gb_str name;      /* span name / log event name: the operation when genops.operation.name is
                         absent */
} rec;

static const pd_any *first(const pd_any *a, const pd_any *b)
{
    return a ? a : b;
}

static gb_status put_any(ledger_chunk *ch, ledger_row *r, int col, const pd_any *v)
{
    char tmp[PD_ANY_TEXT_MAX];
    gb_str s;
    if (!v || !pd_any_scalar_text(v, tmp, &s)) return GB_OK;
    return put_text(ch, r, col, s);
}

static gb_status fill(ledger_chunk *ch, ledger_row *r, const rec *x)
{
    const pd_any *const *o = x->own->v;
    const pd_any *const *rs = x->res->v;
    gb_status rc = GB_OK;
    static const struct {
        int key, col;
    } attribution[] = {
        {K_TEAM, LS_TEAM},       {K_PROJECT, LS_PROJECT},         {K_ENVIRONMENT, LS_ENVIRONMENT},
        {K_FEATURE, LS_FEATURE}, {K_COST_CENTER, LS_COST_CENTER}, {K_USER_ID, LS_USER_ID},
    };
    for (size_t i = 0; i < sizeof attribution / sizeof attribution[0] && rc == GB_OK; i++)
        rc = put_any(ch, r, attribution[i].col,
                     first(o[attribution[i].key], rs[attribution[i].key]));
    if (rc != GB_OK) return rc;
    const pd_any *cust = o[K_CUSTOMER_ID]    ? o[K_CUSTOMER_ID]
                         : o[K_CUSTOMER]     ? o[K_CUSTOMER]
                         : rs[K_CUSTOMER_ID] ? rs[K_CUSTOMER_ID]
                                             : rs[K_CUSTOMER];
    if ((rc = put_any(ch, r, LS_CUSTOMER_ID, cust)) != GB_OK) return rc;
    if ((rc = put_any(ch, r, LS_PROVIDER, first(o[K_COST_PROVIDER], o[K_GENAI_PROVIDER]))) != GB_OK)
        return rc;
    const pd_any *model = o[K_COST_MODEL]       ? o[K_COST_MODEL]
                          : o[K_RESPONSE_MODEL] ? o[K_RESPONSE_MODEL]
                                                : o[K_REQUEST_MODEL];
    if ((rc = put_any(ch, r, LS_MODEL, model)) != GB_OK) return rc;
    if (o[K_OPERATION])
        rc = put_any(ch, r, LS_OPERATION, o[K_OPERATION]);
    else if (x->name.len)
        rc = put_text(ch, r, LS_OPERATION, x->name);
    if (rc != GB_OK) return rc;
    static const struct {
        int key, col;
    } plain[] = {
        {K_CURRENCY, LS_CURRENCY},           {K_COST_SOURCE, LS_COST_SOURCE},
        {K_COST_STATUS, LS_COST_STATUS},     {K_PRICING_VERSION, LS_PRICING_VERSION},
        {K_COST_TIER, LS_COST_TIER},         {K_POLICY_NAME, LS_POLICY_NAME},
        {K_POLICY_RESULT, LS_POLICY_RESULT}, {K_BUDGET_NAME, LS_BUDGET_NAME},
        {K_BUDGET_WINDOW, LS_BUDGET_WINDOW},
    };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0] && rc == GB_OK; i++)
        rc = put_any(ch, r, plain[i].col, o[plain[i].key]);
    if (rc != GB_OK) return rc;
    if ((rc = put_any(ch, r, LS_SERVICE_NAME, rs[K_SERVICE_NAME])) != GB_OK) return rc;

    static const struct {
        int key, alt, col;
    } tokens[] = {
        {K_TOK_INPUT, K_USAGE_INPUT, LI_TOKENS_INPUT},
        {K_TOK_OUTPUT, K_USAGE_OUTPUT, LI_TOKENS_OUTPUT},
        {K_TOK_CACHE_READ, K_USAGE_CACHE_READ, LI_TOKENS_CACHE_READ},
        {K_TOK_CACHE_WRITE, K_USAGE_CACHE_WRITE, LI_TOKENS_CACHE_WRITE},
        {K_TOK_REASONING, K_USAGE_REASONING, LI_TOKENS_REASONING},
        {K_TOK_TOTAL, -1, LI_TOKENS_TOTAL},
    };
    for (size_t i = 0; i < sizeof tokens / sizeof tokens[0]; i++) {
        int64_t n;
        if (to_count(o[tokens[i].key], &n) ||
            (tokens[i].alt >= 0 && to_count(o[tokens[i].alt], &n))) {
            r->iv[tokens[i].col] = n;
            r->int_set |= 1u << tokens[i].col;
        }
    }
    const uint32_t io = (1u << LI_TOKENS_INPUT) | (1u << LI_TOKENS_OUTPUT);
    if (!(r->int_set & (1u << LI_TOKENS_TOTAL)) && (r->int_set & io)) {
        r->iv[LI_TOKENS_TOTAL] = r->iv[LI_TOKENS_INPUT] + r->iv[LI_TOKENS_OUTPUT];
        r->int_set |= 1u << LI_TOKENS_TOTAL;
    }
    static const struct {
        int key, col;
    } costs[] = {
        {K_COST_TOTAL, LI_COST},
        {K_COST_INPUT, LI_COST_INPUT},
        {K_COST_OUTPUT, LI_COST_OUTPUT},
        {K_COST_CACHE_READ, LI_COST_CACHE_READ},
        {K_COST_CACHE_WRITE, LI_COST_CACHE_WRITE},
    };
    for (size_t i = 0; i < sizeof costs / sizeof costs[0]; i++) {
        int64_t v;
        if (o[costs[i].key] && gov_usd_to_nusd(o[costs[i].key], &v) == GB_OK) {
            r->iv[costs[i].col] = v;
            r->int_set |= 1u << costs[i].col;
        }
    }
    return GB_OK;
}

static bool over(const ledger_chunk *ch, size_t max_rows, size_t max_bytes)
{
    return ch->n > max_rows || ch->blen > max_bytes;
}

/* Appends the row of one priced record; h is its content hash when it lacks ids (else NULL). */
static gb_status add_one(ledger_chunk *ch, const rec *x, uint8_t signal, uint64_t time,
                         const pd_trace_id *tid, const pd_span_id *sid, const hash2 *h,
                         size_t max_rows, size_t max_bytes, uint64_t *added)
{
    ledger_row *r;
    gb_status rc = chunk_row(ch, &r);
    if (rc != GB_OK) return rc;
    r->signal = signal;
    r->time = (int64_t)time;
    memcpy(r->trace_id, tid->b, 16);
    memcpy(r->span_id, sid->b, 8);
    if (h) {
        r->by_hash = 1;
        r->hash[0] = h->a;
        r->hash[1] = h->b;
    }
    if ((rc = fill(ch, r, x)) != GB_OK) return rc;
    (*added)++;
    return over(ch, max_rows, max_bytes) ? GB_ERR_LIMIT : GB_OK;
}

static const hash2 k_hash_seed = {1469598103934665603ULL, 0x6a09e667f3bcc908ULL};

static gb_status add_spans(ledger_chunk *ch, const pd_batch *b, size_t max_rows, size_t max_bytes,
                           uint64_t *added)
{
    slots res, own;
    for (uint32_t i = 0; i < b->u.traces.n; i++) {
        const pd_resource_spans *rs = &b->u.traces.v[i];
        bool res_scanned = false;
        for (uint32_t j = 0; j < rs->n_scope_spans; j++) {
            const pd_scope_spans *ss = &rs->scope_spans[j];
            for (uint32_t k = 0; k < ss->n_spans; k++) {
                const pd_span *sp = &ss->spans[k];
                scan(&sp->attrs, &own, K_COUNT);
                if (!own.v[K_COST_STATUS] && !own.v[K_COST_TOTAL]) continue;
                if (!res_scanned) {
                    scan(&rs->resource.attrs, &res, K_N_RESOURCE);
                    res_scanned = true;
                }
                hash2 h = k_hash_seed, *hp = NULL;
                if (pd_trace_id_is_empty(&sp->trace_id) || pd_span_id_is_empty(&sp->span_id)) {
                    h_u64(&h, LEDGER_SPAN);
                    h_u64(&h, sp->start_time_unix_nano);
                    h_u64(&h, sp->end_time_unix_nano);
                    h_str(&h, sp->name);
                    h_bytes(&h, sp->trace_id.b, 16);
                    h_attrs(&h, sp->attrs.v, sp->attrs.n, 0);
                    h_attrs(&h, rs->resource.attrs.v, rs->resource.attrs.n, 0);
                    hp = &h;
                }
                rec x = {&own, &res, sp->name};
                uint64_t t =
                    sp->end_time_unix_nano ? sp->end_time_unix_nano : sp->start_time_unix_nano;
                gb_status rc = add_one(ch, &x, LEDGER_SPAN, t, &sp->trace_id, &sp->span_id, hp,
                                       max_rows, max_bytes, added);
                if (rc != GB_OK) return rc;
            }
        }
    }
    return GB_OK;
}

static gb_status add_logs(ledger_chunk *ch, const pd_batch *b, size_t max_rows, size_t max_bytes,
                          uint64_t *added)
{
    slots res, own;
    for (uint32_t i = 0; i < b->u.logs.n; i++) {
        const pd_resource_logs *rl = &b->u.logs.v[i];
        bool res_scanned = false;
        for (uint32_t j = 0; j < rl->n_scope_logs; j++) {
            const pd_scope_logs *sl = &rl->scope_logs[j];
            for (uint32_t k = 0; k < sl->n_logs; k++) {
                const pd_log *lg = &sl->logs[k];
                scan(&lg->attrs, &own, K_COUNT);
                if (!own.v[K_COST_STATUS] && !own.v[K_COST_TOTAL]) continue;
                if (!res_scanned) {
                    scan(&rl->resource.attrs, &res, K_N_RESOURCE);
                    res_scanned = true;
                }
                hash2 h = k_hash_seed, *hp = NULL;
                if (pd_trace_id_is_empty(&lg->trace_id) || pd_span_id_is_empty(&lg->span_id)) {
                    h_u64(&h, LEDGER_LOG);
                    h_u64(&h, lg->time_unix_nano);
                    h_u64(&h, lg->observed_time_unix_nano);
                    h_u64(&h, (uint64_t)lg->severity_number);
                    h_str(&h, lg->event_name);
                    h_bytes(&h, lg->trace_id.b, 16);
                    h_any(&h, &lg->body, 0);
                    h_attrs(&h, lg->attrs.v, lg->attrs.n, 0);
                    h_attrs(&h, rl->resource.attrs.v, rl->resource.attrs.n, 0);
                    hp = &h;
                }
                rec x = {&own, &res, lg->event_name};
                uint64_t t = lg->time_unix_nano ? lg->time_unix_nano : lg->observed_time_unix_nano;
                gb_status rc = add_one(ch, &x, LEDGER_LOG, t, &lg->trace_id, &lg->span_id, hp,
                                       max_rows, max_bytes, added);
                if (rc != GB_OK) return rc;
            }
        }
    }
    return GB_OK;
}

gb_status ledger_extract(ledger_chunk *ch, const pd_batch *b, size_t max_rows, size_t max_bytes,
                         uint64_t *added)
{
    pthread_once(&k_once, k_build);
    *added = 0;
    if (b->signal == PD_TRACES) return add_spans(ch, b, max_rows, max_bytes, added);
    if (b->signal == PD_LOGS) return add_logs(ch, b, max_rows, max_bytes, added);
    return GB_OK;
}
