/* governance processor: prices every AI operation (span or log record), fills attribution,
 * charges budgets, evaluates policies and writes the genops.* attributes of the governance
 * contract (GOVERNANCE.md §1-§5). Serves the budget API when budget_api.endpoint is set.
 * See README.md in this folder and docs/internals/governance.md ("Processor"). */
#ifndef GOVERNANCE_PROCESSOR_H
#define GOVERNANCE_PROCESSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "net/tls.h"
#include "pipeline/component.h"

/* Attribution fields, in this order everywhere (config keys = the part after "genops."). */
enum {
    GOVERNANCE_ATTR_TEAM = 0,
    GOVERNANCE_ATTR_CUSTOMER_ID,
    GOVERNANCE_ATTR_PROJECT,
    GOVERNANCE_ATTR_ENVIRONMENT,
    GOVERNANCE_ATTR_FEATURE,
    GOVERNANCE_ATTR_COST_CENTER,
    GOVERNANCE_ATTR_USER_ID,
    GOVERNANCE_ATTR_SESSION_ID,
    GOVERNANCE_N_ATTR,
};

typedef struct governance_pricing_cfg {
    char *file;                /* YAML price file or LiteLLM .json; "" = built-in table only */
    bool recompute;            /* price even spans that carry a cost */
    const cfg_node *overrides; /* list of price entries (price-file schema), applied last */
} governance_pricing_cfg;

typedef struct governance_attribution_cfg {
    cfg_strings sources[GOVERNANCE_N_ATTR]; /* keys looked up on the span, then the resource */
    bool sources_set[GOVERNANCE_N_ATTR];
    cfg_strmap defaults; /* field name -> value when no source has one */
} governance_attribution_cfg;

typedef struct governance_tiers_cfg {
    double medium; /* USD */
    double high;   /* USD */
} governance_tiers_cfg;

typedef struct governance_budget_cfg {
    char *name;
    const cfg_node *match; /* map of attribute -> value (AND) */
    char *group_by;
    double limit; /* USD */
    char *window;
    char *timezone;
    const cfg_node *thresholds; /* list of percentages */
} governance_budget_cfg;

typedef struct governance_store_cfg {
    char *path; /* "" = <data_dir>/budgets[-<name>].db; ":memory:" = no persistence */
    int64_t flush_interval;
    int64_t dedup_capacity;
    int64_t dedup_horizon;
} governance_store_cfg;

typedef struct governance_policy_cfg {
    char *name;
    char *kind;
    char *description;
    double max_cost; /* USD */
    bool max_cost_set;
    int64_t max_requests_per_minute;
    bool max_requests_per_minute_set;
    char *group_by;
    cfg_strings blocked_patterns;
    cfg_strings allowed_teams;
    cfg_strings allowed_models;
    char *enforcement;
    char *action;
    bool enabled;
    const cfg_node *match;
    const cfg_node *condition; /* OTTL: refused with a clear message */
} governance_policy_cfg;

typedef struct governance_api_cfg {
    char *endpoint; /* "" = off */
    net_tls_server_cfg tls;
    bool tls_set;
} governance_api_cfg;

typedef struct governance_cfg {
    governance_pricing_cfg pricing;
    governance_attribution_cfg attribution;
    governance_tiers_cfg cost_tiers;
    cfg_list budgets; /* governance_budget_cfg */
    governance_store_cfg budget_store;
    cfg_list policies; /* governance_policy_cfg */
    governance_api_cfg budget_api;
} governance_cfg;

extern const cfg_table governance_cfg_table;
extern const pl_descriptor processor_governance_descriptor;

/* Port the budget API of a started processor listens on (0 when off); tests. */
uint16_t governance_api_port(const pl_component *c);
/* Writes pending budget state to the store now; tests. */
gb_status governance_flush(const pl_component *c);

#endif
