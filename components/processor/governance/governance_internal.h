/* Internals shared by the governance processor's sources (not an API). */
#ifndef GOVERNANCE_INTERNAL_H
#define GOVERNANCE_INTERNAL_H

#include <pthread.h>

#include "base/telemetry.h"
#include "extension/httpext/httpext.h"
#include "governance.h"
#include "governance/gov.h"
#include "governance/gov_budget.h"
#include "governance/gov_policy.h"

#define GOVERNANCE_MAX_SOURCES 16

/* Attribution field: where its value comes from. */
typedef struct governance_attr {
    gb_str key;   /* canonical key, "genops.team" */
    gb_str alias; /* §1 alias read like the canonical key ("genops.customer"), or empty */
    gb_str sources[GOVERNANCE_MAX_SOURCES];
    int8_t source_out[GOVERNANCE_MAX_SOURCES]; /* index among the keys the processor writes, -1 */
    int8_t source_foreign[GOVERNANCE_MAX_SOURCES]; /* index into foreign, -1 */
    uint32_t n_sources;
    gb_str def; /* default value, empty when none */
} governance_attr;

/* Compiled configuration: everything the data path reads, immutable after compile. */
typedef struct governance_compiled {
    gov_prices *prices;
    gov_cost_opts cost_opts;
    gov_cost_tiers tiers;
    governance_attr attrs[GOVERNANCE_N_ATTR];
    gov_budget_def *budgets;
    uint32_t n_budgets;
    gov_tz **tzs; /* per budget, owned */
    gov_policy_def *policies;
    uint32_t n_policies;
    /* the distinct attribution sources outside genops.* ("user.id"), located by the one pass
     * over an item's keys (governance_apply_init) */
#define GOVERNANCE_MAX_FOREIGN 32
    gb_str foreign[GOVERNANCE_MAX_FOREIGN];
    uint32_t n_foreign;
    uint64_t foreign_len_mask; /* bit (len % 64): some foreign source has that length */
} governance_compiled;

/* Validates and compiles cfg. Problems go to d (with the config's file:line:col; node is the
 * processor's config node, NULL when cfg was filled by hand); GB_ERR_INVALID on any error.
 * with_prices = false skips loading the price table (validation only). */
gb_status governance_compile(const governance_cfg *cfg, const cfg_node *node, const char *path,
                             governance_compiled *out, cfg_diags *d);
void governance_compiled_free(governance_compiled *c);

/* State shared by every instance of one governance processor definition (one instance per
 * pipeline: traces and logs pipelines share prices, budgets, policies and the API). */
typedef struct governance_core {
    const void *key; /* the bound config: the same for every instance of a definition */
    unsigned refs;
    unsigned started;
    char id[160]; /* "processor/governance/a" */
    char name[128];
    governance_compiled cc;
    gov_budgets *budgets; /* open while started and budgets exist */
    gov_policies *policies;
    gov_policies *content_policies; /* the content_filter ones, for GenAI events without usage */
    httpext api;
    gb_series *m_dropped[PD_SIGNAL_COUNT];
    gb_series *m_operations[PD_SIGNAL_COUNT];
    gb_series *m_unpriced[PD_SIGNAL_COUNT];
} governance_core;

/* The shared state of a created processor instance (tests). */
governance_core *governance_core_of(const pl_component *c);

/* The budget API request handler (arg: governance_core). */
void governance_api_handle(const net_http_request *req, net_http_response *resp, void *arg);

/* Fills the data path's precomputed parts of cc (source_out, foreign); call once after
 * compiling. */
void governance_apply_init(governance_compiled *cc);
/* Per-batch processing (governance_apply.c). */
gb_status governance_apply(governance_core *core, pd_batch *b, uint64_t *dropped);

#endif
