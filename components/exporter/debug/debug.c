/* debug exporter (alias `logging`): writes what it receives to stderr like otelcol's debug
 * exporter. basic: one summary line per batch (`Traces	{... "resource spans": 1, "spans": 2}`);
 * normal: the summary plus one line per span / data point / log record; detailed: the summary
 * plus the full dump (ResourceSpans #0, `-> key: Str(value)`, ...). The old `logging` exporter's
 * `loglevel` is mapped (debug -> detailed, info -> normal, warn/error -> basic).
 *
 * How: the whole output of a batch is formatted into one buffer owned by the exporter and written
 * with a single write(2) while holding the exporter's mutex, so batches from several pipelines
 * never interleave and nothing is allocated per line (the buffer only grows to the largest batch
 * seen). Sampling follows zap's sampler with otelcol's defaults: per signal and per second the
 * first `sampling_initial` batches are written, then every `sampling_thereafter`-th.
 *
 * The helper is used without queue and without retries (otelcol's debug exporter exposes
 * neither), which gives the standard sent/failed self-metrics for free.
 *
 * Rejected: going through gb_log (rate limited to a few lines per second and per call site,
 * which would silently eat the dump). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sbuf.h"
#include "base/timeutil.h"
#include "debug.h"
#include "governance/gov.h"

/* ---- config ------------------------------------------------------------------------------------
 */

static const char *const verbosity_names[] = {"basic", "normal", "detailed", NULL};

static void debug_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    debug_cfg *c = obj;
    if (!c->loglevel) return;
    const cfg_pair *p = node ? cfg_node_get_pair(node, "loglevel") : NULL;
    cfg_mark m = p ? p->key_mark : (node ? node->mark : (cfg_mark){0});
    if (c->verbosity_set) {
        cfg_diag_add(d, CFG_ERROR, m, path,
                     "loglevel and verbosity are incompatible; use only verbosity");
        return;
    }
    if (strcmp(c->loglevel, "debug") == 0)
        c->verbosity = DEBUG_DETAILED;
    else if (strcmp(c->loglevel, "info") == 0)
        c->verbosity = DEBUG_NORMAL;
    else if (strcmp(c->loglevel, "warn") == 0 || strcmp(c->loglevel, "error") == 0)
        c->verbosity = DEBUG_BASIC;
    else
        cfg_diag_add(d, CFG_ERROR, m, path,
                     "loglevel: unknown level \"%s\" (debug, info, warn or error)", c->loglevel);
}

static const cfg_field debug_fields[] = {
    {"verbosity", CFG_T_ENUM, offsetof(debug_cfg, verbosity), "basic", "basic, normal or detailed",
     .flags = CFG_F_TRACK_SET, .enum_names = verbosity_names,
     .set_offset = offsetof(debug_cfg, verbosity_set)},
    {"sampling_initial", CFG_T_INT, offsetof(debug_cfg, sampling_initial), "2",
     "batches written per second before sampling starts", .min = 0, .max = 1e9},
    {"sampling_thereafter", CFG_T_INT, offsetof(debug_cfg, sampling_thereafter), "1",
     "then one batch in this many per second", .min = 1, .max = 1e9},
    {"use_internal_logger", CFG_T_BOOL, offsetof(debug_cfg, use_internal_logger), "true",
     "accepted; output always goes to stderr", .flags = 0},
    {"loglevel", CFG_T_STRING, offsetof(debug_cfg, loglevel), NULL,
     "logging exporter: debug -> detailed, info -> normal", .flags = CFG_F_DEPRECATED,
     .replacement = "verbosity"},
};
CFG_TABLE(debug_table, debug_fields, debug_validate);

void debug_cfg_default(debug_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->verbosity = DEBUG_BASIC;
    cfg->sampling_initial = 2;
    cfg->sampling_thereafter = 1;
    cfg->use_internal_logger = true;
}

/* ---- formatting helpers ------------------------------------------------------------------------
 */

static void put_hex(gb_sbuf *o, const uint8_t *b, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    bool zero = true;
    for (size_t i = 0; i < n; i++)
        if (b[i]) zero = false;
    if (zero) return;
    char tmp[32];
    for (size_t i = 0; i < n && i < 16; i++) {
        tmp[2 * i] = hx[b[i] >> 4];
        tmp[2 * i + 1] = hx[b[i] & 15];
    }
    gb_sbuf_append(o, tmp, 2 * (n < 16 ? n : 16));
}

/* Go's time.Time.String() in UTC: "2023-11-14 22:13:20.5 +0000 UTC". */
static void put_time(gb_sbuf *o, uint64_t ns)
{
    time_t s = (time_t)(ns / 1000000000ULL);
    unsigned frac = (unsigned)(ns % 1000000000ULL);
    struct tm tm;
    gmtime_r(&s, &tm);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    gb_sbuf_append(o, buf, n);
    if (frac) {
        char f[16];
        snprintf(f, sizeof f, ".%09u", frac);
        size_t l = strlen(f);
        while (l > 1 && f[l - 1] == '0')
            l--;
        gb_sbuf_append(o, f, l);
    }
    gb_sbuf_puts(o, " +0000 UTC");
}

/* Shortest decimal that reads back as d (Go's FormatFloat(d, 'g'-ish, -1)). */
static void put_double(gb_sbuf *o, double d)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, d);
        if (strtod(buf, NULL) == d) break;
    }
    gb_sbuf_puts(o, buf);
}

static void put_base64(gb_sbuf *o, gb_str s)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *p = (const uint8_t *)s.ptr;
    char q[4];
    for (uint32_t i = 0; i < s.len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < s.len) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < s.len) v |= p[i + 2];
        q[0] = t[(v >> 18) & 63];
        q[1] = t[(v >> 12) & 63];
        q[2] = i + 1 < s.len ? t[(v >> 6) & 63] : '=';
        q[3] = i + 2 < s.len ? t[v & 63] : '=';
        gb_sbuf_append(o, q, 4);
    }
}

/* pcommon Value.AsString(): strings raw, maps and slices as JSON. */
static void put_any_raw(gb_sbuf *o, const pd_any *v, bool json, int depth);

static void put_json_str(gb_sbuf *o, gb_str s)
{
    gb_sbuf_putc(o, '"');
    gb_sbuf_json_escape(o, s.ptr, s.len);
    gb_sbuf_putc(o, '"');
}

static void put_any_raw(gb_sbuf *o, const pd_any *v, bool json, int depth)
{
    if (depth > 32) {
        gb_sbuf_puts(o, "...");
        return;
    }
    switch (v->type) {
    case PD_ANY_EMPTY:
        if (json) gb_sbuf_puts(o, "null");
        break;
    case PD_ANY_STR:
        if (json)
            put_json_str(o, v->u.str);
        else
            gb_sbuf_put_str(o, v->u.str);
        break;
    case PD_ANY_BOOL:
        gb_sbuf_puts(o, v->u.b ? "true" : "false");
        break;
    case PD_ANY_INT:
        gb_sbuf_printf(o, "%lld", (long long)v->u.i);
        break;
    case PD_ANY_DOUBLE:
        put_double(o, v->u.d);
        break;
    case PD_ANY_BYTES:
        if (json) gb_sbuf_putc(o, '"');
        put_base64(o, v->u.str);
        if (json) gb_sbuf_putc(o, '"');
        break;
    case PD_ANY_ARRAY:
        gb_sbuf_putc(o, '[');
        for (uint32_t i = 0; i < v->u.arr.n; i++) {
            if (i) gb_sbuf_putc(o, ',');
            put_any_raw(o, &v->u.arr.v[i], true, depth + 1);
        }
        gb_sbuf_putc(o, ']');
        break;
    case PD_ANY_KVLIST:
        gb_sbuf_putc(o, '{');
        for (uint32_t i = 0; i < v->u.kvl.n; i++) {
            if (i) gb_sbuf_putc(o, ',');
            put_json_str(o, v->u.kvl.v[i].key);
            gb_sbuf_putc(o, ':');
            put_any_raw(o, &v->u.kvl.v[i].value, true, depth + 1);
        }
        gb_sbuf_putc(o, '}');
        break;
    }
}

static const char *any_type_name(pd_any_type t)
{
    switch (t) {
    case PD_ANY_EMPTY:
        return "Empty";
    case PD_ANY_STR:
        return "Str";
    case PD_ANY_BOOL:
        return "Bool";
    case PD_ANY_INT:
        return "Int";
    case PD_ANY_DOUBLE:
        return "Double";
    case PD_ANY_ARRAY:
        return "Slice";
    case PD_ANY_KVLIST:
        return "Map";
    case PD_ANY_BYTES:
        return "Bytes";
    }
    return "Empty";
}

/* "Str(value)" */
static void put_any_typed(gb_sbuf *o, const pd_any *v)
{
    gb_sbuf_puts(o, any_type_name(v->type));
    gb_sbuf_putc(o, '(');
    put_any_raw(o, v, false, 0);
    gb_sbuf_putc(o, ')');
}

/* "     -> key: Str(value)" lines, indented by `indent` extra spaces. */
static void put_attrs_detailed(gb_sbuf *o, const char *title, const pd_attrs *a, int indent)
{
    if (a->n == 0) return;
    if (title) gb_sbuf_printf(o, "%s:\n", title);
    for (uint32_t i = 0; i < a->n; i++) {
        gb_sbuf_printf(o, "%*s     -> ", indent, "");
        gb_sbuf_put_str(o, a->v[i].key);
        gb_sbuf_puts(o, ": ");
        put_any_typed(o, &a->v[i].value);
        gb_sbuf_putc(o, '\n');
    }
}

/* " key=value key2=value2" (normal verbosity) */
static void put_attrs_flat(gb_sbuf *o, const pd_attrs *a)
{
    for (uint32_t i = 0; i < a->n; i++) {
        gb_sbuf_putc(o, ' ');
        gb_sbuf_put_str(o, a->v[i].key);
        gb_sbuf_putc(o, '=');
        put_any_raw(o, &a->v[i].value, false, 0);
    }
}

static void put_scope_line(gb_sbuf *o, const pd_scope *s)
{
    gb_sbuf_put_str(o, s->name);
    if (s->version.len) {
        gb_sbuf_putc(o, '@');
        gb_sbuf_put_str(o, s->version);
    }
}

/* Resource and scope headers: one line at normal verbosity ("<normal> #i" and the attributes),
 * otelcol's block at detailed ("<detailed> #i", schema URL, attributes). */
static void put_resource_head(gb_sbuf *o, int verbosity, const char *normal, const char *detailed,
                              uint32_t i, gb_str schema, const pd_resource *r)
{
    if (verbosity == DEBUG_NORMAL) {
        gb_sbuf_printf(o, "%s #%u", normal, i);
        put_attrs_flat(o, &r->attrs);
        gb_sbuf_putc(o, '\n');
        return;
    }
    gb_sbuf_printf(o, "%s #%u\nResource SchemaURL: ", detailed, i);
    gb_sbuf_put_str(o, schema);
    gb_sbuf_putc(o, '\n');
    put_attrs_detailed(o, "Resource attributes", &r->attrs, 0);
}

static void put_scope_head(gb_sbuf *o, int verbosity, const char *normal, const char *detailed,
                           uint32_t j, gb_str schema, const pd_scope *s)
{
    if (verbosity == DEBUG_NORMAL) {
        gb_sbuf_printf(o, "%s #%u ", normal, j);
        put_scope_line(o, s);
        put_attrs_flat(o, &s->attrs);
        gb_sbuf_putc(o, '\n');
        return;
    }
    gb_sbuf_printf(o, "%s #%u\n%s SchemaURL: ", detailed, j, detailed);
    gb_sbuf_put_str(o, schema);
    gb_sbuf_puts(o, "\nInstrumentationScope ");
    gb_sbuf_put_str(o, s->name);
    gb_sbuf_putc(o, ' ');
    gb_sbuf_put_str(o, s->version);
    gb_sbuf_putc(o, '\n');
    put_attrs_detailed(o, "InstrumentationScope attributes", &s->attrs, 0);
}

static const char *span_kind_name(int32_t k)
{
    static const char *n[] = {"Unspecified", "Internal", "Server",
                              "Client",      "Producer", "Consumer"};
    return k >= 0 && k <= 5 ? n[k] : "Unspecified";
}

static const char *status_code_name(int32_t c)
{
    return c == PD_STATUS_OK ? "Ok" : c == PD_STATUS_ERROR ? "Error" : "Unset";
}

static const char *severity_name(int32_t n)
{
    static const char *base[] = {"Trace", "Debug", "Info", "Warn", "Error", "Fatal"};
    static char buf[6][4][8];
    static atomic_bool init;
    if (n <= 0 || n > 24) return "Unspecified";
    if (!atomic_load(&init)) {
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 4; j++)
                if (j == 0)
                    snprintf(buf[i][j], sizeof buf[i][j], "%s", base[i]);
                else
                    snprintf(buf[i][j], sizeof buf[i][j], "%s%d", base[i], j + 1);
        atomic_store(&init, true);
    }
    return buf[(n - 1) / 4][(n - 1) % 4];
}

static const char *metric_type_name(pd_metric_type t)
{
    switch (t) {
    case PD_METRIC_GAUGE:
        return "Gauge";
    case PD_METRIC_SUM:
        return "Sum";
    case PD_METRIC_HISTOGRAM:
        return "Histogram";
    case PD_METRIC_EXP_HISTOGRAM:
        return "ExponentialHistogram";
    case PD_METRIC_SUMMARY:
        return "Summary";
    case PD_METRIC_EMPTY:
        break;
    }
    return "Empty";
}

static const char *temporality_name(int32_t t)
{
    return t == PD_TEMPORALITY_DELTA        ? "Delta"
           : t == PD_TEMPORALITY_CUMULATIVE ? "Cumulative"
                                            : "Unspecified";
}

/* ---- traces ------------------------------------------------------------------------------------
 */

static void dump_traces(gb_sbuf *o, const pd_batch *b, int verbosity)
{
    for (uint32_t i = 0; i < b->u.traces.n; i++) {
        const pd_resource_spans *rs = &b->u.traces.v[i];
        put_resource_head(o, verbosity, "ResourceTraces", "ResourceSpans", i, rs->schema_url,
                          &rs->resource);
        for (uint32_t j = 0; j < rs->n_scope_spans; j++) {
            const pd_scope_spans *ss = &rs->scope_spans[j];
            put_scope_head(o, verbosity, "ScopeTraces", "ScopeSpans", j, ss->schema_url,
                           &ss->scope);
            for (uint32_t k = 0; k < ss->n_spans; k++) {
                const pd_span *s = &ss->spans[k];
                if (verbosity == DEBUG_NORMAL) {
                    gb_sbuf_put_str(o, s->name);
                    gb_sbuf_putc(o, ' ');
                    put_hex(o, s->trace_id.b, 16);
                    gb_sbuf_putc(o, ' ');
                    put_hex(o, s->span_id.b, 8);
                    put_attrs_flat(o, &s->attrs);
                    gb_sbuf_putc(o, '\n');
                    continue;
                }
                gb_sbuf_printf(o, "Span #%u\n    Trace ID       : ", k);
                put_hex(o, s->trace_id.b, 16);
                gb_sbuf_puts(o, "\n    Parent ID      : ");
                put_hex(o, s->parent_span_id.b, 8);
                gb_sbuf_puts(o, "\n    ID             : ");
                put_hex(o, s->span_id.b, 8);
                gb_sbuf_puts(o, "\n    Name           : ");
                gb_sbuf_put_str(o, s->name);
                gb_sbuf_printf(
                    o, "\n    Kind           : %s\n    Start time     : ", span_kind_name(s->kind));
                put_time(o, s->start_time_unix_nano);
                gb_sbuf_puts(o, "\n    End time       : ");
                put_time(o, s->end_time_unix_nano);
                gb_sbuf_printf(o, "\n    Status code    : %s\n    Status message : ",
                               status_code_name(s->status.code));
                gb_sbuf_put_str(o, s->status.message);
                gb_sbuf_putc(o, '\n');
                put_attrs_detailed(o, "Attributes", &s->attrs, 0);
                if (s->n_events) gb_sbuf_puts(o, "Events:\n");
                for (uint32_t e = 0; e < s->n_events; e++) {
                    const pd_event *ev = &s->events[e];
                    gb_sbuf_printf(o, "SpanEvent #%u\n     -> Name: ", e);
                    gb_sbuf_put_str(o, ev->name);
                    gb_sbuf_puts(o, "\n     -> Timestamp: ");
                    put_time(o, ev->time_unix_nano);
                    gb_sbuf_printf(o, "\n     -> DroppedAttributesCount: %u\n",
                                   ev->dropped_attributes_count);
                    put_attrs_detailed(o, "     -> Attributes:", &ev->attrs, 5);
                }
                if (s->n_links) gb_sbuf_puts(o, "Links:\n");
                for (uint32_t l = 0; l < s->n_links; l++) {
                    const pd_link *ln = &s->links[l];
                    gb_sbuf_printf(o, "SpanLink #%u\n     -> Trace ID: ", l);
                    put_hex(o, ln->trace_id.b, 16);
                    gb_sbuf_puts(o, "\n     -> ID: ");
                    put_hex(o, ln->span_id.b, 8);
                    gb_sbuf_puts(o, "\n     -> TraceState: ");
                    gb_sbuf_put_str(o, ln->trace_state);
                    gb_sbuf_printf(o, "\n     -> DroppedAttributesCount: %u\n",
                                   ln->dropped_attributes_count);
                    put_attrs_detailed(o, "     -> Attributes:", &ln->attrs, 5);
                }
            }
        }
    }
}

/* ---- metrics -----------------------------------------------------------------------------------
 */

static void put_dp_head(gb_sbuf *o, const char *what, uint32_t k, const pd_attrs *attrs,
                        uint64_t start, uint64_t ts)
{
    gb_sbuf_printf(o, "%s #%u\n", what, k);
    put_attrs_detailed(o, "Data point attributes", attrs, 0);
    gb_sbuf_puts(o, "StartTimestamp: ");
    put_time(o, start);
    gb_sbuf_puts(o, "\nTimestamp: ");
    put_time(o, ts);
    gb_sbuf_putc(o, '\n');
}

static void put_number(gb_sbuf *o, pd_num_type t, double d, int64_t i, bool detailed)
{
    if (t == PD_NUM_INT)
        gb_sbuf_printf(o, "%lld", (long long)i);
    else if (detailed)
        gb_sbuf_printf(o, "%f", d);
    else
        put_double(o, d);
}

static void dump_metric_normal(gb_sbuf *o, const pd_metric *m)
{
    uint32_t n = m->n_dp;
    for (uint32_t k = 0; k < n; k++) {
        const pd_attrs *attrs = NULL;
        switch (m->type) {
        case PD_METRIC_GAUGE:
        case PD_METRIC_SUM:
            attrs = &m->dp.number[k].attrs;
            break;
        case PD_METRIC_HISTOGRAM:
            attrs = &m->dp.histogram[k].attrs;
            break;
        case PD_METRIC_EXP_HISTOGRAM:
            attrs = &m->dp.exp_histogram[k].attrs;
            break;
        case PD_METRIC_SUMMARY:
            attrs = &m->dp.summary[k].attrs;
            break;
        case PD_METRIC_EMPTY:
            return;
        }
        gb_sbuf_put_str(o, m->name);
        gb_sbuf_putc(o, '{');
        for (uint32_t a = 0; a < attrs->n; a++) {
            if (a) gb_sbuf_putc(o, ',');
            gb_sbuf_put_str(o, attrs->v[a].key);
            gb_sbuf_putc(o, '=');
            put_any_raw(o, &attrs->v[a].value, false, 0);
        }
        gb_sbuf_puts(o, "} ");
        switch (m->type) {
        case PD_METRIC_GAUGE:
        case PD_METRIC_SUM: {
            const pd_number_dp *dp = &m->dp.number[k];
            put_number(o, dp->value_type, dp->value.d, dp->value.i, false);
            break;
        }
        case PD_METRIC_HISTOGRAM: {
            const pd_histogram_dp *dp = &m->dp.histogram[k];
            gb_sbuf_printf(o, "count=%llu", (unsigned long long)dp->count);
            if (dp->has_sum) {
                gb_sbuf_puts(o, " sum=");
                put_double(o, dp->sum);
            }
            for (uint32_t x = 0; x < dp->n_bucket_counts; x++) {
                gb_sbuf_puts(o, " le");
                if (x < dp->n_explicit_bounds)
                    put_double(o, dp->explicit_bounds[x]);
                else
                    gb_sbuf_puts(o, "+Inf");
                gb_sbuf_printf(o, "=%llu", (unsigned long long)dp->bucket_counts[x]);
            }
            break;
        }
        case PD_METRIC_EXP_HISTOGRAM: {
            const pd_exp_histogram_dp *dp = &m->dp.exp_histogram[k];
            gb_sbuf_printf(o, "count=%llu", (unsigned long long)dp->count);
            if (dp->has_sum) {
                gb_sbuf_puts(o, " sum=");
                put_double(o, dp->sum);
            }
            gb_sbuf_printf(o, " scale=%d zero_count=%llu", dp->scale,
                           (unsigned long long)dp->zero_count);
            break;
        }
        case PD_METRIC_SUMMARY: {
            const pd_summary_dp *dp = &m->dp.summary[k];
            gb_sbuf_printf(o, "count=%llu sum=", (unsigned long long)dp->count);
            put_double(o, dp->sum);
            for (uint32_t q = 0; q < dp->n_quantiles; q++) {
                gb_sbuf_puts(o, " q");
                put_double(o, dp->quantiles[q].quantile);
                gb_sbuf_putc(o, '=');
                put_double(o, dp->quantiles[q].value);
            }
            break;
        }
        case PD_METRIC_EMPTY:
            break;
        }
        gb_sbuf_putc(o, '\n');
    }
}

static void put_exemplars(gb_sbuf *o, const pd_exemplar *ex, uint32_t n)
{
    if (!n) return;
    gb_sbuf_puts(o, "Exemplars:\n");
    for (uint32_t e = 0; e < n; e++) {
        gb_sbuf_printf(o, "Exemplar #%u\n     -> Trace ID: ", e);
        put_hex(o, ex[e].trace_id.b, 16);
        gb_sbuf_puts(o, "\n     -> Span ID: ");
        put_hex(o, ex[e].span_id.b, 8);
        gb_sbuf_puts(o, "\n     -> Timestamp: ");
        put_time(o, ex[e].time_unix_nano);
        gb_sbuf_puts(o, "\n     -> Value: ");
        put_number(o, ex[e].value_type, ex[e].value.d, ex[e].value.i, true);
        gb_sbuf_putc(o, '\n');
        put_attrs_detailed(o, "     -> FilteredAttributes", &ex[e].filtered_attrs, 5);
    }
}

static void dump_metric_detailed(gb_sbuf *o, const pd_metric *m, uint32_t idx)
{
    gb_sbuf_printf(o, "Metric #%u\nDescriptor:\n     -> Name: ", idx);
    gb_sbuf_put_str(o, m->name);
    gb_sbuf_puts(o, "\n     -> Description: ");
    gb_sbuf_put_str(o, m->description);
    gb_sbuf_puts(o, "\n     -> Unit: ");
    gb_sbuf_put_str(o, m->unit);
    gb_sbuf_printf(o, "\n     -> DataType: %s\n", metric_type_name(m->type));
    if (m->type == PD_METRIC_SUM)
        gb_sbuf_printf(o, "     -> IsMonotonic: %s\n", m->is_monotonic ? "true" : "false");
    if (m->type == PD_METRIC_SUM || m->type == PD_METRIC_HISTOGRAM ||
        m->type == PD_METRIC_EXP_HISTOGRAM)
        gb_sbuf_printf(o, "     -> AggregationTemporality: %s\n", temporality_name(m->temporality));
    for (uint32_t k = 0; k < m->n_dp; k++) {
        switch (m->type) {
        case PD_METRIC_GAUGE:
        case PD_METRIC_SUM: {
            const pd_number_dp *dp = &m->dp.number[k];
            put_dp_head(o, "NumberDataPoints", k, &dp->attrs, dp->start_time_unix_nano,
                        dp->time_unix_nano);
            gb_sbuf_puts(o, "Value: ");
            put_number(o, dp->value_type, dp->value.d, dp->value.i, true);
            gb_sbuf_putc(o, '\n');
            put_exemplars(o, dp->exemplars, dp->n_exemplars);
            break;
        }
        case PD_METRIC_HISTOGRAM: {
            const pd_histogram_dp *dp = &m->dp.histogram[k];
            put_dp_head(o, "HistogramDataPoints", k, &dp->attrs, dp->start_time_unix_nano,
                        dp->time_unix_nano);
            gb_sbuf_printf(o, "Count: %llu\n", (unsigned long long)dp->count);
            if (dp->has_sum) gb_sbuf_printf(o, "Sum: %f\n", dp->sum);
            if (dp->has_min) gb_sbuf_printf(o, "Min: %f\n", dp->min);
            if (dp->has_max) gb_sbuf_printf(o, "Max: %f\n", dp->max);
            for (uint32_t x = 0; x < dp->n_explicit_bounds; x++)
                gb_sbuf_printf(o, "ExplicitBounds #%u: %f\n", x, dp->explicit_bounds[x]);
            for (uint32_t x = 0; x < dp->n_bucket_counts; x++)
                gb_sbuf_printf(o, "Buckets #%u, Count: %llu\n", x,
                               (unsigned long long)dp->bucket_counts[x]);
            put_exemplars(o, dp->exemplars, dp->n_exemplars);
            break;
        }
        case PD_METRIC_EXP_HISTOGRAM: {
            const pd_exp_histogram_dp *dp = &m->dp.exp_histogram[k];
            put_dp_head(o, "ExponentialHistogramDataPoints", k, &dp->attrs,
                        dp->start_time_unix_nano, dp->time_unix_nano);
            gb_sbuf_printf(o, "Count: %llu\n", (unsigned long long)dp->count);
            if (dp->has_sum) gb_sbuf_printf(o, "Sum: %f\n", dp->sum);
            if (dp->has_min) gb_sbuf_printf(o, "Min: %f\n", dp->min);
            if (dp->has_max) gb_sbuf_printf(o, "Max: %f\n", dp->max);
            gb_sbuf_printf(o, "Scale: %d\nZeroCount: %llu\n", dp->scale,
                           (unsigned long long)dp->zero_count);
            gb_sbuf_printf(o, "Positive offset: %d\n", dp->positive.offset);
            for (uint32_t x = 0; x < dp->positive.n_bucket_counts; x++)
                gb_sbuf_printf(o, "Positive Buckets #%u, Count: %llu\n", x,
                               (unsigned long long)dp->positive.bucket_counts[x]);
            gb_sbuf_printf(o, "Negative offset: %d\n", dp->negative.offset);
            for (uint32_t x = 0; x < dp->negative.n_bucket_counts; x++)
                gb_sbuf_printf(o, "Negative Buckets #%u, Count: %llu\n", x,
                               (unsigned long long)dp->negative.bucket_counts[x]);
            put_exemplars(o, dp->exemplars, dp->n_exemplars);
            break;
        }
        case PD_METRIC_SUMMARY: {
            const pd_summary_dp *dp = &m->dp.summary[k];
            put_dp_head(o, "SummaryDataPoints", k, &dp->attrs, dp->start_time_unix_nano,
                        dp->time_unix_nano);
            gb_sbuf_printf(o, "Count: %llu\nSum: %f\n", (unsigned long long)dp->count, dp->sum);
            for (uint32_t q = 0; q < dp->n_quantiles; q++)
                gb_sbuf_printf(o, "QuantileValue #%u: Quantile %f, Value %f\n", q,
                               dp->quantiles[q].quantile, dp->quantiles[q].value);
            break;
        }
        case PD_METRIC_EMPTY:
            break;
        }
    }
}

static void dump_metrics(gb_sbuf *o, const pd_batch *b, int verbosity)
{
    for (uint32_t i = 0; i < b->u.metrics.n; i++) {
        const pd_resource_metrics *rm = &b->u.metrics.v[i];
        put_resource_head(o, verbosity, "ResourceMetrics", "ResourceMetrics", i, rm->schema_url,
                          &rm->resource);
        for (uint32_t j = 0; j < rm->n_scope_metrics; j++) {
            const pd_scope_metrics *sm = &rm->scope_metrics[j];
            put_scope_head(o, verbosity, "ScopeMetrics", "ScopeMetrics", j, sm->schema_url,
                           &sm->scope);
            for (uint32_t k = 0; k < sm->n_metrics; k++) {
                if (verbosity == DEBUG_NORMAL)
                    dump_metric_normal(o, &sm->metrics[k]);
                else
                    dump_metric_detailed(o, &sm->metrics[k], k);
            }
        }
    }
}

/* ---- logs --------------------------------------------------------------------------------------
 */

static void dump_logs(gb_sbuf *o, const pd_batch *b, int verbosity)
{
    for (uint32_t i = 0; i < b->u.logs.n; i++) {
        const pd_resource_logs *rl = &b->u.logs.v[i];
        put_resource_head(o, verbosity, "ResourceLog", "ResourceLog", i, rl->schema_url,
                          &rl->resource);
        for (uint32_t j = 0; j < rl->n_scope_logs; j++) {
            const pd_scope_logs *sl = &rl->scope_logs[j];
            put_scope_head(o, verbosity, "ScopeLog", "ScopeLogs", j, sl->schema_url, &sl->scope);
            for (uint32_t k = 0; k < sl->n_logs; k++) {
                const pd_log *l = &sl->logs[k];
                if (verbosity == DEBUG_NORMAL) {
                    put_any_raw(o, &l->body, false, 0);
                    put_attrs_flat(o, &l->attrs);
                    gb_sbuf_putc(o, '\n');
                    continue;
                }
                gb_sbuf_printf(o, "LogRecord #%u\nObservedTimestamp: ", k);
                put_time(o, l->observed_time_unix_nano);
                gb_sbuf_puts(o, "\nTimestamp: ");
                put_time(o, l->time_unix_nano);
                gb_sbuf_puts(o, "\nSeverityText: ");
                gb_sbuf_put_str(o, l->severity_text);
                gb_sbuf_printf(o, "\nSeverityNumber: %s(%d)\nBody: ",
                               severity_name(l->severity_number), l->severity_number);
                put_any_typed(o, &l->body);
                gb_sbuf_putc(o, '\n');
                if (l->event_name.len) {
                    gb_sbuf_puts(o, "EventName: ");
                    gb_sbuf_put_str(o, l->event_name);
                    gb_sbuf_putc(o, '\n');
                }
                put_attrs_detailed(o, "Attributes", &l->attrs, 0);
                gb_sbuf_puts(o, "Trace ID: ");
                put_hex(o, l->trace_id.b, 16);
                gb_sbuf_puts(o, "\nSpan ID: ");
                put_hex(o, l->span_id.b, 8);
                gb_sbuf_printf(o, "\nFlags: %u\n", l->flags);
            }
        }
    }
}

/* ---- summary -----------------------------------------------------------------------------------
 */

/* Governance summary of a batch for the basic line: the cost of the priced operations (summed in
 * nano-USD, as the ledger and the connector sum it) and the number of unpriced ones. Nothing when
 * no item carries genops.cost.* (no governance processor upstream). */
static void cost_item(const pd_attrs *a, int64_t *nusd, uint64_t *priced, uint64_t *unpriced)
{
    const pd_kv *st = pd_attrs_find(a, GB_STR_LIT("genops.cost.status"));
    if (st && st->value.type == PD_ANY_STR && gb_str_eq_c(st->value.u.str, "unpriced")) {
        (*unpriced)++;
        return;
    }
    const pd_kv *t = pd_attrs_find(a, GB_STR_LIT("genops.cost.total"));
    if (!t) return;
    const pd_kv *cur = pd_attrs_find(a, GB_STR_LIT("genops.cost.currency"));
    if (cur && !(cur->value.type == PD_ANY_STR && gb_str_eq_c(cur->value.u.str, "USD"))) return;
    int64_t v;
    if (gov_usd_to_nusd(&t->value, &v) != GB_OK || v < 0) return;
    *nusd += v;
    (*priced)++;
}

static void cost_summary(gb_sbuf *o, const pd_batch *b)
{
    int64_t nusd = 0;
    uint64_t priced = 0, unpriced = 0;
    if (b->signal == PD_TRACES) {
        for (uint32_t r = 0; r < b->u.traces.n; r++)
            for (uint32_t k = 0; k < b->u.traces.v[r].n_scope_spans; k++) {
                const pd_scope_spans *ss = &b->u.traces.v[r].scope_spans[k];
                for (uint32_t i = 0; i < ss->n_spans; i++)
                    cost_item(&ss->spans[i].attrs, &nusd, &priced, &unpriced);
            }
    } else if (b->signal == PD_LOGS) {
        for (uint32_t r = 0; r < b->u.logs.n; r++)
            for (uint32_t k = 0; k < b->u.logs.v[r].n_scope_logs; k++) {
                const pd_scope_logs *sl = &b->u.logs.v[r].scope_logs[k];
                for (uint32_t i = 0; i < sl->n_logs; i++)
                    cost_item(&sl->logs[i].attrs, &nusd, &priced, &unpriced);
            }
    }
    if (!priced && !unpriced) return;
    /* USD with the trailing zeros of the nano-USD digits dropped: 0.006, 1.25, 0 */
    char num[40];
    snprintf(num, sizeof num, "%lld.%09lld", (long long)(nusd / 1000000000),
             (long long)(nusd % 1000000000));
    size_t n = strlen(num);
    while (num[n - 1] == '0')
        num[--n] = 0;
    if (num[n - 1] == '.') num[--n] = 0;
    gb_sbuf_printf(o, ", \"genops.cost.total\": %s, \"priced\": %llu, \"unpriced\": %llu", num,
                   (unsigned long long)priced, (unsigned long long)unpriced);
}

static void summary(gb_sbuf *o, const char *name, const pd_batch *b)
{
    char ts[40];
    gb_fmt_rfc3339(gb_now_ns(), ts, sizeof ts);
    static const char *titles[] = {"Traces", "Metrics", "Logs"};
    gb_sbuf_printf(o,
                   "%s\tinfo\t%s\t{\"otelcol.component.id\": \"%s\", \"otelcol.component.kind\": "
                   "\"exporter\", \"otelcol.signal\": \"%s\", ",
                   ts, titles[b->signal], name, pd_signal_name(b->signal));
    switch (b->signal) {
    case PD_TRACES:
        gb_sbuf_printf(o, "\"resource spans\": %u, \"spans\": %llu", b->u.traces.n,
                       (unsigned long long)pd_batch_count(b));
        cost_summary(o, b);
        gb_sbuf_puts(o, "}\n");
        break;
    case PD_METRICS: {
        uint64_t metrics = 0;
        for (uint32_t i = 0; i < b->u.metrics.n; i++)
            for (uint32_t j = 0; j < b->u.metrics.v[i].n_scope_metrics; j++)
                metrics += b->u.metrics.v[i].scope_metrics[j].n_metrics;
        gb_sbuf_printf(o, "\"resource metrics\": %u, \"metrics\": %llu, \"data points\": %llu}\n",
                       b->u.metrics.n, (unsigned long long)metrics,
                       (unsigned long long)pd_batch_count(b));
        break;
    }
    case PD_LOGS:
        gb_sbuf_printf(o, "\"resource logs\": %u, \"log records\": %llu", b->u.logs.n,
                       (unsigned long long)pd_batch_count(b));
        cost_summary(o, b);
        gb_sbuf_puts(o, "}\n");
        break;
    }
}

gb_status debug_format(const pd_batch *b, int verbosity, const char *name, gb_sbuf *out)
{
    summary(out, name, b);
    if (verbosity != DEBUG_BASIC) {
        switch (b->signal) {
        case PD_TRACES:
            dump_traces(out, b, verbosity);
            break;
        case PD_METRICS:
            dump_metrics(out, b, verbosity);
            break;
        case PD_LOGS:
            dump_logs(out, b, verbosity);
            break;
        }
    }
    return out->err;
}

/* ---- component ---------------------------------------------------------------------------------
 */

typedef struct debug_state {
    const debug_cfg *cfg;
    pl_component *c;
    pthread_mutex_t mu;
    gb_sbuf buf;
    int fd;
    int64_t second[PD_SIGNAL_COUNT];
    int64_t count[PD_SIGNAL_COUNT];
    pl_exphelper_set helpers;
} debug_state;

static bool sample_locked(debug_state *st, pd_signal s)
{
    int64_t sec = gb_mono_ns() / GB_NS_PER_S;
    if (sec != st->second[s]) {
        st->second[s] = sec;
        st->count[s] = 0;
    }
    int64_t n = ++st->count[s];
    if (n <= st->cfg->sampling_initial) return true;
    int64_t every = st->cfg->sampling_thereafter > 0 ? st->cfg->sampling_thereafter : 1;
    return (n - st->cfg->sampling_initial) % every == 0;
}

static gb_status write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return GB_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return GB_OK;
}

static gb_status debug_export(void *ctx, unsigned thread, pd_batch *b, int64_t deadline_ns,
                              pl_export_result *res)
{
    (void)thread;
    (void)deadline_ns;
    debug_state *st = ctx;
    gb_status rc = GB_OK;
    pthread_mutex_lock(&st->mu);
    if (sample_locked(st, b->signal)) {
        gb_sbuf_reset(&st->buf);
        rc = debug_format(b, st->cfg->verbosity, st->c->id, &st->buf);
        if (rc == GB_OK) rc = write_all(st->fd, st->buf.data, st->buf.len);
        /* do not keep a huge buffer around after an unusually large batch */
        if (st->buf.cap > (4u << 20)) gb_sbuf_free(&st->buf);
    }
    pthread_mutex_unlock(&st->mu);
    if (rc != GB_OK) {
        snprintf(res->message, sizeof res->message, "cannot write to stderr: %s",
                 gb_status_str(rc));
        return GB_ERR_PERMANENT;
    }
    return GB_OK;
}

static gb_status debug_create(pl_component *c)
{
    debug_state *st = calloc(1, sizeof *st);
    if (!st) return GB_ERR_NOMEM;
    st->cfg = c->cfg;
    st->c = c;
    st->fd = STDERR_FILENO;
    pthread_mutex_init(&st->mu, NULL);
    gb_sbuf_init(&st->buf, 0);
    c->state = st;
    return GB_OK;
}

static gb_status debug_start(pl_component *c, pl_host *host)
{
    (void)host;
    debug_state *st = c->state;
    pl_retry_cfg r;
    pl_queue_cfg q;
    pl_retry_cfg_default(&r);
    r.enabled = false;
    pl_queue_cfg_default(&q);
    q.enabled = false;
    q.num_consumers = 64; /* concurrency bound for callers; the mutex serialises output anyway */
    pl_exphelper_opts o = {
        .id = c->id, .retry = &r, .queue = &q, .export_fn = debug_export, .ctx = st};
    gb_status rc = pl_exphelper_set_start(&st->helpers, &o);
    if (rc != GB_OK) return rc;
    return GB_OK;
}

static gb_status debug_consume(pl_component *c, pd_batch *b)
{
    debug_state *st = c->state;
    return pl_exphelper_set_consume(&st->helpers, b);
}

static gb_status debug_shutdown(pl_component *c, int64_t deadline_ns)
{
    debug_state *st = c->state;
    if (!st) return GB_OK;
    pl_exphelper_set_shutdown(&st->helpers, deadline_ns);
    return GB_OK;
}

static void debug_destroy(pl_component *c)
{
    debug_state *st = c->state;
    if (!st) return;
    pl_exphelper_set_free(&st->helpers);
    gb_sbuf_free(&st->buf);
    pthread_mutex_destroy(&st->mu);
    free(st);
    c->state = NULL;
}

void debug_set_fd(pl_component *c, int fd)
{
    debug_state *st = c->state;
    pthread_mutex_lock(&st->mu);
    st->fd = fd;
    pthread_mutex_unlock(&st->mu);
}

static const char *const debug_aliases[] = {"logging", NULL};

const pl_descriptor exporter_debug_descriptor = {
    .kind = PL_EXPORTER,
    .type = "debug",
    .aliases = debug_aliases,
    .stability = {PL_DEVELOPMENT, PL_DEVELOPMENT, PL_DEVELOPMENT},
    .config = &debug_table,
    .config_size = sizeof(debug_cfg),
    .doc = "writes received telemetry to stderr (basic, normal or detailed)",
    .create = debug_create,
    .start = debug_start,
    .consume = debug_consume,
    .shutdown = debug_shutdown,
    .destroy = debug_destroy,
};
