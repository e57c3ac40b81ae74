/* batch processor (otelcol processor/batchprocessor).
 *
 * What: accumulates incoming batches per "batcher" (one per distinct combination of the values of
 * metadata_keys in the batch's client metadata, or a single one) and sends a merged batch
 * downstream when send_batch_size items are pending (in the calling thread) or when `timeout`
 * has passed since the first pending item (in the flush thread). Outputs are split at
 * send_batch_max_size.
 *
 * How: nothing is copied item by item. An output is a new pd_batch whose resource array holds
 * shallow copies of the inputs' resource entries and which holds a reference on every input it
 * points into (pd_batch_hold_batch). A split cuts an input at an item offset: the output gets
 * new resource/scope (and, for metrics, metric) entries in its own arena whose arrays point to a
 * sub-range of the input's span/metric-point/log arrays. Entries shared by two outputs get their
 * own copy of the attribute array (not of the strings), so a mutating consumer downstream never
 * writes through memory another output sees. An output is read-only when any input was.
 *
 * Memory is bounded: a batcher refuses new data with GB_ERR_RETRY when its pending items would
 * exceed 2 x max(send_batch_size, send_batch_max_size) or while a downstream RETRY is being
 * retried. Data already accepted is never dropped silently: an output refused downstream with
 * RETRY is kept (we send with an extra reference) and retried by the flush thread with backoff;
 * permanent errors and data still pending at the shutdown deadline are counted and logged.
 *
 * Rejected: copying into a growing output batch (one copy per span, the cost we are avoiding);
 * a channel + single goroutine as in otelcol (serializes every receiver thread through one
 * thread; here the critical section is a pointer append and a few struct copies); dropping on
 * downstream errors as otelcol does (silently loses data the client was told was accepted). */
#include "batch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/telemetry.h"
#include "base/timeutil.h"
#include "processor/procutil/procutil.h"

/* ---- config ------------------------------------------------------------------------------ */

gb_status batch_check(const batch_cfg *c, char *err, size_t errlen)
{
    if (c->timeout < 0) {
        snprintf(err, errlen, "timeout must not be negative");
        return GB_ERR_INVALID;
    }
    if (c->send_batch_size < 0 || c->send_batch_max_size < 0) {
        snprintf(err, errlen, "send_batch_size and send_batch_max_size must not be negative");
        return GB_ERR_INVALID;
    }
    if (c->send_batch_max_size > 0 && c->send_batch_max_size < c->send_batch_size) {
        snprintf(err, errlen, "send_batch_max_size must be greater or equal to send_batch_size");
        return GB_ERR_INVALID;
    }
    if (c->metadata_keys.n > 0 && c->metadata_cardinality_limit <= 0) {
        snprintf(err, errlen, "metadata_cardinality_limit must be greater than 0");
        return GB_ERR_INVALID;
    }
    for (uint32_t i = 0; i < c->metadata_keys.n; i++) {
        for (uint32_t j = 0; j < i; j++) {
            if (strcasecmp(c->metadata_keys.v[i], c->metadata_keys.v[j]) == 0) {
                snprintf(err, errlen, "duplicate entry in metadata_keys: %s",
                         c->metadata_keys.v[i]);
                return GB_ERR_INVALID;
            }
        }
    }
    return GB_OK;
}

static void batch_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    char err[256];
    if (batch_check(obj, err, sizeof err) != GB_OK) procutil_diag(d, node, path, err);
}

static const cfg_field batch_fields[] = {
    {.key = "timeout",
     .type = CFG_T_DURATION,
     .offset = offsetof(batch_cfg, timeout),
     .def = "200ms",
     .doc = "time after which a batch is sent regardless of size"},
    {.key = "send_batch_size",
     .type = CFG_T_INT,
     .offset = offsetof(batch_cfg, send_batch_size),
     .def = "8192",
     .doc = "number of items after which a batch is sent regardless of the timeout",
     .min = 0,
     .max = 4294967295.0},
    {.key = "send_batch_max_size",
     .type = CFG_T_INT,
     .offset = offsetof(batch_cfg, send_batch_max_size),
     .def = "0",
     .doc = "upper bound of a sent batch; larger batches are split (0 = no limit)",
     .min = 0,
     .max = 4294967295.0},
    {.key = "metadata_keys",
     .type = CFG_T_STRINGS,
     .offset = offsetof(batch_cfg, metadata_keys),
     .doc = "client metadata keys; one batcher per distinct combination of their values"},
    {.key = "metadata_cardinality_limit",
     .type = CFG_T_INT,
     .offset = offsetof(batch_cfg, metadata_cardinality_limit),
     .def = "1000",
     .doc = "maximum number of distinct metadata value combinations",
     .min = 0,
     .max = 4294967295.0},
};

CFG_TABLE(batch_cfg_table, batch_fields, batch_validate);

/* ---- state ------------------------------------------------------------------------------- */

typedef struct pend {
    pd_batch *b;
    uint64_t count;
} pend;

typedef struct batcher batcher;
struct batcher {
    batcher *next;  /* all batchers (never removed, as in otelcol) */
    batcher *hnext; /* hash chain */
    uint64_t hash;
    char *key; /* partition key bytes */
    size_t key_len;
    pd_meta_entry *meta; /* metadata of the partition (heap), copied into each output */
    uint32_t n_meta;

    pend *q; /* FIFO: q[head .. head+len) */
    uint32_t q_head, q_len, q_cap;
    uint64_t head_off; /* items of q[head] already sent */
    uint64_t items;    /* pending items not yet in an output */
    int64_t deadline;  /* gb_mono_ns; 0 = none */

    pd_batch **retry; /* outputs refused downstream with RETRY, oldest first */
    uint32_t n_retry, cap_retry;
    uint64_t retry_items;
    int64_t retry_at;
    int64_t backoff;
    bool retrying; /* the flush thread is resending retry[0] */
};

#define BATCH_HBUCKETS      256
#define BATCH_BACKOFF_MIN   (20 * GB_NS_PER_MS)
#define BATCH_BACKOFF_MAX   (2 * GB_NS_PER_S)
#define BATCH_DEFAULT_BOUND 16384u

typedef struct batch_state {
    pl_component *c;
    batch_cfg cfg;
    char **mkeys; /* metadata keys, lower-cased copies */
    uint32_t n_mkeys;
    uint64_t bound; /* max pending items per batcher */

    pthread_mutex_t mu;
    pthread_cond_t wake; /* flush thread */
    pthread_cond_t idle; /* n_sending dropped to 0 */
    pthread_t thread;
    bool thread_started;
    bool stopping;
    bool closed;
    bool shut;
    uint32_t n_sending;

    batcher *all;
    batcher *single; /* when no metadata_keys */
    batcher *buckets[BATCH_HBUCKETS];
    uint32_t n_batchers;

    batch_stats st;

    gb_series *m_send_size;
    gb_series *m_size_trigger;
    gb_series *m_timeout_trigger;
    gb_series *m_cardinality;
} batch_state;

typedef enum { TRIG_SIZE, TRIG_TIMEOUT } trigger;

static const double send_size_bounds[] = {10,   25,    50,    75,    100,   250,   500,  750,
                                          1000, 2000,  3000,  4000,  5000,  6000,  7000, 8000,
                                          9000, 10000, 20000, 30000, 50000, 100000};

/* ---- slicing ------------------------------------------------------------------------------ */

/* Does the container of items [cs, ce) belong to the output range [from, to) of a source with
 * total items? Empty containers go with the range that starts at their position, or the last
 * range when they sit at the end. */
static bool in_range(uint64_t cs, uint64_t ce, uint64_t from, uint64_t to, uint64_t total)
{
    if (ce > cs) return cs < to && ce > from;
    return (cs >= from && cs < to) || (cs == to && to == total);
}

static bool whole(uint64_t cs, uint64_t ce, uint64_t from, uint64_t to)
{
    return cs >= from && ce <= to;
}

/* Private copy of an attribute array (entries only; keys and values still point where they
 * did), so an entry shared by two outputs can be mutated independently. */
static gb_status own_attrs(gb_arena *a, pd_attrs *at)
{
    if (at->n == 0) {
        at->v = NULL;
        at->cap = 0;
        return GB_OK;
    }
    pd_kv *v = gb_arena_alloc(a, sizeof(pd_kv) * at->n);
    if (!v) return GB_ERR_NOMEM;
    memcpy(v, at->v, sizeof(pd_kv) * at->n);
    at->v = v;
    at->cap = at->n;
    return GB_OK;
}

static uint64_t sm_items(const pd_scope_metrics *sm)
{
    uint64_t n = 0;
    for (uint32_t k = 0; k < sm->n_metrics; k++)
        n += sm->metrics[k].n_dp;
    return n;
}

static uint64_t rm_items(const pd_resource_metrics *rm)
{
    uint64_t n = 0;
    for (uint32_t j = 0; j < rm->n_scope_metrics; j++)
        n += sm_items(&rm->scope_metrics[j]);
    return n;
}

/* Traces and logs have the same two-level shape (resource -> scope -> items); one definition
 * serves both. RT/ST: resource and scope entry types; SCOPES/ITEMS: their array fields (the
 * counts are n_<field>); U: the batch union member. */
#define DEFINE_SLICE(NAME, RT, ST, SCOPES, N_SCOPES, ITEMS, N_ITEMS, U)                            \
    static uint64_t NAME##_items(const RT *r)                                                      \
    {                                                                                              \
        uint64_t n = 0;                                                                            \
        for (uint32_t j = 0; j < r->N_SCOPES; j++)                                                 \
            n += r->SCOPES[j].N_ITEMS;                                                             \
        return n;                                                                                  \
    }                                                                                              \
    static gb_status NAME(gb_arena *a, const pd_batch *src, uint64_t from, uint64_t to,            \
                          uint64_t total, RT *dst, uint32_t *nd)                                   \
    {                                                                                              \
        uint64_t pos = 0;                                                                          \
        for (uint32_t i = 0; i < src->u.U.n; i++) {                                                \
            const RT *r = &src->u.U.v[i];                                                          \
            uint64_t rstart = pos;                                                                 \
            pos += NAME##_items(r);                                                                \
            if (!in_range(rstart, pos, from, to, total)) continue;                                 \
            RT *d = &dst[(*nd)++];                                                                 \
            *d = *r;                                                                               \
            if (whole(rstart, pos, from, to)) continue;                                            \
            if (own_attrs(a, &d->resource.attrs)) return GB_ERR_NOMEM;                             \
            d->SCOPES = gb_arena_alloc(a, sizeof(ST) * (r->N_SCOPES ? r->N_SCOPES : 1));           \
            if (!d->SCOPES) return GB_ERR_NOMEM;                                                   \
            d->N_SCOPES = 0;                                                                       \
            uint64_t spos = rstart;                                                                \
            for (uint32_t j = 0; j < r->N_SCOPES; j++) {                                           \
                const ST *sc = &r->SCOPES[j];                                                      \
                uint64_t sstart = spos;                                                            \
                spos += sc->N_ITEMS;                                                               \
                if (!in_range(sstart, spos, from, to, total)) continue;                            \
                ST *ds = &d->SCOPES[d->N_SCOPES++];                                                \
                *ds = *sc;                                                                         \
                if (whole(sstart, spos, from, to)) continue;                                       \
                if (own_attrs(a, &ds->scope.attrs)) return GB_ERR_NOMEM;                           \
                uint64_t lo = from > sstart ? from : sstart, hi = to < spos ? to : spos;           \
                ds->ITEMS = sc->ITEMS + (lo - sstart);                                             \
                ds->N_ITEMS = (uint32_t)(hi - lo);                                                 \
            }                                                                                      \
        }                                                                                          \
        return GB_OK;                                                                              \
    }

DEFINE_SLICE(slice_traces, pd_resource_spans, pd_scope_spans, scope_spans, n_scope_spans, spans,
             n_spans, traces)
DEFINE_SLICE(slice_logs, pd_resource_logs, pd_scope_logs, scope_logs, n_scope_logs, logs, n_logs,
             logs)

static void metric_cut(pd_metric *m, uint64_t skip, uint32_t n)
{
    switch (m->type) {
    case PD_METRIC_GAUGE:
    case PD_METRIC_SUM:
        m->dp.number += skip;
        break;
    case PD_METRIC_HISTOGRAM:
        m->dp.histogram += skip;
        break;
    case PD_METRIC_EXP_HISTOGRAM:
        m->dp.exp_histogram += skip;
        break;
    case PD_METRIC_SUMMARY:
        m->dp.summary += skip;
        break;
    case PD_METRIC_EMPTY:
        break;
    }
    m->n_dp = n;
}

static gb_status slice_scope_metrics(gb_arena *a, const pd_scope_metrics *sm, uint64_t sstart,
                                     uint64_t from, uint64_t to, uint64_t total,
                                     pd_scope_metrics *ds)
{
    if (own_attrs(a, &ds->scope.attrs)) return GB_ERR_NOMEM;
    ds->metrics = gb_arena_alloc(a, sizeof(pd_metric) * (sm->n_metrics ? sm->n_metrics : 1));
    if (!ds->metrics) return GB_ERR_NOMEM;
    ds->n_metrics = 0;
    uint64_t mpos = sstart;
    for (uint32_t k = 0; k < sm->n_metrics; k++) {
        const pd_metric *m = &sm->metrics[k];
        uint64_t mstart = mpos;
        mpos += m->n_dp;
        if (!in_range(mstart, mpos, from, to, total)) continue;
        pd_metric *dm = &ds->metrics[ds->n_metrics++];
        *dm = *m;
        if (whole(mstart, mpos, from, to)) continue;
        if (own_attrs(a, &dm->metadata)) return GB_ERR_NOMEM;
        uint64_t lo = from > mstart ? from : mstart, hi = to < mpos ? to : mpos;
        metric_cut(dm, lo - mstart, (uint32_t)(hi - lo));
    }
    return GB_OK;
}

static gb_status slice_metrics(gb_arena *a, const pd_batch *src, uint64_t from, uint64_t to,
                               uint64_t total, pd_resource_metrics *dst, uint32_t *nd)
{
    uint64_t pos = 0;
    for (uint32_t i = 0; i < src->u.metrics.n; i++) {
        const pd_resource_metrics *rm = &src->u.metrics.v[i];
        uint64_t rn = rm_items(rm), rstart = pos;
        pos += rn;
        if (!in_range(rstart, pos, from, to, total)) continue;
        pd_resource_metrics *d = &dst[(*nd)++];
        *d = *rm;
        if (whole(rstart, pos, from, to)) continue;
        if (own_attrs(a, &d->resource.attrs)) return GB_ERR_NOMEM;
        d->scope_metrics = gb_arena_alloc(a, sizeof(pd_scope_metrics) * rm->n_scope_metrics);
        if (!d->scope_metrics) return GB_ERR_NOMEM;
        d->n_scope_metrics = 0;
        uint64_t spos = rstart;
        for (uint32_t j = 0; j < rm->n_scope_metrics; j++) {
            const pd_scope_metrics *sm = &rm->scope_metrics[j];
            uint64_t sstart = spos;
            spos += sm_items(sm);
            if (!in_range(sstart, spos, from, to, total)) continue;
            pd_scope_metrics *ds = &d->scope_metrics[d->n_scope_metrics++];
            *ds = *sm;
            if (whole(sstart, spos, from, to)) continue;
            gb_status st = slice_scope_metrics(a, sm, sstart, from, to, total, ds);
            if (st) return st;
        }
    }
    return GB_OK;
}

static uint32_t n_resources(const pd_batch *b)
{
    switch (b->signal) {
    case PD_TRACES:
        return b->u.traces.n;
    case PD_METRICS:
        return b->u.metrics.n;
    case PD_LOGS:
        return b->u.logs.n;
    }
    return 0;
}

/* ---- building an output -------------------------------------------------------------------- */

/* Builds the next output of `take` items from bt's queue (lock held). On success the queue is
 * advanced and *out holds the output (one reference). On failure nothing changes. */
static gb_status build_output(batch_state *s, batcher *bt, uint64_t take, pd_batch **out)
{
    pd_signal sig = s->c->signal;
    pd_batch *o = NULL;
    gb_status st = pd_batch_new(sig, 0, &o);
    if (st) return st;

    /* Upper bound of resource entries: every resource of every contributing input. */
    uint64_t cap = 0, left = take;
    uint32_t used = 0;
    for (uint32_t i = 0; i < bt->q_len && left > 0; i++) {
        const pend *p = &bt->q[(bt->q_head + i) % bt->q_cap];
        uint64_t avail = p->count - (i == 0 ? bt->head_off : 0);
        cap += n_resources(p->b);
        left -= avail < left ? avail : left;
        used++;
    }
    size_t esz = sig == PD_TRACES    ? sizeof(pd_resource_spans)
                 : sig == PD_METRICS ? sizeof(pd_resource_metrics)
                                     : sizeof(pd_resource_logs);
    void *arr = gb_arena_alloc(&o->arena, esz * (cap ? cap : 1));
    if (!arr) {
        st = GB_ERR_NOMEM;
        goto fail;
    }
    uint32_t nd = 0;
    left = take;
    for (uint32_t i = 0; i < used; i++) {
        const pend *p = &bt->q[(bt->q_head + i) % bt->q_cap];
        uint64_t from = i == 0 ? bt->head_off : 0;
        uint64_t avail = p->count - from;
        uint64_t t = avail < left ? avail : left;
        left -= t;
        st = pd_batch_hold_batch(o, p->b);
        if (st) goto fail;
        if (p->b->read_only) o->read_only = true;
        if (o->transport == NULL) o->transport = p->b->transport;
        if (from == 0 && t == p->count) {
            uint32_t n = n_resources(p->b);
            const void *src = sig == PD_TRACES    ? (const void *)p->b->u.traces.v
                              : sig == PD_METRICS ? (const void *)p->b->u.metrics.v
                                                  : (const void *)p->b->u.logs.v;
            if (n) memcpy((char *)arr + esz * nd, src, esz * n);
            nd += n;
            continue;
        }
        if (sig == PD_TRACES)
            st = slice_traces(&o->arena, p->b, from, from + t, p->count, (pd_resource_spans *)arr,
                              &nd);
        else if (sig == PD_METRICS)
            st = slice_metrics(&o->arena, p->b, from, from + t, p->count,
                               (pd_resource_metrics *)arr, &nd);
        else
            st =
                slice_logs(&o->arena, p->b, from, from + t, p->count, (pd_resource_logs *)arr, &nd);
        if (st) goto fail;
    }
    if (sig == PD_TRACES) {
        o->u.traces.v = arr;
        o->u.traces.n = nd;
    } else if (sig == PD_METRICS) {
        o->u.metrics.v = arr;
        o->u.metrics.n = nd;
    } else {
        o->u.logs.v = arr;
        o->u.logs.n = nd;
    }
    if (bt->n_meta) {
        o->meta.v = gb_arena_alloc(&o->arena, sizeof(pd_meta_entry) * bt->n_meta);
        if (!o->meta.v) {
            st = GB_ERR_NOMEM;
            goto fail;
        }
        for (uint32_t i = 0; i < bt->n_meta; i++) {
            st = gb_arena_dup(&o->arena, bt->meta[i].key.ptr, bt->meta[i].key.len,
                              &o->meta.v[i].key);
            if (st == GB_OK)
                st = gb_arena_dup(&o->arena, bt->meta[i].value.ptr, bt->meta[i].value.len,
                                  &o->meta.v[i].value);
            if (st) goto fail;
        }
        o->meta.n = bt->n_meta;
    }

    /* Commit: advance the queue; fully consumed inputs lose our reference (o holds them). */
    left = take;
    while (left > 0) {
        pend *p = &bt->q[bt->q_head];
        uint64_t avail = p->count - bt->head_off;
        if (avail > left) {
            bt->head_off += left;
            break;
        }
        left -= avail;
        pd_batch_unref(p->b);
        p->b = NULL;
        bt->q_head = (bt->q_head + 1) % bt->q_cap;
        bt->q_len--;
        bt->head_off = 0;
    }
    bt->items -= take;
    *out = o;
    return GB_OK;
fail:
    pd_batch_unref(o);
    return st;
}

/* Drops everything pending in bt (lock held): counted and logged. */
static void drop_pending(batch_state *s, batcher *bt, const char *reason)
{
    uint64_t n = bt->items;
    while (bt->q_len > 0) {
        pd_batch_unref(bt->q[bt->q_head].b);
        bt->q[bt->q_head].b = NULL;
        bt->q_head = (bt->q_head + 1) % bt->q_cap;
        bt->q_len--;
    }
    bt->head_off = 0;
    bt->items = 0;
    bt->deadline = 0;
    if (n) {
        s->st.dropped_items += n;
        gb_log(GB_LOG_ERROR, s->c->full_id, "dropped %llu %s: %s", (unsigned long long)n,
               pd_signal_item(s->c->signal), reason);
    }
}

static uint64_t take_size(const batch_state *s, const batcher *bt)
{
    uint64_t max = (uint64_t)s->cfg.send_batch_max_size;
    return max > 0 && bt->items > max ? max : bt->items;
}

static bool size_due(const batch_state *s, const batcher *bt)
{
    return bt->items > 0 && (s->cfg.timeout == 0 || bt->items >= (uint64_t)s->cfg.send_batch_size);
}

static void push_retry(batch_state *s, batcher *bt, pd_batch *o, bool front)
{
    if (bt->n_retry == bt->cap_retry) {
        uint32_t cap = bt->cap_retry ? bt->cap_retry * 2 : 4;
        pd_batch **v = realloc(bt->retry, sizeof(*v) * cap);
        if (!v) {
            uint64_t n = pd_batch_count(o);
            s->st.dropped_items += n;
            gb_log(GB_LOG_ERROR, s->c->full_id, "dropped %llu %s: out of memory",
                   (unsigned long long)n, pd_signal_item(s->c->signal));
            pd_batch_unref(o);
            return;
        }
        bt->retry = v;
        bt->cap_retry = cap;
    }
    if (front) {
        memmove(bt->retry + 1, bt->retry, sizeof(*bt->retry) * bt->n_retry);
        bt->retry[0] = o;
    } else {
        bt->retry[bt->n_retry] = o;
    }
    bt->n_retry++;
    bt->retry_items += pd_batch_count(o);
}

/* Sends o downstream (lock NOT held). We keep one reference so a RETRY answer can be resent.
 * Returns the downstream status. */
static gb_status send_output(batch_state *s, batcher *bt, pd_batch *o, trigger trig,
                             bool from_retry)
{
    pl_consumer *next = s->c->next[s->c->signal];
    uint64_t n = pd_batch_count(o);
    gb_status st;
    if (!next) {
        st = GB_ERR_PERMANENT;
        gb_log(GB_LOG_ERROR, s->c->full_id, "no downstream consumer");
    } else {
        /* A resend must see the same data: a mutating consumer works on a copy. */
        if (next->mutates) o->read_only = true;
        st = next->consume(next, pd_batch_ref(o));
    }
    pthread_mutex_lock(&s->mu);
    if (from_retry) {
        bt->retry_items -= n;
        bt->retrying = false;
    }
    if (st == GB_OK) {
        s->st.sent_batches++;
        s->st.sent_items += n;
        if (trig == TRIG_SIZE)
            s->st.size_triggers++;
        else
            s->st.timeout_triggers++;
        bt->backoff = BATCH_BACKOFF_MIN;
        pthread_mutex_unlock(&s->mu);
        gb_series_add(trig == TRIG_SIZE ? s->m_size_trigger : s->m_timeout_trigger, 1);
        gb_series_observe(s->m_send_size, (double)n);
        pd_batch_unref(o);
        return st;
    }
    if (st == GB_ERR_RETRY) {
        push_retry(s, bt, o, from_retry);
        if (bt->backoff < BATCH_BACKOFF_MIN) bt->backoff = BATCH_BACKOFF_MIN;
        if (from_retry) {
            bt->backoff *= 2;
            if (bt->backoff > BATCH_BACKOFF_MAX) bt->backoff = BATCH_BACKOFF_MAX;
        }
        bt->retry_at = gb_mono_ns() + bt->backoff;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->mu);
        return st;
    }
    s->st.dropped_items += n;
    pthread_mutex_unlock(&s->mu);
    gb_log(GB_LOG_WARN, s->c->full_id, "dropped %llu %s: downstream refused them (%s)",
           (unsigned long long)n, pd_signal_item(s->c->signal), gb_status_str(st));
    pd_batch_unref(o);
    return st;
}

/* Sends while `due` holds (lock held on entry and exit). */
static void flush_batcher(batch_state *s, batcher *bt, trigger trig)
{
    bool sent = false;
    for (;;) {
        bool due = trig == TRIG_SIZE ? size_due(s, bt) : bt->items > 0;
        if (!due) break;
        pd_batch *o = NULL;
        gb_status st = build_output(s, bt, take_size(s, bt), &o);
        if (st) {
            drop_pending(s, bt, "out of memory while building a batch");
            break;
        }
        s->n_sending++;
        sent = true;
        pthread_mutex_unlock(&s->mu);
        send_output(s, bt, o, trig, false);
        pthread_mutex_lock(&s->mu);
        if (--s->n_sending == 0) pthread_cond_broadcast(&s->idle);
    }
    if (bt->items == 0)
        bt->deadline = 0;
    else if (sent || bt->deadline == 0)
        bt->deadline = gb_mono_ns() + s->cfg.timeout;
}

/* ---- batchers ------------------------------------------------------------------------------- */

static batcher *batcher_new(batch_state *s, const char *key, size_t key_len, uint64_t hash)
{
    batcher *bt = calloc(1, sizeof *bt);
    if (!bt) return NULL;
    bt->backoff = BATCH_BACKOFF_MIN;
    bt->hash = hash;
    if (key_len) {
        bt->key = malloc(key_len);
        if (!bt->key) {
            free(bt);
            return NULL;
        }
        memcpy(bt->key, key, key_len);
        bt->key_len = key_len;
    }
    bt->next = s->all;
    s->all = bt;
    s->n_batchers++;
    return bt;
}

/* Parses the partition key back into metadata entries (key i's values, each NUL-terminated,
 * then \x01). Entries point into bt->key. */
static gb_status batcher_set_meta(batch_state *s, batcher *bt)
{
    uint32_t n = 0;
    for (size_t i = 0; i < bt->key_len; i++)
        if (bt->key[i] == '\0') n++;
    if (n == 0) return GB_OK;
    bt->meta = calloc(n, sizeof(pd_meta_entry));
    if (!bt->meta) return GB_ERR_NOMEM;
    uint32_t k = 0;
    size_t i = 0;
    while (i < bt->key_len && k < s->n_mkeys) {
        if (bt->key[i] == '\x01') {
            k++;
            i++;
            continue;
        }
        size_t j = i;
        while (bt->key[j] != '\0')
            j++;
        bt->meta[bt->n_meta].key = gb_str_c(s->mkeys[k]);
        bt->meta[bt->n_meta].value = gb_str_n(bt->key + i, j - i);
        bt->n_meta++;
        i = j + 1;
    }
    return GB_OK;
}

/* Finds or creates the batcher of b (lock held). */
static gb_status find_batcher(batch_state *s, const pd_batch *b, batcher **out)
{
    if (s->n_mkeys == 0) {
        *out = s->single;
        return GB_OK;
    }
    char stackbuf[1024];
    size_t need = 0;
    for (uint32_t k = 0; k < s->n_mkeys; k++) {
        for (uint32_t i = 0; i < b->meta.n; i++)
            if (procutil_ieq(b->meta.v[i].key.ptr, b->meta.v[i].key.len, s->mkeys[k]))
                need += b->meta.v[i].value.len + 1;
        need++;
    }
    char *key = need <= sizeof stackbuf ? stackbuf : malloc(need);
    if (!key) return GB_ERR_NOMEM;
    size_t len = 0;
    for (uint32_t k = 0; k < s->n_mkeys; k++) {
        for (uint32_t i = 0; i < b->meta.n; i++) {
            const pd_meta_entry *e = &b->meta.v[i];
            if (!procutil_ieq(e->key.ptr, e->key.len, s->mkeys[k])) continue;
            if (e->value.len) memcpy(key + len, e->value.ptr, e->value.len);
            len += e->value.len;
            key[len++] = '\0';
        }
        key[len++] = '\x01';
    }
    uint64_t h = gb_hash_bytes(key, len);
    gb_status st = GB_OK;
    batcher *bt = s->buckets[h % BATCH_HBUCKETS];
    while (bt && !(bt->hash == h && bt->key_len == len && memcmp(bt->key, key, len) == 0))
        bt = bt->hnext;
    if (!bt) {
        if (s->n_batchers >= (uint64_t)s->cfg.metadata_cardinality_limit) {
            st = GB_ERR_LIMIT;
            goto out;
        }
        bt = batcher_new(s, key, len, h);
        if (!bt || batcher_set_meta(s, bt) != GB_OK) {
            st = GB_ERR_NOMEM;
            goto out;
        }
        bt->hnext = s->buckets[h % BATCH_HBUCKETS];
        s->buckets[h % BATCH_HBUCKETS] = bt;
        gb_series_set(s->m_cardinality, (int64_t)s->n_batchers);
    }
    *out = bt;
out:
    if (key != stackbuf) free(key);
    return st;
}

static gb_status q_push(batcher *bt, pd_batch *b, uint64_t count)
{
    if (bt->q_len == bt->q_cap) {
        uint32_t cap = bt->q_cap ? bt->q_cap * 2 : 16;
        pend *q = malloc(sizeof(pend) * cap);
        if (!q) return GB_ERR_NOMEM;
        for (uint32_t i = 0; i < bt->q_len; i++)
            q[i] = bt->q[(bt->q_head + i) % bt->q_cap];
        free(bt->q);
        bt->q = q;
        bt->q_cap = cap;
        bt->q_head = 0;
    }
    bt->q[(bt->q_head + bt->q_len) % bt->q_cap] = (pend){b, count};
    bt->q_len++;
    bt->items += count;
    return GB_OK;
}

/* ---- flush thread --------------------------------------------------------------------------- */

static void *flush_main(void *arg)
{
    batch_state *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        int64_t now = gb_mono_ns(), wake = INT64_MAX;
        bool worked = false;
        for (batcher *bt = s->all; bt && !s->stopping; bt = bt->next) {
            if (bt->n_retry > 0 && !bt->retrying && bt->retry_at <= now) {
                pd_batch *o = bt->retry[0];
                memmove(bt->retry, bt->retry + 1, sizeof(*bt->retry) * (bt->n_retry - 1));
                bt->n_retry--;
                bt->retrying = true;
                s->n_sending++;
                pthread_mutex_unlock(&s->mu);
                send_output(s, bt, o, TRIG_TIMEOUT, true);
                pthread_mutex_lock(&s->mu);
                if (--s->n_sending == 0) pthread_cond_broadcast(&s->idle);
                worked = true;
            }
            if (bt->items > 0 && bt->deadline && bt->deadline <= now) {
                flush_batcher(s, bt, TRIG_TIMEOUT);
                worked = true;
            }
            if (bt->items > 0 && bt->deadline && bt->deadline < wake) wake = bt->deadline;
            if (bt->n_retry > 0 && !bt->retrying && bt->retry_at < wake) wake = bt->retry_at;
        }
        if (worked || s->stopping) continue;
        if (wake == INT64_MAX) {
            pthread_cond_wait(&s->wake, &s->mu);
        } else {
            struct timespec ts = {(time_t)(wake / GB_NS_PER_S), (long)(wake % GB_NS_PER_S)};
            pthread_cond_timedwait(&s->wake, &s->mu, &ts);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static gb_status batch_create(pl_component *c)
{
    gb_status st = GB_OK;
    char err[256];
    const batch_cfg *cfg = c->cfg;
    if (batch_check(cfg, err, sizeof err) != GB_OK) {
        gb_log(GB_LOG_ERROR, c->full_id, "invalid configuration: %s", err);
        return GB_ERR_INVALID;
    }
    batch_state *s = calloc(1, sizeof *s);
    if (!s) return GB_ERR_NOMEM;
    s->c = c;
    s->cfg = *cfg;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_cond_init(&s->idle, &ca);
    pthread_condattr_destroy(&ca);
    uint64_t m =
        (uint64_t)(cfg->send_batch_size > cfg->send_batch_max_size ? cfg->send_batch_size
                                                                   : cfg->send_batch_max_size);
    s->bound = m ? 2 * m : BATCH_DEFAULT_BOUND;
    if (cfg->metadata_keys.n) {
        s->mkeys = calloc(cfg->metadata_keys.n, sizeof(char *));
        if (!s->mkeys) {
            st = GB_ERR_NOMEM;
            goto fail;
        }
        for (uint32_t i = 0; i < cfg->metadata_keys.n; i++) {
            s->mkeys[i] = strdup(cfg->metadata_keys.v[i]);
            if (!s->mkeys[i]) {
                st = GB_ERR_NOMEM;
                goto fail;
            }
            s->n_mkeys++;
            for (char *p = s->mkeys[i]; *p; p++)
                if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
        }
    } else {
        s->single = batcher_new(s, NULL, 0, 0);
        if (!s->single) {
            st = GB_ERR_NOMEM;
            goto fail;
        }
    }
    c->state = s;
    return GB_OK;
fail:
    c->state = s;
    c->desc->destroy(c);
    return st;
}

static gb_status batch_start(pl_component *c, pl_host *host)
{
    (void)host;
    batch_state *s = c->state;
    char labels[200];
    procutil_label(labels, sizeof labels, c->id);
    gb_tm_histogram("otelcol_processor_batch_batch_send_size", "Number of units in the batch",
                    labels, send_size_bounds, sizeof send_size_bounds / sizeof send_size_bounds[0],
                    &s->m_send_size);
    gb_tm_counter("otelcol_processor_batch_batch_size_trigger_send",
                  "Number of times the batch was sent due to a size trigger", labels,
                  &s->m_size_trigger);
    gb_tm_counter("otelcol_processor_batch_timeout_trigger_send",
                  "Number of times the batch was sent due to a timeout trigger", labels,
                  &s->m_timeout_trigger);
    gb_tm_gauge("otelcol_processor_batch_metadata_cardinality",
                "Number of distinct metadata value combinations being processed", labels,
                &s->m_cardinality);
    gb_series_set(s->m_cardinality, (int64_t)s->n_batchers);
    if (pthread_create(&s->thread, NULL, flush_main, s) != 0) {
        gb_log(GB_LOG_ERROR, c->full_id, "cannot start the flush thread");
        return GB_ERR_NOMEM;
    }
    s->thread_started = true;
    return GB_OK;
}

static gb_status batch_consume(pl_component *c, pd_batch *b)
{
    batch_state *s = c->state;
    gb_status st = GB_OK;
    uint64_t n = pd_batch_count(b);
    if (n == 0) {
        pd_batch_unref(b);
        return GB_OK;
    }
    pthread_mutex_lock(&s->mu);
    if (s->closed) {
        st = GB_ERR_RETRY;
        s->st.refused++;
        goto unlock;
    }
    batcher *bt = NULL;
    st = find_batcher(s, b, &bt);
    if (st == GB_ERR_LIMIT) {
        s->st.dropped_items += n;
        st = GB_ERR_PERMANENT;
        pthread_mutex_unlock(&s->mu);
        gb_log(GB_LOG_WARN, c->full_id,
               "dropped %llu %s: too many batcher metadata-value combinations (limit %lld)",
               (unsigned long long)n, pd_signal_item(c->signal),
               (long long)s->cfg.metadata_cardinality_limit);
        pd_batch_unref(b);
        return st;
    }
    if (st) {
        st = GB_ERR_RETRY;
        s->st.refused++;
        goto unlock;
    }
    uint64_t held = bt->items + bt->retry_items;
    if (bt->n_retry > 0 || bt->retrying || (held > 0 && held + n > s->bound)) {
        st = GB_ERR_RETRY;
        s->st.refused++;
        goto unlock;
    }
    if (q_push(bt, b, n) != GB_OK) {
        st = GB_ERR_RETRY;
        s->st.refused++;
        goto unlock;
    }
    b = NULL; /* owned by the queue */
    if (bt->deadline == 0 && s->cfg.timeout > 0) {
        bt->deadline = gb_mono_ns() + s->cfg.timeout;
        pthread_cond_signal(&s->wake);
    }
    if (size_due(s, bt)) flush_batcher(s, bt, TRIG_SIZE);
unlock:
    pthread_mutex_unlock(&s->mu);
    pd_batch_unref(b);
    return st;
}

static gb_status batch_shutdown(pl_component *c, int64_t deadline_ns)
{
    batch_state *s = c->state;
    if (!s) return GB_OK;
    pthread_mutex_lock(&s->mu);
    if (s->shut) {
        pthread_mutex_unlock(&s->mu);
        return GB_OK;
    }
    s->shut = true;
    s->closed = true;
    s->stopping = true;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
    if (s->thread_started) pthread_join(s->thread, NULL);
    s->thread_started = false;

    pthread_mutex_lock(&s->mu);
    while (s->n_sending > 0 && gb_mono_ns() < deadline_ns) {
        int64_t w = gb_mono_ns() + 10 * GB_NS_PER_MS;
        struct timespec ts = {(time_t)(w / GB_NS_PER_S), (long)(w % GB_NS_PER_S)};
        pthread_cond_timedwait(&s->idle, &s->mu, &ts);
    }
    for (batcher *bt = s->all; bt; bt = bt->next)
        flush_batcher(s, bt, TRIG_TIMEOUT);
    /* Resend what downstream refused until it accepts or the deadline passes. */
    for (;;) {
        batcher *bt = s->all;
        while (bt && bt->n_retry == 0)
            bt = bt->next;
        if (!bt) break;
        if (gb_mono_ns() >= deadline_ns) break;
        pd_batch *o = bt->retry[0];
        memmove(bt->retry, bt->retry + 1, sizeof(*bt->retry) * (bt->n_retry - 1));
        bt->n_retry--;
        bt->retrying = true;
        int64_t wait = bt->retry_at - gb_mono_ns();
        int64_t rem = deadline_ns - gb_mono_ns();
        if (wait > rem) wait = rem;
        pthread_mutex_unlock(&s->mu);
        if (wait > 0)
            nanosleep(&(struct timespec){(time_t)(wait / GB_NS_PER_S), (long)(wait % GB_NS_PER_S)},
                      NULL);
        send_output(s, bt, o, TRIG_TIMEOUT, true);
        pthread_mutex_lock(&s->mu);
    }
    for (batcher *bt = s->all; bt; bt = bt->next) {
        drop_pending(s, bt, "shutdown deadline passed");
        uint64_t n = bt->retry_items;
        for (uint32_t i = 0; i < bt->n_retry; i++)
            pd_batch_unref(bt->retry[i]);
        bt->n_retry = 0;
        bt->retry_items = 0;
        if (n) {
            s->st.dropped_items += n;
            gb_log(GB_LOG_ERROR, c->full_id,
                   "dropped %llu %s: downstream still refusing at the shutdown deadline",
                   (unsigned long long)n, pd_signal_item(c->signal));
        }
    }
    pthread_mutex_unlock(&s->mu);
    return GB_OK;
}

static void batch_destroy(pl_component *c)
{
    batch_state *s = c->state;
    if (!s) return;
    if (s->thread_started) batch_shutdown(c, gb_mono_ns());
    batcher *bt = s->all;
    while (bt) {
        batcher *next = bt->next;
        for (uint32_t i = 0; i < bt->q_len; i++)
            pd_batch_unref(bt->q[(bt->q_head + i) % bt->q_cap].b);
        for (uint32_t i = 0; i < bt->n_retry; i++)
            pd_batch_unref(bt->retry[i]);
        free(bt->q);
        free(bt->retry);
        free(bt->meta);
        free(bt->key);
        free(bt);
        bt = next;
    }
    for (uint32_t i = 0; i < s->n_mkeys; i++)
        free(s->mkeys[i]);
    free(s->mkeys);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->idle);
    free(s);
    c->state = NULL;
}

void batch_get_stats(const pl_component *c, batch_stats *out)
{
    batch_state *s = c->state;
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    out->batchers = s->n_batchers;
    out->pending_items = 0;
    for (batcher *bt = s->all; bt; bt = bt->next)
        out->pending_items += bt->items + bt->retry_items;
    pthread_mutex_unlock(&s->mu);
}

const pl_descriptor processor_batch_descriptor = {
    .kind = PL_PROCESSOR,
    .type = "batch",
    .stability = {PL_BETA, PL_BETA, PL_BETA},
    .config = &batch_cfg_table,
    .config_size = sizeof(batch_cfg),
    .mutates = false,
    .doc = "groups data into larger batches by size and time, splitting oversized ones",
    .create = batch_create,
    .start = batch_start,
    .consume = batch_consume,
    .shutdown = batch_shutdown,
    .destroy = batch_destroy,
};
