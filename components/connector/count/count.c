/* count connector (otelcol-contrib connector/countconnector): counts spans, span events, metrics,
 * data points and log records into delta, monotonic int sums, one data point per distinct
 * combination of the configured attributes, emitted for every incoming batch (as otelcol).
 *
 * A section left out of the config gets otelcol's default metric (trace.span.count,
 * trace.span.event.count, metric.count, metric.datapoint.count, log.record.count); a section that
 * is present replaces it (an empty one counts nothing). Conditions are the OTTL subset of
 * connutil.c. The work is in connutil.c, shared with the sum connector. */
#include <stdlib.h>

#include "connector/connutil/connutil.h"

static const cu_spec k_count_spec = {
    .is_sum = false,
    .allowed = {true, true, true, true, true},
    .def_name = {"trace.span.count", "trace.span.event.count", "metric.count",
                 "metric.datapoint.count", "log.record.count"},
    .def_desc = {"The number of spans observed.", "The number of span events observed.",
                 "The number of metrics observed.", "The number of data points observed.",
                 "The number of log records observed."},
};

static void count_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    (void)node;
    const cu_cfg *cfg = obj;
    cu_defs defs;
    cu_parse(&k_count_spec, cfg->sections, path, &defs, d);
    cu_defs_free(&defs);
}

static const cfg_field count_fields[] = {
    {.key = "spans",
     .type = CFG_T_ANY,
     .offset = offsetof(cu_cfg, sections[CU_SPANS]),
     .doc = "metric name -> {description, conditions, attributes} counted over spans"},
    {.key = "spanevents",
     .type = CFG_T_ANY,
     .offset = offsetof(cu_cfg, sections[CU_SPANEVENTS]),
     .doc = "same, over span events"},
    {.key = "metrics",
     .type = CFG_T_ANY,
     .offset = offsetof(cu_cfg, sections[CU_METRICS]),
     .doc = "same, over metrics (no attributes)"},
    {.key = "datapoints",
     .type = CFG_T_ANY,
     .offset = offsetof(cu_cfg, sections[CU_DATAPOINTS]),
     .doc = "same, over metric data points"},
    {.key = "logs",
     .type = CFG_T_ANY,
     .offset = offsetof(cu_cfg, sections[CU_LOGS]),
     .doc = "same, over log records"},
};

static CFG_TABLE(count_cfg_table, count_fields, count_validate);

static gb_status count_create(pl_component *c)
{
    cu_defs *defs = calloc(1, sizeof *defs);
    if (!defs) return GB_ERR_NOMEM;
    cu_cfg empty = {0};
    const cu_cfg *cfg = c->cfg ? c->cfg : &empty;
    gb_status st = cu_parse(&k_count_spec, cfg->sections, c->full_id, defs, NULL);
    if (st != GB_OK) {
        cu_defs_free(defs);
        free(defs);
        return st;
    }
    c->state = defs;
    return GB_OK;
}

static gb_status count_consume(pl_component *c, pd_batch *b)
{
    return cu_consume(&k_count_spec, c->state, c, b);
}

static void count_destroy(pl_component *c)
{
    if (!c->state) return;
    cu_defs_free(c->state);
    free(c->state);
    c->state = NULL;
}

const pl_descriptor connector_count_descriptor = {
    .kind = PL_CONNECTOR,
    .type = "count",
    .connector = {[PD_TRACES] = {[PD_METRICS] = PL_ALPHA},
                  [PD_METRICS] = {[PD_METRICS] = PL_ALPHA},
                  [PD_LOGS] = {[PD_METRICS] = PL_ALPHA}},
    .config = &count_cfg_table,
    .config_size = sizeof(cu_cfg),
    .doc = "counts spans, span events, metrics, data points and log records into metrics",
    .create = count_create,
    .consume = count_consume,
    .destroy = count_destroy,
};
