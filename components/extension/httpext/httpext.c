#include "httpext.h"

#include <openssl/ssl.h>

#include "base/log.h"

gb_status httpext_start(httpext *e, pl_component *c, pl_host *host, const char *endpoint,
                        const net_tls_server_cfg *tls, size_t max_body, net_http_handler handler,
                        void *arg)
{
    char err[256] = "no network worker pool";
    gb_status st = GB_ERR_STATE;
    if (!host || !host->pool) goto fail;
    if (tls && net_tls_server_enabled(tls)) {
        st = net_tls_server_ctx_new(tls, NET_ALPN_HTTP1, &e->tls, err, sizeof err);
        if (st) goto fail;
    }
    net_http_server_cfg hc = {.endpoint = endpoint, .tls = e->tls, .max_body_size = max_body};
    st = net_http_server_new(host->pool, &hc, handler, arg, &e->srv, err, sizeof err);
    if (st) goto fail;
    return GB_OK;
fail:
    gb_log(GB_LOG_ERROR, c->full_id, "cannot start: %s", err);
    return st;
}

void httpext_stop(httpext *e)
{
    net_http_server_free(e->srv);
    e->srv = NULL;
}

void httpext_free(httpext *e)
{
    httpext_stop(e);
    if (e->tls) SSL_CTX_free(e->tls);
    e->tls = NULL;
}
