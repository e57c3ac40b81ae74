/* Per-signal sets of exporter helpers (see exporter_helper.h). */
#include "exporter_helper.h"

gb_status pl_exphelper_set_start(pl_exphelper_set *set, const pl_exphelper_opts *tmpl)
{
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        pl_exphelper_opts o = *tmpl;
        o.signal = (pd_signal)s;
        gb_status rc = pl_exphelper_new(&o, &set->h[s]);
        if (rc == GB_OK) rc = pl_exphelper_start(set->h[s]);
        if (rc != GB_OK) return rc;
    }
    return GB_OK;
}

gb_status pl_exphelper_set_consume(pl_exphelper_set *set, pd_batch *b)
{
    if ((unsigned)b->signal >= PD_SIGNAL_COUNT || !set->h[b->signal]) {
        pd_batch_unref(b);
        return GB_ERR_RETRY;
    }
    return pl_exphelper_consume(set->h[b->signal], b);
}

void pl_exphelper_set_shutdown(pl_exphelper_set *set, int64_t deadline_ns)
{
    for (int s = 0; s < PD_SIGNAL_COUNT; s++)
        if (set->h[s]) pl_exphelper_shutdown(set->h[s], deadline_ns);
}

void pl_exphelper_set_free(pl_exphelper_set *set)
{
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        pl_exphelper_free(set->h[s]);
        set->h[s] = NULL;
    }
}
