/* Policies (GOVERNANCE.md 5): cost_limit, rate_limit, content_filter, team_access,
 * model_allowlist and attribute-equality conditions, evaluated per AI operation.
 *
 * A gov_policies is built once from definitions (control path) and evaluated by every worker of
 * the governance processor: gov_policies_eval is thread-safe (rate_limit counters are atomic or
 * locked per policy) and never allocates. */
#ifndef GOV_POLICY_H
#define GOV_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "base/str.h"
#include "governance/gov.h"
#include "governance/gov_budget.h"
#include "pdata/pdata.h"

typedef enum gov_policy_kind {
    GOV_POLICY_COST_LIMIT = 0, /* cost > max_cost */
    GOV_POLICY_RATE_LIMIT,     /* more than max_requests_per_minute in the last 60 s */
    GOV_POLICY_CONTENT_FILTER, /* a blocked pattern (case-insensitive substring) in content */
    GOV_POLICY_TEAM_ACCESS,    /* genops.team not in allowed_teams */
    GOV_POLICY_MODEL_ALLOWLIST,/* model not matching any allowed_models glob ('*', '?') */
    GOV_POLICY_CONDITION,      /* every attribute equality holds */
} gov_policy_kind;

/* Ordered by severity (the most severe result wins on the span). */
typedef enum gov_policy_result {
    GOV_POLICY_PASSED = 0,
    GOV_POLICY_WARNING,
    GOV_POLICY_RATE_LIMITED,
    GOV_POLICY_BLOCKED,
} gov_policy_result;

typedef enum gov_policy_action {
    GOV_ACTION_ANNOTATE = 0, /* write the result only */
    GOV_ACTION_DROP,         /* drop the span (or log record) on violation */
    GOV_ACTION_REDACT,       /* replace content attributes by "[REDACTED]" on violation */
} gov_policy_action;

#define GOV_POLICY_MAX_ITEMS 64

typedef struct gov_policy_def {
    const char *name;
    gov_policy_kind kind;
    gov_policy_result enforcement; /* result of a violation: WARNING (default), BLOCKED,
                                      RATE_LIMITED */
    gov_policy_action action;
    bool enabled;
    int64_t max_cost_nusd;         /* COST_LIMIT */
    int64_t max_requests_per_minute; /* RATE_LIMIT */
    const char *rate_group_by;     /* RATE_LIMIT: attribute key, NULL = one counter */
    const char *items[GOV_POLICY_MAX_ITEMS]; /* patterns / teams / model globs */
    uint32_t n_items;
    gov_attr_match match[GOV_BUDGET_MAX_MATCH]; /* CONDITION: violation when all hold; other
                                                   kinds: policy applies only when all hold */
    uint32_t n_match;
} gov_policy_def;

const char *gov_policy_kind_str(gov_policy_kind k);
bool gov_policy_kind_parse(const char *s, gov_policy_kind *out);
/* "passed", "warning", "rate_limited", "blocked" */
const char *gov_policy_result_str(gov_policy_result r);
/* Accepts the canonical words, "allowed" (= passed), "warn", "block", and any case. */
bool gov_policy_result_parse(gb_str s, gov_policy_result *out);

/* Content attributes scanned by content_filter and replaced by redaction: gen_ai.prompt,
 * gen_ai.completion, gen_ai.input.messages, gen_ai.output.messages, gen_ai.system_instructions,
 * gen_ai.content.prompt, gen_ai.content.completion, llm.prompts, llm.input_messages,
 * llm.output_messages, input.value, output.value, and keys starting with gen_ai.prompt. /
 * gen_ai.completion. / llm.input_messages. / llm.output_messages. */
bool gov_is_content_key(gb_str key);

typedef struct gov_policies gov_policies;

gb_status gov_policies_new(const gov_policy_def *defs, uint32_t n, gov_policies **out);
void gov_policies_free(gov_policies *p);

/* What one operation is evaluated on. */
typedef struct gov_policy_input {
    const pd_attrs *span;     /* span attributes (or log record attributes) */
    const pd_attrs *resource; /* may be NULL */
    const gov_usage *usage;
    const gov_cost *cost;     /* may be NULL when not priced */
    gb_str body;              /* log record body as a string (content to scan), may be empty */
    int64_t now_ns;           /* monotonic or wall time for rate limits */
} gov_policy_input;

typedef struct gov_policy_eval {
    const gov_policy_def *def;
    gov_policy_result result;
    char reason[160]; /* "cost 0.0500 USD exceeds max_cost 0.0100 USD" */
} gov_policy_eval;

/* Evaluates every enabled policy in definition order into out[0..*n) (out has room for
 * gov_policies_count entries). *worst is the index of the most severe result (first on ties),
 * or -1 when no policy applied. *drop / *redact tell whether a violating policy asks for it. */
gb_status gov_policies_eval(gov_policies *p, const gov_policy_input *in, gov_policy_eval *out,
                            uint32_t *n, int32_t *worst, bool *drop, bool *redact);
uint32_t gov_policies_count(const gov_policies *p);

#endif
