/* memory_limiter processor (otelcol processor/memorylimiterprocessor): refuses data with
 * GB_ERR_RETRY while the process is above its soft memory limit. */
#ifndef MEMORY_LIMITER_H
#define MEMORY_LIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/component.h"

typedef struct memory_limiter_cfg {
    int64_t check_interval; /* ns */
    bool check_interval_set;
    int64_t limit_mib;
    int64_t spike_limit_mib;
    int64_t limit_percentage;
    int64_t spike_limit_percentage;
    int64_t min_gc_interval_when_soft_limited; /* accepted for compatibility; no GC here */
    int64_t min_gc_interval_when_hard_limited;
} memory_limiter_cfg;

extern const cfg_table memory_limiter_cfg_table;
extern const pl_descriptor processor_memory_limiter_descriptor;

/* Validates a bound config; GB_ERR_INVALID with a message in err. */
gb_status memory_limiter_check(const memory_limiter_cfg *c, char *err, size_t errlen);

/* Memory readers, replaceable for tests (NULL restores the defaults gb_mem_rss,
 * gb_mem_in_flight, gb_mem_total). Call before create. */
typedef struct memory_limiter_source {
    uint64_t (*rss)(void);
    int64_t (*in_flight)(void);
    uint64_t (*total)(void);
} memory_limiter_source;
void memory_limiter_set_source(const memory_limiter_source *src);

/* Takes one sample now (what the checker thread does every check_interval). */
void memory_limiter_sample(pl_component *c);

/* Limits in bytes after defaults (tests, zpages). */
void memory_limiter_limits(const pl_component *c, uint64_t *hard, uint64_t *soft);

#endif
