/* Out-of-line parts of the protobuf wire helpers (see wire.h): group skipping and the growth of
 * the backward writer. Growth doubles the region inside the caller's gb_sbuf; realloc keeps the
 * bytes at their offsets, so the written tail is moved once to the new end. */
#include "wire.h"

#define PW_MAX_GROUP_DEPTH 32

pw_err pw_skip_group(const uint8_t **pp, const uint8_t *end, uint32_t num, int depth)
{
    if (depth >= PW_MAX_GROUP_DEPTH) return PW_ERR_GROUP;
    const uint8_t *p = *pp;
    for (;;) {
        uint64_t tag;
        if (p >= end) return PW_ERR_GROUP;
        if (!pw_read_varint(&p, end, &tag) || tag > UINT32_MAX) return PW_ERR_TAG;
        uint32_t fnum = (uint32_t)(tag >> 3), wt = (uint32_t)(tag & 7);
        if (fnum == 0) return PW_ERR_FIELDNUM;
        uint64_t v;
        switch (wt) {
        case PW_VARINT:
            if (!pw_read_varint(&p, end, &v)) return PW_ERR_VARINT;
            break;
        case PW_I64:
            if (end - p < 8) return PW_ERR_TRUNC_FIXED;
            p += 8;
            break;
        case PW_LEN:
            if (!pw_read_varint(&p, end, &v)) return PW_ERR_VARINT;
            if (v > (uint64_t)(end - p)) return PW_ERR_TRUNC_LEN;
            p += v;
            break;
        case PW_I32:
            if (end - p < 4) return PW_ERR_TRUNC_FIXED;
            p += 4;
            break;
        case PW_SGROUP: {
            pw_err e = pw_skip_group(&p, end, fnum, depth + 1);
            if (e) return e;
            break;
        }
        case PW_EGROUP:
            if (fnum != num) return PW_ERR_GROUP;
            *pp = p;
            return PW_OK;
        default:
            return PW_ERR_WIRETYPE;
        }
    }
}

static gb_status writer_region(pw_writer *w, size_t room_wanted)
{
    gb_sbuf *sb = w->sb;
    size_t written = w->start ? pw_written(w) : 0;
    size_t cur = w->start ? (size_t)(w->end - w->start) : 0;
    size_t want = cur ? cur * 2 : 4096;
    if (want < written + room_wanted) want = written + room_wanted;
    if (sb->limit) {
        if (sb->len + written + room_wanted > sb->limit) return GB_ERR_LIMIT;
        if (sb->len + want > sb->limit) want = sb->limit - sb->len;
    }
    size_t old_off = w->start ? (size_t)(w->p - (uint8_t *)sb->data) : 0;
    gb_status st = gb_sbuf_reserve(sb, want);
    if (st) return st;
    uint8_t *base = (uint8_t *)sb->data;
    uint8_t *nend = base + sb->cap - 1;
    if (written) memmove(nend - written, base + old_off, written);
    w->start = base + sb->len;
    w->end = nend;
    w->p = nend - written;
    return GB_OK;
}

gb_status pw_writer_init(pw_writer *w, gb_sbuf *sb, size_t hint)
{
    w->sb = sb;
    w->start = w->p = w->end = NULL;
    w->err = sb->err;
    if (w->err) return w->err;
    size_t avail = sb->cap > sb->len + 1 ? sb->cap - sb->len - 1 : 0;
    if (avail >= hint && avail > 0) {
        uint8_t *base = (uint8_t *)sb->data;
        w->start = base + sb->len;
        w->end = base + sb->cap - 1;
        w->p = w->end;
        return GB_OK;
    }
    w->err = writer_region(w, hint ? hint : 256);
    return w->err;
}

bool pw_writer_grow(pw_writer *w, size_t n)
{
    if (w->err) return false;
    w->err = writer_region(w, n);
    return w->err == GB_OK;
}

gb_status pw_writer_finish(pw_writer *w)
{
    if (w->err) return w->err;
    gb_sbuf *sb = w->sb;
    size_t n = pw_written(w);
    if (sb->limit && sb->len + n > sb->limit) return sb->err = GB_ERR_LIMIT;
    uint8_t *dst = (uint8_t *)sb->data + sb->len;
    if (n && dst != w->p) memmove(dst, w->p, n);
    sb->len += n;
    if (sb->data) sb->data[sb->len] = '\0';
    return GB_OK;
}
