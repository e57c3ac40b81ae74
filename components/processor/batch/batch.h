/* batch processor: merges incoming batches by reference and sends them on by size or timeout,
 * splitting at send_batch_max_size (otelcol processor/batchprocessor). */
#ifndef BATCH_PROCESSOR_H
#define BATCH_PROCESSOR_H

#include <stddef.h>
#include <stdint.h>

#include "pipeline/component.h"

typedef struct batch_cfg {
    int64_t timeout;             /* ns; 0 = send on every consume */
    int64_t send_batch_size;     /* trigger */
    int64_t send_batch_max_size; /* 0 = no split */
    cfg_strings metadata_keys;
    int64_t metadata_cardinality_limit;
} batch_cfg;

extern const cfg_table batch_cfg_table;
extern const pl_descriptor processor_batch_descriptor;

/* Validates a bound config; GB_ERR_INVALID with a message in err. */
gb_status batch_check(const batch_cfg *c, char *err, size_t errlen);

/* Counters for tests and zpages. */
typedef struct batch_stats {
    uint64_t sent_batches;
    uint64_t sent_items;
    uint64_t size_triggers;
    uint64_t timeout_triggers;
    uint64_t refused;       /* consume answered RETRY (pushback) */
    uint64_t dropped_items; /* counted and logged drops */
    uint64_t pending_items; /* accepted, not yet sent (including retries) */
    uint32_t batchers;
} batch_stats;

void batch_get_stats(const pl_component *c, batch_stats *out);

#endif
