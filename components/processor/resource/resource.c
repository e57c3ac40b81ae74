/* resource processor (contrib processor/resourceprocessor).
 *
 * What: the `attributes` action list (see processor/attraction) is applied, in order, to the
 * resource attributes of every ResourceSpans/ResourceMetrics/ResourceLogs of a batch, in place.
 * How: the descriptor sets `mutates`, so the batch we get is ours to change; the per-batch
 * action context copies the configured keys and values into the batch arena once.
 * Rejected: evaluating env vars in from_attribute (the guide's ENVIRONMENT example) - otelcol
 * copies an attribute and so do we; ${env:X} in `value` is the way to read the environment. */
#include "resource.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "processor/procutil/procutil.h"

static const cfg_field resource_fields[] = {
    ATTRACTION_LIST_FIELD("attributes", resource_cfg, attributes,
                          "actions applied to resource attributes"),
};

gb_status resource_check(const resource_cfg *c, char *err, size_t errlen)
{
    if (c->attributes.n == 0) {
        snprintf(err, errlen, "missing required field \"attributes\"");
        return GB_ERR_INVALID;
    }
    attraction *a = NULL;
    gb_status st =
        attraction_compile(c->attributes.v, c->attributes.n, "attributes", &a, err, errlen);
    attraction_free(a);
    return st;
}

static void resource_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    char err[256];
    if (resource_check(obj, err, sizeof err) != GB_OK) procutil_diag(d, node, path, err);
}

CFG_TABLE(resource_cfg_table, resource_fields, resource_validate);

static gb_status resource_create(pl_component *c)
{
    const resource_cfg *cfg = c->cfg;
    char err[256];
    attraction *a = NULL;
    if (cfg->attributes.n == 0) {
        gb_log(GB_LOG_ERROR, c->full_id,
               "invalid configuration: missing required field "
               "\"attributes\"");
        return GB_ERR_INVALID;
    }
    gb_status st =
        attraction_compile(cfg->attributes.v, cfg->attributes.n, "attributes", &a, err, sizeof err);
    if (st) {
        gb_log(GB_LOG_ERROR, c->full_id, "invalid configuration: %s", err);
        return st;
    }
    c->state = a;
    return GB_OK;
}

static gb_status resource_consume(pl_component *c, pd_batch *b)
{
    const attraction *a = c->state;
    attraction_ctx ctx;
    gb_status st = attraction_ctx_init(&ctx, a, b);
    switch (b->signal) {
    case PD_TRACES:
        for (uint32_t i = 0; st == GB_OK && i < b->u.traces.n; i++)
            st = attraction_apply(&ctx, &b->u.traces.v[i].resource.attrs);
        break;
    case PD_METRICS:
        for (uint32_t i = 0; st == GB_OK && i < b->u.metrics.n; i++)
            st = attraction_apply(&ctx, &b->u.metrics.v[i].resource.attrs);
        break;
    case PD_LOGS:
        for (uint32_t i = 0; st == GB_OK && i < b->u.logs.n; i++)
            st = attraction_apply(&ctx, &b->u.logs.v[i].resource.attrs);
        break;
    }
    return procutil_forward(c, b, st);
}

static void resource_destroy(pl_component *c)
{
    attraction_free(c->state);
    c->state = NULL;
}

const pl_descriptor processor_resource_descriptor = {
    .kind = PL_PROCESSOR,
    .type = "resource",
    .stability = {PL_BETA, PL_BETA, PL_BETA},
    .config = &resource_cfg_table,
    .config_size = sizeof(resource_cfg),
    .mutates = true,
    .doc = "inserts, updates, deletes, hashes, extracts or converts resource attributes",
    .create = resource_create,
    .consume = resource_consume,
    .destroy = resource_destroy,
};
