/* OTLP -> Prometheus translation shared by the prometheus and prometheusremotewrite exporters
 * (otelcol's prometheus translator): metric names with unit and type suffixes, label names,
 * resource to telemetry conversion, target_info / job / instance, and label-set building.
 *
 * Names follow otelcol-contrib's translator (pkg/translator/prometheus, otlptranslator):
 *   - invalid characters -> '_', runs of '_' collapsed, a leading digit gets '_' prefixed;
 *   - with add_metric_suffixes: the unit's main part mapped (s->seconds, By->bytes, ms->
 *     milliseconds, 1->ratio for gauges, %->percent, ...), '{annotation}' units dropped,
 *     "/x" -> "_per_x", appended unless already a name token; monotonic sums get "_total";
 *   - labels: invalid characters -> '_', a leading digit gets "key_" prefixed, a leading '_' gets
 *     "key" prefixed (double underscore names are reserved); colliding labels joined with ';'.
 * See docs/internals/prometheus.md. Not thread-safe per object; the free functions are pure. */
#ifndef PROMUTIL_H
#define PROMUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sbuf.h"
#include "base/status.h"
#include "base/str.h"
#include "pdata/pdata.h"

/* Longest metric / label name produced (longer results are truncated, never overflowed). */
#define PROMUTIL_NAME_MAX 512

/* Prometheus-side kind of an OTLP metric (otlptranslator.MetricType). */
typedef enum promutil_kind {
    PROMUTIL_GAUGE = 0,
    PROMUTIL_COUNTER,      /* monotonic sum */
    PROMUTIL_NONMONOTONIC, /* non-monotonic sum: exposed as a gauge, no "_total" */
    PROMUTIL_HISTOGRAM,
    PROMUTIL_EXP_HISTOGRAM,
    PROMUTIL_SUMMARY,
    PROMUTIL_UNKNOWN,
} promutil_kind;

promutil_kind promutil_kind_of(const pd_metric *m);

/* Metric name for m; namespace_ may be NULL/"" (else "<ns>_" prefixed). Writes a NUL-terminated
 * name into out (truncated to outlen-1). GB_ERR_INVALID when the result would be empty or only
 * underscores (otelcol drops such metrics); out is then "". */
gb_status promutil_metric_name(const pd_metric *m, const char *namespace_, bool add_suffixes,
                               char *out, size_t outlen);
/* Same from the parts (name, unit and kind). */
gb_status promutil_build_name(gb_str name, gb_str unit, promutil_kind kind, const char *namespace_,
                              bool add_suffixes, char *out, size_t outlen);
/* Unit suffix alone ("ms" -> "milliseconds", "By/s" -> "bytes_per_second", "{x}" -> ""). */
void promutil_unit_suffix(gb_str unit, char *out, size_t outlen);
/* Label name for an attribute key. GB_ERR_INVALID for an empty key or one made only of
 * underscores after sanitizing (out is then ""). */
gb_status promutil_label_name(gb_str key, char *out, size_t outlen);
/* String form of an attribute value as a label value (pcommon Value.AsString: ints in decimal,
 * doubles like ES6 number-to-string, bool true/false, bytes base64, arrays and maps as JSON with
 * sorted keys, empty ""; NaN/Inf as pcommon: "json: unsupported value: NaN", and a map or
 * array holding one gives ""). Appends to out. */
gb_status promutil_label_value(const pd_any *v, gb_sbuf *out);

/* Sample value as Prometheus text writes it (Go strconv 'g' shortest; "+Inf", "-Inf", "NaN").
 * outlen >= 32 always suffices. */
void promutil_format_float(double v, char *out, size_t outlen);

/* One label (name, value) pair, NUL-terminated strings owned by whoever built the set. */
typedef struct promutil_label {
    const char *name;
    const char *value;
} promutil_label;

/* job = service.namespace + "/" + service.name (or service.name), instance = service.instance.id
 * (see otelcol); fills job/instance with "" when absent. */
void promutil_job_instance(const pd_attrs *resource, gb_sbuf *job, gb_sbuf *instance);

/* ---- label sets -------------------------------------------------------------------------------
 * A reusable builder: put labels one by one (with a collision rule), then finish to get them
 * sorted by name with pointers valid until the next put/reset/free. Storage is one heap string
 * buffer plus one array, both reused across reset (no allocation per label in steady state). */

typedef enum promutil_put_mode {
    PROMUTIL_JOIN = 0, /* name exists: value becomes "<old>;<new>" (attribute collisions) */
    PROMUTIL_KEEP,     /* name exists: keep the old value (external / const labels) */
    PROMUTIL_REPLACE,  /* name exists: replace it (job, instance, le, quantile, __name__) */
} promutil_put_mode;

typedef struct promutil_lent {
    uint32_t name_off, name_len;
    uint32_t val_off, val_len;
} promutil_lent;

typedef struct promutil_labels {
    promutil_label *v; /* valid after promutil_labels_finish */
    uint32_t n;
    /* internal */
    promutil_lent *ent;
    uint32_t cap;
    uint32_t v_cap;
    struct promutil_okey *order; /* scratch for sorting attributes */
    uint32_t order_cap;
    uint32_t *hidx; /* open-addressing index of ent (1-based) once a set is large */
    uint32_t hcap;
    gb_sbuf store;
    gb_sbuf scratch[4]; /* reused by put_attrs / point_labels: no allocation per call */
} promutil_labels;

void promutil_labels_init(promutil_labels *ls);
void promutil_labels_reset(promutil_labels *ls);
void promutil_labels_free(promutil_labels *ls);
/* name is used as given (callers pass already-valid names or sanitize first). */
gb_status promutil_labels_put(promutil_labels *ls, gb_str name, gb_str value,
                              promutil_put_mode mode);
/* Adds every attribute (sorted by original key, like otelcol, so joined values have a stable
 * order) with its sanitized name, prefix prepended before sanitizing (e.g. "otel_scope_"), with
 * the given mode. Keys that sanitize to nothing are skipped. */
gb_status promutil_labels_put_attrs(promutil_labels *ls, const pd_attrs *a, const char *prefix,
                                    promutil_put_mode mode);
/* Looks a label up by name (before or after finish); NULL/0 when absent. */
bool promutil_labels_get(const promutil_labels *ls, gb_str name, gb_str *value);
/* Sorts by name, drops labels with empty values (Prometheus treats them as absent) and fills
 * ls->v / ls->n. */
gb_status promutil_labels_finish(promutil_labels *ls);

/* Options for promutil_point_labels: the labels otelcol attaches to every sample of a point. */
typedef struct promutil_label_opts {
    /* copy resource attributes to the point; like otelcol's resourcetotelemetry wrapper (which
     * upserts them into the point attributes) a resource attribute wins over a point attribute
     * with the same label name */
    bool resource_to_telemetry;
    bool scope_labels; /* otel_scope_name / otel_scope_version / otel_scope_<attr> */
    bool job_instance; /* job / instance from service.* resource attributes */
    const promutil_label *const_labels; /* added if absent (otelcol const/external labels) */
    uint32_t n_const_labels;
    /* with resource_to_telemetry: promote only these attributes instead of every resource
     * attribute (a filtered copy, e.g. resource_constant_labels); NULL = all */
    const pd_attrs *promoted;
} promutil_label_opts;

/* Builds (resets first) the label set of a data point: point attributes (joined on collision),
 * scope labels, resource attributes when resource_to_telemetry, job/instance (replace), const
 * labels (keep). Not finished: callers add le / quantile / __name__ then finish. */
gb_status promutil_point_labels(promutil_labels *ls, const pd_resource *res, const pd_scope *scope,
                                const pd_attrs *point_attrs, const promutil_label_opts *opts);

/* Histogram: cumulative count of bucket i (0 <= i < n_explicit_bounds) for the "le" = bound[i]
 * series; the +Inf bucket is dp->count. Missing bucket counts count as 0. */
uint64_t promutil_hist_cumulative(const pd_histogram_dp *dp, uint32_t i);

#endif
