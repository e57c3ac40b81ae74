#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"

gb_status gb_buf_new(size_t cap, gb_buf **out)
{
    gb_buf *b = malloc(sizeof(*b) + cap);
    if (!b) return GB_ERR_NOMEM;
    atomic_init(&b->refs, 1);
    b->len = 0;
    b->cap = cap;
    gb_mem_add((int64_t)(sizeof(*b) + cap));
    *out = b;
    return GB_OK;
}

gb_status gb_buf_reserve(gb_buf **bp, size_t need)
{
    gb_buf *b = *bp;
    if (need <= b->cap) return GB_OK;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need) ncap *= 2;
    gb_buf *nb = realloc(b, sizeof(*b) + ncap);
    if (!nb) return GB_ERR_NOMEM;
    gb_mem_add((int64_t)(ncap - nb->cap));
    nb->cap = ncap;
    *bp = nb;
    return GB_OK;
}

gb_status gb_buf_append(gb_buf **bp, const void *p, size_t n)
{
    gb_status st = gb_buf_reserve(bp, (*bp)->len + n);
    if (st != GB_OK) return st;
    memcpy((*bp)->data + (*bp)->len, p, n);
    (*bp)->len += n;
    return GB_OK;
}

gb_buf *gb_buf_ref(gb_buf *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void gb_buf_unref(gb_buf *b)
{
    if (!b) return;
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        gb_mem_add(-(int64_t)(sizeof(*b) + b->cap));
        free(b);
    }
}
