/* The pipeline graph: from a loaded config document to running component instances.
 *
 *   pl_graph_build   parse the top-level sections and service.pipelines, bind every component's
 *                    config, create the instances and wire consumers (no I/O). All problems are
 *                    reported at once in the diagnostics, with file:line:col.
 *   pl_graph_start   start in reverse topological order (extensions, exporters, connectors,
 *                    processors, receivers); on failure, shut down what started, in reverse.
 *   pl_graph_shutdown  receivers first, then processors in pipeline order (so batches flush
 *                    downstream), connectors, exporters (drain), extensions; within a deadline.
 *
 * Instances: a receiver or exporter ID named in several pipelines is one instance (exporters:
 * one per signal); processors are one instance per pipeline, as in otelcol. */
#ifndef PL_GRAPH_H
#define PL_GRAPH_H

#include "../config/config.h"
#include "component.h"

typedef struct pl_graph pl_graph;

/* service.telemetry, read by the runtime. */
typedef struct pl_telemetry_cfg {
    char *logs_level;       /* "info" unless set */
    char *metrics_level;    /* none | basic | normal | detailed */
    char *metrics_host;     /* from address ":8888" or readers[].pull.exporter.prometheus.host */
    int metrics_port;       /* 8888 unless set; 0 = disabled (level none) */
    cfg_mark metrics_mark;
} pl_telemetry_cfg;

/* doc must outlive the graph (bound configs point into it). */
gb_status pl_graph_build(cfg_doc *doc, pl_host *host, cfg_diags *d, pl_graph **out);
gb_status pl_graph_start(pl_graph *g);
gb_status pl_graph_shutdown(pl_graph *g, int64_t deadline_ns);
void pl_graph_free(pl_graph *g);

const pl_telemetry_cfg *pl_graph_telemetry(const pl_graph *g);
/* Text description for zpages and logs: one line per pipeline or per component of a kind. */
void pl_graph_describe(const pl_graph *g, int what, gb_sbuf *out);
/* Component instance by full id ("exporter/debug"), first match; tests and zpages. */
pl_component *pl_graph_find(const pl_graph *g, const char *full_id);

#endif
