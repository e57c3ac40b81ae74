/* memory_limiter processor (otelcol processor/memorylimiterprocessor).
 *
 * What: a checker thread samples the process RSS every check_interval. The hard limit is
 * limit_mib (or limit_percentage of the machine/cgroup memory), the soft limit is hard minus
 * spike (spike defaults to 20% of the limit). While the last sample is above the soft limit,
 * consume refuses data with GB_ERR_RETRY (receivers answer 503 / UNAVAILABLE) so clients back off;
 * when a sample falls below the soft limit data flows again. State changes are logged once.
 *
 * Between samples a burst can grow memory faster than the interval notices, so each call also
 * estimates the current usage cheaply as sample + (bytes in flight now - bytes in flight at the
 * sample) from the collector's own accounting (gb_mem_in_flight, two relaxed atomic loads) and
 * refuses when that crosses the hard limit. Counting in-flight bytes on top of the whole RSS
 * would count them twice (they are part of the RSS), so only the growth since the sample is added.
 *
 * Rejected: reading /proc on every call (a syscall per request); forcing the allocator to give
 * memory back (otelcol runs the Go GC; malloc_trim here would stall worker threads and the
 * arenas are freed eagerly anyway). */
#include "memory_limiter.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/telemetry.h"
#include "base/timeutil.h"
#include "processor/procutil/procutil.h"

#define MIB (1024ull * 1024ull)

/* ---- config ------------------------------------------------------------------------------ */

gb_status memory_limiter_check(const memory_limiter_cfg *c, char *err, size_t errlen)
{
    if (c->check_interval <= 0) {
        snprintf(err, errlen, "'check_interval' must be greater than zero");
        return GB_ERR_INVALID;
    }
    if (c->limit_mib < 0 || c->spike_limit_mib < 0) {
        snprintf(err, errlen, "'limit_mib' and 'spike_limit_mib' must not be negative");
        return GB_ERR_INVALID;
    }
    if (c->limit_mib == 0 && c->limit_percentage == 0) {
        snprintf(err, errlen, "'limit_mib' or 'limit_percentage' must be greater than zero");
        return GB_ERR_INVALID;
    }
    if (c->limit_percentage < 0 || c->limit_percentage > 100 || c->spike_limit_percentage < 0 ||
        c->spike_limit_percentage > 100) {
        snprintf(err, errlen,
                 "'limit_percentage' and 'spike_limit_percentage' must be greater than zero and "
                 "less than or equal to hundred");
        return GB_ERR_INVALID;
    }
    if (c->limit_mib > 0 && c->spike_limit_mib >= c->limit_mib) {
        snprintf(err, errlen, "'spike_limit_mib' must be smaller than 'limit_mib'");
        return GB_ERR_INVALID;
    }
    if (c->limit_mib == 0 && c->limit_percentage > 0 &&
        c->spike_limit_percentage >= c->limit_percentage) {
        snprintf(err, errlen, "'spike_limit_percentage' must be smaller than 'limit_percentage'");
        return GB_ERR_INVALID;
    }
    return GB_OK;
}

static void ml_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    char err[256];
    memory_limiter_cfg *c = obj;
    if (!c->check_interval_set) {
        procutil_warn(d, node, path, "'check_interval' is not set (required by otelcol); using 1s");
        if (c->check_interval <= 0) c->check_interval = GB_NS_PER_S;
    }
    if (memory_limiter_check(c, err, sizeof err) != GB_OK) procutil_diag(d, node, path, err);
}

static const cfg_field ml_fields[] = {
    {.key = "check_interval",
     .type = CFG_T_DURATION,
     .offset = offsetof(memory_limiter_cfg, check_interval),
     .def = "1s",
     .doc = "time between measurements of memory usage (required by otelcol; 1s when absent)",
     .flags = CFG_F_TRACK_SET,
     .set_offset = offsetof(memory_limiter_cfg, check_interval_set)},
    {.key = "limit_mib",
     .type = CFG_T_INT,
     .offset = offsetof(memory_limiter_cfg, limit_mib),
     .def = "0",
     .doc = "maximum memory in MiB (hard limit)",
     .min = 0,
     .max = 1e12},
    {.key = "spike_limit_mib",
     .type = CFG_T_INT,
     .offset = offsetof(memory_limiter_cfg, spike_limit_mib),
     .def = "0",
     .doc = "expected spike between measurements in MiB; soft limit = limit - spike (20% "
            "of the limit when 0)",
     .min = 0,
     .max = 1e12},
    {.key = "limit_percentage",
     .type = CFG_T_INT,
     .offset = offsetof(memory_limiter_cfg, limit_percentage),
     .def = "0",
     .doc = "hard limit as a percentage of total memory (used when limit_mib is 0)",
     .min = 0,
     .max = 100},
    {.key = "spike_limit_percentage",
     .type = CFG_T_INT,
     .offset = offsetof(memory_limiter_cfg, spike_limit_percentage),
     .def = "0",
     .doc = "spike as a percentage of total memory",
     .min = 0,
     .max = 100},
    {.key = "min_gc_interval_when_soft_limited",
     .type = CFG_T_DURATION,
     .offset = offsetof(memory_limiter_cfg, min_gc_interval_when_soft_limited),
     .def = "10s",
     .doc = "accepted for compatibility; no effect (no garbage collector)"},
    {.key = "min_gc_interval_when_hard_limited",
     .type = CFG_T_DURATION,
     .offset = offsetof(memory_limiter_cfg, min_gc_interval_when_hard_limited),
     .def = "0s",
     .doc = "accepted for compatibility; no effect (no garbage collector)"},
};

CFG_TABLE(memory_limiter_cfg_table, ml_fields, ml_validate);

/* ---- memory source -------------------------------------------------------------------------- */

static _Atomic(uint64_t (*)(void)) g_rss = gb_mem_rss;
static _Atomic(int64_t (*)(void)) g_in_flight = gb_mem_in_flight;
static _Atomic(uint64_t (*)(void)) g_total = gb_mem_total;

void memory_limiter_set_source(const memory_limiter_source *src)
{
    atomic_store(&g_rss, src && src->rss ? src->rss : gb_mem_rss);
    atomic_store(&g_in_flight, src && src->in_flight ? src->in_flight : gb_mem_in_flight);
    atomic_store(&g_total, src && src->total ? src->total : gb_mem_total);
}

/* ---- state ---------------------------------------------------------------------------------- */

typedef struct ml_state {
    pl_component *c;
    int64_t interval;
    uint64_t hard, soft;

    atomic_bool refusing;
    atomic_uint_fast64_t rss_sample;
    atomic_int_fast64_t in_flight_at_sample;
    bool logged_state; /* checker thread only */

    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool thread_started;
    bool stopping;

    gb_series *m_refused;
    gb_series *m_accepted;
} ml_state;

void memory_limiter_sample(pl_component *c)
{
    ml_state *s = c->state;
    uint64_t rss = atomic_load(&g_rss)();
    int64_t inf = atomic_load(&g_in_flight)();
    atomic_store(&s->in_flight_at_sample, inf);
    atomic_store(&s->rss_sample, rss);
    bool over = rss > 0 && rss > s->soft;
    bool was = atomic_exchange(&s->refusing, over);
    if (over && !was) {
        gb_log(GB_LOG_WARN, c->full_id,
               "memory usage is above the soft limit, refusing data  cur_mem_mib=%llu "
               "soft_limit_mib=%llu",
               (unsigned long long)(rss / MIB), (unsigned long long)(s->soft / MIB));
    } else if (!over && was) {
        gb_log(GB_LOG_INFO, c->full_id,
               "memory usage back within limits, resuming normal operation  cur_mem_mib=%llu",
               (unsigned long long)(rss / MIB));
    }
}

void memory_limiter_limits(const pl_component *c, uint64_t *hard, uint64_t *soft)
{
    const ml_state *s = c->state;
    *hard = s->hard;
    *soft = s->soft;
}

static void *checker_main(void *arg)
{
    ml_state *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stopping) {
        int64_t w = gb_mono_ns() + s->interval;
        struct timespec ts = {(time_t)(w / GB_NS_PER_S), (long)(w % GB_NS_PER_S)};
        while (!s->stopping && gb_mono_ns() < w)
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        if (s->stopping) break;
        pthread_mutex_unlock(&s->mu);
        memory_limiter_sample(s->c);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static gb_status ml_create(pl_component *c)
{
    memory_limiter_cfg cfg = *(const memory_limiter_cfg *)c->cfg;
    char err[256];
    if (!cfg.check_interval_set) {
        gb_log(GB_LOG_WARN, c->full_id,
               "'check_interval' is not set (required by otelcol); using %s",
               cfg.check_interval > 0 ? "the default 1s" : "1s");
        if (cfg.check_interval <= 0) cfg.check_interval = GB_NS_PER_S;
    }
    if (memory_limiter_check(&cfg, err, sizeof err) != GB_OK) {
        gb_log(GB_LOG_ERROR, c->full_id, "invalid configuration: %s", err);
        return GB_ERR_INVALID;
    }
    uint64_t hard, spike;
    if (cfg.limit_mib > 0) {
        hard = (uint64_t)cfg.limit_mib * MIB;
        spike = (uint64_t)cfg.spike_limit_mib * MIB;
    } else {
        uint64_t total = atomic_load(&g_total)();
        if (total == 0) {
            gb_log(GB_LOG_ERROR, c->full_id,
                   "cannot determine the total memory for limit_percentage; set limit_mib");
            return GB_ERR_UNSUPPORTED;
        }
        hard = total / 100 * (uint64_t)cfg.limit_percentage;
        spike = total / 100 * (uint64_t)cfg.spike_limit_percentage;
    }
    if (spike == 0) spike = hard / 5;
    ml_state *s = calloc(1, sizeof *s);
    if (!s) return GB_ERR_NOMEM;
    s->c = c;
    s->interval = cfg.check_interval;
    s->hard = hard;
    s->soft = hard - spike;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    c->state = s;
    gb_log(GB_LOG_DEBUG, c->full_id,
           "memory limiter configured  limit_mib=%llu spike_limit_mib=%llu",
           (unsigned long long)(hard / MIB), (unsigned long long)(spike / MIB));
    return GB_OK;
}

static gb_status ml_start(pl_component *c, pl_host *host)
{
    (void)host;
    ml_state *s = c->state;
    char labels[200], name[96];
    procutil_label(labels, sizeof labels, c->id);
    snprintf(name, sizeof name, "otelcol_processor_refused_%s", pd_signal_item(c->signal));
    gb_tm_counter(name, "Number of items that were rejected by the processor", labels,
                  &s->m_refused);
    snprintf(name, sizeof name, "otelcol_processor_accepted_%s", pd_signal_item(c->signal));
    gb_tm_counter(name, "Number of items successfully pushed into the next component", labels,
                  &s->m_accepted);
    memory_limiter_sample(c);
    if (pthread_create(&s->thread, NULL, checker_main, s) != 0) {
        gb_log(GB_LOG_ERROR, c->full_id, "cannot start the memory checker thread");
        return GB_ERR_NOMEM;
    }
    s->thread_started = true;
    return GB_OK;
}

static gb_status ml_consume(pl_component *c, pd_batch *b)
{
    ml_state *s = c->state;
    bool refuse = atomic_load_explicit(&s->refusing, memory_order_relaxed);
    if (!refuse) {
        uint64_t rss = atomic_load_explicit(&s->rss_sample, memory_order_relaxed);
        if (rss > 0) {
            int64_t grown = atomic_load(&g_in_flight)() -
                            atomic_load_explicit(&s->in_flight_at_sample, memory_order_relaxed);
            int64_t est = (int64_t)rss + grown;
            refuse = est > (int64_t)s->hard;
        }
    }
    uint64_t n = pd_batch_count(b);
    if (refuse) {
        gb_series_add(s->m_refused, n);
        pd_batch_unref(b);
        return GB_ERR_RETRY;
    }
    pl_consumer *next = c->next[c->signal];
    if (!next) {
        pd_batch_unref(b);
        return GB_ERR_PERMANENT;
    }
    gb_series_add(s->m_accepted, n);
    return next->consume(next, b);
}

static gb_status ml_shutdown(pl_component *c, int64_t deadline_ns)
{
    (void)deadline_ns;
    ml_state *s = c->state;
    if (!s) return GB_OK;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->thread_started) pthread_join(s->thread, NULL);
    s->thread_started = false;
    return GB_OK;
}

static void ml_destroy(pl_component *c)
{
    ml_state *s = c->state;
    if (!s) return;
    ml_shutdown(c, 0);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    c->state = NULL;
}

const pl_descriptor processor_memory_limiter_descriptor = {
    .kind = PL_PROCESSOR,
    .type = "memory_limiter",
    .stability = {PL_BETA, PL_BETA, PL_BETA},
    .config = &memory_limiter_cfg_table,
    .config_size = sizeof(memory_limiter_cfg),
    .mutates = false,
    .doc = "refuses data (503 / UNAVAILABLE) while memory use is above the soft limit",
    .create = ml_create,
    .start = ml_start,
    .consume = ml_consume,
    .shutdown = ml_shutdown,
    .destroy = ml_destroy,
};
