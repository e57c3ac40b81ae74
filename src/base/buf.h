/* Refcounted byte buffer. A request body lands in one gb_buf (after decompression); decoded views
 * point into it, and the batch holds a reference until the last consumer is done. Thread-safe
 * reference counting; contents are immutable once shared. Accounted in bytes-in-flight. */
#ifndef GB_BUF_H
#define GB_BUF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef struct gb_buf {
    atomic_uint refs;
    size_t len;
    size_t cap;
    uint8_t data[];
} gb_buf;

/* New buffer with capacity cap, len 0, one reference. */
gb_status gb_buf_new(size_t cap, gb_buf **out);
/* Makes room for at least need bytes (only while unshared: refs == 1). *b may move. */
gb_status gb_buf_reserve(gb_buf **b, size_t need);
gb_status gb_buf_append(gb_buf **b, const void *p, size_t n);
gb_buf *gb_buf_ref(gb_buf *b);
void gb_buf_unref(gb_buf *b);

#endif
