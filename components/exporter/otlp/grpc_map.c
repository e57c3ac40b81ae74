/* Config -> gRPC client options and call result -> exporter answer for the otlp exporter.
 *
 * Endpoint and TLS follow otelcol's configgrpc: "http://" forces plain text and "https://"
 * forces TLS whatever tls.insecure says; without a scheme, TLS is on unless tls.insecure.
 * Results follow otelcol's otlp exporter: the retryable codes are CANCELLED, DEADLINE_EXCEEDED,
 * ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS; RESOURCE_EXHAUSTED is retried only when the
 * server sent a RetryInfo (whose delay is honoured); everything else is permanent. */
#include "exporter/otlp/otlpexp.h"

#include <stdio.h>
#include <string.h>

#include "otlp/otlp.h"

gb_status otlpexp_client_opts(const otlpexp_cfg *cfg, net_grpc_endpoint *ep,
                              net_grpc_client_opts *o, char *err, size_t err_size)
{
    gb_status st = net_grpc_parse_endpoint(cfg->endpoint, ep, err, err_size);
    if (st != GB_OK) return st;
    memset(o, 0, sizeof(*o));
    o->host = ep->host;
    o->port = ep->port;
    bool tls = ep->tls_scheme == 1 || (ep->tls_scheme == -1 && !cfg->tls.insecure);
    o->tls.enabled = tls;
    o->tls.insecure_skip_verify = cfg->tls.insecure_skip_verify;
    o->tls.ca_file = cfg->tls.ca_file;
    o->tls.cert_file = cfg->tls.cert_file;
    o->tls.key_file = cfg->tls.key_file;
    o->tls.server_name_override = cfg->tls.server_name_override;
    o->tls.min_version = cfg->tls.min_version;
    o->tls.max_version = cfg->tls.max_version;
    o->tls.ca_pem = cfg->tls.ca_pem;
    o->tls.cert_pem = cfg->tls.cert_pem;
    o->tls.key_pem = cfg->tls.key_pem;
    o->tls.include_system_ca_certs_pool = cfg->tls.include_system_ca_certs_pool;
    /* :authority as grpc-go: the authority key, else the TLS server name override */
    if (cfg->authority && *cfg->authority)
        o->authority = cfg->authority;
    else if (tls && cfg->tls.server_name_override && *cfg->tls.server_name_override)
        o->authority = cfg->tls.server_name_override;
    switch (cfg->compression) {
    case OTLPEXP_COMPRESSION_GZIP:
        o->compression = NET_GRPC_COMP_GZIP;
        break;
    case OTLPEXP_COMPRESSION_ZSTD:
        o->compression = NET_GRPC_COMP_ZSTD;
        break;
    case OTLPEXP_COMPRESSION_SNAPPY:
        o->compression = NET_GRPC_COMP_SNAPPY;
        break;
    default:
        o->compression = NET_GRPC_COMP_NONE;
    }
    o->compression_level =
        cfg->compression_params.level > 0 ? (int)cfg->compression_params.level : 0;
    /* grpc-go raises keepalive times under 10s to 10s (servers punish faster pings) */
    o->keepalive_time = cfg->keepalive.time;
    if (o->keepalive_time > 0 && o->keepalive_time < OTLPEXP_MIN_KEEPALIVE)
        o->keepalive_time = OTLPEXP_MIN_KEEPALIVE;
    o->keepalive_timeout = cfg->keepalive.timeout;
    o->keepalive_permit_without_stream = cfg->keepalive.permit_without_stream;
    return GB_OK;
}

const char *otlpexp_export_path(pd_signal s)
{
    switch (s) {
    case PD_TRACES:
        return "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    case PD_METRICS:
        return "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    default:
        return "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    }
}

const char *otlpexp_code_name(int32_t code)
{
    static const char *names[] = {"OK",
                                  "CANCELLED",
                                  "UNKNOWN",
                                  "INVALID_ARGUMENT",
                                  "DEADLINE_EXCEEDED",
                                  "NOT_FOUND",
                                  "ALREADY_EXISTS",
                                  "PERMISSION_DENIED",
                                  "RESOURCE_EXHAUSTED",
                                  "FAILED_PRECONDITION",
                                  "ABORTED",
                                  "OUT_OF_RANGE",
                                  "UNIMPLEMENTED",
                                  "INTERNAL",
                                  "UNAVAILABLE",
                                  "DATA_LOSS",
                                  "UNAUTHENTICATED"};
    return code >= 0 && code <= 16 ? names[code] : "UNKNOWN";
}

gb_status otlpexp_map_result(const net_grpc_result *r, pl_export_result *res)
{
    res->retry_after_ns = 0;
    res->message[0] = '\0';
    if (r->status == OTLP_GRPC_OK) return GB_OK;
    snprintf(res->message, sizeof(res->message), "grpc-status %d %s: %.200s", r->status,
             otlpexp_code_name(r->status), r->message);
    bool retry;
    switch (r->status) {
    case OTLP_GRPC_CANCELLED:
    case OTLP_GRPC_DEADLINE_EXCEEDED:
    case OTLP_GRPC_ABORTED:
    case OTLP_GRPC_OUT_OF_RANGE:
    case OTLP_GRPC_UNAVAILABLE:
    case OTLP_GRPC_DATA_LOSS:
        retry = true;
        break;
    case OTLP_GRPC_RESOURCE_EXHAUSTED:
        retry = r->has_retry_info;
        break;
    default:
        retry = false;
    }
    if (!retry) return GB_ERR_PERMANENT;
    if (r->has_retry_info) res->retry_after_ns = r->retry_delay_ns;
    return GB_ERR_RETRY;
}
