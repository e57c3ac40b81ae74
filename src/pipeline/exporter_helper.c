/* Exporter helper (see exporter_helper.h): bounded in-memory sending queue, num_consumers
 * threads, retry with exponential backoff and jitter, per-attempt deadline, drop accounting.
 *
 * How: one mutex guards a ring of batch pointers (capacity queue_size) and the lifecycle flags;
 * three condition variables on CLOCK_MONOTONIC wake consumers (items), producers blocked on a full
 * queue (room) and backoff sleepers / the shutdown waiter (wake). A consumer pops one batch and
 * runs the retry loop outside the lock: each attempt gets min(now + timeout, shutdown deadline) as
 * its deadline; a RETRY answer sleeps max(jittered backoff, retry_after) unless that would pass
 * max_elapsed_time or the shutdown deadline, in which case the batch is dropped at once. Shutdown
 * lets consumers drain until the deadline, then raises `aborting` (no new attempt, sleepers wake),
 * joins the threads and drops what is left. With the queue disabled the caller's thread runs the
 * same loop; a pool of num_consumers slot indices keeps the "thread index is exclusive" promise.
 *
 * Rejected: a lock-free MPMC ring (the queue is touched once per batch, not per span, and the
 * blocking/overflow semantics are much simpler under one mutex); one timer thread for all
 * backoffs (a sleeping consumer is exactly otelcol's semantics: a retrying batch occupies one
 * consumer). */
#include "exporter_helper.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "../base/telemetry.h"
#include "../base/timeutil.h"

#define NO_DEADLINE INT64_MAX

typedef struct helper_thread {
    struct pl_exphelper *h;
    unsigned idx;
} helper_thread;

struct pl_exphelper {
    char id[160];
    char log_id[176];
    pd_signal signal;
    int64_t timeout;
    pl_retry_cfg retry;
    pl_queue_cfg queue;
    pl_export_fn export_fn;
    void *ctx;

    pthread_mutex_t mu;
    pthread_cond_t cv_items;
    pthread_cond_t cv_room;
    pthread_cond_t cv_wake;

    pd_batch **ring;
    size_t cap, head, len;

    unsigned n_threads;
    pthread_t *threads;
    helper_thread *args;
    unsigned created; /* threads successfully created */
    unsigned running; /* consumers still in their loop */
    bool started;
    bool stopping; /* no more consume() accepted */
    bool shut;
    atomic_bool aborting;       /* shutdown deadline passed: no new attempts, wake sleepers */
    atomic_llong stop_deadline; /* NO_DEADLINE until shutdown */

    /* queue disabled: exclusive thread indices for concurrent callers */
    unsigned *free_slots;
    unsigned n_free;
    unsigned direct_active;

    gb_series *sent, *failed, *enq_failed, *qsize, *qcap;
};

void pl_retry_cfg_default(pl_retry_cfg *r)
{
    memset(r, 0, sizeof *r);
    r->enabled = true;
    r->initial_interval = 5 * GB_NS_PER_S;
    r->max_interval = 30 * GB_NS_PER_S;
    r->max_elapsed_time = 300 * GB_NS_PER_S;
    r->multiplier = 1.5;
    r->randomization_factor = 0.5;
}

void pl_queue_cfg_default(pl_queue_cfg *q)
{
    memset(q, 0, sizeof *q);
    q->enabled = true;
    q->num_consumers = 10;
    q->queue_size = 1000;
}

/* ---- small utilities --------------------------------------------------------------------------
 */

static void wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t until_ns)
{
    if (until_ns == NO_DEADLINE) {
        pthread_cond_wait(cv, mu);
        return;
    }
    struct timespec ts = {.tv_sec = (time_t)(until_ns / GB_NS_PER_S),
                          .tv_nsec = (long)(until_ns % GB_NS_PER_S)};
    pthread_cond_timedwait(cv, mu, &ts);
}

static int init_cond(pthread_cond_t *cv)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a) != 0) return -1;
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &a);
    pthread_condattr_destroy(&a);
    return rc;
}

/* xorshift64*, one state per thread; quality is irrelevant, it only spreads retries. */
static double rand_unit(void)
{
    static _Thread_local uint64_t s;
    if (s == 0)
        s = (uint64_t)gb_mono_ns() ^ ((uint64_t)(uintptr_t)&s << 16) ^ 0x9E3779B97F4A7C15ULL;
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return (double)((s * 0x2545F4914F6CDD1DULL) >> 11) / (double)(1ULL << 53);
}

static int64_t jittered(int64_t interval, double factor)
{
    if (factor <= 0 || interval <= 0) return interval;
    double delta = factor * (double)interval;
    double v = (double)interval - delta + rand_unit() * 2.0 * delta;
    return v < 0 ? 0 : (int64_t)v;
}

static void fmt_dur(int64_t ns, char *buf)
{
    gb_fmt_duration(ns, buf, 32);
}

/* ---- export with retries ----------------------------------------------------------------------
 */

/* Sleeps until `until` unless shutdown cuts it short. Returns false when cut short. */
static bool backoff_sleep(pl_exphelper *h, int64_t until)
{
    bool ok = true;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        if (atomic_load(&h->aborting) || until > atomic_load(&h->stop_deadline)) {
            ok = false;
            break;
        }
        if (gb_mono_ns() >= until) break;
        wait_until(&h->cv_wake, &h->mu, until);
    }
    pthread_mutex_unlock(&h->mu);
    return ok;
}

/* Exports b (takes the reference) with retries; counts and logs the outcome. */
static gb_status export_with_retry(pl_exphelper *h, unsigned thread, pd_batch *b)
{
    uint64_t items = pd_batch_count(b);
    int64_t start = gb_mono_ns();
    int64_t interval = h->retry.initial_interval;
    pl_export_result res;
    gb_status st = GB_ERR_RETRY;
    const char *why = NULL;
    unsigned attempts = 0;

    for (;;) {
        if (atomic_load(&h->aborting)) {
            why = "shutdown deadline reached";
            st = GB_ERR_RETRY;
            break;
        }
        memset(&res, 0, sizeof res);
        int64_t now = gb_mono_ns();
        int64_t dl = h->timeout > 0 ? now + h->timeout : NO_DEADLINE;
        int64_t sd = atomic_load(&h->stop_deadline);
        if (sd < dl) dl = sd;
        attempts++;
        st = h->export_fn(h->ctx, thread, b, dl, &res);
        res.message[sizeof res.message - 1] = '\0';
        if (st == GB_OK) break;
        if (st != GB_ERR_RETRY) {
            st = GB_ERR_PERMANENT;
            why = "permanent error";
            break;
        }
        if (!h->retry.enabled) {
            why = "retry_on_failure disabled";
            break;
        }
        int64_t delay = jittered(interval, h->retry.randomization_factor);
        if (res.retry_after_ns > delay) delay = res.retry_after_ns;
        now = gb_mono_ns();
        if (h->retry.max_elapsed_time > 0 && now + delay - start > h->retry.max_elapsed_time) {
            why = "no more retries left: max_elapsed_time reached";
            break;
        }
        char d[32];
        fmt_dur(delay, d);
        gb_log(GB_LOG_INFO, h->log_id, "export failed, will retry  interval=%s error=\"%s\"", d,
               res.message);
        if (!backoff_sleep(h, now + delay)) {
            why = "shutting down: retry cut short by the shutdown deadline";
            break;
        }
        double next = (double)interval * h->retry.multiplier;
        interval = next > (double)h->retry.max_interval ? h->retry.max_interval : (int64_t)next;
    }

    if (st == GB_OK) {
        uint64_t rejected = res.rejected > 0 ? (uint64_t)res.rejected : 0;
        if (rejected > items) rejected = items;
        gb_series_add(h->sent, items - rejected);
        if (rejected) gb_series_add(h->failed, rejected);
    } else {
        gb_series_add(h->failed, items);
        gb_log(GB_LOG_ERROR, h->log_id, "dropping data: %s  %s=%llu attempts=%u error=\"%s\"", why,
               pd_signal_item(h->signal), (unsigned long long)items, attempts, res.message);
    }
    pd_batch_unref(b);
    return st;
}

/* ---- consumers --------------------------------------------------------------------------------
 */

static void *consumer_main(void *arg)
{
    helper_thread *t = arg;
    pl_exphelper *h = t->h;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->len == 0 && !h->stopping)
            pthread_cond_wait(&h->cv_items, &h->mu);
        if (atomic_load(&h->aborting) || h->len == 0) break;
        pd_batch *b = h->ring[h->head];
        h->ring[h->head] = NULL;
        h->head = (h->head + 1) % h->cap;
        h->len--;
        gb_series_set(h->qsize, (int64_t)h->len);
        pthread_cond_signal(&h->cv_room);
        pthread_mutex_unlock(&h->mu);
        export_with_retry(h, t->idx, b);
        pthread_mutex_lock(&h->mu);
    }
    h->running--;
    pthread_cond_broadcast(&h->cv_wake);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

/* ---- public API -------------------------------------------------------------------------------
 */

static gb_status register_series(pl_exphelper *h)
{
    char labels[256], qlabels[320], name[96];
    const char *item = pd_signal_item(h->signal);
    gb_status st;
    snprintf(labels, sizeof labels, "exporter=\"%s\"", h->id);
    snprintf(qlabels, sizeof qlabels, "exporter=\"%s\",data_type=\"%s\"", h->id,
             pd_signal_name(h->signal));
    snprintf(name, sizeof name, "otelcol_exporter_sent_%s", item);
    st = gb_tm_counter(name, "Number of items successfully sent to destination.", labels, &h->sent);
    if (st != GB_OK) goto out;
    snprintf(name, sizeof name, "otelcol_exporter_send_failed_%s", item);
    st = gb_tm_counter(name, "Number of items that the exporter failed to send to destination.",
                       labels, &h->failed);
    if (st != GB_OK) goto out;
    snprintf(name, sizeof name, "otelcol_exporter_enqueue_failed_%s", item);
    st = gb_tm_counter(name, "Number of items that the exporter failed to add to the queue.",
                       labels, &h->enq_failed);
    if (st != GB_OK) goto out;
    st = gb_tm_gauge("otelcol_exporter_queue_size", "Current size of the retry queue (batches).",
                     qlabels, &h->qsize);
    if (st != GB_OK) goto out;
    st = gb_tm_gauge("otelcol_exporter_queue_capacity",
                     "Fixed capacity of the retry queue (batches).", qlabels, &h->qcap);
    if (st != GB_OK) goto out;
    gb_series_set(h->qsize, 0);
    gb_series_set(h->qcap, h->queue.enabled ? (int64_t)h->cap : 0);
out:
    return st;
}

gb_status pl_exphelper_new(const pl_exphelper_opts *opts, pl_exphelper **out)
{
    gb_status st = GB_ERR_INVALID;
    pl_exphelper *h = NULL;
    *out = NULL;
    if (!opts || !opts->id || !opts->export_fn || opts->timeout < 0) goto fail;
    h = calloc(1, sizeof *h);
    if (!h) {
        st = GB_ERR_NOMEM;
        goto fail;
    }
    snprintf(h->id, sizeof h->id, "%s", opts->id);
    snprintf(h->log_id, sizeof h->log_id, "exporter/%s", opts->id);
    h->signal = opts->signal;
    h->timeout = opts->timeout;
    h->export_fn = opts->export_fn;
    h->ctx = opts->ctx;
    if (opts->retry)
        h->retry = *opts->retry;
    else
        pl_retry_cfg_default(&h->retry);
    if (opts->queue)
        h->queue = *opts->queue;
    else
        pl_queue_cfg_default(&h->queue);
    if (h->retry.initial_interval < 0 || h->retry.max_interval < 0 ||
        h->retry.max_elapsed_time < 0 || h->retry.multiplier < 1.0 ||
        h->retry.randomization_factor < 0 || h->retry.randomization_factor > 1.0)
        goto fail;
    if (h->retry.max_interval < h->retry.initial_interval)
        h->retry.max_interval = h->retry.initial_interval;
    if (h->queue.num_consumers < 1 || h->queue.num_consumers > 4096) goto fail;
    if (h->queue.enabled && (h->queue.queue_size < 1 || h->queue.queue_size > (1 << 24))) goto fail;
    h->n_threads = (unsigned)h->queue.num_consumers;
    atomic_init(&h->aborting, false);
    atomic_init(&h->stop_deadline, NO_DEADLINE);

    if (pthread_mutex_init(&h->mu, NULL) != 0) goto nomem_early;
    if (init_cond(&h->cv_items) != 0 || init_cond(&h->cv_room) != 0 || init_cond(&h->cv_wake) != 0)
        goto nomem_early;

    if (h->queue.enabled) {
        h->cap = (size_t)h->queue.queue_size;
        h->ring = calloc(h->cap, sizeof *h->ring);
        h->threads = calloc(h->n_threads, sizeof *h->threads);
        h->args = calloc(h->n_threads, sizeof *h->args);
        if (!h->ring || !h->threads || !h->args) goto nomem;
    } else {
        h->free_slots = calloc(h->n_threads, sizeof *h->free_slots);
        if (!h->free_slots) goto nomem;
        for (unsigned i = 0; i < h->n_threads; i++)
            h->free_slots[i] = h->n_threads - 1 - i;
        h->n_free = h->n_threads;
    }
    st = register_series(h);
    if (st != GB_OK) goto fail_init;
    *out = h;
    return GB_OK;
nomem:
    st = GB_ERR_NOMEM;
fail_init:
    free(h->ring);
    free(h->threads);
    free(h->args);
    free(h->free_slots);
    pthread_cond_destroy(&h->cv_items);
    pthread_cond_destroy(&h->cv_room);
    pthread_cond_destroy(&h->cv_wake);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return st;
nomem_early:
    st = GB_ERR_NOMEM;
fail:
    free(h);
    return st;
}

gb_status pl_exphelper_start(pl_exphelper *h)
{
    gb_status st = GB_OK;
    pthread_mutex_lock(&h->mu);
    if (h->started || h->stopping) {
        st = GB_ERR_STATE;
        goto out;
    }
    h->started = true;
    if (!h->queue.enabled) goto out;
    for (unsigned i = 0; i < h->n_threads; i++) {
        h->args[i].h = h;
        h->args[i].idx = i;
        h->running++;
        if (pthread_create(&h->threads[i], NULL, consumer_main, &h->args[i]) != 0) {
            h->running--;
            st = GB_ERR_NOMEM;
            gb_log(GB_LOG_ERROR, h->log_id, "cannot start consumer thread %u", i);
            break;
        }
        h->created++;
    }
out:
    pthread_mutex_unlock(&h->mu);
    return st;
}

static void log_enqueue_drop(pl_exphelper *h, uint64_t items, const char *why)
{
    gb_series_add(h->enq_failed, items);
    gb_log(GB_LOG_ERROR, h->log_id, "dropping data: %s  %s=%llu", why, pd_signal_item(h->signal),
           (unsigned long long)items);
}

static gb_status consume_direct(pl_exphelper *h, pd_batch *b)
{
    gb_status st;
    unsigned slot;
    pthread_mutex_lock(&h->mu);
    while (h->n_free == 0 && !h->stopping)
        pthread_cond_wait(&h->cv_room, &h->mu);
    if (h->stopping) {
        pthread_mutex_unlock(&h->mu);
        log_enqueue_drop(h, pd_batch_count(b), "exporter is shutting down");
        pd_batch_unref(b);
        return GB_ERR_RETRY;
    }
    slot = h->free_slots[--h->n_free];
    h->direct_active++;
    pthread_mutex_unlock(&h->mu);

    st = export_with_retry(h, slot, b);

    pthread_mutex_lock(&h->mu);
    h->free_slots[h->n_free++] = slot;
    h->direct_active--;
    pthread_cond_signal(&h->cv_room);
    pthread_cond_broadcast(&h->cv_wake);
    pthread_mutex_unlock(&h->mu);
    return st;
}

gb_status pl_exphelper_consume(pl_exphelper *h, pd_batch *b)
{
    if (!h->queue.enabled) return consume_direct(h, b);

    uint64_t items = pd_batch_count(b);
    const char *why = NULL;
    gb_status st = GB_OK;
    pthread_mutex_lock(&h->mu);
    if (h->stopping) {
        why = "exporter is shutting down";
        st = GB_ERR_RETRY;
        goto refuse;
    }
    if (h->len == h->cap) {
        if (h->queue.drop_on_overflow) {
            why = "sending queue is full (drop_on_overflow)";
            st = GB_OK;
            goto refuse;
        }
        if (h->queue.block_on_overflow) {
            int64_t until = h->timeout > 0 ? gb_mono_ns() + h->timeout : NO_DEADLINE;
            while (h->len == h->cap && !h->stopping && gb_mono_ns() < until)
                wait_until(&h->cv_room, &h->mu, until);
        }
        if (h->len == h->cap || h->stopping) {
            why = h->stopping ? "exporter is shutting down"
                              : "sending queue is full, rejecting data (backpressure)";
            st = GB_ERR_RETRY;
            goto refuse;
        }
    }
    h->ring[(h->head + h->len) % h->cap] = b;
    h->len++;
    gb_series_set(h->qsize, (int64_t)h->len);
    pthread_cond_signal(&h->cv_items);
    pthread_mutex_unlock(&h->mu);
    return GB_OK;
refuse:
    pthread_mutex_unlock(&h->mu);
    log_enqueue_drop(h, items, why);
    pd_batch_unref(b);
    return st;
}

gb_status pl_exphelper_shutdown(pl_exphelper *h, int64_t deadline_ns)
{
    if (!h) return GB_OK;
    pthread_mutex_lock(&h->mu);
    if (h->shut) {
        pthread_mutex_unlock(&h->mu);
        return GB_OK;
    }
    h->stopping = true;
    atomic_store(&h->stop_deadline, deadline_ns);
    pthread_cond_broadcast(&h->cv_items);
    pthread_cond_broadcast(&h->cv_room);
    pthread_cond_broadcast(&h->cv_wake);
    /* Drain phase: consumers (or direct callers) finish what is queued, until the deadline. */
    while ((h->running > 0 || h->direct_active > 0) && gb_mono_ns() < deadline_ns)
        wait_until(&h->cv_wake, &h->mu, deadline_ns);
    if (h->running > 0 || h->direct_active > 0) {
        atomic_store(&h->aborting, true);
        pthread_cond_broadcast(&h->cv_items);
        pthread_cond_broadcast(&h->cv_wake);
    }
    /* In-flight attempts end by their deadline (capped at deadline_ns); wait for them. */
    while (h->direct_active > 0)
        pthread_cond_wait(&h->cv_wake, &h->mu);
    pthread_mutex_unlock(&h->mu);

    for (unsigned i = 0; i < h->created; i++)
        pthread_join(h->threads[i], NULL);

    pthread_mutex_lock(&h->mu);
    uint64_t batches = 0, items = 0;
    while (h->len > 0) {
        pd_batch *b = h->ring[h->head];
        h->ring[h->head] = NULL;
        h->head = (h->head + 1) % h->cap;
        h->len--;
        items += pd_batch_count(b);
        batches++;
        pd_batch_unref(b);
    }
    gb_series_set(h->qsize, 0);
    h->created = 0;
    h->shut = true;
    pthread_mutex_unlock(&h->mu);
    if (batches) {
        gb_series_add(h->failed, items);
        gb_log(GB_LOG_ERROR, h->log_id,
               "dropping data: shutdown deadline reached with data still queued  batches=%llu "
               "%s=%llu",
               (unsigned long long)batches, pd_signal_item(h->signal), (unsigned long long)items);
    }
    return GB_OK;
}

void pl_exphelper_free(pl_exphelper *h)
{
    if (!h) return;
    if (!h->shut) pl_exphelper_shutdown(h, gb_mono_ns());
    free(h->ring);
    free(h->threads);
    free(h->args);
    free(h->free_slots);
    pthread_cond_destroy(&h->cv_items);
    pthread_cond_destroy(&h->cv_room);
    pthread_cond_destroy(&h->cv_wake);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

uint64_t pl_exphelper_queue_size(const pl_exphelper *h)
{
    pl_exphelper *m = (pl_exphelper *)h;
    pthread_mutex_lock(&m->mu);
    uint64_t n = m->len;
    pthread_mutex_unlock(&m->mu);
    return n;
}
