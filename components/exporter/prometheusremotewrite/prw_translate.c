/* OTLP metrics -> Prometheus series for remote write, as otelcol-contrib's prometheusremotewrite
 * translator (pkg/translator/prometheusremotewrite) does it:
 *   - gauges and cumulative sums: one series per point (monotonic sums get "_total" through the
 *     shared name translation of promutil);
 *   - cumulative histograms: <name>_bucket{le} with cumulative counts ending at le="+Inf" (=
 * count), <name>_sum (when the point has a sum) and <name>_count;
 *   - summaries: <name>{quantile}, <name>_sum, <name>_count;
 *   - sums and histograms that are not cumulative (delta, unspecified), exponential histograms
 *     (native histograms are not sent by this build) and points of unknown type are dropped,
 *     counted in dropped_points, and the first reason kept for the log;
 *   - labels (built by promutil_point_labels, shared with the prometheus exporter): point
 *     attributes (and resource attributes with resource_to_telemetry_conversion), names made
 *     valid, values of colliding names joined with ';'; job and instance from
 *     service.namespace/service.name and service.instance.id, external labels where no label of
 *     that name exists; then __name__ (plus le / quantile); empty values are left out; sorted;
 *   - target_info (namespace-prefixed) per resource that has attributes other than the three
 *     identifying ones and a job or instance: those attributes plus job / instance / external
 *     labels, value 1, at the newest timestamp of the resource's points;
 *   - export_created_metric: <name>_created (value = start time in ms) for monotonic sums
 *     (without "_total"), histograms and summaries whose start time is set;
 *   - NoRecordedValue points carry the Prometheus stale marker NaN.
 *
 * How: everything goes into one reusable prw_series_set: strings into one growing buffer
 * referenced by offsets, labels and series into arrays that only grow, so translating a batch
 * allocates nothing of its own once the buffers reached their working size. le and quantile
 * values are written like Go's strconv.FormatFloat(v, 'f', -1, 64), as otelcol does.
 *
 * Rejected: merging samples of identical label sets into one TimeSeries (otelcol keys a map by
 * label signature): a batch rarely repeats a series, and Prometheus accepts the same series
 * several times in one request as long as timestamps do not go backwards. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/numfmt.h"
#include "exporter/promutil/promutil.h"
#include "otlp/wire.h"
#include "prw.h"

#define PRW_STALE_NAN          0x7ff0000000000002ull
#define FLAG_NO_RECORDED_VALUE 1u

void prw_series_set_init(prw_series_set *s)
{
    memset(s, 0, sizeof *s);
    gb_sbuf_init(&s->strs, (size_t)UINT32_MAX);
    promutil_labels_init(&s->ls);
}

void prw_series_set_reset(prw_series_set *s)
{
    gb_sbuf_reset(&s->strs);
    s->n_labels = s->n_series = s->n_meta = 0;
    s->dropped_points = 0;
    s->first_error[0] = '\0';
}

void prw_series_set_free(prw_series_set *s)
{
    gb_sbuf_free(&s->strs);
    promutil_labels_free(&s->ls);
    free(s->kv);
    free(s->labels);
    free(s->series);
    free(s->meta);
    memset(s, 0, sizeof *s);
}

static gb_status grow(void **arr, uint32_t n, uint32_t *cap, size_t elem)
{
    if (n < *cap) return GB_OK;
    uint32_t nc = *cap ? *cap * 2 : 64;
    if (nc <= n) return GB_ERR_NOMEM;
    void *p = realloc(*arr, (size_t)nc * elem);
    if (!p) return GB_ERR_NOMEM;
    *arr = p;
    *cap = nc;
    return GB_OK;
}

/* Appends bytes to the string buffer; *off is where they start. */
static gb_status put_str(prw_series_set *s, const char *p, size_t n, uint32_t *off)
{
    *off = (uint32_t)s->strs.len;
    if (n) gb_sbuf_append(&s->strs, p, n);
    return s->strs.err;
}

static void drop(prw_series_set *s, uint64_t points, const pd_metric *m, const char *why)
{
    s->dropped_points += points;
    if (!s->first_error[0])
        snprintf(s->first_error, sizeof s->first_error, "%s for metric \"%.*s\"", why,
                 GB_STR_FMT(m->name));
}

/* ---- labels --------------------------------------------------------------------------------- */

static bool is_identifying(gb_str key)
{
    return gb_str_eq_c(key, "service.name") || gb_str_eq_c(key, "service.namespace") ||
           gb_str_eq_c(key, "service.instance.id");
}

/* Base labels of a point (promutil_point_labels): attributes, resource attributes when converted,
 * job, instance, external labels. Not finished: emit adds __name__ and le / quantile. */
static gb_status base_labels(prw_series_set *s, const prw_translate_opts *o, const pd_resource *res,
                             const pd_attrs *attrs)
{
    promutil_label_opts lo = {.resource_to_telemetry = o->resource_to_telemetry,
                              .job_instance = true,
                              .const_labels = o->external_labels,
                              .n_const_labels = o->n_external_labels};
    return promutil_point_labels(&s->ls, res, NULL, attrs, &lo);
}

/* Emits one series: the current labels plus __name__ and an optional extra label (both replace
 * what is there), sorted, copied into the set. */
static gb_status emit(prw_series_set *s, uint32_t name_off, uint32_t name_len, const char *extra,
                      const char *extra_value, double value, int64_t ts_ms)
{
    gb_status st = promutil_labels_put(&s->ls, GB_STR_LIT("__name__"),
                                       prw_str(s, name_off, name_len), PROMUTIL_REPLACE);
    if (st == GB_OK && extra)
        st = promutil_labels_put(&s->ls, gb_str_c(extra), gb_str_c(extra_value), PROMUTIL_REPLACE);
    if (st == GB_OK) st = promutil_labels_finish(&s->ls);
    if (st == GB_OK) st = grow((void **)&s->series, s->n_series, &s->cap_series, sizeof *s->series);
    while (st == GB_OK && s->n_labels + s->ls.n > s->cap_labels)
        st = grow((void **)&s->labels, s->cap_labels, &s->cap_labels, sizeof *s->labels);
    if (st != GB_OK) return st;
    for (uint32_t i = 0; i < s->ls.n; i++) {
        prw_label *l = &s->labels[s->n_labels + i];
        const char *n = s->ls.v[i].name, *v = s->ls.v[i].value;
        l->name_len = (uint32_t)strlen(n);
        l->value_len = (uint32_t)strlen(v);
        if ((st = put_str(s, n, l->name_len, &l->name_off)) != GB_OK) return st;
        if ((st = put_str(s, v, l->value_len, &l->value_off)) != GB_OK) return st;
    }
    s->series[s->n_series++] = (prw_series){s->n_labels, s->ls.n, value, ts_ms};
    s->n_labels += s->ls.n;
    return GB_OK;
}

static double point_value(const pd_number_dp *dp)
{
    if (dp->flags & FLAG_NO_RECORDED_VALUE) return pw_u2d(PRW_STALE_NAN);
    if (dp->value_type == PD_NUM_INT) return (double)dp->value.i;
    if (dp->value_type == PD_NUM_DOUBLE) return dp->value.d;
    return 0;
}

static int64_t to_ms(uint64_t ns)
{
    return (int64_t)(ns / 1000000u);
}

typedef struct res_ctx {
    const pd_resource_metrics *rm;
    int64_t newest_ms;
    bool any_point;
} res_ctx;

static void note_ts(res_ctx *r, int64_t ms)
{
    if (!r->any_point || ms > r->newest_ms) r->newest_ms = ms;
    r->any_point = true;
}

/* Puts "<base><suffix>" in strs. */
static gb_status name_with(prw_series_set *s, const char *base, const char *suffix, uint32_t *off,
                           uint32_t *len)
{
    *off = (uint32_t)s->strs.len;
    gb_sbuf_puts(&s->strs, base);
    gb_sbuf_puts(&s->strs, suffix);
    *len = (uint32_t)(s->strs.len - *off);
    return s->strs.err;
}

static gb_status add_metadata(prw_series_set *s, const pd_metric *m, int type, uint32_t name_off,
                              uint32_t name_len)
{
    gb_status st = grow((void **)&s->meta, s->n_meta, &s->cap_meta, sizeof *s->meta);
    if (st != GB_OK) return st;
    prw_metadata md = {.type = type, .name_off = name_off, .name_len = name_len};
    if ((st = put_str(s, m->description.ptr, m->description.len, &md.help_off)) != GB_OK) return st;
    md.help_len = m->description.len;
    if ((st = put_str(s, m->unit.ptr, m->unit.len, &md.unit_off)) != GB_OK) return st;
    md.unit_len = m->unit.len;
    s->meta[s->n_meta++] = md;
    return GB_OK;
}

static gb_status created(prw_series_set *s, const prw_translate_opts *o, const char *base,
                         uint64_t start_ns, int64_t ts_ms)
{
    if (!o->created_metric || start_ns == 0) return GB_OK;
    char stem[1024];
    snprintf(stem, sizeof stem, "%s", base);
    size_t n = strlen(stem);
    if (n > 6 && strcmp(stem + n - 6, "_total") == 0) stem[n - 6] = '\0';
    uint32_t off, len;
    gb_status st = name_with(s, stem, "_created", &off, &len);
    if (st == GB_OK) st = emit(s, off, len, NULL, NULL, (double)to_ms(start_ns), ts_ms);
    return st;
}

static gb_status metric(prw_series_set *s, const prw_translate_opts *o, res_ctx *r,
                        const pd_metric *m)
{
    gb_status st = GB_OK;
    char base[1024];
    uint32_t boff, blen;
    switch (m->type) {
    case PD_METRIC_GAUGE:
    case PD_METRIC_SUM:
    case PD_METRIC_HISTOGRAM:
    case PD_METRIC_SUMMARY:
        break;
    case PD_METRIC_EXP_HISTOGRAM:
        drop(s, m->n_dp, m, "exponential histograms (native histograms) are not supported");
        return GB_OK;
    default:
        drop(s, m->n_dp, m, "unsupported metric type");
        return GB_OK;
    }
    if ((m->type == PD_METRIC_SUM || m->type == PD_METRIC_HISTOGRAM) &&
        m->temporality != PD_TEMPORALITY_CUMULATIVE) {
        drop(s, m->n_dp, m, "invalid temporality and type combination");
        return GB_OK;
    }
    st = promutil_metric_name(m, o->namespace_, o->add_metric_suffixes, base, sizeof base);
    if (st == GB_ERR_INVALID) {
        drop(s, m->n_dp, m, "metric name is empty after translation");
        return GB_OK;
    }
    if (st != GB_OK) return st;
    if ((st = put_str(s, base, strlen(base), &boff)) != GB_OK) return st;
    blen = (uint32_t)strlen(base);
    if (o->send_metadata) {
        int type = m->type == PD_METRIC_GAUGE ? PRW_MT_GAUGE
                   : m->type == PD_METRIC_SUM ? (m->is_monotonic ? PRW_MT_COUNTER : PRW_MT_GAUGE)
                   : m->type == PD_METRIC_HISTOGRAM ? PRW_MT_HISTOGRAM
                                                    : PRW_MT_SUMMARY;
        if ((st = add_metadata(s, m, type, boff, blen)) != GB_OK) return st;
    }
    if (m->type == PD_METRIC_GAUGE || m->type == PD_METRIC_SUM) {
        for (uint32_t i = 0; i < m->n_dp && st == GB_OK; i++) {
            const pd_number_dp *dp = &m->dp.number[i];
            int64_t ts = to_ms(dp->time_unix_nano);
            note_ts(r, ts);
            if ((st = base_labels(s, o, &r->rm->resource, &dp->attrs)) != GB_OK) break;
            st = emit(s, boff, blen, NULL, NULL, point_value(dp), ts);
            if (st == GB_OK && m->type == PD_METRIC_SUM && m->is_monotonic)
                st = created(s, o, base, dp->start_time_unix_nano, ts);
        }
        return st;
    }
    uint32_t sum_off, sum_len, cnt_off, cnt_len, bkt_off, bkt_len;
    if ((st = name_with(s, base, "_sum", &sum_off, &sum_len)) != GB_OK) return st;
    if ((st = name_with(s, base, "_count", &cnt_off, &cnt_len)) != GB_OK) return st;
    if ((st = name_with(s, base, "_bucket", &bkt_off, &bkt_len)) != GB_OK) return st;
    char num[GB_FMT_DOUBLE_MAX];
    if (m->type == PD_METRIC_HISTOGRAM) {
        for (uint32_t i = 0; i < m->n_dp && st == GB_OK; i++) {
            const pd_histogram_dp *dp = &m->dp.histogram[i];
            int64_t ts = to_ms(dp->time_unix_nano);
            bool stale = dp->flags & FLAG_NO_RECORDED_VALUE;
            note_ts(r, ts);
            if ((st = base_labels(s, o, &r->rm->resource, &dp->attrs)) != GB_OK) break;
            if (dp->has_sum)
                st = emit(s, sum_off, sum_len, NULL, NULL, stale ? pw_u2d(PRW_STALE_NAN) : dp->sum,
                          ts);
            if (st == GB_OK)
                st = emit(s, cnt_off, cnt_len, NULL, NULL,
                          stale ? pw_u2d(PRW_STALE_NAN) : (double)dp->count, ts);
            uint64_t cum = 0;
            /* like otelcol: bounds without a bucket count are not sent */
            for (uint32_t b = 0;
                 b < dp->n_explicit_bounds && b < dp->n_bucket_counts && st == GB_OK; b++) {
                cum += dp->bucket_counts[b];
                gb_fmt_double(dp->explicit_bounds[b], num, sizeof num);
                st = emit(s, bkt_off, bkt_len, "le", num,
                          stale ? pw_u2d(PRW_STALE_NAN) : (double)cum, ts);
            }
            if (st == GB_OK)
                st = emit(s, bkt_off, bkt_len, "le", "+Inf",
                          stale ? pw_u2d(PRW_STALE_NAN) : (double)dp->count, ts);
            if (st == GB_OK) st = created(s, o, base, dp->start_time_unix_nano, ts);
        }
        return st;
    }
    for (uint32_t i = 0; i < m->n_dp && st == GB_OK; i++) {
        const pd_summary_dp *dp = &m->dp.summary[i];
        int64_t ts = to_ms(dp->time_unix_nano);
        bool stale = dp->flags & FLAG_NO_RECORDED_VALUE;
        note_ts(r, ts);
        if ((st = base_labels(s, o, &r->rm->resource, &dp->attrs)) != GB_OK) break;
        st = emit(s, sum_off, sum_len, NULL, NULL, stale ? pw_u2d(PRW_STALE_NAN) : dp->sum, ts);
        if (st == GB_OK)
            st = emit(s, cnt_off, cnt_len, NULL, NULL,
                      stale ? pw_u2d(PRW_STALE_NAN) : (double)dp->count, ts);
        for (uint32_t q = 0; q < dp->n_quantiles && st == GB_OK; q++) {
            gb_fmt_double(dp->quantiles[q].quantile, num, sizeof num);
            st = emit(s, boff, blen, "quantile", num,
                      stale ? pw_u2d(PRW_STALE_NAN) : dp->quantiles[q].value, ts);
        }
        if (st == GB_OK) st = created(s, o, base, dp->start_time_unix_nano, ts);
    }
    return st;
}

static gb_status target_info(prw_series_set *s, const prw_translate_opts *o, const res_ctx *r)
{
    const pd_attrs *ra = &r->rm->resource.attrs;
    gb_status st = grow((void **)&s->kv, ra->n, &s->cap_kv, sizeof *s->kv);
    while (st == GB_OK && ra->n >= s->cap_kv)
        st = grow((void **)&s->kv, s->cap_kv, &s->cap_kv, sizeof *s->kv);
    if (st != GB_OK) return st;
    pd_attrs other = {s->kv, 0, 0};
    for (uint32_t i = 0; i < ra->n; i++)
        if (!is_identifying(ra->v[i].key)) s->kv[other.n++] = ra->v[i];
    if (!other.n || !r->any_point || r->newest_ms == 0) return GB_OK;
    /* the resource attributes are the labels here, whatever resource_to_telemetry says */
    prw_translate_opts to = *o;
    to.resource_to_telemetry = false;
    if ((st = base_labels(s, &to, &r->rm->resource, &other)) != GB_OK) return st;
    /* otelcol: target_info needs job or instance to be joined with anything */
    gb_str v;
    if (!promutil_labels_get(&s->ls, GB_STR_LIT("job"), &v) &&
        !promutil_labels_get(&s->ls, GB_STR_LIT("instance"), &v))
        return GB_OK;
    uint32_t off, len;
    const char *ns = o->namespace_ && *o->namespace_ ? o->namespace_ : NULL;
    st = name_with(s, ns ? ns : "", ns ? "_target_info" : "target_info", &off, &len);
    if (st == GB_OK) st = emit(s, off, len, NULL, NULL, 1.0, r->newest_ms);
    return st;
}

gb_status prw_translate(const pd_batch *b, const prw_translate_opts *o, prw_series_set *s)
{
    gb_status st = GB_OK;
    prw_series_set_reset(s);
    if (b->signal != PD_METRICS) return GB_ERR_INVALID;
    for (uint32_t ri = 0; ri < b->u.metrics.n && st == GB_OK; ri++) {
        const pd_resource_metrics *rm = &b->u.metrics.v[ri];
        res_ctx r = {.rm = rm};
        for (uint32_t si = 0; si < rm->n_scope_metrics && st == GB_OK; si++) {
            const pd_scope_metrics *sm = &rm->scope_metrics[si];
            for (uint32_t mi = 0; mi < sm->n_metrics && st == GB_OK; mi++)
                st = metric(s, o, &r, &sm->metrics[mi]);
        }
        if (st == GB_OK && o->target_info) st = target_info(s, o, &r);
    }
    return st;
}
