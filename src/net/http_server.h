/* Reusable HTTP/1.1 server on the worker pool (OTLP/HTTP receiver, health_check, zpages, the
 * self-metrics endpoint, the prometheus exporter).
 *
 * Usage:
 *   net_http_server_cfg cfg = {.endpoint = "localhost:4318", .max_body_size = 20 << 20};
 *   net_http_server *srv;
 *   char err[256];
 *   st = net_http_server_new(pool, &cfg, my_handler, my_arg, &srv, err, sizeof(err));
 *   ... net_http_server_port(srv) ...
 *   net_http_server_free(srv);   // closes listeners and every connection, on every worker
 *
 * The handler runs on the worker thread that owns the connection, once per request, after the
 * whole body has been read (Content-Length or chunked; "Expect: 100-continue" is answered). It
 * must fill `resp` before returning (synchronous reply); the server then writes the response and
 * keeps the connection alive unless the client asked to close (HTTP/1.0 without keep-alive, or
 * "Connection: close"). Handlers may run concurrently on different workers.
 *
 * Limits (all enforced while reading, never by buffering first):
 *   - request line + headers <= max_header_size (default 64 KiB)  -> 431 and close
 *   - body <= max_body_size (0 = unlimited): the handler is called with req->body_too_large set
 *     and an empty body so it can answer in its own format; the connection is then closed after a
 *     short lingering drain. Default reply when the handler leaves status 0: 413.
 *   - the head must arrive within header_timeout (default 30 s) of its first byte and the body
 *     within request_timeout (default 60 s) after the head (slowloris), else 408 and close; an
 *     idle keep-alive connection is closed after idle_timeout (default 90 s), a client that stops
 *     reading the response after write_timeout (default 30 s).
 * Malformed requests get 400 and the connection is closed. Only the methods' names are checked
 * for syntax: the handler decides which methods it accepts. */
#ifndef NET_HTTP_SERVER_H
#define NET_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/buf.h"
#include "../base/sbuf.h"
#include "../base/str.h"
#include "net.h"

typedef struct net_http_header {
    gb_str name;  /* as received (compare case-insensitively) */
    gb_str value; /* leading/trailing whitespace removed */
} net_http_header;

typedef struct net_http_request {
    gb_str method;     /* "POST" */
    gb_str target;     /* request target as sent: "/v1/traces?x=1" */
    gb_str path;       /* "/v1/traces" (not percent-decoded) */
    gb_str query;      /* "x=1" (without '?'), empty when none */
    int version_minor; /* 0 or 1 (HTTP/1.x) */
    const net_http_header *headers;
    uint32_t n_headers;
    gb_buf *body;        /* whole body (len may be 0); owned by the server: gb_buf_ref to keep it */
    bool body_too_large; /* body exceeded max_body_size; body is empty */
    const char *peer;    /* "127.0.0.1:51234" */
    unsigned worker;     /* index of the worker thread */
    bool tls;            /* arrived over TLS */
} net_http_request;

typedef struct net_http_response {
    int status;      /* 0 -> 500 (or 413 for body_too_large) */
    gb_sbuf headers; /* extra header lines, each "Name: value\r\n" (use net_http_resp_header) */
    gb_sbuf body;    /* response body; Content-Length is added by the server */
    bool close;      /* close the connection after this response */
} net_http_response;

/* Case-insensitive header lookup: first match, GB_STR_NULL (ptr NULL) when absent. */
gb_str net_http_header_get(const net_http_request *req, const char *name);
/* Appends one header line to resp (name and value must not contain CR/LF; such values are
 * dropped). */
void net_http_resp_header(net_http_response *resp, const char *name, const char *value);
/* Sets status, Content-Type and body (copied) at once. */
void net_http_resp_set(net_http_response *resp, int status, const char *content_type,
                       const void *body, size_t len);

typedef void (*net_http_handler)(const net_http_request *req, net_http_response *resp, void *arg);

typedef struct net_http_server_cfg {
    const char *endpoint;       /* "host:port" */
    SSL_CTX *tls;               /* NULL: plain HTTP; the server takes its own reference */
    size_t max_body_size;       /* 0 = unlimited */
    size_t max_header_size;     /* 0 = 64 KiB */
    int64_t header_timeout_ns;  /* request line + headers must arrive within this; 0 = 30 s */
    int64_t request_timeout_ns; /* the body must arrive within this after the head; 0 = 60 s */
    int64_t write_timeout_ns;   /* a stalled response write closes the connection; 0 = 30 s */
    int64_t idle_timeout_ns;    /* idle keep-alive connections are closed; 0 = 90 s */
    uint32_t max_headers;       /* 0 = 100 */
} net_http_server_cfg;

typedef struct net_http_server net_http_server;

gb_status net_http_server_new(net_pool *pool, const net_http_server_cfg *cfg,
                              net_http_handler handler, void *arg, net_http_server **out, char *err,
                              size_t err_size);
uint16_t net_http_server_port(const net_http_server *s);
/* Stops listening, closes every connection, frees. After return the handler is not running and
 * will not be called again. Must not be called from a worker thread. NULL is a no-op. */
void net_http_server_free(net_http_server *s);

/* Standard reason phrase ("Not Found"); "" for unknown codes. */
const char *net_http_reason(int status);

#endif
