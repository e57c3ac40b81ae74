/* Document-level operations: init/free, deep merge of several files, --set overrides, and the
 * YAML emitter used by print-config.
 *
 * Merge copies src nodes into dst's arena (so src can be freed) and looks keys up through a hash
 * table for large maps, keeping it linear. --set builds a one-path overlay (a: {b: {c: value}})
 * whose value is parsed as YAML with marks on the "--set" pseudo-file, and merges it like one more
 * file. The emitter writes block YAML by hand: a scalar is written plain only when it re-parses to
 * the same text and the same type, otherwise double-quoted with escapes; "$" is doubled so the
 * output does not expand again on reload; aliases were expanded at parse time so none are written.
 * Rejected: libyaml's emitter (it cannot tell us when a plain scalar would change type, and its
 * event plumbing is longer than the emitter itself). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg_internal.h"

#define DOC_ARENA_LIMIT (512u << 20)

void cfg_doc_init(cfg_doc *doc)
{
    memset(doc, 0, sizeof *doc);
    gb_arena_init(&doc->arena, 16384, DOC_ARENA_LIMIT);
    doc->root = cfg_new_node(doc, CFG_NODE_MAP, (cfg_mark){NULL, 0, 0});
}

void cfg_doc_free(cfg_doc *doc)
{
    gb_arena_free(&doc->arena);
    memset(doc, 0, sizeof *doc);
}

/* ---- merge ------------------------------------------------------------------------------------
 */

static gb_status merge_map(cfg_doc *dst, cfg_node *d, const cfg_node *s, bool copy);

static gb_status take(cfg_doc *dst, const cfg_node *s, bool copy, cfg_node **out)
{
    if (!copy) {
        *out = (cfg_node *)s;
        return GB_OK;
    }
    return cfg_node_copy(dst, s, out);
}

static gb_status merge_map(cfg_doc *dst, cfg_node *d, const cfg_node *s, bool copy)
{
    gb_status st = GB_OK;
    cfg_strtab idx = {0};
    bool use_idx = d->n_pairs > 8;
    cfg_pair *np = NULL;
    uint32_t nn = d->n_pairs;
    if (!s->n_pairs) return GB_OK;
    if (use_idx) {
        for (uint32_t i = 0; i < d->n_pairs && !st; i++) {
            bool found;
            st = cfg_strtab_put(&idx, d->pairs[i].key, i, false, &found, NULL);
        }
        if (st) goto out;
    }
    np = gb_arena_alloc(&dst->arena, ((size_t)d->n_pairs + s->n_pairs) * sizeof *np);
    if (!np) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    if (d->n_pairs) memcpy(np, d->pairs, d->n_pairs * sizeof *np);
    for (uint32_t i = 0; i < s->n_pairs; i++) {
        const cfg_pair *sp = &s->pairs[i];
        uint32_t at = UINT32_MAX;
        if (use_idx) {
            cfg_strtab_get(&idx, sp->key, &at);
        } else {
            for (uint32_t j = 0; j < nn; j++)
                if (!strcmp(np[j].key, sp->key)) {
                    at = j;
                    break;
                }
        }
        if (at != UINT32_MAX && np[at].value->kind == CFG_NODE_MAP &&
            sp->value->kind == CFG_NODE_MAP) {
            st = merge_map(dst, np[at].value, sp->value, copy);
            if (st) goto out;
            continue;
        }
        cfg_node *v;
        st = take(dst, sp->value, copy, &v);
        if (st) goto out;
        if (at == UINT32_MAX) {
            at = nn++;
            np[at].key = copy ? cfg_doc_strdup(dst, sp->key) : sp->key;
            if (!np[at].key) {
                st = GB_ERR_NOMEM;
                goto out;
            }
            if (use_idx) {
                bool found;
                st = cfg_strtab_put(&idx, np[at].key, at, false, &found, NULL);
                if (st) goto out;
            }
        }
        np[at].key_mark = sp->key_mark;
        np[at].key_mark.file = cfg_doc_file(dst, sp->key_mark.file);
        np[at].value = v;
    }
    d->pairs = np;
    d->n_pairs = nn;
out:
    cfg_strtab_free(&idx);
    return st;
}

gb_status cfg_node_merge_map(cfg_doc *doc, cfg_node *dst, const cfg_node *src)
{
    return merge_map(doc, dst, src, false);
}

gb_status cfg_doc_merge(cfg_doc *dst, const cfg_doc *src)
{
    if (!src->root) return GB_OK;
    if (!dst->root) {
        dst->root = cfg_new_node(dst, CFG_NODE_MAP, src->root->mark);
        if (!dst->root) return GB_ERR_NOMEM;
    }
    if (src->root->kind != CFG_NODE_MAP || dst->root->kind != CFG_NODE_MAP)
        return take(dst, src->root, true, &dst->root);
    return merge_map(dst, dst->root, src->root, true);
}

/* ---- --set ------------------------------------------------------------------------------------
 */

gb_status cfg_doc_set(cfg_doc *doc, const char *assignment, cfg_diags *d)
{
    const char *file = cfg_doc_file(doc, "--set");
    gb_status st = GB_OK;
    const char *eq = strchr(assignment, '=');
    gb_sbuf path;
    gb_sbuf_init(&path, 1u << 16);
    if (!file) return GB_ERR_NOMEM;
    if (!eq) {
        cfg_diag_add(d, CFG_ERROR, (cfg_mark){file, 1, 1}, "",
                     "expected key=value (e.g. processors::batch::timeout=2s), got \"%s\"",
                     assignment);
        return GB_ERR_INVALID;
    }
    size_t klen = (size_t)(eq - assignment);
    const char *sep = "::";
    size_t sl = 2;
    if (!memmem(assignment, klen, "::", 2)) {
        sep = ".";
        sl = 1;
    }
    /* split the key into segments */
    const char *segs[CFG_MAX_DEPTH];
    size_t seglen[CFG_MAX_DEPTH];
    uint32_t nseg = 0;
    const char *p = assignment;
    for (;;) {
        const char *e = memmem(p, (size_t)(eq - p), sep, sl);
        size_t l = e ? (size_t)(e - p) : (size_t)(eq - p);
        if (!l) {
            cfg_diag_add(d, CFG_ERROR, (cfg_mark){file, 1, (uint32_t)(p - assignment) + 1}, "",
                         "empty key in --set \"%.*s\"", (int)klen, assignment);
            st = GB_ERR_INVALID;
            goto out;
        }
        if (nseg == CFG_MAX_DEPTH) {
            cfg_diag_add(d, CFG_ERROR, (cfg_mark){file, 1, 1}, "", "--set key is too deep");
            st = GB_ERR_INVALID;
            goto out;
        }
        segs[nseg] = p;
        seglen[nseg++] = l;
        gb_sbuf_printf(&path, "%s%.*s", path.len ? "." : "", (int)l, p);
        if (!e) break;
        p = e + sl;
    }
    cfg_node *val = NULL;
    const char *v = eq + 1;
    st = cfg_doc_parse_value(doc, file, 1, (uint32_t)(v - assignment) + 1, v, strlen(v), path.data,
                             &val, d);
    if (st) goto out;
    for (uint32_t i = nseg; i-- > 0;) {
        cfg_mark km = {file, 1, (uint32_t)(segs[i] - assignment) + 1};
        cfg_node *m = cfg_new_node(doc, CFG_NODE_MAP, km);
        cfg_pair *pair = gb_arena_calloc(&doc->arena, 1, sizeof *pair);
        gb_str key;
        if (!m || !pair || gb_arena_dup(&doc->arena, segs[i], seglen[i], &key)) {
            st = GB_ERR_NOMEM;
            goto out;
        }
        pair->key = (char *)key.ptr;
        pair->key_mark = km;
        pair->value = val;
        m->pairs = pair;
        m->n_pairs = 1;
        val = m;
    }
    if (!doc->root || doc->root->kind != CFG_NODE_MAP)
        doc->root = val;
    else
        st = merge_map(doc, doc->root, val, false);
out:
    gb_sbuf_free(&path);
    return st;
}

/* ---- YAML emitter ------------------------------------------------------------------------------
 */

/* Decodes one UTF-8 sequence; returns its length or 0 when invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2;
        c = s[0] & 0x1F;
        min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3;
        c = s[0] & 0x0F;
        min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4;
        c = s[0] & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

/* Code points YAML lets us write raw (everything else is escaped). */
static bool printable_cp(uint32_t c)
{
    if (c < 0x80) return c >= 0x20 && c != 0x7F;
    return (c >= 0xA0 && c <= 0xD7FF && c != 0x2028 && c != 0x2029) ||
           (c >= 0xE000 && c <= 0xFFFD && c != 0xFEFF) || (c >= 0x10000 && c <= 0x10FFFF);
}

static bool ambiguous_word(const char *s)
{
    static const char *const words[] = {"y", "n", "yes", "no", "on", "off", "<<", "="};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcasecmp(s, words[i])) return true;
    return false;
}

/* Can s be written as a plain scalar and read back as the same text? */
static bool plain_ok(const char *s, bool root)
{
    size_t n = strlen(s);
    if (!n || n > 512) return false;
    unsigned char f = (unsigned char)s[0];
    if (strchr("?:,[]{}#&*!|>'\"%@`", f)) return false;
    if (f == '-' && (n == 1 || s[1] == ' ')) return false;
    if (s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':') return false;
    if (root && (!strncmp(s, "---", 3) || !strncmp(s, "...", 3))) return false;
    for (size_t i = 0; i < n;) {
        unsigned char ch = (unsigned char)s[i];
        if (strchr("#,[]{}", ch)) return false;
        if (ch == ':' && s[i + 1] == ' ') return false;
        uint32_t cp;
        size_t l = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!l || !printable_cp(cp)) return false;
        i += l;
    }
    return true;
}

static void put_escaped(gb_sbuf *out, const char *s, bool dollar)
{
    gb_sbuf_putc(out, '"');
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!l) {
            gb_sbuf_puts(out, "\\uFFFD"); /* not UTF-8: cannot be written as YAML */
            i++;
            continue;
        }
        i += l;
        if (cp == '"' || cp == '\\') {
            gb_sbuf_putc(out, '\\');
            gb_sbuf_putc(out, (char)cp);
        } else if (cp == '$' && dollar) {
            gb_sbuf_puts(out, "$$");
        } else if (cp == '\n') {
            gb_sbuf_puts(out, "\\n");
        } else if (cp == '\t') {
            gb_sbuf_puts(out, "\\t");
        } else if (cp == '\r') {
            gb_sbuf_puts(out, "\\r");
        } else if (printable_cp(cp)) {
            gb_sbuf_append(out, s + i - l, l);
        } else if (cp <= 0xFF) {
            gb_sbuf_printf(out, "\\x%02X", cp);
        } else if (cp <= 0xFFFF) {
            gb_sbuf_printf(out, "\\u%04X", cp);
        } else {
            gb_sbuf_printf(out, "\\U%08X", cp);
        }
    }
    gb_sbuf_putc(out, '"');
}

static void put_plain(gb_sbuf *out, const char *s, bool dollar)
{
    if (!dollar || !strchr(s, '$')) {
        gb_sbuf_puts(out, s);
        return;
    }
    for (; *s; s++) {
        if (*s == '$') gb_sbuf_putc(out, '$');
        gb_sbuf_putc(out, *s);
    }
}

static void emit_scalar(gb_sbuf *out, const cfg_node *n, bool root)
{
    if (n->kind == CFG_NODE_NULL) {
        gb_sbuf_puts(out, "null");
        return;
    }
    cfg_ytype t = n->quoted ? CFG_Y_STR : cfg_resolve_plain(n->scalar);
    if (t != CFG_Y_STR && n->scalar[0]) {
        gb_sbuf_puts(out, n->scalar); /* a typed plain token: written as it was read */
        return;
    }
    if (plain_ok(n->scalar, root) && cfg_resolve_plain(n->scalar) == CFG_Y_STR &&
        !ambiguous_word(n->scalar))
        put_plain(out, n->scalar, true);
    else
        put_escaped(out, n->scalar, true);
}

typedef struct ectx {
    gb_sbuf *out;
    const char *const *secrets;
    bool redact_all; /* inside a secret map: every value is hidden, the keys stay visible */
} ectx;

static bool is_secret(const ectx *e, const char *key)
{
    if (e->redact_all) return true;
    if (!e->secrets) return false;
    for (const char *const *k = e->secrets; *k; k++)
        if (!strcmp(*k, key)) return true;
    return false;
}

static void indent(gb_sbuf *out, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        gb_sbuf_putc(out, ' ');
}

static bool is_leaf(const cfg_node *n)
{
    return n->kind == CFG_NODE_NULL || n->kind == CFG_NODE_SCALAR ||
           (n->kind == CFG_NODE_MAP && !n->n_pairs) || (n->kind == CFG_NODE_SEQ && !n->n_items);
}

static void emit_leaf(gb_sbuf *out, const cfg_node *n)
{
    if (n->kind == CFG_NODE_MAP)
        gb_sbuf_puts(out, "{}");
    else if (n->kind == CFG_NODE_SEQ)
        gb_sbuf_puts(out, "[]");
    else
        emit_scalar(out, n, false);
}

static void emit_map(const ectx *e, const cfg_node *n, unsigned ind, bool first_inline);
static void emit_seq(const ectx *e, const cfg_node *n, unsigned ind, bool first_inline);

/* After "key:" (or "- " handled by the caller). */
static void emit_value(const ectx *e, const cfg_node *v, unsigned ind, bool secret)
{
    gb_sbuf *out = e->out;
    if (secret && v->kind == CFG_NODE_MAP && v->n_pairs) {
        /* A secret map (headers): keep the names, hide every value, as otelcol prints a
         * map[string]configopaque.String. */
        ectx inner = *e;
        inner.redact_all = true;
        gb_sbuf_putc(out, '\n');
        emit_map(&inner, v, ind + 2, false);
    } else if (secret && v->kind != CFG_NODE_NULL) {
        gb_sbuf_puts(out, " \"[REDACTED]\"\n");
    } else if (is_leaf(v)) {
        gb_sbuf_putc(out, ' ');
        emit_leaf(out, v);
        gb_sbuf_putc(out, '\n');
    } else if (v->kind == CFG_NODE_MAP) {
        gb_sbuf_putc(out, '\n');
        emit_map(e, v, ind + 2, false);
    } else {
        gb_sbuf_putc(out, '\n');
        emit_seq(e, v, ind + 2, false);
    }
}

static void emit_map(const ectx *e, const cfg_node *n, unsigned ind, bool first_inline)
{
    gb_sbuf *out = e->out;
    for (uint32_t i = 0; i < n->n_pairs; i++) {
        const cfg_pair *p = &n->pairs[i];
        if (i || !first_inline) indent(out, ind);
        bool long_key = strlen(p->key) > 512;
        if (long_key) {
            gb_sbuf_puts(out, "? ");
            put_escaped(out, p->key, false);
            gb_sbuf_putc(out, '\n');
            indent(out, ind);
        } else if (plain_ok(p->key, false) && strcmp(p->key, "<<")) {
            gb_sbuf_puts(out, p->key);
        } else {
            put_escaped(out, p->key, false);
        }
        gb_sbuf_putc(out, ':');
        emit_value(e, p->value, ind, is_secret(e, p->key));
    }
}

static void emit_seq(const ectx *e, const cfg_node *n, unsigned ind, bool first_inline)
{
    gb_sbuf *out = e->out;
    for (uint32_t i = 0; i < n->n_items; i++) {
        const cfg_node *v = n->items[i];
        if (i || !first_inline) indent(out, ind);
        gb_sbuf_putc(out, '-');
        if (is_leaf(v)) {
            gb_sbuf_putc(out, ' ');
            emit_leaf(out, v);
            gb_sbuf_putc(out, '\n');
        } else if (v->kind == CFG_NODE_MAP) {
            gb_sbuf_putc(out, ' ');
            emit_map(e, v, ind + 2, true);
        } else {
            gb_sbuf_putc(out, ' ');
            emit_seq(e, v, ind + 2, true);
        }
    }
}

void cfg_node_emit_yaml(const cfg_node *n, gb_sbuf *out, const char *const *secret_keys)
{
    ectx e = {out, secret_keys, false};
    if (!n) {
        gb_sbuf_puts(out, "null\n");
    } else if (is_leaf(n)) {
        if (n->kind == CFG_NODE_SCALAR || n->kind == CFG_NODE_NULL)
            emit_scalar(out, n, true);
        else
            emit_leaf(out, n);
        gb_sbuf_putc(out, '\n');
    } else if (n->kind == CFG_NODE_MAP) {
        emit_map(&e, n, 0, false);
    } else {
        emit_seq(&e, n, 0, false);
    }
}
