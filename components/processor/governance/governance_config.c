/* governance processor, configuration: the cfg_field tables and the compilation of a bound
 * config into what the data path reads (price table, attribution sources, budget and policy
 * definitions).
 *
 * How: the tables bind plain keys; everything the binder cannot express (match maps, threshold
 * lists, the price overrides, kind-specific policy keys) is bound as a raw node and checked by
 * governance_compile, which reports every problem with the node's file:line:col and a "did you
 * mean" for misspelled words. The table's validate hook runs governance_compile (price files
 * included, so an unreadable or malformed price file is a config error) and throws the result
 * away; create compiles again for real. Budget and policy definitions point into the config
 * document (it outlives the processor) or into the compiled arrays.
 *
 * Rejected: binding the price overrides with cfg_bind (its doubles would lose the exact decimal
 * prices the price-file loader keeps; the loader reads the nodes directly instead); OTTL
 * conditions (refused with a message until an OTTL engine exists). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "governance_internal.h"

/* ---- tables ----------------------------------------------------------------------------- */

static const cfg_field pricing_fields[] = {
    {.key = "file",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_pricing_cfg, file),
     .def = "",
     .doc = "YAML price file or LiteLLM model_prices_and_context_window.json, over the built-in "
            "table"},
    {.key = "recompute",
     .type = CFG_T_BOOL,
     .offset = offsetof(governance_pricing_cfg, recompute),
     .def = "false",
     .doc = "price spans that already carry a cost (default: keep it, source sdk)"},
    {.key = "overrides",
     .type = CFG_T_ANY,
     .offset = offsetof(governance_pricing_cfg, overrides),
     .doc = "price entries (price-file schema), applied last"},
};
static CFG_TABLE(pricing_table, pricing_fields, NULL);

static const char *const ATTR_NAMES[GOVERNANCE_N_ATTR] = {
    "team",    "customer_id", "project", "environment",
    "feature", "cost_center", "user_id", "session_id"};

#define SRC_FIELD(i, k)                                                                            \
    {                                                                                              \
        .key = k, .type = CFG_T_STRINGS,                                                           \
        .offset = offsetof(governance_attribution_cfg, sources) + (i) * sizeof(cfg_strings),       \
        .doc = "source keys for genops." k " (item, then resource)", .flags = CFG_F_TRACK_SET,     \
        .set_offset = offsetof(governance_attribution_cfg, sources_set) + (i) * sizeof(bool)       \
    }

static const cfg_field attribution_fields[] = {
    SRC_FIELD(0, "team"),
    SRC_FIELD(1, "customer_id"),
    SRC_FIELD(2, "project"),
    SRC_FIELD(3, "environment"),
    SRC_FIELD(4, "feature"),
    SRC_FIELD(5, "cost_center"),
    SRC_FIELD(6, "user_id"),
    SRC_FIELD(7, "session_id"),
    {.key = "defaults",
     .type = CFG_T_STRMAP,
     .offset = offsetof(governance_attribution_cfg, defaults),
     .doc = "field -> value used when no source has one"},
};
static CFG_TABLE(attribution_table, attribution_fields, NULL);

static const cfg_field tiers_fields[] = {
    {.key = "medium",
     .type = CFG_T_DOUBLE,
     .offset = offsetof(governance_tiers_cfg, medium),
     .def = "0.01",
     .doc = "USD from which an operation is \"medium\""},
    {.key = "high",
     .type = CFG_T_DOUBLE,
     .offset = offsetof(governance_tiers_cfg, high),
     .def = "0.10",
     .doc = "USD from which an operation is \"high\""},
};
static CFG_TABLE(tiers_table, tiers_fields, NULL);

static const cfg_field budget_fields[] = {
    {.key = "name",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_budget_cfg, name),
     .doc = "unique budget name",
     .flags = CFG_F_REQUIRED},
    {.key = "match",
     .type = CFG_T_ANY,
     .offset = offsetof(governance_budget_cfg, match),
     .doc = "attribute equalities that must all hold (none: every AI operation)"},
    {.key = "group_by",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_budget_cfg, group_by),
     .doc = "attribute whose values get one counter each (e.g. genops.team)"},
    {.key = "limit",
     .type = CFG_T_DOUBLE,
     .offset = offsetof(governance_budget_cfg, limit),
     .doc = "USD per window, > 0",
     .flags = CFG_F_REQUIRED},
    {.key = "window",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_budget_cfg, window),
     .def = "day",
     .doc = "day, week, month, quarter, year, or a rolling duration (24h, 30d)"},
    {.key = "timezone",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_budget_cfg, timezone),
     .def = "UTC",
     .doc = "time zone of calendar windows (IANA name)"},
    {.key = "thresholds",
     .type = CFG_T_ANY,
     .offset = offsetof(governance_budget_cfg, thresholds),
     .doc = "alert thresholds in percent (default [50, 80, 95, 100])"},
};
static CFG_TABLE(budget_table, budget_fields, NULL);

static const cfg_field store_fields[] = {
    {.key = "path",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_store_cfg, path),
     .def = "",
     .doc = "SQLite file; \"\" = <data_dir>/budgets.db (budgets-<name>.db for governance/<name>), "
            "\":memory:\" = no persistence"},
    {.key = "flush_interval",
     .type = CFG_T_DURATION,
     .offset = offsetof(governance_store_cfg, flush_interval),
     .def = "1s",
     .doc = "how often budget state is written to the file",
     .min = 1e6,
     .max = 3.6e12},
    {.key = "dedup_capacity",
     .type = CFG_T_INT,
     .offset = offsetof(governance_store_cfg, dedup_capacity),
     .def = "1000000",
     .doc = "(trace_id, span_id) pairs remembered to charge each span once",
     .min = 1000,
     .max = 67108864},
    {.key = "dedup_horizon",
     .type = CFG_T_DURATION,
     .offset = offsetof(governance_store_cfg, dedup_horizon),
     .def = "24h",
     .doc = "how long a charge is remembered",
     .min = 1e9,
     .max = 3.2e15},
};
static CFG_TABLE(store_table, store_fields, NULL);

static const cfg_field policy_fields[] = {
    {.key = "name",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_policy_cfg, name),
     .doc = "unique policy name",
     .flags = CFG_F_REQUIRED},
    {.key = "kind",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_policy_cfg, kind),
     .doc = "cost_limit, rate_limit, content_filter, team_access, model_allowlist or condition",
     .flags = CFG_F_REQUIRED},
    {.key = "description",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_policy_cfg, description),
     .doc = "free text"},
    {.key = "max_cost",
     .type = CFG_T_DOUBLE,
     .offset = offsetof(governance_policy_cfg, max_cost),
     .doc = "cost_limit: USD per operation",
     .flags = CFG_F_TRACK_SET,
     .set_offset = offsetof(governance_policy_cfg, max_cost_set)},
    {.key = "max_requests_per_minute",
     .type = CFG_T_INT,
     .offset = offsetof(governance_policy_cfg, max_requests_per_minute),
     .doc = "rate_limit: operations per sliding minute",
     .flags = CFG_F_TRACK_SET,
     .set_offset = offsetof(governance_policy_cfg, max_requests_per_minute_set)},
    {.key = "group_by",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_policy_cfg, group_by),
     .doc = "rate_limit: attribute whose values get one counter each"},
    {.key = "blocked_patterns",
     .type = CFG_T_STRINGS,
     .offset = offsetof(governance_policy_cfg, blocked_patterns),
     .doc = "content_filter: case-insensitive substrings"},
    {.key = "allowed_teams",
     .type = CFG_T_STRINGS,
     .offset = offsetof(governance_policy_cfg, allowed_teams),
     .doc = "team_access: genops.team values allowed"},
    {.key = "allowed_models",
     .type = CFG_T_STRINGS,
     .offset = offsetof(governance_policy_cfg, allowed_models),
     .doc = "model_allowlist: model globs (* and ?)"},
    {.key = "enforcement",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_policy_cfg, enforcement),
     .doc = "result of a violation: warning, blocked, rate_limited (default rate_limited for "
            "rate_limit, else warning)"},
    {.key = "action",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_policy_cfg, action),
     .def = "annotate",
     .doc = "on violation: annotate, drop or redact"},
    {.key = "enabled",
     .type = CFG_T_BOOL,
     .offset = offsetof(governance_policy_cfg, enabled),
     .def = "true",
     .doc = "false keeps the definition without evaluating it"},
    {.key = "match",
     .type = CFG_T_ANY,
     .offset = offsetof(governance_policy_cfg, match),
     .doc = "attribute equalities: condition = the violation; other kinds = where the policy "
            "applies"},
    {.key = "condition",
     .type = CFG_T_ANY,
     .offset = offsetof(governance_policy_cfg, condition),
     .doc = "OTTL condition (not supported yet: use match)"},
};
static CFG_TABLE(policy_table, policy_fields, NULL);

static const cfg_field api_fields[] = {
    {.key = "endpoint",
     .type = CFG_T_STRING,
     .offset = offsetof(governance_api_cfg, endpoint),
     .def = "",
     .doc = "host:port of the budget API (GET /v1/budgets); \"\" = off"},
    {.key = "tls",
     .type = CFG_T_SECTION,
     .offset = offsetof(governance_api_cfg, tls),
     .sub = &net_tls_server_table,
     .flags = CFG_F_TRACK_SET | CFG_F_NULLABLE,
     .set_offset = offsetof(governance_api_cfg, tls_set),
     .doc = "TLS server settings"},
};
static CFG_TABLE(api_table, api_fields, NULL);

static void governance_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d);

static const cfg_field governance_fields[] = {
    {.key = "pricing",
     .type = CFG_T_SECTION,
     .offset = offsetof(governance_cfg, pricing),
     .sub = &pricing_table,
     .flags = CFG_F_NULLABLE,
     .doc = "price table"},
    {.key = "attribution",
     .type = CFG_T_SECTION,
     .offset = offsetof(governance_cfg, attribution),
     .sub = &attribution_table,
     .flags = CFG_F_NULLABLE,
     .doc = "where genops.team, customer_id, ... come from"},
    {.key = "cost_tiers",
     .type = CFG_T_SECTION,
     .offset = offsetof(governance_cfg, cost_tiers),
     .sub = &tiers_table,
     .flags = CFG_F_NULLABLE,
     .doc = "genops.cost.tier thresholds"},
    {.key = "budgets",
     .type = CFG_T_LIST,
     .offset = offsetof(governance_cfg, budgets),
     .sub = &budget_table,
     .elem_size = sizeof(governance_budget_cfg),
     .doc = "budgets charged by every matching AI operation"},
    {.key = "budget_store",
     .type = CFG_T_SECTION,
     .offset = offsetof(governance_cfg, budget_store),
     .sub = &store_table,
     .flags = CFG_F_NULLABLE,
     .doc = "where budget state persists"},
    {.key = "policies",
     .type = CFG_T_LIST,
     .offset = offsetof(governance_cfg, policies),
     .sub = &policy_table,
     .elem_size = sizeof(governance_policy_cfg),
     .doc = "policies evaluated on every AI operation"},
    {.key = "budget_api",
     .type = CFG_T_SECTION,
     .offset = offsetof(governance_cfg, budget_api),
     .sub = &api_table,
     .flags = CFG_F_NULLABLE,
     .doc = "HTTP budget API"},
};

CFG_TABLE(governance_cfg_table, governance_fields, governance_validate);

/* ---- helpers ---------------------------------------------------------------------------- */

typedef struct ctx {
    cfg_diags *d;
    const cfg_node *root; /* processor config node, may be NULL */
    const char *path;
    bool failed;
} ctx;

/* The node at key under n (NULL-safe); falls back to n itself so a message has a position. */
static const cfg_node *at(const cfg_node *n, const char *key)
{
    const cfg_node *v = n ? cfg_node_get(n, key) : NULL;
    return v ? v : n;
}

static const cfg_node *item_node(const cfg_node *n, const char *list, uint32_t i)
{
    const cfg_node *l = n ? cfg_node_get(n, list) : NULL;
    if (l && l->kind == CFG_NODE_SEQ && i < l->n_items) return l->items[i];
    return l ? l : n;
}

static void vdiag(ctx *c, cfg_severity sev, cfg_mark m, const char *sub, const char *fmt,
                  va_list ap) __attribute__((format(printf, 5, 0)));
static void vdiag(ctx *c, cfg_severity sev, cfg_mark m, const char *sub, const char *fmt,
                  va_list ap)
{
    char path[256];
    snprintf(path, sizeof path, "%s%s%s", c->path ? c->path : "",
             sub && *sub && c->path && *c->path ? "." : "", sub ? sub : "");
    cfg_diag_addv(c->d, sev, m, path, fmt, ap);
    if (sev == CFG_ERROR) c->failed = true;
}

static cfg_mark mark_of(const cfg_node *n)
{
    cfg_mark m = {0};
    if (n) m = n->mark;
    return m;
}

__attribute__((format(printf, 4, 5))) static void fail(ctx *c, const cfg_node *n, const char *sub,
                                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag(c, CFG_ERROR, mark_of(n), sub, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 4, 5))) static void fail_at(ctx *c, cfg_mark m, const char *sub,
                                                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag(c, CFG_ERROR, m, sub, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 4, 5))) static void warn(ctx *c, const cfg_node *n, const char *sub,
                                                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdiag(c, CFG_WARNING, mark_of(n), sub, fmt, ap);
    va_end(ap);
}

/* " (did you mean \"x\"?)" or "" */
static const char *dym(const char *word, const char *const *cands, size_t n, char *buf, size_t cap)
{
    const char *h = word ? cfg_did_you_mean(word, cands, n) : NULL;
    if (!h) return "";
    snprintf(buf, cap, " (did you mean \"%s\"?)", h);
    return buf;
}

/* A map of attribute -> scalar into match[0..*n). An OTTL string is refused. */
static void parse_match(ctx *c, const cfg_node *n, const char *sub, gov_attr_match *match,
                        uint32_t *count)
{
    *count = 0;
    if (!n || cfg_node_is_null(n)) return;
    if (n->kind == CFG_NODE_SCALAR) {
        fail(c, n, sub,
             "OTTL conditions are not supported yet: use match: {attribute: value, ...} "
             "(attribute equality, all must hold)");
        return;
    }
    if (n->kind != CFG_NODE_MAP) {
        fail(c, n, sub, "expected a map of attribute: value, got %s", cfg_node_kind_name(n->kind));
        return;
    }
    if (n->n_pairs > GOV_BUDGET_MAX_MATCH) {
        fail(c, n, sub, "at most %d attributes to match", GOV_BUDGET_MAX_MATCH);
        return;
    }
    for (uint32_t i = 0; i < n->n_pairs; i++) {
        const cfg_node *v = n->pairs[i].value;
        if (!v || v->kind != CFG_NODE_SCALAR || !n->pairs[i].key[0]) {
            fail(c, v ? v : n, sub, "match \"%s\": expected a scalar value", n->pairs[i].key);
            continue;
        }
        match[*count].key = n->pairs[i].key;
        match[*count].value = v->scalar;
        (*count)++;
    }
}

/* ---- attribution ------------------------------------------------------------------------ */

static const char *const *default_sources(int f)
{
    static const char *const team[] = {"genops.team", NULL};
    static const char *const customer[] = {"genops.customer_id", "genops.customer", NULL};
    static const char *const project[] = {"genops.project", NULL};
    static const char *const env[] = {"genops.environment", "deployment.environment.name",
                                      "deployment.environment", NULL};
    static const char *const feature[] = {"genops.feature", NULL};
    static const char *const cc[] = {"genops.cost_center", NULL};
    static const char *const user[] = {"genops.user_id", "user.id", "enduser.id", NULL};
    static const char *const session[] = {"genops.session_id", "session.id", NULL};
    static const char *const *const all[GOVERNANCE_N_ATTR] = {team,    customer, project, env,
                                                              feature, cc,       user,    session};
    return all[f];
}

static void compile_attribution(ctx *c, const governance_attribution_cfg *a, const cfg_node *node,
                                governance_compiled *out)
{
    static const char *const KEYS[GOVERNANCE_N_ATTR] = {
        "genops.team",    "genops.customer_id", "genops.project", "genops.environment",
        "genops.feature", "genops.cost_center", "genops.user_id", "genops.session_id"};
    for (int f = 0; f < GOVERNANCE_N_ATTR; f++) {
        governance_attr *g = &out->attrs[f];
        g->key = gb_str_c(KEYS[f]);
        if (f == GOVERNANCE_ATTR_CUSTOMER_ID) g->alias = gb_str_c("genops.customer");
        if (a->sources_set[f]) {
            if (a->sources[f].n > GOVERNANCE_MAX_SOURCES) {
                char sub[64];
                snprintf(sub, sizeof sub, "attribution.%s", ATTR_NAMES[f]);
                fail(c, at(node, ATTR_NAMES[f]), sub, "at most %d source keys",
                     GOVERNANCE_MAX_SOURCES);
                continue;
            }
            for (uint32_t i = 0; i < a->sources[f].n; i++)
                g->sources[g->n_sources++] = gb_str_c(a->sources[f].v[i]);
        } else {
            for (const char *const *s = default_sources(f); *s; s++)
                g->sources[g->n_sources++] = gb_str_c(*s);
        }
    }
    const cfg_node *defs = node ? cfg_node_get(node, "defaults") : NULL;
    for (uint32_t i = 0; i < a->defaults.n; i++) {
        const char *k = a->defaults.keys[i];
        int f = -1;
        for (int j = 0; j < GOVERNANCE_N_ATTR; j++)
            if (!strcmp(k, ATTR_NAMES[j]) ||
                (!strncmp(k, "genops.", 7) && !strcmp(k + 7, ATTR_NAMES[j])))
                f = j;
        if (f < 0) {
            char buf[96];
            const cfg_pair *p = defs ? cfg_node_get_pair(defs, k) : NULL;
            fail_at(c, p ? p->key_mark : mark_of(defs), "attribution.defaults",
                    "unknown field \"%s\"%s", k,
                    dym(k, ATTR_NAMES, GOVERNANCE_N_ATTR, buf, sizeof buf));
            continue;
        }
        out->attrs[f].def = gb_str_c(a->defaults.values[i] ? a->defaults.values[i] : "");
    }
}

/* ---- budgets ---------------------------------------------------------------------------- */

static void compile_budgets(ctx *c, const governance_cfg *cfg, const cfg_node *root,
                            governance_compiled *out)
{
    uint32_t n = cfg->budgets.n;
    if (n == 0) return;
    if (n > 64) {
        fail(c, at(root, "budgets"), "budgets", "at most 64 budgets per processor");
        return;
    }
    out->budgets = calloc(n, sizeof *out->budgets);
    out->tzs = calloc(n, sizeof *out->tzs);
    if (!out->budgets || !out->tzs) {
        fail(c, root, "budgets", "out of memory");
        return;
    }
    out->n_budgets = n;
    const governance_budget_cfg *b = cfg->budgets.v;
    for (uint32_t i = 0; i < n; i++) {
        gov_budget_def *def = &out->budgets[i];
        const cfg_node *bn = item_node(root, "budgets", i);
        char sub[96], buf[128];
        snprintf(sub, sizeof sub, "budgets[%u]", i);
        def->name = b[i].name ? b[i].name : "";
        if (!def->name[0]) fail(c, at(bn, "name"), sub, "name must not be empty");
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(b[j].name ? b[j].name : "", def->name))
                fail(c, at(bn, "name"), sub, "duplicate budget name \"%s\" (budgets[%u])",
                     def->name, j);
        if (!(b[i].limit > 0) || !isfinite(b[i].limit) || b[i].limit > 9.0e9)
            fail(c, at(bn, "limit"), sub, "limit must be a positive amount of USD, got %g",
                 b[i].limit);
        else
            def->limit_nusd = llround(b[i].limit * 1e9);
        parse_match(c, b[i].match, sub, def->match, &def->n_match);
        def->group_by = b[i].group_by && b[i].group_by[0] ? b[i].group_by : NULL;
        const char *w = b[i].window ? b[i].window : "day";
        if (!gov_window_parse(w, &def->window.kind, &def->window.rolling_sec)) {
            static const char *const W[] = {"day", "week", "month", "quarter", "year"};
            fail(c, at(bn, "window"), sub,
                 "unknown window \"%s\"%s: day, week, month, quarter, year, or a rolling "
                 "duration such as 24h or 30d",
                 w, dym(w, W, 5, buf, sizeof buf));
        }
        const char *tzname = b[i].timezone && b[i].timezone[0] ? b[i].timezone : "UTC";
        char err[160] = "";
        gb_status st = gov_tz_load(tzname, &out->tzs[i], err, sizeof err);
        if (st && err[0])
            fail(c, at(bn, "timezone"), sub, "timezone: %s", err);
        else if (st)
            fail(c, at(bn, "timezone"), sub, "unknown time zone \"%s\"", tzname);
        def->window.tz = out->tzs[i];
        /* thresholds */
        const cfg_node *t = b[i].thresholds;
        if (!t || cfg_node_is_null(t)) {
            static const double D[] = {50, 80, 95, 100};
            memcpy(def->thresholds, D, sizeof D);
            def->n_thresholds = 4;
        } else if (t->kind != CFG_NODE_SEQ) {
            fail(c, t, sub, "thresholds: expected a list of percentages");
        } else if (t->n_items > GOV_BUDGET_MAX_THRESHOLDS) {
            fail(c, t, sub, "thresholds: at most %d", GOV_BUDGET_MAX_THRESHOLDS);
        } else {
            for (uint32_t k = 0; k < t->n_items; k++) {
                const char *s = cfg_node_scalar(t->items[k]);
                char *end = NULL;
                double v = s ? strtod(s, &end) : NAN;
                if (!s || !*s || *end || !isfinite(v) || v <= 0 || v > 1000) {
                    fail(c, t->items[k], sub,
                         "thresholds[%u]: expected a percentage in (0, 1000], got \"%s\"", k,
                         s ? s : cfg_node_kind_name(t->items[k]->kind));
                    continue;
                }
                if (k > 0 && v <= def->thresholds[k - 1])
                    fail(c, t->items[k], sub, "thresholds must be in increasing order");
                def->thresholds[k] = v;
            }
            def->n_thresholds = t->n_items;
        }
    }
}

/* ---- policies --------------------------------------------------------------------------- */

static const char *const KINDS[] = {"cost_limit",  "rate_limit",      "content_filter",
                                    "team_access", "model_allowlist", "condition"};

static void items_from(ctx *c, const cfg_strings *s, const cfg_node *n, const char *sub,
                       const char *key, gov_policy_def *def)
{
    if (s->n > GOV_POLICY_MAX_ITEMS) {
        fail(c, n, sub, "%s: at most %d entries", key, GOV_POLICY_MAX_ITEMS);
        return;
    }
    for (uint32_t i = 0; i < s->n; i++)
        def->items[def->n_items++] = s->v[i];
}

static void compile_policies(ctx *c, const governance_cfg *cfg, const cfg_node *root,
                             governance_compiled *out)
{
    uint32_t n = cfg->policies.n;
    if (n == 0) return;
    if (n > 64) {
        fail(c, at(root, "policies"), "policies", "at most 64 policies per processor");
        return;
    }
    out->policies = calloc(n, sizeof *out->policies);
    if (!out->policies) {
        fail(c, root, "policies", "out of memory");
        return;
    }
    out->n_policies = n;
    const governance_policy_cfg *p = cfg->policies.v;
    for (uint32_t i = 0; i < n; i++) {
        gov_policy_def *def = &out->policies[i];
        const cfg_node *pn = item_node(root, "policies", i);
        char sub[96], buf[128];
        snprintf(sub, sizeof sub, "policies[%u]", i);
        unsigned errs = c->d->errors;
        def->name = p[i].name ? p[i].name : "";
        def->enabled = p[i].enabled;
        if (!def->name[0]) fail(c, at(pn, "name"), sub, "name must not be empty");
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(p[j].name ? p[j].name : "", def->name))
                fail(c, at(pn, "name"), sub, "duplicate policy name \"%s\" (policies[%u])",
                     def->name, j);
        if (!gov_policy_kind_parse(p[i].kind, &def->kind)) {
            fail(c, at(pn, "kind"), sub,
                 "unknown policy kind \"%s\"%s: cost_limit, rate_limit, content_filter, "
                 "team_access, model_allowlist or condition",
                 p[i].kind ? p[i].kind : "", dym(p[i].kind, KINDS, 6, buf, sizeof buf));
            continue;
        }
        if (p[i].enforcement && p[i].enforcement[0]) {
            gov_policy_result r;
            static const char *const E[] = {"warning", "blocked", "rate_limited"};
            if (!gov_policy_result_parse(gb_str_c(p[i].enforcement), &r) || r == GOV_POLICY_PASSED)
                fail(c, at(pn, "enforcement"), sub,
                     "unknown enforcement \"%s\"%s: warning, blocked or rate_limited",
                     p[i].enforcement, dym(p[i].enforcement, E, 3, buf, sizeof buf));
            else
                def->enforcement = r;
        }
        const char *action = p[i].action ? p[i].action : "annotate";
        if (!gov_policy_action_parse(gb_str_c(action), &def->action)) {
            static const char *const A[] = {"annotate", "drop", "redact"};
            fail(c, at(pn, "action"), sub, "unknown action \"%s\"%s: annotate, drop or redact",
                 action, dym(action, A, 3, buf, sizeof buf));
        }
        if (p[i].condition && !cfg_node_is_null(p[i].condition))
            fail(c, p[i].condition, sub,
                 "condition: OTTL conditions are not supported yet: use match: {attribute: "
                 "value, ...} (attribute equality, all must hold)");
        parse_match(c, p[i].match, sub, def->match, &def->n_match);
        /* kind-specific keys; a key of another kind is ignored with a warning */
        struct {
            const char *key;
            bool set;
            gov_policy_kind kind;
        } spec[] = {
            {"max_cost", p[i].max_cost_set, GOV_POLICY_COST_LIMIT},
            {"max_requests_per_minute", p[i].max_requests_per_minute_set, GOV_POLICY_RATE_LIMIT},
            {"group_by", p[i].group_by != NULL, GOV_POLICY_RATE_LIMIT},
            {"blocked_patterns", p[i].blocked_patterns.n > 0, GOV_POLICY_CONTENT_FILTER},
            {"allowed_teams", p[i].allowed_teams.n > 0, GOV_POLICY_TEAM_ACCESS},
            {"allowed_models", p[i].allowed_models.n > 0, GOV_POLICY_MODEL_ALLOWLIST},
        };
        for (size_t k = 0; k < sizeof spec / sizeof spec[0]; k++) {
            if (spec[k].kind == def->kind) {
                if (!spec[k].set && strcmp(spec[k].key, "group_by"))
                    fail(c, pn, sub, "kind %s needs \"%s\"", KINDS[def->kind], spec[k].key);
            } else if (spec[k].set) {
                warn(c, at(pn, spec[k].key), sub, "\"%s\" does not apply to kind %s: ignored",
                     spec[k].key, KINDS[def->kind]);
            }
        }
        switch (def->kind) {
        case GOV_POLICY_COST_LIMIT:
            if (p[i].max_cost_set) {
                if (!(p[i].max_cost >= 0) || p[i].max_cost > 9.0e9)
                    fail(c, at(pn, "max_cost"), sub, "max_cost must be >= 0 USD, got %g",
                         p[i].max_cost);
                else
                    def->max_cost_nusd = llround(p[i].max_cost * 1e9);
            }
            break;
        case GOV_POLICY_RATE_LIMIT:
            if (p[i].max_requests_per_minute_set && p[i].max_requests_per_minute <= 0)
                fail(c, at(pn, "max_requests_per_minute"), sub,
                     "max_requests_per_minute must be > 0");
            def->max_requests_per_minute = p[i].max_requests_per_minute;
            def->rate_group_by = p[i].group_by && p[i].group_by[0] ? p[i].group_by : NULL;
            break;
        case GOV_POLICY_CONTENT_FILTER:
            items_from(c, &p[i].blocked_patterns, at(pn, "blocked_patterns"), sub,
                       "blocked_patterns", def);
            break;
        case GOV_POLICY_TEAM_ACCESS:
            items_from(c, &p[i].allowed_teams, at(pn, "allowed_teams"), sub, "allowed_teams", def);
            break;
        case GOV_POLICY_MODEL_ALLOWLIST:
            items_from(c, &p[i].allowed_models, at(pn, "allowed_models"), sub, "allowed_models",
                       def);
            break;
        case GOV_POLICY_CONDITION:
            if (def->n_match == 0 && !(p[i].condition && !cfg_node_is_null(p[i].condition)))
                fail(c, pn, sub, "kind condition needs \"match\"");
            break;
        }
        /* whatever the library still refuses (empty pattern strings, ...) */
        char err[200];
        if (c->d->errors == errs && gov_policy_check(def, err, sizeof err) != GB_OK)
            fail(c, pn, sub, "%s", err);
    }
}

/* ---- compile ---------------------------------------------------------------------------- */

void governance_compiled_free(governance_compiled *c)
{
    if (!c) return;
    gov_prices_free(c->prices);
    for (uint32_t i = 0; c->tzs && i < c->n_budgets; i++)
        gov_tz_free(c->tzs[i]);
    free(c->tzs);
    free(c->budgets);
    free(c->policies);
    memset(c, 0, sizeof *c);
}

gb_status governance_compile(const governance_cfg *cfg, const cfg_node *node, const char *path,
                             governance_compiled *out, cfg_diags *d)
{
    ctx c = {d, node, path ? path : "", false};
    memset(out, 0, sizeof *out);
    gb_status st = GB_OK;
    /* cost tiers */
    const cfg_node *tn = at(node, "cost_tiers");
    if (!(cfg->cost_tiers.medium >= 0) || !(cfg->cost_tiers.high > cfg->cost_tiers.medium) ||
        cfg->cost_tiers.high > 9.0e9)
        fail(&c, tn, "cost_tiers", "need 0 <= medium < high (USD), got medium %g, high %g",
             cfg->cost_tiers.medium, cfg->cost_tiers.high);
    out->tiers.medium_from = llround(cfg->cost_tiers.medium * 1e9);
    out->tiers.high_from = llround(cfg->cost_tiers.high * 1e9);
    out->cost_opts.recompute = cfg->pricing.recompute;
    /* prices: built-in, then the file, then the overrides */
    const cfg_node *pn = at(node, "pricing");
    st = gov_prices_new_builtin(&out->prices);
    if (st) goto out;
    if (cfg->pricing.file && cfg->pricing.file[0]) {
        if (gov_prices_load_file(out->prices, cfg->pricing.file, d) != GB_OK)
            fail(&c, at(pn, "file"), "pricing.file", "cannot load the price file \"%s\"",
                 cfg->pricing.file);
    }
    if (cfg->pricing.overrides && !cfg_node_is_null(cfg->pricing.overrides)) {
        char p[256];
        snprintf(p, sizeof p, "%s%spricing.overrides", c.path, c.path[0] ? "." : "");
        if (gov_prices_load_entries(out->prices, cfg->pricing.overrides, p, d) != GB_OK)
            c.failed = true;
    }
    compile_attribution(&c, &cfg->attribution, at(node, "attribution"), out);
    compile_budgets(&c, cfg, node, out);
    compile_policies(&c, cfg, node, out);
out:
    if (st == GB_OK && c.failed) st = GB_ERR_INVALID;
    if (st) governance_compiled_free(out);
    return st;
}

static void governance_validate(void *obj, const cfg_node *node, const char *path, cfg_diags *d)
{
    governance_compiled cc;
    if (governance_compile(obj, node, path, &cc, d) == GB_OK) governance_compiled_free(&cc);
}
