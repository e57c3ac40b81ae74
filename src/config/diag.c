/* Configuration diagnostics: a growable list of (severity, mark, path, message) records rendered
 * compiler-style, plus the "did you mean" helper.
 *
 * Each diagnostic owns heap copies of its file name, path and message, so the list outlives the
 * documents it describes (the CLI prints it after freeing them). Rendering sorts a copy of the
 * index by file, line, column and insertion order (stable), so output is deterministic whatever
 * order binding walked the tree in. At most CFG_MAX_DIAGS records are kept; the rest are counted
 * and summarized, so hostile input cannot grow the list without bound. Rejected: an arena for the
 * strings (diagnostics are few and freed individually when the CLI re-validates on reload). */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_diags_init(cfg_diags *d)
{
    memset(d, 0, sizeof *d);
}

void cfg_diags_free(cfg_diags *d)
{
    for (uint32_t i = 0; i < d->n; i++) {
        free((void *)(uintptr_t)d->v[i].mark.file);
        free(d->v[i].path);
        free(d->v[i].message);
    }
    free(d->v);
    memset(d, 0, sizeof *d);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void cfg_diag_addv(cfg_diags *d, cfg_severity sev, cfg_mark mark, const char *path, const char *fmt,
                   va_list ap)
{
    if (sev == CFG_ERROR)
        d->errors++;
    else
        d->warnings++;
    if (d->n >= CFG_MAX_DIAGS) return;
    if (d->n == d->cap) {
        uint32_t ncap = d->cap ? d->cap * 2 : 16;
        cfg_diag *nv = realloc(d->v, (size_t)ncap * sizeof *nv);
        if (!nv) return;
        d->v = nv;
        d->cap = ncap;
    }
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
    cfg_diag *g = &d->v[d->n];
    g->severity = sev;
    g->mark = mark;
    g->mark.file = dup_or_null(mark.file);
    g->path = strdup(path ? path : "");
    g->message = msg ? msg : strdup("(out of memory)");
    d->n++;
}

void cfg_diag_add(cfg_diags *d, cfg_severity sev, cfg_mark mark, const char *path, const char *fmt,
                  ...)
{
    va_list ap;
    va_start(ap, fmt);
    cfg_diag_addv(d, sev, mark, path, fmt, ap);
    va_end(ap);
}

static int diag_cmp(const void *pa, const void *pb, void *ctx)
{
    const cfg_diags *dd = ctx;
    uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
    const cfg_diag *a = &dd->v[ia], *b = &dd->v[ib];
    const char *fa = a->mark.file ? a->mark.file : "", *fb = b->mark.file ? b->mark.file : "";
    int c = strcmp(fa, fb);
    if (c) return c;
    if (a->mark.line != b->mark.line) return a->mark.line < b->mark.line ? -1 : 1;
    if (a->mark.col != b->mark.col) return a->mark.col < b->mark.col ? -1 : 1;
    return ia < ib ? -1 : (ia > ib);
}

void cfg_diags_render(const cfg_diags *d, gb_sbuf *out)
{
    uint32_t *idx = d->n ? malloc((size_t)d->n * sizeof *idx) : NULL;
    if (d->n && !idx) {
        gb_sbuf_puts(out, "error: out of memory rendering diagnostics\n");
        return;
    }
    for (uint32_t i = 0; i < d->n; i++)
        idx[i] = i;
    if (d->n > 1) qsort_r(idx, d->n, sizeof *idx, diag_cmp, (void *)d);
    for (uint32_t k = 0; k < d->n; k++) {
        const cfg_diag *g = &d->v[idx[k]];
        if (g->mark.file && g->mark.file[0]) {
            gb_sbuf_puts(out, g->mark.file);
            if (g->mark.line) gb_sbuf_printf(out, ":%u:%u", g->mark.line, g->mark.col);
            gb_sbuf_puts(out, ": ");
        }
        gb_sbuf_puts(out, g->severity == CFG_ERROR ? "error: " : "warning: ");
        if (g->path && g->path[0]) gb_sbuf_printf(out, "%s: ", g->path);
        gb_sbuf_printf(out, "%s\n", g->message);
    }
    uint32_t total = d->errors + d->warnings;
    if (total > d->n) gb_sbuf_printf(out, "note: %u more diagnostics not shown\n", total - d->n);
    free(idx);
}

/* Optimal string alignment distance (Levenshtein plus adjacent transposition), case-folded,
 * two rolling rows plus one for transpositions. Words are bounded by the caller. */
#define DYM_MAX 128

static unsigned osa_distance(const char *a, size_t la, const char *b, size_t lb)
{
    unsigned rows[3][DYM_MAX + 1];
    unsigned *pp = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            unsigned cost = ca != cb;
            unsigned v = prev[j] + 1;
            if (cur[j - 1] + 1 < v) v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v) v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            cur[j] = v;
        }
        unsigned *t = pp;
        pp = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *cfg_did_you_mean(const char *word, const char *const *candidates, size_t n)
{
    if (!word || !candidates) return NULL;
    size_t lw = strlen(word);
    if (lw == 0 || lw > DYM_MAX) return NULL;
    const char *best = NULL;
    unsigned best_d = ~0u;
    for (size_t i = 0; i < n; i++) {
        const char *c = candidates[i];
        if (!c) continue;
        size_t lc = strlen(c);
        if (lc == 0 || lc > DYM_MAX) continue;
        size_t longer = lw > lc ? lw : lc;
        /* Close enough: 1 edit for short words, about a third of the length for longer ones. */
        unsigned allowed = longer <= 4 ? 1 : (unsigned)(longer / 3);
        if (allowed > 4) allowed = 4;
        unsigned dist = osa_distance(word, lw, c, lc);
        if (dist >= lc) continue; /* nothing in common */
        if (dist <= allowed && dist < best_d) {
            best = c;
            best_d = dist;
        }
    }
    return best;
}
