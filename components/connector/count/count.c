/* count connector (otelcol-contrib connector/countconnector): counts spans, span events, metrics,
 * data points and log records into delta, monotonic int sums, one data point per distinct
 * combination of the configured attributes, emitted for every incoming batch (as otelcol).
 *
 * A section left out of the config gets otelcol's default metric (trace.span.count,
 * trace.span.event.count, metric.count, metric.datapoint.count, log.record.count); a section that
 * is present replaces it (an empty one counts nothing). Conditions are the OTTL subset of
 * connutil.c. The work is in connutil.c, shared with the sum connector. */
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
    cu_validate(&k_count_spec, obj, path, d);
}

static const cfg_field count_fields[] = {
    CU_SECTION_FIELDS("metric name -> {description, conditions, attributes} counted over spans",
                      "same, over span events", "same, over metrics (no attributes)",
                      "same, over metric data points", "same, over log records")};

static CFG_TABLE(count_cfg_table, count_fields, count_validate);

static gb_status count_create(pl_component *c)
{
    return cu_create(&k_count_spec, c);
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
    .consume = cu_component_consume,
    .destroy = cu_destroy,
};
