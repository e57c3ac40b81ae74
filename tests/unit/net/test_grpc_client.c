#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "base/sbuf.h"
#include "base/timeutil.h"
#include "net/grpc_client.h"

/* ---- endpoint ---- */

static void test_endpoint_forms(void **state)
{
    (void)state;
    net_grpc_endpoint ep;
    char err[200];
    assert_int_equal(net_grpc_parse_endpoint("collector:4317", &ep, err, sizeof(err)), GB_OK);
    assert_string_equal(ep.host, "collector");
    assert_int_equal(ep.port, 4317);
    assert_int_equal(ep.tls_scheme, -1);

    assert_int_equal(net_grpc_parse_endpoint("dns:///tempo.svc:4317", &ep, err, sizeof(err)),
                     GB_OK);
    assert_string_equal(ep.host, "tempo.svc");
    assert_int_equal(ep.port, 4317);

    assert_int_equal(net_grpc_parse_endpoint("dns://8.8.8.8/tempo:55", &ep, err, sizeof(err)),
                     GB_OK);
    assert_string_equal(ep.host, "tempo");
    assert_int_equal(ep.port, 55);

    assert_int_equal(net_grpc_parse_endpoint("http://localhost:4317/", &ep, err, sizeof(err)),
                     GB_OK);
    assert_string_equal(ep.host, "localhost");
    assert_int_equal(ep.tls_scheme, 0);

    assert_int_equal(net_grpc_parse_endpoint("https://otel.example.com", &ep, err, sizeof(err)),
                     GB_OK);
    assert_string_equal(ep.host, "otel.example.com");
    assert_int_equal(ep.port, 443);
    assert_int_equal(ep.tls_scheme, 1);

    assert_int_equal(net_grpc_parse_endpoint("[::1]:4317", &ep, err, sizeof(err)), GB_OK);
    assert_string_equal(ep.host, "::1");
    assert_int_equal(ep.port, 4317);

    assert_int_equal(net_grpc_parse_endpoint("10.0.0.1", &ep, err, sizeof(err)), GB_OK);
    assert_int_equal(ep.port, 443);
}

static void test_endpoint_errors(void **state)
{
    (void)state;
    net_grpc_endpoint ep;
    char err[200];
    const char *bad[] = {"",         "host:0",      "host:65536", "host:43l7", "ftp://h:1",
                         "::1:4317", "[::1:4317",   ":4317",      "dns:///",   "dns://x",
                         "h o:1",    "host:123456", "host:"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(net_grpc_parse_endpoint(bad[i], &ep, err, sizeof(err)), GB_ERR_INVALID);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(net_grpc_parse_endpoint(NULL, &ep, NULL, 0), GB_ERR_INVALID);
}

/* ---- grpc-timeout ---- */

static void test_timeout_format(void **state)
{
    (void)state;
    char b[16];
    net_grpc_format_timeout(5 * GB_NS_PER_S, b, sizeof(b));
    assert_string_equal(b, "5000000u");
    net_grpc_format_timeout(1, b, sizeof(b));
    assert_string_equal(b, "1n");
    net_grpc_format_timeout(0, b, sizeof(b));
    assert_string_equal(b, "1n");
    net_grpc_format_timeout(-5, b, sizeof(b));
    assert_string_equal(b, "1n");
    net_grpc_format_timeout(99999999, b, sizeof(b));
    assert_string_equal(b, "99999999n");
    net_grpc_format_timeout(100000001, b, sizeof(b)); /* rounded up, never shorter */
    assert_string_equal(b, "100001u");
    net_grpc_format_timeout(300 * GB_NS_PER_S, b, sizeof(b));
    assert_string_equal(b, "300000m");
    net_grpc_format_timeout(200000LL * GB_NS_PER_S, b, sizeof(b));
    assert_string_equal(b, "200000S");
    net_grpc_format_timeout(INT64_MAX, b, sizeof(b));
    assert_string_equal(b, "2562048H");
    /* every value fits the 8-digit limit */
    for (int64_t ns = 1; ns < INT64_MAX / 7; ns = ns * 7 + 3) {
        net_grpc_format_timeout(ns, b, sizeof(b));
        assert_true(strlen(b) <= 9);
    }
}

/* ---- RetryInfo ---- */

static void put_varint(gb_sbuf *b, uint64_t v)
{
    while (v >= 0x80) {
        gb_sbuf_putc(b, (char)((v & 0x7f) | 0x80));
        v >>= 7;
    }
    gb_sbuf_putc(b, (char)v);
}

static void put_bytes(gb_sbuf *b, uint32_t field, const void *p, size_t n)
{
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, n);
    gb_sbuf_append(b, p, n);
}

/* google.rpc.Status{code, message, details: [other Any, RetryInfo Any]} */
static void build_status(gb_sbuf *out, bool with_retry, int64_t secs, int32_t nanos,
                         const char *url)
{
    gb_sbuf dur, ri, any, other;
    gb_sbuf_init(&dur, 0);
    gb_sbuf_init(&ri, 0);
    gb_sbuf_init(&any, 0);
    gb_sbuf_init(&other, 0);
    put_varint(&dur, 1 << 3);
    put_varint(&dur, (uint64_t)secs);
    if (nanos) {
        put_varint(&dur, 2 << 3);
        put_varint(&dur, (uint64_t)(int64_t)nanos);
    }
    put_bytes(&ri, 1, dur.data, dur.len);
    put_bytes(&any, 1, url, strlen(url));
    put_bytes(&any, 2, ri.data, ri.len);
    put_bytes(&other, 1, "type.googleapis.com/google.rpc.DebugInfo",
              strlen("type.googleapis.com/google.rpc.DebugInfo"));
    put_bytes(&other, 2, "\x0a\x01x", 3);

    put_varint(out, 1 << 3);
    put_varint(out, 8);
    put_bytes(out, 2, "slow down", 9);
    put_bytes(out, 3, other.data, other.len);
    if (with_retry) put_bytes(out, 3, any.data, any.len);
    gb_sbuf_free(&dur);
    gb_sbuf_free(&ri);
    gb_sbuf_free(&any);
    gb_sbuf_free(&other);
}

static void test_retry_info(void **state)
{
    (void)state;
    gb_sbuf b;
    int64_t d = -1;
    gb_sbuf_init(&b, 0);
    build_status(&b, true, 2, 500000000, "type.googleapis.com/google.rpc.RetryInfo");
    assert_int_equal(net_grpc_parse_retry_info((uint8_t *)b.data, b.len, &d), GB_OK);
    assert_int_equal(d, 2500000000LL);

    gb_sbuf_reset(&b);
    build_status(&b, false, 0, 0, "");
    assert_int_equal(net_grpc_parse_retry_info((uint8_t *)b.data, b.len, &d), GB_ERR_NOTFOUND);
    /* truncated input is malformed, never a crash */
    gb_sbuf_reset(&b);
    build_status(&b, true, 7, 0, "type.googleapis.com/google.rpc.RetryInfo");
    for (size_t cut = 1; cut < b.len; cut++) {
        gb_status st = net_grpc_parse_retry_info((uint8_t *)b.data, cut, &d);
        assert_true(st == GB_ERR_INVALID || st == GB_ERR_NOTFOUND || st == GB_OK);
    }
    assert_int_equal(net_grpc_parse_retry_info((uint8_t *)b.data, b.len - 1, &d), GB_ERR_INVALID);
    /* negative delays are clamped to zero */
    gb_sbuf_reset(&b);
    build_status(&b, true, -3, 0, "type.googleapis.com/google.rpc.RetryInfo");
    assert_int_equal(net_grpc_parse_retry_info((uint8_t *)b.data, b.len, &d), GB_OK);
    assert_int_equal(d, 0);
    gb_sbuf_free(&b);
}

static void test_base64(void **state)
{
    (void)state;
    uint8_t out[32];
    size_t n = 0;
    assert_int_equal(net_grpc_base64_decode("aGVsbG8", 7, out, sizeof(out), &n), GB_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    assert_int_equal(net_grpc_base64_decode("aGVsbG8=", 8, out, sizeof(out), &n), GB_OK);
    assert_int_equal(n, 5);
    assert_int_equal(net_grpc_base64_decode("a$b", 3, out, sizeof(out), &n), GB_ERR_INVALID);
    assert_int_equal(net_grpc_base64_decode("aGVsbG8", 7, out, 3, &n), GB_ERR_LIMIT);
}

/* ---- framing ---- */

static void test_frame_roundtrip(void **state)
{
    (void)state;
    size_t len = 200000;
    uint8_t *msg = malloc(len);
    assert_non_null(msg);
    for (size_t i = 0; i < len; i++)
        msg[i] = (uint8_t)((i * 7) % 13 + (i / 1000));
    static const char *enc[] = {"identity", "gzip", "zstd", "snappy"};
    for (int c = NET_GRPC_COMP_NONE; c <= NET_GRPC_COMP_SNAPPY; c++) {
        gb_sbuf f, m;
        gb_sbuf_init(&f, 0);
        gb_sbuf_init(&m, 0);
        assert_int_equal(net_grpc_frame((net_grpc_compression)c, 0, msg, len, &f), GB_OK);
        uint8_t *p = (uint8_t *)f.data;
        assert_int_equal(p[0], c == NET_GRPC_COMP_NONE ? 0 : 1);
        size_t body = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
        assert_int_equal(body, f.len - 5);
        if (c != NET_GRPC_COMP_NONE) assert_true(body < len);
        assert_string_equal(net_grpc_compression_name((net_grpc_compression)c), enc[c]);
        assert_int_equal(net_grpc_unframe(p, f.len, enc[c], len, &m), GB_OK);
        assert_int_equal(m.len, len);
        assert_memory_equal(m.data, msg, len);
        /* the bound applies after decompression */
        assert_int_equal(net_grpc_unframe(p, f.len, enc[c], len - 1, &m), GB_ERR_LIMIT);
        /* corrupt or truncated frames are rejected */
        assert_int_equal(net_grpc_unframe(p, f.len - 1, enc[c], len, &m), GB_ERR_INVALID);
        if (c != NET_GRPC_COMP_NONE) {
            gb_sbuf g;
            gb_sbuf_init(&g, 0);
            gb_sbuf_append(&g, p, f.len);
            size_t body_len = g.len - 5;
            /* cut the compressed payload in half and fix the length prefix */
            size_t half = body_len / 2;
            uint8_t *q = (uint8_t *)g.data;
            q[1] = (uint8_t)(half >> 24);
            q[2] = (uint8_t)(half >> 16);
            q[3] = (uint8_t)(half >> 8);
            q[4] = (uint8_t)half;
            assert_int_equal(net_grpc_unframe(q, 5 + half, enc[c], len, &m), GB_ERR_INVALID);
            gb_sbuf_free(&g);
        }
        gb_sbuf_free(&f);
        gb_sbuf_free(&m);
    }
    free(msg);
}

static void test_frame_levels(void **state)
{
    (void)state;
    uint8_t msg[20000];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)("abcabcxyz"[i % 9] + i % 7);
    gb_sbuf f, m;
    gb_sbuf_init(&f, 0);
    gb_sbuf_init(&m, 0);
    const struct {
        net_grpc_compression c;
        const char *enc;
        int lo, hi;
    } cases[] = {{NET_GRPC_COMP_GZIP, "gzip", 1, 9}, {NET_GRPC_COMP_ZSTD, "zstd", 1, 19}};
    for (size_t k = 0; k < 2; k++) {
        for (int lvl = cases[k].lo; lvl <= cases[k].hi; lvl += cases[k].hi - cases[k].lo) {
            gb_sbuf_reset(&f);
            assert_int_equal(net_grpc_frame(cases[k].c, lvl, msg, sizeof(msg), &f), GB_OK);
            assert_int_equal(
                net_grpc_unframe((uint8_t *)f.data, f.len, cases[k].enc, sizeof(msg), &m), GB_OK);
            assert_int_equal(m.len, sizeof(msg));
            assert_memory_equal(m.data, msg, sizeof(msg));
        }
        /* an invalid level fails and leaves the buffer as it was */
        gb_sbuf_reset(&f);
        gb_sbuf_puts(&f, "keep");
        assert_int_equal(net_grpc_frame(cases[k].c, 99, msg, sizeof(msg), &f), GB_ERR_INVALID);
        assert_int_equal(f.len, 4);
    }
    gb_sbuf_free(&f);
    gb_sbuf_free(&m);
}

static void test_frame_empty_and_flags(void **state)
{
    (void)state;
    gb_sbuf f, m;
    gb_sbuf_init(&f, 0);
    gb_sbuf_init(&m, 0);
    assert_int_equal(net_grpc_frame(NET_GRPC_COMP_NONE, 0, (const uint8_t *)"", 0, &f), GB_OK);
    assert_int_equal(f.len, 5);
    assert_memory_equal(f.data, "\0\0\0\0\0", 5);
    assert_int_equal(net_grpc_unframe((uint8_t *)f.data, f.len, NULL, 10, &m), GB_OK);
    assert_int_equal(m.len, 0);
    /* compressed flag without an encoding, unknown encoding, bad flag */
    uint8_t bad[6] = {1, 0, 0, 0, 1, 'x'};
    assert_int_equal(net_grpc_unframe(bad, 6, NULL, 10, &m), GB_ERR_INVALID);
    assert_int_equal(net_grpc_unframe(bad, 6, "br", 10, &m), GB_ERR_UNSUPPORTED);
    bad[0] = 2;
    assert_int_equal(net_grpc_unframe(bad, 6, NULL, 10, &m), GB_ERR_INVALID);
    assert_int_equal(net_grpc_unframe(bad, 3, NULL, 10, &m), GB_ERR_INVALID);
    /* gzip frame that a standard zlib can read back: real gzip framing */
    gb_sbuf_reset(&f);
    assert_int_equal(
        net_grpc_frame(NET_GRPC_COMP_GZIP, 0, (const uint8_t *)"hello hello hello", 17, &f), GB_OK);
    uint8_t out[64];
    uLongf outlen = sizeof(out);
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 31), Z_OK);
    z.next_in = (Bytef *)f.data + 5;
    z.avail_in = (uInt)(f.len - 5);
    z.next_out = out;
    z.avail_out = (uInt)outlen;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.total_out, 17);
    assert_memory_equal(out, "hello hello hello", 17);
    inflateEnd(&z);
    gb_sbuf_free(&f);
    gb_sbuf_free(&m);
}

/* ---- client failures are statuses, bounded by the deadline ---- */

static void test_call_refused_and_deadline(void **state)
{
    (void)state;
    net_grpc_client_opts o;
    memset(&o, 0, sizeof(o));
    o.host = "127.0.0.1";
    o.port = 1; /* nothing listens on port 1 on loopback */
    net_grpc_client *c = NULL;
    char err[200];
    assert_int_equal(net_grpc_client_new(&o, &c, err, sizeof(err)), GB_OK);
    net_grpc_result r;
    int64_t t0 = gb_mono_ns();
    gb_status st =
        net_grpc_client_call(c, "/x.Y/Z", (const uint8_t *)"a", 1, NULL, 0, t0 + GB_NS_PER_S, &r);
    assert_int_equal(st, GB_ERR_IO);
    assert_int_equal(r.status, 14);
    assert_true(r.transport_error);
    assert_non_null(strstr(r.message, "connect"));
    assert_true(gb_mono_ns() - t0 < GB_NS_PER_S);
    /* a deadline already past */
    st = net_grpc_client_call(c, "/x.Y/Z", (const uint8_t *)"a", 1, NULL, 0, gb_mono_ns() - 1, &r);
    assert_int_equal(st, GB_ERR_TIMEOUT);
    assert_int_equal(r.status, 4);
    net_grpc_client_free(c);

    /* TLS options are checked when the client is made */
    o.tls.enabled = true;
    o.tls.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(net_grpc_client_new(&o, &c, err, sizeof(err)), GB_ERR_INVALID);
    assert_non_null(strstr(err, "ca_file"));
    o.tls.ca_file = NULL;
    o.tls.cert_file = "/nonexistent/c.pem";
    assert_int_equal(net_grpc_client_new(&o, &c, err, sizeof(err)), GB_ERR_INVALID);
    assert_non_null(strstr(err, "together"));
    o.tls.cert_file = NULL;
    o.tls.min_version = "1.7";
    assert_int_equal(net_grpc_client_new(&o, &c, err, sizeof(err)), GB_ERR_INVALID);
    assert_non_null(strstr(err, "min_version"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoint_forms),
        cmocka_unit_test(test_endpoint_errors),
        cmocka_unit_test(test_timeout_format),
        cmocka_unit_test(test_retry_info),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_frame_roundtrip),
        cmocka_unit_test(test_frame_empty_and_flags),
        cmocka_unit_test(test_frame_levels),
        cmocka_unit_test(test_call_refused_and_deadline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
