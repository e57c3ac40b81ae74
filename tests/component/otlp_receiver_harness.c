/* Component harness for the otlp receiver: starts one receiver on loopback with ephemeral ports
 * and a counting test consumer per signal, prints "READY http=<port> grpc=<port>", then obeys
 * commands on stdin, one per line:
 *   ok | retry | permanent | nomem   what the consumer answers from now on
 *   stats                            "STATS traces=N metrics=N logs=N batches=N meta=N transport=X"
 *   telemetry                        self-metrics (Prometheus text) then "END"
 *   quit                             graceful shutdown, exit 0
 * EOF on stdin also shuts down. Options (all optional):
 *   --http --grpc                    protocols to start (default: both)
 *   --http-endpoint E --grpc-endpoint E (default 127.0.0.1:0)
 *   --workers N  --signals traces,metrics,logs
 *   --tls-cert F --tls-key F --client-ca F --client-auth-type T --tls-min V
 *   --max-body BYTES --max-msg-mib N --include-metadata --compression ALG (repeatable)
 *   --cors-origin O (repeatable) --cors-header H (repeatable) --cors-max-age S
 *   --ka-idle S --ka-age S --ka-grace S --ka-time S --ka-timeout S --ka-min-time S
 *   --ka-permit-without-stream --id NAME
 *   --read-header-timeout S --read-timeout S --idle-timeout S */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/telemetry.h"
#include "base/timeutil.h"
#include "net/net.h"
#include "receiver/otlp/otlp_receiver.h"

typedef struct test_consumer {
    pl_consumer base;
    pd_signal sig;
} test_consumer;

static atomic_int g_mode; /* 0 ok, 1 retry, 2 permanent, 3 nomem */
static atomic_ullong g_items[PD_SIGNAL_COUNT];
static atomic_ullong g_batches;
static atomic_uint g_last_meta;
static _Atomic(const char *) g_last_transport;

static gb_status consume(pl_consumer *self, pd_batch *b)
{
    test_consumer *tc = (test_consumer *)self;
    int mode = atomic_load(&g_mode);
    gb_status st = GB_OK;
    if (b->signal != tc->sig)
        st = GB_ERR_PERMANENT;
    else if (mode == 1)
        st = GB_ERR_RETRY;
    else if (mode == 2)
        st = GB_ERR_PERMANENT;
    else if (mode == 3)
        st = GB_ERR_NOMEM;
    if (st == GB_OK) {
        atomic_fetch_add(&g_items[tc->sig], pd_batch_count(b));
        atomic_fetch_add(&g_batches, 1);
        atomic_store(&g_last_meta, b->meta.n);
        atomic_store(&g_last_transport, b->transport);
    }
    pd_batch_unref(b);
    return st;
}

static char *arr_push(cfg_strings *s, char *v)
{
    s->v = realloc(s->v, (s->n + 1) * sizeof(char *));
    if (!s->v) abort();
    s->v[s->n++] = v;
    return v;
}

static int64_t secs(const char *s)
{
    return (int64_t)(atof(s) * 1e9);
}

int main(int argc, char **argv)
{
    static otlprecv_cfg cfg;
    bool want_http = false, want_grpc = false;
    unsigned workers = 2;
    const char *signals = "traces,metrics,logs";
    const char *id = "otlp";
    net_tls_server_cfg tls = {.min_version = (char *)"1.2"};
    bool tls_on = false;
    net_grpc_keepalive_cfg ka;

    otlprecv_grpc_defaults(&cfg.protocols.grpc);
    otlprecv_http_defaults(&cfg.protocols.http);
    cfg.protocols.grpc.endpoint = (char *)"127.0.0.1:0";
    cfg.protocols.http.endpoint = (char *)"127.0.0.1:0";
    ka = cfg.protocols.grpc.keepalive;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
        if (strcmp(a, "--http") == 0)
            want_http = true;
        else if (strcmp(a, "--grpc") == 0)
            want_grpc = true;
        else if (strcmp(a, "--include-metadata") == 0)
            cfg.protocols.http.include_metadata = cfg.protocols.grpc.include_metadata = true;
        else if (strcmp(a, "--ka-permit-without-stream") == 0) {
            ka.enforcement_policy.permit_without_stream = true;
            ka.enforcement_policy_set = true;
        } else if (ARG("--http-endpoint"))
            cfg.protocols.http.endpoint = (char *)v;
        else if (ARG("--grpc-endpoint"))
            cfg.protocols.grpc.endpoint = (char *)v;
        else if (ARG("--workers"))
            workers = (unsigned)atoi(v);
        else if (ARG("--signals"))
            signals = v;
        else if (ARG("--id"))
            id = v;
        else if (ARG("--tls-cert"))
            tls.cert_file = (char *)v, tls_on = true;
        else if (ARG("--tls-key"))
            tls.key_file = (char *)v;
        else if (ARG("--client-ca"))
            tls.client_ca_file = (char *)v;
        else if (ARG("--client-auth-type"))
            tls.client_auth_type = (char *)v;
        else if (ARG("--tls-min"))
            tls.min_version = (char *)v;
        else if (ARG("--max-body"))
            cfg.protocols.http.max_request_body_size = atoll(v);
        else if (ARG("--max-msg-mib"))
            cfg.protocols.grpc.max_recv_msg_size_mib = atoll(v);
        else if (ARG("--compression")) {
            cfg.protocols.http.compression_algorithms_set = true;
            arr_push(&cfg.protocols.http.compression_algorithms, (char *)v);
        } else if (ARG("--cors-origin")) {
            cfg.protocols.http.cors_set = true;
            arr_push(&cfg.protocols.http.cors.allowed_origins, (char *)v);
        } else if (ARG("--cors-header")) {
            cfg.protocols.http.cors_set = true;
            arr_push(&cfg.protocols.http.cors.allowed_headers, (char *)v);
        } else if (ARG("--cors-max-age"))
            cfg.protocols.http.cors.max_age = atoll(v);
        else if (ARG("--ka-idle"))
            ka.server_parameters.max_connection_idle = secs(v), ka.server_parameters_set = true;
        else if (ARG("--ka-age"))
            ka.server_parameters.max_connection_age = secs(v), ka.server_parameters_set = true;
        else if (ARG("--ka-grace"))
            ka.server_parameters.max_connection_age_grace = secs(v),
            ka.server_parameters_set = true;
        else if (ARG("--ka-time"))
            ka.server_parameters.time = secs(v), ka.server_parameters_set = true;
        else if (ARG("--ka-timeout"))
            ka.server_parameters.timeout = secs(v), ka.server_parameters_set = true;
        else if (ARG("--read-header-timeout"))
            cfg.protocols.http.read_header_timeout = secs(v);
        else if (ARG("--read-timeout"))
            cfg.protocols.http.read_timeout = secs(v);
        else if (ARG("--idle-timeout"))
            cfg.protocols.http.idle_timeout = secs(v);
        else if (ARG("--ka-min-time"))
            ka.enforcement_policy.min_time = secs(v), ka.enforcement_policy_set = true;
        else {
            fprintf(stderr, "unknown or incomplete option %s\n", a);
            return 2;
        }
#undef ARG
    }
    if (!want_http && !want_grpc) want_http = want_grpc = true;
    cfg.protocols_set = true;
    cfg.protocols.http_set = want_http;
    cfg.protocols.grpc_set = want_grpc;
    cfg.protocols.grpc.keepalive = ka;
    cfg.protocols.grpc.keepalive_set = ka.server_parameters_set || ka.enforcement_policy_set;
    if (tls_on) {
        cfg.protocols.http.tls = cfg.protocols.grpc.tls = tls;
        cfg.protocols.http.tls_set = cfg.protocols.grpc.tls_set = true;
    }

    net_pool *pool = NULL;
    if (net_pool_new(workers, &pool) != GB_OK || net_pool_start(pool) != GB_OK) {
        fprintf(stderr, "cannot start the worker pool\n");
        return 1;
    }
    static test_consumer tcs[PD_SIGNAL_COUNT];
    pl_component comp;
    memset(&comp, 0, sizeof(comp));
    comp.desc = &receiver_otlp_descriptor;
    snprintf(comp.id, sizeof(comp.id), "%s", id);
    snprintf(comp.full_id, sizeof(comp.full_id), "receiver/%s", id);
    comp.cfg = &cfg;
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        tcs[s].base.consume = consume;
        tcs[s].sig = (pd_signal)s;
        if (strstr(signals, pd_signal_name((pd_signal)s))) comp.next[s] = &tcs[s].base;
    }
    pl_host host = {.workers = workers, .pool = pool, .start_time_ns = gb_now_ns()};
    comp.host = &host;
    if (comp.desc->create(&comp) != GB_OK) return 1;
    if (comp.desc->start(&comp, &host) != GB_OK) {
        printf("ERROR start failed\n");
        fflush(stdout);
        comp.desc->destroy(&comp);
        net_pool_free(pool);
        return 1;
    }
    printf("READY http=%u grpc=%u\n", otlprecv_http_port(&comp), otlprecv_grpc_port(&comp));
    fflush(stdout);

    char line[256];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strcmp(line, "ok") == 0)
            atomic_store(&g_mode, 0);
        else if (strcmp(line, "retry") == 0)
            atomic_store(&g_mode, 1);
        else if (strcmp(line, "permanent") == 0)
            atomic_store(&g_mode, 2);
        else if (strcmp(line, "nomem") == 0)
            atomic_store(&g_mode, 3);
        else if (strcmp(line, "stats") == 0) {
            const char *t = atomic_load(&g_last_transport);
            printf("STATS traces=%llu metrics=%llu logs=%llu batches=%llu meta=%u transport=%s\n",
                   atomic_load(&g_items[0]), atomic_load(&g_items[1]), atomic_load(&g_items[2]),
                   atomic_load(&g_batches), atomic_load(&g_last_meta), t ? t : "-");
        } else if (strcmp(line, "telemetry") == 0) {
            gb_sbuf sb;
            gb_sbuf_init(&sb, 0);
            gb_tm_render(&sb);
            printf("%s\nEND\n", sb.data ? sb.data : "");
            gb_sbuf_free(&sb);
        } else if (strcmp(line, "quit") == 0) {
            break;
        } else {
            printf("ERROR unknown command\n");
        }
        fflush(stdout);
    }
    comp.desc->shutdown(&comp, gb_mono_ns() + 2 * GB_NS_PER_S);
    comp.desc->destroy(&comp);
    net_pool_free(pool);
    free(cfg.protocols.http.cors.allowed_origins.v);
    free(cfg.protocols.http.cors.allowed_headers.v);
    free(cfg.protocols.http.compression_algorithms.v);
    gb_tm_reset();
    printf("BYE\n");
    fflush(stdout);
    return 0;
}
