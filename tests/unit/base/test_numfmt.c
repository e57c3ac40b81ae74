/* gb_fmt_double: Go's strconv.FormatFloat(d, 'f', -1, 64) text (expected strings are Go's), the
 * longest texts fit GB_FMT_DOUBLE_MAX, and a small buffer is cut, NUL-terminated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/numfmt.h"

static void expect(double d, const char *want)
{
    char buf[GB_FMT_DOUBLE_MAX];
    size_t n = gb_fmt_double(d, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_go_text(void **state)
{
    (void)state;
    expect(0, "0");
    expect(-0.0, "-0");
    expect(1, "1");
    expect(100, "100");
    expect(-2.5, "-2.5");
    expect(0.1, "0.1");
    expect(0.1 + 0.2, "0.30000000000000004");
    expect(123.456, "123.456");
    expect(1e-5, "0.00001");
    expect(1e21, "1000000000000000000000");
    /* %.0f would print the double's binary value 99999999999999991611392 */
    expect(1e23, "100000000000000000000000");
    expect(9007199254740993.0, "9007199254740992");
    expect(NAN, "NaN");
    expect(INFINITY, "+Inf");
    expect(-INFINITY, "-Inf");
}

static void test_extremes_and_cut(void **state)
{
    (void)state;
    char buf[GB_FMT_DOUBLE_MAX];
    size_t n = gb_fmt_double(-DBL_MAX, buf, sizeof buf);
    assert_int_equal(n, 310); /* "-" and 309 digits */
    assert_true(strtod(buf, NULL) == -DBL_MAX);
    n = gb_fmt_double(-DBL_MIN, buf, sizeof buf);
    assert_true(n < sizeof buf);
    assert_true(strtod(buf, NULL) == -DBL_MIN);
    n = gb_fmt_double(4.9406564584124654e-324, buf, sizeof buf);
    assert_int_equal(n, 2 + 323 + 1); /* "0.", 323 zeros, "5" */
    assert_true(strtod(buf, NULL) == 4.9406564584124654e-324);

    char small[5];
    n = gb_fmt_double(123.456, small, sizeof small);
    assert_int_equal(n, 4);
    assert_string_equal(small, "123.");
    assert_int_equal(gb_fmt_double(1, small, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_text),
        cmocka_unit_test(test_extremes_and_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
