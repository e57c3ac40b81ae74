/* Self-metrics endpoint (see selfmetrics.h). Process gauges are callbacks read at scrape time
 * (/proc/self/stat for CPU, statm for RSS), so nothing samples in the background. */
#include "runtime/selfmetrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/telemetry.h"
#include "base/timeutil.h"
#include "net/http_server.h"

struct rt_selfmetrics {
    net_http_server *srv;
    int64_t start_ns;
    gb_series *rss, *cpu, *uptime, *in_flight;
};

static double read_cpu_seconds(void *arg)
{
    (void)arg;
    FILE *f = fopen("/proc/self/stat", "r");
    if (!f) return 0;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command name (which may contain spaces) start after the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                     &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static double read_rss(void *arg)
{
    (void)arg;
    return (double)gb_mem_rss();
}

static double read_in_flight(void *arg)
{
    (void)arg;
    return (double)gb_mem_in_flight();
}

static double read_uptime(void *arg)
{
    rt_selfmetrics *m = arg;
    return (double)(gb_now_ns() - m->start_ns) / 1e9;
}

static void handle(const net_http_request *req, net_http_response *resp, void *arg)
{
    (void)arg;
    if (!gb_str_eq_c(req->path, "/metrics")) {
        net_http_resp_set(resp, 404, "text/plain", "404 page not found\n", 19);
        return;
    }
    if (!gb_str_eq_c(req->method, "GET") && !gb_str_eq_c(req->method, "HEAD")) {
        net_http_resp_header(resp, "Allow", "GET, HEAD");
        net_http_resp_set(resp, 405, "text/plain", "405 method not allowed\n", 23);
        return;
    }
    resp->status = gb_tm_render(&resp->body) == GB_OK ? 200 : 500;
    net_http_resp_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
}

gb_status rt_selfmetrics_start(net_pool *pool, const char *host, int port, int64_t start_ns,
                               rt_selfmetrics **out)
{
    char endpoint[300], err[256] = "";
    rt_selfmetrics *m = calloc(1, sizeof *m);
    if (!m) return GB_ERR_NOMEM;
    m->start_ns = start_ns;
    gb_tm_gauge_fn("otelcol_process_memory_rss", "Total physical memory (resident set size) [By]",
                   "", read_rss, m, &m->rss);
    gb_tm_gauge_fn("otelcol_process_cpu_seconds", "Total CPU user and system time in seconds [s]",
                   "", read_cpu_seconds, m, &m->cpu);
    gb_tm_gauge_fn("otelcol_process_uptime", "Uptime of the process [s]", "", read_uptime, m,
                   &m->uptime);
    gb_tm_gauge_fn("genops_process_data_bytes_in_flight",
                   "Bytes held by the data path (request buffers, batches, queues) [By]", "",
                   read_in_flight, m, &m->in_flight);
    bool v6 = strchr(host, ':') != NULL;
    snprintf(endpoint, sizeof endpoint, "%s%s%s:%d", v6 ? "[" : "", host, v6 ? "]" : "", port);
    net_http_server_cfg cfg = {.endpoint = endpoint, .max_body_size = 1 << 16};
    gb_status st = net_http_server_new(pool, &cfg, handle, m, &m->srv, err, sizeof err);
    if (st != GB_OK) {
        gb_log(GB_LOG_ERROR, "", "cannot serve self-metrics on %s: %s", endpoint, err);
        rt_selfmetrics_stop(m);
        return st;
    }
    gb_log(GB_LOG_INFO, "", "self-metrics on http://%s%s%s:%u/metrics", v6 ? "[" : "", host,
           v6 ? "]" : "", net_http_server_port(m->srv));
    *out = m;
    return GB_OK;
}

void rt_selfmetrics_stop(rt_selfmetrics *m)
{
    if (!m) return;
    net_http_server_free(m->srv);
    gb_series_unregister(m->rss);
    gb_series_unregister(m->cpu);
    gb_series_unregister(m->uptime);
    gb_series_unregister(m->in_flight);
    free(m);
}
