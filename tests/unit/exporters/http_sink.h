/* Loopback HTTP/1.1 sink for exporter tests: listens on 127.0.0.1 (random or given port), serves
 * keep-alive connections (one thread each), answers from a script of responses and records every
 * request (path, raw headers, body as sent and after Content-Encoding decoding). Bounded: at most
 * SINK_MAX_REQ requests and SINK_MAX_CONN connections are recorded/served. */
#ifndef TEST_HTTP_SINK_H
#define TEST_HTTP_SINK_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/time.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define SINK_MAX_REQ  64
#define SINK_MAX_CONN 16
#define SINK_MAX_BODY (8u << 20)

typedef struct sink_resp {
    int status;
    char headers[256]; /* extra header lines, each ending with \r\n */
    char body[512];
    size_t body_len;
    int delay_ms;
} sink_resp;

typedef struct sink_req {
    char method[8];
    char path[128];
    char headers[2048];
    uint8_t *raw;
    size_t raw_len;
    uint8_t *body; /* decoded */
    size_t body_len;
    bool decode_ok;
    int64_t t_ns;
} sink_req;

typedef struct sink {
    SSL_CTX *tls; /* set before sink_start_tls: connections are TLS */
    int tls_handshakes_failed;
    int lfd;
    uint16_t port;
    pthread_t acceptor;
    pthread_t conn_threads[SINK_MAX_CONN];
    int conn_fds[SINK_MAX_CONN];
    int n_conn;
    volatile bool stop;
    pthread_mutex_t mu;
    sink_resp script[16];
    int n_script;
    sink_req req[SINK_MAX_REQ];
    int n_req;
} sink;

static inline int64_t sink_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline bool sink_decode(const char *enc, const uint8_t *in, size_t n, uint8_t **out,
                               size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (!enc[0]) {
        *out = malloc(n + 1);
        if (!*out) return false;
        memcpy(*out, in, n);
        *out_len = n;
        return true;
    }
    if (strcasecmp(enc, "zstd") == 0) {
        unsigned long long sz = ZSTD_getFrameContentSize(in, n);
        if (sz == ZSTD_CONTENTSIZE_ERROR || sz == ZSTD_CONTENTSIZE_UNKNOWN || sz > SINK_MAX_BODY)
            return false;
        *out = malloc(sz + 1);
        if (!*out) return false;
        size_t r = ZSTD_decompress(*out, sz + 1, in, n);
        if (ZSTD_isError(r)) return false;
        *out_len = r;
        return true;
    }
    if (strcasecmp(enc, "gzip") == 0 || strcasecmp(enc, "deflate") == 0) {
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        /* gzip: 16+15; deflate: zlib stream (15) */
        if (inflateInit2(&zs, strcasecmp(enc, "gzip") == 0 ? 31 : 15) != Z_OK) return false;
        size_t cap = SINK_MAX_BODY;
        *out = malloc(cap);
        if (!*out) {
            inflateEnd(&zs);
            return false;
        }
        zs.next_in = (Bytef *)(uintptr_t)in;
        zs.avail_in = (uInt)n;
        zs.next_out = *out;
        zs.avail_out = (uInt)cap;
        int r = inflate(&zs, Z_FINISH);
        *out_len = zs.total_out;
        inflateEnd(&zs);
        return r == Z_STREAM_END;
    }
    return false;
}

static inline void sink_header(const char *headers, const char *name, char *out, size_t out_size)
{
    out[0] = '\0';
    size_t nl = strlen(name);
    for (const char *p = headers; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = len - (size_t)(v - p);
            if (vl >= out_size) vl = out_size - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
            return;
        }
        p = eol ? eol + 2 : NULL;
    }
}

typedef struct sink_conn_arg {
    sink *s;
    int fd;
} sink_conn_arg;

static inline bool sink_read_more(sink *s, int fd, SSL *ssl, uint8_t **buf, size_t *len,
                                  size_t *cap)
{
    for (;;) {
        if (s->stop) return false;
        if (!ssl || SSL_pending(ssl) == 0) {
            struct pollfd p = {fd, POLLIN, 0};
            int r = poll(&p, 1, 50);
            if (r == 0) continue;
            if (r < 0) return false;
        }
        if (*len == *cap) {
            if (*cap >= SINK_MAX_BODY + 65536) return false;
            size_t nc = *cap * 2;
            uint8_t *nb = realloc(*buf, nc);
            if (!nb) return false;
            *buf = nb;
            *cap = nc;
        }
        ssize_t n = ssl ? SSL_read(ssl, *buf + *len, (int)(*cap - *len))
                        : read(fd, *buf + *len, *cap - *len);
        if (n <= 0) return false;
        *len += (size_t)n;
        return true;
    }
}

static inline void *sink_conn_main(void *arg)
{
    sink_conn_arg *a = arg;
    sink *s = a->s;
    int fd = a->fd;
    free(a);
    size_t cap = 65536, len = 0;
    uint8_t *buf = malloc(cap);
    SSL *ssl = NULL;
    struct timeval tv = {2, 0}; /* a silent peer cannot hold the sink forever */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (s->tls) {
        ssl = SSL_new(s->tls);
        if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1) {
            pthread_mutex_lock(&s->mu);
            s->tls_handshakes_failed++;
            pthread_mutex_unlock(&s->mu);
            goto out;
        }
    }
    while (buf && !s->stop) {
        /* headers */
        uint8_t *end;
        while (!(end = memmem(buf, len, "\r\n\r\n", 4)))
            if (!sink_read_more(s, fd, ssl, &buf, &len, &cap)) goto out;
        size_t hlen = (size_t)(end - buf) + 4;
        char head[4096];
        size_t cl = hlen < sizeof head - 1 ? hlen : sizeof head - 1;
        memcpy(head, buf, cl);
        head[cl] = '\0';
        char clen[32], enc[32];
        char *hdrs = strstr(head, "\r\n");
        sink_header(hdrs ? hdrs + 2 : "", "Content-Length", clen, sizeof clen);
        sink_header(hdrs ? hdrs + 2 : "", "Content-Encoding", enc, sizeof enc);
        size_t blen = (size_t)strtoull(clen, NULL, 10);
        if (blen > SINK_MAX_BODY) goto out;
        while (len < hlen + blen)
            if (!sink_read_more(s, fd, ssl, &buf, &len, &cap)) goto out;

        pthread_mutex_lock(&s->mu);
        int idx = s->n_req < SINK_MAX_REQ ? s->n_req++ : -1;
        sink_resp rsp =
            s->script[idx < 0 ? s->n_script - 1 : (idx < s->n_script ? idx : s->n_script - 1)];
        if (idx >= 0) {
            sink_req *r = &s->req[idx];
            sscanf(head, "%7s %127s", r->method, r->path);
            snprintf(r->headers, sizeof r->headers, "%s", hdrs ? hdrs + 2 : "");
            r->raw = malloc(blen + 1);
            if (r->raw) memcpy(r->raw, buf + hlen, blen);
            r->raw_len = blen;
            r->decode_ok = sink_decode(enc, buf + hlen, blen, &r->body, &r->body_len);
            r->t_ns = sink_now();
        }
        pthread_mutex_unlock(&s->mu);
        memmove(buf, buf + hlen + blen, len - hlen - blen);
        len -= hlen + blen;

        if (rsp.delay_ms) {
            for (int i = 0; i < rsp.delay_ms && !s->stop; i += 5)
                usleep(5000);
        }
        char out[1024];
        int n = snprintf(out, sizeof out, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n",
                         rsp.status, rsp.body_len, rsp.headers);
        if (ssl) {
            if (SSL_write(ssl, out, n) != n) goto out;
            if (rsp.body_len && SSL_write(ssl, rsp.body, (int)rsp.body_len) != (int)rsp.body_len)
                goto out;
            continue;
        }
        if (write(fd, out, (size_t)n) != n) goto out;
        if (rsp.body_len && write(fd, rsp.body, rsp.body_len) != (ssize_t)rsp.body_len) goto out;
    }
out:
    if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    free(buf);
    return NULL;
}

static inline void *sink_accept_main(void *arg)
{
    sink *s = arg;
    while (!s->stop) {
        struct pollfd p = {s->lfd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(s->lfd, NULL, NULL);
        if (fd < 0) continue;
        pthread_mutex_lock(&s->mu);
        if (s->n_conn >= SINK_MAX_CONN) {
            pthread_mutex_unlock(&s->mu);
            close(fd);
            continue;
        }
        sink_conn_arg *a = malloc(sizeof *a);
        a->s = s;
        a->fd = fd;
        s->conn_fds[s->n_conn] = fd;
        if (pthread_create(&s->conn_threads[s->n_conn], NULL, sink_conn_main, a) == 0)
            s->n_conn++;
        else {
            free(a);
            close(fd);
        }
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

/* port 0: random free port. tls: NULL for plain HTTP. Returns 0 on success. */
static inline int sink_start_tls(sink *s, uint16_t port, SSL_CTX *tls)
{
    memset(s, 0, sizeof *s);
    s->tls = tls;
    pthread_mutex_init(&s->mu, NULL);
    s->script[0].status = 200;
    s->n_script = 1;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0) return -1;
    int one = 1;
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->lfd, 16) != 0) {
        close(s->lfd);
        return -1;
    }
    socklen_t al = sizeof a;
    getsockname(s->lfd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->acceptor, NULL, sink_accept_main, s) == 0 ? 0 : -1;
}

static inline int sink_start(sink *s, uint16_t port)
{
    return sink_start_tls(s, port, NULL);
}

static inline void sink_script(sink *s, int i, int status, const char *headers, const void *body,
                               size_t body_len)
{
    pthread_mutex_lock(&s->mu);
    s->script[i].status = status;
    snprintf(s->script[i].headers, sizeof s->script[i].headers, "%s", headers ? headers : "");
    if (body_len > sizeof s->script[i].body) body_len = sizeof s->script[i].body;
    if (body) memcpy(s->script[i].body, body, body_len);
    s->script[i].body_len = body_len;
    if (i + 1 > s->n_script) s->n_script = i + 1;
    pthread_mutex_unlock(&s->mu);
}

static inline int sink_count(sink *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->n_req;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static inline bool sink_wait(sink *s, int n, int ms)
{
    for (int i = 0; i < ms; i += 2) {
        if (sink_count(s) >= n) return true;
        usleep(2000);
    }
    return sink_count(s) >= n;
}

static inline void sink_stop(sink *s)
{
    s->stop = true;
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->n_conn; i++) {
        pthread_join(s->conn_threads[i], NULL);
        close(s->conn_fds[i]);
    }
    close(s->lfd);
    for (int i = 0; i < s->n_req; i++) {
        free(s->req[i].raw);
        free(s->req[i].body);
    }
    pthread_mutex_destroy(&s->mu);
}

/* A port with nothing listening (bound then closed). */
static inline uint16_t sink_dead_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return 1;
    }
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    return ntohs(a.sin_port);
}

#endif
