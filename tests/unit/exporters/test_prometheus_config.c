/* prometheus exporter config table: otelcol keys and defaults, required endpoint, refusals with
 * clear errors (file:line:col). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../cfg_bind_util.h"
#include "base/timeutil.h"
#include "config/config.h"
#include "exporter/prometheus/prometheus.h"

static void bind_yaml(cfg_bound *b, prometheus_cfg *c, const char *yaml)
{
    cfg_bind_yaml(b, &prometheus_cfg_table, c, sizeof *c, "exporters.prometheus", yaml);
}

static void test_defaults(void **state)
{
    (void)state;
    prometheus_cfg c;
    cfg_bound b;
    bind_yaml(&b, &c, "endpoint: 0.0.0.0:8889\n");
    assert_int_equal(b.st, GB_OK);
    assert_string_equal(c.endpoint, "0.0.0.0:8889");
    assert_string_equal(c.namespace_, "");
    assert_false(c.send_timestamps);
    assert_int_equal(c.metric_expiration, 300 * GB_NS_PER_S);
    assert_false(c.r2t.enabled);
    assert_false(c.enable_open_metrics);
    assert_true(c.add_metric_suffixes);
    assert_false(c.without_scope_info);
    assert_false(c.tls_set);
    assert_false(c.rcl_set);
    assert_int_equal(c.max_series, 0);
    cfg_bound_free(&b);
}

static void test_full(void **state)
{
    (void)state;
    prometheus_cfg c;
    cfg_bound b;
    bind_yaml(&b, &c,
              "endpoint: \"1.2.3.4:1234\"\n"
              "namespace: test-space\n"
              "const_labels:\n  label1: value1\n  \"another label\": spaced value\n"
              "send_timestamps: true\n"
              "metric_expiration: 180m\n"
              "enable_open_metrics: true\n"
              "add_metric_suffixes: true\n"
              "translation_strategy: UnderscoreEscapingWithoutSuffixes\n"
              "resource_to_telemetry_conversion:\n  enabled: true\n"
              "  exclude_service_attributes: true\n"
              "resource_constant_labels:\n  included: [\"k8s.*\"]\n  excluded: [\"k8s.pod.*\"]\n"
              "without_scope_info: true\n"
              "max_series: 5000\n");
    if (b.st != GB_OK) fail_msg("%s", b.text.data);
    assert_int_equal(c.const_labels.n, 2);
    assert_true(c.send_timestamps);
    assert_int_equal(c.metric_expiration, 180LL * 60 * GB_NS_PER_S);
    assert_true(c.enable_open_metrics);
    assert_false(c.add_metric_suffixes); /* translation_strategy wins */
    assert_true(c.r2t.enabled);
    assert_true(c.r2t.exclude_service_attributes);
    assert_true(c.rcl_set);
    assert_int_equal(c.rcl.included.n, 1);
    assert_string_equal(c.rcl.excluded.v[0], "k8s.pod.*");
    assert_true(c.without_scope_info);
    assert_int_equal(c.max_series, 5000);
    cfg_bound_free(&b);
}

static void test_errors(void **state)
{
    (void)state;
    prometheus_cfg c;
    cfg_bound b;
    bind_yaml(&b, &c, "namespace: x\n");
    assert_int_not_equal(b.st, GB_OK);
    assert_non_null(strstr(b.text.data, "endpoint"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: \"nonsense\"\n");
    assert_int_not_equal(b.st, GB_OK);
    assert_non_null(strstr(b.text.data, "t.yaml:1:11"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: localhost:8889\ntranslation_strategy: NoTranslation\n");
    assert_int_not_equal(b.st, GB_OK);
    assert_non_null(strstr(b.text.data, "t.yaml:2:23"));
    assert_non_null(strstr(b.text.data, "\"NoTranslation\" is not supported"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: localhost:8889\ntranslation_strategy: Bogus\n");
    assert_int_not_equal(b.st, GB_OK);
    assert_non_null(strstr(b.text.data, "unknown translation_strategy \"Bogus\""));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: localhost:8889\nconst_labels:\n  \"..\": x\n");
    assert_int_not_equal(b.st, GB_OK);
    assert_non_null(strstr(b.text.data, "cannot be made a Prometheus label name"));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: localhost:8889\nmetric_expiraton: 1m\n");
    assert_int_not_equal(b.st, GB_OK);
    assert_non_null(strstr(b.text.data, "did you mean \"metric_expiration\""));
    cfg_bound_free(&b);

    bind_yaml(&b, &c, "endpoint: localhost:8889\nmax_series: -1\n");
    assert_int_not_equal(b.st, GB_OK);
    cfg_bound_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
