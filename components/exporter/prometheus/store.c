/* prometheus exporter: accumulator + exposition (otelcol's prometheusexporter accumulator.go and
 * collector.go, without client_golang).
 *
 * What: every OTLP point becomes one series identified by its Prometheus family name and its
 * final, sorted label set (point attributes, scope labels, job/instance, promoted resource
 * attributes, const labels). Gauges, cumulative sums, cumulative histograms and summaries keep the
 * latest point by timestamp (an older point is ignored); monotonic DELTA sums and DELTA
 * histograms are added into a running cumulative value; non-monotonic delta sums and sums of
 * unspecified temporality are dropped (as otelcol). Non-monotonic cumulative sums are gauges.
 * Exponential histograms are exposed as classic histograms whose bucket bounds are the
 * exponential bucket boundaries (otelcol serves native histograms, which the text format cannot
 * carry). A point flagged "no recorded value" deletes its series. Series not updated for
 * metric_expiration disappear (checked at scrape and at most once a second on add). One
 * target_info series per (job, instance) carries the other resource attributes.
 *
 * How: two chained hash tables under one mutex: families by name (type, help, live series count)
 * and series by (family, rendered label text). Names and label text are computed outside the
 * lock with reusable buffers of the calling thread (one set per add call, not per point); the lock
 * covers only the lookup and the value update. Scrape sorts families and series (stable output)
 * and writes text 0.0.4 or OpenMetrics 1.0.0 under the lock. Memory is one heap record per live
 * series (+ its label text and bucket arrays), bounded by max_series when set.
 *
 * Rejected: keying series by otelcol's signature (type, scope, name, attributes, job, instance)
 * and building labels at scrape: two signatures that map to the same exposition line then make
 * a duplicate series (client_golang fails the scrape for it); keying by the final labels merges
 * them instead, and makes the scrape a plain walk. Rejected too: copying pdata into the store
 * (the batch arena dies with the batch; only the few numbers and the label text are kept). */
#include "exporter/prometheus/store.h"

#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

#define MAX_BUCKETS 4096

typedef enum prometheus_type {
    PT_GAUGE = 0,
    PT_COUNTER,
    PT_HISTOGRAM,
    PT_SUMMARY,
} prometheus_type;

static const char *const k_type_names[] = {"gauge", "counter", "histogram", "summary"};

typedef struct hnode {
    struct hnode *next;
    uint64_t hash;
} hnode;

typedef struct htab {
    hnode **b;
    size_t nb, n;
} htab;

typedef struct family {
    hnode h;
    char *name;
    char *help;
    prometheus_type type;
    uint64_t n_series;
} family;

typedef struct series {
    hnode h;
    family *fam;
    char *labels; /* a="b",c="d" (escaped), "" when none */
    uint32_t labels_len;
    int64_t updated; /* mono ns */
    uint64_t start_ns, time_ns;
    double value;
    uint64_t count;
    double sum;
    uint32_t n_b; /* histogram finite buckets: sorted unique bounds, per-bucket counts */
    double *bounds;
    uint64_t *bcounts;
    uint32_t n_q; /* summary: sorted unique quantiles */
    pd_quantile *q;
    struct target *target; /* target_info series: its (job, instance) entry */
} series;

typedef struct target {
    hnode h;
    char *key; /* job \n instance */
    series *s;
} target;

struct prometheus_store {
    pthread_mutex_t mu;
    prometheus_store_cfg cfg; /* strings below are owned copies */
    char *ns;
    promutil_label *const_labels;
    char **rcl_inc, **rcl_exc;
    char target_info_name[PROMUTIL_NAME_MAX];
    htab fams, series, targets;
    uint64_t n_series;
    int64_t last_sweep;
};

/* ---- hash tables ---------------------------------------------------------------------------- */

static uint64_t hash_mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static gb_status ht_grow(htab *t)
{
    if (t->n < t->nb) return GB_OK;
    size_t nb = t->nb ? t->nb * 2 : 64;
    hnode **b = calloc(nb, sizeof *b);
    if (!b) return t->nb ? GB_OK : GB_ERR_NOMEM; /* a full table still works, only slower */
    for (size_t i = 0; i < t->nb; i++) {
        for (hnode *n = t->b[i], *next; n; n = next) {
            next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(t->b);
    t->b = b;
    t->nb = nb;
    return GB_OK;
}

static gb_status ht_insert(htab *t, hnode *n)
{
    gb_status st = ht_grow(t);
    if (st != GB_OK) return st;
    hnode **slot = &t->b[n->hash & (t->nb - 1)];
    n->next = *slot;
    *slot = n;
    t->n++;
    return GB_OK;
}

static void ht_remove(htab *t, hnode *n)
{
    if (!t->nb) return;
    for (hnode **p = &t->b[n->hash & (t->nb - 1)]; *p; p = &(*p)->next) {
        if (*p == n) {
            *p = n->next;
            t->n--;
            return;
        }
    }
}

static hnode *ht_first(const htab *t, uint64_t hash)
{
    return t->nb ? t->b[hash & (t->nb - 1)] : NULL;
}

/* ---- store lifetime ------------------------------------------------------------------------- */

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

static void free_series_mem(series *s)
{
    free(s->labels);
    free(s->bounds);
    free(s->bcounts);
    free(s->q);
    free(s);
}

gb_status prometheus_store_new(const prometheus_store_cfg *cfg, prometheus_store **out)
{
    gb_status st = GB_ERR_NOMEM;
    prometheus_store *s = calloc(1, sizeof *s);
    if (!s) goto fail;
    pthread_mutex_init(&s->mu, NULL);
    s->cfg = *cfg;
    s->ns = dup_str(cfg->namespace_);
    if (!s->ns) goto fail;
    s->cfg.namespace_ = s->ns;
    if (cfg->n_const_labels) {
        s->const_labels = calloc(cfg->n_const_labels, sizeof *s->const_labels);
        if (!s->const_labels) goto fail;
        for (uint32_t i = 0; i < cfg->n_const_labels; i++) {
            s->const_labels[i].name = dup_str(cfg->const_labels[i].name);
            s->const_labels[i].value = dup_str(cfg->const_labels[i].value);
            if (!s->const_labels[i].name || !s->const_labels[i].value) goto fail;
        }
    }
    s->cfg.const_labels = s->const_labels;
    if (cfg->n_rcl_included) {
        s->rcl_inc = calloc(cfg->n_rcl_included, sizeof(char *));
        if (!s->rcl_inc) goto fail;
        for (uint32_t i = 0; i < cfg->n_rcl_included; i++)
            if (!(s->rcl_inc[i] = dup_str(cfg->rcl_included[i]))) goto fail;
    }
    if (cfg->n_rcl_excluded) {
        s->rcl_exc = calloc(cfg->n_rcl_excluded, sizeof(char *));
        if (!s->rcl_exc) goto fail;
        for (uint32_t i = 0; i < cfg->n_rcl_excluded; i++)
            if (!(s->rcl_exc[i] = dup_str(cfg->rcl_excluded[i]))) goto fail;
    }
    s->cfg.rcl_included = (const char *const *)s->rcl_inc;
    s->cfg.rcl_excluded = (const char *const *)s->rcl_exc;
    /* otelcol: label-namer-built namespace + "_target_info" */
    char nsl[PROMUTIL_NAME_MAX] = "";
    if (s->ns[0]) promutil_label_name(gb_str_c(s->ns), nsl, sizeof nsl);
    nsl[PROMUTIL_NAME_MAX - 64] = '\0'; /* leaves room for the suffix */
    snprintf(s->target_info_name, sizeof s->target_info_name, "%.*s%starget_info",
             PROMUTIL_NAME_MAX - 64, nsl, nsl[0] ? "_" : "");
    *out = s;
    return GB_OK;
fail:
    prometheus_store_free(s);
    *out = NULL;
    return st;
}

void prometheus_store_free(prometheus_store *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->series.nb; i++) {
        for (hnode *n = s->series.b[i], *next; n; n = next) {
            next = n->next;
            free_series_mem((series *)n);
        }
    }
    for (size_t i = 0; i < s->fams.nb; i++) {
        for (hnode *n = s->fams.b[i], *next; n; n = next) {
            next = n->next;
            family *f = (family *)n;
            free(f->name);
            free(f->help);
            free(f);
        }
    }
    for (size_t i = 0; i < s->targets.nb; i++) {
        for (hnode *n = s->targets.b[i], *next; n; n = next) {
            next = n->next;
            free(((target *)n)->key);
            free(n);
        }
    }
    free(s->series.b);
    free(s->fams.b);
    free(s->targets.b);
    for (uint32_t i = 0; s->const_labels && i < s->cfg.n_const_labels; i++) {
        free((char *)s->const_labels[i].name);
        free((char *)s->const_labels[i].value);
    }
    free(s->const_labels);
    for (uint32_t i = 0; s->rcl_inc && i < s->cfg.n_rcl_included; i++)
        free(s->rcl_inc[i]);
    for (uint32_t i = 0; s->rcl_exc && i < s->cfg.n_rcl_excluded; i++)
        free(s->rcl_exc[i]);
    free(s->rcl_inc);
    free(s->rcl_exc);
    free(s->ns);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

uint64_t prometheus_store_series(prometheus_store *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t n = s->n_series;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* ---- families and series (locked) ----------------------------------------------------------- */

static family *fam_find(prometheus_store *s, const char *name, uint64_t h)
{
    for (hnode *n = ht_first(&s->fams, h); n; n = n->next) {
        family *f = (family *)n;
        if (n->hash == h && strcmp(f->name, name) == 0) return f;
    }
    return NULL;
}

static gb_status fam_get(prometheus_store *s, const char *name, gb_str help, prometheus_type type,
                         family **out)
{
    uint64_t h = hash_mix(1469598103934665603ULL, name, strlen(name));
    family *f = fam_find(s, name, h);
    if (f) {
        *out = f;
        return GB_OK;
    }
    f = calloc(1, sizeof *f);
    if (!f) return GB_ERR_NOMEM;
    f->h.hash = h;
    f->name = strdup(name);
    f->help = strndup(help.ptr ? help.ptr : "", help.len);
    f->type = type;
    if (!f->name || !f->help || ht_insert(&s->fams, &f->h) != GB_OK) {
        free(f->name);
        free(f->help);
        free(f);
        return GB_ERR_NOMEM;
    }
    *out = f;
    return GB_OK;
}

static uint64_t series_hash(const family *f, const char *labels, size_t len)
{
    uint64_t h = hash_mix(1469598103934665603ULL, f->name, strlen(f->name));
    h = hash_mix(h, "\xff", 1);
    return hash_mix(h, labels, len);
}

static series *series_find(prometheus_store *s, const family *f, const char *labels, size_t len,
                           uint64_t h)
{
    for (hnode *n = ht_first(&s->series, h); n; n = n->next) {
        series *x = (series *)n;
        if (n->hash == h && x->fam == f && x->labels_len == len &&
            memcmp(x->labels, labels, len) == 0)
            return x;
    }
    return NULL;
}

static void series_delete(prometheus_store *s, series *x)
{
    ht_remove(&s->series, &x->h);
    s->n_series--;
    family *f = x->fam;
    if (--f->n_series == 0) {
        ht_remove(&s->fams, &f->h);
        free(f->name);
        free(f->help);
        free(f);
    }
    if (x->target) {
        ht_remove(&s->targets, &x->target->h);
        free(x->target->key);
        free(x->target);
    }
    free_series_mem(x);
}

static void sweep_locked(prometheus_store *s, int64_t now)
{
    s->last_sweep = now;
    if (s->cfg.expiration_ns <= 0) return;
    for (size_t i = 0; i < s->series.nb; i++) {
        for (hnode *n = s->series.b[i], *next; n; n = next) {
            next = n->next;
            series *x = (series *)n;
            if (now - x->updated > s->cfg.expiration_ns) series_delete(s, x);
        }
    }
}

/* ---- one point ------------------------------------------------------------------------------ */

/* A translated point, computed outside the lock. */
typedef struct pt {
    prometheus_type type;
    bool delta;
    bool no_value;
    uint64_t start_ns, time_ns;
    double value;
    uint64_t count;
    double sum;
    uint32_t n_b;
    double *bounds; /* scratch */
    uint64_t *bcounts;
    uint32_t n_q;
    pd_quantile *q; /* scratch */
} pt;

/* Merges the point's buckets into x (union by bound value; same bounds -> element-wise add). */
static gb_status merge_buckets(series *x, const pt *p)
{
    uint32_t n = 0, i = 0, j = 0;
    uint32_t cap = x->n_b + p->n_b;
    if (cap > MAX_BUCKETS) return GB_ERR_LIMIT;
    double *nb = malloc((cap ? cap : 1) * sizeof *nb);
    uint64_t *nc = malloc((cap ? cap : 1) * sizeof *nc);
    if (!nb || !nc) {
        free(nb);
        free(nc);
        return GB_ERR_NOMEM;
    }
    while (i < x->n_b || j < p->n_b) {
        if (j >= p->n_b || (i < x->n_b && x->bounds[i] < p->bounds[j])) {
            nb[n] = x->bounds[i];
            nc[n++] = x->bcounts[i++];
        } else if (i >= x->n_b || p->bounds[j] < x->bounds[i]) {
            nb[n] = p->bounds[j];
            nc[n++] = p->bcounts[j++];
        } else {
            nb[n] = x->bounds[i];
            nc[n++] = x->bcounts[i++] + p->bcounts[j++];
        }
    }
    free(x->bounds);
    free(x->bcounts);
    x->bounds = nb;
    x->bcounts = nc;
    x->n_b = n;
    return GB_OK;
}

static gb_status set_buckets(series *x, const pt *p)
{
    double *nb = NULL;
    uint64_t *nc = NULL;
    if (p->n_b) {
        nb = malloc(p->n_b * sizeof *nb);
        nc = malloc(p->n_b * sizeof *nc);
        if (!nb || !nc) {
            free(nb);
            free(nc);
            return GB_ERR_NOMEM;
        }
        memcpy(nb, p->bounds, p->n_b * sizeof *nb);
        memcpy(nc, p->bcounts, p->n_b * sizeof *nc);
    }
    free(x->bounds);
    free(x->bcounts);
    x->bounds = nb;
    x->bcounts = nc;
    x->n_b = p->n_b;
    return GB_OK;
}

static gb_status set_quantiles(series *x, const pt *p)
{
    pd_quantile *q = NULL;
    if (p->n_q) {
        q = malloc(p->n_q * sizeof *q);
        if (!q) return GB_ERR_NOMEM;
        memcpy(q, p->q, p->n_q * sizeof *q);
    }
    free(x->q);
    x->q = q;
    x->n_q = p->n_q;
    return GB_OK;
}

/* Applies p to x (new says x was just created) and marks x updated at now, unless p is older
 * than what x holds (otelcol ignores such a point, and it does not refresh the series). */
static gb_status apply_point(series *x, const pt *p, bool isnew, int64_t now)
{
    gb_status st = GB_OK;
    bool accumulate = p->delta && !isnew;
    if (!accumulate && !isnew && p->time_ns < x->time_ns) return GB_OK; /* stale: keep latest */
    x->updated = now;
    switch (p->type) {
    case PT_GAUGE:
    case PT_COUNTER:
        if (accumulate) {
            x->value += p->value;
        } else {
            x->value = p->value;
            x->start_ns = p->start_ns;
        }
        break;
    case PT_HISTOGRAM:
        if (accumulate) {
            st = merge_buckets(x, p);
            if (st == GB_ERR_LIMIT) { /* too many distinct bounds: restart from this point */
                st = set_buckets(x, p);
                if (st != GB_OK) return st;
                x->count = p->count;
                x->sum = p->sum;
                x->start_ns = p->start_ns;
                break;
            }
            if (st != GB_OK) return st;
            x->count += p->count;
            x->sum += p->sum;
        } else {
            st = set_buckets(x, p);
            if (st != GB_OK) return st;
            x->count = p->count;
            x->sum = p->sum;
            x->start_ns = p->start_ns;
        }
        break;
    case PT_SUMMARY:
        st = set_quantiles(x, p);
        if (st != GB_OK) return st;
        x->count = p->count;
        x->sum = p->sum;
        x->start_ns = p->start_ns;
        break;
    }
    if (isnew && !x->start_ns) x->start_ns = p->start_ns;
    if (p->time_ns > x->time_ns || isnew) x->time_ns = p->time_ns;
    return GB_OK;
}

static void drop(prometheus_add_stats *st, uint64_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void drop(prometheus_add_stats *st, uint64_t n, const char *fmt, ...)
{
    st->dropped += n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->reason, sizeof st->reason, fmt, ap);
    va_end(ap);
}

/* Stores one translated point under (family name, label text). Takes the lock. */
static gb_status store_point(prometheus_store *s, const char *name, gb_str help, const pt *p,
                             const char *labels, size_t llen, int64_t now, target *tgt_new,
                             prometheus_add_stats *stats)
{
    gb_status st = GB_OK;
    pthread_mutex_lock(&s->mu);
    if (s->cfg.expiration_ns > 0 && now - s->last_sweep > 1000000000LL) sweep_locked(s, now);
    family *f = NULL;
    uint64_t h0 = hash_mix(1469598103934665603ULL, name, strlen(name));
    f = fam_find(s, name, h0);
    if (f && f->type != p->type) {
        drop(stats, 1, "instrument type conflict for %s (the first type seen is kept)", name);
        goto out;
    }
    family tmpf = {.name = (char *)name};
    uint64_t h = series_hash(f ? f : &tmpf, labels, llen);
    series *x = f ? series_find(s, f, labels, llen, h) : NULL;
    if (p->no_value) {
        if (x && !x->target) series_delete(s, x);
        goto out;
    }
    bool isnew = false;
    if (!x) {
        if (s->cfg.max_series && s->n_series >= s->cfg.max_series) {
            drop(stats, 1, "max_series reached: new series of %s dropped", name);
            goto out;
        }
        if (!f) {
            st = fam_get(s, name, help, p->type, &f);
            if (st != GB_OK) goto out;
        }
        x = calloc(1, sizeof *x);
        if (!x || !(x->labels = malloc(llen + 1))) {
            free(x);
            st = GB_ERR_NOMEM;
            goto fam_cleanup;
        }
        memcpy(x->labels, labels, llen);
        x->labels[llen] = '\0';
        x->labels_len = (uint32_t)llen;
        x->fam = f;
        x->h.hash = h;
        if (ht_insert(&s->series, &x->h) != GB_OK) {
            free_series_mem(x);
            st = GB_ERR_NOMEM;
            goto fam_cleanup;
        }
        f->n_series++;
        s->n_series++;
        isnew = true;
        if (tgt_new) {
            /* target_info: one series per (job, instance); a changed attribute set replaces
             * the previous series */
            for (hnode *n = ht_first(&s->targets, tgt_new->h.hash); n; n = n->next) {
                target *t = (target *)n;
                if (n->hash == tgt_new->h.hash && strcmp(t->key, tgt_new->key) == 0) {
                    series_delete(s, t->s); /* frees t too */
                    break;
                }
            }
            target *t = calloc(1, sizeof *t);
            if (t && (t->key = strdup(tgt_new->key))) {
                t->h.hash = tgt_new->h.hash;
                t->s = x;
                if (ht_insert(&s->targets, &t->h) == GB_OK) {
                    x->target = t;
                } else {
                    free(t->key);
                    free(t);
                }
            } else {
                free(t);
            }
        }
    }
    st = apply_point(x, p, isnew, now);
    if (st == GB_OK) stats->points++;
    goto out;
fam_cleanup:
    if (f && f->n_series == 0) {
        ht_remove(&s->fams, &f->h);
        free(f->name);
        free(f->help);
        free(f);
    }
out:
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* ---- translation (unlocked) ----------------------------------------------------------------- */

typedef struct scratch {
    promutil_labels ls;
    gb_sbuf lab; /* rendered label text */
    gb_sbuf tmp;
    double *bounds;
    uint64_t *bcounts;
    uint32_t bcap;
    pd_quantile *q;
    uint32_t qcap;
    pd_kv *rattrs; /* promoted resource attributes */
    uint32_t rcap;
} scratch;

static void scratch_free(scratch *w)
{
    promutil_labels_free(&w->ls);
    gb_sbuf_free(&w->lab);
    gb_sbuf_free(&w->tmp);
    free(w->bounds);
    free(w->bcounts);
    free(w->q);
    free(w->rattrs);
}

static gb_status ensure_buckets(scratch *w, uint32_t n)
{
    if (n <= w->bcap) return GB_OK;
    double *b = realloc(w->bounds, n * sizeof *b);
    if (!b) return GB_ERR_NOMEM;
    w->bounds = b;
    uint64_t *c = realloc(w->bcounts, n * sizeof *c);
    if (!c) return GB_ERR_NOMEM;
    w->bcounts = c;
    w->bcap = n;
    return GB_OK;
}

/* Room for n promoted / filtered resource attributes. */
static gb_status ensure_rattrs(scratch *w, uint32_t n)
{
    if (n <= w->rcap) return GB_OK;
    pd_kv *v = realloc(w->rattrs, n * sizeof *v);
    if (!v) return GB_ERR_NOMEM;
    w->rattrs = v;
    w->rcap = n;
    return GB_OK;
}

static void escape_label_value(gb_sbuf *o, const char *v)
{
    for (const char *p = v; *p; p++) {
        switch (*p) {
        case '\\':
            gb_sbuf_append(o, "\\\\", 2);
            break;
        case '"':
            gb_sbuf_append(o, "\\\"", 2);
            break;
        case '\n':
            gb_sbuf_append(o, "\\n", 2);
            break;
        default:
            gb_sbuf_putc(o, *p);
            break;
        }
    }
}

/* Renders the finished label set as a="b",c="d". */
static gb_status render_labels(const promutil_labels *ls, gb_sbuf *o)
{
    gb_sbuf_reset(o);
    for (uint32_t i = 0; i < ls->n; i++) {
        if (i) gb_sbuf_putc(o, ',');
        gb_sbuf_puts(o, ls->v[i].name);
        gb_sbuf_append(o, "=\"", 2);
        escape_label_value(o, ls->v[i].value);
        gb_sbuf_putc(o, '"');
    }
    gb_sbuf_append(o, "", 0);
    return o->err;
}

static bool is_service_key(gb_str k)
{
    return gb_str_eq_c(k, "service.name") || gb_str_eq_c(k, "service.namespace") ||
           gb_str_eq_c(k, "service.instance.id");
}

static bool key_matches(gb_str key, const char *const *pats, uint32_t n, char *buf, size_t len)
{
    snprintf(buf, len, "%.*s", GB_STR_FMT(key));
    for (uint32_t i = 0; i < n; i++)
        if (fnmatch(pats[i], buf, 0) == 0) return true;
    return false;
}

/* The resource attributes promoted to labels (resource_constant_labels, else
 * resource_to_telemetry_conversion). */
static gb_status promoted_attrs(const prometheus_store *s, scratch *w, const pd_attrs *ra,
                                pd_attrs *out)
{
    out->v = NULL;
    out->n = out->cap = 0;
    const prometheus_store_cfg *c = &s->cfg;
    if (!c->rcl_set && !c->resource_to_telemetry) return GB_OK;
    gb_status st = ensure_rattrs(w, ra->n);
    if (st != GB_OK) return st;
    char key[512];
    for (uint32_t i = 0; i < ra->n; i++) {
        gb_str k = ra->v[i].key;
        bool keep;
        if (c->rcl_set) {
            keep = (c->n_rcl_included == 0 && c->n_rcl_excluded > 0) ||
                   key_matches(k, c->rcl_included, c->n_rcl_included, key, sizeof key);
            if (keep && key_matches(k, c->rcl_excluded, c->n_rcl_excluded, key, sizeof key))
                keep = false;
        } else {
            keep = !(c->exclude_service_attributes && is_service_key(k));
        }
        if (keep) w->rattrs[out->n++] = ra->v[i];
    }
    out->v = w->rattrs;
    return GB_OK;
}

static double num_value(const pd_number_dp *dp)
{
    return dp->value_type == PD_NUM_INT ? (double)dp->value.i : dp->value.d;
}

/* Explicit-bound histogram point -> sorted unique finite bounds with per-bucket counts (otelcol:
 * the first bucket of a duplicated bound counts; NaN bounds are skipped). */
static gb_status hist_point(scratch *w, const pd_histogram_dp *dp, pt *p)
{
    p->count = dp->count;
    p->sum = dp->has_sum ? dp->sum : 0;
    p->n_b = 0;
    p->bounds = w->bounds;
    p->bcounts = w->bcounts;
    /* more bounds than MAX_BUCKETS: only +Inf, _sum, _count (the sort below is quadratic) */
    if (dp->n_explicit_bounds > MAX_BUCKETS) return GB_OK;
    gb_status st = ensure_buckets(w, dp->n_explicit_bounds + 1);
    if (st != GB_OK) return st;
    uint32_t n = 0;
    for (uint32_t i = 0; i < dp->n_explicit_bounds; i++) {
        double b = dp->explicit_bounds[i];
        if (isnan(b)) continue;
        uint64_t c = i < dp->n_bucket_counts ? dp->bucket_counts[i] : 0;
        /* insertion into the sorted array; skip duplicates */
        uint32_t j = n;
        bool dup = false;
        while (j > 0 && w->bounds[j - 1] >= b) {
            if (w->bounds[j - 1] == b) {
                dup = true;
                break;
            }
            j--;
        }
        if (dup) continue;
        memmove(w->bounds + j + 1, w->bounds + j, (n - j) * sizeof *w->bounds);
        memmove(w->bcounts + j + 1, w->bcounts + j, (n - j) * sizeof *w->bcounts);
        w->bounds[j] = b;
        w->bcounts[j] = c;
        n++;
    }
    /* an explicit +Inf bound is the +Inf bucket itself */
    if (n && isinf(w->bounds[n - 1]) && w->bounds[n - 1] > 0) n--;
    p->n_b = n;
    p->bounds = w->bounds;
    p->bcounts = w->bcounts;
    return GB_OK;
}

/* Exponential histogram point -> classic buckets at the exponential boundaries: negative
 * buckets (upper bound -base^k), the zero bucket (upper bound zero_threshold), positive buckets
 * (upper bound base^(k+1)), base = 2^(2^-scale). */
static gb_status exp_hist_point(scratch *w, const pd_exp_histogram_dp *dp, pt *p)
{
    uint32_t nneg = dp->negative.n_bucket_counts, npos = dp->positive.n_bucket_counts;
    p->count = dp->count;
    p->sum = dp->has_sum ? dp->sum : 0;
    p->n_b = 0;
    p->bounds = w->bounds;
    p->bcounts = w->bcounts;
    /* only +Inf, _sum, _count for too many buckets or a scale outside the spec's [-10, 20] */
    if ((uint64_t)nneg + npos + 1 > MAX_BUCKETS || dp->scale < -10 || dp->scale > 20) return GB_OK;
    gb_status st = ensure_buckets(w, nneg + npos + 1);
    if (st != GB_OK) return st;
    p->bounds = w->bounds;
    p->bcounts = w->bcounts;
    double inv = ldexp(1.0, -dp->scale); /* 2^-scale: exponent step per bucket */
    uint32_t n = 0;
    for (uint32_t i = nneg; i-- > 0;) {
        double k = (double)dp->negative.offset + i;
        double b = -exp2(k * inv);
        if (n && b <= w->bounds[n - 1]) { /* -Inf or equal after rounding: same bucket */
            w->bcounts[n - 1] += dp->negative.bucket_counts[i];
            continue;
        }
        w->bounds[n] = b;
        w->bcounts[n++] = dp->negative.bucket_counts[i];
    }
    double zt = dp->zero_threshold > 0 ? dp->zero_threshold : 0;
    if (n == 0 || w->bounds[n - 1] < zt) {
        w->bounds[n] = zt;
        w->bcounts[n++] = dp->zero_count;
    } else {
        w->bcounts[n - 1] += dp->zero_count;
    }
    for (uint32_t i = 0; i < npos; i++) {
        double k = (double)dp->positive.offset + i + 1;
        double b = exp2(k * inv);
        if (isinf(b)) break;              /* beyond the largest double: only in +Inf (the count) */
        if (n && b <= w->bounds[n - 1]) { /* equal after rounding: same bucket */
            w->bcounts[n - 1] += dp->positive.bucket_counts[i];
            continue;
        }
        w->bounds[n] = b;
        w->bcounts[n++] = dp->positive.bucket_counts[i];
    }
    p->n_b = n;
    return GB_OK;
}

static gb_status summary_point(scratch *w, const pd_summary_dp *dp, pt *p)
{
    if (dp->n_quantiles > w->qcap) {
        pd_quantile *q = realloc(w->q, dp->n_quantiles * sizeof *q);
        if (!q) return GB_ERR_NOMEM;
        w->q = q;
        w->qcap = dp->n_quantiles;
    }
    uint32_t n = 0;
    /* at most MAX_BUCKETS quantiles (the insertion below is quadratic); the rest are ignored */
    uint32_t nq = dp->n_quantiles > MAX_BUCKETS ? MAX_BUCKETS : dp->n_quantiles;
    for (uint32_t i = 0; i < nq; i++) {
        pd_quantile q = dp->quantiles[i];
        if (isnan(q.quantile)) continue;
        uint32_t j = n;
        bool dup = false;
        while (j > 0 && w->q[j - 1].quantile >= q.quantile) {
            if (w->q[j - 1].quantile == q.quantile) {
                w->q[j - 1].value = q.value; /* a map: the last one wins */
                dup = true;
                break;
            }
            j--;
        }
        if (dup) continue;
        memmove(w->q + j + 1, w->q + j, (n - j) * sizeof *w->q);
        w->q[j] = q;
        n++;
    }
    p->n_q = n;
    p->q = w->q;
    p->count = dp->count;
    p->sum = dp->sum;
    return GB_OK;
}

static const pd_attrs *point_attrs(const pd_metric *m, uint32_t i)
{
    switch (m->type) {
    case PD_METRIC_GAUGE:
    case PD_METRIC_SUM:
        return &m->dp.number[i].attrs;
    case PD_METRIC_HISTOGRAM:
        return &m->dp.histogram[i].attrs;
    case PD_METRIC_EXP_HISTOGRAM:
        return &m->dp.exp_histogram[i].attrs;
    case PD_METRIC_SUMMARY:
        return &m->dp.summary[i].attrs;
    default:
        return NULL;
    }
}

static gb_status translate_point(scratch *w, const pd_metric *m, uint32_t i, pt *p)
{
    memset(p, 0, sizeof *p);
    uint32_t flags = 0;
    switch (m->type) {
    case PD_METRIC_GAUGE:
    case PD_METRIC_SUM: {
        const pd_number_dp *dp = &m->dp.number[i];
        p->type = m->type == PD_METRIC_SUM && m->is_monotonic ? PT_COUNTER : PT_GAUGE;
        p->delta = m->type == PD_METRIC_SUM && m->temporality == PD_TEMPORALITY_DELTA;
        p->value = num_value(dp);
        p->start_ns = dp->start_time_unix_nano;
        p->time_ns = dp->time_unix_nano;
        flags = dp->flags;
        break;
    }
    case PD_METRIC_HISTOGRAM: {
        const pd_histogram_dp *dp = &m->dp.histogram[i];
        p->type = PT_HISTOGRAM;
        p->delta = m->temporality == PD_TEMPORALITY_DELTA;
        p->start_ns = dp->start_time_unix_nano;
        p->time_ns = dp->time_unix_nano;
        flags = dp->flags;
        if (!(flags & 1)) {
            gb_status st = hist_point(w, dp, p);
            if (st != GB_OK) return st;
        }
        break;
    }
    case PD_METRIC_EXP_HISTOGRAM: {
        const pd_exp_histogram_dp *dp = &m->dp.exp_histogram[i];
        p->type = PT_HISTOGRAM;
        p->delta = m->temporality == PD_TEMPORALITY_DELTA;
        p->start_ns = dp->start_time_unix_nano;
        p->time_ns = dp->time_unix_nano;
        flags = dp->flags;
        if (!(flags & 1)) {
            gb_status st = exp_hist_point(w, dp, p);
            if (st != GB_OK) return st;
        }
        break;
    }
    case PD_METRIC_SUMMARY: {
        const pd_summary_dp *dp = &m->dp.summary[i];
        p->type = PT_SUMMARY;
        p->start_ns = dp->start_time_unix_nano;
        p->time_ns = dp->time_unix_nano;
        flags = dp->flags;
        if (!(flags & 1)) {
            gb_status st = summary_point(w, dp, p);
            if (st != GB_OK) return st;
        }
        break;
    }
    default:
        return GB_ERR_UNSUPPORTED;
    }
    p->no_value = (flags & 1) != 0; /* DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK */
    return GB_OK;
}

/* target_info of one resource: other resource attributes + job + instance; key job \n instance.
 * *have is false when the resource has neither job nor instance (otelcol emits none then). */
static gb_status target_labels(scratch *w, const pd_resource *res, gb_sbuf *key, bool *have)
{
    gb_status st = GB_OK;
    gb_sbuf job, inst;
    gb_sbuf_init(&job, 0);
    gb_sbuf_init(&inst, 0);
    *have = false;
    promutil_job_instance(&res->attrs, &job, &inst);
    if (job.err || inst.err) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    if (!job.len && !inst.len) goto out;
    *have = true;
    promutil_labels_reset(&w->ls);
    /* the service.* attributes become job / instance; the rest are labels (colliding names
     * joined with ';' like otelcol) */
    st = ensure_rattrs(w, res->attrs.n);
    if (st != GB_OK) goto out;
    pd_attrs other = {w->rattrs, 0, 0};
    for (uint32_t i = 0; i < res->attrs.n; i++)
        if (!is_service_key(res->attrs.v[i].key)) w->rattrs[other.n++] = res->attrs.v[i];
    st = promutil_labels_put_attrs(&w->ls, &other, NULL, PROMUTIL_JOIN);
    if (st != GB_OK) goto out;
    if (job.len)
        st = promutil_labels_put(&w->ls, GB_STR_LIT("job"), gb_str_n(job.data, job.len),
                                 PROMUTIL_REPLACE);
    if (st == GB_OK && inst.len)
        st = promutil_labels_put(&w->ls, GB_STR_LIT("instance"), gb_str_n(inst.data, inst.len),
                                 PROMUTIL_REPLACE);
    if (st == GB_OK) st = promutil_labels_finish(&w->ls);
    if (st == GB_OK) st = render_labels(&w->ls, &w->lab);
    gb_sbuf_reset(key);
    gb_sbuf_append(key, job.data, job.len);
    gb_sbuf_putc(key, '\n');
    gb_sbuf_append(key, inst.data, inst.len);
    if (st == GB_OK && key->err) st = key->err;
out:
    gb_sbuf_free(&job);
    gb_sbuf_free(&inst);
    return st;
}

gb_status prometheus_store_add(prometheus_store *s, const pd_batch *b, int64_t now,
                               prometheus_add_stats *stats)
{
    gb_status st = GB_OK;
    scratch w;
    memset(&w, 0, sizeof w);
    promutil_labels_init(&w.ls);
    gb_sbuf_init(&w.lab, 0);
    gb_sbuf_init(&w.tmp, 0);
    gb_sbuf tkey;
    gb_sbuf_init(&tkey, 0);
    memset(stats, 0, sizeof *stats);
    if (b->signal != PD_METRICS) goto out;
    for (uint32_t r = 0; r < b->u.metrics.n && st == GB_OK; r++) {
        const pd_resource_metrics *rm = &b->u.metrics.v[r];
        /* target_info */
        bool have = false;
        st = target_labels(&w, &rm->resource, &tkey, &have);
        if (st != GB_OK) goto out;
        if (have) {
            target t = {.key = tkey.data};
            t.h.hash = hash_mix(1469598103934665603ULL, tkey.data, tkey.len);
            pt p = {.type = PT_GAUGE, .value = 1};
            uint64_t before = stats->points; /* target_info is not an OTLP point */
            st = store_point(s, s->target_info_name, GB_STR_LIT("Target metadata"), &p, w.lab.data,
                             w.lab.len, now, &t, stats);
            stats->points = before;
            if (st != GB_OK) goto out;
        }
        pd_attrs promoted;
        st = promoted_attrs(s, &w, &rm->resource.attrs, &promoted);
        if (st != GB_OK) goto out;
        for (uint32_t k = 0; k < rm->n_scope_metrics && st == GB_OK; k++) {
            const pd_scope_metrics *sm = &rm->scope_metrics[k];
            for (uint32_t j = 0; j < sm->n_metrics && st == GB_OK; j++) {
                const pd_metric *m = &sm->metrics[j];
                char name[PROMUTIL_NAME_MAX];
                if (m->type == PD_METRIC_EMPTY || !m->n_dp) continue;
                if (promutil_metric_name(m, s->ns, s->cfg.add_suffixes, name, sizeof name) !=
                    GB_OK) {
                    snprintf(name, sizeof name, "%.*s",
                             (int)(m->name.len > 100 ? 100 : m->name.len),
                             m->name.ptr ? m->name.ptr : "");
                    drop(stats, m->n_dp, "metric name \"%s\" has no valid Prometheus form", name);
                    continue;
                }
                if (m->type == PD_METRIC_SUM &&
                    (m->temporality == PD_TEMPORALITY_UNSPECIFIED ||
                     (m->temporality == PD_TEMPORALITY_DELTA && !m->is_monotonic))) {
                    drop(stats, m->n_dp,
                         "%s: sums with unspecified temporality and non-monotonic delta sums "
                         "are not exported",
                         name);
                    continue;
                }
                if ((m->type == PD_METRIC_HISTOGRAM || m->type == PD_METRIC_EXP_HISTOGRAM) &&
                    m->temporality == PD_TEMPORALITY_UNSPECIFIED) {
                    drop(stats, m->n_dp, "%s: histogram with unspecified temporality", name);
                    continue;
                }
                for (uint32_t i = 0; i < m->n_dp && st == GB_OK; i++) {
                    pt p;
                    st = translate_point(&w, m, i, &p);
                    if (st == GB_ERR_UNSUPPORTED) {
                        st = GB_OK;
                        continue;
                    }
                    if (st != GB_OK) goto out;
                    promutil_label_opts o = {
                        .resource_to_telemetry = promoted.n > 0,
                        .promoted = &promoted,
                        .scope_labels = !s->cfg.without_scope_info,
                        .job_instance = true,
                    };
                    st = promutil_point_labels(&w.ls, &rm->resource, &sm->scope, point_attrs(m, i),
                                               &o);
                    if (st == GB_OK && !s->cfg.without_scope_info)
                        st = promutil_labels_put(&w.ls, GB_STR_LIT("otel_scope_schema_url"),
                                                 sm->schema_url, PROMUTIL_REPLACE);
                    for (uint32_t c = 0; st == GB_OK && c < s->cfg.n_const_labels; c++)
                        st = promutil_labels_put(&w.ls, gb_str_c(s->const_labels[c].name),
                                                 gb_str_c(s->const_labels[c].value), PROMUTIL_KEEP);
                    if (st == GB_OK) st = promutil_labels_finish(&w.ls);
                    if (st == GB_OK) st = render_labels(&w.ls, &w.lab);
                    if (st != GB_OK) goto out;
                    st = store_point(s, name, m->description, &p, w.lab.data, w.lab.len, now, NULL,
                                     stats);
                }
            }
        }
    }
out:
    scratch_free(&w);
    gb_sbuf_free(&tkey);
    return st;
}

/* ---- exposition ----------------------------------------------------------------------------- */

static int fam_cmp(const void *a, const void *b)
{
    const family *x = *(const family *const *)a, *y = *(const family *const *)b;
    return strcmp(x->name, y->name);
}

static int series_cmp(const void *a, const void *b)
{
    const series *x = *(const series *const *)a, *y = *(const series *const *)b;
    int c = strcmp(x->fam->name, y->fam->name);
    return c ? c : strcmp(x->labels, y->labels);
}

static void put_float(gb_sbuf *o, double v, bool om)
{
    char buf[48];
    promutil_format_float(v, buf, sizeof buf);
    gb_sbuf_puts(o, buf);
    /* OpenMetrics floats: integral values get ".0" (client_golang writeOpenMetricsFloat) */
    if (om && !strpbrk(buf, ".eIN")) gb_sbuf_append(o, ".0", 2);
}

static void put_help(gb_sbuf *o, const char *h, bool om)
{
    for (const char *p = h; *p; p++) {
        if (*p == '\\')
            gb_sbuf_append(o, "\\\\", 2);
        else if (*p == '\n')
            gb_sbuf_append(o, "\\n", 2);
        else if (om && *p == '"')
            gb_sbuf_append(o, "\\\"", 2);
        else
            gb_sbuf_putc(o, *p);
    }
}

typedef struct line_ctx {
    gb_sbuf *o;
    const series *x;
    bool om;
    bool ts;
} line_ctx;

/* name suffix {labels[,extra="v"]} */
static void line_start(const line_ctx *l, const char *name, const char *suffix,
                       const char *extra_name, double extra, bool has_extra)
{
    gb_sbuf *o = l->o;
    gb_sbuf_puts(o, name);
    gb_sbuf_puts(o, suffix);
    if (l->x->labels_len || has_extra) {
        gb_sbuf_putc(o, '{');
        gb_sbuf_append(o, l->x->labels, l->x->labels_len);
        if (has_extra) {
            if (l->x->labels_len) gb_sbuf_putc(o, ',');
            gb_sbuf_puts(o, extra_name);
            gb_sbuf_append(o, "=\"", 2);
            put_float(o, extra, l->om);
            gb_sbuf_putc(o, '"');
        }
        gb_sbuf_putc(o, '}');
    }
    gb_sbuf_putc(o, ' ');
}

static void line_end(const line_ctx *l)
{
    if (l->ts) {
        if (l->om) {
            char buf[48];
            snprintf(buf, sizeof buf, " %llu.%03llu",
                     (unsigned long long)(l->x->time_ns / 1000000000ULL),
                     (unsigned long long)(l->x->time_ns / 1000000ULL % 1000ULL));
            gb_sbuf_puts(l->o, buf);
        } else {
            gb_sbuf_printf(l->o, " %llu", (unsigned long long)(l->x->time_ns / 1000000ULL));
        }
    }
    gb_sbuf_putc(l->o, '\n');
}

static void put_count(const line_ctx *l, uint64_t c)
{
    if (l->om)
        gb_sbuf_printf(l->o, "%llu", (unsigned long long)c);
    else
        put_float(l->o, (double)c, false);
}

static void put_created(const line_ctx *l, const char *name)
{
    if (!l->om || !l->x->start_ns || l->x->start_ns / 1000000000ULL == 0) return;
    line_start(l, name, "_created", NULL, 0, false);
    put_float(l->o, (double)l->x->start_ns / 1e9, true);
    gb_sbuf_putc(l->o, '\n');
}

static void render_series(const line_ctx *l, const family *f, const char *fname)
{
    const series *x = l->x;
    switch (f->type) {
    case PT_GAUGE:
        line_start(l, fname, "", NULL, 0, false);
        put_float(l->o, x->value, l->om);
        line_end(l);
        break;
    case PT_COUNTER:
        line_start(l, fname, l->om ? "_total" : "", NULL, 0, false);
        put_float(l->o, x->value, l->om);
        line_end(l);
        put_created(l, fname);
        break;
    case PT_HISTOGRAM: {
        uint64_t cum = 0;
        for (uint32_t i = 0; i < x->n_b; i++) {
            cum += x->bcounts[i];
            line_start(l, fname, "_bucket", "le", x->bounds[i], true);
            put_count(l, cum);
            line_end(l);
        }
        line_start(l, fname, "_bucket", "le", INFINITY, true);
        put_count(l, x->count);
        line_end(l);
        line_start(l, fname, "_sum", NULL, 0, false);
        put_float(l->o, x->sum, l->om);
        line_end(l);
        line_start(l, fname, "_count", NULL, 0, false);
        put_count(l, x->count);
        line_end(l);
        put_created(l, fname);
        break;
    }
    case PT_SUMMARY:
        for (uint32_t i = 0; i < x->n_q; i++) {
            line_start(l, fname, "", "quantile", x->q[i].quantile, true);
            put_float(l->o, x->q[i].value, l->om);
            line_end(l);
        }
        line_start(l, fname, "_sum", NULL, 0, false);
        put_float(l->o, x->sum, l->om);
        line_end(l);
        line_start(l, fname, "_count", NULL, 0, false);
        put_count(l, x->count);
        line_end(l);
        put_created(l, fname);
        break;
    }
}

gb_status prometheus_store_render(prometheus_store *s, bool om, int64_t now, gb_sbuf *o)
{
    gb_status st = GB_OK;
    family **fams = NULL;
    series **ser = NULL;
    pthread_mutex_lock(&s->mu);
    sweep_locked(s, now);
    size_t nf = s->fams.n, ns = s->series.n;
    fams = malloc((nf ? nf : 1) * sizeof *fams);
    ser = malloc((ns ? ns : 1) * sizeof *ser);
    if (!fams || !ser) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->fams.nb; i++)
        for (hnode *n = s->fams.b[i]; n; n = n->next)
            fams[k++] = (family *)n;
    k = 0;
    for (size_t i = 0; i < s->series.nb; i++)
        for (hnode *n = s->series.b[i]; n; n = n->next)
            ser[k++] = (series *)n;
    qsort(fams, nf, sizeof *fams, fam_cmp);
    qsort(ser, ns, sizeof *ser, series_cmp);
    size_t si = 0;
    char fname[PROMUTIL_NAME_MAX];
    for (size_t fi = 0; fi < nf; fi++) {
        const family *f = fams[fi];
        snprintf(fname, sizeof fname, "%s", f->name);
        if (om && f->type == PT_COUNTER) {
            size_t len = strlen(fname);
            if (len > 6 && strcmp(fname + len - 6, "_total") == 0) fname[len - 6] = '\0';
        }
        gb_sbuf_append(o, "# HELP ", 7);
        gb_sbuf_puts(o, fname);
        gb_sbuf_putc(o, ' ');
        put_help(o, f->help, om);
        gb_sbuf_append(o, "\n# TYPE ", 8);
        gb_sbuf_puts(o, fname);
        gb_sbuf_putc(o, ' ');
        gb_sbuf_puts(o, k_type_names[f->type]);
        gb_sbuf_putc(o, '\n');
        while (si < ns && ser[si]->fam != f && strcmp(ser[si]->fam->name, f->name) < 0)
            si++;
        for (; si < ns && ser[si]->fam == f; si++) {
            line_ctx l = {
                .o = o, .x = ser[si], .om = om, .ts = s->cfg.send_timestamps && !ser[si]->target};
            render_series(&l, f, fname);
        }
    }
    if (om) gb_sbuf_puts(o, "# EOF\n");
    st = o->err;
out:
    pthread_mutex_unlock(&s->mu);
    free(fams);
    free(ser);
    return st;
}
