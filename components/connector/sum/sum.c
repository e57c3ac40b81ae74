/* sum connector (otelcol-contrib connector/sumconnector): sums the value of `source_attribute`
 * over spans, span events, data points and log records into delta, monotonic double sums, one
 * data point per distinct combination of the configured attributes, emitted for every incoming
 * batch (as otelcol). Values: doubles and ints as numbers, strings parsed as numbers (otherwise
 * 0); an item without the attribute adds 0 (its data point still appears, as in otelcol).
 *
 * Differences from otelcol, on purpose: the `metrics` section (whose items have no attributes,
 * so otelcol always sums 0) is rejected; with several `attributes`, otelcol adds the value once
 * per attribute (a bug); we add it once. The work is in connutil.c, shared with count. */
#include <stdlib.h>

#include "connector/connutil/connutil.h"

static const cu_spec k_sum_spec = {
    .is_sum = true,
    .allowed = {true, true, false, true, true},
};

static void sum_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    (void)node;
    const cu_cfg *cfg = obj;
    cu_defs defs;
    cu_parse(&k_sum_spec, cfg->sections, path, &defs, d);
    cu_defs_free(&defs);
}

static const cfg_field sum_fields[] = {
    {.key = "spans",
     .type = CFG_T_ANY,
     .offset = offsetof(cu_cfg, sections[CU_SPANS]),
     .doc = "metric name -> {description, source_attribute, conditions, attributes} over spans"},
    {.key = "spanevents",
     .type = CFG_T_ANY,
     .offset = offsetof(cu_cfg, sections[CU_SPANEVENTS]),
     .doc = "same, over span events"},
    {.key = "metrics",
     .type = CFG_T_ANY,
     .offset = offsetof(cu_cfg, sections[CU_METRICS]),
     .doc = "not supported (rejected)"},
    {.key = "datapoints",
     .type = CFG_T_ANY,
     .offset = offsetof(cu_cfg, sections[CU_DATAPOINTS]),
     .doc = "same, over metric data points"},
    {.key = "logs",
     .type = CFG_T_ANY,
     .offset = offsetof(cu_cfg, sections[CU_LOGS]),
     .doc = "same, over log records"},
};

static CFG_TABLE(sum_cfg_table, sum_fields, sum_validate);

static gb_status sum_create(pl_component *c)
{
    cu_defs *defs = calloc(1, sizeof *defs);
    if (!defs) return GB_ERR_NOMEM;
    cu_cfg empty = {0};
    const cu_cfg *cfg = c->cfg ? c->cfg : &empty;
    gb_status st = cu_parse(&k_sum_spec, cfg->sections, c->full_id, defs, NULL);
    if (st != GB_OK) {
        cu_defs_free(defs);
        free(defs);
        return st;
    }
    c->state = defs;
    return GB_OK;
}

static gb_status sum_consume(pl_component *c, pd_batch *b)
{
    return cu_consume(&k_sum_spec, c->state, c, b);
}

static void sum_destroy(pl_component *c)
{
    if (!c->state) return;
    cu_defs_free(c->state);
    free(c->state);
    c->state = NULL;
}

const pl_descriptor connector_sum_descriptor = {
    .kind = PL_CONNECTOR,
    .type = "sum",
    .connector = {[PD_TRACES] = {[PD_METRICS] = PL_ALPHA},
                  [PD_METRICS] = {[PD_METRICS] = PL_ALPHA},
                  [PD_LOGS] = {[PD_METRICS] = PL_ALPHA}},
    .config = &sum_cfg_table,
    .config_size = sizeof(cu_cfg),
    .doc = "sums a numeric attribute of spans, span events, data points and logs into metrics",
    .create = sum_create,
    .consume = sum_consume,
    .destroy = sum_destroy,
};
