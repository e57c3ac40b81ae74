/* OTLP/JSON decoder: Export{Trace,Metrics,Logs}ServiceRequest and Export*ServiceResponse in the
 * OTLP JSON encoding into the pdata model.
 *
 * How: jansson parses the request into a DOM (its parser bounds nesting at 2048 levels); one
 * function per OTLP message walks an object's keys once and dispatches on a small table that
 * holds both the lowerCamelCase JSON name and the original proto field name (the six
 * Resource/Scope wrappers, alike but for types and names, come from one macro, JD_CONTAINER). Every
 * string and byte field is copied into the batch arena, because the DOM is freed before returning.
 * Arrays are sized from the DOM, so each list is one exact arena allocation. Results are built
 * aside and appended to the batch only when the whole request decoded, so a failed decode leaves
 * the batch's lists as they were (the arena keeps the abandoned bytes until the batch dies).
 *
 * Accepted beyond the canonical form (as the protobuf JSON mapping and otelcol allow): numbers
 * or decimal strings for every integer, enum names or integers, "NaN"/"Infinity"/"-Infinity" and
 * numeric strings for doubles, null for "not set", upper-case hex ids, URL-safe and unpadded
 * base64, and kvlistValue/arrayValue written directly as an array (as in the OTLP examples).
 * Unknown keys are ignored at every level. Errors name the path and the field and say what was
 * expected.
 *
 * jansson's allocations go to a per-thread scratch region (see "Parse scratch" below).
 *
 * Rejected: a hand-written pull parser straight into the arena (several times faster, but
 * jansson is the project's JSON parser and protobuf is the fast ingest path) and a generic
 * reflection-table walker
 * (harder to read than one small function per message). Known limit: integer literals beyond the
 * int64 range (as JSON numbers, not strings) are refused by jansson even for unsigned fields. */
#include "otlp/otlp.h"

#include "base/mem.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JD_MAX_ANY_DEPTH 64 /* nesting of AnyValue inside AnyValue */
#define JD_MAX_FRAMES    8

typedef struct jd_frame {
    const char *name;
    size_t idx;
} jd_frame;

typedef struct jd {
    gb_arena *arena;
    otlp_error *err;
    jd_frame frames[JD_MAX_FRAMES];
    int nframes; /* may exceed JD_MAX_FRAMES; only the first ones are recorded */
    int any_depth;
} jd;

/* ---- errors ------------------------------------------------------------------------------- */

static gb_status jd_fail(jd *c, gb_status st, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static gb_status jd_fail(jd *c, gb_status st, const char *field, const char *fmt, ...)
{
    if (!c->err) return st;
    char *p = c->err->msg;
    size_t cap = sizeof c->err->msg, n = 0;
    int w = snprintf(p, cap, "json: ");
    n = w > 0 ? (size_t)w : 0;
    int shown = c->nframes < JD_MAX_FRAMES ? c->nframes : JD_MAX_FRAMES;
    for (int i = 0; i < shown && n < cap; i++) {
        if (c->frames[i].idx == SIZE_MAX)
            w = snprintf(p + n, cap - n, "%s%s", i ? "." : "", c->frames[i].name);
        else
            w = snprintf(p + n, cap - n, "%s%s[%zu]", i ? "." : "", c->frames[i].name,
                         c->frames[i].idx);
        n += w > 0 ? (size_t)w : 0;
    }
    if (c->nframes > shown && n < cap) {
        w = snprintf(p + n, cap - n, "...");
        n += w > 0 ? (size_t)w : 0;
    }
    if (n < cap && field) {
        w = snprintf(p + n, cap - n, "%s%s", shown ? "." : "", field);
        n += w > 0 ? (size_t)w : 0;
    }
    if (n < cap) {
        w = snprintf(p + n, cap - n, ": ");
        n += w > 0 ? (size_t)w : 0;
    }
    if (n < cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p + n, cap - n, fmt, ap);
        va_end(ap);
    }
    return st;
}

static gb_status jd_nomem(jd *c)
{
    return jd_fail(c, GB_ERR_NOMEM, NULL, "out of memory");
}

static const char *jd_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "?";
}

static void jd_push(jd *c, const char *name)
{
    if (c->nframes < JD_MAX_FRAMES) c->frames[c->nframes] = (jd_frame){name, 0};
    c->nframes++;
}

/* A named level without index (an AnyValue field). */
static void jd_push_field(jd *c, const char *name)
{
    if (c->nframes < JD_MAX_FRAMES) c->frames[c->nframes] = (jd_frame){name, SIZE_MAX};
    c->nframes++;
}

static void jd_at(jd *c, size_t idx)
{
    if (c->nframes <= JD_MAX_FRAMES) c->frames[c->nframes - 1].idx = idx;
}

static void jd_pop(jd *c)
{
    c->nframes--;
}

/* ---- key tables --------------------------------------------------------------------------- */

typedef struct jd_key {
    const char *json;  /* lowerCamelCase */
    const char *proto; /* original field name, NULL when identical */
} jd_key;

/* Index of key in t (n entries), -1 when unknown. */
static int jd_lookup(const jd_key *t, int n, const char *key)
{
    for (int i = 0; i < n; i++) {
        if (key[0] == t[i].json[0] && strcmp(key, t[i].json) == 0) return i;
        if (t[i].proto && key[0] == t[i].proto[0] && strcmp(key, t[i].proto) == 0) return i;
    }
    return -1;
}

#define JD_LOOKUP(t, k) jd_lookup((t), (int)(sizeof(t) / sizeof((t)[0])), (k))

/* ---- scalars ------------------------------------------------------------------------------ */

static gb_status jd_str(jd *c, const char *f, json_t *v, gb_str *out)
{
    if (json_is_null(v)) {
        *out = GB_STR_NULL;
        return GB_OK;
    }
    if (!json_is_string(v))
        return jd_fail(c, GB_ERR_INVALID, f, "expected a string, got %s", jd_type_name(v));
    size_t n = json_string_length(v);
    if (n == 0) {
        *out = GB_STR_NULL;
        return GB_OK;
    }
    if (gb_arena_dup(c->arena, json_string_value(v), n, out) != GB_OK) return jd_nomem(c);
    return GB_OK;
}

static gb_status jd_bool(jd *c, const char *f, json_t *v, bool *out)
{
    if (json_is_null(v))
        *out = false;
    else if (json_is_boolean(v))
        *out = json_is_true(v);
    else
        return jd_fail(c, GB_ERR_INVALID, f, "expected true or false, got %s", jd_type_name(v));
    return GB_OK;
}

/* Decimal string with optional '-' (signed only). *neg and magnitude out; false if malformed
 * or beyond 2^64-1. */
static bool jd_parse_dec(const char *s, size_t n, bool allow_neg, bool *neg, uint64_t *mag)
{
    size_t i = 0;
    *neg = false;
    if (allow_neg && n > 0 && s[0] == '-') {
        *neg = true;
        i = 1;
    }
    if (i == n) return false;
    uint64_t m = 0;
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) return false;
        if (m > (UINT64_MAX - d) / 10) return false;
        m = m * 10 + d;
    }
    *mag = m;
    return true;
}

static gb_status jd_u64(jd *c, const char *f, json_t *v, uint64_t *out)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        *out = 0;
        return GB_OK;
    case JSON_INTEGER: {
        json_int_t i = json_integer_value(v);
        if (i < 0) break;
        *out = (uint64_t)i;
        return GB_OK;
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        if (!(d >= 0 && d < 18446744073709551616.0) || d != floor(d)) break;
        *out = (uint64_t)d;
        return GB_OK;
    }
    case JSON_STRING: {
        bool neg;
        uint64_t m;
        if (!jd_parse_dec(json_string_value(v), json_string_length(v), false, &neg, &m)) break;
        *out = m;
        return GB_OK;
    }
    default:
        break;
    }
    return jd_fail(c, GB_ERR_INVALID, f,
                   "expected an unsigned 64-bit integer (number or decimal string), got %s",
                   jd_type_name(v));
}

static gb_status jd_i64(jd *c, const char *f, json_t *v, int64_t *out)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        *out = 0;
        return GB_OK;
    case JSON_INTEGER:
        *out = (int64_t)json_integer_value(v);
        return GB_OK;
    case JSON_REAL: {
        double d = json_real_value(v);
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d)) break;
        *out = (int64_t)d;
        return GB_OK;
    }
    case JSON_STRING: {
        bool neg;
        uint64_t m;
        if (!jd_parse_dec(json_string_value(v), json_string_length(v), true, &neg, &m)) break;
        if (neg ? m > (uint64_t)INT64_MAX + 1 : m > (uint64_t)INT64_MAX) break;
        *out = neg ? (int64_t)(0 - m) : (int64_t)m;
        return GB_OK;
    }
    default:
        break;
    }
    return jd_fail(c, GB_ERR_INVALID, f,
                   "expected a signed 64-bit integer (number or decimal string), got %s",
                   jd_type_name(v));
}

static gb_status jd_u32(jd *c, const char *f, json_t *v, uint32_t *out)
{
    uint64_t u = 0;
    gb_status st = jd_u64(c, f, v, &u);
    if (st) return st;
    if (u > UINT32_MAX)
        return jd_fail(c, GB_ERR_INVALID, f, "expected an unsigned 32-bit integer, out of range");
    *out = (uint32_t)u;
    return GB_OK;
}

static gb_status jd_i32(jd *c, const char *f, json_t *v, int32_t *out)
{
    int64_t i = 0;
    gb_status st = jd_i64(c, f, v, &i);
    if (st) return st;
    if (i < INT32_MIN || i > INT32_MAX)
        return jd_fail(c, GB_ERR_INVALID, f, "expected a signed 32-bit integer, out of range");
    *out = (int32_t)i;
    return GB_OK;
}

static gb_status jd_double(jd *c, const char *f, json_t *v, double *out)
{
    switch (json_typeof(v)) {
    case JSON_NULL:
        *out = 0;
        return GB_OK;
    case JSON_INTEGER:
        *out = (double)json_integer_value(v);
        return GB_OK;
    case JSON_REAL:
        *out = json_real_value(v);
        return GB_OK;
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (strcmp(s, "NaN") == 0)
            *out = NAN;
        else if (strcmp(s, "Infinity") == 0)
            *out = INFINITY;
        else if (strcmp(s, "-Infinity") == 0)
            *out = -INFINITY;
        else {
            if (n == 0 || n > 64 || strspn(s, "0123456789+-.eE") != n) break;
            char *end;
            errno = 0;
            double d = strtod(s, &end);
            if (end != s + n || (errno == ERANGE && isinf(d))) break;
            *out = d;
        }
        return GB_OK;
    }
    default:
        break;
    }
    return jd_fail(c, GB_ERR_INVALID, f,
                   "expected a number or \"NaN\"/\"Infinity\"/\"-Infinity\", got %s",
                   jd_type_name(v));
}

/* Enum names, indexed by value; NULL entries are gaps. */
static const char *const span_kind_names[] = {
    "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
};
static const char *const status_code_names[] = {
    "STATUS_CODE_UNSET",
    "STATUS_CODE_OK",
    "STATUS_CODE_ERROR",
};
static const char *const temporality_names[] = {
    "AGGREGATION_TEMPORALITY_UNSPECIFIED",
    "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE",
};
static const char *const severity_names[] = {
    "SEVERITY_NUMBER_UNSPECIFIED", "SEVERITY_NUMBER_TRACE",  "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",      "SEVERITY_NUMBER_TRACE4", "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",      "SEVERITY_NUMBER_DEBUG3", "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",        "SEVERITY_NUMBER_INFO2",  "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",       "SEVERITY_NUMBER_WARN",   "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",       "SEVERITY_NUMBER_WARN4",  "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",      "SEVERITY_NUMBER_ERROR3", "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",       "SEVERITY_NUMBER_FATAL2", "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4",
};

#define JD_ENUM(c, f, v, names, out)                                                               \
    jd_enum((c), (f), (v), (names), (int)(sizeof(names) / sizeof((names)[0])), (out))

static gb_status jd_enum(jd *c, const char *f, json_t *v, const char *const *names, int n,
                         int32_t *out)
{
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        for (int i = 0; i < n; i++) {
            if (strcmp(s, names[i]) == 0) {
                *out = i;
                return GB_OK;
            }
        }
        return jd_fail(c, GB_ERR_INVALID, f, "unknown enum name \"%.64s\"", s);
    }
    if (json_is_integer(v) || json_is_real(v) || json_is_null(v)) return jd_i32(c, f, v, out);
    return jd_fail(c, GB_ERR_INVALID, f, "expected an enum name or integer, got %s",
                   jd_type_name(v));
}

static int jd_hexval(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    ch |= 0x20;
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

/* Hex id of exactly n bytes; "" (or null) leaves out zeroed. */
static gb_status jd_hex_id(jd *c, const char *f, json_t *v, uint8_t *out, size_t n)
{
    memset(out, 0, n);
    if (json_is_null(v)) return GB_OK;
    if (!json_is_string(v))
        return jd_fail(c, GB_ERR_INVALID, f, "expected a hex string, got %s", jd_type_name(v));
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    size_t len = json_string_length(v);
    if (len == 0) return GB_OK;
    if (len != 2 * n)
        return jd_fail(c, GB_ERR_INVALID, f, "expected %zu hex digits, got %zu characters", 2 * n,
                       len);
    for (size_t i = 0; i < n; i++) {
        int hi = jd_hexval(s[2 * i]), lo = jd_hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return jd_fail(c, GB_ERR_INVALID, f,
                           "expected %zu hex digits, found a non-hex "
                           "character",
                           2 * n);
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return GB_OK;
}

static int jd_b64val(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+' || ch == '-') return 62;
    if (ch == '/' || ch == '_') return 63;
    return -1;
}

/* Base64, standard or URL-safe alphabet, padding optional. */
static gb_status jd_base64(jd *c, const char *f, json_t *v, gb_str *out)
{
    *out = GB_STR_NULL;
    if (json_is_null(v)) return GB_OK;
    if (!json_is_string(v))
        return jd_fail(c, GB_ERR_INVALID, f, "expected a base64 string, got %s", jd_type_name(v));
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    size_t n = json_string_length(v);
    while (n > 0 && s[n - 1] == '=')
        n--;
    size_t pad = json_string_length(v) - n;
    if (n % 4 == 1 || pad > 2 || (pad && (n + pad) % 4 != 0))
        return jd_fail(c, GB_ERR_INVALID, f, "invalid base64 length");
    if (n == 0) return GB_OK;
    uint8_t *d = gb_arena_alloc(c->arena, n / 4 * 3 + 3);
    if (!d) return jd_nomem(c);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int x = jd_b64val(s[i]);
        if (x < 0) return jd_fail(c, GB_ERR_INVALID, f, "invalid base64 character");
        acc = acc << 6 | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            d[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out = gb_str_n(d, o);
    return GB_OK;
}

/* ---- lists -------------------------------------------------------------------------------- */

/* Checks that v is an array (null = empty) and allocates a zeroed element array for it. */
static gb_status jd_list(jd *c, const char *f, json_t *v, size_t elem, void **items, uint32_t *n)
{
    *items = NULL;
    *n = 0;
    if (json_is_null(v)) return GB_OK;
    if (!json_is_array(v))
        return jd_fail(c, GB_ERR_INVALID, f, "expected an array, got %s", jd_type_name(v));
    size_t len = json_array_size(v);
    if (len == 0) return GB_OK;
    if (len > UINT32_MAX) return jd_fail(c, GB_ERR_LIMIT, f, "too many elements");
    *items = gb_arena_calloc(c->arena, len, elem);
    if (!*items) return jd_nomem(c);
    *n = (uint32_t)len;
    return GB_OK;
}

static gb_status jd_need_object(jd *c, const char *f, json_t *v)
{
    if (json_is_object(v)) return GB_OK;
    return jd_fail(c, GB_ERR_INVALID, f, "expected an object, got %s", jd_type_name(v));
}

/* Decodes a list of messages with fn(c, element, item). */
typedef gb_status (*jd_elem_fn)(jd *c, json_t *v, void *item);

static gb_status jd_msg_list(jd *c, const char *f, json_t *v, size_t elem, jd_elem_fn fn,
                             void **items, uint32_t *n)
{
    gb_status st = jd_list(c, f, v, elem, items, n);
    if (st || *n == 0) return st;
    jd_push(c, f);
    for (uint32_t i = 0; i < *n && st == GB_OK; i++) {
        jd_at(c, i);
        json_t *e = json_array_get(v, i);
        if (json_is_null(e)) continue; /* an empty message */
        st = jd_need_object(c, NULL, e);
        if (st == GB_OK) st = fn(c, e, (char *)*items + (size_t)i * elem);
    }
    jd_pop(c);
    return st;
}

static gb_status jd_u64_list(jd *c, const char *f, json_t *v, uint64_t **items, uint32_t *n)
{
    void *p;
    gb_status st = jd_list(c, f, v, sizeof(uint64_t), &p, n);
    *items = p;
    for (uint32_t i = 0; i < *n && st == GB_OK; i++)
        st = jd_u64(c, f, json_array_get(v, i), &(*items)[i]);
    return st;
}

static gb_status jd_double_list(jd *c, const char *f, json_t *v, double **items, uint32_t *n)
{
    void *p;
    gb_status st = jd_list(c, f, v, sizeof(double), &p, n);
    *items = p;
    for (uint32_t i = 0; i < *n && st == GB_OK; i++)
        st = jd_double(c, f, json_array_get(v, i), &(*items)[i]);
    return st;
}

/* ---- common/v1 ---------------------------------------------------------------------------- */

static gb_status jd_any(jd *c, const char *f, json_t *v, pd_any *out);

static gb_status jd_kv(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {{"key", NULL}, {"value", NULL}};
    pd_kv *kv = item;
    const char *k;
    json_t *x;
    gb_status st = GB_OK;
    json_object_foreach(v, k, x)
    {
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_str(c, "key", x, &kv->key);
            break;
        case 1:
            st = jd_any(c, "value", x, &kv->value);
            break;
        default:
            break;
        }
        if (st) return st;
    }
    return GB_OK;
}

static gb_status jd_attrs(jd *c, const char *f, json_t *v, pd_attrs *out)
{
    void *p;
    gb_status st = jd_msg_list(c, f, v, sizeof(pd_kv), jd_kv, &p, &out->n);
    out->v = p;
    out->cap = out->n;
    return st;
}

/* ArrayValue / KeyValueList: {"values": [...]}, or the bare array. */
static json_t *jd_values_of(jd *c, const char *f, json_t *v, gb_status *st)
{
    *st = GB_OK;
    if (json_is_array(v) || json_is_null(v)) return v;
    if (!json_is_object(v)) {
        *st = jd_fail(c, GB_ERR_INVALID, f, "expected an object with \"values\", got %s",
                      jd_type_name(v));
        return NULL;
    }
    json_t *vals = json_object_get(v, "values");
    return vals ? vals : json_null();
}

static gb_status jd_any(jd *c, const char *f, json_t *v, pd_any *out)
{
    static const jd_key keys[] = {
        {"stringValue", "string_value"}, {"boolValue", "bool_value"},
        {"intValue", "int_value"},       {"doubleValue", "double_value"},
        {"arrayValue", "array_value"},   {"kvlistValue", "kvlist_value"},
        {"bytesValue", "bytes_value"},
    };
    memset(out, 0, sizeof *out);
    if (json_is_null(v)) return GB_OK;
    gb_status st = jd_need_object(c, f, v);
    if (st) return st;
    if (c->any_depth >= JD_MAX_ANY_DEPTH)
        return jd_fail(c, GB_ERR_INVALID, f, "AnyValue nested deeper than %d levels",
                       JD_MAX_ANY_DEPTH);
    c->any_depth++;
    if (f) jd_push_field(c, f);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        int id = JD_LOOKUP(keys, k);
        if (id < 0 || json_is_null(x)) continue;
        memset(&out->u, 0, sizeof out->u);
        switch (id) {
        case 0:
            out->type = PD_ANY_STR;
            st = jd_str(c, "stringValue", x, &out->u.str);
            break;
        case 1:
            out->type = PD_ANY_BOOL;
            st = jd_bool(c, "boolValue", x, &out->u.b);
            break;
        case 2:
            out->type = PD_ANY_INT;
            st = jd_i64(c, "intValue", x, &out->u.i);
            break;
        case 3:
            out->type = PD_ANY_DOUBLE;
            st = jd_double(c, "doubleValue", x, &out->u.d);
            break;
        case 4: {
            out->type = PD_ANY_ARRAY;
            json_t *vals = jd_values_of(c, "arrayValue", x, &st);
            void *p = NULL;
            if (st == GB_OK)
                st = jd_list(c, "arrayValue.values", vals, sizeof(pd_any), &p, &out->u.arr.n);
            out->u.arr.v = p;
            if (out->u.arr.n) jd_push(c, "arrayValue.values");
            for (uint32_t i = 0; i < out->u.arr.n && st == GB_OK; i++) {
                jd_at(c, i);
                st = jd_any(c, NULL, json_array_get(vals, i), &out->u.arr.v[i]);
            }
            if (out->u.arr.n) jd_pop(c);
            break;
        }
        case 5: {
            out->type = PD_ANY_KVLIST;
            json_t *vals = jd_values_of(c, "kvlistValue", x, &st);
            pd_attrs a = {0};
            if (st == GB_OK) st = jd_attrs(c, "kvlistValue.values", vals, &a);
            out->u.kvl.v = a.v;
            out->u.kvl.n = a.n;
            break;
        }
        case 6:
            out->type = PD_ANY_BYTES;
            st = jd_base64(c, "bytesValue", x, &out->u.str);
            break;
        default:
            break;
        }
        if (st) break;
    }
    if (f) jd_pop(c);
    c->any_depth--;
    return st;
}

/* ResourceSpans/ScopeSpans and their metrics and logs twins differ only in types and names: key
 * 0 is "resource" or "scope", key 1 the list of children, key 2 "schemaUrl". One macro defines
 * all six. */
#define JD_CONTAINER(fn, T, head_key, head_fn, head, list_json, list_proto, child_T, child_fn,     \
                     arr, cnt)                                                                     \
    static gb_status fn(jd *c, json_t *v, void *item)                                              \
    {                                                                                              \
        static const jd_key keys[] = {                                                             \
            {head_key, NULL}, {list_json, list_proto}, {"schemaUrl", "schema_url"}};               \
        T *o = item;                                                                               \
        gb_status st = GB_OK;                                                                      \
        void *p;                                                                                   \
        const char *k;                                                                             \
        json_t *x;                                                                                 \
        json_object_foreach(v, k, x)                                                               \
        {                                                                                          \
            switch (JD_LOOKUP(keys, k)) {                                                          \
            case 0:                                                                                \
                st = head_fn(c, x, &o->head);                                                      \
                break;                                                                             \
            case 1:                                                                                \
                st = jd_msg_list(c, list_json, x, sizeof(child_T), child_fn, &p, &o->cnt);         \
                o->arr = p;                                                                        \
                break;                                                                             \
            case 2:                                                                                \
                st = jd_str(c, "schemaUrl", x, &o->schema_url);                                    \
                break;                                                                             \
            default:                                                                               \
                break;                                                                             \
            }                                                                                      \
            if (st) return st;                                                                     \
        }                                                                                          \
        return GB_OK;                                                                              \
    }

static gb_status jd_resource(jd *c, json_t *v, pd_resource *out)
{
    static const jd_key keys[] = {
        {"attributes", NULL},
        {"droppedAttributesCount", "dropped_attributes_count"},
    };
    if (json_is_null(v)) return GB_OK;
    gb_status st = jd_need_object(c, "resource", v);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (st) break;
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_attrs(c, "resource.attributes", x, &out->attrs);
            break;
        case 1:
            st = jd_u32(c, "resource.droppedAttributesCount", x, &out->dropped_attributes_count);
            break;
        default:
            break;
        }
    }
    return st;
}

static gb_status jd_scope(jd *c, json_t *v, pd_scope *out)
{
    static const jd_key keys[] = {
        {"name", NULL},
        {"version", NULL},
        {"attributes", NULL},
        {"droppedAttributesCount", "dropped_attributes_count"},
    };
    if (json_is_null(v)) return GB_OK;
    gb_status st = jd_need_object(c, "scope", v);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (st) break;
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_str(c, "scope.name", x, &out->name);
            break;
        case 1:
            st = jd_str(c, "scope.version", x, &out->version);
            break;
        case 2:
            st = jd_attrs(c, "scope.attributes", x, &out->attrs);
            break;
        case 3:
            st = jd_u32(c, "scope.droppedAttributesCount", x, &out->dropped_attributes_count);
            break;
        default:
            break;
        }
    }
    return st;
}

/* ---- trace/v1 ----------------------------------------------------------------------------- */

static gb_status jd_event(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {
        {"timeUnixNano", "time_unix_nano"},
        {"name", NULL},
        {"attributes", NULL},
        {"droppedAttributesCount", "dropped_attributes_count"},
    };
    pd_event *e = item;
    gb_status st = GB_OK;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_u64(c, "timeUnixNano", x, &e->time_unix_nano);
            break;
        case 1:
            st = jd_str(c, "name", x, &e->name);
            break;
        case 2:
            st = jd_attrs(c, "attributes", x, &e->attrs);
            break;
        case 3:
            st = jd_u32(c, "droppedAttributesCount", x, &e->dropped_attributes_count);
            break;
        default:
            break;
        }
        if (st) return st;
    }
    return GB_OK;
}

static gb_status jd_link(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {
        {"traceId", "trace_id"},
        {"spanId", "span_id"},
        {"traceState", "trace_state"},
        {"attributes", NULL},
        {"droppedAttributesCount", "dropped_attributes_count"},
        {"flags", NULL},
    };
    pd_link *l = item;
    gb_status st = GB_OK;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_hex_id(c, "traceId", x, l->trace_id.b, 16);
            break;
        case 1:
            st = jd_hex_id(c, "spanId", x, l->span_id.b, 8);
            break;
        case 2:
            st = jd_str(c, "traceState", x, &l->trace_state);
            break;
        case 3:
            st = jd_attrs(c, "attributes", x, &l->attrs);
            break;
        case 4:
            st = jd_u32(c, "droppedAttributesCount", x, &l->dropped_attributes_count);
            break;
        case 5:
            st = jd_u32(c, "flags", x, &l->flags);
            break;
        default:
            break;
        }
        if (st) return st;
    }
    return GB_OK;
}

static gb_status jd_status(jd *c, json_t *v, pd_span *s)
{
    static const jd_key keys[] = {{"message", NULL}, {"code", NULL}};
    if (json_is_null(v)) return GB_OK;
    gb_status st = jd_need_object(c, "status", v);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (st) break;
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_str(c, "status.message", x, &s->status.message);
            break;
        case 1:
            st = JD_ENUM(c, "status.code", x, status_code_names, &s->status.code);
            break;
        default:
            break;
        }
    }
    return st;
}

static gb_status jd_span(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {
        {"traceId", "trace_id"},
        {"spanId", "span_id"},
        {"traceState", "trace_state"},
        {"parentSpanId", "parent_span_id"},
        {"flags", NULL},
        {"name", NULL},
        {"kind", NULL},
        {"startTimeUnixNano", "start_time_unix_nano"},
        {"endTimeUnixNano", "end_time_unix_nano"},
        {"attributes", NULL},
        {"droppedAttributesCount", "dropped_attributes_count"},
        {"events", NULL},
        {"droppedEventsCount", "dropped_events_count"},
        {"links", NULL},
        {"droppedLinksCount", "dropped_links_count"},
        {"status", NULL},
    };
    pd_span *s = item;
    gb_status st = GB_OK;
    void *p;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_hex_id(c, "traceId", x, s->trace_id.b, 16);
            break;
        case 1:
            st = jd_hex_id(c, "spanId", x, s->span_id.b, 8);
            break;
        case 2:
            st = jd_str(c, "traceState", x, &s->trace_state);
            break;
        case 3:
            st = jd_hex_id(c, "parentSpanId", x, s->parent_span_id.b, 8);
            break;
        case 4:
            st = jd_u32(c, "flags", x, &s->flags);
            break;
        case 5:
            st = jd_str(c, "name", x, &s->name);
            break;
        case 6:
            st = JD_ENUM(c, "kind", x, span_kind_names, &s->kind);
            break;
        case 7:
            st = jd_u64(c, "startTimeUnixNano", x, &s->start_time_unix_nano);
            break;
        case 8:
            st = jd_u64(c, "endTimeUnixNano", x, &s->end_time_unix_nano);
            break;
        case 9:
            st = jd_attrs(c, "attributes", x, &s->attrs);
            break;
        case 10:
            st = jd_u32(c, "droppedAttributesCount", x, &s->dropped_attributes_count);
            break;
        case 11:
            st = jd_msg_list(c, "events", x, sizeof(pd_event), jd_event, &p, &s->n_events);
            s->events = p;
            break;
        case 12:
            st = jd_u32(c, "droppedEventsCount", x, &s->dropped_events_count);
            break;
        case 13:
            st = jd_msg_list(c, "links", x, sizeof(pd_link), jd_link, &p, &s->n_links);
            s->links = p;
            break;
        case 14:
            st = jd_u32(c, "droppedLinksCount", x, &s->dropped_links_count);
            break;
        case 15:
            st = jd_status(c, x, s);
            break;
        default:
            break;
        }
        if (st) return st;
    }
    return GB_OK;
}

JD_CONTAINER(jd_scope_spans, pd_scope_spans, "scope", jd_scope, scope, "spans", NULL, pd_span,
             jd_span, spans, n_spans)

JD_CONTAINER(jd_resource_spans, pd_resource_spans, "resource", jd_resource, resource, "scopeSpans",
             "scope_spans", pd_scope_spans, jd_scope_spans, scope_spans, n_scope_spans)

/* ---- metrics/v1 --------------------------------------------------------------------------- */

static gb_status jd_exemplar(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {
        {"filteredAttributes", "filtered_attributes"},
        {"timeUnixNano", "time_unix_nano"},
        {"asDouble", "as_double"},
        {"asInt", "as_int"},
        {"spanId", "span_id"},
        {"traceId", "trace_id"},
    };
    pd_exemplar *e = item;
    gb_status st = GB_OK;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        int id = JD_LOOKUP(keys, k);
        switch (id) {
        case 0:
            st = jd_attrs(c, "filteredAttributes", x, &e->filtered_attrs);
            break;
        case 1:
            st = jd_u64(c, "timeUnixNano", x, &e->time_unix_nano);
            break;
        case 2:
            if (json_is_null(x)) break;
            e->value_type = PD_NUM_DOUBLE;
            st = jd_double(c, "asDouble", x, &e->value.d);
            break;
        case 3:
            if (json_is_null(x)) break;
            e->value_type = PD_NUM_INT;
            st = jd_i64(c, "asInt", x, &e->value.i);
            break;
        case 4:
            st = jd_hex_id(c, "spanId", x, e->span_id.b, 8);
            break;
        case 5:
            st = jd_hex_id(c, "traceId", x, e->trace_id.b, 16);
            break;
        default:
            break;
        }
        if (st) return st;
    }
    return GB_OK;
}

/* Fields shared by every data point kind. Returns 1 when k was one of them (st set), 0 if not. */
enum { DP_ATTRS, DP_START, DP_TIME, DP_FLAGS, DP_EXEMPLARS, DP_COMMON_N };
static const jd_key dp_common_keys[] = {
    {"attributes", NULL},
    {"startTimeUnixNano", "start_time_unix_nano"},
    {"timeUnixNano", "time_unix_nano"},
    {"flags", NULL},
    {"exemplars", NULL},
};

typedef struct jd_dp_common {
    pd_attrs *attrs;
    uint64_t *start, *time;
    uint32_t *flags;
    pd_exemplar **exemplars; /* NULL for summary points */
    uint32_t *n_exemplars;
} jd_dp_common;

static int jd_dp_common_field(jd *c, const char *k, json_t *x, const jd_dp_common *d, gb_status *st)
{
    void *p;
    switch (JD_LOOKUP(dp_common_keys, k)) {
    case DP_ATTRS:
        *st = jd_attrs(c, "attributes", x, d->attrs);
        return 1;
    case DP_START:
        *st = jd_u64(c, "startTimeUnixNano", x, d->start);
        return 1;
    case DP_TIME:
        *st = jd_u64(c, "timeUnixNano", x, d->time);
        return 1;
    case DP_FLAGS:
        *st = jd_u32(c, "flags", x, d->flags);
        return 1;
    case DP_EXEMPLARS:
        if (!d->exemplars) return 0;
        *st = jd_msg_list(c, "exemplars", x, sizeof(pd_exemplar), jd_exemplar, &p, d->n_exemplars);
        *d->exemplars = p;
        return 1;
    default:
        return 0;
    }
}

static gb_status jd_number_dp(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {{"asDouble", "as_double"}, {"asInt", "as_int"}};
    pd_number_dp *dp = item;
    jd_dp_common d = {&dp->attrs,     &dp->start_time_unix_nano, &dp->time_unix_nano, &dp->flags,
                      &dp->exemplars, &dp->n_exemplars};
    gb_status st = GB_OK;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (!jd_dp_common_field(c, k, x, &d, &st)) {
            switch (JD_LOOKUP(keys, k)) {
            case 0:
                if (json_is_null(x)) break;
                dp->value_type = PD_NUM_DOUBLE;
                st = jd_double(c, "asDouble", x, &dp->value.d);
                break;
            case 1:
                if (json_is_null(x)) break;
                dp->value_type = PD_NUM_INT;
                st = jd_i64(c, "asInt", x, &dp->value.i);
                break;
            default:
                break;
            }
        }
        if (st) return st;
    }
    return GB_OK;
}

/* Optional double (sum/min/max): null leaves it unset. */
static gb_status jd_opt_double(jd *c, const char *f, json_t *x, bool *has, double *out)
{
    if (json_is_null(x)) {
        *has = false;
        *out = 0;
        return GB_OK;
    }
    *has = true;
    return jd_double(c, f, x, out);
}

static gb_status jd_histogram_dp(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {
        {"count", NULL},
        {"sum", NULL},
        {"bucketCounts", "bucket_counts"},
        {"explicitBounds", "explicit_bounds"},
        {"min", NULL},
        {"max", NULL},
    };
    pd_histogram_dp *dp = item;
    jd_dp_common d = {&dp->attrs,     &dp->start_time_unix_nano, &dp->time_unix_nano, &dp->flags,
                      &dp->exemplars, &dp->n_exemplars};
    gb_status st = GB_OK;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (!jd_dp_common_field(c, k, x, &d, &st)) {
            switch (JD_LOOKUP(keys, k)) {
            case 0:
                st = jd_u64(c, "count", x, &dp->count);
                break;
            case 1:
                st = jd_opt_double(c, "sum", x, &dp->has_sum, &dp->sum);
                break;
            case 2:
                st = jd_u64_list(c, "bucketCounts", x, &dp->bucket_counts, &dp->n_bucket_counts);
                break;
            case 3:
                st = jd_double_list(c, "explicitBounds", x, &dp->explicit_bounds,
                                    &dp->n_explicit_bounds);
                break;
            case 4:
                st = jd_opt_double(c, "min", x, &dp->has_min, &dp->min);
                break;
            case 5:
                st = jd_opt_double(c, "max", x, &dp->has_max, &dp->max);
                break;
            default:
                break;
            }
        }
        if (st) return st;
    }
    return GB_OK;
}

static gb_status jd_exp_buckets(jd *c, const char *f, json_t *v, pd_exp_buckets *b)
{
    static const jd_key keys[] = {{"offset", NULL}, {"bucketCounts", "bucket_counts"}};
    if (json_is_null(v)) return GB_OK;
    gb_status st = jd_need_object(c, f, v);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (st) break;
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_i32(c, f, x, &b->offset);
            break;
        case 1:
            st = jd_u64_list(c, f, x, &b->bucket_counts, &b->n_bucket_counts);
            break;
        default:
            break;
        }
    }
    return st;
}

static gb_status jd_exp_histogram_dp(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {
        {"count", NULL},
        {"sum", NULL},
        {"scale", NULL},
        {"zeroCount", "zero_count"},
        {"positive", NULL},
        {"negative", NULL},
        {"min", NULL},
        {"max", NULL},
        {"zeroThreshold", "zero_threshold"},
    };
    pd_exp_histogram_dp *dp = item;
    jd_dp_common d = {&dp->attrs,     &dp->start_time_unix_nano, &dp->time_unix_nano, &dp->flags,
                      &dp->exemplars, &dp->n_exemplars};
    gb_status st = GB_OK;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (!jd_dp_common_field(c, k, x, &d, &st)) {
            switch (JD_LOOKUP(keys, k)) {
            case 0:
                st = jd_u64(c, "count", x, &dp->count);
                break;
            case 1:
                st = jd_opt_double(c, "sum", x, &dp->has_sum, &dp->sum);
                break;
            case 2:
                st = jd_i32(c, "scale", x, &dp->scale);
                break;
            case 3:
                st = jd_u64(c, "zeroCount", x, &dp->zero_count);
                break;
            case 4:
                st = jd_exp_buckets(c, "positive", x, &dp->positive);
                break;
            case 5:
                st = jd_exp_buckets(c, "negative", x, &dp->negative);
                break;
            case 6:
                st = jd_opt_double(c, "min", x, &dp->has_min, &dp->min);
                break;
            case 7:
                st = jd_opt_double(c, "max", x, &dp->has_max, &dp->max);
                break;
            case 8:
                st = jd_double(c, "zeroThreshold", x, &dp->zero_threshold);
                break;
            default:
                break;
            }
        }
        if (st) return st;
    }
    return GB_OK;
}

static gb_status jd_quantile(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {{"quantile", NULL}, {"value", NULL}};
    pd_quantile *q = item;
    gb_status st = GB_OK;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_double(c, "quantile", x, &q->quantile);
            break;
        case 1:
            st = jd_double(c, "value", x, &q->value);
            break;
        default:
            break;
        }
        if (st) return st;
    }
    return GB_OK;
}

static gb_status jd_summary_dp(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {
        {"count", NULL},
        {"sum", NULL},
        {"quantileValues", "quantile_values"},
    };
    pd_summary_dp *dp = item;
    jd_dp_common d = {&dp->attrs, &dp->start_time_unix_nano, &dp->time_unix_nano, &dp->flags, NULL,
                      NULL};
    gb_status st = GB_OK;
    void *p;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        if (!jd_dp_common_field(c, k, x, &d, &st)) {
            switch (JD_LOOKUP(keys, k)) {
            case 0:
                st = jd_u64(c, "count", x, &dp->count);
                break;
            case 1:
                st = jd_double(c, "sum", x, &dp->sum);
                break;
            case 2:
                st = jd_msg_list(c, "quantileValues", x, sizeof(pd_quantile), jd_quantile, &p,
                                 &dp->n_quantiles);
                dp->quantiles = p;
                break;
            default:
                break;
            }
        }
        if (st) return st;
    }
    return GB_OK;
}

/* gauge / sum / histogram / exponentialHistogram / summary body. */
static gb_status jd_metric_data(jd *c, const char *f, json_t *v, pd_metric *m)
{
    static const jd_key keys[] = {
        {"dataPoints", "data_points"},
        {"aggregationTemporality", "aggregation_temporality"},
        {"isMonotonic", "is_monotonic"},
    };
    static const struct {
        size_t size;
        jd_elem_fn fn;
    } kinds[] = {
        [PD_METRIC_GAUGE] = {sizeof(pd_number_dp), jd_number_dp},
        [PD_METRIC_SUM] = {sizeof(pd_number_dp), jd_number_dp},
        [PD_METRIC_HISTOGRAM] = {sizeof(pd_histogram_dp), jd_histogram_dp},
        [PD_METRIC_EXP_HISTOGRAM] = {sizeof(pd_exp_histogram_dp), jd_exp_histogram_dp},
        [PD_METRIC_SUMMARY] = {sizeof(pd_summary_dp), jd_summary_dp},
    };
    gb_status st = GB_OK;
    /* A later data field replaces an earlier one (oneof): reset what it carried. */
    m->temporality = 0;
    m->is_monotonic = false;
    m->dp.number = NULL;
    m->n_dp = 0;
    if (json_is_null(v)) return GB_OK;
    st = jd_need_object(c, f, v);
    const char *k;
    json_t *x;
    void *p;
    json_object_foreach(v, k, x)
    {
        if (st) break;
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_msg_list(c, "dataPoints", x, kinds[m->type].size, kinds[m->type].fn, &p,
                             &m->n_dp);
            m->dp.number = p;
            break;
        case 1:
            if (m->type == PD_METRIC_GAUGE || m->type == PD_METRIC_SUMMARY) break;
            st = JD_ENUM(c, "aggregationTemporality", x, temporality_names, &m->temporality);
            break;
        case 2:
            if (m->type != PD_METRIC_SUM) break;
            st = jd_bool(c, "isMonotonic", x, &m->is_monotonic);
            break;
        default:
            break;
        }
    }
    return st;
}

static gb_status jd_metric(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {
        {"name", NULL},
        {"description", NULL},
        {"unit", NULL},
        {"gauge", NULL},
        {"sum", NULL},
        {"histogram", NULL},
        {"exponentialHistogram", "exponential_histogram"},
        {"summary", NULL},
        {"metadata", NULL},
    };
    static const pd_metric_type types[] = {
        PD_METRIC_GAUGE,         PD_METRIC_SUM,     PD_METRIC_HISTOGRAM,
        PD_METRIC_EXP_HISTOGRAM, PD_METRIC_SUMMARY,
    };
    pd_metric *m = item;
    gb_status st = GB_OK;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        int id = JD_LOOKUP(keys, k);
        switch (id) {
        case 0:
            st = jd_str(c, "name", x, &m->name);
            break;
        case 1:
            st = jd_str(c, "description", x, &m->description);
            break;
        case 2:
            st = jd_str(c, "unit", x, &m->unit);
            break;
        case 3:
        case 4:
        case 5:
        case 6:
        case 7:
            if (json_is_null(x)) break;
            m->type = types[id - 3];
            st = jd_metric_data(c, keys[id].json, x, m);
            break;
        case 8:
            st = jd_attrs(c, "metadata", x, &m->metadata);
            break;
        default:
            break;
        }
        if (st) return st;
    }
    return GB_OK;
}

JD_CONTAINER(jd_scope_metrics, pd_scope_metrics, "scope", jd_scope, scope, "metrics", NULL,
             pd_metric, jd_metric, metrics, n_metrics)

JD_CONTAINER(jd_resource_metrics, pd_resource_metrics, "resource", jd_resource, resource,
             "scopeMetrics", "scope_metrics", pd_scope_metrics, jd_scope_metrics, scope_metrics,
             n_scope_metrics)

/* ---- logs/v1 ------------------------------------------------------------------------------ */

static gb_status jd_log(jd *c, json_t *v, void *item)
{
    static const jd_key keys[] = {
        {"timeUnixNano", "time_unix_nano"},
        {"observedTimeUnixNano", "observed_time_unix_nano"},
        {"severityNumber", "severity_number"},
        {"severityText", "severity_text"},
        {"body", NULL},
        {"attributes", NULL},
        {"droppedAttributesCount", "dropped_attributes_count"},
        {"flags", NULL},
        {"traceId", "trace_id"},
        {"spanId", "span_id"},
        {"eventName", "event_name"},
    };
    pd_log *l = item;
    gb_status st = GB_OK;
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x)
    {
        switch (JD_LOOKUP(keys, k)) {
        case 0:
            st = jd_u64(c, "timeUnixNano", x, &l->time_unix_nano);
            break;
        case 1:
            st = jd_u64(c, "observedTimeUnixNano", x, &l->observed_time_unix_nano);
            break;
        case 2:
            st = JD_ENUM(c, "severityNumber", x, severity_names, &l->severity_number);
            break;
        case 3:
            st = jd_str(c, "severityText", x, &l->severity_text);
            break;
        case 4:
            st = jd_any(c, "body", x, &l->body);
            break;
        case 5:
            st = jd_attrs(c, "attributes", x, &l->attrs);
            break;
        case 6:
            st = jd_u32(c, "droppedAttributesCount", x, &l->dropped_attributes_count);
            break;
        case 7:
            st = jd_u32(c, "flags", x, &l->flags);
            break;
        case 8:
            st = jd_hex_id(c, "traceId", x, l->trace_id.b, 16);
            break;
        case 9:
            st = jd_hex_id(c, "spanId", x, l->span_id.b, 8);
            break;
        case 10:
            st = jd_str(c, "eventName", x, &l->event_name);
            break;
        default:
            break;
        }
        if (st) return st;
    }
    return GB_OK;
}

JD_CONTAINER(jd_scope_logs, pd_scope_logs, "scope", jd_scope, scope, "logRecords", "log_records",
             pd_log, jd_log, logs, n_logs)

JD_CONTAINER(jd_resource_logs, pd_resource_logs, "resource", jd_resource, resource, "scopeLogs",
             "scope_logs", pd_scope_logs, jd_scope_logs, scope_logs, n_scope_logs)

/* ---- entry points ------------------------------------------------------------------------- */

/* Parse scratch. jansson allocates every node, key and string with malloc, and on OTLP payloads
 * (many small objects) malloc and free were half of its time. jansson's allocator is global, so
 * a pair is installed once, before main, that bump-allocates from a per-thread region while a
 * decode runs on that thread and defers to malloc/free otherwise. The DOM is never freed node by
 * node: the region is dropped at once after the walk (up to JD_KEEP_MAX of it is kept for the
 * thread's next parse, released when the thread exits). A pointer is recognised as scratch by
 * its address (a walk over the few chunks), so blocks that came from malloc before or outside a
 * decode are freed normally. Another user of json_set_alloc_funcs in the process would
 * conflict. */
typedef struct jd_chunk {
    struct jd_chunk *next;
    size_t size, used;
    _Alignas(16) unsigned char data[];
} jd_chunk;

typedef struct jd_scratch {
    jd_chunk *head;  /* chunks of the current parse, newest first */
    jd_chunk *spare; /* emptied chunks kept for the next parse on this thread */
    size_t spare_bytes;
    size_t next_size;
    bool active;
    bool registered; /* with jd_tls_key, for the thread-exit cleanup */
} jd_scratch;

#define JD_CHUNK_MIN (64u << 10)
#define JD_CHUNK_MAX (1u << 20)
#define JD_KEEP_MAX  (16u << 20) /* bytes of spare chunks a thread keeps between parses */

static _Thread_local jd_scratch jd_tls;
static pthread_key_t jd_tls_key; /* its destructor frees a thread's spare chunks when it exits */
static bool jd_key_ok;

static jd_chunk *jd_chunk_get(jd_scratch *s, size_t n)
{
    jd_chunk *c = s->spare;
    if (c && c->size >= n) {
        s->spare = c->next;
        s->spare_bytes -= c->size;
    } else {
        size_t size = s->next_size ? s->next_size : JD_CHUNK_MIN;
        if (size < n) size = n;
        c = malloc(sizeof *c + size);
        if (!c) return NULL;
        c->size = size;
        gb_mem_add((int64_t)(sizeof *c + size));
        if (s->next_size < JD_CHUNK_MAX) s->next_size = size * 2;
    }
    c->used = 0;
    c->next = s->head;
    s->head = c;
    return c;
}

static void *jd_malloc(size_t n)
{
    jd_scratch *s = &jd_tls;
    if (!s->active) return malloc(n);
    if (n > SIZE_MAX / 2) return NULL;
    n = (n + 15) & ~(size_t)15;
    jd_chunk *c = s->head;
    if (!c || c->size - c->used < n) {
        c = jd_chunk_get(s, n);
        if (!c) return NULL;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static void jd_free(void *p)
{
    if (!p) return;
    jd_scratch *s = &jd_tls;
    if (s->active) {
        for (jd_chunk *c = s->head; c; c = c->next)
            if ((unsigned char *)p >= c->data && (unsigned char *)p < c->data + c->size) return;
    }
    free(p);
}

static void jd_free_chunks(jd_chunk *c)
{
    while (c) {
        jd_chunk *n = c->next;
        gb_mem_add(-(int64_t)(sizeof *c + c->size));
        free(c);
        c = n;
    }
}

static void jd_thread_exit(void *arg)
{
    jd_scratch *s = arg;
    jd_free_chunks(s->spare);
    jd_free_chunks(s->head);
    *s = (jd_scratch){0};
}

/* Installed before main: switching allocators while other threads use jansson would race. */
__attribute__((constructor)) static void jd_set_alloc(void)
{
    jd_key_ok = pthread_key_create(&jd_tls_key, jd_thread_exit) == 0;
    json_set_alloc_funcs(jd_malloc, jd_free);
}

static void jd_scratch_begin(void)
{
    if (!jd_tls.registered && jd_key_ok) {
        pthread_setspecific(jd_tls_key, &jd_tls);
        jd_tls.registered = true;
    }
    jd_tls.active = true;
}

/* Drops the DOM built since jd_scratch_begin; keeps up to JD_KEEP_MAX of chunks for reuse. */
static void jd_scratch_end(void)
{
    jd_scratch *s = &jd_tls;
    jd_chunk *c = s->head;
    while (c) {
        jd_chunk *n = c->next;
        if (s->spare_bytes + c->size <= JD_KEEP_MAX) {
            c->next = s->spare;
            s->spare = c;
            s->spare_bytes += c->size;
        } else {
            gb_mem_add(-(int64_t)(sizeof *c + c->size));
            free(c);
        }
        c = n;
    }
    s->head = NULL;
    s->active = false;
}

/* Parses data into *root (scratch-allocated; release with jd_scratch_end whatever happens). */
static gb_status jd_load(const char *data, size_t len, otlp_error *err, json_t **root)
{
    json_error_t je;
    jd_scratch_begin();
    *root = json_loadb(data, len, JSON_ALLOW_NUL, &je);
    if (!*root) {
        if (err)
            snprintf(err->msg, sizeof err->msg, "json: line %d column %d: %s", je.line, je.column,
                     je.text);
        return GB_ERR_INVALID;
    }
    if (!json_is_object(*root)) {
        if (err) snprintf(err->msg, sizeof err->msg, "json: the top level must be an object");
        *root = NULL;
        return GB_ERR_INVALID;
    }
    return GB_OK;
}

/* Appends n items of elem bytes to the list (*items, *count) of the batch. */
static gb_status jd_append(gb_arena *a, void **items, uint32_t *count, void *add, uint32_t n,
                           size_t elem)
{
    if (n == 0) return GB_OK;
    if (*count == 0) {
        *items = add;
        *count = n;
        return GB_OK;
    }
    if ((uint64_t)*count + n > UINT32_MAX) return GB_ERR_LIMIT;
    void *p = gb_arena_alloc(a, ((size_t)*count + n) * elem);
    if (!p) return GB_ERR_NOMEM;
    memcpy(p, *items, (size_t)*count * elem);
    memcpy((char *)p + (size_t)*count * elem, add, (size_t)n * elem);
    *items = p;
    *count += n;
    return GB_OK;
}

gb_status otlp_decode_json(pd_batch *b, const char *data, size_t len, otlp_error *err)
{
    static const jd_key keys[PD_SIGNAL_COUNT][1] = {
        {{"resourceSpans", "resource_spans"}},
        {{"resourceMetrics", "resource_metrics"}},
        {{"resourceLogs", "resource_logs"}},
    };
    static const struct {
        size_t size;
        jd_elem_fn fn;
    } sig[PD_SIGNAL_COUNT] = {
        {sizeof(pd_resource_spans), jd_resource_spans},
        {sizeof(pd_resource_metrics), jd_resource_metrics},
        {sizeof(pd_resource_logs), jd_resource_logs},
    };
    if (err) err->msg[0] = '\0';
    if ((unsigned)b->signal >= PD_SIGNAL_COUNT) {
        if (err) snprintf(err->msg, sizeof err->msg, "json: unknown signal %d", (int)b->signal);
        return GB_ERR_INVALID;
    }
    json_t *root = NULL;
    gb_status st = jd_load(data, len, err, &root);
    if (st) goto out;
    jd c = {.arena = &b->arena, .err = err};
    void *items = NULL;
    uint32_t n = 0;
    const char *k;
    json_t *x;
    json_object_foreach(root, k, x)
    {
        if (jd_lookup(keys[b->signal], 1, k) != 0) continue;
        st = jd_msg_list(&c, keys[b->signal][0].json, x, sig[b->signal].size, sig[b->signal].fn,
                         &items, &n);
        if (st) goto out;
    }
    void **list = NULL;
    uint32_t *count = NULL;
    switch (b->signal) {
    case PD_TRACES:
        list = (void **)&b->u.traces.v;
        count = &b->u.traces.n;
        break;
    case PD_METRICS:
        list = (void **)&b->u.metrics.v;
        count = &b->u.metrics.n;
        break;
    case PD_LOGS:
        list = (void **)&b->u.logs.v;
        count = &b->u.logs.n;
        break;
    }
    st = jd_append(&b->arena, list, count, items, n, sig[b->signal].size);
    if (st) jd_fail(&c, st, NULL, "cannot append to the batch");
out:
    jd_scratch_end();
    return st;
}

gb_status otlp_decode_response_json(pd_signal s, const char *data, size_t len, int64_t *rejected,
                                    char *msg, size_t msg_size)
{
    static const jd_key root_keys[] = {{"partialSuccess", "partial_success"}};
    static const jd_key item_keys[PD_SIGNAL_COUNT][2] = {
        {{"rejectedSpans", "rejected_spans"}, {"errorMessage", "error_message"}},
        {{"rejectedDataPoints", "rejected_data_points"}, {"errorMessage", "error_message"}},
        {{"rejectedLogRecords", "rejected_log_records"}, {"errorMessage", "error_message"}},
    };
    *rejected = 0;
    if (msg && msg_size) msg[0] = '\0';
    if ((unsigned)s >= PD_SIGNAL_COUNT) return GB_ERR_INVALID;
    /* An empty body is the empty message. */
    size_t i = 0;
    while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
        i++;
    if (i == len) return GB_OK;
    json_t *root = NULL;
    gb_status st = jd_load(data, len, NULL, &root);
    if (st) {
        jd_scratch_end();
        return st;
    }
    jd c = {0};
    gb_arena scratch;
    gb_arena_init(&scratch, 256, 0);
    c.arena = &scratch;
    json_t *ps = NULL;
    const char *k;
    json_t *x;
    json_object_foreach(root, k, x)
    {
        if (JD_LOOKUP(root_keys, k) == 0) ps = x;
    }
    if (ps && !json_is_null(ps)) {
        if (!json_is_object(ps)) {
            st = GB_ERR_INVALID;
            goto out;
        }
        json_object_foreach(ps, k, x)
        {
            int id = jd_lookup(item_keys[s], 2, k);
            if (id == 0) {
                st = jd_i64(&c, "rejected", x, rejected);
            } else if (id == 1) {
                gb_str m;
                st = jd_str(&c, "errorMessage", x, &m);
                if (st == GB_OK && msg && msg_size) {
                    size_t n = m.len < msg_size - 1 ? m.len : msg_size - 1;
                    if (n) memcpy(msg, m.ptr, n);
                    msg[n] = '\0';
                }
            }
            if (st) goto out;
        }
    }
out:
    gb_arena_free(&scratch);
    jd_scratch_end();
    return st;
}
