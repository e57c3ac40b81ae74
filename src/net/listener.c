/* Endpoints and SO_REUSEPORT listeners.
 *
 * Endpoint text follows Go's net.SplitHostPort rules as otelcol uses them: "host:port",
 * ":port", "[v6]:port"; the port is decimal 0..65535. Resolution for listening: empty host is
 * every interface (dual-stack [::] when IPv6 is available), "localhost" is 127.0.0.1.
 *
 * One socket per worker: all sockets are bound on the control thread first (so a taken port is
 * reported synchronously with the kernel's reason), then each worker wraps its socket in an
 * evconnlistener on its own base. With port 0 the first bind picks the port and the others reuse
 * it. Accepted sockets become bufferevents (OpenSSL ones when the listener has a TLS context) on
 * the accepting worker's base.
 *
 * Rejected: one listening socket shared by all workers (thundering herd, uneven spread);
 * accepting on one thread and handing fds over (an extra hop per connection). */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/log.h"

#define NET_MAX_SINGLE_READ (256 * 1024)

gb_status net_endpoint_parse(const char *s, net_endpoint *out, char *err, size_t err_size)
{
    const char *colon, *host = s;
    size_t host_len;
    memset(out, 0, sizeof(*out));
    if (!s || !*s) {
        snprintf(err, err_size, "missing address");
        return GB_ERR_INVALID;
    }
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (!rb) {
            snprintf(err, err_size, "missing ']' in address \"%s\"", s);
            return GB_ERR_INVALID;
        }
        if (rb[1] != ':') {
            snprintf(err, err_size, "missing port in address \"%s\"", s);
            return GB_ERR_INVALID;
        }
        host = s + 1;
        host_len = (size_t)(rb - host);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) {
            snprintf(err, err_size, "missing port in address \"%s\"", s);
            return GB_ERR_INVALID;
        }
        if (memchr(s, ':', (size_t)(colon - s))) {
            snprintf(err, err_size, "too many colons in address \"%s\"", s);
            return GB_ERR_INVALID;
        }
        host_len = (size_t)(colon - s);
    }
    if (host_len >= sizeof(out->host)) {
        snprintf(err, err_size, "host too long in address \"%s\"", s);
        return GB_ERR_INVALID;
    }
    const char *port = colon + 1;
    size_t plen = strlen(port);
    unsigned long v = 0;
    bool ok = plen > 0 && plen <= 5;
    for (size_t i = 0; ok && i < plen; i++) {
        if (port[i] < '0' || port[i] > '9')
            ok = false;
        else
            v = v * 10 + (unsigned long)(port[i] - '0');
    }
    if (!ok || v > 65535) {
        snprintf(err, err_size, "invalid port \"%s\"", port);
        return GB_ERR_INVALID;
    }
    for (size_t i = 0; i < host_len; i++) {
        unsigned char c = (unsigned char)host[i];
        if (c <= ' ' || c == '/' || c == '[' || c == ']') {
            snprintf(err, err_size, "invalid host in address \"%s\"", s);
            return GB_ERR_INVALID;
        }
    }
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    out->port = (uint16_t)v;
    return GB_OK;
}

static bool ipv6_available(void)
{
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return false;
    close(fd);
    return true;
}

gb_status net_endpoint_resolve(const net_endpoint *ep, struct sockaddr_storage *ss, socklen_t *len,
                               char *err, size_t err_size)
{
    memset(ss, 0, sizeof(*ss));
    const char *h = ep->host;
    if (strcmp(h, "localhost") == 0) h = "127.0.0.1";
    if (!*h) {
        if (ipv6_available()) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
            a->sin6_family = AF_INET6;
            a->sin6_addr = in6addr_any;
            a->sin6_port = htons(ep->port);
            *len = sizeof(*a);
        } else {
            struct sockaddr_in *a = (struct sockaddr_in *)ss;
            a->sin_family = AF_INET;
            a->sin_addr.s_addr = htonl(INADDR_ANY);
            a->sin_port = htons(ep->port);
            *len = sizeof(*a);
        }
        return GB_OK;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, h, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(ep->port);
        *len = sizeof(*a4);
        return GB_OK;
    }
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET6, h, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(ep->port);
        *len = sizeof(*a6);
        return GB_OK;
    }
    struct addrinfo hints, *res = NULL, *pick = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rc = getaddrinfo(h, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, err_size, "lookup %s: %s", h, rc ? gai_strerror(rc) : "no address");
        return GB_ERR_INVALID;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET) {
            pick = ai;
            break;
        }
    if (!pick) pick = res;
    memcpy(ss, pick->ai_addr, pick->ai_addrlen);
    *len = pick->ai_addrlen;
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons(ep->port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(ep->port);
    freeaddrinfo(res);
    return GB_OK;
}

void net_sockaddr_str(const struct sockaddr *sa, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
        snprintf(buf, size, "%s:%u", a, ntohs(s4->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
        snprintf(buf, size, "[%s]:%u", a, ntohs(s6->sin6_port));
    } else {
        snprintf(buf, size, "unknown");
    }
}

struct net_listener {
    net_pool *pool;
    unsigned n;
    int *fds;
    struct evconnlistener **lev;
    SSL_CTX *tls;
    net_accept_fn fn;
    void *arg;
    uint16_t port;
    char addr[300];
};

typedef struct accept_ctx {
    net_listener *l;
} accept_ctx;

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)salen;
    net_listener *l = arg;
    struct event_base *base = evconnlistener_get_base(lev);
    int worker = net_pool_current(l->pool);
    struct bufferevent *bev = NULL;
    char peer[80];
    int one = 1;
    net_sockaddr_str(sa, peer, sizeof(peer));
    if (sa->sa_family != AF_UNIX) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (l->tls) {
        SSL *ssl = SSL_new(l->tls);
        if (!ssl) {
            evutil_closesocket(fd);
            return;
        }
        bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        if (!bev) {
            SSL_free(ssl);
            evutil_closesocket(fd);
            return;
        }
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    } else {
        bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (!bev) {
            evutil_closesocket(fd);
            return;
        }
        /* libevent reads at most 16 KiB per readiness event by default (in 4 KiB pieces into a
         * fresh buffer): one epoll round and one FIONREAD + readv per piece of a 1 MB export */
        bufferevent_set_max_single_read(bev, NET_MAX_SINGLE_READ);
    }
    l->fn(worker < 0 ? 0 : (unsigned)worker, bev, peer, l->arg);
}

static void lev_create(unsigned i, void *arg)
{
    net_listener *l = arg;
    if (i >= l->n || l->fds[i] < 0) return;
    l->lev[i] = evconnlistener_new(net_pool_base(l->pool, i), on_accept, l,
                                   LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, l->fds[i]);
    if (l->lev[i]) l->fds[i] = -1; /* owned by the evconnlistener now */
}

static void lev_free(unsigned i, void *arg)
{
    net_listener *l = arg;
    if (i >= l->n) return;
    if (l->lev[i]) evconnlistener_free(l->lev[i]);
    l->lev[i] = NULL;
}

static int bind_one(const struct sockaddr_storage *ss, socklen_t len, int *fd_out)
{
    int one = 1, zero = 0;
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (ss->ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    if (bind(fd, (const struct sockaddr *)ss, len) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        return e;
    }
    *fd_out = fd;
    return 0;
}

/* Tells whether some socket not created by us already listens on the address: SO_REUSEPORT would
 * otherwise let a second collector silently share the port with another process of the same
 * user. We probe with a socket without SO_REUSEPORT before binding ours. */
static int probe_free(const struct sockaddr_storage *ss, socklen_t len)
{
    int zero = 0;
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss->ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
    int rc = bind(fd, (const struct sockaddr *)ss, len) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

gb_status net_listener_new(net_pool *p, const char *endpoint, SSL_CTX *tls, net_accept_fn fn,
                           void *arg, net_listener **out, char *err, size_t err_size)
{
    gb_status st = GB_OK;
    net_endpoint ep;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    net_listener *l = NULL;
    char ebuf[200];

    st = net_endpoint_parse(endpoint, &ep, ebuf, sizeof(ebuf));
    if (st != GB_OK) {
        snprintf(err, err_size, "%s", ebuf);
        return st;
    }
    st = net_endpoint_resolve(&ep, &ss, &len, ebuf, sizeof(ebuf));
    if (st != GB_OK) {
        snprintf(err, err_size, "%s", ebuf);
        return st;
    }
    l = calloc(1, sizeof(*l));
    if (!l) return GB_ERR_NOMEM;
    l->pool = p;
    l->n = net_pool_size(p);
    l->fn = fn;
    l->arg = arg;
    l->fds = malloc(l->n * sizeof(int));
    l->lev = calloc(l->n, sizeof(*l->lev));
    if (!l->fds || !l->lev) {
        st = GB_ERR_NOMEM;
        goto fail;
    }
    for (unsigned i = 0; i < l->n; i++)
        l->fds[i] = -1;
    net_sockaddr_str((struct sockaddr *)&ss, l->addr, sizeof(l->addr));
    if (ep.port != 0) {
        int e = probe_free(&ss, len);
        if (e != 0) {
            snprintf(err, err_size, "listen tcp %s: bind: %s", l->addr, strerror(e));
            st = GB_ERR_IO;
            goto fail;
        }
    }
    for (unsigned i = 0; i < l->n; i++) {
        int e = bind_one(&ss, len, &l->fds[i]);
        if (e != 0) {
            snprintf(err, err_size, "listen tcp %s: bind: %s", l->addr, strerror(e));
            st = GB_ERR_IO;
            goto fail;
        }
        if (i == 0) {
            struct sockaddr_storage got;
            socklen_t glen = sizeof(got);
            getsockname(l->fds[0], (struct sockaddr *)&got, &glen);
            l->port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
                                                     : ((struct sockaddr_in6 *)&got)->sin6_port);
            if (ss.ss_family == AF_INET)
                ((struct sockaddr_in *)&ss)->sin_port = htons(l->port);
            else
                ((struct sockaddr_in6 *)&ss)->sin6_port = htons(l->port);
            net_sockaddr_str((struct sockaddr *)&ss, l->addr, sizeof(l->addr));
        }
    }
    if (tls) {
        SSL_CTX_up_ref(tls);
        l->tls = tls;
    }
    net_pool_run_each(p, lev_create, l);
    for (unsigned i = 0; i < l->n; i++) {
        if (!l->lev[i]) {
            snprintf(err, err_size, "listen tcp %s: cannot attach the listener to worker %u",
                     l->addr, i);
            st = GB_ERR_IO;
            goto fail;
        }
    }
    *out = l;
    return GB_OK;
fail:
    net_listener_free(l);
    return st;
}

uint16_t net_listener_port(const net_listener *l)
{
    return l->port;
}

void net_listener_free(net_listener *l)
{
    if (!l) return;
    if (l->lev) net_pool_run_each(l->pool, lev_free, l);
    for (unsigned i = 0; l->fds && i < l->n; i++)
        if (l->fds[i] >= 0) close(l->fds[i]);
    if (l->tls) SSL_CTX_free(l->tls);
    free(l->fds);
    free(l->lev);
    free(l);
}
