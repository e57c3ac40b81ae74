/* Worker pool: N threads, one event_base each, looping with EVLOOP_NO_EXIT_ON_EMPTY until
 * stopped. Cross-thread calls (net_pool_run*) post a zero-delay one-shot event on the target base
 * and wait on a condition variable; libevent's pthread locking (evthread_use_pthreads, called once)
 * makes event_base_once safe from any thread. A thread-local pointer tells a worker which pool
 * and index it is, so a call from the worker itself runs inline instead of deadlocking.
 *
 * Rejected: one shared base with a thread pool for handlers (cross-thread hand-off per request
 * and lock contention on the base); libevent's evthread-less bases with pipes (more code, same
 * effect). */
#include "net.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/log.h"

typedef struct net_worker {
    struct net_pool *pool;
    unsigned idx;
    struct event_base *base;
    pthread_t thr;
    bool thr_started;
} net_worker;

struct net_pool {
    unsigned n;
    net_worker *w;
    atomic_bool running;
};

static _Thread_local const net_worker *tl_worker;
static pthread_once_t evthread_once = PTHREAD_ONCE_INIT;
static int evthread_rc;

static void evthread_init(void)
{
    evthread_rc = evthread_use_pthreads();
}

gb_status net_pool_new(unsigned n, net_pool **out)
{
    gb_status st = GB_OK;
    net_pool *p = NULL;
    pthread_once(&evthread_once, evthread_init);
    if (evthread_rc != 0) return GB_ERR_IO;
    if (n == 0) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (unsigned)c : 1;
    }
    if (n > 1024) n = 1024;
    p = calloc(1, sizeof(*p));
    if (!p) return GB_ERR_NOMEM;
    p->w = calloc(n, sizeof(*p->w));
    if (!p->w) {
        st = GB_ERR_NOMEM;
        goto fail;
    }
    p->n = n;
    for (unsigned i = 0; i < n; i++) {
        p->w[i].pool = p;
        p->w[i].idx = i;
        p->w[i].base = event_base_new();
        if (!p->w[i].base) {
            st = GB_ERR_IO;
            goto fail;
        }
    }
    *out = p;
    return GB_OK;
fail:
    net_pool_free(p);
    return st;
}

static void *worker_main(void *arg)
{
    net_worker *w = arg;
    tl_worker = w;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals belong to the main thread */
    event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
    tl_worker = NULL;
    return NULL;
}

gb_status net_pool_start(net_pool *p)
{
    if (atomic_load(&p->running)) return GB_ERR_STATE;
    atomic_store(&p->running, true);
    for (unsigned i = 0; i < p->n; i++) {
        if (pthread_create(&p->w[i].thr, NULL, worker_main, &p->w[i]) != 0) {
            net_pool_stop(p);
            return GB_ERR_IO;
        }
        p->w[i].thr_started = true;
    }
    return GB_OK;
}

void net_pool_stop(net_pool *p)
{
    if (!p || !atomic_exchange(&p->running, false)) return;
    for (unsigned i = 0; i < p->n; i++)
        if (p->w[i].thr_started) event_base_loopbreak(p->w[i].base);
    for (unsigned i = 0; i < p->n; i++) {
        if (p->w[i].thr_started) {
            pthread_join(p->w[i].thr, NULL);
            p->w[i].thr_started = false;
        }
    }
}

void net_pool_free(net_pool *p)
{
    if (!p) return;
    net_pool_stop(p);
    for (unsigned i = 0; p->w && i < p->n; i++)
        if (p->w[i].base) event_base_free(p->w[i].base);
    free(p->w);
    free(p);
}

unsigned net_pool_size(const net_pool *p)
{
    return p->n;
}

struct event_base *net_pool_base(net_pool *p, unsigned i)
{
    return i < p->n ? p->w[i].base : NULL;
}

int net_pool_current(const net_pool *p)
{
    return tl_worker && tl_worker->pool == p ? (int)tl_worker->idx : -1;
}

typedef struct run_sync {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned pending;
    void (*fn)(unsigned, void *);
    void *arg;
} run_sync;

typedef struct run_one {
    run_sync *s;
    unsigned idx;
} run_one;

static void run_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    run_one *r = arg;
    run_sync *s = r->s;
    s->fn(r->idx, s->arg);
    pthread_mutex_lock(&s->mu);
    if (--s->pending == 0) pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Runs fn on workers [first, first+count) and waits. */
static gb_status run_range(net_pool *p, unsigned first, unsigned count,
                           void (*fn)(unsigned, void *), void *arg)
{
    gb_status st = GB_OK;
    run_one *ones = NULL;
    run_sync s;
    int self = net_pool_current(p);
    if (!atomic_load(&p->running)) {
        for (unsigned i = first; i < first + count; i++)
            fn(i, arg);
        return GB_OK;
    }
    ones = calloc(count, sizeof(*ones));
    if (!ones) return GB_ERR_NOMEM;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    s.fn = fn;
    s.arg = arg;
    s.pending = 0;
    struct timeval zero = {0, 0};
    for (unsigned i = first; i < first + count; i++) {
        if ((int)i == self) continue;
        ones[i - first].s = &s;
        ones[i - first].idx = i;
        pthread_mutex_lock(&s.mu);
        s.pending++;
        pthread_mutex_unlock(&s.mu);
        if (event_base_once(p->w[i].base, -1, EV_TIMEOUT, run_cb, &ones[i - first], &zero) != 0) {
            pthread_mutex_lock(&s.mu);
            s.pending--;
            pthread_mutex_unlock(&s.mu);
            st = GB_ERR_IO;
        }
    }
    if (self >= (int)first && self < (int)(first + count)) fn((unsigned)self, arg);
    pthread_mutex_lock(&s.mu);
    while (s.pending > 0)
        pthread_cond_wait(&s.cv, &s.mu);
    pthread_mutex_unlock(&s.mu);
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    free(ones);
    return st;
}

gb_status net_pool_run(net_pool *p, unsigned i, void (*fn)(unsigned i, void *arg), void *arg)
{
    if (i >= p->n) return GB_ERR_INVALID;
    return run_range(p, i, 1, fn, arg);
}

gb_status net_pool_run_each(net_pool *p, void (*fn)(unsigned i, void *arg), void *arg)
{
    return run_range(p, 0, p->n, fn, arg);
}
