/* Pipeline graph (see graph.h and docs/internals/pipeline.md).
 *
 * Build walks the config in a fixed order: top-level keys, component definitions (type lookup,
 * alias warnings, config binding), then service.pipelines (references, signals, connectors). It
 * never stops at the first problem: every diagnostic is collected so `validate` prints them all.
 * Instances are created lazily while wiring pipelines, so unused definitions are bound and
 * checked but never instantiated (otelcol does the same).
 *
 * Wiring: each pipeline gets an exporter fan-out; each processor's next is the following stage;
 * each receiver/connector gets, per output signal, a fan-out over the first stage of every
 * pipeline of that signal that lists it. Fan-out with several consumers shares one read-only
 * batch among consumers that do not mutate and clones for those that do (the last mutating
 * consumer takes the original when every consumer mutates).
 *
 * All graph memory comes from one arena freed with the graph. Rejected: a generic DAG library
 * with topological sort — the otelcol shape (receivers -> processors -> exporters, connectors
 * joining pipelines) gives a fixed start order by kind and a data-flow shutdown order, and
 * connector cycles are rejected (check_cycles). */
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/timeutil.h"

typedef struct pl_node pl_node;
typedef struct pl_fanout pl_fanout;

struct pl_fanout {
    pl_consumer base;
    pl_consumer **outs;
    uint32_t n;
    uint32_t cap;
    uint32_t n_mut;
};

struct pl_node {
    pl_component c;
    pl_kind kind;
    pl_node *next; /* all instances, creation order */
    bool created;
    bool started;
    bool shut;
    int pipeline;                    /* processors: owning pipeline index; others -1 */
    int order;                       /* shutdown order within kind */
    pl_fanout *out[PD_SIGNAL_COUNT]; /* receivers/connectors: per output signal */
};

/* One defined component (an entry under receivers:, processors:, ...). */
typedef struct pl_def {
    pl_kind kind;
    const pl_descriptor *desc;
    char id[128];
    const char *name;
    cfg_mark mark;
    const cfg_node *node;
    void *cfg;
    bool ok;                        /* bound without errors */
    pl_node *inst[PD_SIGNAL_COUNT]; /* receivers: inst[0]; exporters/connectors: per signal */
    struct pl_def *next;
} pl_def;

typedef struct pl_pipe {
    char id[128];
    pd_signal signal;
    cfg_mark mark;
    pl_def **recv;
    uint32_t n_recv;
    pl_def **proc;
    uint32_t n_proc;
    pl_def **exp;
    uint32_t n_exp;
    pl_node **proc_nodes;
    pl_fanout *exp_fanout;
} pl_pipe;

struct pl_graph {
    gb_arena arena;
    cfg_doc *doc;
    pl_host *host;
    pl_def *defs;
    pl_node *nodes;
    pl_node *nodes_tail;
    pl_pipe *pipes;
    uint32_t n_pipes;
    pl_def **extensions;
    uint32_t n_extensions;
    pl_telemetry_cfg telemetry;
    bool started;
};

/* Component types of otelcol-contrib we know of but do not ship (yet): a clear "not available in
 * this build" instead of "unknown type". */
static const char *const k_known_elsewhere[] = {"jaeger",
                                                "zipkin",
                                                "kafka",
                                                "hostmetrics",
                                                "filelog",
                                                "fluentforward",
                                                "k8s_cluster",
                                                "kubeletstats",
                                                "syslog",
                                                "statsd",
                                                "carbon",
                                                "opencensus",
                                                "awsxray",
                                                "awscloudwatch",
                                                "awscloudwatchlogs",
                                                "awsemf",
                                                "googlecloud",
                                                "googlecloudlogging",
                                                "azuremonitor",
                                                "datadog",
                                                "splunk_hec",
                                                "loki",
                                                "elasticsearch",
                                                "clickhouse",
                                                "influxdb",
                                                "sapm",
                                                "signalfx",
                                                "honeycombmarker",
                                                "transform",
                                                "filter",
                                                "resourcedetection",
                                                "resource_detection",
                                                "probabilistic_sampler",
                                                "tail_sampling",
                                                "routing",
                                                "groupbytrace",
                                                "groupbyattrs",
                                                "k8sattributes",
                                                "span",
                                                "spanmetrics",
                                                "span_metrics",
                                                "servicegraph",
                                                "forward",
                                                "bearertokenauth",
                                                "basicauth",
                                                "oidc",
                                                "oauth2client",
                                                "headers_setter",
                                                "file_storage",
                                                "loadbalancing",
                                                "cumulativetodelta",
                                                "deltatocumulative",
                                                "redaction",
                                                NULL};

static const char *const k_top_keys[] = {"receivers",  "processors", "exporters",
                                         "connectors", "extensions", "service"};
static const char *const k_service_keys[] = {"extensions", "pipelines", "telemetry"};
static const char *const k_pipeline_keys[] = {"receivers", "processors", "exporters"};

static void *g_alloc(pl_graph *g, size_t n)
{
    return gb_arena_calloc(&g->arena, 1, n);
}

static char *g_strdup(pl_graph *g, const char *s)
{
    gb_str out;
    if (gb_arena_dup(&g->arena, s, strlen(s), &out) != GB_OK) return NULL;
    return (char *)out.ptr;
}

/* ---- fan-out ----------------------------------------------------------------------------- */

static gb_status worst(gb_status a, gb_status b)
{
    if (a == GB_ERR_RETRY || b == GB_ERR_RETRY) return GB_ERR_RETRY;
    if (a != GB_OK) return a;
    return b;
}

static gb_status fanout_consume(pl_consumer *self, pd_batch *b)
{
    pl_fanout *f = (pl_fanout *)self;
    if (f->n == 0) {
        pd_batch_unref(b);
        return GB_OK;
    }
    if (f->n == 1) return pl_consume(f->outs[0], b);
    gb_status st = GB_OK;
    if (f->n_mut == f->n) {
        /* Everyone mutates: clones for all but the last, which takes the original. */
        for (uint32_t i = 0; i + 1 < f->n; i++) {
            pd_batch *copy = NULL;
            gb_status cs = pd_batch_clone(b, &copy);
            st = worst(st, cs == GB_OK ? pl_consume(f->outs[i], copy) : GB_ERR_RETRY);
        }
        return worst(st, pl_consume(f->outs[f->n - 1], b));
    }
    /* Shared read-only; mutating consumers clone on entry (node_consume). */
    b->read_only = true;
    for (uint32_t i = 0; i < f->n; i++)
        st = worst(st, pl_consume(f->outs[i], pd_batch_ref(b)));
    pd_batch_unref(b);
    return st;
}

static gb_status fanout_add(pl_graph *g, pl_fanout *f, pl_consumer *c)
{
    for (uint32_t i = 0; i < f->n; i++)
        if (f->outs[i] == c) return GB_OK;
    void *items = f->outs;
    gb_status st = gb_arena_grow(&g->arena, &items, f->n, &f->cap, f->n + 1, sizeof(pl_consumer *));
    if (st) return st;
    f->outs = items;
    f->outs[f->n++] = c;
    if (c->mutates) f->n_mut++;
    f->base.mutates = f->n_mut > 0;
    return GB_OK;
}

static pl_fanout *fanout_new(pl_graph *g)
{
    pl_fanout *f = g_alloc(g, sizeof *f);
    if (f) f->base.consume = fanout_consume;
    return f;
}

/* ---- component instances ------------------------------------------------------------------- */

static gb_status node_consume(pl_consumer *self, pd_batch *b)
{
    pl_component *c = (pl_component *)((char *)self - offsetof(pl_component, as_consumer));
    if (!c->desc->consume) {
        pd_batch_unref(b);
        return GB_OK;
    }
    if (c->desc->mutates && b->read_only) {
        pd_batch *copy = NULL;
        gb_status st = pd_batch_clone(b, &copy);
        pd_batch_unref(b);
        if (st != GB_OK) {
            gb_log(GB_LOG_ERROR, c->full_id, "dropping batch: cannot copy it for modification: %s",
                   gb_status_str(st));
            return GB_ERR_RETRY;
        }
        b = copy;
    }
    return c->desc->consume(c, b);
}

static pl_node *node_new(pl_graph *g, pl_def *def, pd_signal signal, int pipeline, cfg_diags *d)
{
    pl_node *n = g_alloc(g, sizeof *n);
    if (!n) return NULL;
    n->kind = def->kind;
    n->pipeline = pipeline;
    n->c.desc = def->desc;
    snprintf(n->c.id, sizeof n->c.id, "%s", def->id);
    snprintf(n->c.full_id, sizeof n->c.full_id, "%s/%s", pl_kind_name(def->kind), def->id);
    n->c.name = def->name;
    n->c.cfg = def->cfg;
    n->c.signal = signal;
    n->c.host = g->host;
    n->c.as_consumer.consume = node_consume;
    n->c.as_consumer.mutates = def->desc->mutates;
    if (def->desc->create) {
        gb_status st = def->desc->create(&n->c);
        if (st != GB_OK) {
            cfg_diag_add(d, CFG_ERROR, def->mark, "", "%s: cannot create: %s", n->c.full_id,
                         gb_status_str(st));
            return NULL;
        }
    }
    n->created = true;
    if (g->nodes_tail)
        g->nodes_tail->next = n;
    else
        g->nodes = n;
    g->nodes_tail = n;
    return n;
}

/* ---- parsing helpers ----------------------------------------------------------------------- */

static bool valid_type_name(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
    for (size_t i = 1; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_'))
            return false;
    }
    return true;
}

static bool known_elsewhere(const char *type)
{
    for (size_t i = 0; k_known_elsewhere[i]; i++)
        if (strcmp(k_known_elsewhere[i], type) == 0) return true;
    /* a type built here for another kind (the prometheus exporter, but no prometheus receiver) */
    const pl_descriptor *const *reg = pl_registry_list();
    for (size_t i = 0; reg[i]; i++)
        if (strcmp(reg[i]->type, type) == 0) return true;
    return false;
}

static void unknown_key(cfg_diags *d, cfg_mark mark, const char *path, const char *key,
                        const char *const *cands, size_t n)
{
    const char *dym = cfg_did_you_mean(key, cands, n);
    if (dym)
        cfg_diag_add(d, CFG_ERROR, mark, path, "unknown key \"%s\" (did you mean \"%s\"?)", key,
                     dym);
    else
        cfg_diag_add(d, CFG_ERROR, mark, path, "unknown key \"%s\"", key);
}

static void unknown_type(cfg_diags *d, cfg_mark mark, const char *path, pl_kind kind,
                         const char *type)
{
    if (known_elsewhere(type)) {
        cfg_diag_add(d, CFG_ERROR, mark, path,
                     "%s type \"%s\" is not available in this build (see `genops-collector "
                     "components`)",
                     pl_kind_name(kind), type);
        return;
    }
    const char *cands[256];
    size_t n = 0;
    const pl_descriptor *const *reg = pl_registry_list();
    for (size_t i = 0; reg[i] && n < 256; i++)
        if (reg[i]->kind == kind) cands[n++] = reg[i]->type;
    const char *dym = cfg_did_you_mean(type, cands, n);
    if (dym)
        cfg_diag_add(d, CFG_ERROR, mark, path, "unknown %s type \"%s\" (did you mean \"%s\"?)",
                     pl_kind_name(kind), type, dym);
    else
        cfg_diag_add(d, CFG_ERROR, mark, path, "unknown %s type \"%s\"", pl_kind_name(kind), type);
}

static pl_def *find_def(pl_graph *g, pl_kind kind, const char *id)
{
    for (pl_def *def = g->defs; def; def = def->next)
        if (def->kind == kind && strcmp(def->id, id) == 0) return def;
    return NULL;
}

/* Looks up a reference "type[/name]" from a pipeline or extension list, resolving an alias in the
 * type (otlp_grpc/x finds otlp/x). */
static pl_def *find_ref(pl_graph *g, pl_kind kind, const char *ref)
{
    const char *slash = strchr(ref, '/');
    char type[128], id[256];
    snprintf(type, sizeof type, "%.*s", (int)(slash ? slash - ref : (long)strlen(ref)), ref);
    const pl_descriptor *desc = pl_registry_find(kind, type, NULL);
    snprintf(id, sizeof id, "%s%s", desc ? desc->type : type, slash ? slash : "");
    return find_def(g, kind, id);
}

/* Binds one definition "type[/name]: {...}". */
static void define_component(pl_graph *g, pl_kind kind, const cfg_pair *p, cfg_diags *d)
{
    char path[300];
    snprintf(path, sizeof path, "%s::%s", pl_kind_plural(kind), p->key);
    const char *slash = strchr(p->key, '/');
    size_t tlen = slash ? (size_t)(slash - p->key) : strlen(p->key);
    if (!valid_type_name(p->key, tlen) || (slash && slash[1] == '\0')) {
        cfg_diag_add(d, CFG_ERROR, p->key_mark, pl_kind_plural(kind),
                     "invalid component ID \"%s\": want \"type\" or \"type/name\"", p->key);
        return;
    }
    char type[128];
    snprintf(type, sizeof type, "%.*s", (int)tlen, p->key);
    bool alias = false;
    const pl_descriptor *desc = pl_registry_find(kind, type, &alias);
    if (!desc) {
        /* Keep a placeholder so pipeline references to it are not reported a second time. */
        unknown_type(d, p->key_mark, pl_kind_plural(kind), kind, type);
        pl_def *bad = g_alloc(g, sizeof *bad);
        if (!bad) return;
        bad->kind = kind;
        snprintf(bad->id, sizeof bad->id, "%s", p->key);
        bad->mark = p->key_mark;
        bad->next = g->defs;
        g->defs = bad;
        return;
    }
    if (alias)
        cfg_diag_add(d, CFG_WARNING, p->key_mark, pl_kind_plural(kind),
                     "\"%s\" is an alias of %s type \"%s\"", type, pl_kind_name(kind), desc->type);
    pl_def *def = g_alloc(g, sizeof *def);
    if (!def) return;
    def->kind = kind;
    def->desc = desc;
    snprintf(def->id, sizeof def->id, "%s%s", desc->type, slash ? slash : "");
    def->name = slash ? g_strdup(g, slash + 1) : "";
    def->mark = p->key_mark;
    def->node = p->value;
    if (find_def(g, kind, def->id)) {
        cfg_diag_add(d, CFG_ERROR, p->key_mark, pl_kind_plural(kind),
                     "%s \"%s\" is defined twice (an alias and its type name are the same type)",
                     pl_kind_name(kind), def->id);
        return;
    }
    uint32_t before = d->errors;
    if (desc->config) {
        def->cfg = g_alloc(g, desc->config_size ? desc->config_size : 1);
        if (!def->cfg) return;
        cfg_apply_defaults(desc->config, def->cfg, g->doc, d);
        cfg_bind(desc->config, p->value, def->cfg, path, g->doc, d);
    } else if (p->value && p->value->kind == CFG_NODE_MAP && p->value->n_pairs) {
        cfg_diag_add(d, CFG_ERROR, p->value->pairs[0].key_mark, path,
                     "%s \"%s\" takes no configuration keys", pl_kind_name(kind), desc->type);
    }
    def->ok = d->errors == before;
    def->next = g->defs;
    g->defs = def;
}

static void define_section(pl_graph *g, pl_kind kind, const cfg_node *sec, cfg_diags *d)
{
    if (!sec || sec->kind == CFG_NODE_NULL) return;
    if (sec->kind != CFG_NODE_MAP) {
        cfg_diag_add(d, CFG_ERROR, sec->mark, pl_kind_plural(kind), "expected a map of components");
        return;
    }
    for (uint32_t i = 0; i < sec->n_pairs; i++)
        define_component(g, kind, &sec->pairs[i], d);
}

static bool parse_signal(const char *id, pd_signal *out)
{
    static const char *names[] = {"traces", "metrics", "logs"};
    for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
        size_t n = strlen(names[s]);
        if (strncmp(id, names[s], n) == 0 && (id[n] == '\0' || (id[n] == '/' && id[n + 1]))) {
            *out = (pd_signal)s;
            return true;
        }
    }
    return false;
}

/* Resolves the IDs of one pipeline list ("receivers: [otlp, ...]"). Receivers may name
 * connectors, exporters too. */
static gb_status resolve_list(pl_graph *g, pl_pipe *pipe, const cfg_node *list, pl_kind kind,
                              const char *path, pl_def ***out, uint32_t *n_out, cfg_diags *d)
{
    *out = NULL;
    *n_out = 0;
    if (!list || list->kind == CFG_NODE_NULL) return GB_OK;
    if (list->kind != CFG_NODE_SEQ) {
        cfg_diag_add(d, CFG_ERROR, list->mark, path, "expected a list of component IDs");
        return GB_ERR_INVALID;
    }
    pl_def **v = g_alloc(g, sizeof(pl_def *) * (list->n_items ? list->n_items : 1));
    if (!v) return GB_ERR_NOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < list->n_items; i++) {
        const cfg_node *it = list->items[i];
        if (it->kind != CFG_NODE_SCALAR || !it->scalar || !*it->scalar) {
            cfg_diag_add(d, CFG_ERROR, it->mark, path, "expected a component ID");
            continue;
        }
        pl_def *def = find_ref(g, kind, it->scalar);
        if (!def && kind != PL_PROCESSOR) def = find_ref(g, PL_CONNECTOR, it->scalar);
        if (!def) {
            bool defined_elsewhere = false;
            for (int k = 0; k < PL_KIND_COUNT; k++)
                if (k != (int)kind && find_def(g, (pl_kind)k, it->scalar)) defined_elsewhere = true;
            if (defined_elsewhere)
                cfg_diag_add(d, CFG_ERROR, it->mark, path, "\"%s\" is not a %s", it->scalar,
                             pl_kind_name(kind));
            else
                cfg_diag_add(d, CFG_ERROR, it->mark, path,
                             "references %s \"%s\" which is not configured", pl_kind_name(kind),
                             it->scalar);
            continue;
        }
        if (!def->desc) continue; /* unknown type, already reported at its definition */
        if (def->kind != PL_CONNECTOR) {
            const pl_descriptor *desc = def->desc;
            if (desc->stability[pipe->signal] == PL_UNSUPPORTED) {
                cfg_diag_add(d, CFG_ERROR, it->mark, path, "%s \"%s\" does not support %s",
                             pl_kind_name(kind), def->id, pd_signal_name(pipe->signal));
                continue;
            }
        }
        bool dup = false;
        for (uint32_t j = 0; j < n; j++)
            dup |= v[j] == def;
        if (dup) {
            cfg_diag_add(d, CFG_ERROR, it->mark, path, "\"%s\" is listed twice", it->scalar);
            continue;
        }
        v[n++] = def;
    }
    *out = v;
    *n_out = n;
    return GB_OK;
}

static void parse_telemetry(pl_graph *g, const cfg_node *tel, cfg_diags *d)
{
    pl_telemetry_cfg *t = &g->telemetry;
    t->logs_level = "info";
    t->metrics_level = "normal";
    t->metrics_host = "localhost";
    t->metrics_port = 8888;
    if (!tel || tel->kind == CFG_NODE_NULL) return;
    if (tel->kind != CFG_NODE_MAP) {
        cfg_diag_add(d, CFG_ERROR, tel->mark, "service::telemetry", "expected a map");
        return;
    }
    for (uint32_t i = 0; i < tel->n_pairs; i++) {
        const cfg_pair *p = &tel->pairs[i];
        const cfg_node *v = p->value;
        if (strcmp(p->key, "logs") == 0) {
            const cfg_node *lvl = cfg_node_get(v, "level");
            if (lvl && lvl->kind == CFG_NODE_SCALAR) {
                gb_log_level l;
                if (gb_log_parse_level(lvl->scalar, &l) != 0)
                    cfg_diag_add(d, CFG_ERROR, lvl->mark, "service::telemetry::logs::level",
                                 "invalid level \"%s\": want debug, info, warn or error",
                                 lvl->scalar);
                else
                    t->logs_level = lvl->scalar;
            }
            /* encoding, output_paths, sampling...: accepted, logs always go to stderr. */
        } else if (strcmp(p->key, "metrics") == 0) {
            const cfg_node *lvl = cfg_node_get(v, "level");
            if (lvl && lvl->kind == CFG_NODE_SCALAR) {
                static const char *levels[] = {"none", "basic", "normal", "detailed"};
                bool ok = false;
                for (int k = 0; k < 4; k++)
                    ok |= strcmp(lvl->scalar, levels[k]) == 0;
                if (!ok)
                    cfg_diag_add(d, CFG_ERROR, lvl->mark, "service::telemetry::metrics::level",
                                 "invalid level \"%s\": want none, basic, normal or detailed",
                                 lvl->scalar);
                else
                    t->metrics_level = lvl->scalar;
                if (strcmp(lvl->scalar, "none") == 0) t->metrics_port = 0;
            }
            const cfg_node *addr = cfg_node_get(v, "address");
            if (addr && addr->kind == CFG_NODE_SCALAR && addr->scalar) {
                const char *colon = strrchr(addr->scalar, ':');
                char *end = NULL;
                long port = colon ? strtol(colon + 1, &end, 10) : -1;
                if (!colon || !end || *end || port < 0 || port > 65535) {
                    cfg_diag_add(d, CFG_ERROR, addr->mark, "service::telemetry::metrics::address",
                                 "invalid address \"%s\": want host:port", addr->scalar);
                } else {
                    gb_str h;
                    gb_arena_dup(&g->arena, addr->scalar, (size_t)(colon - addr->scalar), &h);
                    t->metrics_host = h.len ? (char *)h.ptr : "0.0.0.0";
                    t->metrics_port = (int)port;
                    t->metrics_mark = addr->mark;
                    cfg_diag_add(d, CFG_WARNING, addr->mark, "service::telemetry::metrics::address",
                                 "\"address\" is deprecated in otelcol; use readers: [{pull: "
                                 "{exporter: {prometheus: {host, port}}}}]");
                }
            }
            const cfg_node *readers = cfg_node_get(v, "readers");
            for (uint32_t r = 0; readers && readers->kind == CFG_NODE_SEQ && r < readers->n_items;
                 r++) {
                const cfg_node *prom =
                    cfg_node_get(cfg_node_get(cfg_node_get(readers->items[r], "pull"), "exporter"),
                                 "prometheus");
                if (!prom) {
                    cfg_diag_add(d, CFG_WARNING, readers->items[r]->mark,
                                 "service::telemetry::metrics::readers",
                                 "only pull readers with a prometheus exporter are supported; "
                                 "this reader is ignored");
                    continue;
                }
                const cfg_node *host = cfg_node_get(prom, "host");
                const cfg_node *port = cfg_node_get(prom, "port");
                if (host && host->kind == CFG_NODE_SCALAR) t->metrics_host = host->scalar;
                if (port && port->kind == CFG_NODE_SCALAR) {
                    char *end = NULL;
                    long pv = strtol(port->scalar, &end, 10);
                    if (!end || *end || pv < 0 || pv > 65535)
                        cfg_diag_add(d, CFG_ERROR, port->mark,
                                     "service::telemetry::metrics::readers", "invalid port \"%s\"",
                                     port->scalar);
                    else
                        t->metrics_port = (int)pv;
                }
                t->metrics_mark = prom->mark;
            }
        } else if (strcmp(p->key, "resource") == 0 || strcmp(p->key, "traces") == 0) {
            /* accepted; not used */
        } else {
            static const char *const keys[] = {"logs", "metrics", "resource", "traces"};
            unknown_key(d, p->key_mark, "service::telemetry", p->key, keys, 4);
        }
    }
}

/* Instance of def for a pipeline stage; creates it on first use. */
static pl_node *instance(pl_graph *g, pl_def *def, pd_signal signal, cfg_diags *d)
{
    int slot = def->kind == PL_RECEIVER || def->kind == PL_EXTENSION ? 0 : (int)signal;
    if (!def->inst[slot]) def->inst[slot] = node_new(g, def, signal, -1, d);
    return def->inst[slot];
}

static gb_status wire(pl_graph *g, cfg_diags *d)
{
    gb_status st = GB_OK;
    for (uint32_t p = 0; p < g->n_pipes; p++) {
        pl_pipe *pipe = &g->pipes[p];
        pipe->exp_fanout = fanout_new(g);
        pipe->proc_nodes = g_alloc(g, sizeof(pl_node *) * (pipe->n_proc + 1));
        if (!pipe->exp_fanout || !pipe->proc_nodes) return GB_ERR_NOMEM;
        for (uint32_t i = 0; i < pipe->n_exp; i++) {
            pl_def *def = pipe->exp[i];
            if (!def->ok) continue;
            pl_node *n = instance(g, def, pipe->signal, d);
            if (!n) continue;
            if (def->kind == PL_CONNECTOR) n->c.signal = pipe->signal;
            st = fanout_add(g, pipe->exp_fanout, &n->c.as_consumer);
            if (st) return st;
        }
        pl_consumer *next = &pipe->exp_fanout->base;
        for (uint32_t i = pipe->n_proc; i-- > 0;) {
            pl_def *def = pipe->proc[i];
            if (!def->ok) continue;
            pl_node *n = node_new(g, def, pipe->signal, (int)p, d);
            if (!n) continue;
            n->c.next[pipe->signal] = next;
            pipe->proc_nodes[i] = n;
            next = &n->c.as_consumer;
        }
        for (uint32_t i = 0; i < pipe->n_recv; i++) {
            pl_def *def = pipe->recv[i];
            if (!def->ok) continue;
            pl_node *n;
            if (def->kind == PL_CONNECTOR) {
                /* The connector instance is keyed by its input signal; find the pipelines that
                 * export to it. Its output to this pipeline's signal fans out here. */
                bool fed = false;
                for (uint32_t q = 0; q < g->n_pipes; q++)
                    for (uint32_t e = 0; e < g->pipes[q].n_exp; e++) {
                        if (g->pipes[q].exp[e] != def) continue;
                        pd_signal in = g->pipes[q].signal;
                        if (def->desc->connector[in][pipe->signal] == PL_UNSUPPORTED) {
                            cfg_diag_add(d, CFG_ERROR, pipe->mark, "service::pipelines",
                                         "connector \"%s\" cannot connect %s to %s", def->id,
                                         pd_signal_name(in), pd_signal_name(pipe->signal));
                            continue;
                        }
                        fed = true;
                        n = instance(g, def, in, d);
                        if (!n) continue;
                        if (!n->out[pipe->signal]) n->out[pipe->signal] = fanout_new(g);
                        if (!n->out[pipe->signal]) return GB_ERR_NOMEM;
                        st = fanout_add(g, n->out[pipe->signal], next);
                        if (st) return st;
                        n->c.next[pipe->signal] = &n->out[pipe->signal]->base;
                    }
                if (!fed)
                    cfg_diag_add(d, CFG_ERROR, pipe->mark, "service::pipelines",
                                 "connector \"%s\" is used as a receiver in pipeline \"%s\" but no "
                                 "pipeline exports to it",
                                 def->id, pipe->id);
                continue;
            }
            n = instance(g, def, pipe->signal, d);
            if (!n) continue;
            if (!n->out[pipe->signal]) n->out[pipe->signal] = fanout_new(g);
            if (!n->out[pipe->signal]) return GB_ERR_NOMEM;
            st = fanout_add(g, n->out[pipe->signal], next);
            if (st) return st;
            n->c.next[pipe->signal] = &n->out[pipe->signal]->base;
        }
    }
    /* Connectors used as exporters must also be used as receivers. */
    for (uint32_t p = 0; p < g->n_pipes; p++)
        for (uint32_t e = 0; e < g->pipes[p].n_exp; e++) {
            pl_def *def = g->pipes[p].exp[e];
            if (def->kind != PL_CONNECTOR) continue;
            bool used = false;
            for (uint32_t q = 0; q < g->n_pipes; q++)
                for (uint32_t r = 0; r < g->pipes[q].n_recv; r++)
                    used |= g->pipes[q].recv[r] == def;
            if (!used)
                cfg_diag_add(
                    d, CFG_ERROR, g->pipes[p].mark, "service::pipelines",
                    "connector \"%s\" is used as an exporter in pipeline \"%s\" but not as "
                    "a receiver in any pipeline",
                    def->id, g->pipes[p].id);
        }
    return GB_OK;
}

/* The connector through which pipeline p feeds pipeline q (exported by p, received by q), or
 * NULL. */
static const pl_def *feeds(const pl_graph *g, uint32_t p, uint32_t q)
{
    for (uint32_t e = 0; e < g->pipes[p].n_exp; e++) {
        const pl_def *def = g->pipes[p].exp[e];
        if (def->kind != PL_CONNECTOR) continue;
        for (uint32_t r = 0; r < g->pipes[q].n_recv; r++)
            if (g->pipes[q].recv[r] == def) return def;
    }
    return NULL;
}

/* Depth-first search over pipelines linked by connectors; state 1 = on the path, 2 = done.
 * path[] holds the pipelines on the current path. Returns true after reporting a cycle. */
static bool cycle_from(const pl_graph *g, uint32_t p, uint8_t *state, uint32_t *path,
                       uint32_t depth, cfg_diags *d)
{
    state[p] = 1;
    path[depth] = p;
    for (uint32_t q = 0; q < g->n_pipes; q++) {
        if (!feeds(g, p, q)) continue;
        if (state[q] == 1) {
            char text[1024];
            size_t o = 0;
            uint32_t start = 0;
            while (path[start] != q)
                start++;
            for (uint32_t i = start; i <= depth && o < sizeof text; i++) {
                uint32_t next = i < depth ? path[i + 1] : q;
                o += (size_t)snprintf(text + o, sizeof text - o,
                                      "pipeline \"%s\" -> connector "
                                      "\"%s\" -> ",
                                      g->pipes[path[i]].id, feeds(g, path[i], next)->id);
            }
            if (o < sizeof text)
                snprintf(text + o, sizeof text - o, "pipeline \"%s\"", g->pipes[q].id);
            cfg_diag_add(d, CFG_ERROR, g->pipes[q].mark, "service::pipelines",
                         "connectors form a cycle: %s", text);
            return true;
        }
        if (state[q] == 0 && cycle_from(g, q, state, path, depth + 1, d)) return true;
    }
    state[p] = 2;
    return false;
}

/* Data would loop forever through a connector cycle (otelcol rejects them too). */
static void check_cycles(pl_graph *g, cfg_diags *d)
{
    if (!g->n_pipes) return;
    uint8_t *state = g_alloc(g, g->n_pipes);
    uint32_t *path = g_alloc(g, sizeof(uint32_t) * g->n_pipes);
    if (!state || !path) return;
    for (uint32_t p = 0; p < g->n_pipes; p++)
        if (state[p] == 0 && cycle_from(g, p, state, path, 0, d)) return;
}

static void parse_pipelines(pl_graph *g, const cfg_node *pls, cfg_diags *d)
{
    if (!pls || pls->kind != CFG_NODE_MAP || pls->n_pairs == 0) {
        cfg_diag_add(d, CFG_ERROR, pls ? pls->mark : g->doc->root->mark, "service",
                     "service must define at least one pipeline in service::pipelines");
        return;
    }
    g->pipes = g_alloc(g, sizeof(pl_pipe) * pls->n_pairs);
    if (!g->pipes) return;
    for (uint32_t i = 0; i < pls->n_pairs; i++) {
        const cfg_pair *p = &pls->pairs[i];
        char path[300];
        snprintf(path, sizeof path, "service::pipelines::%s", p->key);
        pl_pipe *pipe = &g->pipes[g->n_pipes];
        if (!parse_signal(p->key, &pipe->signal)) {
            cfg_diag_add(d, CFG_ERROR, p->key_mark, "service::pipelines",
                         "invalid pipeline ID \"%s\": want traces, metrics or logs, optionally "
                         "followed by /name",
                         p->key);
            continue;
        }
        snprintf(pipe->id, sizeof pipe->id, "%s", p->key);
        pipe->mark = p->key_mark;
        const cfg_node *v = p->value;
        if (!v || v->kind != CFG_NODE_MAP) {
            cfg_diag_add(d, CFG_ERROR, v ? v->mark : p->key_mark, path,
                         "expected a map with receivers, processors and exporters");
            continue;
        }
        for (uint32_t k = 0; k < v->n_pairs; k++) {
            bool ok = false;
            for (int j = 0; j < 3; j++)
                ok |= strcmp(v->pairs[k].key, k_pipeline_keys[j]) == 0;
            if (!ok)
                unknown_key(d, v->pairs[k].key_mark, path, v->pairs[k].key, k_pipeline_keys, 3);
        }
        char sub[340];
        snprintf(sub, sizeof sub, "%s::receivers", path);
        resolve_list(g, pipe, cfg_node_get(v, "receivers"), PL_RECEIVER, sub, &pipe->recv,
                     &pipe->n_recv, d);
        snprintf(sub, sizeof sub, "%s::processors", path);
        resolve_list(g, pipe, cfg_node_get(v, "processors"), PL_PROCESSOR, sub, &pipe->proc,
                     &pipe->n_proc, d);
        snprintf(sub, sizeof sub, "%s::exporters", path);
        resolve_list(g, pipe, cfg_node_get(v, "exporters"), PL_EXPORTER, sub, &pipe->exp,
                     &pipe->n_exp, d);
        /* Only an absent or empty list: entries that failed to resolve were reported already. */
        const cfg_node *rl = cfg_node_get(v, "receivers"), *el = cfg_node_get(v, "exporters");
        if (!rl || rl->kind != CFG_NODE_SEQ || rl->n_items == 0)
            cfg_diag_add(d, CFG_ERROR, p->key_mark, path,
                         "pipeline must have at least one receiver");
        if (!el || el->kind != CFG_NODE_SEQ || el->n_items == 0)
            cfg_diag_add(d, CFG_ERROR, p->key_mark, path,
                         "pipeline must have at least one exporter");
        g->n_pipes++;
    }
}

static void parse_extensions(pl_graph *g, const cfg_node *list, cfg_diags *d)
{
    if (!list || list->kind == CFG_NODE_NULL) return;
    if (list->kind != CFG_NODE_SEQ) {
        cfg_diag_add(d, CFG_ERROR, list->mark, "service::extensions", "expected a list of IDs");
        return;
    }
    g->extensions = g_alloc(g, sizeof(pl_def *) * (list->n_items ? list->n_items : 1));
    if (!g->extensions) return;
    for (uint32_t i = 0; i < list->n_items; i++) {
        const cfg_node *it = list->items[i];
        if (it->kind != CFG_NODE_SCALAR || !it->scalar) continue;
        pl_def *def = find_ref(g, PL_EXTENSION, it->scalar);
        if (!def) {
            cfg_diag_add(d, CFG_ERROR, it->mark, "service::extensions",
                         "references extension \"%s\" which is not configured", it->scalar);
            continue;
        }
        if (def->ok && instance(g, def, PD_TRACES, d)) g->extensions[g->n_extensions++] = def;
    }
}

gb_status pl_graph_build(cfg_doc *doc, pl_host *host, cfg_diags *d, pl_graph **out)
{
    gb_status st = GB_OK;
    uint32_t errors_before = d->errors;
    pl_graph *g = calloc(1, sizeof *g);
    if (!g) return GB_ERR_NOMEM;
    gb_arena_init(&g->arena, 16384, 0);
    g->doc = doc;
    g->host = host;
    const cfg_node *root = doc->root;
    if (!root || root->kind != CFG_NODE_MAP) {
        cfg_diag_add(d, CFG_ERROR, root ? root->mark : (cfg_mark){"", 0, 0}, "",
                     "configuration must be a map");
        st = GB_ERR_INVALID;
        goto out;
    }
    for (uint32_t i = 0; i < root->n_pairs; i++) {
        bool ok = false;
        for (int k = 0; k < 6; k++)
            ok |= strcmp(root->pairs[i].key, k_top_keys[k]) == 0;
        if (!ok) unknown_key(d, root->pairs[i].key_mark, "", root->pairs[i].key, k_top_keys, 6);
    }
    for (int k = 0; k < PL_KIND_COUNT; k++)
        define_section(g, (pl_kind)k, cfg_node_get(root, pl_kind_plural((pl_kind)k)), d);
    const cfg_node *svc = cfg_node_get(root, "service");
    if (!svc || svc->kind != CFG_NODE_MAP) {
        cfg_diag_add(d, CFG_ERROR, svc ? svc->mark : root->mark, "service",
                     "missing \"service\" section with pipelines");
        st = GB_ERR_INVALID;
        goto out;
    }
    for (uint32_t i = 0; i < svc->n_pairs; i++) {
        bool ok = false;
        for (int k = 0; k < 3; k++)
            ok |= strcmp(svc->pairs[i].key, k_service_keys[k]) == 0;
        if (!ok)
            unknown_key(d, svc->pairs[i].key_mark, "service", svc->pairs[i].key, k_service_keys, 3);
    }
    parse_telemetry(g, cfg_node_get(svc, "telemetry"), d);
    parse_pipelines(g, cfg_node_get(svc, "pipelines"), d);
    if (d->errors == errors_before) check_cycles(g, d);
    if (d->errors == errors_before) st = wire(g, d);
    if (st == GB_OK) parse_extensions(g, cfg_node_get(svc, "extensions"), d);
    if (st == GB_OK && d->errors != errors_before) st = GB_ERR_INVALID;
out:
    if (st != GB_OK) {
        pl_graph_free(g);
        return st;
    }
    *out = g;
    return GB_OK;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static int start_rank(pl_kind k)
{
    switch (k) {
    case PL_EXTENSION:
        return 0;
    case PL_EXPORTER:
        return 1;
    case PL_CONNECTOR:
        return 2;
    case PL_PROCESSOR:
        return 3;
    case PL_RECEIVER:
        return 4;
    }
    return 5;
}

static void shutdown_node(pl_node *n, int64_t deadline_ns)
{
    if (!n->created || n->shut) return;
    n->shut = true;
    if (n->c.desc->shutdown) {
        gb_status st = n->c.desc->shutdown(&n->c, deadline_ns);
        if (st != GB_OK) gb_log(GB_LOG_WARN, n->c.full_id, "shutdown: %s", gb_status_str(st));
    }
}

static bool node_done(const pl_node *n, bool only_started)
{
    return !n || !n->created || n->shut || (only_started && !n->started);
}

static void shutdown_pipe_procs(pl_graph *g, uint32_t p, int64_t deadline_ns, bool only_started)
{
    for (uint32_t i = 0; i < g->pipes[p].n_proc; i++) {
        pl_node *n = g->pipes[p].proc_nodes ? g->pipes[p].proc_nodes[i] : NULL;
        if (n && (!only_started || n->started)) shutdown_node(n, deadline_ns);
    }
}

/* Shutdown order: receivers; then pipelines and connectors in data-flow order: a pipeline's
 * processors (first stage first) once every connector feeding it is shut, a connector once the
 * processors of every pipeline exporting to it are shut, so a connector's final flush (and a
 * batch processor's) still finds its downstream running; then whatever a connector cycle left;
 * then exporters, extensions. */
static void shutdown_all(pl_graph *g, int64_t deadline_ns, bool only_started)
{
    for (pl_node *n = g->nodes; n; n = n->next)
        if (n->kind == PL_RECEIVER && (!only_started || n->started)) shutdown_node(n, deadline_ns);
    bool *done = g->n_pipes ? calloc(g->n_pipes, sizeof *done) : NULL;
    for (bool progress = done != NULL; progress;) {
        progress = false;
        for (uint32_t p = 0; p < g->n_pipes; p++) {
            if (done[p]) continue;
            bool ready = true;
            for (uint32_t r = 0; r < g->pipes[p].n_recv && ready; r++) {
                const pl_def *def = g->pipes[p].recv[r];
                if (def->kind != PL_CONNECTOR) continue;
                for (int s = 0; s < PD_SIGNAL_COUNT; s++)
                    ready &= node_done(def->inst[s], only_started);
            }
            if (!ready) continue;
            shutdown_pipe_procs(g, p, deadline_ns, only_started);
            done[p] = true;
            progress = true;
        }
        for (const pl_def *def = g->defs; def; def = def->next) {
            if (def->kind != PL_CONNECTOR) continue;
            for (int s = 0; s < PD_SIGNAL_COUNT; s++) {
                pl_node *n = def->inst[s];
                if (node_done(n, only_started)) continue;
                bool ready = true;
                for (uint32_t q = 0; q < g->n_pipes && ready; q++)
                    for (uint32_t e = 0; e < g->pipes[q].n_exp; e++)
                        if (g->pipes[q].exp[e] == def && g->pipes[q].signal == (pd_signal)s)
                            ready &= done[q];
                if (!ready) continue;
                shutdown_node(n, deadline_ns);
                progress = true;
            }
        }
    }
    free(done);
    /* Cycles (or no memory for the bookkeeping): the fixed order. */
    for (uint32_t p = 0; p < g->n_pipes; p++)
        shutdown_pipe_procs(g, p, deadline_ns, only_started);
    static const pl_kind order[] = {PL_CONNECTOR, PL_EXPORTER, PL_EXTENSION};
    for (int k = 0; k < 3; k++)
        for (pl_node *n = g->nodes; n; n = n->next)
            if (n->kind == order[k] && (!only_started || n->started)) shutdown_node(n, deadline_ns);
}

gb_status pl_graph_start(pl_graph *g)
{
    for (int rank = 0; rank < 5; rank++) {
        for (pl_node *n = g->nodes; n; n = n->next) {
            if (start_rank(n->kind) != rank) continue;
            if (n->c.desc->start) {
                gb_status st = n->c.desc->start(&n->c, g->host);
                if (st != GB_OK) {
                    gb_log(GB_LOG_ERROR, n->c.full_id, "failed to start: %s", gb_status_str(st));
                    shutdown_all(g, gb_mono_ns() + 5 * GB_NS_PER_S, true);
                    return st;
                }
            }
            n->started = true;
        }
    }
    g->started = true;
    return GB_OK;
}

gb_status pl_graph_shutdown(pl_graph *g, int64_t deadline_ns)
{
    shutdown_all(g, deadline_ns, false);
    g->started = false;
    return GB_OK;
}

void pl_graph_free(pl_graph *g)
{
    if (!g) return;
    shutdown_all(g, gb_mono_ns() + 5 * GB_NS_PER_S, false);
    for (pl_node *n = g->nodes; n; n = n->next)
        if (n->created && n->c.desc->destroy) n->c.desc->destroy(&n->c);
    gb_arena_free(&g->arena);
    free(g);
}

const pl_telemetry_cfg *pl_graph_telemetry(const pl_graph *g)
{
    return &g->telemetry;
}

pl_component *pl_graph_find(const pl_graph *g, const char *full_id)
{
    for (pl_node *n = g->nodes; n; n = n->next)
        if (strcmp(n->c.full_id, full_id) == 0) return &n->c;
    return NULL;
}

void pl_graph_describe(const pl_graph *g, int what, gb_sbuf *out)
{
    if (what < 0) {
        for (uint32_t p = 0; p < g->n_pipes; p++) {
            const pl_pipe *pipe = &g->pipes[p];
            gb_sbuf_printf(out, "%s: receivers [", pipe->id);
            for (uint32_t i = 0; i < pipe->n_recv; i++)
                gb_sbuf_printf(out, "%s%s", i ? ", " : "", pipe->recv[i]->id);
            gb_sbuf_puts(out, "] processors [");
            for (uint32_t i = 0; i < pipe->n_proc; i++)
                gb_sbuf_printf(out, "%s%s", i ? ", " : "", pipe->proc[i]->id);
            gb_sbuf_puts(out, "] exporters [");
            for (uint32_t i = 0; i < pipe->n_exp; i++)
                gb_sbuf_printf(out, "%s%s", i ? ", " : "", pipe->exp[i]->id);
            gb_sbuf_puts(out, "]\n");
        }
        return;
    }
    for (pl_node *n = g->nodes; n; n = n->next) {
        if ((int)n->kind != what) continue;
        gb_sbuf_printf(out, "%s%s%s %s\n", n->c.full_id, n->kind == PL_PROCESSOR ? " in " : "",
                       n->kind == PL_PROCESSOR ? g->pipes[n->pipeline].id : "",
                       n->started ? "running" : "stopped");
    }
}
