/* debug exporter internals shared with its tests. */
#ifndef DEBUG_DEBUG_H
#define DEBUG_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sbuf.h"
#include "config/config.h"
#include "pdata/pdata.h"
#include "pipeline/component.h"
#include "pipeline/exporter_helper.h"

enum { DEBUG_BASIC = 0, DEBUG_NORMAL = 1, DEBUG_DETAILED = 2 };

typedef struct debug_cfg {
    int verbosity; /* DEBUG_BASIC, DEBUG_NORMAL, DEBUG_DETAILED */
    bool verbosity_set;
    int64_t sampling_initial;
    int64_t sampling_thereafter;
    bool use_internal_logger;
    char *loglevel; /* logging exporter (deprecated): mapped onto verbosity by validation */
} debug_cfg;

extern const cfg_table debug_table;
extern const pl_descriptor exporter_debug_descriptor;

void debug_cfg_default(debug_cfg *cfg);
/* Appends the output for one batch (summary line, then the dump for normal/detailed). */
gb_status debug_format(const pd_batch *b, int verbosity, const char *id, gb_sbuf *out);
/* Redirects output (tests); default stderr. */
void debug_set_fd(pl_component *c, int fd);

#endif
