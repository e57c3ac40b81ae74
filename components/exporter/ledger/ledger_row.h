/* ledger exporter: rows extracted from spans and log records, and the queue chunks that hold
 * them until the writer commits them. Private to components/exporter/ledger. */
#ifndef LEDGER_ROW_H
#define LEDGER_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "base/status.h"
#include "pdata/pdata.h"

/* Text columns, in INSERT order (after time, trace_id, span_id, signal). */
enum {
    LS_TEAM = 0,
    LS_CUSTOMER_ID,
    LS_PROJECT,
    LS_ENVIRONMENT,
    LS_FEATURE,
    LS_COST_CENTER,
    LS_USER_ID,
    LS_PROVIDER,
    LS_MODEL,
    LS_OPERATION,
    LS_CURRENCY,
    LS_COST_SOURCE,
    LS_COST_STATUS,
    LS_PRICING_VERSION,
    LS_COST_TIER,
    LS_POLICY_NAME,
    LS_POLICY_RESULT,
    LS_BUDGET_NAME,
    LS_BUDGET_WINDOW,
    LS_SERVICE_NAME,
    LS_COUNT
};

/* Integer columns, in INSERT order (after the text columns). */
enum {
    LI_TOKENS_INPUT = 0,
    LI_TOKENS_OUTPUT,
    LI_TOKENS_CACHE_READ,
    LI_TOKENS_CACHE_WRITE,
    LI_TOKENS_REASONING,
    LI_TOKENS_TOTAL,
    LI_COST,
    LI_COST_INPUT,
    LI_COST_OUTPUT,
    LI_COST_CACHE_READ,
    LI_COST_CACHE_WRITE,
    LI_COUNT
};

extern const char *const ledger_text_cols[LS_COUNT];
extern const char *const ledger_int_cols[LI_COUNT];

#define LEDGER_ABSENT UINT32_MAX /* slen of a NULL text column */

enum { LEDGER_SPAN = 0, LEDGER_LOG = 1 };

typedef struct ledger_row {
    int64_t time; /* unix ns: span end (start when end is 0), log time (observed when 0) */
    uint8_t trace_id[16];
    uint8_t span_id[8];
    uint64_t hash[2]; /* content hash, the key of records without a trace and span id */
    uint8_t signal;   /* LEDGER_SPAN / LEDGER_LOG */
    uint8_t by_hash;  /* 1: keyed by content hash (span_id column = the 16 hash bytes) */
    uint32_t int_set; /* bit i: iv[i] is set (else NULL) */
    int64_t iv[LI_COUNT];
    uint32_t soff[LS_COUNT]; /* offsets into the chunk's bytes */
    uint32_t slen[LS_COUNT]; /* LEDGER_ABSENT = NULL */
} ledger_row;

/* A growable run of rows and the bytes of their text columns. Rows refer to text by offset, so
 * growing either array keeps them valid. */
typedef struct ledger_chunk {
    ledger_row *rows;
    size_t n, cap;
    char *bytes;
    size_t blen, bcap;
    size_t done; /* rows already committed (the writer resumes here after a failed commit) */
} ledger_chunk;

void ledger_chunk_reset(ledger_chunk *ch);
void ledger_chunk_free(ledger_chunk *ch);

/* Appends one row per priced span / log record of b (genops.cost.status or genops.cost.total
 * present) to ch. Stops with GB_ERR_LIMIT as soon as ch holds more than max_rows rows or
 * max_bytes text bytes; GB_ERR_NOMEM when memory runs out. The caller rolls back (restores n and
 * blen) on error. *added counts the rows appended. */
gb_status ledger_extract(ledger_chunk *ch, const pd_batch *b, size_t max_rows, size_t max_bytes,
                         uint64_t *added);

#endif
