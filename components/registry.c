/* The one list of built-in component types. A new component adds its descriptor here (one extern
 * line and one array entry) and nothing else outside its folder. */
#include "pipeline/component.h"

extern const pl_descriptor receiver_otlp_descriptor;

const pl_descriptor *const pl_registry[] = {
    &receiver_otlp_descriptor,
    NULL,
};
