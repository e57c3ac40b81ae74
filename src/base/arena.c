/* Bump arena (see arena.h). Chunks are a singly linked list, newest first; allocation bumps the
 * head chunk and opens a new, larger one when it is full (a request larger than the next chunk
 * gets a chunk of its own size).
 *
 * Chunks of the largest standard size (ARENA_MAX_CHUNK) are kept in a small global pool when an
 * arena is freed and handed to the next arena that needs one. Every request batch needs about as
 * much arena as its body, so without the pool each batch would get fresh pages from the kernel
 * (glibc serves such sizes with mmap) and pay a page fault per 4 KiB: measured at more than ten
 * times the cost of decoding itself. The pool is bounded (ARENA_POOL_MAX chunks), so it never
 * holds more than a few MiB that nobody uses. Rejected: per-object free lists (the data path frees
 * whole batches at once); process-wide mallopt tuning (affects every allocation and keeps the
 * heap at its high-water mark). */
#include "arena.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

#define ARENA_MAX_CHUNK (1u << 20)
#define ARENA_POOL_MAX  16

struct gb_arena_chunk {
    gb_arena_chunk *next;
    size_t size; /* usable bytes in data */
    size_t used;
    _Alignas(16) unsigned char data[];
};

static pthread_mutex_t g_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static gb_arena_chunk *g_pool;
static unsigned g_pool_n;

static gb_arena_chunk *pool_get(void)
{
    pthread_mutex_lock(&g_pool_lock);
    gb_arena_chunk *c = g_pool;
    if (c) {
        g_pool = c->next;
        g_pool_n--;
    }
    pthread_mutex_unlock(&g_pool_lock);
    return c;
}

/* Takes c if the pool has room; returns false when the caller must free it. */
static bool pool_put(gb_arena_chunk *c)
{
    bool kept = false;
    pthread_mutex_lock(&g_pool_lock);
    if (g_pool_n < ARENA_POOL_MAX) {
        c->next = g_pool;
        g_pool = c;
        g_pool_n++;
        kept = true;
    }
    pthread_mutex_unlock(&g_pool_lock);
    return kept;
}

void gb_arena_init(gb_arena *a, size_t first_chunk, size_t limit)
{
    a->head = NULL;
    a->next_size = first_chunk ? first_chunk : 4096;
    a->total = 0;
    a->limit = limit;
}

void gb_arena_free(gb_arena *a)
{
    gb_arena_chunk *c = a->head;
    while (c) {
        gb_arena_chunk *n = c->next;
        if (c->size != ARENA_MAX_CHUNK || !pool_put(c)) free(c);
        c = n;
    }
    if (a->total) gb_mem_add(-(int64_t)a->total);
    a->head = NULL;
    a->total = 0;
}

static gb_arena_chunk *arena_new_chunk(gb_arena *a, size_t need)
{
    size_t size = a->next_size;
    if (size < need) size = need;
    /* Large chunks come in one standard size so they can be pooled. */
    if (size > ARENA_MAX_CHUNK / 4 && size < ARENA_MAX_CHUNK) size = ARENA_MAX_CHUNK;
    size_t bytes = sizeof(gb_arena_chunk) + size;
    if (a->limit && a->total + bytes > a->limit) return NULL;
    gb_arena_chunk *c = size == ARENA_MAX_CHUNK ? pool_get() : NULL;
    if (!c) c = malloc(bytes);
    if (!c) return NULL;
    c->size = size;
    c->used = 0;
    a->total += bytes;
    gb_mem_add((int64_t)bytes);
    if (a->next_size < ARENA_MAX_CHUNK) a->next_size *= 2;
    if (a->head && need > a->head->size - a->head->used && size == need && a->head->used < a->head->size / 2) {
        /* A big one-off block: keep bump-allocating from the current head afterwards. */
        c->next = a->head->next;
        a->head->next = c;
        return c;
    }
    c->next = a->head;
    a->head = c;
    return c;
}

void *gb_arena_alloc(gb_arena *a, size_t size)
{
    size_t align = size >= 16 ? 16 : 8;
    if (size == 0) size = 1;
    gb_arena_chunk *c = a->head;
    if (c) {
        size_t off = (c->used + align - 1) & ~(align - 1);
        if (off + size <= c->size) {
            c->used = off + size;
            return c->data + off;
        }
    }
    c = arena_new_chunk(a, size);
    if (!c) return NULL;
    void *p = c->data + c->used; /* used is 0 for a fresh chunk */
    c->used = size;
    return p;
}

void *gb_arena_calloc(gb_arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = gb_arena_alloc(a, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

gb_status gb_arena_dup(gb_arena *a, const void *p, size_t len, gb_str *out)
{
    if (len > UINT32_MAX - 1) return GB_ERR_LIMIT;
    char *d = gb_arena_alloc(a, len + 1);
    if (!d) return GB_ERR_NOMEM;
    if (len) memcpy(d, p, len);
    d[len] = '\0';
    *out = (gb_str){d, (uint32_t)len};
    return GB_OK;
}

gb_status gb_arena_printf(gb_arena *a, gb_str *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return GB_ERR_INVALID;
    char *d = gb_arena_alloc(a, (size_t)n + 1);
    if (!d) return GB_ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    *out = (gb_str){d, (uint32_t)n};
    return GB_OK;
}

gb_status gb_arena_grow(gb_arena *a, void **items, uint32_t n, uint32_t *cap, uint32_t need,
                        size_t elem)
{
    if (need <= *cap) return GB_OK;
    uint32_t ncap = *cap ? *cap * 2 : 4;
    while (ncap < need) ncap *= 2;
    void *p = gb_arena_alloc(a, (size_t)ncap * elem);
    if (!p) return GB_ERR_NOMEM;
    if (n) memcpy(p, *items, (size_t)n * elem);
    *items = p;
    *cap = ncap;
    return GB_OK;
}
