/* Binding of the exporters' config tables (otelcol keys, defaults, refusals with clear errors). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../cfg_bind_util.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "exporter/debug/debug.h"
#include "exporter/file/file.h"
#include "exporter/otlphttp/otlphttp.h"
#include "pipeline/exporter_helper.h"

static void bind_yaml(cfg_bound *b, const cfg_table *t, void *obj, size_t size, const char *yaml)
{
    cfg_bind_yaml(b, t, obj, size, "exporters.x", yaml);
}

static void test_otlphttp_full(void **state)
{
    (void)state;
    otlphttp_cfg c;
    cfg_bound b;
    bind_yaml(&b, &otlphttp_table, &c, sizeof c,
              "endpoint: \"https://otlp-gateway-prod-us-central-0.grafana.net/otlp\"\n"
              "headers:\n  authorization: \"Basic abc\"\n"
              "compression: zstd\n"
              "tls:\n  insecure_skip_verify: true\n  min_version: \"1.3\"\n"
              "retry_on_failure:\n  enabled: true\n  initial_interval: 1s\n"
              "  max_interval: 10s\n  max_elapsed_time: 60s\n"
              "sending_queue:\n  num_consumers: 4\n  queue_size: 100\n");
    assert_int_equal(b.st, GB_OK);
    assert_int_equal(b.d.errors, 0);
    assert_string_equal(c.endpoint, "https://otlp-gateway-prod-us-central-0.grafana.net/otlp");
    assert_int_equal(c.headers.n, 1);
    assert_string_equal(c.headers.keys[0], "authorization");
    assert_int_equal(c.compression, OTLPHTTP_COMP_ZSTD);
    assert_int_equal(c.encoding, OTLPHTTP_ENC_PROTO);
    assert_int_equal(c.timeout, 30 * GB_NS_PER_S);
    assert_true(c.tls.insecure_skip_verify);
    assert_string_equal(c.tls.min_version, "1.3");
    assert_int_equal(c.retry.initial_interval, GB_NS_PER_S);
    assert_int_equal(c.retry.max_interval, 10 * GB_NS_PER_S);
    assert_int_equal(c.retry.max_elapsed_time, 60 * GB_NS_PER_S);
    assert_true(c.retry.multiplier == 1.5);
    assert_true(c.retry.randomization_factor == 0.5);
    assert_true(c.queue.enabled);
    assert_int_equal(c.queue.num_consumers, 4);
    assert_int_equal(c.queue.queue_size, 100);
    cfg_bound_free(&b);
}

static void test_otlphttp_defaults_match_table(void **state)
{
    (void)state;
    otlphttp_cfg c, d;
    cfg_bound b;
    bind_yaml(&b, &otlphttp_table, &c, sizeof c, "endpoint: http://localhost:4318\n");
    assert_int_equal(b.st, GB_OK);
    otlphttp_cfg_default(&d);
    assert_int_equal(c.encoding, d.encoding);
    assert_int_equal(c.compression, d.compression);
    assert_int_equal(c.timeout, d.timeout);
    assert_int_equal(c.write_buffer_size, d.write_buffer_size);
    assert_int_equal(c.idle_conn_timeout, d.idle_conn_timeout);
    assert_int_equal(c.max_idle_conns, d.max_idle_conns);
    assert_string_equal(c.tls.min_version, d.tls.min_version);
    assert_memory_equal(&c.retry, &d.retry, sizeof c.retry);
    assert_int_equal(c.queue.enabled, d.queue.enabled);
    assert_int_equal(c.queue.num_consumers, d.queue.num_consumers);
    assert_int_equal(c.queue.queue_size, d.queue.queue_size);
    assert_int_equal(c.queue.block_on_overflow, d.queue.block_on_overflow);
    assert_int_equal(c.queue.drop_on_overflow, d.queue.drop_on_overflow);
    cfg_bound_free(&b);

    pl_retry_cfg r, rd;
    pl_queue_cfg q, qd;
    bind_yaml(&b, &pl_retry_table, &r, sizeof r, "{}\n");
    assert_int_equal(b.st, GB_OK);
    pl_retry_cfg_default(&rd);
    assert_memory_equal(&r, &rd, sizeof r);
    cfg_bound_free(&b);
    bind_yaml(&b, &pl_queue_table, &q, sizeof q, "{}\n");
    assert_int_equal(b.st, GB_OK);
    pl_queue_cfg_default(&qd);
    assert_memory_equal(&q, &qd, sizeof q);
    cfg_bound_free(&b);
}

static void test_otlphttp_errors(void **state)
{
    (void)state;
    otlphttp_cfg c;
    cfg_bound b;
    bind_yaml(&b, &otlphttp_table, &c, sizeof c, "compression: gzip\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "at least one endpoint must be specified"));
    cfg_bound_free(&b);

    bind_yaml(&b, &otlphttp_table, &c, sizeof c, "endpoint: localhost:4318\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "http:// or https://"));
    cfg_bound_free(&b);

    bind_yaml(&b, &otlphttp_table, &c, sizeof c, "endpont: http://x:4318\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "did you mean \"endpoint\""));
    cfg_bound_free(&b);

    bind_yaml(&b, &otlphttp_table, &c, sizeof c,
              "endpoint: http://x:4318\nsending_queue:\n  storage: file_storage\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "persistent queue not available in this build"));
    cfg_bound_free(&b);

    bind_yaml(&b, &otlphttp_table, &c, sizeof c, "endpoint: http://x:4318\ncompression: lz5\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    cfg_bound_free(&b);

    bind_yaml(&b, &otlphttp_table, &c, sizeof c,
              "endpoint: http://x:4318\ntls:\n  cert_file: /c.pem\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "both a certificate and a key"));
    cfg_bound_free(&b);
}

static void test_queue_blocking_deprecated(void **state)
{
    (void)state;
    pl_queue_cfg q;
    cfg_bound b;
    bind_yaml(&b, &pl_queue_table, &q, sizeof q, "blocking: true\n");
    assert_int_equal(b.st, GB_OK);
    assert_int_equal(b.d.warnings, 1);
    assert_true(q.block_on_overflow);
    cfg_bound_free(&b);

    bind_yaml(&b, &pl_queue_table, &q, sizeof q,
              "block_on_overflow: true\ndrop_on_overflow: true\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "mutually exclusive"));
    cfg_bound_free(&b);
}

static void test_debug_loglevel(void **state)
{
    (void)state;
    debug_cfg c;
    cfg_bound b;
    bind_yaml(&b, &debug_table, &c, sizeof c, "loglevel: debug\n");
    assert_int_equal(b.st, GB_OK);
    assert_int_equal(b.d.warnings, 1);
    assert_non_null(strstr(b.text.data, "verbosity"));
    assert_int_equal(c.verbosity, DEBUG_DETAILED);
    cfg_bound_free(&b);

    bind_yaml(&b, &debug_table, &c, sizeof c, "{}\n");
    assert_int_equal(b.st, GB_OK);
    assert_int_equal(c.verbosity, DEBUG_BASIC);
    assert_int_equal(c.sampling_initial, 2);
    assert_int_equal(c.sampling_thereafter, 1);
    cfg_bound_free(&b);

    bind_yaml(&b, &debug_table, &c, sizeof c, "verbosity: detailed\nloglevel: info\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    cfg_bound_free(&b);
}

static void test_file_config(void **state)
{
    (void)state;
    file_cfg c;
    cfg_bound b;
    bind_yaml(&b, &file_table, &c, sizeof c, "path: /tmp/out.json\nrotation:\n");
    assert_int_equal(b.st, GB_OK);
    assert_true(c.rotation_set);
    assert_int_equal(c.rotation.max_megabytes, 100);
    assert_int_equal(c.rotation.max_backups, 100);
    assert_int_equal(c.flush_interval, GB_NS_PER_S);
    assert_int_equal(c.format, FILE_FMT_JSON);
    assert_false(c.append);
    cfg_bound_free(&b);

    bind_yaml(&b, &file_table, &c, sizeof c, "path: /tmp/out.json\n");
    assert_int_equal(b.st, GB_OK);
    assert_false(c.rotation_set);
    cfg_bound_free(&b);

    bind_yaml(&b, &file_table, &c, sizeof c, "format: proto\n");
    assert_int_equal(b.st, GB_ERR_INVALID); /* path is required */
    cfg_bound_free(&b);

    bind_yaml(&b, &file_table, &c, sizeof c, "path: /tmp/out.json\ngroup_by:\n  enabled: true\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_non_null(strstr(b.text.data, "not available in this build"));
    cfg_bound_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_otlphttp_full),
        cmocka_unit_test(test_otlphttp_defaults_match_table),
        cmocka_unit_test(test_otlphttp_errors),
        cmocka_unit_test(test_queue_blocking_deprecated),
        cmocka_unit_test(test_debug_loglevel),
        cmocka_unit_test(test_file_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
