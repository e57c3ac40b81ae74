/* ledger exporter internals shared with its tests and the benchmark tool.
 *
 * The ledger is a SQLite table with one row per priced AI operation (a span or log record that
 * carries genops.cost.status or genops.cost.total). Schema and guarantees:
 * docs/internals/ledger.md. */
#ifndef LEDGER_LEDGER_H
#define LEDGER_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "pdata/pdata.h"
#include "pipeline/component.h"

/* Version stored in PRAGMA user_version. A database with a newer version is refused. */
#define LEDGER_SCHEMA_VERSION 1

typedef struct ledger_cfg {
    char *path;              /* "" = <data_dir>/ledger.db */
    int64_t commit_interval; /* ns, default 1s */
    int64_t max_batch_rows;  /* rows per transaction, default 10000 */
    int64_t queue_size;      /* rows queued or being committed, default 100000 */
    int64_t queue_bytes;     /* string bytes queued or being committed, default 64 MiB */
    int64_t retention;       /* ns, 0 = keep forever */
} ledger_cfg;

extern const cfg_table ledger_table;
extern const pl_descriptor exporter_ledger_descriptor;

void ledger_cfg_default(ledger_cfg *cfg);

/* Commits everything queued so far and returns when it is in the database (tests, benchmark).
 * GB_ERR_IO when the commit failed. */
gb_status ledger_flush(pl_component *c);

/* Rows currently queued or being committed (tests). */
uint64_t ledger_queued_rows(pl_component *c);

/* Holds the writer before its next commit while `paused` is true (tests of backpressure). */
void ledger_pause_writer(pl_component *c, bool paused);

#endif
