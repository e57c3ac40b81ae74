/* Recently seen operations: a bounded, lossy set of (trace_id, span_id) pairs used to count a
 * retried span once in places that aggregate (the governance connector's metrics).
 *
 * Thread-safe (lock-free, relaxed atomics) and never allocates after creation. Lossy in one
 * direction only: when the set is full an old pair may be forgotten, so a very late retry can be
 * counted again; a pair never seen is reported as new unless its 64-bit hash equals one of the
 * pairs held (about 2^-40 per lookup for a million pairs). Two copies of the same span checked
 * at the same instant by two threads may both be reported as new. */
#ifndef GOV_SEEN_H
#define GOV_SEEN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "pdata/pdata.h"

typedef struct gov_seen gov_seen;

/* capacity: pairs remembered (rounded up to a power of two, at least 1024, at most 2^28);
 * memory is 8 bytes per pair. */
gb_status gov_seen_new(uint32_t capacity, gov_seen **out);
void gov_seen_free(gov_seen *s);
/* True when (tid, sid) was recorded before (a duplicate); otherwise records it and returns false.
 * An all-zero pair is never recorded and always returns false. */
bool gov_seen_check_insert(gov_seen *s, const pd_trace_id *tid, const pd_span_id *sid);
uint32_t gov_seen_capacity(const gov_seen *s);

#endif
