/* HTTP/1.1 server: a small request parser over libevent bufferevents (plain or OpenSSL), one
 * connection object per accepted socket, owned by the accepting worker.
 *
 * Per connection: wait for "\r\n\r\n" (bounded by max_header_size), parse the head in place in a
 * heap copy, then read the body straight into one gb_buf (Content-Length or chunked), bounded
 * by max_body_size while reading, then call the handler synchronously and queue the response
 * (the body buffer is handed to libevent by reference, no copy). Pipelined requests are served in
 * order. Timers: a deadline for a whole request (slowloris) and an idle timeout between
 * requests; bufferevent write timeouts for clients that stop reading.
 *
 * Rejected: evhttp. It answers an oversized body with its own 413 before the handler can reply
 * in the protocol's format (OTLP wants a google.rpc.Status body with 400), it has no per-request
 * deadline, only per-read timeouts, and it cannot share the TLS/accept path with the HTTP/2
 * server. The parser here is ~strict: obsolete line folding, conflicting Content-Length, and
 * Content-Length together with Transfer-Encoding are refused with 400 (request smuggling). */
#include "http_server.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <errno.h>

#include "../base/log.h"

typedef enum conn_state {
    CS_HEAD = 0,
    CS_BODY_CL,
    CS_CHUNK_SIZE,
    CS_CHUNK_DATA,
    CS_CHUNK_CRLF,
    CS_CHUNK_TRAILER,
    CS_LINGER,  /* response queued, discarding input until close */
    CS_CLOSING, /* waiting for the output to drain, then free */
} conn_state;

typedef struct http_conn http_conn;

typedef struct http_worker {
    http_conn *conns; /* doubly linked list of live connections */
} http_worker;

struct net_http_server {
    net_pool *pool;
    net_listener *lst;
    net_http_handler handler;
    void *arg;
    SSL_CTX *tls;
    size_t max_body;
    size_t max_header;
    uint32_t max_headers;
    struct timeval hdr_tv, req_tv, idle_tv, write_tv, linger_tv;
    http_worker *w;
};

struct http_conn {
    net_http_server *srv;
    unsigned worker;
    struct bufferevent *bev;
    struct event *timer;
    http_conn *prev, *next;
    conn_state state;
    bool in_request;
    /* current request */
    char *head;
    size_t head_len;
    net_http_header *hdrs;
    uint32_t n_hdrs;
    net_http_request req;
    gb_buf *body;
    size_t remaining;  /* CL bytes or current chunk bytes left */
    uint64_t reserved; /* bytes taken from the process-wide in-flight budget */
    bool keep_alive;
    bool chunked;
    char peer[80];
};

static void conn_free(http_conn *c);
static void conn_process(http_conn *c);

const char *net_http_reason(int s)
{
    switch (s) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Request Entity Too Large";
    case 414:
        return "Request-URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "";
    }
}

gb_str net_http_header_get(const net_http_request *req, const char *name)
{
    size_t n = strlen(name);
    for (uint32_t i = 0; i < req->n_headers; i++) {
        const net_http_header *h = &req->headers[i];
        if (h->name.len == n && strncasecmp(h->name.ptr, name, n) == 0) return h->value;
    }
    return GB_STR_NULL;
}

static bool has_crlf(const char *s)
{
    return strchr(s, '\r') || strchr(s, '\n');
}

void net_http_resp_header(net_http_response *resp, const char *name, const char *value)
{
    if (has_crlf(name) || has_crlf(value)) return;
    gb_sbuf_printf(&resp->headers, "%s: %s\r\n", name, value);
}

void net_http_resp_set(net_http_response *resp, int status, const char *content_type,
                       const void *body, size_t len)
{
    resp->status = status;
    if (content_type) net_http_resp_header(resp, "Content-Type", content_type);
    gb_sbuf_reset(&resp->body);
    if (len) gb_sbuf_append(&resp->body, body, len);
}

/* ---- connection lifecycle -------------------------------------------------------------------- */

static void request_reset(http_conn *c)
{
    free(c->head);
    c->head = NULL;
    c->head_len = 0;
    c->n_hdrs = 0;
    gb_buf_unref(c->body);
    c->body = NULL;
    net_inflight_release(c->reserved);
    c->reserved = 0;
    memset(&c->req, 0, sizeof(c->req));
    c->remaining = 0;
    c->chunked = false;
    c->in_request = false;
}

static void conn_free(http_conn *c)
{
    http_worker *w = &c->srv->w[c->worker];
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    request_reset(c);
    if (c->timer) event_free(c->timer);
    if (c->bev) bufferevent_free(c->bev);
    free(c->hdrs);
    free(c);
}

static void arm_timer(http_conn *c, const struct timeval *tv)
{
    event_add(c->timer, tv);
}

static void free_ref(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

/* Queues a response. Closes the connection afterwards when close is set. */
static void send_response(http_conn *c, net_http_response *resp, bool head_only)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    int status = resp->status;
    if (status < 100 || status > 999) status = 500;
    bool close = resp->close || !c->keep_alive;
    evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, net_http_reason(status));
    if (resp->headers.len) evbuffer_add(out, resp->headers.data, resp->headers.len);
    evbuffer_add_printf(out, "Content-Length: %zu\r\n%s\r\n", resp->body.len,
                        close ? "Connection: close\r\n" : "");
    if (resp->body.len && !head_only) {
        size_t len = 0;
        char *data = gb_sbuf_take(&resp->body, &len);
        if (evbuffer_add_reference(out, data, len, free_ref, NULL) != 0) free(data);
    }
    if (close) c->state = c->state == CS_LINGER ? CS_LINGER : CS_CLOSING;
}

static void simple_error(http_conn *c, int status, const char *msg)
{
    net_http_response r;
    memset(&r, 0, sizeof(r));
    gb_sbuf_init(&r.headers, 0);
    gb_sbuf_init(&r.body, 0);
    net_http_resp_set(&r, status, "text/plain; charset=utf-8", msg, strlen(msg));
    r.close = true;
    send_response(c, &r, false);
    gb_sbuf_free(&r.headers);
    gb_sbuf_free(&r.body);
    bufferevent_disable(c->bev, EV_READ);
    c->state = CS_CLOSING;
}

static void call_handler(http_conn *c)
{
    net_http_server *s = c->srv;
    net_http_response r;
    memset(&r, 0, sizeof(r));
    gb_sbuf_init(&r.headers, 0);
    gb_sbuf_init(&r.body, 0);
    if (!c->body && gb_buf_new(0, &c->body) != GB_OK) {
        simple_error(c, 500, "out of memory\n");
        goto out;
    }
    c->req.headers = c->hdrs;
    c->req.n_headers = c->n_hdrs;
    c->req.body = c->body;
    c->req.peer = c->peer;
    c->req.worker = c->worker;
    c->req.tls = s->tls != NULL;
    s->handler(&c->req, &r, s->arg);
    if (r.status == 0) r.status = c->req.body_too_large ? 413 : 500;
    if (c->req.body_too_large) r.close = true;
    if (r.headers.err != GB_OK || r.body.err != GB_OK) {
        gb_sbuf_reset(&r.headers);
        gb_sbuf_reset(&r.body);
        r.status = 500;
        r.close = true;
    }
    send_response(c, &r, gb_str_eq_c(c->req.method, "HEAD"));
out:
    gb_sbuf_free(&r.headers);
    gb_sbuf_free(&r.body);
}

/* ---- parsing --------------------------------------------------------------------------------- */

static bool is_token_char(unsigned char ch)
{
    return ch > 32 && ch < 127 && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

static gb_str trim(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return gb_str_n(p, n);
}

static bool str_ieq(gb_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.ptr, lit, n) == 0;
}

static bool list_has_token(gb_str v, const char *tok)
{
    size_t i = 0;
    while (i < v.len) {
        size_t j = i;
        while (j < v.len && v.ptr[j] != ',')
            j++;
        if (str_ieq(trim(v.ptr + i, j - i), tok)) return true;
        i = j + 1;
    }
    return false;
}

/* Parses c->head (ends with CRLF CRLF). Returns 0 or an HTTP status for the error. */
static int parse_head(http_conn *c, const char **why)
{
    char *p = c->head, *end = c->head + c->head_len;
    char *eol = memchr(p, '\n', (size_t)(end - p));
    *why = "malformed request line";
    if (!eol) return 400;
    char *line_end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
    /* method */
    char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
    if (!sp1 || sp1 == p) return 400;
    for (char *q = p; q < sp1; q++)
        if (!is_token_char((unsigned char)*q)) return 400;
    char *tgt = sp1 + 1;
    char *sp2 = memchr(tgt, ' ', (size_t)(line_end - tgt));
    if (!sp2 || sp2 == tgt) return 400;
    for (char *q = tgt; q < sp2; q++)
        if ((unsigned char)*q <= 32 || (unsigned char)*q >= 127) return 400;
    char *ver = sp2 + 1;
    if (line_end - ver != 8 || memcmp(ver, "HTTP/1.", 7) != 0 || (ver[7] != '0' && ver[7] != '1')) {
        *why = "unsupported HTTP version";
        return line_end - ver == 8 && memcmp(ver, "HTTP/", 5) == 0 ? 505 : 400;
    }
    c->req.method = gb_str_n(p, (size_t)(sp1 - p));
    c->req.target = gb_str_n(tgt, (size_t)(sp2 - tgt));
    char *qm = memchr(tgt, '?', (size_t)(sp2 - tgt));
    char *pstart = tgt;
    /* absolute-form ("POST http://host:4318/v1/traces"): the path starts after the authority */
    size_t tl = (size_t)(sp2 - tgt);
    size_t skip = tl > 7 && strncasecmp(tgt, "http://", 7) == 0    ? 7
                  : tl > 8 && strncasecmp(tgt, "https://", 8) == 0 ? 8
                                                                   : 0;
    if (skip) {
        char *slash = memchr(tgt + skip, '/', tl - skip);
        char *tend = qm ? qm : sp2;
        pstart = slash && slash < tend ? slash : tend;
    }
    c->req.path = gb_str_n(pstart, (size_t)((qm ? qm : sp2) - pstart));
    c->req.query = qm ? gb_str_n(qm + 1, (size_t)(sp2 - qm - 1)) : GB_STR_NULL;
    c->req.version_minor = ver[7] - '0';
    c->keep_alive = c->req.version_minor == 1;

    /* headers */
    p = eol + 1;
    c->n_hdrs = 0;
    bool have_cl = false, have_te = false, expect_continue = false;
    uint64_t cl = 0;
    while (p < end) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) break;
        line_end = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
        if (line_end == p) break; /* empty line: end of head */
        *why = "malformed header";
        if (*p == ' ' || *p == '\t') return 400; /* obsolete line folding */
        char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (!colon || colon == p) return 400;
        for (char *q = p; q < colon; q++)
            if (!is_token_char((unsigned char)*q)) return 400;
        if (c->n_hdrs >= c->srv->max_headers) {
            *why = "too many header fields";
            return 431;
        }
        net_http_header *h = &c->hdrs[c->n_hdrs++];
        h->name = gb_str_n(p, (size_t)(colon - p));
        h->value = trim(colon + 1, (size_t)(line_end - colon - 1));
        if (str_ieq(h->name, "content-length")) {
            uint64_t v = 0;
            if (h->value.len == 0 || h->value.len > 18) return 400;
            for (uint32_t i = 0; i < h->value.len; i++) {
                if (!isdigit((unsigned char)h->value.ptr[i])) return 400;
                v = v * 10 + (uint64_t)(h->value.ptr[i] - '0');
            }
            if (have_cl && v != cl) return 400;
            have_cl = true;
            cl = v;
        } else if (str_ieq(h->name, "transfer-encoding")) {
            have_te = true;
            if (!str_ieq(h->value, "chunked")) {
                *why = "unsupported transfer encoding";
                return 501;
            }
        } else if (str_ieq(h->name, "connection")) {
            if (list_has_token(h->value, "close"))
                c->keep_alive = false;
            else if (list_has_token(h->value, "keep-alive"))
                c->keep_alive = true;
        } else if (str_ieq(h->name, "expect")) {
            if (!str_ieq(h->value, "100-continue")) {
                *why = "unsupported expectation";
                return 417;
            }
            expect_continue = c->req.version_minor == 1;
        }
        p = eol + 1;
    }
    if (have_cl && have_te) {
        *why = "both Content-Length and Transfer-Encoding";
        return 400;
    }
    c->chunked = have_te;
    c->remaining = have_cl ? (size_t)cl : 0;
    if (have_cl && c->srv->max_body && cl > c->srv->max_body) {
        c->req.body_too_large = true;
        return 0;
    }
    if (expect_continue && (have_cl ? cl > 0 : have_te))
        evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return 0;
}

/* Body bytes arrive: appends up to n from the input into c->body, bounded. */
static bool body_take(http_conn *c, struct evbuffer *in, size_t n)
{
    net_http_server *s = c->srv;
    if (!c->body) {
        size_t first = c->chunked ? 4096 : c->remaining; /* whole Content-Length at once */
        if (s->max_body && first > s->max_body) first = s->max_body;
        if (gb_buf_new(first, &c->body) != GB_OK) return false;
    }
    if (s->max_body && c->body->len + n > s->max_body) {
        c->req.body_too_large = true;
        return true;
    }
    if (gb_buf_reserve(&c->body, c->body->len + n) != GB_OK) return false;
    int got = evbuffer_remove(in, c->body->data + c->body->len, n);
    if (got > 0) c->body->len += (size_t)got;
    return true;
}

/* Content-Length body, input buffer empty: reads the rest of the body from the socket straight
 * into c->body (allocated once at Content-Length by body_take), as many bytes as the kernel has,
 * never past the body (pipelined requests stay in the socket for libevent). Saves the copy out of
 * the evbuffer and one readiness round per 16 KiB. Plain sockets only (TLS goes through
 * OpenSSL's bufferevent). *got = bytes read; 0 when nothing is there or on EOF/error, which
 * libevent then reports through its own read. */
static bool body_recv_direct(http_conn *c, size_t *got)
{
    net_http_server *s = c->srv;
    *got = 0;
    if (s->tls) return true;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd < 0) return true;
    if (!c->body) {
        size_t first = c->remaining;
        if (s->max_body && first > s->max_body) first = s->max_body;
        if (gb_buf_new(first, &c->body) != GB_OK) return false;
    }
    if (s->max_body && c->body->len + c->remaining > s->max_body) {
        c->req.body_too_large = true;
        return true;
    }
    if (gb_buf_reserve(&c->body, c->body->len + c->remaining) != GB_OK) return false;
    while (*got < c->remaining) {
        ssize_t r = recv(fd, c->body->data + c->body->len, c->remaining - *got, MSG_DONTWAIT);
        if (r > 0) {
            c->body->len += (size_t)r;
            *got += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        break; /* EAGAIN, EOF or error: left to libevent */
    }
    return true;
}

static void finish_request(http_conn *c)
{
    call_handler(c);
    if (c->req.body_too_large) {
        c->state = CS_LINGER;
        arm_timer(c, &c->srv->linger_tv);
    } else if (c->state != CS_CLOSING) {
        c->state = CS_HEAD;
        arm_timer(c, &c->srv->idle_tv);
    }
    request_reset(c);
}

static void too_large_now(http_conn *c)
{
    gb_buf_unref(c->body);
    c->body = NULL;
    c->req.body_too_large = true;
    finish_request(c);
}

static void conn_process(http_conn *c)
{
    net_http_server *s = c->srv;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    for (;;) {
        size_t avail = evbuffer_get_length(in);
        switch (c->state) {
        case CS_HEAD: {
            if (avail == 0) return;
            if (!c->in_request) {
                c->in_request = true;
                arm_timer(c, &s->hdr_tv);
            }
            struct evbuffer_ptr pos = evbuffer_search(in, "\r\n\r\n", 4, NULL);
            if (pos.pos < 0) {
                if (avail > s->max_header) {
                    simple_error(c, 431, "request header too large\n");
                    return;
                }
                return;
            }
            size_t hl = (size_t)pos.pos + 4;
            if (hl > s->max_header) {
                simple_error(c, 431, "request header too large\n");
                return;
            }
            c->head = malloc(hl + 1);
            if (!c->head) {
                simple_error(c, 500, "out of memory\n");
                return;
            }
            evbuffer_remove(in, c->head, hl);
            c->head[hl] = '\0';
            c->head_len = hl;
            const char *why = "";
            int err = parse_head(c, &why);
            if (err) {
                char msg[128];
                snprintf(msg, sizeof(msg), "%s\n", why);
                simple_error(c, err, msg);
                return;
            }
            if (c->req.body_too_large) {
                finish_request(c);
                break;
            }
            if (!c->chunked && c->remaining == 0) {
                finish_request(c);
                break;
            }
            if (!c->chunked) {
                if (!net_inflight_acquire(c->remaining)) {
                    simple_error(c, 503, "server busy: too many request bytes in flight\n");
                    return;
                }
                c->reserved += c->remaining;
            }
            c->state = c->chunked ? CS_CHUNK_SIZE : CS_BODY_CL;
            arm_timer(c, &s->req_tv); /* the body has its own deadline */
            break;
        }
        case CS_BODY_CL: {
            size_t n = avail < c->remaining ? avail : c->remaining;
            if (n > 0) {
                if (!body_take(c, in, n)) {
                    simple_error(c, 500, "out of memory\n");
                    return;
                }
                if (c->req.body_too_large) {
                    too_large_now(c);
                    break;
                }
                c->remaining -= n;
            }
            if (c->remaining > 0) {
                size_t got = 0;
                if (!body_recv_direct(c, &got)) {
                    simple_error(c, 500, "out of memory\n");
                    return;
                }
                if (c->req.body_too_large) {
                    too_large_now(c);
                    break;
                }
                if (got == 0) return; /* wait for more; libevent sees EOF and errors */
                c->remaining -= got;
            }
            if (c->remaining == 0) finish_request(c);
            break;
        }
        case CS_CHUNK_SIZE:
        case CS_CHUNK_CRLF:
        case CS_CHUNK_TRAILER: {
            size_t len = 0;
            char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
            if (!line) {
                if (avail > 4096) simple_error(c, 400, "malformed chunk\n");
                return;
            }
            if (c->state == CS_CHUNK_CRLF) {
                free(line);
                if (len != 0) {
                    simple_error(c, 400, "malformed chunk\n");
                    return;
                }
                c->state = CS_CHUNK_SIZE;
                break;
            }
            if (c->state == CS_CHUNK_TRAILER) {
                free(line);
                if (len == 0) finish_request(c);
                break;
            }
            uint64_t v = 0;
            size_t i = 0;
            for (; i < len && isxdigit((unsigned char)line[i]); i++) {
                if (i >= 15) break;
                int d = isdigit((unsigned char)line[i])
                            ? line[i] - '0'
                            : (tolower((unsigned char)line[i]) - 'a' + 10);
                v = v * 16 + (uint64_t)d;
            }
            bool ok = i > 0 && i < 16 && (i == len || line[i] == ';' || line[i] == ' ');
            free(line);
            if (!ok) {
                simple_error(c, 400, "malformed chunk size\n");
                return;
            }
            if (v == 0) {
                c->state = CS_CHUNK_TRAILER;
                break;
            }
            if (s->max_body && (c->body ? c->body->len : 0) + v > s->max_body) {
                too_large_now(c);
                break;
            }
            if (!net_inflight_acquire(v)) {
                simple_error(c, 503, "server busy: too many request bytes in flight\n");
                return;
            }
            c->reserved += v;
            c->remaining = (size_t)v;
            c->state = CS_CHUNK_DATA;
            break;
        }
        case CS_CHUNK_DATA: {
            if (avail == 0) return;
            size_t n = avail < c->remaining ? avail : c->remaining;
            if (!body_take(c, in, n)) {
                simple_error(c, 500, "out of memory\n");
                return;
            }
            if (c->req.body_too_large) {
                too_large_now(c);
                break;
            }
            c->remaining -= n;
            if (c->remaining == 0) c->state = CS_CHUNK_CRLF;
            break;
        }
        case CS_LINGER:
            evbuffer_drain(in, avail);
            return;
        case CS_CLOSING:
            evbuffer_drain(in, avail);
            return;
        }
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_process(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    http_conn *c = arg;
    if (c->state == CS_CLOSING && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        conn_free(c);
        return;
    }
    if (c->state == CS_LINGER && evbuffer_get_length(bufferevent_get_output(bev)) == 0) {
        /* Response delivered; keep draining input until the client closes or the timer fires,
         * so the kernel does not reset the connection before the client read our answer. */
        int fd = bufferevent_getfd(bev);
        if (fd >= 0 && !c->srv->tls) shutdown(fd, SHUT_WR);
    }
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    http_conn *c = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) conn_free(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    http_conn *c = arg;
    if (c->state == CS_LINGER || c->state == CS_CLOSING || !c->in_request) {
        conn_free(c);
        return;
    }
    /* The request did not arrive in time: answer 408 and close. */
    bufferevent_disable(c->bev, EV_READ);
    evbuffer_drain(bufferevent_get_input(c->bev),
                   evbuffer_get_length(bufferevent_get_input(c->bev)));
    simple_error(c, 408, "request timeout\n");
    arm_timer(c, &c->srv->linger_tv); /* bound the wait for the write */
}

static void on_accept(unsigned worker, struct bufferevent *bev, const char *peer, void *arg)
{
    net_http_server *s = arg;
    http_conn *c = calloc(1, sizeof(*c));
    if (!c) goto fail;
    c->hdrs = malloc(s->max_headers * sizeof(*c->hdrs));
    c->timer = evtimer_new(bufferevent_get_base(bev), on_timer, c);
    if (!c->hdrs || !c->timer) goto fail;
    c->srv = s;
    c->worker = worker;
    c->bev = bev;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    http_worker *w = &s->w[worker];
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_set_timeouts(bev, NULL, &s->write_tv);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    arm_timer(c, &s->idle_tv);
    return;
fail:
    if (c) {
        if (c->timer) event_free(c->timer);
        free(c->hdrs);
        free(c);
    }
    bufferevent_free(bev);
}

static void close_all(unsigned i, void *arg)
{
    net_http_server *s = arg;
    while (s->w[i].conns)
        conn_free(s->w[i].conns);
}

static struct timeval tv_from_ns(int64_t ns, int64_t def)
{
    if (ns <= 0) ns = def;
    return (struct timeval){.tv_sec = ns / 1000000000LL, .tv_usec = (ns % 1000000000LL) / 1000};
}

gb_status net_http_server_new(net_pool *pool, const net_http_server_cfg *cfg,
                              net_http_handler handler, void *arg, net_http_server **out, char *err,
                              size_t err_size)
{
    gb_status st = GB_OK;
    net_http_server *s = calloc(1, sizeof(*s));
    if (!s) return GB_ERR_NOMEM;
    s->pool = pool;
    s->handler = handler;
    s->arg = arg;
    s->max_body = cfg->max_body_size;
    s->max_header = cfg->max_header_size ? cfg->max_header_size : 64 * 1024;
    s->max_headers = cfg->max_headers ? cfg->max_headers : 100;
    s->hdr_tv = tv_from_ns(cfg->header_timeout_ns, 30000000000LL);
    s->req_tv = tv_from_ns(cfg->request_timeout_ns, 60000000000LL);
    s->idle_tv = tv_from_ns(cfg->idle_timeout_ns, 90000000000LL);
    s->write_tv = tv_from_ns(cfg->write_timeout_ns, 30000000000LL);
    s->linger_tv = tv_from_ns(0, 2000000000LL);
    s->w = calloc(net_pool_size(pool), sizeof(*s->w));
    if (!s->w) {
        st = GB_ERR_NOMEM;
        goto fail;
    }
    if (cfg->tls) {
        SSL_CTX_up_ref(cfg->tls);
        s->tls = cfg->tls;
    }
    st = net_listener_new(pool, cfg->endpoint, s->tls, on_accept, s, &s->lst, err, err_size);
    if (st != GB_OK) goto fail;
    *out = s;
    return GB_OK;
fail:
    net_http_server_free(s);
    return st;
}

uint16_t net_http_server_port(const net_http_server *s)
{
    return net_listener_port(s->lst);
}

void net_http_server_free(net_http_server *s)
{
    if (!s) return;
    net_listener_free(s->lst);
    if (s->w) net_pool_run_each(s->pool, close_all, s);
    if (s->tls) SSL_CTX_free(s->tls);
    free(s->w);
    free(s);
}
