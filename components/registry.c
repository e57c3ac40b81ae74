/* The one list of built-in component types. A new component adds its descriptor here (one extern
 * line and one array entry) and nothing else outside its folder. */
#include "pipeline/component.h"

extern const pl_descriptor receiver_otlp_descriptor;
extern const pl_descriptor processor_batch_descriptor;
extern const pl_descriptor processor_memory_limiter_descriptor;
extern const pl_descriptor processor_resource_descriptor;
extern const pl_descriptor processor_attributes_descriptor;
extern const pl_descriptor processor_governance_descriptor;
extern const pl_descriptor exporter_otlp_descriptor;
extern const pl_descriptor exporter_otlphttp_descriptor;
extern const pl_descriptor exporter_prometheusremotewrite_descriptor;
extern const pl_descriptor exporter_debug_descriptor;
extern const pl_descriptor exporter_file_descriptor;
extern const pl_descriptor exporter_nop_descriptor;
extern const pl_descriptor exporter_prometheus_descriptor;
extern const pl_descriptor exporter_ledger_descriptor;
extern const pl_descriptor extension_health_check_descriptor;
extern const pl_descriptor extension_zpages_descriptor;
extern const pl_descriptor extension_pprof_descriptor;
extern const pl_descriptor extension_memory_ballast_descriptor;
extern const pl_descriptor connector_governance_descriptor;
extern const pl_descriptor connector_sum_descriptor;
extern const pl_descriptor connector_count_descriptor;

const pl_descriptor *const pl_registry[] = {
    &receiver_otlp_descriptor,
    &processor_batch_descriptor,
    &processor_memory_limiter_descriptor,
    &processor_resource_descriptor,
    &processor_attributes_descriptor,
    &processor_governance_descriptor,
    &exporter_otlp_descriptor,
    &exporter_otlphttp_descriptor,
    &exporter_prometheusremotewrite_descriptor,
    &exporter_debug_descriptor,
    &exporter_file_descriptor,
    &exporter_nop_descriptor,
    &exporter_prometheus_descriptor,
    &exporter_ledger_descriptor,
    &extension_health_check_descriptor,
    &extension_zpages_descriptor,
    &extension_pprof_descriptor,
    &extension_memory_ballast_descriptor,
    &connector_governance_descriptor,
    &connector_sum_descriptor,
    &connector_count_descriptor,
    NULL,
};
