/* Deep equality of pdata batches for the OTLP/JSON codec tests (doubles compared bit for bit, so
 * NaN equals NaN and -0 differs from +0). Header-only, shared by the test_otlp_json*.c files. */
#ifndef TEST_OTLP_JSON_EQ_H
#define TEST_OTLP_JSON_EQ_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pdata/pdata.h"

#define EQ_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "pdata mismatch: %s (%s:%d)\n", #cond, __FILE__, __LINE__);            \
            return false;                                                                          \
        }                                                                                          \
    } while (0)

static inline bool eq_dbl(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static bool eq_any(const pd_any *a, const pd_any *b);

static inline bool eq_kvs(const pd_kv *a, uint32_t na, const pd_kv *b, uint32_t nb)
{
    EQ_CHECK(na == nb);
    for (uint32_t i = 0; i < na; i++) {
        EQ_CHECK(gb_str_eq(a[i].key, b[i].key));
        EQ_CHECK(eq_any(&a[i].value, &b[i].value));
    }
    return true;
}

static inline bool eq_attrs(const pd_attrs *a, const pd_attrs *b)
{
    return eq_kvs(a->v, a->n, b->v, b->n);
}

static bool eq_any(const pd_any *a, const pd_any *b)
{
    EQ_CHECK(a->type == b->type);
    switch (a->type) {
    case PD_ANY_DOUBLE:
        EQ_CHECK(eq_dbl(a->u.d, b->u.d));
        return true;
    case PD_ANY_ARRAY:
        EQ_CHECK(a->u.arr.n == b->u.arr.n);
        for (uint32_t i = 0; i < a->u.arr.n; i++)
            EQ_CHECK(eq_any(&a->u.arr.v[i], &b->u.arr.v[i]));
        return true;
    case PD_ANY_KVLIST:
        return eq_kvs(a->u.kvl.v, a->u.kvl.n, b->u.kvl.v, b->u.kvl.n);
    default:
        EQ_CHECK(pd_any_equal(a, b));
        return true;
    }
}

static inline bool eq_resource(const pd_resource *a, const pd_resource *b)
{
    EQ_CHECK(a->dropped_attributes_count == b->dropped_attributes_count);
    return eq_attrs(&a->attrs, &b->attrs);
}

static inline bool eq_scope(const pd_scope *a, const pd_scope *b)
{
    EQ_CHECK(gb_str_eq(a->name, b->name));
    EQ_CHECK(gb_str_eq(a->version, b->version));
    EQ_CHECK(a->dropped_attributes_count == b->dropped_attributes_count);
    return eq_attrs(&a->attrs, &b->attrs);
}

static inline bool eq_span(const pd_span *a, const pd_span *b)
{
    EQ_CHECK(memcmp(&a->trace_id, &b->trace_id, 16) == 0);
    EQ_CHECK(memcmp(&a->span_id, &b->span_id, 8) == 0);
    EQ_CHECK(memcmp(&a->parent_span_id, &b->parent_span_id, 8) == 0);
    EQ_CHECK(gb_str_eq(a->trace_state, b->trace_state));
    EQ_CHECK(a->flags == b->flags);
    EQ_CHECK(gb_str_eq(a->name, b->name));
    EQ_CHECK(a->kind == b->kind);
    EQ_CHECK(a->start_time_unix_nano == b->start_time_unix_nano);
    EQ_CHECK(a->end_time_unix_nano == b->end_time_unix_nano);
    EQ_CHECK(eq_attrs(&a->attrs, &b->attrs));
    EQ_CHECK(a->dropped_attributes_count == b->dropped_attributes_count);
    EQ_CHECK(a->n_events == b->n_events);
    for (uint32_t i = 0; i < a->n_events; i++) {
        const pd_event *x = &a->events[i], *y = &b->events[i];
        EQ_CHECK(x->time_unix_nano == y->time_unix_nano);
        EQ_CHECK(gb_str_eq(x->name, y->name));
        EQ_CHECK(eq_attrs(&x->attrs, &y->attrs));
        EQ_CHECK(x->dropped_attributes_count == y->dropped_attributes_count);
    }
    EQ_CHECK(a->dropped_events_count == b->dropped_events_count);
    EQ_CHECK(a->n_links == b->n_links);
    for (uint32_t i = 0; i < a->n_links; i++) {
        const pd_link *x = &a->links[i], *y = &b->links[i];
        EQ_CHECK(memcmp(&x->trace_id, &y->trace_id, 16) == 0);
        EQ_CHECK(memcmp(&x->span_id, &y->span_id, 8) == 0);
        EQ_CHECK(gb_str_eq(x->trace_state, y->trace_state));
        EQ_CHECK(eq_attrs(&x->attrs, &y->attrs));
        EQ_CHECK(x->dropped_attributes_count == y->dropped_attributes_count);
        EQ_CHECK(x->flags == y->flags);
    }
    EQ_CHECK(a->dropped_links_count == b->dropped_links_count);
    EQ_CHECK(gb_str_eq(a->status.message, b->status.message));
    EQ_CHECK(a->status.code == b->status.code);
    return true;
}

static inline bool eq_exemplars(const pd_exemplar *a, uint32_t na, const pd_exemplar *b,
                                uint32_t nb)
{
    EQ_CHECK(na == nb);
    for (uint32_t i = 0; i < na; i++) {
        EQ_CHECK(eq_attrs(&a[i].filtered_attrs, &b[i].filtered_attrs));
        EQ_CHECK(a[i].time_unix_nano == b[i].time_unix_nano);
        EQ_CHECK(a[i].value_type == b[i].value_type);
        if (a[i].value_type == PD_NUM_DOUBLE) EQ_CHECK(eq_dbl(a[i].value.d, b[i].value.d));
        if (a[i].value_type == PD_NUM_INT) EQ_CHECK(a[i].value.i == b[i].value.i);
        EQ_CHECK(memcmp(&a[i].span_id, &b[i].span_id, 8) == 0);
        EQ_CHECK(memcmp(&a[i].trace_id, &b[i].trace_id, 16) == 0);
    }
    return true;
}

static inline bool eq_u64s(const uint64_t *a, uint32_t na, const uint64_t *b, uint32_t nb)
{
    EQ_CHECK(na == nb);
    for (uint32_t i = 0; i < na; i++)
        EQ_CHECK(a[i] == b[i]);
    return true;
}

static inline bool eq_metric(const pd_metric *a, const pd_metric *b)
{
    EQ_CHECK(gb_str_eq(a->name, b->name));
    EQ_CHECK(gb_str_eq(a->description, b->description));
    EQ_CHECK(gb_str_eq(a->unit, b->unit));
    EQ_CHECK(a->type == b->type);
    EQ_CHECK(a->temporality == b->temporality);
    EQ_CHECK(a->is_monotonic == b->is_monotonic);
    EQ_CHECK(eq_attrs(&a->metadata, &b->metadata));
    EQ_CHECK(a->n_dp == b->n_dp);
    for (uint32_t i = 0; i < a->n_dp; i++) {
        switch (a->type) {
        case PD_METRIC_GAUGE:
        case PD_METRIC_SUM: {
            const pd_number_dp *x = &a->dp.number[i], *y = &b->dp.number[i];
            EQ_CHECK(eq_attrs(&x->attrs, &y->attrs));
            EQ_CHECK(x->start_time_unix_nano == y->start_time_unix_nano);
            EQ_CHECK(x->time_unix_nano == y->time_unix_nano);
            EQ_CHECK(x->value_type == y->value_type);
            if (x->value_type == PD_NUM_DOUBLE) EQ_CHECK(eq_dbl(x->value.d, y->value.d));
            if (x->value_type == PD_NUM_INT) EQ_CHECK(x->value.i == y->value.i);
            EQ_CHECK(eq_exemplars(x->exemplars, x->n_exemplars, y->exemplars, y->n_exemplars));
            EQ_CHECK(x->flags == y->flags);
            break;
        }
        case PD_METRIC_HISTOGRAM: {
            const pd_histogram_dp *x = &a->dp.histogram[i], *y = &b->dp.histogram[i];
            EQ_CHECK(eq_attrs(&x->attrs, &y->attrs));
            EQ_CHECK(x->start_time_unix_nano == y->start_time_unix_nano);
            EQ_CHECK(x->time_unix_nano == y->time_unix_nano);
            EQ_CHECK(x->count == y->count);
            EQ_CHECK(x->has_sum == y->has_sum && x->has_min == y->has_min &&
                     x->has_max == y->has_max);
            if (x->has_sum) EQ_CHECK(eq_dbl(x->sum, y->sum));
            if (x->has_min) EQ_CHECK(eq_dbl(x->min, y->min));
            if (x->has_max) EQ_CHECK(eq_dbl(x->max, y->max));
            EQ_CHECK(eq_u64s(x->bucket_counts, x->n_bucket_counts, y->bucket_counts,
                             y->n_bucket_counts));
            EQ_CHECK(x->n_explicit_bounds == y->n_explicit_bounds);
            for (uint32_t j = 0; j < x->n_explicit_bounds; j++)
                EQ_CHECK(eq_dbl(x->explicit_bounds[j], y->explicit_bounds[j]));
            EQ_CHECK(eq_exemplars(x->exemplars, x->n_exemplars, y->exemplars, y->n_exemplars));
            EQ_CHECK(x->flags == y->flags);
            break;
        }
        case PD_METRIC_EXP_HISTOGRAM: {
            const pd_exp_histogram_dp *x = &a->dp.exp_histogram[i], *y = &b->dp.exp_histogram[i];
            EQ_CHECK(eq_attrs(&x->attrs, &y->attrs));
            EQ_CHECK(x->start_time_unix_nano == y->start_time_unix_nano);
            EQ_CHECK(x->time_unix_nano == y->time_unix_nano);
            EQ_CHECK(x->count == y->count);
            EQ_CHECK(x->has_sum == y->has_sum && x->has_min == y->has_min &&
                     x->has_max == y->has_max);
            if (x->has_sum) EQ_CHECK(eq_dbl(x->sum, y->sum));
            if (x->has_min) EQ_CHECK(eq_dbl(x->min, y->min));
            if (x->has_max) EQ_CHECK(eq_dbl(x->max, y->max));
            EQ_CHECK(x->scale == y->scale);
            EQ_CHECK(x->zero_count == y->zero_count);
            EQ_CHECK(eq_dbl(x->zero_threshold, y->zero_threshold));
            EQ_CHECK(x->positive.offset == y->positive.offset);
            EQ_CHECK(eq_u64s(x->positive.bucket_counts, x->positive.n_bucket_counts,
                             y->positive.bucket_counts, y->positive.n_bucket_counts));
            EQ_CHECK(x->negative.offset == y->negative.offset);
            EQ_CHECK(eq_u64s(x->negative.bucket_counts, x->negative.n_bucket_counts,
                             y->negative.bucket_counts, y->negative.n_bucket_counts));
            EQ_CHECK(eq_exemplars(x->exemplars, x->n_exemplars, y->exemplars, y->n_exemplars));
            EQ_CHECK(x->flags == y->flags);
            break;
        }
        case PD_METRIC_SUMMARY: {
            const pd_summary_dp *x = &a->dp.summary[i], *y = &b->dp.summary[i];
            EQ_CHECK(eq_attrs(&x->attrs, &y->attrs));
            EQ_CHECK(x->start_time_unix_nano == y->start_time_unix_nano);
            EQ_CHECK(x->time_unix_nano == y->time_unix_nano);
            EQ_CHECK(x->count == y->count);
            EQ_CHECK(eq_dbl(x->sum, y->sum));
            EQ_CHECK(x->n_quantiles == y->n_quantiles);
            for (uint32_t j = 0; j < x->n_quantiles; j++) {
                EQ_CHECK(eq_dbl(x->quantiles[j].quantile, y->quantiles[j].quantile));
                EQ_CHECK(eq_dbl(x->quantiles[j].value, y->quantiles[j].value));
            }
            EQ_CHECK(x->flags == y->flags);
            break;
        }
        default:
            break;
        }
    }
    return true;
}

static inline bool eq_log(const pd_log *a, const pd_log *b)
{
    EQ_CHECK(a->time_unix_nano == b->time_unix_nano);
    EQ_CHECK(a->observed_time_unix_nano == b->observed_time_unix_nano);
    EQ_CHECK(a->severity_number == b->severity_number);
    EQ_CHECK(gb_str_eq(a->severity_text, b->severity_text));
    EQ_CHECK(eq_any(&a->body, &b->body));
    EQ_CHECK(eq_attrs(&a->attrs, &b->attrs));
    EQ_CHECK(a->dropped_attributes_count == b->dropped_attributes_count);
    EQ_CHECK(a->flags == b->flags);
    EQ_CHECK(memcmp(&a->trace_id, &b->trace_id, 16) == 0);
    EQ_CHECK(memcmp(&a->span_id, &b->span_id, 8) == 0);
    EQ_CHECK(gb_str_eq(a->event_name, b->event_name));
    return true;
}

/* Compares one signal's resource -> scope -> item tree; the three signals differ only in names. */
#define EQ_SIGNAL_TREE(A, B, R, scopes, n_scopes, S, items, n_items, eq_item)                      \
    do {                                                                                           \
        EQ_CHECK((A).n == (B).n);                                                                  \
        for (uint32_t i = 0; i < (A).n; i++) {                                                     \
            const R *x = &(A).v[i], *y = &(B).v[i];                                                \
            EQ_CHECK(eq_resource(&x->resource, &y->resource));                                     \
            EQ_CHECK(gb_str_eq(x->schema_url, y->schema_url));                                     \
            EQ_CHECK(x->n_scopes == y->n_scopes);                                                  \
            for (uint32_t j = 0; j < x->n_scopes; j++) {                                           \
                const S *p = &x->scopes[j], *q = &y->scopes[j];                                    \
                EQ_CHECK(eq_scope(&p->scope, &q->scope));                                          \
                EQ_CHECK(gb_str_eq(p->schema_url, q->schema_url));                                 \
                EQ_CHECK(p->n_items == q->n_items);                                                \
                for (uint32_t k = 0; k < p->n_items; k++)                                          \
                    EQ_CHECK(eq_item(&p->items[k], &q->items[k]));                                 \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static inline bool eq_batch(const pd_batch *a, const pd_batch *b)
{
    EQ_CHECK(a->signal == b->signal);
    switch (a->signal) {
    case PD_TRACES:
        EQ_SIGNAL_TREE(a->u.traces, b->u.traces, pd_resource_spans, scope_spans, n_scope_spans,
                       pd_scope_spans, spans, n_spans, eq_span);
        return true;
    case PD_METRICS:
        EQ_SIGNAL_TREE(a->u.metrics, b->u.metrics, pd_resource_metrics, scope_metrics,
                       n_scope_metrics, pd_scope_metrics, metrics, n_metrics, eq_metric);
        return true;
    case PD_LOGS:
        EQ_SIGNAL_TREE(a->u.logs, b->u.logs, pd_resource_logs, scope_logs, n_scope_logs,
                       pd_scope_logs, logs, n_logs, eq_log);
        return true;
    }
    return false;
}

#endif
