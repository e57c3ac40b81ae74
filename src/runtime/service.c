/* Service run loop (see service.h and docs/internals/runtime.md).
 *
 * Signals are blocked in every thread (the mask is set before any thread starts and inherited)
 * and taken synchronously by the main thread with sigtimedwait, so no code runs in signal
 * context. Reload builds the new graph completely (create, no I/O) before touching the running
 * one; only a valid graph replaces it. Because receivers of the old graph hold the ports, the old
 * graph is drained and stopped before the new one starts; if the new one then fails to start, the
 * previous config is rebuilt and started again. Rejected: running both graphs side by side during
 * a reload (port conflicts, double counting in budgets). */
#include "runtime/service.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "pipeline/graph.h"
#include "runtime/runtime.h"
#include "runtime/selfmetrics.h"

typedef struct rt_state {
    const rt_options *opts;
    pl_host host;
    atomic_int health;
    cfg_doc *doc;
    pl_graph *graph;
    net_pool *pool;
    rt_selfmetrics *selfmetrics;
    char metrics_host[256];
    int metrics_port;
} rt_state;

static pl_health host_health(const pl_host *h)
{
    const rt_state *s = h->impl;
    return (pl_health)atomic_load(&((rt_state *)s)->health);
}

static void host_describe(const pl_host *h, pl_kind what, gb_sbuf *out)
{
    const rt_state *s = h->impl;
    if (s->graph) pl_graph_describe(s->graph, (int)what, out);
}

/* Loads the config and builds (does not start) a graph. */
static int load_and_build(rt_state *s, cfg_doc **doc_out, pl_graph **graph_out)
{
    cfg_doc *doc = calloc(1, sizeof *doc);
    cfg_diags d;
    pl_graph *g = NULL;
    int rc = RT_EXIT_OK;
    if (!doc) return RT_EXIT_INVALID;
    cfg_doc_init(doc);
    cfg_diags_init(&d);
    rc = rt_load_config(doc, s->opts->files, s->opts->n_files, s->opts->sets, s->opts->n_sets, &d);
    if (rc == RT_EXIT_OK && pl_graph_build(doc, &s->host, &d, &g) != GB_OK) rc = RT_EXIT_INVALID;
    rt_print_diags(&d);
    cfg_diags_free(&d);
    if (rc != RT_EXIT_OK) {
        cfg_doc_free(doc);
        free(doc);
        return rc;
    }
    *doc_out = doc;
    *graph_out = g;
    return RT_EXIT_OK;
}

static void release(cfg_doc *doc, pl_graph *g)
{
    pl_graph_free(g);
    if (doc) {
        cfg_doc_free(doc);
        free(doc);
    }
}

static void apply_log_level(const pl_graph *g)
{
    gb_log_level lvl;
    if (gb_log_parse_level(pl_graph_telemetry(g)->logs_level, &lvl) == 0) gb_log_set_level(lvl);
}

/* (Re)starts the self-metrics endpoint when the telemetry settings ask for another one. */
static gb_status apply_selfmetrics(rt_state *s)
{
    const pl_telemetry_cfg *t = pl_graph_telemetry(s->graph);
    if (s->selfmetrics && t->metrics_port == s->metrics_port &&
        strcmp(t->metrics_host, s->metrics_host) == 0)
        return GB_OK;
    rt_selfmetrics_stop(s->selfmetrics);
    s->selfmetrics = NULL;
    s->metrics_port = t->metrics_port;
    snprintf(s->metrics_host, sizeof s->metrics_host, "%s", t->metrics_host);
    if (t->metrics_port > 0 &&
        rt_selfmetrics_start(s->pool, t->metrics_host, t->metrics_port, s->host.start_time_ns,
                             &s->selfmetrics) != GB_OK) {
        s->metrics_port = -1;
        return GB_ERR_IO;
    }
    return GB_OK;
}

static void reload(rt_state *s)
{
    gb_log(GB_LOG_INFO, "", "SIGHUP: reloading configuration");
    cfg_doc *doc = NULL;
    pl_graph *g = NULL;
    if (load_and_build(s, &doc, &g) != RT_EXIT_OK) {
        gb_log(GB_LOG_ERROR, "",
               "reload failed: the new configuration is invalid; keeping the "
               "running pipelines");
        return;
    }
    int64_t deadline = gb_mono_ns() + s->opts->shutdown_timeout;
    pl_graph_shutdown(s->graph, deadline);
    cfg_doc *old_doc = s->doc;
    pl_graph *old = s->graph;
    s->doc = doc;
    s->graph = g;
    if (pl_graph_start(g) == GB_OK) {
        apply_log_level(g);
        apply_selfmetrics(s);
        release(old_doc, old);
        gb_log(GB_LOG_INFO, "", "configuration reloaded");
        return;
    }
    gb_log(GB_LOG_ERROR, "", "the new configuration failed to start; restoring the previous one");
    release(doc, g);
    pl_graph_free(old);
    s->doc = old_doc;
    s->graph = NULL;
    cfg_diags d;
    cfg_diags_init(&d);
    if (pl_graph_build(old_doc, &s->host, &d, &s->graph) != GB_OK ||
        pl_graph_start(s->graph) != GB_OK)
        gb_log(GB_LOG_ERROR, "", "the previous configuration failed to start again");
    rt_print_diags(&d);
    cfg_diags_free(&d);
}

int rt_service_run(const rt_options *o)
{
    rt_state s;
    memset(&s, 0, sizeof s);
    s.opts = o;
    s.host.workers = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (s.host.workers == 0) s.host.workers = 1;
    s.host.data_dir = "./genops-data";
    s.host.start_time_ns = gb_now_ns();
    s.host.health = host_health;
    s.host.describe = host_describe;
    s.host.impl = &s;
    atomic_init(&s.health, PL_HEALTH_STARTING);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* A shell starts background jobs with SIGINT ignored, and an ignored signal is discarded
     * before sigwaitinfo can see it: restore the defaults (they never run, the signals are
     * blocked everywhere). */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);

    int rc = load_and_build(&s, &s.doc, &s.graph);
    if (rc != RT_EXIT_OK) return rc;
    apply_log_level(s.graph);
    if (net_pool_new(s.host.workers, &s.pool) != GB_OK || net_pool_start(s.pool) != GB_OK) {
        gb_log(GB_LOG_ERROR, "", "cannot start the network worker pool");
        release(s.doc, s.graph);
        net_pool_free(s.pool);
        return 1;
    }
    s.host.pool = s.pool;
    if (apply_selfmetrics(&s) != GB_OK || pl_graph_start(s.graph) != GB_OK) {
        release(s.doc, s.graph);
        rt_selfmetrics_stop(s.selfmetrics);
        net_pool_free(s.pool);
        return 1;
    }
    atomic_store(&s.health, PL_HEALTH_READY);
    gb_log(GB_LOG_INFO, "",
           "genops-collector %s started; everything is ready, begin running and "
           "processing data",
           GENOPS_VERSION);

    for (;;) {
        int sig = sigwaitinfo(&set, NULL);
        if (sig < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (sig == SIGHUP) {
            reload(&s);
            continue;
        }
        gb_log(GB_LOG_INFO, "", "received %s, shutting down (draining up to %llds)",
               sig == SIGTERM ? "SIGTERM" : "SIGINT",
               (long long)(o->shutdown_timeout / GB_NS_PER_S));
        break;
    }
    atomic_store(&s.health, PL_HEALTH_DRAINING);
    int64_t deadline = gb_mono_ns() + o->shutdown_timeout;
    if (s.graph) pl_graph_shutdown(s.graph, deadline);
    atomic_store(&s.health, PL_HEALTH_STOPPED);
    release(s.doc, s.graph);
    rt_selfmetrics_stop(s.selfmetrics);
    net_pool_free(s.pool);
    gb_log(GB_LOG_INFO, "", "shutdown complete");
    return 0;
}
