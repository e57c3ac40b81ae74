/* Test helpers for connector tests: config binding from YAML, a component wired to a capturing
 * metrics sink, span/log builders and lookups into produced metrics. Header-only. */
#ifndef CONN_TESTUTIL_H
#define CONN_TESTUTIL_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../processors/proc_testutil.h"
#include "config/config.h"

/* ---- component ---- */

typedef struct conn_fx {
    cfg_doc doc;
    cfg_diags d;
    gb_sbuf diag_text;
    pl_component c;
    sink out;
    bool created;
} conn_fx;

/* Binds yaml (the connector's config map; "" for none) with desc's table. Returns the number of
 * config errors (rendered in fx->diag_text). */
static inline uint32_t conn_bind(conn_fx *fx, const pl_descriptor *desc, const char *yaml)
{
    memset(fx, 0, sizeof *fx);
    cfg_doc_init(&fx->doc);
    cfg_diags_init(&fx->d);
    gb_sbuf_init(&fx->diag_text, 0);
    sink_init(&fx->out);
    cfg_doc_parse(&fx->doc, "test.yaml", yaml, strlen(yaml), &fx->d);
    void *obj = NULL;
    cfg_bind_new(desc->config, desc->config_size, fx->doc.root, "connectors::x", &fx->doc, &fx->d,
                 &obj);
    cfg_diags_render(&fx->d, &fx->diag_text);
    fx->c.desc = desc;
    fx->c.cfg = obj;
    snprintf(fx->c.id, sizeof fx->c.id, "%s", desc->type);
    snprintf(fx->c.full_id, sizeof fx->c.full_id, "connector/%s", desc->type);
    fx->c.name = "";
    fx->c.next[PD_METRICS] = &fx->out.c;
    return fx->d.errors;
}

/* Binds, creates and starts (asserting no errors). */
static inline void conn_up(conn_fx *fx, const pl_descriptor *desc, const char *yaml,
                           pd_signal input)
{
    uint32_t errors = conn_bind(fx, desc, yaml);
    if (errors) fprintf(stderr, "%s", fx->diag_text.data ? fx->diag_text.data : "");
    assert_int_equal(errors, 0);
    fx->c.signal = input;
    assert_int_equal(desc->create(&fx->c), GB_OK);
    fx->created = true;
    if (desc->start) assert_int_equal(desc->start(&fx->c, NULL), GB_OK);
}

static inline void conn_down(conn_fx *fx)
{
    if (fx->created) {
        if (fx->c.desc->shutdown) fx->c.desc->shutdown(&fx->c, gb_mono_ns() + GB_NS_PER_S);
        if (fx->c.desc->destroy) fx->c.desc->destroy(&fx->c);
    }
    sink_free(&fx->out);
    gb_sbuf_free(&fx->diag_text);
    cfg_diags_free(&fx->d);
    cfg_doc_free(&fx->doc);
}

static inline gb_status conn_feed(conn_fx *fx, pd_batch *b)
{
    return fx->c.desc->consume(&fx->c, b);
}

/* ---- builders ---- */

/* A traces batch with one resource (attribute pairs "k=v;k2=v2", may be "") and room for n
 * spans; add spans with span_add. */
static inline pd_batch *traces_new(const char *res_kv, uint32_t cap)
{
    pd_batch *b;
    pd_batch_new(PD_TRACES, 0, &b);
    b->u.traces.v = gb_arena_calloc(&b->arena, 1, sizeof(pd_resource_spans));
    b->u.traces.n = 1;
    pd_resource_spans *rs = &b->u.traces.v[0];
    rs->resource.attrs = tattrs(b, 4);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", res_kv);
    for (char *save = NULL, *kv = strtok_r(buf, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) continue;
        *eq = '\0';
        tput_str(b, &rs->resource.attrs, kv, eq + 1);
    }
    rs->scope_spans = gb_arena_calloc(&b->arena, 1, sizeof(pd_scope_spans));
    rs->n_scope_spans = 1;
    rs->scope_spans[0].spans = gb_arena_calloc(&b->arena, cap ? cap : 1, sizeof(pd_span));
    return b;
}

/* Typed attributes from "k=v" pairs separated by ';': "k=s:text" string, "k=d:0.1" double,
 * "k=i:42" int, "k=b:true" bool; a bare "k=v" is a string. */
static inline void attrs_from(pd_batch *b, pd_attrs *a, const char *kvs)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", kvs);
    for (char *save = NULL, *kv = strtok_r(buf, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) continue;
        *eq = '\0';
        const char *v = eq + 1;
        pd_any val;
        if (v[0] && v[1] == ':' && strchr("sdib", v[0])) {
            switch (v[0]) {
            case 'd':
                val = pd_any_double(strtod(v + 2, NULL));
                break;
            case 'i':
                val = pd_any_int(strtoll(v + 2, NULL, 10));
                break;
            case 'b':
                val = pd_any_bool(strcmp(v + 2, "true") == 0);
                break;
            default:
                val = pd_any_str(tdup(b, v + 2));
                break;
            }
        } else {
            val = pd_any_str(tdup(b, v));
        }
        pd_attrs_put(&b->arena, a, tdup(b, kv), val);
    }
}

static inline pd_span *span_add(pd_batch *b, const char *name, const char *kvs, uint64_t end)
{
    pd_scope_spans *ss = &b->u.traces.v[0].scope_spans[0];
    pd_span *sp = &ss->spans[ss->n_spans++];
    sp->name = tdup(b, name);
    sp->start_time_unix_nano = end ? end - 1 : 0;
    sp->end_time_unix_nano = end;
    sp->attrs = tattrs(b, 8);
    attrs_from(b, &sp->attrs, kvs);
    return sp;
}

static inline void event_add(pd_batch *b, pd_span *sp, const char *name, const char *kvs)
{
    if (sp->n_events == 0) sp->events = gb_arena_calloc(&b->arena, 16, sizeof(pd_event));
    pd_event *e = &sp->events[sp->n_events++];
    e->name = tdup(b, name);
    e->attrs = tattrs(b, 4);
    attrs_from(b, &e->attrs, kvs);
}

static inline pd_batch *logs_new(uint32_t cap)
{
    pd_batch *b;
    pd_batch_new(PD_LOGS, 0, &b);
    b->u.logs.v = gb_arena_calloc(&b->arena, 1, sizeof(pd_resource_logs));
    b->u.logs.n = 1;
    b->u.logs.v[0].resource.attrs = tattrs(b, 2);
    b->u.logs.v[0].scope_logs = gb_arena_calloc(&b->arena, 1, sizeof(pd_scope_logs));
    b->u.logs.v[0].n_scope_logs = 1;
    b->u.logs.v[0].scope_logs[0].logs = gb_arena_calloc(&b->arena, cap ? cap : 1, sizeof(pd_log));
    return b;
}

static inline pd_log *log_add(pd_batch *b, const char *kvs, uint64_t t)
{
    pd_scope_logs *sl = &b->u.logs.v[0].scope_logs[0];
    pd_log *lr = &sl->logs[sl->n_logs++];
    lr->time_unix_nano = t;
    lr->attrs = tattrs(b, 8);
    attrs_from(b, &lr->attrs, kvs);
    return lr;
}

/* ---- lookups ---- */

/* The metric named name in resource r of batch b (all scopes), or NULL. */
static inline const pd_metric *metric_in(const pd_batch *b, uint32_t r, const char *name)
{
    if (!b || r >= b->u.metrics.n) return NULL;
    const pd_resource_metrics *rm = &b->u.metrics.v[r];
    for (uint32_t s = 0; s < rm->n_scope_metrics; s++)
        for (uint32_t k = 0; k < rm->scope_metrics[s].n_metrics; k++)
            if (gb_str_eq_c(rm->scope_metrics[s].metrics[k].name, name))
                return &rm->scope_metrics[s].metrics[k];
    return NULL;
}

/* Renders attrs as "k=v,k2=v2" in their order (strings only; others as "?"). */
static inline void attrs_str(const pd_attrs *a, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    for (uint32_t i = 0; i < a->n && o < cap; i++) {
        const pd_kv *kv = &a->v[i];
        if (kv->value.type == PD_ANY_STR)
            o += (size_t)snprintf(out + o, cap - o, "%s%.*s=%.*s", i ? "," : "",
                                  GB_STR_FMT(kv->key), GB_STR_FMT(kv->value.u.str));
        else if (kv->value.type == PD_ANY_INT)
            o += (size_t)snprintf(out + o, cap - o, "%s%.*s=#%lld", i ? "," : "",
                                  GB_STR_FMT(kv->key), (long long)kv->value.u.i);
        else
            o += (size_t)snprintf(out + o, cap - o, "%s%.*s=?", i ? "," : "", GB_STR_FMT(kv->key));
    }
}

/* The number data point of m whose attributes render exactly as labels, or NULL. */
static inline const pd_number_dp *dp_with(const pd_metric *m, const char *labels)
{
    if (!m || (m->type != PD_METRIC_SUM && m->type != PD_METRIC_GAUGE)) return NULL;
    char buf[1024];
    for (uint32_t i = 0; i < m->n_dp; i++) {
        attrs_str(&m->dp.number[i].attrs, buf, sizeof buf);
        if (strcmp(buf, labels) == 0) return &m->dp.number[i];
    }
    return NULL;
}

static inline const pd_histogram_dp *hdp_with(const pd_metric *m, const char *labels)
{
    if (!m || m->type != PD_METRIC_HISTOGRAM) return NULL;
    char buf[1024];
    for (uint32_t i = 0; i < m->n_dp; i++) {
        attrs_str(&m->dp.histogram[i].attrs, buf, sizeof buf);
        if (strcmp(buf, labels) == 0) return &m->dp.histogram[i];
    }
    return NULL;
}

/* Like dp_with, but fails the test (listing the points there are) when absent. */
static inline const pd_number_dp *dp_must(const pd_metric *m, const char *labels)
{
    const pd_number_dp *dp = dp_with(m, labels);
    if (!dp) {
        char buf[1024];
        for (uint32_t i = 0; m && i < m->n_dp; i++) {
            attrs_str(&m->dp.number[i].attrs, buf, sizeof buf);
            fprintf(stderr, "  have: {%s}\n", buf);
        }
        fail_msg("no data point {%s}%s", labels, m ? "" : " (no such metric)");
    }
    return dp;
}

/* Binds yaml for desc and fails unless it reports an error containing want. */
static inline void expect_config_error(const pl_descriptor *desc, const char *yaml,
                                       const char *want)
{
    conn_fx fx;
    uint32_t errors = conn_bind(&fx, desc, yaml);
    const char *text = fx.diag_text.data ? fx.diag_text.data : "";
    if (errors == 0 || !strstr(text, want))
        fail_msg("want \"%s\" for:\n%s\nin:\n%s", want, yaml, text);
    conn_down(&fx);
}

/* The last batch the sink received. */
static inline pd_batch *last_out(conn_fx *fx)
{
    return fx->out.n ? fx->out.got[fx->out.n - 1] : NULL;
}

#endif
