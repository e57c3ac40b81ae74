/* gRPC server (unary calls) over HTTP/2 (nghttp2) on the worker pool: h2c with prior knowledge,
 * or TLS with ALPN "h2".
 *
 * The handler runs on the connection's worker once per call, after the single request message
 * has been received, checked against max_recv_msg_size and decompressed (grpc-encoding gzip or
 * identity; any other encoding is answered UNIMPLEMENTED without calling the handler). It fills
 * `reply` before returning: status (OTLP_GRPC_* codes, 0 = OK), an optional message (sent
 * percent-encoded in grpc-message), and on OK the serialized response message (sent with a
 * 5-byte prefix, uncompressed). Unknown methods are the handler's business (answer
 * UNIMPLEMENTED).
 *
 * Answered by the server itself:
 *   - message larger than max_recv_msg_size (before or after decompression): RESOURCE_EXHAUSTED
 *   - content-type not application/grpc[+proto]: HTTP 415
 *   - zero or several messages on a unary call, truncated message, bad compression: INTERNAL
 *   - unknown grpc-encoding: UNIMPLEMENTED
 *
 * Keepalive follows grpc-go's server parameters and enforcement policy. Memory per connection is
 * bounded by max_concurrent_streams x max_recv_msg_size and by a per-connection cap on buffered
 * request bytes; a connection that sends nothing useful within 10 s of accept is closed. */
#ifndef NET_GRPC_SERVER_H
#define NET_GRPC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/sbuf.h"
#include "../base/str.h"
#include "../config/config.h"
#include "http_server.h"
#include "net.h"

typedef struct net_grpc_call {
    gb_str method;                  /* ":path", e.g. "/pkg.Service/Method" */
    const net_http_header *headers; /* request metadata, lower-case names, no pseudo-headers */
    uint32_t n_headers;
    gb_buf *buf;        /* holds the message bytes (gb_buf_ref to keep them) */
    const uint8_t *msg; /* the decompressed request message, inside buf */
    size_t msg_len;
    const char *peer;
    unsigned worker;
    bool tls;
} net_grpc_call;

typedef struct net_grpc_reply {
    int status;      /* gRPC status code; 0 = OK */
    gb_sbuf message; /* grpc-message (plain text; encoded by the server) */
    gb_sbuf body;    /* response message on OK */
} net_grpc_reply;

typedef void (*net_grpc_handler)(const net_grpc_call *call, net_grpc_reply *reply, void *arg);

/* otelcol's configgrpc keepalive settings (durations in ns; 0 = grpc-go default/infinity). */
typedef struct net_grpc_ka_server_params {
    int64_t max_connection_idle;      /* 0 = infinity */
    int64_t max_connection_age;       /* 0 = infinity */
    int64_t max_connection_age_grace; /* 0 = infinity */
    int64_t time;                     /* 0 = 2h */
    int64_t timeout;                  /* 0 = 20s */
} net_grpc_ka_server_params;

typedef struct net_grpc_ka_enforcement {
    int64_t min_time;           /* 0 = 5m */
    bool permit_without_stream; /* default false */
} net_grpc_ka_enforcement;

typedef struct net_grpc_keepalive_cfg {
    bool server_parameters_set;
    net_grpc_ka_server_params server_parameters;
    bool enforcement_policy_set;
    net_grpc_ka_enforcement enforcement_policy;
} net_grpc_keepalive_cfg;

/* Table for a `keepalive:` section (server_parameters, enforcement_policy). */
extern const cfg_table net_grpc_keepalive_table;

typedef struct net_grpc_server_cfg {
    const char *endpoint;
    SSL_CTX *tls;                            /* NULL = h2c; the server takes its own reference */
    size_t max_recv_msg_size;                /* 0 = 4 MiB */
    uint32_t max_concurrent_streams;         /* 0 = 100 */
    size_t write_buffer_size;                /* output high-water mark per connection; 0 = 1 MiB */
    const net_grpc_keepalive_cfg *keepalive; /* may be NULL */
} net_grpc_server_cfg;

typedef struct net_grpc_server net_grpc_server;

gb_status net_grpc_server_new(net_pool *pool, const net_grpc_server_cfg *cfg,
                              net_grpc_handler handler, void *arg, net_grpc_server **out, char *err,
                              size_t err_size);
uint16_t net_grpc_server_port(const net_grpc_server *s);
/* Graceful stop: stops accepting, sends GOAWAY on every connection, lets connections finish
 * their calls until deadline_ns (gb_mono_ns time; 0 = immediately), then closes what is left and
 * frees. The handler is not running and will not run after return. NULL is a no-op. */
void net_grpc_server_free(net_grpc_server *s, int64_t deadline_ns);

/* gRPC length-prefixed framing (exposed for tests and the client). Parses one message prefix:
 * *compressed and *len from 5 bytes. */
void net_grpc_frame_header(const uint8_t p[5], bool *compressed, uint32_t *len);
void net_grpc_frame_write(uint8_t p[5], bool compressed, uint32_t len);
/* Percent-encodes a grpc-message value (bytes outside 0x20..0x7E and '%'). */
void net_grpc_percent_encode(const char *in, size_t len, gb_sbuf *out);
/* Decodes a grpc-message value (invalid escapes are kept as is). */
void net_grpc_percent_decode(const char *in, size_t len, gb_sbuf *out);

#endif
