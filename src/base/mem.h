/* Global accounting of bytes held by the data path (request buffers, batch arenas, queues). The
 * memory limiter reads it together with the process RSS. Lock-free. */
#ifndef GB_MEM_H
#define GB_MEM_H

#include <stdint.h>

void gb_mem_add(int64_t delta);
int64_t gb_mem_in_flight(void);
/* Resident set size of this process in bytes (from /proc/self/statm), 0 if unknown. */
uint64_t gb_mem_rss(void);
/* Physical memory of the machine (or cgroup limit when lower), 0 if unknown. */
uint64_t gb_mem_total(void);

#endif
