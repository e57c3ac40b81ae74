/* Schema binding: config tables (data) -> C structs, with defaults, type/bound/enum checks, and
 * diagnostics that never echo secrets and say where a value came from (${env:X}).
 *
 * How: a table is an array of cfg_field (key, type, offset, default text, flags). Defaults are
 * parsed by the same converters as values, so a table cannot say something a config file could
 * not. cfg_bind walks the node's pairs once: unknown keys get a "did you mean" from the table's
 * keys, each known key is converted by type into obj+offset, and every problem is recorded while
 * binding goes on, so one run reports everything. Nested sections and lists recurse with a dotted
 * path for messages. Scalars are converted from their text whatever their YAML style: otelcol
 * configs quote numbers ("${env:PORT}") and a config that loads in otelcol must load here.
 * Rejected: YAML-typed conversion (refusing a quoted "4317" for an int would break configs that
 * otelcol accepts through its env-var re-typing); reflection-like code generation (tables are
 * small and read once). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg_internal.h"

__extension__ typedef unsigned __int128 cfg_u128;

static void *field_ptr(void *obj, size_t off)
{
    return (char *)obj + off;
}

/* ---- scalar converters --------------------------------------------------------------------------
 */

static bool parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
        *out = true;
        return true;
    }
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
        *out = false;
        return true;
    }
    return false;
}

/* 0 ok, 1 syntax, 2 overflow */
static int parse_int(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    unsigned base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    }
    if (!*p) return 1;
    uint64_t v = 0;
    bool over = false;
    for (; *p; p++) {
        unsigned dgt;
        if (*p >= '0' && *p <= '9')
            dgt = (unsigned)(*p - '0');
        else if (base == 16 && *p >= 'a' && *p <= 'f')
            dgt = (unsigned)(*p - 'a' + 10);
        else if (base == 16 && *p >= 'A' && *p <= 'F')
            dgt = (unsigned)(*p - 'A' + 10);
        else
            return 1;
        if (v > (UINT64_MAX - dgt) / base)
            over = true;
        else
            v = v * base + dgt;
    }
    if (over || v > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) return 2;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static bool parse_double(const char *s, double *out)
{
    const char *p = s;
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
        *out = sign * INFINITY;
        return true;
    }
    if (p == s && (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN"))) {
        *out = NAN;
        return true;
    }
    if (!*s || strspn(s, "0123456789+-.eE") != strlen(s)) return false;
    if (!strpbrk(s, "0123456789")) return false;
    char *end;
    double v = strtod(s, &end);
    if (*end) return false;
    *out = v;
    return true;
}

gb_status cfg_parse_duration(const char *s, int64_t *ns)
{
    const uint64_t lim = (uint64_t)INT64_MAX + 1;
    if (!s) return GB_ERR_INVALID;
    const char *p = s;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (!*p) return GB_ERR_INVALID;
    if (!strcmp(p, "0")) {
        *ns = 0;
        return GB_OK;
    }
    if (strspn(p, "0123456789") == strlen(p)) { /* bare integer: nanoseconds */
        int64_t v;
        int r = parse_int(s, &v);
        if (r) return r == 2 ? GB_ERR_LIMIT : GB_ERR_INVALID;
        *ns = v;
        return GB_OK;
    }
    uint64_t total = 0;
    while (*p) {
        uint64_t v = 0, f = 0, scale = 1;
        bool over = false, digits = false;
        if (!((*p >= '0' && *p <= '9') || *p == '.')) return GB_ERR_INVALID;
        for (; *p >= '0' && *p <= '9'; p++) {
            digits = true;
            uint64_t dg = (uint64_t)(*p - '0');
            if (v > (lim - dg) / 10)
                over = true;
            else
                v = v * 10 + dg;
        }
        if (*p == '.') {
            p++;
            for (; *p >= '0' && *p <= '9'; p++) {
                digits = true;
                if (scale < 1000000000000000000ull) {
                    f = f * 10 + (uint64_t)(*p - '0');
                    scale *= 10;
                }
            }
        }
        if (!digits) return GB_ERR_INVALID;
        const char *u = p;
        while (*p && !(*p >= '0' && *p <= '9') && *p != '.')
            p++;
        size_t ul = (size_t)(p - u);
        uint64_t mult;
        if (ul == 2 && !memcmp(u, "ns", 2))
            mult = 1;
        else if ((ul == 2 && !memcmp(u, "us", 2)) || (ul == 3 && !memcmp(u, "\xC2\xB5s", 3)) ||
                 (ul == 3 && !memcmp(u, "\xCE\xBCs", 3)))
            mult = 1000;
        else if (ul == 2 && !memcmp(u, "ms", 2))
            mult = 1000000;
        else if (ul == 1 && *u == 's')
            mult = 1000000000ull;
        else if (ul == 1 && *u == 'm')
            mult = 60ull * 1000000000ull;
        else if (ul == 1 && *u == 'h')
            mult = 3600ull * 1000000000ull;
        else
            return GB_ERR_INVALID; /* missing or unknown unit */
        if (over || v > lim / mult) return GB_ERR_LIMIT;
        v *= mult;
        if (f) v += (uint64_t)((cfg_u128)f * mult / scale);
        total += v;
        if (total > lim) return GB_ERR_LIMIT;
    }
    if (!neg && total > (uint64_t)INT64_MAX) return GB_ERR_LIMIT;
    *ns = neg ? (int64_t)(0 - total) : (int64_t)total;
    return GB_OK;
}

static void put_frac(char *out, size_t cap, const char *sign, uint64_t u, uint64_t unit, int width,
                     const char *name)
{
    uint64_t whole = u / unit, r = u % unit;
    if (!r) {
        snprintf(out, cap, "%s%llu%s", sign, (unsigned long long)whole, name);
        return;
    }
    char fr[32];
    snprintf(fr, sizeof fr, "%0*llu", width, (unsigned long long)r);
    size_t l = strlen(fr);
    while (l > 0 && fr[l - 1] == '0')
        fr[--l] = '\0';
    snprintf(out, cap, "%s%llu.%s%s", sign, (unsigned long long)whole, fr, name);
}

void cfg_format_duration(int64_t ns, char *out, size_t cap)
{
    if (!cap) return;
    uint64_t u = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
    const char *sign = ns < 0 ? "-" : "";
    const uint64_t sec = 1000000000ull;
    if (u == 0)
        snprintf(out, cap, "0s");
    else if (u < 1000)
        snprintf(out, cap, "%s%lluns", sign, (unsigned long long)u);
    else if (u < 1000000)
        put_frac(out, cap, sign, u, 1000, 3, "\xC2\xB5s");
    else if (u < sec)
        put_frac(out, cap, sign, u, 1000000, 6, "ms");
    else {
        uint64_t h = u / (3600 * sec), rem = u % (3600 * sec);
        uint64_t m = rem / (60 * sec), s = rem % (60 * sec);
        char head[64] = "", secs[48];
        if (h)
            snprintf(head, sizeof head, "%s%lluh%llum", sign, (unsigned long long)h,
                     (unsigned long long)m);
        else if (m)
            snprintf(head, sizeof head, "%s%llum", sign, (unsigned long long)m);
        else
            snprintf(head, sizeof head, "%s", sign);
        put_frac(secs, sizeof secs, "", s, sec, 9, "s");
        snprintf(out, cap, "%s%s", head, secs);
    }
}

/* ---- binding ------------------------------------------------------------------------------------
 */

typedef struct bctx {
    cfg_doc *doc;
    cfg_diags *d;
} bctx;

static const char *type_name(cfg_type t)
{
    switch (t) {
    case CFG_T_BOOL:
        return "bool";
    case CFG_T_INT:
        return "int";
    case CFG_T_DOUBLE:
        return "double";
    case CFG_T_STRING:
        return "string";
    case CFG_T_DURATION:
        return "duration";
    case CFG_T_ENUM:
        return "enum";
    case CFG_T_STRINGS:
        return "list of strings";
    case CFG_T_STRMAP:
        return "map of strings";
    case CFG_T_SECTION:
        return "section";
    case CFG_T_LIST:
        return "list";
    case CFG_T_ANY:
        return "any";
    }
    return "?";
}

static const char *expect_text(cfg_type t)
{
    switch (t) {
    case CFG_T_BOOL:
        return "expected a bool (true or false)";
    case CFG_T_INT:
        return "expected an integer";
    case CFG_T_DOUBLE:
        return "expected a number";
    case CFG_T_STRING:
        return "expected a string";
    case CFG_T_DURATION:
        return "expected a duration (e.g. 5s, 250ms, 1h30m)";
    case CFG_T_ENUM:
        return "expected one of the allowed values";
    case CFG_T_STRINGS:
        return "expected a list of strings";
    case CFG_T_STRMAP:
        return "expected a map of strings";
    case CFG_T_SECTION:
        return "expected a map";
    case CFG_T_LIST:
        return "expected a list of maps";
    case CFG_T_ANY:
        return "expected a value";
    }
    return "invalid value";
}

/* "<problem>, got <value>" or, for secrets, "<problem> (value hidden[, from ${env:X}])". */
static void value_error(bctx *b, const cfg_field *f, const cfg_node *v, cfg_mark m,
                        const char *path, const char *problem, const char *hint)
{
    char desc[512];
    bool secret = f && (f->flags & CFG_F_SECRET);
    cfg_node_describe_value(v, secret, desc, sizeof desc);
    if (secret && v && v->kind == CFG_NODE_SCALAR)
        cfg_diag_add(b->d, CFG_ERROR, m, path, "%s (%s)%s", problem, desc, hint ? hint : "");
    else
        cfg_diag_add(b->d, CFG_ERROR, m, path, "%s, got %s%s", problem, desc, hint ? hint : "");
}

static void fmt_bound(const cfg_field *f, double x, char *out, size_t cap)
{
    if (f->type == CFG_T_DURATION)
        cfg_format_duration((int64_t)x, out, cap);
    else if (f->type == CFG_T_INT)
        snprintf(out, cap, "%.0f", x);
    else
        snprintf(out, cap, "%g", x);
}

static bool has_bounds(const cfg_field *f)
{
    return f->min < f->max;
}

static bool in_bounds(const cfg_field *f, double x)
{
    return !has_bounds(f) || (x >= f->min && x <= f->max);
}

/* Converts text into the field (scalar types). Returns false with *problem set on failure. */
static bool convert(const cfg_field *f, const char *text, void *dst, char *problem, size_t cap,
                    char *hint, size_t hcap)
{
    hint[0] = '\0';
    switch (f->type) {
    case CFG_T_BOOL: {
        bool v;
        if (!parse_bool(text, &v)) {
            snprintf(problem, cap, "%s", expect_text(f->type));
            return false;
        }
        *(bool *)dst = v;
        return true;
    }
    case CFG_T_INT: {
        int64_t v;
        int r = parse_int(text, &v);
        if (r) {
            snprintf(problem, cap, "%s", r == 2 ? "integer out of range" : expect_text(f->type));
            return false;
        }
        if (!in_bounds(f, (double)v)) {
            char lo[64], hi[64];
            fmt_bound(f, f->min, lo, sizeof lo);
            fmt_bound(f, f->max, hi, sizeof hi);
            snprintf(problem, cap, "value out of range [%s, %s]", lo, hi);
            return false;
        }
        *(int64_t *)dst = v;
        return true;
    }
    case CFG_T_DOUBLE: {
        double v;
        if (!parse_double(text, &v)) {
            snprintf(problem, cap, "%s", expect_text(f->type));
            return false;
        }
        if (has_bounds(f) && !in_bounds(f, v)) {
            char lo[64], hi[64];
            fmt_bound(f, f->min, lo, sizeof lo);
            fmt_bound(f, f->max, hi, sizeof hi);
            snprintf(problem, cap, "value out of range [%s, %s]", lo, hi);
            return false;
        }
        *(double *)dst = v;
        return true;
    }
    case CFG_T_DURATION: {
        int64_t v;
        gb_status st = cfg_parse_duration(text, &v);
        if (st) {
            snprintf(problem, cap, "%s",
                     st == GB_ERR_LIMIT ? "duration too large" : expect_text(f->type));
            return false;
        }
        if (has_bounds(f) ? !in_bounds(f, (double)v) : v < 0) {
            if (!has_bounds(f)) {
                snprintf(problem, cap, "negative duration not allowed");
            } else {
                char lo[64], hi[64];
                fmt_bound(f, f->min, lo, sizeof lo);
                fmt_bound(f, f->max, hi, sizeof hi);
                snprintf(problem, cap, "duration out of range [%s, %s]", lo, hi);
            }
            return false;
        }
        *(int64_t *)dst = v;
        return true;
    }
    case CFG_T_ENUM: {
        size_t n = 0;
        for (; f->enum_names && f->enum_names[n]; n++)
            if (!strcasecmp(f->enum_names[n], text)) {
                *(int *)dst = (int)n;
                return true;
            }
        size_t o = (size_t)snprintf(problem, cap, "expected one of ");
        for (size_t i = 0; i < n && o < cap; i++)
            o += (size_t)snprintf(problem + o, cap - o, "%s%s", i ? ", " : "", f->enum_names[i]);
        const char *dym =
            (f->flags & CFG_F_SECRET) ? NULL : cfg_did_you_mean(text, f->enum_names, n);
        if (dym) snprintf(hint, hcap, " (did you mean \"%s\"?)", dym);
        return false;
    }
    case CFG_T_STRING:
        *(const char **)dst = text;
        return true;
    default:
        snprintf(problem, cap, "not a scalar field");
        return false;
    }
}

static bool scalar_type(cfg_type t)
{
    return t <= CFG_T_ENUM;
}

static void bind_field(bctx *b, const cfg_field *f, const cfg_node *v, void *obj, const char *path);

static gb_status bind_table(bctx *b, const cfg_table *t, const cfg_node *node, void *obj,
                            const char *path);

static gb_status apply_defaults(bctx *b, const cfg_table *t, void *obj, const char *path)
{
    gb_status res = GB_OK;
    if (!t) return GB_OK;
    for (size_t i = 0; i < t->n_fields; i++) {
        const cfg_field *f = &t->fields[i];
        void *dst = field_ptr(obj, f->offset);
        char *fp = cfg_path_key(b->doc, path, f->key);
        if (!fp) return GB_ERR_NOMEM;
        if (f->type == CFG_T_SECTION) {
            if (f->sub) {
                gb_status st = apply_defaults(b, f->sub, dst, fp);
                if (st) res = st;
            }
            continue;
        }
        if (!f->def) continue;
        if (f->type == CFG_T_STRING) {
            char *s = cfg_doc_strdup(b->doc, f->def);
            if (!s) return GB_ERR_NOMEM;
            *(char **)dst = s;
        } else if (scalar_type(f->type)) {
            char problem[512], hint[128];
            if (!convert(f, f->def, dst, problem, sizeof problem, hint, sizeof hint)) {
                cfg_diag_add(b->d, CFG_ERROR, (cfg_mark){NULL, 0, 0}, fp,
                             "invalid default \"%s\" for a %s field: %s", f->def,
                             type_name(f->type), problem);
                res = GB_ERR_INVALID;
            }
        } else {
            cfg_node *n;
            uint32_t e0 = b->d->errors;
            gb_status st = cfg_doc_parse_value(b->doc, "<default>", 1, 1, f->def, strlen(f->def),
                                               fp, &n, b->d);
            if (st == GB_ERR_NOMEM) return st;
            if (!st) bind_field(b, f, n, obj, fp);
            if (b->d->errors > e0) res = GB_ERR_INVALID;
        }
    }
    return res;
}

gb_status cfg_apply_defaults(const cfg_table *t, void *obj, cfg_doc *doc, cfg_diags *d)
{
    bctx b = {doc, d};
    return apply_defaults(&b, t, obj, "");
}

static void bind_field(bctx *b, const cfg_field *f, const cfg_node *v, void *obj, const char *path)
{
    void *dst = field_ptr(obj, f->offset);
    bool null = cfg_node_is_null(v);
    cfg_mark m = v ? v->mark : (cfg_mark){NULL, 0, 0};
    if (f->type == CFG_T_ANY) {
        *(const cfg_node **)dst = v;
        return;
    }
    if (scalar_type(f->type)) {
        if (null) {
            if (!(f->flags & CFG_F_NULLABLE))
                value_error(b, f, v, m, path, expect_text(f->type), NULL);
            return;
        }
        if (v->kind != CFG_NODE_SCALAR) {
            value_error(b, f, v, m, path, expect_text(f->type), NULL);
            return;
        }
        char problem[512], hint[128];
        if (!convert(f, v->scalar, dst, problem, sizeof problem, hint, sizeof hint))
            value_error(b, f, v, m, path, problem, hint);
        return;
    }
    if (f->type > CFG_T_LIST) return; /* not a field type */
    /* Aggregates: null clears them (a section keeps its defaults), a node of another kind is an
     * error. */
    cfg_node_kind want =
        f->type == CFG_T_STRINGS || f->type == CFG_T_LIST ? CFG_NODE_SEQ : CFG_NODE_MAP;
    if (!null && v->kind != want) {
        value_error(b, f, v, m, path, expect_text(f->type), NULL);
        return;
    }
    switch (f->type) {
    case CFG_T_STRINGS: {
        cfg_strings *out = dst;
        if (null) {
            *out = (cfg_strings){NULL, 0};
            return;
        }
        char **arr = gb_arena_calloc(&b->doc->arena, v->n_items ? v->n_items : 1, sizeof *arr);
        if (!arr) return;
        uint32_t n = 0;
        for (uint32_t i = 0; i < v->n_items; i++) {
            const cfg_node *it = v->items[i];
            if (it->kind != CFG_NODE_SCALAR) {
                char *ip = cfg_path_index(b->doc, path, i);
                value_error(b, f, it, it->mark, ip ? ip : path, expect_text(CFG_T_STRING), NULL);
                continue;
            }
            arr[n++] = it->scalar;
        }
        *out = (cfg_strings){arr, n};
        return;
    }
    case CFG_T_STRMAP: {
        cfg_strmap *out = dst;
        if (null) {
            *out = (cfg_strmap){NULL, NULL, 0};
            return;
        }
        uint32_t cnt = v->n_pairs ? v->n_pairs : 1;
        char **keys = gb_arena_calloc(&b->doc->arena, cnt, sizeof *keys);
        char **vals = gb_arena_calloc(&b->doc->arena, cnt, sizeof *vals);
        if (!keys || !vals) return;
        uint32_t n = 0;
        for (uint32_t i = 0; i < v->n_pairs; i++) {
            const cfg_pair *p = &v->pairs[i];
            if (p->value->kind != CFG_NODE_SCALAR && p->value->kind != CFG_NODE_NULL) {
                char *kp = cfg_path_key(b->doc, path, p->key);
                value_error(b, f, p->value, p->value->mark, kp ? kp : path,
                            expect_text(CFG_T_STRING), NULL);
                continue;
            }
            keys[n] = p->key;
            vals[n++] = p->value->scalar;
        }
        *out = (cfg_strmap){keys, vals, n};
        return;
    }
    case CFG_T_SECTION:
        bind_table(b, f->sub, v, dst, path);
        return;
    case CFG_T_LIST: {
        cfg_list *out = dst;
        if (null) {
            *out = (cfg_list){NULL, 0};
            return;
        }
        size_t es = f->elem_size ? f->elem_size : 1;
        char *arr = gb_arena_calloc(&b->doc->arena, v->n_items ? v->n_items : 1, es);
        if (!arr) return;
        for (uint32_t i = 0; i < v->n_items; i++) {
            const cfg_node *it = v->items[i];
            char *ip = cfg_path_index(b->doc, path, i);
            if (!ip) return;
            apply_defaults(b, f->sub, arr + i * es, ip);
            if (!cfg_node_is_null(it) && it->kind != CFG_NODE_MAP) {
                value_error(b, f, it, it->mark, ip, expect_text(CFG_T_SECTION), NULL);
                continue;
            }
            bind_table(b, f->sub, it, arr + i * es, ip);
        }
        *out = (cfg_list){arr, v->n_items};
        return;
    }
    default:
        return;
    }
}

static gb_status bind_table(bctx *b, const cfg_table *t, const cfg_node *node, void *obj,
                            const char *path)
{
    uint32_t e0 = b->d->errors;
    size_t nf = t ? t->n_fields : 0;
    cfg_mark nm = node ? node->mark : (cfg_mark){NULL, 0, 0};
    if (node && node->kind != CFG_NODE_MAP && node->kind != CFG_NODE_NULL) {
        value_error(b, NULL, node, nm, path, "expected a map", NULL);
        return GB_ERR_INVALID;
    }
    if (node && node->kind == CFG_NODE_MAP) {
        for (uint32_t i = 0; i < node->n_pairs; i++) {
            const cfg_pair *p = &node->pairs[i];
            const cfg_field *f = NULL;
            for (size_t k = 0; k < nf; k++)
                if (!strcmp(t->fields[k].key, p->key)) {
                    f = &t->fields[k];
                    break;
                }
            if (!f) {
                const char **cands = nf ? malloc(nf * sizeof *cands) : NULL;
                for (size_t k = 0; cands && k < nf; k++)
                    cands[k] = t->fields[k].key;
                const char *dym = cands ? cfg_did_you_mean(p->key, cands, nf) : NULL;
                if (dym)
                    cfg_diag_add(b->d, CFG_ERROR, p->key_mark, path,
                                 "unknown key \"%s\" (did you mean \"%s\"?)", p->key, dym);
                else
                    cfg_diag_add(b->d, CFG_ERROR, p->key_mark, path, "unknown key \"%s\"", p->key);
                free(cands);
                continue;
            }
            char *fp = cfg_path_key(b->doc, path, f->key);
            if (!fp) return GB_ERR_NOMEM;
            if (f->flags & CFG_F_DEPRECATED) {
                if (f->replacement)
                    cfg_diag_add(b->d, CFG_WARNING, p->key_mark, fp,
                                 "\"%s\" is deprecated, use \"%s\" instead", f->key,
                                 f->replacement);
                else
                    cfg_diag_add(b->d, CFG_WARNING, p->key_mark, fp, "\"%s\" is deprecated",
                                 f->key);
            }
            if (f->flags & CFG_F_TRACK_SET) *(bool *)field_ptr(obj, f->set_offset) = true;
            bind_field(b, f, p->value, obj, fp);
        }
    }
    for (size_t k = 0; k < nf; k++) {
        const cfg_field *f = &t->fields[k];
        if ((f->flags & CFG_F_REQUIRED) && !cfg_node_get_pair(node, f->key))
            cfg_diag_add(b->d, CFG_ERROR, nm, path, "missing required key \"%s\"", f->key);
    }
    if (t && t->validate && b->d->errors == e0) t->validate(obj, node, path, b->d);
    return b->d->errors > e0 ? GB_ERR_INVALID : GB_OK;
}

gb_status cfg_bind(const cfg_table *t, const cfg_node *node, void *obj, const char *path,
                   cfg_doc *doc, cfg_diags *d)
{
    bctx b = {doc, d};
    return bind_table(&b, t, node, obj, path ? path : "");
}

gb_status cfg_bind_new(const cfg_table *t, size_t size, const cfg_node *node, const char *path,
                       cfg_doc *doc, cfg_diags *d, void **out)
{
    void *obj = gb_arena_calloc(&doc->arena, 1, size ? size : 1);
    *out = obj;
    if (!obj) return GB_ERR_NOMEM;
    bctx b = {doc, d};
    gb_status st = apply_defaults(&b, t, obj, path ? path : "");
    if (st == GB_ERR_NOMEM) return st;
    gb_status st2 = bind_table(&b, t, node, obj, path ? path : "");
    return st ? st : st2;
}

/* ---- describe
 * ------------------------------------------------------------------------------------ */

void cfg_table_describe(const cfg_table *t, int indent, gb_sbuf *out)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_fields; i++) {
        const cfg_field *f = &t->fields[i];
        gb_sbuf_printf(out, "%*s%s: ", indent, "", f->key);
        if (f->type == CFG_T_ENUM) {
            gb_sbuf_puts(out, "enum (");
            for (size_t k = 0; f->enum_names && f->enum_names[k]; k++)
                gb_sbuf_printf(out, "%s%s", k ? "|" : "", f->enum_names[k]);
            gb_sbuf_putc(out, ')');
        } else if (f->type == CFG_T_LIST) {
            gb_sbuf_puts(out, "list of sections");
        } else {
            gb_sbuf_puts(out, type_name(f->type));
        }
        if (has_bounds(f) &&
            (f->type == CFG_T_INT || f->type == CFG_T_DOUBLE || f->type == CFG_T_DURATION)) {
            char lo[64], hi[64];
            fmt_bound(f, f->min, lo, sizeof lo);
            fmt_bound(f, f->max, hi, sizeof hi);
            gb_sbuf_printf(out, " [%s, %s]", lo, hi);
        }
        if (f->def && !(f->flags & CFG_F_SECRET)) {
            if (f->type == CFG_T_STRING)
                gb_sbuf_printf(out, " = \"%s\"", f->def);
            else
                gb_sbuf_printf(out, " = %s", f->def);
        }
        const char *sep = " (";
        if (f->flags & CFG_F_REQUIRED) {
            gb_sbuf_printf(out, "%srequired", sep);
            sep = ", ";
        }
        if (f->flags & CFG_F_SECRET) {
            gb_sbuf_printf(out, "%ssecret", sep);
            sep = ", ";
        }
        if (f->flags & CFG_F_DEPRECATED) {
            if (f->replacement)
                gb_sbuf_printf(out, "%sdeprecated, use %s", sep, f->replacement);
            else
                gb_sbuf_printf(out, "%sdeprecated", sep);
            sep = ", ";
        }
        if (sep[0] == ',') gb_sbuf_putc(out, ')');
        if (f->doc && f->doc[0]) gb_sbuf_printf(out, "  # %s", f->doc);
        gb_sbuf_putc(out, '\n');
        if ((f->type == CFG_T_SECTION || f->type == CFG_T_LIST) && f->sub)
            cfg_table_describe(f->sub, indent + 2, out);
    }
}

void cfg_table_secret_keys(const cfg_table *t, const char **keys, size_t *n, size_t cap)
{
    if (!t) return;
    for (size_t i = 0; i < t->n_fields; i++) {
        const cfg_field *f = &t->fields[i];
        if (f->flags & CFG_F_SECRET) {
            bool seen = false;
            for (size_t k = 0; k < *n; k++)
                if (!strcmp(keys[k], f->key)) seen = true;
            if (!seen && *n + 1 < cap) {
                keys[(*n)++] = f->key;
                keys[*n] = NULL;
            }
        }
        if ((f->type == CFG_T_SECTION || f->type == CFG_T_LIST) && f->sub)
            cfg_table_secret_keys(f->sub, keys, n, cap);
    }
    if (*n < cap) keys[*n] = NULL;
}
