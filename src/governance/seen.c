/* Recently seen (trace_id, span_id) pairs, see gov_seen.h.
 *
 * How: the pair is hashed to 64 bits (ids are random already; a splitmix finalizer spreads the
 * remaining structure). The table is an array of 4-slot buckets (32 bytes, half a cache line):
 * one memory access per lookup. A hit in any slot of the bucket is a duplicate; a miss stores the
 * hash in an empty slot, else in a slot picked by other bits of the hash (pseudo-random
 * replacement, so the set keeps roughly the most recent `capacity` pairs). Slots are relaxed
 * atomics: no lock, and a torn state is impossible because a slot is one 64-bit word.
 *
 * Rejected: an exact set with a FIFO ring and eviction (the budget store has one, it needs a lock
 * and ~48 bytes per pair; metrics only need "do not count a retry twice", for which a lossy
 * recency set is enough); a Bloom filter (false positives would silently drop real spans from
 * the cost metrics — this set errs the other way). */
#include "governance/gov_seen.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SEEN_WAYS 4

struct gov_seen {
    _Atomic uint64_t *slots; /* n_buckets * SEEN_WAYS */
    uint32_t mask;           /* n_buckets - 1 */
    uint32_t capacity;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

gb_status gov_seen_new(uint32_t capacity, gov_seen **out)
{
    gb_status st = GB_ERR_NOMEM;
    gov_seen *s = NULL;
    uint32_t cap = 1024;
    *out = NULL;
    if (capacity > (1u << 28)) {
        st = GB_ERR_INVALID;
        goto out;
    }
    while (cap < capacity)
        cap <<= 1;
    s = calloc(1, sizeof *s);
    if (!s) goto out;
    s->slots = calloc(cap, sizeof *s->slots);
    if (!s->slots) goto out;
    s->capacity = cap;
    s->mask = cap / SEEN_WAYS - 1;
    *out = s;
    s = NULL;
    st = GB_OK;
out:
    gov_seen_free(s);
    return st;
}

void gov_seen_free(gov_seen *s)
{
    if (!s) return;
    free(s->slots);
    free(s);
}

uint32_t gov_seen_capacity(const gov_seen *s)
{
    return s->capacity;
}

bool gov_seen_check_insert(gov_seen *s, const pd_trace_id *tid, const pd_span_id *sid)
{
    uint64_t a = load64(tid->b), b = load64(tid->b + 8), c = load64(sid->b);
    if ((a | b | c) == 0) return false;
    uint64_t h = mix64(a ^ mix64(b ^ mix64(c)));
    if (h == 0) h = 1; /* 0 marks an empty slot */
    _Atomic uint64_t *bucket = s->slots + (size_t)((uint32_t)(h >> 32) & s->mask) * SEEN_WAYS;
    int empty = -1;
    for (int i = 0; i < SEEN_WAYS; i++) {
        uint64_t v = atomic_load_explicit(&bucket[i], memory_order_relaxed);
        if (v == h) return true;
        if (v == 0 && empty < 0) empty = i;
    }
    int victim = empty >= 0 ? empty : (int)(h & (SEEN_WAYS - 1));
    atomic_store_explicit(&bucket[victim], h, memory_order_relaxed);
    return false;
}
