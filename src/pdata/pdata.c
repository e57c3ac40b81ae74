/* Batch lifetime and attribute helpers (see pdata.h). A batch's holds form a small linked list in
 * its own arena: request buffers it points into and other batches it was merged from (the batch
 * processor concatenates by reference instead of copying). Deep copy (pd_batch_clone) is done by
 * the OTLP codec in src/otlp/clone.c: encode + decode is exact by construction and keeps a single
 * walker of the data model. */
#include "pdata.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/mem.h"
#include "../base/numfmt.h"

struct pd_hold {
    pd_hold *next;
    gb_buf *buf;
    pd_batch *batch;
};

const char *pd_signal_name(pd_signal s)
{
    switch (s) {
    case PD_TRACES:
        return "traces";
    case PD_METRICS:
        return "metrics";
    case PD_LOGS:
        return "logs";
    }
    return "unknown";
}

const char *pd_signal_item(pd_signal s)
{
    switch (s) {
    case PD_TRACES:
        return "spans";
    case PD_METRICS:
        return "metric_points";
    case PD_LOGS:
        return "log_records";
    }
    return "items";
}

gb_status pd_batch_new(pd_signal signal, size_t arena_first_chunk, pd_batch **out)
{
    pd_batch *b = calloc(1, sizeof *b);
    if (!b) return GB_ERR_NOMEM;
    atomic_init(&b->refs, 1);
    b->signal = signal;
    gb_arena_init(&b->arena, arena_first_chunk ? arena_first_chunk : 16384, 0);
    gb_mem_add((int64_t)sizeof *b);
    *out = b;
    return GB_OK;
}

pd_batch *pd_batch_ref(pd_batch *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void pd_batch_unref(pd_batch *b)
{
    if (!b) return;
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1) return;
    for (pd_hold *h = b->holds; h; h = h->next) {
        if (h->buf) gb_buf_unref(h->buf);
        if (h->batch) pd_batch_unref(h->batch);
    }
    gb_arena_free(&b->arena);
    gb_mem_add(-(int64_t)sizeof *b);
    free(b);
}

static gb_status add_hold(pd_batch *b, gb_buf *buf, pd_batch *other)
{
    pd_hold *h = gb_arena_alloc(&b->arena, sizeof *h);
    if (!h) return GB_ERR_NOMEM;
    h->buf = buf ? gb_buf_ref(buf) : NULL;
    h->batch = other ? pd_batch_ref(other) : NULL;
    h->next = b->holds;
    b->holds = h;
    return GB_OK;
}

gb_status pd_batch_hold_buf(pd_batch *b, gb_buf *buf)
{
    return add_hold(b, buf, NULL);
}

gb_status pd_batch_hold_batch(pd_batch *b, pd_batch *other)
{
    return add_hold(b, NULL, other);
}

uint64_t pd_batch_count(const pd_batch *b)
{
    uint64_t n = 0;
    switch (b->signal) {
    case PD_TRACES:
        for (uint32_t i = 0; i < b->u.traces.n; i++)
            for (uint32_t j = 0; j < b->u.traces.v[i].n_scope_spans; j++)
                n += b->u.traces.v[i].scope_spans[j].n_spans;
        break;
    case PD_METRICS:
        for (uint32_t i = 0; i < b->u.metrics.n; i++)
            for (uint32_t j = 0; j < b->u.metrics.v[i].n_scope_metrics; j++) {
                const pd_scope_metrics *sm = &b->u.metrics.v[i].scope_metrics[j];
                for (uint32_t k = 0; k < sm->n_metrics; k++)
                    n += sm->metrics[k].n_dp;
            }
        break;
    case PD_LOGS:
        for (uint32_t i = 0; i < b->u.logs.n; i++)
            for (uint32_t j = 0; j < b->u.logs.v[i].n_scope_logs; j++)
                n += b->u.logs.v[i].scope_logs[j].n_logs;
        break;
    }
    return n;
}

size_t pd_batch_arena_bytes(const pd_batch *b)
{
    return b->arena.total;
}

pd_kv *pd_attrs_find(const pd_attrs *a, gb_str key)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (gb_str_eq(a->v[i].key, key)) return &a->v[i];
    return NULL;
}

gb_status pd_attrs_put(gb_arena *arena, pd_attrs *a, gb_str key, pd_any value)
{
    pd_kv *kv = pd_attrs_find(a, key);
    if (kv) {
        kv->value = value;
        return GB_OK;
    }
    if (a->n == a->cap || a->cap < a->n) {
        uint32_t cap = a->cap < a->n ? a->n : a->cap;
        void *items = a->v;
        gb_status st = gb_arena_grow(arena, &items, a->n, &cap, a->n + 1, sizeof(pd_kv));
        if (st) return st;
        a->v = items;
        a->cap = cap;
    }
    a->v[a->n].key = key;
    a->v[a->n].value = value;
    a->n++;
    return GB_OK;
}

bool pd_attrs_delete(pd_attrs *a, gb_str key)
{
    for (uint32_t i = 0; i < a->n; i++) {
        if (gb_str_eq(a->v[i].key, key)) {
            memmove(&a->v[i], &a->v[i + 1], sizeof(pd_kv) * (a->n - i - 1));
            a->n--;
            return true;
        }
    }
    return false;
}

gb_status pd_any_copy(gb_arena *arena, const pd_any *src, pd_any *dst)
{
    gb_status st = GB_OK;
    *dst = *src;
    switch (src->type) {
    case PD_ANY_STR:
    case PD_ANY_BYTES:
        st = gb_arena_dup(arena, src->u.str.ptr, src->u.str.len, &dst->u.str);
        break;
    case PD_ANY_ARRAY:
        dst->u.arr.v = gb_arena_alloc(arena, sizeof(pd_any) * (src->u.arr.n ? src->u.arr.n : 1));
        if (!dst->u.arr.v) return GB_ERR_NOMEM;
        for (uint32_t i = 0; i < src->u.arr.n && st == GB_OK; i++)
            st = pd_any_copy(arena, &src->u.arr.v[i], &dst->u.arr.v[i]);
        break;
    case PD_ANY_KVLIST: {
        pd_attrs s = {src->u.kvl.v, src->u.kvl.n, src->u.kvl.n}, d;
        st = pd_attrs_copy(arena, &s, &d);
        dst->u.kvl.v = d.v;
        dst->u.kvl.n = d.n;
        break;
    }
    default:
        break;
    }
    return st;
}

gb_status pd_attrs_copy(gb_arena *arena, const pd_attrs *src, pd_attrs *dst)
{
    dst->n = dst->cap = 0;
    dst->v = gb_arena_alloc(arena, sizeof(pd_kv) * (src->n ? src->n : 1));
    if (!dst->v) return GB_ERR_NOMEM;
    for (uint32_t i = 0; i < src->n; i++) {
        gb_status st = gb_arena_dup(arena, src->v[i].key.ptr, src->v[i].key.len, &dst->v[i].key);
        if (st == GB_OK) st = pd_any_copy(arena, &src->v[i].value, &dst->v[i].value);
        if (st) return st;
    }
    dst->n = dst->cap = src->n;
    return GB_OK;
}

bool pd_any_equal(const pd_any *a, const pd_any *b)
{
    if (a->type != b->type) return false;
    switch (a->type) {
    case PD_ANY_EMPTY:
        return true;
    case PD_ANY_STR:
    case PD_ANY_BYTES:
        return gb_str_eq(a->u.str, b->u.str);
    case PD_ANY_BOOL:
        return a->u.b == b->u.b;
    case PD_ANY_INT:
        return a->u.i == b->u.i;
    case PD_ANY_DOUBLE:
        return a->u.d == b->u.d;
    case PD_ANY_ARRAY:
        if (a->u.arr.n != b->u.arr.n) return false;
        for (uint32_t i = 0; i < a->u.arr.n; i++)
            if (!pd_any_equal(&a->u.arr.v[i], &b->u.arr.v[i])) return false;
        return true;
    case PD_ANY_KVLIST:
        if (a->u.kvl.n != b->u.kvl.n) return false;
        for (uint32_t i = 0; i < a->u.kvl.n; i++)
            if (!gb_str_eq(a->u.kvl.v[i].key, b->u.kvl.v[i].key) ||
                !pd_any_equal(&a->u.kvl.v[i].value, &b->u.kvl.v[i].value))
                return false;
        return true;
    }
    return false;
}

bool pd_any_scalar_text(const pd_any *v, char buf[PD_ANY_TEXT_MAX], gb_str *out)
{
    switch (v->type) {
    case PD_ANY_STR:
        *out = v->u.str;
        return true;
    case PD_ANY_BOOL:
        *out = v->u.b ? GB_STR_LIT("true") : GB_STR_LIT("false");
        return true;
    case PD_ANY_INT:
        *out = gb_str_n(buf, (size_t)snprintf(buf, PD_ANY_TEXT_MAX, "%" PRId64, v->u.i));
        return true;
    case PD_ANY_DOUBLE:
        *out = gb_str_n(buf, gb_fmt_double(v->u.d, buf, PD_ANY_TEXT_MAX));
        return true;
    default:
        return false;
    }
}
