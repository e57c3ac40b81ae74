/* Network core: worker loops, endpoints, listeners.
 *
 * net_pool: N worker threads, each running its own libevent event_base. Connections accepted by
 * a worker stay on it for their whole life; request handlers run on that worker's thread, so a
 * handler may call a consumer directly but must not block for long. Everything attached to a
 * worker's base (listeners, connections, timers) is created and freed on that worker, through
 * net_pool_run_each / net_pool_run.
 *
 * Listeners: one SO_REUSEPORT socket per worker, all bound to the same address, so the kernel
 * spreads new connections over the workers. Port 0 binds an ephemeral port once and every other
 * worker reuses the port actually bound.
 *
 * Thread-safety: net_pool_* functions may be called from any thread (libevent is set up with
 * evthread_use_pthreads). Listener create/free are control-path calls (not from a worker). */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../base/status.h"

struct event_base;
struct bufferevent;
typedef struct ssl_ctx_st SSL_CTX;

/* ---- worker pool ------------------------------------------------------------------------------
 */

typedef struct net_pool net_pool;

/* n = number of workers (0 = online CPUs). The pool is created stopped. */
gb_status net_pool_new(unsigned n, net_pool **out);
/* Starts the worker threads (each loops until net_pool_stop). */
gb_status net_pool_start(net_pool *p);
/* Stops the loops and joins the threads. Whatever is still registered on the bases is left for
 * its owner to free (owners free their objects before stopping the pool). Idempotent. */
void net_pool_stop(net_pool *p);
/* Stops if needed and frees the bases. NULL is a no-op. */
void net_pool_free(net_pool *p);
unsigned net_pool_size(const net_pool *p);
struct event_base *net_pool_base(net_pool *p, unsigned i);
/* Index of the worker running the calling thread, or -1 when not on a worker of p. */
int net_pool_current(const net_pool *p);
/* Runs fn(i, arg) on worker i and waits for it to return. Runs inline when the pool is not
 * started or when called from worker i itself. */
gb_status net_pool_run(net_pool *p, unsigned i, void (*fn)(unsigned i, void *arg), void *arg);
/* Runs fn(i, arg) on every worker (in parallel) and waits until all have returned. */
gb_status net_pool_run_each(net_pool *p, void (*fn)(unsigned i, void *arg), void *arg);

/* ---- endpoints --------------------------------------------------------------------------------
 */

typedef struct net_endpoint {
    char host[256]; /* "" = all interfaces; brackets of IPv6 literals removed */
    uint16_t port;
} net_endpoint;

/* Parses "host:port", ":port", "[v6]:port". err receives a one-line reason on failure, e.g.
 * `invalid port "43l8"`, `missing port in address "localhost"`. */
gb_status net_endpoint_parse(const char *s, net_endpoint *out, char *err, size_t err_size);
/* Resolves ep for listening: "" -> [::] dual stack (or 0.0.0.0 without IPv6), "localhost" ->
 * 127.0.0.1 (as otelcol does), names via getaddrinfo (IPv4 preferred). */
gb_status net_endpoint_resolve(const net_endpoint *ep, struct sockaddr_storage *ss, socklen_t *len,
                               char *err, size_t err_size);
/* "127.0.0.1:4318" / "[::1]:4318" */
void net_sockaddr_str(const struct sockaddr *sa, char *buf, size_t size);

/* ---- request bytes in flight
 * ---------------------------------------------------------------------
 *
 * Process-wide budget for request bodies being received (HTTP bodies, gRPC messages), shared by
 * every server: a request that would take the total past the limit is refused at once as
 * retryable (HTTP 503, gRPC UNAVAILABLE) instead of being buffered, so many slow or large uploads
 * in parallel cannot exhaust memory. Bytes are released when the request has been handed to its
 * handler (from then on the pipeline's own accounting, gb_mem, covers the buffer). */

/* 0 = default: a quarter of the machine's (or cgroup's) memory, at least 64 MiB. */
void net_inflight_set_limit(uint64_t bytes);
uint64_t net_inflight_limit(void);
/* Reserves n bytes; false when the budget is exhausted. */
bool net_inflight_acquire(uint64_t n);
void net_inflight_release(uint64_t n);
uint64_t net_inflight_bytes(void);

/* ---- listeners --------------------------------------------------------------------------------
 */

typedef struct net_listener net_listener;

/* Called on worker `worker` for every accepted connection. bev is a socket bufferevent (or an
 * OpenSSL one in the accepting state when the listener has a TLS context) with
 * BEV_OPT_CLOSE_ON_FREE; the callee owns it. peer is the client address text. */
typedef void (*net_accept_fn)(unsigned worker, struct bufferevent *bev, const char *peer,
                              void *arg);

/* Binds endpoint (text form) on every worker of the started pool p. tls may be NULL (plain TCP);
 * the listener takes a reference on it. On failure err says why (e.g. "listen tcp
 * 0.0.0.0:4318: bind: Address already in use"). */
gb_status net_listener_new(net_pool *p, const char *endpoint, SSL_CTX *tls, net_accept_fn fn,
                           void *arg, net_listener **out, char *err, size_t err_size);
/* Port actually bound (useful with port 0). */
uint16_t net_listener_port(const net_listener *l);
/* Stops accepting on every worker and closes the sockets (connections already accepted are not
 * touched). NULL is a no-op. */
void net_listener_free(net_listener *l);

#endif
