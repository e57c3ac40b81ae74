/* governance processor: lifecycle and the state shared between its instances.
 *
 * What: the engine creates one processor instance per pipeline, so a `governance` definition
 * used by a traces and a logs pipeline is two instances. They must share one price table, one
 * budget store (one SQLite file, one set of counters) and one budget API listener. The shared
 * part is a governance_core found by the bound config pointer (the same for every instance of a
 * definition) in a process-wide list, reference counted by create/destroy; the store and the API
 * listener are opened by the first start and closed by the last shutdown.
 *
 * Reload (SIGHUP): the runtime builds the new graph (create: compiles the config and reads the
 * price file again, no other I/O), shuts the old graph down (the old core flushes and closes the
 * store and the API port), then starts the new one (opens the store again, loading the persisted
 * counters). A new price file or budget definition therefore applies at reload, and counters
 * survive it.
 *
 * Rejected: a budget store per instance (two pipelines would each count half of the spans and
 * fight over the file); opening the store in create (create must do no I/O while the old graph
 * still runs). */
#include "governance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "governance_internal.h"
#include "processor/procutil/procutil.h"

typedef struct governance_inst {
    governance_core *core;
    bool started;
} governance_inst;

/* Process-wide list of cores. */
typedef struct core_node {
    governance_core core;
    struct core_node *next;
} core_node;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static core_node *g_cores;

static void core_free(governance_core *core)
{
    httpext_free(&core->api);
    gov_budgets_close(core->budgets);
    gov_policies_free(core->policies);
    gov_policies_free(core->content_policies);
    governance_compiled_free(&core->cc);
}

static void log_diags(const char *id, const cfg_diags *d)
{
    gb_sbuf out;
    gb_sbuf_init(&out, 0);
    cfg_diags_render(d, &out);
    if (out.data && out.len)
        gb_log(GB_LOG_ERROR, id, "invalid configuration:\n%.*s", (int)out.len, out.data);
    gb_sbuf_free(&out);
}

static void register_series(governance_core *core, const pl_component *c)
{
    char labels[200], name[128];
    pd_signal s = c->signal;
    procutil_label(labels, sizeof labels, c->id);
    snprintf(name, sizeof name, "otelcol_processor_dropped_%s", pd_signal_item(s));
    gb_tm_counter(name, "Number of items dropped by the processor (governance policy action drop)",
                  labels, &core->m_dropped[s]);
    snprintf(name, sizeof name, "otelcol_processor_governance_operations_%s", pd_signal_item(s));
    gb_tm_counter(name, "AI operations seen by the governance processor", labels,
                  &core->m_operations[s]);
    snprintf(name, sizeof name, "otelcol_processor_governance_unpriced_%s", pd_signal_item(s));
    gb_tm_counter(name, "AI operations the governance processor could not price", labels,
                  &core->m_unpriced[s]);
}

/* The content_filter policies as a set of their own (NULL when there are none). */
static gb_status content_policies_new(governance_core *core)
{
    gb_status st = GB_OK;
    gov_policy_def *v = calloc(core->cc.n_policies, sizeof *v);
    uint32_t n = 0;
    if (!v) return GB_ERR_NOMEM;
    for (uint32_t i = 0; i < core->cc.n_policies; i++)
        if (core->cc.policies[i].kind == GOV_POLICY_CONTENT_FILTER) v[n++] = core->cc.policies[i];
    if (n) st = gov_policies_new(v, n, &core->content_policies);
    free(v);
    return st;
}

static gb_status governance_create(pl_component *c)
{
    gb_status st = GB_OK;
    governance_inst *inst = calloc(1, sizeof *inst);
    if (!inst) return GB_ERR_NOMEM;
    pthread_mutex_lock(&g_mu);
    core_node *cn = g_cores;
    while (cn && cn->core.key != c->cfg)
        cn = cn->next;
    if (!cn) {
        cn = calloc(1, sizeof *cn);
        if (!cn) {
            st = GB_ERR_NOMEM;
            goto out;
        }
        governance_core *core = &cn->core;
        core->key = c->cfg;
        snprintf(core->id, sizeof core->id, "%s", c->full_id);
        snprintf(core->name, sizeof core->name, "%s", c->name ? c->name : "");
        cfg_diags d;
        cfg_diags_init(&d);
        char path[200];
        snprintf(path, sizeof path, "processors.%s", c->id);
        st = governance_compile(c->cfg, NULL, path, &core->cc, &d);
        if (st) log_diags(c->full_id, &d);
        cfg_diags_free(&d);
        if (st == GB_OK) governance_apply_init(&core->cc);
        if (st == GB_OK && core->cc.n_policies) {
            st = gov_policies_new(core->cc.policies, core->cc.n_policies, &core->policies);
            if (st == GB_OK) st = content_policies_new(core);
            if (st)
                gb_log(GB_LOG_ERROR, c->full_id, "cannot build the policies: %s",
                       gb_status_str(st));
        }
        if (st) {
            core_free(core);
            free(cn);
            goto out;
        }
        cn->next = g_cores;
        g_cores = cn;
    }
    cn->core.refs++;
    register_series(&cn->core, c);
    inst->core = &cn->core;
    c->state = inst;
out:
    pthread_mutex_unlock(&g_mu);
    if (st) free(inst);
    return st;
}

/* <data_dir>/budgets.db, or budgets-<name>.db for governance/<name> (name sanitized). */
static void default_db_path(const governance_core *core, const pl_host *host, char *out, size_t cap)
{
    const char *dir =
        host && host->data_dir && host->data_dir[0] ? host->data_dir : "./genops-data";
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        gb_log(GB_LOG_WARN, core->id, "cannot create the data directory %s: %s", dir,
               strerror(errno));
    if (!core->name[0]) {
        snprintf(out, cap, "%s/budgets.db", dir);
        return;
    }
    char safe[128];
    size_t i = 0;
    for (; core->name[i] && i + 1 < sizeof safe; i++) {
        char ch = core->name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        safe[i] = ok ? ch : '_';
    }
    safe[i] = 0;
    snprintf(out, cap, "%s/budgets-%s.db", dir, safe);
}

static gb_status governance_start(pl_component *c, pl_host *host)
{
    governance_inst *inst = c->state;
    governance_core *core = inst->core;
    const governance_cfg *cfg = c->cfg;
    gb_status st = GB_OK;
    pthread_mutex_lock(&g_mu);
    if (core->started++ > 0) goto out;
    if (core->cc.n_budgets) {
        char path[1024];
        const char *p = cfg->budget_store.path;
        if (!p || !p[0]) {
            default_db_path(core, host, path, sizeof path);
            p = path;
        } else if (!strcmp(p, ":memory:")) {
            p = NULL;
        }
        gov_budgets_opts o = {.db_path = p,
                              .dedup_capacity = (uint32_t)cfg->budget_store.dedup_capacity,
                              .dedup_horizon_sec = cfg->budget_store.dedup_horizon / 1000000000,
                              .flush_interval_ms = cfg->budget_store.flush_interval / 1000000};
        char err[256] = "";
        st = gov_budgets_open(core->cc.budgets, core->cc.n_budgets, &o, &core->budgets, err,
                              sizeof err);
        if (st) {
            gb_log(GB_LOG_ERROR, c->full_id, "cannot open the budget store %s: %s",
                   p ? p : ":memory:", err);
            goto fail;
        }
    }
    if (cfg->budget_api.endpoint && cfg->budget_api.endpoint[0]) {
        st = httpext_start(&core->api, c, host, cfg->budget_api.endpoint,
                           cfg->budget_api.tls_set ? &cfg->budget_api.tls : NULL, 64 << 10,
                           governance_api_handle, core);
        if (st) goto fail;
        gb_log(GB_LOG_INFO, c->full_id, "budget API listening on %s", cfg->budget_api.endpoint);
    }
    goto out;
fail:
    gov_budgets_close(core->budgets);
    core->budgets = NULL;
    core->started--;
out:
    if (st == GB_OK) inst->started = true;
    pthread_mutex_unlock(&g_mu);
    return st;
}

static gb_status governance_shutdown(pl_component *c, int64_t deadline_ns)
{
    (void)deadline_ns;
    governance_inst *inst = c->state;
    if (!inst || !inst->started) return GB_OK;
    governance_core *core = inst->core;
    pthread_mutex_lock(&g_mu);
    inst->started = false;
    if (--core->started == 0) {
        httpext_stop(&core->api);
        gov_budgets_close(core->budgets); /* flushes */
        core->budgets = NULL;
    }
    pthread_mutex_unlock(&g_mu);
    return GB_OK;
}

static void governance_destroy(pl_component *c)
{
    governance_inst *inst = c->state;
    if (!inst) return;
    governance_shutdown(c, 0);
    pthread_mutex_lock(&g_mu);
    governance_core *core = inst->core;
    if (--core->refs == 0) {
        core_node **pp = &g_cores;
        while (*pp && &(*pp)->core != core)
            pp = &(*pp)->next;
        if (*pp) {
            core_node *cn = *pp;
            *pp = cn->next;
            core_free(&cn->core);
            free(cn);
        }
    }
    pthread_mutex_unlock(&g_mu);
    free(inst);
    c->state = NULL;
}

static gb_status governance_consume(pl_component *c, pd_batch *b)
{
    governance_inst *inst = c->state;
    uint64_t dropped = 0;
    gb_status st = governance_apply(inst->core, b, &dropped);
    if (dropped) gb_series_add(inst->core->m_dropped[c->signal], dropped);
    return procutil_forward(c, b, st);
}

governance_core *governance_core_of(const pl_component *c)
{
    const governance_inst *inst = c->state;
    return inst ? inst->core : NULL;
}

uint16_t governance_api_port(const pl_component *c)
{
    const governance_inst *inst = c->state;
    return inst && inst->core->api.srv ? net_http_server_port(inst->core->api.srv) : 0;
}

gb_status governance_flush(const pl_component *c)
{
    const governance_inst *inst = c->state;
    return inst && inst->core->budgets ? gov_budgets_flush(inst->core->budgets) : GB_OK;
}

const pl_descriptor processor_governance_descriptor = {
    .kind = PL_PROCESSOR,
    .type = "governance",
    .stability = {PL_ALPHA, PL_UNSUPPORTED, PL_ALPHA},
    .config = &governance_cfg_table,
    .config_size = sizeof(governance_cfg),
    .mutates = true,
    .doc = "prices AI operations, fills attribution, charges budgets and evaluates policies "
           "(genops.* attributes)",
    .create = governance_create,
    .start = governance_start,
    .consume = governance_consume,
    .shutdown = governance_shutdown,
    .destroy = governance_destroy,
};
