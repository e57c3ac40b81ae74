/* Config tables of the exporter helper: otelcol's `retry_on_failure` and `sending_queue` sections,
 * embedded by every exporter. Kept apart from the helper itself so the helper links without the
 * config binder. `storage` (persistent queue) is accepted by the schema and refused by validation
 * with a clear message until the persistent queue exists; `blocking` is otelcol's deprecated name
 * of block_on_overflow. */
#include <stddef.h>
#include <string.h>

#include "exporter_helper.h"

void pl_retry_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    pl_retry_cfg *r = obj;
    cfg_mark m = node ? node->mark : (cfg_mark){0};
    if (r->enabled && r->max_interval < r->initial_interval)
        cfg_diag_add(d, CFG_ERROR, m, path, "max_interval must not be less than initial_interval");
}

static void queue_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    pl_queue_cfg *q = obj;
    cfg_mark m = node ? node->mark : (cfg_mark){0};
    if (q->storage) {
        const cfg_pair *p = node ? cfg_node_get_pair(node, "storage") : NULL;
        if (p) m = p->key_mark;
        cfg_diag_add(d, CFG_ERROR, m, path,
                     "storage: persistent queue not available in this build (remove `storage` "
                     "to use the in-memory queue)");
    }
    if (q->block_on_overflow && q->drop_on_overflow)
        cfg_diag_add(d, CFG_ERROR, m, path,
                     "block_on_overflow and drop_on_overflow are mutually exclusive");
    if (q->sizer != 0)
        cfg_diag_add(d, CFG_ERROR, m, path,
                     "sizer: only \"requests\" is available in this build (queue_size counts "
                     "batches)");
}

static const char *const sizer_names[] = {"requests", "items", "bytes", NULL};

static const cfg_field retry_fields[] = PL_RETRY_FIELDS("5s", "30s", "300s");

static const cfg_field queue_fields[] = {
    {"enabled", CFG_T_BOOL, offsetof(pl_queue_cfg, enabled), "true",
     "queue batches and send them from consumer threads", .flags = 0},
    {"num_consumers", CFG_T_INT, offsetof(pl_queue_cfg, num_consumers), "10",
     "number of consumer threads", .min = 1, .max = 4096},
    {"queue_size", CFG_T_INT, offsetof(pl_queue_cfg, queue_size), "1000",
     "maximum number of queued batches", .min = 1, .max = 16777216},
    {"block_on_overflow", CFG_T_BOOL, offsetof(pl_queue_cfg, block_on_overflow), "false",
     "wait (up to timeout) for room instead of refusing when full", .flags = 0},
    {"blocking", CFG_T_BOOL, offsetof(pl_queue_cfg, block_on_overflow), NULL,
     "deprecated name of block_on_overflow", CFG_F_DEPRECATED, .replacement = "block_on_overflow"},
    {"drop_on_overflow", CFG_T_BOOL, offsetof(pl_queue_cfg, drop_on_overflow), "false",
     "drop and count instead of pushing back when full", .flags = 0},
    {"sizer", CFG_T_ENUM, offsetof(pl_queue_cfg, sizer), "requests",
     "unit of queue_size (only requests)", .enum_names = sizer_names},
    {"storage", CFG_T_STRING, offsetof(pl_queue_cfg, storage), NULL,
     "storage extension for a persistent queue (not available in this build)", .flags = 0},
};

CFG_TABLE(pl_retry_table, retry_fields, pl_retry_validate);
CFG_TABLE(pl_queue_table, queue_fields, queue_validate);
