#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_test_util.h"

static void test_merge_semantics(void **state)
{
    (void)state;
    tdoc a, b;
    tdoc_parse(&a, "receivers:\n  otlp:\n    protocols:\n      grpc:\n      http: {endpoint: a}\n"
                   "processors:\n  batch: {timeout: 1s, send_batch_size: 10}\n"
                   "service:\n  pipelines:\n    traces: {receivers: [otlp], exporters: [x, y]}\n");
    tdoc_parse(&b, "receivers:\n  otlp:\n    protocols:\n      http: {endpoint: b, cors: {}}\n"
                   "processors:\n  batch: {timeout: 2s}\n  memory_limiter: ~\n"
                   "service:\n  pipelines:\n    traces: {exporters: [z]}\n");
    assert_int_equal(a.st, GB_OK);
    assert_int_equal(b.st, GB_OK);
    assert_int_equal(cfg_doc_merge(&a.doc, &b.doc), GB_OK);
    /* src may go away: everything was copied */
    tdoc_free(&b);
    char *y = emit(a.doc.root, NULL);
    assert_string_equal(y, "receivers:\n"
                           "  otlp:\n"
                           "    protocols:\n"
                           "      grpc: null\n"
                           "      http:\n"
                           "        endpoint: b\n"
                           "        cors: {}\n"
                           "processors:\n"
                           "  batch:\n"
                           "    timeout: 2s\n"
                           "    send_batch_size: 10\n"
                           "  memory_limiter: null\n"
                           "service:\n"
                           "  pipelines:\n"
                           "    traces:\n"
                           "      receivers:\n"
                           "        - otlp\n"
                           "      exporters:\n"
                           "        - z\n");
    free(y);
    /* marks follow the file that set the value */
    const cfg_pair *p =
        cfg_node_get_pair(cfg_node_find(a.doc.root, "processors.batch", "."), "timeout");
    assert_string_equal(p->key_mark.file, "config.yaml");
    assert_int_equal(p->value->mark.line, 6);
    tdoc_free(&a);
}

static void test_merge_many_keys_and_file_names(void **state)
{
    (void)state;
    cfg_doc a, b;
    cfg_diags d;
    cfg_diags_init(&d);
    cfg_doc_init(&a);
    cfg_doc_init(&b);
    gb_sbuf t1, t2;
    gb_sbuf_init(&t1, 0);
    gb_sbuf_init(&t2, 0);
    for (int i = 0; i < 500; i++)
        gb_sbuf_printf(&t1, "k%d: {v: %d}\n", i, i);
    for (int i = 250; i < 750; i++)
        gb_sbuf_printf(&t2, "k%d: {w: %d}\n", i, i);
    assert_int_equal(cfg_doc_parse(&a, "one.yaml", t1.data, t1.len, &d), GB_OK);
    assert_int_equal(cfg_doc_parse(&b, "two.yaml", t2.data, t2.len, &d), GB_OK);
    assert_int_equal(cfg_doc_merge(&a, &b), GB_OK);
    cfg_doc_free(&b);
    assert_int_equal(a.root->n_pairs, 750);
    const cfg_node *k300 = cfg_node_get(a.root, "k300");
    assert_string_equal(cfg_node_scalar(cfg_node_get(k300, "v")), "300");
    assert_string_equal(cfg_node_scalar(cfg_node_get(k300, "w")), "300");
    assert_string_equal(cfg_node_get(k300, "w")->mark.file, "two.yaml");
    assert_string_equal(cfg_node_get(k300, "v")->mark.file, "one.yaml");
    gb_sbuf_free(&t1);
    gb_sbuf_free(&t2);
    cfg_doc_free(&a);
    cfg_diags_free(&d);
}

static void test_set_forms(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "processors:\n  batch:\n    timeout: 1s\n    send_batch_size: 5\n");
    assert_int_equal(cfg_doc_set(&t.doc, "processors::batch::timeout=2s", &t.d), GB_OK);
    assert_int_equal(cfg_doc_set(&t.doc, "exporters.otlp.endpoint=collector:4317", &t.d), GB_OK);
    assert_int_equal(
        cfg_doc_set(&t.doc, "service::pipelines::traces::receivers=[otlp, zipkin]", &t.d), GB_OK);
    assert_int_equal(cfg_doc_set(&t.doc, "processors::batch={send_batch_max_size: 9}", &t.d),
                     GB_OK);
    assert_int_equal(cfg_doc_set(&t.doc, "a::b.c=\"quoted\"", &t.d), GB_OK);
    assert_int_equal(cfg_doc_set(&t.doc, "empty=", &t.d), GB_OK);
    const cfg_node *timeout = cfg_node_find(t.doc.root, "processors::batch::timeout", "::");
    assert_string_equal(timeout->scalar, "2s");
    assert_string_equal(timeout->mark.file, "--set");
    assert_int_equal(timeout->mark.line, 1);
    assert_int_equal(timeout->mark.col, 28);
    const cfg_pair *kp =
        cfg_node_get_pair(cfg_node_find(t.doc.root, "exporters.otlp", "."), "endpoint");
    assert_int_equal(kp->key_mark.col, 16);
    assert_string_equal(kp->value->scalar, "collector:4317");
    const cfg_node *recv = cfg_node_find(t.doc.root, "service::pipelines::traces::receivers", "::");
    assert_int_equal(recv->kind, CFG_NODE_SEQ);
    assert_int_equal(recv->n_items, 2);
    assert_string_equal(recv->items[1]->scalar, "zipkin");
    assert_int_equal(recv->items[1]->mark.col, 46);
    /* maps deep-merge */
    const cfg_node *batch = cfg_node_find(t.doc.root, "processors.batch", ".");
    assert_int_equal(batch->n_pairs, 3);
    assert_string_equal(cfg_node_get(batch, "send_batch_max_size")->scalar, "9");
    /* "::" present: dots are part of the key */
    assert_non_null(cfg_node_get(cfg_node_get(t.doc.root, "a"), "b.c"));
    assert_true(cfg_node_get(cfg_node_get(t.doc.root, "a"), "b.c")->quoted);
    assert_int_equal(cfg_node_get(t.doc.root, "empty")->kind, CFG_NODE_NULL);
    assert_int_equal(t.d.n, 0);
    tdoc_free(&t);
}

static void test_set_errors(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "a: 1\n");
    unsetenv("CFGT_SET_UNSET");
    assert_int_equal(cfg_doc_set(&t.doc, "novalue", &t.d), GB_ERR_INVALID);
    assert_int_equal(cfg_doc_set(&t.doc, "a::::b=1", &t.d), GB_ERR_INVALID);
    assert_int_equal(cfg_doc_set(&t.doc, "x.y=[1, 2", &t.d), GB_ERR_INVALID);
    assert_int_equal(cfg_doc_set(&t.doc, "x.z=${env:CFGT_SET_UNSET}", &t.d), GB_OK);
    assert_int_equal(cfg_doc_set(&t.doc, "x.w=${nope", &t.d), GB_ERR_INVALID);
    tdoc_render(&t);
    assert_string_equal(
        t.diags, "--set:1:1: error: expected key=value (e.g. processors::batch::timeout=2s), "
                 "got \"novalue\"\n"
                 "--set:1:4: error: empty key in --set \"a::::b\"\n"
                 "--set:1:5: warning: x.z: environment variable \"CFGT_SET_UNSET\" is not "
                 "set; using an empty value\n"
                 "--set:1:5: error: x.w: unterminated \"${\" (write \"$$\" for a literal "
                 "\"$\")\n"
                 "--set:2:1: error: did not find expected ',' or ']' (while parsing a flow "
                 "sequence at line 1, column 5)\n");
    /* failed sets change nothing */
    assert_null(cfg_node_find(t.doc.root, "x.y", "."));
    assert_null(cfg_node_find(t.doc.root, "x.w", "."));
    tdoc_free(&t);
}

static void roundtrip(const char *text, const char *expect)
{
    tdoc a, b;
    tdoc_parse(&a, text);
    assert_int_equal(a.st, GB_OK);
    char *y = emit(a.doc.root, NULL);
    if (expect) assert_string_equal(y, expect);
    tdoc_parse(&b, y);
    assert_int_equal(b.st, GB_OK);
    assert_true(cfg_node_equal(a.doc.root, b.doc.root));
    char *y2 = emit(b.doc.root, NULL);
    assert_string_equal(y, y2);
    free(y);
    free(y2);
    tdoc_free(&a);
    tdoc_free(&b);
}

static void test_emit_quotes_what_would_change(void **state)
{
    (void)state;
    roundtrip(
        "a: \"true\"\nb: true\nc: \"1\"\nd: 1\ne: \"null\"\nf: ~\ng: \"\"\nh: \"yes\"\n"
        "i: yes\nj: \"1e3\"\nk: 0x1F\nl: \".inf\"\nm: -.inf\nn: \"a: b\"\no: \"#x\"\n"
        "p: \"- x\"\nq: \" lead\"\nr: \"trail \"\ns: \"tab\\there\"\nt: \"line\\nbreak\"\n"
        "u: 'it''s'\nv: \"é ü\"\nw: \"\\u2028\\x85\\uFEFF\"\nx: \"[a]\"\ny: \"{a}\"\nz: \"*a\"\n"
        "aa: \"&a\"\nab: \"!a\"\nac: \"|\"\nad: \">\"\nae: \"%a\"\naf: \"@a\"\nag: \"`a\"\n"
        "ah: \"a,b\"\nai: \"end:\"\naj: \"\\\"q\\\\\"\nak: \"-\"\nal: \"?\"\nam: \"$$x\"\n",
        "a: \"true\"\nb: true\nc: \"1\"\nd: 1\ne: \"null\"\nf: null\ng: \"\"\nh: \"yes\"\n"
        "i: \"yes\"\nj: \"1e3\"\nk: 0x1F\nl: \".inf\"\nm: -.inf\nn: \"a: b\"\no: \"#x\"\n"
        "p: \"- x\"\nq: \" lead\"\nr: \"trail \"\ns: \"tab\\there\"\nt: \"line\\nbreak\"\n"
        "u: it's\nv: é ü\nw: \"\\u2028\\x85\\uFEFF\"\nx: \"[a]\"\ny: \"{a}\"\nz: \"*a\"\n"
        "aa: \"&a\"\nab: \"!a\"\nac: \"|\"\nad: \">\"\nae: \"%a\"\naf: \"@a\"\nag: \"`a\"\n"
        "ah: \"a,b\"\nai: \"end:\"\naj: \"\\\"q\\\\\"\nak: \"-\"\nal: \"?\"\nam: $$x\n");
}

static void test_emit_structures(void **state)
{
    (void)state;
    roundtrip("m:\n  - a: 1\n    b: [x, {c: d}]\n  - - 1\n    - - 2\n  - {}\n  - []\n  - ~\n"
              "\"\": empty key\n\"<<\": not a merge\n\"a: b\": k\n1: int key\n",
              "m:\n"
              "  - a: 1\n"
              "    b:\n"
              "      - x\n"
              "      - c: d\n"
              "  - - 1\n"
              "    - - 2\n"
              "  - {}\n"
              "  - []\n"
              "  - null\n"
              "\"\": empty key\n"
              "\"<<\": not a merge\n"
              "\"a: b\": k\n"
              "1: int key\n");
    roundtrip("{}\n", "{}\n");
    roundtrip("a: |\n  multi\n  line\nb: >\n  folded\n  text\n",
              "a: \"multi\\nline\\n\"\nb: \"folded text\\n\"\n");
}

static void test_emit_long_key_and_env_values(void **state)
{
    (void)state;
    char key[700];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    gb_sbuf_printf(&b, "? %s\n: {x: 1}\n", key);
    roundtrip(b.data, NULL);
    gb_sbuf_free(&b);
    /* values from the environment come back verbatim, never expanded again */
    setenv("CFGT_EMIT", "${HOME} $$ : #", 1);
    roundtrip("a: ${env:CFGT_EMIT}\n", "a: \"$${HOME} $$$$ : #\"\n");
    setenv("CFGT_EMIT", "a\x01\x7f", 1);
    roundtrip("a: ${env:CFGT_EMIT}\n", "a: \"a\\x01\\x7F\"\n");
}

static void test_emit_secrets(void **state)
{
    (void)state;
    setenv("CFGT_TOKEN", "hunter2", 1);
    tdoc t;
    tdoc_parse(&t, "exporters:\n  otlp:\n    headers:\n      api_key: ${env:CFGT_TOKEN}\n"
                   "    password: [a, b]\n    token:\n    auth: {token: x}\n");
    const char *secrets[] = {"api_key", "password", "token", NULL};
    char *y = emit(t.doc.root, secrets);
    assert_string_equal(y, "exporters:\n"
                           "  otlp:\n"
                           "    headers:\n"
                           "      api_key: \"[REDACTED]\"\n"
                           "    password: \"[REDACTED]\"\n"
                           "    token: null\n"
                           "    auth:\n"
                           "      token: \"[REDACTED]\"\n");
    assert_null(strstr(y, "hunter2"));
    free(y);
    tdoc_free(&t);
}

/* A secret key whose value is a map (otlphttp headers): names stay, every value is hidden. */
static void test_emit_secret_map(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "e:\n  headers:\n    Authorization: Bearer hunter2\n    x-k: {a: hunter3}\n"
                   "    empty:\n  other: {k: v}\n");
    const char *secrets[] = {"headers", NULL};
    char *y = emit(t.doc.root, secrets);
    assert_string_equal(y, "e:\n"
                           "  headers:\n"
                           "    Authorization: \"[REDACTED]\"\n"
                           "    x-k:\n"
                           "      a: \"[REDACTED]\"\n"
                           "    empty: null\n"
                           "  other:\n"
                           "    k: v\n");
    assert_null(strstr(y, "hunter"));
    free(y);
    tdoc_free(&t);
}

static void test_equal_and_helpers(void **state)
{
    (void)state;
    tdoc a, b;
    tdoc_parse(&a, "x: true\ny: [1, 2]\nz: {k: v}\n");
    tdoc_parse(&b, "x: \"true\"\ny: [1, 2]\nz: {k: v}\n");
    assert_false(cfg_node_equal(a.doc.root, b.doc.root));
    assert_true(cfg_node_equal(cfg_node_get(a.doc.root, "y"), cfg_node_get(b.doc.root, "y")));
    assert_true(cfg_node_equal(cfg_node_get(a.doc.root, "z"), cfg_node_get(b.doc.root, "z")));
    assert_false(cfg_node_equal(cfg_node_get(a.doc.root, "y"), cfg_node_get(b.doc.root, "z")));
    uint32_t n;
    const cfg_pair *pairs = cfg_node_pairs(a.doc.root, &n);
    assert_int_equal(n, 3);
    assert_string_equal(pairs[2].key, "z");
    assert_null(cfg_node_pairs(cfg_node_get(a.doc.root, "y"), &n));
    assert_int_equal(n, 0);
    assert_string_equal(cfg_node_kind_name(CFG_NODE_SEQ), "sequence");
    assert_true(cfg_node_is_null(NULL));
    assert_string_equal(cfg_path_key(&a.doc, "a.b", "c"), "a.b.c");
    assert_string_equal(cfg_path_key(&a.doc, "", "c"), "c");
    assert_string_equal(cfg_path_index(&a.doc, "a.b", 2), "a.b[2]");
    char buf[128];
    cfg_node_describe_value(cfg_node_get(a.doc.root, "x"), false, buf, sizeof buf);
    assert_string_equal(buf, "\"true\"");
    cfg_node_describe_value(cfg_node_get(a.doc.root, "x"), true, buf, sizeof buf);
    assert_string_equal(buf, "value hidden");
    cfg_node_describe_value(cfg_node_get(a.doc.root, "z"), false, buf, sizeof buf);
    assert_string_equal(buf, "a map");
    cfg_node *v = cfg_node_get(a.doc.root, "x");
    v->env_var = (char *)"A,B";
    cfg_node_describe_value(v, false, buf, sizeof buf);
    assert_string_equal(buf, "\"true\" (from ${env:A}, ${env:B})");
    cfg_node_describe_value(v, true, buf, sizeof buf);
    assert_string_equal(buf, "value hidden, from ${env:A}, ${env:B}");
    /* parse a bare value */
    cfg_node *val;
    assert_int_equal(cfg_doc_parse_value(&a.doc, "--set", 1, 7, "[a, {b: c}]", 11, "k", &val, &a.d),
                     GB_OK);
    assert_int_equal(val->kind, CFG_NODE_SEQ);
    assert_int_equal(val->items[1]->mark.col, 11);
    tdoc_free(&a);
    tdoc_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_semantics),
        cmocka_unit_test(test_merge_many_keys_and_file_names),
        cmocka_unit_test(test_set_forms),
        cmocka_unit_test(test_set_errors),
        cmocka_unit_test(test_emit_quotes_what_would_change),
        cmocka_unit_test(test_emit_structures),
        cmocka_unit_test(test_emit_long_key_and_env_values),
        cmocka_unit_test(test_emit_secrets),
        cmocka_unit_test(test_emit_secret_map),
        cmocka_unit_test(test_equal_and_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
