/* YAML text -> cfg_node tree, with ${...} expansion.
 *
 * How: libyaml's event API drives a recursive-descent builder (depth bounded by CFG_MAX_DEPTH).
 * Every node and key gets its file:line:col from the event marks. Maps are collected in a heap
 * vector and copied into the doc arena when complete; then duplicate keys are reported and YAML
 * merge keys (`<<: *base`) are resolved, both through a hash table so parsing stays linear.
 * Anchors are registered when their node is complete (so an alias cannot refer to an enclosing
 * node: no cycles) and an alias is expanded by copying the anchored subtree; the number of nodes
 * created that way is capped (CFG_MAX_ALIAS_NODES), which refuses "billion laughs" documents.
 * Scalar values (never keys) are expanded once, at parse time: ${env:VAR}, ${VAR},
 * ${env:VAR:-default}, ${file:path}, $$ -> $. Text that came from the environment or a file is
 * not scanned again. A problem inside a value is reported at its exact column when the value is
 * written verbatim on one line, else at the value's start.
 *
 * Rejected: the libyaml document API (it shares aliased nodes, which we would still have to
 * expand and bound, and gives no place to check duplicates while loading); sharing aliased
 * subtrees instead of copying (merge and --set mutate maps in place, so sharing would leak a change
 * made through one path into the other). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "cfg_internal.h"

#define MAX_EXPANDED_BYTES (64u << 20) /* all expansions of one document */
#define MAX_DEFAULT_DEPTH  8           /* ${env:A:-${env:B:-...}} */

typedef struct anchor {
    char *name;
    cfg_node *node;
    uint32_t height; /* levels below node (0 for a scalar) */
} anchor;

typedef struct pseg {
    const char *key; /* NULL for a sequence index */
    uint32_t index;
} pseg;

typedef struct pctx {
    cfg_doc *doc;
    cfg_diags *d;
    const char *file;
    const char *text;
    size_t len;
    uint32_t line0, col0; /* mark shift: line 1 of text is line0, its column 1 is col0 */
    const char *path_prefix;
    yaml_parser_t parser;
    anchor *anchors;
    uint32_t n_anchors, cap_anchors;
    cfg_strtab anchor_idx;
    uint64_t alias_nodes;
    uint64_t expanded;
    pseg path[CFG_MAX_DEPTH + 2];
    uint32_t depth;
    uint32_t errors_before;
    bool stop;       /* a syntax error or limit: stop consuming events */
    uint32_t *lines; /* byte offset of each line start (lazy) */
    uint32_t n_lines;
} pctx;

/* ---- marks and paths ------------------------------------------------------------------------ */

static cfg_mark mk_mark(const pctx *c, size_t line0, size_t col0)
{
    cfg_mark m = {c->file, (uint32_t)line0 + 1, (uint32_t)col0 + 1};
    if (m.line == 1) m.col += c->col0 - 1;
    m.line += c->line0 - 1;
    return m;
}

static cfg_mark ymark(const pctx *c, const yaml_mark_t *y)
{
    return mk_mark(c, y->line, y->column);
}

static void path_string(const pctx *c, gb_sbuf *b)
{
    if (c->path_prefix && c->path_prefix[0]) gb_sbuf_puts(b, c->path_prefix);
    for (uint32_t i = 0; i < c->depth; i++) {
        if (c->path[i].key)
            gb_sbuf_printf(b, "%s%s", b->len ? "." : "", c->path[i].key);
        else
            gb_sbuf_printf(b, "[%u]", c->path[i].index);
    }
}

static void perr(pctx *c, cfg_severity sev, cfg_mark m, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void perr(pctx *c, cfg_severity sev, cfg_mark m, const char *fmt, ...)
{
    gb_sbuf p;
    gb_sbuf_init(&p, 4096);
    path_string(c, &p);
    va_list ap;
    va_start(ap, fmt);
    cfg_diag_addv(c->d, sev, m, p.data ? p.data : "", fmt, ap);
    va_end(ap);
    gb_sbuf_free(&p);
}

static void build_lines(pctx *c)
{
    if (c->lines) return;
    size_t n = 1;
    for (size_t i = 0; i < c->len; i++)
        if (c->text[i] == '\n' ||
            (c->text[i] == '\r' && (i + 1 >= c->len || c->text[i + 1] != '\n')))
            n++;
    c->lines = malloc(n * sizeof *c->lines);
    if (!c->lines) return;
    size_t k = 0;
    size_t start = 0;
    if (c->len >= 3 && !memcmp(c->text, "\xEF\xBB\xBF", 3)) start = 3; /* BOM is not a column */
    c->lines[k++] = (uint32_t)start;
    for (size_t i = 0; i < c->len; i++)
        if (c->text[i] == '\n' ||
            (c->text[i] == '\r' && (i + 1 >= c->len || c->text[i + 1] != '\n')))
            c->lines[k++] = (uint32_t)(i + 1);
    c->n_lines = (uint32_t)k;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) k++;
    return k;
}

/* Mark of byte k of a scalar value: exact when the value is written verbatim on one line. */
typedef struct vpos {
    yaml_mark_t start;
    yaml_scalar_style_t style;
    const char *val;
    size_t vlen;
} vpos;

static cfg_mark value_mark(pctx *c, const vpos *v, size_t k)
{
    cfg_mark base = ymark(c, &v->start);
    if (v->style == YAML_LITERAL_SCALAR_STYLE || v->style == YAML_FOLDED_SCALAR_STYLE ||
        memchr(v->val, '\n', v->vlen) || c->len > UINT32_MAX)
        return base;
    if (c->len >= 2 && ((unsigned char)c->text[0] == 0xFE || (unsigned char)c->text[0] == 0xFF ||
                        c->text[0] == 0 || c->text[1] == 0))
        return base; /* UTF-16 input: byte offsets do not match */
    build_lines(c);
    if (!c->lines || v->start.line >= c->n_lines) return base;
    size_t off = c->lines[v->start.line];
    for (size_t col = 0; col < v->start.column && off < c->len; col++) {
        off++;
        while (off < c->len && ((unsigned char)c->text[off] & 0xC0) == 0x80)
            off++;
    }
    if (v->style != YAML_PLAIN_SCALAR_STYLE) off++;
    if (off > c->len || c->len - off < v->vlen || memcmp(c->text + off, v->val, v->vlen))
        return base;
    base.col += (uint32_t)((v->style != YAML_PLAIN_SCALAR_STYLE) + utf8_chars(v->val, k));
    return base;
}

/* ---- ${...} expansion ----------------------------------------------------------------------- */

static bool is_env_name(const char *s, size_t n)
{
    if (!n || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

static bool is_scheme(const char *s, size_t n)
{
    if (!n || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

static void add_var(gb_sbuf *vars, const char *name, size_t n)
{
    /* keep each name once */
    const char *p = vars->data;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !memcmp(p, name, n)) return;
        if (!e) break;
        p = e + 1;
    }
    if (vars->len) gb_sbuf_putc(vars, ',');
    gb_sbuf_append(vars, name, n);
}

static gb_status read_value_file(pctx *c, const vpos *v, size_t at, const char *path, gb_sbuf *out)
{
    gb_status st = GB_OK;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat sb;
    if (fd < 0) {
        perr(c, CFG_ERROR, value_mark(c, v, at), "cannot read ${file:%s}: %s", path,
             strerror(errno));
        st = GB_ERR_INVALID;
        goto out;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        perr(c, CFG_ERROR, value_mark(c, v, at), "cannot read ${file:%s}: not a regular file",
             path);
        st = GB_ERR_INVALID;
        goto out;
    }
    if (sb.st_size > (off_t)CFG_MAX_FILE_VALUE) {
        perr(c, CFG_ERROR, value_mark(c, v, at), "${file:%s} is larger than %u bytes", path,
             CFG_MAX_FILE_VALUE);
        st = GB_ERR_INVALID;
        goto out;
    }
    buf = malloc(CFG_MAX_FILE_VALUE + 1);
    if (!buf) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, CFG_MAX_FILE_VALUE + 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            perr(c, CFG_ERROR, value_mark(c, v, at), "cannot read ${file:%s}: %s", path,
                 strerror(errno));
            st = GB_ERR_INVALID;
            goto out;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > CFG_MAX_FILE_VALUE) {
            perr(c, CFG_ERROR, value_mark(c, v, at), "${file:%s} is larger than %u bytes", path,
                 CFG_MAX_FILE_VALUE);
            st = GB_ERR_INVALID;
            goto out;
        }
    }
    if (memchr(buf, 0, n)) {
        perr(c, CFG_ERROR, value_mark(c, v, at), "${file:%s} contains a NUL byte", path);
        st = GB_ERR_INVALID;
        goto out;
    }
    if (n && buf[n - 1] == '\n') n--; /* one trailing newline, as files usually end */
    if (n && buf[n - 1] == '\r') n--;
    gb_sbuf_append(out, buf, n);
out:
    if (fd >= 0) close(fd);
    free(buf);
    return st;
}

static gb_status expand(pctx *c, const vpos *v, const char *s, size_t n, int depth, gb_sbuf *out,
                        gb_sbuf *vars);

/* One ${content}; at = offset of the "$" in the value. */
static gb_status resolve_ref(pctx *c, const vpos *v, size_t at, const char *s, size_t n, int depth,
                             gb_sbuf *out, gb_sbuf *vars)
{
    const char *name = s, *def = NULL;
    size_t name_len = n, def_len = 0;
    if (n == 0) {
        perr(c, CFG_ERROR, value_mark(c, v, at), "empty \"${}\" reference");
        return GB_ERR_INVALID;
    }
    const char *colon = memchr(s, ':', n);
    if (colon) {
        size_t pl = (size_t)(colon - s);
        const char *rest = colon + 1;
        size_t rl = n - pl - 1;
        if (is_env_name(s, pl) && rl && rest[0] == '-' && !(pl == 3 && !memcmp(s, "env", 3))) {
            name_len = pl; /* ${VAR:-default} */
            def = rest + 1;
            def_len = rl - 1;
        } else if (pl == 3 && !memcmp(s, "env", 3)) {
            name = rest;
            name_len = rl;
            for (size_t i = 0; i + 1 < rl; i++)
                if (rest[i] == ':' && rest[i + 1] == '-') {
                    name_len = i;
                    def = rest + i + 2;
                    def_len = rl - i - 2;
                    break;
                }
        } else if (pl == 4 && !memcmp(s, "file", 4)) {
            char *path = strndup(rest, rl);
            if (!path) return GB_ERR_NOMEM;
            gb_status st = GB_OK;
            if (!rl) {
                perr(c, CFG_ERROR, value_mark(c, v, at), "empty path in \"${file:}\"");
                st = GB_ERR_INVALID;
            } else {
                st = read_value_file(c, v, at, path, out);
            }
            free(path);
            return st;
        } else if (is_scheme(s, pl)) {
            perr(c, CFG_ERROR, value_mark(c, v, at),
                 "provider not supported: \"${%.*s:...}\" (supported: env, file)", (int)pl, s);
            return GB_ERR_INVALID;
        }
    }
    if (!is_env_name(name, name_len)) {
        perr(c, CFG_ERROR, value_mark(c, v, at),
             "invalid environment variable name \"%.*s\" in \"${%.*s}\"", (int)name_len, name,
             (int)n, s);
        return GB_ERR_INVALID;
    }
    char key[256];
    if (name_len >= sizeof key) {
        perr(c, CFG_ERROR, value_mark(c, v, at), "environment variable name too long");
        return GB_ERR_INVALID;
    }
    memcpy(key, name, name_len);
    key[name_len] = '\0';
    add_var(vars, name, name_len);
    const char *val = getenv(key);
    if (val) return gb_sbuf_puts(out, val);
    if (def) {
        if (depth >= MAX_DEFAULT_DEPTH) {
            perr(c, CFG_ERROR, value_mark(c, v, at), "defaults nested too deeply");
            return GB_ERR_INVALID;
        }
        return expand(c, v, def, def_len, depth + 1, out, vars);
    }
    perr(c, CFG_WARNING, value_mark(c, v, at),
         "environment variable \"%s\" is not set; using an empty value", key);
    return GB_OK;
}

static gb_status expand(pctx *c, const vpos *v, const char *s, size_t n, int depth, gb_sbuf *out,
                        gb_sbuf *vars)
{
    gb_status res = GB_OK;
    size_t i = 0;
    while (i < n) {
        const char *dollar = memchr(s + i, '$', n - i);
        if (!dollar) {
            gb_sbuf_append(out, s + i, n - i);
            break;
        }
        size_t k = (size_t)(dollar - s);
        gb_sbuf_append(out, s + i, k - i);
        i = k;
        if (i + 1 < n && s[i + 1] == '$') {
            gb_sbuf_putc(out, '$');
            i += 2;
            continue;
        }
        if (!(i + 1 < n && s[i + 1] == '{')) { /* a bare $VAR stays as is */
            gb_sbuf_putc(out, '$');
            i++;
            continue;
        }
        size_t j = i + 2;
        int level = 1;
        while (j < n) {
            if (s[j] == '$' && j + 1 < n && s[j + 1] == '{') {
                level++;
                j += 2;
                continue;
            }
            if (s[j] == '}' && --level == 0) break;
            j++;
        }
        size_t at = (size_t)(s + i - v->val);
        if (j >= n) {
            perr(c, CFG_ERROR, value_mark(c, v, at),
                 "unterminated \"${\" (write \"$$\" for a literal \"$\")");
            return GB_ERR_INVALID;
        }
        gb_status st = resolve_ref(c, v, at, s + i + 2, j - i - 2, depth, out, vars);
        if (st == GB_ERR_NOMEM || st == GB_ERR_LIMIT) return st;
        if (st) res = st;
        i = j + 1;
        if (out->len > MAX_EXPANDED_BYTES) break;
    }
    if (out->err) return out->err == GB_ERR_LIMIT ? GB_ERR_LIMIT : GB_ERR_NOMEM;
    return res;
}

/* ---- tree building -------------------------------------------------------------------------- */

static void yaml_error(pctx *c)
{
    yaml_parser_t *p = &c->parser;
    cfg_mark m;
    if (p->error == YAML_READER_ERROR) {
        size_t off = p->problem_offset < c->len ? p->problem_offset : c->len;
        size_t line = 0, col = 0;
        for (size_t i = 0; i < off; i++) {
            if (c->text[i] == '\n') {
                line++;
                col = 0;
            } else if (((unsigned char)c->text[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        m = mk_mark(c, line, col);
        if (p->problem_value != -1)
            cfg_diag_add(c->d, CFG_ERROR, m, "", "%s (byte 0x%02X)",
                         p->problem ? p->problem : "invalid input", (unsigned)p->problem_value);
        else
            cfg_diag_add(c->d, CFG_ERROR, m, "", "%s", p->problem ? p->problem : "invalid input");
    } else if (p->error == YAML_MEMORY_ERROR) {
        cfg_diag_add(c->d, CFG_ERROR, (cfg_mark){c->file, 0, 0}, "", "out of memory parsing YAML");
    } else {
        m = ymark(c, &p->problem_mark);
        if (p->context) {
            cfg_mark cm = ymark(c, &p->context_mark);
            cfg_diag_add(c->d, CFG_ERROR, m, "", "%s (%s at line %u, column %u)",
                         p->problem ? p->problem : "syntax error", p->context, cm.line, cm.col);
        } else {
            cfg_diag_add(c->d, CFG_ERROR, m, "", "%s", p->problem ? p->problem : "syntax error");
        }
    }
    c->stop = true;
}

static gb_status next_event(pctx *c, yaml_event_t *ev)
{
    if (c->stop) return GB_ERR_INVALID;
    if (!yaml_parser_parse(&c->parser, ev)) {
        yaml_error(c);
        return GB_ERR_INVALID;
    }
    return GB_OK;
}

static void oom(pctx *c)
{
    if (!c->stop)
        cfg_diag_add(c->d, CFG_ERROR, (cfg_mark){c->file, 0, 0}, "",
                     "out of memory while loading the configuration");
    c->stop = true;
}

static gb_status add_anchor(pctx *c, const char *name, cfg_node *n, uint32_t height)
{
    if (c->n_anchors == c->cap_anchors) {
        uint32_t ncap = c->cap_anchors ? c->cap_anchors * 2 : 8;
        anchor *na = realloc(c->anchors, ncap * sizeof *na);
        if (!na) return GB_ERR_NOMEM;
        c->anchors = na;
        c->cap_anchors = ncap;
    }
    char *nm = cfg_doc_strdup(c->doc, name);
    if (!nm) return GB_ERR_NOMEM;
    c->anchors[c->n_anchors] = (anchor){nm, n, height};
    bool found;
    gb_status st = cfg_strtab_put(&c->anchor_idx, nm, c->n_anchors, true, &found, NULL);
    if (st) return st;
    c->n_anchors++;
    return GB_OK;
}

/* Copy for an alias: nodes are new, strings shared (they are never modified). */
static gb_status alias_copy(pctx *c, const cfg_node *n, cfg_node **out)
{
    if (++c->alias_nodes > CFG_MAX_ALIAS_NODES) return GB_ERR_LIMIT;
    cfg_node *x = gb_arena_alloc(&c->doc->arena, sizeof *x);
    if (!x) return GB_ERR_NOMEM;
    *x = *n;
    *out = x;
    if (n->kind == CFG_NODE_MAP && n->n_pairs) {
        x->pairs = gb_arena_alloc(&c->doc->arena, n->n_pairs * sizeof *x->pairs);
        if (!x->pairs) return GB_ERR_NOMEM;
        for (uint32_t i = 0; i < n->n_pairs; i++) {
            x->pairs[i] = n->pairs[i];
            gb_status st = alias_copy(c, n->pairs[i].value, &x->pairs[i].value);
            if (st) return st;
        }
    } else if (n->kind == CFG_NODE_SEQ && n->n_items) {
        x->items = gb_arena_alloc(&c->doc->arena, n->n_items * sizeof *x->items);
        if (!x->items) return GB_ERR_NOMEM;
        for (uint32_t i = 0; i < n->n_items; i++) {
            gb_status st = alias_copy(c, n->items[i], &x->items[i]);
            if (st) return st;
        }
    }
    return GB_OK;
}

static gb_status parse_node(pctx *c, yaml_event_t *ev, cfg_node **out, uint32_t *height);

static bool tag_is(const yaml_char_t *tag, const char *what)
{
    if (!tag) return false;
    const char *t = (const char *)tag;
    if (!strncmp(t, "tag:yaml.org,2002:", 18)) return !strcmp(t + 18, what);
    if (!strncmp(t, "!!", 2)) return !strcmp(t + 2, what);
    return false;
}

static gb_status make_scalar(pctx *c, yaml_event_t *ev, cfg_node **out)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    cfg_mark m = ymark(c, &ev->start_mark);
    gb_status st = GB_OK;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
                 ev->data.scalar.style == YAML_ANY_SCALAR_STYLE;
    const yaml_char_t *tag = ev->data.scalar.tag;
    if (tag_is(tag, "str")) plain = false;
    if (memchr(text, 0, len)) {
        perr(c, CFG_ERROR, m, "NUL character in a value is not supported");
        text = "";
        len = 0;
    }
    cfg_node *n = cfg_new_node(c->doc, CFG_NODE_SCALAR, m);
    if (!n) return GB_ERR_NOMEM;
    n->quoted = !plain;
    if ((plain && cfg_is_null_word(text)) || tag_is(tag, "null")) {
        n->kind = CFG_NODE_NULL;
        *out = n;
        return GB_OK;
    }
    if (memchr(text, '$', len)) {
        gb_sbuf val, vars;
        gb_sbuf_init(&val, MAX_EXPANDED_BYTES + CFG_MAX_FILE_VALUE);
        gb_sbuf_init(&vars, 4096);
        vpos v = {ev->start_mark, ev->data.scalar.style, text, len};
        gb_status est = expand(c, &v, text, len, 0, &val, &vars);
        c->expanded += val.len;
        if (est == GB_ERR_LIMIT || c->expanded > MAX_EXPANDED_BYTES) {
            perr(c, CFG_ERROR, m, "expanded values exceed %u bytes", MAX_EXPANDED_BYTES);
            c->stop = true;
            est = GB_ERR_LIMIT;
        }
        if (est == GB_ERR_NOMEM) st = GB_ERR_NOMEM;
        if (!est || est == GB_ERR_INVALID) {
            n->scalar = cfg_doc_strdup(c->doc, val.data ? val.data : "");
            if (vars.len) n->env_var = cfg_doc_strdup(c->doc, vars.data);
            if (!n->scalar || (vars.len && !n->env_var)) st = GB_ERR_NOMEM;
        }
        gb_sbuf_free(&val);
        gb_sbuf_free(&vars);
        if (st) return st;
        if (plain && !n->scalar[0]) {
            n->quoted = true; /* an expansion to nothing is an empty string, not null */
        } else if (plain && cfg_is_null_word(n->scalar)) {
            n->kind = CFG_NODE_NULL;
            n->scalar = (char *)"";
        }
    } else {
        gb_str s;
        if (gb_arena_dup(&c->doc->arena, text, len, &s)) return GB_ERR_NOMEM;
        n->scalar = (char *)s.ptr;
    }
    *out = n;
    return GB_OK;
}

typedef struct pvec {
    cfg_pair *v;
    uint32_t n, cap;
    bool *merge; /* pair i is a `<<` merge key */
} pvec;

static gb_status pvec_push(pvec *p, cfg_pair pair, bool merge)
{
    if (p->n == p->cap) {
        uint32_t ncap = p->cap ? p->cap * 2 : 8;
        cfg_pair *nv = realloc(p->v, ncap * sizeof *nv);
        if (!nv) return GB_ERR_NOMEM;
        p->v = nv;
        bool *nm = realloc(p->merge, ncap * sizeof *nm);
        if (!nm) return GB_ERR_NOMEM;
        p->merge = nm;
        p->cap = ncap;
    }
    p->v[p->n] = pair;
    p->merge[p->n] = merge;
    p->n++;
    return GB_OK;
}

static void dup_error(pctx *c, const cfg_pair *first, const cfg_pair *again)
{
    perr(c, CFG_ERROR, again->key_mark,
         "duplicate key \"%s\" (first defined at line %u, column %u)", again->key,
         first->key_mark.line, first->key_mark.col);
}

/* Duplicate check and merge-key resolution; result goes into the arena. */
static gb_status finish_map(pctx *c, pvec *pv, cfg_node *n)
{
    gb_status st = GB_OK;
    cfg_strtab seen = {0};
    pvec outv = {0};
    bool any_merge = false;
    for (uint32_t i = 0; i < pv->n; i++)
        any_merge |= pv->merge[i];
    /* explicit keys: duplicates are errors (the later pair is dropped) */
    bool *drop = calloc(pv->n ? pv->n : 1, sizeof *drop);
    if (!drop) return GB_ERR_NOMEM;
    for (uint32_t i = 0; i < pv->n; i++) {
        if (pv->merge[i]) continue;
        bool found;
        uint32_t old = 0;
        if (pv->n <= 8 && !any_merge) {
            found = false;
            for (uint32_t j = 0; j < i; j++)
                if (!drop[j] && !strcmp(pv->v[j].key, pv->v[i].key)) {
                    found = true;
                    old = j;
                    break;
                }
        } else {
            st = cfg_strtab_put(&seen, pv->v[i].key, i, false, &found, &old);
            if (st) goto out;
        }
        if (found) {
            /* Two maps under the same key (the guide repeats `telemetry:`): what was meant is
             * unambiguous, so merge them with a warning; anything else stays an error. */
            cfg_node *first = pv->v[old].value, *again = pv->v[i].value;
            if (first && again && first->kind == CFG_NODE_MAP && again->kind == CFG_NODE_MAP) {
                perr(c, CFG_WARNING, pv->v[i].key_mark,
                     "duplicate key \"%s\" (first defined at line %u, column %u): both maps are "
                     "merged; otelcol rejects this, write the key once",
                     pv->v[i].key, pv->v[old].key_mark.line, pv->v[old].key_mark.col);
                st = cfg_node_merge_map(c->doc, first, again);
                if (st) goto out;
            } else {
                dup_error(c, &pv->v[old], &pv->v[i]);
            }
            drop[i] = true;
        }
    }
    for (uint32_t i = 0; i < pv->n; i++) {
        if (drop[i]) continue;
        if (!pv->merge[i]) {
            st = pvec_push(&outv, pv->v[i], false);
            if (st) goto out;
            continue;
        }
        const cfg_node *src = pv->v[i].value;
        uint32_t nsrc = src->kind == CFG_NODE_SEQ ? src->n_items : 1;
        for (uint32_t s = 0; s < nsrc; s++) {
            const cfg_node *m = src->kind == CFG_NODE_SEQ ? src->items[s] : src;
            if (m->kind != CFG_NODE_MAP) {
                perr(c, CFG_ERROR, m->mark,
                     "merge key \"<<\" needs a map or a list of maps, got %s",
                     m->kind == CFG_NODE_SCALAR ? "a scalar" : cfg_node_kind_name(m->kind));
                continue;
            }
            for (uint32_t k = 0; k < m->n_pairs; k++) {
                bool found;
                st = cfg_strtab_put(&seen, m->pairs[k].key, UINT32_MAX, false, &found, NULL);
                if (st) goto out;
                if (found) continue; /* explicit keys and earlier merges win */
                st = pvec_push(&outv, m->pairs[k], false);
                if (st) goto out;
            }
        }
    }
    n->n_pairs = outv.n;
    if (outv.n) {
        n->pairs = gb_arena_alloc(&c->doc->arena, outv.n * sizeof *n->pairs);
        if (!n->pairs) {
            st = GB_ERR_NOMEM;
            goto out;
        }
        memcpy(n->pairs, outv.v, outv.n * sizeof *n->pairs);
    }
out:
    free(drop);
    free(outv.v);
    free(outv.merge);
    cfg_strtab_free(&seen);
    return st;
}

static gb_status too_deep(pctx *c, const yaml_mark_t *m)
{
    perr(c, CFG_ERROR, ymark(c, m), "nesting deeper than %u levels", CFG_MAX_DEPTH);
    c->stop = true;
    return GB_ERR_LIMIT;
}

static gb_status parse_map(pctx *c, yaml_event_t *start, cfg_node **out, uint32_t *height)
{
    gb_status st = GB_OK;
    pvec pv = {0};
    cfg_node *n = cfg_new_node(c->doc, CFG_NODE_MAP, ymark(c, &start->start_mark));
    uint32_t h = 0;
    if (!n) return GB_ERR_NOMEM;
    if (c->depth >= CFG_MAX_DEPTH) return too_deep(c, &start->start_mark);
    for (;;) {
        yaml_event_t ev;
        st = next_event(c, &ev);
        if (st) goto out;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        cfg_pair pair = {0};
        bool merge = false;
        pair.key_mark = ymark(c, &ev.start_mark);
        if (ev.type == YAML_SCALAR_EVENT) {
            gb_str k;
            const char *kt = (const char *)ev.data.scalar.value;
            size_t kl = ev.data.scalar.length;
            if (memchr(kt, 0, kl)) {
                perr(c, CFG_ERROR, pair.key_mark, "NUL character in a key is not supported");
                kl = strlen(kt);
            }
            merge = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev.data.scalar.tag &&
                    kl == 2 && !memcmp(kt, "<<", 2);
            st = gb_arena_dup(&c->doc->arena, kt, kl, &k);
            if (ev.data.scalar.anchor && !st) {
                cfg_node *kn = cfg_new_node(c->doc, CFG_NODE_SCALAR, pair.key_mark);
                if (!kn) st = GB_ERR_NOMEM;
                if (kn) {
                    kn->scalar = (char *)k.ptr;
                    kn->quoted = ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
                    if (!kn->quoted && cfg_is_null_word(kn->scalar)) {
                        kn->kind = CFG_NODE_NULL; /* as a value, an empty plain key is null */
                        kn->scalar = (char *)"";
                    }
                    st = add_anchor(c, (const char *)ev.data.scalar.anchor, kn, 0);
                }
            }
            yaml_event_delete(&ev);
            if (st) goto out;
            pair.key = (char *)k.ptr;
        } else {
            cfg_node *kn = NULL;
            uint32_t kh;
            c->path[c->depth++] = (pseg){"?", 0};
            st = parse_node(c, &ev, &kn, &kh);
            c->depth--;
            if (st) goto out;
            if (kn->kind == CFG_NODE_SCALAR || kn->kind == CFG_NODE_NULL) {
                pair.key = kn->scalar; /* an alias to a scalar */
            } else {
                perr(c, CFG_ERROR, pair.key_mark, "a %s cannot be a key",
                     cfg_node_kind_name(kn->kind));
                pair.key = NULL;
            }
        }
        yaml_event_t vev;
        st = next_event(c, &vev);
        if (st) goto out;
        c->path[c->depth++] = (pseg){pair.key ? pair.key : "?", 0};
        uint32_t vh = 0;
        st = parse_node(c, &vev, &pair.value, &vh);
        c->depth--;
        if (st) goto out;
        if (vh + 1 > h) h = vh + 1;
        if (pair.key) {
            st = pvec_push(&pv, pair, merge);
            if (st) goto out;
        }
    }
    st = finish_map(c, &pv, n);
out:
    free(pv.v);
    free(pv.merge);
    *out = n;
    *height = h;
    return st;
}

static gb_status parse_seq(pctx *c, yaml_event_t *start, cfg_node **out, uint32_t *height)
{
    gb_status st = GB_OK;
    cfg_node **items = NULL;
    uint32_t n_items = 0, cap = 0, h = 0;
    cfg_node *n = cfg_new_node(c->doc, CFG_NODE_SEQ, ymark(c, &start->start_mark));
    if (!n) return GB_ERR_NOMEM;
    if (c->depth >= CFG_MAX_DEPTH) return too_deep(c, &start->start_mark);
    for (;;) {
        yaml_event_t ev;
        st = next_event(c, &ev);
        if (st) goto out;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (n_items == cap) {
            uint32_t ncap = cap ? cap * 2 : 8;
            cfg_node **ni = realloc(items, ncap * sizeof *ni);
            if (!ni) {
                yaml_event_delete(&ev);
                st = GB_ERR_NOMEM;
                goto out;
            }
            items = ni;
            cap = ncap;
        }
        c->path[c->depth++] = (pseg){NULL, n_items};
        uint32_t ih = 0;
        st = parse_node(c, &ev, &items[n_items], &ih);
        c->depth--;
        if (st) goto out;
        if (ih + 1 > h) h = ih + 1;
        n_items++;
    }
    if (n_items) {
        n->items = gb_arena_alloc(&c->doc->arena, n_items * sizeof *n->items);
        if (!n->items) {
            st = GB_ERR_NOMEM;
            goto out;
        }
        memcpy(n->items, items, n_items * sizeof *items);
        n->n_items = n_items;
    }
out:
    free(items);
    *out = n;
    *height = h;
    return st;
}

/* Consumes ev (and the events of its children). On error *out may be a partial node. */
static gb_status parse_node(pctx *c, yaml_event_t *ev, cfg_node **out, uint32_t *height)
{
    gb_status st = GB_OK;
    const char *anchor_name = NULL;
    *out = NULL;
    *height = 0;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        anchor_name = (const char *)ev->data.scalar.anchor;
        st = make_scalar(c, ev, out);
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor_name = (const char *)ev->data.sequence_start.anchor;
        st = parse_seq(c, ev, out, height);
        break;
    case YAML_MAPPING_START_EVENT:
        anchor_name = (const char *)ev->data.mapping_start.anchor;
        st = parse_map(c, ev, out, height);
        break;
    case YAML_ALIAS_EVENT: {
        const char *name = (const char *)ev->data.alias.anchor;
        uint32_t ai;
        if (!cfg_strtab_get(&c->anchor_idx, name, &ai)) {
            perr(c, CFG_ERROR, ymark(c, &ev->start_mark), "unknown anchor \"%s\"", name);
            *out = cfg_new_node(c->doc, CFG_NODE_NULL, ymark(c, &ev->start_mark));
            if (!*out) st = GB_ERR_NOMEM;
            break;
        }
        const anchor *a = &c->anchors[ai];
        if (c->depth + a->height > CFG_MAX_DEPTH) {
            st = too_deep(c, &ev->start_mark);
            break;
        }
        st = alias_copy(c, a->node, out);
        if (st == GB_ERR_LIMIT) {
            perr(c, CFG_ERROR, ymark(c, &ev->start_mark),
                 "aliases expand to more than %u nodes (refusing a \"billion laughs\" document)",
                 CFG_MAX_ALIAS_NODES);
            c->stop = true;
        }
        if (!st) {
            (*out)->mark = ymark(c, &ev->start_mark);
            *height = a->height;
        }
        break;
    }
    default:
        perr(c, CFG_ERROR, ymark(c, &ev->start_mark), "unexpected YAML event");
        st = GB_ERR_INVALID;
        c->stop = true;
        break;
    }
    if (!st && anchor_name) st = add_anchor(c, anchor_name, *out, *height);
    yaml_event_delete(ev);
    if (st == GB_ERR_NOMEM) oom(c);
    return st;
}

static gb_status parse_stream(pctx *c, cfg_node **root)
{
    yaml_event_t ev;
    gb_status st;
    *root = NULL;
    if ((st = next_event(c, &ev))) return st; /* STREAM_START */
    yaml_event_delete(&ev);
    if ((st = next_event(c, &ev))) return st;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return GB_OK;
    }
    yaml_event_delete(&ev); /* DOCUMENT_START */
    if ((st = next_event(c, &ev))) return st;
    uint32_t h;
    st = parse_node(c, &ev, root, &h);
    if (st) return st;
    if ((st = next_event(c, &ev))) return st; /* DOCUMENT_END */
    yaml_event_delete(&ev);
    if ((st = next_event(c, &ev))) return st;
    if (ev.type == YAML_DOCUMENT_START_EVENT) {
        cfg_diag_add(c->d, CFG_ERROR, ymark(c, &ev.start_mark), "",
                     "more than one YAML document (\"---\") in one file is not supported");
        st = GB_ERR_INVALID;
    }
    yaml_event_delete(&ev);
    return st;
}

static gb_status parse_text(cfg_doc *doc, const char *name, uint32_t line0, uint32_t col0,
                            const char *text, size_t len, const char *path, cfg_node **out,
                            cfg_diags *d)
{
    pctx c;
    memset(&c, 0, sizeof c);
    c.doc = doc;
    c.d = d;
    c.file = cfg_doc_file(doc, name ? name : "<config>");
    c.text = text;
    c.len = len;
    c.line0 = line0 ? line0 : 1;
    c.col0 = col0 ? col0 : 1;
    c.path_prefix = path;
    uint32_t errors = d->errors;
    *out = NULL;
    if (!c.file || !yaml_parser_initialize(&c.parser)) {
        cfg_diag_add(d, CFG_ERROR, (cfg_mark){name, 0, 0}, "", "out of memory");
        return GB_ERR_NOMEM;
    }
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
    gb_status st = parse_stream(&c, out);
    yaml_parser_delete(&c.parser);
    free(c.anchors);
    free(c.lines);
    cfg_strtab_free(&c.anchor_idx);
    if (st == GB_ERR_NOMEM) return st;
    if (d->errors > errors) return GB_ERR_INVALID;
    return st ? GB_ERR_INVALID : GB_OK;
}

gb_status cfg_doc_parse(cfg_doc *doc, const char *name, const char *text, size_t len, cfg_diags *d)
{
    cfg_node *root = NULL;
    gb_status st = parse_text(doc, name, 1, 1, text, len, "", &root, d);
    if (root && root->kind != CFG_NODE_MAP && root->kind != CFG_NODE_NULL && !st) {
        cfg_diag_add(d, CFG_ERROR, root->mark, "",
                     "the top level of a configuration must be a map, got %s",
                     root->kind == CFG_NODE_SEQ ? "a sequence" : "a scalar");
        st = GB_ERR_INVALID;
    }
    if (!root || root->kind != CFG_NODE_MAP) {
        cfg_mark m = {cfg_doc_file(doc, name ? name : "<config>"), 1, 1};
        if (root) m = root->mark;
        root = cfg_new_node(doc, CFG_NODE_MAP, m);
        if (!root) return GB_ERR_NOMEM;
    }
    doc->root = root;
    return st;
}

gb_status cfg_doc_parse_value(cfg_doc *doc, const char *name, uint32_t line, uint32_t col,
                              const char *text, size_t len, const char *path, cfg_node **out,
                              cfg_diags *d)
{
    cfg_node *n = NULL;
    gb_status st = parse_text(doc, name, line, col, text, len, path, &n, d);
    if (!n) {
        n = cfg_new_node(doc, CFG_NODE_NULL, (cfg_mark){cfg_doc_file(doc, name), line, col});
        if (!n) return GB_ERR_NOMEM;
    }
    *out = n;
    return st;
}

gb_status cfg_doc_load_file(cfg_doc *doc, const char *path, cfg_diags *d)
{
    gb_status st = GB_OK;
    char *buf = NULL;
    size_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        cfg_diag_add(d, CFG_ERROR, (cfg_mark){path, 0, 0}, "", "cannot read config file: %s",
                     strerror(errno));
        st = GB_ERR_IO;
        goto out;
    }
    if (S_ISDIR(sb.st_mode)) {
        cfg_diag_add(d, CFG_ERROR, (cfg_mark){path, 0, 0}, "",
                     "cannot read config file: is a directory");
        st = GB_ERR_IO;
        goto out;
    }
    buf = malloc(CFG_MAX_FILE_BYTES + 1);
    if (!buf) {
        st = GB_ERR_NOMEM;
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, CFG_MAX_FILE_BYTES + 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            cfg_diag_add(d, CFG_ERROR, (cfg_mark){path, 0, 0}, "", "cannot read config file: %s",
                         strerror(errno));
            st = GB_ERR_IO;
            goto out;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > CFG_MAX_FILE_BYTES) {
            cfg_diag_add(d, CFG_ERROR, (cfg_mark){path, 0, 0}, "",
                         "config file is larger than %u bytes", CFG_MAX_FILE_BYTES);
            st = GB_ERR_IO;
            goto out;
        }
    }
    st = cfg_doc_parse(doc, path, buf, n, d);
out:
    if (fd >= 0) close(fd);
    free(buf);
    return st;
}
