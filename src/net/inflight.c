/* Process-wide budget of request bytes being received (see net.h). One atomic counter and a
 * compare-and-swap loop: requests reserve their declared size (Content-Length, gRPC message
 * length) or each chunk as it comes, before buffering it. */
#include <stdatomic.h>

#include "../base/mem.h"
#include "net.h"

static atomic_uint_fast64_t g_limit;
static atomic_uint_fast64_t g_used;

void net_inflight_set_limit(uint64_t bytes)
{
    atomic_store(&g_limit, bytes);
}

uint64_t net_inflight_limit(void)
{
    uint64_t l = atomic_load(&g_limit);
    if (l) return l;
    uint64_t total = gb_mem_total();
    l = total ? total / 4 : (uint64_t)1 << 30;
    if (l < ((uint64_t)64 << 20)) l = (uint64_t)64 << 20;
    atomic_store(&g_limit, l);
    return l;
}

bool net_inflight_acquire(uint64_t n)
{
    uint64_t limit = net_inflight_limit();
    uint64_t cur = atomic_load(&g_used);
    do {
        if (n > limit || cur > limit - n) return false;
    } while (!atomic_compare_exchange_weak(&g_used, &cur, cur + n));
    return true;
}

void net_inflight_release(uint64_t n)
{
    atomic_fetch_sub(&g_used, n);
}

uint64_t net_inflight_bytes(void)
{
    return atomic_load(&g_used);
}
