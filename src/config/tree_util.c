/* Small shared pieces of the config subsystem: the string hash table used for duplicate-key,
 * merge-key and anchor lookups (keeps parsing and merging linear in the number of keys), the
 * YAML 1.2 core-schema resolver for plain scalars, node allocation, and the public node helpers
 * (lookups, paths, equality, value descriptions). Rejected: linear scans for key lookups (a map
 * with many keys would make parsing quadratic). */
#include "cfg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- string table ------------------------------------------------------------------------- */

void cfg_strtab_free(cfg_strtab *t)
{
    free(t->e);
    memset(t, 0, sizeof *t);
}

static uint32_t st_hash(const char *k)
{
    uint64_t h = gb_hash_bytes(k, strlen(k));
    return (uint32_t)(h ^ (h >> 32));
}

static gb_status st_grow(cfg_strtab *t)
{
    uint32_t ncap = t->cap ? t->cap * 2 : 16;
    if (ncap < t->cap) return GB_ERR_NOMEM;
    cfg_strtab_ent *ne = calloc(ncap, sizeof *ne);
    if (!ne) return GB_ERR_NOMEM;
    for (uint32_t i = 0; i < t->cap; i++) {
        if (!t->e[i].key) continue;
        uint32_t j = st_hash(t->e[i].key) & (ncap - 1);
        while (ne[j].key)
            j = (j + 1) & (ncap - 1);
        ne[j] = t->e[i];
    }
    free(t->e);
    t->e = ne;
    t->cap = ncap;
    return GB_OK;
}

gb_status cfg_strtab_put(cfg_strtab *t, const char *key, uint32_t val, bool replace, bool *found,
                         uint32_t *old)
{
    *found = false;
    if ((t->n + 1) * 2 > t->cap) {
        gb_status st = st_grow(t);
        if (st) return st;
    }
    uint32_t j = st_hash(key) & (t->cap - 1);
    while (t->e[j].key) {
        if (strcmp(t->e[j].key, key) == 0) {
            *found = true;
            if (old) *old = t->e[j].val;
            if (replace) t->e[j].val = val;
            return GB_OK;
        }
        j = (j + 1) & (t->cap - 1);
    }
    t->e[j].key = key;
    t->e[j].val = val;
    t->n++;
    return GB_OK;
}

bool cfg_strtab_get(const cfg_strtab *t, const char *key, uint32_t *val)
{
    if (!t->cap) return false;
    uint32_t j = st_hash(key) & (t->cap - 1);
    while (t->e[j].key) {
        if (strcmp(t->e[j].key, key) == 0) {
            if (val) *val = t->e[j].val;
            return true;
        }
        j = (j + 1) & (t->cap - 1);
    }
    return false;
}

/* ---- plain scalar resolution ---------------------------------------------------------------- */

bool cfg_is_null_word(const char *s)
{
    return !s[0] || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
           !strcmp(s, "NULL");
}

static bool all_in(const char *s, const char *set)
{
    if (!*s) return false;
    for (; *s; s++)
        if (*s != '_' && !strchr(set, *s)) return false;
    return true;
}

cfg_ytype cfg_resolve_plain(const char *s)
{
    if (cfg_is_null_word(s)) return CFG_Y_NULL;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE") || !strcmp(s, "false") ||
        !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return CFG_Y_BOOL;
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) return CFG_Y_FLOAT;
    if (p == s && (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN")))
        return CFG_Y_FLOAT;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && all_in(p + 2, "0123456789abcdefABCDEF"))
        return CFG_Y_INT;
    if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O') && all_in(p + 2, "01234567")) return CFG_Y_INT;
    if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B') && all_in(p + 2, "01")) return CFG_Y_INT;
    if (*p >= '0' && *p <= '9' && all_in(p, "0123456789")) return CFG_Y_INT;
    /* float: (\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? (underscores tolerated, as 1.1) */
    const char *q = p;
    size_t digits = 0;
    while ((*q >= '0' && *q <= '9') || (*q == '_' && q != p))
        digits += *q++ != '_';
    if (*q == '.') {
        q++;
        while ((*q >= '0' && *q <= '9') || *q == '_')
            digits += *q++ != '_';
    }
    if (!digits) return CFG_Y_STR;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!(*q >= '0' && *q <= '9')) return CFG_Y_STR;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    return *q ? CFG_Y_STR : CFG_Y_FLOAT;
}

/* ---- nodes ------------------------------------------------------------------------------------
 */

cfg_node *cfg_new_node(cfg_doc *doc, cfg_node_kind kind, cfg_mark mark)
{
    cfg_node *n = gb_arena_calloc(&doc->arena, 1, sizeof *n);
    if (!n) return NULL;
    n->kind = kind;
    n->mark = mark;
    n->scalar = (char *)"";
    return n;
}

char *cfg_doc_strdup(cfg_doc *doc, const char *s)
{
    gb_str out;
    if (!s) return NULL;
    if (gb_arena_dup(&doc->arena, s, strlen(s), &out)) return NULL;
    return (char *)out.ptr;
}

const char *cfg_doc_file(cfg_doc *doc, const char *name)
{
    if (!name) return NULL;
    uint32_t k = doc->n_files < 8 ? doc->n_files : 8;
    for (uint32_t i = 0; i < k; i++)
        if (doc->files[i] == name || !strcmp(doc->files[i], name)) return doc->files[i];
    char *c = cfg_doc_strdup(doc, name);
    if (!c) return NULL;
    doc->files[doc->n_files % 8] = c;
    doc->n_files++;
    return c;
}

gb_status cfg_node_copy(cfg_doc *doc, const cfg_node *n, cfg_node **out)
{
    gb_status st = GB_OK;
    cfg_node *c = gb_arena_alloc(&doc->arena, sizeof *c);
    if (!c) return GB_ERR_NOMEM;
    *c = *n;
    c->mark.file = cfg_doc_file(doc, n->mark.file);
    c->scalar = cfg_doc_strdup(doc, n->scalar ? n->scalar : "");
    c->env_var = n->env_var ? cfg_doc_strdup(doc, n->env_var) : NULL;
    c->pairs = NULL;
    c->items = NULL;
    if (!c->scalar) return GB_ERR_NOMEM;
    if (n->kind == CFG_NODE_MAP && n->n_pairs) {
        c->pairs = gb_arena_calloc(&doc->arena, n->n_pairs, sizeof *c->pairs);
        if (!c->pairs) return GB_ERR_NOMEM;
        for (uint32_t i = 0; i < n->n_pairs && !st; i++) {
            c->pairs[i].key = cfg_doc_strdup(doc, n->pairs[i].key);
            c->pairs[i].key_mark = n->pairs[i].key_mark;
            c->pairs[i].key_mark.file = cfg_doc_file(doc, n->pairs[i].key_mark.file);
            if (!c->pairs[i].key) return GB_ERR_NOMEM;
            st = cfg_node_copy(doc, n->pairs[i].value, &c->pairs[i].value);
        }
    } else if (n->kind == CFG_NODE_SEQ && n->n_items) {
        c->items = gb_arena_calloc(&doc->arena, n->n_items, sizeof *c->items);
        if (!c->items) return GB_ERR_NOMEM;
        for (uint32_t i = 0; i < n->n_items && !st; i++)
            st = cfg_node_copy(doc, n->items[i], &c->items[i]);
    }
    *out = c;
    return st;
}

const cfg_pair *cfg_node_get_pair(const cfg_node *n, const char *key)
{
    if (!n || n->kind != CFG_NODE_MAP || !key) return NULL;
    for (uint32_t i = 0; i < n->n_pairs; i++)
        if (!strcmp(n->pairs[i].key, key)) return &n->pairs[i];
    return NULL;
}

cfg_node *cfg_node_get(const cfg_node *n, const char *key)
{
    const cfg_pair *p = cfg_node_get_pair(n, key);
    return p ? p->value : NULL;
}

const char *cfg_node_kind_name(cfg_node_kind k)
{
    switch (k) {
    case CFG_NODE_NULL:
        return "null";
    case CFG_NODE_SCALAR:
        return "scalar";
    case CFG_NODE_MAP:
        return "map";
    case CFG_NODE_SEQ:
        return "sequence";
    }
    return "?";
}

bool cfg_node_is_null(const cfg_node *n)
{
    return !n || n->kind == CFG_NODE_NULL;
}

const char *cfg_node_scalar(const cfg_node *n)
{
    return n && n->kind == CFG_NODE_SCALAR ? n->scalar : NULL;
}

const cfg_pair *cfg_node_pairs(const cfg_node *n, uint32_t *count)
{
    if (!n || n->kind != CFG_NODE_MAP) {
        *count = 0;
        return NULL;
    }
    *count = n->n_pairs;
    return n->pairs;
}

cfg_node *cfg_node_find(const cfg_node *n, const char *path, const char *sep)
{
    if (!n || !path) return NULL;
    size_t sl = sep ? strlen(sep) : 0;
    const cfg_node *cur = n;
    const char *p = path;
    char key[512];
    for (;;) {
        const char *e = sl ? strstr(p, sep) : NULL;
        size_t kl = e ? (size_t)(e - p) : strlen(p);
        if (kl >= sizeof key) return NULL;
        memcpy(key, p, kl);
        key[kl] = '\0';
        cur = cfg_node_get(cur, key);
        if (!cur || !e) return (cfg_node *)cur;
        p = e + sl;
    }
}

static cfg_ytype scalar_type(const cfg_node *n)
{
    return n->quoted ? CFG_Y_STR : cfg_resolve_plain(n->scalar);
}

bool cfg_node_equal(const cfg_node *a, const cfg_node *b)
{
    if (!a || !b) return a == b;
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case CFG_NODE_NULL:
        return true;
    case CFG_NODE_SCALAR:
        return !strcmp(a->scalar, b->scalar) && scalar_type(a) == scalar_type(b);
    case CFG_NODE_MAP:
        if (a->n_pairs != b->n_pairs) return false;
        for (uint32_t i = 0; i < a->n_pairs; i++)
            if (strcmp(a->pairs[i].key, b->pairs[i].key) ||
                !cfg_node_equal(a->pairs[i].value, b->pairs[i].value))
                return false;
        return true;
    case CFG_NODE_SEQ:
        if (a->n_items != b->n_items) return false;
        for (uint32_t i = 0; i < a->n_items; i++)
            if (!cfg_node_equal(a->items[i], b->items[i])) return false;
        return true;
    }
    return false;
}

/* "${env:A}" or "${env:A}, ${env:B}" from "A,B". */
static void env_refs(const char *vars, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    const char *p = vars;
    while (*p && o + 1 < cap) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        int w = snprintf(out + o, cap - o, "%s${env:%.*s}", o ? ", " : "", (int)l, p);
        if (w < 0) break;
        o += (size_t)w;
        if (!e) break;
        p = e + 1;
    }
}

void cfg_node_describe_value(const cfg_node *n, bool secret, char *out, size_t cap)
{
    char refs[256] = "";
    if (!cap) return;
    if (n && n->env_var && n->env_var[0]) env_refs(n->env_var, refs, sizeof refs);
    if (!n || n->kind == CFG_NODE_NULL) {
        snprintf(out, cap, "null%s%s%s", refs[0] ? " (from " : "", refs, refs[0] ? ")" : "");
    } else if (n->kind == CFG_NODE_MAP) {
        snprintf(out, cap, "a map");
    } else if (n->kind == CFG_NODE_SEQ) {
        snprintf(out, cap, "a sequence");
    } else if (secret) {
        snprintf(out, cap, "value hidden%s%s", refs[0] ? ", from " : "", refs);
    } else {
        /* Quote, escaping quotes/backslashes/control characters; cut long values. */
        size_t o = 0;
        const size_t maxv = 80;
        char tmp[400];
        tmp[o++] = '"';
        const unsigned char *s = (const unsigned char *)n->scalar;
        size_t i = 0;
        for (; s[i] && i < maxv && o + 6 < sizeof tmp; i++) {
            unsigned char ch = s[i];
            if (ch == '"' || ch == '\\') {
                tmp[o++] = '\\';
                tmp[o++] = (char)ch;
            } else if (ch == '\n') {
                tmp[o++] = '\\';
                tmp[o++] = 'n';
            } else if (ch < 0x20 || ch == 0x7f) {
                o += (size_t)snprintf(tmp + o, sizeof tmp - o, "\\x%02X", ch);
            } else {
                tmp[o++] = (char)ch;
            }
        }
        if (s[i]) {
            memcpy(tmp + o, "...", 3);
            o += 3;
        }
        tmp[o++] = '"';
        tmp[o] = '\0';
        snprintf(out, cap, "%s%s%s%s", tmp, refs[0] ? " (from " : "", refs, refs[0] ? ")" : "");
    }
}

char *cfg_path_key(cfg_doc *doc, const char *parent, const char *key)
{
    gb_str out;
    if (!parent || !parent[0]) return cfg_doc_strdup(doc, key ? key : "");
    if (gb_arena_printf(&doc->arena, &out, "%s.%s", parent, key ? key : "")) return NULL;
    return (char *)out.ptr;
}

char *cfg_path_index(cfg_doc *doc, const char *parent, uint32_t i)
{
    gb_str out;
    if (gb_arena_printf(&doc->arena, &out, "%s[%u]", parent ? parent : "", i)) return NULL;
    return (char *)out.ptr;
}
