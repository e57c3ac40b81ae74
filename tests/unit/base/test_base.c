#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/sbuf.h"
#include "base/telemetry.h"
#include "base/timeutil.h"

static void test_arena_alloc_and_grow(void **state)
{
    (void)state;
    gb_arena a;
    gb_arena_init(&a, 64, 0);
    int64_t before = gb_mem_in_flight();
    char *p = gb_arena_alloc(&a, 10);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 8, 0);
    void *big = gb_arena_alloc(&a, 100000);
    assert_non_null(big);
    assert_true(gb_mem_in_flight() > before);
    gb_str s;
    assert_int_equal(gb_arena_dup(&a, "hello", 5, &s), GB_OK);
    assert_true(gb_str_eq_c(s, "hello"));
    assert_int_equal(s.ptr[5], '\0');
    uint32_t cap = 0;
    int *items = NULL;
    void *vp = items;
    assert_int_equal(gb_arena_grow(&a, &vp, 0, &cap, 3, sizeof(int)), GB_OK);
    assert_true(cap >= 3);
    gb_arena_free(&a);
    assert_int_equal(gb_mem_in_flight(), before);
}

static void test_arena_limit(void **state)
{
    (void)state;
    gb_arena a;
    gb_arena_init(&a, 1024, 4096);
    assert_non_null(gb_arena_alloc(&a, 1000));
    assert_null(gb_arena_alloc(&a, 8000));
    gb_arena_free(&a);
}

static void test_buf_refcount(void **state)
{
    (void)state;
    gb_buf *b;
    assert_int_equal(gb_buf_new(4, &b), GB_OK);
    assert_int_equal(gb_buf_append(&b, "abcdefgh", 8), GB_OK);
    assert_int_equal(b->len, 8);
    gb_buf_ref(b);
    gb_buf_unref(b);
    assert_memory_equal(b->data, "abcdefgh", 8);
    gb_buf_unref(b);
}

static void test_sbuf_json_escape(void **state)
{
    (void)state;
    gb_sbuf s;
    gb_sbuf_init(&s, 0);
    gb_sbuf_json_escape(&s, "a\"b\\c\n\x01\xc3\xa9\xff", 10);
    assert_string_equal(s.data, "a\\\"b\\\\c\\n\\u0001\xc3\xa9\\ufffd");
    gb_sbuf_free(&s);
    gb_sbuf_init(&s, 8);
    assert_int_equal(gb_sbuf_puts(&s, "0123456789"), GB_ERR_LIMIT);
    assert_int_equal(gb_sbuf_puts(&s, "0"), GB_ERR_LIMIT);
    gb_sbuf_free(&s);
}

static void test_telemetry_render(void **state)
{
    (void)state;
    gb_series *c, *c2, *g, *h;
    assert_int_equal(gb_tm_counter("otelcol_receiver_accepted_spans", "Spans accepted.",
                                   "receiver=\"otlp\",transport=\"http\"", &c),
                     GB_OK);
    assert_int_equal(gb_tm_counter("otelcol_receiver_accepted_spans", "Spans accepted.",
                                   "receiver=\"otlp\",transport=\"http\"", &c2),
                     GB_OK);
    assert_ptr_equal(c, c2);
    gb_series_add(c, 5);
    gb_tm_gauge("otelcol_exporter_queue_size", "Queue size.", "exporter=\"x\"", &g);
    gb_series_set(g, 7);
    double bounds[] = {10, 100};
    gb_tm_histogram("otelcol_processor_batch_batch_send_size", "Sizes.", "", bounds, 2, &h);
    gb_series_observe(h, 50);
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    assert_int_equal(gb_tm_render(&out), GB_OK);
    assert_non_null(strstr(out.data, "# TYPE otelcol_receiver_accepted_spans_total counter\n"));
    assert_non_null(strstr(out.data, "otelcol_receiver_accepted_spans_total{receiver=\"otlp\",transport=\"http\"} 5\n"));
    assert_non_null(strstr(out.data, "otelcol_exporter_queue_size{exporter=\"x\"} 7\n"));
    assert_non_null(strstr(out.data, "otelcol_processor_batch_batch_send_size_bucket{le=\"10\"} 0\n"));
    assert_non_null(strstr(out.data, "otelcol_processor_batch_batch_send_size_bucket{le=\"100\"} 1\n"));
    assert_non_null(strstr(out.data, "otelcol_processor_batch_batch_send_size_count 1\n"));
    gb_sbuf_free(&out);
    gb_tm_reset();
}

static void test_time_format(void **state)
{
    (void)state;
    char buf[64];
    gb_fmt_rfc3339(1767225600123000000LL, buf, sizeof buf);
    assert_string_equal(buf, "2026-01-01T00:00:00.123Z");
    gb_fmt_duration(3723 * GB_NS_PER_S + 500 * GB_NS_PER_MS, buf, sizeof buf);
    assert_string_equal(buf, "1h2m3.5s");
    gb_fmt_duration(250 * GB_NS_PER_MS, buf, sizeof buf);
    assert_string_equal(buf, "250ms");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alloc_and_grow), cmocka_unit_test(test_arena_limit),
        cmocka_unit_test(test_buf_refcount),         cmocka_unit_test(test_sbuf_json_escape),
        cmocka_unit_test(test_telemetry_render),     cmocka_unit_test(test_time_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
