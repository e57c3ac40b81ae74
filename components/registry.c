/* The one list of built-in component types. A new component adds its descriptor here (one extern
 * line and one array entry) and nothing else outside its folder. */
#include "pipeline/component.h"

extern const pl_descriptor exporter_debug_descriptor;
extern const pl_descriptor exporter_file_descriptor;
extern const pl_descriptor exporter_otlphttp_descriptor;

const pl_descriptor *const pl_registry[] = {
    &exporter_debug_descriptor,
    &exporter_file_descriptor,
    &exporter_otlphttp_descriptor,
    NULL,
};
