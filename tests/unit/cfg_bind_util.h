/* Shared helper for the component config unit tests: parse a YAML text, apply a config table's
 * defaults to a zeroed struct and bind the document's root into it, keeping the rendered
 * diagnostics (file:line:col) as text. Header-only; include it after <cmocka.h> (it asserts).
 * (tests/unit/config/cfg_test_util.h is the parser-level helper for the config tests; this one
 * binds a whole component table, as the component's create() path does.) */
#ifndef CFG_BIND_UTIL_H
#define CFG_BIND_UTIL_H

#include <string.h>

#include "config/config.h"

typedef struct cfg_bound {
    cfg_doc doc;
    cfg_diags d;
    gb_sbuf text; /* rendered diagnostics, NUL-terminated */
    gb_status st; /* cfg_bind's result */
} cfg_bound;

/* Binds yaml (the component's config as the document's root, reported under `path`) into obj,
 * an object of `size` bytes described by table t. Free with cfg_bound_free. */
static inline void cfg_bind_yaml(cfg_bound *b, const cfg_table *t, void *obj, size_t size,
                                 const char *path, const char *yaml)
{
    cfg_doc_init(&b->doc);
    cfg_diags_init(&b->d);
    gb_sbuf_init(&b->text, 0);
    assert_int_equal(cfg_doc_parse(&b->doc, "t.yaml", yaml, strlen(yaml), &b->d), GB_OK);
    memset(obj, 0, size);
    assert_int_equal(cfg_apply_defaults(t, obj, &b->doc, &b->d), GB_OK);
    b->st = cfg_bind(t, b->doc.root, obj, path, &b->doc, &b->d);
    cfg_diags_render(&b->d, &b->text);
    gb_sbuf_putc(&b->text, '\0');
}

static inline void cfg_bound_free(cfg_bound *b)
{
    gb_sbuf_free(&b->text);
    cfg_diags_free(&b->d);
    cfg_doc_free(&b->doc);
}

#endif
