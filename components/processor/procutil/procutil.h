/* Small helpers shared by the processors: config diagnostics from validate hooks and telemetry
 * label formatting. */
#ifndef PROCUTIL_H
#define PROCUTIL_H

#include <stddef.h>

#include "config/config.h"
#include "pipeline/component.h"

/* Adds an error diagnostic at node (or an unknown position when node is NULL). */
void procutil_diag(cfg_diags *d, const cfg_node *node, const char *path, const char *msg);
/* Same, as a warning. */
void procutil_warn(cfg_diags *d, const cfg_node *node, const char *path, const char *msg);

/* Ends consume for a processor that changed b in place (st = result of the processing): forwards
 * b to the next consumer, or drops it (logged with its item count) when st failed or there is no
 * downstream, answering RETRY for out-of-memory and PERMANENT otherwise. */
gb_status procutil_forward(pl_component *c, pd_batch *b, gb_status st);

/* Writes processor="<id>" into out (truncated to size). */
void procutil_label(char *out, size_t size, const char *id);

/* Case-insensitive comparison of a view with a NUL-terminated string. */
int procutil_ieq(const char *a, size_t alen, const char *b);

#endif
