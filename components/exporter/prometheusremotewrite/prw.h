/* prometheusremotewrite exporter internals shared with its tests: config, the translation of an
 * OTLP metrics batch into Prometheus series (prw_translate.c) and the Remote Write 1.0
 * WriteRequest encoder with size-bounded splitting and snappy (prw_encode.c). */
#ifndef PRW_PRW_H
#define PRW_PRW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sbuf.h"
#include "base/status.h"
#include "config/config.h"
#include "exporter/promutil/promutil.h"
#include "exporter/httpclient/httpclient.h"
#include "pdata/pdata.h"
#include "pipeline/component.h"
#include "pipeline/exporter_helper.h"

/* ---- config ---------------------------------------------------------------------------------- */

typedef struct prw_rw_queue {
    bool enabled;          /* default true */
    int64_t queue_size;    /* batches, default 10000 */
    int64_t num_consumers; /* default 5; see README (requests of one batch are sent in order) */
} prw_rw_queue;

typedef struct prw_toggle {
    bool enabled;
} prw_toggle;

typedef struct prw_cfg {
    char *endpoint;
    cfg_strmap headers;
    cfg_strmap external_labels;
    char *namespace_;
    prw_toggle resource_to_telemetry;
    bool add_metric_suffixes;
    bool send_metadata;
    prw_toggle target_info;
    prw_toggle created_metric; /* export_created_metric */
    int64_t max_batch_size_bytes;
    int64_t timeout;
    int compression; /* only snappy */
    httpclient_tls tls;
    char *proxy_url;
    int64_t read_buffer_size;
    int64_t write_buffer_size;
    int64_t idle_conn_timeout;
    bool disable_keep_alives;
    prw_rw_queue queue;
    pl_retry_cfg retry;
    const cfg_node *wal;
    const cfg_node *auth;
    const cfg_node *sending_queue; /* refused: this exporter has remote_write_queue */
} prw_cfg;

extern const cfg_table prw_table;
extern const pl_descriptor exporter_prometheusremotewrite_descriptor;

/* Table defaults without the binder (tests). */
void prw_cfg_default(prw_cfg *cfg);

/* ---- series -----------------------------------------------------------------------------------
 */

/* A label as offsets into prw_series_set.strs (the buffer may move while the set grows). */
typedef struct prw_label {
    uint32_t name_off, name_len;
    uint32_t value_off, value_len;
} prw_label;

/* One series with one sample; labels are sorted by name, __name__ included. */
typedef struct prw_series {
    uint32_t first_label, n_labels; /* into prw_series_set.labels */
    double value;
    int64_t ts_ms;
} prw_series;

/* prompb.MetricMetadata.MetricType */
enum {
    PRW_MT_UNKNOWN = 0,
    PRW_MT_COUNTER = 1,
    PRW_MT_GAUGE = 2,
    PRW_MT_HISTOGRAM = 3,
    PRW_MT_SUMMARY = 5,
};

typedef struct prw_metadata {
    int type;
    uint32_t name_off, name_len; /* metric family name */
    uint32_t help_off, help_len;
    uint32_t unit_off, unit_len;
} prw_metadata;

/* Output of the translation, reused from batch to batch (arrays only grow). */
typedef struct prw_series_set {
    gb_sbuf strs;
    prw_label *labels;
    uint32_t n_labels, cap_labels;
    prw_series *series;
    uint32_t n_series, cap_series;
    prw_metadata *meta;
    uint32_t n_meta, cap_meta;
    /* label builder of promutil (reused), and a scratch attribute list for target_info */
    promutil_labels ls;
    pd_kv *kv;
    uint32_t cap_kv;
    /* counters of the last translation */
    uint64_t dropped_points; /* points that could not be translated (delta, exponential, ...) */
    char first_error[200];   /* the first reason, for the log */
} prw_series_set;

typedef struct prw_translate_opts {
    const char *namespace_;
    bool add_metric_suffixes;
    bool resource_to_telemetry;
    bool target_info;
    bool created_metric;
    bool send_metadata;
    const promutil_label *external_labels; /* names already valid (promutil_label_name) */
    uint32_t n_external_labels;
} prw_translate_opts;

void prw_series_set_init(prw_series_set *s);
void prw_series_set_reset(prw_series_set *s);
void prw_series_set_free(prw_series_set *s);
/* Translates every metric of b (a metrics batch) into s (after a reset). Points that cannot be
 * sent are counted in s->dropped_points with the first reason in s->first_error; the rest is
 * translated. Returns GB_ERR_NOMEM when memory ran out. */
gb_status prw_translate(const pd_batch *b, const prw_translate_opts *o, prw_series_set *s);

static inline gb_str prw_str(const prw_series_set *s, uint32_t off, uint32_t len)
{
    return gb_str_n(s->strs.data + off, len);
}

/* ---- encoding ---------------------------------------------------------------------------------
 */

/* Encoded size of series i as a WriteRequest.timeseries field (tag and length included). */
size_t prw_series_wire_size(const prw_series_set *s, uint32_t i);
size_t prw_metadata_wire_size(const prw_series_set *s, uint32_t i);

/* A WriteRequest is the series [first_series, end_series) and metadata [first_meta, end_meta). */
typedef struct prw_chunk {
    uint32_t first_series, end_series;
    uint32_t first_meta, end_meta;
} prw_chunk;

/* Splits s into requests of at most max_bytes of uncompressed protobuf each (a single entry
 * larger than that travels alone), series first, then metadata. *chunks is realloc'ed
 * (capacity *cap). Returns the number of chunks in *n. */
gb_status prw_split(const prw_series_set *s, size_t max_bytes, prw_chunk **chunks, uint32_t *n,
                    uint32_t *cap);
/* Appends the protobuf WriteRequest of one chunk to out. */
gb_status prw_encode(const prw_series_set *s, const prw_chunk *c, gb_sbuf *out);
/* Snappy block format (what remote write uses, not the framed format): compresses in[0..n) into
 * *out (realloc'ed, capacity *cap); *out_len is the compressed size. */
gb_status prw_snappy(const void *in, size_t n, char **out, size_t *cap, size_t *out_len);

#endif
