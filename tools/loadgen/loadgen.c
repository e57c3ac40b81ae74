/* genops-loadgen: OTLP load generator (telemetrygen-like) with realistic governance attributes.
 *
 *   genops-loadgen --signal traces --protocol http/protobuf --endpoint 127.0.0.1:4318 \
 *                  --workers 4 --items 1000 --duration 20 [--rate 100]
 *
 * Each worker pre-builds a few distinct requests (different trace ids, teams, models) with the
 * project's own pdata model and OTLP encoders, then sends them in a loop over one keep-alive
 * connection, either flat out or paced to its share of --rate (requests per second, all workers).
 * It prints the achieved request and item rates, latency percentiles and errors by kind.
 * Rejected: generating a fresh payload per request (the generator would cost more CPU than the
 * collector under test and distort the measurement). */
#include <curl/curl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/sbuf.h"
#include "base/timeutil.h"
#include "net/grpc_client.h"
#include "otlp/otlp.h"
#include "pdata/pdata.h"

#define VARIANTS       4
#define MAX_LAT_SAMPLES 1000000

typedef struct opts {
    pd_signal signal;
    const char *protocol; /* http/protobuf, http/json, grpc */
    const char *endpoint;
    unsigned workers;
    unsigned items;
    double duration;
    double rate;
    unsigned seed;
    const char *headers[16];
    unsigned n_headers;
} opts;

typedef struct worker {
    pthread_t thread;
    const opts *o;
    unsigned index;
    gb_sbuf payload[VARIANTS];
    uint64_t ok, failed, items_ok;
    uint64_t status_counts[6]; /* 2xx..5xx by hundred, [0] = transport errors */
    double *lat_ms;
    size_t n_lat, cap_lat;
    char last_error[256];
} worker;

static const char *k_teams[] = {"platform", "search", "support-bots", "ml-research"};
static const char *k_customers[] = {"acme-corp", "globex", "initech", "enterprise-umbrella"};
static const char *k_models[][2] = {{"openai", "gpt-4o"},
                                    {"anthropic", "claude-3-5-sonnet-20241022"},
                                    {"openai", "gpt-4o-mini"},
                                    {"gcp.gemini", "gemini-1.5-pro"}};

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static pd_kv kv_str(const char *k, const char *v)
{
    return (pd_kv){gb_str_c(k), pd_any_str(gb_str_c(v))};
}

static pd_kv kv_int(const char *k, int64_t v)
{
    return (pd_kv){gb_str_c(k), pd_any_int(v)};
}

static pd_kv kv_dbl(const char *k, double v)
{
    return (pd_kv){gb_str_c(k), pd_any_double(v)};
}

static gb_status fill_resource(gb_arena *a, pd_resource *r, unsigned variant)
{
    pd_kv *kv = gb_arena_alloc(a, sizeof(pd_kv) * 4);
    if (!kv) return GB_ERR_NOMEM;
    static const char *services[] = {"chat-api", "rag-worker", "agent-runner", "eval-service"};
    kv[0] = kv_str("service.name", services[variant % 4]);
    kv[1] = kv_str("service.version", "1.4.2");
    kv[2] = kv_str("deployment.environment.name", "production");
    kv[3] = kv_str("telemetry.sdk.name", "genops-loadgen");
    r->attrs = (pd_attrs){kv, 4, 4};
    return GB_OK;
}

/* One span's ~25 governance + GenAI + HTTP attributes. */
static gb_status fill_span_attrs(gb_arena *a, pd_attrs *attrs, uint64_t *rng)
{
    pd_kv *kv = gb_arena_alloc(a, sizeof(pd_kv) * 25);
    if (!kv) return GB_ERR_NOMEM;
    uint64_t r = rng_next(rng);
    const char *const *m = k_models[r % 4];
    int64_t in = 100 + (int64_t)(r >> 8) % 4000, out = 20 + (int64_t)(r >> 20) % 800;
    unsigned n = 0;
    kv[n++] = kv_str("genops.team", k_teams[(r >> 4) % 4]);
    kv[n++] = kv_str("genops.customer_id", k_customers[(r >> 6) % 4]);
    kv[n++] = kv_str("genops.project", "assistant");
    kv[n++] = kv_str("genops.environment", "production");
    kv[n++] = kv_str("genops.feature", "chat");
    kv[n++] = kv_str("genops.operation.name", "chat.completion");
    kv[n++] = kv_str("gen_ai.provider.name", m[0]);
    kv[n++] = kv_str("gen_ai.operation.name", "chat");
    kv[n++] = kv_str("gen_ai.request.model", m[1]);
    kv[n++] = kv_str("gen_ai.response.model", m[1]);
    kv[n++] = kv_dbl("gen_ai.request.temperature", 0.2);
    kv[n++] = kv_int("gen_ai.request.max_tokens", 1024);
    kv[n++] = kv_int("gen_ai.usage.input_tokens", in);
    kv[n++] = kv_int("gen_ai.usage.output_tokens", out);
    kv[n++] = kv_int("gen_ai.usage.cache_read.input_tokens", in / 4);
    kv[n++] = kv_str("gen_ai.response.id", "chatcmpl-loadgen");
    kv[n++] = kv_str("gen_ai.response.finish_reasons", "stop");
    kv[n++] = kv_str("http.request.method", "POST");
    kv[n++] = kv_str("url.path", "/v1/chat/completions");
    kv[n++] = kv_str("server.address", "api.example.com");
    kv[n++] = kv_int("server.port", 443);
    kv[n++] = kv_int("http.response.status_code", 200);
    kv[n++] = kv_str("user_agent.original", "genops-loadgen/1.0");
    kv[n++] = (pd_kv){gb_str_c("genops.policy.allowed"), pd_any_bool(true)};
    kv[n++] = kv_str("genops.session_id", "session-42");
    *attrs = (pd_attrs){kv, n, n};
    return GB_OK;
}

static gb_status build_traces(pd_batch *b, unsigned items, uint64_t *rng)
{
    gb_arena *a = &b->arena;
    pd_resource_spans *rs = gb_arena_calloc(a, 1, sizeof *rs);
    pd_scope_spans *ss = gb_arena_calloc(a, 1, sizeof *ss);
    pd_span *spans = gb_arena_calloc(a, items ? items : 1, sizeof *spans);
    if (!rs || !ss || !spans) return GB_ERR_NOMEM;
    gb_status st = fill_resource(a, &rs->resource, (unsigned)(*rng % 4));
    if (st) return st;
    ss->scope.name = gb_str_c("genops.loadgen");
    ss->scope.version = gb_str_c("1.0.0");
    uint64_t now = (uint64_t)gb_now_ns();
    pd_trace_id tid = {{0}};
    pd_span_id root = {{0}};
    for (unsigned i = 0; i < items; i++) {
        pd_span *s = &spans[i];
        bool new_trace = i % 5 == 0;
        if (new_trace) {
            uint64_t x = rng_next(rng), y = rng_next(rng);
            memcpy(tid.b, &x, 8);
            memcpy(tid.b + 8, &y, 8);
        }
        uint64_t sid = rng_next(rng) | 1;
        s->trace_id = tid;
        memcpy(s->span_id.b, &sid, 8);
        if (new_trace) {
            root = s->span_id;
            s->kind = PD_SPAN_KIND_SERVER;
            s->name = gb_str_c("POST /v1/chat");
        } else {
            s->parent_span_id = root;
            s->kind = PD_SPAN_KIND_CLIENT;
            s->name = gb_str_c("chat gpt-4o");
        }
        s->flags = 1;
        s->start_time_unix_nano = now - 5000000 + i;
        s->end_time_unix_nano = now - 1000000 + i;
        s->status.code = PD_STATUS_OK;
        st = fill_span_attrs(a, &s->attrs, rng);
        if (st) return st;
    }
    ss->spans = spans;
    ss->n_spans = items;
    rs->scope_spans = ss;
    rs->n_scope_spans = 1;
    b->u.traces.v = rs;
    b->u.traces.n = 1;
    return GB_OK;
}

static gb_status build_metrics(pd_batch *b, unsigned items, uint64_t *rng)
{
    gb_arena *a = &b->arena;
    pd_resource_metrics *rm = gb_arena_calloc(a, 1, sizeof *rm);
    pd_scope_metrics *sm = gb_arena_calloc(a, 1, sizeof *sm);
    pd_metric *m = gb_arena_calloc(a, 2, sizeof *m);
    unsigned half = items / 2 ? items / 2 : 1;
    pd_number_dp *cost = gb_arena_calloc(a, half, sizeof *cost);
    pd_number_dp *tok = gb_arena_calloc(a, half, sizeof *tok);
    if (!rm || !sm || !m || !cost || !tok) return GB_ERR_NOMEM;
    gb_status st = fill_resource(a, &rm->resource, (unsigned)(*rng % 4));
    if (st) return st;
    uint64_t now = (uint64_t)gb_now_ns();
    for (unsigned i = 0; i < half; i++) {
        uint64_t r = rng_next(rng);
        pd_kv *kv = gb_arena_alloc(a, sizeof(pd_kv) * 4);
        if (!kv) return GB_ERR_NOMEM;
        kv[0] = kv_str("genops.team", k_teams[r % 4]);
        kv[1] = kv_str("genops.customer_id", k_customers[(r >> 2) % 4]);
        kv[2] = kv_str("gen_ai.provider.name", k_models[(r >> 4) % 4][0]);
        kv[3] = kv_str("gen_ai.request.model", k_models[(r >> 4) % 4][1]);
        cost[i] = (pd_number_dp){.attrs = {kv, 4, 4}, .start_time_unix_nano = now - 60000000000ULL,
                                 .time_unix_nano = now, .value_type = PD_NUM_DOUBLE};
        cost[i].value.d = (double)(r % 10000) / 1e5;
        tok[i] = cost[i];
        tok[i].value_type = PD_NUM_INT;
        tok[i].value.i = (int64_t)(r % 5000);
    }
    m[0] = (pd_metric){.name = gb_str_c("genops.cost"), .unit = gb_str_c("USD"),
                       .type = PD_METRIC_SUM, .temporality = PD_TEMPORALITY_CUMULATIVE,
                       .is_monotonic = true, .n_dp = half};
    m[0].dp.number = cost;
    m[1] = (pd_metric){.name = gb_str_c("genops.tokens"), .unit = gb_str_c("{token}"),
                       .type = PD_METRIC_SUM, .temporality = PD_TEMPORALITY_CUMULATIVE,
                       .is_monotonic = true, .n_dp = half};
    m[1].dp.number = tok;
    sm->scope.name = gb_str_c("genops.loadgen");
    sm->metrics = m;
    sm->n_metrics = 2;
    rm->scope_metrics = sm;
    rm->n_scope_metrics = 1;
    b->u.metrics.v = rm;
    b->u.metrics.n = 1;
    return GB_OK;
}

static gb_status build_logs(pd_batch *b, unsigned items, uint64_t *rng)
{
    gb_arena *a = &b->arena;
    pd_resource_logs *rl = gb_arena_calloc(a, 1, sizeof *rl);
    pd_scope_logs *sl = gb_arena_calloc(a, 1, sizeof *sl);
    pd_log *logs = gb_arena_calloc(a, items ? items : 1, sizeof *logs);
    if (!rl || !sl || !logs) return GB_ERR_NOMEM;
    gb_status st = fill_resource(a, &rl->resource, (unsigned)(*rng % 4));
    if (st) return st;
    uint64_t now = (uint64_t)gb_now_ns();
    for (unsigned i = 0; i < items; i++) {
        pd_log *l = &logs[i];
        l->time_unix_nano = now + i;
        l->observed_time_unix_nano = now + i;
        l->severity_number = 9;
        l->severity_text = gb_str_c("INFO");
        l->body = pd_any_str(gb_str_c("gen_ai.client.inference.operation.details"));
        l->event_name = gb_str_c("gen_ai.client.inference.operation.details");
        st = fill_span_attrs(a, &l->attrs, rng);
        if (st) return st;
    }
    sl->logs = logs;
    sl->n_logs = items;
    rl->scope_logs = sl;
    rl->n_scope_logs = 1;
    b->u.logs.v = rl;
    b->u.logs.n = 1;
    return GB_OK;
}

static gb_status build_payload(const opts *o, uint64_t *rng, gb_sbuf *out)
{
    pd_batch *b = NULL;
    gb_status st = pd_batch_new(o->signal, 1 << 20, &b);
    if (st) return st;
    if (o->signal == PD_TRACES) st = build_traces(b, o->items, rng);
    else if (o->signal == PD_METRICS) st = build_metrics(b, o->items, rng);
    else st = build_logs(b, o->items, rng);
    if (st == GB_OK) {
        gb_sbuf_init(out, 0);
        st = strcmp(o->protocol, "http/json") == 0 ? otlp_encode_json(b, out)
                                                   : otlp_encode_proto(b, out);
    }
    pd_batch_unref(b);
    return st;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

static void record_latency(worker *w, double ms)
{
    if (w->n_lat == w->cap_lat) {
        size_t cap = w->cap_lat ? w->cap_lat * 2 : 4096;
        if (cap > MAX_LAT_SAMPLES) return;
        double *p = realloc(w->lat_ms, cap * sizeof(double));
        if (!p) return;
        w->lat_ms = p;
        w->cap_lat = cap;
    }
    w->lat_ms[w->n_lat++] = ms;
}

static const char *signal_path(pd_signal s)
{
    static const char *p[] = {"/v1/traces", "/v1/metrics", "/v1/logs"};
    return p[s];
}

static const char *grpc_method(pd_signal s)
{
    static const char *p[] = {"/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                              "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
                              "/opentelemetry.proto.collector.logs.v1.LogsService/Export"};
    return p[s];
}

static void pace(const opts *o, int64_t start, uint64_t sent)
{
    if (o->rate <= 0) return;
    double per_worker = o->rate / o->workers;
    int64_t due = start + (int64_t)((double)sent / per_worker * 1e9);
    int64_t now = gb_mono_ns();
    if (due > now) {
        struct timespec ts = {(time_t)((due - now) / GB_NS_PER_S), (long)((due - now) % GB_NS_PER_S)};
        nanosleep(&ts, NULL);
    }
}

static void *run_http(void *arg)
{
    worker *w = arg;
    const opts *o = w->o;
    CURL *c = curl_easy_init();
    struct curl_slist *hdr = NULL;
    char url[512];
    snprintf(url, sizeof url, "%s%s%s", strncmp(o->endpoint, "http", 4) ? "http://" : "",
             o->endpoint, signal_path(o->signal));
    hdr = curl_slist_append(hdr, strcmp(o->protocol, "http/json") == 0
                                     ? "Content-Type: application/json"
                                     : "Content-Type: application/x-protobuf");
    hdr = curl_slist_append(hdr, "Expect:");
    for (unsigned i = 0; i < o->n_headers; i++) hdr = curl_slist_append(hdr, o->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    int64_t start = gb_mono_ns(), end = start + (int64_t)(o->duration * 1e9);
    uint64_t sent = 0;
    while (gb_mono_ns() < end) {
        pace(o, start, sent);
        gb_sbuf *p = &w->payload[sent % VARIANTS];
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, p->data);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
        int64_t t0 = gb_mono_ns();
        CURLcode rc = curl_easy_perform(c);
        record_latency(w, (double)(gb_mono_ns() - t0) / 1e6);
        sent++;
        long code = 0;
        if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (rc == CURLE_OK && code >= 200 && code < 300) {
            w->ok++;
            w->items_ok += o->items;
            w->status_counts[1]++;
        } else {
            w->failed++;
            if (rc != CURLE_OK) {
                w->status_counts[0]++;
                snprintf(w->last_error, sizeof w->last_error, "%s", curl_easy_strerror(rc));
            } else {
                if (code >= 300 && code < 600) w->status_counts[code / 100 - 1]++;
                snprintf(w->last_error, sizeof w->last_error, "HTTP %ld", code);
            }
        }
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return NULL;
}

static void *run_grpc(void *arg)
{
    worker *w = arg;
    const opts *o = w->o;
    net_grpc_client *cl = NULL;
    net_grpc_endpoint ep;
    char err[256];
    if (net_grpc_parse_endpoint(o->endpoint, &ep, err, sizeof err) != GB_OK) {
        snprintf(w->last_error, sizeof w->last_error, "%s", err);
        w->failed++;
        return NULL;
    }
    net_grpc_client_opts co = {.port = ep.port, .max_response_bytes = 1 << 20};
    co.host = ep.host;
    if (net_grpc_client_new(&co, &cl, err, sizeof err) != GB_OK) {
        snprintf(w->last_error, sizeof w->last_error, "%s", err);
        w->failed++;
        return NULL;
    }
    net_grpc_header hdrs[16];
    char names[16][128];
    size_t n_hdrs = 0;
    for (unsigned i = 0; i < o->n_headers && n_hdrs < 16; i++) {
        const char *colon = strchr(o->headers[i], ':');
        if (!colon) continue;
        size_t n = (size_t)(colon - o->headers[i]);
        if (n >= sizeof names[0]) continue;
        for (size_t k = 0; k < n; k++)
            names[n_hdrs][k] = (char)((o->headers[i][k] >= 'A' && o->headers[i][k] <= 'Z')
                                          ? o->headers[i][k] + 32
                                          : o->headers[i][k]);
        names[n_hdrs][n] = '\0';
        const char *v = colon + 1;
        while (*v == ' ') v++;
        hdrs[n_hdrs].name = names[n_hdrs];
        hdrs[n_hdrs].value = v;
        n_hdrs++;
    }
    int64_t start = gb_mono_ns(), end = start + (int64_t)(o->duration * 1e9);
    uint64_t sent = 0;
    while (gb_mono_ns() < end) {
        pace(o, start, sent);
        gb_sbuf *p = &w->payload[sent % VARIANTS];
        net_grpc_result res;
        int64_t t0 = gb_mono_ns();
        gb_status st = net_grpc_client_call(cl, grpc_method(o->signal), (const uint8_t *)p->data, p->len,
                                     hdrs, n_hdrs, t0 + 30 * GB_NS_PER_S, &res);
        record_latency(w, (double)(gb_mono_ns() - t0) / 1e6);
        sent++;
        if (st == GB_OK && res.status == 0) {
            w->ok++;
            w->items_ok += o->items;
            w->status_counts[1]++;
        } else {
            w->failed++;
            w->status_counts[res.transport_error ? 0 : 4]++;
            snprintf(w->last_error, sizeof w->last_error, "grpc-status %d: %.200s", res.status,
                     res.message);
        }
    }
    net_grpc_client_free(cl);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void usage(void)
{
    fputs("Usage: genops-loadgen [options]\n"
          "  --signal traces|metrics|logs           (default traces)\n"
          "  --protocol http/protobuf|http/json|grpc (default http/protobuf)\n"
          "  --endpoint HOST:PORT                   (default 127.0.0.1:4318, grpc 127.0.0.1:4317)\n"
          "  --workers N                            concurrent connections (default 1)\n"
          "  --items N                              spans/points/records per request (default 100)\n"
          "  --duration S                           seconds (default 10)\n"
          "  --rate R                               requests per second, all workers (0 = flat out)\n"
          "  --header 'Name: value'                 extra request header (repeatable)\n"
          "  --seed N                               payload seed (default 1)\n",
          stderr);
}

int main(int argc, char **argv)
{
    opts o = {.signal = PD_TRACES, .protocol = "http/protobuf", .workers = 1, .items = 100,
              .duration = 10, .seed = 1};
    static const struct option lo[] = {
        {"signal", 1, 0, 's'}, {"protocol", 1, 0, 'p'}, {"endpoint", 1, 0, 'e'},
        {"workers", 1, 0, 'w'}, {"items", 1, 0, 'n'},    {"duration", 1, 0, 'd'},
        {"rate", 1, 0, 'r'},   {"header", 1, 0, 'H'},   {"seed", 1, 0, 'S'},
        {"help", 0, 0, 'h'},   {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "s:p:e:w:n:d:r:H:S:h", lo, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (strcmp(optarg, "traces") == 0) o.signal = PD_TRACES;
            else if (strcmp(optarg, "metrics") == 0) o.signal = PD_METRICS;
            else if (strcmp(optarg, "logs") == 0) o.signal = PD_LOGS;
            else {
                fprintf(stderr, "genops-loadgen: unknown signal \"%s\"\n", optarg);
                return 2;
            }
            break;
        case 'p': o.protocol = optarg; break;
        case 'e': o.endpoint = optarg; break;
        case 'w': o.workers = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'n': o.items = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'd': o.duration = strtod(optarg, NULL); break;
        case 'r': o.rate = strtod(optarg, NULL); break;
        case 'H':
            if (o.n_headers < 16) o.headers[o.n_headers++] = optarg;
            break;
        case 'S': o.seed = (unsigned)strtoul(optarg, NULL, 10); break;
        default: usage(); return ch == 'h' ? 0 : 2;
        }
    }
    bool grpc = strcmp(o.protocol, "grpc") == 0;
    if (!grpc && strcmp(o.protocol, "http/protobuf") && strcmp(o.protocol, "http/json")) {
        fprintf(stderr, "genops-loadgen: unknown protocol \"%s\"\n", o.protocol);
        return 2;
    }
    if (!o.endpoint) o.endpoint = grpc ? "127.0.0.1:4317" : "127.0.0.1:4318";
    if (o.workers == 0 || o.workers > 256 || o.items == 0 || o.items > 1000000 || o.duration <= 0) {
        fprintf(stderr, "genops-loadgen: workers must be 1..256, items 1..1000000, duration > 0\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    worker *ws = calloc(o.workers, sizeof *ws);
    if (!ws) return 1;
    for (unsigned i = 0; i < o.workers; i++) {
        ws[i].o = &o;
        ws[i].index = i;
        uint64_t rng = 0x9E3779B97F4A7C15ULL * (o.seed + i + 1);
        for (int v = 0; v < VARIANTS; v++) {
            if (build_payload(&o, &rng, &ws[i].payload[v]) != GB_OK) {
                fprintf(stderr, "genops-loadgen: cannot build payload\n");
                return 1;
            }
        }
    }
    fprintf(stderr, "genops-loadgen: %s %s to %s, %u workers, %u %s/request, %zu bytes/request, %.0fs%s\n",
            pd_signal_name(o.signal), o.protocol, o.endpoint, o.workers, o.items,
            pd_signal_item(o.signal), ws[0].payload[0].len, o.duration,
            o.rate > 0 ? "" : ", flat out");
    int64_t t0 = gb_mono_ns();
    for (unsigned i = 0; i < o.workers; i++)
        pthread_create(&ws[i].thread, NULL, grpc ? run_grpc : run_http, &ws[i]);
    for (unsigned i = 0; i < o.workers; i++) pthread_join(ws[i].thread, NULL);
    double secs = (double)(gb_mono_ns() - t0) / 1e9;
    uint64_t ok = 0, failed = 0, items = 0, st[6] = {0};
    size_t n_lat = 0;
    const char *last_error = "";
    for (unsigned i = 0; i < o.workers; i++) {
        ok += ws[i].ok;
        failed += ws[i].failed;
        items += ws[i].items_ok;
        n_lat += ws[i].n_lat;
        for (int k = 0; k < 6; k++) st[k] += ws[i].status_counts[k];
        if (ws[i].last_error[0]) last_error = ws[i].last_error;
    }
    double *lat = malloc((n_lat ? n_lat : 1) * sizeof(double));
    size_t k = 0;
    for (unsigned i = 0; i < o.workers && lat; i++) {
        memcpy(lat + k, ws[i].lat_ms, ws[i].n_lat * sizeof(double));
        k += ws[i].n_lat;
    }
    if (lat) qsort(lat, n_lat, sizeof(double), cmp_double);
#define PCT(p) (n_lat && lat ? lat[(size_t)((double)(n_lat - 1) * (p))] : 0.0)
    printf("requests        : %llu ok, %llu failed in %.2fs\n", (unsigned long long)ok,
           (unsigned long long)failed, secs);
    printf("requests/s      : %.1f\n", (double)ok / secs);
    printf("%-16s: %.0f\n", pd_signal_item(o.signal), (double)items / secs);
    printf("latency ms      : p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", PCT(0.5), PCT(0.9),
           PCT(0.99), PCT(1.0));
    printf("errors          : transport %llu, 3xx %llu, 4xx %llu, 5xx %llu%s%s\n",
           (unsigned long long)st[0], (unsigned long long)st[2], (unsigned long long)st[3],
           (unsigned long long)st[4], *last_error ? "; last: " : "", last_error);
    free(lat);
    for (unsigned i = 0; i < o.workers; i++) {
        for (int v = 0; v < VARIANTS; v++) gb_sbuf_free(&ws[i].payload[v]);
        free(ws[i].lat_ms);
    }
    free(ws);
    curl_global_cleanup();
    return failed && !ok ? 1 : 0;
}
