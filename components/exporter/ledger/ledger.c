/* ledger exporter: one SQLite row per priced AI operation (traces and logs).
 *
 * What: every span or log record carrying genops.cost.status or genops.cost.total becomes a row of
 * table `ledger` (schema: docs/internals/ledger.md), keyed by (time, trace_id, span_id) and
 * inserted with INSERT OR IGNORE, so a batch delivered twice (client retry, replay) is counted
 * once.
 * `genops-collector report` reads the file.
 *
 * How: consume() extracts the rows of a batch (ledger_row.c) into the active chunk under the
 * exporter's mutex and returns; the batch is released at once. A writer thread swaps the active
 * chunk for an empty one every commit_interval (or as soon as max_batch_rows rows wait) and
 * inserts it with a prepared 16-row statement, max_batch_rows rows per transaction, in WAL mode
 * with synchronous=NORMAL (a commit is one append to the WAL, no fsync; the WAL is synced at
 * checkpoints). Rows queued plus rows being committed are bounded by queue_size and their text by
 * queue_bytes; a batch that does not fit is rolled back out of the chunk and refused with
 * GB_ERR_RETRY (the receiver answers 503/UNAVAILABLE and the client retries). A batch larger than
 * the whole bound is still accepted when nothing is queued, so it can never be refused forever.
 * A failed commit keeps its rows and is retried every commit_interval (the queue fills meanwhile
 * and pushes back); shutdown drains and commits what is queued, dropping (and logging) only what
 * still fails at the deadline. Retention deletes rows older than `retention` at start and then
 * hourly, 50000 rows per statement so the write lock is never held long. Ids are stored as
 * BLOBs (half the index of hex text). Instances that name the same file (one per signal, and the
 * old and new graph during a reload) share one store: connection, queue and writer, found by path
 * in a process-wide list and reference counted; the last one to shut down drains and closes.
 *
 * Rejected: a key of (trace_id, span_id) alone: random ids put every insert at a random place of
 * the unique index, which outgrows the page cache; measured 3.6x fewer rows per second than with
 * the time-first key. One connection per instance (two writers on one file contend for SQLite's
 * write lock); the exporter helper's queue (it queues batches, which pins whole request buffers for
 * a second, and its consumer threads would contend on the single SQLite writer); one transaction
 * per batch (a commit per request caps throughput at a few thousand batches per second);
 * synchronous=FULL (an fsync per commit; NORMAL in WAL mode keeps the database consistent after a
 * crash and loses at most the last commits since the OS flushed, see the docs). */
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/sbuf.h"
#include "base/telemetry.h"
#include "base/timeutil.h"
#include "ledger_row.h"

#define RETENTION_EVERY (3600LL * GB_NS_PER_S)
#define RETENTION_STEP  50000 /* rows per DELETE (the statement says it too) */
#define DEFAULT_DIR     "./genops-data"
#define MULTI           16                        /* rows per INSERT statement */
#define N_COLS          (4 + LS_COUNT + LI_COUNT) /* parameters per row */

/* ---- config ------------------------------------------------------------------------------------
 */

static const cfg_field ledger_fields[] = {
    {"path", CFG_T_STRING, offsetof(ledger_cfg, path), "",
     "SQLite file; empty = <data_dir>/ledger.db (./genops-data/ledger.db)", .flags = 0},
    {"commit_interval", CFG_T_DURATION, offsetof(ledger_cfg, commit_interval), "1s",
     "queued rows are committed at least this often", .min = 1e6, .max = 3.6e12},
    {"max_batch_rows", CFG_T_INT, offsetof(ledger_cfg, max_batch_rows), "10000",
     "rows per transaction; this many queued rows trigger a commit at once", .min = 1, .max = 1e7},
    {"queue_size", CFG_T_INT, offsetof(ledger_cfg, queue_size), "100000",
     "rows queued or being committed before consume pushes back", .min = 1, .max = 1e8},
    {"queue_bytes", CFG_T_INT, offsetof(ledger_cfg, queue_bytes), "67108864",
     "bytes of text queued or being committed before consume pushes back", .min = 65536,
     .max = 1073741824},
    {"retention", CFG_T_DURATION, offsetof(ledger_cfg, retention), "0",
     "delete rows older than this (checked hourly); 0 keeps everything", .min = 0, .max = 3.15e18},
};
CFG_TABLE(ledger_table, ledger_fields, NULL);

void ledger_cfg_default(ledger_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->path = "";
    cfg->commit_interval = GB_NS_PER_S;
    cfg->max_batch_rows = 10000;
    cfg->queue_size = 100000;
    cfg->queue_bytes = 64LL << 20;
}

/* ---- schema ------------------------------------------------------------------------------------
 */

static const char k_schema[] =
    "CREATE TABLE IF NOT EXISTS ledger ("
    " time INTEGER NOT NULL,"
    " trace_id BLOB NOT NULL,"
    " span_id BLOB NOT NULL,"
    " signal TEXT NOT NULL,"
    " team TEXT, customer_id TEXT, project TEXT, environment TEXT, feature TEXT,"
    " cost_center TEXT, user_id TEXT,"
    " provider TEXT, model TEXT, operation TEXT,"
    " currency TEXT, cost_source TEXT, cost_status TEXT, pricing_version TEXT, cost_tier TEXT,"
    " policy_name TEXT, policy_result TEXT, budget_name TEXT, budget_window TEXT,"
    " service_name TEXT,"
    " tokens_input INTEGER, tokens_output INTEGER, tokens_cache_read INTEGER,"
    " tokens_cache_write INTEGER, tokens_reasoning INTEGER, tokens_total INTEGER,"
    " cost_nusd INTEGER, cost_input_nusd INTEGER, cost_output_nusd INTEGER,"
    " cost_cache_read_nusd INTEGER, cost_cache_write_nusd INTEGER,"
    /* time first: new keys land at the right edge of the index (operations arrive roughly in
     * time order) instead of at random places as random ids would, and the key is the time
     * index too. A re-sent record has the same time, so it is still ignored. */
    " UNIQUE (time, trace_id, span_id));"
    "CREATE INDEX IF NOT EXISTS ledger_team ON ledger(team);"
    "CREATE INDEX IF NOT EXISTS ledger_model ON ledger(model);";

/* ---- state -------------------------------------------------------------------------------------
 */

/* One per database file, shared by every instance that writes it (the graph creates one exporter
 * instance per signal, and a reload starts the new graph before the old one stops). */
typedef struct ledger_state ledger_state;
struct ledger_state {
    ledger_state *next_store; /* g_stores list */
    unsigned refs;            /* started instances using it */
    char log_id[160];         /* full id of the first instance, for logs */
    ledger_cfg cfg_copy;      /* the first instance's settings (path unused: see path) */
    const ledger_cfg *cfg;    /* = &cfg_copy */
    char path[4096];
    sqlite3 *db;
    sqlite3_stmt *insert;       /* one row */
    sqlite3_stmt *insert_multi; /* MULTI rows */
    sqlite3_stmt *expire;

    pthread_mutex_t mu;
    pthread_cond_t cv;      /* writer wake-up */
    pthread_cond_t done_cv; /* flush completion */
    ledger_chunk chunks[2];
    ledger_chunk *active;   /* consume appends here */
    ledger_chunk *inflight; /* the writer commits this one (rows from done on are pending) */
    size_t inflight_rows;   /* rows of inflight not yet committed */
    size_t inflight_bytes;
    pthread_t writer;
    bool writer_running;
    bool stop;
    bool paused;
    int64_t deadline_ns;
    uint64_t flush_req, flush_done;
    gb_status last_rc; /* result of the last commit attempt */

    gb_series *m_written;   /* rows inserted */
    gb_series *m_duplicate; /* rows ignored: key already in the ledger */
    gb_series *m_refused;   /* rows refused by backpressure */
    gb_series *m_dropped;   /* rows lost (commit still failing at shutdown) */
};

typedef struct ledger_inst {
    pl_component *c;
    ledger_state *st; /* set by start, released by shutdown */
} ledger_inst;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static ledger_state *g_stores;

/* ---- database ----------------------------------------------------------------------------------
 */

static gb_status db_exec(ledger_state *st, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &err) == SQLITE_OK) return GB_OK;
    gb_log(GB_LOG_ERROR, st->log_id, "%s: %s (%s)", st->path, err ? err : "?", sql);
    sqlite3_free(err);
    return GB_ERR_IO;
}

static int64_t db_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* mkdir -p of the directory part of path. */
static gb_status make_parent(ledger_state *st, const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return GB_OK;
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) return GB_ERR_INVALID;
    memcpy(dir, path, n);
    dir[n] = '\0';
    for (char *p = dir + 1;; p++) {
        bool end = *p == '\0';
        if (*p == '/' || end) {
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                gb_log(GB_LOG_ERROR, st->log_id,
                       "cannot open ledger database %s: cannot create directory %s: %s", path, dir,
                       strerror(errno));
                return GB_ERR_IO;
            }
            if (end) break;
            *p = '/';
        }
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        gb_log(GB_LOG_ERROR, st->log_id, "cannot open ledger database %s: %s: %s", path, dir,
               strerror(ENOTDIR));
        return GB_ERR_IO;
    }
    return GB_OK;
}

static void sqlite_setup(void)
{
    /* no global allocation statistics: saves a mutex per SQLite malloc. Fails harmlessly
     * (SQLITE_MISUSE) when another part of the process initialized SQLite first. */
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static gb_status db_open(ledger_state *st)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sqlite_setup);
    gb_status rc = make_parent(st, st->path);
    if (rc != GB_OK) return rc;
    /* create the file ourselves: private mode, and a precise errno for an unwritable path */
    int fd = open(st->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        gb_log(GB_LOG_ERROR, st->log_id, "cannot open ledger database %s: %s", st->path,
               strerror(errno));
        return GB_ERR_IO;
    }
    close(fd);
    int src = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK || sqlite3_db_readonly(st->db, "main") == 1) {
        int e = st->db ? sqlite3_system_errno(st->db) : 0;
        gb_log(GB_LOG_ERROR, st->log_id, "cannot open ledger database %s: %s%s%s", st->path,
               st->db && src != SQLITE_OK ? sqlite3_errmsg(st->db) : "read-only", e ? ": " : "",
               e ? strerror(e) : "");
        return GB_ERR_IO;
    }
    sqlite3_busy_timeout(st->db, 5000);
    sqlite3_extended_result_codes(st->db, 1);
    int64_t version = db_int(st->db, "PRAGMA user_version");
    if (version < 0) {
        int e = sqlite3_system_errno(st->db);
        gb_log(GB_LOG_ERROR, st->log_id, "cannot read ledger database %s: %s%s%s", st->path,
               sqlite3_errmsg(st->db), e ? ": " : "", e ? strerror(e) : "");
        return GB_ERR_IO;
    }
    if (version > LEDGER_SCHEMA_VERSION) {
        gb_log(GB_LOG_ERROR, st->log_id,
               "ledger database %s has schema version %" PRId64
               ", newer than this build's (%d); use a newer collector or another path",
               st->path, version, LEDGER_SCHEMA_VERSION);
        return GB_ERR_UNSUPPORTED;
    }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW ||
        strcmp((const char *)sqlite3_column_text(s, 0), "wal") != 0) {
        int e = sqlite3_system_errno(st->db);
        gb_log(GB_LOG_ERROR, st->log_id, "cannot switch ledger database %s to WAL mode: %s%s%s",
               st->path, sqlite3_errmsg(st->db), e ? ": " : "", e ? strerror(e) : "");
        sqlite3_finalize(s);
        return GB_ERR_IO;
    }
    sqlite3_finalize(s);
    if ((rc = db_exec(st, "PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;"
                          "PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=8192;"
                          "PRAGMA journal_size_limit=67108864")) != GB_OK)
        return rc;
    if (version < LEDGER_SCHEMA_VERSION) {
        char sql[sizeof k_schema + 64];
        snprintf(sql, sizeof sql, "BEGIN;%sPRAGMA user_version=%d;COMMIT;", k_schema,
                 LEDGER_SCHEMA_VERSION);
        if ((rc = db_exec(st, sql)) != GB_OK) {
            sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    /* INSERT OR IGNORE INTO ledger(time, trace_id, span_id, signal, <text>, <int>) VALUES
     * (?, ...): one row, and MULTI rows per statement */
    gb_sbuf sql;
    gb_sbuf_init(&sql, 0);
    gb_sbuf_puts(&sql, "INSERT OR IGNORE INTO ledger(time,trace_id,span_id,signal");
    for (int i = 0; i < LS_COUNT; i++)
        gb_sbuf_printf(&sql, ",%s", ledger_text_cols[i]);
    for (int i = 0; i < LI_COUNT; i++)
        gb_sbuf_printf(&sql, ",%s", ledger_int_cols[i]);
    gb_sbuf_puts(&sql, ") VALUES");
    size_t one_row_at = sql.len;
    for (int r = 0; r < MULTI; r++) {
        gb_sbuf_puts(&sql, r ? ",(?" : "(?");
        for (int i = 1; i < N_COLS; i++)
            gb_sbuf_puts(&sql, ",?");
        gb_sbuf_putc(&sql, ')');
        if (r == 0) one_row_at = sql.len;
    }
    int prc = sql.err == GB_OK ? SQLITE_OK : SQLITE_NOMEM;
    if (prc == SQLITE_OK)
        prc = sqlite3_prepare_v3(st->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, &st->insert_multi,
                                 NULL);
    if (prc == SQLITE_OK)
        prc = sqlite3_prepare_v3(st->db, sql.data, (int)one_row_at, SQLITE_PREPARE_PERSISTENT,
                                 &st->insert, NULL);
    gb_sbuf_free(&sql);
    if (prc != SQLITE_OK ||
        sqlite3_prepare_v3(st->db,
                           "DELETE FROM ledger WHERE rowid IN (SELECT rowid FROM ledger WHERE "
                           "time < ?1 LIMIT 50000)",
                           -1, SQLITE_PREPARE_PERSISTENT, &st->expire, NULL) != SQLITE_OK) {
        gb_log(GB_LOG_ERROR, st->log_id, "ledger database %s: %s (is it a GenOps ledger?)",
               st->path, sqlite3_errmsg(st->db));
        return GB_ERR_IO;
    }
    return GB_OK;
}

static void db_close(ledger_state *st)
{
    sqlite3_finalize(st->insert);
    sqlite3_finalize(st->insert_multi);
    sqlite3_finalize(st->expire);
    st->insert = st->expire = NULL;
    if (st->db) sqlite3_close(st->db); /* the last connection checkpoints and removes the WAL */
    st->db = NULL;
}

/* Binds row r to parameters base+1 .. base+N_COLS of s. hbuf (16 bytes) holds the content-hash
 * key and must live until the statement has run. */
static void bind_row(sqlite3_stmt *s, int base, const ledger_chunk *ch, const ledger_row *r,
                     uint8_t *hbuf)
{
    static const uint8_t zero[16];
    sqlite3_bind_int64(s, base + 1, r->time);
    /* a missing trace id is an empty blob; a content-hash key is 16 bytes, a span id 8 */
    sqlite3_bind_blob(s, base + 2, r->trace_id, memcmp(r->trace_id, zero, 16) == 0 ? 0 : 16,
                      SQLITE_STATIC);
    if (r->by_hash) {
        for (int i = 0; i < 8; i++) {
            hbuf[i] = (uint8_t)(r->hash[0] >> (56 - 8 * i));
            hbuf[8 + i] = (uint8_t)(r->hash[1] >> (56 - 8 * i));
        }
        sqlite3_bind_blob(s, base + 3, hbuf, 16, SQLITE_STATIC);
    } else {
        sqlite3_bind_blob(s, base + 3, r->span_id, 8, SQLITE_STATIC);
    }
    sqlite3_bind_text(s, base + 4, r->signal == LEDGER_LOG ? "log" : "span", -1, SQLITE_STATIC);
    int col = base + 5;
    for (int i = 0; i < LS_COUNT; i++, col++) {
        if (r->slen[i] == LEDGER_ABSENT)
            sqlite3_bind_null(s, col);
        else
            sqlite3_bind_text(s, col, r->slen[i] ? ch->bytes + r->soff[i] : "", (int)r->slen[i],
                              SQLITE_STATIC);
    }
    for (int i = 0; i < LI_COUNT; i++, col++) {
        if (r->int_set & (1u << i))
            sqlite3_bind_int64(s, col, r->iv[i]);
        else
            sqlite3_bind_null(s, col);
    }
}

/* Inserts rows [from, to) of ch (at most MULTI), with the MULTI-row statement when there are
 * MULTI rows, else one row at a time. *inserted counts new rows. */
static int insert_rows(ledger_state *st, const ledger_chunk *ch, size_t from, size_t to,
                       uint64_t *inserted)
{
    uint8_t h[MULTI][16];
    int src = SQLITE_DONE;
    if (to - from == MULTI) {
        for (size_t i = 0; i < MULTI; i++)
            bind_row(st->insert_multi, (int)i * N_COLS, ch, &ch->rows[from + i], h[i]);
        src = sqlite3_step(st->insert_multi);
        if (src == SQLITE_DONE) *inserted += (uint64_t)sqlite3_changes(st->db);
        sqlite3_reset(st->insert_multi);
        return src;
    }
    for (size_t i = from; i < to && src == SQLITE_DONE; i++) {
        bind_row(st->insert, 0, ch, &ch->rows[i], h[0]);
        src = sqlite3_step(st->insert);
        if (src == SQLITE_DONE) *inserted += (uint64_t)sqlite3_changes(st->db);
        sqlite3_reset(st->insert);
    }
    return src;
}

/* Commits the pending rows of ch, max_batch_rows per transaction. Called without the mutex. */
static gb_status write_chunk(ledger_state *st, ledger_chunk *ch)
{
    gb_status rc = GB_OK;
    while (ch->done < ch->n) {
        size_t end = ch->n - ch->done > (size_t)st->cfg->max_batch_rows
                         ? ch->done + (size_t)st->cfg->max_batch_rows
                         : ch->n;
        uint64_t written = 0;
        int src = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        for (size_t i = ch->done; i < end && src == SQLITE_OK; i += MULTI) {
            src = insert_rows(st, ch, i, end - i >= MULTI ? i + MULTI : end, &written);
            if (src == SQLITE_DONE) src = SQLITE_OK;
        }
        if (src == SQLITE_OK) src = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            int e = sqlite3_system_errno(st->db);
            gb_log(GB_LOG_ERROR, st->log_id,
                   "cannot commit %zu rows to the ledger %s (will retry): %s%s%s", end - ch->done,
                   st->path, sqlite3_errmsg(st->db), e ? ": " : "", e ? strerror(e) : "");
            if (!sqlite3_get_autocommit(st->db)) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            rc = GB_ERR_IO;
            break;
        }
        gb_series_add(st->m_written, written);
        gb_series_add(st->m_duplicate, (uint64_t)(end - ch->done) - written);
        pthread_mutex_lock(&st->mu);
        ch->done = end;
        st->inflight_rows = ch->n - ch->done;
        if (st->inflight_rows == 0) st->inflight_bytes = 0;
        pthread_mutex_unlock(&st->mu);
    }
    return rc;
}

static void expire(ledger_state *st)
{
    int64_t cutoff = gb_now_ns() - st->cfg->retention;
    uint64_t total = 0;
    for (;;) {
        sqlite3_bind_int64(st->expire, 1, cutoff);
        int src = sqlite3_step(st->expire);
        int n = sqlite3_changes(st->db);
        sqlite3_reset(st->expire);
        if (src != SQLITE_DONE) {
            gb_log(GB_LOG_WARN, st->log_id, "retention: cannot delete old rows from %s: %s",
                   st->path, sqlite3_errmsg(st->db));
            break;
        }
        total += (uint64_t)n;
        if (n < RETENTION_STEP) break;
    }
    if (total)
        gb_log(GB_LOG_INFO, st->log_id, "retention: deleted %" PRIu64 " rows older than %s", total,
               "the retention period");
}

/* ---- writer thread -----------------------------------------------------------------------------
 */

static void wait_until(ledger_state *st, int64_t mono_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(mono_ns / GB_NS_PER_S),
                          .tv_nsec = (long)(mono_ns % GB_NS_PER_S)};
    pthread_cond_timedwait(&st->cv, &st->mu, &ts);
}

static void *writer_main(void *arg)
{
    ledger_state *st = arg;
    const ledger_cfg *cfg = st->cfg;
    pthread_setname_np(pthread_self(), "ledger-writer");
    int64_t next_commit = gb_mono_ns() + cfg->commit_interval;
    int64_t next_expire = cfg->retention > 0 ? gb_mono_ns() : INT64_MAX;
    pthread_mutex_lock(&st->mu);
    for (;;) {
        int64_t now = gb_mono_ns();
        uint64_t flush_target = st->flush_req;
        bool flush = st->flush_done < flush_target;
        if (now >= next_expire && !st->stop) {
            pthread_mutex_unlock(&st->mu);
            expire(st);
            pthread_mutex_lock(&st->mu);
            next_expire = gb_mono_ns() + RETENTION_EVERY;
            continue;
        }
        bool pending = st->inflight->done < st->inflight->n;
        bool due =
            st->stop || flush || now >= next_commit || st->active->n >= (size_t)cfg->max_batch_rows;
        if (st->paused && !st->stop) due = false;
        if (due && (pending || st->active->n > 0)) {
            if (!pending) { /* hand the active chunk to the writer */
                ledger_chunk *t = st->inflight;
                /* give a burst's memory back once the load dropped (not under sustained load:
                 * the pages would be faulted in again at every swap) */
                bool shrink = t->cap > 2 * (size_t)cfg->max_batch_rows && t->n < t->cap / 8;
                ledger_chunk_reset(t);
                if (shrink) ledger_chunk_free(t);
                st->inflight = st->active;
                st->active = t;
                st->inflight_rows = st->inflight->n;
                st->inflight_bytes = st->inflight->blen;
            }
            ledger_chunk *ch = st->inflight;
            pthread_mutex_unlock(&st->mu);
            gb_status rc = write_chunk(st, ch);
            pthread_mutex_lock(&st->mu);
            st->last_rc = rc;
            next_commit = gb_mono_ns() + cfg->commit_interval;
            if (rc != GB_OK) {
                if (st->stop && gb_mono_ns() >= st->deadline_ns) {
                    size_t lost = (ch->n - ch->done) + st->active->n;
                    gb_log(GB_LOG_ERROR, st->log_id,
                           "dropping %zu ledger rows at shutdown: %s cannot be written", lost,
                           st->path);
                    gb_series_add(st->m_dropped, lost);
                    ledger_chunk_reset(ch);
                    ledger_chunk_reset(st->active);
                    st->inflight_rows = st->inflight_bytes = 0;
                } else {
                    st->flush_done = flush_target; /* report the failure to flushers */
                    pthread_cond_broadcast(&st->done_cv);
                    /* retry after commit_interval (or at the deadline when stopping) */
                    int64_t until = gb_mono_ns() + cfg->commit_interval;
                    if (st->stop && st->deadline_ns < until) until = st->deadline_ns;
                    while (gb_mono_ns() < until && !(st->stop && gb_mono_ns() >= st->deadline_ns))
                        wait_until(st, until);
                }
            }
            continue;
        }
        if (flush && !pending && st->active->n == 0) {
            st->flush_done = flush_target;
            pthread_cond_broadcast(&st->done_cv);
            continue;
        }
        if (st->stop && !pending && st->active->n == 0) break;
        int64_t until = next_commit < next_expire ? next_commit : next_expire;
        if (st->paused) until = gb_mono_ns() + 50 * GB_NS_PER_MS;
        wait_until(st, until);
    }
    st->flush_done = st->flush_req;
    pthread_cond_broadcast(&st->done_cv);
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

/* ---- shared store ------------------------------------------------------------------------------
 */

static void store_free(ledger_state *st)
{
    db_close(st);
    ledger_chunk_free(&st->chunks[0]);
    ledger_chunk_free(&st->chunks[1]);
    pthread_cond_destroy(&st->cv);
    pthread_cond_destroy(&st->done_cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* Opens the database and starts the writer. */
static gb_status store_open(const pl_component *c, const char *path, ledger_state **out)
{
    ledger_state *st = calloc(1, sizeof *st);
    if (!st) return GB_ERR_NOMEM;
    gb_status rc = GB_OK;
    snprintf(st->log_id, sizeof st->log_id, "%s", c->full_id);
    snprintf(st->path, sizeof st->path, "%s", path);
    st->cfg_copy = *(const ledger_cfg *)c->cfg;
    st->cfg_copy.path = NULL;
    st->cfg = &st->cfg_copy;
    pthread_mutex_init(&st->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->cv, &ca);
    pthread_cond_init(&st->done_cv, &ca);
    pthread_condattr_destroy(&ca);
    st->active = &st->chunks[0];
    st->inflight = &st->chunks[1];
    if ((rc = db_open(st)) != GB_OK) goto fail;
    char labels[256];
    snprintf(labels, sizeof labels, "exporter=\"%s\"", c->id);
    gb_tm_counter("genops_ledger_rows_written", "Ledger rows inserted", labels, &st->m_written);
    gb_tm_counter(
        "genops_ledger_rows_duplicate",
        "Ledger rows ignored because their (time, trace_id, span_id) was already recorded", labels,
        &st->m_duplicate);
    gb_tm_counter("genops_ledger_rows_refused",
                  "Ledger rows refused (queue full, the sender was asked to retry)", labels,
                  &st->m_refused);
    gb_tm_counter("genops_ledger_rows_dropped",
                  "Ledger rows lost because the database could not be written at shutdown", labels,
                  &st->m_dropped);
    if (pthread_create(&st->writer, NULL, writer_main, st) != 0) {
        rc = GB_ERR_NOMEM;
        goto fail;
    }
    st->writer_running = true;
    gb_log(GB_LOG_INFO, c->full_id, "ledger at %s", st->path);
    *out = st;
    return GB_OK;
fail:
    store_free(st);
    return rc;
}

/* Stops the writer: drains and commits what is queued (until deadline_ns), closes the file. */
static gb_status store_close(ledger_state *st, int64_t deadline_ns)
{
    pthread_mutex_lock(&st->mu);
    st->stop = true;
    st->deadline_ns = deadline_ns;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    if (st->writer_running) {
        pthread_join(st->writer, NULL);
        st->writer_running = false;
    }
    gb_status rc = st->last_rc;
    store_free(st);
    return rc;
}

/* ---- component ---------------------------------------------------------------------------------
 */

static gb_status ledger_create(pl_component *c)
{
    ledger_inst *in = calloc(1, sizeof *in);
    if (!in) return GB_ERR_NOMEM;
    in->c = c;
    c->state = in;
    return GB_OK;
}

static gb_status ledger_start(pl_component *c, pl_host *host)
{
    ledger_inst *in = c->state;
    const ledger_cfg *cfg = c->cfg;
    gb_status rc = GB_OK;
    char path[4096];
    int n;
    if (cfg->path && *cfg->path)
        n = snprintf(path, sizeof path, "%s", cfg->path);
    else
        n = snprintf(path, sizeof path, "%s/ledger.db",
                     host && host->data_dir && *host->data_dir ? host->data_dir : DEFAULT_DIR);
    if (n < 0 || (size_t)n >= sizeof path) {
        gb_log(GB_LOG_ERROR, c->full_id, "ledger path too long");
        return GB_ERR_INVALID;
    }
    if (in->st) return GB_ERR_STATE;
    pthread_mutex_lock(&g_mu);
    ledger_state *st = g_stores;
    while (st && strcmp(st->path, path) != 0)
        st = st->next_store;
    if (st) {
        st->refs++;
    } else if ((rc = store_open(c, path, &st)) == GB_OK) {
        st->refs = 1;
        st->next_store = g_stores;
        g_stores = st;
    }
    if (rc == GB_OK) in->st = st;
    pthread_mutex_unlock(&g_mu);
    return rc;
}

static gb_status ledger_consume(pl_component *c, pd_batch *b)
{
    ledger_inst *in = c->state;
    ledger_state *st = in->st;
    gb_status rc = GB_OK;
    if (!st) {
        pd_batch_unref(b);
        return GB_ERR_RETRY;
    }
    pthread_mutex_lock(&st->mu);
    if (st->stop || !st->writer_running) {
        rc = GB_ERR_RETRY;
        goto out;
    }
    ledger_chunk *ch = st->active;
    size_t mark_n = ch->n, mark_b = ch->blen;
    bool empty = mark_n == 0 && st->inflight_rows == 0;
    size_t max_rows = (size_t)st->cfg->queue_size, max_bytes = (size_t)st->cfg->queue_bytes;
    if (empty) {
        max_rows = SIZE_MAX;
        max_bytes = SIZE_MAX;
    } else {
        max_rows = st->inflight_rows >= max_rows ? 0 : max_rows - st->inflight_rows;
        max_bytes = st->inflight_bytes >= max_bytes ? 0 : max_bytes - st->inflight_bytes;
    }
    uint64_t added = 0;
    rc = ledger_extract(ch, b, max_rows, max_bytes, &added);
    if (rc != GB_OK) {
        ch->n = mark_n;
        ch->blen = mark_b;
        gb_series_add(st->m_refused, added);
        gb_log(GB_LOG_WARN, c->full_id, "ledger queue full (%s): asking the sender to retry",
               rc == GB_ERR_LIMIT ? "queue_size or queue_bytes reached" : "out of memory");
        rc = GB_ERR_RETRY;
        goto out;
    }
    if (ch->n >= (size_t)st->cfg->max_batch_rows) pthread_cond_signal(&st->cv);
out:
    pthread_mutex_unlock(&st->mu);
    pd_batch_unref(b);
    return rc;
}

gb_status ledger_flush(pl_component *c)
{
    ledger_inst *in = c->state;
    ledger_state *st = in->st;
    if (!st) return GB_ERR_STATE;
    pthread_mutex_lock(&st->mu);
    uint64_t target = ++st->flush_req;
    pthread_cond_signal(&st->cv);
    while (st->writer_running && st->flush_done < target)
        pthread_cond_wait(&st->done_cv, &st->mu);
    gb_status rc = st->last_rc;
    if (rc == GB_OK && (st->active->n > 0 || st->inflight_rows > 0)) rc = GB_ERR_IO;
    pthread_mutex_unlock(&st->mu);
    return rc;
}

uint64_t ledger_queued_rows(pl_component *c)
{
    ledger_inst *in = c->state;
    ledger_state *st = in->st;
    if (!st) return 0;
    pthread_mutex_lock(&st->mu);
    uint64_t n = st->active->n + st->inflight_rows;
    pthread_mutex_unlock(&st->mu);
    return n;
}

void ledger_pause_writer(pl_component *c, bool paused)
{
    ledger_inst *in = c->state;
    ledger_state *st = in->st;
    if (!st) return;
    pthread_mutex_lock(&st->mu);
    st->paused = paused;
    pthread_cond_signal(&st->cv);
    pthread_mutex_unlock(&st->mu);
}

static gb_status ledger_shutdown(pl_component *c, int64_t deadline_ns)
{
    ledger_inst *in = c->state;
    if (!in || !in->st) return GB_OK;
    ledger_state *st = in->st, *last = NULL;
    in->st = NULL;
    pthread_mutex_lock(&g_mu);
    if (--st->refs == 0) {
        for (ledger_state **pp = &g_stores; *pp; pp = &(*pp)->next_store)
            if (*pp == st) {
                *pp = st->next_store;
                break;
            }
        last = st;
    }
    pthread_mutex_unlock(&g_mu);
    /* the last user drains and closes (outside g_mu: draining may take until the deadline) */
    return last ? store_close(last, deadline_ns) : GB_OK;
}

static void ledger_destroy(pl_component *c)
{
    ledger_inst *in = c->state;
    if (!in) return;
    ledger_shutdown(c, gb_mono_ns());
    free(in);
    c->state = NULL;
}

const pl_descriptor exporter_ledger_descriptor = {
    .kind = PL_EXPORTER,
    .type = "ledger",
    .stability = {[PD_TRACES] = PL_ALPHA, [PD_LOGS] = PL_ALPHA},
    .config = &ledger_table,
    .config_size = sizeof(ledger_cfg),
    .doc = "one SQLite row per priced AI operation (genops.cost.*), idempotent on (time, "
           "trace_id, span_id); read it with `genops-collector report`",
    .create = ledger_create,
    .start = ledger_start,
    .consume = ledger_consume,
    .shutdown = ledger_shutdown,
    .destroy = ledger_destroy,
};
