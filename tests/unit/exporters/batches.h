/* Small hand-built batches for exporter tests (one resource, one scope, n items each). Strings
 * are static literals, which outlive the batches. */
#ifndef TEST_BATCHES_H
#define TEST_BATCHES_H

#include <string.h>

#include "pdata/pdata.h"

static inline pd_kv *tb_attrs(gb_arena *a, uint32_t n, const char *key, const char *val)
{
    pd_kv *kv = gb_arena_calloc(a, n ? n : 1, sizeof *kv);
    for (uint32_t i = 0; i < n; i++) {
        kv[i].key = gb_str_c(i == 0 ? key : "count");
        kv[i].value = i == 0 ? pd_any_str(gb_str_c(val)) : pd_any_int((int64_t)i);
    }
    return kv;
}

static inline pd_batch *tb_traces(uint32_t spans)
{
    pd_batch *b = NULL;
    if (pd_batch_new(PD_TRACES, 0, &b) != GB_OK) return NULL;
    gb_arena *a = &b->arena;
    pd_resource_spans *rs = gb_arena_calloc(a, 1, sizeof *rs);
    pd_scope_spans *ss = gb_arena_calloc(a, 1, sizeof *ss);
    pd_span *sp = gb_arena_calloc(a, spans ? spans : 1, sizeof *sp);
    rs->resource.attrs.v = tb_attrs(a, 1, "service.name", "checkout");
    rs->resource.attrs.n = rs->resource.attrs.cap = 1;
    ss->scope.name = gb_str_c("genops.test");
    ss->scope.version = gb_str_c("1.0.0");
    for (uint32_t i = 0; i < spans; i++) {
        pd_span *s = &sp[i];
        for (int k = 0; k < 16; k++)
            s->trace_id.b[k] = (uint8_t)(0x10 + k);
        for (int k = 0; k < 8; k++)
            s->span_id.b[k] = (uint8_t)(0xa0 + k + (int)i);
        s->name = gb_str_c(i % 2 ? "db.query" : "GET /cart");
        s->kind = PD_SPAN_KIND_SERVER;
        s->start_time_unix_nano = 1700000000000000000ULL + i;
        s->end_time_unix_nano = 1700000000500000000ULL + i;
        s->attrs.v = tb_attrs(a, 2, "http.method", "GET");
        s->attrs.n = s->attrs.cap = 2;
        s->status.code = PD_STATUS_OK;
    }
    ss->spans = sp;
    ss->n_spans = spans;
    rs->scope_spans = ss;
    rs->n_scope_spans = 1;
    b->u.traces.v = rs;
    b->u.traces.n = 1;
    return b;
}

static inline pd_batch *tb_metrics(uint32_t points)
{
    pd_batch *b = NULL;
    if (pd_batch_new(PD_METRICS, 0, &b) != GB_OK) return NULL;
    gb_arena *a = &b->arena;
    pd_resource_metrics *rm = gb_arena_calloc(a, 1, sizeof *rm);
    pd_scope_metrics *sm = gb_arena_calloc(a, 1, sizeof *sm);
    pd_metric *m = gb_arena_calloc(a, 1, sizeof *m);
    pd_number_dp *dp = gb_arena_calloc(a, points ? points : 1, sizeof *dp);
    rm->resource.attrs.v = tb_attrs(a, 1, "service.name", "checkout");
    rm->resource.attrs.n = rm->resource.attrs.cap = 1;
    m->name = gb_str_c("requests");
    m->description = gb_str_c("Requests served");
    m->unit = gb_str_c("1");
    m->type = PD_METRIC_SUM;
    m->temporality = PD_TEMPORALITY_CUMULATIVE;
    m->is_monotonic = true;
    for (uint32_t i = 0; i < points; i++) {
        dp[i].value_type = PD_NUM_INT;
        dp[i].value.i = 40 + (int64_t)i;
        dp[i].start_time_unix_nano = 1700000000000000000ULL;
        dp[i].time_unix_nano = 1700000010000000000ULL;
        dp[i].attrs.v = tb_attrs(a, 1, "route", "/cart");
        dp[i].attrs.n = dp[i].attrs.cap = 1;
    }
    m->dp.number = dp;
    m->n_dp = points;
    sm->metrics = m;
    sm->n_metrics = 1;
    rm->scope_metrics = sm;
    rm->n_scope_metrics = 1;
    b->u.metrics.v = rm;
    b->u.metrics.n = 1;
    return b;
}

static inline pd_batch *tb_logs(uint32_t logs)
{
    pd_batch *b = NULL;
    if (pd_batch_new(PD_LOGS, 0, &b) != GB_OK) return NULL;
    gb_arena *a = &b->arena;
    pd_resource_logs *rl = gb_arena_calloc(a, 1, sizeof *rl);
    pd_scope_logs *sl = gb_arena_calloc(a, 1, sizeof *sl);
    pd_log *l = gb_arena_calloc(a, logs ? logs : 1, sizeof *l);
    rl->resource.attrs.v = tb_attrs(a, 1, "service.name", "checkout");
    rl->resource.attrs.n = rl->resource.attrs.cap = 1;
    for (uint32_t i = 0; i < logs; i++) {
        l[i].time_unix_nano = 1700000000000000000ULL + i;
        l[i].severity_number = 9;
        l[i].severity_text = gb_str_c("INFO");
        l[i].body = pd_any_str(gb_str_c("user logged in"));
        l[i].attrs.v = tb_attrs(a, 1, "user", "alice");
        l[i].attrs.n = l[i].attrs.cap = 1;
    }
    sl->logs = l;
    sl->n_logs = logs;
    rl->scope_logs = sl;
    rl->n_scope_logs = 1;
    b->u.logs.v = rl;
    b->u.logs.n = 1;
    return b;
}

#endif
