/* Budgets (GOVERNANCE.md 4): calendar windows in a time zone, rolling windows, integer nano-USD
 * counters keyed by (budget, group value, window id), charges de-duplicated by
 * (trace_id, span_id), thresholds reported once per window, state kept in SQLite.
 *
 * A gov_budgets is shared by every worker of a governance processor and by the budget API; all
 * functions taking it are thread-safe. Definitions are owned by the caller and must outlive it. */
#ifndef GOV_BUDGET_H
#define GOV_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "base/sbuf.h"
#include "base/status.h"
#include "base/str.h"
#include "pdata/pdata.h"

/* ---- time zones ------------------------------------------------------------------------------ */

/* A time zone read from the system's TZif database (/usr/share/zoneinfo, or $TZDIR), or UTC /
 * fixed offsets ("UTC", "Etc/GMT+5", "+05:30"). Immutable once loaded; thread-safe to read. */
typedef struct gov_tz gov_tz;

/* Loads name; GB_ERR_NOTFOUND (unknown zone) or GB_ERR_INVALID with a reason in err. */
gb_status gov_tz_load(const char *name, gov_tz **out, char *err, size_t errlen);
void gov_tz_free(gov_tz *tz);
/* UTC offset in seconds in force at unix time t. */
int32_t gov_tz_offset(const gov_tz *tz, int64_t t);
const char *gov_tz_name(const gov_tz *tz);

/* ---- windows --------------------------------------------------------------------------------- */

typedef enum gov_window_kind {
    GOV_WINDOW_DAY = 0,
    GOV_WINDOW_WEEK, /* ISO week, Monday 00:00 local */
    GOV_WINDOW_MONTH,
    GOV_WINDOW_QUARTER,
    GOV_WINDOW_YEAR,
    GOV_WINDOW_ROLLING, /* the last `rolling_sec` seconds ("24h", "30d") */
} gov_window_kind;

typedef struct gov_window {
    gov_window_kind kind;
    int64_t rolling_sec; /* GOV_WINDOW_ROLLING only */
    const gov_tz *tz;    /* calendar windows; NULL = UTC */
} gov_window;

/* Parses "day", "week", "month", "quarter", "year", "daily", "weekly", "monthly", "quarterly",
 * "yearly", "annual" or a duration ("24h", "7d", "90m") for rolling; false when unknown. */
bool gov_window_parse(const char *s, gov_window_kind *kind, int64_t *rolling_sec);

/* The window containing unix time t: id ("2026-11-25", "2026-W48", "2026-11", "2026-Q4", "2026";
 * "rolling-24h" for rolling windows), and [start, end) in unix seconds (local midnights converted
 * with the zone's offset at that instant; DST-correct: a day may last 23 or 25 hours). For rolling
 * windows start = t - rolling_sec, end = t. */
gb_status gov_window_at(const gov_window *w, int64_t t, char id[32], int64_t *start, int64_t *end);

/* ---- budget definitions ---------------------------------------------------------------------- */

#define GOV_BUDGET_MAX_MATCH      16
#define GOV_BUDGET_MAX_THRESHOLDS 8

/* One attribute equality, used by budget and policy matches alike (gov_attr_match_holds). All
 * matches of a budget must hold (AND); none = every priced span. */
typedef struct gov_attr_match {
    const char *key;
    const char *value;
} gov_attr_match;

/* The span attribute `key` (else, when the span has no such key, the resource attribute;
 * resource may be NULL) has the string form of `value`: strings compare exactly, bools as
 * "true"/"false" (any case), ints and doubles numerically (value parsed as a number; "1" matches
 * int 1 and double 1.0). Arrays, kvlists and bytes never match. (policy_match.c) */
bool gov_attr_match_holds(const gov_attr_match *m, const pd_attrs *span, const pd_attrs *resource);

typedef struct gov_budget_def {
    const char *name;
    gov_attr_match match[GOV_BUDGET_MAX_MATCH];
    uint32_t n_match;
    const char *group_by; /* attribute key (span, then resource); NULL = one counter */
    int64_t limit_nusd;   /* > 0 */
    gov_window window;
    double thresholds[GOV_BUDGET_MAX_THRESHOLDS]; /* percent, ascending; default 50 80 95 100 */
    uint32_t n_thresholds;
} gov_budget_def;

/* True when the span (attrs, then resource) satisfies every match of def. */
bool gov_budget_matches(const gov_budget_def *def, const pd_attrs *span, const pd_attrs *resource);
/* The group value of def for this span ("" when group_by is unset; "unknown" when the attribute
 * is absent or not a scalar). The view points into the attributes or static storage; int, double
 * and bool values are written in their string form ("42", "0.5", "true"; doubles like Go's
 * FormatFloat 'f' -1, as used for matching) into thread-local storage that stays valid until the
 * next call on the same thread. */
gb_str gov_budget_group(const gov_budget_def *def, const pd_attrs *span, const pd_attrs *resource);

/* ---- state ----------------------------------------------------------------------------------- */

typedef enum gov_budget_status {
    GOV_BUDGET_OK = 0,
    GOV_BUDGET_WARNING,  /* at or above the first threshold below 100 % */
    GOV_BUDGET_EXCEEDED, /* used >= limit */
} gov_budget_status;

const char *gov_budget_status_str(gov_budget_status s); /* "ok", "warning", "exceeded" */

/* State of one counter after (or without) a charge. */
typedef struct gov_budget_state {
    const gov_budget_def *def;
    char group[128]; /* group value ("" without group_by), truncated */
    char window_id[32];
    int64_t window_start, window_end; /* unix seconds; reset_at = window_end */
    int64_t limit_nusd;
    int64_t used_nusd;
    int64_t remaining_nusd; /* limit - used, may be negative */
    double utilization;     /* percent: 100 * used / limit */
    gov_budget_status status;
    bool duplicate;           /* the charge was already applied: nothing added */
    double crossed_threshold; /* threshold crossed by this charge for the first time in this
                                 window (caller logs one alert), or -1 */
} gov_budget_state;

typedef struct gov_budgets gov_budgets;

typedef struct gov_budgets_opts {
    const char *db_path;       /* SQLite file; NULL or "" = memory only (no persistence) */
    uint32_t dedup_capacity;   /* remembered (trace_id, span_id) pairs; default 1000000, at most
                                  2^26; 48 bytes each, reserved at open */
    int64_t dedup_horizon_sec; /* how long a charge is remembered; default 86400 */
    int64_t flush_interval_ms; /* how often state is written to SQLite; default 1000 */
    uint32_t max_counters;     /* (added) counters held in memory (budget x group x window);
                                  default 100000; a charge needing one more is GB_ERR_LIMIT */
} gov_budgets_opts;

/* Opens the store for defs[0..n) (copied by pointer: defs must outlive it); loads the persisted
 * counters, alerted thresholds and recent charge ids of current windows; starts the flusher.
 * Errors (unwritable path, corrupt database) are GB_ERR_IO with a reason in err. */
gb_status gov_budgets_open(const gov_budget_def *defs, uint32_t n, const gov_budgets_opts *opts,
                           gov_budgets **out, char *err, size_t errlen);
/* Flushes and closes (NULL is a no-op). */
void gov_budgets_close(gov_budgets *b);
/* Writes pending state to SQLite now. */
gb_status gov_budgets_flush(gov_budgets *b);

/* Charges cost_nusd (>= 0) to budget `index` for group `group` at unix time t (the span's end
 * time, seconds), once per (trace_id, span_id, budget): a repeated pair only reads the state
 * (out->duplicate). An all-zero id pair is never de-duplicated. Group values longer than 127
 * bytes are truncated (at a UTF-8 boundary). Errors: GB_ERR_INVALID (bad index, negative cost, t
 * outside 1970..9999), GB_ERR_LIMIT (max_counters reached, or the counter would overflow int64).
 * Rolling windows: charges are kept in 60 buckets of duration/60 (rounded up), so they leave the
 * window in whole buckets; a threshold alerts again after utilization fell below it. */
gb_status gov_budgets_charge(gov_budgets *b, uint32_t index, gb_str group, const pd_trace_id *tid,
                             const pd_span_id *sid, int64_t t, int64_t cost_nusd,
                             gov_budget_state *out);

/* Current state of every counter of the current window at time now (budgets without group_by
 * always report their one counter, used 0 when nothing was charged); calls fn once per counter in
 * definition order. */
typedef void (*gov_budget_visit_fn)(const gov_budget_state *s, void *arg);
gb_status gov_budgets_list(gov_budgets *b, int64_t now, gov_budget_visit_fn fn, void *arg);

uint32_t gov_budgets_count(const gov_budgets *b);
const gov_budget_def *gov_budgets_def(const gov_budgets *b, uint32_t index);

/* JSON object of one state for the budget API:
 * {"name","group","window","window_start","reset_at" (RFC 3339 UTC),"limit","used","remaining"
 *  (USD numbers),"utilization","status","currency":"USD"} */
gb_status gov_budget_state_json(const gov_budget_state *s, gb_sbuf *out);

#endif
