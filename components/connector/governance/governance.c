/* governance connector (traces -> metrics, logs -> metrics).
 *
 * What: reads the governance attributes the governance processor (or an SDK) wrote on spans and
 * log records (GOVERNANCE.md 1) and keeps cumulative metrics (GOVERNANCE.md 7): genops.cost,
 * genops.tokens{type}, genops.operations, genops.unpriced_operations, genops.policy.evaluations,
 * genops.policy.violations, genops.budget.limit/used/utilization (gauges, latest by span end
 * time) and genops.eval.score (histogram). They are emitted every metrics_flush_interval and once
 * at shutdown, with start_time = connector start.
 *
 * How: one accumulator per connector ID, shared by its traces and logs instances (the graph
 * makes one instance per input signal; two accumulators would emit two conflicting cumulative
 * series with the same identity). It is found through a process-wide list keyed by the bound
 * config pointer, which both instances share. A series is (metric, label value ids); label values
 * are interned strings. Money is summed in int64 nano-USD (each double rounded once), emitted as
 * double USD, so sums are exact whatever the order of arrival.
 *
 * Cardinality: per metric and label, the first top_k distinct values seen keep their slot for the
 * connector's lifetime; later values are reported as "other". Rejected: re-ranking by cumulative
 * value at each flush — moving a value into or out of "other" would make the cumulative series of
 * both go backwards or jump, which Prometheus reads as counter resets. Once max_series series
 * exist, new combinations aggregate into one series per metric whose labels are all "other".
 * Values are interned only when admitted, so memory is bounded by top_k and max_series.
 *
 * Threads: consume runs on receiver threads and applies a whole batch under one mutex (taken once
 * per batch; an item's attributes are read through a one-pass index of the ~40 keys used, so the
 * per-span work under the lock is index reads and hash probes). The flush thread builds the
 * batch under the lock (a walk over the series) and hands it downstream outside it.
 * A per-batch memo keeps the series each lookup site (metric, slot) found last, with its label
 * ids: a span whose values equal the interned strings of those ids skips hashing and probing
 * (policy names, budget names and token types repeat on every span).
 * Rejected: a cache of dimension tuples -> series (the tuples hardly repeat on real payloads; it
 * cost more than it saved). */
#include "governance.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/telemetry.h"
#include "base/timeutil.h"
#include "connector/connutil/connutil.h"
#include "governance/gov.h"
#include "governance/gov_seen.h"

/* ---- config ------------------------------------------------------------------------------ */

typedef struct gvc_dim {
    char name[128];
    char def[128];
    bool has_def;
} gvc_dim;

typedef struct gvc_parsed {
    gvc_dim dims[GVC_MAX_DIMS];
    uint32_t n_dims;
    double bounds[GVC_MAX_BOUNDS];
    uint32_t n_bounds;
} gvc_parsed;

static const char *const k_default_dims[] = {"genops.team",          "genops.customer_id",
                                             "genops.project",       "genops.environment",
                                             "genops.cost.provider", "genops.cost.model"};

static bool parse_double(const char *s, double *out)
{
    char *end = NULL;
    if (!s || !*s) return false;
    double v = strtod(s, &end);
    if (!end || *end || !isfinite(v)) return false;
    *out = v;
    return true;
}

/* Parses dimensions and buckets; diagnostics to d when not NULL. */
static gb_status gvc_parse(const gvc_cfg *cfg, const char *path, gvc_parsed *out, cfg_diags *d)
{
    gb_status st = GB_OK;
    memset(out, 0, sizeof *out);
    const cfg_node *dims = cfg->dimensions;
    if (!dims || cfg_node_is_null(dims)) {
        for (size_t i = 0; i < sizeof k_default_dims / sizeof k_default_dims[0]; i++)
            snprintf(out->dims[out->n_dims++].name, sizeof out->dims[0].name, "%s",
                     k_default_dims[i]);
    } else if (dims->kind != CFG_NODE_SEQ) {
        if (d)
            cfg_diag_add(d, CFG_ERROR, dims->mark, path,
                         "dimensions: expected a list of attribute names or {name, default}");
        st = GB_ERR_INVALID;
    } else {
        for (uint32_t i = 0; i < dims->n_items; i++) {
            const cfg_node *it = dims->items[i];
            const char *name = NULL, *def = NULL;
            if (it->kind == CFG_NODE_SCALAR) {
                name = it->scalar;
            } else if (it->kind == CFG_NODE_MAP) {
                for (uint32_t k = 0; k < it->n_pairs; k++) {
                    const cfg_pair *p = &it->pairs[k];
                    if (strcmp(p->key, "name") == 0)
                        name = cfg_node_scalar(p->value);
                    else if (strcmp(p->key, "default") == 0)
                        def = cfg_node_scalar(p->value);
                    else {
                        if (d)
                            cfg_diag_add(d, CFG_ERROR, p->key_mark, path,
                                         "dimensions[%u]: unknown key \"%s\" (want name, default)",
                                         i, p->key);
                        st = GB_ERR_INVALID;
                    }
                }
            }
            if (!name || !*name) {
                if (d)
                    cfg_diag_add(d, CFG_ERROR, it->mark, path,
                                 "dimensions[%u]: expected an attribute name or {name, default}",
                                 i);
                st = GB_ERR_INVALID;
                continue;
            }
            if (out->n_dims == GVC_MAX_DIMS) {
                if (d)
                    cfg_diag_add(d, CFG_ERROR, it->mark, path, "dimensions: at most %d entries",
                                 GVC_MAX_DIMS);
                st = GB_ERR_INVALID;
                break;
            }
            if (strlen(name) >= sizeof out->dims[0].name ||
                (def && strlen(def) >= sizeof out->dims[0].def)) {
                if (d) cfg_diag_add(d, CFG_ERROR, it->mark, path, "dimensions[%u]: too long", i);
                st = GB_ERR_INVALID;
                continue;
            }
            bool dup = strcmp(name, "type") == 0;
            for (uint32_t k = 0; k < out->n_dims; k++)
                dup |= strcmp(out->dims[k].name, name) == 0;
            if (dup) {
                if (d)
                    cfg_diag_add(d, CFG_ERROR, it->mark, path,
                                 "dimensions[%u]: \"%s\" is listed twice or is reserved", i, name);
                st = GB_ERR_INVALID;
                continue;
            }
            gvc_dim *dim = &out->dims[out->n_dims++];
            snprintf(dim->name, sizeof dim->name, "%s", name);
            if (def) {
                snprintf(dim->def, sizeof dim->def, "%s", def);
                dim->has_def = true;
            }
        }
    }
    const cfg_node *b = cfg->eval_score_buckets;
    if (!b || cfg_node_is_null(b)) {
        for (int i = 0; i <= 10; i++)
            out->bounds[out->n_bounds++] = i / 10.0;
    } else if (b->kind != CFG_NODE_SEQ || b->n_items == 0 || b->n_items > GVC_MAX_BOUNDS) {
        if (d)
            cfg_diag_add(d, CFG_ERROR, b->mark, path,
                         "eval_score_buckets: expected a list of 1 to %d numbers", GVC_MAX_BOUNDS);
        st = GB_ERR_INVALID;
    } else {
        for (uint32_t i = 0; i < b->n_items; i++) {
            double v;
            if (!parse_double(cfg_node_scalar(b->items[i]), &v) ||
                (i > 0 && v <= out->bounds[i - 1])) {
                if (d)
                    cfg_diag_add(d, CFG_ERROR, b->items[i]->mark, path,
                                 "eval_score_buckets[%u]: expected a number greater than the "
                                 "previous bound",
                                 i);
                st = GB_ERR_INVALID;
                break;
            }
            out->bounds[out->n_bounds++] = v;
        }
    }
    return st;
}

static void gvc_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    (void)node;
    gvc_parsed p;
    gvc_parse(obj, path, &p, d);
}

static const cfg_field gvc_fields[] = {
    {.key = "metrics_flush_interval",
     .type = CFG_T_DURATION,
     .offset = offsetof(gvc_cfg, metrics_flush_interval),
     .def = "15s",
     .doc = "how often the cumulative metrics are emitted",
     .min = 1e6,
     .max = 86400e9},
    {.key = "dimensions",
     .type = CFG_T_ANY,
     .offset = offsetof(gvc_cfg, dimensions),
     .doc = "labels of cost/tokens/operations: attribute names or {name, default}"},
    {.key = "top_k",
     .type = CFG_T_INT,
     .offset = offsetof(gvc_cfg, top_k),
     .def = "100",
     .doc = "distinct values kept per label per metric; later values become \"other\"",
     .min = 1,
     .max = 100000},
    {.key = "max_series",
     .type = CFG_T_INT,
     .offset = offsetof(gvc_cfg, max_series),
     .def = "10000",
     .doc = "series kept in total; new combinations beyond it aggregate into all-\"other\"",
     .min = 1,
     .max = 10000000},
    {.key = "eval_score_buckets",
     .type = CFG_T_ANY,
     .offset = offsetof(gvc_cfg, eval_score_buckets),
     .doc = "explicit bounds of genops.eval.score (default 0, 0.1, ..., 1.0)"},
    {.key = "dedup_capacity",
     .type = CFG_T_INT,
     .offset = offsetof(gvc_cfg, dedup_capacity),
     .def = "1048576",
     .doc = "recent (trace_id, span_id) pairs remembered so a retried span or record is counted "
            "once (8 bytes each); 0 turns it off",
     .min = 0,
     .max = 268435456},
};

CFG_TABLE(gvc_cfg_table, gvc_fields, gvc_validate);

/* ---- metrics ----------------------------------------------------------------------------- */

typedef enum gv_kind {
    GV_SUM_NUSD, /* int64 nano-USD, emitted as double USD */
    GV_SUM_INT,
    GV_GAUGE,
    GV_HIST,
} gv_kind;

enum {
    GV_COST = 0,
    GV_TOKENS,
    GV_OPS,
    GV_UNPRICED,
    GV_POL_EVAL,
    GV_POL_VIOL,
    GV_BUD_LIMIT,
    GV_BUD_USED,
    GV_BUD_UTIL,
    GV_EVAL,
    GV_N_METRICS
};

static const struct {
    const char *name, *desc, *unit;
    gv_kind kind;
} k_metrics[GV_N_METRICS] = {
    {"genops.cost", "Cost of AI operations", "{USD}", GV_SUM_NUSD},
    {"genops.tokens", "Tokens used by AI operations, by type", "{token}", GV_SUM_INT},
    {"genops.operations", "AI operations observed", "{operation}", GV_SUM_INT},
    {"genops.unpriced_operations", "AI operations whose model has no price", "{operation}",
     GV_SUM_INT},
    {"genops.policy.evaluations", "Policy evaluations, by policy and result", "{evaluation}",
     GV_SUM_INT},
    {"genops.policy.violations", "Policy evaluations whose result is not passed", "{violation}",
     GV_SUM_INT},
    {"genops.budget.limit", "Budget limit", "{USD}", GV_GAUGE},
    {"genops.budget.used", "Budget used in the current window", "{USD}", GV_GAUGE},
    {"genops.budget.utilization", "Budget used, percent of the limit", "{percent}", GV_GAUGE},
    {"genops.eval.score", "Evaluation scores", "1", GV_HIST},
};

static const char *const k_token_types[] = {"input", "output", "cache_read", "cache_write",
                                            "reasoning"};
#define GV_N_TOK 5

#define GV_ABSENT    UINT32_MAX /* label omitted */
#define GV_OTHER     0u         /* interned id of "other" */
#define GV_MAX_VALUE 256u       /* label values are cut to this many bytes */

/* ---- state ------------------------------------------------------------------------------- */

typedef struct gv_istr {
    uint64_t hash;
    uint32_t len;
    char s[];
} gv_istr;

typedef struct gv_set { /* admitted value ids of one (metric, label) */
    uint32_t *slots;    /* open addressing, GV_ABSENT = empty */
    uint32_t cap, n;
} gv_set;

typedef struct gv_series {
    uint32_t metric;
    uint32_t ids[GVC_MAX_LABELS];
    uint64_t hash;
    int64_t i;    /* sums */
    double d;     /* gauges */
    uint64_t t;   /* gauges: time of the value */
    char win[64]; /* budget gauges: window of the latest value (a label, not the identity) */
    uint8_t win_len;
    uint64_t *hc; /* histogram bucket counts (n_bounds + 1) */
    double hsum;
    uint64_t hcount;
} gv_series;

/* The series a lookup site (metric, slot) found last, with the label ids it was found by. Only
 * tuples of admitted values are remembered (no GV_OTHER), so a hit resolves exactly as the full
 * lookup would (admitted sets and series only grow) and skips no overflow accounting. */
#define GV_MEMO_SLOTS 8u
typedef struct gov_memo {
    uint64_t gen; /* gv_state.memo_gen of the batch that filled it */
    gv_series *e;
    uint32_t ids[GVC_MAX_LABELS];
} gov_memo;

typedef struct gv_state gv_state;
struct gv_state {
    gv_state *next; /* registry */
    const void *key;
    unsigned refs, started;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t thread;
    bool thread_started, stopping;
    pl_consumer *out; /* metrics downstream (of the first started instance that has one) */
    char full_id[160];

    gvc_parsed p;
    int8_t dim_key[GVC_MAX_DIMS]; /* IK_* of each dimension, -1 when not an indexed key */
    int64_t interval;
    uint32_t top_k;
    uint64_t max_series;
    uint64_t start_ns;

    const char *labels[GV_N_METRICS][GVC_MAX_LABELS];
    uint32_t n_labels[GV_N_METRICS];
    gv_set sets[GV_N_METRICS][GVC_MAX_LABELS];

    gv_istr **strs; /* by id */
    uint32_t n_strs, cap_strs;
    uint32_t *stab; /* open addressing over strs, GV_ABSENT = empty */
    uint32_t stab_cap;

    gb_series *m_series; /* self-metrics: series held, values/series sent to "other" */
    gb_series *m_overflow;

    gv_series **series; /* creation order */
    uint32_t n_series, cap_series;
    uint32_t *sertab;
    uint32_t sertab_cap;

    gov_memo memo[GV_N_METRICS][GV_MEMO_SLOTS]; /* last series per lookup site (series_get) */
    uint64_t memo_gen;                          /* memo entries of older batches are stale */

    gov_seen *seen;          /* retries counted once; NULL when dedup_capacity is 0 */
    gb_series *m_duplicates; /* self-metric: items not counted again */
};

/* One per component instance (traces and logs instances share st). */
typedef struct gv_inst {
    gv_state *st;
    bool started;
} gv_inst;

static pthread_mutex_t g_reg_mu = PTHREAD_MUTEX_INITIALIZER;
static gv_state *g_reg;

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

/* splitmix64's finalizer: every input bit reaches the low bits the tables index with. */
static uint64_t fmix(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

/* ---- interning --------------------------------------------------------------------------- */

static uint32_t str_find(const gv_state *s, gb_str v, uint64_t h)
{
    for (uint32_t i = (uint32_t)h & (s->stab_cap - 1);; i = (i + 1) & (s->stab_cap - 1)) {
        uint32_t id = s->stab[i];
        if (id == GV_ABSENT) return GV_ABSENT;
        const gv_istr *e = s->strs[id];
        if (e->hash == h && e->len == v.len && memcmp(e->s, v.ptr, v.len) == 0) return id;
    }
}

static gb_status str_insert(gv_state *s, gb_str v, uint64_t h, uint32_t *id)
{
    if ((s->n_strs + 1) * 2 > s->stab_cap) {
        uint32_t cap = s->stab_cap * 2;
        uint32_t *t = malloc(sizeof *t * cap);
        if (!t) return GB_ERR_NOMEM;
        memset(t, 0xff, sizeof *t * cap);
        for (uint32_t k = 0; k < s->n_strs; k++) {
            uint32_t i = (uint32_t)s->strs[k]->hash & (cap - 1);
            while (t[i] != GV_ABSENT)
                i = (i + 1) & (cap - 1);
            t[i] = k;
        }
        free(s->stab);
        s->stab = t;
        s->stab_cap = cap;
    }
    if (s->n_strs == s->cap_strs) {
        uint32_t cap = s->cap_strs ? s->cap_strs * 2 : 64;
        gv_istr **v2 = realloc(s->strs, sizeof *v2 * cap);
        if (!v2) return GB_ERR_NOMEM;
        s->strs = v2;
        s->cap_strs = cap;
    }
    gv_istr *e = malloc(sizeof *e + v.len + 1);
    if (!e) return GB_ERR_NOMEM;
    e->hash = h;
    e->len = v.len;
    if (v.len) memcpy(e->s, v.ptr, v.len);
    e->s[v.len] = '\0';
    uint32_t i = (uint32_t)h & (s->stab_cap - 1);
    while (s->stab[i] != GV_ABSENT)
        i = (i + 1) & (s->stab_cap - 1);
    s->stab[i] = s->n_strs;
    s->strs[s->n_strs] = e;
    *id = s->n_strs++;
    return GB_OK;
}

static bool set_has(const gv_set *set, uint32_t id)
{
    for (uint32_t i = (uint32_t)fmix(id) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (set->slots[i] == id) return true;
        if (set->slots[i] == GV_ABSENT) return false;
    }
}

static void set_add(gv_set *set, uint32_t id)
{
    uint32_t i = (uint32_t)fmix(id) & (set->cap - 1);
    while (set->slots[i] != GV_ABSENT)
        i = (i + 1) & (set->cap - 1);
    set->slots[i] = id;
    set->n++;
}

/* The id of value v for label l of metric m: its interned id when admitted (first top_k distinct
 * values), GV_OTHER otherwise. Lazily allocates the set. */
/* Label values of one series lookup, with their interned ids once looked up (the same
 * dimension values serve operations, cost and tokens of one span: one string lookup each). */
#define GV_UNKNOWN (UINT32_MAX - 1)
typedef struct gv_vals {
    gb_str v[GVC_MAX_LABELS];
    uint32_t sid[GVC_MAX_LABELS]; /* interned id, GV_ABSENT = not interned, GV_UNKNOWN */
} gv_vals;

/* n: the number of labels the lookups of x use (their values are all set before a lookup). */
static void vals_init(gv_vals *x, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        x->sid[i] = GV_UNKNOWN;
}

static uint32_t label_id(gv_state *s, uint32_t m, uint32_t l, gv_vals *vals)
{
    gv_set *set = &s->sets[m][l];
    gb_str v = vals->v[l];
    uint32_t *sid = &vals->sid[l];
    if (!set->slots) {
        uint32_t cap = 8;
        while (cap < 2 * s->top_k + 2)
            cap *= 2;
        set->slots = malloc(sizeof *set->slots * cap);
        if (!set->slots) return GV_OTHER;
        memset(set->slots, 0xff, sizeof *set->slots * cap);
        set->cap = cap;
    }
    if (v.len > GV_MAX_VALUE) { /* bound memory: cut long values at a UTF-8 boundary */
        v.len = GV_MAX_VALUE;
        while (v.len > 0 && ((unsigned char)v.ptr[v.len] & 0xC0) == 0x80)
            v.len--;
    }
    uint64_t h = 0;
    if (*sid == GV_UNKNOWN) {
        h = gb_hash_bytes(v.ptr, v.len);
        *sid = str_find(s, v, h);
    }
    uint32_t id = *sid;
    if (id != GV_ABSENT && set_has(set, id)) return id;
    if (set->n >= s->top_k) {
        if (s->m_overflow) gb_series_add(s->m_overflow, 1);
        return GV_OTHER;
    }
    if (id == GV_ABSENT) {
        if (!h) h = gb_hash_bytes(v.ptr, v.len);
        if (str_insert(s, v, h, &id) != GB_OK) return GV_OTHER;
        *sid = id;
    }
    if (id == GV_OTHER) return GV_OTHER;
    set_add(set, id);
    return id;
}

/* ---- series ------------------------------------------------------------------------------ */

static uint64_t series_hash(uint32_t m, const uint32_t *ids, uint32_t n)
{
    uint64_t h = mix(0x12345, m);
    for (uint32_t i = 0; i < n; i++)
        h = mix(h, ids[i]);
    return fmix(h);
}

static gv_series *series_find(const gv_state *s, uint32_t m, const uint32_t *ids, uint64_t h)
{
    if (!s->sertab_cap) return NULL;
    uint32_t n = s->n_labels[m];
    for (uint32_t i = (uint32_t)h & (s->sertab_cap - 1);; i = (i + 1) & (s->sertab_cap - 1)) {
        uint32_t k = s->sertab[i];
        if (k == GV_ABSENT) return NULL;
        gv_series *e = s->series[k];
        if (e->hash == h && e->metric == m && memcmp(e->ids, ids, n * sizeof *ids) == 0) return e;
    }
}

static gb_status series_add(gv_state *s, uint32_t m, const uint32_t *ids, uint64_t h,
                            gv_series **out)
{
    if ((s->n_series + 1) * 2 > s->sertab_cap) {
        uint32_t cap = s->sertab_cap ? s->sertab_cap * 2 : 256;
        uint32_t *t = malloc(sizeof *t * cap);
        if (!t) return GB_ERR_NOMEM;
        memset(t, 0xff, sizeof *t * cap);
        for (uint32_t k = 0; k < s->n_series; k++) {
            uint32_t i = (uint32_t)s->series[k]->hash & (cap - 1);
            while (t[i] != GV_ABSENT)
                i = (i + 1) & (cap - 1);
            t[i] = k;
        }
        free(s->sertab);
        s->sertab = t;
        s->sertab_cap = cap;
    }
    if (s->n_series == s->cap_series) {
        uint32_t cap = s->cap_series ? s->cap_series * 2 : 64;
        gv_series **v2 = realloc(s->series, sizeof *v2 * cap);
        if (!v2) return GB_ERR_NOMEM;
        s->series = v2;
        s->cap_series = cap;
    }
    gv_series *e = calloc(1, sizeof *e);
    if (!e) return GB_ERR_NOMEM;
    if (k_metrics[m].kind == GV_HIST) {
        e->hc = calloc(s->p.n_bounds + 1, sizeof *e->hc);
        if (!e->hc) {
            free(e);
            return GB_ERR_NOMEM;
        }
    }
    e->metric = m;
    e->hash = h;
    memcpy(e->ids, ids, s->n_labels[m] * sizeof *ids);
    uint32_t i = (uint32_t)h & (s->sertab_cap - 1);
    while (s->sertab[i] != GV_ABSENT)
        i = (i + 1) & (s->sertab_cap - 1);
    s->sertab[i] = s->n_series;
    s->series[s->n_series++] = e;
    if (s->m_series) gb_series_set(s->m_series, (int64_t)s->n_series);
    *out = e;
    return GB_OK;
}

/* Whether vals are the label values memo entry mo was found by. Compares each value with the
 * interned string of the remembered id (or the id itself once known), recording the interned id
 * of every value that matches (interned strings are unique, so that is its id either way). */
static bool memo_match(const gv_state *s, const gov_memo *mo, uint32_t n, gv_vals *vals)
{
    for (uint32_t l = 0; l < n; l++) {
        uint32_t id = mo->ids[l];
        gb_str v = vals->v[l];
        if (!v.ptr) {
            if (id != GV_ABSENT) return false;
            continue;
        }
        if (id == GV_ABSENT) return false;
        uint32_t sid = vals->sid[l];
        if (sid == GV_UNKNOWN) {
            const gv_istr *is = s->strs[id];
            if (is->len != v.len || (v.len && memcmp(is->s, v.ptr, v.len) != 0)) return false;
            vals->sid[l] = id;
        } else if (sid != id) {
            return false;
        }
    }
    return true;
}

/* The series of metric m for label values vals (ptr NULL = absent), applying top-K and
 * max_series. NULL only when out of memory. slot names the call site within a span (token
 * type, event index), so that consecutive spans of one batch that carry the same values find
 * their series in the memo without hashing. */
static gv_series *series_get(gv_state *s, uint32_t m, gv_vals *vals, uint32_t slot)
{
    uint32_t ids[GVC_MAX_LABELS];
    uint32_t n = s->n_labels[m];
    gov_memo *mo = &s->memo[m][slot % GV_MEMO_SLOTS];
    if (mo->gen == s->memo_gen && memo_match(s, mo, n, vals)) return mo->e;
    bool admitted = true;
    ids[0] = GV_ABSENT; /* (for the compiler: ids is written even when n is 0) */
    for (uint32_t l = 0; l < n; l++) {
        ids[l] = vals->v[l].ptr ? label_id(s, m, l, vals) : GV_ABSENT;
        admitted &= ids[l] != GV_OTHER;
    }
    uint64_t h = series_hash(m, ids, n);
    gv_series *e = series_find(s, m, ids, h);
    if (!e && s->n_series < s->max_series && series_add(s, m, ids, h, &e) != GB_OK) return NULL;
    if (e) {
        if (admitted) {
            mo->gen = s->memo_gen;
            mo->e = e;
            memcpy(mo->ids, ids, n * sizeof *ids);
        }
        return e;
    }
    if (s->n_series >= s->max_series) {
        if (s->m_overflow) gb_series_add(s->m_overflow, 1);
        for (uint32_t l = 0; l < n; l++)
            ids[l] = GV_OTHER;
        h = series_hash(m, ids, n);
        e = series_find(s, m, ids, h);
        if (e) return e;
    }
    if (series_add(s, m, ids, h, &e) != GB_OK) return NULL;
    return e;
}

/* ---- reading attributes -------------------------------------------------------------------- */

/* Every key apply() reads from a span, a log record or a resource. One pass over an item's
 * attributes fills an index (the first attribute with each key, as pd_attrs_find would find),
 * so the ~40 lookups per span cost one probe per attribute instead of a linear search each
 * (a processed span has 50+ attributes). Event attributes (a handful each) are searched. */
enum idx_key {
    IK_PROCESSED,
    IK_TEAM,
    IK_CUSTOMER_ID,
    IK_CUSTOMER,
    IK_PROJECT,
    IK_ENVIRONMENT,
    IK_FEATURE,
    IK_COST_CENTER,
    IK_USER_ID,
    IK_SESSION_ID,
    IK_COST_PROVIDER,
    IK_COST_MODEL,
    IK_COST_STATUS,
    IK_COST_CURRENCY,
    IK_COST_TOTAL,
    IK_COST_AMOUNT,
    IK_TOK_INPUT,
    IK_TOK_OUTPUT,
    IK_TOK_CACHE_READ,
    IK_TOK_CACHE_WRITE,
    IK_TOK_REASONING,
    IK_USAGE_INPUT,
    IK_USAGE_OUTPUT,
    IK_USAGE_CACHE_READ,
    IK_USAGE_CACHE_WRITE,
    IK_USAGE_REASONING,
    IK_POLICY_NAME,
    IK_POLICY_RESULT,
    IK_BUDGET_NAME,
    IK_BUDGET_GROUP,
    IK_BUDGET_WINDOW,
    IK_BUDGET_LIMIT,
    IK_BUDGET_ALLOCATED,
    IK_BUDGET_USED,
    IK_BUDGET_CONSUMED,
    IK_BUDGET_UTIL,
    IK_BUDGET_UTIL_PERCENT,
    IK_EVAL_SCORE,
    IK_EVAL_METRIC_NAME,
    IK_EVAL_METRIC,
    IK_COUNT
};

#define IKS(s)                                                                                     \
    {                                                                                              \
        (s), sizeof(s) - 1                                                                         \
    }
static const gb_str IDX_KEYS[IK_COUNT] = {
    IKS("genops.governance.processed"),
    IKS("genops.team"),
    IKS("genops.customer_id"),
    IKS("genops.customer"),
    IKS("genops.project"),
    IKS("genops.environment"),
    IKS("genops.feature"),
    IKS("genops.cost_center"),
    IKS("genops.user_id"),
    IKS("genops.session_id"),
    IKS("genops.cost.provider"),
    IKS("genops.cost.model"),
    IKS("genops.cost.status"),
    IKS("genops.cost.currency"),
    IKS("genops.cost.total"),
    IKS("genops.cost.amount"),
    IKS("genops.tokens.input"),
    IKS("genops.tokens.output"),
    IKS("genops.tokens.cache_read"),
    IKS("genops.tokens.cache_write"),
    IKS("genops.tokens.reasoning"),
    IKS("gen_ai.usage.input_tokens"),
    IKS("gen_ai.usage.output_tokens"),
    IKS("gen_ai.usage.cache_read.input_tokens"),
    IKS("gen_ai.usage.cache_creation.input_tokens"),
    IKS("gen_ai.usage.reasoning.output_tokens"),
    IKS("genops.policy.name"),
    IKS("genops.policy.result"),
    IKS("genops.budget.name"),
    IKS("genops.budget.group"),
    IKS("genops.budget.window"),
    IKS("genops.budget.limit"),
    IKS("genops.budget.allocated"),
    IKS("genops.budget.used"),
    IKS("genops.budget.consumed"),
    IKS("genops.budget.utilization"),
    IKS("genops.budget.utilization_percent"),
    IKS("genops.eval.score"),
    IKS("genops.eval.metric_name"),
    IKS("genops.eval.metric"),
};

#define IDX_SLOTS 256u
static uint8_t idx_slot[IDX_SLOTS]; /* IK_* + 1; 0 = empty */
static pthread_once_t idx_once = PTHREAD_ONCE_INIT;

/* Length and three sampled bytes (every indexed key has at least 11 bytes). */
static uint32_t idx_hash(gb_str k)
{
    return (k.len * 31u + (uint8_t)k.ptr[k.len - 1] * 7u + (uint8_t)k.ptr[k.len / 2] * 3u +
            (uint8_t)k.ptr[k.len * 3 / 4]) %
           IDX_SLOTS;
}

static void idx_build(void)
{
    _Static_assert(IK_COUNT < IDX_SLOTS / 2 && IK_COUNT < 127, "key index too small");
    for (uint32_t i = 0; i < IK_COUNT; i++) {
        uint32_t h = idx_hash(IDX_KEYS[i]);
        while (idx_slot[h])
            h = (h + 1) % IDX_SLOTS;
        idx_slot[h] = (uint8_t)(i + 1);
    }
}

/* IK_* of key k, -1 when it is not indexed (idx_build has run). */
static inline int idx_lookup(gb_str k)
{
    if (k.len < 11 || k.ptr[0] != 'g' || k.ptr[1] != 'e' || k.ptr[2] != 'n') return -1;
    for (uint32_t h = idx_hash(k); idx_slot[h]; h = (h + 1) % IDX_SLOTS)
        if (gb_str_eq(k, IDX_KEYS[idx_slot[h] - 1])) return idx_slot[h] - 1;
    return -1;
}

static int idx_key(gb_str k)
{
    pthread_once(&idx_once, idx_build);
    return idx_lookup(k);
}

enum { IP_COST = 1, IP_USAGE = 2 }; /* some key starts with "genops.cost." / "gen_ai.usage." */

typedef struct gv_idx {
    const pd_any *v[IK_COUNT];
    uint32_t prefixes; /* IP_* */
} gv_idx;

static void idx_fill(gv_idx *ix, const pd_attrs *a)
{
    pthread_once(&idx_once, idx_build);
    memset(ix, 0, sizeof *ix);
    for (uint32_t i = 0; a && i < a->n; i++) {
        gb_str k = a->v[i].key;
        if (k.len < 11 || k.ptr[0] != 'g' || k.ptr[1] != 'e' || k.ptr[2] != 'n') continue;
        /* every indexed key starts with "genops." or "gen_ai.usage." */
        if (k.ptr[3] == 'o') {
            if (memcmp(k.ptr, "genops.", 7) != 0) continue;
            if (k.len >= 12 && memcmp(k.ptr + 7, "cost.", 5) == 0) ix->prefixes |= IP_COST;
        } else {
            if (k.len < 13 || memcmp(k.ptr, "gen_ai.usage.", 13) != 0) continue;
            ix->prefixes |= IP_USAGE;
        }
        int id = idx_lookup(k);
        if (id >= 0 && !ix->v[id]) ix->v[id] = &a->v[i].value;
    }
}

typedef struct gv_ctx {
    const pd_attrs *a;   /* span / log record attributes */
    const pd_attrs *res; /* resource attributes */
    const gv_idx *ia;    /* index of a, or NULL (searched) */
    const gv_idx *ir;    /* index of res, or NULL */
} gv_ctx;

static const pd_any *attr_in_s(const pd_attrs *a, gb_str key)
{
    if (!a) return NULL;
    pd_kv *kv = pd_attrs_find(a, key);
    return kv ? &kv->value : NULL;
}

static const pd_any *attr_in(const pd_attrs *a, const gv_idx *ix, int k)
{
    if (!a) return NULL;
    return ix ? ix->v[k] : attr_in_s(a, IDX_KEYS[k]);
}

/* Span attribute IDX_KEYS[k], then resource attribute. */
static const pd_any *attr_get(const gv_ctx *x, int k)
{
    const pd_any *v = attr_in(x->a, x->ia, k);
    return v ? v : attr_in(x->res, x->ir, k);
}

/* The same for a key that is not indexed (a configured dimension). */
static const pd_any *attr_get_s(const gv_ctx *x, const char *key)
{
    gb_str k = gb_str_c(key);
    const pd_any *v = attr_in_s(x->a, k);
    return v ? v : attr_in_s(x->res, k);
}

/* A label value (connutil's rendering); a view with ptr NULL when absent or not a scalar. */
static gb_str any_label(const pd_any *v, char *buf, size_t cap)
{
    if (!v || v->type == PD_ANY_EMPTY || v->type == PD_ANY_ARRAY || v->type == PD_ANY_KVLIST ||
        v->type == PD_ANY_BYTES)
        return GB_STR_NULL;
    return cu_label_value(v, buf, cap);
}

static bool any_num(const pd_any *v, double *out)
{
    return v && cu_number(v, out);
}

static bool any_int(const pd_any *v, int64_t *out)
{
    if (v && v->type == PD_ANY_INT) {
        *out = v->u.i;
        return true;
    }
    double d;
    if (!any_num(v, &d) || d < -9e18 || d > 9e18) return false;
    *out = llround(d);
    return true;
}

static const pd_any *first_of(const gv_ctx *x, const int8_t *keys)
{
    for (; *keys >= 0; keys++) {
        const pd_any *v = attr_get(x, *keys);
        if (v) return v;
    }
    return NULL;
}

static bool str_ieq(gb_str s, const char *c)
{
    size_t n = strlen(c);
    if (s.len != n) return false;
    for (size_t i = 0; i < n; i++) {
        char a = s.ptr[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != c[i]) return false;
    }
    return true;
}

/* Canonical policy result word (GOVERNANCE.md 1: "allowed" -> passed, any case). */
static gb_str policy_result(gb_str r)
{
    static const char *const canon[] = {"passed", "warning", "blocked", "rate_limited"};
    for (int i = 0; i < 4; i++)
        if (str_ieq(r, canon[i])) return gb_str_c(canon[i]);
    if (str_ieq(r, "allowed") || str_ieq(r, "pass") || str_ieq(r, "ok")) return gb_str_c("passed");
    if (str_ieq(r, "warn")) return gb_str_c("warning");
    if (str_ieq(r, "block") || str_ieq(r, "denied")) return gb_str_c("blocked");
    return r;
}

/* ---- applying one span / log record ---------------------------------------------------------- */

#define LBUF 48

static void add_int(gv_state *s, uint32_t m, gv_vals *vals, int64_t v, uint32_t slot)
{
    gv_series *e = series_get(s, m, vals, slot);
    if (e) e->i += v;
}

/* Budget gauges are identified by (name, group); the window is carried along with the latest
 * value, so a new window replaces the old one instead of adding a series every day (which
 * would also exhaust the top_k slots of the window label). */
static void set_gauge(gv_state *s, uint32_t m, gv_vals *vals, gb_str window, double v, uint64_t t,
                      uint32_t slot)
{
    gv_series *e = series_get(s, m, vals, slot);
    if (e && t >= e->t) { /* latest by time; equal times: the later arrival */
        e->d = v;
        e->t = t;
        size_t n = window.ptr ? window.len : 0;
        if (n > sizeof e->win) n = sizeof e->win;
        if (n) memcpy(e->win, window.ptr, n);
        e->win_len = (uint8_t)n;
    }
}

static void policy_one(gv_state *s, const gv_ctx *x, uint32_t slot)
{
    const pd_any *name = attr_get(x, IK_POLICY_NAME);
    const pd_any *res = attr_get(x, IK_POLICY_RESULT);
    if (!name && !res) return;
    char b1[LBUF], b2[LBUF];
    gv_vals vals;
    vals_init(&vals, 2);
    vals.v[0] = any_label(name, b1, sizeof b1);
    vals.v[1] = any_label(res, b2, sizeof b2);
    if (vals.v[1].ptr) vals.v[1] = policy_result(vals.v[1]);
    add_int(s, GV_POL_EVAL, &vals, 1, slot);
    if (vals.v[1].ptr && !gb_str_eq_c(vals.v[1], "passed")) add_int(s, GV_POL_VIOL, &vals, 1, slot);
}

static void budget_one(gv_state *s, const gv_ctx *x, uint64_t t, uint32_t slot)
{
    static const int8_t k_limit[] = {IK_BUDGET_LIMIT, IK_BUDGET_ALLOCATED, -1};
    static const int8_t k_used[] = {IK_BUDGET_USED, IK_BUDGET_CONSUMED, -1};
    static const int8_t k_util[] = {IK_BUDGET_UTIL, IK_BUDGET_UTIL_PERCENT, -1};
    const pd_any *name = attr_get(x, IK_BUDGET_NAME);
    if (!name) return;
    char b1[LBUF], b2[LBUF], b3[LBUF];
    gv_vals vals;
    vals_init(&vals, 2);
    vals.v[0] = any_label(name, b1, sizeof b1);
    vals.v[1] = any_label(attr_get(x, IK_BUDGET_GROUP), b2, sizeof b2);
    gb_str win = any_label(attr_get(x, IK_BUDGET_WINDOW), b3, sizeof b3);
    double limit, used, util;
    bool hl = any_num(first_of(x, k_limit), &limit);
    bool hu = any_num(first_of(x, k_used), &used);
    bool hp = any_num(first_of(x, k_util), &util);
    if (!hp && hl && hu && limit > 0) {
        util = used / limit * 100.0;
        hp = true;
    }
    if (hl) set_gauge(s, GV_BUD_LIMIT, &vals, win, limit, t, slot);
    if (hu) set_gauge(s, GV_BUD_USED, &vals, win, used, t, slot);
    if (hp) set_gauge(s, GV_BUD_UTIL, &vals, win, util, t, slot);
}

static bool key_prefix(const pd_attrs *a, const char *prefix)
{
    gb_str p = gb_str_c(prefix);
    for (uint32_t i = 0; a && i < a->n; i++)
        if (gb_str_has_prefix(a->v[i].key, p)) return true;
    return false;
}

/* One span (events may be NULL for log records). Called under s->mu. */
static void apply(gv_state *s, const gv_ctx *x, const pd_event *events, uint32_t n_events,
                  uint64_t t)
{
    static const int8_t k_total[] = {IK_COST_TOTAL, IK_COST_AMOUNT, -1};
    static const int8_t k_tok[GV_N_TOK][3] = {
        {IK_TOK_INPUT, IK_USAGE_INPUT, -1},
        {IK_TOK_OUTPUT, IK_USAGE_OUTPUT, -1},
        {IK_TOK_CACHE_READ, IK_USAGE_CACHE_READ, -1},
        {IK_TOK_CACHE_WRITE, IK_USAGE_CACHE_WRITE, -1},
        {IK_TOK_REASONING, IK_USAGE_REASONING, -1},
    };
    gv_ctx sx = {x->a, NULL, x->ia, NULL};
    const pd_any *processed = attr_get(&sx, IK_PROCESSED);
    bool op = (processed && processed->type == PD_ANY_BOOL && processed->u.b) ||
              (x->ia ? x->ia->prefixes != 0
                     : key_prefix(x->a, "genops.cost.") || key_prefix(x->a, "gen_ai.usage."));

    /* Dimensions. */
    uint32_t nd = s->p.n_dims;
    gv_vals vals;
    vals_init(&vals, nd + 1);
    char bufs[GVC_MAX_DIMS][LBUF];
    for (uint32_t i = 0; i < nd; i++) {
        const gvc_dim *dim = &s->p.dims[i];
        const pd_any *v =
            s->dim_key[i] >= 0 ? attr_get(x, s->dim_key[i]) : attr_get_s(x, dim->name);
        if (!v && s->dim_key[i] == IK_CUSTOMER_ID) v = attr_get(x, IK_CUSTOMER);
        vals.v[i] = any_label(v, bufs[i], LBUF);
        if (!vals.v[i].ptr && dim->has_def) vals.v[i] = gb_str_c(dim->def);
    }

    if (op) add_int(s, GV_OPS, &vals, 1, 0);

    /* Amounts are per operation: read from the item only, never from the resource. */
    const pd_any *status = attr_get(&sx, IK_COST_STATUS);
    bool unpriced = status && status->type == PD_ANY_STR && str_ieq(status->u.str, "unpriced");
    /* genops.cost is in USD: an amount in another currency is not added (not converted). */
    const pd_any *cur = attr_get(&sx, IK_COST_CURRENCY);
    bool usd = !cur || (cur->type == PD_ANY_STR && str_ieq(cur->u.str, "usd"));
    const pd_any *tv;
    int64_t nusd;
    if (unpriced) {
        add_int(s, GV_COST, &vals, 0, 0);
        char b1[LBUF], b2[LBUF];
        gv_vals pv;
        vals_init(&pv, 2);
        pv.v[0] = any_label(attr_get(x, IK_COST_PROVIDER), b1, sizeof b1);
        pv.v[1] = any_label(attr_get(x, IK_COST_MODEL), b2, sizeof b2);
        add_int(s, GV_UNPRICED, &pv, 1, 0);
    } else if (usd && (tv = first_of(&sx, k_total)) && gov_usd_to_nusd(tv, &nusd) == GB_OK &&
               nusd >= 0 && nusd < 9000000000000000000LL) {
        add_int(s, GV_COST, &vals, nusd, 0);
    }

    for (int k = 0; k < GV_N_TOK; k++) {
        int64_t n;
        if (!any_int(first_of(&sx, k_tok[k]), &n) || n < 0) continue;
        vals.v[nd] = gb_str_c(k_token_types[k]);
        vals.sid[nd] = GV_UNKNOWN;
        add_int(s, GV_TOKENS, &vals, n, (uint32_t)k);
    }

    /* Policies: one evaluation per genops.policy.evaluated event, else the attributes. */
    bool pol_events = false, bud_events = false;
    uint32_t n_pol = 0, n_bud = 0;
    for (uint32_t e = 0; e < n_events; e++) {
        const pd_event *ev = &events[e];
        gv_ctx ex = {&ev->attrs, NULL, NULL, NULL};
        if (gb_str_eq_c(ev->name, "genops.policy.evaluated")) {
            pol_events = true;
            policy_one(s, &ex, n_pol++);
        } else if (gb_str_eq_c(ev->name, "genops.budget.evaluated")) {
            bud_events = true;
            budget_one(s, &ex, t, n_bud++);
        }
    }
    if (!pol_events) policy_one(s, &sx, 0);
    if (!bud_events) budget_one(s, &sx, t, 0);

    static const int8_t k_metric[] = {IK_EVAL_METRIC_NAME, IK_EVAL_METRIC, -1};
    double score;
    if (any_num(attr_get(&sx, IK_EVAL_SCORE), &score)) {
        char b1[LBUF];
        gv_vals ev;
        vals_init(&ev, 1);
        ev.v[0] = any_label(first_of(&sx, k_metric), b1, sizeof b1);
        gv_series *e = series_get(s, GV_EVAL, &ev, 0);
        if (e) {
            uint32_t b = 0;
            while (b < s->p.n_bounds && score > s->p.bounds[b])
                b++;
            e->hc[b]++;
            e->hcount++;
            e->hsum += score;
        }
    }
}

/* The batch is applied under one lock (taken once per batch, not per span); the resource's
 * attributes are indexed once per resource and each item's once. */
static gb_status gvc_consume(pl_component *c, pd_batch *b)
{
    gv_state *s = ((gv_inst *)c->state)->st;
    gv_idx ia, ir;
    uint64_t dups = 0;
    pthread_mutex_lock(&s->mu);
    s->memo_gen++; /* the memo serves one batch (one lock hold) */
    if (b->signal == PD_TRACES) {
        for (uint32_t r = 0; r < b->u.traces.n; r++) {
            const pd_resource_spans *rs = &b->u.traces.v[r];
            idx_fill(&ir, &rs->resource.attrs);
            for (uint32_t k = 0; k < rs->n_scope_spans; k++) {
                const pd_scope_spans *ss = &rs->scope_spans[k];
                for (uint32_t i = 0; i < ss->n_spans; i++) {
                    const pd_span *sp = &ss->spans[i];
                    if (s->seen && gov_seen_check_insert(s->seen, &sp->trace_id, &sp->span_id)) {
                        dups++;
                        continue;
                    }
                    idx_fill(&ia, &sp->attrs);
                    gv_ctx x = {&sp->attrs, &rs->resource.attrs, &ia, &ir};
                    apply(s, &x, sp->events, sp->n_events,
                          sp->end_time_unix_nano ? sp->end_time_unix_nano
                                                 : sp->start_time_unix_nano);
                }
            }
        }
    } else if (b->signal == PD_LOGS) {
        for (uint32_t r = 0; r < b->u.logs.n; r++) {
            const pd_resource_logs *rl = &b->u.logs.v[r];
            idx_fill(&ir, &rl->resource.attrs);
            for (uint32_t k = 0; k < rl->n_scope_logs; k++) {
                const pd_scope_logs *sl = &rl->scope_logs[k];
                for (uint32_t i = 0; i < sl->n_logs; i++) {
                    const pd_log *lr = &sl->logs[i];
                    if (s->seen && gov_seen_check_insert(s->seen, &lr->trace_id, &lr->span_id)) {
                        dups++;
                        continue;
                    }
                    idx_fill(&ia, &lr->attrs);
                    gv_ctx x = {&lr->attrs, &rl->resource.attrs, &ia, &ir};
                    apply(s, &x, NULL, 0,
                          lr->time_unix_nano ? lr->time_unix_nano : lr->observed_time_unix_nano);
                }
            }
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (dups && s->m_duplicates) gb_series_add(s->m_duplicates, dups);
    pd_batch_unref(b);
    return GB_OK;
}

/* ---- emitting ------------------------------------------------------------------------------ */

static gb_status dup_str(pd_batch *b, const char *p, size_t n, gb_str *out)
{
    return gb_arena_dup(&b->arena, p, n, out);
}

/* Builds the metrics batch from the current series (under s->mu); *out NULL when empty. */
static gb_status build(gv_state *s, uint64_t now, pd_batch **out)
{
    gb_status st = GB_OK;
    pd_batch *b = NULL;
    *out = NULL;
    uint32_t per[GV_N_METRICS] = {0}, n_metrics = 0;
    for (uint32_t i = 0; i < s->n_series; i++)
        per[s->series[i]->metric]++;
    for (int m = 0; m < GV_N_METRICS; m++)
        n_metrics += per[m] > 0;
    if (n_metrics == 0) return GB_OK;
    st = pd_batch_new(PD_METRICS, 16384, &b);
    if (st) return st;
    pd_resource_metrics *rm = gb_arena_calloc(&b->arena, 1, sizeof *rm);
    pd_scope_metrics *sm = gb_arena_calloc(&b->arena, 1, sizeof *sm);
    pd_metric *ms = gb_arena_calloc(&b->arena, n_metrics, sizeof *ms);
    if (!rm || !sm || !ms) {
        st = GB_ERR_NOMEM;
        goto fail;
    }
    b->u.metrics.v = rm;
    b->u.metrics.n = 1;
    rm->scope_metrics = sm;
    rm->n_scope_metrics = 1;
    sm->scope.name = GB_STR_LIT("genops-collector/connector/governance");
    sm->metrics = ms;
    pd_metric *by[GV_N_METRICS] = {0};
    uint32_t fill[GV_N_METRICS] = {0};
    uint32_t mi = 0;
    for (int m = 0; m < GV_N_METRICS; m++) {
        if (!per[m]) continue;
        pd_metric *pm = &ms[mi++];
        by[m] = pm;
        pm->name = gb_str_c(k_metrics[m].name);
        pm->description = gb_str_c(k_metrics[m].desc);
        pm->unit = gb_str_c(k_metrics[m].unit);
        pm->n_dp = per[m];
        switch (k_metrics[m].kind) {
        case GV_SUM_NUSD:
        case GV_SUM_INT:
            pm->type = PD_METRIC_SUM;
            pm->temporality = PD_TEMPORALITY_CUMULATIVE;
            pm->is_monotonic = true;
            pm->dp.number = gb_arena_calloc(&b->arena, per[m], sizeof(pd_number_dp));
            break;
        case GV_GAUGE:
            pm->type = PD_METRIC_GAUGE;
            pm->dp.number = gb_arena_calloc(&b->arena, per[m], sizeof(pd_number_dp));
            break;
        case GV_HIST:
            pm->type = PD_METRIC_HISTOGRAM;
            pm->temporality = PD_TEMPORALITY_CUMULATIVE;
            pm->dp.histogram = gb_arena_calloc(&b->arena, per[m], sizeof(pd_histogram_dp));
            break;
        }
        if (!pm->dp.number) {
            st = GB_ERR_NOMEM;
            goto fail;
        }
    }
    sm->n_metrics = mi;
    for (uint32_t i = 0; i < s->n_series; i++) {
        const gv_series *e = s->series[i];
        uint32_t m = e->metric, n = s->n_labels[m];
        pd_attrs attrs = {gb_arena_calloc(&b->arena, n + 1, sizeof(pd_kv)), 0, n + 1};
        if (!attrs.v) {
            st = GB_ERR_NOMEM;
            goto fail;
        }
        for (uint32_t l = 0; l < n; l++) {
            if (e->ids[l] == GV_ABSENT) continue;
            pd_kv *kv = &attrs.v[attrs.n++];
            const gv_istr *v = s->strs[e->ids[l]];
            st = dup_str(b, s->labels[m][l], strlen(s->labels[m][l]), &kv->key);
            if (!st) st = dup_str(b, v->s, v->len, &kv->value.u.str);
            if (st) goto fail;
            kv->value.type = PD_ANY_STR;
        }
        if (e->win_len) {
            pd_kv *kv = &attrs.v[attrs.n++];
            st = dup_str(b, s->labels[m][n], strlen(s->labels[m][n]), &kv->key);
            if (!st) st = dup_str(b, e->win, e->win_len, &kv->value.u.str);
            if (st) goto fail;
            kv->value.type = PD_ANY_STR;
        }
        uint32_t k = fill[m]++;
        if (k_metrics[m].kind == GV_HIST) {
            pd_histogram_dp *dp = &by[m]->dp.histogram[k];
            dp->attrs = attrs;
            dp->start_time_unix_nano = s->start_ns;
            dp->time_unix_nano = now;
            dp->count = e->hcount;
            dp->has_sum = true;
            dp->sum = e->hsum;
            dp->n_bucket_counts = s->p.n_bounds + 1;
            dp->bucket_counts = gb_arena_alloc(&b->arena, sizeof(uint64_t) * dp->n_bucket_counts);
            dp->n_explicit_bounds = s->p.n_bounds;
            dp->explicit_bounds = gb_arena_alloc(&b->arena, sizeof(double) * s->p.n_bounds);
            if (!dp->bucket_counts || !dp->explicit_bounds) {
                st = GB_ERR_NOMEM;
                goto fail;
            }
            memcpy(dp->bucket_counts, e->hc, sizeof(uint64_t) * dp->n_bucket_counts);
            memcpy(dp->explicit_bounds, s->p.bounds, sizeof(double) * s->p.n_bounds);
            continue;
        }
        pd_number_dp *dp = &by[m]->dp.number[k];
        dp->attrs = attrs;
        dp->time_unix_nano = now;
        switch (k_metrics[m].kind) {
        case GV_SUM_NUSD:
            dp->start_time_unix_nano = s->start_ns;
            dp->value_type = PD_NUM_DOUBLE;
            dp->value.d = (double)e->i / 1e9;
            break;
        case GV_SUM_INT:
            dp->start_time_unix_nano = s->start_ns;
            dp->value_type = PD_NUM_INT;
            dp->value.i = e->i;
            break;
        default:
            dp->value_type = PD_NUM_DOUBLE;
            dp->value.d = e->d;
            break;
        }
    }
    *out = b;
    return GB_OK;
fail:
    pd_batch_unref(b);
    return st;
}

static gb_status flush(gv_state *s)
{
    pd_batch *b = NULL;
    pthread_mutex_lock(&s->mu);
    gb_status st = build(s, (uint64_t)gb_now_ns(), &b);
    pl_consumer *out = s->out;
    pthread_mutex_unlock(&s->mu);
    if (st != GB_OK) {
        gb_log(GB_LOG_ERROR, s->full_id, "cannot build the metrics: %s", gb_status_str(st));
        return st;
    }
    if (!b) return GB_OK;
    if (!out) {
        pd_batch_unref(b);
        return GB_OK;
    }
    st = pl_consume(out, b);
    if (st != GB_OK)
        gb_log(GB_LOG_WARN, s->full_id,
               "metrics refused downstream (%s); the cumulative values go out at the next flush",
               gb_status_str(st));
    return st;
}

gb_status gvc_flush_now(pl_component *c)
{
    return flush(((gv_inst *)c->state)->st);
}

static void *flush_main(void *arg)
{
    gv_state *s = arg;
    pthread_mutex_lock(&s->mu);
    int64_t next = gb_mono_ns() + s->interval;
    while (!s->stopping) {
        if (gb_mono_ns() >= next) {
            pthread_mutex_unlock(&s->mu);
            flush(s);
            pthread_mutex_lock(&s->mu);
            next += s->interval;
            if (next < gb_mono_ns()) next = gb_mono_ns() + s->interval;
            continue;
        }
        struct timespec ts = {(time_t)(next / GB_NS_PER_S), (long)(next % GB_NS_PER_S)};
        pthread_cond_timedwait(&s->wake, &s->mu, &ts);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void state_free(gv_state *s)
{
    for (uint32_t i = 0; i < s->n_series; i++) {
        free(s->series[i]->hc);
        free(s->series[i]);
    }
    free(s->series);
    free(s->sertab);
    gov_seen_free(s->seen);
    for (uint32_t i = 0; i < s->n_strs; i++)
        free(s->strs[i]);
    free(s->strs);
    free(s->stab);
    for (int m = 0; m < GV_N_METRICS; m++)
        for (int l = 0; l < GVC_MAX_LABELS; l++)
            free(s->sets[m][l].slots);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    free(s);
}

static gb_status state_new(const pl_component *c, gv_state **out)
{
    gb_status st = GB_OK;
    const gvc_cfg *cfg = c->cfg;
    gv_state *s = calloc(1, sizeof *s);
    if (!s) return GB_ERR_NOMEM;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_condattr_destroy(&ca);
    snprintf(s->full_id, sizeof s->full_id, "%s", c->full_id);
    s->key = c->cfg;
    if (gvc_parse(cfg, c->full_id, &s->p, NULL) != GB_OK) {
        st = GB_ERR_INVALID;
        goto fail;
    }
    for (uint32_t i = 0; i < s->p.n_dims; i++)
        s->dim_key[i] = (int8_t)idx_key(gb_str_c(s->p.dims[i].name));
    s->interval = cfg->metrics_flush_interval > 0 ? cfg->metrics_flush_interval : 15 * GB_NS_PER_S;
    s->top_k = (uint32_t)(cfg->top_k > 0 ? cfg->top_k : 100);
    s->max_series = (uint64_t)(cfg->max_series > 0 ? cfg->max_series : 10000);
    if (cfg->dedup_capacity > 0) {
        st = gov_seen_new((uint32_t)cfg->dedup_capacity, &s->seen);
        if (st) goto fail;
    }
    for (int m = 0; m < GV_N_METRICS; m++) {
        uint32_t n = 0;
        switch (m) {
        case GV_COST:
        case GV_OPS:
        case GV_TOKENS:
            for (uint32_t i = 0; i < s->p.n_dims; i++)
                s->labels[m][n++] = s->p.dims[i].name;
            if (m == GV_TOKENS) s->labels[m][n++] = "type";
            break;
        case GV_UNPRICED:
            s->labels[m][n++] = "genops.cost.provider";
            s->labels[m][n++] = "genops.cost.model";
            break;
        case GV_POL_EVAL:
        case GV_POL_VIOL:
            s->labels[m][n++] = "genops.policy.name";
            s->labels[m][n++] = "genops.policy.result";
            break;
        case GV_EVAL:
            s->labels[m][n++] = "genops.eval.metric_name";
            break;
        default:
            s->labels[m][n++] = "genops.budget.name";
            s->labels[m][n++] = "genops.budget.group";
            s->labels[m][n] = "genops.budget.window"; /* from the series, see set_gauge */
            break;
        }
        s->n_labels[m] = n;
    }
    s->stab_cap = 256;
    s->stab = malloc(sizeof *s->stab * s->stab_cap);
    if (!s->stab) {
        st = GB_ERR_NOMEM;
        goto fail;
    }
    memset(s->stab, 0xff, sizeof *s->stab * s->stab_cap);
    uint32_t other;
    st = str_insert(s, GB_STR_LIT("other"), gb_hash_bytes("other", 5), &other);
    if (st) goto fail;
    *out = s;
    return GB_OK;
fail:
    state_free(s);
    return st;
}

static gb_status gvc_create(pl_component *c)
{
    gb_status st = GB_OK;
    gv_inst *in = calloc(1, sizeof *in);
    if (!in) return GB_ERR_NOMEM;
    pthread_mutex_lock(&g_reg_mu);
    gv_state *s = g_reg;
    while (s && s->key != c->cfg)
        s = s->next;
    if (!s) {
        st = state_new(c, &s);
        if (st == GB_OK) {
            s->next = g_reg;
            g_reg = s;
        }
    }
    if (st == GB_OK) {
        s->refs++;
        in->st = s;
        c->state = in;
    }
    pthread_mutex_unlock(&g_reg_mu);
    if (st != GB_OK) free(in);
    return st;
}

static gb_status gvc_start(pl_component *c, pl_host *host)
{
    (void)host;
    gv_inst *in = c->state;
    gv_state *s = in->st;
    if (in->started) return GB_OK;
    pthread_mutex_lock(&s->mu);
    if (!s->out) s->out = c->next[PD_METRICS];
    bool first = s->started++ == 0;
    if (first) {
        s->start_ns = (uint64_t)gb_now_ns();
        s->stopping = false;
        char labels[200];
        snprintf(labels, sizeof labels, "connector=\"%s\"", c->id);
        gb_tm_gauge("genops_connector_governance_series", "Series held by the governance connector",
                    labels, &s->m_series);
        gb_tm_counter("genops_connector_governance_overflow",
                      "Label values or series reported as \"other\" (top_k or max_series reached)",
                      labels, &s->m_overflow);
        gb_tm_counter("genops_connector_governance_duplicates",
                      "Spans and log records not counted again (same trace_id and span_id seen)",
                      labels, &s->m_duplicates);
        if (s->m_series) gb_series_set(s->m_series, (int64_t)s->n_series);
    }
    pthread_mutex_unlock(&s->mu);
    if (first) {
        if (pthread_create(&s->thread, NULL, flush_main, s) != 0) {
            gb_log(GB_LOG_ERROR, c->full_id, "cannot start the flush thread");
            pthread_mutex_lock(&s->mu);
            s->started--;
            pthread_mutex_unlock(&s->mu);
            return GB_ERR_NOMEM;
        }
        s->thread_started = true;
    }
    in->started = true;
    return GB_OK;
}

/* The last started instance stops the timer and emits the final values. */
static gb_status gvc_shutdown(pl_component *c, int64_t deadline_ns)
{
    (void)deadline_ns;
    gv_inst *in = c->state;
    if (!in || !in->started) return GB_OK;
    in->started = false;
    gv_state *s = in->st;
    pthread_mutex_lock(&s->mu);
    bool last = --s->started == 0;
    if (last) {
        s->stopping = true;
        pthread_cond_broadcast(&s->wake);
    }
    pthread_mutex_unlock(&s->mu);
    if (!last) return GB_OK;
    if (s->thread_started) pthread_join(s->thread, NULL);
    s->thread_started = false;
    flush(s);
    return GB_OK;
}

static void gvc_destroy(pl_component *c)
{
    gv_inst *in = c->state;
    if (!in) return;
    gvc_shutdown(c, gb_mono_ns());
    gv_state *s = in->st;
    free(in);
    c->state = NULL;
    pthread_mutex_lock(&g_reg_mu);
    bool last = --s->refs == 0;
    if (last) {
        for (gv_state **pp = &g_reg; *pp; pp = &(*pp)->next)
            if (*pp == s) {
                *pp = s->next;
                break;
            }
    }
    pthread_mutex_unlock(&g_reg_mu);
    if (last) state_free(s);
}

const pl_descriptor connector_governance_descriptor = {
    .kind = PL_CONNECTOR,
    .type = "governance",
    .connector = {[PD_TRACES] = {[PD_METRICS] = PL_ALPHA}, [PD_LOGS] = {[PD_METRICS] = PL_ALPHA}},
    .config = &gvc_cfg_table,
    .config_size = sizeof(gvc_cfg),
    .doc = "governance attributes of spans and logs -> genops.* cost, token, budget, policy "
           "metrics",
    .create = gvc_create,
    .start = gvc_start,
    .consume = gvc_consume,
    .shutdown = gvc_shutdown,
    .destroy = gvc_destroy,
};
