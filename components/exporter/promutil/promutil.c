/* OTLP -> Prometheus naming and label translation (see promutil.h and
 * docs/internals/prometheus.md).
 *
 * How: metric names are built the way otlptranslator's normalizeName does it: the OTLP name is
 * split into tokens at every character outside [a-zA-Z0-9:] (so '_' also separates and runs of
 * separators collapse), the unit is split at the first '/', each part is trimmed, dropped when it
 * carries a '{annotation}', mapped through the unit tables and cleaned to [a-zA-Z0-9:_]; the unit
 * tokens are appended unless the name already has them as a token, then "total" (counters) and
 * "ratio" (gauges with unit "1") are moved to the end; the namespace is prepended and a leading
 * digit gets '_'. Without suffixes the name is only sanitized (namespace prefixed, or '_' before
 * a leading digit). Labels: invalid characters -> '_', "key_" before a leading digit, "key" before
 * a single leading '_'.
 *
 * Label values follow pcommon Value.AsString: doubles use the ES6 number-to-string form that Go's
 * JSON encoder uses (shortest round-trip digits, exponent only below 1e-6 or from 1e21), maps and
 * arrays are JSON with sorted map keys, bytes are base64. Sample values use Go's strconv 'g'
 * shortest form, as Prometheus text exposition does. Shortest digits are found by trying %.*e
 * precisions 1..17 and reading back with strtod (exact, and only on the control path).
 *
 * Label sets store every string once in a reusable sbuf (offsets, resolved at finish, because the
 * sbuf may move while growing) and look names up linearly: label sets are small (tens), and a
 * hash would cost more than it saves. Rejected: one malloc per label (the data path of the remote
 * write exporter builds a set per point). */
#include "exporter/promutil/promutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names --------------------------------------------------------------------------------- */

typedef struct unit_pair {
    const char *otel;
    const char *prom;
} unit_pair;

static const unit_pair k_units[] = {
    {"d", "days"},
    {"h", "hours"},
    {"min", "minutes"},
    {"s", "seconds"},
    {"ms", "milliseconds"},
    {"us", "microseconds"},
    {"ns", "nanoseconds"},
    {"By", "bytes"},
    {"KiBy", "kibibytes"},
    {"MiBy", "mebibytes"},
    {"GiBy", "gibibytes"},
    {"TiBy", "tibibytes"},
    {"KBy", "kilobytes"},
    {"MBy", "megabytes"},
    {"GBy", "gigabytes"},
    {"TBy", "terabytes"},
    {"m", "meters"},
    {"V", "volts"},
    {"A", "amperes"},
    {"J", "joules"},
    {"W", "watts"},
    {"g", "grams"},
    {"Cel", "celsius"},
    {"Hz", "hertz"},
    {"1", ""},
    {"%", "percent"},
};

static const unit_pair k_per_units[] = {
    {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
    {"w", "week"},   {"mo", "month"}, {"y", "year"},
};

static const char *unit_lookup(const unit_pair *t, size_t n, gb_str u)
{
    for (size_t i = 0; i < n; i++)
        if (gb_str_eq_c(u, t[i].otel)) return t[i].prom;
    return NULL;
}

static bool is_metric_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static gb_str trim_space(gb_str s)
{
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t' || s.ptr[0] == '\n' || s.ptr[0] == '\r' ||
                     s.ptr[0] == '\v' || s.ptr[0] == '\f')) {
        s.ptr++;
        s.len--;
    }
    while (s.len &&
           (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t' || s.ptr[s.len - 1] == '\n' ||
            s.ptr[s.len - 1] == '\r' || s.ptr[s.len - 1] == '\v' || s.ptr[s.len - 1] == '\f')) {
        s.len--;
    }
    return s;
}

static bool has_brace(gb_str s)
{
    for (uint32_t i = 0; i < s.len; i++)
        if (s.ptr[i] == '{' || s.ptr[i] == '}') return true;
    return false;
}

/* Bounded output writer: appends while room is left, always NUL-terminated. */
typedef struct outw {
    char *p;
    size_t cap, len;
} outw;

static void ow_init(outw *w, char *p, size_t cap)
{
    w->p = p;
    w->cap = cap;
    w->len = 0;
    if (cap) p[0] = '\0';
}

static void ow_putn(outw *w, const char *s, size_t n)
{
    if (!w->cap) return;
    size_t room = w->cap - 1 - w->len;
    if (n > room) n = room;
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

static void ow_puts(outw *w, const char *s)
{
    ow_putn(w, s, strlen(s));
}

/* cleanUpUnit: invalid chars -> '_', runs of '_' collapsed, one leading '_' trimmed. */
static void clean_unit(const char *in, char *out, size_t outlen)
{
    outw w;
    ow_init(&w, out, outlen);
    char prev = 0;
    for (const char *p = in; *p; p++) {
        char c = is_metric_char(*p) ? *p : '_';
        if (c == '_' && prev == '_') continue;
        ow_putn(&w, &c, 1);
        prev = c;
    }
    if (w.len && out[0] == '_') memmove(out, out + 1, w.len--);
}

/* buildUnitSuffixes + cleanUpUnit: main ("bytes") and per ("per_second") suffixes. */
static void unit_suffixes(gb_str unit, char *main_out, size_t main_len, char *per_out,
                          size_t per_len)
{
    char raw[PROMUTIL_NAME_MAX];
    main_out[0] = '\0';
    per_out[0] = '\0';
    gb_str main_u = unit, per_u = GB_STR_NULL;
    bool has_per = false;
    for (uint32_t i = 0; i < unit.len; i++) {
        if (unit.ptr[i] == '/') {
            main_u = gb_str_n(unit.ptr, i);
            per_u = gb_str_n(unit.ptr + i + 1, unit.len - i - 1);
            has_per = true;
            break;
        }
    }
    main_u = trim_space(main_u);
    if (main_u.len && !has_brace(main_u)) {
        const char *m = unit_lookup(k_units, sizeof k_units / sizeof k_units[0], main_u);
        if (m) {
            snprintf(raw, sizeof raw, "%s", m);
        } else {
            snprintf(raw, sizeof raw, "%.*s", GB_STR_FMT(main_u));
        }
        clean_unit(raw, main_out, main_len);
    }
    if (has_per && per_u.len) {
        per_u = trim_space(per_u);
        if (per_u.len && !has_brace(per_u)) {
            const char *m =
                unit_lookup(k_per_units, sizeof k_per_units / sizeof k_per_units[0], per_u);
            if (m) {
                snprintf(raw, sizeof raw, "per_%s", m);
            } else {
                snprintf(raw, sizeof raw, "per_%.*s", GB_STR_FMT(per_u));
            }
            clean_unit(raw, per_out, per_len);
        }
    }
}

void promutil_unit_suffix(gb_str unit, char *out, size_t outlen)
{
    char m[PROMUTIL_NAME_MAX], p[PROMUTIL_NAME_MAX];
    unit_suffixes(unit, m, sizeof m, p, sizeof p);
    outw w;
    ow_init(&w, out, outlen);
    size_t ml = strlen(m), pl = strlen(p);
    while (ml && m[ml - 1] == '_')
        m[--ml] = '\0';
    while (pl && p[pl - 1] == '_')
        p[--pl] = '\0';
    if (strcmp(p, "per") == 0) p[0] = '\0';
    ow_puts(&w, m);
    if (m[0] && p[0]) ow_puts(&w, "_");
    ow_puts(&w, p);
}

promutil_kind promutil_kind_of(const pd_metric *m)
{
    switch (m->type) {
    case PD_METRIC_GAUGE:
        return PROMUTIL_GAUGE;
    case PD_METRIC_SUM:
        return m->is_monotonic ? PROMUTIL_COUNTER : PROMUTIL_NONMONOTONIC;
    case PD_METRIC_HISTOGRAM:
        return PROMUTIL_HISTOGRAM;
    case PD_METRIC_EXP_HISTOGRAM:
        return PROMUTIL_EXP_HISTOGRAM;
    case PD_METRIC_SUMMARY:
        return PROMUTIL_SUMMARY;
    default:
        return PROMUTIL_UNKNOWN;
    }
}

#define MAX_TOKENS 128

typedef struct tokens {
    gb_str t[MAX_TOKENS];
    uint32_t n;
} tokens;

static void tok_add(tokens *tk, gb_str s)
{
    if (s.len && tk->n < MAX_TOKENS) tk->t[tk->n++] = s;
}

static bool tok_has(const tokens *tk, const char *s)
{
    for (uint32_t i = 0; i < tk->n; i++)
        if (gb_str_eq_c(tk->t[i], s)) return true;
    return false;
}

static void tok_remove(tokens *tk, const char *s)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < tk->n; i++)
        if (!gb_str_eq_c(tk->t[i], s)) tk->t[j++] = tk->t[i];
    tk->n = j;
}

/* Sanitized copy of s: invalid chars -> '_' (no collapsing: otelcol's simple path joins
 * FieldsFunc tokens, which does collapse; see sanitize_join). */
static void sanitize_join(gb_str s, outw *w)
{
    /* strings.Join(strings.FieldsFunc(s, invalid), "_") with invalid = [^a-zA-Z0-9:_]: runs of
     * invalid chars become one '_' and leading/trailing ones vanish; '_' itself is kept. */
    bool pending = false, any = false;
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (is_metric_char(c) || c == '_') {
            if (pending && any) ow_putn(w, "_", 1);
            ow_putn(w, &c, 1);
            pending = false;
            any = true;
        } else {
            pending = true;
        }
    }
}

static gb_status check_name(gb_str orig, char *out)
{
    if (!out[0]) return GB_ERR_INVALID;
    if (gb_str_eq_c(orig, out)) return GB_OK;
    for (const char *p = out; *p; p++)
        if (*p != '_') return GB_OK;
    out[0] = '\0';
    return GB_ERR_INVALID;
}

gb_status promutil_build_name(gb_str name, gb_str unit, promutil_kind kind, const char *namespace_,
                              bool add_suffixes, char *out, size_t outlen)
{
    outw w;
    ow_init(&w, out, outlen);
    if (!outlen) return GB_ERR_INVALID;
    bool has_ns = namespace_ && namespace_[0];
    if (!add_suffixes) {
        if (has_ns) {
            sanitize_join(gb_str_c(namespace_), &w);
            ow_putn(&w, "_", 1);
            sanitize_join(name, &w);
        } else {
            char tmp[PROMUTIL_NAME_MAX];
            outw t;
            ow_init(&t, tmp, sizeof tmp);
            sanitize_join(name, &t);
            if (t.len && is_digit(tmp[0])) ow_putn(&w, "_", 1);
            ow_puts(&w, tmp);
        }
        return check_name(name, out);
    }

    tokens tk = {.n = 0};
    uint32_t start = 0;
    for (uint32_t i = 0; i <= name.len; i++) {
        if (i == name.len || !is_metric_char(name.ptr[i])) {
            tok_add(&tk, gb_str_n(name.ptr + start, i - start));
            start = i + 1;
        }
    }
    char mainu[PROMUTIL_NAME_MAX], peru[PROMUTIL_NAME_MAX];
    unit_suffixes(unit, mainu, sizeof mainu, peru, sizeof peru);
    /* addUnitTokens */
    if (tok_has(&tk, mainu)) mainu[0] = '\0';
    if (strcmp(peru, "per_") == 0) {
        peru[0] = '\0';
    } else {
        size_t pl = strlen(peru);
        if (pl && peru[pl - 1] == '_') peru[pl - 1] = '\0';
        if (tok_has(&tk, peru)) peru[0] = '\0';
    }
    if (peru[0]) {
        size_t ml = strlen(mainu);
        if (ml && mainu[ml - 1] == '_') mainu[ml - 1] = '\0';
    }
    tok_add(&tk, gb_str_c(mainu));
    tok_add(&tk, gb_str_c(peru));
    if (kind == PROMUTIL_COUNTER) {
        tok_remove(&tk, "total");
        tok_add(&tk, GB_STR_LIT("total"));
    }
    if (kind == PROMUTIL_GAUGE && gb_str_eq_c(unit, "1")) {
        tok_remove(&tk, "ratio");
        tok_add(&tk, GB_STR_LIT("ratio"));
    }
    char tmp[PROMUTIL_NAME_MAX];
    outw t;
    ow_init(&t, tmp, sizeof tmp);
    if (has_ns) {
        /* otelcol prepends the namespace verbatim; it is sanitized here so a namespace with
         * invalid characters cannot produce an invalid name (identical for valid namespaces). */
        sanitize_join(gb_str_c(namespace_), &t);
        if (tk.n) ow_putn(&t, "_", 1);
    }
    for (uint32_t i = 0; i < tk.n; i++) {
        if (i) ow_putn(&t, "_", 1);
        ow_putn(&t, tk.t[i].ptr, tk.t[i].len);
    }
    if (t.len && is_digit(tmp[0])) ow_putn(&w, "_", 1);
    ow_puts(&w, tmp);
    return check_name(name, out);
}

gb_status promutil_metric_name(const pd_metric *m, const char *namespace_, bool add_suffixes,
                               char *out, size_t outlen)
{
    return promutil_build_name(m->name, m->unit, promutil_kind_of(m), namespace_, add_suffixes, out,
                               outlen);
}

/* Length of the UTF-8 sequence at p (1 for ASCII and for every invalid byte, like Go's range
 * over a string: an invalid byte is one RuneError). */
static uint32_t rune_len(const char *p, uint32_t left)
{
    unsigned char c = (unsigned char)p[0];
    uint32_t n = c < 0x80 ? 1 : c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 1;
    if (n > left) return 1;
    for (uint32_t i = 1; i < n; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80) return 1;
    return n;
}

gb_status promutil_label_name(gb_str key, char *out, size_t outlen)
{
    outw w;
    ow_init(&w, out, outlen);
    if (!outlen) return GB_ERR_INVALID;
    if (!key.len) return GB_ERR_INVALID;
    char tmp[PROMUTIL_NAME_MAX];
    outw t;
    ow_init(&t, tmp, sizeof tmp);
    for (uint32_t i = 0; i < key.len;) {
        char c = key.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_';
        ow_putn(&t, ok ? &c : "_", 1);
        i += ok ? 1 : rune_len(key.ptr + i, key.len - i);
    }
    if (is_digit(tmp[0])) {
        ow_puts(&w, "key_");
    } else if (tmp[0] == '_' && tmp[1] != '_') {
        ow_puts(&w, "key");
    }
    ow_puts(&w, tmp);
    return check_name(key, out);
}

/* ---- numbers ------------------------------------------------------------------------------- */

/* Shortest round-trip decimal digits of a finite v != 0: writes "d.ddde±XX" into buf (C %e form)
 * and returns the number of significant digits; *exp10 gets the decimal exponent. */
static int shortest_e(double v, char *buf, size_t len, int *exp10)
{
    int p = 1;
    for (; p <= 17; p++) {
        snprintf(buf, len, "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (p > 17) p = 17;
    const char *e = strchr(buf, 'e');
    *exp10 = e ? atoi(e + 1) : 0;
    return p;
}

void promutil_format_float(double v, char *out, size_t outlen)
{
    if (!outlen) return;
    if (isnan(v)) {
        snprintf(out, outlen, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, outlen, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) {
        snprintf(out, outlen, "0");
        return;
    }
    /* Go strconv.FormatFloat(v, 'g', -1, 64): with shortest digits the %e form is used when the
     * decimal exponent is < -4 or >= 6 (eprec is fixed at 6 for shortest), else %f with just the
     * significant digits. */
    char buf[40];
    int exp10 = 0;
    int nd = shortest_e(v, buf, sizeof buf, &exp10);
    int dp = exp10 + 1;
    int eprec = 6;
    if (exp10 < -4 || exp10 >= eprec) {
        snprintf(out, outlen, "%s", buf);
    } else {
        int decimals = nd - dp;
        if (decimals < 0) decimals = 0;
        snprintf(out, outlen, "%.*f", decimals, v);
    }
}

/* ES6 number-to-string (Go's encoding/json float64 form, used by pcommon AsString). */
static void format_es6(double v, char *out, size_t outlen)
{
    if (isnan(v) || isinf(v)) {
        /* pcommon's float64AsString prints encoding/json's error text for these */
        char f[8];
        promutil_format_float(v, f, sizeof f);
        snprintf(out, outlen, "json: unsupported value: %s", f);
        return;
    }
    if (v == 0) {
        snprintf(out, outlen, signbit(v) ? "-0" : "0");
        return;
    }
    char buf[40];
    int exp10 = 0;
    int nd = shortest_e(v, buf, sizeof buf, &exp10);
    double a = fabs(v);
    if (a < 1e-6 || a >= 1e21) {
        /* Go 'e' shortest then "e-09" -> "e-9": C prints at least two exponent digits too */
        char *e = strchr(buf, 'e');
        if (e && (e[1] == '-' || e[1] == '+') && e[2] == '0' && e[3] && !e[4]) {
            e[2] = e[3];
            e[3] = '\0';
        }
        snprintf(out, outlen, "%s", buf);
    } else {
        int decimals = nd - (exp10 + 1);
        if (decimals < 0) decimals = 0;
        snprintf(out, outlen, "%.*f", decimals, v);
    }
}

/* ---- label values -------------------------------------------------------------------------- */

static gb_status put_base64(gb_sbuf *out, gb_str s)
{
    static const char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = (const unsigned char *)s.ptr;
    uint32_t i = 0;
    for (; i + 3 <= s.len; i += 3) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        char q[4] = {k[x >> 18], k[(x >> 12) & 63], k[(x >> 6) & 63], k[x & 63]};
        gb_sbuf_append(out, q, 4);
    }
    if (s.len - i == 1) {
        uint32_t x = (uint32_t)p[i] << 16;
        char q[4] = {k[x >> 18], k[(x >> 12) & 63], '=', '='};
        gb_sbuf_append(out, q, 4);
    } else if (s.len - i == 2) {
        uint32_t x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        char q[4] = {k[x >> 18], k[(x >> 12) & 63], k[(x >> 6) & 63], '='};
        gb_sbuf_append(out, q, 4);
    }
    return out->err;
}

/* Go encoding/json string escaping (with its HTML-safe escapes of <, >, &). */
static void put_json_string(gb_sbuf *out, gb_str s)
{
    gb_sbuf_putc(out, '"');
    uint32_t run = 0;
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == '<' || c == '>' || c == '&') {
            gb_sbuf_json_escape(out, s.ptr + run, i - run);
            gb_sbuf_printf(out, "\\u00%02x", (unsigned)(unsigned char)c);
            run = i + 1;
        }
    }
    gb_sbuf_json_escape(out, s.ptr + run, s.len - run);
    gb_sbuf_putc(out, '"');
}

static int kv_cmp(const void *a, const void *b)
{
    const pd_kv *x = *(const pd_kv *const *)a, *y = *(const pd_kv *const *)b;
    uint32_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = n ? memcmp(x->key.ptr, y->key.ptr, n) : 0;
    if (c) return c;
    return x->key.len < y->key.len ? -1 : x->key.len > y->key.len;
}

/* *bad is set when a NaN or infinite double is met: json.Marshal fails then, and pcommon's
 * AsString returns "" for the whole value. */
static gb_status put_json_value(gb_sbuf *out, const pd_any *v, int depth, bool *bad)
{
    char num[64];
    if (depth > 64) return gb_sbuf_puts(out, "null");
    switch (v->type) {
    case PD_ANY_STR:
        put_json_string(out, v->u.str);
        break;
    case PD_ANY_BOOL:
        gb_sbuf_puts(out, v->u.b ? "true" : "false");
        break;
    case PD_ANY_INT:
        gb_sbuf_printf(out, "%lld", (long long)v->u.i);
        break;
    case PD_ANY_DOUBLE:
        if (isnan(v->u.d) || isinf(v->u.d)) {
            *bad = true;
        } else {
            format_es6(v->u.d, num, sizeof num);
            gb_sbuf_puts(out, num);
        }
        break;
    case PD_ANY_BYTES:
        gb_sbuf_putc(out, '"');
        put_base64(out, v->u.str);
        gb_sbuf_putc(out, '"');
        break;
    case PD_ANY_ARRAY:
        gb_sbuf_putc(out, '[');
        for (uint32_t i = 0; i < v->u.arr.n; i++) {
            if (i) gb_sbuf_putc(out, ',');
            put_json_value(out, &v->u.arr.v[i], depth + 1, bad);
        }
        gb_sbuf_putc(out, ']');
        break;
    case PD_ANY_KVLIST: {
        uint32_t n = v->u.kvl.n;
        const pd_kv **sorted = n ? malloc(n * sizeof *sorted) : NULL;
        if (n && !sorted) return GB_ERR_NOMEM;
        for (uint32_t i = 0; i < n; i++)
            sorted[i] = &v->u.kvl.v[i];
        if (n > 1) qsort(sorted, n, sizeof *sorted, kv_cmp);
        gb_sbuf_putc(out, '{');
        for (uint32_t i = 0; i < n; i++) {
            /* a Go map keeps the last of duplicate keys */
            if (i + 1 < n && gb_str_eq(sorted[i]->key, sorted[i + 1]->key)) continue;
            if (out->len && out->data[out->len - 1] != '{') gb_sbuf_putc(out, ',');
            put_json_string(out, sorted[i]->key);
            gb_sbuf_putc(out, ':');
            put_json_value(out, &sorted[i]->value, depth + 1, bad);
        }
        gb_sbuf_putc(out, '}');
        free(sorted);
        break;
    }
    default:
        gb_sbuf_puts(out, "null");
        break;
    }
    return out->err;
}

gb_status promutil_label_value(const pd_any *v, gb_sbuf *out)
{
    char num[64];
    switch (v->type) {
    case PD_ANY_EMPTY:
        return out->err;
    case PD_ANY_STR:
        return gb_sbuf_put_str(out, v->u.str);
    case PD_ANY_BOOL:
        return gb_sbuf_puts(out, v->u.b ? "true" : "false");
    case PD_ANY_INT:
        return gb_sbuf_printf(out, "%lld", (long long)v->u.i);
    case PD_ANY_DOUBLE:
        format_es6(v->u.d, num, sizeof num);
        return gb_sbuf_puts(out, num);
    case PD_ANY_BYTES:
        return put_base64(out, v->u.str);
    case PD_ANY_ARRAY:
    case PD_ANY_KVLIST: {
        size_t mark = out->len;
        bool bad = false;
        gb_status st = put_json_value(out, v, 0, &bad);
        if (st == GB_OK && bad) {
            out->len = mark;
            if (out->data) out->data[mark] = '\0';
        }
        return st;
    }
    }
    return out->err;
}

/* ---- job / instance ------------------------------------------------------------------------ */

static gb_status attr_string(const pd_attrs *a, const char *key, gb_sbuf *out, bool *found)
{
    pd_kv *kv = a ? pd_attrs_find(a, gb_str_c(key)) : NULL;
    *found = kv != NULL;
    if (!kv) return GB_OK;
    return promutil_label_value(&kv->value, out);
}

void promutil_job_instance(const pd_attrs *resource, gb_sbuf *job, gb_sbuf *instance)
{
    bool found = false;
    if (job) {
        gb_sbuf_reset(job);
        if (resource && pd_attrs_find(resource, GB_STR_LIT("service.name"))) {
            /* otelcol: "<namespace>/<name>" when service.namespace exists (even empty) */
            attr_string(resource, "service.namespace", job, &found);
            if (found) gb_sbuf_putc(job, '/');
            attr_string(resource, "service.name", job, &found);
        }
        gb_sbuf_append(job, "", 0);
    }
    if (instance) {
        gb_sbuf_reset(instance);
        attr_string(resource, "service.instance.id", instance, &found);
        gb_sbuf_append(instance, "", 0);
    }
}

/* ---- label sets ---------------------------------------------------------------------------- */

void promutil_labels_init(promutil_labels *ls)
{
    memset(ls, 0, sizeof *ls);
    gb_sbuf_init(&ls->store, 0);
    for (size_t i = 0; i < sizeof ls->scratch / sizeof ls->scratch[0]; i++)
        gb_sbuf_init(&ls->scratch[i], 0);
}

void promutil_labels_reset(promutil_labels *ls)
{
    ls->n = 0;
    gb_sbuf_reset(&ls->store);
    free(ls->hidx); /* only large sets have one; small ones go back to linear lookups */
    ls->hidx = NULL;
    ls->hcap = 0;
}

void promutil_labels_free(promutil_labels *ls)
{
    free(ls->v);
    free(ls->ent);
    free(ls->order);
    free(ls->hidx);
    gb_sbuf_free(&ls->store);
    for (size_t i = 0; i < sizeof ls->scratch / sizeof ls->scratch[0]; i++)
        gb_sbuf_free(&ls->scratch[i]);
    memset(ls, 0, sizeof *ls);
}

static gb_str ent_name(const promutil_labels *ls, const promutil_lent *e)
{
    return gb_str_n(ls->store.data + e->name_off, e->name_len);
}

static gb_str ent_val(const promutil_labels *ls, const promutil_lent *e)
{
    return gb_str_n(ls->store.data + e->val_off, e->val_len);
}

/* Sets up to this size are searched linearly; larger ones get a hash index (no quadratic cost
 * for a point with thousands of attributes). */
#define LINEAR_MAX 32

static uint64_t name_hash(gb_str s)
{
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 0; i < s.len; i++) {
        h ^= (unsigned char)s.ptr[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static promutil_lent *find_ent(const promutil_labels *ls, gb_str name)
{
    if (!ls->hcap) {
        for (uint32_t i = 0; i < ls->n; i++)
            if (gb_str_eq(ent_name(ls, &ls->ent[i]), name)) return &ls->ent[i];
        return NULL;
    }
    for (uint64_t h = name_hash(name);; h++) {
        uint32_t k = ls->hidx[h & (ls->hcap - 1)];
        if (!k) return NULL;
        if (gb_str_eq(ent_name(ls, &ls->ent[k - 1]), name)) return &ls->ent[k - 1];
    }
}

static void hidx_add(promutil_labels *ls, uint32_t i)
{
    for (uint64_t h = name_hash(ent_name(ls, &ls->ent[i]));; h++) {
        uint32_t *slot = &ls->hidx[h & (ls->hcap - 1)];
        if (!*slot) {
            *slot = i + 1;
            return;
        }
    }
}

/* Keeps the index at most half full; builds it when the set outgrows LINEAR_MAX. A failed
 * allocation leaves the previous (still correct) state. */
static void hidx_grow(promutil_labels *ls)
{
    if (ls->n < LINEAR_MAX || (ls->hcap && ls->n * 2 < ls->hcap)) return;
    uint32_t nc = ls->hcap ? ls->hcap * 2 : 4 * LINEAR_MAX;
    while (nc < ls->n * 2)
        nc *= 2;
    uint32_t *t = calloc(nc, sizeof *t);
    if (!t) return;
    free(ls->hidx);
    ls->hidx = t;
    ls->hcap = nc;
    for (uint32_t i = 0; i < ls->n; i++)
        hidx_add(ls, i);
}

bool promutil_labels_get(const promutil_labels *ls, gb_str name, gb_str *value)
{
    promutil_lent *e = find_ent(ls, name);
    if (value) *value = e ? ent_val(ls, e) : GB_STR_NULL;
    return e != NULL;
}

/* Appends s + NUL to the store; *off gets its offset. */
static gb_status store_add(promutil_labels *ls, gb_str s, uint32_t *off)
{
    if (ls->store.len + s.len + 1 > UINT32_MAX) return GB_ERR_LIMIT;
    *off = (uint32_t)ls->store.len;
    gb_sbuf_append(&ls->store, s.ptr ? s.ptr : "", s.len);
    gb_sbuf_putc(&ls->store, '\0');
    return ls->store.err;
}

gb_status promutil_labels_put(promutil_labels *ls, gb_str name, gb_str value,
                              promutil_put_mode mode)
{
    gb_status st = GB_OK;
    promutil_lent *e = find_ent(ls, name);
    if (e) {
        if (mode == PROMUTIL_KEEP) goto out;
        uint32_t off = 0;
        if (mode == PROMUTIL_JOIN) {
            /* "<old>;<new>": build at the end of the store (the old copy stays as waste until
             * reset; values collide rarely) */
            if (ls->store.len + e->val_len + value.len + 2 > UINT32_MAX) {
                st = GB_ERR_LIMIT;
                goto out;
            }
            off = (uint32_t)ls->store.len;
            uint32_t old_off = e->val_off, old_len = e->val_len;
            gb_sbuf_reserve(&ls->store, (size_t)old_len + value.len + 2);
            if (ls->store.err) {
                st = ls->store.err;
                goto out;
            }
            gb_sbuf_append(&ls->store, ls->store.data + old_off, old_len);
            gb_sbuf_putc(&ls->store, ';');
            gb_sbuf_append(&ls->store, value.ptr ? value.ptr : "", value.len);
            gb_sbuf_putc(&ls->store, '\0');
            st = ls->store.err;
            if (st != GB_OK) goto out;
            e->val_off = off;
            e->val_len = old_len + 1 + value.len;
        } else {
            st = store_add(ls, value, &off);
            if (st != GB_OK) goto out;
            e->val_off = off;
            e->val_len = value.len;
        }
        goto out;
    }
    if (ls->n == ls->cap) {
        uint32_t nc = ls->cap ? ls->cap * 2 : 16;
        promutil_lent *ne = realloc(ls->ent, nc * sizeof *ne);
        if (!ne) {
            st = GB_ERR_NOMEM;
            goto out;
        }
        ls->ent = ne;
        ls->cap = nc;
    }
    promutil_lent ne = {.name_len = name.len, .val_len = value.len};
    st = store_add(ls, name, &ne.name_off);
    if (st != GB_OK) goto out;
    st = store_add(ls, value, &ne.val_off);
    if (st != GB_OK) goto out;
    if (ls->hcap && (ls->n + 1) * 2 > ls->hcap) {
        hidx_grow(ls);
        if ((ls->n + 1) * 2 > ls->hcap) { /* could not grow: fall back to linear lookups */
            free(ls->hidx);
            ls->hidx = NULL;
            ls->hcap = 0;
        }
    }
    ls->ent[ls->n++] = ne;
    if (ls->hcap)
        hidx_add(ls, ls->n - 1);
    else
        hidx_grow(ls);
out:
    return st;
}

static int key_cmp(gb_str x, gb_str y)
{
    uint32_t n = x.len < y.len ? x.len : y.len;
    int c = n ? memcmp(x.ptr, y.ptr, n) : 0;
    if (c) return c;
    return x.len < y.len ? -1 : x.len > y.len;
}

struct promutil_okey {
    gb_str key;
    uint32_t idx;
};

static int okey_cmp(const void *a, const void *b)
{
    const struct promutil_okey *x = a, *y = b;
    int c = key_cmp(x->key, y->key);
    if (c) return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int label_cmp(const void *a, const void *b)
{
    return strcmp(((const promutil_label *)a)->name, ((const promutil_label *)b)->name);
}

gb_status promutil_labels_put_attrs(promutil_labels *ls, const pd_attrs *a, const char *prefix,
                                    promutil_put_mode mode)
{
    gb_status st = GB_OK;
    gb_sbuf *key = &ls->scratch[0], *val = &ls->scratch[1];
    if (!a || !a->n) goto out;
    if (a->n > ls->order_cap) {
        struct promutil_okey *no = realloc(ls->order, a->n * sizeof *no);
        if (!no) {
            st = GB_ERR_NOMEM;
            goto out;
        }
        ls->order = no;
        ls->order_cap = a->n;
    }
    /* stable sort by key (the index breaks ties) */
    for (uint32_t i = 0; i < a->n; i++)
        ls->order[i] = (struct promutil_okey){a->v[i].key, i};
    if (a->n > 1) qsort(ls->order, a->n, sizeof *ls->order, okey_cmp);
    char name[PROMUTIL_NAME_MAX];
    for (uint32_t k = 0; k < a->n && st == GB_OK; k++) {
        const pd_kv *kv = &a->v[ls->order[k].idx];
        gb_sbuf_reset(key);
        if (prefix) gb_sbuf_puts(key, prefix);
        gb_sbuf_put_str(key, kv->key);
        if (key->err) {
            st = key->err;
            break;
        }
        if (promutil_label_name(gb_str_n(key->data ? key->data : "", key->len), name,
                                sizeof name) != GB_OK)
            continue;
        gb_sbuf_reset(val);
        st = promutil_label_value(&kv->value, val);
        if (st != GB_OK) break;
        st = promutil_labels_put(ls, gb_str_c(name), gb_str_n(val->data ? val->data : "", val->len),
                                 mode);
    }
out:
    return st;
}

gb_status promutil_labels_finish(promutil_labels *ls)
{
    gb_status st = GB_OK;
    /* empty values are dropped (Prometheus treats them as absent) */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < ls->n; i++)
        if (ls->ent[i].val_len) ls->ent[kept++] = ls->ent[i];
    if (kept != ls->n && ls->hcap) { /* positions moved: re-index */
        free(ls->hidx);
        ls->hidx = NULL;
        ls->hcap = 0;
        ls->n = kept;
        hidx_grow(ls);
    }
    ls->n = kept;
    if (ls->v_cap < ls->cap || !ls->v) {
        uint32_t nc = ls->cap ? ls->cap : 1;
        promutil_label *nv = realloc(ls->v, nc * sizeof *nv);
        if (!nv) {
            st = GB_ERR_NOMEM;
            goto out;
        }
        ls->v = nv;
        ls->v_cap = nc;
    }
    /* names are unique and NUL-terminated in the store: strcmp orders them like key_cmp */
    for (uint32_t i = 0; i < ls->n; i++) {
        ls->v[i].name = ls->store.data + ls->ent[i].name_off;
        ls->v[i].value = ls->store.data + ls->ent[i].val_off;
    }
    if (ls->n > 1) qsort(ls->v, ls->n, sizeof *ls->v, label_cmp);
out:
    return st;
}

gb_status promutil_point_labels(promutil_labels *ls, const pd_resource *res, const pd_scope *scope,
                                const pd_attrs *point_attrs, const promutil_label_opts *opts)
{
    gb_status st = GB_OK;
    gb_sbuf *job = &ls->scratch[2], *inst = &ls->scratch[3];
    promutil_labels_reset(ls);
    st = promutil_labels_put_attrs(ls, point_attrs, NULL, PROMUTIL_JOIN);
    if (st != GB_OK) goto out;
    if (opts && opts->resource_to_telemetry && (res || opts->promoted)) {
        /* resourcetotelemetry upserts the resource attributes into the point's: they win */
        st = promutil_labels_put_attrs(ls, opts->promoted ? opts->promoted : &res->attrs, NULL,
                                       PROMUTIL_REPLACE);
        if (st != GB_OK) goto out;
    }
    if (opts && opts->scope_labels && scope) {
        st = promutil_labels_put_attrs(ls, &scope->attrs, "otel_scope_", PROMUTIL_JOIN);
        if (st != GB_OK) goto out;
        st = promutil_labels_put(ls, GB_STR_LIT("otel_scope_name"), scope->name, PROMUTIL_REPLACE);
        if (st != GB_OK) goto out;
        st = promutil_labels_put(ls, GB_STR_LIT("otel_scope_version"), scope->version,
                                 PROMUTIL_REPLACE);
        if (st != GB_OK) goto out;
    }
    if (opts && opts->job_instance && res) {
        promutil_job_instance(&res->attrs, job, inst);
        if (job->err || inst->err) {
            st = job->err ? job->err : inst->err;
            goto out;
        }
        if (job->len) {
            st = promutil_labels_put(ls, GB_STR_LIT("job"), gb_str_n(job->data, job->len),
                                     PROMUTIL_REPLACE);
            if (st != GB_OK) goto out;
        }
        if (inst->len) {
            st = promutil_labels_put(ls, GB_STR_LIT("instance"), gb_str_n(inst->data, inst->len),
                                     PROMUTIL_REPLACE);
            if (st != GB_OK) goto out;
        }
    }
    for (uint32_t i = 0; opts && i < opts->n_const_labels; i++) {
        st = promutil_labels_put(ls, gb_str_c(opts->const_labels[i].name),
                                 gb_str_c(opts->const_labels[i].value), PROMUTIL_KEEP);
        if (st != GB_OK) goto out;
    }
out:
    return st;
}

uint64_t promutil_hist_cumulative(const pd_histogram_dp *dp, uint32_t i)
{
    uint64_t sum = 0;
    for (uint32_t k = 0; k <= i && k < dp->n_bucket_counts; k++)
        sum += dp->bucket_counts[k];
    return sum;
}
