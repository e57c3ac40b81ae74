/* gRPC server over nghttp2. One nghttp2 server session per connection, fed from the connection's
 * bufferevent (plain or OpenSSL) and writing into its output buffer, on the accepting worker.
 *
 * Per stream: request headers are copied into a small per-stream store, DATA is appended to one
 * gb_buf with the gRPC 5-byte prefix checked as soon as it is complete (an oversized message is
 * refused before its body arrives), and on END_STREAM the single message is decompressed
 * (bounded) and handed to the handler. Responses are HEADERS + DATA + trailers, or a
 * Trailers-Only HEADERS frame for errors. Flow control: nghttp2's automatic WINDOW_UPDATEs with a
 * 1 MiB stream window and a 16 MiB connection window; memory is bounded by
 * max_concurrent_streams x max message size and a per-connection cap on buffered request bytes.
 * Output backpressure: we stop pulling frames from nghttp2 while more than write_buffer_size bytes
 * wait in the socket buffer.
 *
 * Timers: one 1 s tick per connection checks the preface deadline, keepalive pings
 * (time/timeout), max_connection_idle, max_connection_age(+grace); ping enforcement (min_time,
 * permit_without_stream) counts strikes like grpc-go and answers abuse with GOAWAY
 * ENHANCE_YOUR_CALM "too_many_pings".
 *
 * Rejected: a handler thread pool (OTLP handling is short and CPU-bound; a hop per call costs
 * more than it saves); streaming RPCs (not needed by OTLP). */
#include "grpc_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/log.h"
#include "../base/timeutil.h"
#include "decompress.h"

#define GRPC_MAX_HEADERS   64
#define PREFACE_TIMEOUT_NS (10 * GB_NS_PER_S)
#define STREAM_TIMEOUT_NS  (60 * GB_NS_PER_S) /* a request must be received within this */
#define STREAM_WINDOW      (1 << 20)
#define CONN_WINDOW        (16 << 20)
#define GRPC_RX_SIZE       (128 * 1024)
/* direct reads per readiness event, so one busy peer cannot starve the worker's others */
#define GRPC_RX_ROUNDS 64

/* ---- config table ---------------------------------------------------------------------------- */

static const cfg_field ka_sp_fields[] = {
    {.key = "max_connection_idle",
     .type = CFG_T_DURATION,
     .offset = offsetof(net_grpc_ka_server_params, max_connection_idle),
     .def = "0",
     .doc = "close connections idle (no calls) this long; 0 = never"},
    {.key = "max_connection_age",
     .type = CFG_T_DURATION,
     .offset = offsetof(net_grpc_ka_server_params, max_connection_age),
     .def = "0",
     .doc = "send GOAWAY to connections older than this; 0 = never"},
    {.key = "max_connection_age_grace",
     .type = CFG_T_DURATION,
     .offset = offsetof(net_grpc_ka_server_params, max_connection_age_grace),
     .def = "0",
     .doc = "after max_connection_age, close forcibly after this; 0 = wait for calls"},
    {.key = "time",
     .type = CFG_T_DURATION,
     .offset = offsetof(net_grpc_ka_server_params, time),
     .def = "2h",
     .doc = "ping an idle connection after this long"},
    {.key = "timeout",
     .type = CFG_T_DURATION,
     .offset = offsetof(net_grpc_ka_server_params, timeout),
     .def = "20s",
     .doc = "close if the ping is not acknowledged within this"},
};
static CFG_TABLE(ka_sp_table, ka_sp_fields, NULL);

static const cfg_field ka_ep_fields[] = {
    {.key = "min_time",
     .type = CFG_T_DURATION,
     .offset = offsetof(net_grpc_ka_enforcement, min_time),
     .def = "5m",
     .doc = "minimum interval between client pings"},
    {.key = "permit_without_stream",
     .type = CFG_T_BOOL,
     .offset = offsetof(net_grpc_ka_enforcement, permit_without_stream),
     .def = "false",
     .doc = "allow client pings when no call is active"},
};
static CFG_TABLE(ka_ep_table, ka_ep_fields, NULL);

static const cfg_field ka_fields[] = {
    {.key = "server_parameters",
     .type = CFG_T_SECTION,
     .offset = offsetof(net_grpc_keepalive_cfg, server_parameters),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(net_grpc_keepalive_cfg, server_parameters_set),
     .sub = &ka_sp_table,
     .doc = "server keepalive parameters"},
    {.key = "enforcement_policy",
     .type = CFG_T_SECTION,
     .offset = offsetof(net_grpc_keepalive_cfg, enforcement_policy),
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(net_grpc_keepalive_cfg, enforcement_policy_set),
     .sub = &ka_ep_table,
     .doc = "client ping enforcement"},
};
CFG_TABLE(net_grpc_keepalive_table, ka_fields, NULL);

/* ---- framing helpers ------------------------------------------------------------------------- */

void net_grpc_frame_header(const uint8_t p[5], bool *compressed, uint32_t *len)
{
    *compressed = p[0] & 1;
    *len = ((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 8) | p[4];
}

void net_grpc_frame_write(uint8_t p[5], bool compressed, uint32_t len)
{
    p[0] = compressed ? 1 : 0;
    p[1] = (uint8_t)(len >> 24);
    p[2] = (uint8_t)(len >> 16);
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
}

void net_grpc_percent_encode(const char *in, size_t len, gb_sbuf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch < 0x20 || ch > 0x7e || ch == '%') {
            char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            gb_sbuf_append(out, e, 3);
        } else {
            gb_sbuf_putc(out, (char)ch);
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void net_grpc_percent_decode(const char *in, size_t len, gb_sbuf *out)
{
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '%' && i + 2 < len + 0 && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
            gb_sbuf_putc(out, (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2])));
            i += 2;
        } else {
            gb_sbuf_putc(out, in[i]);
        }
    }
}

/* ---- server state ---------------------------------------------------------------------------- */

typedef struct g_conn g_conn;

typedef struct g_worker {
    g_conn *conns;
} g_worker;

struct net_grpc_server {
    net_pool *pool;
    net_listener *lst;
    net_grpc_handler handler;
    void *arg;
    SSL_CTX *tls;
    size_t max_msg;
    uint32_t max_streams;
    size_t write_hwm;
    size_t conn_buffer_cap;
    net_grpc_ka_server_params ka;
    net_grpc_ka_enforcement ep;
    nghttp2_session_callbacks *cbs;
    nghttp2_option *opt;
    g_worker *w;
    atomic_int n_conns;
    atomic_bool draining;
};

typedef struct g_hdr {
    uint32_t name_off, name_len, val_off, val_len;
} g_hdr;

typedef struct g_stream g_stream;
struct g_stream {
    int32_t id;
    g_conn *conn;
    g_stream *prev, *next;
    int64_t started_ns;
    bool rst_after_response;
    uint64_t reserved; /* bytes taken from the in-flight budget */
    gb_sbuf store;     /* header names and values */
    g_hdr hdr[GRPC_MAX_HEADERS];
    uint32_t n_hdr;
    uint32_t path_off, path_len;
    bool is_post;
    bool ct_ok;
    net_encoding enc;
    bool too_many_headers;
    gb_buf *data;
    bool prefix_checked;
    uint32_t msg_len;
    bool done; /* a response was submitted */
    uint8_t *resp;
    size_t resp_len, resp_off;
    int status;
    char *gmsg; /* percent-encoded grpc-message, NUL-terminated */
};

struct g_conn {
    net_grpc_server *srv;
    unsigned worker;
    struct bufferevent *bev;
    nghttp2_session *ng;
    struct event *tick;
    g_conn *prev, *next;
    int n_streams;
    g_stream *streams;
    size_t buffered;
    int64_t created_ns, idle_since_ns, last_read_ns, last_ping_ns, ping_sent_ns;
    bool ping_outstanding;
    int strikes;
    bool got_frame;
    bool goaway_sent;
    int64_t goaway_ns;
    bool closing; /* free once the output drained */
    bool sending; /* re-entrancy guard */
    uint8_t *rx;  /* direct-read buffer (plain connections), GRPC_RX_SIZE bytes, lazily */
    char peer[80];
};

static void conn_free(g_conn *c);
static void conn_flush(g_conn *c);

static void stream_release(g_stream *st)
{
    net_inflight_release(st->reserved);
    st->reserved = 0;
}

static void stream_free(g_stream *st)
{
    stream_release(st);
    g_conn *c = st->conn;
    if (st->prev)
        st->prev->next = st->next;
    else
        c->streams = st->next;
    if (st->next) st->next->prev = st->prev;
    if (st->data) c->buffered -= st->data->len;
    gb_sbuf_free(&st->store);
    gb_buf_unref(st->data);
    free(st->resp);
    free(st->gmsg);
    free(st);
}

/* ---- responses ------------------------------------------------------------------------------- */

#define MKNV(n, v, vl)                                                                             \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vl), NGHTTP2_NV_FLAG_NONE                  \
    }

static ssize_t resp_read(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *user)
{
    (void)user;
    g_stream *st = src->ptr;
    size_t left = st->resp_len - st->resp_off;
    size_t n = left < len ? left : len;
    if (n) memcpy(buf, st->resp + st->resp_off, n);
    st->resp_off += n;
    if (st->resp_off == st->resp_len) {
        *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        char code[12];
        int cl = snprintf(code, sizeof(code), "%d", st->status);
        nghttp2_nv tr[2] = {
            MKNV("grpc-status", code, (size_t)cl),
            MKNV("grpc-message", st->gmsg ? st->gmsg : "", st->gmsg ? strlen(st->gmsg) : 0)};
        if (nghttp2_submit_trailer(ng, id, tr, st->gmsg && *st->gmsg ? 2 : 1) != 0)
            return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

static void set_gmsg(g_stream *st, const char *msg, size_t len)
{
    gb_sbuf e;
    gb_sbuf_init(&e, 16 * 1024);
    net_grpc_percent_encode(msg, len, &e);
    free(st->gmsg);
    st->gmsg = e.err == GB_OK ? gb_sbuf_take(&e, NULL) : NULL;
    gb_sbuf_free(&e);
}

/* Trailers-Only error response. */
static void respond_error(g_stream *st, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void respond_error(g_stream *st, int status, const char *fmt, ...)
{
    if (st->done) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    st->done = true;
    st->status = status;
    set_gmsg(st, msg, strlen(msg));
    char code[12];
    int cl = snprintf(code, sizeof(code), "%d", status);
    nghttp2_nv nv[4] = {
        MKNV(":status", "200", 3), MKNV("content-type", "application/grpc", 16),
        MKNV("grpc-status", code, (size_t)cl),
        MKNV("grpc-message", st->gmsg ? st->gmsg : "", st->gmsg ? strlen(st->gmsg) : 0)};
    nghttp2_submit_response(st->conn->ng, st->id, nv, 4, NULL);
    if (st->data) st->conn->buffered -= st->data->len;
    gb_buf_unref(st->data);
    st->data = NULL;
}

static void respond_http(g_stream *st, const char *status)
{
    if (st->done) return;
    st->done = true;
    nghttp2_nv nv[1] = {MKNV(":status", status, strlen(status))};
    nghttp2_submit_response(st->conn->ng, st->id, nv, 1, NULL);
}

static void respond_ok(g_stream *st, int status, const gb_sbuf *msg, const gb_sbuf *body)
{
    st->done = true;
    st->status = status;
    if (msg->len) set_gmsg(st, msg->data, msg->len);
    if (status != 0) {
        char code[12];
        int cl = snprintf(code, sizeof(code), "%d", status);
        nghttp2_nv nv[4] = {
            MKNV(":status", "200", 3), MKNV("content-type", "application/grpc", 16),
            MKNV("grpc-status", code, (size_t)cl),
            MKNV("grpc-message", st->gmsg ? st->gmsg : "", st->gmsg ? strlen(st->gmsg) : 0)};
        nghttp2_submit_response(st->conn->ng, st->id, nv, st->gmsg ? 4 : 3, NULL);
        return;
    }
    st->resp_len = 5 + body->len;
    st->resp = malloc(st->resp_len);
    if (!st->resp) {
        st->done = false;
        respond_error(st, 13, "out of memory");
        return;
    }
    net_grpc_frame_write(st->resp, false, (uint32_t)body->len);
    if (body->len) memcpy(st->resp + 5, body->data, body->len);
    nghttp2_nv nv[2] = {MKNV(":status", "200", 3), MKNV("content-type", "application/grpc", 16)};
    nghttp2_data_provider dp = {.source = {.ptr = st}, .read_callback = resp_read};
    nghttp2_submit_response(st->conn->ng, st->id, nv, 2, &dp);
    st->conn->strikes = 0;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

static void dispatch(g_stream *st)
{
    g_conn *c = st->conn;
    net_grpc_server *s = c->srv;
    gb_buf *msg_buf = NULL;
    const uint8_t *msg = NULL;
    size_t msg_len = 0;
    net_http_header hv[GRPC_MAX_HEADERS];
    net_grpc_reply reply;
    gb_sbuf_init(&reply.message, 4096);
    gb_sbuf_init(&reply.body, 0);

    if (st->done) goto out;
    size_t have = st->data ? st->data->len : 0;
    if (have == 0) {
        respond_error(st, 13, "grpc: no request message received on a unary call");
        goto out;
    }
    if (have < 5 || have < 5 + (size_t)st->msg_len) {
        respond_error(st, 13, "grpc: truncated request message");
        goto out;
    }
    if (have > 5 + (size_t)st->msg_len) {
        respond_error(st, 13, "grpc: more than one request message on a unary call");
        goto out;
    }
    bool compressed = st->data->data[0] & 1;
    if (compressed) {
        char err[160];
        if (st->enc == NET_ENC_IDENTITY) {
            respond_error(st, 13, "grpc: compressed flag set with identity or empty encoding");
            goto out;
        }
        gb_status rc = net_decompress(st->enc, st->data->data + 5, st->msg_len, s->max_msg,
                                      &msg_buf, err, sizeof(err));
        if (rc == GB_ERR_LIMIT) {
            respond_error(st, 8, "grpc: received message after decompression larger than max %zu",
                          s->max_msg);
            goto out;
        }
        if (rc != GB_OK) {
            respond_error(st, 13, "grpc: failed to decompress the received message: %s", err);
            goto out;
        }
        msg = msg_buf->data;
        msg_len = msg_buf->len;
    } else {
        msg_buf = gb_buf_ref(st->data);
        msg = st->data->data + 5;
        msg_len = st->msg_len;
    }
    for (uint32_t i = 0; i < st->n_hdr; i++) {
        hv[i].name = gb_str_n(st->store.data + st->hdr[i].name_off, st->hdr[i].name_len);
        hv[i].value = gb_str_n(st->store.data + st->hdr[i].val_off, st->hdr[i].val_len);
    }
    net_grpc_call call = {
        .method = gb_str_n(st->store.data + st->path_off, st->path_len),
        .headers = hv,
        .n_headers = st->n_hdr,
        .buf = msg_buf,
        .msg = msg,
        .msg_len = msg_len,
        .peer = c->peer,
        .worker = c->worker,
        .tls = s->tls != NULL,
    };
    reply.status = 0;
    s->handler(&call, &reply, s->arg);
    stream_release(st);
    c->buffered -= st->data ? st->data->len : 0;
    gb_buf_unref(st->data);
    st->data = NULL;
    if (reply.message.err != GB_OK) gb_sbuf_reset(&reply.message);
    if (reply.body.err != GB_OK) {
        respond_error(st, 13, "response too large");
        goto out;
    }
    respond_ok(st, reply.status, &reply.message, &reply.body);
out:
    gb_buf_unref(msg_buf);
    gb_sbuf_free(&reply.message);
    gb_sbuf_free(&reply.body);
}

/* ---- nghttp2 callbacks ----------------------------------------------------------------------- */

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
    g_conn *c = user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    g_stream *st = calloc(1, sizeof(*st));
    if (!st) return NGHTTP2_ERR_CALLBACK_FAILURE;
    st->id = f->hd.stream_id;
    st->conn = c;
    st->started_ns = gb_mono_ns();
    gb_sbuf_init(&st->store, 32 * 1024);
    nghttp2_session_set_stream_user_data(ng, st->id, st);
    st->next = c->streams;
    if (c->streams) c->streams->prev = st;
    c->streams = st;
    c->n_streams++;
    return 0;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user)
{
    (void)flags;
    (void)user;
    if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    g_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (!st) return 0;
    gb_str n = gb_str_n(name, namelen), v = gb_str_n(value, valuelen);
    if (gb_str_eq_c(n, ":method")) {
        st->is_post = gb_str_eq_c(v, "POST");
        return 0;
    }
    uint32_t voff = 0;
    if (gb_str_eq_c(n, ":path")) {
        st->path_off = (uint32_t)st->store.len;
        st->path_len = (uint32_t)valuelen;
        gb_sbuf_append(&st->store, value, valuelen);
        gb_sbuf_putc(&st->store, '\0');
        return 0;
    }
    if (namelen && name[0] == ':') return 0;
    if (gb_str_eq_c(n, "content-type")) {
        st->ct_ok = gb_str_eq_c(v, "application/grpc") ||
                    gb_str_has_prefix(v, GB_STR_LIT("application/grpc+")) ||
                    gb_str_has_prefix(v, GB_STR_LIT("application/grpc;"));
    } else if (gb_str_eq_c(n, "grpc-encoding")) {
        st->enc = net_encoding_parse(v);
        if (st->enc != NET_ENC_IDENTITY && st->enc != NET_ENC_GZIP && st->enc != NET_ENC_DEFLATE &&
            st->enc != NET_ENC_ZSTD && st->enc != NET_ENC_SNAPPY)
            st->enc = NET_ENC_UNKNOWN;
    }
    if (st->n_hdr >= GRPC_MAX_HEADERS) {
        st->too_many_headers = true;
        return 0;
    }
    g_hdr *h = &st->hdr[st->n_hdr];
    h->name_off = (uint32_t)st->store.len;
    h->name_len = (uint32_t)namelen;
    gb_sbuf_append(&st->store, name, namelen);
    gb_sbuf_putc(&st->store, '\0');
    voff = (uint32_t)st->store.len;
    h->val_off = voff;
    h->val_len = (uint32_t)valuelen;
    gb_sbuf_append(&st->store, value, valuelen);
    gb_sbuf_putc(&st->store, '\0');
    if (st->store.err == GB_OK)
        st->n_hdr++;
    else
        st->too_many_headers = true;
    return 0;
}

static void headers_done(g_stream *st)
{
    if (!st->is_post) {
        respond_http(st, "405");
        return;
    }
    if (!st->ct_ok) {
        respond_http(st, "415");
        return;
    }
    if (st->too_many_headers) {
        respond_error(st, 8, "grpc: request metadata too large");
        return;
    }
    if (st->enc == NET_ENC_UNKNOWN) {
        gb_str enc = GB_STR_NULL;
        for (uint32_t i = 0; i < st->n_hdr; i++)
            if (st->hdr[i].name_len == 13 &&
                memcmp(st->store.data + st->hdr[i].name_off, "grpc-encoding", 13) == 0)
                enc = gb_str_n(st->store.data + st->hdr[i].val_off, st->hdr[i].val_len);
        respond_error(st, 12, "grpc: Decompressor is not installed for grpc-encoding \"%.*s\"",
                      GB_STR_FMT(enc));
    }
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
    g_conn *c = user;
    net_grpc_server *s = c->srv;
    int64_t now = gb_mono_ns();
    c->got_frame = true;
    switch (f->hd.type) {
    case NGHTTP2_PING:
        if (f->hd.flags & NGHTTP2_FLAG_ACK) {
            c->ping_outstanding = false;
            break;
        }
        {
            bool bad = false;
            if (c->n_streams == 0 && !s->ep.permit_without_stream) bad = true;
            if (c->last_ping_ns && now - c->last_ping_ns < s->ep.min_time) bad = true;
            c->last_ping_ns = now;
            if (bad && ++c->strikes > 2) {
                static const char dbg[] = "too_many_pings";
                nghttp2_submit_goaway(
                    ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(ng),
                    NGHTTP2_ENHANCE_YOUR_CALM, (const uint8_t *)dbg, sizeof(dbg) - 1);
                c->goaway_sent = true;
                c->closing = true;
            }
        }
        break;
    case NGHTTP2_HEADERS: {
        g_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
        if (!st || f->headers.cat != NGHTTP2_HCAT_REQUEST) break;
        headers_done(st);
        if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) dispatch(st);
        break;
    }
    case NGHTTP2_DATA: {
        g_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
        if (st && (f->hd.flags & NGHTTP2_FLAG_END_STREAM)) dispatch(st);
        break;
    }
    default:
        break;
    }
    return 0;
}

/* A request answered before it was fully received (limit exceeded, stalled): reset the stream
 * once the answer has gone out (RFC 9113 8.1) so the client stops sending and the stream stops
 * counting against max_concurrent_streams; see on_frame_send. */
static void stop_request(g_stream *st)
{
    st->rst_after_response = true;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *f, void *user)
{
    (void)user;
    if (!(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) return 0;
    if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) return 0;
    g_stream *st = nghttp2_session_get_stream_user_data(ng, f->hd.stream_id);
    if (st && st->rst_after_response && nghttp2_session_get_stream_remote_close(ng, st->id) == 0)
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
    return 0;
}

static void data_chunk(nghttp2_session *ng, int32_t id, const uint8_t *data, size_t len, g_conn *c);

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data,
                         size_t len, void *user)
{
    (void)flags;
    g_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st || st->done) return 0;
    /* After an early answer (limit exceeded) the client is told to stop uploading, with a
     * RST_STREAM(NO_ERROR) sent only after our trailers: sent earlier, gRPC C-core clients
     * report the reset instead of our status. */
    data_chunk(ng, id, data, len, user);
    if (st->done) stop_request(st);
    return 0;
}

static void data_chunk(nghttp2_session *ng, int32_t id, const uint8_t *data, size_t len, g_conn *c)
{
    net_grpc_server *s = c->srv;
    g_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st || st->done) return;
    if (!st->data) {
        size_t first = len < 5 ? 64 : len;
        if (gb_buf_new(first, &st->data) != GB_OK) {
            respond_error(st, 8, "grpc: out of memory");
            return;
        }
    }
    size_t cur = st->data->len;
    if (c->buffered + len > s->conn_buffer_cap) {
        respond_error(st, 8, "grpc: too much request data buffered on this connection");
        return;
    }
    if (st->prefix_checked && cur + len > 5 + (size_t)st->msg_len) {
        respond_error(st, 13, "grpc: more than one request message on a unary call");
        return;
    }
    if (!st->prefix_checked && cur + len >= 5) {
        /* the prefix is complete: refuse an oversized message before its body arrives and
         * reserve the exact size */
        uint8_t p[5];
        size_t k = 0;
        for (; k < cur && k < 5; k++)
            p[k] = st->data->data[k];
        for (size_t j = 0; k < 5; k++, j++)
            p[k] = data[j];
        bool comp;
        uint32_t mlen;
        net_grpc_frame_header(p, &comp, &mlen);
        if (mlen > s->max_msg) {
            respond_error(st, 8, "grpc: received message larger than max (%u vs. %zu)", mlen,
                          s->max_msg);
            return;
        }
        if (!net_inflight_acquire(5 + (uint64_t)mlen)) {
            respond_error(st, 14, "server busy: too many request bytes in flight");
            return;
        }
        st->reserved = 5 + (uint64_t)mlen;
        st->prefix_checked = true;
        st->msg_len = mlen;
        if (cur + len > 5 + (size_t)mlen) {
            respond_error(st, 13, "grpc: more than one request message on a unary call");
            return;
        }
        if (gb_buf_reserve(&st->data, 5 + (size_t)mlen) != GB_OK) {
            respond_error(st, 8, "grpc: out of memory");
            return;
        }
    }
    if (gb_buf_append(&st->data, data, len) != GB_OK) {
        respond_error(st, 8, "grpc: out of memory");
        return;
    }
    c->buffered += len;
    return;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
    (void)code;
    g_conn *c = user;
    g_stream *st = nghttp2_session_get_stream_user_data(ng, id);
    if (!st) return 0;
    nghttp2_session_set_stream_user_data(ng, id, NULL);
    stream_free(st);
    if (--c->n_streams == 0) c->idle_since_ns = gb_mono_ns();
    return 0;
}

/* ---- connection I/O -------------------------------------------------------------------------- */

static bool conn_done(g_conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_get_length(out) > 0) return false;
    if (c->closing && !nghttp2_session_want_write(c->ng)) return true;
    return !nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng);
}

static void conn_flush(g_conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    if (c->sending) return;
    c->sending = true;
    while (evbuffer_get_length(out) < c->srv->write_hwm) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->ng, &data);
        if (n < 0) {
            c->closing = true;
            break;
        }
        if (n == 0) break;
        if (evbuffer_add(out, data, (size_t)n) != 0) {
            c->closing = true;
            break;
        }
    }
    c->sending = false;
}

/* Plain connections: once libevent's input buffer is empty, keeps reading the socket directly
 * into a per-connection buffer and feeds nghttp2 until the kernel has nothing more. A 1 MB
 * export arrives as 16 KiB DATA frames, often written piece by piece; through the bufferevent
 * every piece cost an epoll round plus ioctl(FIONREAD) + readv, here one recv. Stops at EOF or
 * error without consuming it, so libevent's own read reports it as before. TLS connections go
 * through OpenSSL's bufferevent only. */
static void read_direct(g_conn *c)
{
    if (c->srv->tls || c->closing) return;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd < 0) return;
    if (!c->rx && !(c->rx = malloc(GRPC_RX_SIZE))) return;
    for (int rounds = 0; rounds < GRPC_RX_ROUNDS && !c->closing; rounds++) {
        ssize_t r = recv(fd, c->rx, GRPC_RX_SIZE, MSG_DONTWAIT);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return; /* EAGAIN, EOF, error: left to libevent */
        c->last_read_ns = gb_mono_ns();
        ssize_t rv = nghttp2_session_mem_recv(c->ng, c->rx, (size_t)r);
        if (rv < 0) {
            gb_log(GB_LOG_DEBUG, "", "grpc: %s: closing connection: %s", c->peer,
                   nghttp2_strerror((int)rv));
            c->closing = true;
            return;
        }
        conn_flush(c); /* WINDOW_UPDATEs and answers go out while the peer keeps sending */
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    g_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    c->last_read_ns = gb_mono_ns();
    while (evbuffer_get_length(in) > 0 && !c->closing) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1) break;
        ssize_t rv = nghttp2_session_mem_recv(c->ng, v.iov_base, v.iov_len);
        if (rv < 0) {
            gb_log(GB_LOG_DEBUG, "", "grpc: %s: closing connection: %s", c->peer,
                   nghttp2_strerror((int)rv));
            c->closing = true;
            evbuffer_drain(in, evbuffer_get_length(in));
            break;
        }
        evbuffer_drain(in, (size_t)rv);
    }
    if (c->closing) evbuffer_drain(in, evbuffer_get_length(in));
    read_direct(c);
    conn_flush(c);
    if (conn_done(c)) conn_free(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    g_conn *c = arg;
    conn_flush(c);
    if (conn_done(c)) conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    g_conn *c = arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) conn_free(c);
}

static void send_goaway(g_conn *c, uint32_t code, const char *dbg)
{
    if (c->goaway_sent) return;
    nghttp2_submit_goaway(c->ng, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(c->ng),
                          code, (const uint8_t *)dbg, dbg ? strlen(dbg) : 0);
    c->goaway_sent = true;
    c->goaway_ns = gb_mono_ns();
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    g_conn *c = arg;
    net_grpc_server *s = c->srv;
    /* ticks come once a second, a little late or early: allow 50 ms so a 1 s setting does
     * not turn into 2 s */
    int64_t now = gb_mono_ns() + 50 * GB_NS_PER_MS;
    if (!c->got_frame && now - c->created_ns > PREFACE_TIMEOUT_NS) {
        conn_free(c);
        return;
    }
    if (s->ka.max_connection_idle > 0 && c->n_streams == 0 &&
        now - c->idle_since_ns > s->ka.max_connection_idle) {
        send_goaway(c, NGHTTP2_NO_ERROR, "max_idle");
        c->closing = true;
    }
    if (s->ka.max_connection_age > 0 && now - c->created_ns > s->ka.max_connection_age) {
        send_goaway(c, NGHTTP2_NO_ERROR, "max_age");
        if (s->ka.max_connection_age_grace > 0 &&
            now - c->goaway_ns > s->ka.max_connection_age_grace) {
            conn_free(c);
            return;
        }
    }
    for (g_stream *st = c->streams; st; st = st->next)
        if (!st->done && now - st->started_ns > STREAM_TIMEOUT_NS) {
            respond_error(st, 4, "grpc: request message not received within %llds",
                          (long long)(STREAM_TIMEOUT_NS / GB_NS_PER_S));
            stop_request(st);
        }
    if (c->goaway_sent && c->n_streams == 0) c->closing = true;
    if (c->ping_outstanding && now - c->ping_sent_ns > s->ka.timeout) {
        conn_free(c);
        return;
    }
    if (!c->ping_outstanding && now - c->last_read_ns > s->ka.time) {
        nghttp2_submit_ping(c->ng, NGHTTP2_FLAG_NONE, NULL);
        c->ping_outstanding = true;
        c->ping_sent_ns = now;
    }
    conn_flush(c);
    if (conn_done(c)) conn_free(c);
}

static void conn_free(g_conn *c)
{
    net_grpc_server *s = c->srv;
    g_worker *w = &s->w[c->worker];
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    while (c->streams)
        stream_free(c->streams); /* nghttp2_session_del calls no callbacks */
    if (c->ng) nghttp2_session_del(c->ng);
    if (c->tick) event_free(c->tick);
    if (c->bev) bufferevent_free(c->bev);
    free(c->rx);
    free(c);
    atomic_fetch_sub(&s->n_conns, 1);
}

static void on_accept(unsigned worker, struct bufferevent *bev, const char *peer, void *arg)
{
    net_grpc_server *s = arg;
    g_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        bufferevent_free(bev);
        return;
    }
    c->srv = s;
    c->worker = worker;
    c->bev = bev;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    c->created_ns = c->idle_since_ns = c->last_read_ns = gb_mono_ns();
    g_worker *w = &s->w[worker];
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    atomic_fetch_add(&s->n_conns, 1);
    c->tick = event_new(bufferevent_get_base(bev), -1, EV_PERSIST, on_tick, c);
    if (!c->tick || nghttp2_session_server_new2(&c->ng, s->cbs, c, s->opt) != 0) {
        conn_free(c);
        return;
    }
    /* MAX_FRAME_SIZE: DATA frames up to the stream window instead of 16 KiB, so a peer that
     * uses it (our client does) sends a 1 MB message in one or two frames, not 64 */
    nghttp2_settings_entry iv[4] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->max_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 64 * 1024},
        {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, STREAM_WINDOW},
    };
    nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, iv, 4);
    nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE, 0, CONN_WINDOW);
    struct timeval one = {1, 0};
    event_add(c->tick, &one);
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    struct timeval wt = {30, 0};
    bufferevent_set_timeouts(bev, NULL, &wt);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    if (atomic_load(&s->draining)) {
        send_goaway(c, NGHTTP2_NO_ERROR, "shutdown");
        c->closing = true;
    }
    conn_flush(c);
}

/* ---- server ---------------------------------------------------------------------------------- */

gb_status net_grpc_server_new(net_pool *pool, const net_grpc_server_cfg *cfg,
                              net_grpc_handler handler, void *arg, net_grpc_server **out, char *err,
                              size_t err_size)
{
    gb_status st = GB_OK;
    net_grpc_server *s = calloc(1, sizeof(*s));
    if (!s) return GB_ERR_NOMEM;
    s->pool = pool;
    s->handler = handler;
    s->arg = arg;
    s->max_msg = cfg->max_recv_msg_size ? cfg->max_recv_msg_size : 4u << 20;
    s->max_streams = cfg->max_concurrent_streams ? cfg->max_concurrent_streams : 100;
    s->write_hwm = cfg->write_buffer_size ? cfg->write_buffer_size : 1u << 20;
    s->conn_buffer_cap = 2 * (s->max_msg + 5);
    if (s->conn_buffer_cap < (64u << 20)) s->conn_buffer_cap = 64u << 20;
    if (cfg->keepalive && cfg->keepalive->server_parameters_set)
        s->ka = cfg->keepalive->server_parameters;
    if (cfg->keepalive && cfg->keepalive->enforcement_policy_set)
        s->ep = cfg->keepalive->enforcement_policy;
    if (s->ka.time <= 0) s->ka.time = 2 * 3600 * GB_NS_PER_S;
    if (s->ka.timeout <= 0) s->ka.timeout = 20 * GB_NS_PER_S;
    if (s->ep.min_time <= 0) s->ep.min_time = 300 * GB_NS_PER_S;
    s->w = calloc(net_pool_size(pool), sizeof(*s->w));
    if (!s->w || nghttp2_session_callbacks_new(&s->cbs) != 0 || nghttp2_option_new(&s->opt) != 0) {
        st = GB_ERR_NOMEM;
        goto fail;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(s->cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(s->cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(s->cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(s->cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(s->cbs, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(s->cbs, on_frame_send);
    nghttp2_option_set_max_deflate_dynamic_table_size(s->opt, 4096);
    if (cfg->tls) {
        SSL_CTX_up_ref(cfg->tls);
        s->tls = cfg->tls;
    }
    st = net_listener_new(pool, cfg->endpoint, s->tls, on_accept, s, &s->lst, err, err_size);
    if (st != GB_OK) goto fail;
    *out = s;
    return GB_OK;
fail:
    net_grpc_server_free(s, 0);
    return st;
}

uint16_t net_grpc_server_port(const net_grpc_server *s)
{
    return net_listener_port(s->lst);
}

static void goaway_all(unsigned i, void *arg)
{
    net_grpc_server *s = arg;
    g_conn *next;
    for (g_conn *c = s->w[i].conns; c; c = next) {
        next = c->next;
        send_goaway(c, NGHTTP2_NO_ERROR, "shutdown");
        if (c->n_streams == 0) c->closing = true;
        conn_flush(c);
        if (conn_done(c)) conn_free(c);
    }
}

static void close_all(unsigned i, void *arg)
{
    net_grpc_server *s = arg;
    while (s->w[i].conns)
        conn_free(s->w[i].conns);
}

void net_grpc_server_free(net_grpc_server *s, int64_t deadline_ns)
{
    if (!s) return;
    net_listener_free(s->lst);
    s->lst = NULL;
    if (s->w) {
        atomic_store(&s->draining, true);
        net_pool_run_each(s->pool, goaway_all, s);
        while (atomic_load(&s->n_conns) > 0 && gb_mono_ns() < deadline_ns) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        net_pool_run_each(s->pool, close_all, s);
    }
    if (s->cbs) nghttp2_session_callbacks_del(s->cbs);
    if (s->opt) nghttp2_option_del(s->opt);
    if (s->tls) SSL_CTX_free(s->tls);
    free(s->w);
    free(s);
}
