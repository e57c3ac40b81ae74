/* Shared processor helpers: diagnostics from validate hooks, the forward-or-drop tail of
 * in-place processors, telemetry labels. */
#include "procutil.h"

#include <stdio.h>
#include <strings.h>

#include "base/log.h"

static void diag(cfg_diags *d, cfg_severity sev, const cfg_node *node, const char *path,
                 const char *msg)
{
    cfg_mark m = {0};
    if (node) m = node->mark;
    if (d) cfg_diag_add(d, sev, m, path ? path : "", "%s", msg);
}

void procutil_diag(cfg_diags *d, const cfg_node *node, const char *path, const char *msg)
{
    diag(d, CFG_ERROR, node, path, msg);
}

void procutil_warn(cfg_diags *d, const cfg_node *node, const char *path, const char *msg)
{
    diag(d, CFG_WARNING, node, path, msg);
}

void procutil_label(char *out, size_t size, const char *id)
{
    snprintf(out, size, "processor=\"%s\"", id);
}

int procutil_ieq(const char *a, size_t alen, const char *b)
{
    size_t bl = 0;
    while (b[bl])
        bl++;
    return alen == bl && strncasecmp(a, b, alen) == 0;
}

gb_status procutil_forward(pl_component *c, pd_batch *b, gb_status st)
{
    pl_consumer *next = c->next[c->signal];
    if (st == GB_OK && next) return next->consume(next, b);
    gb_log(GB_LOG_ERROR, c->full_id, "dropped %llu %s: %s", (unsigned long long)pd_batch_count(b),
           pd_signal_item(c->signal),
           st ? "out of memory while applying actions" : "no downstream consumer");
    pd_batch_unref(b);
    return st == GB_ERR_NOMEM ? GB_ERR_RETRY : GB_ERR_PERMANENT;
}
