/* health_check extension (otelcol's healthcheckextension, v1 behaviour).
 *
 * GET <path> answers 200 {"status":"Server available","upSince":"…","uptime":"…"} while the
 * collector is ready, and 503 {"status":"Server not available",…} while it is starting or
 * draining. The state is read from the host on every request (an atomic), so there is nothing to
 * keep in sync. Served by the shared HTTP/1.1 server (src/net) on the worker pool. Rejected: a
 * dedicated thread with its own tiny server (one more listener implementation to harden). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "extension/httpext/httpext.h"

typedef struct hc_cfg {
    char *endpoint;
    char *path;
    net_tls_server_cfg tls;
    bool tls_set;
    const cfg_node *check_collector_pipeline;
    const cfg_node *response_body;
} hc_cfg;

static const cfg_field hc_fields[] = {
    {.key = "endpoint", .type = CFG_T_STRING, .offset = offsetof(hc_cfg, endpoint),
     .def = "localhost:13133", .doc = "host:port to serve on"},
    {.key = "path", .type = CFG_T_STRING, .offset = offsetof(hc_cfg, path), .def = "/",
     .doc = "URL path of the health endpoint"},
    {.key = "tls", .type = CFG_T_SECTION, .offset = offsetof(hc_cfg, tls),
     .sub = &net_tls_server_table, .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(hc_cfg, tls_set), .doc = "TLS server settings"},
    {.key = "check_collector_pipeline", .type = CFG_T_ANY,
     .offset = offsetof(hc_cfg, check_collector_pipeline), .flags = CFG_F_DEPRECATED,
     .replacement = "nothing (ignored, as in otelcol)", .doc = "deprecated; ignored"},
    {.key = "response_body", .type = CFG_T_ANY, .offset = offsetof(hc_cfg, response_body),
     .doc = "accepted; the otelcol v1 JSON body is always sent"},
};
static CFG_TABLE(hc_table, hc_fields, NULL);

typedef struct hc_state {
    httpext http;
    pl_host *host;
    int64_t up_since_ns;
} hc_state;

static void hc_handle(const net_http_request *req, net_http_response *resp, void *arg)
{
    pl_component *c = arg;
    hc_cfg *cfg = c->cfg;
    hc_state *s = c->state;
    if (!gb_str_eq_c(req->path, cfg->path)) {
        net_http_resp_set(resp, 404, "text/plain", "404 page not found\n", 19);
        return;
    }
    if (!gb_str_eq_c(req->method, "GET") && !gb_str_eq_c(req->method, "HEAD")) {
        net_http_resp_header(resp, "Allow", "GET, HEAD");
        net_http_resp_set(resp, 405, "text/plain", "405 method not allowed\n", 23);
        return;
    }
    bool ready = s->host && s->host->health && s->host->health(s->host) == PL_HEALTH_READY;
    char since[48], uptime[48];
    gb_fmt_rfc3339(s->up_since_ns, since, sizeof since);
    gb_fmt_duration(gb_now_ns() - s->up_since_ns, uptime, sizeof uptime);
    resp->status = ready ? 200 : 503;
    net_http_resp_header(resp, "Content-Type", "application/json");
    gb_sbuf_printf(&resp->body, "{\"status\":\"%s\",\"upSince\":\"%s\",\"uptime\":\"%s\"}",
                   ready ? "Server available" : "Server not available", since, uptime);
}

static gb_status hc_start(pl_component *c, pl_host *host)
{
    hc_cfg *cfg = c->cfg;
    hc_state *s = calloc(1, sizeof *s);
    if (!s) return GB_ERR_NOMEM;
    s->host = host;
    s->up_since_ns = host ? host->start_time_ns : gb_now_ns();
    c->state = s;
    gb_status st = httpext_start(&s->http, c, host, cfg->endpoint, cfg->tls_set ? &cfg->tls : NULL,
                                 1 << 20, hc_handle, c);
    if (st == GB_OK) gb_log(GB_LOG_INFO, c->full_id, "health check on %s%s", cfg->endpoint, cfg->path);
    return st;
}

static gb_status hc_shutdown(pl_component *c, int64_t deadline_ns)
{
    (void)deadline_ns;
    hc_state *s = c->state;
    if (s) httpext_stop(&s->http);
    return GB_OK;
}

static void hc_destroy(pl_component *c)
{
    hc_state *s = c->state;
    if (!s) return;
    httpext_free(&s->http);
    free(s);
    c->state = NULL;
}

const pl_descriptor extension_health_check_descriptor = {
    .kind = PL_EXTENSION,
    .type = "health_check",
    .stability = {PL_BETA},
    .config = &hc_table,
    .config_size = sizeof(hc_cfg),
    .doc = "HTTP health endpoint: 200 when the collector is ready, 503 while starting or draining",
    .start = hc_start,
    .shutdown = hc_shutdown,
    .destroy = hc_destroy,
};
