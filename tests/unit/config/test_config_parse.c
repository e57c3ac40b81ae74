#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg_test_util.h"

static void test_marks_on_keys_and_values(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "receivers:\n  otlp:\n    protocols:\n      http:\n        endpoint: "
                   "\"0.0.0.0:4318\"\n  list: [a, 'b']\n");
    assert_int_equal(t.st, GB_OK);
    assert_string_equal(t.diags, "");
    cfg_node *http = cfg_node_find(t.doc.root, "receivers::otlp::protocols::http", "::");
    assert_non_null(http);
    assert_int_equal(http->kind, CFG_NODE_MAP);
    const cfg_pair *p = cfg_node_get_pair(http, "endpoint");
    assert_non_null(p);
    assert_string_equal(p->key_mark.file, "config.yaml");
    assert_int_equal(p->key_mark.line, 5);
    assert_int_equal(p->key_mark.col, 9);
    assert_int_equal(p->value->mark.line, 5);
    assert_int_equal(p->value->mark.col, 19);
    assert_string_equal(p->value->scalar, "0.0.0.0:4318");
    assert_true(p->value->quoted);
    cfg_node *list = cfg_node_find(t.doc.root, "receivers.list", ".");
    assert_non_null(list);
    assert_int_equal(list->kind, CFG_NODE_SEQ);
    assert_int_equal(list->n_items, 2);
    assert_false(list->items[0]->quoted);
    assert_true(list->items[1]->quoted);
    assert_int_equal(list->items[1]->mark.line, 6);
    assert_int_equal(list->items[1]->mark.col, 13);
    tdoc_free(&t);
}

static void test_null_forms_and_scalars(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "a:\nb: ~\nc: null\nd: \"null\"\ne: NULL\nf: !!str null\ng: 12\nh: !!null x\n"
                   "1: one\ntrue: yes\n");
    assert_int_equal(t.st, GB_OK);
    assert_int_equal(cfg_node_get(t.doc.root, "a")->kind, CFG_NODE_NULL);
    assert_int_equal(cfg_node_get(t.doc.root, "b")->kind, CFG_NODE_NULL);
    assert_int_equal(cfg_node_get(t.doc.root, "c")->kind, CFG_NODE_NULL);
    assert_string_equal(cfg_node_get(t.doc.root, "c")->scalar, "");
    assert_int_equal(cfg_node_get(t.doc.root, "d")->kind, CFG_NODE_SCALAR);
    assert_string_equal(cfg_node_scalar(cfg_node_get(t.doc.root, "d")), "null");
    assert_int_equal(cfg_node_get(t.doc.root, "e")->kind, CFG_NODE_NULL);
    assert_int_equal(cfg_node_get(t.doc.root, "f")->kind, CFG_NODE_SCALAR);
    assert_true(cfg_node_get(t.doc.root, "f")->quoted);
    assert_string_equal(cfg_node_scalar(cfg_node_get(t.doc.root, "g")), "12");
    assert_int_equal(cfg_node_get(t.doc.root, "h")->kind, CFG_NODE_NULL);
    /* non-string keys become their text */
    assert_string_equal(cfg_node_scalar(cfg_node_get(t.doc.root, "1")), "one");
    assert_string_equal(cfg_node_scalar(cfg_node_get(t.doc.root, "true")), "yes");
    assert_null(cfg_node_scalar(cfg_node_get(t.doc.root, "a")));
    assert_null(cfg_node_get(t.doc.root, "zz"));
    tdoc_free(&t);
}

static void test_empty_documents(void **state)
{
    (void)state;
    const char *inputs[] = {"", "# only a comment\n", "---\n", "~\n"};
    for (size_t i = 0; i < 4; i++) {
        tdoc t;
        tdoc_parse(&t, inputs[i]);
        assert_int_equal(t.st, GB_OK);
        assert_non_null(t.doc.root);
        assert_int_equal(t.doc.root->kind, CFG_NODE_MAP);
        assert_int_equal(t.doc.root->n_pairs, 0);
        tdoc_free(&t);
    }
}

static void test_top_level_must_be_map(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "- a\n- b\n");
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags,
                        "config.yaml:1:1: error: the top level of a configuration must be a map, "
                        "got a sequence\n");
    assert_int_equal(t.doc.root->kind, CFG_NODE_MAP);
    tdoc_free(&t);
    tdoc_parse(&t, "just text\n");
    assert_string_equal(t.diags, "config.yaml:1:1: error: the top level of a configuration must "
                                 "be a map, got a scalar\n");
    tdoc_free(&t);
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "exporters:\n  otlp:\n    endpoint: a\n    timeout: 1s\n    endpoint: b\n"
                   "exporters: {}\n");
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags,
                        "config.yaml:5:5: error: exporters.otlp: duplicate key \"endpoint\" (first "
                        "defined at line 3, column 5)\n"
                        "config.yaml:6:1: warning: duplicate key \"exporters\" (first defined at "
                        "line 1, column 1): both maps are merged; otelcol rejects this, write the "
                        "key once\n");
    /* the first definition is kept */
    assert_string_equal(cfg_node_scalar(cfg_node_find(t.doc.root, "exporters.otlp.endpoint", ".")),
                        "a");
    tdoc_free(&t);
}

static void test_duplicate_keys_large_map(void **state)
{
    (void)state;
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    for (int i = 0; i < 2000; i++)
        gb_sbuf_printf(&b, "k%d: %d\n", i, i);
    gb_sbuf_puts(&b, "k1500: again\n");
    tdoc t;
    tdoc_parse(&t, b.data);
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags, "config.yaml:2001:1: error: duplicate key \"k1500\" (first "
                                 "defined at line 1501, column 1)\n");
    assert_int_equal(t.doc.root->n_pairs, 2000);
    tdoc_free(&t);
    gb_sbuf_free(&b);
}

static void test_anchors_aliases_and_merge(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "defaults: &def\n  timeout: 5s\n  retry: {enabled: true}\n"
                   "exporters:\n  a:\n    <<: *def\n    timeout: 10s\n  b: *def\n"
                   "  c:\n    <<: [{x: 1}, {x: 2, y: 2}]\nlist: &l [1, 2]\nagain: *l\n");
    assert_int_equal(t.st, GB_OK);
    assert_string_equal(t.diags, "");
    cfg_node *a = cfg_node_find(t.doc.root, "exporters.a", ".");
    assert_int_equal(a->n_pairs, 2);
    assert_string_equal(cfg_node_scalar(cfg_node_get(a, "timeout")), "10s");
    assert_string_equal(cfg_node_scalar(cfg_node_find(a, "retry.enabled", ".")), "true");
    assert_null(cfg_node_get(a, "<<"));
    cfg_node *b = cfg_node_find(t.doc.root, "exporters.b", ".");
    assert_string_equal(cfg_node_scalar(cfg_node_get(b, "timeout")), "5s");
    /* the alias is a copy: its top node is marked where the alias is */
    assert_int_equal(b->mark.line, 8);
    assert_int_equal(b->mark.col, 6);
    assert_ptr_not_equal(b, cfg_node_get(t.doc.root, "defaults"));
    cfg_node *c = cfg_node_find(t.doc.root, "exporters.c", ".");
    assert_string_equal(cfg_node_scalar(cfg_node_get(c, "x")), "1"); /* earlier map wins */
    assert_string_equal(cfg_node_scalar(cfg_node_get(c, "y")), "2");
    assert_true(
        cfg_node_equal(cfg_node_get(t.doc.root, "list"), cfg_node_get(t.doc.root, "again")));
    tdoc_free(&t);
}

static void test_alias_errors(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "a: *nope\nb: &r [1, *r]\nc:\n  <<: 5\n");
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags, "config.yaml:1:4: error: a: unknown anchor \"nope\"\n"
                                 "config.yaml:2:11: error: b[1]: unknown anchor \"r\"\n"
                                 "config.yaml:4:7: error: c: merge key \"<<\" needs a map or a "
                                 "list of maps, got a scalar\n");
    tdoc_free(&t);
}

static void test_alias_bomb_refused(void **state)
{
    (void)state;
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    gb_sbuf_puts(&b, "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for (int i = 1; i < 9; i++) {
        gb_sbuf_printf(&b, "a%d: &a%d [", i, i);
        for (int k = 0; k < 9; k++)
            gb_sbuf_printf(&b, "%s*a%d", k ? ", " : "", i - 1);
        gb_sbuf_puts(&b, "]\n");
    }
    tdoc t;
    tdoc_parse(&t, b.data);
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags, "config.yaml:6:10: error: a5[0]: aliases expand to more than "
                                 "100000 nodes (refusing a \"billion laughs\" document)\n");
    assert_true(t.doc.arena.total < (64u << 20));
    tdoc_free(&t);
    gb_sbuf_free(&b);
}

static void test_multiple_documents(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "a: 1\n---\nb: 2\n");
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags, "config.yaml:2:1: error: more than one YAML document (\"---\") in "
                                 "one file is not supported\n");
    tdoc_free(&t);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "a: 1\nb:\n  c: 2\n d: 3\n");
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags, "config.yaml:4:2: error: did not find expected key (while parsing "
                                 "a block mapping at line 1, column 1)\n");
    tdoc_free(&t);
    tdoc_parse(&t, "a: [1, 2\n");
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags, "config.yaml:2:1: error: did not find expected ',' or ']' (while "
                                 "parsing a flow sequence at line 1, column 4)\n");
    tdoc_free(&t);
    tdoc_parse(&t, "a: b: c\n");
    assert_string_equal(t.diags,
                        "config.yaml:1:5: error: mapping values are not allowed in this context\n");
    tdoc_free(&t);
    tdoc_parse(&t, "a: \"x\x01y\"\n");
    assert_string_equal(t.diags,
                        "config.yaml:1:6: error: control characters are not allowed (byte 0x01)\n");
    tdoc_free(&t);
    tdoc_parse(&t, "a: \xff\n");
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags,
                        "config.yaml:1:4: error: invalid leading UTF-8 octet (byte 0xFF)\n");
    tdoc_free(&t);
}

static void test_complex_keys_and_nul(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "? [a, b]\n: v\nk: \"a\\0b\"\n");
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags, "config.yaml:1:3: error: a sequence cannot be a key\n"
                                 "config.yaml:3:4: error: k: NUL character in a value is not "
                                 "supported\n");
    tdoc_free(&t);
}

static void test_depth_limit(void **state)
{
    (void)state;
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    gb_sbuf_puts(&b, "a: ");
    for (int i = 0; i < 100; i++)
        gb_sbuf_putc(&b, '[');
    for (int i = 0; i < 100; i++)
        gb_sbuf_putc(&b, ']');
    gb_sbuf_putc(&b, '\n');
    tdoc t;
    tdoc_parse(&t, b.data);
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_non_null(strstr(t.diags, "error: a[0][0][0]"));
    assert_non_null(strstr(t.diags, ": nesting deeper than 64 levels\n"));
    tdoc_free(&t);
    gb_sbuf_free(&b);
}

/* ---- expansion ---- */

static void test_env_forms(void **state)
{
    (void)state;
    setenv("CFGT_HOST", "collector", 1);
    setenv("CFGT_PORT", "4318", 1);
    setenv("CFGT_EMPTY", "", 1);
    setenv("CFGT_NESTED", "${CFGT_HOST}", 1);
    unsetenv("CFGT_UNSET");
    tdoc t;
    tdoc_parse(&t, "a: ${env:CFGT_HOST}:${CFGT_PORT}\n"
                   "b: \"${env:CFGT_UNSET:-fallback}\"\n"
                   "c: ${CFGT_UNSET:-x-${env:CFGT_PORT}}\n"
                   "d: $$HOME and $HOME and $${env:CFGT_HOST}\n"
                   "e: ${env:CFGT_NESTED}\n"
                   "f: ${env:CFGT_EMPTY:-dflt}\n"
                   "g: 'a ${env:CFGT_PORT} b'\n"
                   "h: price $5\n");
    assert_int_equal(t.st, GB_OK);
    assert_string_equal(t.diags, "");
    const cfg_node *r = t.doc.root;
    assert_string_equal(cfg_node_get(r, "a")->scalar, "collector:4318");
    assert_string_equal(cfg_node_get(r, "a")->env_var, "CFGT_HOST,CFGT_PORT");
    assert_string_equal(cfg_node_get(r, "b")->scalar, "fallback");
    assert_string_equal(cfg_node_get(r, "c")->scalar, "x-4318");
    assert_string_equal(cfg_node_get(r, "c")->env_var, "CFGT_UNSET,CFGT_PORT");
    assert_string_equal(cfg_node_get(r, "d")->scalar, "$HOME and $HOME and ${env:CFGT_HOST}");
    assert_null(cfg_node_get(r, "d")->env_var);
    /* values from the environment are not expanded again */
    assert_string_equal(cfg_node_get(r, "e")->scalar, "${CFGT_HOST}");
    /* set but empty: the default is for unset variables only (as otelcol) */
    assert_string_equal(cfg_node_get(r, "f")->scalar, "");
    assert_true(cfg_node_get(r, "f")->quoted);
    assert_string_equal(cfg_node_get(r, "g")->scalar, "a 4318 b");
    assert_string_equal(cfg_node_get(r, "h")->scalar, "price $5");
    tdoc_free(&t);
}

static void test_env_unset_warns(void **state)
{
    (void)state;
    unsetenv("CFGT_MISSING");
    tdoc t;
    tdoc_parse(&t, "exporters:\n  otlp:\n    headers:\n      x-key: \"k=${env:CFGT_MISSING}\"\n");
    assert_int_equal(t.st, GB_OK);
    assert_int_equal(t.d.warnings, 1);
    assert_string_equal(t.diags, "config.yaml:4:17: warning: exporters.otlp.headers.x-key: "
                                 "environment variable \"CFGT_MISSING\" is not set; using an empty "
                                 "value\n");
    const cfg_node *v = cfg_node_find(t.doc.root, "exporters.otlp.headers.x-key", ".");
    assert_string_equal(v->scalar, "k=");
    assert_string_equal(v->env_var, "CFGT_MISSING");
    tdoc_free(&t);
}

static void test_env_typed_values(void **state)
{
    (void)state;
    setenv("CFGT_NULL", "null", 1);
    setenv("CFGT_TRUE", "true", 1);
    unsetenv("CFGT_UNSET");
    tdoc t;
    tdoc_parse(&t, "a: ${env:CFGT_NULL}\nb: ${env:CFGT_TRUE}\nc: ${env:CFGT_UNSET}\n");
    assert_int_equal(t.st, GB_OK);
    assert_int_equal(cfg_node_get(t.doc.root, "a")->kind, CFG_NODE_NULL);
    assert_string_equal(cfg_node_get(t.doc.root, "a")->env_var, "CFGT_NULL");
    assert_false(cfg_node_get(t.doc.root, "b")->quoted);
    assert_string_equal(cfg_node_get(t.doc.root, "b")->scalar, "true");
    /* an expansion to nothing is an empty string, not null */
    assert_int_equal(cfg_node_get(t.doc.root, "c")->kind, CFG_NODE_SCALAR);
    assert_true(cfg_node_get(t.doc.root, "c")->quoted);
    tdoc_free(&t);
}

static void test_expansion_errors(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "a: x${env:X\n"
                   "b: \"${http://example.com/c.yaml}\"\n"
                   "c: ${}\n"
                   "d: ${env:1BAD}\n"
                   "e: '${yaml:a: b}'\n"
                   "f: ${file:/nonexistent/cfgt}\n"
                   "g: ${file:/}\n"
                   "h: ${not a name}\n"
                   "i: |\n  ${env:\n");
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(
        t.diags,
        "config.yaml:1:5: error: a: unterminated \"${\" (write \"$$\" for a literal \"$\")\n"
        "config.yaml:2:5: error: b: provider not supported: \"${http:...}\" (supported: env, "
        "file)\n"
        "config.yaml:3:4: error: c: empty \"${}\" reference\n"
        "config.yaml:4:4: error: d: invalid environment variable name \"1BAD\" in "
        "\"${env:1BAD}\"\n"
        "config.yaml:5:5: error: e: provider not supported: \"${yaml:...}\" (supported: env, "
        "file)\n"
        "config.yaml:6:4: error: f: cannot read ${file:/nonexistent/cfgt}: No such file or "
        "directory\n"
        "config.yaml:7:4: error: g: cannot read ${file:/}: not a regular file\n"
        "config.yaml:8:4: error: h: invalid environment variable name \"not a name\" in \"${not a "
        "name}\"\n"
        "config.yaml:9:4: error: i: unterminated \"${\" (write \"$$\" for a literal \"$\")\n");
    tdoc_free(&t);
}

static void test_file_provider(void **state)
{
    (void)state;
    char path[] = "/tmp/cfgt_secretXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cr3t $x\n", 10), 10);
    close(fd);
    char text[256];
    snprintf(text, sizeof text, "token: ${file:%s}\n", path);
    tdoc t;
    tdoc_parse(&t, text);
    assert_int_equal(t.st, GB_OK);
    /* one trailing newline is dropped; the content is not expanded */
    assert_string_equal(cfg_node_get(t.doc.root, "token")->scalar, "s3cr3t $x");
    tdoc_free(&t);
    /* too large */
    FILE *f = fopen(path, "w");
    for (unsigned i = 0; i < CFG_MAX_FILE_VALUE / 64 + 1; i++)
        fputs("0123456789012345678901234567890123456789012345678901234567890123", f);
    fclose(f);
    tdoc_parse(&t, text);
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_non_null(strstr(t.diags, "is larger than 1048576 bytes\n"));
    tdoc_free(&t);
    unlink(path);
}

static void test_positions_utf8_crlf_bom(void **state)
{
    (void)state;
    tdoc t;
    tdoc_parse(&t, "\xef\xbb\xbf"
                   "a: 1\r\nb: \"\xc3\xa9\xc3\xa9 ${}\"\r\nc:\r\n  - 'x ${env:}'\r\n");
    assert_int_equal(t.st, GB_ERR_INVALID);
    assert_string_equal(t.diags, "config.yaml:2:8: error: b: empty \"${}\" reference\n"
                                 "config.yaml:4:8: error: c[0]: invalid environment variable name "
                                 "\"\" in \"${env:}\"\n");
    tdoc_free(&t);
    /* escapes shift the text: the error falls back to the value's start */
    tdoc_parse(&t, "k: \"\\t${x\"\n");
    assert_string_equal(t.diags, "config.yaml:1:4: error: k: unterminated \"${\" (write \"$$\" "
                                 "for a literal \"$\")\n");
    tdoc_free(&t);
}

static void test_load_file(void **state)
{
    (void)state;
    cfg_doc doc;
    cfg_diags d;
    cfg_doc_init(&doc);
    cfg_diags_init(&d);
    assert_int_equal(cfg_doc_load_file(&doc, "/nonexistent/cfgt.yaml", &d), GB_ERR_IO);
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    cfg_diags_render(&d, &b);
    assert_string_equal(b.data, "/nonexistent/cfgt.yaml: error: cannot read config file: No such "
                                "file or directory\n");
    gb_sbuf_free(&b);
    char path[] = "/tmp/cfgt_loadXXXXXX";
    int fd = mkstemp(path);
    assert_int_equal(write(fd, "a:\n  b: 1\n", 10), 10);
    close(fd);
    assert_int_equal(cfg_doc_load_file(&doc, path, &d), GB_OK);
    assert_string_equal(cfg_node_get(doc.root, "a")->pairs[0].key_mark.file, path);
    unlink(path);
    cfg_diags_free(&d);
    cfg_doc_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marks_on_keys_and_values),
        cmocka_unit_test(test_null_forms_and_scalars),
        cmocka_unit_test(test_empty_documents),
        cmocka_unit_test(test_top_level_must_be_map),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_duplicate_keys_large_map),
        cmocka_unit_test(test_anchors_aliases_and_merge),
        cmocka_unit_test(test_alias_errors),
        cmocka_unit_test(test_alias_bomb_refused),
        cmocka_unit_test(test_multiple_documents),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_complex_keys_and_nul),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_env_forms),
        cmocka_unit_test(test_env_unset_warns),
        cmocka_unit_test(test_env_typed_values),
        cmocka_unit_test(test_expansion_errors),
        cmocka_unit_test(test_file_provider),
        cmocka_unit_test(test_positions_utf8_crlf_bom),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
