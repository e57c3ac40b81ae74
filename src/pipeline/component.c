#include "component.h"

#include <string.h>

const char *pl_kind_name(pl_kind k)
{
    static const char *n[] = {"receiver", "processor", "exporter", "connector", "extension"};
    return (unsigned)k < PL_KIND_COUNT ? n[k] : "unknown";
}

const char *pl_kind_plural(pl_kind k)
{
    static const char *n[] = {"receivers", "processors", "exporters", "connectors", "extensions"};
    return (unsigned)k < PL_KIND_COUNT ? n[k] : "unknown";
}

const char *pl_stability_name(pl_stability s)
{
    static const char *n[] = {"unsupported", "development", "alpha", "beta", "stable", "deprecated"};
    return (unsigned)s <= PL_DEPRECATED ? n[s] : "unknown";
}

static const pl_descriptor *const *g_registry = pl_registry;

void pl_registry_use(const pl_descriptor *const *list)
{
    g_registry = list ? list : pl_registry;
}

const pl_descriptor *const *pl_registry_list(void)
{
    return g_registry;
}

const pl_descriptor *pl_registry_find(pl_kind kind, const char *type, bool *is_alias)
{
    if (is_alias) *is_alias = false;
    for (size_t i = 0; g_registry[i]; i++) {
        const pl_descriptor *d = g_registry[i];
        if (d->kind != kind) continue;
        if (strcmp(d->type, type) == 0) return d;
        for (size_t j = 0; d->aliases && d->aliases[j]; j++) {
            if (strcmp(d->aliases[j], type) == 0) {
                if (is_alias) *is_alias = true;
                return d;
            }
        }
    }
    return NULL;
}
