/* Policy evaluation (GOVERNANCE.md 5): a gov_policies holds a private copy of the definitions
 * plus what evaluation needs precomputed (lower-cased blocked patterns, the violation result,
 * rate-limit counters), and evaluates one operation against every enabled policy.
 *
 * Rate limits: a sliding window of 60 one-second buckets per counter. Adding an operation at
 * second s first clears the buckets of the seconds between the counter's newest second and s,
 * then counts into bucket s % 60 and a running total, so the total always covers the seconds
 * (s - 60, s]: "in the last 60 s" at one-second resolution, O(1) per operation and exact under
 * any request rate. Time never goes backwards inside a policy (an older now_ns counts as the
 * newest seen), so a skewed worker clock cannot wipe a window. Each rate_limit policy has one
 * mutex; counters are only touched under it, so concurrent workers count exactly.
 *   With rate_group_by, counters are kept per distinct value (string form of the attribute, span
 * then resource, "unknown" when absent or empty) in a preallocated table of rate_max_groups entries
 * (default 10000; chained hash + LRU list, calloc'd once so untouched pages cost nothing). A new
 * value takes a free entry, else the least-recently-used entry if that one's window is empty
 * (idle for 60 s or more: evicting it loses nothing). Otherwise the value shares one "(other)"
 * counter with every other overflow value. Evicting an active group instead would reset its
 * count, which lets a client evade its limit by spraying new group values; sharing makes the
 * overflow stricter, never laxer. Keys are compared on their 64-bit hash, full length and first
 * 96 bytes (longer values are not copied whole).
 *
 * Rejected: a token bucket (allows bursts of 2x the limit across a minute boundary and does not
 * match "requests in the last minute" as users read it); per-worker counters summed on read (the
 * limit must be exact across workers); atomics without a lock (the bucket rotation touches
 * several words). */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "governance/gov_policy.h"

#define RATE_BUCKETS  60
#define GROUP_KEY_MAX 96

typedef struct rate_window {
    int64_t last_sec; /* newest second counted */
    uint64_t total;   /* sum of b[] */
    uint32_t b[RATE_BUCKETS];
} rate_window;

typedef struct rate_group {
    uint64_t hash;
    int32_t next;               /* hash chain */
    int32_t prev_lru, next_lru; /* LRU list, head = most recent */
    uint32_t key_len;           /* full length of the value */
    char key[GROUP_KEY_MAX];    /* first bytes of the value */
    rate_window w;
} rate_group;

typedef struct rate_state {
    pthread_mutex_t mu;
    int64_t now_sec; /* newest second seen by this policy */
    rate_window single;
    rate_window other;
    rate_group *groups;
    uint32_t n_groups, max_groups;
    int32_t *heads; /* hash buckets, n_heads is a power of two */
    uint32_t n_heads;
    int32_t lru_head, lru_tail;
} rate_state;

typedef struct policy {
    gov_policy_def def; /* copy; strings in gov_policies.arena */
    gov_policy_result violation;
    gb_str items[GOV_POLICY_MAX_ITEMS]; /* content_filter: lower-cased; else views of def.items */
    gb_str group_label;                 /* rate_group_by without "genops." */
    rate_state *rate;                   /* RATE_LIMIT only */
    char max_usd[32];                   /* COST_LIMIT: max_cost as rb_usd writes it */
    uint32_t max_usd_len;
} policy;

static uint32_t usd_text(int64_t nusd, char *buf, size_t cap);

struct gov_policies {
    gb_arena arena;
    policy *v;
    uint32_t n;
};

static inline unsigned char lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* ---- definitions ------------------------------------------------------------------------- */

static gb_status check_fail(char *err, size_t errlen, const char *name, const char *what)
{
    if (errlen) snprintf(err, errlen, "policy %s: %s", name ? name : "(unnamed)", what);
    return GB_ERR_INVALID;
}

gb_status gov_policy_check(const gov_policy_def *def, char *err, size_t errlen)
{
    if (errlen) err[0] = 0;
    if (!def) return check_fail(err, errlen, NULL, "no definition");
    const char *nm = def->name;
    if (!nm || !*nm) return check_fail(err, errlen, NULL, "name is required");
    if ((unsigned)def->kind > GOV_POLICY_CONDITION) return check_fail(err, errlen, nm, "bad kind");
    if ((unsigned)def->enforcement > GOV_POLICY_BLOCKED)
        return check_fail(err, errlen, nm, "bad enforcement");
    if ((unsigned)def->action > GOV_ACTION_REDACT) return check_fail(err, errlen, nm, "bad action");
    if (def->n_items > GOV_POLICY_MAX_ITEMS)
        return check_fail(err, errlen, nm, "too many items (at most 64)");
    for (uint32_t i = 0; i < def->n_items; i++)
        if (!def->items[i] || !*def->items[i])
            return check_fail(err, errlen, nm, "empty item in the list");
    if (def->n_match > GOV_BUDGET_MAX_MATCH)
        return check_fail(err, errlen, nm, "too many match entries (at most 16)");
    for (uint32_t i = 0; i < def->n_match; i++)
        if (!def->match[i].key || !*def->match[i].key || !def->match[i].value)
            return check_fail(err, errlen, nm, "match entry without key or value");
    switch (def->kind) {
    case GOV_POLICY_COST_LIMIT:
        if (def->max_cost_nusd < 0) return check_fail(err, errlen, nm, "max_cost must be >= 0");
        break;
    case GOV_POLICY_RATE_LIMIT:
        if (def->max_requests_per_minute <= 0)
            return check_fail(err, errlen, nm, "max_requests_per_minute must be > 0");
        if (def->max_requests_per_minute > (int64_t)UINT32_MAX * RATE_BUCKETS)
            return check_fail(err, errlen, nm, "max_requests_per_minute too large");
        if (def->rate_max_groups > GOV_POLICY_RATE_GROUPS_LIMIT)
            return check_fail(err, errlen, nm, "rate_max_groups too large (at most 1000000)");
        break;
    case GOV_POLICY_CONTENT_FILTER:
        if (!def->n_items) return check_fail(err, errlen, nm, "blocked_patterns is empty");
        break;
    case GOV_POLICY_TEAM_ACCESS:
        if (!def->n_items) return check_fail(err, errlen, nm, "allowed_teams is empty");
        break;
    case GOV_POLICY_MODEL_ALLOWLIST:
        if (!def->n_items) return check_fail(err, errlen, nm, "allowed_models is empty");
        break;
    case GOV_POLICY_CONDITION:
        if (!def->n_match) return check_fail(err, errlen, nm, "condition has no attribute");
        break;
    }
    return GB_OK;
}

static gb_status dup_cstr(gb_arena *a, const char *s, const char **out)
{
    if (!s) {
        *out = NULL;
        return GB_OK;
    }
    gb_str v;
    gb_status st = gb_arena_dup(a, s, strlen(s), &v);
    if (st == GB_OK) *out = v.ptr;
    return st;
}

static void rate_free(rate_state *r)
{
    if (!r) return;
    pthread_mutex_destroy(&r->mu);
    free(r->groups);
    free(r->heads);
    free(r);
}

static gb_status rate_new(const gov_policy_def *def, rate_state **out)
{
    gb_status st = GB_ERR_NOMEM;
    rate_state *r = calloc(1, sizeof(*r));
    if (!r) goto out;
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        r = NULL;
        goto out;
    }
    r->lru_head = r->lru_tail = -1;
    if (def->rate_group_by && *def->rate_group_by) {
        r->max_groups = def->rate_max_groups ? def->rate_max_groups : GOV_POLICY_RATE_MAX_GROUPS;
        if (r->max_groups > GOV_POLICY_RATE_GROUPS_LIMIT) {
            st = GB_ERR_INVALID;
            goto out;
        }
        r->n_heads = 16;
        while (r->n_heads < 2 * r->max_groups)
            r->n_heads <<= 1;
        r->groups = calloc(r->max_groups, sizeof(*r->groups));
        r->heads = malloc(sizeof(*r->heads) * r->n_heads);
        if (!r->groups || !r->heads) goto out;
        for (uint32_t i = 0; i < r->n_heads; i++)
            r->heads[i] = -1;
    }
    st = GB_OK;
out:
    if (st != GB_OK) {
        rate_free(r);
        r = NULL;
    }
    *out = r;
    return st;
}

gb_status gov_policies_new(const gov_policy_def *defs, uint32_t n, gov_policies **out)
{
    gb_status st = GB_OK;
    gov_policies *p = calloc(1, sizeof(*p));
    if (!p) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    gb_arena_init(&p->arena, 0, 0);
    if (n) {
        p->v = calloc(n, sizeof(*p->v));
        if (!p->v) {
            st = GB_ERR_NOMEM;
            goto out;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        const gov_policy_def *d = &defs[i];
        st = gov_policy_check(d, NULL, 0);
        if (st) goto out;
        policy *pol = &p->v[i];
        p->n = i + 1; /* so a failure below frees what this entry holds */
        pol->def = *d;
        pol->max_usd_len = usd_text(d->max_cost_nusd, pol->max_usd, sizeof pol->max_usd);
        gov_policy_def *c = &pol->def;
        if ((st = dup_cstr(&p->arena, d->name, &c->name))) goto out;
        if ((st = dup_cstr(&p->arena, d->rate_group_by, &c->rate_group_by))) goto out;
        if (c->rate_group_by && !*c->rate_group_by) c->rate_group_by = NULL;
        for (uint32_t k = 0; k < d->n_items; k++) {
            if ((st = dup_cstr(&p->arena, d->items[k], &c->items[k]))) goto out;
            gb_str it = gb_str_c(c->items[k]);
            if (d->kind == GOV_POLICY_CONTENT_FILTER) {
                char *low = gb_arena_alloc(&p->arena, it.len + 1);
                if (!low) {
                    st = GB_ERR_NOMEM;
                    goto out;
                }
                for (uint32_t j = 0; j < it.len; j++)
                    low[j] = (char)lc((unsigned char)it.ptr[j]);
                low[it.len] = 0;
                it = gb_str_n(low, it.len);
            }
            pol->items[k] = it;
        }
        for (uint32_t k = 0; k < d->n_match; k++) {
            if ((st = dup_cstr(&p->arena, d->match[k].key, &c->match[k].key))) goto out;
            if ((st = dup_cstr(&p->arena, d->match[k].value, &c->match[k].value))) goto out;
        }
        pol->violation = d->enforcement;
        if (pol->violation == GOV_POLICY_PASSED)
            pol->violation =
                d->kind == GOV_POLICY_RATE_LIMIT ? GOV_POLICY_RATE_LIMITED : GOV_POLICY_WARNING;
        if (d->kind == GOV_POLICY_RATE_LIMIT) {
            if ((st = rate_new(c, &pol->rate))) goto out;
            if (c->rate_group_by) {
                pol->group_label = gb_str_c(c->rate_group_by);
                gb_str pre = GB_STR_LIT("genops.");
                if (pol->group_label.len > pre.len && gb_str_has_prefix(pol->group_label, pre)) {
                    pol->group_label.ptr += pre.len;
                    pol->group_label.len -= pre.len;
                }
            }
        }
    }
out:
    if (st != GB_OK) {
        gov_policies_free(p);
        p = NULL;
    }
    *out = p;
    return st;
}

void gov_policies_free(gov_policies *p)
{
    if (!p) return;
    for (uint32_t i = 0; i < p->n; i++)
        rate_free(p->v[i].rate);
    free(p->v);
    gb_arena_free(&p->arena);
    free(p);
}

uint32_t gov_policies_count(const gov_policies *p)
{
    return p ? p->n : 0;
}

/* ---- rate limits ------------------------------------------------------------------------- */

/* Counts one operation at second sec (>= w->last_sec) and returns the operations in
 * (sec - 60, sec]. */
static uint64_t window_add(rate_window *w, int64_t sec)
{
    int64_t gap = sec - w->last_sec;
    if (gap >= RATE_BUCKETS || gap < 0) {
        memset(w->b, 0, sizeof(w->b));
        w->total = 0;
    } else {
        for (int64_t k = 1; k <= gap; k++) {
            uint32_t idx = (uint32_t)((w->last_sec + k) % RATE_BUCKETS);
            w->total -= w->b[idx];
            w->b[idx] = 0;
        }
    }
    w->last_sec = sec;
    uint32_t idx = (uint32_t)(sec % RATE_BUCKETS);
    if (w->b[idx] < UINT32_MAX) {
        w->b[idx]++;
        w->total++;
    }
    return w->total;
}

static void lru_unlink(rate_state *r, int32_t i)
{
    rate_group *g = &r->groups[i];
    if (g->prev_lru >= 0)
        r->groups[g->prev_lru].next_lru = g->next_lru;
    else
        r->lru_head = g->next_lru;
    if (g->next_lru >= 0)
        r->groups[g->next_lru].prev_lru = g->prev_lru;
    else
        r->lru_tail = g->prev_lru;
}

static void lru_push_head(rate_state *r, int32_t i)
{
    rate_group *g = &r->groups[i];
    g->prev_lru = -1;
    g->next_lru = r->lru_head;
    if (r->lru_head >= 0) r->groups[r->lru_head].prev_lru = i;
    r->lru_head = i;
    if (r->lru_tail < 0) r->lru_tail = i;
}

static void chain_unlink(rate_state *r, int32_t i)
{
    int32_t *link = &r->heads[r->groups[i].hash & (r->n_heads - 1)];
    while (*link >= 0) {
        if (*link == i) {
            *link = r->groups[i].next;
            return;
        }
        link = &r->groups[*link].next;
    }
}

/* The window of group key under r->mu; *other when the key shares the overflow counter. */
static rate_window *group_window(rate_state *r, gb_str key, bool *other)
{
    *other = false;
    uint64_t h = gb_hash_bytes(key.ptr, key.len);
    uint32_t cmp = key.len < GROUP_KEY_MAX ? key.len : GROUP_KEY_MAX;
    for (int32_t i = r->heads[h & (r->n_heads - 1)]; i >= 0; i = r->groups[i].next) {
        rate_group *g = &r->groups[i];
        if (g->hash == h && g->key_len == key.len && memcmp(g->key, key.ptr, cmp) == 0) {
            lru_unlink(r, i);
            lru_push_head(r, i);
            return &g->w;
        }
    }
    int32_t slot;
    if (r->n_groups < r->max_groups) {
        slot = (int32_t)r->n_groups++;
    } else if (r->lru_tail >= 0 && r->groups[r->lru_tail].w.last_sec <= r->now_sec - RATE_BUCKETS) {
        slot = r->lru_tail;
        lru_unlink(r, slot);
        chain_unlink(r, slot);
    } else {
        *other = true;
        return &r->other;
    }
    rate_group *g = &r->groups[slot];
    memset(g, 0, sizeof(*g));
    g->hash = h;
    g->key_len = key.len;
    memcpy(g->key, key.ptr, cmp);
    g->w.last_sec = r->now_sec;
    uint32_t b = (uint32_t)(h & (r->n_heads - 1));
    g->next = r->heads[b];
    r->heads[b] = slot;
    lru_push_head(r, slot);
    return &g->w;
}

/* String form of the group attribute into buf when it is not a string. */
static gb_str group_value(const char *key, const gov_policy_input *in, char *buf, size_t len)
{
    gb_str k = gb_str_c(key);
    const pd_kv *kv = in->span ? pd_attrs_find(in->span, k) : NULL;
    if (!kv && in->resource) kv = pd_attrs_find(in->resource, k);
    if (!kv) return GB_STR_LIT("unknown");
    switch (kv->value.type) {
    case PD_ANY_STR:
        return kv->value.u.str.len ? kv->value.u.str : GB_STR_LIT("unknown");
    case PD_ANY_BOOL:
        return kv->value.u.b ? GB_STR_LIT("true") : GB_STR_LIT("false");
    case PD_ANY_INT:
        snprintf(buf, len, "%" PRId64, kv->value.u.i);
        return gb_str_c(buf);
    case PD_ANY_DOUBLE:
        snprintf(buf, len, "%.17g", kv->value.u.d);
        return gb_str_c(buf);
    default:
        return GB_STR_LIT("unknown");
    }
}

static gov_policy_result eval_rate(policy *pol, const gov_policy_input *in, char *reason,
                                   size_t rlen)
{
    rate_state *r = pol->rate;
    int64_t sec = in->now_ns > 0 ? in->now_ns / 1000000000 : 0;
    char num[32];
    gb_str group = GB_STR_NULL;
    if (pol->def.rate_group_by) group = group_value(pol->def.rate_group_by, in, num, sizeof(num));
    bool other = false;
    uint64_t count;
    pthread_mutex_lock(&r->mu);
    if (sec > r->now_sec) r->now_sec = sec;
    rate_window *w = pol->def.rate_group_by ? group_window(r, group, &other) : &r->single;
    count = window_add(w, r->now_sec);
    pthread_mutex_unlock(&r->mu);

    uint64_t max = (uint64_t)pol->def.max_requests_per_minute;
    bool bad = count > max;
    char suffix[96] = "";
    if (pol->def.rate_group_by) {
        int llen = pol->group_label.len > 32 ? 32 : (int)pol->group_label.len;
        int glen = group.len > 48 ? 48 : (int)group.len;
        if (other)
            snprintf(suffix, sizeof(suffix), " for %.*s (other)", llen, pol->group_label.ptr);
        else
            snprintf(suffix, sizeof(suffix), " for %.*s %.*s", llen, pol->group_label.ptr, glen,
                     group.ptr);
    }
    snprintf(reason, rlen, "rate %" PRIu64 "/min %s %" PRIu64 "/min%s", count,
             bad ? ">" : "<=", max, suffix);
    return bad ? pol->violation : GOV_POLICY_PASSED;
}

/* ---- other kinds ------------------------------------------------------------------------- */

/* Reason text without snprintf on the data path (one snprintf per policy per span was most of
 * the evaluation's cost): appends clamp at cap - 1 and keep the text NUL-terminated, so the
 * result is byte-for-byte what the equivalent snprintf would write. */
typedef struct rbuf {
    char *p;
    size_t cap, n;
} rbuf;

static rbuf rb_open(char *p, size_t cap)
{
    rbuf b = {p, cap, 0};
    if (cap) p[0] = 0;
    return b;
}

static void rb_put(rbuf *b, const char *s, size_t len)
{
    if (b->n + 1 >= b->cap) return;
    size_t room = b->cap - 1 - b->n;
    if (len > room) len = room;
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = 0;
}

static void rb_lit(rbuf *b, const char *s)
{
    rb_put(b, s, strlen(s));
}

/* "%.*s" of a view: at most max bytes, stopping at a NUL like printf. */
static void rb_view(rbuf *b, const char *s, size_t len, size_t max)
{
    if (len > max) len = max;
    rb_put(b, s, strnlen(s, len));
}

static void rb_u64(rbuf *b, uint64_t v, int min_digits)
{
    char t[24];
    int i = (int)sizeof t;
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v || (int)sizeof t - i < min_digits);
    rb_put(b, t + i, sizeof t - (size_t)i);
}

/* USD with 6 decimals ("-0.050000") from nano-USD, rounded half-up on the magnitude. */
static void rb_usd(rbuf *b, int64_t nusd)
{
    uint64_t v = nusd < 0 ? (uint64_t)0 - (uint64_t)nusd : (uint64_t)nusd;
    uint64_t micro = (v + 500) / 1000;
    if (nusd < 0) rb_put(b, "-", 1);
    rb_u64(b, micro / 1000000, 1);
    rb_put(b, ".", 1);
    rb_u64(b, micro % 1000000, 6);
}

/* rb_usd into buf (NUL-terminated); its length. The formatted maximum of a cost_limit policy
 * is rendered once, at creation, instead of for every evaluation. */
static uint32_t usd_text(int64_t nusd, char *buf, size_t cap)
{
    rbuf b = rb_open(buf, cap);
    rb_usd(&b, nusd);
    return (uint32_t)b.n;
}

static gov_policy_result eval_cost(const policy *pol, const gov_policy_input *in,
                                   const gov_usage *u, char *reason, size_t rlen)
{
    int64_t cost;
    rbuf rb = rb_open(reason, rlen);
    if (in->cost && in->cost->status != GOV_COST_UNPRICED) {
        cost = in->cost->total;
    } else if (u && (u->flags & GOV_HAS_COST)) {
        gb_str cur = u->currency;
        if (cur.len &&
            !(cur.len == 3 && lc((unsigned char)cur.ptr[0]) == 'u' &&
              lc((unsigned char)cur.ptr[1]) == 's' && lc((unsigned char)cur.ptr[2]) == 'd')) {
            rb_lit(&rb, "unpriced: cost in ");
            rb_view(&rb, cur.ptr, cur.len, 16);
            rb_lit(&rb, ", not USD");
            return GOV_POLICY_PASSED;
        }
        double d = u->cost * 1e9;
        if (!isfinite(d) || d < 0 || d > 9.2e18) {
            rb_lit(&rb, "unpriced: cost out of range");
            return GOV_POLICY_PASSED;
        }
        cost = (int64_t)llround(d);
    } else {
        rb_lit(&rb, "unpriced: no cost for this operation");
        return GOV_POLICY_PASSED;
    }
    bool bad = cost > pol->def.max_cost_nusd;
    rb_lit(&rb, "cost ");
    rb_usd(&rb, cost);
    rb_lit(&rb, bad ? " USD > max_cost " : " USD <= max_cost ");
    rb_put(&rb, pol->max_usd, pol->max_usd_len);
    rb_lit(&rb, " USD");
    return bad ? pol->violation : GOV_POLICY_PASSED;
}

static bool contains_ci(gb_str hay, gb_str needle_lower)
{
    if (needle_lower.len == 0 || needle_lower.len > hay.len) return false;
    unsigned char first = (unsigned char)needle_lower.ptr[0];
    uint32_t last = hay.len - needle_lower.len;
    for (uint32_t i = 0; i <= last; i++) {
        if (lc((unsigned char)hay.ptr[i]) != first) continue;
        uint32_t j = 1;
        while (j < needle_lower.len &&
               lc((unsigned char)hay.ptr[i + j]) == (unsigned char)needle_lower.ptr[j])
            j++;
        if (j == needle_lower.len) return true;
    }
    return false;
}

/* Index of the first pattern found in s, or -1. */
static int32_t scan_str(const policy *pol, gb_str s)
{
    for (uint32_t k = 0; k < pol->def.n_items; k++)
        if (contains_ci(s, pol->items[k])) return (int32_t)k;
    return -1;
}

static int32_t scan_any(const policy *pol, const pd_any *v, uint32_t depth)
{
    if (depth > GOV_POLICY_MAX_DEPTH) return -1;
    switch (v->type) {
    case PD_ANY_STR:
        return scan_str(pol, v->u.str);
    case PD_ANY_ARRAY:
        for (uint32_t i = 0; i < v->u.arr.n; i++) {
            int32_t hit = scan_any(pol, &v->u.arr.v[i], depth + 1);
            if (hit >= 0) return hit;
        }
        return -1;
    case PD_ANY_KVLIST:
        for (uint32_t i = 0; i < v->u.kvl.n; i++) {
            int32_t hit = scan_any(pol, &v->u.kvl.v[i].value, depth + 1);
            if (hit >= 0) return hit;
        }
        return -1;
    default:
        return -1;
    }
}

static gov_policy_result eval_content(const policy *pol, const gov_policy_input *in, char *reason,
                                      size_t rlen)
{
    if (in->span) {
        for (uint32_t i = 0; i < in->span->n; i++) {
            const pd_kv *kv = &in->span->v[i];
            if (!gov_is_content_key(kv->key)) continue;
            int32_t hit = scan_any(pol, &kv->value, 0);
            if (hit < 0) continue;
            int klen = kv->key.len > 64 ? 64 : (int)kv->key.len;
            snprintf(reason, rlen, "policy %.48s: blocked pattern %d in %.*s", pol->def.name,
                     hit + 1, klen, kv->key.ptr);
            return pol->violation;
        }
    }
    int32_t hit = scan_str(pol, in->body);
    if (hit >= 0) {
        snprintf(reason, rlen, "policy %.48s: blocked pattern %d in log body", pol->def.name,
                 hit + 1);
        return pol->violation;
    }
    rbuf rb = rb_open(reason, rlen);
    rb_lit(&rb, "no blocked pattern");
    return GOV_POLICY_PASSED;
}

static gov_policy_result eval_team(const policy *pol, const gov_usage *u, char *reason, size_t rlen)
{
    gb_str team = u ? u->team : GB_STR_NULL;
    rbuf rb = rb_open(reason, rlen);
    if (team.len == 0) {
        rb_lit(&rb, "no genops.team");
        return pol->violation;
    }
    rb_lit(&rb, "team ");
    rb_view(&rb, team.ptr, team.len, 64);
    for (uint32_t k = 0; k < pol->def.n_items; k++) {
        if (gb_str_eq(team, pol->items[k])) {
            rb_lit(&rb, " allowed");
            return GOV_POLICY_PASSED;
        }
    }
    rb_lit(&rb, " not in allowed_teams");
    return pol->violation;
}

static gov_policy_result eval_model(const policy *pol, const gov_usage *u, char *reason,
                                    size_t rlen)
{
    gb_str model = u ? gov_usage_model(u) : GB_STR_NULL;
    rbuf rb = rb_open(reason, rlen);
    if (model.len == 0) {
        rb_lit(&rb, "no gen_ai model");
        return pol->violation;
    }
    char qbuf[256];
    gb_str qualified = GB_STR_NULL;
    if (u->provider.len && (size_t)u->provider.len + 1 + model.len <= sizeof(qbuf)) {
        memcpy(qbuf, u->provider.ptr, u->provider.len);
        qbuf[u->provider.len] = '/';
        memcpy(qbuf + u->provider.len + 1, model.ptr, model.len);
        qualified = gb_str_n(qbuf, (size_t)u->provider.len + 1 + model.len);
    }
    rb_lit(&rb, "model ");
    rb_view(&rb, model.ptr, model.len, 64);
    for (uint32_t k = 0; k < pol->def.n_items; k++) {
        if (gov_glob_match(pol->items[k], model) ||
            (qualified.len && gov_glob_match(pol->items[k], qualified))) {
            rb_lit(&rb, " allowed");
            return GOV_POLICY_PASSED;
        }
    }
    rb_lit(&rb, " not in allowed_models");
    return pol->violation;
}

static bool matches_all(const gov_policy_def *d, const gov_policy_input *in)
{
    for (uint32_t k = 0; k < d->n_match; k++)
        if (!gov_attr_match_holds(&d->match[k], in->span, in->resource)) return false;
    return true;
}

static gov_policy_result eval_condition(const policy *pol, const gov_policy_input *in, char *reason,
                                        size_t rlen)
{
    if (!matches_all(&pol->def, in)) {
        rbuf rb = rb_open(reason, rlen);
        rb_lit(&rb, "condition does not hold");
        return GOV_POLICY_PASSED;
    }
    const gov_attr_match *m = &pol->def.match[0];
    if (pol->def.n_match > 1)
        snprintf(reason, rlen, "condition holds: %.48s=%.48s (+%u more)", m->key, m->value,
                 pol->def.n_match - 1);
    else
        snprintf(reason, rlen, "condition holds: %.48s=%.48s", m->key, m->value);
    return pol->violation;
}

/* ---- evaluation -------------------------------------------------------------------------- */

gb_status gov_policies_eval(gov_policies *p, const gov_policy_input *in, gov_policy_eval *out,
                            uint32_t *n, int32_t *worst, bool *drop, bool *redact)
{
    gb_status st = GB_OK;
    uint32_t cnt = 0;
    int32_t w = -1;
    bool want_drop = false, want_redact = false;
    if (!p || !in || (!out && p->n)) {
        st = GB_ERR_INVALID;
        goto out;
    }
    gov_usage local;
    const gov_usage *u = in->usage;
    bool normalized = false;
    for (uint32_t i = 0; i < p->n; i++) {
        policy *pol = &p->v[i];
        const gov_policy_def *d = &pol->def;
        if (!d->enabled) continue;
        if (d->kind != GOV_POLICY_CONDITION && !matches_all(d, in)) continue;
        if (!u && !normalized &&
            (d->kind == GOV_POLICY_TEAM_ACCESS || d->kind == GOV_POLICY_MODEL_ALLOWLIST ||
             d->kind == GOV_POLICY_COST_LIMIT)) {
            normalized = true;
            if (gov_normalize(in->span ? in->span : &(pd_attrs){0}, in->resource, &local) == GB_OK)
                u = &local;
        }
        gov_policy_eval *e = &out[cnt];
        e->def = d;
        e->reason[0] = 0;
        switch (d->kind) {
        case GOV_POLICY_COST_LIMIT:
            e->result = eval_cost(pol, in, u, e->reason, sizeof(e->reason));
            break;
        case GOV_POLICY_RATE_LIMIT:
            e->result = eval_rate(pol, in, e->reason, sizeof(e->reason));
            break;
        case GOV_POLICY_CONTENT_FILTER:
            e->result = eval_content(pol, in, e->reason, sizeof(e->reason));
            break;
        case GOV_POLICY_TEAM_ACCESS:
            e->result = eval_team(pol, u, e->reason, sizeof(e->reason));
            break;
        case GOV_POLICY_MODEL_ALLOWLIST:
            e->result = eval_model(pol, u, e->reason, sizeof(e->reason));
            break;
        case GOV_POLICY_CONDITION:
            e->result = eval_condition(pol, in, e->reason, sizeof(e->reason));
            break;
        }
        if (e->result != GOV_POLICY_PASSED) {
            if (d->action == GOV_ACTION_DROP) want_drop = true;
            if (d->action == GOV_ACTION_REDACT) want_redact = true;
        }
        if (w < 0 || e->result > out[w].result) w = (int32_t)cnt;
        cnt++;
    }
out:
    if (n) *n = cnt;
    if (worst) *worst = w;
    if (drop) *drop = want_drop;
    if (redact) *redact = want_redact;
    return st;
}
