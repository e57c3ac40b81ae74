/* OTLP receiver configuration: otelcol's keys and defaults (otlpreceiver, configgrpc,
 * confighttp, configtls), plus the checks otelcol does at validation time and the compatibility
 * errors of the user guide (auth with a client authenticator). */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "net/net.h"
#include "otlp_receiver.h"

#define GOFF(f) offsetof(otlprecv_grpc_cfg, f)
#define HOFF(f) offsetof(otlprecv_http_cfg, f)

/* ---- auth -------------------------------------------------------------------------------------
 */

static void auth_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    otlprecv_auth_cfg *a = obj;
    cfg_mark m = node ? node->mark : (cfg_mark){0};
    const cfg_node *an = node ? cfg_node_get(node, "authenticator") : NULL;
    if (an) m = an->mark;
    if (!a->authenticator || !*a->authenticator) {
        cfg_diag_add(d, CFG_ERROR, m, path, "auth: authenticator is required");
        return;
    }
    const char *id = a->authenticator;
    size_t tlen = strcspn(id, "/");
    if (tlen == strlen("oauth2client") && strncmp(id, "oauth2client", tlen) == 0) {
        cfg_diag_add(d, CFG_ERROR, m, path,
                     "authenticator \"%s\" is a client authenticator (for exporters) and cannot "
                     "authenticate incoming requests; use a server authenticator such as "
                     "bearertokenauth, basicauth or oidc",
                     id);
        return;
    }
    cfg_diag_add(d, CFG_ERROR, m, path,
                 "authenticator \"%s\" is not available in this build (receiver authentication "
                 "is not supported yet)",
                 id);
}

static const cfg_field auth_fields[] = {
    {.key = "authenticator",
     .type = CFG_T_STRING,
     .offset = offsetof(otlprecv_auth_cfg, authenticator),
     .doc = "ID of a server authenticator extension"},
};
static CFG_TABLE(auth_table, auth_fields, auth_validate);

/* ---- cors -------------------------------------------------------------------------------------
 */

static const cfg_field cors_fields[] = {
    {.key = "allowed_origins",
     .type = CFG_T_STRINGS,
     .offset = offsetof(otlprecv_cors_cfg, allowed_origins),
     .doc = "origins allowed for cross-origin requests (\"*\" and one wildcard per entry)"},
    {.key = "allowed_headers",
     .type = CFG_T_STRINGS,
     .offset = offsetof(otlprecv_cors_cfg, allowed_headers),
     .doc = "extra request headers allowed (\"*\" for any)"},
    {.key = "max_age",
     .type = CFG_T_INT,
     .offset = offsetof(otlprecv_cors_cfg, max_age),
     .def = "0",
     .doc = "seconds browsers may cache a preflight answer",
     .min = 0,
     .max = 1e9},
};
static CFG_TABLE(cors_table, cors_fields, NULL);

/* ---- endpoint check ------------------------------------------------------------------------ */

static void check_endpoint(const char *ep, const cfg_node *node, const char *key, const char *path,
                           cfg_diags *d)
{
    net_endpoint e;
    char err[300];
    const cfg_node *n = node ? cfg_node_get(node, key) : NULL;
    cfg_mark m = n ? n->mark : (node ? node->mark : (cfg_mark){0});
    char p[512];
    snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
    if (!ep || !*ep) {
        cfg_diag_add(d, CFG_ERROR, m, p, "endpoint is required");
        return;
    }
    if (net_endpoint_parse(ep, &e, err, sizeof(err)) != GB_OK)
        cfg_diag_add(d, CFG_ERROR, m, p, "%s", err);
}

/* ---- grpc -------------------------------------------------------------------------------------
 */

static void grpc_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    otlprecv_grpc_cfg *g = obj;
    cfg_mark m = node ? node->mark : (cfg_mark){0};
    check_endpoint(g->endpoint, node, "endpoint", path, d);
    if (g->transport && strcmp(g->transport, "tcp") != 0 && strcmp(g->transport, "tcp4") != 0 &&
        strcmp(g->transport, "tcp6") != 0)
        cfg_diag_add(d, CFG_ERROR, m, path, "transport \"%s\" is not supported (use tcp)",
                     g->transport);
}

static const cfg_field grpc_fields[] = {
    {.key = "endpoint",
     .type = CFG_T_STRING,
     .offset = GOFF(endpoint),
     .def = "localhost:4317",
     .doc = "host:port to listen on (otelcol's default: localhost:4317)"},
    {.key = "transport",
     .type = CFG_T_STRING,
     .offset = GOFF(transport),
     .def = "tcp",
     .doc = "tcp"},
    {.key = "max_recv_msg_size_mib",
     .type = CFG_T_INT,
     .offset = GOFF(max_recv_msg_size_mib),
     .def = "4",
     .doc = "largest request message in MiB",
     .min = 0,
     .max = 4095},
    {.key = "max_concurrent_streams",
     .type = CFG_T_INT,
     .offset = GOFF(max_concurrent_streams),
     .def = "0",
     .doc = "concurrent calls per connection (0 = 100)",
     .min = 0,
     .max = 1e6},
    {.key = "read_buffer_size",
     .type = CFG_T_INT,
     .offset = GOFF(read_buffer_size),
     .def = "524288",
     .doc = "accepted; socket reads are sized by the event loop",
     .min = 0,
     .max = 1e9},
    {.key = "write_buffer_size",
     .type = CFG_T_INT,
     .offset = GOFF(write_buffer_size),
     .def = "0",
     .doc = "bytes queued per connection before backpressure (0 = 1 MiB)",
     .min = 0,
     .max = 1e9},
    {.key = "keepalive",
     .type = CFG_T_SECTION,
     .offset = GOFF(keepalive),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = GOFF(keepalive_set),
     .sub = &net_grpc_keepalive_table,
     .doc = "keepalive server_parameters / enforcement_policy"},
    {.key = "tls",
     .type = CFG_T_SECTION,
     .offset = GOFF(tls),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = GOFF(tls_set),
     .sub = &net_tls_server_table,
     .doc = "TLS server settings"},
    {.key = "include_metadata",
     .type = CFG_T_BOOL,
     .offset = GOFF(include_metadata),
     .def = "false",
     .doc = "attach request metadata to the data (for batch metadata_keys)"},
    {.key = "auth",
     .type = CFG_T_SECTION,
     .offset = GOFF(auth),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = GOFF(auth_set),
     .sub = &auth_table,
     .doc = "server authenticator (not available in this build)"},
};
CFG_TABLE(otlprecv_grpc_table, grpc_fields, grpc_validate);

/* ---- http -------------------------------------------------------------------------------------
 */

static bool compression_known(const char *s)
{
    static const char *known[] = {"",        "gzip",   "zstd", "zlib",
                                  "deflate", "snappy", "lz4",  "x-snappy-framed"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcasecmp(s, known[i]) == 0) return true;
    return false;
}

static void http_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    otlprecv_http_cfg *h = obj;
    cfg_mark m = node ? node->mark : (cfg_mark){0};
    check_endpoint(h->endpoint, node, "endpoint", path, d);
    const char *paths[3] = {h->traces_url_path, h->metrics_url_path, h->logs_url_path};
    const char *keys[3] = {"traces_url_path", "metrics_url_path", "logs_url_path"};
    for (int i = 0; i < 3; i++) {
        if (!paths[i] || !*paths[i])
            cfg_diag_add(d, CFG_ERROR, m, path, "%s must not be empty", keys[i]);
        else if (strchr(paths[i], '?') || strchr(paths[i], ' '))
            cfg_diag_add(d, CFG_ERROR, m, path, "%s \"%s\" is not a URL path", keys[i], paths[i]);
    }
    for (uint32_t i = 0; i < h->compression_algorithms.n; i++)
        if (!compression_known(h->compression_algorithms.v[i]))
            cfg_diag_add(d, CFG_ERROR, m, path, "unsupported compression algorithm \"%s\"",
                         h->compression_algorithms.v[i]);
    if (h->max_request_body_size < 0)
        cfg_diag_add(d, CFG_ERROR, m, path, "max_request_body_size must not be negative");
}

static const cfg_field http_fields[] = {
    {.key = "endpoint",
     .type = CFG_T_STRING,
     .offset = HOFF(endpoint),
     .def = "localhost:4318",
     .doc = "host:port to listen on (otelcol's default: localhost:4318)"},
    {.key = "traces_url_path",
     .type = CFG_T_STRING,
     .offset = HOFF(traces_url_path),
     .def = "/v1/traces",
     .doc = "URL path for traces"},
    {.key = "metrics_url_path",
     .type = CFG_T_STRING,
     .offset = HOFF(metrics_url_path),
     .def = "/v1/metrics",
     .doc = "URL path for metrics"},
    {.key = "logs_url_path",
     .type = CFG_T_STRING,
     .offset = HOFF(logs_url_path),
     .def = "/v1/logs",
     .doc = "URL path for logs"},
    {.key = "cors",
     .type = CFG_T_SECTION,
     .offset = HOFF(cors),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = HOFF(cors_set),
     .sub = &cors_table,
     .doc = "cross-origin resource sharing"},
    {.key = "max_request_body_size",
     .type = CFG_T_INT,
     .offset = HOFF(max_request_body_size),
     .def = "20971520",
     .doc = "largest request body in bytes, before and after decompression"},
    {.key = "include_metadata",
     .type = CFG_T_BOOL,
     .offset = HOFF(include_metadata),
     .def = "false",
     .doc = "attach request headers to the data (for batch metadata_keys)"},
    {.key = "tls",
     .type = CFG_T_SECTION,
     .offset = HOFF(tls),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = HOFF(tls_set),
     .sub = &net_tls_server_table,
     .doc = "TLS server settings"},
    {.key = "auth",
     .type = CFG_T_SECTION,
     .offset = HOFF(auth),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = HOFF(auth_set),
     .sub = &auth_table,
     .doc = "server authenticator (not available in this build)"},
    {.key = "compression_algorithms",
     .type = CFG_T_STRINGS,
     .offset = HOFF(compression_algorithms),
     .flags = CFG_F_TRACK_SET,
     .set_offset = HOFF(compression_algorithms_set),
     .doc = "accepted Content-Encodings (default: all supported)"},
    {.key = "read_timeout",
     .type = CFG_T_DURATION,
     .offset = HOFF(read_timeout),
     .def = "0",
     .doc = "time allowed to read a request body (0 = 60s)"},
    {.key = "read_header_timeout",
     .type = CFG_T_DURATION,
     .offset = HOFF(read_header_timeout),
     .def = "0",
     .doc = "time allowed to read request headers (0 = 30s)"},
    {.key = "write_timeout",
     .type = CFG_T_DURATION,
     .offset = HOFF(write_timeout),
     .def = "0",
     .doc = "time allowed to write a response (0 = 30s)"},
    {.key = "idle_timeout",
     .type = CFG_T_DURATION,
     .offset = HOFF(idle_timeout),
     .def = "0",
     .doc = "idle keep-alive connections are closed after this (0 = 90s)"},
};
CFG_TABLE(otlprecv_http_table, http_fields, http_validate);

/* ---- top level --------------------------------------------------------------------------------
 */

static const cfg_field proto_fields[] = {
    {.key = "grpc",
     .type = CFG_T_SECTION,
     .offset = offsetof(otlprecv_protocols, grpc),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(otlprecv_protocols, grpc_set),
     .sub = &otlprecv_grpc_table,
     .doc = "OTLP/gRPC server"},
    {.key = "http",
     .type = CFG_T_SECTION,
     .offset = offsetof(otlprecv_protocols, http),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(otlprecv_protocols, http_set),
     .sub = &otlprecv_http_table,
     .doc = "OTLP/HTTP server"},
};
static CFG_TABLE(proto_table, proto_fields, NULL);

static void recv_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    otlprecv_cfg *c = obj;
    cfg_mark m = node ? node->mark : (cfg_mark){0};
    if (!c->protocols.grpc_set && !c->protocols.http_set)
        cfg_diag_add(d, CFG_ERROR, m, path,
                     "must specify at least one protocol when using the OTLP receiver "
                     "(protocols: grpc and/or http)");
}

static const cfg_field recv_fields[] = {
    {.key = "protocols",
     .type = CFG_T_SECTION,
     .offset = offsetof(otlprecv_cfg, protocols),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(otlprecv_cfg, protocols_set),
     .sub = &proto_table,
     .doc = "grpc and/or http"},
};
CFG_TABLE(otlprecv_cfg_table, recv_fields, recv_validate);

void otlprecv_grpc_defaults(otlprecv_grpc_cfg *g)
{
    memset(g, 0, sizeof(*g));
    g->endpoint = (char *)"localhost:4317";
    g->transport = (char *)"tcp";
    g->max_recv_msg_size_mib = 4;
    g->read_buffer_size = 524288;
    g->tls.min_version = (char *)"1.2";
    g->keepalive.server_parameters.time = 2 * 3600 * 1000000000LL;
    g->keepalive.server_parameters.timeout = 20 * 1000000000LL;
    g->keepalive.enforcement_policy.min_time = 300 * 1000000000LL;
}

void otlprecv_http_defaults(otlprecv_http_cfg *h)
{
    memset(h, 0, sizeof(*h));
    h->endpoint = (char *)"localhost:4318";
    h->traces_url_path = (char *)"/v1/traces";
    h->metrics_url_path = (char *)"/v1/metrics";
    h->logs_url_path = (char *)"/v1/logs";
    h->max_request_body_size = 20971520;
    h->tls.min_version = (char *)"1.2";
}
