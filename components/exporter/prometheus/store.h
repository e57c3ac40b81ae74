/* The prometheus exporter's accumulator and exposition (otelcol's lastValueAccumulator +
 * collector): OTLP points in, Prometheus text out. Network-free so it can be unit-tested; see
 * store.c for the design and docs/internals/prometheus.md for the rules. Thread-safe: add and
 * render may run concurrently from any threads. */
#ifndef PROM_STORE_H
#define PROM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sbuf.h"
#include "base/status.h"
#include "exporter/promutil/promutil.h"
#include "pdata/pdata.h"

typedef struct prometheus_store_cfg {
    const char *namespace_;          /* NULL/"": none */
    bool add_suffixes;               /* unit and type suffixes (default true) */
    bool send_timestamps;            /* write sample timestamps */
    int64_t expiration_ns;           /* series unseen this long are dropped (0: never) */
    bool resource_to_telemetry;      /* every resource attribute becomes a label */
    bool exclude_service_attributes; /* ... except service.name/namespace/instance.id */
    /* resource_constant_labels (takes precedence over resource_to_telemetry when set): resource
     * attributes whose key matches an included pattern (all when none) and no excluded one. */
    bool rcl_set;
    const char *const *rcl_included;
    uint32_t n_rcl_included;
    const char *const *rcl_excluded;
    uint32_t n_rcl_excluded;
    bool without_scope_info;            /* no otel_scope_* labels */
    const promutil_label *const_labels; /* names already valid; copied */
    uint32_t n_const_labels;
    uint64_t max_series; /* 0: unlimited; new series beyond it are dropped */
} prometheus_store_cfg;

typedef struct prometheus_store prometheus_store;

typedef struct prometheus_add_stats {
    uint64_t points;  /* points stored */
    uint64_t dropped; /* points refused (limit, type conflict, invalid name, unsupported) */
    char reason[160]; /* last drop reason, "" when none */
} prometheus_add_stats;

gb_status prometheus_store_new(const prometheus_store_cfg *cfg, prometheus_store **out);
void prometheus_store_free(prometheus_store *s);
/* Accumulates every point of a metrics batch; now_mono is gb_mono_ns() (a parameter for tests).
 * Returns GB_ERR_NOMEM only when memory ran out (what was stored so far stays). */
gb_status prometheus_store_add(prometheus_store *s, const pd_batch *b, int64_t now_mono,
                               prometheus_add_stats *st);
/* Drops expired series and writes the exposition: text format 0.0.4, or OpenMetrics 1.0.0 when
 * openmetrics. Families are sorted by name, series by labels. */
gb_status prometheus_store_render(prometheus_store *s, bool openmetrics, int64_t now_mono,
                                  gb_sbuf *out);
/* Live series (metric series plus target_info series). */
uint64_t prometheus_store_series(prometheus_store *s);

#endif
