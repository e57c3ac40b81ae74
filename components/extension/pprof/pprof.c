/* pprof extension: otelcol serves Go runtime profiles here. A C process has no Go profiles, so
 * this serves an index at /debug/pprof/ that says what is available (process status from /proc)
 * and answers every profile endpoint with 501 and a message pointing to perf/valgrind
 * (COMPATIBILITY.md: accept, serve what a C process can, refuse clearly, never crash). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "extension/httpext/httpext.h"

typedef struct pp_cfg {
    char *endpoint;
    int64_t block_profile_fraction;
    int64_t mutex_profile_fraction;
    char *save_to_file;
    net_tls_server_cfg tls;
    bool tls_set;
} pp_cfg;

static const cfg_field pp_fields[] = {
    {.key = "endpoint", .type = CFG_T_STRING, .offset = offsetof(pp_cfg, endpoint),
     .def = "localhost:1777", .doc = "host:port to serve on"},
    {.key = "block_profile_fraction", .type = CFG_T_INT,
     .offset = offsetof(pp_cfg, block_profile_fraction), .def = "0", .doc = "ignored (Go only)"},
    {.key = "mutex_profile_fraction", .type = CFG_T_INT,
     .offset = offsetof(pp_cfg, mutex_profile_fraction), .def = "0", .doc = "ignored (Go only)"},
    {.key = "save_to_file", .type = CFG_T_STRING, .offset = offsetof(pp_cfg, save_to_file),
     .doc = "ignored (Go only)"},
    {.key = "tls", .type = CFG_T_SECTION, .offset = offsetof(pp_cfg, tls),
     .sub = &net_tls_server_table, .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(pp_cfg, tls_set), .doc = "TLS server settings"},
};
static CFG_TABLE(pp_table, pp_fields, NULL);

typedef struct pp_state {
    httpext http;
} pp_state;

static void pp_handle(const net_http_request *req, net_http_response *resp, void *arg)
{
    (void)arg;
    if (gb_str_eq_c(req->path, "/debug/pprof/") || gb_str_eq_c(req->path, "/debug/pprof")) {
        resp->status = 200;
        net_http_resp_header(resp, "Content-Type", "text/plain; charset=utf-8");
        gb_sbuf_puts(&resp->body, "genops-collector is a C program: Go runtime profiles "
                                  "(heap, goroutine, profile, trace) do not exist here.\n"
                                  "Available: /debug/pprof/status (process status).\n"
                                  "For CPU profiles use `perf record -p <pid>`; for heap, "
                                  "valgrind --tool=massif.\n");
        return;
    }
    if (gb_str_eq_c(req->path, "/debug/pprof/status")) {
        FILE *f = fopen("/proc/self/status", "r");
        resp->status = f ? 200 : 500;
        net_http_resp_header(resp, "Content-Type", "text/plain; charset=utf-8");
        char line[512];
        while (f && fgets(line, sizeof line, f)) gb_sbuf_puts(&resp->body, line);
        if (f) fclose(f);
        return;
    }
    if (gb_str_has_prefix(req->path, GB_STR_LIT("/debug/pprof/"))) {
        static const char msg[] =
            "Go runtime profiles are not available in a C process; see /debug/pprof/\n";
        net_http_resp_set(resp, 501, "text/plain", msg, sizeof msg - 1);
        return;
    }
    net_http_resp_set(resp, 404, "text/plain", "404 page not found\n", 19);
}

static gb_status pp_start(pl_component *c, pl_host *host)
{
    pp_cfg *cfg = c->cfg;
    pp_state *s = calloc(1, sizeof *s);
    if (!s) return GB_ERR_NOMEM;
    c->state = s;
    gb_status st = httpext_start(&s->http, c, host, cfg->endpoint, cfg->tls_set ? &cfg->tls : NULL,
                                 1 << 16, pp_handle, c);
    if (st == GB_OK)
        gb_log(GB_LOG_INFO, c->full_id,
               "serving %s/debug/pprof/ (Go profiles are not available in a C process)",
               cfg->endpoint);
    return st;
}

static gb_status pp_shutdown(pl_component *c, int64_t deadline_ns)
{
    (void)deadline_ns;
    pp_state *s = c->state;
    if (s) httpext_stop(&s->http);
    return GB_OK;
}

static void pp_destroy(pl_component *c)
{
    pp_state *s = c->state;
    if (!s) return;
    httpext_free(&s->http);
    free(s);
    c->state = NULL;
}

const pl_descriptor extension_pprof_descriptor = {
    .kind = PL_EXTENSION,
    .type = "pprof",
    .stability = {PL_BETA},
    .config = &pp_table,
    .config_size = sizeof(pp_cfg),
    .doc = "accepted for otelcol configs; serves process status, refuses Go profiles with 501",
    .start = pp_start,
    .shutdown = pp_shutdown,
    .destroy = pp_destroy,
};
