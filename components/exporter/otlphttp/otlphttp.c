/* otlphttp exporter (alias otlp_http): OTLP/HTTP client per the OTLP specification.
 *
 * How: one exporter helper per signal, created on the first batch of that signal (an exporter
 * used only in a traces pipeline does not start metrics/logs consumers). Every consumer thread
 * owns one libcurl easy handle (so keep-alive connections are reused without locking) and one
 * bounded response buffer. The encoding state - a reusable gb_sbuf the batch is encoded into
 * (otlp_encode_proto/json, straight from the batch) and a reusable compression buffer with its
 * libdeflate / zstd compressor - comes from a small per-signal pool taken for one request, so its
 * memory follows the requests in flight rather than num_consumers. Nothing is allocated per
 * request once the pooled buffers have grown to the working size.
 *
 * Responses (OTLP/HTTP spec): 2xx -> OK, partial_success decoded, logged, rejected items counted
 * by the helper; 429/502/503/504 -> RETRY honouring Retry-After (delta-seconds or HTTP-date);
 * other statuses -> PERMANENT with the google.rpc.Status message; transport errors and timeouts
 * -> RETRY. The attempt deadline given by the helper becomes CURLOPT_TIMEOUT_MS. The tls section,
 * the easy handle setup, the bounded response capture and the POST itself are shared with the
 * prometheusremotewrite exporter (components/exporter/httpclient).
 *
 * Rejected: the curl multi interface on a shared event loop (fewer threads, but the helper's
 * synchronous export contract keeps one request per consumer anyway and blocking easy handles are
 * far simpler to bound); HTTP/2 (OTLP/HTTP collectors answer HTTP/1.1 everywhere; keep-alive gives
 * the connection reuse that matters). tls.server_name_override is applied with CURLOPT_CONNECT_TO
 * (the request is addressed to the override name and routed to the real host), since libcurl has
 * no separate SNI setting. */
#include "otlphttp.h"

#include <curl/curl.h>
#include <jansson.h>
#include <libdeflate.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/log.h"
#include "base/timeutil.h"
#include "otlp/otlp.h"

#define RESP_LIMIT (1u << 20)  /* bodies beyond 1 MiB are truncated (only messages are read) */
#define BUF_KEEP   (16u << 20) /* per-thread buffers larger than this are freed after use */

/* ---- config ------------------------------------------------------------------------------------
 */

static const char *const encoding_names[] = {"proto", "json", NULL};
static const char *const compression_names[] = {"gzip", "zstd", "deflate", "zlib",
                                                "none", "",     NULL};

static void otlphttp_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    otlphttp_cfg *c = obj;
    const char *keys[] = {"endpoint", "traces_endpoint", "metrics_endpoint", "logs_endpoint"};
    char *vals[] = {c->endpoint, c->traces_endpoint, c->metrics_endpoint, c->logs_endpoint};
    if ((!c->endpoint || !*c->endpoint) &&
        (!c->traces_endpoint || !c->metrics_endpoint || !c->logs_endpoint)) {
        bool any = c->traces_endpoint || c->metrics_endpoint || c->logs_endpoint;
        if (!any)
            cfg_diag_add(d, CFG_ERROR, node ? node->mark : (cfg_mark){0}, path,
                         "at least one endpoint must be specified");
    }
    for (int i = 0; i < 4; i++)
        if (vals[i] && *vals[i] && !httpclient_url_ok(vals[i]))
            cfg_diag_add(d, CFG_ERROR, httpclient_mark_of(node, keys[i]), path,
                         "%s: invalid URL \"%s\": the scheme must be http:// or https://", keys[i],
                         vals[i]);
    httpclient_tls_validate(&c->tls, node, path, d);
    httpclient_headers_validate(&c->headers, node, path, d);
}

static const cfg_field otlphttp_fields[] = {
    {"endpoint", CFG_T_STRING, offsetof(otlphttp_cfg, endpoint), NULL,
     "base URL; /v1/traces, /v1/metrics, /v1/logs are appended", .flags = 0},
    {"traces_endpoint", CFG_T_STRING, offsetof(otlphttp_cfg, traces_endpoint), NULL,
     "full URL for traces (overrides endpoint)", .flags = 0},
    {"metrics_endpoint", CFG_T_STRING, offsetof(otlphttp_cfg, metrics_endpoint), NULL,
     "full URL for metrics (overrides endpoint)", .flags = 0},
    {"logs_endpoint", CFG_T_STRING, offsetof(otlphttp_cfg, logs_endpoint), NULL,
     "full URL for logs (overrides endpoint)", .flags = 0},
    {"encoding", CFG_T_ENUM, offsetof(otlphttp_cfg, encoding), "proto",
     "request body encoding: proto or json", .enum_names = encoding_names},
    {"compression", CFG_T_ENUM, offsetof(otlphttp_cfg, compression), "gzip",
     "gzip, zstd, deflate, zlib or none", .enum_names = compression_names},
    {"headers", CFG_T_STRMAP, offsetof(otlphttp_cfg, headers), NULL, "extra request headers",
     .flags = CFG_F_SECRET},
    {"timeout", CFG_T_DURATION, offsetof(otlphttp_cfg, timeout), "30s", "time limit of one request",
     .flags = 0},
    {"tls", CFG_T_SECTION, offsetof(otlphttp_cfg, tls), NULL, "TLS client settings",
     .flags = CFG_F_NULLABLE, .sub = &httpclient_tls_table},
    {"proxy_url", CFG_T_STRING, offsetof(otlphttp_cfg, proxy_url), NULL, "HTTP proxy URL",
     .flags = 0},
    {"read_buffer_size", CFG_T_INT, offsetof(otlphttp_cfg, read_buffer_size), "0",
     "receive buffer size in bytes (0 = library default)", .min = 0, .max = 10485760},
    {"write_buffer_size", CFG_T_INT, offsetof(otlphttp_cfg, write_buffer_size), "524288",
     "send buffer size in bytes", .min = 0, .max = 2097152},
    {"max_idle_conns", CFG_T_INT, offsetof(otlphttp_cfg, max_idle_conns), "100",
     "accepted; one kept-alive connection per consumer", .min = 0, .max = 1e9},
    {"max_idle_conns_per_host", CFG_T_INT, offsetof(otlphttp_cfg, max_idle_conns_per_host), "0",
     "accepted; one kept-alive connection per consumer", .min = 0, .max = 1e9},
    {"max_conns_per_host", CFG_T_INT, offsetof(otlphttp_cfg, max_conns_per_host), "0",
     "accepted; connections are bounded by num_consumers", .min = 0, .max = 1e9},
    {"idle_conn_timeout", CFG_T_DURATION, offsetof(otlphttp_cfg, idle_conn_timeout), "90s",
     "idle kept-alive connections are closed after this long", .flags = 0},
    {"disable_keep_alives", CFG_T_BOOL, offsetof(otlphttp_cfg, disable_keep_alives), "false",
     "open a new connection for every request", .flags = 0},
    {"http2_read_idle_timeout", CFG_T_DURATION, offsetof(otlphttp_cfg, http2_read_idle_timeout),
     "0", "accepted (HTTP/1.1 is used)", .flags = 0},
    {"http2_ping_timeout", CFG_T_DURATION, offsetof(otlphttp_cfg, http2_ping_timeout), "0",
     "accepted (HTTP/1.1 is used)", .flags = 0},
    {"auth", CFG_T_ANY, offsetof(otlphttp_cfg, auth), NULL,
     "authenticator extension (not available in this build; use headers)", .flags = 0},
    {"compression_params", CFG_T_ANY, offsetof(otlphttp_cfg, compression_params), NULL,
     "accepted; a fast level is used", .flags = 0},
    {"retry_on_failure", CFG_T_SECTION, offsetof(otlphttp_cfg, retry), NULL,
     "retry with exponential backoff", .flags = CFG_F_NULLABLE, .sub = &pl_retry_table},
    {"sending_queue", CFG_T_SECTION, offsetof(otlphttp_cfg, queue), NULL,
     "in-memory queue and consumers", .flags = CFG_F_NULLABLE, .sub = &pl_queue_table},
};
CFG_TABLE(otlphttp_table, otlphttp_fields, otlphttp_validate);

void otlphttp_cfg_default(otlphttp_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->encoding = OTLPHTTP_ENC_PROTO;
    cfg->compression = OTLPHTTP_COMP_GZIP;
    cfg->timeout = 30 * GB_NS_PER_S;
    cfg->tls.min_version = "1.2";
    cfg->write_buffer_size = 512 * 1024;
    cfg->max_idle_conns = 100;
    cfg->idle_conn_timeout = 90 * GB_NS_PER_S;
    pl_retry_cfg_default(&cfg->retry);
    pl_queue_cfg_default(&cfg->queue);
}

/* ---- response helpers --------------------------------------------------------------------------
 */

int64_t otlphttp_parse_retry_after(const char *v, int64_t now_unix)
{
    return httpclient_parse_retry_after(v, now_unix);
}

static bool pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

void otlphttp_status_message(const uint8_t *body, size_t len, bool json, char *msg, size_t msg_size)
{
    msg[0] = '\0';
    if (!body || !len) return;
    if (json) {
        json_error_t jerr;
        json_t *root = json_loadb((const char *)body, len, 0, &jerr);
        const char *m = root ? json_string_value(json_object_get(root, "message")) : NULL;
        if (m) snprintf(msg, msg_size, "%s", m);
        json_decref(root);
        return;
    }
    /* google.rpc.Status { int32 code = 1; string message = 2; repeated Any details = 3; } */
    const uint8_t *p = body, *end = body + len;
    while (p < end) {
        uint64_t key, n;
        if (!pb_varint(&p, end, &key)) return;
        switch (key & 7) {
        case 0:
            if (!pb_varint(&p, end, &n)) return;
            break;
        case 1:
            if (end - p < 8) return;
            p += 8;
            break;
        case 5:
            if (end - p < 4) return;
            p += 4;
            break;
        case 2:
            if (!pb_varint(&p, end, &n) || n > (uint64_t)(end - p)) return;
            if ((key >> 3) == 2) {
                size_t m = n < msg_size - 1 ? (size_t)n : msg_size - 1;
                memcpy(msg, p, m);
                msg[m] = '\0';
                for (size_t i = 0; i < m; i++)
                    if ((unsigned char)msg[i] < 0x20) msg[i] = ' ';
                return;
            }
            p += n;
            break;
        default:
            return;
        }
    }
}

/* ---- state -------------------------------------------------------------------------------------
 */

/* Encoding and compression state, pooled per signal: a consumer takes one for the duration of a
 * request, so memory follows the number of requests in flight, not the number of consumers. */
typedef struct oh_work {
    struct oh_work *next;
    gb_sbuf body;
    uint8_t *z;
    size_t zcap;
    struct libdeflate_compressor *deflater; /* gzip and zlib ("deflate") */
    ZSTD_CCtx *zctx;
} oh_work;

typedef struct oh_thread {
    CURL *easy;
    httpclient_resp r;
} oh_thread;

typedef struct oh_state oh_state;

typedef struct oh_signal {
    oh_state *st;
    pd_signal signal;
    char *url;
    char *connect_to_entry;
    struct curl_slist *connect_to;
    pl_exphelper *helper;
    oh_thread *threads;
    unsigned n_threads;
    pthread_mutex_t pool_mu;
    oh_work *pool;
} oh_signal;

struct oh_state {
    pl_component *c;
    const otlphttp_cfg *cfg;
    pthread_mutex_t mu;
    _Atomic(oh_signal *) sig[PD_SIGNAL_COUNT];
    bool started;
    bool stopped;
    struct curl_slist *headers;
    char user_agent[96];
};

static gb_status build_url(const otlphttp_cfg *cfg, pd_signal s, char **out)
{
    const char *specific[] = {cfg->traces_endpoint, cfg->metrics_endpoint, cfg->logs_endpoint};
    const char *suffix[] = {"/v1/traces", "/v1/metrics", "/v1/logs"};
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    if (specific[s] && *specific[s]) {
        gb_sbuf_puts(&b, specific[s]);
    } else if (cfg->endpoint && *cfg->endpoint) {
        size_t n = strlen(cfg->endpoint);
        while (n > 0 && cfg->endpoint[n - 1] == '/')
            n--;
        gb_sbuf_append(&b, cfg->endpoint, n);
        gb_sbuf_puts(&b, suffix[s]);
    } else {
        gb_sbuf_free(&b);
        return GB_ERR_INVALID;
    }
    if (b.err != GB_OK) {
        gb_sbuf_free(&b);
        return GB_ERR_NOMEM;
    }
    *out = gb_sbuf_take(&b, NULL);
    return GB_OK;
}

/* server_name_override: address the request to the override and route it to the real host. */
static gb_status apply_server_name(oh_signal *s, const char *name)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL, *nu = NULL;
    gb_status st = GB_ERR_INVALID;
    if (!u) return GB_ERR_NOMEM;
    if (curl_url_set(u, CURLUPART_URL, s->url, 0) != CURLUE_OK) goto out;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) goto out;
    if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK) goto out;
    if (curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK) goto out;
    if (curl_url_get(u, CURLUPART_URL, &nu, 0) != CURLUE_OK) goto out;
    size_t n = strlen(name) + strlen(host) + 2 * strlen(port) + 8;
    s->connect_to_entry = malloc(n);
    if (!s->connect_to_entry) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    snprintf(s->connect_to_entry, n, "%s:%s:%s:%s", name, port, host, port);
    s->connect_to = curl_slist_append(NULL, s->connect_to_entry);
    if (!s->connect_to) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    free(s->url);
    s->url = strdup(nu);
    st = s->url ? GB_OK : GB_ERR_NOMEM;
out:
    curl_free(host);
    curl_free(port);
    curl_free(nu);
    curl_url_cleanup(u);
    return st;
}

static gb_status thread_init(oh_signal *s, oh_thread *t)
{
    const otlphttp_cfg *cfg = s->st->cfg;
    httpclient_conn conn = {.url = s->url,
                            .headers = s->st->headers,
                            .connect_to = s->connect_to,
                            .user_agent = s->st->user_agent,
                            .proxy_url = cfg->proxy_url,
                            .idle_conn_timeout = cfg->idle_conn_timeout,
                            .disable_keep_alives = cfg->disable_keep_alives,
                            .read_buffer_size = cfg->read_buffer_size,
                            .write_buffer_size = cfg->write_buffer_size,
                            .tls = &cfg->tls};
    return httpclient_easy_new(&conn, &t->r, RESP_LIMIT, s->st->c->full_id, &t->easy);
}

static void thread_free(oh_thread *t)
{
    if (t->easy) curl_easy_cleanup(t->easy);
    httpclient_resp_free(&t->r);
    memset(t, 0, sizeof *t);
}

static void work_free(oh_work *w)
{
    gb_sbuf_free(&w->body);
    free(w->z);
    if (w->deflater) libdeflate_free_compressor(w->deflater);
    ZSTD_freeCCtx(w->zctx);
    free(w);
}

static oh_work *work_get(oh_signal *s)
{
    pthread_mutex_lock(&s->pool_mu);
    oh_work *w = s->pool;
    if (w) s->pool = w->next;
    pthread_mutex_unlock(&s->pool_mu);
    if (!w && (w = calloc(1, sizeof *w))) gb_sbuf_init(&w->body, 0);
    return w;
}

static void work_put(oh_signal *s, oh_work *w)
{
    pthread_mutex_lock(&s->pool_mu);
    w->next = s->pool;
    s->pool = w;
    pthread_mutex_unlock(&s->pool_mu);
}

static gb_status zbuf_reserve(oh_work *t, size_t n)
{
    if (t->zcap >= n) return GB_OK;
    uint8_t *z = realloc(t->z, n);
    if (!z) return GB_ERR_NOMEM;
    t->z = z;
    t->zcap = n;
    return GB_OK;
}

/* Compresses t->body into t->z; out and out_len tell what to send. gzip/deflate use libdeflate
 * (whole-buffer, about 2.5x faster than zlib at level 1 on OTLP protobuf), zstd level 1. */
static gb_status compress_body(oh_work *t, int comp, const uint8_t **out, size_t *out_len,
                               char *err, size_t err_size)
{
    const uint8_t *src = (const uint8_t *)t->body.data;
    size_t n = t->body.len;
    if (comp == OTLPHTTP_COMP_ZSTD) {
        if (!t->zctx && !(t->zctx = ZSTD_createCCtx())) return GB_ERR_NOMEM;
        size_t bound = ZSTD_compressBound(n);
        if (zbuf_reserve(t, bound) != GB_OK) return GB_ERR_NOMEM;
        size_t r = ZSTD_compressCCtx(t->zctx, t->z, t->zcap, src, n, 1);
        if (ZSTD_isError(r)) {
            snprintf(err, err_size, "zstd: %s", ZSTD_getErrorName(r));
            return GB_ERR_INVALID;
        }
        *out = t->z;
        *out_len = r;
        return GB_OK;
    }
    if (comp == OTLPHTTP_COMP_GZIP || comp == OTLPHTTP_COMP_DEFLATE || comp == OTLPHTTP_COMP_ZLIB) {
        bool gzip = comp == OTLPHTTP_COMP_GZIP;
        if (!t->deflater && !(t->deflater = libdeflate_alloc_compressor(1))) return GB_ERR_NOMEM;
        size_t bound = gzip ? libdeflate_gzip_compress_bound(t->deflater, n)
                            : libdeflate_zlib_compress_bound(t->deflater, n);
        if (zbuf_reserve(t, bound) != GB_OK) return GB_ERR_NOMEM;
        size_t r = gzip ? libdeflate_gzip_compress(t->deflater, src, n, t->z, t->zcap)
                        : libdeflate_zlib_compress(t->deflater, src, n, t->z, t->zcap);
        if (r == 0) {
            snprintf(err, err_size, "%s compression failed", gzip ? "gzip" : "deflate");
            return GB_ERR_INVALID;
        }
        *out = t->z;
        *out_len = r;
        return GB_OK;
    }
    *out = src;
    *out_len = n;
    return GB_OK;
}

/* Gives back memory after an unusually large request so idle consumers stay small. */
static void shrink(oh_thread *t, oh_work *w)
{
    if (w->body.cap > BUF_KEEP) gb_sbuf_free(&w->body);
    if (t->r.body.cap > BUF_KEEP) gb_sbuf_free(&t->r.body);
    if (w->zcap > BUF_KEEP) {
        free(w->z);
        w->z = NULL;
        w->zcap = 0;
    }
}

static const char *status_text(long code)
{
    switch (code) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Request Entity Too Large";
    case 415:
        return "Unsupported Media Type";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    }
    return "";
}

static gb_status export_with(oh_signal *s, oh_thread *t, oh_work *w, pd_batch *b,
                             int64_t deadline_ns, pl_export_result *res)
{
    const otlphttp_cfg *cfg = s->st->cfg;
    const char *cid = s->st->c->full_id;
    gb_status st;
    bool json = cfg->encoding == OTLPHTTP_ENC_JSON;

    gb_sbuf_reset(&w->body);
    st = json ? otlp_encode_json(b, &w->body) : otlp_encode_proto(b, &w->body);
    if (st == GB_OK) st = w->body.err;
    if (st != GB_OK) {
        snprintf(res->message, sizeof res->message, "failed to encode the request: %s",
                 gb_status_str(st));
        return st == GB_ERR_NOMEM ? GB_ERR_RETRY : GB_ERR_PERMANENT;
    }
    const uint8_t *payload;
    size_t plen;
    st = compress_body(w, cfg->compression, &payload, &plen, res->message, sizeof res->message);
    if (st != GB_OK) {
        if (st == GB_ERR_NOMEM) snprintf(res->message, sizeof res->message, "out of memory");
        return st == GB_ERR_NOMEM ? GB_ERR_RETRY : GB_ERR_PERMANENT;
    }

    long code = 0;
    st = httpclient_post(t->easy, &t->r, payload, plen, deadline_ns, &code, res->message,
                         sizeof res->message);
    if (st != GB_OK) return st;
    const uint8_t *rb = (const uint8_t *)t->r.body.data;
    size_t rlen = t->r.body.len;
    bool rjson = t->r.content_type[0] ? strstr(t->r.content_type, "json") != NULL : json;

    if (code >= 200 && code < 300) {
        int64_t rejected = 0;
        char msg[256] = "";
        if (rlen > 0) {
            gb_status ds =
                rjson ? otlp_decode_response_json(s->signal, (const char *)rb, rlen, &rejected, msg,
                                                  sizeof msg)
                      : otlp_decode_response_proto(s->signal, rb, rlen, &rejected, msg, sizeof msg);
            if (ds != GB_OK) {
                /* otelcol also only warns: the data was accepted */
                gb_log(GB_LOG_DEBUG, cid, "cannot decode the export response (HTTP %ld)", code);
                rejected = 0;
                msg[0] = '\0';
            }
        }
        if (rejected > 0 || msg[0]) {
            gb_log(GB_LOG_WARN, cid,
                   "partial success response  rejected_%s=%lld message=\"%s\" endpoint=%s",
                   pd_signal_item(s->signal), (long long)rejected, msg, s->url);
            res->rejected = rejected;
            if (snprintf(res->message, sizeof res->message, "partial success: %s", msg) < 0)
                res->message[0] = '\0';
        }
        shrink(t, w);
        return GB_OK;
    }

    char smsg[160];
    otlphttp_status_message(rb, rlen, rjson, smsg, sizeof smsg);
    if (snprintf(res->message, sizeof res->message,
                 "error exporting items, request to %s responded with HTTP Status Code %ld%s%s%s%s",
                 s->url, code, status_text(code)[0] ? " " : "", status_text(code),
                 smsg[0] ? ", Message=" : "", smsg) < 0)
        res->message[0] = '\0';
    shrink(t, w);
    if (code == 429 || code == 502 || code == 503 || code == 504) {
        res->retry_after_ns =
            otlphttp_parse_retry_after(t->r.retry_after, gb_now_ns() / GB_NS_PER_S);
        return GB_ERR_RETRY;
    }
    return GB_ERR_PERMANENT;
}

static gb_status oh_export(void *ctx, unsigned thread, pd_batch *b, int64_t deadline_ns,
                           pl_export_result *res)
{
    oh_signal *s = ctx;
    oh_thread *t = &s->threads[thread];
    gb_status st;
    if (!t->easy && (st = thread_init(s, t)) != GB_OK) {
        snprintf(res->message, sizeof res->message, "cannot create HTTP client: %s",
                 gb_status_str(st));
        return st == GB_ERR_NOMEM ? GB_ERR_RETRY : GB_ERR_PERMANENT;
    }
    oh_work *w = work_get(s);
    if (!w) {
        snprintf(res->message, sizeof res->message, "out of memory");
        return GB_ERR_RETRY;
    }
    st = export_with(s, t, w, b, deadline_ns, res);
    work_put(s, w);
    return st;
}

/* ---- component ---------------------------------------------------------------------------------
 */

static void signal_free(oh_signal *s)
{
    if (!s) return;
    pl_exphelper_free(s->helper);
    for (unsigned i = 0; i < s->n_threads; i++)
        thread_free(&s->threads[i]);
    free(s->threads);
    while (s->pool) {
        oh_work *w = s->pool;
        s->pool = w->next;
        work_free(w);
    }
    pthread_mutex_destroy(&s->pool_mu);
    free(s->url);
    free(s->connect_to_entry);
    curl_slist_free_all(s->connect_to);
    free(s);
}

static gb_status signal_new(oh_state *st, pd_signal sig, oh_signal **out)
{
    gb_status rc = GB_ERR_NOMEM;
    oh_signal *s = calloc(1, sizeof *s);
    if (!s) goto fail;
    s->st = st;
    s->signal = sig;
    pthread_mutex_init(&s->pool_mu, NULL);
    rc = build_url(st->cfg, sig, &s->url);
    if (rc != GB_OK) goto fail;
    if (st->cfg->tls.server_name_override && *st->cfg->tls.server_name_override &&
        strncmp(s->url, "https://", 8) == 0) {
        rc = apply_server_name(s, st->cfg->tls.server_name_override);
        if (rc != GB_OK) goto fail;
    }
    s->n_threads = (unsigned)(st->cfg->queue.num_consumers > 0 ? st->cfg->queue.num_consumers : 1);
    s->threads = calloc(s->n_threads, sizeof *s->threads);
    rc = GB_ERR_NOMEM;
    if (!s->threads) goto fail;
    pl_exphelper_opts o = {.id = st->c->id,
                           .signal = sig,
                           .timeout = st->cfg->timeout,
                           .retry = &st->cfg->retry,
                           .queue = &st->cfg->queue,
                           .export_fn = oh_export,
                           .ctx = s};
    rc = pl_exphelper_new(&o, &s->helper);
    if (rc != GB_OK) goto fail;
    rc = pl_exphelper_start(s->helper);
    if (rc != GB_OK) goto fail;
    *out = s;
    return GB_OK;
fail:
    if (s && !s->url)
        gb_log(GB_LOG_ERROR, st->c->full_id, "no endpoint for %s", pd_signal_name(sig));
    signal_free(s);
    return rc;
}

static gb_status oh_create(pl_component *c)
{
    gb_status rc = GB_ERR_NOMEM;
    const otlphttp_cfg *cfg = c->cfg;
    oh_state *st = calloc(1, sizeof *st);
    if (!st) goto fail;
    st->c = c;
    st->cfg = cfg;
    pthread_mutex_init(&st->mu, NULL);
    for (int i = 0; i < PD_SIGNAL_COUNT; i++)
        atomic_init(&st->sig[i], NULL);
    snprintf(st->user_agent, sizeof st->user_agent, "GenOps Collector/%s (linux)", GENOPS_VERSION);
    const char *ctype = cfg->encoding == OTLPHTTP_ENC_JSON ? "Content-Type: application/json"
                                                           : "Content-Type: application/x-protobuf";
    struct curl_slist *l = curl_slist_append(NULL, ctype);
    if (l) st->headers = l;
    const char *enc = NULL;
    switch (cfg->compression) {
    case OTLPHTTP_COMP_GZIP:
        enc = "Content-Encoding: gzip";
        break;
    case OTLPHTTP_COMP_ZSTD:
        enc = "Content-Encoding: zstd";
        break;
    case OTLPHTTP_COMP_DEFLATE:
    case OTLPHTTP_COMP_ZLIB:
        enc = "Content-Encoding: deflate";
        break;
    default:
        break;
    }
    if (l && enc) l = curl_slist_append(st->headers, enc);
    if (l) l = curl_slist_append(st->headers, "Expect:");
    if (l && httpclient_append_headers(&st->headers, &cfg->headers) != GB_OK) l = NULL;
    if (!l) goto fail;
    c->state = st;
    return GB_OK;
fail:
    if (st) {
        curl_slist_free_all(st->headers);
        pthread_mutex_destroy(&st->mu);
        free(st);
    }
    return rc;
}

static gb_status oh_start(pl_component *c, pl_host *host)
{
    (void)host;
    oh_state *st = c->state;
    if (httpclient_start(c->full_id, st->cfg->auth) != GB_OK) return GB_ERR_IO;
    pthread_mutex_lock(&st->mu);
    st->started = true;
    pthread_mutex_unlock(&st->mu);
    return GB_OK;
}

static gb_status oh_consume(pl_component *c, pd_batch *b)
{
    oh_state *st = c->state;
    pd_signal sig = b->signal;
    oh_signal *s = atomic_load_explicit(&st->sig[sig], memory_order_acquire);
    if (!s) {
        gb_status rc = GB_OK;
        pthread_mutex_lock(&st->mu);
        s = atomic_load_explicit(&st->sig[sig], memory_order_relaxed);
        if (!s) {
            if (!st->started || st->stopped)
                rc = GB_ERR_RETRY;
            else
                rc = signal_new(st, sig, &s);
            if (rc == GB_OK) atomic_store_explicit(&st->sig[sig], s, memory_order_release);
        }
        pthread_mutex_unlock(&st->mu);
        if (rc != GB_OK) {
            gb_log(GB_LOG_ERROR, c->full_id, "dropping data: exporter not ready for %s: %s",
                   pd_signal_name(sig), gb_status_str(rc));
            pd_batch_unref(b);
            return rc == GB_ERR_RETRY ? GB_ERR_RETRY : GB_ERR_PERMANENT;
        }
    }
    return pl_exphelper_consume(s->helper, b);
}

static gb_status oh_shutdown(pl_component *c, int64_t deadline_ns)
{
    oh_state *st = c->state;
    if (!st) return GB_OK;
    pthread_mutex_lock(&st->mu);
    st->stopped = true;
    pthread_mutex_unlock(&st->mu);
    for (int i = 0; i < PD_SIGNAL_COUNT; i++) {
        oh_signal *s = atomic_load(&st->sig[i]);
        if (s) pl_exphelper_shutdown(s->helper, deadline_ns);
    }
    return GB_OK;
}

static void oh_destroy(pl_component *c)
{
    oh_state *st = c->state;
    if (!st) return;
    oh_shutdown(c, gb_mono_ns());
    for (int i = 0; i < PD_SIGNAL_COUNT; i++)
        signal_free(atomic_load(&st->sig[i]));
    curl_slist_free_all(st->headers);
    pthread_mutex_destroy(&st->mu);
    free(st);
    c->state = NULL;
}

static const char *const otlphttp_aliases[] = {"otlp_http", NULL};

const pl_descriptor exporter_otlphttp_descriptor = {
    .kind = PL_EXPORTER,
    .type = "otlphttp",
    .aliases = otlphttp_aliases,
    .stability = {PL_STABLE, PL_STABLE, PL_STABLE},
    .config = &otlphttp_table,
    .config_size = sizeof(otlphttp_cfg),
    .doc = "OTLP over HTTP (protobuf or JSON) with retries and a sending queue",
    .create = oh_create,
    .start = oh_start,
    .consume = oh_consume,
    .shutdown = oh_shutdown,
    .destroy = oh_destroy,
};
