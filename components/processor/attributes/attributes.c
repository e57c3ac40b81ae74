/* attributes processor (contrib processor/attributesprocessor).
 *
 * What: the `actions` list (processor/attraction) is applied in order to the attributes of every
 * span, log record, or metric data point, in place. `include` / `exclude` select which items are
 * processed (an item is processed when it matches include, if set, and does not match exclude,
 * if set). Match properties, with match_type strict (equality) or regexp (RE2 syntax, unanchored
 * search):
 *   traces:  services (resource service.name), span_names, span_kinds (SPAN_KIND_SERVER, ...),
 *            attributes (span), resources, libraries (scope name [+ version])
 *   logs:    log_bodies (string bodies), log_severity_texts, log_severity_number {min,
 *            match_undefined}, attributes (log record), resources,
 *            libraries
 *   metrics: metric_names, resources, libraries
 * Inside one property a list matches when any entry matches (attributes/resources: all entries
 * must match); all properties that are set must match. Unsupported properties
 * (match_type expr, properties of another signal) are configuration errors.
 *
 * How: matchers are compiled at create; resource and scope matches are computed once per
 * resource/scope, item matches per item. No allocation on the data path. */
#include "attributes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"
#include "processor/procutil/procutil.h"

/* ---- config tables ------------------------------------------------------------------------ */

static const cfg_field kv_fields[] = {
    {.key = "key",
     .type = CFG_T_STRING,
     .offset = offsetof(attributes_kv_cfg, key),
     .doc = "attribute key",
     .flags = CFG_F_REQUIRED},
    {.key = "value",
     .type = CFG_T_ANY,
     .offset = offsetof(attributes_kv_cfg, value),
     .doc = "value to match (absent: the key must exist)"},
};
static CFG_TABLE(kv_table, kv_fields, NULL);

static const cfg_field lib_fields[] = {
    {.key = "name",
     .type = CFG_T_STRING,
     .offset = offsetof(attributes_lib_cfg, name),
     .doc = "instrumentation scope name",
     .flags = CFG_F_REQUIRED},
    {.key = "version",
     .type = CFG_T_STRING,
     .offset = offsetof(attributes_lib_cfg, version),
     .doc = "instrumentation scope version (optional)"},
};
static CFG_TABLE(lib_table, lib_fields, NULL);

typedef struct sev_cfg {
    char *min;
    bool match_undefined;
} sev_cfg;

static const cfg_field sev_fields[] = {
    {.key = "min",
     .type = CFG_T_STRING,
     .offset = offsetof(sev_cfg, min),
     .doc = "lowest severity that matches: TRACE .. FATAL4, or 1-24",
     .flags = CFG_F_REQUIRED},
    {.key = "match_undefined",
     .type = CFG_T_BOOL,
     .offset = offsetof(sev_cfg, match_undefined),
     .def = "false",
     .doc = "also match records without a severity number"},
};
static CFG_TABLE(sev_table, sev_fields, NULL);

#define STRINGS_FIELD(k, member, d)                                                                \
    {                                                                                              \
        .key = k, .type = CFG_T_STRINGS, .offset = offsetof(attributes_match_cfg, member),         \
        .doc = d                                                                                   \
    }

static const cfg_field match_fields[] = {
    {.key = "match_type",
     .type = CFG_T_STRING,
     .offset = offsetof(attributes_match_cfg, match_type),
     .doc = "strict or regexp"},
    STRINGS_FIELD("services", services, "service.name values (traces)"),
    STRINGS_FIELD("span_names", span_names, "span names (traces)"),
    STRINGS_FIELD("log_bodies", log_bodies, "log bodies (logs)"),
    STRINGS_FIELD("log_severity_texts", log_severity_texts, "severity texts (logs)"),
    STRINGS_FIELD("metric_names", metric_names, "metric names (metrics)"),
    {.key = "attributes",
     .type = CFG_T_LIST,
     .offset = offsetof(attributes_match_cfg, attributes),
     .doc = "item attributes that must all match",
     .sub = &kv_table,
     .elem_size = sizeof(attributes_kv_cfg)},
    {.key = "resources",
     .type = CFG_T_LIST,
     .offset = offsetof(attributes_match_cfg, resources),
     .doc = "resource attributes that must all match",
     .sub = &kv_table,
     .elem_size = sizeof(attributes_kv_cfg)},
    {.key = "libraries",
     .type = CFG_T_LIST,
     .offset = offsetof(attributes_match_cfg, libraries),
     .doc = "instrumentation scopes, any may match",
     .sub = &lib_table,
     .elem_size = sizeof(attributes_lib_cfg)},
    STRINGS_FIELD("span_kinds", span_kinds, "span kinds, e.g. SPAN_KIND_SERVER (traces)"),
    {.key = "log_severity_number",
     .type = CFG_T_SECTION,
     .offset = offsetof(attributes_match_cfg, log_severity_number),
     .doc = "minimum severity number (logs)",
     .flags = CFG_F_TRACK_SET,
     .sub = &sev_table,
     .set_offset = offsetof(attributes_match_cfg, log_severity_number_set)},
    {.key = "regexp",
     .type = CFG_T_ANY,
     .offset = offsetof(attributes_match_cfg, regexp),
     .doc = "regexp cache options (accepted; patterns are compiled once)"},
};
static CFG_TABLE(match_table, match_fields, NULL);

static void attributes_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d);

static const cfg_field attributes_fields[] = {
    ATTRACTION_LIST_FIELD("actions", attributes_cfg, actions, "actions applied in order"),
    {.key = "include",
     .type = CFG_T_SECTION,
     .offset = offsetof(attributes_cfg, include),
     .doc = "only items matching these properties are processed",
     .flags = CFG_F_TRACK_SET,
     .sub = &match_table,
     .set_offset = offsetof(attributes_cfg, include_set)},
    {.key = "exclude",
     .type = CFG_T_SECTION,
     .offset = offsetof(attributes_cfg, exclude),
     .doc = "items matching these properties are not processed",
     .flags = CFG_F_TRACK_SET,
     .sub = &match_table,
     .set_offset = offsetof(attributes_cfg, exclude_set)},
};

CFG_TABLE(attributes_cfg_table, attributes_fields, attributes_validate);

/* ---- compiled matchers ---------------------------------------------------------------------- */

typedef struct pat {
    gb_str s;             /* strict */
    attraction_regex *re; /* regexp */
} pat;

typedef struct pats {
    pat *v;
    uint32_t n;
} pats;

typedef struct kvpat {
    gb_str key;
    bool has_value;
    pd_any value;         /* strict */
    attraction_regex *re; /* regexp on string values */
} kvpat;

typedef struct kvpats {
    kvpat *v;
    uint32_t n;
} kvpats;

typedef struct libpat {
    pat name;
    bool has_version;
    pat version;
} libpat;

typedef struct filter {
    bool set;
    bool regexp;
    pats services, span_names, span_kinds, log_bodies, log_sev, metric_names;
    kvpats attributes, resources;
    libpat *libs;
    uint32_t n_libs;
    int32_t sev_min; /* 0 = not set */
    bool sev_undefined;
} filter;

typedef struct attributes_state {
    attraction *actions;
    filter include, exclude;
} attributes_state;

static bool pat_match(const pat *p, gb_str s)
{
    if (p->re) return attraction_regex_match(p->re, s, NULL, 0);
    return gb_str_eq(p->s, s);
}

static bool pats_any(const pats *ps, gb_str s)
{
    for (uint32_t i = 0; i < ps->n; i++)
        if (pat_match(&ps->v[i], s)) return true;
    return false;
}

static bool kvpats_all(const kvpats *ks, const pd_attrs *attrs)
{
    for (uint32_t i = 0; i < ks->n; i++) {
        const kvpat *k = &ks->v[i];
        pd_kv *kv = pd_attrs_find(attrs, k->key);
        if (!kv) return false;
        if (k->re) {
            char buf[PD_ANY_TEXT_MAX];
            gb_str text;
            if (!pd_any_scalar_text(&kv->value, buf, &text) ||
                !attraction_regex_match(k->re, text, NULL, 0))
                return false;
        } else if (k->has_value && !pd_any_equal(&kv->value, &k->value)) {
            return false;
        }
    }
    return true;
}

static void pat_free(pat *p)
{
    if (p->re) {
        attraction_regex_free(p->re);
        free(p->re);
    }
}

static void filter_free(filter *f)
{
    pats *all[] = {&f->services,   &f->span_names, &f->span_kinds,
                   &f->log_bodies, &f->log_sev,    &f->metric_names};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        for (uint32_t j = 0; j < all[i]->n; j++)
            pat_free(&all[i]->v[j]);
        free(all[i]->v);
    }
    kvpats *kv[] = {&f->attributes, &f->resources};
    for (size_t i = 0; i < 2; i++) {
        for (uint32_t j = 0; j < kv[i]->n; j++)
            if (kv[i]->v[j].re) {
                attraction_regex_free(kv[i]->v[j].re);
                free(kv[i]->v[j].re);
            }
        free(kv[i]->v);
    }
    for (uint32_t j = 0; j < f->n_libs; j++) {
        pat_free(&f->libs[j].name);
        pat_free(&f->libs[j].version);
    }
    free(f->libs);
    memset(f, 0, sizeof *f);
}

static gb_status pat_compile(const char *s, bool regexp, pat *p, char *err, size_t errlen)
{
    p->s = gb_str_c(s);
    if (!regexp) return GB_OK;
    p->re = calloc(1, sizeof *p->re);
    if (!p->re) return GB_ERR_NOMEM;
    gb_status st = attraction_regex_compile(s, p->re, err, errlen);
    if (st) {
        free(p->re);
        p->re = NULL;
    }
    return st;
}

static gb_status pats_compile(const cfg_strings *in, bool regexp, pats *out, char *err,
                              size_t errlen)
{
    if (in->n == 0) return GB_OK;
    out->v = calloc(in->n, sizeof(pat));
    if (!out->v) return GB_ERR_NOMEM;
    for (uint32_t i = 0; i < in->n; i++) {
        gb_status st = pat_compile(in->v[i], regexp, &out->v[i], err, errlen);
        out->n = i + 1;
        if (st) return st;
    }
    return GB_OK;
}

static gb_status kvpats_compile(const cfg_list *in, bool regexp, kvpats *out, char *err,
                                size_t errlen)
{
    if (in->n == 0) return GB_OK;
    out->v = calloc(in->n, sizeof(kvpat));
    if (!out->v) return GB_ERR_NOMEM;
    const attributes_kv_cfg *c = in->v;
    for (uint32_t i = 0; i < in->n; i++) {
        kvpat *k = &out->v[i];
        out->n = i + 1;
        if (!c[i].key || !*c[i].key) {
            snprintf(err, errlen, "an attribute to match needs a \"key\"");
            return GB_ERR_INVALID;
        }
        k->key = gb_str_c(c[i].key);
        pd_any v = {0};
        gb_status st = attraction_node_value(c[i].value, &v, err, errlen);
        if (st) return st;
        if (v.type == PD_ANY_EMPTY) continue;
        k->has_value = true;
        k->value = v;
        if (regexp) {
            if (v.type != PD_ANY_STR) {
                snprintf(err, errlen, "match_type regexp needs string values for attribute %s",
                         c[i].key);
                return GB_ERR_INVALID;
            }
            pat p = {0};
            st = pat_compile(c[i].value->scalar, true, &p, err, errlen);
            if (st) return st;
            k->re = p.re;
        }
    }
    return GB_OK;
}

/* Severity number from a name (contrib/plog: TRACE=1 .. FATAL4=24, case-insensitive, optional
 * 2-4 suffix) or a number 1-24; 0 when invalid. */
static int32_t parse_severity(const char *s)
{
    static const char *const names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};
    if (!s || !*s) return 0;
    if (s[0] >= '0' && s[0] <= '9') {
        char *end;
        long v = strtol(s, &end, 10);
        return !*end && v >= 1 && v <= 24 ? (int32_t)v : 0;
    }
    for (int i = 0; i < 6; i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(s, names[i], n) != 0) continue;
        if (s[n] == 0) return i * 4 + 1;
        if (s[n] >= '2' && s[n] <= '4' && s[n + 1] == 0) return i * 4 + (s[n] - '0');
    }
    return 0;
}

static gb_status filter_compile(const attributes_match_cfg *m, int signal, const char *what,
                                filter *f, char *err, size_t errlen)
{
    char sub[200];
    gb_status st = GB_OK;
    memset(f, 0, sizeof *f);
#define FAIL(...)                                                                                  \
    do {                                                                                           \
        snprintf(sub, sizeof sub, __VA_ARGS__);                                                    \
        snprintf(err, errlen, "%s: %s", what, sub);                                                \
        st = GB_ERR_INVALID;                                                                       \
        goto fail;                                                                                 \
    } while (0)
    if (!m->match_type) FAIL("\"match_type\" must be set (strict or regexp)");
    if (!strcasecmp(m->match_type, "regexp"))
        f->regexp = true;
    else if (strcasecmp(m->match_type, "strict"))
        FAIL("match_type \"%s\" is not supported (strict or regexp)", m->match_type);
    if (m->log_severity_number_set) {
        f->sev_min = parse_severity(m->log_severity_number.min);
        if (f->sev_min <= 0)
            FAIL("log_severity_number: invalid min \"%s\" (TRACE, DEBUG, INFO, WARN, ERROR, "
                 "FATAL with an optional 2-4 suffix, or 1-24)",
                 m->log_severity_number.min ? m->log_severity_number.min : "");
        f->sev_undefined = m->log_severity_number.match_undefined;
    }
    if (!m->services.n && !m->span_names.n && !m->span_kinds.n && !m->log_bodies.n &&
        !m->log_severity_texts.n && !m->log_severity_number_set && !m->metric_names.n &&
        !m->attributes.n && !m->resources.n && !m->libraries.n)
        FAIL("at least one of services, span_names, span_kinds, log_bodies, "
             "log_severity_texts, metric_names, attributes, resources or libraries must be set");
    if (signal == PD_TRACES) {
        if (m->log_bodies.n || m->log_severity_texts.n || m->log_severity_number_set)
            FAIL("log_bodies, log_severity_texts and log_severity_number do not apply to spans");
        if (m->metric_names.n) FAIL("metric_names does not apply to spans");
    } else if (signal == PD_LOGS) {
        if (m->services.n || m->span_names.n || m->span_kinds.n)
            FAIL("services, span_names and span_kinds do not apply to log records");
        if (m->metric_names.n) FAIL("metric_names does not apply to log records");
    } else if (signal == PD_METRICS) {
        if (m->services.n || m->span_names.n || m->span_kinds.n || m->log_bodies.n ||
            m->log_severity_texts.n || m->log_severity_number_set)
            FAIL("only metric_names, resources and libraries apply to metrics");
        if (m->attributes.n)
            FAIL("\"attributes\" matching is not supported for metrics (use resources)");
    }
    if ((st = pats_compile(&m->services, f->regexp, &f->services, sub, sizeof sub)) ||
        (st = pats_compile(&m->span_names, f->regexp, &f->span_names, sub, sizeof sub)) ||
        (st = pats_compile(&m->span_kinds, f->regexp, &f->span_kinds, sub, sizeof sub)) ||
        (st = pats_compile(&m->log_bodies, f->regexp, &f->log_bodies, sub, sizeof sub)) ||
        (st = pats_compile(&m->log_severity_texts, f->regexp, &f->log_sev, sub, sizeof sub)) ||
        (st = pats_compile(&m->metric_names, f->regexp, &f->metric_names, sub, sizeof sub)) ||
        (st = kvpats_compile(&m->attributes, f->regexp, &f->attributes, sub, sizeof sub)) ||
        (st = kvpats_compile(&m->resources, f->regexp, &f->resources, sub, sizeof sub))) {
        snprintf(err, errlen, "%s: %s", what, sub);
        goto fail;
    }
    if (m->libraries.n) {
        f->libs = calloc(m->libraries.n, sizeof(libpat));
        if (!f->libs) {
            st = GB_ERR_NOMEM;
            goto fail;
        }
        const attributes_lib_cfg *l = m->libraries.v;
        for (uint32_t i = 0; i < m->libraries.n; i++) {
            f->n_libs = i + 1;
            if (!l[i].name) FAIL("a library to match needs a \"name\"");
            st = pat_compile(l[i].name, f->regexp, &f->libs[i].name, sub, sizeof sub);
            if (st == GB_OK && l[i].version) {
                f->libs[i].has_version = true;
                st = pat_compile(l[i].version, f->regexp, &f->libs[i].version, sub, sizeof sub);
            }
            if (st) {
                snprintf(err, errlen, "%s: %s", what, sub);
                goto fail;
            }
        }
    }
#undef FAIL
    f->set = true;
    return GB_OK;
fail:
    filter_free(f);
    return st;
}

gb_status attributes_check(const attributes_cfg *c, int signal, char *err, size_t errlen)
{
    if (c->actions.n == 0) {
        snprintf(err, errlen, "missing required field \"actions\"");
        return GB_ERR_INVALID;
    }
    attraction *a = NULL;
    gb_status st = attraction_compile(c->actions.v, c->actions.n, "actions", &a, err, errlen);
    attraction_free(a);
    if (st) return st;
    filter f;
    if (c->include_set) {
        st = filter_compile(&c->include, signal, "include", &f, err, errlen);
        if (st) return st;
        filter_free(&f);
    }
    if (c->exclude_set) {
        st = filter_compile(&c->exclude, signal, "exclude", &f, err, errlen);
        if (st) return st;
        filter_free(&f);
    }
    return GB_OK;
}

static void attributes_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    char err[256];
    if (attributes_check(obj, -1, err, sizeof err) != GB_OK) procutil_diag(d, node, path, err);
}

/* ---- matching ------------------------------------------------------------------------------ */

/* Resource-level part of a filter (services, resources). */
static bool match_resource(const filter *f, const pd_resource *r)
{
    if (f->services.n) {
        /* as contrib: the value as text, "<nil-service-name>" when absent */
        char buf[PD_ANY_TEXT_MAX];
        gb_str name = GB_STR_LIT("<nil-service-name>");
        pd_kv *kv = pd_attrs_find(&r->attrs, GB_STR_LIT("service.name"));
        if (kv && !pd_any_scalar_text(&kv->value, buf, &name)) name = GB_STR_LIT("");
        if (!pats_any(&f->services, name)) return false;
    }
    return kvpats_all(&f->resources, &r->attrs);
}

static bool match_scope(const filter *f, const pd_scope *s)
{
    if (f->n_libs == 0) return true;
    for (uint32_t i = 0; i < f->n_libs; i++) {
        const libpat *l = &f->libs[i];
        if (!pat_match(&l->name, s->name)) continue;
        if (l->has_version && !pat_match(&l->version, s->version)) continue;
        return true;
    }
    return false;
}

/* contrib traceutil.SpanKindStr */
static gb_str span_kind_text(int32_t kind)
{
    static const char *const names[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                        "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                        "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
    return kind >= 0 && kind <= 5 ? gb_str_c(names[kind]) : GB_STR_LIT("");
}

static bool match_span(const filter *f, const pd_span *sp)
{
    if (f->span_names.n && !pats_any(&f->span_names, sp->name)) return false;
    if (f->span_kinds.n && !pats_any(&f->span_kinds, span_kind_text(sp->kind))) return false;
    return kvpats_all(&f->attributes, &sp->attrs);
}

static bool match_log(const filter *f, const pd_log *l)
{
    if (f->log_bodies.n) {
        if (l->body.type != PD_ANY_STR || !pats_any(&f->log_bodies, l->body.u.str)) return false;
    }
    if (f->log_sev.n && !pats_any(&f->log_sev, l->severity_text)) return false;
    if (f->sev_min) {
        if (l->severity_number == 0) {
            if (!f->sev_undefined) return false;
        } else if (l->severity_number < f->sev_min) {
            return false;
        }
    }
    return kvpats_all(&f->attributes, &l->attrs);
}

/* Level-wise evaluation: a filter that fails at the resource or scope level fails for every item
 * below it. in_* = include matched so far; ex_* = exclude matched so far. */
typedef struct sel {
    bool inc, exc;
} sel;

static sel sel_resource(const attributes_state *s, const pd_resource *r)
{
    sel v = {true, true};
    if (s->include.set) v.inc = match_resource(&s->include, r);
    if (s->exclude.set) v.exc = match_resource(&s->exclude, r);
    return v;
}

static sel sel_scope(const attributes_state *s, sel v, const pd_scope *sc)
{
    if (s->include.set && v.inc) v.inc = match_scope(&s->include, sc);
    if (s->exclude.set && v.exc) v.exc = match_scope(&s->exclude, sc);
    return v;
}

/* Final decision given the item-level results. */
static bool selected(const attributes_state *s, sel v, bool inc_item, bool exc_item)
{
    if (s->include.set && !(v.inc && inc_item)) return false;
    if (s->exclude.set && v.exc && exc_item) return false;
    return true;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void attributes_destroy(pl_component *c)
{
    attributes_state *s = c->state;
    if (!s) return;
    attraction_free(s->actions);
    filter_free(&s->include);
    filter_free(&s->exclude);
    free(s);
    c->state = NULL;
}

static gb_status attributes_create(pl_component *c)
{
    const attributes_cfg *cfg = c->cfg;
    char err[256];
    gb_status st = attributes_check(cfg, (int)c->signal, err, sizeof err);
    if (st) {
        gb_log(GB_LOG_ERROR, c->full_id, "invalid configuration: %s", err);
        return st;
    }
    attributes_state *s = calloc(1, sizeof *s);
    if (!s) return GB_ERR_NOMEM;
    c->state = s;
    st =
        attraction_compile(cfg->actions.v, cfg->actions.n, "actions", &s->actions, err, sizeof err);
    if (st == GB_OK && cfg->include_set)
        st = filter_compile(&cfg->include, (int)c->signal, "include", &s->include, err, sizeof err);
    if (st == GB_OK && cfg->exclude_set)
        st = filter_compile(&cfg->exclude, (int)c->signal, "exclude", &s->exclude, err, sizeof err);
    if (st) {
        gb_log(GB_LOG_ERROR, c->full_id, "invalid configuration: %s", err);
        attributes_destroy(c);
    }
    return st;
}

/* Traces and logs are walked alike, resource -> scope -> item; the resource and scope matches
 * are computed once per resource and scope. */
#define DEFINE_APPLY(FN, SIG, RES, SCOPE, SCOPES, N_SCOPES, ITEM, ITEMS, N_ITEMS, MATCH)           \
    static gb_status FN(const attributes_state *s, attraction_ctx *ctx, pd_batch *b)               \
    {                                                                                              \
        gb_status st = GB_OK;                                                                      \
        for (uint32_t i = 0; st == GB_OK && i < b->u.SIG.n; i++) {                                 \
            RES *rs = &b->u.SIG.v[i];                                                              \
            sel r = sel_resource(s, &rs->resource);                                                \
            if (s->include.set && !r.inc) continue;                                                \
            for (uint32_t j = 0; st == GB_OK && j < rs->N_SCOPES; j++) {                           \
                SCOPE *ss = &rs->SCOPES[j];                                                        \
                sel v = sel_scope(s, r, &ss->scope);                                               \
                if (s->include.set && !v.inc) continue;                                            \
                for (uint32_t k = 0; st == GB_OK && k < ss->N_ITEMS; k++) {                        \
                    ITEM *it = &ss->ITEMS[k];                                                      \
                    bool inc = !s->include.set || MATCH(&s->include, it);                          \
                    bool exc = s->exclude.set && v.exc && MATCH(&s->exclude, it);                  \
                    if (selected(s, v, inc, exc)) st = attraction_apply(ctx, &it->attrs);          \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
        return st;                                                                                 \
    }

DEFINE_APPLY(apply_traces, traces, pd_resource_spans, pd_scope_spans, scope_spans, n_scope_spans,
             pd_span, spans, n_spans, match_span)
DEFINE_APPLY(apply_logs, logs, pd_resource_logs, pd_scope_logs, scope_logs, n_scope_logs, pd_log,
             logs, n_logs, match_log)

static gb_status apply_dps(attraction_ctx *ctx, pd_metric *m)
{
    gb_status st = GB_OK;
    for (uint32_t i = 0; st == GB_OK && i < m->n_dp; i++) {
        switch (m->type) {
        case PD_METRIC_GAUGE:
        case PD_METRIC_SUM:
            st = attraction_apply(ctx, &m->dp.number[i].attrs);
            break;
        case PD_METRIC_HISTOGRAM:
            st = attraction_apply(ctx, &m->dp.histogram[i].attrs);
            break;
        case PD_METRIC_EXP_HISTOGRAM:
            st = attraction_apply(ctx, &m->dp.exp_histogram[i].attrs);
            break;
        case PD_METRIC_SUMMARY:
            st = attraction_apply(ctx, &m->dp.summary[i].attrs);
            break;
        case PD_METRIC_EMPTY:
            break;
        }
    }
    return st;
}

static gb_status apply_metrics(const attributes_state *s, attraction_ctx *ctx, pd_batch *b)
{
    gb_status st = GB_OK;
    for (uint32_t i = 0; st == GB_OK && i < b->u.metrics.n; i++) {
        pd_resource_metrics *rm = &b->u.metrics.v[i];
        sel r = sel_resource(s, &rm->resource);
        if (s->include.set && !r.inc) continue;
        for (uint32_t j = 0; st == GB_OK && j < rm->n_scope_metrics; j++) {
            pd_scope_metrics *sm = &rm->scope_metrics[j];
            sel v = sel_scope(s, r, &sm->scope);
            if (s->include.set && !v.inc) continue;
            for (uint32_t k = 0; st == GB_OK && k < sm->n_metrics; k++) {
                pd_metric *m = &sm->metrics[k];
                bool inc = !s->include.set || !s->include.metric_names.n ||
                           pats_any(&s->include.metric_names, m->name);
                bool exc =
                    s->exclude.set && v.exc &&
                    (!s->exclude.metric_names.n || pats_any(&s->exclude.metric_names, m->name));
                if (selected(s, v, inc, exc)) st = apply_dps(ctx, m);
            }
        }
    }
    return st;
}

static gb_status attributes_consume(pl_component *c, pd_batch *b)
{
    const attributes_state *s = c->state;
    attraction_ctx ctx;
    gb_status st = attraction_ctx_init(&ctx, s->actions, b);
    if (st == GB_OK) {
        switch (b->signal) {
        case PD_TRACES:
            st = apply_traces(s, &ctx, b);
            break;
        case PD_LOGS:
            st = apply_logs(s, &ctx, b);
            break;
        case PD_METRICS:
            st = apply_metrics(s, &ctx, b);
            break;
        }
    }
    return procutil_forward(c, b, st);
}

const pl_descriptor processor_attributes_descriptor = {
    .kind = PL_PROCESSOR,
    .type = "attributes",
    .stability = {PL_BETA, PL_BETA, PL_BETA},
    .config = &attributes_cfg_table,
    .config_size = sizeof(attributes_cfg),
    .mutates = true,
    .doc = "inserts, updates, deletes, hashes, extracts or converts span, log and data point "
           "attributes",
    .create = attributes_create,
    .consume = attributes_consume,
    .destroy = attributes_destroy,
};
