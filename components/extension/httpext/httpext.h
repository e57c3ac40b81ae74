/* Shared plumbing of the extensions that serve HTTP (health_check, zpages, pprof): optional TLS
 * context from a `tls:` section, one net_http_server on the host's worker pool, idempotent stop.
 * Each extension keeps only its handler and config. */
#ifndef HTTPEXT_H
#define HTTPEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "net/http_server.h"
#include "net/tls.h"
#include "pipeline/component.h"

typedef struct httpext {
    net_http_server *srv;
    SSL_CTX *tls;
} httpext;

/* Starts serving endpoint with handler(arg); logs and returns the error on failure (the caller's
 * component is shut down by the engine). tls may be NULL or an unset section. */
gb_status httpext_start(httpext *e, pl_component *c, pl_host *host, const char *endpoint,
                        const net_tls_server_cfg *tls, size_t max_body, net_http_handler handler,
                        void *arg);
/* Stops serving (idempotent). */
void httpext_stop(httpext *e);
/* Stops and releases the TLS context. */
void httpext_free(httpext *e);

#endif
