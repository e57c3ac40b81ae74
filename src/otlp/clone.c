/* pd_batch_clone (declared in pdata.h): a deep copy made by encoding the batch to protobuf and
 * decoding the bytes into a new batch that holds the new buffer. Exact by construction (the
 * codec round-trips every field of the data model) and keeps a single walker of the model;
 * rejected: a field-by-field copier, a second walker to keep in sync with pdata.h. Client
 * metadata is copied into the new arena; `transport` points to static strings and is shared. */
#include <stdint.h>

#include "otlp.h"

gb_status pd_batch_clone(const pd_batch *src, pd_batch **out)
{
    gb_sbuf sb;
    gb_buf *buf = NULL;
    pd_batch *b = NULL;
    gb_status st;
    gb_sbuf_init(&sb, 0);
    *out = NULL;
    st = otlp_encode_proto(src, &sb);
    if (st) goto out;
    st = gb_buf_new(sb.len ? sb.len : 1, &buf);
    if (st) goto out;
    st = gb_buf_append(&buf, sb.data, sb.len);
    if (st) goto out;
    gb_sbuf_free(&sb);
    st = pd_batch_new(src->signal, buf->len + 4096, &b);
    if (st) goto out;
    /* Trusted input: lift the decoder's expansion bound (a batch of many empty items is
     * legitimate here), then leave the clone's arena unbounded like any new batch. */
    b->arena.limit = SIZE_MAX;
    st = otlp_decode_proto(b, buf, buf->data, buf->len, NULL);
    b->arena.limit = 0;
    if (st) goto out;
    b->transport = src->transport;
    if (src->meta.n) {
        b->meta.v = gb_arena_alloc(&b->arena, sizeof(pd_meta_entry) * src->meta.n);
        if (!b->meta.v) {
            st = GB_ERR_NOMEM;
            goto out;
        }
        for (uint32_t i = 0; i < src->meta.n && st == GB_OK; i++) {
            const pd_meta_entry *e = &src->meta.v[i];
            st = gb_arena_dup(&b->arena, e->key.ptr, e->key.len, &b->meta.v[i].key);
            if (st == GB_OK)
                st = gb_arena_dup(&b->arena, e->value.ptr, e->value.len, &b->meta.v[i].value);
        }
        if (st) goto out;
        b->meta.n = src->meta.n;
    }
    *out = b;
    b = NULL;
out:
    gb_sbuf_free(&sb);
    gb_buf_unref(buf);
    pd_batch_unref(b);
    return st;
}
