/* Test helpers for processor tests: batches built by hand in the batch arena and a capturing
 * downstream consumer. Header-only (each test is one executable). */
#ifndef PROC_TESTUTIL_H
#define PROC_TESTUTIL_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/timeutil.h"
#include "pdata/pdata.h"
#include "pipeline/component.h"

/* ---- capture sink ---- */

typedef struct sink {
    pl_consumer c;
    pthread_mutex_t mu;
    pd_batch *got[4096];
    unsigned n;
    uint64_t items;
    gb_status answer; /* what consume returns */
    unsigned calls;
} sink;

static gb_status sink_consume(pl_consumer *self, pd_batch *b)
{
    sink *s = (sink *)self;
    pthread_mutex_lock(&s->mu);
    s->calls++;
    gb_status st = s->answer;
    if (st == GB_OK && s->n < 4096) {
        s->got[s->n++] = b;
        s->items += pd_batch_count(b);
        b = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    pd_batch_unref(b);
    return st;
}

static inline void sink_init(sink *s)
{
    memset(s, 0, sizeof *s);
    s->c.consume = sink_consume;
    pthread_mutex_init(&s->mu, NULL);
}

static inline void sink_set_answer(sink *s, gb_status st)
{
    pthread_mutex_lock(&s->mu);
    s->answer = st;
    pthread_mutex_unlock(&s->mu);
}

static inline uint64_t sink_items(sink *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->items;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static inline unsigned sink_batches(sink *s)
{
    pthread_mutex_lock(&s->mu);
    unsigned n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static inline void sink_free(sink *s)
{
    for (unsigned i = 0; i < s->n; i++)
        pd_batch_unref(s->got[i]);
    s->n = 0;
    s->items = 0;
    pthread_mutex_destroy(&s->mu);
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Polls cond up to ms milliseconds. */
#define WAIT_FOR(cond, ms)                                                                         \
    do {                                                                                           \
        for (int w_ = 0; w_ < (ms) && !(cond); w_ += 2)                                            \
            sleep_ms(2);                                                                           \
    } while (0)

/* ---- config nodes ---- */

/* A YAML scalar node as the config parser would produce it (ring of 64, test lifetime). */
static inline const cfg_node *scalar(const char *s, bool quoted)
{
    static cfg_node nodes[64];
    static unsigned n_nodes;
    cfg_node *n = &nodes[n_nodes++ % 64];
    memset(n, 0, sizeof *n);
    n->kind = CFG_NODE_SCALAR;
    n->scalar = (char *)s;
    n->quoted = quoted;
    return n;
}

/* ---- batch builders ---- */

static inline gb_str tdup(pd_batch *b, const char *s)
{
    gb_str out;
    gb_arena_dup(&b->arena, s, strlen(s), &out);
    return out;
}

static inline pd_attrs tattrs(pd_batch *b, uint32_t cap)
{
    pd_attrs a = {gb_arena_calloc(&b->arena, cap ? cap : 1, sizeof(pd_kv)), 0, cap};
    return a;
}

static inline void tput_str(pd_batch *b, pd_attrs *a, const char *k, const char *v)
{
    pd_attrs_put(&b->arena, a, tdup(b, k), pd_any_str(tdup(b, v)));
}

/* Traces: nres resources x nscope scopes x nspan spans; span names "<tag>-<i>" numbered in
 * order; resource attribute "res" = "<tag>-r<i>". */
static inline pd_batch *mk_traces(const char *tag, uint32_t nres, uint32_t nscope, uint32_t nspan)
{
    pd_batch *b;
    pd_batch_new(PD_TRACES, 0, &b);
    b->u.traces.v = gb_arena_calloc(&b->arena, nres, sizeof(pd_resource_spans));
    b->u.traces.n = nres;
    char buf[64];
    unsigned idx = 0;
    for (uint32_t r = 0; r < nres; r++) {
        pd_resource_spans *rs = &b->u.traces.v[r];
        rs->resource.attrs = tattrs(b, 4);
        snprintf(buf, sizeof buf, "%s-r%u", tag, r);
        tput_str(b, &rs->resource.attrs, "res", buf);
        rs->scope_spans = gb_arena_calloc(&b->arena, nscope, sizeof(pd_scope_spans));
        rs->n_scope_spans = nscope;
        for (uint32_t s = 0; s < nscope; s++) {
            pd_scope_spans *ss = &rs->scope_spans[s];
            snprintf(buf, sizeof buf, "%s-s%u.%u", tag, r, s);
            ss->scope.name = tdup(b, buf);
            ss->spans = gb_arena_calloc(&b->arena, nspan ? nspan : 1, sizeof(pd_span));
            ss->n_spans = nspan;
            for (uint32_t i = 0; i < nspan; i++) {
                pd_span *sp = &ss->spans[i];
                snprintf(buf, sizeof buf, "%s-%u", tag, idx++);
                sp->name = tdup(b, buf);
                sp->attrs = tattrs(b, 4);
                tput_str(b, &sp->attrs, "k", buf);
            }
        }
    }
    return b;
}

/* Logs: same shape; log bodies "<tag>-<i>". */
static inline pd_batch *mk_logs(const char *tag, uint32_t nres, uint32_t nscope, uint32_t nlog)
{
    pd_batch *b;
    pd_batch_new(PD_LOGS, 0, &b);
    b->u.logs.v = gb_arena_calloc(&b->arena, nres, sizeof(pd_resource_logs));
    b->u.logs.n = nres;
    char buf[64];
    unsigned idx = 0;
    for (uint32_t r = 0; r < nres; r++) {
        pd_resource_logs *rl = &b->u.logs.v[r];
        rl->resource.attrs = tattrs(b, 4);
        snprintf(buf, sizeof buf, "%s-r%u", tag, r);
        tput_str(b, &rl->resource.attrs, "res", buf);
        rl->scope_logs = gb_arena_calloc(&b->arena, nscope, sizeof(pd_scope_logs));
        rl->n_scope_logs = nscope;
        for (uint32_t s = 0; s < nscope; s++) {
            pd_scope_logs *sl = &rl->scope_logs[s];
            sl->logs = gb_arena_calloc(&b->arena, nlog ? nlog : 1, sizeof(pd_log));
            sl->n_logs = nlog;
            for (uint32_t i = 0; i < nlog; i++) {
                snprintf(buf, sizeof buf, "%s-%u", tag, idx++);
                sl->logs[i].body = pd_any_str(tdup(b, buf));
                sl->logs[i].severity_text = tdup(b, i % 2 ? "ERROR" : "INFO");
                sl->logs[i].attrs = tattrs(b, 4);
                tput_str(b, &sl->logs[i].attrs, "k", buf);
            }
        }
    }
    return b;
}

/* Metrics: one resource, one scope, metrics with the given dp counts; alternating gauge, sum,
 * histogram, summary. Data point values (or counts) are consecutive integers from base. */
static inline pd_batch *mk_metrics(const uint32_t *ndp, uint32_t nmetrics, int64_t base)
{
    pd_batch *b;
    pd_batch_new(PD_METRICS, 0, &b);
    b->u.metrics.v = gb_arena_calloc(&b->arena, 1, sizeof(pd_resource_metrics));
    b->u.metrics.n = 1;
    pd_resource_metrics *rm = &b->u.metrics.v[0];
    rm->resource.attrs = tattrs(b, 2);
    tput_str(b, &rm->resource.attrs, "res", "m");
    rm->scope_metrics = gb_arena_calloc(&b->arena, 1, sizeof(pd_scope_metrics));
    rm->n_scope_metrics = 1;
    pd_scope_metrics *sm = &rm->scope_metrics[0];
    sm->metrics = gb_arena_calloc(&b->arena, nmetrics, sizeof(pd_metric));
    sm->n_metrics = nmetrics;
    int64_t v = base;
    char buf[32];
    for (uint32_t k = 0; k < nmetrics; k++) {
        pd_metric *m = &sm->metrics[k];
        snprintf(buf, sizeof buf, "metric%u", k);
        m->name = tdup(b, buf);
        m->n_dp = ndp[k];
        switch (k % 4) {
        case 0:
        case 1:
            m->type = k % 4 == 0 ? PD_METRIC_GAUGE : PD_METRIC_SUM;
            m->dp.number = gb_arena_calloc(&b->arena, ndp[k] + 1, sizeof(pd_number_dp));
            for (uint32_t i = 0; i < ndp[k]; i++) {
                m->dp.number[i].value_type = PD_NUM_INT;
                m->dp.number[i].value.i = v++;
                m->dp.number[i].attrs = tattrs(b, 2);
                tput_str(b, &m->dp.number[i].attrs, "dp", "x");
            }
            break;
        case 2:
            m->type = PD_METRIC_HISTOGRAM;
            m->dp.histogram = gb_arena_calloc(&b->arena, ndp[k] + 1, sizeof(pd_histogram_dp));
            for (uint32_t i = 0; i < ndp[k]; i++) {
                m->dp.histogram[i].count = (uint64_t)v++;
                m->dp.histogram[i].attrs = tattrs(b, 2);
            }
            break;
        default:
            m->type = PD_METRIC_SUMMARY;
            m->dp.summary = gb_arena_calloc(&b->arena, ndp[k] + 1, sizeof(pd_summary_dp));
            for (uint32_t i = 0; i < ndp[k]; i++) {
                m->dp.summary[i].count = (uint64_t)v++;
                m->dp.summary[i].attrs = tattrs(b, 2);
            }
            break;
        }
    }
    return b;
}

/* Data point value i of metric m (the integer written by mk_metrics). */
static inline int64_t dp_value(const pd_metric *m, uint32_t i)
{
    switch (m->type) {
    case PD_METRIC_GAUGE:
    case PD_METRIC_SUM:
        return m->dp.number[i].value.i;
    case PD_METRIC_HISTOGRAM:
        return (int64_t)m->dp.histogram[i].count;
    case PD_METRIC_SUMMARY:
        return (int64_t)m->dp.summary[i].count;
    default:
        return -1;
    }
}

static inline void add_meta(pd_batch *b, const char *k, const char *v)
{
    pd_meta_entry *e = gb_arena_alloc(&b->arena, sizeof(pd_meta_entry) * (b->meta.n + 1));
    if (b->meta.n) memcpy(e, b->meta.v, sizeof(pd_meta_entry) * b->meta.n);
    e[b->meta.n].key = tdup(b, k);
    e[b->meta.n].value = tdup(b, v);
    b->meta.v = e;
    b->meta.n++;
}

static inline void comp_init(pl_component *c, const pl_descriptor *d, const char *id, void *cfg,
                             pd_signal sig, pl_consumer *next)
{
    memset(c, 0, sizeof *c);
    c->desc = d;
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->full_id, sizeof c->full_id, "processor/%s", id);
    c->name = "";
    c->cfg = cfg;
    c->signal = sig;
    c->next[sig] = next;
}

#endif
