/* prometheusremotewrite exporter: OTLP metrics -> Prometheus Remote Write 1.0 (protobuf
 * WriteRequest, snappy, HTTP POST), as otelcol-contrib's prometheusremotewrite exporter.
 *
 * How: one exporter helper (src/pipeline/exporter_helper.h) for metrics. remote_write_queue maps
 * to the helper's queue with ONE consumer thread, as otelcol does: remote write needs the samples
 * of a series in time order, which concurrent senders would break ("out of order sample"). Each
 * batch is translated (prw_translate.c, names and labels from promutil), split into WriteRequests
 * of at most max_batch_size_bytes (prw_encode.c), and the requests are POSTed in order on the
 * consumer's kept-alive libcurl handle. Responses: 2xx OK; 5xx and 429 -> retry (Retry-After
 * honoured) with retry_on_failure's backoff; other statuses -> permanent, dropped and logged with
 * the first line of the body. When a retry follows a batch whose first requests were accepted,
 * the export resumes at the first request that was not (the consumer remembers the batch and how
 * far it got), so accepted samples are not sent twice. Points that cannot be sent (delta sums and
 * histograms, exponential histograms) are dropped with an error log and counted as failed items,
 * the rest of the batch is sent. TLS, headers and libcurl setup come from exporter/httpclient.
 *
 * Rejected: sending the requests of one batch concurrently (otelcol's num_consumers workers):
 * with one series split across requests the order would again be at the mercy of the network;
 * the WAL (`wal`): refused with a config error - the in-memory queue is what this build has. */
#include "prw.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "base/telemetry.h"
#include "base/timeutil.h"

#define RESP_LIMIT 4096        /* only the first line of an error body is used */
#define BUF_KEEP   (16u << 20) /* per-thread buffers larger than this are freed after use */

/* ---- config ------------------------------------------------------------------------------------
 */

static const char *const compression_names[] = {"snappy", NULL};

static const cfg_field toggle_on_fields[] = {
    {"enabled", CFG_T_BOOL, offsetof(prw_toggle, enabled), "true", "enabled", .flags = 0},
};
static CFG_TABLE(toggle_on_table, toggle_on_fields, NULL);

static const cfg_field toggle_off_fields[] = {
    {"enabled", CFG_T_BOOL, offsetof(prw_toggle, enabled), "false", "enabled", .flags = 0},
};
static CFG_TABLE(toggle_off_table, toggle_off_fields, NULL);

static const cfg_field queue_fields[] = {
    {"enabled", CFG_T_BOOL, offsetof(prw_rw_queue, enabled), "true",
     "queue batches and send them from a consumer thread", .flags = 0},
    {"queue_size", CFG_T_INT, offsetof(prw_rw_queue, queue_size), "10000",
     "maximum number of queued batches", .min = 0, .max = 16777216},
    {"num_consumers", CFG_T_INT, offsetof(prw_rw_queue, num_consumers), "5",
     "accepted; batches are sent by one consumer to keep samples in order", .min = 0, .max = 4096},
};

static void queue_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    prw_rw_queue *q = obj;
    if (q->enabled && q->queue_size == 0)
        cfg_diag_add(d, CFG_ERROR, httpclient_mark_of(node, "queue_size"), path,
                     "queue_size: a 0 size queue will drop all the data");
}
static CFG_TABLE(queue_table, queue_fields, queue_validate);

/* retry_on_failure with otelcol's defaults for this exporter (50ms, 200ms, 1m). */
static const cfg_field retry_fields[] = PL_RETRY_FIELDS("50ms", "200ms", "1m");
static CFG_TABLE(retry_table, retry_fields, pl_retry_validate);

static void prw_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    prw_cfg *c = obj;
    if (!c->endpoint || !*c->endpoint)
        cfg_diag_add(d, CFG_ERROR, node ? node->mark : (cfg_mark){0}, path,
                     "endpoint: the remote write URL is required");
    else if (!httpclient_url_ok(c->endpoint))
        cfg_diag_add(d, CFG_ERROR, httpclient_mark_of(node, "endpoint"), path,
                     "endpoint: invalid URL \"%s\": the scheme must be http:// or https://",
                     c->endpoint);
    httpclient_tls_validate(&c->tls, node, path, d);
    httpclient_headers_validate(&c->headers, node, path, d);
    for (uint32_t i = 0; i < c->external_labels.n; i++)
        if (!c->external_labels.keys[i][0] || !c->external_labels.values[i] ||
            !c->external_labels.values[i][0])
            cfg_diag_add(d, CFG_ERROR, httpclient_mark_of(node, "external_labels"), path,
                         "external_labels: empty label name or value (\"%s\")",
                         c->external_labels.keys[i]);
    if (c->sending_queue) {
        const cfg_pair *p = node ? cfg_node_get_pair(node, "sending_queue") : NULL;
        cfg_diag_add(d, CFG_ERROR, p ? p->key_mark : httpclient_mark_of(node, "sending_queue"),
                     path,
                     "sending_queue: not used by this exporter (as in otelcol); configure "
                     "remote_write_queue (enabled, queue_size, num_consumers) instead");
    }
    if (c->wal) {
        const cfg_pair *p = node ? cfg_node_get_pair(node, "wal") : NULL;
        cfg_diag_add(d, CFG_ERROR, p ? p->key_mark : httpclient_mark_of(node, "wal"), path,
                     "wal: the write-ahead log is not supported in this build (remove `wal`; "
                     "batches are queued in memory by remote_write_queue)");
    }
}

static const cfg_field prw_fields[] = {
    {"endpoint", CFG_T_STRING, offsetof(prw_cfg, endpoint), NULL,
     "remote write URL, e.g. http://mimir:9009/api/v1/push", .flags = 0},
    {"headers", CFG_T_STRMAP, offsetof(prw_cfg, headers), NULL,
     "extra request headers (e.g. X-Scope-OrgID)", .flags = CFG_F_SECRET},
    {"external_labels", CFG_T_STRMAP, offsetof(prw_cfg, external_labels), NULL,
     "labels added to every series (unless the series has that label)", .flags = 0},
    {"namespace", CFG_T_STRING, offsetof(prw_cfg, namespace_), NULL,
     "prefix of every metric name (\"<namespace>_\")", .flags = 0},
    {"resource_to_telemetry_conversion", CFG_T_SECTION, offsetof(prw_cfg, resource_to_telemetry),
     NULL, "resource attributes as labels of every series", .flags = CFG_F_NULLABLE,
     .sub = &toggle_off_table},
    {"add_metric_suffixes", CFG_T_BOOL, offsetof(prw_cfg, add_metric_suffixes), "true",
     "add unit and _total suffixes to metric names", .flags = 0},
    {"send_metadata", CFG_T_BOOL, offsetof(prw_cfg, send_metadata), "false",
     "send metric metadata (type, help, unit)", .flags = 0},
    {"target_info", CFG_T_SECTION, offsetof(prw_cfg, target_info), NULL,
     "target_info series from resource attributes", .flags = CFG_F_NULLABLE,
     .sub = &toggle_on_table},
    {"export_created_metric", CFG_T_SECTION, offsetof(prw_cfg, created_metric), NULL,
     "<name>_created series for counters, histograms and summaries", .flags = CFG_F_NULLABLE,
     .sub = &toggle_off_table},
    {"max_batch_size_bytes", CFG_T_INT, offsetof(prw_cfg, max_batch_size_bytes), "3000000",
     "largest uncompressed WriteRequest; bigger batches are split", .min = 1, .max = 1e9},
    {"timeout", CFG_T_DURATION, offsetof(prw_cfg, timeout), "5s",
     "time limit of one export attempt", .flags = 0},
    {"compression", CFG_T_ENUM, offsetof(prw_cfg, compression), "snappy",
     "body compression: remote write requires snappy", .enum_names = compression_names},
    {"tls", CFG_T_SECTION, offsetof(prw_cfg, tls), NULL, "TLS client settings",
     .flags = CFG_F_NULLABLE, .sub = &httpclient_tls_table},
    {"proxy_url", CFG_T_STRING, offsetof(prw_cfg, proxy_url), NULL, "HTTP proxy URL", .flags = 0},
    {"read_buffer_size", CFG_T_INT, offsetof(prw_cfg, read_buffer_size), "0",
     "receive buffer size in bytes (0 = library default)", .min = 0, .max = 10485760},
    {"write_buffer_size", CFG_T_INT, offsetof(prw_cfg, write_buffer_size), "524288",
     "send buffer size in bytes", .min = 0, .max = 2097152},
    {"idle_conn_timeout", CFG_T_DURATION, offsetof(prw_cfg, idle_conn_timeout), "90s",
     "idle kept-alive connections are closed after this long", .flags = 0},
    {"disable_keep_alives", CFG_T_BOOL, offsetof(prw_cfg, disable_keep_alives), "false",
     "open a new connection for every request", .flags = 0},
    {"remote_write_queue", CFG_T_SECTION, offsetof(prw_cfg, queue), NULL,
     "in-memory queue of batches", .flags = CFG_F_NULLABLE, .sub = &queue_table},
    {"retry_on_failure", CFG_T_SECTION, offsetof(prw_cfg, retry), NULL,
     "retry with exponential backoff", .flags = CFG_F_NULLABLE, .sub = &retry_table},
    {"wal", CFG_T_ANY, offsetof(prw_cfg, wal), NULL,
     "write-ahead log (not supported in this build)", .flags = 0},
    {"sending_queue", CFG_T_ANY, offsetof(prw_cfg, sending_queue), NULL,
     "not used: see remote_write_queue", .flags = 0},
    {"auth", CFG_T_ANY, offsetof(prw_cfg, auth), NULL,
     "authenticator extension (not available in this build; use headers)", .flags = 0},
};
CFG_TABLE(prw_table, prw_fields, prw_validate);

void prw_cfg_default(prw_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->add_metric_suffixes = true;
    cfg->target_info.enabled = true;
    cfg->max_batch_size_bytes = 3000000;
    cfg->timeout = 5 * GB_NS_PER_S;
    cfg->tls.min_version = "1.2";
    cfg->write_buffer_size = 512 * 1024;
    cfg->idle_conn_timeout = 90 * GB_NS_PER_S;
    cfg->queue.enabled = true;
    cfg->queue.queue_size = 10000;
    cfg->queue.num_consumers = 5;
    pl_retry_cfg_default(&cfg->retry);
    cfg->retry.initial_interval = 50 * GB_NS_PER_MS;
    cfg->retry.max_interval = 200 * GB_NS_PER_MS;
    cfg->retry.max_elapsed_time = 60 * GB_NS_PER_S;
}

/* ---- state -------------------------------------------------------------------------------------
 */

typedef struct prw_thread {
    CURL *easy;
    httpclient_resp r;
    prw_series_set set;
    prw_chunk *chunks;
    uint32_t n_chunks, cap_chunks;
    gb_sbuf body;
    char *z;
    size_t zcap;
    /* the batch of the last attempt (retries of the same batch log and count its translation
     * once), and the resume point of a batch whose first requests were accepted before a
     * retryable failure */
    const pd_batch *last_b;
    uint64_t last_hash;
    const pd_batch *resume_b;
    uint64_t resume_hash;
    uint32_t resume_done;
} prw_thread;

typedef struct prw_state {
    pl_component *c;
    const prw_cfg *cfg;
    pl_exphelper *helper;
    prw_thread *threads;
    unsigned n_threads;
    pl_queue_cfg queue;
    struct curl_slist *headers;
    promutil_label *ext;
    uint32_t n_ext;
    char *ext_store;
    prw_translate_opts topts;
    char user_agent[96];
    /* otelcol's own metrics of this exporter */
    gb_series *failed_translations, *translated_series, *sent_batches;
} prw_state;

static gb_status thread_init(prw_state *st, prw_thread *t)
{
    const prw_cfg *cfg = st->cfg;
    httpclient_conn conn = {.url = cfg->endpoint,
                            .headers = st->headers,
                            .user_agent = st->user_agent,
                            .proxy_url = cfg->proxy_url,
                            .idle_conn_timeout = cfg->idle_conn_timeout,
                            .disable_keep_alives = cfg->disable_keep_alives,
                            .read_buffer_size = cfg->read_buffer_size,
                            .write_buffer_size = cfg->write_buffer_size,
                            .tls = &cfg->tls};
    return httpclient_easy_new(&conn, &t->r, RESP_LIMIT, st->c->full_id, &t->easy);
}

static void thread_free(prw_thread *t)
{
    if (t->easy) curl_easy_cleanup(t->easy);
    httpclient_resp_free(&t->r);
    gb_sbuf_free(&t->body);
    prw_series_set_free(&t->set);
    free(t->chunks);
    free(t->z);
    memset(t, 0, sizeof *t);
}

static void shrink(prw_thread *t)
{
    if (t->body.cap > BUF_KEEP) gb_sbuf_free(&t->body);
    if (t->zcap > BUF_KEEP) {
        free(t->z);
        t->z = NULL;
        t->zcap = 0;
    }
    if (t->set.strs.cap > BUF_KEEP) {
        prw_series_set_free(&t->set);
        prw_series_set_init(&t->set);
    }
}

/* POSTs one compressed WriteRequest. */
static gb_status post(prw_state *st, prw_thread *t, const char *body, size_t len,
                      int64_t deadline_ns, pl_export_result *res)
{
    long code = 0;
    gb_status rc = httpclient_post(t->easy, &t->r, body, len, deadline_ns, &code, res->message,
                                   sizeof res->message);
    if (rc != GB_OK) return rc;
    if (code >= 200 && code < 300) return GB_OK;
    /* first line of the body, control characters blanked */
    char line[160];
    size_t n = 0;
    const char *rb = t->r.body.data ? t->r.body.data : "";
    while (n < t->r.body.len && n < sizeof line - 1 && rb[n] != '\n' && rb[n] != '\r') {
        line[n] = (unsigned char)rb[n] < 0x20 ? ' ' : rb[n];
        n++;
    }
    line[n] = '\0';
    if (snprintf(res->message, sizeof res->message,
                 "remote write to %s returned HTTP status %ld%s%s", st->cfg->endpoint, code,
                 n ? ": " : "", line) < 0)
        res->message[0] = '\0';
    if (code >= 500 || code == 429) {
        res->retry_after_ns =
            httpclient_parse_retry_after(t->r.retry_after, gb_now_ns() / GB_NS_PER_S);
        return GB_ERR_RETRY;
    }
    return GB_ERR_PERMANENT;
}

static gb_status prw_export(void *ctx, unsigned thread, pd_batch *b, int64_t deadline_ns,
                            pl_export_result *res)
{
    prw_state *st = ctx;
    prw_thread *t = &st->threads[thread];
    const char *cid = st->c->full_id;
    gb_status rc;
    if (!t->easy && (rc = thread_init(st, t)) != GB_OK) {
        snprintf(res->message, sizeof res->message, "cannot create HTTP client: %s",
                 gb_status_str(rc));
        return rc == GB_ERR_NOMEM ? GB_ERR_RETRY : GB_ERR_PERMANENT;
    }
    rc = prw_translate(b, &st->topts, &t->set);
    if (rc != GB_OK) {
        snprintf(res->message, sizeof res->message, "failed to translate metrics: %s",
                 gb_status_str(rc));
        return rc == GB_ERR_NOMEM ? GB_ERR_RETRY : GB_ERR_PERMANENT;
    }
    const prw_series_set *s = &t->set;
    uint64_t h = gb_hash_bytes(s->series, s->n_series * sizeof *s->series) ^ s->dropped_points;
    bool again = t->last_b == b && t->last_hash == h;
    t->last_b = b;
    t->last_hash = h;
    if (!again && st->translated_series) gb_series_add(st->translated_series, s->n_series);
    if (s->dropped_points) {
        res->rejected = (int64_t)s->dropped_points;
        if (!again) {
            if (st->failed_translations) gb_series_add(st->failed_translations, 1);
            gb_log(GB_LOG_ERROR, cid,
                   "failed to translate metrics, exporting remaining metrics: %s (%llu data "
                   "points dropped)",
                   s->first_error, (unsigned long long)s->dropped_points);
        }
        if (snprintf(res->message, sizeof res->message, "%s", s->first_error) < 0)
            res->message[0] = '\0';
    }
    if (s->n_series == 0 && s->n_meta == 0) return GB_OK;
    rc = prw_split(s, (size_t)st->cfg->max_batch_size_bytes, &t->chunks, &t->n_chunks,
                   &t->cap_chunks);
    if (rc != GB_OK) {
        snprintf(res->message, sizeof res->message, "out of memory");
        return GB_ERR_RETRY;
    }
    h ^= t->n_chunks;
    uint32_t first = 0;
    if (t->resume_b == b && t->resume_hash == h && t->resume_done < t->n_chunks)
        first = t->resume_done;
    t->resume_b = NULL;
    for (uint32_t i = first; i < t->n_chunks; i++) {
        gb_sbuf_reset(&t->body);
        rc = prw_encode(s, &t->chunks[i], &t->body);
        size_t zlen = 0;
        if (rc == GB_OK) rc = prw_snappy(t->body.data, t->body.len, &t->z, &t->zcap, &zlen);
        if (rc != GB_OK) {
            snprintf(res->message, sizeof res->message, "failed to encode the request: %s",
                     gb_status_str(rc));
            rc = rc == GB_ERR_NOMEM ? GB_ERR_RETRY : GB_ERR_PERMANENT;
        } else {
            rc = post(st, t, t->z, zlen, deadline_ns, res);
            if (st->sent_batches) gb_series_add(st->sent_batches, 1);
        }
        if (rc != GB_OK) {
            if (rc == GB_ERR_RETRY && i > 0) {
                t->resume_b = b;
                t->resume_hash = h;
                t->resume_done = i;
            }
            shrink(t);
            return rc;
        }
    }
    shrink(t);
    return GB_OK;
}

/* ---- component ---------------------------------------------------------------------------------
 */

static bool reserved_header(const char *k)
{
    return strcasecmp(k, "Content-Encoding") == 0 || strcasecmp(k, "Content-Type") == 0 ||
           strcasecmp(k, "X-Prometheus-Remote-Write-Version") == 0 ||
           strcasecmp(k, "User-Agent") == 0;
}

static void state_free(prw_state *st)
{
    if (!st) return;
    pl_exphelper_free(st->helper);
    for (unsigned i = 0; st->threads && i < st->n_threads; i++)
        thread_free(&st->threads[i]);
    free(st->threads);
    curl_slist_free_all(st->headers);
    free(st->ext);
    free(st->ext_store);
    free(st);
}

/* External label names made valid once (otelcol normalizes them at start). */
static gb_status build_external(prw_state *st)
{
    const cfg_strmap *m = &st->cfg->external_labels;
    if (!m->n) return GB_OK;
    size_t need = 0;
    for (uint32_t i = 0; i < m->n; i++)
        need += PROMUTIL_NAME_MAX + 1;
    st->ext = calloc(m->n, sizeof *st->ext);
    st->ext_store = malloc(need);
    if (!st->ext || !st->ext_store) return GB_ERR_NOMEM;
    char *p = st->ext_store;
    for (uint32_t i = 0; i < m->n; i++) {
        if (promutil_label_name(gb_str_c(m->keys[i]), p, PROMUTIL_NAME_MAX + 1) != GB_OK) continue;
        st->ext[st->n_ext].name = p;
        st->ext[st->n_ext].value = m->values[i] ? m->values[i] : "";
        st->n_ext++;
        p += strlen(p) + 1;
    }
    return GB_OK;
}

static gb_status prw_create(pl_component *c)
{
    gb_status rc = GB_ERR_NOMEM;
    const prw_cfg *cfg = c->cfg;
    prw_state *st = calloc(1, sizeof *st);
    if (!st) goto fail;
    st->c = c;
    st->cfg = cfg;
    snprintf(st->user_agent, sizeof st->user_agent, "genops-collector/%s", GENOPS_VERSION);
    const char *fixed[] = {"Content-Encoding: snappy", "Content-Type: application/x-protobuf",
                           "X-Prometheus-Remote-Write-Version: 0.1.0", "Expect:"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        struct curl_slist *l = curl_slist_append(st->headers, fixed[i]);
        if (!l) goto fail;
        st->headers = l;
    }
    cfg_strmap user = {0};
    char *keys[64], *vals[64];
    user.keys = keys;
    user.values = vals;
    for (uint32_t i = 0; i < cfg->headers.n; i++) {
        if (reserved_header(cfg->headers.keys[i])) {
            gb_log(GB_LOG_WARN, c->full_id, "headers: \"%s\" cannot be changed; ignored",
                   cfg->headers.keys[i]);
            continue;
        }
        if (user.n == 64) {
            if (httpclient_append_headers(&st->headers, &user) != GB_OK) goto fail;
            user.n = 0;
        }
        keys[user.n] = cfg->headers.keys[i];
        vals[user.n++] = cfg->headers.values[i];
    }
    if (httpclient_append_headers(&st->headers, &user) != GB_OK) goto fail;
    if (build_external(st) != GB_OK) goto fail;
    st->topts = (prw_translate_opts){.namespace_ = cfg->namespace_,
                                     .add_metric_suffixes = cfg->add_metric_suffixes,
                                     .resource_to_telemetry = cfg->resource_to_telemetry.enabled,
                                     .target_info = cfg->target_info.enabled,
                                     .created_metric = cfg->created_metric.enabled,
                                     .send_metadata = cfg->send_metadata,
                                     .external_labels = st->ext,
                                     .n_external_labels = st->n_ext};
    pl_queue_cfg_default(&st->queue);
    st->queue.enabled = cfg->queue.enabled;
    st->queue.queue_size = cfg->queue.queue_size > 0 ? cfg->queue.queue_size : 1;
    /* one consumer keeps the samples of a series in order; without the queue the callers'
     * threads export, each with its own slot */
    st->queue.num_consumers =
        cfg->queue.enabled ? 1 : (cfg->queue.num_consumers > 0 ? cfg->queue.num_consumers : 1);
    st->n_threads = (unsigned)st->queue.num_consumers;
    st->threads = calloc(st->n_threads, sizeof *st->threads);
    if (!st->threads) goto fail;
    for (unsigned i = 0; i < st->n_threads; i++) {
        prw_series_set_init(&st->threads[i].set);
        gb_sbuf_init(&st->threads[i].body, 0);
    }
    c->state = st;
    return GB_OK;
fail:
    state_free(st);
    return rc;
}

static gb_status prw_start(pl_component *c, pl_host *host)
{
    (void)host;
    prw_state *st = c->state;
    if (httpclient_start(c->full_id, st->cfg->auth) != GB_OK) return GB_ERR_IO;
    char labels[200];
    snprintf(labels, sizeof labels, "exporter=\"%s\"", c->id);
    gb_status rc = gb_tm_counter("otelcol_exporter_prometheusremotewrite_failed_translations",
                                 "Number of translation operations that failed to translate "
                                 "metrics from Otel to Prometheus",
                                 labels, &st->failed_translations);
    if (rc == GB_OK)
        rc = gb_tm_counter("otelcol_exporter_prometheusremotewrite_translated_time_series",
                           "Number of Prometheus time series that were translated from OTel "
                           "metrics",
                           labels, &st->translated_series);
    if (rc == GB_OK)
        rc = gb_tm_counter("otelcol_exporter_prometheusremotewrite_sent_batches",
                           "Number of remote write requests sent to the endpoint", labels,
                           &st->sent_batches);
    if (rc != GB_OK) return rc;
    pl_exphelper_opts o = {.id = c->id,
                           .signal = PD_METRICS,
                           .timeout = st->cfg->timeout,
                           .retry = &st->cfg->retry,
                           .queue = &st->queue,
                           .export_fn = prw_export,
                           .ctx = st};
    rc = pl_exphelper_new(&o, &st->helper);
    if (rc == GB_OK) rc = pl_exphelper_start(st->helper);
    return rc;
}

static gb_status prw_consume(pl_component *c, pd_batch *b)
{
    prw_state *st = c->state;
    if (b->signal != PD_METRICS || !st->helper) {
        pd_batch_unref(b);
        return st->helper ? GB_ERR_PERMANENT : GB_ERR_RETRY;
    }
    return pl_exphelper_consume(st->helper, b);
}

static gb_status prw_shutdown(pl_component *c, int64_t deadline_ns)
{
    prw_state *st = c->state;
    if (st && st->helper) pl_exphelper_shutdown(st->helper, deadline_ns);
    return GB_OK;
}

static void prw_destroy(pl_component *c)
{
    prw_state *st = c->state;
    if (!st) return;
    prw_shutdown(c, gb_mono_ns());
    state_free(st);
    c->state = NULL;
}

const pl_descriptor exporter_prometheusremotewrite_descriptor = {
    .kind = PL_EXPORTER,
    .type = "prometheusremotewrite",
    .stability = {PL_UNSUPPORTED, PL_BETA, PL_UNSUPPORTED},
    .config = &prw_table,
    .config_size = sizeof(prw_cfg),
    .doc = "Prometheus Remote Write 1.0 (protobuf + snappy over HTTP), metrics only",
    .create = prw_create,
    .start = prw_start,
    .consume = prw_consume,
    .shutdown = prw_shutdown,
    .destroy = prw_destroy,
};
