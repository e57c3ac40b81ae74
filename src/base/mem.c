#include "mem.h"

#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

static atomic_llong g_in_flight;

void gb_mem_add(int64_t delta)
{
    atomic_fetch_add_explicit(&g_in_flight, delta, memory_order_relaxed);
}

int64_t gb_mem_in_flight(void)
{
    return atomic_load_explicit(&g_in_flight, memory_order_relaxed);
}

uint64_t gb_mem_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long size = 0, res = 0;
    int n = fscanf(f, "%lu %lu", &size, &res);
    fclose(f);
    if (n != 2) return 0;
    return (uint64_t)res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t read_u64_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long long v = 0;
    int n = fscanf(f, "%llu", &v);
    fclose(f);
    return n == 1 ? (uint64_t)v : 0;
}

uint64_t gb_mem_total(void)
{
    long pages = sysconf(_SC_PHYS_PAGES);
    uint64_t phys = pages > 0 ? (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
    uint64_t cg = read_u64_file("/sys/fs/cgroup/memory.max"); /* "max" parses as 0 */
    if (!cg) cg = read_u64_file("/sys/fs/cgroup/memory/memory.limit_in_bytes");
    if (cg && (phys == 0 || cg < phys)) return cg;
    return phys;
}
