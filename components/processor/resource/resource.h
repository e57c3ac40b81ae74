/* resource processor (contrib processor/resourceprocessor): applies attribute actions to the
 * resource attributes of every resource in a batch. */
#ifndef RESOURCE_PROCESSOR_H
#define RESOURCE_PROCESSOR_H

#include "pipeline/component.h"
#include "processor/attraction/attraction.h"

typedef struct resource_cfg {
    cfg_list attributes; /* of attraction_cfg */
} resource_cfg;

extern const cfg_table resource_cfg_table;
extern const pl_descriptor processor_resource_descriptor;

/* Validates a bound config; GB_ERR_INVALID with a message in err. */
gb_status resource_check(const resource_cfg *c, char *err, size_t errlen);

#endif
