/* The one list of built-in component types. A new component adds its descriptor here (one extern
 * line and one array entry) and nothing else outside its folder. */
#include "pipeline/component.h"

extern const pl_descriptor receiver_otlp_descriptor;
extern const pl_descriptor processor_attributes_descriptor;
extern const pl_descriptor processor_batch_descriptor;
extern const pl_descriptor processor_memory_limiter_descriptor;
extern const pl_descriptor processor_resource_descriptor;

const pl_descriptor *const pl_registry[] = {
    &receiver_otlp_descriptor,
    &processor_attributes_descriptor,
    &processor_batch_descriptor,
    &processor_memory_limiter_descriptor,
    &processor_resource_descriptor,
    NULL,
};
