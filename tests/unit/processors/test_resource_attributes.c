#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "processor/attributes/attributes.h"
#include "processor/resource/resource.h"
#include "proc_testutil.h"

static pd_any *attr(pd_attrs *a, const char *k)
{
    pd_kv *kv = pd_attrs_find(a, gb_str_c(k));
    return kv ? &kv->value : NULL;
}

static bool has_str(pd_attrs *a, const char *k, const char *v)
{
    pd_any *x = attr(a, k);
    return x && x->type == PD_ANY_STR && gb_str_eq_c(x->u.str, v);
}

/* ---- resource ---- */

static void test_resource_all_signals(void **state)
{
    (void)state;
    attraction_cfg acts[] = {
        {.key = "deployment.environment", .value = scalar("production", false), .action = "upsert"},
        {.key = "res", .action = "hash"},
        {.key = "team", .from_attribute = "owner", .action = "insert"},
    };
    resource_cfg cfg = {.attributes = {acts, 3}};
    pd_signal sigs[] = {PD_TRACES, PD_METRICS, PD_LOGS};
    for (int i = 0; i < 3; i++) {
        sink k;
        sink_init(&k);
        pl_component c;
        comp_init(&c, &processor_resource_descriptor, "resource", &cfg, sigs[i], &k.c);
        assert_int_equal(processor_resource_descriptor.create(&c), GB_OK);
        pd_batch *b;
        const uint32_t ndp[] = {2};
        if (sigs[i] == PD_TRACES)
            b = mk_traces("t", 3, 1, 1);
        else if (sigs[i] == PD_LOGS)
            b = mk_logs("l", 3, 1, 1);
        else
            b = mk_metrics(ndp, 1, 0);
        assert_int_equal(processor_resource_descriptor.consume(&c, b), GB_OK);
        assert_int_equal(k.n, 1);
        pd_batch *o = k.got[0];
        uint32_t nres = sigs[i] == PD_TRACES ? o->u.traces.n
                        : sigs[i] == PD_LOGS ? o->u.logs.n
                                             : o->u.metrics.n;
        for (uint32_t r = 0; r < nres; r++) {
            pd_attrs *a = sigs[i] == PD_TRACES ? &o->u.traces.v[r].resource.attrs
                          : sigs[i] == PD_LOGS ? &o->u.logs.v[r].resource.attrs
                                               : &o->u.metrics.v[r].resource.attrs;
            assert_true(has_str(a, "deployment.environment", "production"));
            assert_int_equal(attr(a, "res")->u.str.len, 64); /* hashed */
            assert_null(attr(a, "team"));
        }
        /* span attributes are not touched by the resource processor */
        if (sigs[i] == PD_TRACES)
            assert_null(
                attr(&o->u.traces.v[0].scope_spans[0].spans[0].attrs, "deployment.environment"));
        processor_resource_descriptor.destroy(&c);
        sink_free(&k);
    }
    assert_true(processor_resource_descriptor.mutates);
}

static void test_resource_config_errors(void **state)
{
    (void)state;
    char err[256];
    resource_cfg empty = {0};
    assert_int_equal(resource_check(&empty, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "missing required field \"attributes\""));
    attraction_cfg bad[] = {{.key = "k", .action = "upsert"}};
    resource_cfg cfg = {.attributes = {bad, 1}};
    assert_int_equal(resource_check(&cfg, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "attributes[0]"));
    pl_component c;
    comp_init(&c, &processor_resource_descriptor, "resource", &cfg, PD_TRACES, NULL);
    assert_int_equal(processor_resource_descriptor.create(&c), GB_ERR_INVALID);
}

/* ---- attributes ---- */

typedef struct run {
    sink k;
    pl_component c;
} run;

static gb_status run_one(run *r, attributes_cfg *cfg, pd_signal sig, pd_batch *b)
{
    sink_init(&r->k);
    comp_init(&r->c, &processor_attributes_descriptor, "attributes", cfg, sig, &r->k.c);
    gb_status st = processor_attributes_descriptor.create(&r->c);
    if (st) {
        pd_batch_unref(b);
        return st;
    }
    return processor_attributes_descriptor.consume(&r->c, b);
}

static void run_free(run *r)
{
    processor_attributes_descriptor.destroy(&r->c);
    sink_free(&r->k);
}

static attraction_cfg mark[] = {{.key = "marked", .value = NULL, .action = "insert"}};

static void set_mark(void)
{
    mark[0].value = scalar("yes", false);
}

/* Which spans of the output got marked, as a string of 0/1 in order. */
static void marked_spans(pd_batch *b, char *out)
{
    size_t n = 0;
    for (uint32_t r = 0; r < b->u.traces.n; r++)
        for (uint32_t s = 0; s < b->u.traces.v[r].n_scope_spans; s++) {
            pd_scope_spans *ss = &b->u.traces.v[r].scope_spans[s];
            for (uint32_t i = 0; i < ss->n_spans; i++)
                out[n++] = attr(&ss->spans[i].attrs, "marked") ? '1' : '0';
        }
    out[n] = 0;
}

/* 2 resources (service a, b) x 1 scope x 3 spans t-0..t-5; span attr http.status 200/500. */
static pd_batch *spans_fixture(void)
{
    pd_batch *b = mk_traces("t", 2, 1, 3);
    for (uint32_t r = 0; r < 2; r++) {
        pd_resource_spans *rs = &b->u.traces.v[r];
        tput_str(b, &rs->resource.attrs, "service.name", r == 0 ? "svc-a" : "svc-b");
        rs->scope_spans[0].scope.name = tdup(b, r == 0 ? "io.lib.http" : "io.lib.db");
        rs->scope_spans[0].scope.version = tdup(b, "1.0");
        for (uint32_t i = 0; i < 3; i++) {
            pd_span *sp = &rs->scope_spans[0].spans[i];
            pd_attrs_put(&b->arena, &sp->attrs, tdup(b, "http.status"),
                         pd_any_int(i == 1 ? 500 : 200));
        }
    }
    return b;
}

static void check_spans(attributes_cfg *cfg, const char *want)
{
    run r;
    char got[64];
    assert_int_equal(run_one(&r, cfg, PD_TRACES, spans_fixture()), GB_OK);
    assert_int_equal(r.k.n, 1);
    marked_spans(r.k.got[0], got);
    if (strcmp(got, want)) fail_msg("marked %s, want %s", got, want);
    run_free(&r);
}

static void test_attributes_no_filter(void **state)
{
    (void)state;
    set_mark();
    attributes_cfg cfg = {.actions = {mark, 1}};
    check_spans(&cfg, "111111");
}

static void test_attributes_include_strict(void **state)
{
    (void)state;
    set_mark();
    char *svc[] = {"svc-b"};
    attributes_cfg cfg = {.actions = {mark, 1}, .include_set = true};
    cfg.include.match_type = "strict";
    cfg.include.services = (cfg_strings){svc, 1};
    check_spans(&cfg, "000111");

    char *names[] = {"t-0", "t-4"};
    memset(&cfg.include, 0, sizeof cfg.include);
    cfg.include.match_type = "strict";
    cfg.include.span_names = (cfg_strings){names, 2};
    check_spans(&cfg, "100010");

    /* attribute with a typed value: int 500 matches, the string "500" would not */
    attributes_kv_cfg kv[] = {{.key = "http.status", .value = scalar("500", false)}};
    memset(&cfg.include, 0, sizeof cfg.include);
    cfg.include.match_type = "strict";
    cfg.include.attributes = (cfg_list){kv, 1};
    check_spans(&cfg, "010010");
    kv[0].value = scalar("500", true);
    check_spans(&cfg, "000000");
    /* key only: must exist */
    kv[0].value = NULL;
    check_spans(&cfg, "111111");

    /* properties combine with AND */
    kv[0].value = scalar("500", false);
    cfg.include.services = (cfg_strings){svc, 1};
    check_spans(&cfg, "000010");

    /* libraries with version */
    attributes_lib_cfg lib[] = {{.name = "io.lib.http", .version = "1.0"}};
    memset(&cfg.include, 0, sizeof cfg.include);
    cfg.include.match_type = "strict";
    cfg.include.libraries = (cfg_list){lib, 1};
    check_spans(&cfg, "111000");
    lib[0].version = "2.0";
    check_spans(&cfg, "000000");

    /* resources */
    attributes_kv_cfg res[] = {{.key = "service.name", .value = scalar("svc-a", false)}};
    memset(&cfg.include, 0, sizeof cfg.include);
    cfg.include.match_type = "strict";
    cfg.include.resources = (cfg_list){res, 1};
    check_spans(&cfg, "111000");
}

static void test_attributes_regexp_and_exclude(void **state)
{
    (void)state;
    set_mark();
    char *svc[] = {"^svc-[ab]$"};
    char *names[] = {"-[02]$"};
    attributes_cfg cfg = {.actions = {mark, 1}, .include_set = true, .exclude_set = true};
    cfg.include.match_type = "regexp";
    cfg.include.services = (cfg_strings){svc, 1};
    cfg.exclude.match_type = "regexp";
    cfg.exclude.span_names = (cfg_strings){names, 1};
    check_spans(&cfg, "010111"); /* t-0, t-2 excluded */

    /* exclude alone */
    cfg.include_set = false;
    check_spans(&cfg, "010111");

    /* regexp on attribute string values */
    pd_batch *b = spans_fixture();
    tput_str(b, &b->u.traces.v[0].scope_spans[0].spans[2].attrs, "user", "admin-7");
    attributes_kv_cfg kv[] = {{.key = "user", .value = scalar("^admin-\\d+$", false)}};
    attributes_cfg c2 = {.actions = {mark, 1}, .include_set = true};
    c2.include.match_type = "regexp";
    c2.include.attributes = (cfg_list){kv, 1};
    run r;
    char got[16];
    assert_int_equal(run_one(&r, &c2, PD_TRACES, b), GB_OK);
    marked_spans(r.k.got[0], got);
    assert_string_equal(got, "001000");
    run_free(&r);
}

static void test_attributes_kinds_services_and_typed_regexp(void **state)
{
    (void)state;
    set_mark();
    /* span kinds: spans 1 and 4 are servers */
    pd_batch *b = spans_fixture();
    b->u.traces.v[0].scope_spans[0].spans[1].kind = PD_SPAN_KIND_SERVER;
    b->u.traces.v[1].scope_spans[0].spans[1].kind = PD_SPAN_KIND_SERVER;
    char *kinds[] = {"SPAN_KIND_SERVER"};
    attributes_cfg cfg = {.actions = {mark, 1}, .include_set = true};
    cfg.include.match_type = "strict";
    cfg.include.span_kinds = (cfg_strings){kinds, 1};
    run r;
    char got[16];
    assert_int_equal(run_one(&r, &cfg, PD_TRACES, b), GB_OK);
    marked_spans(r.k.got[0], got);
    assert_string_equal(got, "010010");
    run_free(&r);

    /* a resource without service.name is "<nil-service-name>", as in contrib */
    b = spans_fixture();
    pd_attrs_delete(&b->u.traces.v[1].resource.attrs, GB_STR_LIT("service.name"));
    char *svc[] = {"<nil-service-name>"};
    memset(&cfg.include, 0, sizeof cfg.include);
    cfg.include.match_type = "strict";
    cfg.include.services = (cfg_strings){svc, 1};
    assert_int_equal(run_one(&r, &cfg, PD_TRACES, b), GB_OK);
    marked_spans(r.k.got[0], got);
    assert_string_equal(got, "000111");
    run_free(&r);

    /* regexp on an int attribute matches its decimal text */
    attributes_kv_cfg kv[] = {{.key = "http.status", .value = scalar("^5\\d\\d$", false)}};
    memset(&cfg.include, 0, sizeof cfg.include);
    cfg.include.match_type = "regexp";
    cfg.include.attributes = (cfg_list){kv, 1};
    check_spans(&cfg, "010010");
}

static void test_attributes_logs(void **state)
{
    (void)state;
    set_mark();
    char *sev[] = {"ERROR"};
    char *bodies[] = {"-[0-2]$"};
    attributes_cfg cfg = {.actions = {mark, 1}, .include_set = true};
    cfg.include.match_type = "regexp";
    cfg.include.log_severity_texts = (cfg_strings){sev, 1};
    cfg.include.log_bodies = (cfg_strings){bodies, 1};
    run r;
    /* bodies l-0..l-3, severity INFO, ERROR, INFO, ERROR */
    assert_int_equal(run_one(&r, &cfg, PD_LOGS, mk_logs("l", 1, 1, 4)), GB_OK);
    pd_scope_logs *sl = &r.k.got[0]->u.logs.v[0].scope_logs[0];
    assert_null(attr(&sl->logs[0].attrs, "marked"));
    assert_non_null(attr(&sl->logs[1].attrs, "marked"));
    assert_null(attr(&sl->logs[2].attrs, "marked"));
    assert_null(attr(&sl->logs[3].attrs, "marked")); /* ERROR but body l-3 */
    run_free(&r);

    /* severity number: min WARN2 (14); records 0 (undefined), 9, 14, 21 */
    memset(&cfg.include, 0, sizeof cfg.include);
    cfg.include.match_type = "strict";
    cfg.include.log_severity_number_set = true;
    cfg.include.log_severity_number.min = "Warn2";
    for (int undef = 0; undef < 2; undef++) {
        cfg.include.log_severity_number.match_undefined = undef;
        pd_batch *b = mk_logs("s", 1, 1, 4);
        const int32_t sevn[] = {0, 9, 14, 21};
        for (int i = 0; i < 4; i++)
            b->u.logs.v[0].scope_logs[0].logs[i].severity_number = sevn[i];
        assert_int_equal(run_one(&r, &cfg, PD_LOGS, b), GB_OK);
        sl = &r.k.got[0]->u.logs.v[0].scope_logs[0];
        assert_int_equal(attr(&sl->logs[0].attrs, "marked") != NULL, undef);
        assert_null(attr(&sl->logs[1].attrs, "marked"));
        assert_non_null(attr(&sl->logs[2].attrs, "marked"));
        assert_non_null(attr(&sl->logs[3].attrs, "marked"));
        run_free(&r);
    }
}

static void test_attributes_metrics(void **state)
{
    (void)state;
    attraction_cfg acts[] = {{.key = "dp", .action = "delete"},
                             {.key = "env", .value = scalar("prod", false), .action = "insert"}};
    char *names[] = {"metric1"};
    attributes_cfg cfg = {.actions = {acts, 2}, .exclude_set = true};
    cfg.exclude.match_type = "strict";
    cfg.exclude.metric_names = (cfg_strings){names, 1};
    const uint32_t ndp[] = {2, 2, 1};
    run r;
    assert_int_equal(run_one(&r, &cfg, PD_METRICS, mk_metrics(ndp, 3, 0)), GB_OK);
    pd_scope_metrics *sm = &r.k.got[0]->u.metrics.v[0].scope_metrics[0];
    for (uint32_t i = 0; i < 2; i++) {
        assert_null(attr(&sm->metrics[0].dp.number[i].attrs, "dp"));
        assert_true(has_str(&sm->metrics[0].dp.number[i].attrs, "env", "prod"));
        /* metric1 excluded */
        assert_true(has_str(&sm->metrics[1].dp.number[i].attrs, "dp", "x"));
        assert_null(attr(&sm->metrics[1].dp.number[i].attrs, "env"));
    }
    assert_true(has_str(&sm->metrics[2].dp.histogram[0].attrs, "env", "prod"));
    run_free(&r);
}

static void test_attributes_config_errors(void **state)
{
    (void)state;
    set_mark();
    char err[256];
    char *x[] = {"x"};
    attributes_cfg cfg = {0};
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "missing required field \"actions\""));

    cfg.actions = (cfg_list){mark, 1};
    cfg.include_set = true;
    cfg.include.services = (cfg_strings){x, 1};
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "include: \"match_type\" must be set"));

    cfg.include.match_type = "expr";
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "not supported"));

    cfg.include.match_type = "strict";
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_OK);
    /* services do not apply to logs */
    assert_int_equal(attributes_check(&cfg, PD_LOGS, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "do not apply to log records"));
    /* create knows its signal */
    pl_component c;
    comp_init(&c, &processor_attributes_descriptor, "attributes", &cfg, PD_LOGS, NULL);
    assert_int_equal(processor_attributes_descriptor.create(&c), GB_ERR_INVALID);

    cfg.include.services.n = 0;
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "at least one of"));

    cfg.include.log_bodies = (cfg_strings){x, 1};
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "do not apply to spans"));

    memset(&cfg.include, 0, sizeof cfg.include);
    cfg.include.match_type = "strict";
    cfg.include.span_kinds = (cfg_strings){x, 1};
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_OK);
    assert_int_equal(attributes_check(&cfg, PD_LOGS, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "span_kinds do not apply to log records"));
    cfg.include.span_kinds.n = 0;
    cfg.include.log_severity_number_set = true;
    cfg.include.log_severity_number.min = "NOTICE";
    assert_int_equal(attributes_check(&cfg, PD_LOGS, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "log_severity_number: invalid min \"NOTICE\""));
    cfg.include.log_severity_number.min = "warn";
    assert_int_equal(attributes_check(&cfg, PD_LOGS, err, sizeof err), GB_OK);
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_ERR_INVALID);
    cfg.include.log_severity_number_set = false;

    memset(&cfg.include, 0, sizeof cfg.include);
    cfg.include_set = false;
    cfg.exclude_set = true;
    cfg.exclude.match_type = "regexp";
    char *badre[] = {"(unclosed"};
    cfg.exclude.span_names = (cfg_strings){badre, 1};
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "exclude: invalid pattern"));

    attributes_kv_cfg kv[] = {{.key = "k", .value = scalar("5", false)}};
    memset(&cfg.exclude, 0, sizeof cfg.exclude);
    cfg.exclude.match_type = "regexp";
    cfg.exclude.attributes = (cfg_list){kv, 1};
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_ERR_INVALID);
    assert_non_null(strstr(err, "needs string values"));
    /* metrics do not match item attributes */
    kv[0].value = scalar("5", true);
    assert_int_equal(attributes_check(&cfg, PD_TRACES, err, sizeof err), GB_OK);
    assert_int_equal(attributes_check(&cfg, PD_METRICS, err, sizeof err), GB_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resource_all_signals),
        cmocka_unit_test(test_resource_config_errors),
        cmocka_unit_test(test_attributes_no_filter),
        cmocka_unit_test(test_attributes_include_strict),
        cmocka_unit_test(test_attributes_regexp_and_exclude),
        cmocka_unit_test(test_attributes_kinds_services_and_typed_regexp),
        cmocka_unit_test(test_attributes_logs),
        cmocka_unit_test(test_attributes_metrics),
        cmocka_unit_test(test_attributes_config_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
