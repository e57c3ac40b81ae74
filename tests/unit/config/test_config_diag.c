#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static char *render(const cfg_diags *d)
{
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    cfg_diags_render(d, &b);
    return b.data ? b.data : strdup("");
}

static void test_render_sorted_compiler_style(void **state)
{
    (void)state;
    cfg_diags d;
    cfg_diags_init(&d);
    char file[] = "config.yaml";
    cfg_diag_add(&d, CFG_ERROR, (cfg_mark){file, 14, 17}, "receivers.otlp.protocols.http.endpoint",
                 "invalid port \"%s\"", "43l8");
    cfg_diag_add(&d, CFG_WARNING, (cfg_mark){file, 3, 5}, "processors.batch", "first");
    cfg_diag_add(&d, CFG_ERROR, (cfg_mark){"b.yaml", 1, 1}, "", "other file");
    cfg_diag_add(&d, CFG_ERROR, (cfg_mark){file, 14, 2}, "x", "same line, earlier column");
    cfg_diag_add(&d, CFG_ERROR, (cfg_mark){NULL, 0, 0}, "service", "no position");
    cfg_diag_add(&d, CFG_ERROR, (cfg_mark){file, 0, 0}, "", "file only");
    /* the diagnostics own their strings */
    strcpy(file, "changed.yml");
    assert_int_equal(d.errors, 5);
    assert_int_equal(d.warnings, 1);
    char *s = render(&d);
    assert_string_equal(s, "error: service: no position\n"
                           "b.yaml:1:1: error: other file\n"
                           "config.yaml: error: file only\n"
                           "config.yaml:3:5: warning: processors.batch: first\n"
                           "config.yaml:14:2: error: x: same line, earlier column\n"
                           "config.yaml:14:17: error: receivers.otlp.protocols.http.endpoint: "
                           "invalid port \"43l8\"\n");
    free(s);
    cfg_diags_free(&d);
    assert_int_equal(d.n, 0);
}

static void test_render_caps_count(void **state)
{
    (void)state;
    cfg_diags d;
    cfg_diags_init(&d);
    for (unsigned i = 0; i < CFG_MAX_DIAGS + 5; i++)
        cfg_diag_add(&d, CFG_ERROR, (cfg_mark){"c.yaml", i + 1, 1}, "", "e%u", i);
    assert_int_equal(d.n, CFG_MAX_DIAGS);
    assert_int_equal(d.errors, CFG_MAX_DIAGS + 5);
    char *s = render(&d);
    assert_non_null(strstr(s, "c.yaml:1000:1: error: e999\nnote: 5 more diagnostics not shown\n"));
    free(s);
    cfg_diags_free(&d);
}

static void test_did_you_mean(void **state)
{
    (void)state;
    const char *keys[] = {"endpoint", "tls",           "headers",         "compression",
                          "timeout",  "sending_queue", "retry_on_failure"};
    size_t n = sizeof keys / sizeof keys[0];
    assert_string_equal(cfg_did_you_mean("endpont", keys, n), "endpoint");
    assert_string_equal(cfg_did_you_mean("endpiont", keys, n), "endpoint"); /* transposition */
    assert_string_equal(cfg_did_you_mean("Endpoint", keys, n), "endpoint");
    assert_string_equal(cfg_did_you_mean("tsl", keys, n), "tls");
    assert_string_equal(cfg_did_you_mean("header", keys, n), "headers");
    assert_string_equal(cfg_did_you_mean("compresion", keys, n), "compression");
    assert_string_equal(cfg_did_you_mean("sending-queue", keys, n), "sending_queue");
    assert_string_equal(cfg_did_you_mean("retry_on_failures", keys, n), "retry_on_failure");
    assert_null(cfg_did_you_mean("foo", keys, n));
    assert_null(cfg_did_you_mean("t", keys, n));
    assert_null(cfg_did_you_mean("batch", keys, n));
    assert_null(cfg_did_you_mean("", keys, n));
    assert_null(cfg_did_you_mean("endpont", NULL, 0));
    char longw[300];
    memset(longw, 'e', sizeof longw - 1);
    longw[sizeof longw - 1] = '\0';
    assert_null(cfg_did_you_mean(longw, keys, n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_sorted_compiler_style),
        cmocka_unit_test(test_render_caps_count),
        cmocka_unit_test(test_did_you_mean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
