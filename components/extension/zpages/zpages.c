/* zpages extension: live debug pages, as otelcol's zpagesextension serves them.
 *
 *   /debug/servicez    build info, start time, uptime, health, links
 *   /debug/pipelinez   each pipeline with its receivers, processors and exporters
 *   /debug/extensionz  running extensions
 *   /debug/featurez    feature gates (none in this build)
 *   /debug/tracez      accepted; this build keeps no in-process span samples (says so)
 *
 * Pages are plain HTML rendered from the host's description of the running graph at request
 * time. Text is HTML-escaped. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "extension/httpext/httpext.h"

typedef struct zp_cfg {
    char *endpoint;
    net_tls_server_cfg tls;
    bool tls_set;
} zp_cfg;

static const cfg_field zp_fields[] = {
    {.key = "endpoint", .type = CFG_T_STRING, .offset = offsetof(zp_cfg, endpoint),
     .def = "localhost:55679", .doc = "host:port to serve the pages on"},
    {.key = "tls", .type = CFG_T_SECTION, .offset = offsetof(zp_cfg, tls),
     .sub = &net_tls_server_table, .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(zp_cfg, tls_set), .doc = "TLS server settings"},
};
static CFG_TABLE(zp_table, zp_fields, NULL);

typedef struct zp_state {
    httpext http;
    pl_host *host;
} zp_state;

static void html_escape(gb_sbuf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '<': gb_sbuf_puts(out, "&lt;"); break;
        case '>': gb_sbuf_puts(out, "&gt;"); break;
        case '&': gb_sbuf_puts(out, "&amp;"); break;
        case '"': gb_sbuf_puts(out, "&quot;"); break;
        default: gb_sbuf_putc(out, s[i]);
        }
    }
}

static void page_begin(gb_sbuf *b, const char *title)
{
    gb_sbuf_printf(b,
                   "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>"
                   "<body><h1>%s</h1>\n<p><a href=\"/debug/servicez\">servicez</a> | "
                   "<a href=\"/debug/pipelinez\">pipelinez</a> | <a "
                   "href=\"/debug/extensionz\">extensionz</a> | <a "
                   "href=\"/debug/featurez\">featurez</a></p>\n",
                   title, title);
}

/* Renders the host's description (one item per line) as a table. */
static void lines_table(gb_sbuf *b, const pl_host *h, pl_kind what, int all_pipelines)
{
    gb_sbuf text;
    gb_sbuf_init(&text, 1 << 20);
    if (h && h->describe) h->describe(h, all_pipelines ? (pl_kind)-1 : what, &text);
    gb_sbuf_puts(b, "<table border=\"1\" cellpadding=\"4\">\n");
    const char *p = text.data ? text.data : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        gb_sbuf_puts(b, "<tr><td>");
        html_escape(b, p, n);
        gb_sbuf_puts(b, "</td></tr>\n");
        p += n + (nl ? 1 : 0);
    }
    gb_sbuf_puts(b, "</table>\n");
    gb_sbuf_free(&text);
}

static void zp_handle(const net_http_request *req, net_http_response *resp, void *arg)
{
    pl_component *c = arg;
    zp_state *s = c->state;
    gb_sbuf *b = &resp->body;
    if (!gb_str_eq_c(req->method, "GET") && !gb_str_eq_c(req->method, "HEAD")) {
        net_http_resp_header(resp, "Allow", "GET, HEAD");
        net_http_resp_set(resp, 405, "text/plain", "405 method not allowed\n", 23);
        return;
    }
    if (gb_str_eq_c(req->path, "/debug/servicez")) {
        static const char *health[] = {"starting", "ready", "draining", "stopped"};
        char since[48], uptime[48];
        int64_t start = s->host ? s->host->start_time_ns : 0;
        gb_fmt_rfc3339(start, since, sizeof since);
        gb_fmt_duration(gb_now_ns() - start, uptime, sizeof uptime);
        page_begin(b, "Service");
        gb_sbuf_printf(b,
                       "<table border=\"1\" cellpadding=\"4\">\n<tr><td>Command</td><td>"
                       "genops-collector</td></tr>\n<tr><td>Version</td><td>%s</td></tr>\n"
                       "<tr><td>Start time</td><td>%s</td></tr>\n<tr><td>Uptime</td><td>%s</td>"
                       "</tr>\n<tr><td>Health</td><td>%s</td></tr>\n</table>\n",
                       GENOPS_VERSION, since, uptime,
                       s->host && s->host->health ? health[s->host->health(s->host) & 3] : "unknown");
    } else if (gb_str_eq_c(req->path, "/debug/pipelinez")) {
        page_begin(b, "Pipelines");
        lines_table(b, s->host, PL_RECEIVER, 1);
        gb_sbuf_puts(b, "<h2>Receivers</h2>\n");
        lines_table(b, s->host, PL_RECEIVER, 0);
        gb_sbuf_puts(b, "<h2>Processors</h2>\n");
        lines_table(b, s->host, PL_PROCESSOR, 0);
        gb_sbuf_puts(b, "<h2>Exporters</h2>\n");
        lines_table(b, s->host, PL_EXPORTER, 0);
        gb_sbuf_puts(b, "<h2>Connectors</h2>\n");
        lines_table(b, s->host, PL_CONNECTOR, 0);
    } else if (gb_str_eq_c(req->path, "/debug/extensionz")) {
        page_begin(b, "Extensions");
        lines_table(b, s->host, PL_EXTENSION, 0);
    } else if (gb_str_eq_c(req->path, "/debug/featurez")) {
        page_begin(b, "Feature gates");
        gb_sbuf_puts(b, "<p>This build has no feature gates.</p>\n");
    } else if (gb_str_eq_c(req->path, "/debug/tracez") || gb_str_eq_c(req->path, "/debug/rpcz")) {
        page_begin(b, "Traces");
        gb_sbuf_puts(b, "<p>This build keeps no in-process span samples.</p>\n");
    } else {
        net_http_resp_set(resp, 404, "text/plain", "404 page not found\n", 19);
        return;
    }
    gb_sbuf_puts(b, "</body></html>\n");
    resp->status = 200;
    net_http_resp_header(resp, "Content-Type", "text/html; charset=utf-8");
}

static gb_status zp_start(pl_component *c, pl_host *host)
{
    zp_cfg *cfg = c->cfg;
    zp_state *s = calloc(1, sizeof *s);
    if (!s) return GB_ERR_NOMEM;
    s->host = host;
    c->state = s;
    gb_status st = httpext_start(&s->http, c, host, cfg->endpoint, cfg->tls_set ? &cfg->tls : NULL,
                                 1 << 16, zp_handle, c);
    if (st == GB_OK) gb_log(GB_LOG_INFO, c->full_id, "zpages on %s/debug/servicez", cfg->endpoint);
    return st;
}

static gb_status zp_shutdown(pl_component *c, int64_t deadline_ns)
{
    (void)deadline_ns;
    zp_state *s = c->state;
    if (s) httpext_stop(&s->http);
    return GB_OK;
}

static void zp_destroy(pl_component *c)
{
    zp_state *s = c->state;
    if (!s) return;
    httpext_free(&s->http);
    free(s);
    c->state = NULL;
}

const pl_descriptor extension_zpages_descriptor = {
    .kind = PL_EXTENSION,
    .type = "zpages",
    .stability = {PL_BETA},
    .config = &zp_table,
    .config_size = sizeof(zp_cfg),
    .doc = "debug pages: /debug/servicez, /debug/pipelinez, /debug/extensionz",
    .start = zp_start,
    .shutdown = zp_shutdown,
    .destroy = zp_destroy,
};
