/* The processors' config tables through the real YAML loader and binder: otelcol keys and
 * defaults, the guide's configs, validation diagnostics, then create on the bound struct. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "processor/attributes/attributes.h"
#include "processor/batch/batch.h"
#include "processor/memory_limiter/memory_limiter.h"
#include "processor/resource/resource.h"
#include "proc_testutil.h"

typedef struct bound {
    cfg_doc doc;
    cfg_diags d;
    void *obj;
    gb_status st;
    char text[4096]; /* rendered diagnostics */
} bound;

/* Parses yaml (a map with the processor's config under key `p`) and binds it. */
static void bind_yaml(bound *b, const pl_descriptor *desc, const char *yaml)
{
    memset(b, 0, sizeof *b);
    cfg_doc_init(&b->doc);
    cfg_diags_init(&b->d);
    assert_int_equal(cfg_doc_parse(&b->doc, "test.yaml", yaml, strlen(yaml), &b->d), GB_OK);
    const cfg_node *n = cfg_node_get(b->doc.root, "p");
    b->st =
        cfg_bind_new(desc->config, desc->config_size, n, "processors.p", &b->doc, &b->d, &b->obj);
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    cfg_diags_render(&b->d, &out);
    snprintf(b->text, sizeof b->text, "%s", out.data ? out.data : "");
    gb_sbuf_free(&out);
}

static void bound_free(bound *b)
{
    cfg_diags_free(&b->d);
    cfg_doc_free(&b->doc);
}

static void expect_error(const pl_descriptor *desc, const char *yaml, const char *want)
{
    bound b;
    bind_yaml(&b, desc, yaml);
    assert_int_equal(b.st, GB_ERR_INVALID);
    if (!strstr(b.text, want)) fail_msg("diagnostics \"%s\" do not contain \"%s\"", b.text, want);
    bound_free(&b);
}

static void test_batch_defaults_and_guide(void **state)
{
    (void)state;
    bound b;
    bind_yaml(&b, &processor_batch_descriptor, "p:\n");
    assert_int_equal(b.st, GB_OK);
    batch_cfg *c = b.obj;
    assert_int_equal(c->timeout, 200 * GB_NS_PER_MS);
    assert_int_equal(c->send_batch_size, 8192);
    assert_int_equal(c->send_batch_max_size, 0);
    assert_int_equal(c->metadata_cardinality_limit, 1000);
    assert_int_equal(c->metadata_keys.n, 0);
    bound_free(&b);

    bind_yaml(&b, &processor_batch_descriptor,
              "p:\n  timeout: 1s\n  send_batch_size: 1024\n  send_batch_max_size: 2048\n"
              "  metadata_keys: [x-tenant]\n");
    assert_int_equal(b.st, GB_OK);
    c = b.obj;
    assert_int_equal(c->timeout, GB_NS_PER_S);
    assert_int_equal(c->send_batch_max_size, 2048);
    assert_string_equal(c->metadata_keys.v[0], "x-tenant");
    pl_component comp;
    comp_init(&comp, &processor_batch_descriptor, "batch", c, PD_TRACES, NULL);
    assert_int_equal(processor_batch_descriptor.create(&comp), GB_OK);
    processor_batch_descriptor.destroy(&comp);
    bound_free(&b);

    expect_error(&processor_batch_descriptor,
                 "p:\n  send_batch_size: 100\n  send_batch_max_size: 10\n",
                 "send_batch_max_size must be greater or equal to send_batch_size");
    expect_error(&processor_batch_descriptor, "p:\n  send_batch_sise: 100\n",
                 "did you mean \"send_batch_size\"");
    expect_error(&processor_batch_descriptor, "p:\n  timeout: soon\n", "timeout");
}

static void test_memory_limiter_config(void **state)
{
    (void)state;
    bound b;
    bind_yaml(&b, &processor_memory_limiter_descriptor,
              "p:\n  check_interval: 1s\n  limit_mib: 512\n  spike_limit_mib: 128\n");
    assert_int_equal(b.st, GB_OK);
    assert_int_equal(b.d.warnings, 0);
    memory_limiter_cfg *c = b.obj;
    assert_true(c->check_interval_set);
    assert_int_equal(c->limit_mib, 512);
    pl_component comp;
    comp_init(&comp, &processor_memory_limiter_descriptor, "memory_limiter", c, PD_TRACES, NULL);
    assert_int_equal(processor_memory_limiter_descriptor.create(&comp), GB_OK);
    uint64_t hard, soft;
    memory_limiter_limits(&comp, &hard, &soft);
    assert_int_equal(hard, 512ull << 20);
    assert_int_equal(soft, 384ull << 20);
    processor_memory_limiter_descriptor.destroy(&comp);
    bound_free(&b);

    /* check_interval missing: 1s with a warning */
    bind_yaml(&b, &processor_memory_limiter_descriptor, "p:\n  limit_percentage: 75\n");
    assert_int_equal(b.st, GB_OK);
    assert_int_equal(b.d.warnings, 1);
    assert_non_null(strstr(b.text, "check_interval"));
    c = b.obj;
    assert_int_equal(c->check_interval, GB_NS_PER_S);
    bound_free(&b);

    expect_error(&processor_memory_limiter_descriptor, "p:\n  check_interval: 1s\n",
                 "'limit_mib' or 'limit_percentage' must be greater than zero");
    expect_error(&processor_memory_limiter_descriptor,
                 "p:\n  check_interval: 1s\n  limit_mib: 100\n  spike_limit_mib: 100\n",
                 "'spike_limit_mib' must be smaller than 'limit_mib'");
    expect_error(&processor_memory_limiter_descriptor,
                 "p:\n  check_interval: 1s\n  limit_percentage: 50\n  spike_limit_percentage: 60\n",
                 "'spike_limit_percentage' must be smaller than 'limit_percentage'");
    expect_error(&processor_memory_limiter_descriptor,
                 "p:\n  check_interval: 0s\n  limit_mib: 100\n", "check_interval");
}

static void test_resource_config_from_guide(void **state)
{
    (void)state;
    bound b;
    bind_yaml(&b, &processor_resource_descriptor,
              "p:\n"
              "  attributes:\n"
              "    - key: service.namespace\n"
              "      value: \"genops-ai\"\n"
              "      action: upsert\n"
              "    - key: deployment.environment\n"
              "      from_attribute: ENVIRONMENT\n"
              "      action: insert\n"
              "    - key: replicas\n"
              "      value: 3\n"
              "      action: insert\n"
              "    - key: ratio\n"
              "      value: 0.25\n"
              "      action: insert\n"
              "    - key: enabled\n"
              "      value: true\n"
              "      action: insert\n"
              "    - key: quoted\n"
              "      value: \"3\"\n"
              "      action: insert\n");
    assert_int_equal(b.st, GB_OK);
    resource_cfg *c = b.obj;
    assert_int_equal(c->attributes.n, 6);
    sink k;
    sink_init(&k);
    pl_component comp;
    comp_init(&comp, &processor_resource_descriptor, "resource", c, PD_LOGS, &k.c);
    assert_int_equal(processor_resource_descriptor.create(&comp), GB_OK);
    pd_batch *in = mk_logs("l", 1, 1, 1);
    tput_str(in, &in->u.logs.v[0].resource.attrs, "ENVIRONMENT", "staging");
    assert_int_equal(processor_resource_descriptor.consume(&comp, in), GB_OK);
    pd_attrs *a = &k.got[0]->u.logs.v[0].resource.attrs;
    assert_true(
        gb_str_eq_c(pd_attrs_find(a, GB_STR_LIT("service.namespace"))->value.u.str, "genops-ai"));
    assert_true(gb_str_eq_c(pd_attrs_find(a, GB_STR_LIT("deployment.environment"))->value.u.str,
                            "staging"));
    assert_int_equal(pd_attrs_find(a, GB_STR_LIT("replicas"))->value.type, PD_ANY_INT);
    assert_int_equal(pd_attrs_find(a, GB_STR_LIT("ratio"))->value.type, PD_ANY_DOUBLE);
    assert_int_equal(pd_attrs_find(a, GB_STR_LIT("enabled"))->value.type, PD_ANY_BOOL);
    assert_int_equal(pd_attrs_find(a, GB_STR_LIT("quoted"))->value.type, PD_ANY_STR);
    processor_resource_descriptor.destroy(&comp);
    sink_free(&k);
    bound_free(&b);

    expect_error(&processor_resource_descriptor,
                 "p:\n  attributes:\n    - key: a\n      value: 1\n",
                 "missing required key \"action\"");
    expect_error(&processor_resource_descriptor,
                 "p:\n  attributes:\n    - key: a\n      action: insert\n",
                 "attributes[0]: action \"insert\" needs one of");
    expect_error(&processor_resource_descriptor,
                 "p:\n  attributes:\n    - key: a\n      value: [1, 2]\n      action: insert\n",
                 "must be a scalar");
}

static void test_attributes_config(void **state)
{
    (void)state;
    bound b;
    bind_yaml(&b, &processor_attributes_descriptor,
              "p:\n"
              "  include:\n"
              "    match_type: regexp\n"
              "    services: [\"^checkout\"]\n"
              "    attributes:\n"
              "      - key: http.method\n"
              "        value: GET\n"
              "    regexp:\n"
              "      cacheenabled: true\n"
              "  exclude:\n"
              "    match_type: strict\n"
              "    span_names: [healthz]\n"
              "  actions:\n"
              "    - key: db.statement\n"
              "      action: delete\n"
              "    - key: http.url\n"
              "      pattern: ^(?P<scheme>\\w+)://\n"
              "      action: extract\n");
    if (b.st) fail_msg("%s", b.text);
    attributes_cfg *c = b.obj;
    assert_true(c->include_set);
    assert_true(c->exclude_set);
    assert_int_equal(c->actions.n, 2);
    pl_component comp;
    comp_init(&comp, &processor_attributes_descriptor, "attributes", c, PD_TRACES, NULL);
    assert_int_equal(processor_attributes_descriptor.create(&comp), GB_OK);
    processor_attributes_descriptor.destroy(&comp);
    /* the same config for logs: services do not apply */
    comp_init(&comp, &processor_attributes_descriptor, "attributes", c, PD_LOGS, NULL);
    assert_int_equal(processor_attributes_descriptor.create(&comp), GB_ERR_INVALID);
    bound_free(&b);

    bind_yaml(&b, &processor_attributes_descriptor,
              "p:\n  exclude:\n    match_type: strict\n"
              "    log_severity_number: {min: INFO2, match_undefined: true}\n"
              "  actions:\n    - {key: a, action: delete}\n");
    if (b.st) fail_msg("%s", b.text);
    c = b.obj;
    assert_true(c->exclude.log_severity_number_set);
    assert_string_equal(c->exclude.log_severity_number.min, "INFO2");
    assert_true(c->exclude.log_severity_number.match_undefined);
    comp_init(&comp, &processor_attributes_descriptor, "attributes", c, PD_LOGS, NULL);
    assert_int_equal(processor_attributes_descriptor.create(&comp), GB_OK);
    processor_attributes_descriptor.destroy(&comp);
    bound_free(&b);

    expect_error(&processor_attributes_descriptor,
                 "p:\n  include:\n    match_type: strict\n    span_name: [a]\n  actions:\n"
                 "    - {key: a, action: delete}\n",
                 "did you mean \"span_names\"");
    expect_error(&processor_attributes_descriptor,
                 "p:\n  include:\n    services: [a]\n  actions:\n    - {key: a, action: delete}\n",
                 "include: \"match_type\" must be set");
    expect_error(&processor_attributes_descriptor, "p:\n  include:\n    match_type: strict\n",
                 "missing required key \"actions\"");
    expect_error(&processor_attributes_descriptor,
                 "p:\n  actions:\n    - {key: a, pattern: \"(?P<x>a*?)\", action: extract}\n",
                 "lazy quantifiers");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_defaults_and_guide),
        cmocka_unit_test(test_memory_limiter_config),
        cmocka_unit_test(test_resource_config_from_guide),
        cmocka_unit_test(test_attributes_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
