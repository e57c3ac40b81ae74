/* Policies (GOVERNANCE.md 5): cost_limit, rate_limit, content_filter, team_access,
 * model_allowlist and attribute-equality conditions, evaluated per AI operation.
 *
 * A gov_policies is built once from definitions (control path) and evaluated by every worker of
 * the governance processor: gov_policies_eval is thread-safe (rate_limit counters are locked per
 * policy) and never allocates.
 *
 * Changes to the first version of this contract (see docs/internals/governance.md "Policies"):
 *   - enforcement == GOV_POLICY_PASSED (the zero value) means "not set": a violation then yields
 *     RATE_LIMITED for rate_limit and WARNING for every other kind;
 *   - gov_policy_def.rate_max_groups (0 = GOV_POLICY_RATE_MAX_GROUPS);
 *   - gov_policies_new copies the definitions, strings included (the caller's may be freed);
 *     gov_policy_eval.def points to that copy;
 *   - added gov_policy_check (one definition, with a reason), gov_policy_action_str/parse,
 *     gov_glob_match and gov_policy_redact (gov_attr_match_holds, shared with budgets, is
 *     declared in gov_budget.h). */
#ifndef GOV_POLICY_H
#define GOV_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/status.h"
#include "base/str.h"
#include "governance/gov.h"
#include "governance/gov_budget.h"
#include "pdata/pdata.h"

typedef enum gov_policy_kind {
    GOV_POLICY_COST_LIMIT = 0,  /* cost > max_cost */
    GOV_POLICY_RATE_LIMIT,      /* more than max_requests_per_minute in the last 60 s */
    GOV_POLICY_CONTENT_FILTER,  /* a blocked pattern (case-insensitive substring) in content */
    GOV_POLICY_TEAM_ACCESS,     /* genops.team not in allowed_teams */
    GOV_POLICY_MODEL_ALLOWLIST, /* model not matching any allowed_models glob ('*', '?') */
    GOV_POLICY_CONDITION,       /* every attribute equality holds */
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

#define GOV_POLICY_MAX_ITEMS         64
#define GOV_POLICY_RATE_MAX_GROUPS   10000   /* default of rate_max_groups */
#define GOV_POLICY_RATE_GROUPS_LIMIT 1000000 /* largest rate_max_groups accepted */
#define GOV_POLICY_MAX_DEPTH         8 /* nesting of arrays / kvlists scanned by content_filter */

typedef struct gov_policy_def {
    const char *name;
    gov_policy_kind kind;
    gov_policy_result enforcement; /* result of a violation: WARNING, BLOCKED, RATE_LIMITED;
                                      PASSED (0) = not set: RATE_LIMITED for RATE_LIMIT, else
                                      WARNING */
    gov_policy_action action;
    bool enabled;                    /* false (the zero value) = never evaluated */
    int64_t max_cost_nusd;           /* COST_LIMIT */
    int64_t max_requests_per_minute; /* RATE_LIMIT */
    const char *rate_group_by;       /* RATE_LIMIT: attribute key (span, then resource; absent or
                                        empty = group "unknown"), NULL or "" = one counter */
    uint32_t rate_max_groups;        /* RATE_LIMIT with rate_group_by: groups tracked one by one,
                                        0 = GOV_POLICY_RATE_MAX_GROUPS, at most
                                        GOV_POLICY_RATE_GROUPS_LIMIT; the others share one
                                        "(other)" counter */
    const char *items[GOV_POLICY_MAX_ITEMS]; /* patterns / teams / model globs */
    uint32_t n_items;
    gov_attr_match match[GOV_BUDGET_MAX_MATCH]; /* CONDITION: violation when all hold; other
                                                   kinds: policy applies only when all hold */
    uint32_t n_match;
} gov_policy_def;

/* "cost_limit", "rate_limit", "content_filter", "team_access", "model_allowlist", "condition" */
const char *gov_policy_kind_str(gov_policy_kind k);
/* The names above in any case; false for anything else, NULL included. */
bool gov_policy_kind_parse(const char *s, gov_policy_kind *out);
/* "passed", "warning", "rate_limited", "blocked" */
const char *gov_policy_result_str(gov_policy_result r);
/* Accepts the canonical words, "allowed" (= passed), "warn", "block", and any case. */
bool gov_policy_result_parse(gb_str s, gov_policy_result *out);
/* "annotate", "drop", "redact" */
const char *gov_policy_action_str(gov_policy_action a);
/* The canonical words in any case; false otherwise. */
bool gov_policy_action_parse(gb_str s, gov_policy_action *out);

/* Checks one definition: name set, kind/enforcement/action in range, n_items and n_match within
 * bounds with non-NULL non-empty strings, cost_limit max_cost_nusd >= 0, rate_limit
 * max_requests_per_minute > 0 and rate_max_groups <= GOV_POLICY_RATE_GROUPS_LIMIT, content_filter /
 * team_access / model_allowlist with at least one item, condition with at least one match.
 * GB_ERR_INVALID with a one-line reason in err (errlen may be 0). gov_policies_new runs it on every
 * definition. */
gb_status gov_policy_check(const gov_policy_def *def, char *err, size_t errlen);

/* Glob match, ASCII case-insensitive: '*' any run of bytes (empty included), '?' one byte;
 * every other byte literal. Linear backtracking (no recursion), O(len(p) * len(s)) worst case. */
bool gov_glob_match(gb_str pattern, gb_str s);

/* Content attributes scanned by content_filter and replaced by redaction: gen_ai.prompt,
 * gen_ai.completion, gen_ai.input.messages, gen_ai.output.messages, gen_ai.system_instructions,
 * gen_ai.content.prompt, gen_ai.content.completion, llm.prompts, llm.input_messages,
 * llm.output_messages, input.value, output.value, and keys starting with gen_ai.prompt. /
 * gen_ai.completion. / llm.input_messages. / llm.output_messages. */
bool gov_is_content_key(gb_str key);

/* Replaces the value of every content attribute of attrs (whatever its type) by the string
 * "[REDACTED]" (static storage: valid for the batch's life); *count = attributes replaced (may be
 * NULL). Values are replaced in place, so arena is not used today (it may be NULL); it is kept
 * for a future redaction that keeps the structure of a value. */
gb_status gov_policy_redact(gb_arena *arena, pd_attrs *attrs, uint32_t *count);

typedef struct gov_policies gov_policies;

/* Copies defs[0..n) (n may be 0). GB_ERR_INVALID when a definition fails gov_policy_check
 * (use gov_policy_check first for the reason), GB_ERR_NOMEM. */
gb_status gov_policies_new(const gov_policy_def *defs, uint32_t n, gov_policies **out);
void gov_policies_free(gov_policies *p);

/* What one operation is evaluated on. */
typedef struct gov_policy_input {
    const pd_attrs *span;     /* span attributes (or log record attributes) */
    const pd_attrs *resource; /* may be NULL */
    const gov_usage *usage;
    const gov_cost *cost; /* may be NULL when not priced */
    gb_str body;          /* log record body as a string (content to scan), may be empty */
    int64_t now_ns;       /* monotonic or wall time for rate limits (negative = 0); a time
                             older than the newest seen by a counter counts as that newest */
} gov_policy_input;

typedef struct gov_policy_eval {
    const gov_policy_def *def;
    gov_policy_result result;
    char reason[160]; /* "cost 0.050000 USD > max_cost 0.010000 USD"; never the content */
} gov_policy_eval;

/* Evaluates every enabled policy in definition order into out[0..*n) (out has room for
 * gov_policies_count entries). A policy whose match list does not hold (kinds other than
 * condition) is not evaluated and has no entry. *worst is the index in out of the most severe
 * result (first on ties), or -1 when no policy applied. *drop / *redact tell whether a violating
 * policy asks for it. usage may be NULL (then normalized from span/resource on the stack).
 * Every rate_limit policy that applies counts the operation, violating or not. */
gb_status gov_policies_eval(gov_policies *p, const gov_policy_input *in, gov_policy_eval *out,
                            uint32_t *n, int32_t *worst, bool *drop, bool *redact);
uint32_t gov_policies_count(const gov_policies *p);

#endif
