/* sum connector (otelcol-contrib connector/sumconnector): sums the value of `source_attribute`
 * over spans, span events, data points and log records into delta, monotonic double sums, one
 * data point per distinct combination of the configured attributes, emitted for every incoming
 * batch (as otelcol). Values: doubles and ints as numbers, strings parsed as numbers (otherwise
 * 0); an item without the attribute adds 0 (its data point still appears, as in otelcol).
 *
 * Differences from otelcol, on purpose: the `metrics` section (whose items have no attributes,
 * so otelcol always sums 0) is rejected; with several `attributes`, otelcol adds the value once
 * per attribute (a bug); we add it once. The work is in connutil.c, shared with count. */
#include "connector/connutil/connutil.h"

static const cu_spec k_sum_spec = {
    .is_sum = true,
    .allowed = {true, true, false, true, true},
};

static void sum_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    (void)node;
    cu_validate(&k_sum_spec, obj, path, d);
}

static const cfg_field sum_fields[] = {CU_SECTION_FIELDS(
    "metric name -> {description, source_attribute, conditions, attributes} over spans",
    "same, over span events", "not supported (rejected)", "same, over metric data points",
    "same, over log records")};

static CFG_TABLE(sum_cfg_table, sum_fields, sum_validate);

static gb_status sum_create(pl_component *c)
{
    return cu_create(&k_sum_spec, c);
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
    .consume = cu_component_consume,
    .destroy = cu_destroy,
};
