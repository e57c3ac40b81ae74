/* Hand-built batches of priced AI operations (genops.cost.* attributes as the governance
 * processor writes them) for the ledger exporter's tests and benchmark. Strings must outlive the
 * batch (literals, or storage the caller keeps). */
#ifndef TEST_LEDGER_BATCHES_H
#define TEST_LEDGER_BATCHES_H

#include <stdio.h>
#include <string.h>

#include "exporter/ledger/ledger.h"
#include "pdata/pdata.h"

typedef struct lb_op {
    const char *team;         /* NULL = absent (the resource's genops.team, if any, applies) */
    const char *customer;     /* genops.customer_id */
    const char *model;        /* genops.cost.model */
    const char *provider;     /* gen_ai.provider.name */
    const char *status;       /* genops.cost.status; NULL = absent */
    double cost;              /* genops.cost.total; < 0 = absent */
    double cost_in, cost_out; /* genops.cost.input / output; < 0 = absent */
    int64_t in, out;          /* genops.tokens.input / output; < 0 = absent */
    uint64_t id;              /* span id (big-endian in the last 8 bytes); 0 = no ids */
    uint64_t end_ns;          /* span end / log time */
} lb_op;

static inline void lb_put(gb_arena *a, pd_attrs *at, const char *k, pd_any v)
{
    (void)a;
    at->v[at->n].key = gb_str_c(k);
    at->v[at->n].value = v;
    at->n++;
}

static inline void lb_attrs(gb_arena *a, pd_attrs *at, const lb_op *o)
{
    at->v = gb_arena_calloc(a, 12, sizeof *at->v);
    at->n = 0;
    at->cap = 12;
    if (o->team) lb_put(a, at, "genops.team", pd_any_str(gb_str_c(o->team)));
    if (o->customer) lb_put(a, at, "genops.customer_id", pd_any_str(gb_str_c(o->customer)));
    if (o->model) lb_put(a, at, "genops.cost.model", pd_any_str(gb_str_c(o->model)));
    if (o->provider) lb_put(a, at, "gen_ai.provider.name", pd_any_str(gb_str_c(o->provider)));
    if (o->status) lb_put(a, at, "genops.cost.status", pd_any_str(gb_str_c(o->status)));
    if (o->cost >= 0) lb_put(a, at, "genops.cost.total", pd_any_double(o->cost));
    if (o->cost_in >= 0) lb_put(a, at, "genops.cost.input", pd_any_double(o->cost_in));
    if (o->cost_out >= 0) lb_put(a, at, "genops.cost.output", pd_any_double(o->cost_out));
    if (o->in >= 0) lb_put(a, at, "genops.tokens.input", pd_any_int(o->in));
    if (o->out >= 0) lb_put(a, at, "genops.tokens.output", pd_any_int(o->out));
    lb_put(a, at, "http.method", pd_any_str(gb_str_c("POST")));
}

static inline void lb_ids(uint64_t id, pd_trace_id *t, pd_span_id *s)
{
    memset(t, 0, sizeof *t);
    memset(s, 0, sizeof *s);
    if (!id) return;
    for (int k = 0; k < 16; k++)
        t->b[k] = (uint8_t)(0x10 + k);
    for (int k = 0; k < 8; k++)
        s->b[k] = (uint8_t)(id >> (56 - 8 * k));
}

static inline pd_kv *lb_resource(gb_arena *a, const char *service, const char *team, uint32_t *n)
{
    pd_kv *kv = gb_arena_calloc(a, 2, sizeof *kv);
    *n = 0;
    kv[(*n)].key = gb_str_c("service.name");
    kv[(*n)++].value = pd_any_str(gb_str_c(service));
    if (team) {
        kv[(*n)].key = gb_str_c("genops.team");
        kv[(*n)++].value = pd_any_str(gb_str_c(team));
    }
    return kv;
}

/* One resource (service.name = service, genops.team = res_team when not NULL), one scope, one
 * span per op named "chat <model>". */
static inline pd_batch *lb_spans(const lb_op *ops, size_t n, const char *service,
                                 const char *res_team)
{
    pd_batch *b = NULL;
    if (pd_batch_new(PD_TRACES, 0, &b) != GB_OK) return NULL;
    gb_arena *a = &b->arena;
    pd_resource_spans *rs = gb_arena_calloc(a, 1, sizeof *rs);
    pd_scope_spans *ss = gb_arena_calloc(a, 1, sizeof *ss);
    pd_span *sp = gb_arena_calloc(a, n ? n : 1, sizeof *sp);
    rs->resource.attrs.v = lb_resource(a, service, res_team, &rs->resource.attrs.n);
    rs->resource.attrs.cap = rs->resource.attrs.n;
    for (size_t i = 0; i < n; i++) {
        lb_ids(ops[i].id, &sp[i].trace_id, &sp[i].span_id);
        sp[i].name = gb_str_c("chat");
        sp[i].kind = PD_SPAN_KIND_CLIENT;
        sp[i].start_time_unix_nano = ops[i].end_ns - 1000000000ULL;
        sp[i].end_time_unix_nano = ops[i].end_ns;
        lb_attrs(a, &sp[i].attrs, &ops[i]);
    }
    ss->scope.name = gb_str_c("genops.test");
    ss->spans = sp;
    ss->n_spans = (uint32_t)n;
    rs->scope_spans = ss;
    rs->n_scope_spans = 1;
    b->u.traces.v = rs;
    b->u.traces.n = 1;
    return b;
}

/* The same as log records (body "ai call", event name "gen_ai.call"). */
static inline pd_batch *lb_logs(const lb_op *ops, size_t n, const char *service)
{
    pd_batch *b = NULL;
    if (pd_batch_new(PD_LOGS, 0, &b) != GB_OK) return NULL;
    gb_arena *a = &b->arena;
    pd_resource_logs *rl = gb_arena_calloc(a, 1, sizeof *rl);
    pd_scope_logs *sl = gb_arena_calloc(a, 1, sizeof *sl);
    pd_log *l = gb_arena_calloc(a, n ? n : 1, sizeof *l);
    rl->resource.attrs.v = lb_resource(a, service, NULL, &rl->resource.attrs.n);
    rl->resource.attrs.cap = rl->resource.attrs.n;
    for (size_t i = 0; i < n; i++) {
        lb_ids(ops[i].id, &l[i].trace_id, &l[i].span_id);
        l[i].time_unix_nano = ops[i].end_ns;
        l[i].severity_number = 9;
        l[i].body = pd_any_str(gb_str_c("ai call"));
        l[i].event_name = gb_str_c("gen_ai.call");
        lb_attrs(a, &l[i].attrs, &ops[i]);
    }
    sl->logs = l;
    sl->n_logs = (uint32_t)n;
    rl->scope_logs = sl;
    rl->n_scope_logs = 1;
    b->u.logs.v = rl;
    b->u.logs.n = 1;
    return b;
}

/* Creates and starts a ledger exporter instance "ledger/<id>" with cfg (kept by the caller) on
 * host (may be NULL). On failure the instance is destroyed again. */
static inline gb_status lb_start(pl_component *c, ledger_cfg *cfg, const char *id, pl_host *host)
{
    memset(c, 0, sizeof *c);
    c->desc = &exporter_ledger_descriptor;
    snprintf(c->id, sizeof c->id, "ledger%s%s", *id ? "/" : "", id);
    snprintf(c->full_id, sizeof c->full_id, "exporter/%s", c->id);
    c->cfg = cfg;
    gb_status rc = c->desc->create(c);
    if (rc != GB_OK) return rc;
    rc = c->desc->start(c, host);
    if (rc != GB_OK) c->desc->destroy(c);
    return rc;
}

#endif
