/* prometheus exporter (otelcol-contrib's prometheusexporter): a pull endpoint serving the metrics
 * it received at GET /metrics, for a Prometheus server to scrape.
 *
 * How: consume goes through the exporter helper (no queue, no retries, as otelcol) so the
 * standard otelcol_exporter_sent/send_failed_metric_points self-metrics count it; the export
 * function accumulates the batch into a prometheus_store (store.c: latest value per series, delta
 * sums and histograms turned cumulative, expiry, target_info) and returns at once. The HTTP handler
 * runs on a network worker (the shared HTTP/1.1 server, optional TLS) and renders the store:
 * text format 0.0.4, or OpenMetrics 1.0.0 when enable_open_metrics is set and the scrape's Accept
 * header asks for application/openmetrics-text. Other paths answer 404, other methods 405.
 *
 * Rejected: rendering the exposition on every consume and serving a cached copy (work for
 * batches nobody scrapes, and expiry would need a timer); a dedicated listener thread (one more
 * HTTP implementation to harden). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "exporter/promutil/promutil.h"
#include "extension/httpext/httpext.h"
#include "net/net.h"
#include "pipeline/exporter_helper.h"
#include "prometheus.h"
#include "store.h"

/* ---- config --------------------------------------------------------------------------------- */

static const cfg_field r2t_fields[] = {
    {.key = "enabled",
     .type = CFG_T_BOOL,
     .offset = offsetof(prometheus_r2t_cfg, enabled),
     .def = "false",
     .doc = "copy every resource attribute to the metric labels"},
    {.key = "exclude_service_attributes",
     .type = CFG_T_BOOL,
     .offset = offsetof(prometheus_r2t_cfg, exclude_service_attributes),
     .def = "false",
     .doc = "but not service.name, service.namespace, service.instance.id (job / instance)"},
};
static CFG_TABLE(r2t_table, r2t_fields, NULL);

static const cfg_field rcl_fields[] = {
    {.key = "included",
     .type = CFG_T_STRINGS,
     .offset = offsetof(prometheus_rcl_cfg, included),
     .doc = "wildcard patterns of resource attribute keys to add as labels"},
    {.key = "excluded",
     .type = CFG_T_STRINGS,
     .offset = offsetof(prometheus_rcl_cfg, excluded),
     .doc = "wildcard patterns of keys never added (wins over included)"},
};
static CFG_TABLE(rcl_table, rcl_fields, NULL);

static void prometheus_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    prometheus_cfg *c = obj;
    const cfg_node *n = node ? cfg_node_get(node, "endpoint") : NULL;
    cfg_mark m = n ? n->mark : (node ? node->mark : (cfg_mark){0});
    char p[512], err[300];
    snprintf(p, sizeof p, "%s%sendpoint", path, *path ? "." : "");
    net_endpoint e;
    if (!c->endpoint || !*c->endpoint)
        cfg_diag_add(d, CFG_ERROR, m, p, "endpoint is required (e.g. \"0.0.0.0:8889\")");
    else if (net_endpoint_parse(c->endpoint, &e, err, sizeof err) != GB_OK)
        cfg_diag_add(d, CFG_ERROR, m, p, "%s", err);
    if (c->translation_strategy && *c->translation_strategy) {
        n = node ? cfg_node_get(node, "translation_strategy") : NULL;
        m = n ? n->mark : (node ? node->mark : (cfg_mark){0});
        snprintf(p, sizeof p, "%s%stranslation_strategy", path, *path ? "." : "");
        const char *t = c->translation_strategy;
        if (strcmp(t, "UnderscoreEscapingWithSuffixes") == 0) {
            c->add_metric_suffixes = true;
        } else if (strcmp(t, "UnderscoreEscapingWithoutSuffixes") == 0) {
            c->add_metric_suffixes = false;
        } else if (strcmp(t, "NoUTF8EscapingWithSuffixes") == 0 ||
                   strcmp(t, "NoTranslation") == 0) {
            cfg_diag_add(d, CFG_ERROR, m, p,
                         "\"%s\" is not supported (names are always escaped to the classic "
                         "Prometheus character set); use UnderscoreEscapingWithSuffixes or "
                         "UnderscoreEscapingWithoutSuffixes",
                         t);
        } else {
            cfg_diag_add(d, CFG_ERROR, m, p,
                         "unknown translation_strategy \"%s\" (UnderscoreEscapingWithSuffixes, "
                         "UnderscoreEscapingWithoutSuffixes)",
                         t);
        }
    }
    for (uint32_t i = 0; i < c->const_labels.n; i++) {
        char name[PROMUTIL_NAME_MAX];
        if (promutil_label_name(gb_str_c(c->const_labels.keys[i]), name, sizeof name) != GB_OK) {
            n = node ? cfg_node_get(node, "const_labels") : NULL;
            m = n ? n->mark : (node ? node->mark : (cfg_mark){0});
            snprintf(p, sizeof p, "%s%sconst_labels", path, *path ? "." : "");
            cfg_diag_add(d, CFG_ERROR, m, p, "\"%s\" cannot be made a Prometheus label name",
                         c->const_labels.keys[i]);
        }
    }
}

static const cfg_field prometheus_fields[] = {
    {.key = "endpoint",
     .type = CFG_T_STRING,
     .offset = offsetof(prometheus_cfg, endpoint),
     .flags = CFG_F_REQUIRED,
     .doc = "host:port to serve /metrics on (required)"},
    {.key = "tls",
     .type = CFG_T_SECTION,
     .offset = offsetof(prometheus_cfg, tls),
     .sub = &net_tls_server_table,
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(prometheus_cfg, tls_set),
     .doc = "TLS server settings"},
    {.key = "namespace",
     .type = CFG_T_STRING,
     .offset = offsetof(prometheus_cfg, namespace_),
     .def = "",
     .doc = "prefix of every metric name (<namespace>_<name>)"},
    {.key = "const_labels",
     .type = CFG_T_STRMAP,
     .offset = offsetof(prometheus_cfg, const_labels),
     .doc = "labels added to every series (names sanitized; a point's own label wins)"},
    {.key = "send_timestamps",
     .type = CFG_T_BOOL,
     .offset = offsetof(prometheus_cfg, send_timestamps),
     .def = "false",
     .doc = "write each sample's timestamp"},
    {.key = "metric_expiration",
     .type = CFG_T_DURATION,
     .offset = offsetof(prometheus_cfg, metric_expiration),
     .def = "5m",
     .doc = "series not updated for this long are no longer served (0: never)"},
    {.key = "resource_to_telemetry_conversion",
     .type = CFG_T_SECTION,
     .offset = offsetof(prometheus_cfg, r2t),
     .sub = &r2t_table,
     .flags = CFG_F_NULLABLE,
     .doc = "resource attributes as metric labels"},
    {.key = "resource_constant_labels",
     .type = CFG_T_SECTION,
     .offset = offsetof(prometheus_cfg, rcl),
     .sub = &rcl_table,
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(prometheus_cfg, rcl_set),
     .doc = "resource attributes (by key pattern) as labels; wins over "
            "resource_to_telemetry_conversion"},
    {.key = "enable_open_metrics",
     .type = CFG_T_BOOL,
     .offset = offsetof(prometheus_cfg, enable_open_metrics),
     .def = "false",
     .doc = "serve OpenMetrics 1.0.0 to scrapes that accept it"},
    {.key = "without_scope_info",
     .type = CFG_T_BOOL,
     .offset = offsetof(prometheus_cfg, without_scope_info),
     .def = "false",
     .doc = "no otel_scope_* labels"},
    {.key = "add_metric_suffixes",
     .type = CFG_T_BOOL,
     .offset = offsetof(prometheus_cfg, add_metric_suffixes),
     .def = "true",
     .doc = "unit and _total suffixes (ignored when translation_strategy is set)"},
    {.key = "translation_strategy",
     .type = CFG_T_STRING,
     .offset = offsetof(prometheus_cfg, translation_strategy),
     .doc = "UnderscoreEscapingWithSuffixes or UnderscoreEscapingWithoutSuffixes"},
    {.key = "max_series",
     .type = CFG_T_INT,
     .offset = offsetof(prometheus_cfg, max_series),
     .def = "0",
     .min = 0,
     .max = 1e12,
     .doc = "most series kept (new ones beyond are dropped and counted); 0: unlimited"},
};
CFG_TABLE(prometheus_cfg_table, prometheus_fields, prometheus_validate);

/* ---- component ------------------------------------------------------------------------------ */

typedef struct prometheus_state {
    pl_component *c;
    const prometheus_cfg *cfg;
    prometheus_store *store;
    httpext http;
    pl_exphelper *helper;
    promutil_label *const_labels;
    char (*const_names)[PROMUTIL_NAME_MAX];
} prometheus_state;

static gb_status prometheus_export(void *ctx, unsigned thread, pd_batch *b, int64_t deadline_ns,
                                   pl_export_result *res)
{
    (void)thread;
    (void)deadline_ns;
    prometheus_state *s = ctx;
    prometheus_add_stats stats;
    gb_status st = prometheus_store_add(s->store, b, gb_mono_ns(), &stats);
    if (stats.dropped)
        gb_log(GB_LOG_WARN, s->c->full_id, "dropped %llu metric points: %s",
               (unsigned long long)stats.dropped, stats.reason);
    if (st != GB_OK) {
        snprintf(res->message, sizeof res->message, "cannot store metrics: %s", gb_status_str(st));
        return GB_ERR_PERMANENT;
    }
    return GB_OK;
}

static bool accepts_openmetrics(const net_http_request *req)
{
    gb_str a = net_http_header_get(req, "Accept");
    static const char k[] = "application/openmetrics-text";
    if (!a.ptr || a.len < sizeof k - 1) return false;
    for (uint32_t i = 0; i + sizeof k - 1 <= a.len; i++)
        if (strncasecmp(a.ptr + i, k, sizeof k - 1) == 0) return true;
    return false;
}

static void prometheus_handle(const net_http_request *req, net_http_response *resp, void *arg)
{
    prometheus_state *s = arg;
    if (!gb_str_eq_c(req->path, "/metrics")) {
        net_http_resp_set(resp, 404, "text/plain; charset=utf-8", "404 page not found\n", 19);
        return;
    }
    bool head = gb_str_eq_c(req->method, "HEAD");
    if (!gb_str_eq_c(req->method, "GET") && !head) {
        net_http_resp_header(resp, "Allow", "GET, HEAD");
        net_http_resp_set(resp, 405, "text/plain; charset=utf-8", "405 method not allowed\n", 23);
        return;
    }
    bool om = s->cfg->enable_open_metrics && accepts_openmetrics(req);
    gb_status st = prometheus_store_render(s->store, om, gb_mono_ns(), &resp->body);
    if (st != GB_OK) {
        gb_sbuf_reset(&resp->body);
        char msg[128];
        int n = snprintf(msg, sizeof msg, "cannot render metrics: %s\n", gb_status_str(st));
        net_http_resp_set(resp, 500, "text/plain; charset=utf-8", msg, (size_t)n);
        return;
    }
    resp->status = 200;
    net_http_resp_header(resp, "Content-Type",
                         om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                            : "text/plain; version=0.0.4; charset=utf-8");
    if (head) gb_sbuf_reset(&resp->body);
}

static gb_status prometheus_create(pl_component *c)
{
    gb_status st = GB_ERR_NOMEM;
    const prometheus_cfg *cfg = c->cfg;
    prometheus_state *s = calloc(1, sizeof *s);
    if (!s) goto fail;
    s->c = c;
    s->cfg = cfg;
    c->state = s;
    uint32_t n = cfg->const_labels.n;
    if (n) {
        s->const_labels = calloc(n, sizeof *s->const_labels);
        s->const_names = calloc(n, sizeof *s->const_names);
        if (!s->const_labels || !s->const_names) goto fail;
        for (uint32_t i = 0; i < n; i++) {
            promutil_label_name(gb_str_c(cfg->const_labels.keys[i]), s->const_names[i],
                                sizeof s->const_names[i]);
            s->const_labels[i].name = s->const_names[i];
            s->const_labels[i].value =
                cfg->const_labels.values[i] ? cfg->const_labels.values[i] : "";
        }
    }
    prometheus_store_cfg sc = {
        .namespace_ = cfg->namespace_,
        .add_suffixes = cfg->add_metric_suffixes,
        .send_timestamps = cfg->send_timestamps,
        .expiration_ns = cfg->metric_expiration,
        .resource_to_telemetry = cfg->r2t.enabled,
        .exclude_service_attributes = cfg->r2t.exclude_service_attributes,
        .rcl_set = cfg->rcl_set,
        .rcl_included = (const char *const *)cfg->rcl.included.v,
        .n_rcl_included = cfg->rcl.included.n,
        .rcl_excluded = (const char *const *)cfg->rcl.excluded.v,
        .n_rcl_excluded = cfg->rcl.excluded.n,
        .without_scope_info = cfg->without_scope_info,
        .const_labels = s->const_labels,
        .n_const_labels = n,
        .max_series = (uint64_t)cfg->max_series,
    };
    st = prometheus_store_new(&sc, &s->store);
    if (st != GB_OK) goto fail;
    return GB_OK;
fail:
    return st; /* destroy frees what was built */
}

static gb_status prometheus_start(pl_component *c, pl_host *host)
{
    prometheus_state *s = c->state;
    const prometheus_cfg *cfg = s->cfg;
    pl_retry_cfg r;
    pl_queue_cfg q;
    pl_retry_cfg_default(&r);
    r.enabled = false;
    pl_queue_cfg_default(&q);
    q.enabled = false;
    q.num_consumers = 64; /* concurrency bound for callers; the store has its own lock */
    pl_exphelper_opts o = {.id = c->id,
                           .signal = PD_METRICS,
                           .retry = &r,
                           .queue = &q,
                           .export_fn = prometheus_export,
                           .ctx = s};
    gb_status st = pl_exphelper_new(&o, &s->helper);
    if (st == GB_OK) st = pl_exphelper_start(s->helper);
    if (st != GB_OK) return st;
    st = httpext_start(&s->http, c, host, cfg->endpoint, cfg->tls_set ? &cfg->tls : NULL, 1 << 16,
                       prometheus_handle, s);
    if (st == GB_OK)
        gb_log(GB_LOG_INFO, c->full_id, "serving Prometheus metrics on %s%s/metrics",
               cfg->tls_set ? "https://" : "http://", cfg->endpoint);
    return st;
}

static gb_status prometheus_consume(pl_component *c, pd_batch *b)
{
    prometheus_state *s = c->state;
    if (b->signal != PD_METRICS || !s->helper) {
        pd_batch_unref(b);
        return GB_ERR_PERMANENT; /* the graph only connects metrics pipelines */
    }
    return pl_exphelper_consume(s->helper, b);
}

static gb_status prometheus_shutdown(pl_component *c, int64_t deadline_ns)
{
    prometheus_state *s = c->state;
    if (!s) return GB_OK;
    httpext_stop(&s->http);
    if (s->helper) pl_exphelper_shutdown(s->helper, deadline_ns);
    return GB_OK;
}

static void prometheus_destroy(pl_component *c)
{
    prometheus_state *s = c->state;
    if (!s) return;
    httpext_free(&s->http);
    pl_exphelper_free(s->helper);
    prometheus_store_free(s->store);
    free(s->const_labels);
    free(s->const_names);
    free(s);
    c->state = NULL;
}

const pl_descriptor exporter_prometheus_descriptor = {
    .kind = PL_EXPORTER,
    .type = "prometheus",
    .stability = {PL_UNSUPPORTED, PL_BETA, PL_UNSUPPORTED},
    .config = &prometheus_cfg_table,
    .config_size = sizeof(prometheus_cfg),
    .doc = "serves received metrics at /metrics for Prometheus to scrape",
    .create = prometheus_create,
    .start = prometheus_start,
    .consume = prometheus_consume,
    .shutdown = prometheus_shutdown,
    .destroy = prometheus_destroy,
};
