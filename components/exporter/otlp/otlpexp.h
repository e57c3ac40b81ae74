/* OTLP/gRPC exporter internals (components/exporter/otlp): the bound config, the mapping from
 * the config to gRPC client options (otelcol's configgrpc rules for endpoint schemes and TLS),
 * and the mapping from a call result to the exporter helper's answer (otelcol's otlp exporter
 * rules). Kept apart from the descriptor so tests and tools can use them alone. */
#ifndef OTLPEXP_GRPC_H
#define OTLPEXP_GRPC_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "net/grpc_client.h"
#include "pipeline/exporter_helper.h"

typedef struct otlpexp_tls_cfg {
    bool insecure;
    bool insecure_skip_verify;
    char *ca_file;
    char *cert_file;
    char *key_file;
    char *server_name_override;
    char *min_version;
    char *max_version;
    int64_t reload_interval; /* accepted, not used: files are read at start */
    bool include_system_ca_certs_pool;
    char *ca_pem;
    char *cert_pem;
    char *key_pem;
    cfg_strings cipher_suites;     /* accepted (OpenSSL's TLS 1.2 defaults are used) */
    cfg_strings curve_preferences; /* accepted */
} otlpexp_tls_cfg;

typedef struct otlpexp_keepalive_cfg {
    int64_t time;
    int64_t timeout;
    bool permit_without_stream;
} otlpexp_keepalive_cfg;

#define OTLPEXP_MIN_KEEPALIVE (10LL * 1000000000LL)

/* compression enum indexes */
enum {
    OTLPEXP_COMPRESSION_GZIP = 0,
    OTLPEXP_COMPRESSION_ZSTD,
    OTLPEXP_COMPRESSION_SNAPPY,
    OTLPEXP_COMPRESSION_NONE,
    OTLPEXP_COMPRESSION_EMPTY, /* "" = none */
};

typedef struct otlpexp_cfg {
    char *endpoint;
    otlpexp_tls_cfg tls;
    int compression;
    struct {
        int64_t level; /* 0 or -1 = default */
    } compression_params;
    cfg_strmap headers;
    int64_t timeout;
    otlpexp_keepalive_cfg keepalive;
    char *balancer_name;
    bool wait_for_ready;
    int64_t write_buffer_size;
    int64_t read_buffer_size;
    char *authority;
    pl_retry_cfg retry;
    pl_queue_cfg queue;
} otlpexp_cfg;

/* Fills client options from the config (strings point into cfg and ep). err gets the reason. */
gb_status otlpexp_client_opts(const otlpexp_cfg *cfg, net_grpc_endpoint *ep,
                              net_grpc_client_opts *o, char *err, size_t err_size);
/* Maps a finished call to GB_OK / GB_ERR_RETRY / GB_ERR_PERMANENT and fills res (message,
 * retry_after_ns). Partial success is handled by the caller. */
gb_status otlpexp_map_result(const net_grpc_result *r, pl_export_result *res);
/* "/opentelemetry.proto.collector.trace.v1.TraceService/Export" for the signal. */
const char *otlpexp_export_path(pd_signal s);
/* gRPC code name ("UNAVAILABLE"). */
const char *otlpexp_code_name(int32_t code);

#endif
