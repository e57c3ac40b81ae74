/* OTLP protobuf encoder: pd_batch -> Export{Trace,Metrics,Logs}ServiceRequest.
 *
 * How: straight from the pdata structures with the backward writer of wire.h. Every message is
 * written last field first, repeated elements last element first, and its length prefix and tag
 * are written after its payload, so one pass produces the final bytes without computing sizes
 * beforehand (rejected: a size pass per level, which costs one extra walk per nesting level or a
 * side table of cached sizes, and an intermediate message tree).
 *
 * Output matches the canonical serialization of the reference protobuf implementations (fields
 * in field-number order, proto3 defaults omitted, repeated scalars packed), so our bytes equal
 * python-protobuf's SerializeToString for the same message. Presence rules:
 *   - implicit-presence scalars are omitted when zero (doubles when their bits are zero, so -0.0
 *     is written); all-zero trace/span ids are omitted (empty on the wire);
 *   - oneof members and proto3 `optional` fields are written whenever set, zero included;
 *   - KeyValue.value is always written (an empty AnyValue is "12 00"), ArrayValue elements are
 *     always written; resource, scope, span status, log body and exponential-histogram buckets
 *     are omitted when empty;
 *   - a metric's data oneof is written whenever the metric has a type (even with no points). */
#include "otlp.h"
#include "wire.h"

static void enc_any(pw_writer *w, const pd_any *v);

static inline unsigned str_field_size(uint32_t len)
{
    return 1 + pw_varint_size(len) + len;
}

/* Writes raw (unchecked) a tag-1-byte length-delimited string field. */
static inline void put_str_u(pw_writer *w, uint8_t tag, gb_str s)
{
    w->p -= s.len;
    if (s.len) memcpy(w->p, s.ptr, s.len);
    pw_put_varint_u(w, s.len);
    *--w->p = tag;
}

static inline void enc_str(pw_writer *w, uint32_t num, gb_str s)
{
    if (s.len) pw_tag_bytes(w, num, s.ptr, s.len);
}

static inline void enc_u64v(pw_writer *w, uint32_t num, uint64_t v)
{
    if (v) pw_tag_varint(w, num, v);
}

static inline void enc_i32(pw_writer *w, uint32_t num, int32_t v)
{
    if (v) pw_tag_varint(w, num, (uint64_t)(int64_t)v);
}

static inline void enc_sint32(pw_writer *w, uint32_t num, int32_t v)
{
    uint32_t z = ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
    if (z) pw_tag_varint(w, num, z);
}

static inline void enc_fix64(pw_writer *w, uint32_t num, uint64_t v)
{
    if (v) pw_tag_fixed64(w, num, v);
}

static inline void enc_fix32(pw_writer *w, uint32_t num, uint32_t v)
{
    if (v) pw_tag_fixed32(w, num, v);
}

static inline void enc_double(pw_writer *w, uint32_t num, double d)
{
    uint64_t u = pw_d2u(d);
    if (u) pw_tag_fixed64(w, num, u);
}

static inline void enc_id(pw_writer *w, uint32_t num, const uint8_t *id, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (id[i]) {
            pw_tag_bytes(w, num, id, n);
            return;
        }
    }
}

/* One KeyValue element of a repeated field (tag = one-byte tag of that field: every attribute
 * field number is < 16). Scalar and string values take a fast path: the element's size is known
 * up front, so one room check covers it and its header. */
static void enc_attr(pw_writer *w, uint8_t tag, const pd_kv *kv)
{
    const pd_any *v = &kv->value;
    size_t key_sz = kv->key.len ? str_field_size(kv->key.len) : 0;
    size_t val_sz; /* the KeyValue.value field: tag, length, AnyValue */
    switch (v->type) {
    case PD_ANY_STR:
    case PD_ANY_BYTES: {
        size_t any_sz = str_field_size(v->u.str.len);
        val_sz = 1 + pw_varint_size(any_sz) + any_sz;
        if (!pw_room(w, val_sz + key_sz + 6)) return;
        put_str_u(w, v->type == PD_ANY_STR ? 0x0a : 0x3a, v->u.str);
        pw_put_varint_u(w, any_sz);
        *--w->p = 0x12;
        break;
    }
    case PD_ANY_INT: {
        uint64_t u = (uint64_t)v->u.i;
        size_t any_sz = 1 + pw_varint_size(u);
        val_sz = 2 + any_sz;
        if (!pw_room(w, val_sz + key_sz + 6)) return;
        pw_put_varint_u(w, u);
        *--w->p = 0x18;
        *--w->p = (uint8_t)any_sz;
        *--w->p = 0x12;
        break;
    }
    case PD_ANY_BOOL:
        val_sz = 4;
        if (!pw_room(w, val_sz + key_sz + 6)) return;
        *--w->p = v->u.b ? 1 : 0;
        *--w->p = 0x10;
        *--w->p = 2;
        *--w->p = 0x12;
        break;
    case PD_ANY_DOUBLE:
        val_sz = 11;
        if (!pw_room(w, val_sz + key_sz + 6)) return;
        w->p -= 8;
        pw_store64(w->p, pw_d2u(v->u.d));
        *--w->p = 0x21;
        *--w->p = 9;
        *--w->p = 0x12;
        break;
    default: {
        size_t m = pw_written(w);
        enc_any(w, v);
        pw_close(w, 2, m);
        if (!pw_room(w, key_sz + 6)) return;
        val_sz = pw_written(w) - m;
        break;
    }
    }
    if (key_sz) put_str_u(w, 0x0a, kv->key);
    pw_put_varint_u(w, key_sz + val_sz);
    *--w->p = tag;
}

static void enc_attrs(pw_writer *w, uint32_t num, const pd_kv *v, uint32_t n)
{
    uint8_t tag = (uint8_t)PW_TAG(num, PW_LEN);
    for (uint32_t i = n; i-- > 0;)
        enc_attr(w, tag, &v[i]);
}

static void enc_any(pw_writer *w, const pd_any *v)
{
    switch (v->type) {
    case PD_ANY_EMPTY:
        break;
    case PD_ANY_STR:
        pw_tag_bytes(w, 1, v->u.str.ptr, v->u.str.len);
        break;
    case PD_ANY_BOOL:
        pw_tag_varint(w, 2, v->u.b ? 1 : 0);
        break;
    case PD_ANY_INT:
        pw_tag_varint(w, 3, (uint64_t)v->u.i);
        break;
    case PD_ANY_DOUBLE:
        pw_tag_fixed64(w, 4, pw_d2u(v->u.d));
        break;
    case PD_ANY_ARRAY: {
        size_t m = pw_written(w);
        for (uint32_t i = v->u.arr.n; i-- > 0;) {
            size_t e = pw_written(w);
            enc_any(w, &v->u.arr.v[i]);
            pw_close(w, 1, e);
        }
        pw_close(w, 5, m);
        break;
    }
    case PD_ANY_KVLIST: {
        size_t m = pw_written(w);
        enc_attrs(w, 1, v->u.kvl.v, v->u.kvl.n);
        pw_close(w, 6, m);
        break;
    }
    case PD_ANY_BYTES:
        pw_tag_bytes(w, 7, v->u.str.ptr, v->u.str.len);
        break;
    }
}

static void enc_resource(pw_writer *w, uint32_t num, const pd_resource *r)
{
    size_t m = pw_written(w);
    enc_u64v(w, 2, r->dropped_attributes_count);
    enc_attrs(w, 1, r->attrs.v, r->attrs.n);
    pw_close_opt(w, num, m);
}

static void enc_scope(pw_writer *w, uint32_t num, const pd_scope *s)
{
    size_t m = pw_written(w);
    enc_u64v(w, 4, s->dropped_attributes_count);
    enc_attrs(w, 3, s->attrs.v, s->attrs.n);
    enc_str(w, 2, s->version);
    enc_str(w, 1, s->name);
    pw_close_opt(w, num, m);
}

/* ---- trace/v1 --------------------------------------------------------------------------- */

static void enc_span(pw_writer *w, const pd_span *s)
{
    enc_fix32(w, 16, s->flags);
    size_t m = pw_written(w);
    enc_i32(w, 3, s->status.code);
    enc_str(w, 2, s->status.message);
    pw_close_opt(w, 15, m);
    enc_u64v(w, 14, s->dropped_links_count);
    for (uint32_t i = s->n_links; i-- > 0;) {
        const pd_link *l = &s->links[i];
        size_t lm = pw_written(w);
        enc_fix32(w, 6, l->flags);
        enc_u64v(w, 5, l->dropped_attributes_count);
        enc_attrs(w, 4, l->attrs.v, l->attrs.n);
        enc_str(w, 3, l->trace_state);
        enc_id(w, 2, l->span_id.b, 8);
        enc_id(w, 1, l->trace_id.b, 16);
        pw_close(w, 13, lm);
    }
    enc_u64v(w, 12, s->dropped_events_count);
    for (uint32_t i = s->n_events; i-- > 0;) {
        const pd_event *e = &s->events[i];
        size_t em = pw_written(w);
        enc_u64v(w, 4, e->dropped_attributes_count);
        enc_attrs(w, 3, e->attrs.v, e->attrs.n);
        enc_str(w, 2, e->name);
        enc_fix64(w, 1, e->time_unix_nano);
        pw_close(w, 11, em);
    }
    enc_u64v(w, 10, s->dropped_attributes_count);
    enc_attrs(w, 9, s->attrs.v, s->attrs.n);
    enc_fix64(w, 8, s->end_time_unix_nano);
    enc_fix64(w, 7, s->start_time_unix_nano);
    enc_i32(w, 6, s->kind);
    enc_str(w, 5, s->name);
    enc_id(w, 4, s->parent_span_id.b, 8);
    enc_str(w, 3, s->trace_state);
    enc_id(w, 2, s->span_id.b, 8);
    enc_id(w, 1, s->trace_id.b, 16);
}

/* ExportXServiceRequest: 1 = resource list; ResourceX: 1 = resource, 2 = scope list,
 * 3 = schema_url; ScopeX: 1 = scope, 2 = item list, 3 = schema_url. The three signals differ only
 * in types and names; one macro defines enc_traces, enc_metrics and enc_logs so the item encoder
 * is called directly. */
#define DEF_SIGNAL_ENC(fn, sig, R, scopes, n_scopes, S, items, n_items, enc_item)                  \
    static void fn(pw_writer *w, const pd_batch *b)                                                \
    {                                                                                              \
        for (uint32_t i = b->u.sig.n; i-- > 0;) {                                                  \
            const R *r = &b->u.sig.v[i];                                                           \
            size_t rm = pw_written(w);                                                             \
            enc_str(w, 3, r->schema_url);                                                          \
            for (uint32_t j = r->n_scopes; j-- > 0;) {                                             \
                const S *sc = &r->scopes[j];                                                       \
                size_t sm = pw_written(w);                                                         \
                enc_str(w, 3, sc->schema_url);                                                     \
                for (uint32_t k = sc->n_items; k-- > 0;) {                                         \
                    size_t m = pw_written(w);                                                      \
                    enc_item(w, &sc->items[k]);                                                    \
                    pw_close(w, 2, m);                                                             \
                }                                                                                  \
                enc_scope(w, 1, &sc->scope);                                                       \
                pw_close(w, 2, sm);                                                                \
            }                                                                                      \
            enc_resource(w, 1, &r->resource);                                                      \
            pw_close(w, 1, rm);                                                                    \
        }                                                                                          \
    }

DEF_SIGNAL_ENC(enc_traces, traces, pd_resource_spans, scope_spans, n_scope_spans, pd_scope_spans,
               spans, n_spans, enc_span)

/* ---- metrics/v1 ------------------------------------------------------------------------- */

static void enc_exemplars(pw_writer *w, uint32_t num, const pd_exemplar *v, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;) {
        const pd_exemplar *e = &v[i];
        size_t m = pw_written(w);
        enc_attrs(w, 7, e->filtered_attrs.v, e->filtered_attrs.n);
        if (e->value_type == PD_NUM_INT) pw_tag_fixed64(w, 6, (uint64_t)e->value.i);
        enc_id(w, 5, e->trace_id.b, 16);
        enc_id(w, 4, e->span_id.b, 8);
        if (e->value_type == PD_NUM_DOUBLE) pw_tag_fixed64(w, 3, pw_d2u(e->value.d));
        enc_fix64(w, 2, e->time_unix_nano);
        pw_close(w, num, m);
    }
}

static void enc_packed_fix64(pw_writer *w, uint32_t num, const uint64_t *v, uint32_t n)
{
    if (!n) return;
    size_t bytes = (size_t)n * 8;
    if (!pw_room(w, bytes + 15)) return;
    w->p -= bytes;
    for (uint32_t i = 0; i < n; i++)
        pw_store64(w->p + 8 * (size_t)i, v[i]);
    pw_put_varint_u(w, bytes);
    pw_put_varint_u(w, PW_TAG(num, PW_LEN));
}

static void enc_packed_varint(pw_writer *w, uint32_t num, const uint64_t *v, uint32_t n)
{
    if (!n) return;
    size_t m = pw_written(w);
    for (uint32_t i = n; i-- > 0;)
        pw_varint(w, v[i]);
    pw_close(w, num, m);
}

static void enc_number_dp(pw_writer *w, const pd_number_dp *d)
{
    enc_u64v(w, 8, d->flags);
    enc_attrs(w, 7, d->attrs.v, d->attrs.n);
    if (d->value_type == PD_NUM_INT) pw_tag_fixed64(w, 6, (uint64_t)d->value.i);
    enc_exemplars(w, 5, d->exemplars, d->n_exemplars);
    if (d->value_type == PD_NUM_DOUBLE) pw_tag_fixed64(w, 4, pw_d2u(d->value.d));
    enc_fix64(w, 3, d->time_unix_nano);
    enc_fix64(w, 2, d->start_time_unix_nano);
}

static void enc_histogram_dp(pw_writer *w, const pd_histogram_dp *d)
{
    if (d->has_max) pw_tag_fixed64(w, 12, pw_d2u(d->max));
    if (d->has_min) pw_tag_fixed64(w, 11, pw_d2u(d->min));
    enc_u64v(w, 10, d->flags);
    enc_attrs(w, 9, d->attrs.v, d->attrs.n);
    enc_exemplars(w, 8, d->exemplars, d->n_exemplars);
    enc_packed_fix64(w, 7, (const uint64_t *)(const void *)d->explicit_bounds,
                     d->n_explicit_bounds);
    enc_packed_fix64(w, 6, d->bucket_counts, d->n_bucket_counts);
    if (d->has_sum) pw_tag_fixed64(w, 5, pw_d2u(d->sum));
    enc_fix64(w, 4, d->count);
    enc_fix64(w, 3, d->time_unix_nano);
    enc_fix64(w, 2, d->start_time_unix_nano);
}

static void enc_buckets(pw_writer *w, uint32_t num, const pd_exp_buckets *bk)
{
    size_t m = pw_written(w);
    enc_packed_varint(w, 2, bk->bucket_counts, bk->n_bucket_counts);
    enc_sint32(w, 1, bk->offset);
    pw_close_opt(w, num, m);
}

static void enc_exp_histogram_dp(pw_writer *w, const pd_exp_histogram_dp *d)
{
    enc_double(w, 14, d->zero_threshold);
    if (d->has_max) pw_tag_fixed64(w, 13, pw_d2u(d->max));
    if (d->has_min) pw_tag_fixed64(w, 12, pw_d2u(d->min));
    enc_exemplars(w, 11, d->exemplars, d->n_exemplars);
    enc_u64v(w, 10, d->flags);
    enc_buckets(w, 9, &d->negative);
    enc_buckets(w, 8, &d->positive);
    enc_fix64(w, 7, d->zero_count);
    enc_sint32(w, 6, d->scale);
    if (d->has_sum) pw_tag_fixed64(w, 5, pw_d2u(d->sum));
    enc_fix64(w, 4, d->count);
    enc_fix64(w, 3, d->time_unix_nano);
    enc_fix64(w, 2, d->start_time_unix_nano);
    enc_attrs(w, 1, d->attrs.v, d->attrs.n);
}

static void enc_summary_dp(pw_writer *w, const pd_summary_dp *d)
{
    enc_u64v(w, 8, d->flags);
    enc_attrs(w, 7, d->attrs.v, d->attrs.n);
    for (uint32_t i = d->n_quantiles; i-- > 0;) {
        size_t m = pw_written(w);
        enc_double(w, 2, d->quantiles[i].value);
        enc_double(w, 1, d->quantiles[i].quantile);
        pw_close(w, 6, m);
    }
    enc_double(w, 5, d->sum);
    enc_fix64(w, 4, d->count);
    enc_fix64(w, 3, d->time_unix_nano);
    enc_fix64(w, 2, d->start_time_unix_nano);
}

static void enc_metric(pw_writer *w, const pd_metric *mt)
{
    static const uint32_t data_num[] = {0, 5, 7, 9, 10, 11};
    enc_attrs(w, 12, mt->metadata.v, mt->metadata.n);
    if (mt->type > PD_METRIC_EMPTY && mt->type <= PD_METRIC_SUMMARY) {
        size_t m = pw_written(w);
        if (mt->type == PD_METRIC_SUM && mt->is_monotonic) pw_tag_varint(w, 3, 1);
        if (mt->type != PD_METRIC_GAUGE && mt->type != PD_METRIC_SUMMARY)
            enc_i32(w, 2, mt->temporality);
        for (uint32_t i = mt->n_dp; i-- > 0;) {
            size_t dm = pw_written(w);
            switch (mt->type) {
            case PD_METRIC_GAUGE:
            case PD_METRIC_SUM:
                enc_number_dp(w, &mt->dp.number[i]);
                break;
            case PD_METRIC_HISTOGRAM:
                enc_histogram_dp(w, &mt->dp.histogram[i]);
                break;
            case PD_METRIC_EXP_HISTOGRAM:
                enc_exp_histogram_dp(w, &mt->dp.exp_histogram[i]);
                break;
            case PD_METRIC_SUMMARY:
                enc_summary_dp(w, &mt->dp.summary[i]);
                break;
            default:
                break;
            }
            pw_close(w, 1, dm);
        }
        pw_close(w, data_num[mt->type], m);
    }
    enc_str(w, 3, mt->unit);
    enc_str(w, 2, mt->description);
    enc_str(w, 1, mt->name);
}

DEF_SIGNAL_ENC(enc_metrics, metrics, pd_resource_metrics, scope_metrics, n_scope_metrics,
               pd_scope_metrics, metrics, n_metrics, enc_metric)

/* ---- logs/v1 ---------------------------------------------------------------------------- */

static void enc_log(pw_writer *w, const pd_log *l)
{
    enc_str(w, 12, l->event_name);
    enc_fix64(w, 11, l->observed_time_unix_nano);
    enc_id(w, 10, l->span_id.b, 8);
    enc_id(w, 9, l->trace_id.b, 16);
    enc_fix32(w, 8, l->flags);
    enc_u64v(w, 7, l->dropped_attributes_count);
    enc_attrs(w, 6, l->attrs.v, l->attrs.n);
    if (l->body.type != PD_ANY_EMPTY) {
        size_t m = pw_written(w);
        enc_any(w, &l->body);
        pw_close(w, 5, m);
    }
    enc_str(w, 3, l->severity_text);
    enc_i32(w, 2, l->severity_number);
    enc_fix64(w, 1, l->time_unix_nano);
}

DEF_SIGNAL_ENC(enc_logs, logs, pd_resource_logs, scope_logs, n_scope_logs, pd_scope_logs, logs,
               n_logs, enc_log)

/* Encodes b backwards into the tail of out's storage; the message is [w->p, w->end). */
static gb_status encode_backwards(const pd_batch *b, gb_sbuf *out, pw_writer *w)
{
    /* The arena holds the decoded structure, a fair estimate of the wire size, unless the batch
     * points into other batches (the batch processor's merged outputs have an almost empty
     * arena): then a per-item estimate, so the writer does not grow by doubling from 1 KiB and
     * move everything written so far at every step. Reserving too much costs address space only
     * (the writer touches the tail it writes). */
    size_t hint = pd_batch_arena_bytes(b);
    size_t per_item = b->signal == PD_TRACES ? 1024 : b->signal == PD_LOGS ? 512 : 128;
    uint64_t by_items = pd_batch_count(b) * per_item;
    if (by_items > hint) hint = by_items > (64u << 20) ? (64u << 20) : (size_t)by_items;
    if (hint > (64u << 20)) hint = 64u << 20;
    if (hint < 1024) hint = 1024;
    if (out->limit && hint > out->limit) hint = out->limit > out->len ? out->limit - out->len : 1;
    gb_status st = pw_writer_init(w, out, hint);
    if (st) return st;
    switch (b->signal) {
    case PD_TRACES:
        enc_traces(w, b);
        break;
    case PD_METRICS:
        enc_metrics(w, b);
        break;
    case PD_LOGS:
        enc_logs(w, b);
        break;
    default:
        return GB_ERR_INVALID;
    }
    return w->err;
}

gb_status otlp_encode_proto(const pd_batch *b, gb_sbuf *out)
{
    pw_writer w;
    gb_status st = encode_backwards(b, out, &w);
    return st ? st : pw_writer_finish(&w);
}

gb_status otlp_encode_proto_inplace(const pd_batch *b, gb_sbuf *sb, size_t headroom, uint8_t **out,
                                    size_t *len)
{
    pw_writer w;
    gb_status st = encode_backwards(b, sb, &w);
    if (st) return st;
    if ((size_t)(w.p - w.start) < headroom && !pw_writer_grow(&w, headroom)) return w.err;
    *out = w.p;
    *len = pw_written(&w);
    return GB_OK;
}
