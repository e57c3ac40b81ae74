/* Bump arena: the allocator of the data path. A batch owns one arena; everything decoded or added
 * to the batch lives in it and is freed at once with the batch. Chunks grow geometrically up to a
 * cap; every chunk is accounted in the global bytes-in-flight counter (mem.h) that the memory
 * limiter reads. Not thread-safe: one owner at a time. */
#ifndef GB_ARENA_H
#define GB_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "str.h"

typedef struct gb_arena_chunk gb_arena_chunk;

typedef struct gb_arena {
    gb_arena_chunk *head; /* current chunk (list of all chunks, newest first) */
    size_t next_size;     /* size of the next chunk to allocate */
    size_t total;         /* bytes held in chunks */
    size_t limit;         /* 0 = unbounded; otherwise allocation fails past it */
} gb_arena;

/* first_chunk: size of the first chunk (0 = 4 KiB). limit: max total bytes, 0 = no limit. */
void gb_arena_init(gb_arena *a, size_t first_chunk, size_t limit);
/* Frees every chunk; the arena may be reused after gb_arena_init. */
void gb_arena_free(gb_arena *a);

/* Aligned to 8 (16 for requests of 16 bytes or more). Returns NULL when out of memory/limit. */
void *gb_arena_alloc(gb_arena *a, size_t size);
/* Zero-filled allocation. */
void *gb_arena_calloc(gb_arena *a, size_t n, size_t size);
/* Copies len bytes (plus a NUL terminator, not counted in the view) into the arena. */
gb_status gb_arena_dup(gb_arena *a, const void *p, size_t len, gb_str *out);
/* Formatted string into the arena, NUL-terminated. */
gb_status gb_arena_printf(gb_arena *a, gb_str *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Grows an array of elem-sized items held in the arena from *cap to at least need items, copying
 * the first n. The old storage is abandoned (freed with the arena). */
gb_status gb_arena_grow(gb_arena *a, void **items, uint32_t n, uint32_t *cap, uint32_t need,
                        size_t elem);

#endif
