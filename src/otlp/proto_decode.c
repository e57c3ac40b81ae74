/* OTLP protobuf decoder: Export{Trace,Metrics,Logs}ServiceRequest -> pd_batch.
 *
 * How: one hand-written function per message, each a loop over pw_next() (wire.h) with a switch
 * on the field number (the six Resource/Scope wrappers, alike but for their types, come from
 * one macro, DEF_CONTAINER_DEC). Strings and bytes become gb_str views into the request buffer;
 * nothing is copied but ids (fixed arrays in pdata) and repeated fixed64/double/varint scalars
 * (copied into the arena, since wire data is unaligned and packed varints need expanding).
 *
 * Exact array sizes without per-element allocation: a message with repeated children is scanned
 * twice. The first pass (count_fields) only walks tags and skips payloads, counting the
 * occurrences of each repeated field (elements of packed scalars included); the arrays are then
 * allocated once, exactly sized, in the batch arena, and the second pass fills them. The first
 * pass reads each byte of the message's own level only, so the total cost is about two header
 * walks per nesting level; rejected alternatives: growing arrays by doubling (wastes arena
 * memory and copies) and a global pre-pass storing counts in a side table (more bookkeeping for
 * the same walk).
 *
 * Strictness: unknown fields of every wire type (groups included) are skipped; a known field
 * with the wrong wire type, a truncated field, an overlong varint, an id of the wrong length or
 * AnyValue nesting deeper than OTLP_MAX_ANY_DEPTH is GB_ERR_INVALID with a one-line reason.
 * Repeated numeric fields are accepted packed and unpacked. A non-repeated message field seen
 * twice is decoded again over the first (scalars: last wins, as protobuf merging does; repeated
 * children of that message are replaced rather than concatenated). String fields are not
 * checked for valid UTF-8. On error the batch is left as it was (arena bytes aside). */
#include <stdarg.h>
#include <stdio.h>

#include "otlp.h"
#include "wire.h"

#define OTLP_MAX_ANY_DEPTH 32

/* Decoded data may take at most this many times the message size (plus 1 MiB) in the arena
 * when the caller set no arena limit: hostile input such as millions of empty spans ("12 00",
 * 2 bytes each, ~200 bytes decoded) is rejected instead of exhausting memory. Real requests
 * stay far below (attribute-heavy spans take ~1.3x). */
#define OTLP_MAX_EXPANSION 32

typedef struct dctx {
    gb_arena *a;
    otlp_error *err;
    bool own_limit;     /* the arena limit was set by otlp_decode_proto */
    size_t failed_size; /* size of the last failed allocation */
} dctx;

static gb_status fail(dctx *c, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static gb_status fail(dctx *c, const char *where, const char *fmt, ...)
{
    if (c->err) {
        int n = snprintf(c->err->msg, sizeof c->err->msg, "proto: %s: ", where);
        if (n < 0) n = 0;
        if ((size_t)n < sizeof c->err->msg) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err->msg + n, sizeof c->err->msg - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return GB_ERR_INVALID;
}

static gb_status wire_fail(dctx *c, const char *where, pw_err e)
{
    return fail(c, where, "%s", pw_err_str(e));
}

static const char *wt_name(uint32_t wt)
{
    switch (wt) {
    case PW_VARINT:
        return "varint";
    case PW_I64:
        return "fixed64";
    case PW_LEN:
        return "length-delimited";
    case PW_SGROUP:
        return "group";
    case PW_I32:
        return "fixed32";
    }
    return "invalid";
}

static gb_status wt_fail(dctx *c, const char *where, const pw_field *f)
{
    return fail(c, where, "field %u has unexpected wire type %s", f->num, wt_name(f->wt));
}

/* Field loop and typed accessors; each function defines `where` (message name) and `f`. */
#define FOR_FIELDS(p, end)                                                                         \
    for (const uint8_t *q_ = (p); q_ < (end);)                                                     \
        if ((pe_ = pw_next(&q_, (end), &f)) != PW_OK) {                                            \
            return wire_fail(c, where, pe_);                                                       \
        } else

#define WANT(wtype)                                                                                \
    do {                                                                                           \
        if (f.wt != (wtype)) return wt_fail(c, where, &f);                                         \
    } while (0)
#define GET_STR(dst)                                                                               \
    do {                                                                                           \
        WANT(PW_LEN);                                                                              \
        (dst) = gb_str_n(f.p, f.len);                                                              \
    } while (0)
#define GET_FIX64(dst)                                                                             \
    do {                                                                                           \
        WANT(PW_I64);                                                                              \
        (dst) = f.v;                                                                               \
    } while (0)
#define GET_DOUBLE(dst)                                                                            \
    do {                                                                                           \
        WANT(PW_I64);                                                                              \
        (dst) = pw_u2d(f.v);                                                                       \
    } while (0)
#define GET_FIX32(dst)                                                                             \
    do {                                                                                           \
        WANT(PW_I32);                                                                              \
        (dst) = (uint32_t)f.v;                                                                     \
    } while (0)
#define GET_U32(dst)                                                                               \
    do {                                                                                           \
        WANT(PW_VARINT);                                                                           \
        (dst) = (uint32_t)f.v;                                                                     \
    } while (0)
#define GET_I32(dst)                                                                               \
    do {                                                                                           \
        WANT(PW_VARINT);                                                                           \
        (dst) = (int32_t)(uint32_t)f.v;                                                            \
    } while (0)
#define GET_BOOL(dst)                                                                              \
    do {                                                                                           \
        WANT(PW_VARINT);                                                                           \
        (dst) = f.v != 0;                                                                          \
    } while (0)
#define GET_SINT32(dst)                                                                            \
    do {                                                                                           \
        WANT(PW_VARINT);                                                                           \
        uint32_t z_ = (uint32_t)f.v;                                                               \
        (dst) = (int32_t)((z_ >> 1) ^ (0u - (z_ & 1u)));                                           \
    } while (0)
#define SUB(f) (f).p, (f).p + (f).len

/* ---- counting pass ---------------------------------------------------------------------- */

typedef enum cnt_kind {
    CK_MSG,    /* repeated message: one per length-delimited occurrence */
    CK_FIX64,  /* repeated fixed64/double: packed (len/8) or unpacked */
    CK_VARINT, /* repeated varint: packed (count terminators) or unpacked */
} cnt_kind;

typedef struct cnt_spec {
    uint32_t num;
    cnt_kind kind;
} cnt_spec;

static inline __attribute__((always_inline)) gb_status
count_fields(dctx *c, const char *where, const uint8_t *p, const uint8_t *end, const cnt_spec *spec,
             unsigned nspec, uint32_t *counts)
{
    pw_field f;
    pw_err pe_;
    for (unsigned i = 0; i < nspec; i++)
        counts[i] = 0;
    FOR_FIELDS(p, end)
    {
        for (unsigned i = 0; i < nspec; i++) {
            if (spec[i].num != f.num) continue;
            switch (spec[i].kind) {
            case CK_MSG:
                if (f.wt != PW_LEN) break;
                counts[i]++;
                /* Repeated elements are usually contiguous: skip the rest of the run here. */
                if (f.num < 16) {
                    const uint8_t tag = (uint8_t)PW_TAG(f.num, PW_LEN);
                    while (q_ + 1 < end && q_[0] == tag && q_[1] < 0x80 &&
                           end - (q_ + 2) >= q_[1]) {
                        q_ += 2 + q_[1];
                        counts[i]++;
                    }
                }
                break;
            case CK_FIX64:
                if (f.wt == PW_I64) {
                    counts[i]++;
                } else if (f.wt == PW_LEN) {
                    if (f.len % 8)
                        return fail(c, where, "packed field %u: length %zu not a multiple of 8",
                                    f.num, f.len);
                    counts[i] += (uint32_t)(f.len / 8);
                }
                break;
            case CK_VARINT:
                if (f.wt == PW_VARINT) {
                    counts[i]++;
                } else if (f.wt == PW_LEN) {
                    if (f.len && (f.p[f.len - 1] & 0x80))
                        return fail(c, where, "packed field %u: truncated varint", f.num);
                    for (size_t k = 0; k < f.len; k++)
                        counts[i] += f.p[k] < 0x80;
                }
                break;
            }
            break;
        }
    }
    return GB_OK;
}

static void *dec_alloc(dctx *c, size_t size)
{
    void *p = gb_arena_alloc(c->a, size);
    if (!p) c->failed_size = size;
    return p;
}

static void *arr_alloc(dctx *c, uint32_t n, size_t elem)
{
    if (n == 0) return NULL;
    void *p = dec_alloc(c, (size_t)n * elem);
    if (p) memset(p, 0, (size_t)n * elem);
    return p;
}

static gb_status nomem(dctx *c, const char *where)
{
    /* Our own expansion bound, not a real allocation failure: the input is at fault. */
    if (c->own_limit && c->a->total + c->failed_size + (2u << 20) > c->a->limit)
        return fail(c, where, "message expands to more than %dx its size in memory",
                    OTLP_MAX_EXPANSION);
    fail(c, where, "out of memory");
    return GB_ERR_NOMEM;
}

#define ALLOC_ARRAY(dst, n, where)                                                                 \
    do {                                                                                           \
        if ((n) && !((dst) = arr_alloc(c, (n), sizeof *(dst)))) return nomem(c, where);            \
    } while (0)

/* Appends the elements of a packed or unpacked repeated fixed64/double field. */
static void fill_fix64(const pw_field *f, uint64_t *dst, uint32_t *n)
{
    if (f->wt == PW_I64) {
        dst[(*n)++] = f->v;
        return;
    }
    size_t k = f->len / 8;
    for (size_t i = 0; i < k; i++)
        dst[(*n)++] = pw_load64(f->p + 8 * i);
}

static gb_status fill_varints(dctx *c, const char *where, const pw_field *f, uint64_t *dst,
                              uint32_t *n)
{
    if (f->wt == PW_VARINT) {
        dst[(*n)++] = f->v;
        return GB_OK;
    }
    const uint8_t *q = f->p, *end = f->p + f->len;
    while (q < end) {
        uint64_t v;
        if (!pw_read_varint(&q, end, &v))
            return fail(c, where, "packed field %u: bad varint", f->num);
        dst[(*n)++] = v;
    }
    return GB_OK;
}

/* ResourceSpans/ScopeSpans and their metrics and logs twins share one layout: 1 = resource or
 * scope, 2 = the repeated child, 3 = schema_url. One macro defines the six decoders so the child
 * calls stay direct (a generic decoder taking function pointers was rejected: indirect calls on
 * the per-span path). */
#define DEF_CONTAINER_DEC(fn, T, name, head_dec, head, child_dec, arr, cnt)                        \
    static gb_status fn(dctx *c, const uint8_t *p, const uint8_t *end, T *x)                       \
    {                                                                                              \
        static const char where[] = name;                                                          \
        static const cnt_spec spec[] = {{2, CK_MSG}};                                              \
        pw_field f;                                                                                \
        pw_err pe_;                                                                                \
        uint32_t n;                                                                                \
        gb_status st = count_fields(c, where, p, end, spec, 1, &n);                                \
        if (st) return st;                                                                         \
        ALLOC_ARRAY(x->arr, n, where);                                                             \
        FOR_FIELDS(p, end)                                                                         \
        {                                                                                          \
            switch (f.num) {                                                                       \
            case 1:                                                                                \
                WANT(PW_LEN);                                                                      \
                if ((st = head_dec(c, SUB(f), &x->head))) return st;                               \
                break;                                                                             \
            case 2:                                                                                \
                WANT(PW_LEN);                                                                      \
                if ((st = child_dec(c, SUB(f), &x->arr[x->cnt++]))) return st;                     \
                break;                                                                             \
            case 3:                                                                                \
                GET_STR(x->schema_url);                                                            \
                break;                                                                             \
            default:                                                                               \
                break;                                                                             \
            }                                                                                      \
        }                                                                                          \
        return GB_OK;                                                                              \
    }

/* ---- common/v1 -------------------------------------------------------------------------- */

static gb_status dec_kv(dctx *c, const uint8_t *p, const uint8_t *end, pd_kv *kv, int depth);

/* ArrayValue and KeyValueList: field 1 repeated, each element decoded by item_dec (one level
 * deeper) into an exactly sized arena array, stored in v->u.member with type tag. */
#define DEC_ANY_LIST(name, T, item_dec, tag, member)                                               \
    do {                                                                                           \
        WANT(PW_LEN);                                                                              \
        static const char lw_[] = name;                                                            \
        static const cnt_spec lspec_[] = {{1, CK_MSG}};                                            \
        uint32_t n_;                                                                               \
        gb_status st_ = count_fields(c, lw_, SUB(f), lspec_, 1, &n_);                              \
        if (st_) return st_;                                                                       \
        T *items_ = NULL;                                                                          \
        ALLOC_ARRAY(items_, n_, lw_);                                                              \
        uint32_t k_ = 0;                                                                           \
        pw_field g_;                                                                               \
        const uint8_t *lq_ = f.p, *lend_ = f.p + f.len;                                            \
        while (lq_ < lend_) {                                                                      \
            pw_err ge_ = pw_next(&lq_, lend_, &g_);                                                \
            if (ge_) return wire_fail(c, lw_, ge_);                                                \
            if (g_.num != 1) continue;                                                             \
            if (g_.wt != PW_LEN) return wt_fail(c, lw_, &g_);                                      \
            if ((st_ = item_dec(c, SUB(g_), &items_[k_++], depth + 1))) return st_;                \
        }                                                                                          \
        v->type = tag;                                                                             \
        v->u.member.v = items_;                                                                    \
        v->u.member.n = k_;                                                                        \
    } while (0)

static gb_status dec_any(dctx *c, const uint8_t *p, const uint8_t *end, pd_any *v, int depth)
{
    static const char where[] = "any_value";
    pw_field f;
    pw_err pe_;
    if (depth > OTLP_MAX_ANY_DEPTH)
        return fail(c, where, "nesting deeper than %d levels", OTLP_MAX_ANY_DEPTH);
    /* Fast path: the usual single scalar or short string value. */
    if (end - p >= 2) {
        const uint8_t *q = p + 1;
        uint64_t x;
        switch (p[0]) {
        case 0x0a:
            if (p[1] < 0x80 && p + 2 + p[1] == end) {
                v->type = PD_ANY_STR;
                v->u.str = gb_str_n(p + 2, p[1]);
                return GB_OK;
            }
            break;
        case 0x10:
            if (pw_read_varint(&q, end, &x) && q == end) {
                v->type = PD_ANY_BOOL;
                v->u.b = x != 0;
                return GB_OK;
            }
            break;
        case 0x18:
            if (pw_read_varint(&q, end, &x) && q == end) {
                v->type = PD_ANY_INT;
                v->u.i = (int64_t)x;
                return GB_OK;
            }
            break;
        case 0x21:
            if (end - p == 9) {
                v->type = PD_ANY_DOUBLE;
                v->u.d = pw_u2d(pw_load64(p + 1));
                return GB_OK;
            }
            break;
        default:
            break;
        }
    }
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            GET_STR(v->u.str);
            v->type = PD_ANY_STR;
            break;
        case 2:
            GET_BOOL(v->u.b);
            v->type = PD_ANY_BOOL;
            break;
        case 3:
            WANT(PW_VARINT);
            v->u.i = (int64_t)f.v;
            v->type = PD_ANY_INT;
            break;
        case 4:
            GET_DOUBLE(v->u.d);
            v->type = PD_ANY_DOUBLE;
            break;
        case 5:
            DEC_ANY_LIST("array_value", pd_any, dec_any, PD_ANY_ARRAY, arr);
            break;
        case 6:
            DEC_ANY_LIST("kvlist_value", pd_kv, dec_kv, PD_ANY_KVLIST, kvl);
            break;
        case 7:
            GET_STR(v->u.str);
            v->type = PD_ANY_BYTES;
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_kv(dctx *c, const uint8_t *p, const uint8_t *end, pd_kv *kv, int depth)
{
    static const char where[] = "key_value";
    pw_field f;
    pw_err pe_;
    kv->key = GB_STR_NULL;
    kv->value.type = PD_ANY_EMPTY;
    /* Fast path: key (field 1, short) then value (field 2, short), as every encoder writes. */
    if (end - p >= 2 && p[0] == 0x0a && p[1] < 0x80 && end - (p + 2) >= p[1]) {
        const uint8_t *q = p + 2 + p[1];
        if (end - q >= 2 && q[0] == 0x12 && q[1] < 0x80 && q + 2 + q[1] == end) {
            kv->key = gb_str_n(p + 2, p[1]);
            return dec_any(c, q + 2, end, &kv->value, depth);
        }
    }
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            GET_STR(kv->key);
            break;
        case 2: {
            WANT(PW_LEN);
            kv->value.type = PD_ANY_EMPTY;
            gb_status st = dec_any(c, SUB(f), &kv->value, depth);
            if (st) return st;
            break;
        }
        default:
            break;
        }
    }
    return GB_OK;
}

/* Appends one KeyValue occurrence (field f) to attrs, whose array was sized by a count pass. */
static inline gb_status add_attr(dctx *c, const char *where, const pw_field *fp, pd_attrs *a)
{
    if (fp->wt != PW_LEN) return wt_fail(c, where, fp);
    pd_kv *kv = &a->v[a->n++];
    const uint8_t *p = fp->p, *end = fp->p + fp->len;
    /* Inline fast path for the most common attribute: short key, short string value, i.e.
     * 0a <klen> key 12 <alen> 0a <slen> str with all lengths < 128. */
    if (end - p >= 6 && p[0] == 0x0a && p[1] < 0x80 && end - (p + 2) >= p[1] + 4) {
        const uint8_t *q = p + 2 + p[1];
        if (q[0] == 0x12 && q[1] < 0x80 && q + 2 + q[1] == end && q[2] == 0x0a && q[3] < 0x80 &&
            q + 4 + q[3] == end) {
            kv->key = gb_str_n(p + 2, p[1]);
            kv->value.type = PD_ANY_STR;
            kv->value.u.str = gb_str_n(q + 4, q[3]);
            return GB_OK;
        }
    }
    return dec_kv(c, p, end, kv, 0);
}

/* After one attribute field, decodes the directly following fields with the same one-byte tag
 * (attributes are written contiguously) without going through the generic field loop. The
 * count pass counted these, so the array has room. Stops at the first other byte. */
static inline gb_status attr_run(dctx *c, const char *where, const uint8_t **qp, const uint8_t *end,
                                 uint8_t tag, pd_attrs *a)
{
    const uint8_t *q = *qp;
    while (q + 1 < end && q[0] == tag && q[1] < 0x80 && end - (q + 2) >= q[1]) {
        pw_field g;
        g.num = (uint32_t)(tag >> 3);
        g.wt = PW_LEN;
        g.v = 0;
        g.p = q + 2;
        g.len = q[1];
        gb_status st = add_attr(c, where, &g, a);
        if (st) return st;
        q += 2 + q[1];
    }
    *qp = q;
    return GB_OK;
}

/* One attribute field and the run of the same field that directly follows it. */
static inline gb_status add_attrs(dctx *c, const char *where, const pw_field *fp,
                                  const uint8_t **qp, const uint8_t *end, pd_attrs *a)
{
    gb_status st = add_attr(c, where, fp, a);
    if (st == GB_OK && fp->num < 16)
        st = attr_run(c, where, qp, end, (uint8_t)PW_TAG(fp->num, PW_LEN), a);
    return st;
}

static gb_status alloc_attrs(dctx *c, const char *where, pd_attrs *a, uint32_t n)
{
    a->v = NULL;
    a->n = 0;
    a->cap = n;
    if (n && !(a->v = dec_alloc(c, (size_t)n * sizeof(pd_kv)))) return nomem(c, where);
    return GB_OK;
}

static gb_status get_id(dctx *c, const char *where, const char *name, const pw_field *f,
                        uint8_t *dst, size_t n)
{
    if (f->wt != PW_LEN) return wt_fail(c, where, f);
    if (f->len == 0) {
        memset(dst, 0, n);
        return GB_OK;
    }
    if (f->len != n)
        return fail(c, where, "%s must be %zu bytes or empty, got %zu", name, n, f->len);
    memcpy(dst, f->p, n);
    return GB_OK;
}

static gb_status dec_resource(dctx *c, const uint8_t *p, const uint8_t *end, pd_resource *r)
{
    static const char where[] = "resource";
    static const cnt_spec spec[] = {{1, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n;
    gb_status st = count_fields(c, where, p, end, spec, 1, &n);
    if (st == GB_OK) st = alloc_attrs(c, where, &r->attrs, n);
    if (st) return st;
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            if ((st = add_attrs(c, where, &f, &q_, end, &r->attrs))) return st;
            break;
        case 2:
            GET_U32(r->dropped_attributes_count);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_scope(dctx *c, const uint8_t *p, const uint8_t *end, pd_scope *s)
{
    static const char where[] = "scope";
    static const cnt_spec spec[] = {{3, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n;
    gb_status st = count_fields(c, where, p, end, spec, 1, &n);
    if (st == GB_OK) st = alloc_attrs(c, where, &s->attrs, n);
    if (st) return st;
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            GET_STR(s->name);
            break;
        case 2:
            GET_STR(s->version);
            break;
        case 3:
            if ((st = add_attrs(c, where, &f, &q_, end, &s->attrs))) return st;
            break;
        case 4:
            GET_U32(s->dropped_attributes_count);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

/* ---- trace/v1 --------------------------------------------------------------------------- */

static gb_status dec_event(dctx *c, const uint8_t *p, const uint8_t *end, pd_event *e)
{
    static const char where[] = "span_event";
    static const cnt_spec spec[] = {{3, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n;
    gb_status st = count_fields(c, where, p, end, spec, 1, &n);
    if (st == GB_OK) st = alloc_attrs(c, where, &e->attrs, n);
    if (st) return st;
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            GET_FIX64(e->time_unix_nano);
            break;
        case 2:
            GET_STR(e->name);
            break;
        case 3:
            if ((st = add_attrs(c, where, &f, &q_, end, &e->attrs))) return st;
            break;
        case 4:
            GET_U32(e->dropped_attributes_count);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_link(dctx *c, const uint8_t *p, const uint8_t *end, pd_link *l)
{
    static const char where[] = "span_link";
    static const cnt_spec spec[] = {{4, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n;
    gb_status st = count_fields(c, where, p, end, spec, 1, &n);
    if (st == GB_OK) st = alloc_attrs(c, where, &l->attrs, n);
    if (st) return st;
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            if ((st = get_id(c, where, "trace_id", &f, l->trace_id.b, 16))) return st;
            break;
        case 2:
            if ((st = get_id(c, where, "span_id", &f, l->span_id.b, 8))) return st;
            break;
        case 3:
            GET_STR(l->trace_state);
            break;
        case 4:
            if ((st = add_attrs(c, where, &f, &q_, end, &l->attrs))) return st;
            break;
        case 5:
            GET_U32(l->dropped_attributes_count);
            break;
        case 6:
            GET_FIX32(l->flags);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_status(dctx *c, const uint8_t *p, const uint8_t *end, pd_span *s)
{
    static const char where[] = "span_status";
    pw_field f;
    pw_err pe_;
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 2:
            GET_STR(s->status.message);
            break;
        case 3:
            GET_I32(s->status.code);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_span(dctx *c, const uint8_t *p, const uint8_t *end, pd_span *s)
{
    static const char where[] = "span";
    static const cnt_spec spec[] = {{9, CK_MSG}, {11, CK_MSG}, {13, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n[3];
    gb_status st = count_fields(c, where, p, end, spec, 3, n);
    if (st == GB_OK) st = alloc_attrs(c, where, &s->attrs, n[0]);
    if (st) return st;
    ALLOC_ARRAY(s->events, n[1], where);
    ALLOC_ARRAY(s->links, n[2], where);
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            if ((st = get_id(c, where, "trace_id", &f, s->trace_id.b, 16))) return st;
            break;
        case 2:
            if ((st = get_id(c, where, "span_id", &f, s->span_id.b, 8))) return st;
            break;
        case 3:
            GET_STR(s->trace_state);
            break;
        case 4:
            if ((st = get_id(c, where, "parent_span_id", &f, s->parent_span_id.b, 8))) return st;
            break;
        case 5:
            GET_STR(s->name);
            break;
        case 6:
            GET_I32(s->kind);
            break;
        case 7:
            GET_FIX64(s->start_time_unix_nano);
            break;
        case 8:
            GET_FIX64(s->end_time_unix_nano);
            break;
        case 9:
            if ((st = add_attrs(c, where, &f, &q_, end, &s->attrs))) return st;
            break;
        case 10:
            GET_U32(s->dropped_attributes_count);
            break;
        case 11:
            WANT(PW_LEN);
            if ((st = dec_event(c, SUB(f), &s->events[s->n_events++]))) return st;
            break;
        case 12:
            GET_U32(s->dropped_events_count);
            break;
        case 13:
            WANT(PW_LEN);
            if ((st = dec_link(c, SUB(f), &s->links[s->n_links++]))) return st;
            break;
        case 14:
            GET_U32(s->dropped_links_count);
            break;
        case 15:
            WANT(PW_LEN);
            if ((st = dec_status(c, SUB(f), s))) return st;
            break;
        case 16:
            GET_FIX32(s->flags);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

DEF_CONTAINER_DEC(dec_scope_spans, pd_scope_spans, "scope_spans", dec_scope, scope, dec_span, spans,
                  n_spans)
DEF_CONTAINER_DEC(dec_resource_spans, pd_resource_spans, "resource_spans", dec_resource, resource,
                  dec_scope_spans, scope_spans, n_scope_spans)

/* ---- metrics/v1 ------------------------------------------------------------------------- */

static gb_status dec_exemplar(dctx *c, const uint8_t *p, const uint8_t *end, pd_exemplar *e)
{
    static const char where[] = "exemplar";
    static const cnt_spec spec[] = {{7, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n;
    gb_status st = count_fields(c, where, p, end, spec, 1, &n);
    if (st == GB_OK) st = alloc_attrs(c, where, &e->filtered_attrs, n);
    if (st) return st;
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 2:
            GET_FIX64(e->time_unix_nano);
            break;
        case 3:
            GET_DOUBLE(e->value.d);
            e->value_type = PD_NUM_DOUBLE;
            break;
        case 4:
            if ((st = get_id(c, where, "span_id", &f, e->span_id.b, 8))) return st;
            break;
        case 5:
            if ((st = get_id(c, where, "trace_id", &f, e->trace_id.b, 16))) return st;
            break;
        case 6:
            WANT(PW_I64);
            e->value.i = (int64_t)f.v;
            e->value_type = PD_NUM_INT;
            break;
        case 7:
            if ((st = add_attrs(c, where, &f, &q_, end, &e->filtered_attrs))) return st;
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

#define ADD_EXEMPLAR(arr, n)                                                                       \
    do {                                                                                           \
        WANT(PW_LEN);                                                                              \
        if ((st = dec_exemplar(c, SUB(f), &(arr)[(n)++]))) return st;                              \
    } while (0)

static gb_status dec_number_dp(dctx *c, const uint8_t *p, const uint8_t *end, pd_number_dp *d)
{
    static const char where[] = "number_data_point";
    static const cnt_spec spec[] = {{7, CK_MSG}, {5, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n[2];
    gb_status st = count_fields(c, where, p, end, spec, 2, n);
    if (st == GB_OK) st = alloc_attrs(c, where, &d->attrs, n[0]);
    if (st) return st;
    ALLOC_ARRAY(d->exemplars, n[1], where);
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 2:
            GET_FIX64(d->start_time_unix_nano);
            break;
        case 3:
            GET_FIX64(d->time_unix_nano);
            break;
        case 4:
            GET_DOUBLE(d->value.d);
            d->value_type = PD_NUM_DOUBLE;
            break;
        case 5:
            ADD_EXEMPLAR(d->exemplars, d->n_exemplars);
            break;
        case 6:
            WANT(PW_I64);
            d->value.i = (int64_t)f.v;
            d->value_type = PD_NUM_INT;
            break;
        case 7:
            if ((st = add_attrs(c, where, &f, &q_, end, &d->attrs))) return st;
            break;
        case 8:
            GET_U32(d->flags);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_histogram_dp(dctx *c, const uint8_t *p, const uint8_t *end, pd_histogram_dp *d)
{
    static const char where[] = "histogram_data_point";
    static const cnt_spec spec[] = {{9, CK_MSG}, {8, CK_MSG}, {6, CK_FIX64}, {7, CK_FIX64}};
    pw_field f;
    pw_err pe_;
    uint32_t n[4];
    gb_status st = count_fields(c, where, p, end, spec, 4, n);
    if (st == GB_OK) st = alloc_attrs(c, where, &d->attrs, n[0]);
    if (st) return st;
    ALLOC_ARRAY(d->exemplars, n[1], where);
    ALLOC_ARRAY(d->bucket_counts, n[2], where);
    ALLOC_ARRAY(d->explicit_bounds, n[3], where);
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 2:
            GET_FIX64(d->start_time_unix_nano);
            break;
        case 3:
            GET_FIX64(d->time_unix_nano);
            break;
        case 4:
            GET_FIX64(d->count);
            break;
        case 5:
            GET_DOUBLE(d->sum);
            d->has_sum = true;
            break;
        case 6:
            if (f.wt != PW_I64 && f.wt != PW_LEN) return wt_fail(c, where, &f);
            fill_fix64(&f, d->bucket_counts, &d->n_bucket_counts);
            break;
        case 7:
            if (f.wt != PW_I64 && f.wt != PW_LEN) return wt_fail(c, where, &f);
            /* doubles are stored bit-for-bit: same layout as uint64_t */
            fill_fix64(&f, (uint64_t *)(void *)d->explicit_bounds, &d->n_explicit_bounds);
            break;
        case 8:
            ADD_EXEMPLAR(d->exemplars, d->n_exemplars);
            break;
        case 9:
            if ((st = add_attrs(c, where, &f, &q_, end, &d->attrs))) return st;
            break;
        case 10:
            GET_U32(d->flags);
            break;
        case 11:
            GET_DOUBLE(d->min);
            d->has_min = true;
            break;
        case 12:
            GET_DOUBLE(d->max);
            d->has_max = true;
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_buckets(dctx *c, const uint8_t *p, const uint8_t *end, pd_exp_buckets *bk)
{
    static const char where[] = "buckets";
    static const cnt_spec spec[] = {{2, CK_VARINT}};
    pw_field f;
    pw_err pe_;
    uint32_t n;
    gb_status st = count_fields(c, where, p, end, spec, 1, &n);
    if (st) return st;
    bk->n_bucket_counts = 0;
    bk->bucket_counts = NULL;
    ALLOC_ARRAY(bk->bucket_counts, n, where);
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            GET_SINT32(bk->offset);
            break;
        case 2:
            if (f.wt != PW_VARINT && f.wt != PW_LEN) return wt_fail(c, where, &f);
            if ((st = fill_varints(c, where, &f, bk->bucket_counts, &bk->n_bucket_counts)))
                return st;
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_exp_histogram_dp(dctx *c, const uint8_t *p, const uint8_t *end,
                                      pd_exp_histogram_dp *d)
{
    static const char where[] = "exponential_histogram_data_point";
    static const cnt_spec spec[] = {{1, CK_MSG}, {11, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n[2];
    gb_status st = count_fields(c, where, p, end, spec, 2, n);
    if (st == GB_OK) st = alloc_attrs(c, where, &d->attrs, n[0]);
    if (st) return st;
    ALLOC_ARRAY(d->exemplars, n[1], where);
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            if ((st = add_attrs(c, where, &f, &q_, end, &d->attrs))) return st;
            break;
        case 2:
            GET_FIX64(d->start_time_unix_nano);
            break;
        case 3:
            GET_FIX64(d->time_unix_nano);
            break;
        case 4:
            GET_FIX64(d->count);
            break;
        case 5:
            GET_DOUBLE(d->sum);
            d->has_sum = true;
            break;
        case 6:
            GET_SINT32(d->scale);
            break;
        case 7:
            GET_FIX64(d->zero_count);
            break;
        case 8:
            WANT(PW_LEN);
            if ((st = dec_buckets(c, SUB(f), &d->positive))) return st;
            break;
        case 9:
            WANT(PW_LEN);
            if ((st = dec_buckets(c, SUB(f), &d->negative))) return st;
            break;
        case 10:
            GET_U32(d->flags);
            break;
        case 11:
            ADD_EXEMPLAR(d->exemplars, d->n_exemplars);
            break;
        case 12:
            GET_DOUBLE(d->min);
            d->has_min = true;
            break;
        case 13:
            GET_DOUBLE(d->max);
            d->has_max = true;
            break;
        case 14:
            GET_DOUBLE(d->zero_threshold);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_quantile(dctx *c, const uint8_t *p, const uint8_t *end, pd_quantile *qv)
{
    static const char where[] = "value_at_quantile";
    pw_field f;
    pw_err pe_;
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            GET_DOUBLE(qv->quantile);
            break;
        case 2:
            GET_DOUBLE(qv->value);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_summary_dp(dctx *c, const uint8_t *p, const uint8_t *end, pd_summary_dp *d)
{
    static const char where[] = "summary_data_point";
    static const cnt_spec spec[] = {{7, CK_MSG}, {6, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n[2];
    gb_status st = count_fields(c, where, p, end, spec, 2, n);
    if (st == GB_OK) st = alloc_attrs(c, where, &d->attrs, n[0]);
    if (st) return st;
    ALLOC_ARRAY(d->quantiles, n[1], where);
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 2:
            GET_FIX64(d->start_time_unix_nano);
            break;
        case 3:
            GET_FIX64(d->time_unix_nano);
            break;
        case 4:
            GET_FIX64(d->count);
            break;
        case 5:
            GET_DOUBLE(d->sum);
            break;
        case 6:
            WANT(PW_LEN);
            if ((st = dec_quantile(c, SUB(f), &d->quantiles[d->n_quantiles++]))) return st;
            break;
        case 7:
            if ((st = add_attrs(c, where, &f, &q_, end, &d->attrs))) return st;
            break;
        case 8:
            GET_U32(d->flags);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

/* Gauge, Sum, Histogram, ExponentialHistogram, Summary: data_points = 1, temporality = 2,
 * is_monotonic = 3 (Sum). */
static gb_status dec_metric_data(dctx *c, const uint8_t *p, const uint8_t *end, pd_metric *m,
                                 pd_metric_type type)
{
    static const char where[] = "metric_data";
    static const cnt_spec spec[] = {{1, CK_MSG}};
    static const size_t dp_size[] = {0,
                                     sizeof(pd_number_dp),
                                     sizeof(pd_number_dp),
                                     sizeof(pd_histogram_dp),
                                     sizeof(pd_exp_histogram_dp),
                                     sizeof(pd_summary_dp)};
    pw_field f;
    pw_err pe_;
    uint32_t n;
    gb_status st = count_fields(c, where, p, end, spec, 1, &n);
    if (st) return st;
    void *dps = arr_alloc(c, n, dp_size[type]);
    if (n && !dps) return nomem(c, where);
    m->type = type;
    m->n_dp = 0;
    m->temporality = 0;
    m->is_monotonic = false;
    m->dp.number = dps;
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            WANT(PW_LEN);
            switch (type) {
            case PD_METRIC_GAUGE:
            case PD_METRIC_SUM:
                st = dec_number_dp(c, SUB(f), &m->dp.number[m->n_dp]);
                break;
            case PD_METRIC_HISTOGRAM:
                st = dec_histogram_dp(c, SUB(f), &m->dp.histogram[m->n_dp]);
                break;
            case PD_METRIC_EXP_HISTOGRAM:
                st = dec_exp_histogram_dp(c, SUB(f), &m->dp.exp_histogram[m->n_dp]);
                break;
            case PD_METRIC_SUMMARY:
                st = dec_summary_dp(c, SUB(f), &m->dp.summary[m->n_dp]);
                break;
            default:
                break;
            }
            if (st) return st;
            m->n_dp++;
            break;
        case 2:
            if (type == PD_METRIC_GAUGE || type == PD_METRIC_SUMMARY) break;
            GET_I32(m->temporality);
            break;
        case 3:
            if (type != PD_METRIC_SUM) break;
            GET_BOOL(m->is_monotonic);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

static gb_status dec_metric(dctx *c, const uint8_t *p, const uint8_t *end, pd_metric *m)
{
    static const char where[] = "metric";
    static const cnt_spec spec[] = {{12, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n;
    gb_status st = count_fields(c, where, p, end, spec, 1, &n);
    if (st == GB_OK) st = alloc_attrs(c, where, &m->metadata, n);
    if (st) return st;
    FOR_FIELDS(p, end)
    {
        pd_metric_type type = PD_METRIC_EMPTY;
        switch (f.num) {
        case 1:
            GET_STR(m->name);
            break;
        case 2:
            GET_STR(m->description);
            break;
        case 3:
            GET_STR(m->unit);
            break;
        case 5:
            type = PD_METRIC_GAUGE;
            break;
        case 7:
            type = PD_METRIC_SUM;
            break;
        case 9:
            type = PD_METRIC_HISTOGRAM;
            break;
        case 10:
            type = PD_METRIC_EXP_HISTOGRAM;
            break;
        case 11:
            type = PD_METRIC_SUMMARY;
            break;
        case 12:
            if ((st = add_attrs(c, where, &f, &q_, end, &m->metadata))) return st;
            break;
        default:
            break;
        }
        if (type != PD_METRIC_EMPTY) {
            WANT(PW_LEN);
            if ((st = dec_metric_data(c, SUB(f), m, type))) return st;
        }
    }
    return GB_OK;
}

DEF_CONTAINER_DEC(dec_scope_metrics, pd_scope_metrics, "scope_metrics", dec_scope, scope,
                  dec_metric, metrics, n_metrics)
DEF_CONTAINER_DEC(dec_resource_metrics, pd_resource_metrics, "resource_metrics", dec_resource,
                  resource, dec_scope_metrics, scope_metrics, n_scope_metrics)

/* ---- logs/v1 ---------------------------------------------------------------------------- */

static gb_status dec_log(dctx *c, const uint8_t *p, const uint8_t *end, pd_log *l)
{
    static const char where[] = "log_record";
    static const cnt_spec spec[] = {{6, CK_MSG}};
    pw_field f;
    pw_err pe_;
    uint32_t n;
    gb_status st = count_fields(c, where, p, end, spec, 1, &n);
    if (st == GB_OK) st = alloc_attrs(c, where, &l->attrs, n);
    if (st) return st;
    FOR_FIELDS(p, end)
    {
        switch (f.num) {
        case 1:
            GET_FIX64(l->time_unix_nano);
            break;
        case 2:
            GET_I32(l->severity_number);
            break;
        case 3:
            GET_STR(l->severity_text);
            break;
        case 5:
            WANT(PW_LEN);
            memset(&l->body, 0, sizeof l->body);
            if ((st = dec_any(c, SUB(f), &l->body, 0))) return st;
            break;
        case 6:
            if ((st = add_attrs(c, where, &f, &q_, end, &l->attrs))) return st;
            break;
        case 7:
            GET_U32(l->dropped_attributes_count);
            break;
        case 8:
            GET_FIX32(l->flags);
            break;
        case 9:
            if ((st = get_id(c, where, "trace_id", &f, l->trace_id.b, 16))) return st;
            break;
        case 10:
            if ((st = get_id(c, where, "span_id", &f, l->span_id.b, 8))) return st;
            break;
        case 11:
            GET_FIX64(l->observed_time_unix_nano);
            break;
        case 12:
            GET_STR(l->event_name);
            break;
        default:
            break;
        }
    }
    return GB_OK;
}

DEF_CONTAINER_DEC(dec_scope_logs, pd_scope_logs, "scope_logs", dec_scope, scope, dec_log, logs,
                  n_logs)
DEF_CONTAINER_DEC(dec_resource_logs, pd_resource_logs, "resource_logs", dec_resource, resource,
                  dec_scope_logs, scope_logs, n_scope_logs)

/* ---- request ---------------------------------------------------------------------------- */

static gb_status decode_request(dctx *c, pd_batch *b, gb_buf *buf, const uint8_t *data, size_t len);

gb_status otlp_decode_proto(pd_batch *b, gb_buf *buf, const uint8_t *data, size_t len,
                            otlp_error *err)
{
    dctx cc = {&b->arena, err, false, 0};
    size_t saved = b->arena.limit;
    if (err) err->msg[0] = '\0';
    if (saved == 0 && len <= UINT32_MAX) {
        cc.own_limit = true;
        b->arena.limit = b->arena.total + (1u << 20) + OTLP_MAX_EXPANSION * len;
    }
    gb_status st = decode_request(&cc, b, buf, data, len);
    b->arena.limit = saved;
    return st;
}

static gb_status decode_request(dctx *c, pd_batch *b, gb_buf *buf, const uint8_t *data, size_t len)
{
    static const cnt_spec spec[] = {{1, CK_MSG}};
    static const size_t res_size[] = {sizeof(pd_resource_spans), sizeof(pd_resource_metrics),
                                      sizeof(pd_resource_logs)};
    static const char *const names[] = {"export_trace_request", "export_metrics_request",
                                        "export_logs_request"};
    const char *where = (unsigned)b->signal < 3 ? names[b->signal] : "request";
    pw_field f;
    pw_err pe_;
    uint32_t n;
    gb_status st;
    if ((unsigned)b->signal >= 3) return fail(c, where, "unknown signal");
    if (b->read_only) return fail(c, where, "batch is read-only");
    if (len > UINT32_MAX) return fail(c, where, "message larger than 4 GiB");
    if (!data) data = (const uint8_t *)"";
    const uint8_t *end = data + len;
    if ((st = count_fields(c, where, data, end, spec, 1, &n))) return st;

    /* b->u.{traces,metrics,logs} share one layout: (v, n). */
    uint32_t old_n = b->u.traces.n;
    size_t esz = res_size[b->signal];
    if (n > UINT32_MAX - old_n) return fail(c, where, "too many resources");
    void *arr = (void *)b->u.traces.v;
    if (n) {
        arr = dec_alloc(c, (size_t)(old_n + n) * esz);
        if (!arr) return nomem(c, where);
        if (old_n) memcpy(arr, (const void *)b->u.traces.v, (size_t)old_n * esz);
        memset((char *)arr + (size_t)old_n * esz, 0, (size_t)n * esz);
    }
    uint32_t k = old_n;
    FOR_FIELDS(data, end)
    {
        if (f.num != 1) continue;
        WANT(PW_LEN);
        switch (b->signal) {
        case PD_TRACES:
            st = dec_resource_spans(c, SUB(f), &((pd_resource_spans *)arr)[k]);
            break;
        case PD_METRICS:
            st = dec_resource_metrics(c, SUB(f), &((pd_resource_metrics *)arr)[k]);
            break;
        case PD_LOGS:
            st = dec_resource_logs(c, SUB(f), &((pd_resource_logs *)arr)[k]);
            break;
        }
        if (st) return st;
        k++;
    }
    if (buf && (st = pd_batch_hold_buf(b, buf))) return nomem(c, where);
    switch (b->signal) {
    case PD_TRACES:
        b->u.traces.v = arr;
        break;
    case PD_METRICS:
        b->u.metrics.v = arr;
        break;
    case PD_LOGS:
        b->u.logs.v = arr;
        break;
    }
    b->u.traces.n = k;
    return GB_OK;
}
