/* `genops-collector report`: cost and usage from the ledger database written by the ledger
 * exporter (components/exporter/ledger), grouped by attribution keys. See
 * docs/internals/ledger.md. */
#ifndef RT_REPORT_H
#define RT_REPORT_H

#include <stdint.h>

#include "base/sbuf.h"

#define RT_REPORT_MAX_BY 8

enum { RT_REPORT_TABLE = 0, RT_REPORT_CSV, RT_REPORT_JSON };

typedef struct rt_report_opts {
    const char *db;           /* ledger file */
    int64_t from_ns;          /* unix ns, inclusive */
    int64_t to_ns;            /* unix ns, exclusive; INT64_MAX = open */
    int by[RT_REPORT_MAX_BY]; /* group keys (rt_report_key) */
    int n_by;
    int format;  /* RT_REPORT_* */
    int64_t top; /* at most this many groups, by cost; 0 = all */
} rt_report_opts;

/* Index of a --by key ("team", "customer", "model", "day", ...), -1 when unknown. */
int rt_report_key(const char *name);
/* The valid --by keys, comma separated, for messages. */
const char *rt_report_keys_list(void);

/* Runs the report into out; error text (one line, no program prefix) into err. Returns the exit
 * code: 0, 1 (database missing or unreadable, not a ledger). */
int rt_report_run(const rt_report_opts *o, gb_sbuf *out, gb_sbuf *err);

/* Parses "24h", "7d", "30m", "1h30m", "2w", "90s" (> 0) into ns. */
int rt_report_parse_duration(const char *s, int64_t *ns);
/* Parses an RFC 3339 date-time ("2026-11-25T10:00:00Z", "...+01:00", fractions) or a date
 * ("2026-11-25" = midnight UTC) into unix ns. Returns 0 on success. */
int rt_report_parse_time(const char *s, int64_t *ns);

/* `genops-collector report ...` (argv[0] is "report"). Returns the exit code: 0, 1 (no or bad
 * database), 2 (bad options). */
int rt_report_main(int argc, char **argv);

#endif
