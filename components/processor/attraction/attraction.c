/* Attribute action engine (contrib internal/coreinternal/attraction semantics).
 *
 * What: validates and compiles the action list once, then applies it to attribute maps:
 *   insert  - set key when absent          update  - set key when present
 *   upsert  - set key                      delete  - remove key and/or keys matching pattern
 *   hash    - replace value by the SHA-256 hex of its bytes (key and/or keys matching pattern)
 *   extract - named groups of pattern matched on the string value become attributes
 *   convert - change the value's type to int, double or string
 * The value of insert/update/upsert comes from `value` (any YAML scalar, typed), another
 * attribute (`from_attribute`) or the request's client metadata (`from_context`).
 *
 * How: values are views; constants are copied once per batch into its arena (attraction_ctx),
 * derived strings (hash hex, converted numbers, joined metadata) are formatted into the arena,
 * extracted substrings point into the source value. Regexes are Go/RE2 syntax translated to POSIX
 * ERE (glibc regexec with REG_STARTEND, so views need no NUL terminator). SHA-256 is written
 * here from FIPS 180-4 because the one-shot OpenSSL digest allocates a context per call.
 *
 * Hash input follows contrib: strings as their bytes, ints and doubles as 8 little-endian bytes,
 * bools as one byte 0/1; lists, maps and empty values hash to "". */
#include "attraction.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/sbuf.h"
#include "processor/procutil/procutil.h"

/* ---- config table ------------------------------------------------------------------------- */

static const cfg_field attraction_fields[] = {
    {.key = "key",
     .type = CFG_T_STRING,
     .offset = offsetof(attraction_cfg, key),
     .doc = "attribute the action applies to"},
    {.key = "value",
     .type = CFG_T_ANY,
     .offset = offsetof(attraction_cfg, value),
     .doc = "value to set (int, double, bool or string)"},
    {.key = "pattern",
     .type = CFG_T_STRING,
     .offset = offsetof(attraction_cfg, pattern),
     .doc = "extract: regex with named groups; delete/hash: regex over attribute keys"},
    {.key = "from_attribute",
     .type = CFG_T_STRING,
     .offset = offsetof(attraction_cfg, from_attribute),
     .doc = "attribute whose value is used"},
    {.key = "from_context",
     .type = CFG_T_STRING,
     .offset = offsetof(attraction_cfg, from_context),
     .doc = "client metadata key (request header) whose value is used"},
    {.key = "converted_type",
     .type = CFG_T_STRING,
     .offset = offsetof(attraction_cfg, converted_type),
     .doc = "convert: int, double or string"},
    {.key = "action",
     .type = CFG_T_STRING,
     .offset = offsetof(attraction_cfg, action),
     .doc = "insert, update, upsert, delete, hash, extract or convert",
     .flags = CFG_F_REQUIRED},
};

CFG_TABLE(attraction_cfg_table, attraction_fields, NULL);

/* ---- SHA-256 (FIPS 180-4) ------------------------------------------------------------------- */

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = hh + S1 + ch + sha_k[i] + w[i];
        uint32_t S0 = ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22);
        uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + mj;
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += hh;
}

void attraction_sha256(const void *data, size_t len, uint8_t out[32])
{
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const uint8_t *p = data;
    size_t n = len;
    while (n >= 64) {
        sha_block(h, p);
        p += 64;
        n -= 64;
    }
    uint8_t tail[128];
    memset(tail, 0, sizeof tail);
    if (n) memcpy(tail, p, n);
    tail[n] = 0x80;
    size_t tl = n + 1 + 8 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
    sha_block(h, tail);
    if (tl == 128) sha_block(h, tail + 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

/* ---- regex translation --------------------------------------------------------------------- */

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static const char *class_for(char c, bool in_bracket)
{
    switch (c) {
    case 'd':
        return in_bracket ? "0-9" : "[0-9]";
    case 'w':
        return in_bracket ? "[:alnum:]_" : "[[:alnum:]_]";
    case 's':
        return in_bracket ? "[:space:]" : "[[:space:]]";
    case 'D':
        return in_bracket ? NULL : "[^0-9]";
    case 'W':
        return in_bracket ? NULL : "[^[:alnum:]_]";
    case 'S':
        return in_bracket ? NULL : "[^[:space:]]";
    }
    return NULL;
}

/* Repetition cost tracking. glibc compiles X+ and X{m,n} by copying X, so nested repetitions
 * grow the compiled program exponentially ("((a+)+)+..." or "a{1000}{1000}" would stall start-up).
 * RE2 refuses nested repetition operators and repetition counts over 1000; we do the same and
 * also refuse patterns whose nested repetitions copy an atom more than 1000 times in total. */
#define REP_MAX   1000u
#define REP_DEPTH 64u

typedef struct rep_state {
    uint32_t depth;
    uint32_t inner[REP_DEPTH + 1]; /* largest copy count inside each open group */
    uint32_t last;                 /* copy count of the last complete atom */
    bool have_atom;
    bool prev_quant;
} rep_state;

static void rep_atom(rep_state *rs, uint32_t cost)
{
    rs->last = cost;
    rs->have_atom = true;
    rs->prev_quant = false;
    if (cost > rs->inner[rs->depth]) rs->inner[rs->depth] = cost;
}

static gb_status rep_quant(rep_state *rs, uint32_t factor, char *err, size_t errlen)
{
    if (!rs->have_atom) {
        snprintf(err, errlen, "invalid pattern: missing argument to repetition operator");
        return GB_ERR_INVALID;
    }
    if (rs->prev_quant) {
        snprintf(err, errlen, "invalid pattern: invalid nested repetition operator");
        return GB_ERR_INVALID;
    }
    uint64_t cost = (uint64_t)rs->last * (factor ? factor : 1);
    if (cost > REP_MAX) {
        snprintf(err, errlen, "invalid pattern: nested repetitions exceed %u copies", REP_MAX);
        return GB_ERR_INVALID;
    }
    if (cost > rs->inner[rs->depth]) rs->inner[rs->depth] = (uint32_t)cost;
    rs->prev_quant = true;
    return GB_OK;
}

/* Parses an interval {m}, {m,} or {m,n} at p; returns its length (0 if p is not one) and the
 * copy factor. */
static size_t parse_interval(const char *p, uint32_t *factor, bool *bad)
{
    const char *q = p + 1;
    uint64_t m = 0, n = 0;
    bool has_n = false, comma = false;
    *bad = false;
    if (!(*q >= '0' && *q <= '9')) return 0;
    while (*q >= '0' && *q <= '9' && m <= REP_MAX)
        m = m * 10 + (uint64_t)(*q++ - '0');
    if (*q == ',') {
        comma = true;
        q++;
        while (*q >= '0' && *q <= '9' && n <= REP_MAX) {
            n = n * 10 + (uint64_t)(*q++ - '0');
            has_n = true;
        }
    }
    if (*q != '}') {
        if (*q >= '0' && *q <= '9') *bad = true; /* count too large */
        return *bad ? (size_t)(q - p) : 0;
    }
    if (m > REP_MAX || n > REP_MAX || (has_n && n < m)) *bad = true;
    uint64_t f = comma ? (has_n ? n : m + 1) : m;
    *factor = (uint32_t)(f ? (f > REP_MAX ? REP_MAX + 1 : f) : 1);
    return (size_t)(q + 1 - p);
}

static gb_status translate(const char *in, gb_sbuf *out, attraction_regex *r, int *flags, char *err,
                           size_t errlen)
{
    uint32_t group = 0;
    const char *p = in;
    rep_state rs;
    memset(&rs, 0, sizeof rs);
    if (strlen(in) > 8192) {
        snprintf(err, errlen, "invalid pattern: longer than 8192 bytes");
        return GB_ERR_INVALID;
    }
    if (strncmp(p, "(?i)", 4) == 0) {
        *flags |= REG_ICASE;
        p += 4;
    }
    while (*p) {
        char c = *p;
        if (c == '\\') {
            char e = p[1];
            if (!e) {
                snprintf(err, errlen, "invalid pattern: trailing backslash");
                return GB_ERR_INVALID;
            }
            const char *cls = class_for(e, false);
            if (cls) {
                gb_sbuf_puts(out, cls);
            } else if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
                if (e == 'n' || e == 't' || e == 'r') {
                    gb_sbuf_putc(out, e == 'n' ? '\n' : e == 't' ? '\t' : '\r');
                } else {
                    snprintf(err, errlen, "invalid pattern: escape \\%c is not supported", e);
                    return GB_ERR_INVALID;
                }
            } else {
                gb_sbuf_putc(out, '\\');
                gb_sbuf_putc(out, e);
            }
            rep_atom(&rs, 1);
            p += 2;
            continue;
        }
        if (c == '[') {
            gb_sbuf_putc(out, '[');
            p++;
            if (*p == '^') gb_sbuf_putc(out, *p++);
            if (*p == ']') gb_sbuf_putc(out, *p++);
            while (*p && *p != ']') {
                if (p[0] == '[' && p[1] == ':') {
                    const char *end = strstr(p + 2, ":]");
                    if (!end) {
                        snprintf(err, errlen, "invalid pattern: unterminated [: class");
                        return GB_ERR_INVALID;
                    }
                    gb_sbuf_append(out, p, (size_t)(end + 2 - p));
                    p = end + 2;
                    continue;
                }
                if (*p == '\\') {
                    char e = p[1];
                    const char *cls = class_for(e, true);
                    if (cls) {
                        gb_sbuf_puts(out, cls);
                    } else if (e == '\\' || e == '.' || e == '-' || e == '+' || e == '*' ||
                               e == '?' || e == '(' || e == ')' || e == '{' || e == '}' ||
                               e == '|' || e == '$' || e == '/' || e == '#' || e == '&' ||
                               e == '~' || e == ' ' || e == ',' || e == ':' || e == '@') {
                        if (e == '-') {
                            snprintf(err, errlen,
                                     "invalid pattern: write a literal '-' last in a bracket "
                                     "expression instead of \\-");
                            return GB_ERR_INVALID;
                        }
                        gb_sbuf_putc(out, e);
                    } else {
                        snprintf(err, errlen,
                                 "invalid pattern: escape \\%c inside [...] is not supported", e);
                        return GB_ERR_INVALID;
                    }
                    p += 2;
                    continue;
                }
                gb_sbuf_putc(out, *p++);
            }
            if (*p != ']') {
                snprintf(err, errlen, "invalid pattern: missing ]");
                return GB_ERR_INVALID;
            }
            gb_sbuf_putc(out, *p++);
            rep_atom(&rs, 1);
            continue;
        }
        if (c == '(') {
            if (rs.depth >= REP_DEPTH) {
                snprintf(err, errlen, "invalid pattern: groups nested deeper than %u", REP_DEPTH);
                return GB_ERR_INVALID;
            }
            rs.depth++;
            rs.inner[rs.depth] = 1;
            rs.have_atom = false;
            rs.prev_quant = false;
            if (p[1] == '?') {
                const char *name = NULL;
                if (p[2] == 'P' && p[3] == '<')
                    name = p + 4;
                else if (p[2] == '<')
                    name = p + 3;
                else if (p[2] == ':') {
                    group++;
                    gb_sbuf_putc(out, '(');
                    p += 3;
                    continue;
                } else {
                    snprintf(err, errlen, "invalid pattern: group flags (?%c are not supported",
                             p[2] ? p[2] : ' ');
                    return GB_ERR_INVALID;
                }
                const char *e = name;
                while (is_name_char(*e))
                    e++;
                if (*e != '>' || e == name) {
                    snprintf(err, errlen, "invalid pattern: bad group name");
                    return GB_ERR_INVALID;
                }
                group++;
                if (r->n_names >= ATTRACTION_MAX_GROUPS) {
                    snprintf(err, errlen, "invalid pattern: more than %d named groups",
                             ATTRACTION_MAX_GROUPS);
                    return GB_ERR_INVALID;
                }
                r->names[r->n_names] = strndup(name, (size_t)(e - name));
                if (!r->names[r->n_names]) return GB_ERR_NOMEM;
                r->group[r->n_names++] = group;
                gb_sbuf_putc(out, '(');
                p = e + 1;
                continue;
            }
            group++;
            gb_sbuf_putc(out, '(');
            p++;
            continue;
        }
        if (c == ')') {
            if (rs.depth == 0) {
                snprintf(err, errlen, "invalid pattern: unexpected )");
                return GB_ERR_INVALID;
            }
            uint32_t cost = rs.inner[rs.depth--];
            gb_sbuf_putc(out, ')');
            rep_atom(&rs, cost);
            p++;
            continue;
        }
        if (c == '*' || c == '+' || c == '?' || c == '{') {
            uint32_t factor = c == '+' ? 2 : 1;
            size_t len = 1;
            if (c == '{') {
                bool bad;
                len = parse_interval(p, &factor, &bad);
                if (bad) {
                    snprintf(err, errlen, "invalid pattern: invalid repeat count (at most %u)",
                             REP_MAX);
                    return GB_ERR_INVALID;
                }
                if (len == 0) { /* not an interval: a literal brace, as in RE2 */
                    gb_sbuf_puts(out, "\\{");
                    rep_atom(&rs, 1);
                    p++;
                    continue;
                }
            }
            if (p[len] == '?') {
                snprintf(err, errlen, "invalid pattern: lazy quantifiers (%.*s?) are not supported",
                         (int)len, p);
                return GB_ERR_INVALID;
            }
            gb_status st = rep_quant(&rs, factor, err, errlen);
            if (st) return st;
            gb_sbuf_append(out, p, len);
            p += len;
            continue;
        }
        if (c == '|' || c == '^' || c == '$') {
            rs.have_atom = false;
            rs.prev_quant = false;
        } else {
            rep_atom(&rs, 1);
        }
        gb_sbuf_putc(out, c);
        p++;
    }
    if (rs.depth != 0) {
        snprintf(err, errlen, "invalid pattern: missing )");
        return GB_ERR_INVALID;
    }
    return out->err;
}

gb_status attraction_regex_compile(const char *pattern, attraction_regex *r, char *err,
                                   size_t errlen)
{
    memset(r, 0, sizeof *r);
    gb_sbuf sb;
    gb_sbuf_init(&sb, 0);
    int flags = REG_EXTENDED;
    gb_status st = translate(pattern, &sb, r, &flags, err, errlen);
    if (st) goto fail;
    int rc = regcomp(&r->re, sb.data ? sb.data : "", flags);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &r->re, msg, sizeof msg);
        snprintf(err, errlen, "invalid pattern \"%s\": %s", pattern, msg);
        st = GB_ERR_INVALID;
        goto fail;
    }
    r->compiled = true;
    gb_sbuf_free(&sb);
    return GB_OK;
fail:
    gb_sbuf_free(&sb);
    attraction_regex_free(r);
    return st;
}

void attraction_regex_free(attraction_regex *r)
{
    if (r->compiled) regfree(&r->re);
    for (uint32_t i = 0; i < r->n_names; i++)
        free(r->names[i]);
    memset(r, 0, sizeof *r);
}

bool attraction_regex_match(const attraction_regex *r, gb_str s, regmatch_t *m, size_t nm)
{
    regmatch_t local[1];
    if (nm == 0) {
        m = local;
        nm = 1;
    }
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)s.len;
    return regexec(&r->re, s.ptr ? s.ptr : "", nm, m, REG_STARTEND) == 0;
}

/* ---- YAML scalar -> value ------------------------------------------------------------------- */

static bool all_match(const char *s, const char *set)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!strchr(set, *s)) return false;
    return true;
}

gb_status attraction_node_value(const cfg_node *n, pd_any *out, char *err, size_t errlen)
{
    if (!n || n->kind == CFG_NODE_NULL) {
        out->type = PD_ANY_EMPTY;
        return GB_OK;
    }
    if (n->kind != CFG_NODE_SCALAR) {
        snprintf(err, errlen, "\"value\" must be a scalar (lists and maps are not supported)");
        return GB_ERR_INVALID;
    }
    const char *s = n->scalar ? n->scalar : "";
    *out = pd_any_str(gb_str_c(s));
    if (n->quoted) return GB_OK;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) {
        *out = pd_any_bool(true);
        return GB_OK;
    }
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) {
        *out = pd_any_bool(false);
        return GB_OK;
    }
    if (!strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL") || !*s) {
        out->type = PD_ANY_EMPTY;
        return GB_OK;
    }
    const char *d = s + (*s == '-' || *s == '+');
    char *end;
    errno = 0;
    if (all_match(d, "0123456789")) {
        long long v = strtoll(s, &end, 10);
        if (!*end && errno == 0) {
            *out = pd_any_int(v);
            return GB_OK;
        }
    } else if (d == s && s[0] == '0' && (s[1] == 'x' || s[1] == 'o') &&
               all_match(s + 2, s[1] == 'x' ? "0123456789abcdefABCDEF" : "01234567")) {
        unsigned long long v = strtoull(s + 2, &end, s[1] == 'x' ? 16 : 8);
        if (!*end && errno == 0 && v <= INT64_MAX) {
            *out = pd_any_int((int64_t)v);
            return GB_OK;
        }
    }
    if (!strcmp(d, ".inf") || !strcmp(d, ".Inf") || !strcmp(d, ".INF")) {
        *out = pd_any_double(*s == '-' ? -INFINITY : INFINITY);
        return GB_OK;
    }
    if (!strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
        *out = pd_any_double(NAN);
        return GB_OK;
    }
    /* YAML 1.2 float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
    const char *q = d;
    bool digits = false;
    while (*q >= '0' && *q <= '9')
        q++, digits = true;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9')
            q++, digits = true;
    }
    if (digits && (*q == 'e' || *q == 'E')) {
        q++;
        if (*q == '-' || *q == '+') q++;
        if (!(*q >= '0' && *q <= '9')) digits = false;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (digits && !*q) {
        *out = pd_any_double(strtod(s, NULL));
        return GB_OK;
    }
    return GB_OK; /* a plain string */
}

/* ---- compile --------------------------------------------------------------------------------- */

static const char *const kind_names[] = {"insert", "update",  "upsert", "delete",
                                         "hash",   "extract", "convert"};

static bool set(const char *s)
{
    return s != NULL;
}

gb_status attraction_compile(const attraction_cfg *cfg, uint32_t n, const char *what,
                             attraction **out, char *err, size_t errlen)
{
    gb_status st = GB_OK;
    char sub[200];
    attraction *a = calloc(1, sizeof *a);
    if (!a) return GB_ERR_NOMEM;
    if (n) {
        a->v = calloc(n, sizeof *a->v);
        if (!a->v) {
            st = GB_ERR_NOMEM;
            goto fail;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        const attraction_cfg *c = &cfg[i];
        attraction_action *ac = &a->v[i];
        a->n = i + 1;
#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(sub, sizeof sub, __VA_ARGS__);                                                    \
        snprintf(err, errlen, "%s[%u]: %s", what, i, sub);                                         \
        st = GB_ERR_INVALID;                                                                       \
        goto fail;                                                                                 \
    } while (0)
        if (!c->action) FAIL("missing required field \"action\"");
        int kind = -1;
        for (int k = 0; k < 7; k++)
            if (strcasecmp(c->action, kind_names[k]) == 0) kind = k;
        if (kind < 0)
            FAIL("unsupported action \"%s\" (one of insert, update, upsert, delete, hash, "
                 "extract, convert)",
                 c->action);
        ac->kind = (attraction_kind)kind;
        pd_any v = {0};
        if (c->value) {
            st = attraction_node_value(c->value, &v, sub, sizeof sub);
            if (st) {
                snprintf(err, errlen, "%s[%u]: %s", what, i, sub);
                goto fail;
            }
        }
        bool has_value = v.type != PD_ANY_EMPTY;
        int sources = has_value + set(c->from_attribute) + set(c->from_context);
        bool has_key = c->key && *c->key;
        switch (ac->kind) {
        case ATTRACTION_INSERT:
        case ATTRACTION_UPDATE:
        case ATTRACTION_UPSERT:
            if (!has_key) FAIL("missing required field \"key\"");
            if (sources == 0)
                FAIL("action \"%s\" needs one of \"value\", \"from_attribute\" or "
                     "\"from_context\"",
                     kind_names[kind]);
            if (sources > 1)
                FAIL("only one of \"value\", \"from_attribute\" or \"from_context\" may be set");
            if (c->pattern) FAIL("action \"%s\" does not use \"pattern\"", kind_names[kind]);
            if (c->converted_type)
                FAIL("action \"%s\" does not use \"converted_type\"", kind_names[kind]);
            break;
        case ATTRACTION_DELETE:
        case ATTRACTION_HASH:
            if (!has_key && !c->pattern)
                FAIL("action \"%s\" needs \"key\" or \"pattern\"", kind_names[kind]);
            if (sources)
                FAIL("action \"%s\" does not use \"value\", \"from_attribute\" or "
                     "\"from_context\"",
                     kind_names[kind]);
            if (c->converted_type)
                FAIL("action \"%s\" does not use \"converted_type\"", kind_names[kind]);
            break;
        case ATTRACTION_EXTRACT:
            if (!has_key) FAIL("missing required field \"key\"");
            if (!c->pattern) FAIL("action \"extract\" needs \"pattern\"");
            if (sources)
                FAIL("action \"extract\" does not use \"value\", \"from_attribute\" or "
                     "\"from_context\"");
            if (c->converted_type) FAIL("action \"extract\" does not use \"converted_type\"");
            break;
        case ATTRACTION_CONVERT:
            if (!has_key) FAIL("missing required field \"key\"");
            if (!c->converted_type) FAIL("action \"convert\" needs \"converted_type\"");
            if (!strcasecmp(c->converted_type, "int"))
                ac->convert_to = PD_ANY_INT;
            else if (!strcasecmp(c->converted_type, "double"))
                ac->convert_to = PD_ANY_DOUBLE;
            else if (!strcasecmp(c->converted_type, "string"))
                ac->convert_to = PD_ANY_STR;
            else
                FAIL("unsupported converted_type \"%s\" (one of int, double, string)",
                     c->converted_type);
            if (sources || c->pattern)
                FAIL("action \"convert\" only uses \"key\" and \"converted_type\"");
            break;
        }
        if (has_key) {
            ac->key = strdup(c->key);
            if (!ac->key) {
                st = GB_ERR_NOMEM;
                goto fail;
            }
        }
        ac->has_value = has_value;
        ac->value = v;
        if (c->from_attribute && !(ac->from_attribute = strdup(c->from_attribute))) {
            st = GB_ERR_NOMEM;
            goto fail;
        }
        if (c->from_context) {
            const char *k = c->from_context;
            if (strncmp(k, "metadata.", 9) == 0) k += 9;
            if (!(ac->from_context = strdup(k))) {
                st = GB_ERR_NOMEM;
                goto fail;
            }
        }
        if (c->pattern) {
            ac->re = calloc(1, sizeof *ac->re);
            if (!ac->re) {
                st = GB_ERR_NOMEM;
                goto fail;
            }
            st = attraction_regex_compile(c->pattern, ac->re, sub, sizeof sub);
            if (st) {
                free(ac->re);
                ac->re = NULL;
                snprintf(err, errlen, "%s[%u]: %s", what, i, sub);
                goto fail;
            }
            if (ac->kind == ATTRACTION_EXTRACT && ac->re->n_names == 0)
                FAIL("the \"extract\" pattern needs at least one named group (?P<name>...)");
        }
#undef FAIL
    }
    *out = a;
    return GB_OK;
fail:
    attraction_free(a);
    return st;
}

void attraction_free(attraction *a)
{
    if (!a) return;
    for (uint32_t i = 0; i < a->n; i++) {
        attraction_action *ac = &a->v[i];
        free(ac->key);
        free(ac->from_attribute);
        free(ac->from_context);
        if (ac->re) {
            attraction_regex_free(ac->re);
            free(ac->re);
        }
    }
    free(a->v);
    free(a);
}

/* ---- apply ----------------------------------------------------------------------------------- */

gb_status attraction_ctx_init(attraction_ctx *ctx, const attraction *a, pd_batch *b)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->a = a;
    ctx->arena = &b->arena;
    ctx->meta = &b->meta;
    if (a->n == 0) return GB_OK;
    ctx->keys = gb_arena_calloc(&b->arena, a->n, sizeof(gb_str));
    ctx->values = gb_arena_calloc(&b->arena, a->n, sizeof(pd_any));
    if (!ctx->keys || !ctx->values) return GB_ERR_NOMEM;
    for (uint32_t i = 0; i < a->n; i++) {
        const attraction_action *ac = &a->v[i];
        gb_status st = GB_OK;
        if (ac->key) st = gb_arena_dup(&b->arena, ac->key, strlen(ac->key), &ctx->keys[i]);
        if (st == GB_OK && ac->has_value) st = pd_any_copy(&b->arena, &ac->value, &ctx->values[i]);
        if (st == GB_OK && ac->kind == ATTRACTION_EXTRACT) {
            if (!ctx->group_keys) {
                ctx->group_keys = gb_arena_calloc(&b->arena, (size_t)a->n * ATTRACTION_MAX_GROUPS,
                                                  sizeof(gb_str));
                if (!ctx->group_keys) return GB_ERR_NOMEM;
            }
            for (uint32_t g = 0; g < ac->re->n_names && st == GB_OK; g++)
                st = gb_arena_dup(&b->arena, ac->re->names[g], strlen(ac->re->names[g]),
                                  &ctx->group_keys[i * ATTRACTION_MAX_GROUPS + g]);
        }
        if (st) return st;
    }
    return GB_OK;
}

/* Value of a from_context key: one metadata value -> string, several -> list of strings. */
static bool context_value(attraction_ctx *ctx, const char *key, pd_any *out)
{
    uint32_t n = 0;
    const pd_meta *m = ctx->meta;
    for (uint32_t i = 0; m && i < m->n; i++)
        if (procutil_ieq(m->v[i].key.ptr, m->v[i].key.len, key)) n++;
    if (n == 0) return false;
    if (n == 1) {
        for (uint32_t i = 0; i < m->n; i++)
            if (procutil_ieq(m->v[i].key.ptr, m->v[i].key.len, key))
                *out = pd_any_str(m->v[i].value);
        return true;
    }
    pd_any *arr = gb_arena_alloc(ctx->arena, sizeof(pd_any) * n);
    if (!arr) return false;
    uint32_t k = 0;
    for (uint32_t i = 0; i < m->n; i++)
        if (procutil_ieq(m->v[i].key.ptr, m->v[i].key.len, key))
            arr[k++] = pd_any_str(m->v[i].value);
    out->type = PD_ANY_ARRAY;
    out->u.arr.v = arr;
    out->u.arr.n = n;
    return true;
}

static gb_status hash_value(gb_arena *arena, pd_any *v)
{
    uint8_t buf[8];
    const void *p = NULL;
    size_t n = 0;
    uint64_t bits;
    switch (v->type) {
    case PD_ANY_STR:
    case PD_ANY_BYTES:
        p = v->u.str.ptr;
        n = v->u.str.len;
        break;
    case PD_ANY_BOOL:
        buf[0] = v->u.b ? 1 : 0;
        p = buf;
        n = 1;
        break;
    case PD_ANY_INT:
    case PD_ANY_DOUBLE:
        if (v->type == PD_ANY_INT)
            bits = (uint64_t)v->u.i;
        else
            memcpy(&bits, &v->u.d, 8);
        for (int i = 0; i < 8; i++)
            buf[i] = (uint8_t)(bits >> (8 * i));
        p = buf;
        n = 8;
        break;
    default:
        break;
    }
    if (n == 0) { /* contrib: nothing to hash gives "" */
        *v = pd_any_str(GB_STR_LIT(""));
        return GB_OK;
    }
    uint8_t md[32];
    attraction_sha256(p, n, md);
    char *hex = gb_arena_alloc(arena, 65);
    if (!hex) return GB_ERR_NOMEM;
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = 0;
    *v = pd_any_str(gb_str_n(hex, 64));
    return GB_OK;
}

static bool parse_int(gb_str s, int64_t *out)
{
    char buf[32];
    if (s.len == 0 || s.len >= sizeof buf) return false;
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = 0;
    const char *d = buf + (buf[0] == '-' || buf[0] == '+');
    if (!all_match(d, "0123456789")) return false;
    errno = 0;
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (*end || errno) return false;
    *out = v;
    return true;
}

static bool parse_double(gb_str s, double *out)
{
    char buf[400];
    if (s.len == 0 || s.len >= sizeof buf) return false;
    memcpy(buf, s.ptr, s.len);
    buf[s.len] = 0;
    if (buf[0] == ' ' || buf[0] == '\t' || buf[0] == '\n') return false;
    char *end;
    double v = strtod(buf, &end);
    if (*end) return false;
    *out = v;
    return true;
}

static gb_status convert_value(gb_arena *arena, pd_any *v, pd_any_type to)
{
    switch (to) {
    case PD_ANY_INT:
        if (v->type == PD_ANY_DOUBLE) {
            if (isfinite(v->u.d) && v->u.d >= -9.2233720368547758e18 &&
                v->u.d < 9.2233720368547758e18)
                *v = pd_any_int((int64_t)v->u.d);
        } else if (v->type == PD_ANY_BOOL) {
            *v = pd_any_int(v->u.b ? 1 : 0);
        } else if (v->type == PD_ANY_STR) {
            int64_t i;
            if (parse_int(v->u.str, &i)) *v = pd_any_int(i);
        }
        return GB_OK;
    case PD_ANY_DOUBLE:
        if (v->type == PD_ANY_INT) {
            *v = pd_any_double((double)v->u.i);
        } else if (v->type == PD_ANY_BOOL) {
            *v = pd_any_double(v->u.b ? 1.0 : 0.0);
        } else if (v->type == PD_ANY_STR) {
            double d;
            if (parse_double(v->u.str, &d)) *v = pd_any_double(d);
        }
        return GB_OK;
    case PD_ANY_STR: {
        char buf[PD_ANY_TEXT_MAX];
        gb_str s;
        if (v->type == PD_ANY_STR) return GB_OK;
        if (v->type == PD_ANY_EMPTY) {
            *v = pd_any_str(GB_STR_LIT(""));
            return GB_OK;
        }
        /* lists, maps and bytes are left unchanged */
        if (!pd_any_scalar_text(v, buf, &s)) return GB_OK;
        gb_status st = GB_OK;
        if (s.ptr == buf) st = gb_arena_dup(arena, s.ptr, s.len, &s);
        if (st == GB_OK) *v = pd_any_str(s);
        return st;
    }
    default:
        return GB_OK;
    }
}

gb_status attraction_apply(attraction_ctx *ctx, pd_attrs *attrs)
{
    const attraction *a = ctx->a;
    for (uint32_t i = 0; i < a->n; i++) {
        const attraction_action *ac = &a->v[i];
        gb_status st = GB_OK;
        gb_str key = ctx->keys[i];
        pd_kv *kv = ac->key ? pd_attrs_find(attrs, key) : NULL;
        switch (ac->kind) {
        case ATTRACTION_INSERT:
        case ATTRACTION_UPDATE:
        case ATTRACTION_UPSERT: {
            if (ac->kind == ATTRACTION_INSERT && kv) break;
            if (ac->kind == ATTRACTION_UPDATE && !kv) break;
            pd_any v;
            if (ac->has_value) {
                v = ctx->values[i];
            } else if (ac->from_attribute) {
                pd_kv *src = pd_attrs_find(attrs, gb_str_c(ac->from_attribute));
                if (!src) break;
                v = src->value;
            } else {
                if (!context_value(ctx, ac->from_context, &v)) break;
            }
            if (kv)
                kv->value = v;
            else
                st = pd_attrs_put(ctx->arena, attrs, key, v);
            break;
        }
        case ATTRACTION_DELETE:
            if (ac->key) pd_attrs_delete(attrs, key);
            if (ac->re) {
                uint32_t w = 0;
                for (uint32_t r = 0; r < attrs->n; r++) {
                    if (attraction_regex_match(ac->re, attrs->v[r].key, NULL, 0)) continue;
                    if (w != r) attrs->v[w] = attrs->v[r];
                    w++;
                }
                attrs->n = w;
            }
            break;
        case ATTRACTION_HASH:
            if (kv) st = hash_value(ctx->arena, &kv->value);
            if (ac->re)
                for (uint32_t r = 0; r < attrs->n && st == GB_OK; r++) {
                    if (kv == &attrs->v[r]) continue;
                    if (attraction_regex_match(ac->re, attrs->v[r].key, NULL, 0))
                        st = hash_value(ctx->arena, &attrs->v[r].value);
                }
            break;
        case ATTRACTION_EXTRACT: {
            if (!kv || kv->value.type != PD_ANY_STR) break;
            gb_str s = kv->value.u.str;
            regmatch_t m[ATTRACTION_MAX_GROUPS * 2 + 1];
            size_t nm = ac->re->re.re_nsub + 1;
            if (nm > sizeof m / sizeof m[0]) nm = sizeof m / sizeof m[0];
            if (!attraction_regex_match(ac->re, s, m, nm)) break;
            for (uint32_t g = 0; g < ac->re->n_names && st == GB_OK; g++) {
                uint32_t gi = ac->re->group[g];
                gb_str sub = GB_STR_LIT("");
                if (gi < nm && m[gi].rm_so >= 0)
                    sub = gb_str_n(s.ptr + m[gi].rm_so, (size_t)(m[gi].rm_eo - m[gi].rm_so));
                st = pd_attrs_put(ctx->arena, attrs, ctx->group_keys[i * ATTRACTION_MAX_GROUPS + g],
                                  pd_any_str(sub));
            }
            break;
        }
        case ATTRACTION_CONVERT:
            if (kv) st = convert_value(ctx->arena, &kv->value, ac->convert_to);
            break;
        }
        if (st) return st;
    }
    return GB_OK;
}
