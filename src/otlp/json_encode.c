/* OTLP/JSON encoder: pdata batch -> Export{Trace,Metrics,Logs}ServiceRequest in the OTLP JSON
 * encoding, plus the Export*ServiceResponse and google.rpc.Status bodies.
 *
 * How: a hand-written streaming writer appends straight to the caller's gb_sbuf; no DOM, no
 * allocation besides the sbuf growing. Each object opens with a separator variable that holds
 * '{' until the first field is written and ',' after, so omitted (zero) fields cost nothing and
 * an object with no field becomes "{}". Output follows the protobuf JSON printer without
 * EmitUnpopulated: lowerCamelCase keys in field-number order, zero values omitted, 64-bit
 * integers as decimal strings, 32-bit integers and enums as numbers, trace/span ids as lowercase
 * hex, bytes as padded standard base64, non-finite doubles as "NaN"/"Infinity"/"-Infinity".
 * Presence is kept where the model has it: the value of a set oneof (AnyValue, number point
 * value, metric data kind) and the optional histogram sum/min/max are written even when zero.
 * Strings go through gb_sbuf_json_escape, so invalid UTF-8 still yields valid JSON (U+FFFD).
 *
 * Doubles are printed with %.15g when that reads back exactly and %.17g otherwise (integral
 * values below 2^53 take a fast integer path); shortest round-trip printing (Ryu-like) was
 * rejected as too much code for a non-hot path. Rejected: building a jansson DOM and dumping it
 * (one allocation per node, several times slower). */
#include "otlp/otlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer primitives -------------------------------------------------------------------- */

static inline void jw_put(gb_sbuf *b, const char *p, size_t n)
{
    if (b->len + n < b->cap) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    } else {
        gb_sbuf_append(b, p, n);
    }
}

static inline void jw_putc(gb_sbuf *b, char ch)
{
    if (b->len + 1 < b->cap)
        b->data[b->len++] = ch;
    else
        gb_sbuf_append(b, &ch, 1);
}

/* Makes room for n more bytes and returns where to write them, NULL after a failure. */
static inline char *jw_room(gb_sbuf *b, size_t n)
{
    if (b->len + n >= b->cap && gb_sbuf_reserve(b, n) != GB_OK) return NULL;
    return b->data + b->len;
}

static inline void jw_key(gb_sbuf *b, char *sep, const char *k, size_t n)
{
    jw_putc(b, *sep);
    *sep = ',';
    jw_put(b, k, n);
}

static inline void jw_close(gb_sbuf *b, char sep)
{
    if (sep == '{')
        jw_put(b, "{}", 2);
    else
        jw_putc(b, '}');
}

#define JW_K(lit) "\"" lit "\":"
#define KEY(lit)  jw_key(b, &sep, JW_K(lit), sizeof(JW_K(lit)) - 1)
#define OPEN()    char sep = '{'
#define CLOSE()   jw_close(b, sep)

static void jw_string(gb_sbuf *b, gb_str s)
{
    /* Plain printable ASCII (the common case) is copied as is; anything else goes through the
     * escaper, which also replaces invalid UTF-8. */
    const unsigned char *p = (const unsigned char *)s.ptr;
    uint32_t i = 0;
    while (i < s.len && p[i] >= 0x20 && p[i] < 0x80 && p[i] != '"' && p[i] != '\\')
        i++;
    char *o = jw_room(b, (size_t)s.len + 2);
    if (i == s.len && o) {
        *o++ = '"';
        if (s.len) memcpy(o, s.ptr, s.len);
        o[s.len] = '"';
        b->len += (size_t)s.len + 2;
        return;
    }
    jw_putc(b, '"');
    gb_sbuf_json_escape(b, s.ptr, s.len);
    jw_putc(b, '"');
}

static void jw_string_c(gb_sbuf *b, const char *s)
{
    jw_string(b, gb_str_c(s));
}

static void jw_u64(gb_sbuf *b, uint64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *p = e;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    jw_put(b, p, (size_t)(e - p));
}

static void jw_i64(gb_sbuf *b, int64_t v)
{
    if (v < 0) {
        jw_putc(b, '-');
        jw_u64(b, 0 - (uint64_t)v);
    } else {
        jw_u64(b, (uint64_t)v);
    }
}

static void jw_double(gb_sbuf *b, double d)
{
    if (isnan(d)) {
        jw_put(b, "\"NaN\"", 5);
        return;
    }
    if (isinf(d)) {
        if (d > 0)
            jw_put(b, "\"Infinity\"", 10);
        else
            jw_put(b, "\"-Infinity\"", 11);
        return;
    }
    if (d == 0) {
        /* "-0" would read back as the integer 0 */
        if (signbit(d))
            jw_put(b, "-0.0", 4);
        else
            jw_putc(b, '0');
        return;
    }
    if (fabs(d) < 9007199254740992.0 && d == trunc(d)) {
        jw_i64(b, (int64_t)d);
        return;
    }
    /* Short decimals (0.125, 12.5, 0.1): the smallest k for which m = d * 10^k is an integer
     * below 2^53 and m / 10^k gives d back. IEEE division rounds correctly, as strtod does, so
     * "m with k decimals" reads back as exactly d. */
    static const double p10[] = {1e0, 1e1, 1e2, 1e3,  1e4,  1e5, 1e6,
                                 1e7, 1e8, 1e9, 1e10, 1e11, 1e12};
    double ad = fabs(d);
    if (ad >= 1e-6 && ad < 1e9) {
        for (int k = 1; k <= 12; k++) {
            double m = nearbyint(ad * p10[k]);
            if (m >= 9007199254740992.0) break;
            if (m / p10[k] != ad) continue;
            char tmp[40];
            char *e = tmp + sizeof tmp, *q = e;
            uint64_t u = (uint64_t)m;
            for (int j = 0; j < k; j++) {
                *--q = (char)('0' + u % 10);
                u /= 10;
            }
            *--q = '.';
            do {
                *--q = (char)('0' + u % 10);
                u /= 10;
            } while (u);
            if (d < 0) *--q = '-';
            jw_put(b, q, (size_t)(e - q));
            return;
        }
    }
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.15g", d);
    if (strtod(tmp, NULL) != d) n = snprintf(tmp, sizeof tmp, "%.17g", d);
    jw_put(b, tmp, (size_t)n);
}

static void jw_hex(gb_sbuf *b, const uint8_t *id, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *p = jw_room(b, 2 * n + 2);
    if (!p) return;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        *p++ = hex[id[i] >> 4];
        *p++ = hex[id[i] & 15];
    }
    *p = '"';
    b->len += 2 * n + 2;
}

static void jw_base64(gb_sbuf *b, gb_str s)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t out = (s.len + 2) / 3 * 4;
    char *p = jw_room(b, out + 2);
    if (!p) return;
    const uint8_t *in = (const uint8_t *)s.ptr;
    *p++ = '"';
    size_t i = 0;
    for (; i + 3 <= s.len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *p++ = tab[v >> 18];
        *p++ = tab[(v >> 12) & 63];
        *p++ = tab[(v >> 6) & 63];
        *p++ = tab[v & 63];
    }
    if (i < s.len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < s.len ? (uint32_t)in[i + 1] << 8 : 0);
        *p++ = tab[v >> 18];
        *p++ = tab[(v >> 12) & 63];
        *p++ = i + 1 < s.len ? tab[(v >> 6) & 63] : '=';
        *p++ = '=';
    }
    *p = '"';
    b->len += out + 2;
}

/* ---- fields (omitted when zero) ----------------------------------------------------------- */

#define F_STR(lit, v)                                                                              \
    do {                                                                                           \
        if ((v).len) {                                                                             \
            KEY(lit);                                                                              \
            jw_string(b, (v));                                                                     \
        }                                                                                          \
    } while (0)
#define F_U64S(lit, v)                                                                             \
    do {                                                                                           \
        if (v) {                                                                                   \
            KEY(lit);                                                                              \
            jw_putc(b, '"');                                                                       \
            jw_u64(b, (v));                                                                        \
            jw_putc(b, '"');                                                                       \
        }                                                                                          \
    } while (0)
#define F_NUM(lit, v)                                                                              \
    do {                                                                                           \
        if (v) {                                                                                   \
            KEY(lit);                                                                              \
            jw_i64(b, (int64_t)(v));                                                               \
        }                                                                                          \
    } while (0)
#define F_DBL(lit, v)                                                                              \
    do {                                                                                           \
        double d_ = (v);                                                                           \
        if (d_ != 0 || signbit(d_)) {                                                              \
            KEY(lit);                                                                              \
            jw_double(b, d_);                                                                      \
        }                                                                                          \
    } while (0)
#define F_TRACE_ID(lit, id)                                                                        \
    do {                                                                                           \
        if (!pd_trace_id_is_empty(&(id))) {                                                        \
            KEY(lit);                                                                              \
            jw_hex(b, (id).b, 16);                                                                 \
        }                                                                                          \
    } while (0)
#define F_SPAN_ID(lit, id)                                                                         \
    do {                                                                                           \
        if (!pd_span_id_is_empty(&(id))) {                                                         \
            KEY(lit);                                                                              \
            jw_hex(b, (id).b, 8);                                                                  \
        }                                                                                          \
    } while (0)

/* ---- common/v1 ---------------------------------------------------------------------------- */

static void jw_kvs(gb_sbuf *b, const pd_kv *v, uint32_t n);

static void jw_any(gb_sbuf *b, const pd_any *a)
{
    OPEN();
    switch (a->type) {
    case PD_ANY_STR:
        KEY("stringValue");
        jw_string(b, a->u.str);
        break;
    case PD_ANY_BOOL:
        KEY("boolValue");
        if (a->u.b)
            jw_put(b, "true", 4);
        else
            jw_put(b, "false", 5);
        break;
    case PD_ANY_INT:
        KEY("intValue");
        jw_putc(b, '"');
        jw_i64(b, a->u.i);
        jw_putc(b, '"');
        break;
    case PD_ANY_DOUBLE:
        KEY("doubleValue");
        jw_double(b, a->u.d);
        break;
    case PD_ANY_ARRAY: {
        KEY("arrayValue");
        char sep2 = '{';
        if (a->u.arr.n) {
            jw_key(b, &sep2, JW_K("values"), sizeof(JW_K("values")) - 1);
            jw_putc(b, '[');
            for (uint32_t i = 0; i < a->u.arr.n; i++) {
                if (i) jw_putc(b, ',');
                jw_any(b, &a->u.arr.v[i]);
            }
            jw_putc(b, ']');
        }
        jw_close(b, sep2);
        break;
    }
    case PD_ANY_KVLIST: {
        KEY("kvlistValue");
        char sep2 = '{';
        if (a->u.kvl.n) {
            jw_key(b, &sep2, JW_K("values"), sizeof(JW_K("values")) - 1);
            jw_kvs(b, a->u.kvl.v, a->u.kvl.n);
        }
        jw_close(b, sep2);
        break;
    }
    case PD_ANY_BYTES:
        KEY("bytesValue");
        jw_base64(b, a->u.str);
        break;
    case PD_ANY_EMPTY:
    default:
        break;
    }
    CLOSE();
}

/* [{"key":...,"value":{...}}, ...] */
static void jw_kvs(gb_sbuf *b, const pd_kv *v, uint32_t n)
{
    jw_putc(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i) jw_putc(b, ',');
        OPEN();
        F_STR("key", v[i].key);
        KEY("value");
        jw_any(b, &v[i].value);
        CLOSE();
    }
    jw_putc(b, ']');
}

#define F_ATTRS(lit, a)                                                                            \
    do {                                                                                           \
        if ((a).n) {                                                                               \
            KEY(lit);                                                                              \
            jw_kvs(b, (a).v, (a).n);                                                               \
        }                                                                                          \
    } while (0)

static void jw_resource(gb_sbuf *b, char *outer, const pd_resource *r)
{
    if (!r->attrs.n && !r->dropped_attributes_count) return;
    jw_key(b, outer, JW_K("resource"), sizeof(JW_K("resource")) - 1);
    OPEN();
    F_ATTRS("attributes", r->attrs);
    F_NUM("droppedAttributesCount", r->dropped_attributes_count);
    CLOSE();
}

static void jw_scope(gb_sbuf *b, char *outer, const pd_scope *s)
{
    if (!s->name.len && !s->version.len && !s->attrs.n && !s->dropped_attributes_count) return;
    jw_key(b, outer, JW_K("scope"), sizeof(JW_K("scope")) - 1);
    OPEN();
    F_STR("name", s->name);
    F_STR("version", s->version);
    F_ATTRS("attributes", s->attrs);
    F_NUM("droppedAttributesCount", s->dropped_attributes_count);
    CLOSE();
}

/* "key":[ item, item ] with fn writing one item; omitted when empty. */
#define F_LIST(lit, items, n, fn)                                                                  \
    do {                                                                                           \
        if (n) {                                                                                   \
            KEY(lit);                                                                              \
            jw_putc(b, '[');                                                                       \
            for (uint32_t i_ = 0; i_ < (n); i_++) {                                                \
                if (i_) jw_putc(b, ',');                                                           \
                fn(b, &(items)[i_]);                                                               \
            }                                                                                      \
            jw_putc(b, ']');                                                                       \
        }                                                                                          \
    } while (0)

/* ---- trace/v1 ----------------------------------------------------------------------------- */

static void jw_event(gb_sbuf *b, const pd_event *e)
{
    OPEN();
    F_U64S("timeUnixNano", e->time_unix_nano);
    F_STR("name", e->name);
    F_ATTRS("attributes", e->attrs);
    F_NUM("droppedAttributesCount", e->dropped_attributes_count);
    CLOSE();
}

static void jw_link(gb_sbuf *b, const pd_link *l)
{
    OPEN();
    F_TRACE_ID("traceId", l->trace_id);
    F_SPAN_ID("spanId", l->span_id);
    F_STR("traceState", l->trace_state);
    F_ATTRS("attributes", l->attrs);
    F_NUM("droppedAttributesCount", l->dropped_attributes_count);
    F_NUM("flags", l->flags);
    CLOSE();
}

static void jw_span(gb_sbuf *b, const pd_span *s)
{
    OPEN();
    F_TRACE_ID("traceId", s->trace_id);
    F_SPAN_ID("spanId", s->span_id);
    F_STR("traceState", s->trace_state);
    F_SPAN_ID("parentSpanId", s->parent_span_id);
    F_STR("name", s->name);
    F_NUM("kind", s->kind);
    F_U64S("startTimeUnixNano", s->start_time_unix_nano);
    F_U64S("endTimeUnixNano", s->end_time_unix_nano);
    F_ATTRS("attributes", s->attrs);
    F_NUM("droppedAttributesCount", s->dropped_attributes_count);
    F_LIST("events", s->events, s->n_events, jw_event);
    F_NUM("droppedEventsCount", s->dropped_events_count);
    F_LIST("links", s->links, s->n_links, jw_link);
    F_NUM("droppedLinksCount", s->dropped_links_count);
    if (s->status.message.len || s->status.code) {
        KEY("status");
        char sep2 = '{';
        if (s->status.message.len) {
            jw_key(b, &sep2, JW_K("message"), sizeof(JW_K("message")) - 1);
            jw_string(b, s->status.message);
        }
        if (s->status.code) {
            jw_key(b, &sep2, JW_K("code"), sizeof(JW_K("code")) - 1);
            jw_i64(b, s->status.code);
        }
        jw_close(b, sep2);
    }
    F_NUM("flags", s->flags);
    CLOSE();
}

static void jw_scope_spans(gb_sbuf *b, const pd_scope_spans *ss)
{
    OPEN();
    jw_scope(b, &sep, &ss->scope);
    F_LIST("spans", ss->spans, ss->n_spans, jw_span);
    F_STR("schemaUrl", ss->schema_url);
    CLOSE();
}

static void jw_resource_spans(gb_sbuf *b, const pd_resource_spans *rs)
{
    OPEN();
    jw_resource(b, &sep, &rs->resource);
    F_LIST("scopeSpans", rs->scope_spans, rs->n_scope_spans, jw_scope_spans);
    F_STR("schemaUrl", rs->schema_url);
    CLOSE();
}

/* ---- metrics/v1 --------------------------------------------------------------------------- */

static void jw_exemplar(gb_sbuf *b, const pd_exemplar *e)
{
    OPEN();
    F_U64S("timeUnixNano", e->time_unix_nano);
    if (e->value_type == PD_NUM_DOUBLE) {
        KEY("asDouble");
        jw_double(b, e->value.d);
    }
    F_SPAN_ID("spanId", e->span_id);
    F_TRACE_ID("traceId", e->trace_id);
    if (e->value_type == PD_NUM_INT) {
        KEY("asInt");
        jw_putc(b, '"');
        jw_i64(b, e->value.i);
        jw_putc(b, '"');
    }
    F_ATTRS("filteredAttributes", e->filtered_attrs);
    CLOSE();
}

static void jw_number_dp(gb_sbuf *b, const pd_number_dp *dp)
{
    OPEN();
    F_U64S("startTimeUnixNano", dp->start_time_unix_nano);
    F_U64S("timeUnixNano", dp->time_unix_nano);
    if (dp->value_type == PD_NUM_DOUBLE) {
        KEY("asDouble");
        jw_double(b, dp->value.d);
    }
    F_LIST("exemplars", dp->exemplars, dp->n_exemplars, jw_exemplar);
    if (dp->value_type == PD_NUM_INT) {
        KEY("asInt");
        jw_putc(b, '"');
        jw_i64(b, dp->value.i);
        jw_putc(b, '"');
    }
    F_ATTRS("attributes", dp->attrs);
    F_NUM("flags", dp->flags);
    CLOSE();
}

static void jw_u64_list(gb_sbuf *b, const uint64_t *v, uint32_t n)
{
    jw_putc(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i) jw_putc(b, ',');
        jw_putc(b, '"');
        jw_u64(b, v[i]);
        jw_putc(b, '"');
    }
    jw_putc(b, ']');
}

static void jw_double_list(gb_sbuf *b, const double *v, uint32_t n)
{
    jw_putc(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i) jw_putc(b, ',');
        jw_double(b, v[i]);
    }
    jw_putc(b, ']');
}

#define F_OPT_DBL(lit, has, v)                                                                     \
    do {                                                                                           \
        if (has) {                                                                                 \
            KEY(lit);                                                                              \
            jw_double(b, (v));                                                                     \
        }                                                                                          \
    } while (0)

static void jw_histogram_dp(gb_sbuf *b, const pd_histogram_dp *dp)
{
    OPEN();
    F_U64S("startTimeUnixNano", dp->start_time_unix_nano);
    F_U64S("timeUnixNano", dp->time_unix_nano);
    F_U64S("count", dp->count);
    F_OPT_DBL("sum", dp->has_sum, dp->sum);
    if (dp->n_bucket_counts) {
        KEY("bucketCounts");
        jw_u64_list(b, dp->bucket_counts, dp->n_bucket_counts);
    }
    if (dp->n_explicit_bounds) {
        KEY("explicitBounds");
        jw_double_list(b, dp->explicit_bounds, dp->n_explicit_bounds);
    }
    F_LIST("exemplars", dp->exemplars, dp->n_exemplars, jw_exemplar);
    F_ATTRS("attributes", dp->attrs);
    F_NUM("flags", dp->flags);
    F_OPT_DBL("min", dp->has_min, dp->min);
    F_OPT_DBL("max", dp->has_max, dp->max);
    CLOSE();
}

static void jw_exp_buckets(gb_sbuf *b, char *outer, const char *key, size_t klen,
                           const pd_exp_buckets *eb)
{
    if (!eb->offset && !eb->n_bucket_counts) return;
    jw_key(b, outer, key, klen);
    OPEN();
    F_NUM("offset", eb->offset);
    if (eb->n_bucket_counts) {
        KEY("bucketCounts");
        jw_u64_list(b, eb->bucket_counts, eb->n_bucket_counts);
    }
    CLOSE();
}

static void jw_exp_histogram_dp(gb_sbuf *b, const pd_exp_histogram_dp *dp)
{
    OPEN();
    F_ATTRS("attributes", dp->attrs);
    F_U64S("startTimeUnixNano", dp->start_time_unix_nano);
    F_U64S("timeUnixNano", dp->time_unix_nano);
    F_U64S("count", dp->count);
    F_OPT_DBL("sum", dp->has_sum, dp->sum);
    F_NUM("scale", dp->scale);
    F_U64S("zeroCount", dp->zero_count);
    jw_exp_buckets(b, &sep, JW_K("positive"), sizeof(JW_K("positive")) - 1, &dp->positive);
    jw_exp_buckets(b, &sep, JW_K("negative"), sizeof(JW_K("negative")) - 1, &dp->negative);
    F_NUM("flags", dp->flags);
    F_LIST("exemplars", dp->exemplars, dp->n_exemplars, jw_exemplar);
    F_OPT_DBL("min", dp->has_min, dp->min);
    F_OPT_DBL("max", dp->has_max, dp->max);
    F_DBL("zeroThreshold", dp->zero_threshold);
    CLOSE();
}

static void jw_quantile(gb_sbuf *b, const pd_quantile *q)
{
    OPEN();
    F_DBL("quantile", q->quantile);
    F_DBL("value", q->value);
    CLOSE();
}

static void jw_summary_dp(gb_sbuf *b, const pd_summary_dp *dp)
{
    OPEN();
    F_U64S("startTimeUnixNano", dp->start_time_unix_nano);
    F_U64S("timeUnixNano", dp->time_unix_nano);
    F_U64S("count", dp->count);
    F_DBL("sum", dp->sum);
    F_LIST("quantileValues", dp->quantiles, dp->n_quantiles, jw_quantile);
    F_ATTRS("attributes", dp->attrs);
    F_NUM("flags", dp->flags);
    CLOSE();
}

/* Body of gauge / sum / histogram / exponentialHistogram / summary. */
static void jw_metric_data(gb_sbuf *b, const pd_metric *m)
{
    OPEN();
    switch (m->type) {
    case PD_METRIC_GAUGE:
    case PD_METRIC_SUM:
        F_LIST("dataPoints", m->dp.number, m->n_dp, jw_number_dp);
        break;
    case PD_METRIC_HISTOGRAM:
        F_LIST("dataPoints", m->dp.histogram, m->n_dp, jw_histogram_dp);
        break;
    case PD_METRIC_EXP_HISTOGRAM:
        F_LIST("dataPoints", m->dp.exp_histogram, m->n_dp, jw_exp_histogram_dp);
        break;
    case PD_METRIC_SUMMARY:
        F_LIST("dataPoints", m->dp.summary, m->n_dp, jw_summary_dp);
        break;
    default:
        break;
    }
    if (m->type == PD_METRIC_SUM || m->type == PD_METRIC_HISTOGRAM ||
        m->type == PD_METRIC_EXP_HISTOGRAM)
        F_NUM("aggregationTemporality", m->temporality);
    if (m->type == PD_METRIC_SUM && m->is_monotonic) {
        KEY("isMonotonic");
        jw_put(b, "true", 4);
    }
    CLOSE();
}

static void jw_metric(gb_sbuf *b, const pd_metric *m)
{
    OPEN();
    F_STR("name", m->name);
    F_STR("description", m->description);
    F_STR("unit", m->unit);
    switch (m->type) {
    case PD_METRIC_GAUGE:
        KEY("gauge");
        break;
    case PD_METRIC_SUM:
        KEY("sum");
        break;
    case PD_METRIC_HISTOGRAM:
        KEY("histogram");
        break;
    case PD_METRIC_EXP_HISTOGRAM:
        KEY("exponentialHistogram");
        break;
    case PD_METRIC_SUMMARY:
        KEY("summary");
        break;
    case PD_METRIC_EMPTY:
    default:
        break;
    }
    if (m->type > PD_METRIC_EMPTY && m->type <= PD_METRIC_SUMMARY) jw_metric_data(b, m);
    F_ATTRS("metadata", m->metadata);
    CLOSE();
}

static void jw_scope_metrics(gb_sbuf *b, const pd_scope_metrics *sm)
{
    OPEN();
    jw_scope(b, &sep, &sm->scope);
    F_LIST("metrics", sm->metrics, sm->n_metrics, jw_metric);
    F_STR("schemaUrl", sm->schema_url);
    CLOSE();
}

static void jw_resource_metrics(gb_sbuf *b, const pd_resource_metrics *rm)
{
    OPEN();
    jw_resource(b, &sep, &rm->resource);
    F_LIST("scopeMetrics", rm->scope_metrics, rm->n_scope_metrics, jw_scope_metrics);
    F_STR("schemaUrl", rm->schema_url);
    CLOSE();
}

/* ---- logs/v1 ------------------------------------------------------------------------------ */

static void jw_log(gb_sbuf *b, const pd_log *l)
{
    OPEN();
    F_U64S("timeUnixNano", l->time_unix_nano);
    F_NUM("severityNumber", l->severity_number);
    F_STR("severityText", l->severity_text);
    if (l->body.type != PD_ANY_EMPTY) {
        KEY("body");
        jw_any(b, &l->body);
    }
    F_ATTRS("attributes", l->attrs);
    F_NUM("droppedAttributesCount", l->dropped_attributes_count);
    F_NUM("flags", l->flags);
    F_TRACE_ID("traceId", l->trace_id);
    F_SPAN_ID("spanId", l->span_id);
    F_U64S("observedTimeUnixNano", l->observed_time_unix_nano);
    F_STR("eventName", l->event_name);
    CLOSE();
}

static void jw_scope_logs(gb_sbuf *b, const pd_scope_logs *sl)
{
    OPEN();
    jw_scope(b, &sep, &sl->scope);
    F_LIST("logRecords", sl->logs, sl->n_logs, jw_log);
    F_STR("schemaUrl", sl->schema_url);
    CLOSE();
}

static void jw_resource_logs(gb_sbuf *b, const pd_resource_logs *rl)
{
    OPEN();
    jw_resource(b, &sep, &rl->resource);
    F_LIST("scopeLogs", rl->scope_logs, rl->n_scope_logs, jw_scope_logs);
    F_STR("schemaUrl", rl->schema_url);
    CLOSE();
}

/* ---- entry points ------------------------------------------------------------------------- */

/* Terminates the sbuf (the fast paths do not write the NUL) and returns its sticky status. */
static gb_status jw_finish(gb_sbuf *b)
{
    gb_sbuf_append(b, "", 0);
    return b->err;
}

gb_status otlp_encode_json(const pd_batch *b_, gb_sbuf *out)
{
    gb_sbuf *b = out;
    if (b->err) return b->err;
    OPEN();
    switch (b_->signal) {
    case PD_TRACES:
        F_LIST("resourceSpans", b_->u.traces.v, b_->u.traces.n, jw_resource_spans);
        break;
    case PD_METRICS:
        F_LIST("resourceMetrics", b_->u.metrics.v, b_->u.metrics.n, jw_resource_metrics);
        break;
    case PD_LOGS:
        F_LIST("resourceLogs", b_->u.logs.v, b_->u.logs.n, jw_resource_logs);
        break;
    default:
        return GB_ERR_INVALID;
    }
    CLOSE();
    return jw_finish(b);
}

gb_status otlp_encode_response_json(pd_signal s, int64_t rejected, const char *msg, gb_sbuf *out)
{
    static const char *const keys[PD_SIGNAL_COUNT] = {
        JW_K("rejectedSpans"),
        JW_K("rejectedDataPoints"),
        JW_K("rejectedLogRecords"),
    };
    gb_sbuf *b = out;
    if ((unsigned)s >= PD_SIGNAL_COUNT) return GB_ERR_INVALID;
    if (b->err) return b->err;
    if (rejected == 0 && (!msg || !*msg)) {
        jw_put(b, "{}", 2);
        return jw_finish(b);
    }
    jw_put(b, "{\"partialSuccess\":", 18);
    OPEN();
    if (rejected) {
        jw_key(b, &sep, keys[s], strlen(keys[s]));
        jw_putc(b, '"');
        jw_i64(b, rejected);
        jw_putc(b, '"');
    }
    if (msg && *msg) {
        KEY("errorMessage");
        jw_string_c(b, msg);
    }
    CLOSE();
    jw_putc(b, '}');
    return jw_finish(b);
}

gb_status otlp_encode_status_json(int32_t code, const char *msg, gb_sbuf *out)
{
    gb_sbuf *b = out;
    if (b->err) return b->err;
    jw_put(b, "{\"code\":", 8);
    jw_i64(b, code);
    if (msg && *msg) {
        jw_put(b, ",\"message\":", 11);
        jw_string_c(b, msg);
    }
    jw_putc(b, '}');
    return jw_finish(b);
}
