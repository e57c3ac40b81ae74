/* governance connector: traces/logs carrying the governance attributes (GOVERNANCE.md 1) ->
 * cumulative genops.* metrics (GOVERNANCE.md 7). */
#ifndef GOVERNANCE_CONNECTOR_H
#define GOVERNANCE_CONNECTOR_H

#include <stdint.h>

#include "pipeline/component.h"

#define GVC_MAX_DIMS   16
#define GVC_MAX_BOUNDS 64
#define GVC_MAX_LABELS (GVC_MAX_DIMS + 1)

typedef struct gvc_cfg {
    int64_t metrics_flush_interval;     /* ns */
    const cfg_node *dimensions;         /* list of names or {name, default}; NULL = defaults */
    int64_t top_k;                      /* distinct values kept per label per metric */
    int64_t max_series;                 /* total series; the rest go to all-"other" */
    const cfg_node *eval_score_buckets; /* list of numbers; NULL = 0, 0.1, ..., 1.0 */
    int64_t dedup_capacity;             /* recent (trace_id, span_id) pairs remembered; 0 = off */
} gvc_cfg;

extern const cfg_table gvc_cfg_table;
extern const pl_descriptor connector_governance_descriptor;

/* Emits the accumulated metrics now (tests; the flush thread does this every interval). */
gb_status gvc_flush_now(pl_component *c);

#endif
