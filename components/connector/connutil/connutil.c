/* Metric definitions, OTTL-subset conditions and per-batch aggregation for the sum and count
 * connectors (see connutil.h and docs/internals/connectors.md).
 *
 * Config: each section (spans, spanevents, metrics, datapoints, logs) is a map of metric name ->
 * {description, source_attribute (sum), conditions, attributes: [{key, default_value}]}; it is
 * parsed twice from the same nodes: once by the validate hook (diagnostics with file:line:col),
 * once at create (into the connector's arena).
 *
 * Conditions: a subset of OTTL, enough for the documented examples:
 *   cond   := conj ("or" conj)*        conj := cmp ("and" cmp)*
 *   cmp    := path ("==" | "!=") lit | lit ("==" | "!=") path
 *   path   := attributes["k"] | resource.attributes["k"] | name | metric.name
 *   lit    := "string" | integer | float | true | false | nil
 * with OTTL's comparison rules: values of different types are not equal (int and double compare
 * as numbers), a missing attribute equals nil only. Anything else (functions, parentheses, <, >,
 * not, other paths) is a configuration error "OTTL not supported yet: ..." at the offending
 * token. Rejected: a full OTTL engine (grammar, functions, contexts) for two connectors.
 *
 * Aggregation (as otelcol): per input resource, per metric, one data point per distinct
 * combination of the configured attribute values (the item's value rendered as a string, else
 * default_value; an item lacking an attribute without default is not counted). Points live in the
 * output batch arena with an open-addressing index; nothing is allocated per item on the heap. */
#include "connutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"

const char *const cu_ctx_names[CU_CTX_COUNT] = {"spans", "spanevents", "metrics", "datapoints",
                                                "logs"};

/* ---- conditions -------------------------------------------------------------------------- */

typedef enum tok_kind {
    T_END = 0,
    T_IDENT,
    T_STR,
    T_NUM,
    T_LBRACK,
    T_RBRACK,
    T_DOT,
    T_EQ,
    T_NE,
    T_BAD,
} tok_kind;

typedef struct lexer {
    const char *s;
    size_t pos;
    tok_kind k;
    size_t start, len; /* token text */
    gb_arena *a;
    char *err;
    size_t errlen;
    uint32_t *err_off;
    const char *text;
} lexer;

static void next_tok(lexer *L)
{
    const char *s = L->s;
    while (s[L->pos] == ' ' || s[L->pos] == '\t' || s[L->pos] == '\n' || s[L->pos] == '\r')
        L->pos++;
    L->start = L->pos;
    char ch = s[L->pos];
    if (!ch) {
        L->k = T_END;
        L->len = 0;
        return;
    }
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_') {
        while ((s[L->pos] >= 'a' && s[L->pos] <= 'z') || (s[L->pos] >= 'A' && s[L->pos] <= 'Z') ||
               (s[L->pos] >= '0' && s[L->pos] <= '9') || s[L->pos] == '_')
            L->pos++;
        L->k = T_IDENT;
    } else if (ch == '"') {
        L->pos++;
        while (s[L->pos] && s[L->pos] != '"') {
            if (s[L->pos] == '\\' && s[L->pos + 1]) L->pos++;
            L->pos++;
        }
        if (s[L->pos] != '"') {
            L->k = T_BAD;
            L->len = L->pos - L->start;
            return;
        }
        L->pos++;
        L->k = T_STR;
    } else if ((ch >= '0' && ch <= '9') || ch == '-' || ch == '+') {
        L->pos++;
        while ((s[L->pos] >= '0' && s[L->pos] <= '9') || s[L->pos] == '.' || s[L->pos] == 'e' ||
               s[L->pos] == 'E' ||
               ((s[L->pos] == '-' || s[L->pos] == '+') &&
                (s[L->pos - 1] == 'e' || s[L->pos - 1] == 'E')))
            L->pos++;
        L->k = T_NUM;
    } else if (ch == '[') {
        L->pos++;
        L->k = T_LBRACK;
    } else if (ch == ']') {
        L->pos++;
        L->k = T_RBRACK;
    } else if (ch == '.') {
        L->pos++;
        L->k = T_DOT;
    } else if (ch == '=' && s[L->pos + 1] == '=') {
        L->pos += 2;
        L->k = T_EQ;
    } else if (ch == '!' && s[L->pos + 1] == '=') {
        L->pos += 2;
        L->k = T_NE;
    } else {
        L->pos++;
        L->k = T_BAD;
    }
    L->len = L->pos - L->start;
}

static bool tok_is(const lexer *L, const char *word)
{
    return L->k == T_IDENT && L->len == strlen(word) && memcmp(L->s + L->start, word, L->len) == 0;
}

static gb_status unsupported(lexer *L, const char *what)
{
    if (L->err)
        snprintf(L->err, L->errlen,
                 "OTTL not supported yet: %s at \"%.40s\" in `%s` (supported: "
                 "attributes[\"k\"] / resource.attributes[\"k\"] / name / metric.name == or != a "
                 "literal, joined with and / or)",
                 what, L->s + L->start, L->text);
    if (L->err_off) *L->err_off = (uint32_t)L->start;
    return GB_ERR_UNSUPPORTED;
}

/* Unescapes a string token into the arena. */
static gb_status tok_string(lexer *L, gb_str *out)
{
    size_t n = L->len - 2;
    char *p = gb_arena_alloc(L->a, n + 1);
    if (!p) return GB_ERR_NOMEM;
    size_t o = 0;
    for (size_t i = L->start + 1; i < L->start + 1 + n; i++) {
        char ch = L->s[i];
        if (ch == '\\' && i + 1 < L->start + 1 + n) {
            ch = L->s[++i];
            if (ch == 'n')
                ch = '\n';
            else if (ch == 't')
                ch = '\t';
        }
        p[o++] = ch;
    }
    p[o] = '\0';
    *out = gb_str_n(p, o);
    return GB_OK;
}

static gb_status parse_path(lexer *L, cu_cmp *c)
{
    gb_status st;
    if (tok_is(L, "resource")) {
        next_tok(L);
        if (L->k != T_DOT) return unsupported(L, "expected .attributes after resource");
        next_tok(L);
        if (!tok_is(L, "attributes")) return unsupported(L, "unknown resource path");
        c->path = CU_PATH_RES_ATTR;
    } else if (tok_is(L, "attributes")) {
        c->path = CU_PATH_ATTR;
    } else if (tok_is(L, "name")) {
        c->path = CU_PATH_NAME;
        next_tok(L);
        return GB_OK;
    } else if (tok_is(L, "metric")) {
        next_tok(L);
        if (L->k != T_DOT) return unsupported(L, "expected .name after metric");
        next_tok(L);
        if (!tok_is(L, "name")) return unsupported(L, "unknown metric path");
        c->path = CU_PATH_METRIC_NAME;
        next_tok(L);
        return GB_OK;
    } else {
        return unsupported(L, "unknown path");
    }
    next_tok(L);
    if (L->k != T_LBRACK) return unsupported(L, "expected [\"key\"]");
    next_tok(L);
    if (L->k != T_STR) return unsupported(L, "expected a string key");
    gb_str key;
    if ((st = tok_string(L, &key))) return st;
    c->key = (char *)key.ptr;
    next_tok(L);
    if (L->k != T_RBRACK) return unsupported(L, "expected ]");
    next_tok(L);
    if (L->k == T_LBRACK) return unsupported(L, "nested keys");
    return GB_OK;
}

static bool is_path_start(const lexer *L)
{
    return tok_is(L, "attributes") || tok_is(L, "resource") || tok_is(L, "name") ||
           tok_is(L, "metric");
}

static gb_status parse_lit(lexer *L, pd_any *v)
{
    memset(v, 0, sizeof *v);
    if (L->k == T_STR) {
        v->type = PD_ANY_STR;
        gb_status st = tok_string(L, &v->u.str);
        if (st) return st;
    } else if (L->k == T_NUM) {
        char buf[64];
        if (L->len >= sizeof buf) return unsupported(L, "number too long");
        memcpy(buf, L->s + L->start, L->len);
        buf[L->len] = '\0';
        char *end = NULL;
        if (strpbrk(buf, ".eE")) {
            v->type = PD_ANY_DOUBLE;
            v->u.d = strtod(buf, &end);
        } else {
            v->type = PD_ANY_INT;
            v->u.i = strtoll(buf, &end, 10);
        }
        if (!end || *end) return unsupported(L, "invalid number");
    } else if (tok_is(L, "true") || tok_is(L, "false")) {
        v->type = PD_ANY_BOOL;
        v->u.b = tok_is(L, "true");
    } else if (tok_is(L, "nil")) {
        v->type = PD_ANY_EMPTY;
    } else if (L->k == T_IDENT && L->s[L->pos] == '(') {
        return unsupported(L, "function call");
    } else if (L->k == T_IDENT) {
        return unsupported(L, "unknown path");
    } else {
        return unsupported(L, "expected a literal (string, number, true, false, nil)");
    }
    next_tok(L);
    return GB_OK;
}

static gb_status parse_cmp(lexer *L, cu_cmp *c)
{
    gb_status st;
    memset(c, 0, sizeof *c);
    bool path_first = is_path_start(L);
    if (path_first) {
        if ((st = parse_path(L, c))) return st;
    } else {
        if ((st = parse_lit(L, &c->rhs))) return st;
    }
    if (L->k != T_EQ && L->k != T_NE) return unsupported(L, "expected == or !=");
    c->ne = L->k == T_NE;
    next_tok(L);
    if (path_first) return parse_lit(L, &c->rhs);
    if (!is_path_start(L)) return unsupported(L, "a comparison needs a path on one side");
    return parse_path(L, c);
}

gb_status cu_parse_condition(gb_arena *a, const char *text, cu_and **out, uint32_t *n, char *err,
                             size_t errlen, uint32_t *err_off)
{
    gb_status st = GB_OK;
    lexer L = {.s = text, .a = a, .err = err, .errlen = errlen, .err_off = err_off, .text = text};
    cu_and *ors = NULL;
    uint32_t n_or = 0, cap_or = 0;
    next_tok(&L);
    if (L.k == T_END) return unsupported(&L, "empty condition");
    for (;;) {
        cu_cmp *cmps = NULL;
        uint32_t nc = 0, capc = 0;
        for (;;) {
            void *items = cmps;
            if ((st = gb_arena_grow(a, &items, nc, &capc, nc + 1, sizeof(cu_cmp)))) return st;
            cmps = items;
            if ((st = parse_cmp(&L, &cmps[nc]))) return st;
            nc++;
            if (!tok_is(&L, "and")) break;
            next_tok(&L);
        }
        void *items = ors;
        if ((st = gb_arena_grow(a, &items, n_or, &cap_or, n_or + 1, sizeof(cu_and)))) return st;
        ors = items;
        ors[n_or++] = (cu_and){cmps, nc};
        if (!tok_is(&L, "or")) break;
        next_tok(&L);
    }
    if (L.k != T_END) return unsupported(&L, "unexpected text");
    *out = ors;
    *n = n_or;
    return GB_OK;
}

static bool num_of(const pd_any *v, double *d)
{
    if (v->type == PD_ANY_INT)
        *d = (double)v->u.i;
    else if (v->type == PD_ANY_DOUBLE)
        *d = v->u.d;
    else
        return false;
    return true;
}

static bool cmp_eq(const pd_any *v, const pd_any *rhs)
{
    if (rhs->type == PD_ANY_EMPTY) return v == NULL;
    if (!v) return false;
    double a, b;
    if (num_of(v, &a) && num_of(rhs, &b)) return a == b;
    if (v->type != rhs->type) return false;
    if (v->type == PD_ANY_STR) return gb_str_eq(v->u.str, rhs->u.str);
    if (v->type == PD_ANY_BOOL) return v->u.b == rhs->u.b;
    return false;
}

static bool cmp_holds(const cu_cmp *c, const cu_item *it)
{
    const pd_any *v = NULL;
    pd_any name;
    switch (c->path) {
    case CU_PATH_ATTR:
    case CU_PATH_RES_ATTR: {
        const pd_attrs *a = c->path == CU_PATH_ATTR ? it->attrs : it->res;
        pd_kv *kv = a ? pd_attrs_find(a, gb_str_c(c->key)) : NULL;
        v = kv ? &kv->value : NULL;
        break;
    }
    case CU_PATH_NAME:
    case CU_PATH_METRIC_NAME:
        name = pd_any_str(c->path == CU_PATH_NAME ? it->name : it->metric_name);
        if (!name.u.str.ptr) name.u.str = GB_STR_LIT("");
        v = &name;
        break;
    }
    bool eq = cmp_eq(v, &c->rhs);
    return c->ne ? !eq : eq;
}

bool cu_match(const cu_metric *m, const cu_item *it)
{
    if (m->n_conds == 0) return true;
    for (uint32_t i = 0; i < m->n_conds; i++) {
        bool all = true;
        for (uint32_t k = 0; k < m->conds[i].n && all; k++)
            all = cmp_holds(&m->conds[i].v[k], it);
        if (all) return true;
    }
    return false;
}

/* ---- config ------------------------------------------------------------------------------ */

static char *a_strdup(gb_arena *a, const char *s)
{
    gb_str out;
    if (gb_arena_dup(a, s, strlen(s), &out) != GB_OK) return NULL;
    return (char *)out.ptr;
}

static void diag(cfg_diags *d, cfg_mark m, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void diag(cfg_diags *d, cfg_mark m, const char *path, const char *fmt, ...)
{
    if (!d) return;
    va_list ap;
    va_start(ap, fmt);
    cfg_diag_addv(d, CFG_ERROR, m, path, fmt, ap);
    va_end(ap);
}

/* A YAML scalar as a typed value: unquoted integers and floats keep their type (sum's
 * default_value may be a number); everything else is a string. */
static gb_status scalar_any(gb_arena *a, const cfg_node *n, bool typed, pd_any *out)
{
    const char *s = n->scalar;
    if (typed && !n->quoted && *s) {
        char *end = NULL;
        long long i = strtoll(s, &end, 10);
        if (end && !*end) {
            *out = pd_any_int(i);
            return GB_OK;
        }
        double d = strtod(s, &end);
        if (end && !*end && isfinite(d)) {
            *out = pd_any_double(d);
            return GB_OK;
        }
    }
    char *p = a_strdup(a, s);
    if (!p) return GB_ERR_NOMEM;
    *out = pd_any_str(gb_str_c(p));
    return GB_OK;
}

static gb_status parse_metric(const cu_spec *spec, const cfg_pair *p, const char *path, gb_arena *a,
                              cu_metric *m, cfg_diags *d)
{
    gb_status st = GB_OK;
    memset(m, 0, sizeof *m);
    m->name = a_strdup(a, p->key);
    if (!m->name) return GB_ERR_NOMEM;
    if (!*p->key) {
        diag(d, p->key_mark, path, "metric name missing");
        st = GB_ERR_INVALID;
    }
    const cfg_node *v = p->value;
    if (v && !cfg_node_is_null(v) && v->kind != CFG_NODE_MAP) {
        diag(d, v->mark, path, "metric \"%s\": expected a map", p->key);
        return GB_ERR_INVALID;
    }
    const cfg_node *src = NULL;
    for (uint32_t i = 0; v && v->kind == CFG_NODE_MAP && i < v->n_pairs; i++) {
        const cfg_pair *q = &v->pairs[i];
        const cfg_node *x = q->value;
        if (strcmp(q->key, "description") == 0) {
            if (!x || x->kind != CFG_NODE_SCALAR) {
                diag(d, q->key_mark, path, "metric \"%s\": description: expected a string", p->key);
                st = GB_ERR_INVALID;
            } else if (!(m->desc = a_strdup(a, x->scalar))) {
                return GB_ERR_NOMEM;
            }
        } else if (spec->is_sum && strcmp(q->key, "source_attribute") == 0) {
            src = x;
            if (!x || x->kind != CFG_NODE_SCALAR || !*x->scalar) {
                diag(d, q->key_mark, path,
                     "metric \"%s\": source_attribute: expected an attribute name", p->key);
                st = GB_ERR_INVALID;
            } else if (!(m->source = a_strdup(a, x->scalar))) {
                return GB_ERR_NOMEM;
            }
        } else if (strcmp(q->key, "conditions") == 0) {
            if (cfg_node_is_null(x)) continue;
            if (x->kind != CFG_NODE_SEQ) {
                diag(d, x->mark, path, "metric \"%s\": conditions: expected a list of strings",
                     p->key);
                st = GB_ERR_INVALID;
                continue;
            }
            for (uint32_t k = 0; k < x->n_items; k++) {
                const cfg_node *c = x->items[k];
                if (c->kind != CFG_NODE_SCALAR) {
                    diag(d, c->mark, path, "metric \"%s\": conditions: expected a string", p->key);
                    st = GB_ERR_INVALID;
                    continue;
                }
                char err[512];
                uint32_t off = 0;
                cu_and *ors = NULL;
                uint32_t n_or = 0;
                gb_status cs = cu_parse_condition(a, c->scalar, &ors, &n_or, err, sizeof err, &off);
                if (cs == GB_ERR_NOMEM) return cs;
                if (cs != GB_OK) {
                    cfg_mark mk = c->mark;
                    /* Point at the token for single-line scalars. */
                    if (!strchr(c->scalar, '\n')) mk.col += off + (c->quoted ? 1 : 0);
                    diag(d, mk, path, "%s", err);
                    st = GB_ERR_INVALID;
                    continue;
                }
                void *items = m->conds;
                uint32_t cap = m->n_conds;
                if ((cs = gb_arena_grow(a, &items, m->n_conds, &cap, m->n_conds + n_or,
                                        sizeof(cu_and))))
                    return cs;
                m->conds = items;
                memcpy(m->conds + m->n_conds, ors, n_or * sizeof(cu_and));
                m->n_conds += n_or;
            }
        } else if (strcmp(q->key, "attributes") == 0) {
            if (cfg_node_is_null(x)) continue;
            if (x->kind != CFG_NODE_SEQ) {
                diag(d, x->mark, path,
                     "metric \"%s\": attributes: expected a list of {key, "
                     "default_value}",
                     p->key);
                st = GB_ERR_INVALID;
                continue;
            }
            if (x->n_items > CU_MAX_ATTRS) {
                diag(d, x->mark, path, "metric \"%s\": attributes: at most %d entries", p->key,
                     CU_MAX_ATTRS);
                st = GB_ERR_INVALID;
                continue;
            }
            m->attrs = gb_arena_calloc(a, x->n_items ? x->n_items : 1, sizeof(cu_attr));
            if (!m->attrs) return GB_ERR_NOMEM;
            for (uint32_t k = 0; k < x->n_items; k++) {
                const cfg_node *it = x->items[k];
                cu_attr *ca = &m->attrs[m->n_attrs];
                if (it->kind != CFG_NODE_MAP) {
                    diag(d, it->mark, path,
                         "metric \"%s\": attributes: expected {key, "
                         "default_value}",
                         p->key);
                    st = GB_ERR_INVALID;
                    continue;
                }
                for (uint32_t j = 0; j < it->n_pairs; j++) {
                    const cfg_pair *r = &it->pairs[j];
                    if (strcmp(r->key, "key") == 0 && r->value &&
                        r->value->kind == CFG_NODE_SCALAR && *r->value->scalar) {
                        if (!(ca->key = a_strdup(a, r->value->scalar))) return GB_ERR_NOMEM;
                    } else if (strcmp(r->key, "default_value") == 0 && r->value &&
                               r->value->kind == CFG_NODE_SCALAR) {
                        gb_status vs = scalar_any(a, r->value, spec->is_sum, &ca->def);
                        if (vs) return vs;
                    } else if (strcmp(r->key, "key") != 0 && strcmp(r->key, "default_value") != 0) {
                        diag(d, r->key_mark, path,
                             "metric \"%s\": attributes: unknown key \"%s\" (want key, "
                             "default_value)",
                             p->key, r->key);
                        st = GB_ERR_INVALID;
                    }
                }
                if (!ca->key) {
                    diag(d, it->mark, path, "metric \"%s\": attributes: attribute key missing",
                         p->key);
                    st = GB_ERR_INVALID;
                    continue;
                }
                m->n_attrs++;
            }
        } else {
            diag(d, q->key_mark, path, "metric \"%s\": unknown key \"%s\"", p->key, q->key);
            st = GB_ERR_INVALID;
        }
    }
    if (spec->is_sum && !src) {
        diag(d, p->key_mark, path, "metric \"%s\": missing required key \"source_attribute\"",
             p->key);
        st = GB_ERR_INVALID;
    }
    if (!m->desc) m->desc = "";
    return st;
}

gb_status cu_parse(const cu_spec *spec, const cfg_node *const sections[CU_CTX_COUNT],
                   const char *path, cu_defs *out, cfg_diags *d)
{
    gb_status st = GB_OK;
    memset(out, 0, sizeof *out);
    gb_arena_init(&out->arena, 4096, 0);
    for (int c = 0; c < CU_CTX_COUNT; c++) {
        const cfg_node *sec = sections[c];
        char sub[300];
        snprintf(sub, sizeof sub, "%s::%s", path, cu_ctx_names[c]);
        if (!sec) {
            if (!spec->def_name[c]) continue;
            out->m[c] = gb_arena_calloc(&out->arena, 1, sizeof(cu_metric));
            if (!out->m[c]) return GB_ERR_NOMEM;
            out->m[c]->name = (char *)spec->def_name[c];
            out->m[c]->desc = (char *)spec->def_desc[c];
            out->n[c] = 1;
            continue;
        }
        if (!spec->allowed[c]) {
            diag(d, sec->mark, sub, "section \"%s\" is not supported by this connector yet",
                 cu_ctx_names[c]);
            st = GB_ERR_INVALID;
            continue;
        }
        if (cfg_node_is_null(sec)) continue; /* present and empty: no metrics (as otelcol) */
        if (sec->kind != CFG_NODE_MAP) {
            diag(d, sec->mark, sub, "expected a map of metric name -> definition");
            st = GB_ERR_INVALID;
            continue;
        }
        out->m[c] =
            gb_arena_calloc(&out->arena, sec->n_pairs ? sec->n_pairs : 1, sizeof(cu_metric));
        if (!out->m[c]) return GB_ERR_NOMEM;
        for (uint32_t i = 0; i < sec->n_pairs; i++) {
            gb_status ms =
                parse_metric(spec, &sec->pairs[i], sub, &out->arena, &out->m[c][out->n[c]], d);
            if (ms == GB_ERR_NOMEM) return ms;
            if (ms != GB_OK) {
                st = GB_ERR_INVALID;
                continue;
            }
            if (c == CU_METRICS && out->m[c][out->n[c]].n_attrs) {
                diag(d, sec->pairs[i].key_mark, sub,
                     "metric \"%s\": attributes are not supported for metrics", sec->pairs[i].key);
                st = GB_ERR_INVALID;
                continue;
            }
            out->n[c]++;
        }
    }
    return st;
}

void cu_defs_free(cu_defs *defs)
{
    gb_arena_free(&defs->arena);
    memset(defs, 0, sizeof *defs);
}

/* ---- aggregation --------------------------------------------------------------------------- */

typedef struct cu_point {
    uint64_t hash;
    pd_attrs attrs;
    double sum;
    int64_t count;
} cu_point;

typedef struct cu_acc {
    cu_point *v;
    uint32_t n, cap;
    uint32_t *idx; /* open addressing, 0 = empty, else point index + 1 */
    uint32_t idx_cap;
} cu_acc;

typedef struct cu_run {
    const cu_spec *spec;
    const cu_defs *defs;
    pd_batch *out;
    cu_acc *acc[CU_CTX_COUNT]; /* per metric def, for the current resource */
    bool any;
} cu_run;

gb_str cu_label_value(const pd_any *v, char *buf, size_t cap)
{
    switch (v->type) {
    case PD_ANY_STR:
        return v->u.str.ptr ? v->u.str : GB_STR_LIT("");
    case PD_ANY_INT:
        return gb_str_n(buf, (size_t)snprintf(buf, cap, "%lld", (long long)v->u.i) % cap);
    case PD_ANY_DOUBLE:
        return gb_str_n(buf, (size_t)snprintf(buf, cap, "%.15g", v->u.d) % cap);
    case PD_ANY_BOOL:
        return v->u.b ? GB_STR_LIT("true") : GB_STR_LIT("false");
    default:
        return GB_STR_LIT("");
    }
}

static uint64_t any_hash(const pd_any *v, uint64_t h)
{
    h ^= (uint64_t)v->type * 0x9e3779b97f4a7c15ULL;
    if (v->type == PD_ANY_STR)
        h ^= gb_hash_bytes(v->u.str.ptr, v->u.str.len);
    else if (v->type == PD_ANY_INT)
        h ^= (uint64_t)v->u.i;
    else if (v->type == PD_ANY_DOUBLE) {
        uint64_t b;
        memcpy(&b, &v->u.d, 8);
        h ^= b;
    }
    return h * 0x100000001b3ULL;
}

static gb_status acc_add(cu_run *r, cu_acc *acc, const cu_metric *m, const pd_any *vals,
                         double value)
{
    gb_status st;
    gb_arena *a = &r->out->arena;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint32_t i = 0; i < m->n_attrs; i++)
        h = any_hash(&vals[i], h);
    if (acc->idx_cap) {
        for (uint32_t i = (uint32_t)h & (acc->idx_cap - 1);; i = (i + 1) & (acc->idx_cap - 1)) {
            uint32_t k = acc->idx[i];
            if (!k) break;
            cu_point *p = &acc->v[k - 1];
            if (p->hash != h) continue;
            bool same = true;
            for (uint32_t j = 0; j < m->n_attrs && same; j++)
                same = pd_any_equal(&p->attrs.v[j].value, &vals[j]);
            if (same) {
                p->sum += value;
                p->count++;
                return GB_OK;
            }
        }
    }
    /* New point: attributes copied into the output arena. */
    void *items = acc->v;
    if ((st = gb_arena_grow(a, &items, acc->n, &acc->cap, acc->n + 1, sizeof(cu_point)))) return st;
    acc->v = items;
    cu_point *p = &acc->v[acc->n++];
    memset(p, 0, sizeof *p);
    p->hash = h;
    p->sum = value;
    p->count = 1;
    p->attrs.v = gb_arena_calloc(a, m->n_attrs ? m->n_attrs : 1, sizeof(pd_kv));
    if (!p->attrs.v) return GB_ERR_NOMEM;
    p->attrs.cap = m->n_attrs;
    for (uint32_t j = 0; j < m->n_attrs; j++) {
        pd_kv *kv = &p->attrs.v[p->attrs.n++];
        if ((st = gb_arena_dup(a, m->attrs[j].key, strlen(m->attrs[j].key), &kv->key))) return st;
        if ((st = pd_any_copy(a, &vals[j], &kv->value))) return st;
    }
    if (acc->n * 2 > acc->idx_cap) {
        uint32_t cap = acc->idx_cap ? acc->idx_cap * 2 : 16;
        uint32_t *idx = gb_arena_calloc(a, cap, sizeof *idx);
        if (!idx) return GB_ERR_NOMEM;
        for (uint32_t k = 0; k < acc->n; k++) {
            uint32_t i = (uint32_t)acc->v[k].hash & (cap - 1);
            while (idx[i])
                i = (i + 1) & (cap - 1);
            idx[i] = k + 1;
        }
        acc->idx = idx;
        acc->idx_cap = cap;
    } else {
        uint32_t i = (uint32_t)h & (acc->idx_cap - 1);
        while (acc->idx[i])
            i = (i + 1) & (acc->idx_cap - 1);
        acc->idx[i] = acc->n;
    }
    return GB_OK;
}

bool cu_number(const pd_any *v, double *out)
{
    if (v->type == PD_ANY_DOUBLE && isfinite(v->u.d)) {
        *out = v->u.d;
        return true;
    }
    if (v->type == PD_ANY_INT) {
        *out = (double)v->u.i;
        return true;
    }
    if (v->type == PD_ANY_STR && v->u.str.len && v->u.str.len < 64) {
        char b[64];
        memcpy(b, v->u.str.ptr, v->u.str.len);
        b[v->u.str.len] = '\0';
        char *end = NULL;
        double d = strtod(b, &end);
        if (end && !*end && isfinite(d)) {
            *out = d;
            return true;
        }
    }
    return false;
}

static double source_value(const pd_attrs *a, const char *key)
{
    pd_kv *kv = a ? pd_attrs_find(a, gb_str_c(key)) : NULL;
    double d = 0;
    if (kv && cu_number(&kv->value, &d)) return d;
    return 0;
}

/* One item of context ctx. */
static gb_status item(cu_run *r, cu_ctx ctx, const cu_item *it)
{
    const cu_defs *defs = r->defs;
    for (uint32_t k = 0; k < defs->n[ctx]; k++) {
        const cu_metric *m = &defs->m[ctx][k];
        pd_any vals[CU_MAX_ATTRS];
        char bufs[CU_MAX_ATTRS][40];
        bool complete = true;
        for (uint32_t j = 0; j < m->n_attrs && complete; j++) {
            pd_kv *kv = it->attrs ? pd_attrs_find(it->attrs, gb_str_c(m->attrs[j].key)) : NULL;
            if (kv)
                vals[j] = pd_any_str(cu_label_value(&kv->value, bufs[j], sizeof bufs[j]));
            else if (m->attrs[j].def.type != PD_ANY_EMPTY)
                vals[j] = m->attrs[j].def;
            else
                complete = false;
        }
        if (!complete || !cu_match(m, it)) continue;
        double v = r->spec->is_sum ? source_value(it->attrs, m->source) : 1;
        if (!r->acc[ctx]) {
            r->acc[ctx] = gb_arena_calloc(&r->out->arena, defs->n[ctx], sizeof(cu_acc));
            if (!r->acc[ctx]) return GB_ERR_NOMEM;
        }
        gb_status st = acc_add(r, &r->acc[ctx][k], m, vals, v);
        if (st) return st;
    }
    return GB_OK;
}

/* Appends the resource's metrics (if any) to the output and resets the accumulators. */
static gb_status end_resource(cu_run *r, const pd_resource *res, uint64_t now, uint32_t *cap_rm)
{
    gb_status st;
    pd_batch *b = r->out;
    uint32_t n_metrics = 0;
    for (int c = 0; c < CU_CTX_COUNT; c++)
        for (uint32_t k = 0; r->acc[c] && k < r->defs->n[c]; k++)
            n_metrics += r->acc[c][k].n > 0;
    if (n_metrics == 0) goto reset;
    void *items = b->u.metrics.v;
    if ((st = gb_arena_grow(&b->arena, &items, b->u.metrics.n, cap_rm, b->u.metrics.n + 1,
                            sizeof(pd_resource_metrics))))
        return st;
    b->u.metrics.v = items;
    pd_resource_metrics *rm = &b->u.metrics.v[b->u.metrics.n++];
    memset(rm, 0, sizeof *rm);
    if ((st = pd_attrs_copy(&b->arena, &res->attrs, &rm->resource.attrs))) return st;
    rm->scope_metrics = gb_arena_calloc(&b->arena, 1, sizeof(pd_scope_metrics));
    pd_metric *ms = gb_arena_calloc(&b->arena, n_metrics, sizeof(pd_metric));
    if (!rm->scope_metrics || !ms) return GB_ERR_NOMEM;
    rm->n_scope_metrics = 1;
    rm->scope_metrics->metrics = ms;
    rm->scope_metrics->n_metrics = n_metrics;
    uint32_t mi = 0;
    for (int c = 0; c < CU_CTX_COUNT; c++)
        for (uint32_t k = 0; r->acc[c] && k < r->defs->n[c]; k++) {
            const cu_acc *acc = &r->acc[c][k];
            if (!acc->n) continue;
            const cu_metric *def = &r->defs->m[c][k];
            pd_metric *m = &ms[mi++];
            m->name = gb_str_c(def->name);
            m->description = gb_str_c(def->desc);
            m->type = PD_METRIC_SUM;
            m->temporality = PD_TEMPORALITY_DELTA;
            m->is_monotonic = true;
            m->dp.number = gb_arena_calloc(&b->arena, acc->n, sizeof(pd_number_dp));
            if (!m->dp.number) return GB_ERR_NOMEM;
            m->n_dp = acc->n;
            for (uint32_t i = 0; i < acc->n; i++) {
                pd_number_dp *dp = &m->dp.number[i];
                dp->attrs = acc->v[i].attrs;
                dp->time_unix_nano = now;
                if (r->spec->is_sum) {
                    dp->value_type = PD_NUM_DOUBLE;
                    dp->value.d = acc->v[i].sum;
                } else {
                    dp->value_type = PD_NUM_INT;
                    dp->value.i = acc->v[i].count;
                }
            }
        }
    r->any = true;
reset:
    for (int c = 0; c < CU_CTX_COUNT; c++)
        r->acc[c] = NULL;
    return GB_OK;
}

static gb_status run(cu_run *r, const pd_batch *b)
{
    gb_status st = GB_OK;
    uint64_t now = (uint64_t)gb_now_ns();
    uint32_t cap_rm = 0;
    const cu_defs *d = r->defs;
    if (b->signal == PD_TRACES) {
        for (uint32_t i = 0; i < b->u.traces.n; i++) {
            const pd_resource_spans *rs = &b->u.traces.v[i];
            for (uint32_t j = 0; j < rs->n_scope_spans; j++) {
                const pd_scope_spans *ss = &rs->scope_spans[j];
                for (uint32_t k = 0; k < ss->n_spans; k++) {
                    const pd_span *sp = &ss->spans[k];
                    cu_item it = {&sp->attrs, &rs->resource.attrs, sp->name, GB_STR_NULL};
                    if (d->n[CU_SPANS] && (st = item(r, CU_SPANS, &it))) return st;
                    for (uint32_t e = 0; d->n[CU_SPANEVENTS] && e < sp->n_events; e++) {
                        cu_item ev = {&sp->events[e].attrs, &rs->resource.attrs, sp->events[e].name,
                                      GB_STR_NULL};
                        if ((st = item(r, CU_SPANEVENTS, &ev))) return st;
                    }
                }
            }
            if ((st = end_resource(r, &rs->resource, now, &cap_rm))) return st;
        }
    } else if (b->signal == PD_LOGS) {
        for (uint32_t i = 0; i < b->u.logs.n; i++) {
            const pd_resource_logs *rl = &b->u.logs.v[i];
            for (uint32_t j = 0; j < rl->n_scope_logs; j++) {
                const pd_scope_logs *sl = &rl->scope_logs[j];
                for (uint32_t k = 0; k < sl->n_logs; k++) {
                    cu_item it = {&sl->logs[k].attrs, &rl->resource.attrs, GB_STR_NULL,
                                  GB_STR_NULL};
                    if ((st = item(r, CU_LOGS, &it))) return st;
                }
            }
            if ((st = end_resource(r, &rl->resource, now, &cap_rm))) return st;
        }
    } else {
        for (uint32_t i = 0; i < b->u.metrics.n; i++) {
            const pd_resource_metrics *rm = &b->u.metrics.v[i];
            for (uint32_t j = 0; j < rm->n_scope_metrics; j++) {
                const pd_scope_metrics *sm = &rm->scope_metrics[j];
                for (uint32_t k = 0; k < sm->n_metrics; k++) {
                    const pd_metric *m = &sm->metrics[k];
                    cu_item it = {NULL, &rm->resource.attrs, GB_STR_NULL, m->name};
                    if (d->n[CU_METRICS] && (st = item(r, CU_METRICS, &it))) return st;
                    for (uint32_t p = 0; d->n[CU_DATAPOINTS] && p < m->n_dp; p++) {
                        const pd_attrs *a = NULL;
                        switch (m->type) {
                        case PD_METRIC_GAUGE:
                        case PD_METRIC_SUM:
                            a = &m->dp.number[p].attrs;
                            break;
                        case PD_METRIC_HISTOGRAM:
                            a = &m->dp.histogram[p].attrs;
                            break;
                        case PD_METRIC_EXP_HISTOGRAM:
                            a = &m->dp.exp_histogram[p].attrs;
                            break;
                        case PD_METRIC_SUMMARY:
                            a = &m->dp.summary[p].attrs;
                            break;
                        default:
                            break;
                        }
                        if (!a) continue;
                        cu_item dp = {a, &rm->resource.attrs, GB_STR_NULL, m->name};
                        if ((st = item(r, CU_DATAPOINTS, &dp))) return st;
                    }
                }
            }
            if ((st = end_resource(r, &rm->resource, now, &cap_rm))) return st;
        }
    }
    return GB_OK;
}

gb_status cu_consume(const cu_spec *spec, const cu_defs *defs, pl_component *c, pd_batch *b)
{
    gb_status st;
    cu_run r = {.spec = spec, .defs = defs};
    st = pd_batch_new(PD_METRICS, 8192, &r.out);
    if (st) {
        pd_batch_unref(b);
        return GB_ERR_RETRY;
    }
    st = run(&r, b);
    pd_batch_unref(b);
    if (st != GB_OK) {
        gb_log(GB_LOG_ERROR, c->full_id, "cannot build metrics: %s", gb_status_str(st));
        pd_batch_unref(r.out);
        return GB_ERR_RETRY;
    }
    pl_consumer *next = c->next[PD_METRICS];
    if (!r.any || !next) {
        pd_batch_unref(r.out);
        return GB_OK;
    }
    return pl_consume(next, r.out);
}

/* ---- component glue ------------------------------------------------------------------------ */

typedef struct cu_state {
    const cu_spec *spec;
    cu_defs defs;
} cu_state;

void cu_validate(const cu_spec *spec, const void *obj, const char *path, cfg_diags *d)
{
    const cu_cfg *cfg = obj;
    cu_defs defs;
    cu_parse(spec, cfg->sections, path, &defs, d);
    cu_defs_free(&defs);
}

gb_status cu_create(const cu_spec *spec, pl_component *c)
{
    cu_state *s = calloc(1, sizeof *s);
    if (!s) return GB_ERR_NOMEM;
    s->spec = spec;
    cu_cfg empty = {0};
    const cu_cfg *cfg = c->cfg ? c->cfg : &empty;
    gb_status st = cu_parse(spec, cfg->sections, c->full_id, &s->defs, NULL);
    if (st != GB_OK) {
        cu_defs_free(&s->defs);
        free(s);
        return st;
    }
    c->state = s;
    return GB_OK;
}

gb_status cu_component_consume(pl_component *c, pd_batch *b)
{
    const cu_state *s = c->state;
    return cu_consume(s->spec, &s->defs, c, b);
}

void cu_destroy(pl_component *c)
{
    cu_state *s = c->state;
    if (!s) return;
    cu_defs_free(&s->defs);
    free(s);
    c->state = NULL;
}
