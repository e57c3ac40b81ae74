/* Shared helpers for the config unit tests: parse text into a doc and render diagnostics. */
#ifndef CFG_TEST_UTIL_H
#define CFG_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "config/config.h"

typedef struct tdoc {
    cfg_doc doc;
    cfg_diags d;
    gb_status st;
    char *diags; /* rendered, heap */
} tdoc;

static inline void tdoc_render(tdoc *t)
{
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    cfg_diags_render(&t->d, &b);
    free(t->diags);
    t->diags = b.data ? b.data : strdup("");
}

static inline void tdoc_parse(tdoc *t, const char *text)
{
    cfg_doc_init(&t->doc);
    cfg_diags_init(&t->d);
    t->diags = NULL;
    t->st = cfg_doc_parse(&t->doc, "config.yaml", text, strlen(text), &t->d);
    tdoc_render(t);
}

static inline void tdoc_free(tdoc *t)
{
    free(t->diags);
    cfg_diags_free(&t->d);
    cfg_doc_free(&t->doc);
}

static inline char *emit(const cfg_node *n, const char *const *secrets)
{
    gb_sbuf b;
    gb_sbuf_init(&b, 0);
    cfg_node_emit_yaml(n, &b, secrets);
    return b.data ? b.data : strdup("");
}

#endif
