/* OTLP receiver internals shared by its .c files and its tests. */
#ifndef RECEIVER_OTLP_RECEIVER_H
#define RECEIVER_OTLP_RECEIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "net/grpc_server.h"
#include "net/http_server.h"
#include "net/tls.h"
#include "pipeline/component.h"

typedef struct otlprecv_auth_cfg {
    char *authenticator;
} otlprecv_auth_cfg;

typedef struct otlprecv_cors_cfg {
    cfg_strings allowed_origins;
    cfg_strings allowed_headers;
    int64_t max_age; /* seconds */
} otlprecv_cors_cfg;

typedef struct otlprecv_grpc_cfg {
    char *endpoint;
    char *transport;
    int64_t max_recv_msg_size_mib;
    int64_t max_concurrent_streams;
    int64_t read_buffer_size;
    int64_t write_buffer_size;
    bool keepalive_set;
    net_grpc_keepalive_cfg keepalive;
    bool tls_set;
    net_tls_server_cfg tls;
    bool include_metadata;
    bool auth_set;
    otlprecv_auth_cfg auth;
} otlprecv_grpc_cfg;

typedef struct otlprecv_http_cfg {
    char *endpoint;
    char *traces_url_path;
    char *metrics_url_path;
    char *logs_url_path;
    bool cors_set;
    otlprecv_cors_cfg cors;
    int64_t max_request_body_size;
    bool include_metadata;
    bool tls_set;
    net_tls_server_cfg tls;
    bool auth_set;
    otlprecv_auth_cfg auth;
    bool compression_algorithms_set;
    cfg_strings compression_algorithms;
    int64_t read_timeout;        /* ns; 0 = 60 s for the body */
    int64_t read_header_timeout; /* ns; 0 = 30 s */
    int64_t write_timeout;       /* ns; 0 = 30 s */
    int64_t idle_timeout;        /* ns; 0 = 90 s */
} otlprecv_http_cfg;

typedef struct otlprecv_protocols {
    bool grpc_set;
    otlprecv_grpc_cfg grpc;
    bool http_set;
    otlprecv_http_cfg http;
} otlprecv_protocols;

typedef struct otlprecv_cfg {
    bool protocols_set;
    otlprecv_protocols protocols;
} otlprecv_cfg;

extern const cfg_table otlprecv_cfg_table;
extern const cfg_table otlprecv_grpc_table;
extern const cfg_table otlprecv_http_table;

/* Fills a config with every default (what binding an empty `grpc:` / `http:` section gives);
 * used by tests and harnesses that do not go through the YAML binder. */
void otlprecv_grpc_defaults(otlprecv_grpc_cfg *g);
void otlprecv_http_defaults(otlprecv_http_cfg *h);

/* CORS origin matching as rs/cors (otelcol's confighttp) does it: case-insensitive, "*" alone
 * matches everything, one '*' inside a pattern matches any (possibly empty) run of characters. */
bool otlprecv_cors_origin_allowed(const cfg_strings *allowed, gb_str origin);

/* Ports actually bound by a started receiver (0 when that protocol is not running). */
uint16_t otlprecv_http_port(const pl_component *c);
uint16_t otlprecv_grpc_port(const pl_component *c);

extern const pl_descriptor receiver_otlp_descriptor;

#endif
