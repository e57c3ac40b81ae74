/* nop exporter (otelcol's nopexporter): accepts everything and drops it. Used as a sink in
 * benchmarks and tests; the receiver's accepted counters say what arrived. */
#include "pipeline/component.h"

static gb_status nop_consume(pl_component *c, pd_batch *b)
{
    (void)c;
    pd_batch_unref(b);
    return GB_OK;
}

const pl_descriptor exporter_nop_descriptor = {
    .kind = PL_EXPORTER,
    .type = "nop",
    .stability = {PL_BETA, PL_BETA, PL_BETA},
    .doc = "drops everything it receives",
    .consume = nop_consume,
};
