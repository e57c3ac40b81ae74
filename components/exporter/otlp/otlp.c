/* otlp exporter (alias otlp_grpc): OTLP over gRPC, otelcol's otlpexporter keys and defaults.
 *
 * What: each signal the exporter sees gets one exporter helper (timeout, retry_on_failure,
 * sending_queue), created on the first batch of that signal. The helper calls export_fn from its
 * consumer threads; each thread index owns one slot = one gRPC client (one HTTP/2 connection), so
 * sending_queue.num_consumers connections exist per signal. Encode buffers are not per slot: an
 * export takes the most recently returned buffer from a per-signal pool (LIFO, so the same few
 * warm buffers circulate) and gives it back; a buffer left idle for ENC_IDLE_NS is freed. So the
 * buffers that stay allocated follow the exports actually in flight, not num_consumers x the
 * largest batch ever seen (the helper hands batches to any idle consumer, so per-slot buffers
 * all grew to the largest batch and stayed), and the data path still allocates nothing per batch
 * under steady load. Rejected: a fixed cap on idle buffers (with 10 busy consumers and a cap of
 * 2, eight ~8 MB buffers were freed and faulted in again per round: 1.5-2x the page faults).
 *
 * How: the batch is encoded with otlp_encode_proto_inplace into the pooled buffer (no final move
 * of the message to the front of the buffer), sent with
 * net_grpc_client_call to /opentelemetry.proto.collector.<signal>.v1.<Signal>Service/Export with
 * the configured headers as metadata, and the result is mapped by otlpexp_map_result (retryable
 * codes, RESOURCE_EXHAUSTED with RetryInfo). An OK answer with partial_success is logged and its
 * rejected count reported to the helper.
 *
 * Rejected: one shared multiplexed connection for all threads (needs a reader thread and
 * locking; otelcol also ends up with one stream per in-flight export); slots without a mutex
 * (the helper's thread index is unique per consumer thread, but with the queue disabled exports
 * run on receiver threads, so a slot is locked - uncontended in the queued case - and a busy
 * slot makes the export take another free one from a small pool). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/sbuf.h"
#include "base/timeutil.h"
#include "exporter/otlp/otlpexp.h"
#include "net/tls.h"
#include "otlp/otlp.h"
#include "pipeline/component.h"

#define OTLPEXP_DIRECT_SLOTS 8
/* an encode buffer idle this long is freed (each is about one encoded batch) */
#define ENC_IDLE_NS (1000 * GB_NS_PER_MS)

/* ---- config ---------------------------------------------------------------------------------- */

static const char *const compression_names[] = {"gzip", "zstd", "snappy", "none", "", NULL};

static const cfg_field tls_fields[] = {
    {.key = "insecure",
     .type = CFG_T_BOOL,
     .offset = offsetof(otlpexp_tls_cfg, insecure),
     .def = "false",
     .doc = "plain-text HTTP/2 (h2c) instead of TLS"},
    {.key = "insecure_skip_verify",
     .type = CFG_T_BOOL,
     .offset = offsetof(otlpexp_tls_cfg, insecure_skip_verify),
     .def = "false",
     .doc = "do not verify the server certificate"},
    {.key = "ca_file",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_tls_cfg, ca_file),
     .doc = "PEM CA bundle to verify the server (default: system roots)"},
    {.key = "cert_file",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_tls_cfg, cert_file),
     .doc = "client certificate (mTLS)"},
    {.key = "key_file",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_tls_cfg, key_file),
     .doc = "client key (mTLS)",
     .flags = CFG_F_SECRET},
    {.key = "server_name_override",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_tls_cfg, server_name_override),
     .doc = "name for SNI and certificate verification"},
    {.key = "min_version",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_tls_cfg, min_version),
     .doc = "minimum TLS version: 1.0, 1.1, 1.2 (default), 1.3"},
    {.key = "max_version",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_tls_cfg, max_version),
     .doc = "maximum TLS version (default: newest)"},
    {.key = "ca_pem",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_tls_cfg, ca_pem),
     .doc = "CA bundle as PEM text",
     .flags = CFG_F_SECRET},
    {.key = "cert_pem",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_tls_cfg, cert_pem),
     .doc = "client certificate as PEM text",
     .flags = CFG_F_SECRET},
    {.key = "key_pem",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_tls_cfg, key_pem),
     .doc = "client key as PEM text",
     .flags = CFG_F_SECRET},
    {.key = "cipher_suites",
     .type = CFG_T_STRINGS,
     .offset = offsetof(otlpexp_tls_cfg, cipher_suites),
     .doc = "accepted; OpenSSL's default suites are used"},
    {.key = "curve_preferences",
     .type = CFG_T_STRINGS,
     .offset = offsetof(otlpexp_tls_cfg, curve_preferences),
     .doc = "accepted; OpenSSL's default groups are used"},
    {.key = "reload_interval",
     .type = CFG_T_DURATION,
     .offset = offsetof(otlpexp_tls_cfg, reload_interval),
     .def = "0",
     .doc = "accepted; certificates are read at start"},
    {.key = "include_system_ca_certs_pool",
     .type = CFG_T_BOOL,
     .offset = offsetof(otlpexp_tls_cfg, include_system_ca_certs_pool),
     .def = "false",
     .doc = "trust the system roots as well as ca_file / ca_pem"},
};
static CFG_TABLE(tls_table, tls_fields, NULL);

static const cfg_field keepalive_fields[] = {
    {.key = "time",
     .type = CFG_T_DURATION,
     .offset = offsetof(otlpexp_keepalive_cfg, time),
     .def = "10s",
     .doc = "ping when the connection has been silent this long during a call"},
    {.key = "timeout",
     .type = CFG_T_DURATION,
     .offset = offsetof(otlpexp_keepalive_cfg, timeout),
     .def = "10s",
     .doc = "wait this long for a ping acknowledgement before dropping the connection"},
    {.key = "permit_without_stream",
     .type = CFG_T_BOOL,
     .offset = offsetof(otlpexp_keepalive_cfg, permit_without_stream),
     .def = "false",
     .doc = "also probe an idle connection before reusing it"},
};
static CFG_TABLE(keepalive_table, keepalive_fields, NULL);

static const cfg_field compression_params_fields[] = {
    {.key = "level",
     .type = CFG_T_INT,
     .offset = 0,
     .def = "0",
     .doc = "compression level: gzip 1-9, zstd 1-22; 0 or -1 = default (gzip 1, zstd 3)"},
};
static CFG_TABLE(compression_params_table, compression_params_fields, NULL);

static void validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d);

static const cfg_field fields[] = {
    {.key = "endpoint",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_cfg, endpoint),
     .doc = "host:port, dns:///host:port, http://host:port (plain text) or https://host:port",
     .flags = CFG_F_REQUIRED},
    {.key = "tls",
     .type = CFG_T_SECTION,
     .offset = offsetof(otlpexp_cfg, tls),
     .sub = &tls_table,
     .doc = "TLS client settings",
     .flags = CFG_F_NULLABLE},
    {.key = "compression",
     .type = CFG_T_ENUM,
     .offset = offsetof(otlpexp_cfg, compression),
     .def = "gzip",
     .enum_names = compression_names,
     .doc = "gzip, zstd, snappy or none"},
    {.key = "compression_params",
     .type = CFG_T_SECTION,
     .offset = offsetof(otlpexp_cfg, compression_params),
     .sub = &compression_params_table,
     .doc = "compression settings",
     .flags = CFG_F_NULLABLE},
    {.key = "headers",
     .type = CFG_T_STRMAP,
     .offset = offsetof(otlpexp_cfg, headers),
     .doc = "metadata sent with every call",
     .flags = CFG_F_SECRET},
    {.key = "timeout",
     .type = CFG_T_DURATION,
     .offset = offsetof(otlpexp_cfg, timeout),
     .def = "5s",
     .doc = "deadline of one export attempt",
     .min = 0,
     .max = 1e15},
    {.key = "keepalive",
     .type = CFG_T_SECTION,
     .offset = offsetof(otlpexp_cfg, keepalive),
     .sub = &keepalive_table,
     .doc = "HTTP/2 keepalive pings",
     .flags = CFG_F_NULLABLE},
    {.key = "balancer_name",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_cfg, balancer_name),
     .def = "round_robin",
     .doc = "accepted; each consumer keeps one connection to the first address that answers"},
    {.key = "wait_for_ready",
     .type = CFG_T_BOOL,
     .offset = offsetof(otlpexp_cfg, wait_for_ready),
     .def = "false",
     .doc = "accepted; connection failures are retried by retry_on_failure"},
    {.key = "write_buffer_size",
     .type = CFG_T_INT,
     .offset = offsetof(otlpexp_cfg, write_buffer_size),
     .def = "524288",
     .doc = "accepted"},
    {.key = "read_buffer_size",
     .type = CFG_T_INT,
     .offset = offsetof(otlpexp_cfg, read_buffer_size),
     .def = "0",
     .doc = "accepted"},
    {.key = "authority",
     .type = CFG_T_STRING,
     .offset = offsetof(otlpexp_cfg, authority),
     .doc = ":authority header (default: tls.server_name_override, else host:port)"},
    {.key = "retry_on_failure",
     .type = CFG_T_SECTION,
     .offset = offsetof(otlpexp_cfg, retry),
     .sub = &pl_retry_table,
     .doc = "retry with exponential backoff",
     .flags = CFG_F_NULLABLE},
    {.key = "sending_queue",
     .type = CFG_T_SECTION,
     .offset = offsetof(otlpexp_cfg, queue),
     .sub = &pl_queue_table,
     .doc = "queue and consumer threads (one connection each)",
     .flags = CFG_F_NULLABLE},
};
static CFG_TABLE(otlpexp_table, fields, validate);

static void validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    otlpexp_cfg *cfg = obj;
    cfg_mark mark = node ? node->mark : (cfg_mark){"", 0, 0};
    char err[256];
    net_grpc_endpoint ep;
    net_grpc_client_opts o;
    if (cfg->endpoint && otlpexp_client_opts(cfg, &ep, &o, err, sizeof(err)) != GB_OK) {
        const cfg_node *n = node ? cfg_node_get(node, "endpoint") : NULL;
        cfg_diag_add(d, CFG_ERROR, n ? n->mark : mark, path, "%s", err);
    }
    int64_t lvl = cfg->compression_params.level;
    if (lvl != 0 && lvl != -1) {
        int64_t hi = cfg->compression == OTLPEXP_COMPRESSION_GZIP   ? 9
                     : cfg->compression == OTLPEXP_COMPRESSION_ZSTD ? 22
                                                                    : 0;
        if (lvl < 1 || lvl > hi)
            cfg_diag_add(d, CFG_ERROR, mark, path,
                         "compression_params.level %lld is not valid for compression %s",
                         (long long)lvl, compression_names[cfg->compression]);
    }
    bool cert =
        (cfg->tls.cert_file && *cfg->tls.cert_file) || (cfg->tls.cert_pem && *cfg->tls.cert_pem);
    bool key = (cfg->tls.key_file && *cfg->tls.key_file) || (cfg->tls.key_pem && *cfg->tls.key_pem);
    if (cert != key)
        cfg_diag_add(d, CFG_ERROR, mark, path,
                     "tls: a client certificate needs its key (cert_file/cert_pem with "
                     "key_file/key_pem)");
    const char *vers[2] = {cfg->tls.min_version, cfg->tls.max_version};
    for (int i = 0; i < 2; i++) {
        int v;
        if (vers[i] && net_tls_parse_version(vers[i], &v) != GB_OK)
            cfg_diag_add(d, CFG_ERROR, mark, path, "tls: invalid %s \"%s\" (1.0 .. 1.3)",
                         i ? "max_version" : "min_version", vers[i]);
    }
    if (cfg->balancer_name && *cfg->balancer_name && strcmp(cfg->balancer_name, "round_robin") &&
        strcmp(cfg->balancer_name, "pick_first"))
        cfg_diag_add(d, CFG_ERROR, mark, path,
                     "invalid balancer_name \"%s\" (round_robin or pick_first)",
                     cfg->balancer_name);
}

/* ---- state ----------------------------------------------------------------------------------- */

typedef struct slot {
    pthread_mutex_t mu;
    net_grpc_client *client;
} slot;

typedef struct otlpexp otlpexp;

typedef struct sigstate {
    otlpexp *x;
    pd_signal signal;
    _Atomic(pl_exphelper *) helper;
    slot *slots;
    unsigned n_slots;
    pthread_mutex_t pool_mu; /* guards the idle encode buffers */
    gb_sbuf *pool;           /* n_slots entries; [0] is the longest idle */
    int64_t *pool_idle;      /* when each went idle (gb_mono_ns) */
    unsigned n_pool;
} sigstate;

struct otlpexp {
    pl_component *c;
    otlpexp_cfg *cfg;
    net_grpc_endpoint ep;
    net_grpc_client_opts opts;
    net_grpc_header *hdrs;
    size_t n_hdrs;
    pthread_mutex_t mu;
    bool stopped;
    sigstate sig[PD_SIGNAL_COUNT];
};

/* An encode buffer: the most recently returned idle one (warm, already grown), or a new one. */
static void enc_get(sigstate *ss, gb_sbuf *out)
{
    pthread_mutex_lock(&ss->pool_mu);
    if (ss->n_pool > 0)
        *out = ss->pool[--ss->n_pool];
    else
        gb_sbuf_init(out, 0);
    pthread_mutex_unlock(&ss->pool_mu);
}

static void enc_put(sigstate *ss, gb_sbuf *b)
{
    gb_sbuf stale = {0};
    bool have_stale = false;
    int64_t now = gb_mono_ns();
    gb_sbuf_reset(b);
    pthread_mutex_lock(&ss->pool_mu);
    if (ss->n_pool > 0 && now - ss->pool_idle[0] > ENC_IDLE_NS) {
        /* one stale buffer freed per return keeps the work (and the lock hold) constant */
        stale = ss->pool[0];
        have_stale = true;
        ss->n_pool--;
        memmove(&ss->pool[0], &ss->pool[1], ss->n_pool * sizeof(ss->pool[0]));
        memmove(&ss->pool_idle[0], &ss->pool_idle[1], ss->n_pool * sizeof(ss->pool_idle[0]));
    }
    if (ss->n_pool < ss->n_slots) {
        ss->pool[ss->n_pool] = *b;
        ss->pool_idle[ss->n_pool++] = now;
        b = NULL;
    }
    pthread_mutex_unlock(&ss->pool_mu);
    if (b) gb_sbuf_free(b);
    if (have_stale) gb_sbuf_free(&stale);
}

static gb_status export_fn(void *ctx, unsigned thread, pd_batch *b, int64_t deadline_ns,
                           pl_export_result *res)
{
    sigstate *ss = ctx;
    otlpexp *x = ss->x;
    slot *s = &ss->slots[thread % ss->n_slots];
    gb_status st;
    char err[256];
    gb_sbuf enc;
    bool have_enc = false;
    /* the thread's own slot is free whenever the helper's thread indexes are unique; otherwise
     * take any free slot, and wait for our own only when all are busy */
    if (pthread_mutex_trylock(&s->mu) != 0) {
        bool got = false;
        for (unsigned i = 1; i < ss->n_slots && !got; i++) {
            slot *o = &ss->slots[(thread + i) % ss->n_slots];
            if (pthread_mutex_trylock(&o->mu) == 0) {
                s = o;
                got = true;
            }
        }
        if (!got) pthread_mutex_lock(&s->mu);
    }
    if (!s->client && net_grpc_client_new(&x->opts, &s->client, err, sizeof(err)) != GB_OK) {
        snprintf(res->message, sizeof(res->message), "grpc client: %.230s", err);
        st = GB_ERR_PERMANENT;
        goto out;
    }
    uint8_t *wire = NULL;
    size_t wire_len = 0;
    enc_get(ss, &enc);
    have_enc = true;
    if ((st = otlp_encode_proto_inplace(b, &enc, 0, &wire, &wire_len)) != GB_OK) {
        snprintf(res->message, sizeof(res->message), "encode: %s", gb_status_str(st));
        st = GB_ERR_PERMANENT;
        goto out;
    }
    net_grpc_result r;
    net_grpc_client_call(s->client, otlpexp_export_path(ss->signal), wire, wire_len, x->hdrs,
                         x->n_hdrs, deadline_ns, &r);
    st = otlpexp_map_result(&r, res);
    if (st == GB_OK && r.response_len > 0) {
        int64_t rejected = 0;
        char msg[200] = "";
        if (otlp_decode_response_proto(ss->signal, r.response, r.response_len, &rejected, msg,
                                       sizeof(msg)) == GB_OK &&
            (rejected > 0 || msg[0])) {
            res->rejected = rejected;
            gb_log(GB_LOG_WARN, x->c->full_id,
                   "partial success response  rejected_%s=%lld  message=\"%s\"",
                   pd_signal_item(ss->signal), (long long)rejected, msg);
        }
    }
out:
    if (have_enc) enc_put(ss, &enc);
    pthread_mutex_unlock(&s->mu);
    return st;
}

static gb_status otlpexp_create(pl_component *c)
{
    otlpexp_cfg *cfg = c->cfg;
    otlpexp *x = calloc(1, sizeof(*x));
    char err[256];
    gb_status st;
    if (!x) return GB_ERR_NOMEM;
    x->c = c;
    x->cfg = cfg;
    pthread_mutex_init(&x->mu, NULL);
    c->state = x;
    if ((st = otlpexp_client_opts(cfg, &x->ep, &x->opts, err, sizeof(err))) != GB_OK) {
        gb_log(GB_LOG_ERROR, c->full_id, "invalid config  error=\"%s\"", err);
        return st;
    }
    if (cfg->headers.n) {
        x->hdrs = calloc(cfg->headers.n, sizeof(*x->hdrs));
        if (!x->hdrs) return GB_ERR_NOMEM;
        for (uint32_t i = 0; i < cfg->headers.n; i++) {
            x->hdrs[i].name = cfg->headers.keys[i];
            x->hdrs[i].value = cfg->headers.values[i];
        }
        x->n_hdrs = cfg->headers.n;
    }
    /* queued: one slot per consumer thread; direct (queue disabled): exports run on receiver
     * threads, so a small pool of lazily connected slots */
    unsigned n = cfg->queue.enabled && cfg->queue.num_consumers > 0
                     ? (unsigned)cfg->queue.num_consumers
                     : OTLPEXP_DIRECT_SLOTS;
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        sigstate *ss = &x->sig[s];
        ss->x = x;
        ss->signal = (pd_signal)s;
        ss->slots = calloc(n, sizeof(*ss->slots));
        ss->pool = calloc(n, sizeof(*ss->pool));
        ss->pool_idle = calloc(n, sizeof(*ss->pool_idle));
        if (!ss->slots || !ss->pool || !ss->pool_idle) {
            free(ss->slots);
            free(ss->pool);
            free(ss->pool_idle);
            ss->slots = NULL;
            ss->pool = NULL;
            ss->pool_idle = NULL;
            return GB_ERR_NOMEM;
        }
        ss->n_slots = n;
        for (unsigned i = 0; i < n; i++)
            pthread_mutex_init(&ss->slots[i].mu, NULL);
        pthread_mutex_init(&ss->pool_mu, NULL);
    }
    return GB_OK;
}

static gb_status otlpexp_start(pl_component *c, pl_host *host)
{
    (void)host;
    otlpexp *x = c->state;
    char err[256];
    net_grpc_client *probe = NULL;
    /* load the TLS files now so a bad file fails the start, not the first export */
    gb_status st = net_grpc_client_new(&x->opts, &probe, err, sizeof(err));
    if (st != GB_OK) {
        gb_log(GB_LOG_ERROR, c->full_id, "cannot start  error=\"%s\"", err);
        return st;
    }
    net_grpc_client_free(probe);
    gb_log(GB_LOG_INFO, c->full_id, "exporting to %s:%u over %s%s", x->ep.host, x->ep.port,
           x->opts.tls.enabled ? "TLS" : "plain-text HTTP/2",
           x->opts.compression != NET_GRPC_COMP_NONE ? " (compressed)" : "");
    return GB_OK;
}

/* The helper of the batch's signal, made and started on first use. */
static gb_status helper_for(otlpexp *x, pd_signal s, pl_exphelper **out)
{
    sigstate *ss = &x->sig[s];
    pl_exphelper *h = atomic_load_explicit(&ss->helper, memory_order_acquire);
    gb_status st = GB_OK;
    if (h) {
        *out = h;
        return GB_OK;
    }
    pthread_mutex_lock(&x->mu);
    h = atomic_load_explicit(&ss->helper, memory_order_relaxed);
    if (!h) {
        if (x->stopped) {
            st = GB_ERR_STATE;
            goto out;
        }
        pl_exphelper_opts o = {
            .id = x->c->id,
            .signal = s,
            .timeout = x->cfg->timeout,
            .retry = &x->cfg->retry,
            .queue = &x->cfg->queue,
            .export_fn = export_fn,
            .ctx = ss,
        };
        if ((st = pl_exphelper_new(&o, &h)) != GB_OK) goto out;
        if ((st = pl_exphelper_start(h)) != GB_OK) {
            pl_exphelper_free(h);
            h = NULL;
            goto out;
        }
        atomic_store_explicit(&ss->helper, h, memory_order_release);
    }
out:
    pthread_mutex_unlock(&x->mu);
    *out = h;
    return h ? GB_OK : st;
}

static gb_status otlpexp_consume(pl_component *c, pd_batch *b)
{
    otlpexp *x = c->state;
    pl_exphelper *h = NULL;
    if ((unsigned)b->signal >= PD_SIGNAL_COUNT || helper_for(x, b->signal, &h) != GB_OK) {
        pd_batch_unref(b);
        return GB_ERR_RETRY;
    }
    return pl_exphelper_consume(h, b);
}

static gb_status otlpexp_shutdown(pl_component *c, int64_t deadline_ns)
{
    otlpexp *x = c->state;
    if (!x) return GB_OK;
    pthread_mutex_lock(&x->mu);
    x->stopped = true;
    pthread_mutex_unlock(&x->mu);
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        pl_exphelper *h = atomic_load(&x->sig[s].helper);
        if (h) pl_exphelper_shutdown(h, deadline_ns);
    }
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        for (unsigned i = 0; i < x->sig[s].n_slots; i++) {
            slot *sl = &x->sig[s].slots[i];
            pthread_mutex_lock(&sl->mu);
            if (sl->client) net_grpc_client_close(sl->client);
            pthread_mutex_unlock(&sl->mu);
        }
    }
    return GB_OK;
}

static void otlpexp_destroy(pl_component *c)
{
    otlpexp *x = c->state;
    if (!x) return;
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        sigstate *ss = &x->sig[s];
        pl_exphelper *h = atomic_load(&ss->helper);
        if (h) {
            pl_exphelper_shutdown(h, gb_mono_ns());
            pl_exphelper_free(h);
        }
        for (unsigned i = 0; i < ss->n_slots; i++) {
            net_grpc_client_free(ss->slots[i].client);
            pthread_mutex_destroy(&ss->slots[i].mu);
        }
        for (unsigned i = 0; i < ss->n_pool; i++)
            gb_sbuf_free(&ss->pool[i]);
        ss->n_pool = 0;
        if (ss->slots) pthread_mutex_destroy(&ss->pool_mu);
        free(ss->pool);
        free(ss->pool_idle);
        free(ss->slots);
    }
    free(x->hdrs);
    pthread_mutex_destroy(&x->mu);
    free(x);
    c->state = NULL;
}

static const char *const aliases[] = {"otlp_grpc", NULL};

const pl_descriptor exporter_otlp_descriptor = {
    .kind = PL_EXPORTER,
    .type = "otlp",
    .aliases = aliases,
    .stability = {PL_STABLE, PL_STABLE, PL_BETA},
    .config = &otlpexp_table,
    .config_size = sizeof(otlpexp_cfg),
    .doc = "Sends traces, metrics and logs with OTLP over gRPC",
    .create = otlpexp_create,
    .start = otlpexp_start,
    .consume = otlpexp_consume,
    .shutdown = otlpexp_shutdown,
    .destroy = otlpexp_destroy,
};
