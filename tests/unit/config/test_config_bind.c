#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_test_util.h"

typedef struct tls_cfg {
    bool insecure;
    char *ca_file;
    char *key_pem;
} tls_cfg;

typedef struct route_cfg {
    char *name;
    int64_t weight;
} route_cfg;

typedef struct ex_cfg {
    char *endpoint;
    bool compression;
    int64_t port;
    double ratio;
    int64_t timeout;
    int64_t offset;
    int verbosity;
    cfg_strings include;
    cfg_strmap headers;
    tls_cfg tls;
    bool tls_set;
    cfg_list routes;
    const cfg_node *extra;
    char *api_key;
    int64_t secret_port;
    bool old_flag;
    int64_t nullable_int;
    int validated;
} ex_cfg;

static const cfg_field tls_fields[] = {
    {.key = "insecure",
     .type = CFG_T_BOOL,
     .offset = offsetof(tls_cfg, insecure),
     .def = "false",
     .doc = "Disable TLS."},
    {.key = "ca_file",
     .type = CFG_T_STRING,
     .offset = offsetof(tls_cfg, ca_file),
     .doc = "CA bundle."},
    {.key = "key_pem",
     .type = CFG_T_STRING,
     .offset = offsetof(tls_cfg, key_pem),
     .flags = CFG_F_SECRET,
     .doc = "Private key."},
};
static CFG_TABLE(tls_table, tls_fields, NULL);

static const cfg_field route_fields[] = {
    {.key = "name",
     .type = CFG_T_STRING,
     .offset = offsetof(route_cfg, name),
     .flags = CFG_F_REQUIRED},
    {.key = "weight",
     .type = CFG_T_INT,
     .offset = offsetof(route_cfg, weight),
     .def = "1",
     .min = 1,
     .max = 100},
};
static CFG_TABLE(route_table, route_fields, NULL);

static const char *const verbosities[] = {"basic", "normal", "detailed", NULL};

static void ex_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    ex_cfg *c = obj;
    c->validated++;
    if (c->port == 13) {
        const cfg_node *p = cfg_node_get(node, "port");
        cfg_diag_add(d, CFG_ERROR, p ? p->mark : node->mark, path, "port 13 is unlucky");
    }
}

static const cfg_field ex_fields[] = {
    {.key = "endpoint",
     .type = CFG_T_STRING,
     .offset = offsetof(ex_cfg, endpoint),
     .def = "0.0.0.0:4318",
     .doc = "Address to listen on."},
    {.key = "compression",
     .type = CFG_T_BOOL,
     .offset = offsetof(ex_cfg, compression),
     .def = "true"},
    {.key = "port",
     .type = CFG_T_INT,
     .offset = offsetof(ex_cfg, port),
     .def = "4318",
     .min = 1,
     .max = 65535},
    {.key = "ratio",
     .type = CFG_T_DOUBLE,
     .offset = offsetof(ex_cfg, ratio),
     .def = "0.5",
     .min = 0,
     .max = 1},
    {.key = "timeout", .type = CFG_T_DURATION, .offset = offsetof(ex_cfg, timeout), .def = "5s"},
    {.key = "offset",
     .type = CFG_T_DURATION,
     .offset = offsetof(ex_cfg, offset),
     .def = "0",
     .min = -1e9,
     .max = 60e9},
    {.key = "verbosity",
     .type = CFG_T_ENUM,
     .offset = offsetof(ex_cfg, verbosity),
     .def = "basic",
     .enum_names = verbosities,
     .doc = "Output detail."},
    {.key = "include", .type = CFG_T_STRINGS, .offset = offsetof(ex_cfg, include), .def = "[a, b]"},
    {.key = "headers", .type = CFG_T_STRMAP, .offset = offsetof(ex_cfg, headers)},
    {.key = "tls",
     .type = CFG_T_SECTION,
     .offset = offsetof(ex_cfg, tls),
     .sub = &tls_table,
     .flags = CFG_F_TRACK_SET,
     .set_offset = offsetof(ex_cfg, tls_set),
     .doc = "TLS settings."},
    {.key = "routes",
     .type = CFG_T_LIST,
     .offset = offsetof(ex_cfg, routes),
     .sub = &route_table,
     .elem_size = sizeof(route_cfg)},
    {.key = "extra", .type = CFG_T_ANY, .offset = offsetof(ex_cfg, extra)},
    {.key = "api_key",
     .type = CFG_T_STRING,
     .offset = offsetof(ex_cfg, api_key),
     .flags = CFG_F_SECRET},
    {.key = "secret_port",
     .type = CFG_T_INT,
     .offset = offsetof(ex_cfg, secret_port),
     .flags = CFG_F_SECRET,
     .min = 1,
     .max = 10},
    {.key = "loglevel",
     .type = CFG_T_BOOL,
     .offset = offsetof(ex_cfg, old_flag),
     .flags = CFG_F_DEPRECATED,
     .replacement = "verbosity"},
    {.key = "nullable_int",
     .type = CFG_T_INT,
     .offset = offsetof(ex_cfg, nullable_int),
     .def = "7",
     .flags = CFG_F_NULLABLE},
};
static CFG_TABLE(ex_table, ex_fields, ex_validate);

typedef struct bound {
    tdoc t;
    ex_cfg *cfg;
    gb_status st;
} bound;

static void bind_text(bound *b, const char *text)
{
    tdoc_parse(&b->t, text);
    assert_int_equal(b->t.st, GB_OK);
    void *obj = NULL;
    b->st = cfg_bind_new(&ex_table, sizeof(ex_cfg), cfg_node_get(b->t.doc.root, "ex"), "ex",
                         &b->t.doc, &b->t.d, &obj);
    b->cfg = obj;
    tdoc_render(&b->t);
}

static void test_defaults(void **state)
{
    (void)state;
    cfg_doc doc;
    cfg_diags d;
    cfg_doc_init(&doc);
    cfg_diags_init(&d);
    ex_cfg c;
    memset(&c, 0, sizeof c);
    assert_int_equal(cfg_apply_defaults(&ex_table, &c, &doc, &d), GB_OK);
    assert_string_equal(c.endpoint, "0.0.0.0:4318");
    assert_ptr_not_equal(c.endpoint, ex_fields[0].def);
    assert_true(c.compression);
    assert_int_equal(c.port, 4318);
    assert_true(c.ratio == 0.5);
    assert_int_equal(c.timeout, 5000000000LL);
    assert_int_equal(c.verbosity, 0);
    assert_int_equal(c.include.n, 2);
    assert_string_equal(c.include.v[1], "b");
    assert_int_equal(c.headers.n, 0);
    assert_false(c.tls.insecure);
    assert_null(c.tls.ca_file);
    assert_int_equal(c.routes.n, 0);
    assert_null(c.api_key);
    assert_int_equal(c.nullable_int, 7);
    assert_int_equal(d.n, 0);
    cfg_diags_free(&d);
    cfg_doc_free(&doc);
}

static void test_bind_everything(void **state)
{
    (void)state;
    setenv("CFGT_KEY", "k3y", 1);
    bound b;
    bind_text(&b, "ex:\n"
                  "  endpoint: \"localhost:4317\"\n"
                  "  compression: False\n"
                  "  port: 0x10\n"
                  "  ratio: 1e-1\n"
                  "  timeout: 1h2m3.5s\n"
                  "  offset: -500ms\n"
                  "  verbosity: DETAILED\n"
                  "  include: [x, 2, \"true\"]\n"
                  "  headers: {a: 1, b: ~, c: \"str\"}\n"
                  "  tls:\n    insecure: TRUE\n    ca_file: /etc/ca.pem\n"
                  "  routes:\n    - name: r1\n    - {name: r2, weight: 50}\n"
                  "  extra: {anything: [goes]}\n"
                  "  api_key: ${env:CFGT_KEY}\n"
                  "  nullable_int:\n");
    assert_int_equal(b.st, GB_OK);
    assert_string_equal(b.t.diags, "");
    ex_cfg *c = b.cfg;
    assert_string_equal(c->endpoint, "localhost:4317");
    assert_false(c->compression);
    assert_int_equal(c->port, 16);
    assert_true(fabs(c->ratio - 0.1) < 1e-12);
    assert_int_equal(c->timeout, 3723500000000LL);
    assert_int_equal(c->offset, -500000000LL);
    assert_int_equal(c->verbosity, 2);
    assert_int_equal(c->include.n, 3);
    assert_string_equal(c->include.v[2], "true");
    assert_int_equal(c->headers.n, 3);
    assert_string_equal(c->headers.keys[0], "a");
    assert_string_equal(c->headers.values[0], "1");
    assert_string_equal(c->headers.values[1], "");
    assert_true(c->tls_set);
    assert_true(c->tls.insecure);
    assert_string_equal(c->tls.ca_file, "/etc/ca.pem");
    assert_int_equal(c->routes.n, 2);
    route_cfg *r = c->routes.v;
    assert_string_equal(r[0].name, "r1");
    assert_int_equal(r[0].weight, 1);
    assert_int_equal(r[1].weight, 50);
    assert_non_null(c->extra);
    assert_int_equal(c->extra->kind, CFG_NODE_MAP);
    assert_string_equal(c->api_key, "k3y");
    assert_int_equal(c->nullable_int, 7);
    assert_int_equal(c->validated, 1);
    tdoc_free(&b.t);
}

static void test_type_errors_all_reported(void **state)
{
    (void)state;
    setenv("CFGT_BADPORT", "43l8", 1);
    bound b;
    bind_text(&b, "ex:\n"
                  "  endpont: x\n"
                  "  compression: yes\n"
                  "  port: ${env:CFGT_BADPORT}\n"
                  "  ratio: 1.5\n"
                  "  timeout: 1.5\n"
                  "  offset: -2s\n"
                  "  verbosity: detaild\n"
                  "  include: just-one\n"
                  "  headers: [a]\n"
                  "  tls: yes\n"
                  "  routes:\n    - weight: 500\n    - 3\n"
                  "  loglevel: true\n"
                  "  endpoint: {a: b}\n"
                  "  nullable_int: 1.0\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_string_equal(
        b.t.diags,
        "config.yaml:2:3: error: ex: unknown key \"endpont\" (did you mean \"endpoint\"?)\n"
        "config.yaml:3:16: error: ex.compression: expected a bool (true or false), got \"yes\"\n"
        "config.yaml:4:9: error: ex.port: expected an integer, got \"43l8\" (from "
        "${env:CFGT_BADPORT})\n"
        "config.yaml:5:10: error: ex.ratio: value out of range [0, 1], got \"1.5\"\n"
        "config.yaml:6:12: error: ex.timeout: expected a duration (e.g. 5s, 250ms, 1h30m), got "
        "\"1.5\"\n"
        "config.yaml:7:11: error: ex.offset: duration out of range [-1s, 1m0s], got \"-2s\"\n"
        "config.yaml:8:14: error: ex.verbosity: expected one of basic, normal, detailed, got "
        "\"detaild\" (did you mean \"detailed\"?)\n"
        "config.yaml:9:12: error: ex.include: expected a list of strings, got \"just-one\"\n"
        "config.yaml:10:12: error: ex.headers: expected a map of strings, got a sequence\n"
        "config.yaml:11:8: error: ex.tls: expected a map, got \"yes\"\n"
        "config.yaml:13:7: error: ex.routes[0]: missing required key \"name\"\n"
        "config.yaml:13:15: error: ex.routes[0].weight: value out of range [1, 100], got \"500\"\n"
        "config.yaml:14:7: error: ex.routes[1]: expected a map, got \"3\"\n"
        "config.yaml:15:3: warning: ex.loglevel: \"loglevel\" is deprecated, use \"verbosity\" "
        "instead\n"
        "config.yaml:16:13: error: ex.endpoint: expected a string, got a map\n"
        "config.yaml:17:17: error: ex.nullable_int: expected an integer, got \"1.0\"\n");
    assert_int_equal(b.t.d.warnings, 1);
    assert_int_equal(b.t.d.errors, 15);
    /* failed fields keep their defaults; validate did not run on a broken section */
    assert_int_equal(b.cfg->port, 4318);
    assert_true(b.cfg->compression);
    assert_int_equal(b.cfg->validated, 0);
    assert_true(b.cfg->old_flag);
    tdoc_free(&b.t);
}

static void test_secrets_never_echoed(void **state)
{
    (void)state;
    setenv("CFGT_SECRET", "hunter2", 1);
    bound b;
    bind_text(&b, "ex:\n  secret_port: ${env:CFGT_SECRET}\n  tls:\n    key_pem: [hunter2]\n"
                  "  api_key: {x: hunter2}\n");
    assert_int_equal(b.st, GB_ERR_INVALID);
    assert_string_equal(b.t.diags,
                        "config.yaml:2:16: error: ex.secret_port: expected an integer (value "
                        "hidden, from ${env:CFGT_SECRET})\n"
                        "config.yaml:4:14: error: ex.tls.key_pem: expected a string, got a "
                        "sequence\n"
                        "config.yaml:5:12: error: ex.api_key: expected a string, got a map\n");
    assert_null(strstr(b.t.diags, "hunter2"));
    tdoc_free(&b.t);
    bind_text(&b, "ex:\n  secret_port: 11\n");
    assert_string_equal(b.t.diags, "config.yaml:2:16: error: ex.secret_port: value out of range "
                                   "[1, 10] (value hidden)\n");
    tdoc_free(&b.t);
}

static void test_bools_like_yaml_v3(void **state)
{
    (void)state;
    const char *ok[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
    const bool val[] = {true, true, true, false, false, false};
    for (size_t i = 0; i < 6; i++) {
        char text[64];
        snprintf(text, sizeof text, "ex: {compression: %s}\n", ok[i]);
        bound b;
        bind_text(&b, text);
        assert_int_equal(b.st, GB_OK);
        assert_int_equal(b.cfg->compression, val[i]);
        tdoc_free(&b.t);
    }
    const char *bad[] = {"yes", "no", "on", "off", "y", "1", "tRue"};
    for (size_t i = 0; i < 7; i++) {
        char text[64], want[160];
        snprintf(text, sizeof text, "ex: {compression: %s}\n", bad[i]);
        snprintf(want, sizeof want,
                 "config.yaml:1:19: error: ex.compression: expected a bool (true or false), got "
                 "\"%s\"\n",
                 bad[i]);
        bound b;
        bind_text(&b, text);
        assert_int_equal(b.st, GB_ERR_INVALID);
        assert_string_equal(b.t.diags, want);
        tdoc_free(&b.t);
    }
}

static void test_ints(void **state)
{
    (void)state;
    struct {
        const char *text;
        const char *err; /* NULL = ok */
        int64_t want;
    } cases[] = {
        {"65535", NULL, 65535},
        {"+1", NULL, 1},
        {"0xFFFF", NULL, 65535},
        {"0", "value out of range [1, 65535], got \"0\"", 0},
        {"65536", "value out of range [1, 65535], got \"65536\"", 0},
        {"-5", "value out of range [1, 65535], got \"-5\"", 0},
        {"1.0", "expected an integer, got \"1.0\"", 0},
        {"1_000", "expected an integer, got \"1_000\"", 0},
        {"0x", "expected an integer, got \"0x\"", 0},
        {"99999999999999999999", "integer out of range, got \"99999999999999999999\"", 0},
        {"\"12\"", NULL, 12},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[96], want[200];
        snprintf(text, sizeof text, "ex:\n  port: %s\n", cases[i].text);
        bound b;
        bind_text(&b, text);
        if (!cases[i].err) {
            assert_int_equal(b.st, GB_OK);
            assert_int_equal(b.cfg->port, cases[i].want);
        } else {
            snprintf(want, sizeof want, "config.yaml:2:9: error: ex.port: %s\n", cases[i].err);
            assert_string_equal(b.t.diags, want);
        }
        tdoc_free(&b.t);
    }
}

static void test_durations(void **state)
{
    (void)state;
    struct {
        const char *s;
        gb_status st;
        int64_t ns;
    } cases[] = {
        {"0", GB_OK, 0},
        {"5ns", GB_OK, 5},
        {"10us", GB_OK, 10000},
        {"10\xC2\xB5s", GB_OK, 10000},
        {"10\xCE\xBCs", GB_OK, 10000},
        {"300ms", GB_OK, 300000000},
        {"1.5h", GB_OK, 5400000000000LL},
        {"2h45m", GB_OK, 9900000000000LL},
        {".5s", GB_OK, 500000000},
        {"1.s", GB_OK, 1000000000},
        {"-1.5s", GB_OK, -1500000000},
        {"+2s", GB_OK, 2000000000},
        {"1500", GB_OK, 1500},
        {"9223372036854775807ns", GB_OK, INT64_MAX},
        {"-9223372036854775808ns", GB_OK, INT64_MIN},
        {"9223372036854775808ns", GB_ERR_LIMIT, 0},
        {"3000000h", GB_ERR_LIMIT, 0},
        {"1.5", GB_ERR_INVALID, 0},
        {"5", GB_OK, 5},
        {"s", GB_ERR_INVALID, 0},
        {".s", GB_ERR_INVALID, 0},
        {"5d", GB_ERR_INVALID, 0},
        {"5 s", GB_ERR_INVALID, 0},
        {"", GB_ERR_INVALID, 0},
        {"-", GB_ERR_INVALID, 0},
        {"1h-5m", GB_ERR_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ns = 42;
        gb_status st = cfg_parse_duration(cases[i].s, &ns);
        if (st != cases[i].st) fail_msg("duration \"%s\": status %d", cases[i].s, st);
        if (st == GB_OK && ns != cases[i].ns)
            fail_msg("duration \"%s\": %lld", cases[i].s, (long long)ns);
    }
    struct {
        int64_t ns;
        const char *s;
    } fmt[] = {{0, "0s"},
               {1, "1ns"},
               {1500, "1.5\xC2\xB5s"},
               {300000000, "300ms"},
               {1000000000, "1s"},
               {90000000000LL, "1m30s"},
               {3723500000000LL, "1h2m3.5s"},
               {7200000000000LL, "2h0m0s"},
               {-1500000000, "-1.5s"},
               {INT64_MIN, "-2562047h47m16.854775808s"}};
    for (size_t i = 0; i < sizeof fmt / sizeof fmt[0]; i++) {
        char buf[64];
        cfg_format_duration(fmt[i].ns, buf, sizeof buf);
        assert_string_equal(buf, fmt[i].s);
        int64_t back;
        assert_int_equal(cfg_parse_duration(buf, &back), GB_OK);
        assert_int_equal(back, fmt[i].ns);
    }
    /* negative durations need a table that allows them */
    bound b;
    bind_text(&b, "ex:\n  timeout: -1s\n");
    assert_string_equal(b.t.diags, "config.yaml:2:12: error: ex.timeout: negative duration not "
                                   "allowed, got \"-1s\"\n");
    tdoc_free(&b.t);
}

static void test_enum_and_strings_edge(void **state)
{
    (void)state;
    bound b;
    bind_text(&b, "ex:\n  verbosity: Normal\n  include: []\n  headers: {}\n  routes: []\n"
                  "  tls:\n  extra:\n");
    assert_int_equal(b.st, GB_OK);
    assert_int_equal(b.cfg->verbosity, 1);
    assert_int_equal(b.cfg->include.n, 0);
    assert_int_equal(b.cfg->routes.n, 0);
    /* a null section is present: tracked, defaults kept */
    assert_true(b.cfg->tls_set);
    assert_false(b.cfg->tls.insecure);
    assert_non_null(b.cfg->extra);
    assert_int_equal(b.cfg->extra->kind, CFG_NODE_NULL);
    tdoc_free(&b.t);
    bind_text(&b, "ex:\n  verbosity: xyz\n  include: [a, [b], {c: d}]\n  headers: {k: [v]}\n"
                  "  port:\n");
    assert_string_equal(b.t.diags,
                        "config.yaml:2:14: error: ex.verbosity: expected one of basic, normal, "
                        "detailed, got \"xyz\"\n"
                        "config.yaml:3:16: error: ex.include[1]: expected a string, got a "
                        "sequence\n"
                        "config.yaml:3:21: error: ex.include[2]: expected a string, got a map\n"
                        "config.yaml:4:16: error: ex.headers.k: expected a string, got a "
                        "sequence\n"
                        "config.yaml:5:8: error: ex.port: expected an integer, got null\n");
    tdoc_free(&b.t);
}

static void test_required_validate_and_sections(void **state)
{
    (void)state;
    bound b;
    bind_text(&b, "ex:\n  port: 13\n  routes:\n    -\n");
    assert_string_equal(b.t.diags, "config.yaml:4:6: error: ex.routes[0]: missing required key "
                                   "\"name\"\n");
    /* an error inside the section (its route) skips ex's cross-field validate */
    assert_int_equal(b.cfg->validated, 0);
    tdoc_free(&b.t);
    bind_text(&b, "ex:\n  port: 13\n");
    assert_string_equal(b.t.diags, "config.yaml:2:9: error: ex: port 13 is unlucky\n");
    assert_int_equal(b.cfg->validated, 1);
    assert_false(b.cfg->tls_set);
    tdoc_free(&b.t);
    /* no node at all: defaults, validate runs */
    cfg_doc doc;
    cfg_diags d;
    cfg_doc_init(&doc);
    cfg_diags_init(&d);
    void *obj;
    assert_int_equal(cfg_bind_new(&ex_table, sizeof(ex_cfg), NULL, "ex", &doc, &d, &obj), GB_OK);
    assert_int_equal(((ex_cfg *)obj)->validated, 1);
    /* a table with nothing accepts no key */
    tdoc t;
    tdoc_parse(&t, "debug:\n  verbosity: basic\n");
    assert_int_equal(
        cfg_bind(NULL, cfg_node_get(t.doc.root, "debug"), NULL, "exporters.debug", &t.doc, &t.d),
        GB_ERR_INVALID);
    tdoc_render(&t);
    assert_string_equal(t.diags,
                        "config.yaml:2:3: error: exporters.debug: unknown key \"verbosity\"\n");
    /* not a map */
    assert_int_equal(cfg_bind(&ex_table,
                              cfg_node_get(cfg_node_get(t.doc.root, "debug"), "verbosity"), obj,
                              "x", &t.doc, &t.d),
                     GB_ERR_INVALID);
    tdoc_render(&t);
    assert_non_null(strstr(t.diags, "config.yaml:2:14: error: x: expected a map, got \"basic\"\n"));
    tdoc_free(&t);
    cfg_diags_free(&d);
    cfg_doc_free(&doc);
}

static void test_bad_defaults_reported(void **state)
{
    (void)state;
    static const cfg_field bad[] = {
        {.key = "n", .type = CFG_T_INT, .offset = 0, .def = "ten"},
    };
    static CFG_TABLE(bad_table, bad, NULL);
    cfg_doc doc;
    cfg_diags d;
    cfg_doc_init(&doc);
    cfg_diags_init(&d);
    int64_t n = 0;
    assert_int_equal(cfg_apply_defaults(&bad_table, &n, &doc, &d), GB_ERR_INVALID);
    gb_sbuf s;
    gb_sbuf_init(&s, 0);
    cfg_diags_render(&d, &s);
    assert_string_equal(s.data, "error: n: invalid default \"ten\" for a int field: expected an "
                                "integer\n");
    gb_sbuf_free(&s);
    cfg_diags_free(&d);
    cfg_doc_free(&doc);
}

static void test_describe(void **state)
{
    (void)state;
    gb_sbuf s;
    gb_sbuf_init(&s, 0);
    cfg_table_describe(&ex_table, 2, &s);
    assert_string_equal(s.data,
                        "  endpoint: string = \"0.0.0.0:4318\"  # Address to listen on.\n"
                        "  compression: bool = true\n"
                        "  port: int [1, 65535] = 4318\n"
                        "  ratio: double [0, 1] = 0.5\n"
                        "  timeout: duration = 5s\n"
                        "  offset: duration [-1s, 1m0s] = 0\n"
                        "  verbosity: enum (basic|normal|detailed) = basic  # Output detail.\n"
                        "  include: list of strings = [a, b]\n"
                        "  headers: map of strings\n"
                        "  tls: section  # TLS settings.\n"
                        "    insecure: bool = false  # Disable TLS.\n"
                        "    ca_file: string  # CA bundle.\n"
                        "    key_pem: string (secret)  # Private key.\n"
                        "  routes: list of sections\n"
                        "    name: string (required)\n"
                        "    weight: int [1, 100] = 1\n"
                        "  extra: any\n"
                        "  api_key: string (secret)\n"
                        "  secret_port: int [1, 10] (secret)\n"
                        "  loglevel: bool (deprecated, use verbosity)\n"
                        "  nullable_int: int = 7\n");
    gb_sbuf_free(&s);
    const char *keys[8];
    size_t n = 0;
    cfg_table_secret_keys(&ex_table, keys, &n, 8);
    assert_int_equal(n, 3);
    assert_string_equal(keys[0], "key_pem");
    assert_string_equal(keys[1], "api_key");
    assert_string_equal(keys[2], "secret_port");
    assert_null(keys[3]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bind_everything),
        cmocka_unit_test(test_type_errors_all_reported),
        cmocka_unit_test(test_secrets_never_echoed),
        cmocka_unit_test(test_bools_like_yaml_v3),
        cmocka_unit_test(test_ints),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_enum_and_strings_edge),
        cmocka_unit_test(test_required_validate_and_sections),
        cmocka_unit_test(test_bad_defaults_reported),
        cmocka_unit_test(test_describe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
