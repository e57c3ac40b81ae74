#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "otlp/otlp.h"

static pd_batch *make_batch(unsigned spans)
{
    pd_batch *b;
    assert_int_equal(pd_batch_new(PD_TRACES, 0, &b), GB_OK);
    pd_resource_spans *rs = gb_arena_calloc(&b->arena, 1, sizeof *rs);
    pd_scope_spans *ss = gb_arena_calloc(&b->arena, 1, sizeof *ss);
    pd_span *sp = gb_arena_calloc(&b->arena, spans, sizeof *sp);
    for (unsigned i = 0; i < spans; i++) {
        sp[i].trace_id.b[0] = (uint8_t)(i + 1);
        sp[i].span_id.b[7] = (uint8_t)(i + 1);
        sp[i].name = GB_STR_LIT("span name");
        sp[i].start_time_unix_nano = 1767225600000000000ULL + i;
        pd_attrs_put(&b->arena, &sp[i].attrs, GB_STR_LIT("genops.team"),
                     pd_any_str(GB_STR_LIT("platform")));
    }
    ss->spans = sp;
    ss->n_spans = spans;
    rs->scope_spans = ss;
    rs->n_scope_spans = 1;
    b->u.traces.v = rs;
    b->u.traces.n = 1;
    return b;
}

static void test_inplace_equals_appended(void **state)
{
    (void)state;
    unsigned sizes[] = {1, 50, 3000};
    for (unsigned k = 0; k < 3; k++) {
        pd_batch *b = make_batch(sizes[k]);
        gb_sbuf ref, sb;
        gb_sbuf_init(&ref, 0);
        gb_sbuf_init(&sb, 0);
        assert_int_equal(otlp_encode_proto(b, &ref), GB_OK);
        uint8_t *p = NULL;
        size_t n = 0;
        assert_int_equal(otlp_encode_proto_inplace(b, &sb, 5, &p, &n), GB_OK);
        assert_int_equal(n, ref.len);
        assert_memory_equal(p, ref.data, n);
        /* headroom is inside the buffer and writable */
        assert_true(p - 5 >= (uint8_t *)sb.data);
        memset(p - 5, 0, 5);
        assert_int_equal(sb.len, 0);
        /* reusing the sbuf gives the same bytes again */
        assert_int_equal(otlp_encode_proto_inplace(b, &sb, 5, &p, &n), GB_OK);
        assert_memory_equal(p, ref.data, n);
        gb_sbuf_free(&ref);
        gb_sbuf_free(&sb);
        pd_batch_unref(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_inplace_equals_appended)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
