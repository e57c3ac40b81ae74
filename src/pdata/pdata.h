/* In-memory telemetry: one batch = one arena + views. The OTLP decoders build these structures in
 * the batch arena and point every string/bytes field into the request buffer the batch holds, so
 * decoding allocates nothing per span or attribute. Processors mutate in place; new strings and
 * grown arrays go into the batch arena. Nothing ever writes through a gb_str.
 *
 * Field names and meanings follow opentelemetry-proto (common/v1, resource/v1, trace/v1,
 * metrics/v1, logs/v1). Arrays are (pointer, count); attribute lists also carry a capacity so
 * processors can append without reallocating every time.
 *
 * A batch is reference counted. Its owner may mutate it only while it holds the only reference
 * and read_only is false; fan-out marks it read-only and clones for consumers that mutate. */
#ifndef PD_PDATA_H
#define PD_PDATA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../base/arena.h"
#include "../base/buf.h"
#include "../base/status.h"
#include "../base/str.h"

/* ---- common/v1 ---------------------------------------------------------------------------- */

typedef enum pd_any_type {
    PD_ANY_EMPTY = 0, /* AnyValue with no value set */
    PD_ANY_STR,
    PD_ANY_BOOL,
    PD_ANY_INT,
    PD_ANY_DOUBLE,
    PD_ANY_ARRAY,
    PD_ANY_KVLIST,
    PD_ANY_BYTES,
} pd_any_type;

typedef struct pd_any pd_any;
typedef struct pd_kv pd_kv;

struct pd_any {
    pd_any_type type;
    union {
        gb_str str; /* PD_ANY_STR and PD_ANY_BYTES */
        bool b;
        int64_t i;
        double d;
        struct {
            pd_any *v;
            uint32_t n;
        } arr;
        struct {
            pd_kv *v;
            uint32_t n;
        } kvl;
    } u;
};

struct pd_kv {
    gb_str key;
    pd_any value;
};

typedef struct pd_attrs {
    pd_kv *v;
    uint32_t n;
    uint32_t cap; /* capacity of v; 0 means v is not growable in place (pd_attrs_put copies) */
} pd_attrs;

typedef struct pd_resource {
    pd_attrs attrs;
    uint32_t dropped_attributes_count;
} pd_resource;

typedef struct pd_scope {
    gb_str name;
    gb_str version;
    pd_attrs attrs;
    uint32_t dropped_attributes_count;
} pd_scope;

/* Trace and span ids are fixed size; an all-zero id means "not set" (empty on the wire). */
typedef struct pd_trace_id {
    uint8_t b[16];
} pd_trace_id;
typedef struct pd_span_id {
    uint8_t b[8];
} pd_span_id;

/* ---- trace/v1 ----------------------------------------------------------------------------- */

typedef enum pd_span_kind {
    PD_SPAN_KIND_UNSPECIFIED = 0,
    PD_SPAN_KIND_INTERNAL = 1,
    PD_SPAN_KIND_SERVER = 2,
    PD_SPAN_KIND_CLIENT = 3,
    PD_SPAN_KIND_PRODUCER = 4,
    PD_SPAN_KIND_CONSUMER = 5,
} pd_span_kind;

typedef enum pd_status_code {
    PD_STATUS_UNSET = 0,
    PD_STATUS_OK = 1,
    PD_STATUS_ERROR = 2,
} pd_status_code;

typedef struct pd_event {
    uint64_t time_unix_nano;
    gb_str name;
    pd_attrs attrs;
    uint32_t dropped_attributes_count;
} pd_event;

typedef struct pd_link {
    pd_trace_id trace_id;
    pd_span_id span_id;
    gb_str trace_state;
    pd_attrs attrs;
    uint32_t dropped_attributes_count;
    uint32_t flags;
} pd_link;

typedef struct pd_span {
    pd_trace_id trace_id;
    pd_span_id span_id;
    gb_str trace_state;
    pd_span_id parent_span_id;
    uint32_t flags;
    gb_str name;
    int32_t kind; /* pd_span_kind; unknown values kept as is */
    uint64_t start_time_unix_nano;
    uint64_t end_time_unix_nano;
    pd_attrs attrs;
    uint32_t dropped_attributes_count;
    pd_event *events;
    uint32_t n_events;
    uint32_t dropped_events_count;
    pd_link *links;
    uint32_t n_links;
    uint32_t dropped_links_count;
    struct {
        gb_str message;
        int32_t code; /* pd_status_code */
    } status;
} pd_span;

typedef struct pd_scope_spans {
    pd_scope scope;
    pd_span *spans;
    uint32_t n_spans;
    gb_str schema_url;
} pd_scope_spans;

typedef struct pd_resource_spans {
    pd_resource resource;
    pd_scope_spans *scope_spans;
    uint32_t n_scope_spans;
    gb_str schema_url;
} pd_resource_spans;

/* ---- metrics/v1 --------------------------------------------------------------------------- */

typedef enum pd_metric_type {
    PD_METRIC_EMPTY = 0,
    PD_METRIC_GAUGE,
    PD_METRIC_SUM,
    PD_METRIC_HISTOGRAM,
    PD_METRIC_EXP_HISTOGRAM,
    PD_METRIC_SUMMARY,
} pd_metric_type;

typedef enum pd_temporality {
    PD_TEMPORALITY_UNSPECIFIED = 0,
    PD_TEMPORALITY_DELTA = 1,
    PD_TEMPORALITY_CUMULATIVE = 2,
} pd_temporality;

typedef enum pd_num_type {
    PD_NUM_NONE = 0, /* oneof value not set */
    PD_NUM_DOUBLE,
    PD_NUM_INT,
} pd_num_type;

typedef struct pd_exemplar {
    pd_attrs filtered_attrs;
    uint64_t time_unix_nano;
    pd_num_type value_type;
    union {
        double d;
        int64_t i;
    } value;
    pd_span_id span_id;
    pd_trace_id trace_id;
} pd_exemplar;

typedef struct pd_number_dp {
    pd_attrs attrs;
    uint64_t start_time_unix_nano;
    uint64_t time_unix_nano;
    pd_num_type value_type;
    union {
        double d;
        int64_t i;
    } value;
    pd_exemplar *exemplars;
    uint32_t n_exemplars;
    uint32_t flags;
} pd_number_dp;

typedef struct pd_histogram_dp {
    pd_attrs attrs;
    uint64_t start_time_unix_nano;
    uint64_t time_unix_nano;
    uint64_t count;
    bool has_sum, has_min, has_max;
    double sum, min, max;
    uint64_t *bucket_counts; /* copied into the arena (wire data may be unaligned) */
    uint32_t n_bucket_counts;
    double *explicit_bounds;
    uint32_t n_explicit_bounds;
    pd_exemplar *exemplars;
    uint32_t n_exemplars;
    uint32_t flags;
} pd_histogram_dp;

typedef struct pd_exp_buckets {
    int32_t offset;
    uint64_t *bucket_counts;
    uint32_t n_bucket_counts;
} pd_exp_buckets;

typedef struct pd_exp_histogram_dp {
    pd_attrs attrs;
    uint64_t start_time_unix_nano;
    uint64_t time_unix_nano;
    uint64_t count;
    bool has_sum, has_min, has_max;
    double sum, min, max;
    int32_t scale;
    uint64_t zero_count;
    double zero_threshold;
    pd_exp_buckets positive;
    pd_exp_buckets negative;
    pd_exemplar *exemplars;
    uint32_t n_exemplars;
    uint32_t flags;
} pd_exp_histogram_dp;

typedef struct pd_quantile {
    double quantile;
    double value;
} pd_quantile;

typedef struct pd_summary_dp {
    pd_attrs attrs;
    uint64_t start_time_unix_nano;
    uint64_t time_unix_nano;
    uint64_t count;
    double sum;
    pd_quantile *quantiles;
    uint32_t n_quantiles;
    uint32_t flags;
} pd_summary_dp;

typedef struct pd_metric {
    gb_str name;
    gb_str description;
    gb_str unit;
    pd_metric_type type;
    int32_t temporality; /* pd_temporality; SUM, HISTOGRAM, EXP_HISTOGRAM */
    bool is_monotonic;   /* SUM */
    union {
        pd_number_dp *number; /* GAUGE, SUM */
        pd_histogram_dp *histogram;
        pd_exp_histogram_dp *exp_histogram;
        pd_summary_dp *summary;
    } dp;
    uint32_t n_dp;
    pd_attrs metadata;
} pd_metric;

typedef struct pd_scope_metrics {
    pd_scope scope;
    pd_metric *metrics;
    uint32_t n_metrics;
    gb_str schema_url;
} pd_scope_metrics;

typedef struct pd_resource_metrics {
    pd_resource resource;
    pd_scope_metrics *scope_metrics;
    uint32_t n_scope_metrics;
    gb_str schema_url;
} pd_resource_metrics;

/* ---- logs/v1 ------------------------------------------------------------------------------ */

typedef struct pd_log {
    uint64_t time_unix_nano;
    uint64_t observed_time_unix_nano;
    int32_t severity_number;
    gb_str severity_text;
    pd_any body;
    pd_attrs attrs;
    uint32_t dropped_attributes_count;
    uint32_t flags;
    pd_trace_id trace_id;
    pd_span_id span_id;
    gb_str event_name;
} pd_log;

typedef struct pd_scope_logs {
    pd_scope scope;
    pd_log *logs;
    uint32_t n_logs;
    gb_str schema_url;
} pd_scope_logs;

typedef struct pd_resource_logs {
    pd_resource resource;
    pd_scope_logs *scope_logs;
    uint32_t n_scope_logs;
    gb_str schema_url;
} pd_resource_logs;

/* ---- batch -------------------------------------------------------------------------------- */

typedef enum pd_signal {
    PD_TRACES = 0,
    PD_METRICS = 1,
    PD_LOGS = 2,
} pd_signal;
#define PD_SIGNAL_COUNT 3

const char *pd_signal_name(pd_signal s); /* "traces", "metrics", "logs" */
/* otelcol's item word: "spans", "metric_points", "log_records" */
const char *pd_signal_item(pd_signal s);

/* Client metadata carried with a batch (request headers, lower-cased names), used by the batch
 * processor's metadata_keys and by auth. Stored in the batch arena. */
typedef struct pd_meta_entry {
    gb_str key;
    gb_str value;
} pd_meta_entry;

typedef struct pd_meta {
    pd_meta_entry *v;
    uint32_t n;
} pd_meta;

/* What keeps the views of a batch alive besides its arena. */
typedef struct pd_hold pd_hold;

typedef struct pd_batch {
    atomic_uint refs;
    pd_signal signal;
    bool read_only;
    gb_arena arena;
    pd_hold *holds; /* request buffers and other batches this one points into */
    union {
        struct {
            pd_resource_spans *v;
            uint32_t n;
        } traces;
        struct {
            pd_resource_metrics *v;
            uint32_t n;
        } metrics;
        struct {
            pd_resource_logs *v;
            uint32_t n;
        } logs;
    } u;
    pd_meta meta;
    /* Transport the data came in through ("http", "grpc"), for self-telemetry labels. */
    const char *transport;
} pd_batch;

/* New empty batch, one reference. arena_first_chunk: 0 for the default. */
gb_status pd_batch_new(pd_signal signal, size_t arena_first_chunk, pd_batch **out);
pd_batch *pd_batch_ref(pd_batch *b);
/* Drops one reference; the last one frees the arena and releases every hold. NULL is a no-op. */
void pd_batch_unref(pd_batch *b);
/* Keeps buf alive as long as b (takes a new reference on buf). */
gb_status pd_batch_hold_buf(pd_batch *b, gb_buf *buf);
/* Keeps other alive as long as b (takes a new reference on other). */
gb_status pd_batch_hold_batch(pd_batch *b, pd_batch *other);
/* Deep copy: every view of src is copied into the new batch's arena; the clone holds nothing of
 * src and is writable. */
gb_status pd_batch_clone(const pd_batch *src, pd_batch **out);
/* Number of items: spans, metric data points, or log records. */
uint64_t pd_batch_count(const pd_batch *b);
/* Bytes held by the batch arena (accounting, batch sizing). */
size_t pd_batch_arena_bytes(const pd_batch *b);

/* ---- attribute helpers ---------------------------------------------------------------------- */

/* Linear search (attribute lists are short); NULL when absent. */
pd_kv *pd_attrs_find(const pd_attrs *a, gb_str key);
/* Inserts or replaces key with value; key and value views must outlive the batch (copy them into
 * the arena first when they come from elsewhere). Grows v in the arena. */
gb_status pd_attrs_put(gb_arena *arena, pd_attrs *a, gb_str key, pd_any value);
/* Removes key if present (order of the rest is kept). Returns true if removed. */
bool pd_attrs_delete(pd_attrs *a, gb_str key);
/* Deep-copies an AnyValue into the arena. */
gb_status pd_any_copy(gb_arena *arena, const pd_any *src, pd_any *dst);
/* Deep-copies an attribute list into the arena (cap = n). */
gb_status pd_attrs_copy(gb_arena *arena, const pd_attrs *src, pd_attrs *dst);
bool pd_any_equal(const pd_any *a, const pd_any *b);
/* Longest pd_any_scalar_text number text plus the NUL (a double, see gb_fmt_double). */
#define PD_ANY_TEXT_MAX 352
/* Text of a scalar like pcommon's AsString: strings as is, bools true/false, ints in decimal,
 * doubles like Go's FormatFloat(d, 'f', -1, 64). Numbers are written into buf (PD_ANY_TEXT_MAX
 * bytes). False for lists, maps, bytes and empty values. */
bool pd_any_scalar_text(const pd_any *v, char buf[PD_ANY_TEXT_MAX], gb_str *out);

static inline pd_any pd_any_str(gb_str s)
{
    pd_any v;
    v.type = PD_ANY_STR;
    v.u.str = s;
    return v;
}
static inline pd_any pd_any_int(int64_t i)
{
    pd_any v;
    v.type = PD_ANY_INT;
    v.u.i = i;
    return v;
}
static inline pd_any pd_any_double(double d)
{
    pd_any v;
    v.type = PD_ANY_DOUBLE;
    v.u.d = d;
    return v;
}
static inline pd_any pd_any_bool(bool b)
{
    pd_any v;
    v.type = PD_ANY_BOOL;
    v.u.b = b;
    return v;
}

static inline bool pd_trace_id_is_empty(const pd_trace_id *id)
{
    static const uint8_t z[16];
    return memcmp(id->b, z, 16) == 0;
}
static inline bool pd_span_id_is_empty(const pd_span_id *id)
{
    static const uint8_t z[8];
    return memcmp(id->b, z, 8) == 0;
}

#endif
