/* The `otlp` receiver: OTLP/HTTP and OTLP/gRPC servers on the shared worker pool, one instance
 * serving every signal it is wired to (c->next[signal]).
 *
 * Request path (on the worker that owns the connection): the body arrives in one gb_buf (the HTTP
 * server bounds it while reading; the gRPC server bounds the message), is decompressed into one
 * new bounded gb_buf when encoded, decoded into a new batch (protobuf views point into that
 * buffer, which the batch holds), tagged with the transport (and request metadata with
 * include_metadata), and handed to the next consumer with one reference. The consumer's answer
 * maps to the reply: OK -> 200 / OK with an empty Export*ServiceResponse; RETRY (and any
 * non-permanent error) -> 503 / UNAVAILABLE; PERMANENT -> 400 / INVALID_ARGUMENT. Error bodies are
 * google.rpc.Status in the request's content type. Items are counted in otelcol's
 * otelcol_receiver_{accepted,refused}_<items>{receiver,transport} series.
 *
 * Behaviour follows otelcol's otlpreceiver and confighttp (rs/cors): see
 * components/receiver/otlp/README.md. Rejected: a second copy of the body for JSON (the JSON
 * decoder copies what it keeps into the batch arena) and decompressing into the request buffer in
 * place (it is shared with the HTTP layer until the handler returns). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "base/log.h"
#include "base/telemetry.h"
#include "net/decompress.h"
#include "otlp/otlp.h"
#include "otlp_receiver.h"

typedef struct recv_counters {
    gb_series *accepted;
    gb_series *refused;
} recv_counters;

typedef struct otlp_recv {
    pl_component *c;
    otlprecv_cfg *cfg;
    net_http_server *http;
    net_grpc_server *grpc;
    recv_counters ctr[2][PD_SIGNAL_COUNT]; /* [0] http, [1] grpc */
    bool started;
    bool stopped;
} otlp_recv;

enum { T_HTTP = 0, T_GRPC = 1 };

/* ---- CORS -------------------------------------------------------------------------------------
 */

static bool ieq_n(const char *a, const char *b, size_t n)
{
    return strncasecmp(a, b, n) == 0;
}

static bool cors_enabled(const otlprecv_http_cfg *h)
{
    return h->cors_set && h->cors.allowed_origins.n > 0;
}

static bool header_allowed(const otlprecv_cors_cfg *c, gb_str name)
{
    static const char *defaults[] = {"origin", "accept", "content-type", "x-requested-with"};
    while (name.len && (name.ptr[0] == ' ' || name.ptr[0] == '\t'))
        name.ptr++, name.len--;
    while (name.len && (name.ptr[name.len - 1] == ' ' || name.ptr[name.len - 1] == '\t'))
        name.len--;
    if (name.len == 0) return true;
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (strlen(defaults[i]) == name.len && ieq_n(defaults[i], name.ptr, name.len)) return true;
    for (uint32_t i = 0; i < c->allowed_headers.n; i++) {
        const char *h = c->allowed_headers.v[i];
        if (strcmp(h, "*") == 0) return true;
        if (strlen(h) == name.len && ieq_n(h, name.ptr, name.len)) return true;
    }
    return false;
}

/* Preflight, as rs/cors answers it: always 204; CORS headers only when origin, method and headers
 * are allowed. */
static void cors_preflight(const otlprecv_http_cfg *h, const net_http_request *req, gb_str origin,
                           net_http_response *resp)
{
    resp->status = 204;
    net_http_resp_header(resp, "Vary",
                         "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
    if (!otlprecv_cors_origin_allowed(&h->cors.allowed_origins, origin)) return;
    gb_str method = net_http_header_get(req, "Access-Control-Request-Method");
    if (!(gb_str_eq_c(method, "POST") || gb_str_eq_c(method, "GET") || gb_str_eq_c(method, "HEAD")))
        return;
    gb_str reqh = net_http_header_get(req, "Access-Control-Request-Headers");
    for (uint32_t i = 0; reqh.ptr && i < reqh.len;) {
        uint32_t j = i;
        while (j < reqh.len && reqh.ptr[j] != ',')
            j++;
        if (!header_allowed(&h->cors, gb_str_n(reqh.ptr + i, j - i))) return;
        i = j + 1;
    }
    char buf[1024];
    snprintf(buf, sizeof(buf), "%.*s", GB_STR_FMT(origin));
    net_http_resp_header(resp, "Access-Control-Allow-Origin", buf);
    snprintf(buf, sizeof(buf), "%.*s", GB_STR_FMT(method));
    net_http_resp_header(resp, "Access-Control-Allow-Methods", buf);
    if (reqh.ptr && reqh.len) {
        snprintf(buf, sizeof(buf), "%.*s", GB_STR_FMT(reqh));
        net_http_resp_header(resp, "Access-Control-Allow-Headers", buf);
    }
    net_http_resp_header(resp, "Access-Control-Allow-Credentials", "true");
    if (h->cors.max_age > 0) {
        snprintf(buf, sizeof(buf), "%lld", (long long)h->cors.max_age);
        net_http_resp_header(resp, "Access-Control-Max-Age", buf);
    }
}

/* ---- shared consume path ----------------------------------------------------------------------
 */

typedef struct consume_result {
    int grpc_code;   /* OTLP_GRPC_* */
    int http_status; /* 200, 400, 503, 500 */
    char msg[300];
} consume_result;

static void copy_meta(pd_batch *b, const net_http_header *hs, uint32_t n)
{
    if (n == 0) return;
    pd_meta_entry *v = gb_arena_calloc(&b->arena, n, sizeof(*v));
    if (!v) return;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        gb_str key, val;
        if (gb_arena_dup(&b->arena, hs[i].name.ptr, hs[i].name.len, &key) != GB_OK) break;
        if (gb_arena_dup(&b->arena, hs[i].value.ptr, hs[i].value.len, &val) != GB_OK) break;
        for (uint32_t j = 0; j < key.len; j++) {
            char ch = key.ptr[j];
            if (ch >= 'A' && ch <= 'Z') ((char *)key.ptr)[j] = (char)(ch - 'A' + 'a');
        }
        v[k].key = key;
        v[k].value = val;
        k++;
    }
    b->meta.v = v;
    b->meta.n = k;
}

/* Decodes and consumes one request body. buf holds data (for zero-copy protobuf views). */
static void decode_and_consume(otlp_recv *r, int transport, pd_signal sig, bool json, gb_buf *buf,
                               const uint8_t *data, size_t len, const net_http_header *meta,
                               uint32_t n_meta, consume_result *res)
{
    pd_batch *b = NULL;
    otlp_error oerr;
    gb_status st;
    res->grpc_code = OTLP_GRPC_OK;
    res->http_status = 200;
    res->msg[0] = '\0';
    if (len == 0) return; /* empty request: nothing to do */
    /* The decoded structure takes about as much arena as the body: size the first chunk so a
     * typical request needs one or two (pooled) chunks instead of a doubling series. */
    st = pd_batch_new(sig, len + len / 4 < (1u << 20) ? len + len / 4 : (1u << 20), &b);
    if (st != GB_OK) {
        res->grpc_code = OTLP_GRPC_UNAVAILABLE;
        res->http_status = 503;
        snprintf(res->msg, sizeof(res->msg), "out of memory");
        return;
    }
    oerr.msg[0] = '\0';
    if (json)
        st = otlp_decode_json(b, (const char *)data, len, &oerr);
    else
        st = otlp_decode_proto(b, buf, data, len, &oerr);
    if (st != GB_OK) {
        pd_batch_unref(b);
        if (st == GB_ERR_NOMEM) {
            res->grpc_code = OTLP_GRPC_UNAVAILABLE;
            res->http_status = 503;
            snprintf(res->msg, sizeof(res->msg), "out of memory while decoding");
        } else {
            res->grpc_code = OTLP_GRPC_INVALID_ARGUMENT;
            res->http_status = 400;
            snprintf(res->msg, sizeof(res->msg), "%s", oerr.msg[0] ? oerr.msg : "invalid request");
        }
        return;
    }
    uint64_t items = pd_batch_count(b);
    if (items == 0) { /* as otelcol: nothing to push, answer success */
        pd_batch_unref(b);
        return;
    }
    b->transport = transport == T_HTTP ? "http" : "grpc";
    if (meta) copy_meta(b, meta, n_meta);
    recv_counters *ctr = &r->ctr[transport][sig];
    st = pl_consume(r->c->next[sig], b); /* hands our reference over */
    if (st == GB_OK) {
        gb_series_add(ctr->accepted, items);
        return;
    }
    gb_series_add(ctr->refused, items);
    if (st == GB_ERR_PERMANENT) {
        res->grpc_code = OTLP_GRPC_INVALID_ARGUMENT;
        res->http_status = 400;
        snprintf(res->msg, sizeof(res->msg), "data refused permanently by the pipeline");
    } else {
        res->grpc_code = OTLP_GRPC_UNAVAILABLE;
        res->http_status = 503;
        snprintf(res->msg, sizeof(res->msg), "data refused, try again later (%s)",
                 gb_status_str(st));
    }
}

/* ---- HTTP -------------------------------------------------------------------------------------
 */

static bool path_is(gb_str path, const char *cfgpath)
{
    if (!cfgpath) return false;
    if (cfgpath[0] != '/') { /* otelcol prefixes a missing slash */
        if (path.len == 0 || path.ptr[0] != '/') return false;
        path.ptr++;
        path.len--;
    }
    return gb_str_eq_c(path, cfgpath);
}

static void http_status_body(net_http_response *resp, int status, bool json, int code,
                             const char *msg)
{
    gb_sbuf body;
    gb_sbuf_init(&body, 0);
    gb_status st = json ? otlp_encode_status_json(code, msg, &body)
                        : otlp_encode_status_proto(code, msg, &body);
    if (st != GB_OK) gb_sbuf_reset(&body);
    net_http_resp_set(resp, status, json ? "application/json" : "application/x-protobuf", body.data,
                      body.len);
    gb_sbuf_free(&body);
}

static void text_reply(net_http_response *resp, int status, const char *msg)
{
    net_http_resp_set(resp, status, "text/plain; charset=utf-8", msg, strlen(msg));
}

static bool encoding_allowed(const otlprecv_http_cfg *h, net_encoding enc, gb_str token)
{
    if (!h->compression_algorithms_set) return true;
    if (enc == NET_ENC_IDENTITY) return true;
    for (uint32_t i = 0; i < h->compression_algorithms.n; i++) {
        const char *a = h->compression_algorithms.v[i];
        if (strlen(a) == token.len && strncasecmp(a, token.ptr, token.len) == 0) return true;
        if (enc == NET_ENC_DEFLATE && strcasecmp(a, "zlib") == 0) return true;
    }
    return false;
}

static void http_handler(const net_http_request *req, net_http_response *resp, void *arg)
{
    otlp_recv *r = arg;
    const otlprecv_http_cfg *h = &r->cfg->protocols.http;
    gb_buf *plain = NULL;
    bool json = false;

    gb_str origin = net_http_header_get(req, "Origin");
    if (cors_enabled(h) && origin.ptr) {
        if (gb_str_eq_c(req->method, "OPTIONS") &&
            net_http_header_get(req, "Access-Control-Request-Method").ptr) {
            cors_preflight(h, req, origin, resp);
            goto out;
        }
        net_http_resp_header(resp, "Vary", "Origin");
        if (otlprecv_cors_origin_allowed(&h->cors.allowed_origins, origin)) {
            char buf[1024];
            snprintf(buf, sizeof(buf), "%.*s", GB_STR_FMT(origin));
            net_http_resp_header(resp, "Access-Control-Allow-Origin", buf);
            net_http_resp_header(resp, "Access-Control-Allow-Credentials", "true");
        }
    }

    int sig = -1;
    if (path_is(req->path, h->traces_url_path))
        sig = PD_TRACES;
    else if (path_is(req->path, h->metrics_url_path))
        sig = PD_METRICS;
    else if (path_is(req->path, h->logs_url_path))
        sig = PD_LOGS;
    if (sig < 0 || !r->c->next[sig]) {
        text_reply(resp, 404, "404 page not found\n");
        goto out;
    }
    if (!gb_str_eq_c(req->method, "POST")) {
        net_http_resp_header(resp, "Allow", "POST");
        text_reply(resp, 405, "405 method not allowed, supported: [POST]");
        goto out;
    }
    gb_str ct = net_http_header_get(req, "Content-Type");
    uint32_t mlen = 0;
    while (ct.ptr && mlen < ct.len && ct.ptr[mlen] != ';')
        mlen++;
    gb_str media = gb_str_n(ct.ptr, mlen);
    while (media.len && (media.ptr[media.len - 1] == ' ' || media.ptr[media.len - 1] == '\t'))
        media.len--;
    if (media.len == 22 && ieq_n(media.ptr, "application/x-protobuf", 22)) {
        json = false;
    } else if (media.len == 16 && ieq_n(media.ptr, "application/json", 16)) {
        json = true;
    } else {
        text_reply(resp, 415,
                   "415 unsupported media type, supported: [application/json, "
                   "application/x-protobuf]");
        goto out;
    }
    size_t max = (size_t)h->max_request_body_size;
    if (req->body_too_large) {
        char m[160];
        snprintf(m, sizeof(m), "request body too large: exceeds the limit of %zu bytes", max);
        http_status_body(resp, 400, json, OTLP_GRPC_INVALID_ARGUMENT, m);
        goto out;
    }
    gb_str ce = net_http_header_get(req, "Content-Encoding");
    net_encoding enc = net_encoding_parse(ce);
    if (enc == NET_ENC_UNKNOWN || !encoding_allowed(h, enc, ce)) {
        char m[160];
        snprintf(m, sizeof(m), "unsupported Content-Encoding: %.*s", GB_STR_FMT(ce));
        http_status_body(resp, 400, json, OTLP_GRPC_INVALID_ARGUMENT, m);
        goto out;
    }
    gb_buf *body = req->body;
    if (enc != NET_ENC_IDENTITY && body->len > 0) {
        char err[200];
        gb_status st = net_decompress(enc, body->data, body->len, max, &plain, err, sizeof(err));
        if (st != GB_OK) {
            char m[300];
            if (st == GB_ERR_LIMIT)
                snprintf(m, sizeof(m),
                         "request body too large: decompressed size exceeds the limit of %zu "
                         "bytes",
                         max);
            else
                snprintf(m, sizeof(m), "failed to decompress the request body: %s", err);
            http_status_body(resp, 400, json, OTLP_GRPC_INVALID_ARGUMENT, m);
            goto out;
        }
        body = plain;
    }
    consume_result res;
    decode_and_consume(r, T_HTTP, (pd_signal)sig, json, body, body->data, body->len,
                       h->include_metadata ? req->headers : NULL, req->n_headers, &res);
    if (res.http_status != 200) {
        http_status_body(resp, res.http_status, json, res.grpc_code, res.msg);
        goto out;
    }
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    gb_status est = json ? otlp_encode_response_json((pd_signal)sig, 0, NULL, &out)
                         : otlp_encode_response_proto((pd_signal)sig, 0, NULL, &out);
    if (est != GB_OK) gb_sbuf_reset(&out);
    net_http_resp_set(resp, 200, json ? "application/json" : "application/x-protobuf", out.data,
                      out.len);
    gb_sbuf_free(&out);
out:
    gb_buf_unref(plain);
}

/* ---- gRPC -------------------------------------------------------------------------------------
 */

static const char *const grpc_methods[PD_SIGNAL_COUNT] = {
    "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
};

static void grpc_handler(const net_grpc_call *call, net_grpc_reply *reply, void *arg)
{
    otlp_recv *r = arg;
    int sig = -1;
    for (int i = 0; i < PD_SIGNAL_COUNT; i++)
        if (gb_str_eq_c(call->method, grpc_methods[i]) && r->c->next[i]) sig = i;
    if (sig < 0) {
        reply->status = OTLP_GRPC_UNIMPLEMENTED;
        gb_sbuf_printf(&reply->message, "unknown method %.*s", GB_STR_FMT(call->method));
        return;
    }
    consume_result res;
    decode_and_consume(r, T_GRPC, (pd_signal)sig, false, call->buf, call->msg, call->msg_len,
                       r->cfg->protocols.grpc.include_metadata ? call->headers : NULL,
                       call->n_headers, &res);
    if (res.grpc_code != OTLP_GRPC_OK) {
        reply->status = res.grpc_code;
        gb_sbuf_puts(&reply->message, res.msg);
        return;
    }
    if (otlp_encode_response_proto((pd_signal)sig, 0, NULL, &reply->body) != GB_OK) {
        gb_sbuf_reset(&reply->body);
    }
}

/* ---- lifecycle --------------------------------------------------------------------------------
 */

static gb_status recv_create(pl_component *c)
{
    otlp_recv *r = calloc(1, sizeof(*r));
    if (!r) return GB_ERR_NOMEM;
    r->c = c;
    r->cfg = c->cfg;
    c->state = r;
    return GB_OK;
}

static gb_status register_counters(otlp_recv *r, int t)
{
    static const char *const tnames[2] = {"http", "grpc"};
    char labels[300];
    snprintf(labels, sizeof(labels), "receiver=\"%s\",transport=\"%s\"", r->c->id, tnames[t]);
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        char name[128];
        gb_status st;
        if (!r->c->next[s]) continue; /* only signals with a pipeline, as otelcol */
        snprintf(name, sizeof(name), "otelcol_receiver_accepted_%s", pd_signal_item((pd_signal)s));
        st = gb_tm_counter(name, "Number of items successfully pushed into the pipeline.", labels,
                           &r->ctr[t][s].accepted);
        if (st != GB_OK) return st;
        snprintf(name, sizeof(name), "otelcol_receiver_refused_%s", pd_signal_item((pd_signal)s));
        st = gb_tm_counter(name, "Number of items that could not be pushed into the pipeline.",
                           labels, &r->ctr[t][s].refused);
        if (st != GB_OK) return st;
    }
    return GB_OK;
}

static gb_status tls_ctx(otlp_recv *r, bool tls_set, const net_tls_server_cfg *t, net_alpn alpn,
                         SSL_CTX **out)
{
    char err[512];
    *out = NULL;
    if (!tls_set || !net_tls_server_enabled(t)) return GB_OK;
    gb_status st = net_tls_server_ctx_new(t, alpn, out, err, sizeof(err));
    if (st != GB_OK) gb_log(GB_LOG_ERROR, r->c->full_id, "%s", err);
    return st;
}

static gb_status recv_start(pl_component *c, pl_host *host)
{
    otlp_recv *r = c->state;
    gb_status st = GB_OK;
    SSL_CTX *ctx = NULL;
    char err[512];
    if (!host || !host->pool) return GB_ERR_STATE;
    const otlprecv_protocols *p = &r->cfg->protocols;
    if (p->grpc_set) {
        const otlprecv_grpc_cfg *g = &p->grpc;
        st = register_counters(r, T_GRPC);
        if (st != GB_OK) goto out;
        st = tls_ctx(r, g->tls_set, &g->tls, NET_ALPN_H2, &ctx);
        if (st != GB_OK) goto out;
        net_grpc_server_cfg gc = {
            .endpoint = g->endpoint,
            .tls = ctx,
            .max_recv_msg_size = g->max_recv_msg_size_mib > 0
                                     ? (size_t)g->max_recv_msg_size_mib << 20
                                     : (size_t)4 << 20,
            .max_concurrent_streams = (uint32_t)g->max_concurrent_streams,
            .write_buffer_size = (size_t)g->write_buffer_size,
            .keepalive = g->keepalive_set ? &g->keepalive : NULL,
        };
        st = net_grpc_server_new(host->pool, &gc, grpc_handler, r, &r->grpc, err, sizeof(err));
        if (ctx) SSL_CTX_free(ctx);
        ctx = NULL;
        if (st != GB_OK) {
            gb_log(GB_LOG_ERROR, c->full_id, "failed to start the gRPC server: %s", err);
            goto out;
        }
        gb_log(GB_LOG_INFO, c->full_id, "Starting GRPC server endpoint=%s port=%u%s", g->endpoint,
               net_grpc_server_port(r->grpc),
               g->tls_set && net_tls_server_enabled(&g->tls) ? " tls" : "");
    }
    if (p->http_set) {
        const otlprecv_http_cfg *h = &p->http;
        st = register_counters(r, T_HTTP);
        if (st != GB_OK) goto out;
        st = tls_ctx(r, h->tls_set, &h->tls, NET_ALPN_HTTP1, &ctx);
        if (st != GB_OK) goto out;
        net_http_server_cfg hc = {
            .endpoint = h->endpoint,
            .tls = ctx,
            .max_body_size = (size_t)h->max_request_body_size,
            .header_timeout_ns = h->read_header_timeout,
            .request_timeout_ns = h->read_timeout,
            .write_timeout_ns = h->write_timeout,
            .idle_timeout_ns = h->idle_timeout,
        };
        st = net_http_server_new(host->pool, &hc, http_handler, r, &r->http, err, sizeof(err));
        if (ctx) SSL_CTX_free(ctx);
        ctx = NULL;
        if (st != GB_OK) {
            gb_log(GB_LOG_ERROR, c->full_id, "failed to start the HTTP server: %s", err);
            goto out;
        }
        gb_log(GB_LOG_INFO, c->full_id, "Starting HTTP server endpoint=%s port=%u%s", h->endpoint,
               net_http_server_port(r->http),
               h->tls_set && net_tls_server_enabled(&h->tls) ? " tls" : "");
    }
    r->started = true;
out:
    if (st != GB_OK) {
        net_grpc_server_free(r->grpc, 0);
        r->grpc = NULL;
        net_http_server_free(r->http);
        r->http = NULL;
    }
    return st;
}

static gb_status recv_shutdown(pl_component *c, int64_t deadline_ns)
{
    otlp_recv *r = c->state;
    if (!r || r->stopped) return GB_OK;
    r->stopped = true;
    net_http_server_free(r->http);
    r->http = NULL;
    net_grpc_server_free(r->grpc, deadline_ns);
    r->grpc = NULL;
    return GB_OK;
}

static void recv_destroy(pl_component *c)
{
    if (!c->state) return;
    recv_shutdown(c, 0);
    free(c->state);
    c->state = NULL;
}

uint16_t otlprecv_http_port(const pl_component *c)
{
    const otlp_recv *r = c->state;
    return r && r->http ? net_http_server_port(r->http) : 0;
}
uint16_t otlprecv_grpc_port(const pl_component *c)
{
    const otlp_recv *r = c->state;
    return r && r->grpc ? net_grpc_server_port(r->grpc) : 0;
}

const pl_descriptor receiver_otlp_descriptor = {
    .kind = PL_RECEIVER,
    .type = "otlp",
    .stability = {PL_STABLE, PL_STABLE, PL_STABLE},
    .config = &otlprecv_cfg_table,
    .config_size = sizeof(otlprecv_cfg),
    .doc = "OTLP over gRPC (4317) and HTTP (4318): traces, metrics, logs",
    .create = recv_create,
    .start = recv_start,
    .shutdown = recv_shutdown,
    .destroy = recv_destroy,
};
