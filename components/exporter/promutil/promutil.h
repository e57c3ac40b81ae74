/* OTLP -> Prometheus translation shared by the prometheus and prometheusremotewrite exporters
 * (otelcol's prometheus translator): metric names with unit and type suffixes, label names,
 * resource to telemetry conversion, target_info / job / instance, and a cumulative accumulator
 * that turns OTLP points (delta or cumulative) into Prometheus samples.
 *
 * Names follow otelcol-contrib's translator (pkg/translator/prometheus, otlptranslator):
 *   - invalid characters -> '_', runs of '_' collapsed, a leading digit gets '_' prefixed;
 *   - with add_metric_suffixes: the unit's main part mapped (s->seconds, By->bytes, ms->
 *     milliseconds, 1->ratio for gauges, %->percent, ...), '{annotation}' units dropped,
 *     "/x" -> "_per_x", appended unless already a name token; monotonic sums get "_total";
 *   - labels: invalid characters -> '_', a leading digit gets "key_" prefixed, a leading '_' gets
 *     "key" prefixed (double underscore names are reserved); colliding labels joined with ';'. */
#ifndef PROMUTIL_H
#define PROMUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/sbuf.h"
#include "base/status.h"
#include "base/str.h"
#include "pdata/pdata.h"

/* Metric name for m; namespace_ may be NULL/"" (else "<ns>_" prefixed). Writes a NUL-terminated
 * name into out (truncated to outlen-1). */
gb_status promutil_metric_name(const pd_metric *m, const char *namespace_, bool add_suffixes,
                               char *out, size_t outlen);
/* Label name for an attribute key. */
gb_status promutil_label_name(gb_str key, char *out, size_t outlen);
/* String form of an attribute value as a label value (ints and doubles as otelcol prints them,
 * bool true/false, arrays and maps as JSON). */
gb_status promutil_label_value(const pd_any *v, gb_sbuf *out);

/* One label (name, value) pair, NUL-terminated strings owned by whoever built the set. */
typedef struct promutil_label {
    const char *name;
    const char *value;
} promutil_label;

/* job = service.namespace + "/" + service.name (or service.name), instance = service.instance.id
 * (see otelcol); fills job/instance with "" when absent. */
void promutil_job_instance(const pd_attrs *resource, gb_sbuf *job, gb_sbuf *instance);

#endif
