/* The collector's own metrics (self-telemetry), rendered as Prometheus text at
 * service.telemetry.metrics. Series are registered on the control path (create/start) and
 * updated lock-free on the data path. Names and labels follow otelcol, e.g.
 *   otelcol_receiver_accepted_spans{receiver="otlp",transport="http"}
 * Registration is thread-safe; registering the same name+labels again returns the same series. */
#ifndef GB_TELEMETRY_H
#define GB_TELEMETRY_H

#include <stdint.h>

#include "sbuf.h"
#include "status.h"

typedef struct gb_series gb_series;

typedef enum gb_series_kind {
    GB_SERIES_COUNTER,   /* monotonic uint64, rendered with _total suffix if not present */
    GB_SERIES_GAUGE,     /* int64 value set/add */
    GB_SERIES_GAUGE_FN,  /* value read by callback at render time */
    GB_SERIES_HISTOGRAM, /* explicit bounds */
} gb_series_kind;

/* labels: preformatted Prometheus label list without braces, e.g. receiver="otlp" (may be "").
 * help: one line. */
gb_status gb_tm_counter(const char *name, const char *help, const char *labels, gb_series **out);
gb_status gb_tm_gauge(const char *name, const char *help, const char *labels, gb_series **out);
gb_status gb_tm_gauge_fn(const char *name, const char *help, const char *labels,
                         double (*fn)(void *arg), void *arg, gb_series **out);
/* bounds: ascending upper bounds (copied); +Inf is implicit. */
gb_status gb_tm_histogram(const char *name, const char *help, const char *labels,
                          const double *bounds, unsigned n_bounds, gb_series **out);

void gb_series_add(gb_series *s, uint64_t v);     /* counter */
void gb_series_set(gb_series *s, int64_t v);      /* gauge */
void gb_series_gauge_add(gb_series *s, int64_t v);/* gauge */
void gb_series_observe(gb_series *s, double v);   /* histogram */
uint64_t gb_series_value(const gb_series *s);     /* counter value or gauge value (tests) */
/* Detaches a gauge_fn series (its arg is going away); rendering skips it afterwards. */
void gb_series_unregister(gb_series *s);

/* Renders every series, grouped by name with # HELP / # TYPE lines. */
gb_status gb_tm_render(gb_sbuf *out);
/* Looks a series up by name and labels (tests, zpages). */
gb_series *gb_tm_find(const char *name, const char *labels);
/* Frees the registry (process exit, tests). */
void gb_tm_reset(void);

#endif
