/* memory_ballast: removed from otelcol (Go GC tuning). Accepted so old configs load; it does
 * nothing and says so once at start (COMPATIBILITY.md). */
#include <stddef.h>

#include "base/log.h"
#include "pipeline/component.h"

typedef struct mb_cfg {
    int64_t size_mib;
    int64_t size_in_percentage;
} mb_cfg;

static const cfg_field mb_fields[] = {
    {.key = "size_mib", .type = CFG_T_INT, .offset = offsetof(mb_cfg, size_mib), .def = "0",
     .doc = "ignored"},
    {.key = "size_in_percentage", .type = CFG_T_INT, .offset = offsetof(mb_cfg, size_in_percentage),
     .def = "0", .doc = "ignored"},
};
static CFG_TABLE(mb_table, mb_fields, NULL);

static gb_status mb_start(pl_component *c, pl_host *host)
{
    (void)host;
    gb_log(GB_LOG_WARN, c->full_id,
           "memory_ballast was removed from otelcol and does nothing here; use memory_limiter");
    return GB_OK;
}

const pl_descriptor extension_memory_ballast_descriptor = {
    .kind = PL_EXTENSION,
    .type = "memory_ballast",
    .stability = {PL_DEPRECATED},
    .config = &mb_table,
    .config_size = sizeof(mb_cfg),
    .doc = "accepted for old configs; does nothing (warns at start)",
    .start = mb_start,
};
