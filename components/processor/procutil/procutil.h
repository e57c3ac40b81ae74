/* Small helpers shared by the processors: config diagnostics from validate hooks and telemetry
 * label formatting. */
#ifndef PROCUTIL_H
#define PROCUTIL_H

#include <stddef.h>

#include "config/config.h"

/* Adds an error diagnostic at node (or an unknown position when node is NULL). */
void procutil_diag(cfg_diags *d, const cfg_node *node, const char *path, const char *msg);
/* Same, as a warning. */
void procutil_warn(cfg_diags *d, const cfg_node *node, const char *path, const char *msg);

/* Writes processor="<id>" into out (truncated to size). */
void procutil_label(char *out, size_t size, const char *id);

/* Case-insensitive comparison of a view with a NUL-terminated string. */
int procutil_ieq(const char *a, size_t alen, const char *b);

#endif
