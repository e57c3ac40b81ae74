/* Self-telemetry registry (see telemetry.h). Series live in a mutex-protected list, appended on
 * the control path; values are atomics so the data path never takes the lock. Rendering sorts by
 * name so HELP/TYPE lines are emitted once per metric family. Rejected: per-thread shards (the
 * counters are touched once per request, not per span, so contention is negligible). */
#include "telemetry.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct gb_series {
    gb_series *next;
    gb_series_kind kind;
    char *name;
    char *help;
    char *labels;
    atomic_ullong u;  /* counter */
    atomic_llong i;   /* gauge */
    double (*fn)(void *);
    void *arg;
    atomic_bool detached;
    unsigned n_bounds;
    double *bounds;
    atomic_ullong *buckets; /* n_bounds + 1 */
    atomic_ullong count;
    _Atomic double sum;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static gb_series *g_head;

static gb_series *find_locked(const char *name, const char *labels)
{
    for (gb_series *s = g_head; s; s = s->next)
        if (strcmp(s->name, name) == 0 && strcmp(s->labels, labels ? labels : "") == 0) return s;
    return NULL;
}

static gb_status reg(gb_series_kind kind, const char *name, const char *help, const char *labels,
                     gb_series **out, gb_series **created)
{
    *created = NULL;
    pthread_mutex_lock(&g_lock);
    gb_series *s = find_locked(name, labels);
    if (s) {
        pthread_mutex_unlock(&g_lock);
        *out = s;
        return GB_OK;
    }
    s = calloc(1, sizeof *s);
    if (!s) goto nomem;
    s->kind = kind;
    s->name = strdup(name);
    s->help = strdup(help ? help : "");
    s->labels = strdup(labels ? labels : "");
    if (!s->name || !s->help || !s->labels) goto nomem;
    s->next = g_head;
    g_head = s;
    pthread_mutex_unlock(&g_lock);
    *out = s;
    *created = s;
    return GB_OK;
nomem:
    pthread_mutex_unlock(&g_lock);
    if (s) {
        free(s->name);
        free(s->help);
        free(s->labels);
        free(s);
    }
    return GB_ERR_NOMEM;
}

gb_status gb_tm_counter(const char *name, const char *help, const char *labels, gb_series **out)
{
    gb_series *c;
    return reg(GB_SERIES_COUNTER, name, help, labels, out, &c);
}

gb_status gb_tm_gauge(const char *name, const char *help, const char *labels, gb_series **out)
{
    gb_series *c;
    return reg(GB_SERIES_GAUGE, name, help, labels, out, &c);
}

gb_status gb_tm_gauge_fn(const char *name, const char *help, const char *labels,
                         double (*fn)(void *arg), void *arg, gb_series **out)
{
    gb_series *c;
    gb_status st = reg(GB_SERIES_GAUGE_FN, name, help, labels, out, &c);
    if (st == GB_OK) {
        pthread_mutex_lock(&g_lock);
        (*out)->fn = fn;
        (*out)->arg = arg;
        atomic_store(&(*out)->detached, false);
        pthread_mutex_unlock(&g_lock);
    }
    return st;
}

gb_status gb_tm_histogram(const char *name, const char *help, const char *labels,
                          const double *bounds, unsigned n_bounds, gb_series **out)
{
    gb_series *c;
    gb_status st = reg(GB_SERIES_HISTOGRAM, name, help, labels, out, &c);
    if (st != GB_OK || !c) return st;
    c->bounds = malloc(sizeof(double) * (n_bounds ? n_bounds : 1));
    c->buckets = calloc(n_bounds + 1, sizeof(atomic_ullong));
    if (!c->bounds || !c->buckets) return GB_ERR_NOMEM; /* stays registered, observes nothing */
    memcpy(c->bounds, bounds, sizeof(double) * n_bounds);
    c->n_bounds = n_bounds;
    return GB_OK;
}

void gb_series_add(gb_series *s, uint64_t v)
{
    if (s) atomic_fetch_add_explicit(&s->u, v, memory_order_relaxed);
}

void gb_series_set(gb_series *s, int64_t v)
{
    if (s) atomic_store_explicit(&s->i, v, memory_order_relaxed);
}

void gb_series_gauge_add(gb_series *s, int64_t v)
{
    if (s) atomic_fetch_add_explicit(&s->i, v, memory_order_relaxed);
}

void gb_series_observe(gb_series *s, double v)
{
    if (!s || !s->buckets) return;
    unsigned i = 0;
    while (i < s->n_bounds && v > s->bounds[i]) i++;
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    double old = atomic_load_explicit(&s->sum, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&s->sum, &old, old + v, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

uint64_t gb_series_value(const gb_series *s)
{
    if (!s) return 0;
    switch (s->kind) {
    case GB_SERIES_COUNTER: return atomic_load(&s->u);
    case GB_SERIES_GAUGE: return (uint64_t)atomic_load(&s->i);
    case GB_SERIES_HISTOGRAM: return atomic_load(&s->count);
    case GB_SERIES_GAUGE_FN: return s->fn && !atomic_load(&s->detached) ? (uint64_t)s->fn(s->arg) : 0;
    }
    return 0;
}

void gb_series_unregister(gb_series *s)
{
    if (!s) return;
    pthread_mutex_lock(&g_lock);
    atomic_store(&s->detached, true);
    s->fn = NULL;
    s->arg = NULL;
    pthread_mutex_unlock(&g_lock);
}

gb_series *gb_tm_find(const char *name, const char *labels)
{
    pthread_mutex_lock(&g_lock);
    gb_series *s = find_locked(name, labels);
    pthread_mutex_unlock(&g_lock);
    return s;
}

static int cmp_series(const void *a, const void *b)
{
    const gb_series *x = *(gb_series *const *)a, *y = *(gb_series *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->labels, y->labels);
}

static void put_value(gb_sbuf *out, double v)
{
    if (isnan(v)) gb_sbuf_puts(out, "NaN");
    else if (isinf(v)) gb_sbuf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else gb_sbuf_printf(out, "%.17g", v);
}

static void put_labels(gb_sbuf *out, const char *labels, const char *extra)
{
    bool has = labels[0] != '\0';
    if (!has && !extra) return;
    gb_sbuf_putc(out, '{');
    gb_sbuf_puts(out, labels);
    if (extra) {
        if (has) gb_sbuf_putc(out, ',');
        gb_sbuf_puts(out, extra);
    }
    gb_sbuf_putc(out, '}');
}

gb_status gb_tm_render(gb_sbuf *out)
{
    pthread_mutex_lock(&g_lock);
    size_t n = 0;
    for (gb_series *s = g_head; s; s = s->next) n++;
    gb_series **v = malloc(sizeof(*v) * (n ? n : 1));
    if (!v) {
        pthread_mutex_unlock(&g_lock);
        return GB_ERR_NOMEM;
    }
    n = 0;
    for (gb_series *s = g_head; s; s = s->next)
        if (!(s->kind == GB_SERIES_GAUGE_FN && atomic_load(&s->detached))) v[n++] = s;
    qsort(v, n, sizeof *v, cmp_series);
    const char *last = NULL;
    for (size_t k = 0; k < n; k++) {
        gb_series *s = v[k];
        const char *type = s->kind == GB_SERIES_COUNTER     ? "counter"
                           : s->kind == GB_SERIES_HISTOGRAM ? "histogram"
                                                            : "gauge";
        size_t nl = strlen(s->name);
        bool add_total = s->kind == GB_SERIES_COUNTER &&
                         !(nl > 6 && strcmp(s->name + nl - 6, "_total") == 0);
        if (!last || strcmp(last, s->name) != 0) {
            gb_sbuf_printf(out, "# HELP %s%s %s\n# TYPE %s%s %s\n", s->name,
                           add_total ? "_total" : "", s->help, s->name, add_total ? "_total" : "",
                           type);
            last = s->name;
        }
        switch (s->kind) {
        case GB_SERIES_COUNTER:
            gb_sbuf_printf(out, "%s%s", s->name, add_total ? "_total" : "");
            put_labels(out, s->labels, NULL);
            gb_sbuf_printf(out, " %llu\n", (unsigned long long)atomic_load(&s->u));
            break;
        case GB_SERIES_GAUGE:
            gb_sbuf_puts(out, s->name);
            put_labels(out, s->labels, NULL);
            gb_sbuf_printf(out, " %lld\n", (long long)atomic_load(&s->i));
            break;
        case GB_SERIES_GAUGE_FN:
            gb_sbuf_puts(out, s->name);
            put_labels(out, s->labels, NULL);
            gb_sbuf_putc(out, ' ');
            put_value(out, s->fn ? s->fn(s->arg) : 0);
            gb_sbuf_putc(out, '\n');
            break;
        case GB_SERIES_HISTOGRAM: {
            unsigned long long cum = 0;
            for (unsigned i = 0; i <= s->n_bounds && s->buckets; i++) {
                cum += atomic_load(&s->buckets[i]);
                char le[64];
                if (i < s->n_bounds) snprintf(le, sizeof le, "le=\"%.17g\"", s->bounds[i]);
                else snprintf(le, sizeof le, "le=\"+Inf\"");
                gb_sbuf_printf(out, "%s_bucket", s->name);
                put_labels(out, s->labels, le);
                gb_sbuf_printf(out, " %llu\n", cum);
            }
            gb_sbuf_printf(out, "%s_sum", s->name);
            put_labels(out, s->labels, NULL);
            gb_sbuf_putc(out, ' ');
            put_value(out, atomic_load(&s->sum));
            gb_sbuf_printf(out, "\n%s_count", s->name);
            put_labels(out, s->labels, NULL);
            gb_sbuf_printf(out, " %llu\n", (unsigned long long)atomic_load(&s->count));
            break;
        }
        }
    }
    free(v);
    pthread_mutex_unlock(&g_lock);
    return out->err;
}

void gb_tm_reset(void)
{
    pthread_mutex_lock(&g_lock);
    gb_series *s = g_head;
    while (s) {
        gb_series *n = s->next;
        free(s->name);
        free(s->help);
        free(s->labels);
        free(s->bounds);
        free(s->buckets);
        free(s);
        s = n;
    }
    g_head = NULL;
    pthread_mutex_unlock(&g_lock);
}
