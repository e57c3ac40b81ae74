/* Budget store: integer nano-USD counters per (budget, group, window id), de-duplicated charges,
 * once-per-window threshold alerts, persisted in SQLite by a background flusher.
 *
 * Data path (gov_budgets_charge): one mutex, no allocation in the steady state, no I/O. Under the
 * lock: look the (trace_id, span_id, budget) key up in the de-dup set, find the window (a
 * per-budget cache of the last [start, end) makes this a comparison), find or create the counter
 * in a chained hash table, add, compute the state. Only a new counter allocates (once per group
 * and window, not per span); the pending-id vector for SQLite grows by doubling. The id hash is
 * computed and its index slot prefetched before the lock is taken.
 *
 * De-dup: a FIFO ring of keys (oldest evicted first, by capacity or past the horizon) indexed by
 * an open-addressing table of ring positions (linear probing, backward-shift deletion), so lookup,
 * insert and eviction are O(1) and memory is bounded by dedup_capacity (32 bytes per key plus two
 * 8-byte index slots: 48 MB for the default million keys, mapped at open as untouched zero pages
 * so resident memory grows with use, and never rehashed: no latency spike on the data path). New
 * keys are also appended to a pending vector that the flusher swaps out and writes to SQLite; at
 * open the newest keys within the horizon are loaded back, so a client retry after a restart is not
 * charged twice.
 *
 * Rolling windows ("24h"): 60 buckets of duration/60 seconds (rounded up); used = sum of the
 * buckets that overlap the window ending at the reference time, so charges leave the window in
 * whole buckets (granularity 1/60 of the duration). A charge older than the ring is not counted.
 *
 * Persistence: calendar counters are written as deltas (INSERT ... ON CONFLICT DO UPDATE SET
 * used = used + delta, alerted = max(...)), so a late span for a window that is no longer (or was
 * never) loaded in memory adds to the persisted sum instead of overwriting it. Rolling counters
 * are written whole (their buckets as a blob). The flusher snapshots dirty counters and pending
 * keys under the lock, then writes them outside it in one transaction; on failure the deltas and
 * keys are put back. A crash loses at most one flush interval of charges.
 *
 * Rejected: a lock-free map (complex; the lock is held ~100 ns plus the de-dup index access);
 * growing the de-dup set by doubling (a rehash of a million keys under the lock); SQLite on the
 * data path (milliseconds per commit); a 64-bit fingerprint instead of the full 24-byte id pair (a
 * false "duplicate" would silently skip a charge); per-window sweepers (the window id is in the
 * key). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "base/log.h"
#include "governance/gov_budget.h"
#include "governance/gov_internal.h"

#define ROLL_SLOTS      60
#define GROUP_MAX       127
#define EVICT_GRACE_SEC 3600 /* clean counters of windows ended this long ago leave memory */
#define PRUNE_AFTER_SEC                                                                            \
    (400 * 86400LL) /* persisted windows older than this are deleted at open                       \
                     */
#define SCHEMA_VERSION   1
#define DEFAULT_MAX_CTRS 100000u

typedef struct roll_bucket {
    int64_t k; /* bucket number: t / width */
    int64_t amount;
} roll_bucket;

typedef struct counter {
    struct counter *next;       /* hash chain */
    struct counter *next_dirty; /* dirty list */
    uint64_t hash;
    uint32_t budget;
    uint8_t glen, wlen;
    bool dirty;
    int8_t alerted; /* index of the highest threshold alerted in this window, -1 none */
    char group[GROUP_MAX + 1];
    char wid[32];
    int64_t wstart, wend; /* calendar windows */
    int64_t used;         /* calendar windows: total */
    int64_t delta;        /* calendar windows: not yet written */
    int64_t newest;       /* rolling: newest charge time */
    roll_bucket *ring;    /* rolling: ROLL_SLOTS buckets */
} counter;

typedef struct bstate {
    const gov_budget_def *def;
    double th[GOV_BUDGET_MAX_THRESHOLDS];
    uint32_t nth;
    double warn_at; /* smallest threshold below 100, or INFINITY */
    bool rolling;
    int64_t width; /* rolling bucket width, seconds */
    int64_t nb;    /* rolling buckets inside the window */
    char rid[32];  /* rolling window id */
    /* calendar window cache */
    bool cached;
    char wid[32];
    uint8_t wlen;
    int64_t ws, we;
} bstate;

typedef struct dd_key {
    uint8_t id[24]; /* trace_id then span_id */
    uint32_t budget;
    uint32_t seen; /* seconds since dd_base */
} dd_key;

typedef struct pend_key {
    uint8_t id[24];
    uint32_t budget;
    int64_t seen; /* unix seconds */
} pend_key;

typedef struct pend_vec {
    pend_key *v;
    size_t n, cap;
} pend_vec;

struct gov_budgets {
    pthread_mutex_t mu;
    bstate *b;
    uint32_t n;
    /* counters */
    counter **tab;
    uint32_t tab_mask;
    uint32_t n_ctr, max_ctr;
    counter *dirty;
    /* de-dup */
    dd_key *ring; /* dd_cap keys, allocated at open (pages are touched as it fills) */
    uint32_t ring_head, ring_n, dd_cap;
    uint64_t *idx; /* tag << 32 | (ring position + 1); 0 empty */
    uint32_t idx_mask;
    size_t ring_bytes, idx_bytes;
    int64_t dd_base, horizon;
    pend_vec pend;
    /* persistence */
    bool persist;
    sqlite3 *db;
    pthread_mutex_t flush_mu;
    pthread_mutex_t cv_mu;
    pthread_cond_t cv;
    pthread_t thr;
    bool thr_started, stop;
    int64_t flush_ms;
    int64_t last_evict, last_full_evict;
};

/* ---- helpers --------------------------------------------------------------------------------- */

static int64_t now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec;
}

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static uint64_t dd_hash(const uint8_t id[24], uint32_t budget)
{
    uint64_t a, b, c;
    memcpy(&a, id, 8);
    memcpy(&b, id + 8, 8);
    memcpy(&c, id + 16, 8);
    return mix64(a ^ mix64(b ^ mix64(c ^ ((uint64_t)budget << 32 | 0x9e3779b9u))));
}

static uint64_t ctr_hash(uint32_t budget, const char *g, size_t glen, const char *w, size_t wlen)
{
    uint64_t h = gb_hash_bytes(g, glen);
    h ^= gb_hash_bytes(w, wlen) * 31;
    return mix64(h ^ budget);
}

/* Truncates s to at most GROUP_MAX bytes without cutting a UTF-8 sequence. */
static size_t group_len(gb_str s)
{
    if (s.len <= GROUP_MAX) return s.len;
    size_t n = GROUP_MAX;
    while (n > 0 && ((uint8_t)s.ptr[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* ---- de-dup set ------------------------------------------------------------------------------ */

/* An index slot holds (hash >> 32) << 32 | (ring position + 1); 0 is empty. The home slot is
 * (hash >> 32) & idx_mask, so the stored high half doubles as a tag that rejects most
 * non-matching probes without touching the ring, and backward-shift deletion needs no rehash. */
static uint32_t dd_home(const gov_budgets *b, uint64_t e)
{
    return (uint32_t)(e >> 32) & b->idx_mask;
}

/* True when the key was charged within the horizon (an expired key not yet evicted is absent). */
static bool dd_contains(const gov_budgets *b, const uint8_t id[24], uint32_t budget, uint64_t h,
                        int64_t now)
{
    uint32_t tag = (uint32_t)(h >> 32);
    uint32_t i = tag & b->idx_mask;
    for (uint64_t e; (e = b->idx[i]) != 0; i = (i + 1) & b->idx_mask) {
        if ((uint32_t)(e >> 32) != tag) continue;
        const dd_key *k = &b->ring[(uint32_t)e - 1];
        /* an expired copy may still sit before a fresh one: keep probing past it */
        if (k->budget == budget && memcmp(k->id, id, 24) == 0 &&
            (int64_t)k->seen + b->dd_base >= now - b->horizon)
            return true;
    }
    return false;
}

static void dd_evict_oldest(gov_budgets *b)
{
    uint32_t pos = b->ring_head;
    const dd_key *k = &b->ring[pos];
    uint32_t i = (uint32_t)(dd_hash(k->id, k->budget) >> 32) & b->idx_mask;
    while ((uint32_t)b->idx[i] != pos + 1)
        i = (i + 1) & b->idx_mask;
    /* backward-shift deletion */
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & b->idx_mask;
        if (!b->idx[j]) break;
        uint32_t home = dd_home(b, b->idx[j]);
        /* move j to i when home is not cyclically within (i, j] */
        bool in = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in) {
            b->idx[i] = b->idx[j];
            i = j;
        }
    }
    b->idx[i] = 0;
    b->ring_head = b->ring_head + 1 == b->dd_cap ? 0 : b->ring_head + 1;
    b->ring_n--;
}

/* Adds a key (known absent, hash h); evicts expired and, at capacity, the oldest keys. */
static void dd_insert(gov_budgets *b, const uint8_t id[24], uint32_t budget, uint64_t h,
                      int64_t now)
{
    if (b->dd_cap == 0) return;
    while (b->ring_n > 0 && (int64_t)b->ring[b->ring_head].seen + b->dd_base < now - b->horizon)
        dd_evict_oldest(b);
    if (b->ring_n == b->dd_cap) dd_evict_oldest(b);
    uint32_t pos = b->ring_head + b->ring_n;
    if (pos >= b->dd_cap) pos -= b->dd_cap;
    memcpy(b->ring[pos].id, id, 24);
    b->ring[pos].budget = budget;
    b->ring[pos].seen = (uint32_t)(now - b->dd_base);
    b->ring_n++;
    uint32_t i = (uint32_t)(h >> 32) & b->idx_mask;
    while (b->idx[i])
        i = (i + 1) & b->idx_mask;
    b->idx[i] = (h >> 32) << 32 | (uint64_t)(pos + 1);
}

static gb_status pend_push(pend_vec *p, const uint8_t id[24], uint32_t budget, int64_t seen,
                           size_t limit)
{
    gb_status st = GB_OK;
    if (p->n >= limit) goto out; /* the database is far behind: keep memory bounded */
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 256;
        pend_key *v = realloc(p->v, ncap * sizeof *v);
        if (!v) {
            st = GB_ERR_NOMEM;
            goto out;
        }
        p->v = v;
        p->cap = ncap;
    }
    memcpy(p->v[p->n].id, id, 24);
    p->v[p->n].budget = budget;
    p->v[p->n].seen = seen;
    p->n++;
out:
    return st;
}

/* ---- counters -------------------------------------------------------------------------------- */

static counter *ctr_find(const gov_budgets *b, uint64_t h, uint32_t budget, const char *g,
                         size_t glen, const char *w, size_t wlen)
{
    for (counter *c = b->tab[h & b->tab_mask]; c; c = c->next) {
        if (c->hash == h && c->budget == budget && c->glen == glen && c->wlen == wlen &&
            memcmp(c->group, g, glen) == 0 && memcmp(c->wid, w, wlen) == 0)
            return c;
    }
    return NULL;
}

static gb_status tab_grow(gov_budgets *b)
{
    gb_status st = GB_OK;
    uint32_t nsize = (b->tab_mask + 1) * 2;
    counter **nt = calloc(nsize, sizeof *nt);
    if (!nt) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    for (uint32_t i = 0; i <= b->tab_mask; i++) {
        counter *c = b->tab[i];
        while (c) {
            counter *next = c->next;
            c->next = nt[c->hash & (nsize - 1)];
            nt[c->hash & (nsize - 1)] = c;
            c = next;
        }
    }
    free(b->tab);
    b->tab = nt;
    b->tab_mask = nsize - 1;
out:
    return st;
}

static void evict_old(gov_budgets *b, int64_t now);

static gb_status ctr_get(gov_budgets *b, uint32_t budget, const char *g, size_t glen, const char *w,
                         size_t wlen, counter **out)
{
    gb_status st = GB_OK;
    uint64_t h = ctr_hash(budget, g, glen, w, wlen);
    counter *c = ctr_find(b, h, budget, g, glen, w, wlen);
    if (c) goto done;
    if (b->n_ctr >= b->max_ctr) {
        /* full: drop counters of past windows now (at most once a second: it is a scan) */
        int64_t now = now_sec();
        if (now != b->last_full_evict) {
            b->last_full_evict = now;
            evict_old(b, now);
        }
        if (b->n_ctr >= b->max_ctr) {
            st = GB_ERR_LIMIT;
            goto out;
        }
    }
    if (b->n_ctr >= b->tab_mask + 1) {
        st = tab_grow(b);
        if (st != GB_OK) goto out;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    if (b->b[budget].rolling) {
        c->ring = calloc(ROLL_SLOTS, sizeof *c->ring);
        if (!c->ring) {
            free(c);
            st = GB_ERR_NOMEM;
            goto out;
        }
        for (int i = 0; i < ROLL_SLOTS; i++)
            c->ring[i].k = -1;
    }
    c->hash = h;
    c->budget = budget;
    c->glen = (uint8_t)glen;
    c->wlen = (uint8_t)wlen;
    memcpy(c->group, g, glen);
    memcpy(c->wid, w, wlen);
    c->alerted = -1;
    c->next = b->tab[h & b->tab_mask];
    b->tab[h & b->tab_mask] = c;
    b->n_ctr++;
done:
    *out = c;
out:
    return st;
}

static void ctr_mark_dirty(gov_budgets *b, counter *c)
{
    if (!b->persist || c->dirty) return;
    c->dirty = true;
    c->next_dirty = b->dirty;
    b->dirty = c;
}

static int64_t roll_used(const bstate *bs, const counter *c, int64_t ref)
{
    int64_t kt = ref / bs->width, sum = 0;
    for (int i = 0; i < ROLL_SLOTS; i++) {
        if (c->ring[i].k > kt - bs->nb && c->ring[i].k <= kt) sum += c->ring[i].amount;
    }
    return sum;
}

/* Adds amount at time t; false when the bucket has already left the ring. */
static void roll_add(const bstate *bs, counter *c, int64_t t, int64_t amount)
{
    int64_t k = t / bs->width;
    roll_bucket *s = &c->ring[k % ROLL_SLOTS];
    if (s->k < k) {
        s->k = k;
        s->amount = 0;
    }
    if (s->k == k) s->amount += amount;
    if (t > c->newest) c->newest = t;
}

static void fill_state(const bstate *bs, const counter *c, const char *g, size_t glen, int64_t used,
                       int64_t ws, int64_t we, gov_budget_state *out)
{
    out->def = bs->def;
    memcpy(out->group, g, glen);
    out->group[glen] = 0;
    if (c) {
        memcpy(out->window_id, c->wid, c->wlen);
        out->window_id[c->wlen] = 0;
    }
    out->window_start = ws;
    out->window_end = we;
    out->limit_nusd = bs->def->limit_nusd;
    out->used_nusd = used;
    out->remaining_nusd = bs->def->limit_nusd - used;
    out->utilization =
        bs->def->limit_nusd > 0 ? 100.0 * (double)used / (double)bs->def->limit_nusd : 0.0;
    if (used >= bs->def->limit_nusd)
        out->status = GOV_BUDGET_EXCEEDED;
    else if (out->utilization >= bs->warn_at)
        out->status = GOV_BUDGET_WARNING;
    else
        out->status = GOV_BUDGET_OK;
}

/* Highest threshold index reached at utilization u, -1 none. */
static int th_reached(const bstate *bs, double u)
{
    int r = -1;
    for (uint32_t i = 0; i < bs->nth; i++) {
        if (u >= bs->th[i]) r = (int)i;
    }
    return r;
}

/* The window of budget i at t (cached); the id view stays valid under the lock. */
static gb_status window_of(bstate *bs, int64_t t, const char **wid, size_t *wlen, int64_t *ws,
                           int64_t *we)
{
    gb_status st = GB_OK;
    if (t < 0 || t > 253402300799LL) { /* 1970 .. 9999, as gov_window_at */
        st = GB_ERR_INVALID;
        goto out;
    }
    if (bs->rolling) {
        *wid = bs->rid;
        *wlen = strlen(bs->rid);
        *ws = t - bs->def->window.rolling_sec;
        *we = t;
        goto out;
    }
    if (!bs->cached || t < bs->ws || t >= bs->we) {
        st = gov_window_at(&bs->def->window, t, bs->wid, &bs->ws, &bs->we);
        if (st != GB_OK) {
            bs->cached = false;
            goto out;
        }
        bs->wlen = (uint8_t)strlen(bs->wid);
        bs->cached = true;
    }
    *wid = bs->wid;
    *wlen = bs->wlen;
    *ws = bs->ws;
    *we = bs->we;
out:
    return st;
}

gb_status gov_budgets_charge(gov_budgets *b, uint32_t index, gb_str group, const pd_trace_id *tid,
                             const pd_span_id *sid, int64_t t, int64_t cost_nusd,
                             gov_budget_state *out)
{
    gb_status st = GB_OK;
    static const uint8_t zero[24];
    if (!b || index >= b->n || cost_nusd < 0 || !out) return GB_ERR_INVALID;
    uint8_t id[24];
    memset(id, 0, sizeof id);
    if (tid) memcpy(id, tid->b, 16);
    if (sid) memcpy(id + 16, sid->b, 8);
    bool dedup = memcmp(id, zero, 24) != 0;
    size_t glen = group_len(group);
    int64_t now = dedup ? now_sec() : 0;
    uint64_t h = dedup ? dd_hash(id, index) : 0;
    /* idx and idx_mask never change after open: start the likely cache miss before the lock */
    if (dedup) __builtin_prefetch(&b->idx[(uint32_t)(h >> 32) & b->idx_mask]);

    pthread_mutex_lock(&b->mu);
    if (dedup && b->ring_n == b->dd_cap) {
        /* the key evicted by this insert: its index slot is the other likely miss */
        const dd_key *old = &b->ring[b->ring_head];
        __builtin_prefetch(&b->idx[(uint32_t)(dd_hash(old->id, old->budget) >> 32) & b->idx_mask]);
    }
    bstate *bs = &b->b[index];
    const char *wid;
    size_t wlen;
    int64_t ws, we;
    st = window_of(bs, t, &wid, &wlen, &ws, &we);
    if (st != GB_OK) goto unlock;
    counter *c;
    st = ctr_get(b, index, group.ptr ? group.ptr : "", glen, wid, wlen, &c);
    if (st != GB_OK) goto unlock;
    out->duplicate = dedup && b->ring_n > 0 && dd_contains(b, id, index, h, now);
    out->crossed_threshold = -1;
    int64_t used;
    if (!out->duplicate) {
        if (bs->rolling) {
            roll_add(bs, c, t, cost_nusd);
        } else {
            if (c->used > INT64_MAX - cost_nusd) {
                st = GB_ERR_LIMIT;
                goto unlock;
            }
            c->used += cost_nusd;
            c->delta += cost_nusd;
            c->wstart = ws;
            c->wend = we;
        }
        if (dedup) {
            dd_insert(b, id, index, h, now);
            if (b->persist) st = pend_push(&b->pend, id, index, now, b->dd_cap);
            if (st != GB_OK) goto unlock; /* charged; the id may not survive a restart */
        }
        ctr_mark_dirty(b, c);
    }
    if (bs->rolling) {
        int64_t ref = t > c->newest ? t : c->newest;
        used = roll_used(bs, c, ref);
        ws = ref - bs->def->window.rolling_sec;
        we = ref;
    } else {
        used = c->used;
    }
    fill_state(bs, c, c->group, c->glen, used, ws, we, out);
    int reached = th_reached(bs, out->utilization);
    if (bs->rolling && reached < c->alerted) {
        c->alerted = (int8_t)reached; /* rolling: re-arm once utilization falls back */
        ctr_mark_dirty(b, c);
    }
    if (!out->duplicate && reached > c->alerted) {
        c->alerted = (int8_t)reached;
        out->crossed_threshold = bs->th[reached];
        ctr_mark_dirty(b, c);
    }
unlock:
    pthread_mutex_unlock(&b->mu);
    return st;
}

/* ---- list ------------------------------------------------------------------------------------ */

/* Definition order (defs is one array), then group. */
static int state_cmp(const void *a, const void *b)
{
    const gov_budget_state *x = a, *y = b;
    if (x->def != y->def) return x->def < y->def ? -1 : 1;
    return strcmp(x->group, y->group);
}

typedef struct state_vec {
    gov_budget_state *v;
    size_t n, cap;
} state_vec;

static gov_budget_state *state_push(state_vec *sv)
{
    if (sv->n == sv->cap) {
        size_t ncap = sv->cap ? sv->cap * 2 : 16;
        gov_budget_state *nv = realloc(sv->v, ncap * sizeof *nv);
        if (!nv) return NULL;
        sv->v = nv;
        sv->cap = ncap;
    }
    gov_budget_state *o = &sv->v[sv->n++];
    memset(o, 0, sizeof *o);
    return o;
}

typedef struct list_win {
    const char *wid;
    size_t wlen;
    int64_t ws, we;
    bool seen;
} list_win;

gb_status gov_budgets_list(gov_budgets *b, int64_t now, gov_budget_visit_fn fn, void *arg)
{
    gb_status st = GB_OK;
    state_vec sv = {0};
    list_win *win = NULL;
    if (!b || !fn) return GB_ERR_INVALID;
    win = calloc(b->n + 1, sizeof *win);
    if (!win) return GB_ERR_NOMEM;
    pthread_mutex_lock(&b->mu);
    for (uint32_t i = 0; i < b->n && st == GB_OK; i++)
        st = window_of(&b->b[i], now, &win[i].wid, &win[i].wlen, &win[i].ws, &win[i].we);
    /* one pass over the counters of every budget's current window */
    for (uint32_t s = 0; s <= b->tab_mask && st == GB_OK; s++) {
        for (counter *c = b->tab[s]; c; c = c->next) {
            list_win *w = &win[c->budget];
            if (c->wlen != w->wlen || memcmp(c->wid, w->wid, w->wlen) != 0) continue;
            gov_budget_state *o = state_push(&sv);
            if (!o) {
                st = GB_ERR_NOMEM;
                break;
            }
            const bstate *bs = &b->b[c->budget];
            fill_state(bs, c, c->group, c->glen, bs->rolling ? roll_used(bs, c, now) : c->used,
                       w->ws, w->we, o);
            o->crossed_threshold = -1;
            w->seen = true;
        }
    }
    /* a budget without group_by always reports its counter */
    for (uint32_t i = 0; i < b->n && st == GB_OK; i++) {
        if (win[i].seen || b->b[i].def->group_by) continue;
        gov_budget_state *o = state_push(&sv);
        if (!o) {
            st = GB_ERR_NOMEM;
            break;
        }
        fill_state(&b->b[i], NULL, "", 0, 0, win[i].ws, win[i].we, o);
        memcpy(o->window_id, win[i].wid, win[i].wlen);
        o->window_id[win[i].wlen] = 0;
        o->crossed_threshold = -1;
    }
    pthread_mutex_unlock(&b->mu);
    if (st != GB_OK) goto out;
    if (sv.n > 1) qsort(sv.v, sv.n, sizeof *sv.v, state_cmp);
    for (size_t i = 0; i < sv.n; i++)
        fn(&sv.v[i], arg);
out:
    free(sv.v);
    free(win);
    return st;
}

uint32_t gov_budgets_count(const gov_budgets *b)
{
    return b ? b->n : 0;
}

const gov_budget_def *gov_budgets_def(const gov_budgets *b, uint32_t index)
{
    return b && index < b->n ? b->b[index].def : NULL;
}

/* ---- persistence ----------------------------------------------------------------------------- */

static const char *k_schema =
    "CREATE TABLE IF NOT EXISTS counters("
    " budget TEXT NOT NULL, grp TEXT NOT NULL, window TEXT NOT NULL,"
    " window_start INTEGER NOT NULL, window_end INTEGER NOT NULL,"
    " used INTEGER NOT NULL, alerted REAL NOT NULL DEFAULT -1,"
    " bucket_width INTEGER NOT NULL DEFAULT 0, buckets BLOB,"
    " updated INTEGER NOT NULL,"
    " PRIMARY KEY(budget, grp, window)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS charges(budget TEXT NOT NULL, ids BLOB NOT NULL,"
    " seen INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS charges_seen ON charges(seen);";

static const char *k_upsert_cal =
    "INSERT INTO counters(budget, grp, window, window_start, window_end, used, alerted, updated)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(budget, grp, window) DO UPDATE SET"
    " used = used + excluded.used, alerted = max(alerted, excluded.alerted),"
    " window_start = excluded.window_start, window_end = excluded.window_end,"
    " updated = excluded.updated";

static const char *k_upsert_roll =
    "INSERT INTO counters(budget, grp, window, window_start, window_end, used, alerted,"
    " bucket_width, buckets, updated) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    " ON CONFLICT(budget, grp, window) DO UPDATE SET used = excluded.used,"
    " alerted = excluded.alerted, window_start = excluded.window_start,"
    " window_end = excluded.window_end, bucket_width = excluded.bucket_width,"
    " buckets = excluded.buckets, updated = excluded.updated";

typedef struct snap_row {
    uint32_t budget;
    char group[GROUP_MAX + 1];
    char wid[32];
    int64_t ws, we, delta, used;
    double alerted;
    roll_bucket ring[ROLL_SLOTS];
    bool rolling;
} snap_row;

static void db_err(gov_budgets *b, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "budget store: %s: %s", what, b->db ? sqlite3_errmsg(b->db) : "?");
}

static gb_status db_exec(gov_budgets *b, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(b->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errlen, "budget store: %s", msg ? msg : sqlite3_errmsg(b->db));
        sqlite3_free(msg);
        return GB_ERR_IO;
    }
    return GB_OK;
}

static void put_le64(uint8_t *p, int64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

static int64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return (int64_t)v;
}

/* Writes rows and keys in one transaction. */
static gb_status db_write(gov_budgets *b, const snap_row *rows, size_t nrows, const pend_key *keys,
                          size_t nkeys, int64_t now, char *err, size_t errlen)
{
    gb_status st = GB_OK;
    sqlite3_stmt *cal = NULL, *roll = NULL, *ins = NULL, *prune = NULL;
    bool in_tx = false;
    st = db_exec(b, "BEGIN IMMEDIATE", err, errlen);
    if (st != GB_OK) goto out;
    in_tx = true;
    if (sqlite3_prepare_v2(b->db, k_upsert_cal, -1, &cal, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(b->db, k_upsert_roll, -1, &roll, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(b->db, "INSERT INTO charges(budget, ids, seen) VALUES(?1, ?2, ?3)", -1,
                           &ins, NULL) != SQLITE_OK) {
        db_err(b, "prepare", err, errlen);
        st = GB_ERR_IO;
        goto out;
    }
    for (size_t i = 0; i < nrows; i++) {
        const snap_row *r = &rows[i];
        sqlite3_stmt *s = r->rolling ? roll : cal;
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, b->b[r->budget].def->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, r->group, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, r->wid, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, r->ws);
        sqlite3_bind_int64(s, 5, r->we);
        sqlite3_bind_int64(s, 6, r->rolling ? r->used : r->delta);
        sqlite3_bind_double(s, 7, r->alerted);
        uint8_t blob[ROLL_SLOTS * 16];
        if (r->rolling) {
            for (int k = 0; k < ROLL_SLOTS; k++) {
                put_le64(blob + 16 * k, r->ring[k].k);
                put_le64(blob + 16 * k + 8, r->ring[k].amount);
            }
            sqlite3_bind_int64(s, 8, b->b[r->budget].width);
            sqlite3_bind_blob(s, 9, blob, sizeof blob, SQLITE_STATIC);
            sqlite3_bind_int64(s, 10, now);
        } else {
            sqlite3_bind_int64(s, 8, now);
        }
        if (sqlite3_step(s) != SQLITE_DONE) {
            db_err(b, "write counter", err, errlen);
            st = GB_ERR_IO;
            goto out;
        }
    }
    for (size_t i = 0; i < nkeys; i++) {
        sqlite3_reset(ins);
        sqlite3_bind_text(ins, 1, b->b[keys[i].budget].def->name, -1, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 2, keys[i].id, 24, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, keys[i].seen);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            db_err(b, "write charge id", err, errlen);
            st = GB_ERR_IO;
            goto out;
        }
    }
    if (nkeys > 0) {
        if (sqlite3_prepare_v2(b->db,
                               "DELETE FROM charges WHERE seen < ?1 OR rowid <= "
                               "(SELECT max(rowid) FROM charges) - ?2",
                               -1, &prune, NULL) != SQLITE_OK) {
            db_err(b, "prepare", err, errlen);
            st = GB_ERR_IO;
            goto out;
        }
        sqlite3_bind_int64(prune, 1, now - b->horizon);
        sqlite3_bind_int64(prune, 2, (int64_t)b->dd_cap);
        if (sqlite3_step(prune) != SQLITE_DONE) {
            db_err(b, "prune charge ids", err, errlen);
            st = GB_ERR_IO;
            goto out;
        }
    }
    st = db_exec(b, "COMMIT", err, errlen);
    if (st == GB_OK) in_tx = false;
out:
    sqlite3_finalize(cal);
    sqlite3_finalize(roll);
    sqlite3_finalize(ins);
    sqlite3_finalize(prune);
    if (in_tx) sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* Drops clean counters of windows that ended long ago (they are in the database). */
static void evict_old(gov_budgets *b, int64_t now)
{
    for (uint32_t s = 0; s <= b->tab_mask; s++) {
        counter **pp = &b->tab[s];
        while (*pp) {
            counter *c = *pp;
            if (!c->dirty && !c->ring && c->wend > 0 && c->wend < now - EVICT_GRACE_SEC) {
                *pp = c->next;
                free(c);
                b->n_ctr--;
            } else {
                pp = &c->next;
            }
        }
    }
}

static gb_status flush_locked(gov_budgets *b, char *err, size_t errlen)
{
    gb_status st = GB_OK;
    snap_row *rows = NULL;
    size_t nrows = 0;
    pend_vec keys = {0};
    int64_t now = now_sec();

    pthread_mutex_lock(&b->mu);
    for (counter *c = b->dirty; c; c = c->next_dirty)
        nrows++;
    rows = nrows ? malloc(nrows * sizeof *rows) : NULL;
    if (nrows && !rows) {
        pthread_mutex_unlock(&b->mu);
        st = GB_ERR_NOMEM;
        goto out;
    }
    size_t i = 0;
    for (counter *c = b->dirty; c; c = c->next_dirty, i++) {
        snap_row *r = &rows[i];
        bstate *bs = &b->b[c->budget];
        r->budget = c->budget;
        memcpy(r->group, c->group, c->glen);
        r->group[c->glen] = 0;
        memcpy(r->wid, c->wid, c->wlen);
        r->wid[c->wlen] = 0;
        r->alerted = c->alerted >= 0 ? bs->th[c->alerted] : -1;
        r->rolling = c->ring != NULL;
        if (r->rolling) {
            memcpy(r->ring, c->ring, sizeof r->ring);
            int64_t ref = c->newest > now ? c->newest : now;
            r->used = roll_used(bs, c, ref);
            r->ws = ref - bs->def->window.rolling_sec;
            r->we = ref;
        } else {
            r->ws = c->wstart;
            r->we = c->wend;
            r->delta = c->delta;
            c->delta = 0;
        }
        c->dirty = false;
    }
    b->dirty = NULL;
    keys = b->pend;
    memset(&b->pend, 0, sizeof b->pend);
    if (now - b->last_evict >= 60) {
        evict_old(b, now);
        b->last_evict = now;
    }
    pthread_mutex_unlock(&b->mu);

    if (nrows == 0 && keys.n == 0) goto out;
    st = db_write(b, rows, nrows, keys.v, keys.n, now, err, errlen);
    if (st == GB_OK) goto out;
    /* put everything back for the next attempt */
    pthread_mutex_lock(&b->mu);
    for (i = 0; i < nrows; i++) {
        const snap_row *r = &rows[i];
        counter *c;
        if (ctr_get(b, r->budget, r->group, strlen(r->group), r->wid, strlen(r->wid), &c) != GB_OK)
            continue;
        if (!r->rolling) {
            c->delta += r->delta;
            if (!c->wend) {
                c->wstart = r->ws;
                c->wend = r->we;
            }
        }
        ctr_mark_dirty(b, c);
    }
    for (i = 0; i < keys.n; i++)
        pend_push(&b->pend, keys.v[i].id, keys.v[i].budget, keys.v[i].seen, b->dd_cap);
    pthread_mutex_unlock(&b->mu);
out:
    free(rows);
    free(keys.v);
    return st;
}

gb_status gov_budgets_flush(gov_budgets *b)
{
    gb_status st = GB_OK;
    char err[256];
    if (!b) return GB_ERR_INVALID;
    if (!b->persist) goto out;
    pthread_mutex_lock(&b->flush_mu);
    st = flush_locked(b, err, sizeof err);
    pthread_mutex_unlock(&b->flush_mu);
    if (st != GB_OK) {
        gb_log(GB_LOG_WARN, "governance/budgets",
               "writing budget state failed (kept for the next attempt): %s",
               st == GB_ERR_IO ? err : gb_status_str(st));
    }
out:
    return st;
}

static void *flusher_main(void *arg)
{
    gov_budgets *b = arg;
    pthread_mutex_lock(&b->cv_mu);
    while (!b->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_nsec + (b->flush_ms % 1000) * 1000000;
        ts.tv_sec += (time_t)(b->flush_ms / 1000 + ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        pthread_cond_timedwait(&b->cv, &b->cv_mu, &ts);
        if (b->stop) break;
        pthread_mutex_unlock(&b->cv_mu);
        gov_budgets_flush(b); /* a failure is retried on the next tick */
        pthread_mutex_lock(&b->cv_mu);
    }
    pthread_mutex_unlock(&b->cv_mu);
    return NULL;
}

/* Creates the directory holding path (one level) when it is missing. */
static gb_status make_parent(const char *path, char *err, size_t errlen)
{
    gb_status st = GB_OK;
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) goto out;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) {
        snprintf(err, errlen, "budget store: path too long");
        st = GB_ERR_IO;
        goto out;
    }
    memcpy(dir, path, n);
    dir[n] = 0;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "budget store: cannot create directory %s: %s", dir, strerror(errno));
        st = GB_ERR_IO;
    }
out:
    return st;
}

static int budget_by_name(const gov_budgets *b, const char *name)
{
    for (uint32_t i = 0; i < b->n; i++) {
        if (strcmp(b->b[i].def->name, name) == 0) return (int)i;
    }
    return -1;
}

static int alerted_index(const bstate *bs, double v)
{
    int r = -1;
    if (v < 0) return -1;
    for (uint32_t i = 0; i < bs->nth; i++) {
        if (bs->th[i] <= v) r = (int)i;
    }
    return r;
}

static gb_status db_load(gov_budgets *b, int64_t now, char *err, size_t errlen)
{
    gb_status st = GB_OK;
    sqlite3_stmt *s = NULL;
    pend_key *keys = NULL;
    if (sqlite3_prepare_v2(b->db,
                           "SELECT budget, grp, window, window_start, window_end, used, alerted,"
                           " bucket_width, buckets FROM counters WHERE window_end > ?1 OR"
                           " bucket_width > 0",
                           -1, &s, NULL) != SQLITE_OK) {
        db_err(b, "load counters", err, errlen);
        st = GB_ERR_IO;
        goto out;
    }
    sqlite3_bind_int64(s, 1, now - EVICT_GRACE_SEC);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        const char *grp = (const char *)sqlite3_column_text(s, 1);
        const char *wid = (const char *)sqlite3_column_text(s, 2);
        int bi = name ? budget_by_name(b, name) : -1;
        if (bi < 0 || !grp || !wid) continue;
        bstate *bs = &b->b[bi];
        int64_t width = sqlite3_column_int64(s, 7);
        bool row_rolling = width > 0;
        if (row_rolling != bs->rolling) continue; /* the window kind changed */
        if (bs->rolling) wid = bs->rid;           /* a changed duration keeps its buckets */
        size_t glen = strlen(grp), wlen = strlen(wid);
        if (glen > GROUP_MAX || wlen > 31) continue;
        counter *c;
        st = ctr_get(b, (uint32_t)bi, grp, glen, wid, wlen, &c);
        if (st != GB_OK) {
            snprintf(err, errlen, "budget store: loading counters: %s", gb_status_str(st));
            goto out;
        }
        int a = alerted_index(bs, sqlite3_column_double(s, 6));
        if (a > c->alerted) c->alerted = (int8_t)a;
        if (!bs->rolling) {
            c->used += sqlite3_column_int64(s, 5);
            c->wstart = sqlite3_column_int64(s, 3);
            c->wend = sqlite3_column_int64(s, 4);
            continue;
        }
        const uint8_t *blob = sqlite3_column_blob(s, 8);
        int blen = sqlite3_column_bytes(s, 8);
        for (int k = 0; blob && k + 1 <= blen / 16; k++) {
            int64_t bk = get_le64(blob + 16 * k), amt = get_le64(blob + 16 * k + 8);
            if (bk < 0 || amt == 0 || bk > INT64_MAX / width) continue;
            int64_t t0 = bk * width;
            roll_add(bs, c, t0, amt);
        }
    }
    if (rc != SQLITE_DONE) {
        db_err(b, "load counters", err, errlen);
        st = GB_ERR_IO;
        goto out;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (b->dd_cap == 0) goto out;
    if (sqlite3_prepare_v2(b->db,
                           "SELECT budget, ids, seen FROM charges WHERE seen >= ?1"
                           " ORDER BY rowid DESC LIMIT ?2",
                           -1, &s, NULL) != SQLITE_OK) {
        db_err(b, "load charge ids", err, errlen);
        st = GB_ERR_IO;
        goto out;
    }
    sqlite3_bind_int64(s, 1, now - b->horizon);
    sqlite3_bind_int64(s, 2, (int64_t)b->dd_cap);
    size_t n = 0, cap = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        int bi = name ? budget_by_name(b, name) : -1;
        if (bi < 0 || sqlite3_column_bytes(s, 1) != 24) continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            pend_key *nk = realloc(keys, ncap * sizeof *nk);
            if (!nk) {
                st = GB_ERR_NOMEM;
                goto out;
            }
            keys = nk;
            cap = ncap;
        }
        memcpy(keys[n].id, sqlite3_column_blob(s, 1), 24);
        keys[n].budget = (uint32_t)bi;
        keys[n].seen = sqlite3_column_int64(s, 2);
        n++;
    }
    if (rc != SQLITE_DONE) {
        db_err(b, "load charge ids", err, errlen);
        st = GB_ERR_IO;
        goto out;
    }
    for (size_t i = n; i-- > 0;) { /* oldest first */
        uint64_t h = dd_hash(keys[i].id, keys[i].budget);
        if (b->ring_n > 0 && dd_contains(b, keys[i].id, keys[i].budget, h, now)) continue;
        int64_t seen = keys[i].seen < b->dd_base ? b->dd_base : keys[i].seen;
        dd_insert(b, keys[i].id, keys[i].budget, h, seen);
    }
out:
    sqlite3_finalize(s);
    free(keys);
    return st;
}

static gb_status db_open(gov_budgets *b, const char *path, int64_t now, char *err, size_t errlen)
{
    gb_status st = make_parent(path, err, errlen);
    if (st != GB_OK) goto out;
    if (sqlite3_open_v2(path, &b->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "budget store: cannot open %s: %s", path,
                 b->db ? sqlite3_errmsg(b->db) : "out of memory");
        st = GB_ERR_IO;
        goto out;
    }
    sqlite3_busy_timeout(b->db, 5000);
    sqlite3_stmt *s = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(b->db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        version = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    if (version < 0) {
        snprintf(err, errlen, "budget store: %s is not a usable SQLite database: %s", path,
                 sqlite3_errmsg(b->db));
        st = GB_ERR_IO;
        goto out;
    }
    if (version > SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "budget store: %s has schema version %d, newer than this collector's %d", path,
                 version, SCHEMA_VERSION);
        st = GB_ERR_IO;
        goto out;
    }
    st = db_exec(b, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", err, errlen);
    if (st != GB_OK) goto out;
    if (version < SCHEMA_VERSION) {
        st = db_exec(b, "BEGIN", err, errlen);
        if (st == GB_OK) st = db_exec(b, k_schema, err, errlen);
        if (st == GB_OK) st = db_exec(b, "PRAGMA user_version = 1; COMMIT", err, errlen);
        if (st != GB_OK) {
            sqlite3_exec(b->db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
    }
    char sql[160];
    snprintf(sql, sizeof sql, "DELETE FROM counters WHERE bucket_width = 0 AND window_end < %lld",
             (long long)(now - PRUNE_AFTER_SEC));
    st = db_exec(b, sql, err, errlen);
    if (st != GB_OK) goto out;
    st = db_load(b, now, err, errlen);
out:
    return st;
}

/* ---- open / close ---------------------------------------------------------------------------- */

gb_status gov_budgets_open(const gov_budget_def *defs, uint32_t n, const gov_budgets_opts *opts,
                           gov_budgets **out, char *err, size_t errlen)
{
    gb_status st = GB_OK;
    gov_budgets *b = NULL;
    static const double k_default_th[] = {50, 80, 95, 100};
    if (errlen) err[0] = 0;
    *out = NULL;
    if (n > 0 && !defs) {
        snprintf(err, errlen, "budget store: no definitions");
        st = GB_ERR_INVALID;
        goto fail;
    }
    b = calloc(1, sizeof *b);
    if (!b) {
        st = GB_ERR_NOMEM;
        goto fail;
    }
    pthread_mutex_init(&b->mu, NULL);
    pthread_mutex_init(&b->flush_mu, NULL);
    pthread_mutex_init(&b->cv_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    b->dd_cap = opts && opts->dedup_capacity ? opts->dedup_capacity : 1000000u;
    if (b->dd_cap > (1u << 26)) b->dd_cap = 1u << 26; /* 3 GB of address space */
    b->horizon = opts && opts->dedup_horizon_sec > 0 ? opts->dedup_horizon_sec : 86400;
    b->flush_ms = opts && opts->flush_interval_ms > 0 ? opts->flush_interval_ms : 1000;
    b->max_ctr = opts && opts->max_counters ? opts->max_counters : DEFAULT_MAX_CTRS;
    int64_t now = now_sec();
    b->dd_base = now - b->horizon - 1;
    b->last_evict = now;
    /* anonymous mappings are untouched zero pages: resident memory grows only as keys arrive
     * (calloc may take them from the heap and clear them all at once) */
    uint32_t isize = 1;
    while (isize < 2u * b->dd_cap)
        isize <<= 1;
    b->ring_bytes = (size_t)b->dd_cap * sizeof *b->ring;
    b->idx_bytes = (size_t)isize * sizeof *b->idx;
    void *ring =
        mmap(NULL, b->ring_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *idx =
        mmap(NULL, b->idx_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    b->ring = ring == MAP_FAILED ? NULL : ring;
    b->idx = idx == MAP_FAILED ? NULL : idx;
    b->idx_mask = isize - 1;
#ifdef MADV_HUGEPAGE
    /* the index is probed at random: 2 MB pages spare a TLB miss per charge where THP is on */
    if (b->idx && b->idx_bytes >= (2u << 20)) madvise(b->idx, b->idx_bytes, MADV_HUGEPAGE);
#endif
    if (!b->ring || !b->idx) {
        snprintf(err, errlen, "budget store: no memory for %u de-dup keys", b->dd_cap);
        st = GB_ERR_NOMEM;
        goto fail;
    }
    b->tab = calloc(64, sizeof *b->tab);
    b->b = calloc(n ? n : 1, sizeof *b->b);
    if (!b->tab || !b->b) {
        st = GB_ERR_NOMEM;
        goto fail;
    }
    b->tab_mask = 63;
    b->n = n;
    for (uint32_t i = 0; i < n; i++) {
        const gov_budget_def *d = &defs[i];
        bstate *bs = &b->b[i];
        bs->def = d;
        if (!d->name || !*d->name || d->limit_nusd <= 0 || d->n_match > GOV_BUDGET_MAX_MATCH ||
            d->n_thresholds > GOV_BUDGET_MAX_THRESHOLDS) {
            snprintf(err, errlen, "budget %u (%s): needs a name and a positive limit", i,
                     d->name ? d->name : "?");
            st = GB_ERR_INVALID;
            goto fail;
        }
        for (uint32_t k = 0; k < i; k++) {
            if (strcmp(defs[k].name, d->name) == 0) {
                snprintf(err, errlen, "budget %s: defined twice (names key the stored state)",
                         d->name);
                st = GB_ERR_INVALID;
                goto fail;
            }
        }
        for (uint32_t k = 0; k < d->n_match; k++) {
            if (!d->match[k].key || !d->match[k].value) {
                snprintf(err, errlen, "budget %s: match %u needs a key and a value", d->name, k);
                st = GB_ERR_INVALID;
                goto fail;
            }
        }
        if (d->n_thresholds == 0) {
            memcpy(bs->th, k_default_th, sizeof k_default_th);
            bs->nth = 4;
        } else {
            for (uint32_t k = 0; k < d->n_thresholds; k++) {
                if (!(d->thresholds[k] > 0) || (k > 0 && d->thresholds[k] <= bs->th[k - 1]) ||
                    d->thresholds[k] > 1e6) {
                    snprintf(err, errlen,
                             "budget %s: thresholds must be positive percentages in ascending "
                             "order",
                             d->name);
                    st = GB_ERR_INVALID;
                    goto fail;
                }
                bs->th[k] = d->thresholds[k];
            }
            bs->nth = d->n_thresholds;
        }
        bs->warn_at = INFINITY;
        for (uint32_t k = 0; k < bs->nth; k++) {
            if (bs->th[k] < 100) {
                bs->warn_at = bs->th[k];
                break;
            }
        }
        if (d->window.kind == GOV_WINDOW_ROLLING) {
            if (d->window.rolling_sec < 60) {
                snprintf(err, errlen, "budget %s: a rolling window lasts at least 1 minute",
                         d->name);
                st = GB_ERR_INVALID;
                goto fail;
            }
            bs->rolling = true;
            bs->width = (d->window.rolling_sec + ROLL_SLOTS - 1) / ROLL_SLOTS;
            bs->nb = (d->window.rolling_sec + bs->width - 1) / bs->width;
            int64_t ws, we;
            gov_window_at(&d->window, 0, bs->rid, &ws, &we);
        } else if (d->window.kind > GOV_WINDOW_YEAR) {
            snprintf(err, errlen, "budget %s: unknown window kind", d->name);
            st = GB_ERR_INVALID;
            goto fail;
        }
    }
    if (opts && opts->db_path && *opts->db_path) {
        b->persist = true;
        st = db_open(b, opts->db_path, now, err, errlen);
        if (st != GB_OK) goto fail;
        if (pthread_create(&b->thr, NULL, flusher_main, b) != 0) {
            snprintf(err, errlen, "budget store: cannot start the flusher thread");
            st = GB_ERR_IO;
            goto fail;
        }
        b->thr_started = true;
    }
    *out = b;
    b = NULL;
fail:
    gov_budgets_close(b);
    return st;
}

void gov_budgets_close(gov_budgets *b)
{
    if (!b) return;
    if (b->thr_started) {
        pthread_mutex_lock(&b->cv_mu);
        b->stop = true;
        pthread_cond_signal(&b->cv);
        pthread_mutex_unlock(&b->cv_mu);
        pthread_join(b->thr, NULL);
    }
    if (b->db) {
        if (b->thr_started) gov_budgets_flush(b);
        sqlite3_close(b->db);
    }
    if (b->tab) {
        for (uint32_t s = 0; s <= b->tab_mask; s++) {
            counter *c = b->tab[s];
            while (c) {
                counter *next = c->next;
                free(c->ring);
                free(c);
                c = next;
            }
        }
    }
    free(b->tab);
    free(b->b);
    if (b->ring) munmap(b->ring, b->ring_bytes);
    if (b->idx) munmap(b->idx, b->idx_bytes);
    free(b->pend.v);
    pthread_mutex_destroy(&b->mu);
    pthread_mutex_destroy(&b->flush_mu);
    pthread_mutex_destroy(&b->cv_mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

/* ---- matching and groups --------------------------------------------------------------------- */

static const pd_any *find_attr(const char *key, const pd_attrs *span, const pd_attrs *resource)
{
    gb_str k = gb_str_c(key);
    const pd_kv *kv = span ? pd_attrs_find(span, k) : NULL;
    if (!kv && resource) kv = pd_attrs_find(resource, k);
    return kv ? &kv->value : NULL;
}

bool gov_budget_matches(const gov_budget_def *def, const pd_attrs *span, const pd_attrs *resource)
{
    for (uint32_t i = 0; i < def->n_match; i++)
        if (!gov_attr_match_holds(&def->match[i], span, resource)) return false;
    return true;
}

gb_str gov_budget_group(const gov_budget_def *def, const pd_attrs *span, const pd_attrs *resource)
{
    static _Thread_local char buf[PD_ANY_TEXT_MAX];
    if (!def->group_by) return GB_STR_LIT("");
    const pd_any *v = find_attr(def->group_by, span, resource);
    gb_str s;
    if (!v || !pd_any_scalar_text(v, buf, &s)) return GB_STR_LIT("unknown");
    return s;
}

/* ---- status and JSON ------------------------------------------------------------------------- */

const char *gov_budget_status_str(gov_budget_status s)
{
    switch (s) {
    case GOV_BUDGET_OK:
        return "ok";
    case GOV_BUDGET_WARNING:
        return "warning";
    case GOV_BUDGET_EXCEEDED:
        return "exceeded";
    }
    return "unknown";
}

/* Exact decimal USD from nano-USD: 1500000000 -> "1.5", -250 -> "-0.00000025". */
static void put_usd(gb_sbuf *out, int64_t nusd)
{
    uint64_t a = nusd < 0 ? (uint64_t)0 - (uint64_t)nusd : (uint64_t)nusd;
    uint64_t whole = a / 1000000000u, frac = a % 1000000000u;
    char f[16];
    int nf = 0;
    if (frac) {
        nf = snprintf(f, sizeof f, "%09" PRIu64, frac);
        while (nf > 0 && f[nf - 1] == '0')
            nf--;
    }
    gb_sbuf_printf(out, "%s%" PRIu64, nusd < 0 ? "-" : "", whole);
    if (nf) gb_sbuf_printf(out, ".%.*s", nf, f);
}

static void put_time(gb_sbuf *out, int64_t t)
{
    int64_t y;
    int m, d;
    int64_t days = gov_floor_div(t, 86400), sec = t - days * 86400;
    gov_civil_from_days(days, &y, &m, &d);
    gb_sbuf_printf(out, "\"%04lld-%02d-%02dT%02d:%02d:%02dZ\"", (long long)y, m, d,
                   (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
}

gb_status gov_budget_state_json(const gov_budget_state *s, gb_sbuf *out)
{
    if (!s || !s->def || !out) return GB_ERR_INVALID;
    const char *name = s->def->name;
    gb_sbuf_puts(out, "{\"name\":\"");
    gb_sbuf_json_escape(out, name, strlen(name));
    gb_sbuf_puts(out, "\",\"group\":\"");
    gb_sbuf_json_escape(out, s->group, strlen(s->group));
    gb_sbuf_puts(out, "\",\"window\":\"");
    gb_sbuf_json_escape(out, s->window_id, strlen(s->window_id));
    gb_sbuf_puts(out, "\",\"window_start\":");
    put_time(out, s->window_start);
    gb_sbuf_puts(out, ",\"reset_at\":");
    put_time(out, s->window_end);
    gb_sbuf_puts(out, ",\"limit\":");
    put_usd(out, s->limit_nusd);
    gb_sbuf_puts(out, ",\"used\":");
    put_usd(out, s->used_nusd);
    gb_sbuf_puts(out, ",\"remaining\":");
    put_usd(out, s->remaining_nusd);
    char u[64];
    snprintf(u, sizeof u, "%.15g", s->utilization);
    if (strtod(u, NULL) != s->utilization) snprintf(u, sizeof u, "%.17g", s->utilization);
    if (!isfinite(s->utilization)) snprintf(u, sizeof u, "0");
    gb_sbuf_printf(out, ",\"utilization\":%s,\"status\":\"%s\",\"currency\":\"USD\"}", u,
                   gov_budget_status_str(s->status));
    return out->err;
}
