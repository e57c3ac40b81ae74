#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <snappy-c.h>

#include "base/mem.h"
#include "base/timeutil.h"
#include "net/decompress.h"
#include "net/grpc_server.h"
#include "net/http_server.h"
#include "net/net.h"
#include "receiver/otlp/otlp_receiver.h"

/* ---- endpoints --------------------------------------------------------------------------------
 */

static void test_endpoint_parse(void **state)
{
    (void)state;
    net_endpoint ep;
    char err[128];
    assert_int_equal(net_endpoint_parse("0.0.0.0:4318", &ep, err, sizeof(err)), GB_OK);
    assert_string_equal(ep.host, "0.0.0.0");
    assert_int_equal(ep.port, 4318);
    assert_int_equal(net_endpoint_parse(":4317", &ep, err, sizeof(err)), GB_OK);
    assert_string_equal(ep.host, "");
    assert_int_equal(ep.port, 4317);
    assert_int_equal(net_endpoint_parse("[::1]:9", &ep, err, sizeof(err)), GB_OK);
    assert_string_equal(ep.host, "::1");
    assert_int_equal(ep.port, 9);
    assert_int_equal(net_endpoint_parse("localhost:0", &ep, err, sizeof(err)), GB_OK);
    assert_string_equal(ep.host, "localhost");
    assert_int_equal(ep.port, 0);

    assert_int_equal(net_endpoint_parse("localhost:43l8", &ep, err, sizeof(err)), GB_ERR_INVALID);
    assert_string_equal(err, "invalid port \"43l8\"");
    assert_int_equal(net_endpoint_parse("localhost:65536", &ep, err, sizeof(err)), GB_ERR_INVALID);
    assert_non_null(strstr(err, "invalid port"));
    assert_int_equal(net_endpoint_parse("localhost:", &ep, err, sizeof(err)), GB_ERR_INVALID);
    assert_non_null(strstr(err, "invalid port"));
    assert_int_equal(net_endpoint_parse("localhost", &ep, err, sizeof(err)), GB_ERR_INVALID);
    assert_non_null(strstr(err, "missing port"));
    assert_int_equal(net_endpoint_parse("::1:4318", &ep, err, sizeof(err)), GB_ERR_INVALID);
    assert_non_null(strstr(err, "too many colons"));
    assert_int_equal(net_endpoint_parse("[::1:4318", &ep, err, sizeof(err)), GB_ERR_INVALID);
    assert_int_equal(net_endpoint_parse("", &ep, err, sizeof(err)), GB_ERR_INVALID);
    assert_int_equal(net_endpoint_parse("a b:1", &ep, err, sizeof(err)), GB_ERR_INVALID);
}

static void test_endpoint_resolve(void **state)
{
    (void)state;
    net_endpoint ep;
    struct sockaddr_storage ss;
    socklen_t len;
    char err[128], txt[80];
    assert_int_equal(net_endpoint_parse("localhost:4318", &ep, err, sizeof(err)), GB_OK);
    assert_int_equal(net_endpoint_resolve(&ep, &ss, &len, err, sizeof(err)), GB_OK);
    net_sockaddr_str((struct sockaddr *)&ss, txt, sizeof(txt));
    assert_string_equal(txt, "127.0.0.1:4318");
    assert_int_equal(net_endpoint_parse("[::1]:80", &ep, err, sizeof(err)), GB_OK);
    assert_int_equal(net_endpoint_resolve(&ep, &ss, &len, err, sizeof(err)), GB_OK);
    net_sockaddr_str((struct sockaddr *)&ss, txt, sizeof(txt));
    assert_string_equal(txt, "[::1]:80");
}

/* ---- decompression ----------------------------------------------------------------------------
 */

static uint8_t *gzip_bytes(const uint8_t *in, size_t len, int window_bits, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, len) + 64;
    uint8_t *out = malloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

static void test_decompress_roundtrip(void **state)
{
    (void)state;
    const char *text = "hello hello hello hello OTLP";
    size_t tl = strlen(text);
    int bits[3] = {15 + 16, 15, -15}; /* gzip, zlib, raw deflate */
    net_encoding encs[3] = {NET_ENC_GZIP, NET_ENC_DEFLATE, NET_ENC_DEFLATE};
    for (int i = 0; i < 3; i++) {
        size_t cl;
        uint8_t *c = gzip_bytes((const uint8_t *)text, tl, bits[i], &cl);
        gb_buf *out = NULL;
        char err[128];
        assert_int_equal(net_decompress(encs[i], c, cl, 1024, &out, err, sizeof(err)), GB_OK);
        assert_int_equal(out->len, tl);
        assert_memory_equal(out->data, text, tl);
        gb_buf_unref(out);
        /* truncated input is an error, never a success with partial data */
        assert_int_equal(net_decompress(encs[i], c, cl / 2, 1024, &out, err, sizeof(err)),
                         GB_ERR_INVALID);
        free(c);
    }
    /* zstd */
    size_t zb = ZSTD_compressBound(tl);
    uint8_t *z = malloc(zb);
    size_t zl = ZSTD_compress(z, zb, text, tl, 3);
    assert_false(ZSTD_isError(zl));
    gb_buf *out = NULL;
    char err[128];
    assert_int_equal(net_decompress(NET_ENC_ZSTD, z, zl, 1024, &out, err, sizeof(err)), GB_OK);
    assert_int_equal(out->len, tl);
    assert_memory_equal(out->data, text, tl);
    gb_buf_unref(out);
    free(z);
    /* snappy */
    size_t sl = snappy_max_compressed_length(tl);
    char *sn = malloc(sl);
    assert_int_equal(snappy_compress(text, tl, sn, &sl), SNAPPY_OK);
    assert_int_equal(
        net_decompress(NET_ENC_SNAPPY, (uint8_t *)sn, sl, 1024, &out, err, sizeof(err)), GB_OK);
    assert_int_equal(out->len, tl);
    gb_buf_unref(out);
    assert_int_equal(net_decompress(NET_ENC_SNAPPY, (uint8_t *)sn, sl, 10, &out, err, sizeof(err)),
                     GB_ERR_LIMIT);
    free(sn);
    /* garbage */
    const uint8_t junk[] = {0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01};
    assert_int_equal(net_decompress(NET_ENC_GZIP, junk, sizeof(junk), 1024, &out, err, sizeof(err)),
                     GB_ERR_INVALID);
    assert_true(strlen(err) > 0);
    assert_int_equal(net_decompress(NET_ENC_ZSTD, junk, sizeof(junk), 1024, &out, err, sizeof(err)),
                     GB_ERR_INVALID);
    assert_int_equal(
        net_decompress(NET_ENC_UNKNOWN, junk, sizeof(junk), 1024, &out, err, sizeof(err)),
        GB_ERR_UNSUPPORTED);
}

static void test_decompress_bomb_is_bounded(void **state)
{
    (void)state;
    size_t big = 64u << 20; /* 64 MiB of zeros compresses to ~64 KiB */
    uint8_t *zeros = calloc(1, big);
    size_t cl;
    uint8_t *c = gzip_bytes(zeros, big, 15 + 16, &cl);
    free(zeros);
    assert_true(cl < 200 * 1024);
    int64_t before = gb_mem_in_flight();
    gb_buf *out = NULL;
    char err[128];
    int64_t t0 = gb_mono_ns();
    assert_int_equal(net_decompress(NET_ENC_GZIP, c, cl, 1u << 20, &out, err, sizeof(err)),
                     GB_ERR_LIMIT);
    assert_true(gb_mono_ns() - t0 < 2 * GB_NS_PER_S);
    assert_null(out);
    assert_int_equal(gb_mem_in_flight(), before); /* everything released */
    assert_non_null(strstr(err, "exceeds"));
    free(c);

    /* zstd bomb */
    zeros = calloc(1, big);
    size_t zb = ZSTD_compressBound(big);
    uint8_t *z = malloc(zb);
    size_t zl = ZSTD_compress(z, zb, zeros, big, 1);
    free(zeros);
    assert_int_equal(net_decompress(NET_ENC_ZSTD, z, zl, 1u << 20, &out, err, sizeof(err)),
                     GB_ERR_LIMIT);
    free(z);
    /* identity over the limit */
    uint8_t small[16] = {0};
    assert_int_equal(net_decompress(NET_ENC_IDENTITY, small, 16, 8, &out, err, sizeof(err)),
                     GB_ERR_LIMIT);
    /* exactly at the limit is fine */
    assert_int_equal(net_decompress(NET_ENC_IDENTITY, small, 16, 16, &out, err, sizeof(err)),
                     GB_OK);
    gb_buf_unref(out);
}

static void test_inflight_budget(void **state)
{
    (void)state;
    net_inflight_set_limit(1000);
    assert_int_equal(net_inflight_limit(), 1000);
    assert_true(net_inflight_acquire(600));
    assert_false(net_inflight_acquire(600));
    assert_false(net_inflight_acquire(UINT64_MAX));
    assert_true(net_inflight_acquire(400));
    assert_int_equal(net_inflight_bytes(), 1000);
    net_inflight_release(600);
    assert_true(net_inflight_acquire(600));
    net_inflight_release(1000);
    assert_int_equal(net_inflight_bytes(), 0);
    net_inflight_set_limit(0); /* back to the default */
    assert_true(net_inflight_limit() >= (64u << 20));
}

static void test_encoding_parse(void **state)
{
    (void)state;
    assert_int_equal(net_encoding_parse(GB_STR_LIT("gzip")), NET_ENC_GZIP);
    assert_int_equal(net_encoding_parse(GB_STR_LIT("GZIP")), NET_ENC_GZIP);
    assert_int_equal(net_encoding_parse(GB_STR_LIT("x-gzip")), NET_ENC_GZIP);
    assert_int_equal(net_encoding_parse(GB_STR_LIT(" deflate ")), NET_ENC_DEFLATE);
    assert_int_equal(net_encoding_parse(GB_STR_LIT("zstd")), NET_ENC_ZSTD);
    assert_int_equal(net_encoding_parse(GB_STR_LIT("")), NET_ENC_IDENTITY);
    assert_int_equal(net_encoding_parse(GB_STR_NULL), NET_ENC_IDENTITY);
    assert_int_equal(net_encoding_parse(GB_STR_LIT("identity")), NET_ENC_IDENTITY);
    assert_int_equal(net_encoding_parse(GB_STR_LIT("br")), NET_ENC_UNKNOWN);
}

/* ---- gRPC framing -----------------------------------------------------------------------------
 */

static void test_grpc_framing(void **state)
{
    (void)state;
    uint8_t p[5];
    bool comp;
    uint32_t len;
    net_grpc_frame_write(p, true, 0x01020304u);
    assert_int_equal(p[0], 1);
    assert_int_equal(p[1], 1);
    assert_int_equal(p[4], 4);
    net_grpc_frame_header(p, &comp, &len);
    assert_true(comp);
    assert_int_equal(len, 0x01020304u);
    net_grpc_frame_write(p, false, 5);
    net_grpc_frame_header(p, &comp, &len);
    assert_false(comp);
    assert_int_equal(len, 5);

    gb_sbuf e, d;
    gb_sbuf_init(&e, 0);
    gb_sbuf_init(&d, 0);
    const char *msg = "bad 100% \xc3\xa9\n";
    net_grpc_percent_encode(msg, strlen(msg), &e);
    assert_string_equal(e.data, "bad 100%25 %C3%A9%0A");
    net_grpc_percent_decode(e.data, e.len, &d);
    assert_string_equal(d.data, msg);
    gb_sbuf_reset(&d);
    net_grpc_percent_decode("50%", 3, &d); /* dangling escape kept */
    assert_string_equal(d.data, "50%");
    gb_sbuf_free(&e);
    gb_sbuf_free(&d);
}

/* ---- CORS -------------------------------------------------------------------------------------
 */

static void test_cors_origins(void **state)
{
    (void)state;
    char *o1[] = {"http://*", "https://*.example.com", "https://exact.org"};
    cfg_strings allowed = {o1, 3};
    assert_true(otlprecv_cors_origin_allowed(&allowed, GB_STR_LIT("http://localhost:3000")));
    assert_true(otlprecv_cors_origin_allowed(&allowed, GB_STR_LIT("HTTP://Foo")));
    assert_true(otlprecv_cors_origin_allowed(&allowed, GB_STR_LIT("https://app.example.com")));
    assert_false(otlprecv_cors_origin_allowed(&allowed, GB_STR_LIT("https://example.com")));
    assert_false(otlprecv_cors_origin_allowed(&allowed, GB_STR_LIT("https://evil.com")));
    assert_true(otlprecv_cors_origin_allowed(&allowed, GB_STR_LIT("https://exact.org")));
    assert_false(otlprecv_cors_origin_allowed(&allowed, GB_STR_LIT("https://exact.org.evil")));
    char *o2[] = {"*"};
    cfg_strings any = {o2, 1};
    assert_true(otlprecv_cors_origin_allowed(&any, GB_STR_LIT("null")));
    cfg_strings none = {NULL, 0};
    assert_false(otlprecv_cors_origin_allowed(&none, GB_STR_LIT("http://x")));
}

/* ---- pool and listeners -----------------------------------------------------------------------
 */

static atomic_int g_ran[8];
static atomic_int g_bad_thread;
static void mark(unsigned i, void *arg)
{
    net_pool *p = arg;
    if (net_pool_current(p) != (int)i) atomic_fetch_add(&g_bad_thread, 1);
    atomic_fetch_add(&g_ran[i], 1);
}

static void test_pool_run_each(void **state)
{
    (void)state;
    net_pool *p = NULL;
    assert_int_equal(net_pool_new(3, &p), GB_OK);
    assert_int_equal(net_pool_size(p), 3);
    assert_int_equal(net_pool_start(p), GB_OK);
    assert_int_equal(net_pool_current(p), -1);
    for (int k = 0; k < 5; k++)
        assert_int_equal(net_pool_run_each(p, mark, p), GB_OK);
    assert_int_equal(net_pool_run(p, 1, mark, p), GB_OK);
    assert_int_equal(atomic_load(&g_ran[0]), 5);
    assert_int_equal(atomic_load(&g_ran[1]), 6);
    assert_int_equal(atomic_load(&g_ran[2]), 5);
    assert_int_equal(atomic_load(&g_bad_thread), 0);
    assert_int_equal(net_pool_run(p, 7, mark, p), GB_ERR_INVALID);
    net_pool_stop(p);
    net_pool_stop(p); /* idempotent */
    net_pool_free(p);
}

static int connect_port(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

#include <event2/bufferevent.h>
static atomic_int g_accepted;
static atomic_int g_accepted_on[4];
static void count_accept(unsigned worker, struct bufferevent *bev, const char *peer, void *arg)
{
    (void)peer;
    (void)arg;
    atomic_fetch_add(&g_accepted, 1);
    if (worker < 4) atomic_fetch_add(&g_accepted_on[worker], 1);
    bufferevent_free(bev);
}

static void test_listener_ephemeral_and_taken(void **state)
{
    (void)state;
    net_pool *p = NULL;
    net_listener *l = NULL, *l2 = NULL;
    char err[256];
    assert_int_equal(net_pool_new(3, &p), GB_OK);
    assert_int_equal(net_pool_start(p), GB_OK);
    assert_int_equal(
        net_listener_new(p, "127.0.0.1:0", NULL, count_accept, NULL, &l, err, sizeof(err)), GB_OK);
    uint16_t port = net_listener_port(l);
    assert_true(port > 0);
    for (int i = 0; i < 60; i++) {
        int fd = connect_port(port);
        assert_true(fd >= 0);
        close(fd);
    }
    for (int i = 0; i < 200 && atomic_load(&g_accepted) < 60; i++)
        usleep(10000);
    assert_int_equal(atomic_load(&g_accepted), 60);
    /* the kernel spread connections over more than one worker */
    int used = 0;
    for (int i = 0; i < 3; i++)
        used += atomic_load(&g_accepted_on[i]) > 0;
    assert_true(used >= 2);

    char ep[64];
    snprintf(ep, sizeof(ep), "127.0.0.1:%u", port);
    assert_int_equal(net_listener_new(p, ep, NULL, count_accept, NULL, &l2, err, sizeof(err)),
                     GB_ERR_IO);
    assert_non_null(strstr(err, "in use"));
    assert_int_equal(
        net_listener_new(p, "127.0.0.1:43l8", NULL, count_accept, NULL, &l2, err, sizeof(err)),
        GB_ERR_INVALID);
    assert_string_equal(err, "invalid port \"43l8\"");
    net_listener_free(l);
    /* the port is free again */
    assert_int_equal(net_listener_new(p, ep, NULL, count_accept, NULL, &l2, err, sizeof(err)),
                     GB_OK);
    net_listener_free(l2);
    net_pool_free(p);
}

/* ---- HTTP server ------------------------------------------------------------------------------
 */

static atomic_int g_too_large_seen;

static void echo_handler(const net_http_request *req, net_http_response *resp, void *arg)
{
    (void)arg;
    if (req->body_too_large) {
        atomic_fetch_add(&g_too_large_seen, 1);
        net_http_resp_set(resp, 400, "text/plain", "too big", 7);
        return;
    }
    char b[256];
    gb_str x = net_http_header_get(req, "x-test");
    int n = snprintf(b, sizeof(b), "%.*s %.*s q=%.*s len=%zu x=%.*s", GB_STR_FMT(req->method),
                     GB_STR_FMT(req->path), GB_STR_FMT(req->query), req->body->len, GB_STR_FMT(x));
    net_http_resp_header(resp, "X-Bad", "a\r\nInjected: 1"); /* dropped */
    net_http_resp_set(resp, 200, "text/plain", b, (size_t)n);
}

/* Sends req, reads until the peer closes or `want` responses' worth of text arrived (counted by
 * "HTTP/1.1 " occurrences with complete bodies is overkill here: read with a short timeout). */
static size_t exchange(int fd, const char *req, size_t req_len, char *out, size_t out_size,
                       int timeout_ms)
{
    if (req_len) assert_int_equal(write(fd, req, req_len), (ssize_t)req_len);
    size_t got = 0;
    int64_t deadline = gb_mono_ns() + (int64_t)timeout_ms * GB_NS_PER_MS;
    while (got < out_size - 1) {
        int left = (int)((deadline - gb_mono_ns()) / GB_NS_PER_MS);
        if (left <= 0) break;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, left) <= 0) break;
        ssize_t n = read(fd, out + got, out_size - 1 - got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    out[got] = '\0';
    return got;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_http_server(void **state)
{
    (void)state;
    net_pool *p = NULL;
    net_http_server *s = NULL;
    char err[256], out[8192];
    assert_int_equal(net_pool_new(2, &p), GB_OK);
    assert_int_equal(net_pool_start(p), GB_OK);
    net_http_server_cfg cfg = {.endpoint = "127.0.0.1:0",
                               .max_body_size = 100,
                               .header_timeout_ns = 300 * GB_NS_PER_MS,
                               .request_timeout_ns = 1000 * GB_NS_PER_MS};
    assert_int_equal(net_http_server_new(p, &cfg, echo_handler, NULL, &s, err, sizeof(err)), GB_OK);
    uint16_t port = net_http_server_port(s);

    /* keep-alive + pipelining: two requests in one write, answered in order */
    int fd = connect_port(port);
    const char *two = "POST /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Test:  v1 \r\nContent-Length: 5\r\n\r\n"
                      "hello"
                      "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    exchange(fd, two, strlen(two), out, sizeof(out), 300);
    assert_non_null(strstr(out, "POST /a q=x=1 len=5 x=v1"));
    assert_non_null(strstr(out, "GET /b q= len=0"));
    assert_true(strstr(out, "POST /a") < strstr(out, "GET /b"));
    assert_null(strstr(out, "Injected"));
    /* absolute-form target */
    const char *absf = "GET http://h:1/abs/p?q=2 HTTP/1.1\r\nHost: h\r\n\r\n";
    exchange(fd, absf, strlen(absf), out, sizeof(out), 300);
    assert_non_null(strstr(out, "GET /abs/p q=q=2 len=0"));
    /* chunked body on the same connection */
    const char *ch = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n";
    exchange(fd, ch, strlen(ch), out, sizeof(out), 300);
    assert_non_null(strstr(out, "POST /c q= len=7"));
    close(fd);

    /* too large: the handler sees the flag and answers; the connection is closed */
    fd = connect_port(port);
    const char *big = "POST /big HTTP/1.1\r\nContent-Length: 1000\r\n\r\n";
    exchange(fd, big, strlen(big), out, sizeof(out), 500);
    assert_non_null(strstr(out, "HTTP/1.1 400 Bad Request"));
    assert_non_null(strstr(out, "Connection: close"));
    assert_int_equal(atomic_load(&g_too_large_seen), 1);
    close(fd);
    /* chunked past the limit */
    fd = connect_port(port);
    const char *bigch = "POST /big HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "64\r\n";
    exchange(fd, bigch, strlen(bigch), out, sizeof(out), 100);
    char filler[101];
    memset(filler, 'a', 100);
    filler[100] = 0;
    char more[400];
    snprintf(more, sizeof(more), "%s\r\n1\r\nb\r\n0\r\n\r\n", filler);
    exchange(fd, more, strlen(more), out, sizeof(out), 500);
    assert_non_null(strstr(out, "400 Bad Request"));
    assert_int_equal(atomic_load(&g_too_large_seen), 2);
    close(fd);

    /* malformed requests */
    const char *bad[] = {
        "GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\n bad: fold\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        fd = connect_port(port);
        exchange(fd, bad[i], strlen(bad[i]), out, sizeof(out), 500);
        assert_non_null(strstr(out, "HTTP/1.1 400"));
        close(fd);
    }
    /* slow client: the head does not complete in time -> 408 and close */
    fd = connect_port(port);
    int64_t t0 = gb_mono_ns();
    exchange(fd, "GET / HTTP/1.1\r\nHost:", 21, out, sizeof(out), 3000);
    assert_non_null(strstr(out, "408"));
    assert_true(gb_mono_ns() - t0 < 2 * GB_NS_PER_S);
    close(fd);
    /* the body has its own deadline: slower than the header timeout is fine... */
    fd = connect_port(port);
    const char *part = "POST /slow HTTP/1.1\r\nContent-Length: 4\r\n\r\nab";
    exchange(fd, part, strlen(part), out, sizeof(out), 500);
    assert_int_equal(out[0], '\0');
    exchange(fd, "cd", 2, out, sizeof(out), 300);
    assert_non_null(strstr(out, "POST /slow q= len=4"));
    /* ...but a body that stops coming gets 408 */
    t0 = gb_mono_ns();
    exchange(fd, part, strlen(part), out, sizeof(out), 3000);
    assert_non_null(strstr(out, "408"));
    assert_true(gb_mono_ns() - t0 < 2 * GB_NS_PER_S);
    close(fd);
    /* process-wide in-flight budget: a body that does not fit is refused with 503 */
    net_inflight_set_limit(50);
    fd = connect_port(port);
    const char *over = "POST /o HTTP/1.1\r\nContent-Length: 80\r\n\r\n";
    exchange(fd, over, strlen(over), out, sizeof(out), 500);
    assert_non_null(strstr(out, "HTTP/1.1 503"));
    close(fd);
    net_inflight_set_limit(0);
    assert_int_equal(net_inflight_bytes(), 0);
    /* HTTP/1.0 closes after the response */
    fd = connect_port(port);
    exchange(fd, "GET /z HTTP/1.0\r\n\r\n", 19, out, sizeof(out), 2000);
    assert_int_equal(count_of(out, "HTTP/1.1 200"), 1);
    assert_non_null(strstr(out, "Connection: close"));
    close(fd);

    net_http_server_free(s);
    /* listener closed */
    assert_true(connect_port(port) < 0);
    net_pool_free(p);
}

/* Large Content-Length bodies are read straight from the socket into the request buffer: the
 * body may arrive in pieces, must come out byte-exact, and bytes after it (a pipelined request)
 * must stay for the parser. */
static void sum_handler(const net_http_request *req, net_http_response *resp, void *arg)
{
    (void)arg;
    char b[128];
    uint32_t sum = 0;
    if (req->body)
        for (size_t i = 0; i < req->body->len; i++)
            sum = sum * 31u + req->body->data[i];
    int n = snprintf(b, sizeof(b), "%.*s len=%zu sum=%u too_large=%d", GB_STR_FMT(req->path),
                     req->body ? req->body->len : 0, sum, (int)req->body_too_large);
    net_http_resp_set(resp, 200, "text/plain", b, (size_t)n);
}

static void write_all_fd(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        assert_true(w > 0);
        p += w;
        n -= (size_t)w;
    }
}

static void test_http_server_large_body_pieces(void **state)
{
    (void)state;
    net_pool *p = NULL;
    net_http_server *s = NULL;
    char err[256], out[8192], want[128], head[128];
    const size_t blen = 700 * 1024; /* more than libevent's largest single read */
    uint8_t *body = malloc(blen);
    assert_non_null(body);
    uint32_t sum = 0;
    for (size_t i = 0; i < blen; i++) {
        body[i] = (uint8_t)(i * 7u + i / 251u);
        sum = sum * 31u + body[i];
    }
    assert_int_equal(net_pool_new(1, &p), GB_OK);
    assert_int_equal(net_pool_start(p), GB_OK);
    net_http_server_cfg cfg = {.endpoint = "127.0.0.1:0", .max_body_size = 1 << 20};
    assert_int_equal(net_http_server_new(p, &cfg, sum_handler, NULL, &s, err, sizeof(err)), GB_OK);
    uint16_t port = net_http_server_port(s);
    int fd = connect_port(port);
    int hl =
        snprintf(head, sizeof(head), "POST /big HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", blen);
    /* head and a first slice together, the rest in uneven pieces with pauses, then the body's
     * last bytes and a pipelined request in the same write */
    write_all_fd(fd, (const uint8_t *)head, (size_t)hl);
    size_t off = 0;
    const size_t pieces[] = {1000, 3, 65536, 300000, 17};
    for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
        write_all_fd(fd, body + off, pieces[i]);
        off += pieces[i];
        usleep(20000);
    }
    size_t rest = blen - off;
    const char *next = "POST /small HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz";
    uint8_t *tail = malloc(rest + strlen(next));
    assert_non_null(tail);
    memcpy(tail, body + off, rest);
    memcpy(tail + rest, next, strlen(next));
    write_all_fd(fd, tail, rest + strlen(next));
    exchange(fd, NULL, 0, out, sizeof(out), 1000);
    snprintf(want, sizeof(want), "/big len=%zu sum=%u too_large=0", blen, sum);
    assert_non_null(strstr(out, want));
    uint32_t xs = 0;
    for (const char *q = "xyz"; *q; q++)
        xs = xs * 31u + (uint8_t)*q;
    snprintf(want, sizeof(want), "/small len=3 sum=%u too_large=0", xs);
    assert_non_null(strstr(out, want));
    assert_true(strstr(out, "/big") < strstr(out, "/small"));
    assert_int_equal(count_of(out, "HTTP/1.1 200"), 2);
    close(fd);

    /* the client goes away in the middle of a body: the connection is dropped, the server
     * keeps serving */
    fd = connect_port(port);
    write_all_fd(fd, (const uint8_t *)head, (size_t)hl);
    write_all_fd(fd, body, 200000);
    close(fd);
    fd = connect_port(port);
    exchange(fd, next, strlen(next), out, sizeof(out), 1000);
    assert_non_null(strstr(out, want));
    close(fd);

    free(tail);
    free(body);
    net_http_server_free(s);
    net_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_parse),
        cmocka_unit_test(test_endpoint_resolve),
        cmocka_unit_test(test_decompress_roundtrip),
        cmocka_unit_test(test_decompress_bomb_is_bounded),
        cmocka_unit_test(test_encoding_parse),
        cmocka_unit_test(test_inflight_budget),
        cmocka_unit_test(test_grpc_framing),
        cmocka_unit_test(test_cors_origins),
        cmocka_unit_test(test_pool_run_each),
        cmocka_unit_test(test_listener_ephemeral_and_taken),
        cmocka_unit_test(test_http_server),
        cmocka_unit_test(test_http_server_large_body_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
