/* Fuzz target for the config loader: parse arbitrary text; when it parses, print it back as YAML,
 * parse that again and require an equal tree and a byte-identical second print (print-config must
 * round-trip). Also binds the tree against a small table covering every field type, renders the
 * diagnostics, and applies a --set, so the whole control path sees hostile input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

typedef struct fz_inner {
    int64_t port;
    char *name;
} fz_inner;

typedef struct fz_cfg {
    bool b;
    int64_t i;
    double x;
    char *s;
    int64_t dur;
    int e;
    cfg_strings list;
    cfg_strmap headers;
    fz_inner sec;
    cfg_list items;
    const cfg_node *any;
    bool s_set;
} fz_cfg;

static const cfg_field inner_fields[] = {
    {.key = "port",
     .type = CFG_T_INT,
     .offset = offsetof(fz_inner, port),
     .def = "80",
     .min = 1,
     .max = 65535},
    {.key = "name",
     .type = CFG_T_STRING,
     .offset = offsetof(fz_inner, name),
     .flags = CFG_F_SECRET},
};
static CFG_TABLE(inner_table, inner_fields, NULL);

static const char *const modes[] = {"basic", "normal", "detailed", NULL};

static const cfg_field fields[] = {
    {.key = "b", .type = CFG_T_BOOL, .offset = offsetof(fz_cfg, b), .def = "true"},
    {.key = "i", .type = CFG_T_INT, .offset = offsetof(fz_cfg, i), .def = "0x10"},
    {.key = "x", .type = CFG_T_DOUBLE, .offset = offsetof(fz_cfg, x), .min = -1, .max = 1},
    {.key = "s",
     .type = CFG_T_STRING,
     .offset = offsetof(fz_cfg, s),
     .def = "x",
     .flags = CFG_F_TRACK_SET,
     .set_offset = offsetof(fz_cfg, s_set)},
    {.key = "dur", .type = CFG_T_DURATION, .offset = offsetof(fz_cfg, dur), .def = "1s"},
    {.key = "e", .type = CFG_T_ENUM, .offset = offsetof(fz_cfg, e), .enum_names = modes},
    {.key = "list", .type = CFG_T_STRINGS, .offset = offsetof(fz_cfg, list)},
    {.key = "headers", .type = CFG_T_STRMAP, .offset = offsetof(fz_cfg, headers)},
    {.key = "sec", .type = CFG_T_SECTION, .offset = offsetof(fz_cfg, sec), .sub = &inner_table},
    {.key = "items",
     .type = CFG_T_LIST,
     .offset = offsetof(fz_cfg, items),
     .sub = &inner_table,
     .elem_size = sizeof(fz_inner)},
    {.key = "any", .type = CFG_T_ANY, .offset = offsetof(fz_cfg, any)},
    {.key = "old",
     .type = CFG_T_BOOL,
     .offset = offsetof(fz_cfg, b),
     .flags = CFG_F_DEPRECATED | CFG_F_NULLABLE,
     .replacement = "b"},
};
static CFG_TABLE(fz_table, fields, NULL);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024) return 0;
    cfg_doc doc, doc2;
    cfg_diags d, d2;
    gb_sbuf out, out2, diag;
    cfg_doc_init(&doc);
    cfg_doc_init(&doc2);
    cfg_diags_init(&d);
    cfg_diags_init(&d2);
    gb_sbuf_init(&out, 0);
    gb_sbuf_init(&out2, 0);
    gb_sbuf_init(&diag, 0);

    gb_status st = cfg_doc_parse(&doc, "fuzz.yaml", (const char *)data, size, &d);
    if (st == GB_OK) {
        cfg_node_emit_yaml(doc.root, &out, NULL);
        gb_status st2 = cfg_doc_parse(&doc2, "print.yaml", out.data ? out.data : "", out.len, &d2);
        if (st2 != GB_OK || !cfg_node_equal(doc.root, doc2.root)) {
            gb_sbuf_reset(&diag);
            cfg_diags_render(&d2, &diag);
            fprintf(stderr, "round trip failed (status %d)\n--- printed ---\n%s\n--- diags ---\n%s",
                    st2, out.data ? out.data : "", diag.data ? diag.data : "");
            abort();
        }
        cfg_node_emit_yaml(doc2.root, &out2, NULL);
        if (out.len != out2.len || (out.len && memcmp(out.data, out2.data, out.len))) {
            fprintf(stderr, "print not stable\n--- first ---\n%s\n--- second ---\n%s", out.data,
                    out2.data);
            abort();
        }
        void *obj;
        cfg_bind_new(&fz_table, sizeof(fz_cfg), doc.root, "fz", &doc, &d, &obj);
        cfg_doc_set(&doc, "sec::port=8080", &d);
        gb_sbuf_reset(&out);
        const char *secrets[] = {"name", NULL};
        cfg_node_emit_yaml(doc.root, &out, secrets);
    }
    cfg_diags_render(&d, &diag);

    gb_sbuf_free(&out);
    gb_sbuf_free(&out2);
    gb_sbuf_free(&diag);
    cfg_diags_free(&d);
    cfg_diags_free(&d2);
    cfg_doc_free(&doc);
    cfg_doc_free(&doc2);
    return 0;
}
